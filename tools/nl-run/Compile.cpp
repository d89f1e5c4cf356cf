//===- Compile.cpp - Compiling model sources through the nlc executable ---===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "Compile.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "nlrt/Model.h"

#include <climits>
#include <csignal>
#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

using namespace nlrun;

uint64_t nlrun::fnv1a64(const void *data, size_t size, uint64_t hash) {
  const unsigned char *bytes = static_cast<const unsigned char *>(data);
  for (size_t i = 0; i < size; ++i)
    hash = (hash ^ bytes[i]) * 0x100000001b3ull;
  return hash;
}

std::string nlrun::hex16(uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx",
                static_cast<unsigned long long>(value));
  return text;
}

namespace {

bool exists(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

bool isDirectory(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string join(const std::string &dir, const std::string &name) {
  if (dir.empty() || dir.back() == '/')
    return dir + name;
  return dir + "/" + name;
}

std::string fileName(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

/// Where the extension of a file name starts, or npos.
size_t extensionDot(const std::string &name) {
  size_t dot = name.rfind('.');
  if (dot == std::string::npos || dot == 0 || name == "..")
    return std::string::npos;
  return dot;
}

/// The file name without its last extension (llvm::sys::path::stem).
std::string stem(const std::string &path) {
  std::string name = fileName(path);
  return name.substr(0, extensionDot(name));
}

/// mkdir -p.
bool makeDirectories(const std::string &dir, std::string *why) {
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i != dir.size() && dir[i] != '/')
      continue;
    std::string prefix = dir.substr(0, i);
    if (isDirectory(prefix))
      continue;
    // EEXIST: another process made it between the stat and the mkdir.
    if (::mkdir(prefix.c_str(), 0777) != 0 && errno != EEXIST) {
      *why = std::strerror(errno);
      return false;
    }
  }
  if (!isDirectory(dir)) {
    *why = "not a directory";
    return false;
  }
  return true;
}

/// The cache directory, resolved as it always was: --cache-dir, then
/// $NLC_CACHE_DIR, $XDG_CACHE_HOME/nlc, $HOME/.cache/nlc, /tmp/nlc-cache.
std::string cacheDirectory(const std::string &flag) {
  if (!flag.empty())
    return flag;
  auto env = [](const char *name) -> std::string {
    const char *v = std::getenv(name);
    return v ? v : "";
  };
  if (std::string d = env("NLC_CACHE_DIR"); !d.empty())
    return d;
  if (std::string xdg = env("XDG_CACHE_HOME"); !xdg.empty())
    return join(xdg, "nlc");
  if (std::string home = env("HOME"); !home.empty())
    return join(join(home, ".cache"), "nlc");
  return "/tmp/nlc-cache";
}

/// Runs `args` (args[0] looked up on PATH unless it holds a slash) without a
/// shell, so that no argument needs quoting. stderr is inherited, so the
/// compiler's diagnostics reach the user as they are. stdout is read into
/// *capture when given, else sent to our stderr: nl-run's own stdout carries
/// results (--info, --stats) that must not be mixed with compiler output.
/// Returns the wait status, or -1 with *error when the program cannot start.
int runProcess(const std::vector<std::string> &args, std::string *capture,
               std::string *error) {
  std::vector<char *> argv;
  for (const std::string &a : args)
    argv.push_back(const_cast<char *>(a.c_str()));
  argv.push_back(nullptr);

  int pipeFds[2] = {-1, -1};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (capture) {
    // O_CLOEXEC keeps both ends out of the child but for the dup2 copy.
    if (::pipe2(pipeFds, O_CLOEXEC) != 0) {
      *error = std::string("cannot create a pipe: ") + std::strerror(errno);
      posix_spawn_file_actions_destroy(&actions);
      return -1;
    }
    posix_spawn_file_actions_adddup2(&actions, pipeFds[1], STDOUT_FILENO);
  } else {
    posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
  }
  pid_t pid;
  // glibc's posix_spawnp reports a failed exec (no such file, not
  // executable) as its result, so that case needs no protocol of our own.
  int rc =
      ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (capture)
    ::close(pipeFds[1]);
  if (rc != 0) {
    if (capture)
      ::close(pipeFds[0]);
    *error = "cannot run the compiler '" + args[0] + "': " + std::strerror(rc) +
             " (set NLC to the nlc executable, or put nlc next to nl-run or "
             "on PATH)";
    return -1;
  }
  if (capture) {
    char buffer[4096];
    for (;;) {
      ssize_t n = ::read(pipeFds[0], buffer, sizeof(buffer));
      if (n > 0)
        capture->append(buffer, static_cast<size_t>(n));
      else if (n == 0 || errno != EINTR)
        break;
    }
    ::close(pipeFds[0]);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      *error = "cannot wait for '" + args[0] + "': " + std::strerror(errno);
      return -1;
    }
  }
  return status;
}

bool succeeded(int status) {
  return status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/// Why a child that did not succeed ended, for messages. A plain nonzero
/// exit of the compiler proper needs no words (its diagnostics say more),
/// hence `exitStatus`.
std::string howItEnded(const std::string &program, int status,
                       bool exitStatus) {
  if (WIFSIGNALED(status))
    return " ('" + program + "' was killed by signal " +
           std::to_string(WTERMSIG(status)) + ")";
  if (exitStatus && WIFEXITED(status))
    return " (exit status " + std::to_string(WEXITSTATUS(status)) + ")";
  return "";
}

/// Removes the files of `dir` named "*.tmp.<pid>*" whose writer (process
/// <pid>) no longer exists: what a compiler or nl-run killed mid-write
/// leaves in the cache.
void removeDeadTemporaries(const std::string &dir) {
  DIR *d = ::opendir(dir.c_str());
  if (!d)
    return;
  while (struct dirent *entry = ::readdir(d)) {
    std::string name = entry->d_name;
    size_t at = name.find(".tmp.");
    if (at == std::string::npos)
      continue;
    size_t digits = at + 5, end = digits;
    while (end < name.size() &&
           std::isdigit(static_cast<unsigned char>(name[end])))
      ++end;
    if (end == digits || end - digits > 10)
      continue;
    long pid =
        std::strtol(name.substr(digits, end - digits).c_str(), nullptr, 10);
    if (pid > 0 && pid != ::getpid() &&
        ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
      ::unlink(join(dir, name).c_str());
  }
  ::closedir(d);
}

} // namespace

std::string nlrun::extension(const std::string &path) {
  std::string name = fileName(path);
  size_t dot = extensionDot(name);
  return dot == std::string::npos ? "" : name.substr(dot);
}

std::string nlrun::findCompiler() {
  if (const char *env = std::getenv("NLC"); env && *env)
    return env;
  // Next to our own executable: a build tree or an install keeps nl-run and
  // nlc side by side, and that nlc is the one that matches this runtime.
  char self[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n > 0) {
    self[n] = '\0';
    std::string dir(self);
    dir.resize(dir.rfind('/') + 1);
    std::string sibling = dir + "nlc";
    if (::access(sibling.c_str(), X_OK) == 0)
      return sibling;
  }
  return "nlc";
}

std::string nlrun::compileCached(const CompileRequest &request,
                                 std::string *error) {
  std::ifstream in(request.source, std::ios::binary);
  if (!in) {
    *error = "cannot read '" + request.source + "': " + std::strerror(errno);
    return {};
  }
  std::stringstream text;
  text << in.rdbuf();

  // The key covers everything that changes the compiled model: the source,
  // the compiler (its --version names the nlc and LLVM versions and the
  // build identity: a hash of the build IDs of its code, so a rebuilt
  // compiler never reuses the models of the one before), the kind of
  // source, the target and the overrides.
  std::string compiler = findCompiler();
  std::string version;
  int status = runProcess({compiler, "--version"}, &version, error);
  if (status < 0)
    return {};
  if (!succeeded(status)) {
    *error = "'" + compiler + " --version' failed" +
             howItEnded(compiler, status, /*exitStatus=*/true);
    return {};
  }
  while (!version.empty() &&
         std::isspace(static_cast<unsigned char>(version.back())))
    version.pop_back();

  const char *target = request.cuda ? "cuda" : "cpu";
  std::string key = text.str() + "|" + version + "|" +
                    extension(request.source) + "|" + target;
  for (const std::string &d : request.defines)
    key += "|D" + d;
  key += "|chunk=" + request.chunkForm;
  if (request.backward)
    key += "|backward";
  std::string hash = hex16(fnv1a64(key.data(), key.size()));

  std::string dir = cacheDirectory(request.cacheDir);
  std::string why;
  if (!makeDirectories(dir, &why)) {
    *error = "cannot create the cache '" + dir + "': " + why;
    return {};
  }
  std::string base = join(dir, stem(request.source) + "-" + hash);
  const char *libExt = request.cuda ? ".ptx" : ".so";
  std::string lib = base + libExt, manifest = base + ".json";
  // Temporary files of compilers and nl-runs that were killed.
  removeDeadTemporaries(dir);
  if (exists(lib) && exists(manifest)) {
    // A hit is used only when the library is the file its manifest
    // describes (size and CRC-32) and complete: anything else (a truncated
    // or damaged entry) is compiled again.
    std::string why;
    if (nlrt::verifyModelFile(lib, &why))
      return lib;
    std::fprintf(stderr,
                 "nl-run: warning: the cached model is damaged (%s); "
                 "compiling it again\n",
                 why.c_str());
    std::remove(lib.c_str());
    std::remove(manifest.c_str());
  }

  // nlc writes to names of this process's own, renamed into place only once
  // complete, so that a concurrent nl-run never loads a half-written model:
  // the manifest first, then the library, whose presence is what a reader
  // tests with the manifest (both are the same for the same key).
  std::string tmpBase = base + ".tmp." + std::to_string(::getpid());
  std::string tmpLib = tmpBase + libExt, tmpManifest = tmpBase + ".json";
  std::vector<std::string> args = {compiler};
  if (request.cuda)
    args.push_back("--target=cuda");
  args.insert(args.end(), {"--emit=lib", "-O3", "-o", tmpLib});
  if (!request.cuda)
    args.push_back("--chunk-form=" + request.chunkForm);
  if (request.backward)
    args.push_back("--backward");
  for (const std::string &d : request.defines)
    args.push_back("-D" + d);
  // "--" so that a source named "-x.nl" is not read as an option.
  args.insert(args.end(), {"--", request.source});
  status = runProcess(args, nullptr, error);
  auto cleanUp = [&] {
    std::remove(tmpLib.c_str());
    std::remove(tmpManifest.c_str());
  };
  if (status < 0) {
    cleanUp();
    return {};
  }
  if (!succeeded(status)) {
    cleanUp();
    *error = "compiling '" + request.source + "' failed" +
             howItEnded(compiler, status, /*exitStatus=*/false);
    return {};
  }
  if (!exists(tmpLib) || !exists(tmpManifest)) {
    cleanUp();
    *error = "compiling '" + request.source + "' failed: '" + compiler +
             "' wrote no " + (exists(tmpLib) ? tmpManifest : tmpLib);
    return {};
  }
  if (std::rename(tmpManifest.c_str(), manifest.c_str()) != 0 ||
      std::rename(tmpLib.c_str(), lib.c_str()) != 0) {
    *error = "cannot write '" + lib + "': " + std::strerror(errno);
    cleanUp();
    return {};
  }
  return lib;
}
