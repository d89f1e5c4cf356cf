//===- DeriveGradients.cpp - Reverse-mode differentiation of nl.grad ------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// Each nl.grad region is replaced by its forward computation and a reverse
// sweep of vector-Jacobian products written with nl compute ops. The rules
// are per op, never per learning rule, so the same pass differentiates a
// Titans MLP memory, a TTT layer norm, or (later) a task loss with respect to
// the slow weights.
//
//===----------------------------------------------------------------------===//

#include "nl/Transforms/Passes.h"
#include "nl/Transforms/VJPRules.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLDERIVEGRADIENTS
#include "nl/Transforms/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;

namespace {

ArrayRef<int64_t> shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}
/// Builds the derivative of one nl.grad region.
class Differentiator : public VJPSweep {
public:
  Differentiator(GradOp op) : VJPSweep(builder_, op.getLoc()), op(op) {}

  LogicalResult run();

  bool isActive(Value v) override { return active.contains(v); }
  Value primal(Value v) override { return mapping.lookupOrDefault(v); }
  void accumulate(Value v, Value d) override {
    if (!active.contains(v))
      return;
    Value &slot = adjoints[v];
    slot = slot ? binary<AddOp>(slot, d) : d;
  }

private:
  GradOp op;
  OpBuilder builder_{op};
  IRMapping mapping;
  llvm::SetVector<Value> active;
  DenseMap<Value, Value> adjoints;
};

LogicalResult Differentiator::run() {
  Block &body = op.getBody().front();
  auto yield = cast<YieldOp>(body.getTerminator());

  // Forward: the body at the operands, and which values depend on them.
  for (auto [arg, at] : llvm::zip(body.getArguments(), op.getAt())) {
    mapping.map(arg, at);
    active.insert(arg);
  }
  for (Operation &o : body.without_terminator()) {
    if (isa<GradOp>(o))
      return o.emitOpError() << "nested in nl.grad is not supported";
    builder_.clone(o, mapping);
    if (isa<StopGradOp>(o))
      continue;
    // An op is active when it uses an active value, as an operand or inside
    // one of its regions.
    bool uses = false;
    o.walk([&](Operation *inner) {
      uses |= llvm::any_of(inner->getOperands(),
                           [&](Value v) { return active.contains(v); });
    });
    if (uses)
      for (Value r : o.getResults())
        active.insert(r);
  }

  // Reverse: seed d objective = 1 and sweep the body backwards.
  Value objective = yield.getValues()[0];
  adjoints[objective] = constant(1.0, {});
  for (Operation &o : llvm::reverse(body.without_terminator())) {
    bool needed = llvm::any_of(o.getResults(), [&](Value r) {
      return active.contains(r) && adjoints.lookup(r);
    });
    if (!needed)
      continue;
    // Every rule is for a single-result op without regions.
    if (o.getNumResults() != 1 || o.getNumRegions() != 0)
      return o.emitOpError() << "depends on the differentiated arguments of "
                                "nl.grad but has no derivative rule";
    if (failed(buildVJP(&o, adjoints.lookup(o.getResult(0)), *this)))
      return failure();
  }

  SmallVector<Value> grads;
  for (BlockArgument arg : body.getArguments()) {
    Value g = adjoints.lookup(arg);
    grads.push_back(g ? g : constant(0.0, shapeOf(arg)));
  }
  op.replaceAllUsesWith(grads);
  op.erase();
  for (arith::ConstantOp c : llvm::reverse(constants))
    if (c->use_empty())
      c->erase();
  return success();
}

struct DeriveGradientsPass
    : public mlir::nl::impl::NLDeriveGradientsBase<DeriveGradientsPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<GradOp> regions;
    getOperation()->walk([&](GradOp g) { regions.push_back(g); });
    // Innermost last: a nested nl.grad is reported, not differentiated.
    for (GradOp g : regions) {
      if (g->getParentOfType<GradOp>())
        continue;
      if (failed(Differentiator(g).run()))
        return signalPassFailure();
      ++numRegions;
    }
  }
};

} // namespace
