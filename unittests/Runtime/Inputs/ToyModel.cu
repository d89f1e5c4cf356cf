//===- ToyModel.cu - The toy model as CUDA kernels ------------------------===//
//
// The kernel ABI of `nlc --target=cuda` for the toy model (see ToyModel.h):
// one block per stream, thread 0 of each runs the stream's tokens in order.
// toy.ptx is generated from this file (nvcc 13); regenerate it with
//   nvcc --ptx -arch=compute_75 -fmad=false -o toy.ptx ToyModel.cu
//   sed -i 's/^\.version .*/.version 7.0/' toy.ptx
// -fmad=false keeps the float results those of the CPU build; PTX ISA 7.0
// (it uses nothing newer) lets drivers from CUDA 11.0 on load it.
//
//===----------------------------------------------------------------------===//

#include "ToyModel.h"

extern "C" __global__ void nl_toy_steps(const float *w, float *fast,
                                        float *fastAcc, float *slow,
                                        float *slowAcc, const float *x,
                                        float *y, float *e, int64_t active,
                                        const uint64_t *fire, int64_t tokens) {
  if (threadIdx.x != 0)
    return;
  int64_t b = blockIdx.x;
  const float *params[1] = {w};
  float *state[4] = {fast + b * 4, fastAcc + b * 4, slow + b * 4,
                     slowAcc + b * 4};
  for (int64_t t = 0; t < tokens; ++t) {
    int64_t row = b * tokens + t;
    float *outputs[2] = {y + row * 4, e + row};
    toy::step(params, state, x + row * 4, outputs,
              static_cast<uint64_t>(active), fire[t]);
  }
}

extern "C" __global__ void nl_toy_flush(const float *, float *fast,
                                        float *fastAcc, float *slow,
                                        float *slowAcc, int64_t fire) {
  if (threadIdx.x != 0)
    return;
  int64_t b = blockIdx.x;
  float *state[4] = {fast + b * 4, fastAcc + b * 4, slow + b * 4,
                     slowAcc + b * 4};
  toy::fireLevels(state, static_cast<uint64_t>(fire));
}
