//===- NLHeadOps.cpp - The ops of the per-head form -----------------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// Verification of nl.head_index: what nl-split-heads writes when it derives
// the model of one head from a model whose heads never meet in a step.
//
//===----------------------------------------------------------------------===//

#include "nl/IR/NLOps.h"

using namespace mlir;
using namespace mlir::nl;

LogicalResult HeadIndexOp::verify() {
  auto model = (*this)->getParentOfType<ModelOp>();
  if (!model || !model.getHeadSplit())
    return emitOpError() << "is only valid in the step of a model marked "
                            "'head_split' (the model of one head)";
  if (!(*this)->getParentOfType<StepOp>() &&
      !(*this)->getParentOfType<ChunkStepOp>())
    return emitOpError() << "must be inside a step";
  return success();
}
