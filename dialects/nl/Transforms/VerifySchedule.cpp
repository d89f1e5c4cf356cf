//===- VerifySchedule.cpp - Periods, ranks and the global schedule --------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "nl/IR/NLDependencies.h"
#include "nl/Transforms/Passes.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/MathExtras.h"

#include <numeric>

namespace mlir::nl {
#define GEN_PASS_DEF_NLVERIFYSCHEDULE
#include "nl/Transforms/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;

namespace {

struct VerifySchedulePass
    : public mlir::nl::impl::NLVerifyScheduleBase<VerifySchedulePass> {
  using Base::Base;
  void runOnOperation() override;
};

/// Tokens between two online updates of `level`; 0 for never.
int64_t ownPeriod(LevelOp level) {
  if (!level.learnsOnline())
    return 0;
  return level.getPeriod().getEffectivePeriod();
}

} // namespace

void VerifySchedulePass::runOnOperation() {
  ModelOp model = getOperation();
  LevelGraph graph(model);
  MutableArrayRef<LevelOp> levels = graph.getLevels();

  // Effective periods: optimizer levels follow the level they serve.
  SmallVector<int64_t> period(levels.size());
  for (auto [i, level] : llvm::enumerate(levels))
    period[i] = ownPeriod(level);
  for (auto [i, level] : llvm::enumerate(levels))
    if (RuleAttr rule = level.getRuleAttr()) {
      SmallVector<FlatSymbolRefAttr> via = rule.getViaLevels();
      for (FlatSymbolRefAttr ref : via) {
        // M3's slow momentum keeps its own, slower period.
        if (rule.getAlgorithm() == Algorithm::m3 && ref == via.back())
          continue;
        if (std::optional<unsigned> j = graph.indexOf(ref.getValue()))
          period[*j] = period[i];
      }
    }

  // Hyper-period, with overflow and size checks.
  int64_t hyper = 1;
  for (auto [i, p] : llvm::enumerate(period)) {
    if (p == 0)
      continue;
    int64_t g = std::gcd(hyper, p);
    int64_t next;
    if (llvm::MulOverflow(hyper / g, p, next)) {
      levels[i].emitOpError()
          << "makes the model's hyper-period overflow 64 bits; the periods "
             "of its levels share too few factors";
      return signalPassFailure();
    }
    int64_t limit = maxHyperPeriod;
    if (next > limit) {
      levels[i].emitOpError()
          << "makes the model's hyper-period " << next << " exceed " << limit
          << " tokens (max-hyper-period); the periods of its levels share "
             "too few factors";
      return signalPassFailure();
    }
    hyper = next;
  }

  // Ranks: distinct frequencies, fastest first; never-updating levels last.
  SmallVector<int64_t> distinct;
  for (int64_t p : period)
    if (p != 0)
      distinct.push_back(p);
  llvm::sort(distinct);
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  auto rankOf = [&](unsigned i) -> int64_t {
    if (period[i] == 0)
      return distinct.size();
    return llvm::lower_bound(distinct, period[i]) - distinct.begin();
  };

  FailureOr<SmallVector<unsigned>> order =
      graph.topologicalOrder([&](unsigned a, unsigned b) {
        return std::make_pair(rankOf(a), a) < std::make_pair(rankOf(b), b);
      });
  if (failed(order)) {
    // The verifier rejects cycles; reaching this is a compiler bug.
    model.emitOpError() << "has a same-step dependency cycle";
    return signalPassFailure();
  }
  SmallVector<int64_t> position(levels.size());
  for (auto [pos, i] : llvm::enumerate(*order))
    position[i] = pos;

  MLIRContext *ctx = model.getContext();
  for (auto [i, level] : llvm::enumerate(levels)) {
    int64_t fires = period[i] ? hyper / period[i] : 0;
    auto schedule =
        ScheduleAttr::get(ctx, period[i], rankOf(i), position[i], fires);
    level.setScheduleAttr(schedule);
    ++numLevels;
    if (period[i] == 0)
      ++numFrozen;
    if (emitRemarks)
      level.emitRemark() << "level @" << level.getSymName() << ": period "
                         << period[i] << ", rank " << rankOf(i) << ", order "
                         << position[i] << ", fires " << fires
                         << " time(s) per hyper-period of " << hyper;
  }
  model.setHyperPeriod(hyper);
}
