//===- FileIO.cpp - File access shared by the nlrt readers/writers --------===//
//
// POSIX implementation of the helpers in FileIO.h.
//
//===----------------------------------------------------------------------===//

#include "FileIO.h"

#include "nlrt/Files.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <limits>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>
#include <zlib.h>

using namespace nlrt;
using namespace nlrt::detail;

namespace {

std::string errnoText(int code) {
  return std::generic_category().message(code);
}

/// Converts a float64 to float32 without undefined behaviour out of range.
float narrow(double value) {
  constexpr double kMax = std::numeric_limits<float>::max();
  if (value > kMax)
    return std::numeric_limits<float>::infinity();
  if (value < -kMax)
    return -std::numeric_limits<float>::infinity();
  return static_cast<float>(value);
}

/// Writes all of `size` bytes, retrying on EINTR and short writes.
bool writeAll(int fd, const void *data, size_t size) {
  const char *bytes = static_cast<const char *>(data);
  while (size > 0) {
    ssize_t written = ::write(fd, bytes, size);
    if (written < 0 && errno == EINTR)
      continue;
    if (written == 0)
      errno = EIO;
    if (written <= 0)
      return false;
    bytes += written;
    size -= static_cast<size_t>(written);
  }
  return true;
}

} // namespace

bool detail::failAt(std::string *error, const std::string &path,
                    const std::string &message) {
  if (error)
    *error = path + ": " + message;
  return false;
}

InputFile::~InputFile() {
  if (fd >= 0)
    ::close(fd);
}

bool InputFile::open(const std::string &filePath, std::string *error) {
  name = filePath;
  do
    fd = ::open(name.c_str(),
                O_RDONLY | O_CLOEXEC | O_NONBLOCK); // No FIFO hang.
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return failAt(error, name, "cannot open: " + errnoText(errno));
  struct stat info;
  if (::fstat(fd, &info) != 0)
    return failAt(error, name, "cannot stat: " + errnoText(errno));
  if (S_ISDIR(info.st_mode))
    return failAt(error, name, "is a directory, not a file");
  if (!S_ISREG(info.st_mode))
    return failAt(error, name, "not a regular file");
  bytes = static_cast<uint64_t>(info.st_size);
  return true;
}

bool InputFile::readAt(uint64_t offset, void *dest, size_t count,
                       std::string *error) {
  if (offset > bytes || count > bytes - offset)
    return failAt(error, name,
                  "read of " + std::to_string(count) + " bytes at offset " +
                      std::to_string(offset) + " is past the end of the " +
                      std::to_string(bytes) + "-byte file");
  char *out = static_cast<char *>(dest);
  while (count > 0) {
    ssize_t got = ::pread(fd, out, count, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0)
      return failAt(error, name, "read failed: " + errnoText(errno));
    if (got == 0)
      return failAt(error, name, "file shrank while being read");
    out += got;
    offset += static_cast<uint64_t>(got);
    count -= static_cast<size_t>(got);
  }
  return true;
}

int64_t detail::itemSize(StoredType type) {
  switch (type) {
  case StoredType::F16:
  case StoredType::BF16:
    return 2;
  case StoredType::F32:
  case StoredType::I32:
    return 4;
  case StoredType::F64:
  case StoredType::I64:
    return 8;
  }
  return 4;
}

const char *detail::storedName(StoredType type) {
  switch (type) {
  case StoredType::F32:
    return "F32";
  case StoredType::F64:
    return "F64";
  case StoredType::F16:
    return "F16";
  case StoredType::BF16:
    return "BF16";
  case StoredType::I32:
    return "I32";
  case StoredType::I64:
    return "I64";
  }
  return "?";
}

bool detail::parseStoredType(const std::string &name, StoredType &out) {
  for (StoredType t : {StoredType::F32, StoredType::F64, StoredType::F16,
                       StoredType::BF16, StoredType::I32, StoredType::I64})
    if (name == storedName(t)) {
      out = t;
      return true;
    }
  return false;
}

uint32_t detail::crc32Of(const void *data, size_t size, uint32_t crc) {
  const Bytef *bytes = static_cast<const Bytef *>(data);
  // zlib's length is a uInt: feed it in pieces.
  while (size > 0) {
    uInt n = size > (1u << 30) ? (1u << 30) : static_cast<uInt>(size);
    crc = static_cast<uint32_t>(::crc32(crc, bytes, n));
    bytes += n;
    size -= n;
  }
  return crc;
}

