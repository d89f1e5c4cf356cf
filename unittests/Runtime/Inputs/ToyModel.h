//===- ToyModel.h - A hand-written model for the session tests --*- C++ -*-===//
//
// The math of a tiny two-level model, written once and compiled both for the
// CPU (ToyModel.cpp, the step/flush ABI of a compiled .so) and for CUDA
// (ToyModel.cu, the steps/flush kernel ABI; toy.ptx is its PTX), so that a
// CUDA session can be checked against a CPU session of the same model. It
// stands in for compiler output: the runtime tests must not need nlc.
//
// dim 4; parameter W [4]; levels "fast" (period 2, tail drop) and "slow"
// (period 3, tail flush); state: fast [4], fast.__acc [4], slow [2, 2]
// (identity), slow.__acc [2, 2]; outputs: y [4] and e [1].
//
//===----------------------------------------------------------------------===//

#ifndef NLRT_UNITTESTS_TOYMODEL_H
#define NLRT_UNITTESTS_TOYMODEL_H

#include <cstdint>

#ifdef __CUDACC__
#define TOY_HD __host__ __device__
#else
#define TOY_HD
#endif

namespace toy {

constexpr int kDim = 4;

/// Applies the chunk-end updates of the levels set in `fire`.
TOY_HD inline void fireLevels(float *const *state, uint64_t fire) {
  float *fast = state[0], *fastAcc = state[1];
  float *slow = state[2], *slowAcc = state[3];
  if (fire & 1)
    for (int i = 0; i < kDim; ++i) {
      fast[i] = 0.9f * fast[i] - fastAcc[i];
      fastAcc[i] = 0.0f;
    }
  if (fire & 2)
    for (int i = 0; i < kDim; ++i) {
      slow[i] = 0.99f * slow[i] - 0.1f * slowAcc[i];
      slowAcc[i] = 0.0f;
    }
}

/// One token of one stream.
TOY_HD inline void step(const float *const *params, float *const *state,
                        const float *x, float *const *outputs, uint64_t active,
                        uint64_t fire) {
  const float *w = params[0];
  float *fast = state[0], *fastAcc = state[1];
  float *slow = state[2], *slowAcc = state[3];
  float energy = 0.0f;
  for (int i = 0; i < kDim; ++i) {
    outputs[0][i] = fast[i] + slow[i] * x[i];
    energy += fast[i] * w[i];
  }
  outputs[1][0] = energy;
  if (active & 1)
    for (int i = 0; i < kDim; ++i)
      fastAcc[i] += w[i] * x[i];
  if (active & 2)
    for (int i = 0; i < kDim; ++i)
      slowAcc[i] += 0.5f * x[i] - slow[i] * 0.25f;
  fireLevels(state, fire);
}

} // namespace toy

#endif // NLRT_UNITTESTS_TOYMODEL_H
