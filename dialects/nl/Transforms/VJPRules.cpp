//===- VJPRules.cpp - Vector-Jacobian products of the nl ops --------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "nl/Transforms/VJPRules.h"
#include "nl/IR/NLOps.h"
#include "nl/IR/NLTensorMath.h"
#include "nl/IR/NLTypes.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Traits.h"
#include "mlir/IR/Matchers.h"

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

/// act''(x) elementwise, written with nl ops (for the VJP of nl.act_grad).
Value secondDerivative(VJPSweep &s, Activation kind, Value x) {
  OpBuilder &b = s.builder();
  Location loc = s.location();
  auto act = [&](Activation k, Value v) -> Value {
    return ActOp::create(b, loc, v.getType(),
                         ActivationAttr::get(b.getContext(), k), v);
  };
  auto mul = [&](Value l, Value r) { return s.binary<MulOp>(l, r); };
  auto add = [&](Value l, Value r) { return s.binary<AddOp>(l, r); };
  auto sub = [&](Value l, Value r) { return s.binary<SubOp>(l, r); };
  auto c = [&](double v) { return s.constant(v, {}); };
  auto shape = cast<RankedTensorType>(x.getType()).getShape();
  switch (kind) {
  case Activation::identity:
  case Activation::relu: // 0 away from the kink
    return s.constant(0.0, shape);
  case Activation::exp:
    return act(Activation::exp, x);
  case Activation::sigmoid:
  case Activation::softplus: {
    // sigmoid'' = s (1 - s) (1 - 2 s); softplus'' = sigmoid' = s (1 - s).
    Value sg = act(Activation::sigmoid, x);
    Value ds = mul(sg, sub(c(1.0), sg));
    if (kind == Activation::softplus)
      return ds;
    Value twice = mul(sg, c(2.0));
    return mul(ds, sub(c(1.0), twice));
  }
  case Activation::tanh: {
    // -2 t (1 - t^2)
    Value t = act(Activation::tanh, x);
    Value dt = sub(c(1.0), mul(t, t));
    return mul(mul(t, c(-2.0)), dt);
  }
  case Activation::silu: {
    // (x s)'' = s (1 - s) (2 + x (1 - 2 s))
    Value sg = act(Activation::sigmoid, x);
    Value ds = mul(sg, sub(c(1.0), sg));
    Value twice = mul(sg, c(2.0));
    Value inner = add(c(2.0), mul(x, sub(c(1.0), twice)));
    return mul(ds, inner);
  }
  case Activation::gelu: {
    // (x Phi(x))'' = phi(x) (2 - x^2), phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
    Value sq = mul(x, x);
    Value phi =
        mul(act(Activation::exp, mul(sq, c(-0.5))), c(0.3989422804014327));
    return mul(phi, sub(c(2.0), sq));
  }
  case Activation::gelu_tanh: {
    // f = x (1 + tanh u) / 2, u = k (x + a x^3):
    // f'' = (1 - t^2) (u' + x (u'' - 2 t u'^2) / 2), u' = k (1 + 3 a x^2),
    // u'' = 6 a k x.
    const double k = 0.7978845608028654, a = 0.044715;
    Value sq = mul(x, x);
    Value u = mul(add(x, mul(mul(sq, x), c(a))), c(k));
    Value t = act(Activation::tanh, u);
    Value du = mul(add(c(1.0), mul(sq, c(3.0 * a))), c(k));
    Value ddu = mul(x, c(6.0 * a * k));
    Value bracket = sub(ddu, mul(mul(t, c(2.0)), mul(du, du)));
    Value inner = add(du, mul(mul(x, bracket), c(0.5)));
    return mul(sub(c(1.0), mul(t, t)), inner);
  }
  }
  llvm_unreachable("every activation has a case");
}

} // namespace

//===--- Builders ---------------------------------------------------------===//

Value VJPSweep::constant(double v, ArrayRef<int64_t> shape) {
  Value c = createF32Splat(b, loc, v, shape);
  constants.push_back(c.getDefiningOp<arith::ConstantOp>());
  return c;
}

