//===- Checks.h - Value checks of the runtime's inputs and state -*- C++
//-*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// Internal to nlrt: the scans behind "no silent wrong answers": the first
// non-finite value of a buffer, the counts a compiled model uses as indices
// against their manifest ranges, and the nearest known name for a message.
//
//===----------------------------------------------------------------------===//

#ifndef NLRT_SRC_CHECKS_H
#define NLRT_SRC_CHECKS_H

#include "nlrt/Model.h"

#include <cstdint>
#include <string>
#include <vector>

namespace nlrt {
namespace detail {

/// The index of the first NaN or Inf among `n` floats, or -1.
int64_t firstNonFinite(const float *values, int64_t n);

/// "[2, 0, 5]": the multi-index of flat element `flat` of `shape`.
std::string indexText(const std::vector<int64_t> &shape, int64_t flat);

/// "nan", "inf" or "-inf".
std::string nonFiniteText(float value);

/// The name among `known` closest to `name` by edit distance, if it is close
/// enough to be a likely misspelling; empty otherwise.
std::string nearestName(const std::string &name,
                        const std::vector<std::string> &known);

/// An i32 count stored in a state buffer (whose 4-byte elements hold either
/// float32 values or int32 counts, as the manifest says).
int32_t countAt(const std::vector<float> &buffer, size_t i);
void setCount(std::vector<float> &buffer, size_t i, int32_t value);

/// Checks the counts of one candidate state (`state[j]` holds
/// streams * numel elements of tensor j): each i32 tensor in [0, maxValue],
/// and each ring position equal to its fill while the ring is not full.
/// `where` prefixes messages (a path). False with a message naming the
/// tensor, the stream, the value and the valid range.
bool checkCounts(const Manifest &m,
                 const std::vector<std::vector<float>> &state, int64_t streams,
                 const std::string &where, std::string *error);

} // namespace detail
} // namespace nlrt

#endif // NLRT_SRC_CHECKS_H
