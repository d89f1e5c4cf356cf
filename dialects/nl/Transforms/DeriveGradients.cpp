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

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Traits.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
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
/// The value of a splat constant, e.g. the seed 1 of the reverse sweep.
std::optional<double> splatValue(Value v) {
  DenseElementsAttr attr;
  if (matchPattern(v, m_Constant(&attr)) && attr.isSplat())
    return attr.getSplatValue<APFloat>().convertToDouble();
  return std::nullopt;
}

/// Builds the derivative of one nl.grad region.
class Differentiator {
public:
  Differentiator(GradOp op) : op(op), b(op), loc(op.getLoc()) {}

  LogicalResult run();

private:
  // Value builders; the result types follow the operands.
  Value constant(double v, ArrayRef<int64_t> shape) {
    Value c = createF32Splat(b, loc, v, shape);
    constants.push_back(c.getDefiningOp<arith::ConstantOp>());
    return c;
  }
  template <typename OpT> Value binary(Value lhs, Value rhs) {
    SmallVector<int64_t> shape;
    (void)OpTrait::util::getBroadcastedShape(shapeOf(lhs), shapeOf(rhs),
                                             shape);
    if constexpr (std::is_same_v<OpT, MulOp>) {
      // Products with constants fold here, so the sweep does not multiply
      // by its seed of 1.
      std::optional<double> l = splatValue(lhs), r = splatValue(rhs);
      if (l && r)
        return constant(*l * *r, shape);
      if (l == 1.0 && shapeOf(rhs) == ArrayRef<int64_t>(shape))
        return rhs;
      if (r == 1.0 && shapeOf(lhs) == ArrayRef<int64_t>(shape))
        return lhs;
    }
    return OpT::create(b, loc, getF32TensorType(shape, b.getContext()), lhs, rhs);
  }
  /// `v` summed down to `shape` (the adjoint of broadcasting).
  Value sumTo(Value v, ArrayRef<int64_t> shape) {
    if (shapeOf(v) == shape)
      return v;
    return SumOp::create(b, loc, getF32TensorType(shape, b.getContext()), v);
  }
  Value linear(Value x, Value w, bool transpose) {
    ArrayRef<int64_t> ws = shapeOf(w);
    SmallVector<int64_t> shape(shapeOf(x));
    shape.back() = transpose ? ws.back() : ws[ws.size() - 2];
    auto result = LinearOp::create(b, loc, getF32TensorType(shape, b.getContext()), x,
                                   w, Value());
    if (transpose)
      result.setTransposeWeight(true);
    return result;
  }
  Value outer(Value a, Value c) {
    SmallVector<int64_t> shape(shapeOf(a));
    shape.push_back(shapeOf(c).back());
    return OuterOp::create(b, loc, getF32TensorType(shape, b.getContext()), a, c);
  }

  /// Adds `d` to the adjoint of body value `v`.
  void accumulate(Value v, Value d) {
    if (!active.contains(v))
      return;
    Value &slot = adjoints[v];
    slot = slot ? binary<AddOp>(slot, d) : d;
  }
  /// The forward (cloned) value of body value `v`.
  Value primal(Value v) { return mapping.lookupOrDefault(v); }

  LogicalResult backward(Operation *orig, Value dy);

