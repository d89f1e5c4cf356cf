//===- Backward.h - nl-run's gradients in and out --------------*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// The files of nl-run's backward: the outputs' cotangents read from .npy
// (--cotangent), the gradients written as safetensors (--grad-out), keyed
// by the parameters' keys of --info and `initial_state.<state>`.
//
//===----------------------------------------------------------------------===//

#ifndef NLC_TOOLS_NLRUN_BACKWARD_H
#define NLC_TOOLS_NLRUN_BACKWARD_H

#include "nlrt/Model.h"
#include "nlrt/Session.h"

#include <string>
#include <vector>

namespace nlrun {

/// Reads the cotangent of each output from `paths` (in output order; fewer
/// paths than outputs leave the rest zero): each [T, ...] or [B, T, ...] as
/// the input is (`batched`), shaped like its output. `data[o]` is empty for
/// an output without one.
bool readCotangents(const std::vector<std::string> &paths,
                    const nlrt::Manifest &m, int64_t batch, int64_t tokens,
                    bool batched, std::vector<std::vector<float>> &data,
                    std::string *error);

/// Writes the gradient of every parameter under its key and of every f32
/// state tensor's initial value as `initial_state.<name>` (summed over the
/// streams: the gradient of an initial state the streams share).
bool writeGradients(const std::string &path, const nlrt::Manifest &m,
                    const nlrt::Gradients &grads, int64_t batch,
                    std::string *error);

} // namespace nlrun

#endif // NLC_TOOLS_NLRUN_BACKWARD_H
