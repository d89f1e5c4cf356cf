//===- FileIO.h - File access of the nlrt readers and writers ---*- C++ -*-===//
//
// Internal to nlrt (not installed): a bounds-checked reader of regular files,
// an atomic whole-file writer, and the little-endian float decoding that the
// .npy and safetensors readers share. POSIX only.
//
//===----------------------------------------------------------------------===//

#ifndef NLRT_SRC_FILEIO_H
#define NLRT_SRC_FILEIO_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "nlrt reads and writes little-endian files on little-endian hosts only"
#endif

namespace nlrt {
namespace detail {

/// A regular file opened for reading; every read is checked against its size.
class InputFile {
public:
  InputFile() = default;
  InputFile(const InputFile &) = delete;
  InputFile &operator=(const InputFile &) = delete;
  ~InputFile();

  /// Opens `path`. Fails on a missing or unreadable file and on anything that
  /// is not a regular file (a directory, a FIFO, ...). Messages start with
  /// "<path>: ".
  bool open(const std::string &path, std::string *error);

  /// The path given to open().
  const std::string &path() const { return name; }

  /// The size of the file in bytes, as it was when opened.
  uint64_t size() const { return bytes; }

  /// Reads exactly `count` bytes at `offset` into `dest`. Fails (without
  /// reading) if the range is not inside the file, or if the file shrank.
  bool readAt(uint64_t offset, void *dest, size_t count, std::string *error);

private:
  std::string name;
  int fd = -1;
  uint64_t bytes = 0;
};

/// The element types the readers convert to float32.
enum class FloatType { F32, F64 };

/// Bytes per element of `type`.
inline int64_t itemSize(FloatType type) {
  return type == FloatType::F32 ? 4 : 8;
}

/// Reads `count` little-endian elements of `type` at `offset` into `dest`,
/// converting to float32 (float64 values beyond the float range become
/// +-inf; NaNs stay NaNs).
bool readFloats(InputFile &file, uint64_t offset, FloatType type, size_t count,
                float *dest, std::string *error);

/// A span of bytes to write.
struct ByteSpan {
  const void *data;
  size_t size;
};

/// Writes the concatenation of `parts` to `path` atomically: into
/// "<path>.tmp.<pid>", fsync()ed, then rename()d over `path`. On failure the
/// temporary file is removed and an existing `path` is left untouched.
bool writeFileAtomically(const std::string &path,
                         const std::vector<ByteSpan> &parts,
                         std::string *error);

/// Sets *error (if non-null) to "<path>: <message>" and returns false.
bool failAt(std::string *error, const std::string &path,
            const std::string &message);

} // namespace detail
} // namespace nlrt

#endif // NLRT_SRC_FILEIO_H