  GradOp op;
  OpBuilder b;
  Location loc;
  IRMapping mapping;
  /// The constants the sweep made; those folded away are erased at the end.
  SmallVector<arith::ConstantOp> constants;
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
    b.clone(o, mapping);
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
    if (failed(backward(&o, adjoints.lookup(o.getResult(0)))))
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

LogicalResult Differentiator::backward(Operation *orig, Value dy) {
  auto isActive = [&](Value v) { return active.contains(v); };
  if (auto lin = dyn_cast<LinearOp>(orig)) {
    Value x = primal(lin.getInput()), w = primal(lin.getWeight());
    bool t = lin.getTransposeWeight();
    if (isActive(lin.getInput()))
      accumulate(lin.getInput(), linear(dy, w, !t));
    if (isActive(lin.getWeight())) {
      // dW = dy x^T (or x dy^T for a transposed weight), summed over the
      // leading dimensions a shared weight is broadcast along.
      Value dw = t ? outer(x, dy) : outer(dy, x);
      accumulate(lin.getWeight(), sumTo(dw, shapeOf(w)));
    }
    if (Value bias = lin.getBias(); bias && isActive(bias))
      accumulate(bias, sumTo(dy, shapeOf(bias)));
    return success();
  }
  if (auto add = dyn_cast<AddOp>(orig)) {
    accumulate(add.getLhs(), sumTo(dy, shapeOf(add.getLhs())));
    accumulate(add.getRhs(), sumTo(dy, shapeOf(add.getRhs())));
    return success();
  }
  if (auto sub = dyn_cast<SubOp>(orig)) {
    accumulate(sub.getLhs(), sumTo(dy, shapeOf(sub.getLhs())));
    if (isActive(sub.getRhs()))
      accumulate(sub.getRhs(),
                 sumTo(binary<MulOp>(dy, constant(-1.0, {})),
                       shapeOf(sub.getRhs())));
    return success();
  }
  if (auto mul = dyn_cast<MulOp>(orig)) {
    Value l = primal(mul.getLhs()), r = primal(mul.getRhs());
    if (isActive(mul.getLhs()))
      accumulate(mul.getLhs(), sumTo(binary<MulOp>(dy, r), shapeOf(l)));
    if (isActive(mul.getRhs()))
      accumulate(mul.getRhs(), sumTo(binary<MulOp>(dy, l), shapeOf(r)));
    return success();
  }
  if (auto div = dyn_cast<DivOp>(orig)) {
    Value l = primal(div.getLhs()), r = primal(div.getRhs());
    if (isActive(div.getLhs()))
      accumulate(div.getLhs(), sumTo(binary<DivOp>(dy, r), shapeOf(l)));
    if (isActive(div.getRhs())) {
      // d(l / r)/dr = -(l / r) / r.
      Value y = primal(div.getResult());
      Value d = binary<MulOp>(binary<DivOp>(binary<MulOp>(dy, y), r),
                              constant(-1.0, {}));
      accumulate(div.getRhs(), sumTo(d, shapeOf(r)));
    }
    return success();
  }
  if (auto act = dyn_cast<ActOp>(orig)) {
    Value x = primal(act.getInput());
    accumulate(act.getInput(),
               ActGradOp::create(b, loc, x.getType(), act.getKindAttr(), x, dy));
    return success();
  }
  if (auto norm = dyn_cast<NormOp>(orig)) {
    Value x = primal(norm.getInput());
    Value scale = norm.getScale() ? primal(norm.getScale()) : Value();
    if (isActive(norm.getInput()))
      accumulate(norm.getInput(),
                 NormGradOp::create(b, loc, x.getType(), norm.getKindAttr(), x, dy,
                                    scale, norm.getEpsAttr()));
    if (norm.getScale() && isActive(norm.getScale())) {
      Value plain = NormOp::create(b, loc, x.getType(), norm.getKindAttr(), x,
                                   Value(), Value(), norm.getEpsAttr());
      accumulate(norm.getScale(),
                 sumTo(binary<MulOp>(dy, plain), shapeOf(scale)));
    }
    if (Value shift = norm.getShift(); shift && isActive(shift))
      accumulate(shift, sumTo(dy, shapeOf(shift)));
    return success();
  }
  if (auto sum = dyn_cast<SumOp>(orig)) {
    // dy broadcast back to the input's shape.
    Value ones = constant(1.0, shapeOf(sum.getInput()));
    accumulate(sum.getInput(), binary<MulOp>(ones, dy));
    return success();
  }
  if (auto o = dyn_cast<OuterOp>(orig)) {
    Value l = primal(o.getLhs()), r = primal(o.getRhs());
    if (isActive(o.getLhs()))
      accumulate(o.getLhs(), linear(r, dy, /*transpose=*/false));
    if (isActive(o.getRhs()))
      accumulate(o.getRhs(), linear(l, dy, /*transpose=*/true));
    return success();
  }
  if (isa<ActGradOp, NormGradOp>(orig))
    return orig->emitOpError()
           << "depends on the differentiated arguments; second derivatives "
              "are not supported";
  return orig->emitOpError()
         << "depends on the differentiated arguments of nl.grad but has no "
            "derivative rule";
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
