//===- ToyModel.cpp - The toy model as a CPU model library ----------------===//
//
// The C ABI of `nlc --emit=lib` for the toy model (see ToyModel.h).
//
//===----------------------------------------------------------------------===//

#include "ToyModel.h"

extern "C" {

void nl_toy_step(const float *const *params, float *const *state,
                 const float *x, float *const *outputs, uint64_t active,
                 uint64_t fire) {
  toy::step(params, state, x, outputs, active, fire);
}

void nl_toy_flush(const float *const *, float *const *state, uint64_t fire) {
  toy::fireLevels(state, fire);
}

} // extern "C"
