//===- ParallelizeCPU.cpp - Which parallel loops get a thread team --------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "LoopNest.h"
#include "nlc/Conversion/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

namespace nlc {
#define GEN_PASS_DEF_NLPARALLELIZECPU
#include "nlc/Conversion/Passes.h.inc"
} // namespace nlc

using namespace mlir;

namespace {

/// A static trip count, or `fallback` when the bounds are not constants.
int64_t tripCount(Value lb, Value ub, Value step, int64_t fallback) {
  auto lo = getConstantIntValue(lb), hi = getConstantIntValue(ub),
       st = getConstantIntValue(step);
  if (!lo || !hi || !st || *st <= 0)
    return fallback;
  return std::max<int64_t>(0, (*hi - *lo + *st - 1) / *st);
}

/// Operations one execution of `block` runs, nested loops multiplied out
/// (saturating, so absurd nests cannot overflow).
int64_t work(Block &block) {
  constexpr int64_t kUnknownTrips = 16, kCap = int64_t(1) << 40;
  int64_t total = 0;
  for (Operation &op : block) {
    int64_t here = 1;
    int64_t trips = 1;
    if (auto loop = dyn_cast<scf::ForOp>(op))
      trips = tripCount(loop.getLowerBound(), loop.getUpperBound(),
                        loop.getStep(), kUnknownTrips);
    else if (auto par = dyn_cast<scf::ParallelOp>(op))
      for (auto [lb, ub, st] :
           llvm::zip(par.getLowerBound(), par.getUpperBound(), par.getStep()))
        trips *= tripCount(lb, ub, st, kUnknownTrips);
    for (Region &region : op.getRegions())
      for (Block &inner : region)
        here += work(inner);
    total = std::min(kCap, total + std::min(kCap, trips * here));
  }
  return total;
}

/// Rewrites dimensions `from`.. of `par` (without reductions) as a nest of
/// scf.for, in place: all of them (from = 0), or all but the outermost,
/// which stays an scf.parallel, so that the team splits the outer dimension
/// and each thread runs plain inner loops that LLVM vectorizes.
void sequentialize(scf::ParallelOp par, unsigned from = 0) {
  OpBuilder b(par);
  IRMapping map;
  if (from > 0)
    nlc::createOuterLoop(b, par, from, map);
  nlc::cloneAsForNest(b, par, from, map);
  par.erase();
}

struct ParallelizeCPUPass
    : public nlc::impl::NLParallelizeCPUBase<ParallelizeCPUPass> {
  using NLParallelizeCPUBase::NLParallelizeCPUBase;
  void runOnOperation() override {
    // Decide on the outermost loops first, then sequentialize inner to
    // outer so that erasing a loop never invalidates one still listed.
    SmallVector<scf::ParallelOp> serial, split;
    bool serialFunction =
        getOperation()->hasAttr(nl::NLDialect::getSerialAttrName());
    getOperation().walk<WalkOrder::PreOrder>([&](scf::ParallelOp par) {
      bool outermost = !par->getParentOfType<scf::ParallelOp>();
      int64_t trips = 1;
      for (auto [lb, ub, st] :
           llvm::zip(par.getLowerBound(), par.getUpperBound(), par.getStep()))
        trips *= tripCount(lb, ub, st, 16);
      bool keep = !serialFunction && outermost && !par.getNumResults() &&
                  trips > 1 && trips * work(*par.getBody()) >= minWork;
      if (!keep && !par.getNumResults())
        serial.push_back(par);
      else if (keep && par.getNumLoops() > 1)
        split.push_back(par);
    });
    for (scf::ParallelOp par : llvm::reverse(serial))
      sequentialize(par);
    for (scf::ParallelOp par : split)
      sequentialize(par, /*from=*/1);
  }
};

} // namespace
