//===- Npy.h - NumPy .npy files for the nlc runtime -------------*- C++ -*-===//
//
// Reading and writing single arrays in the NumPy .npy format (versions 1.0,
// 2.0 and 3.0): the magic "\x93NUMPY", two version bytes, a little-endian
// header length (u16 for 1.0, u32 otherwise), a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// padded with spaces and ending in '\n', then the raw array data.
//
// Accepted: descr '<f4' (float32) and '<f8' (float64, converted to float32),
// C order only, rank 0..kMaxRank. The file size must be exactly the preamble,
// the header and the data: truncated data and trailing bytes are errors.
// Error messages start with "<path>: ".
//
//===----------------------------------------------------------------------===//

#ifndef NLRT_NPY_H
#define NLRT_NPY_H

#include "nlrt/Tensor.h"

#include <string>

namespace nlrt {

/// The longest .npy header accepted by readNpy() (NumPy's own limit is 10000
/// bytes unless the caller opts out).
constexpr uint32_t kMaxNpyHeaderBytes = 1u << 20;

/// Reads the array in `path` into `out`. On failure returns false, writes a
/// message to *error (if non-null) and leaves `out` unchanged.
bool readNpy(const std::string &path, Tensor &out, std::string *error);

/// Writes `t` to `path` as a version 1.0, '<f4', C-order .npy file, byte for
/// byte as numpy.save() (NumPy >= 1.24) writes it. The write is atomic (see
/// writeSafetensors()). Fails if `t` is not valid (Tensor::isValid()).
bool writeNpy(const std::string &path, const Tensor &t, std::string *error);

} // namespace nlrt

#endif // NLRT_NPY_H
