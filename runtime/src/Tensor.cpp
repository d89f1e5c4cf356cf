//===- Tensor.cpp - Dense tensors of the nlc runtime ----------------------===//
//
// Shape arithmetic of nlrt::Tensor, with every multiplication checked.
//
//===----------------------------------------------------------------------===//

#include "nlrt/Tensor.h"

#include <limits>
#include <utility>

using namespace nlrt;

std::optional<int64_t> nlrt::checkedNumel(const std::vector<int64_t> &shape,
                                          int64_t itemSize) {
  if (itemSize < 1)
    return std::nullopt;
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  // Multiply the item size in first, so that the bound holds for the bytes;
  // any zero dimension still yields 0 without an overflow check failing on a
  // huge dimension that precedes it.
  int64_t product = itemSize;
  bool zero = false;
  bool overflow = false;
  for (int64_t dim : shape) {
    if (dim < 0)
      return std::nullopt;
    if (dim == 0)
      zero = true;
    else if (product > kMax / dim)
      overflow = true;
    else
      product *= dim;
  }
  if (overflow)
    return std::nullopt;
  return zero ? 0 : product / itemSize;
}

std::string nlrt::shapeToString(const std::vector<int64_t> &shape) {
  if (shape.empty())
    return "scalar";
  std::string text;
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? "x" : "") + std::to_string(shape[i]);
  return text;
}

const char *nlrt::dtypeName(DType type) {
  return type == DType::F32 ? "F32" : "I32";
}

int64_t Tensor::numel() const {
  std::optional<int64_t> count = checkedNumel(shape);
  return count ? *count : -1;
}

bool Tensor::isValid(std::string *error) const {
  std::string message;
  std::optional<int64_t> count = checkedNumel(shape);
  if (shape.size() > kMaxRank)
    message = "rank " + std::to_string(shape.size()) + " exceeds the maximum " +
              std::to_string(kMaxRank);
  else if (!count)
    message = "invalid shape " + shapeToString(shape) +
              " (negative dimension or too many elements)";
  else if (static_cast<uint64_t>(*count) != size())
    message = "shape " + shapeToString(shape) + " has " +
              std::to_string(*count) + " elements but the data holds " +
              std::to_string(size());
  else if (dtype == DType::F32 ? !ints.empty() : !data.empty())
    message = std::string("a ") + dtypeName(dtype) +
              " tensor holds elements of the other dtype";
  if (message.empty())
    return true;
  if (error)
    *error = std::move(message);
  return false;
}
