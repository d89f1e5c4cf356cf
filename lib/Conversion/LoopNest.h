//===- LoopNest.h - Rewriting parallel loop dimensions as loops -*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// Shared by the passes on the loop form: nl-fuse-rows and
// nl-parallelize-cpu keep some dimensions of an scf.parallel and run the
// rest in order; nl-fuse-rows and nl-map-to-gpu reason about which buffer an
// access touches.
//
//===----------------------------------------------------------------------===//

#ifndef NLC_LIB_CONVERSION_LOOPNEST_H
#define NLC_LIB_CONVERSION_LOOPNEST_H

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace nlc {

/// The buffer `value` is a view of (through any chain of view-like ops), or
/// `value` itself: views of one buffer are one buffer.
mlir::Value viewSource(mlir::Value value);

/// Creates, at `b`'s insertion point, an scf.parallel over the first `n`
/// dimensions of `par`, maps their induction variables in `map`, and moves
/// `b` into its body.
mlir::scf::ParallelOp createOuterLoop(mlir::OpBuilder &b,
                                      mlir::scf::ParallelOp par, unsigned n,
                                      mlir::IRMapping &map);

/// Clones the body of `par` at `b`'s insertion point inside a nest of
/// scf.for over its dimensions `from`..end (in order). `map` must already
/// map the induction variables of the dimensions before `from`.
void cloneAsForNest(mlir::OpBuilder &b, mlir::scf::ParallelOp par,
                    unsigned from, mlir::IRMapping &map);

} // namespace nlc

#endif // NLC_LIB_CONVERSION_LOOPNEST_H
