//===- FileIO.cpp - File access shared by the nlrt readers/writers --------===//
//
// POSIX implementation of the helpers in FileIO.h.
//
//===----------------------------------------------------------------------===//

#include "FileIO.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

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

bool detail::readFloats(InputFile &file, uint64_t offset, FloatType type,
                        size_t count, float *dest, std::string *error) {
  if (count > std::numeric_limits<size_t>::max() / sizeof(double))
    return failAt(error, file.path(), "too many elements to read");
  if (type == FloatType::F32)
    return file.readAt(offset, dest, count * sizeof(float), error);
  // Convert float64 through a bounded buffer.
  constexpr size_t kChunk = 1 << 16;
  std::vector<double> buffer(count < kChunk ? count : kChunk);
  for (size_t done = 0; done < count;) {
    size_t n = count - done < kChunk ? count - done : kChunk;
    if (!file.readAt(offset + done * sizeof(double), buffer.data(),
                     n * sizeof(double), error))
      return false;
    for (size_t i = 0; i < n; ++i)
      dest[done + i] = narrow(buffer[i]);
    done += n;
  }
  return true;
}

bool detail::writeFileAtomically(const std::string &path,
                                 const std::vector<ByteSpan> &parts,
                                 std::string *error) {
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
