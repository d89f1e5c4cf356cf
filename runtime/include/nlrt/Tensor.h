//===- Tensor.h - Dense f32 tensor of the nlc runtime -----------*- C++ -*-===//
//
// The in-memory form of the tensors the runtime loads and saves (weights,
// inputs, states): a shape and a row-major (C order) buffer of float32.
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

/// A dense, row-major float32 tensor. A rank-0 tensor (empty shape) is a
/// scalar with one element; a tensor with a zero dimension has none.
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;

  /// The number of elements the shape describes, or -1 if a dimension is
  /// negative or the product overflows int64.
  int64_t numel() const;

  /// Whether the shape is valid (rank <= kMaxRank, dimensions >= 0, no
  /// overflow) and data.size() == numel(). Writes a message if it is not.
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
