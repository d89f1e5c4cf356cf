//===- CpuBackward.h - Backpropagation through time on the CPU --*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// Internal to the runtime: the CPU executor's backward.
//
//===----------------------------------------------------------------------===//

#ifndef NLRT_SRC_CPUBACKWARD_H
#define NLRT_SRC_CPUBACKWARD_H

#include "Executor.h"

#include <string>

namespace nlrt {

class Model;
class ThreadTeam;

/// Runs the forward and the backward of one call of a CPU model with a
/// backward entry point, its streams split over `team`.
bool runCpuBackward(const Model &model, ThreadTeam &team, const BackwardIO &io,
                    std::string *error);

} // namespace nlrt

#endif // NLRT_SRC_CPUBACKWARD_H
