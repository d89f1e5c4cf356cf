//===- FileIO.h - File access of the nlrt readers and writers ---*- C++ -*-===//
//
// Internal to nlrt (not installed): a bounds-checked reader of regular files,
// an atomic whole-file writer, and the little-endian element decoding (with
// checksums) that the .npy and safetensors readers share. POSIX only.
//
//===----------------------------------------------------------------------===//

#ifndef NLRT_SRC_FILEIO_H
#define NLRT_SRC_FILEIO_H

#include "nlrt/Tensor.h"

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

/// The element encodings the readers accept (safetensors names). Float
/// encodings become float32 (F64 narrowed: beyond the float range +-inf,
/// NaN stays NaN; F16 and BF16 widened exactly), integer ones int32 (an I64
/// element must fit).
enum class StoredType { F32, F64, F16, BF16, I32, I64 };

/// Bytes per element of `type`.
int64_t itemSize(StoredType type);
/// "F32", "F64", "F16", "BF16", "I32", "I64".
const char *storedName(StoredType type);
/// Whether `type` holds floating-point values (read into Tensor::data).
inline bool isFloat(StoredType type) {
  return type != StoredType::I32 && type != StoredType::I64;
}
/// The encoding named `name` (safetensors spelling); false if unsupported.
bool parseStoredType(const std::string &name, StoredType &out);

/// Reads `count` little-endian elements of `type` at `offset` into `out`
/// (its `data` for a float type, its `ints` for an integer one; sets dtype
/// and storedAs). When `crc` is given, it is updated with the zlib CRC-32 of
/// the bytes as stored.
bool readElements(InputFile &file, uint64_t offset, StoredType type,
                  size_t count, Tensor &out, uint32_t *crc, std::string *error);

/// The zlib CRC-32 of `size` bytes, continuing from `crc` (0 to start).
uint32_t crc32Of(const void *data, size_t size, uint32_t crc = 0);

/// A span of bytes to write.
struct ByteSpan {
  const void *data;
  size_t size;
};

/// Writes the concatenation of `parts` to `path` atomically: into
/// "<path>.tmp.<pid>", fsync()ed, then rename()d over `path`, and the
/// directory fsync()ed. On failure the temporary file is removed and an
/// existing `path` is left untouched. Temporary files of `path` left by
/// writers that died (their pid is gone) are removed first.
bool writeFileAtomically(const std::string &path,
                         const std::vector<ByteSpan> &parts,
                         std::string *error);

/// Sets *error (if non-null) to "<path>: <message>" and returns false.
bool failAt(std::string *error, const std::string &path,
            const std::string &message);

} // namespace detail
} // namespace nlrt

#endif // NLRT_SRC_FILEIO_H
