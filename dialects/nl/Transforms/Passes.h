//===- Passes.h - Passes of the nl dialect ----------------------*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#ifndef NL_TRANSFORMS_PASSES_H
#define NL_TRANSFORMS_PASSES_H

#include "nl/IR/NLOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir::nl {

/// Which models nl-chunk gives a chunk form (its `form` option).
enum class ChunkFormMode {
  On,   // every model that has one
  Auto, // those where the cost model says it pays
  Off,  // none; a chunk form the model has already is removed
};

#define GEN_PASS_DECL
#include "nl/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "nl/Transforms/Passes.h.inc"

} // namespace mlir::nl

#endif // NL_TRANSFORMS_PASSES_H