namespace {

/// IEEE half precision to float (exact).
float halfToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h >> 15) << 31;
  uint32_t exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  uint32_t bits;
  if (exponent == 0x1f) { // inf / NaN
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) { // normal
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) { // zero
    bits = sign;
  } else { // subnormal: renormalize
    int shift = 0;
    while (!(mantissa & 0x400)) {
      mantissa <<= 1;
      ++shift;
    }
    bits = sign | (uint32_t(113 - shift) << 23) | ((mantissa & 0x3ff) << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

float bfloatToFloat(uint16_t b) {
  uint32_t bits = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

} // namespace

bool detail::readElements(InputFile &file, uint64_t offset, StoredType type,
                          size_t count, Tensor &out, uint32_t *crc,
                          std::string *error) {
  size_t item = static_cast<size_t>(itemSize(type));
  if (count > std::numeric_limits<size_t>::max() / 8)
    return failAt(error, file.path(), "too many elements to read");
  out.storedAs = storedName(type);
  out.dtype = isFloat(type) ? DType::F32 : DType::I32;
  out.data.clear();
  out.ints.clear();
  if (type == StoredType::F32 || type == StoredType::I32) {
    void *dest;
    if (type == StoredType::F32) {
      out.data.resize(count);
      dest = out.data.data();
    } else {
      out.ints.resize(count);
      dest = out.ints.data();
    }
    if (!file.readAt(offset, dest, count * item, error))
      return false;
    if (crc)
      *crc = crc32Of(dest, count * item, *crc);
    return true;
  }
  if (isFloat(type))
    out.data.resize(count);
  else
    out.ints.resize(count);
  // Convert through a bounded buffer.
  constexpr size_t kChunk = 1 << 16;
  std::vector<unsigned char> buffer((count < kChunk ? count : kChunk) * item);
  for (size_t done = 0; done < count;) {
    size_t n = count - done < kChunk ? count - done : kChunk;
    if (!file.readAt(offset + done * item, buffer.data(), n * item, error))
      return false;
    if (crc)
      *crc = crc32Of(buffer.data(), n * item, *crc);
    const unsigned char *at = buffer.data();
    for (size_t i = 0; i < n; ++i, at += item) {
      switch (type) {
      case StoredType::F64: {
        double v;
        std::memcpy(&v, at, sizeof v);
        out.data[done + i] = narrow(v);
        break;
      }
      case StoredType::F16:
      case StoredType::BF16: {
        uint16_t v;
        std::memcpy(&v, at, sizeof v);
        out.data[done + i] =
            type == StoredType::F16 ? halfToFloat(v) : bfloatToFloat(v);
        break;
      }
      case StoredType::I64: {
        int64_t v;
        std::memcpy(&v, at, sizeof v);
        if (v < std::numeric_limits<int32_t>::min() ||
            v > std::numeric_limits<int32_t>::max())
          return failAt(error, file.path(),
                        "I64 element " + std::to_string(done + i) + " = " +
                            std::to_string(v) + " does not fit int32");
        out.ints[done + i] = static_cast<int32_t>(v);
        break;
      }
      default:
        break;
      }
    }
    done += n;
  }
  return true;
}

int nlrt::removeStaleTemporaries(const std::string &path) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "."
                    : slash == 0               ? "/"
                                               : path.substr(0, slash);
  std::string prefix =
      (slash == std::string::npos ? path : path.substr(slash + 1)) + ".tmp.";
  DIR *d = ::opendir(dir.c_str());
  if (!d)
    return 0;
  int removed = 0;
  while (struct dirent *entry = ::readdir(d)) {
    std::string name = entry->d_name;
    if (name.compare(0, prefix.size(), prefix) != 0)
      continue;
    std::string pidText = name.substr(prefix.size());
    if (pidText.empty() ||
        pidText.find_first_not_of("0123456789") != std::string::npos ||
        pidText.size() > 10)
      continue;
    long pid = std::strtol(pidText.c_str(), nullptr, 10);
    // A writer that is alive (or that we may not signal) keeps its file.
    if (pid <= 0 || pid == ::getpid() ||
        ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH)
      continue;
    if (::unlink((dir + "/" + name).c_str()) == 0)
      ++removed;
  }
  ::closedir(d);
  return removed;
}

bool nlrt::checkWritable(const std::string &path, std::string *error) {
  if (path.empty())
    return failAt(error, "<empty path>", "no file name");
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "."
                    : slash == 0               ? "/"
                                               : path.substr(0, slash);
  struct stat info;
  if (::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode))
    return failAt(error, path, "is a directory");
  if (::stat(dir.c_str(), &info) != 0)
    return failAt(error, path,
                  "cannot write: directory '" + dir + "': " + errnoText(errno));
  if (!S_ISDIR(info.st_mode))
    return failAt(error, path,
                  "cannot write: '" + dir + "' is not a directory");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    return failAt(error, path,
                  "cannot write into '" + dir + "': " + errnoText(errno));
  return true;
}

bool detail::writeFileAtomically(const std::string &path,
                                 const std::vector<ByteSpan> &parts,
                                 std::string *error) {
  removeStaleTemporaries(path);
  std::string temp = path + ".tmp." + std::to_string(::getpid());
  int fd;
  do
    fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return failAt(error, path,
                  "cannot create '" + temp + "': " + errnoText(errno));
  std::string failure;
  for (const ByteSpan &part : parts)
    if (!writeAll(fd, part.data, part.size)) {
      failure = "write to '" + temp + "' failed: " + errnoText(errno);
      break;
    }
  if (failure.empty() && ::fsync(fd) != 0)
    failure = "fsync of '" + temp + "' failed: " + errnoText(errno);
  if (::close(fd) != 0 && failure.empty())
    failure = "close of '" + temp + "' failed: " + errnoText(errno);
  if (failure.empty() && ::rename(temp.c_str(), path.c_str()) != 0)
    failure = "cannot rename '" + temp + "' over it: " + errnoText(errno);
  if (!failure.empty()) {
    ::unlink(temp.c_str());
    return failAt(error, path, failure);
  }
  // Make the rename itself durable (best effort: some file systems refuse).
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "."
                    : slash == 0               ? "/"
                                               : path.substr(0, slash);
  int dirFd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirFd >= 0) {
    ::fsync(dirFd);
    ::close(dirFd);
  }
  return true;
}
