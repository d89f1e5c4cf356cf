//===- FuzzSupport.h - Shared helpers of the runtime reader fuzzers -*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// The runtime's readers take a path, so each fuzz input is written to an
// in-memory file (memfd_create, read back through /proc/self/fd/N; a temporary
// file where memfd is not available) that is rewritten in place for every
// input: no directory entry is created per execution. Round trips through the
// runtime's writers (which write atomically: "<path>.tmp.<pid>" renamed over
// <path>) go to a per-process scratch folder, under $NL_FUZZ_TMPDIR when set,
// else /dev/shm, else $TMPDIR or /tmp, removed at exit.
//
// NLFUZZ_CHECK(id, condition, message) states an invariant of an honest
// result: when it does not hold the harness prints
//   nl-fuzz: invariant <id> violated: <message>
// and aborts, which libFuzzer records as a crash. $NL_FUZZ_SKIP, a comma-
// separated list of ids (or id prefixes ending in '*'), turns checks off, so
// that fuzzing can go on past a finding that is already reported; with
// $NL_FUZZ_ONCE_DIR set, each id aborts once (see violated()); with
// $NL_FUZZ_ONLY=<id>, every other check is off (for -minimize_crash). With
// $NL_FUZZ_VERBOSE set, each input's outcome (accepted, or the reader's
// message) is printed.
//
//===----------------------------------------------------------------------===//

#ifndef NLC_TOOLS_NL_FUZZ_FUZZSUPPORT_H
#define NLC_TOOLS_NL_FUZZ_FUZZSUPPORT_H

