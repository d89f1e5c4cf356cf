//===- LoopNest.cpp - Rewriting parallel loop dimensions as loops ---------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "LoopNest.h"

using namespace mlir;

Value nlc::viewSource(Value value) {
  while (auto view = value.getDefiningOp<ViewLikeOpInterface>())
    value = view.getViewSource();
  return value;
}

scf::ParallelOp nlc::createOuterLoop(OpBuilder &b, scf::ParallelOp par,
                                     unsigned n, IRMapping &map) {
  auto outer = scf::ParallelOp::create(
      b, par.getLoc(), par.getLowerBound().take_front(n),
      par.getUpperBound().take_front(n), par.getStep().take_front(n));
  for (unsigned d = 0; d < n; ++d)
    map.map(par.getInductionVars()[d], outer.getInductionVars()[d]);
  b.setInsertionPoint(outer.getBody()->getTerminator());
  return outer;
}

void nlc::cloneAsForNest(OpBuilder &b, scf::ParallelOp par, unsigned from,
                         IRMapping &map) {
  if (from == par.getNumLoops()) {
    for (Operation &op : par.getBody()->without_terminator())
      b.clone(op, map);
    return;
  }
  auto loop =
      scf::ForOp::create(b, par.getLoc(), par.getLowerBound()[from],
                         par.getUpperBound()[from], par.getStep()[from]);
  map.map(par.getInductionVars()[from], loop.getInductionVar());
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(loop.getBody()->getTerminator());
  cloneAsForNest(b, par, from + 1, map);
}
