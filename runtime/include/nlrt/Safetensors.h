//===- Safetensors.h - safetensors files for the nlc runtime ----*- C++ -*-===//
//
// Reading and writing named tensors in the safetensors format: an 8-byte
// little-endian header size N, N bytes of UTF-8 JSON
//   {"__metadata__": {"key": "value"},
//    "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, ...}
// and the byte buffer the offsets (relative to its start) point into.
//
// Accepted dtypes: F32, F64 (narrowed to float32), F16 and BF16 (widened
// exactly), I32, and I64 (each element must fit int32). Every writer of this
// runtime records each tensor's CRC-32 (zlib) in the metadata, as
// "nlc.crc32.<name>": "<8 hex digits>"; the reader verifies every checksum a
// file holds (of the bytes as stored) and refuses a mismatch. The reader
// rejects hostile files: a header size beyond the file or
// kMaxSafetensorsHeaderBytes, invalid JSON, missing or mistyped fields,
// negative or overflowing shapes, rank above kMaxRank, byte ranges that do not
// match the shape, lie outside the buffer or overlap, duplicate names, and any
// buffer byte that belongs to no tensor (the tensors must cover the buffer
// exactly, as the reference implementation requires). Unknown fields of a
// tensor entry are ignored. Error messages start with "<path>: ".
//
//===----------------------------------------------------------------------===//

#ifndef NLRT_SAFETENSORS_H
#define NLRT_SAFETENSORS_H

#include "nlrt/Tensor.h"

#include <map>
#include <string>

namespace nlrt {

/// The largest JSON header readSafetensors() accepts.
constexpr uint64_t kMaxSafetensorsHeaderBytes = uint64_t(100) << 20;

/// The contents of a safetensors file.
struct TensorFile {
  /// The tensors by name (any name but "__metadata__").
  std::map<std::string, Tensor> tensors;
  /// The free-form string-to-string "__metadata__" (omitted when empty).
  std::map<std::string, std::string> metadata;
  /// Read: whether every tensor had a checksum (all of which matched).
  bool checksummed = false;
};

/// Reads `path` into `out`. On failure returns false, writes a message to
/// *error (if non-null) and leaves `out` unchanged.
bool readSafetensors(const std::string &path, TensorFile &out,
                     std::string *error);

/// Writes `file` to `path` as F32 and I32 tensors laid out in name order,
/// with a CRC-32 of each in the metadata, the header compact JSON padded with
/// spaces to a multiple of 8 bytes. The write is atomic: the bytes go to
/// "<path>.tmp.<pid>", which is fsync()ed and then rename()d over `path`; on
/// any failure the temporary file is removed and an existing `path` is left
/// untouched. Fails if a tensor is not valid (Tensor::isValid()) or is named
/// "__metadata__".
bool writeSafetensors(const std::string &path, const TensorFile &file,
                      std::string *error);

} // namespace nlrt

#endif // NLRT_SAFETENSORS_H