#include "nlrt/Tensor.h"

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace nlfuzz {

/// Whether $NL_FUZZ_SKIP turns the check `id` off.
inline bool skipped(const char *id) {
  static const std::vector<std::string> skips = [] {
    std::vector<std::string> out;
    const char *env = std::getenv("NL_FUZZ_SKIP");
    std::string list = env ? env : "";
    size_t start = 0;
    while (start <= list.size()) {
      size_t comma = list.find(',', start);
      if (comma == std::string::npos)
        comma = list.size();
      if (comma > start)
        out.push_back(list.substr(start, comma - start));
      start = comma + 1;
    }
    return out;
  }();
  std::string name = id;
  // $NL_FUZZ_ONLY=<id> keeps that check alone (to minimize a finding
  // without drifting to another one).
  static const char *only = std::getenv("NL_FUZZ_ONLY");
  if (only && *only && name != only)
    return true;
  for (const std::string &s : skips) {
    if (s == name)
      return true;
    if (!s.empty() && s.back() == '*' &&
        name.compare(0, s.size() - 1, s, 0, s.size() - 1) == 0)
      return true;
  }
  return false;
}

/// Thrown by a failed check that is turned off: the harness stops checking
/// the input (later checks may rely on the failed one) and returns.
struct Stop {};

/// Reports a failed check and aborts. A check turned off by $NL_FUZZ_SKIP
/// throws Stop instead; so does, with $NL_FUZZ_ONCE_DIR set (fuzz.sh sets it
/// while fuzzing, never while replaying), every failure of an id but the
/// first across all processes.
[[noreturn]] inline void violated(const char *id, const std::string &what,
                                  const char *file, int line) {
  if (skipped(id))
    throw Stop();
  if (const char *once = std::getenv("NL_FUZZ_ONCE_DIR")) {
    std::string mark = std::string(once) + "/" + id;
    int fd = ::open(mark.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST)
      throw Stop();
    if (fd >= 0)
      ::close(fd);
  }
  std::fprintf(stderr,
               "\nnl-fuzz: invariant %s violated: %s\n  (checked at %s:%d)\n",
               id, what.c_str(), file, line);
  std::fflush(stderr);
  std::abort();
}

#define NLFUZZ_CHECK(id, cond, what)                                           \
  do {                                                                         \
    if (!(cond))                                                               \
      ::nlfuzz::violated(id, (what), __FILE__, __LINE__);                      \
  } while (0)

/// A per-process scratch folder, removed (with the files named by
/// `remember`) at exit.
class ScratchDir {
public:
  static ScratchDir &get() {
    static ScratchDir dir;
    return dir;
  }
  const std::string &path() const { return root; }
  /// `name` inside the folder; removed at exit, with its temporaries.
  std::string file(const std::string &name) {
    std::string p = root + "/" + name;
    files.push_back(p);
    return p;
  }
  ~ScratchDir() {
    for (const std::string &f : files)
      ::unlink(f.c_str());
    if (!root.empty())
      ::rmdir(root.c_str());
  }

private:
  ScratchDir() {
    std::vector<std::string> bases;
    if (const char *env = std::getenv("NL_FUZZ_TMPDIR"))
      bases.push_back(env);
    bases.push_back("/dev/shm");
    if (const char *env = std::getenv("TMPDIR"))
      bases.push_back(env);
    bases.push_back("/tmp");
    for (const std::string &base : bases) {
      std::string templ = base + "/nl-fuzz-XXXXXX";
      std::vector<char> buf(templ.begin(), templ.end());
      buf.push_back('\0');
      if (::mkdtemp(buf.data())) {
        root = buf.data();
        return;
      }
    }
    std::fprintf(stderr, "nl-fuzz: cannot create a scratch folder\n");
    std::abort();
  }
  std::string root;
  std::vector<std::string> files;
};

/// The file each fuzz input is written to.
class InputFile {
public:
  static InputFile &get() {
    static InputFile file;
    return file;
  }
  /// Replaces the contents with `size` bytes.
  void set(const uint8_t *data, size_t size) {
    if (::ftruncate(fd, 0) != 0)
      fatal("ftruncate");
    size_t done = 0;
    while (done < size) {
      ssize_t n = ::pwrite(fd, data + done, size - done,
                           static_cast<off_t>(done));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        fatal("pwrite");
      done += static_cast<size_t>(n);
    }
  }
  const std::string &path() const { return name; }

private:
  InputFile() {
#ifdef MFD_CLOEXEC
    fd = ::memfd_create("nl-fuzz-input", MFD_CLOEXEC);
    if (fd >= 0) {
      name = "/proc/self/fd/" + std::to_string(fd);
      struct stat info;
      // The readers refuse anything but a regular file: make sure the
      // /proc path opens as one here.
      int probe = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
      bool ok = probe >= 0 && ::fstat(probe, &info) == 0 &&
                S_ISREG(info.st_mode);
      if (probe >= 0)
        ::close(probe);
      if (ok)
        return;
      ::close(fd);
    }
#endif
    name = ScratchDir::get().file("input");
    fd = ::open(name.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
      fatal("open");
  }
  [[noreturn]] void fatal(const char *what) {
    std::fprintf(stderr, "nl-fuzz: %s of the input file failed: %s\n", what,
                 std::strerror(errno));
    std::abort();
  }
  int fd = -1;
  std::string name;
};

/// With $NL_FUZZ_VERBOSE set, says on stderr whether the reader accepted
/// the input (to check seeds and reproducers by hand).
inline void tell(bool accepted, const std::string &error) {
  static const bool verbose = std::getenv("NL_FUZZ_VERBOSE") != nullptr;
  if (verbose)
    std::fprintf(stderr, "nl-fuzz: %s%s\n", accepted ? "accepted" : "rejected: ",
                 accepted ? "" : error.c_str());
}

inline bool startsWith(const std::string &s, const std::string &prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

/// Bit-exact equality of two tensors (NaN payloads and signed zeros too).
inline bool sameTensor(const nlrt::Tensor &a, const nlrt::Tensor &b) {
  return a.shape == b.shape && a.dtype == b.dtype &&
         a.data.size() == b.data.size() && a.ints == b.ints &&
         (a.data.empty() ||
          std::memcmp(a.data.data(), b.data.data(),
                      a.data.size() * sizeof(float)) == 0);
}

inline uint16_t le16(const uint8_t *p) { return uint16_t(p[0] | p[1] << 8); }
inline uint32_t le32(const uint8_t *p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 |
         uint32_t(p[3]) << 24;
}
inline uint64_t le64(const uint8_t *p) {
  return uint64_t(le32(p)) | uint64_t(le32(p + 4)) << 32;
}

inline uint32_t floatBits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}

/// Whether `got` is what the documentation says a stored float64 `d`
/// becomes: the float nearest to it, +-inf beyond the float range, NaN for
/// NaN.
inline bool isNarrowed(double d, float got) {
  if (std::isnan(d))
    return std::isnan(got);
  constexpr double kMax = std::numeric_limits<float>::max();
  float want = d > kMax    ? std::numeric_limits<float>::infinity()
               : d < -kMax ? -std::numeric_limits<float>::infinity()
                           : static_cast<float>(d);
  return floatBits(want) == floatBits(got);
}

/// IEEE binary16 to float, computed arithmetically (not by bit surgery, so
/// independent of the runtime's decoder).
inline float halfValue(uint16_t h) {
  int sign = h >> 15, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  double magnitude;
  if (exponent == 0x1f)
    magnitude = mantissa ? std::numeric_limits<double>::quiet_NaN()
                         : std::numeric_limits<double>::infinity();
  else if (exponent == 0)
    magnitude = std::ldexp(double(mantissa), -24);
  else
    magnitude = std::ldexp(double(1024 + mantissa), exponent - 25);
  return static_cast<float>(sign ? -magnitude : magnitude);
}

/// The CRC-32 (IEEE 802.3, zlib's) of `size` bytes, bit by bit.
inline uint32_t crc32(const uint8_t *data, size_t size) {
  static const std::vector<uint32_t> table = [] {
    std::vector<uint32_t> t(256);
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k)
        c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < size; ++i)
    c = table[(c ^ data[i]) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

} // namespace nlfuzz

/// Defines libFuzzer's entry point over `fn(data, size)`: an invariant that
/// fails aborts inside NLFUZZ_CHECK; an input it stops early on returns.
#define NLFUZZ_ENTRY_POINT(fn)                                                 \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {    \
    try {                                                                      \
      fn(data, size);                                                          \
    } catch (const nlfuzz::Stop &) {                                           \
    }                                                                          \
    return 0;                                                                  \
  }

#endif // NLC_TOOLS_NL_FUZZ_FUZZSUPPORT_H
