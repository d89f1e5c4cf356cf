//===- Tensor.h - Dense tensors of the nlc runtime --------------*- C++ -*-===//
//
// The in-memory form of the tensors the runtime loads and saves (weights,
// inputs, states): a shape and a row-major (C order) buffer of float32 or
// int32 elements.
//
//===----------------------------------------------------------------------===//

#ifndef NLRT_TENSOR_H
#define NLRT_TENSOR_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nlrt {

/// The largest rank the file readers and writers accept.
constexpr size_t kMaxRank = 8;

/// The element types of the runtime's tensors: float32 values, and the
/// int32 counts a compiled model keeps as bookkeeping (ring positions and
/// fills, deferred-token counts), which its code uses as indices.
enum class DType { F32, I32 };

/// "F32" / "I32", the safetensors spelling.
const char *dtypeName(DType type);

/// A dense, row-major tensor of float32 (`data`) or int32 (`ints`) elements:
/// the vector of its dtype holds the elements, the other one is empty. A
/// rank-0 tensor (empty shape) is a scalar with one element; a tensor with a
/// zero dimension has none.
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;
  DType dtype = DType::F32;
  std::vector<int32_t> ints;
  /// The dtype the elements had in the file they were read from ("F32",
  /// "F64", "BF16", "I64", ...); empty for a tensor made in memory.
  std::string storedAs;

  /// The number of elements the shape describes, or -1 if a dimension is
  /// negative or the product overflows int64.
  int64_t numel() const;
  /// The number of elements held (of the vector of its dtype).
  size_t size() const {
    return dtype == DType::F32 ? data.size() : ints.size();
  }

  /// Whether the shape is valid (rank <= kMaxRank, dimensions >= 0, no
  /// overflow) and the vector of its dtype holds numel() elements (the other
  /// none). Writes a message if it is not.
  bool isValid(std::string *error) const;
};

/// The product of `shape` if every dimension is >= 0 and the product of the
/// dimensions times `itemSize` (the bytes of one element, >= 1) fits in
/// int64; std::nullopt otherwise.
std::optional<int64_t> checkedNumel(const std::vector<int64_t> &shape,
                                    int64_t itemSize = 1);

/// "512x64" for diagnostics; "scalar" for rank 0.
std::string shapeToString(const std::vector<int64_t> &shape);

} // namespace nlrt

#endif // NLRT_TENSOR_H