template <typename OpT> Value VJPSweep::binary(Value lhs, Value rhs) {
  SmallVector<int64_t> shape;
  (void)OpTrait::util::getBroadcastedShape(shapeOf(lhs), shapeOf(rhs), shape);
  if constexpr (std::is_same_v<OpT, MulOp>) {
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
template Value VJPSweep::binary<AddOp>(Value, Value);
template Value VJPSweep::binary<SubOp>(Value, Value);
template Value VJPSweep::binary<MulOp>(Value, Value);
template Value VJPSweep::binary<DivOp>(Value, Value);

Value VJPSweep::sumTo(Value v, ArrayRef<int64_t> shape) {
  if (shapeOf(v) == shape)
    return v;
  return SumOp::create(b, loc, getF32TensorType(shape, b.getContext()), v);
}

Value VJPSweep::linear(Value x, Value w, bool transpose) {
  ArrayRef<int64_t> ws = shapeOf(w);
  SmallVector<int64_t> shape(shapeOf(x));
  shape.back() = transpose ? ws.back() : ws[ws.size() - 2];
  auto result = LinearOp::create(
      b, loc, getF32TensorType(shape, b.getContext()), x, w, Value());
  if (transpose)
    result.setTransposeWeight(true);
  return result;
}

Value VJPSweep::outer(Value a, Value c) {
  SmallVector<int64_t> shape(shapeOf(a));
  shape.push_back(shapeOf(c).back());
  return OuterOp::create(b, loc, getF32TensorType(shape, b.getContext()), a, c);
}

Value VJPSweep::matmul(Value lhs, Value rhs, bool transposeLhs,
                       bool transposeRhs) {
  return TensorMath(b, loc).matmul(lhs, rhs, transposeLhs, transposeRhs);
}

Value VJPSweep::transposeLast2(Value v) {
  return TensorMath(b, loc).transposeLast2(v);
}

//===--- The rules --------------------------------------------------------===//

LogicalResult mlir::nl::buildVJP(Operation *orig, Value dy, VJPSweep &s) {
  auto isActive = [&](Value v) { return s.isActive(v); };
  auto primal = [&](Value v) { return s.primal(v); };
  auto accumulate = [&](Value v, Value d) { s.accumulate(v, d); };
  Location loc = s.location();

  if (auto lin = dyn_cast<LinearOp>(orig)) {
    Value x = primal(lin.getInput()), w = primal(lin.getWeight());
    bool t = lin.getTransposeWeight();
    if (isActive(lin.getInput()))
      accumulate(lin.getInput(), s.linear(dy, w, !t));
    if (isActive(lin.getWeight())) {
      // dW = dy x^T (or x dy^T for a transposed weight), summed over the
      // leading dimensions a shared weight is broadcast along.
      Value dw = t ? s.outer(x, dy) : s.outer(dy, x);
      accumulate(lin.getWeight(), s.sumTo(dw, shapeOf(w)));
    }
    if (Value bias = lin.getBias(); bias && isActive(bias))
      accumulate(bias, s.sumTo(dy, shapeOf(bias)));
    return success();
  }
  if (auto add = dyn_cast<AddOp>(orig)) {
    accumulate(add.getLhs(), s.sumTo(dy, shapeOf(add.getLhs())));
    accumulate(add.getRhs(), s.sumTo(dy, shapeOf(add.getRhs())));
    return success();
  }
  if (auto sub = dyn_cast<SubOp>(orig)) {
    accumulate(sub.getLhs(), s.sumTo(dy, shapeOf(sub.getLhs())));
    if (isActive(sub.getRhs()))
      accumulate(sub.getRhs(),
                 s.sumTo(s.binary<MulOp>(dy, s.constant(-1.0, {})),
                         shapeOf(sub.getRhs())));
    return success();
  }
  if (auto mul = dyn_cast<MulOp>(orig)) {
    Value l = primal(mul.getLhs()), r = primal(mul.getRhs());
    if (isActive(mul.getLhs()))
      accumulate(mul.getLhs(), s.sumTo(s.binary<MulOp>(dy, r), shapeOf(l)));
    if (isActive(mul.getRhs()))
      accumulate(mul.getRhs(), s.sumTo(s.binary<MulOp>(dy, l), shapeOf(r)));
    return success();
  }
  if (auto div = dyn_cast<DivOp>(orig)) {
    Value l = primal(div.getLhs()), r = primal(div.getRhs());
    if (isActive(div.getLhs()))
      accumulate(div.getLhs(), s.sumTo(s.binary<DivOp>(dy, r), shapeOf(l)));
    if (isActive(div.getRhs())) {
      // d(l / r)/dr = -(l / r) / r.
      Value y = primal(div.getResult());
      Value d = s.binary<MulOp>(s.binary<DivOp>(s.binary<MulOp>(dy, y), r),
                                s.constant(-1.0, {}));
      accumulate(div.getRhs(), s.sumTo(d, shapeOf(r)));
    }
    return success();
  }
  if (auto act = dyn_cast<ActOp>(orig)) {
    Value x = primal(act.getInput());
    accumulate(act.getInput(), ActGradOp::create(s.builder(), loc, x.getType(),
                                                 act.getKindAttr(), x, dy));
    return success();
  }
  if (auto norm = dyn_cast<NormOp>(orig)) {
    Value x = primal(norm.getInput());
    Value scale = norm.getScale() ? primal(norm.getScale()) : Value();
    if (isActive(norm.getInput()))
      accumulate(norm.getInput(),
                 NormGradOp::create(s.builder(), loc, x.getType(),
                                    norm.getKindAttr(), x, dy, scale,
                                    norm.getEpsAttr()));
    if (norm.getScale() && isActive(norm.getScale())) {
      Value plain =
          NormOp::create(s.builder(), loc, x.getType(), norm.getKindAttr(), x,
                         Value(), Value(), norm.getEpsAttr());
      accumulate(norm.getScale(),
                 s.sumTo(s.binary<MulOp>(dy, plain), shapeOf(scale)));
    }
    if (Value shift = norm.getShift(); shift && isActive(shift))
      accumulate(shift, s.sumTo(dy, shapeOf(shift)));
    return success();
  }
  if (auto sum = dyn_cast<SumOp>(orig)) {
    // dy broadcast back to the input's shape.
    Value ones = s.constant(1.0, shapeOf(sum.getInput()));
    accumulate(sum.getInput(), s.binary<MulOp>(ones, dy));
    return success();
  }
  if (auto o = dyn_cast<OuterOp>(orig)) {
    Value l = primal(o.getLhs()), r = primal(o.getRhs());
    if (isActive(o.getLhs()))
      accumulate(o.getLhs(), s.linear(r, dy, /*transpose=*/false));
    if (isActive(o.getRhs()))
      accumulate(o.getRhs(), s.linear(l, dy, /*transpose=*/true));
    return success();
  }
  if (auto m = dyn_cast<MatmulOp>(orig)) {
    // Y = A' B' with A' = A (or A^T), B' = B (or B^T): dA' = dY B'^T,
    // dB' = A'^T dY, transposed back where the operand was.
    bool ta = m.getTransposeLhs(), tb = m.getTransposeRhs();
    Value a = primal(m.getLhs()), c = primal(m.getRhs());
    if (isActive(m.getLhs())) {
      Value d = s.matmul(dy, c, false, !tb);
      accumulate(m.getLhs(), ta ? s.transposeLast2(d) : d);
    }
    if (isActive(m.getRhs())) {
      Value d = s.matmul(a, dy, !ta, false);
      accumulate(m.getRhs(), tb ? s.transposeLast2(d) : d);
    }
    return success();
  }
  if (auto t = dyn_cast<TransposeOp>(orig)) {
    // The inverse permutation.
    ArrayRef<int64_t> perm = t.getPermutation();
    SmallVector<int64_t> inverse(perm.size());
    for (auto [i, p] : llvm::enumerate(perm))
      inverse[p] = i;
    accumulate(t.getInput(),
               TransposeOp::create(s.builder(), loc, t.getInput().getType(), dy,
                                   s.builder().getDenseI64ArrayAttr(inverse)));
    return success();
  }
  if (auto e = dyn_cast<tensor::ExpandShapeOp>(orig)) {
    accumulate(e.getSrc(), tensor::CollapseShapeOp::create(
                               s.builder(), loc, e.getSrcType(), dy,
                               e.getReassociationIndices()));
    return success();
  }
  if (auto c = dyn_cast<tensor::CollapseShapeOp>(orig)) {
    accumulate(c.getSrc(),
               tensor::ExpandShapeOp::create(s.builder(), loc, c.getSrcType(),
                                             dy, c.getReassociationIndices()));
    return success();
  }
  if (auto x = dyn_cast<tensor::ExtractSliceOp>(orig)) {
    // dy into zeros of the source's shape, where the slice was.
    Value zeros = s.constant(0.0, x.getSourceType().getShape());
    accumulate(x.getSource(),
               tensor::InsertSliceOp::create(
                   s.builder(), loc, dy, zeros, x.getMixedOffsets(),
                   x.getMixedSizes(), x.getMixedStrides()));
    return success();
  }
  if (auto ins = dyn_cast<tensor::InsertSliceOp>(orig)) {
    // The source's cotangent is dy's slice; the destination's is dy with
    // the slice overwritten (zeros).
    if (isActive(ins.getSource()))
      accumulate(ins.getSource(),
                 tensor::ExtractSliceOp::create(
                     s.builder(), loc, ins.getSourceType(), dy,
                     ins.getMixedOffsets(), ins.getMixedSizes(),
                     ins.getMixedStrides()));
    if (isActive(ins.getDest())) {
      Value zeros = s.constant(0.0, ins.getSourceType().getShape());
      accumulate(ins.getDest(),
                 tensor::InsertSliceOp::create(
                     s.builder(), loc, zeros, dy, ins.getMixedOffsets(),
                     ins.getMixedSizes(), ins.getMixedStrides()));
    }
    return success();
  }
  if (auto n = dyn_cast<arith::NegFOp>(orig)) {
    accumulate(n.getOperand(), arith::NegFOp::create(s.builder(), loc, dy));
    return success();
  }
  if (auto q = dyn_cast<math::SqrtOp>(orig)) {
    // d sqrt(x) = dy / (2 sqrt(x)).
    Value twice = s.binary<MulOp>(primal(q.getResult()), s.constant(2.0, {}));
    accumulate(q.getOperand(), s.binary<DivOp>(dy, twice));
    return success();
  }
  if (auto a = dyn_cast<math::AbsFOp>(orig)) {
    // d |x| = dy sign(x) (0 at 0).
    Value x = primal(a.getOperand());
    Value zeros = s.constant(0.0, shapeOf(x));
    Value pos = arith::CmpFOp::create(s.builder(), loc,
                                      arith::CmpFPredicate::OGT, x, zeros);
    Value neg = arith::CmpFOp::create(s.builder(), loc,
                                      arith::CmpFPredicate::OLT, x, zeros);
    Value minus = arith::NegFOp::create(s.builder(), loc, dy);
    Value inner = arith::SelectOp::create(s.builder(), loc, neg, minus, zeros);
    accumulate(a.getOperand(),
               arith::SelectOp::create(s.builder(), loc, pos, dy, inner));
    return success();
  }
  if (auto p = dyn_cast<math::PowFOp>(orig)) {
    // x^c for a constant exponent c: dy c x^(c-1).
    std::optional<double> c = splatValue(p.getRhs());
    if (!c || isActive(p.getRhs()))
      return orig->emitOpError()
             << "has no derivative rule for an exponent that is not a "
                "constant";
    Value x = primal(p.getLhs());
    Value lower = math::PowFOp::create(s.builder(), loc, x,
                                       s.constant(*c - 1.0, shapeOf(x)));
    Value scaled = s.binary<MulOp>(lower, s.constant(*c, {}));
    accumulate(p.getLhs(), s.binary<MulOp>(dy, scaled));
    return success();
  }
  if (auto sel = dyn_cast<arith::SelectOp>(orig)) {
    // The cotangent goes to the branch each element took.
    Value cond = primal(sel.getCondition());
    Value zeros = s.constant(0.0, shapeOf(dy));
    if (isActive(sel.getTrueValue()))
      accumulate(sel.getTrueValue(),
                 arith::SelectOp::create(s.builder(), loc, cond, dy, zeros));
    if (isActive(sel.getFalseValue()))
      accumulate(sel.getFalseValue(),
                 arith::SelectOp::create(s.builder(), loc, cond, zeros, dy));
    return success();
  }
  // A stop_grad write: the state before it keeps an identity path.
  if (auto sg = dyn_cast<StopGradOp>(orig)) {
    if (sg.getThrough() && isActive(sg.getThrough()))
      accumulate(sg.getThrough(), dy);
    return success();
  }
  // Piecewise-constant ops: comparisons and the 0/1 masks made of them.
  if (isa<arith::CmpFOp, arith::UIToFPOp>(orig))
    return success();
  if (auto g = dyn_cast<ActGradOp>(orig)) {
    // r = dy act'(x): d dy = dr act'(x), d x = dr dy act''(x) (the second
    // derivative of an MLP memory's inner gradient).
    Value x = primal(g.getInput()), d = primal(g.getGrad());
    if (isActive(g.getGrad()))
      accumulate(g.getGrad(), ActGradOp::create(s.builder(), loc, x.getType(),
                                                g.getKindAttr(), x, dy));
    if (isActive(g.getInput())) {
      Value second = secondDerivative(s, g.getKind(), x);
      accumulate(g.getInput(), s.binary<MulOp>(s.binary<MulOp>(dy, d), second));
    }
    return success();
  }
  if (isa<NormGradOp>(orig))
    return orig->emitOpError()
           << "depends on the differentiated values; its second derivative "
              "has no rule yet";
  return orig->emitOpError() << "depends on the differentiated values but "
                                "has no derivative rule";
}
