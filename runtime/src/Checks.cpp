//===- Checks.cpp - Value checks of the runtime's inputs and state --------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "Checks.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

using namespace nlrt;
using namespace nlrt::detail;

int64_t detail::firstNonFinite(const float *values, int64_t n) {
  // A float is NaN or Inf when its exponent bits are all ones. Testing the
  // bits with integer operations in blocks lets the compiler vectorize the
  // scan, so that a healthy buffer costs about one read of it.
  constexpr int64_t kBlock = 1024;
  constexpr uint32_t kExponent = 0x7f800000u;
  for (int64_t begin = 0; begin < n; begin += kBlock) {
    int64_t end = std::min(n, begin + kBlock);
    uint32_t bad = 0;
    for (int64_t i = begin; i < end; ++i) {
      uint32_t bits;
      std::memcpy(&bits, values + i, sizeof bits);
      bad |= static_cast<uint32_t>((bits & kExponent) == kExponent);
    }
    if (!bad)
      continue;
    for (int64_t i = begin; i < end; ++i)
      if (!std::isfinite(values[i]))
        return i;
  }
  return -1;
}

std::string detail::indexText(const std::vector<int64_t> &shape, int64_t flat) {
  std::vector<int64_t> index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = shape[d] ? flat % shape[d] : 0;
    flat = shape[d] ? flat / shape[d] : 0;
  }
  std::string text = "[";
  for (size_t d = 0; d < index.size(); ++d)
    text += (d ? ", " : "") + std::to_string(index[d]);
  return text + "]";
}

std::string detail::nonFiniteText(float value) {
  if (std::isnan(value))
    return "nan";
  return value > 0 ? "inf" : "-inf";
}

std::string detail::nearestName(const std::string &name,
                                const std::vector<std::string> &known) {
  // Levenshtein distance; a name within a third of its length (at least 1,
  // at most 4 edits) is a likely misspelling.
  auto distance = [](const std::string &a, const std::string &b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j)
      row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      size_t diagonal = row[0];
      row[0] = i;
      for (size_t j = 1; j <= b.size(); ++j) {
        size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                           diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
        diagonal = up;
      }
    }
    return row[b.size()];
  };
  size_t limit = std::clamp<size_t>(name.size() / 3, 1, 4);
  std::string best;
  size_t bestDistance = limit + 1;
  for (const std::string &k : known) {
    size_t d = distance(name, k);
    if (d < bestDistance) {
      bestDistance = d;
      best = k;
    }
  }
  return best;
}

int32_t detail::countAt(const std::vector<float> &buffer, size_t i) {
  int32_t v;
  std::memcpy(&v, &buffer[i], sizeof v);
  return v;
}

void detail::setCount(std::vector<float> &buffer, size_t i, int32_t value) {
  std::memcpy(&buffer[i], &value, sizeof value);
}

bool detail::checkCounts(const Manifest &m,
                         const std::vector<std::vector<float>> &state,
                         int64_t streams, const std::string &where,
                         std::string *error) {
  auto fail = [&](const std::string &message) {
    if (error)
      *error = where + message;
    return false;
  };
  for (size_t j = 0; j < m.state.size(); ++j) {
    const TensorSpec &t = m.state[j];
    if (t.dtype != DType::I32)
      continue;
    for (int64_t b = 0; b < streams; ++b)
      for (int64_t e = 0; e < t.numel; ++e) {
        int32_t v = countAt(state[j], b * t.numel + e);
        if (v < 0 || v > t.maxValue)
          return fail("state '" + t.name + "' of stream " + std::to_string(b) +
                      " is " + std::to_string(v) + ", outside its range [0, " +
                      std::to_string(t.maxValue) + "]");
      }
    if (t.ringFill < 0)
      continue;
    const TensorSpec &fill = m.state[t.ringFill];
    for (int64_t b = 0; b < streams; ++b) {
      int32_t pos = countAt(state[j], b),
              filled = countAt(state[t.ringFill], b);
      if (filled < fill.maxValue && pos != filled)
        return fail("state '" + t.name + "' of stream " + std::to_string(b) +
                    " is " + std::to_string(pos) + " but '" + fill.name +
                    "' is " + std::to_string(filled) +
                    ": a ring buffer that is not full (fewer than " +
                    std::to_string(fill.maxValue) +
                    " slots) writes at its fill");
    }
  }
  return true;
}
