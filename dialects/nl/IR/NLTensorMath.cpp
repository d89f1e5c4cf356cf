//===- NLTensorMath.cpp - Building rule math from nl tensor ops -----------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "nl/IR/NLTensorMath.h"
#include "nl/IR/NLOps.h"
#include "nl/IR/NLTypes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Traits.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;
using namespace mlir::nl;

TensorMath::Shape TensorMath::shapeOf(Value v) {
  return Shape(cast<RankedTensorType>(v.getType()).getShape());
}

RankedTensorType TensorMath::type(ArrayRef<int64_t> shape) {
  return getF32TensorType(shape, b.getContext());
}

Value TensorMath::splat(double v, ArrayRef<int64_t> shape) {
  return createF32Splat(b, loc, v, shape);
}

template <typename Op> Value TensorMath::binary(Value x, Value y) {
  // The ops' verifiers check that the operands broadcast.
  Shape shape;
  (void)OpTrait::util::getBroadcastedShape(shapeOf(x), shapeOf(y), shape);
  return Op::create(b, loc, type(shape), x, y);
}

Value TensorMath::add(Value x, Value y) { return binary<AddOp>(x, y); }
Value TensorMath::sub(Value x, Value y) { return binary<SubOp>(x, y); }
Value TensorMath::mul(Value x, Value y) { return y ? binary<MulOp>(x, y) : x; }
Value TensorMath::div(Value x, Value y) { return binary<DivOp>(x, y); }
Value TensorMath::neg(Value x) { return arith::NegFOp::create(b, loc, x); }
Value TensorMath::abs(Value x) { return math::AbsFOp::create(b, loc, x); }
Value TensorMath::sqrt(Value x) { return math::SqrtOp::create(b, loc, x); }

Value TensorMath::powConst(Value x, double p) {
  if (p == 1.0)
    return abs(x);
  Value a = abs(x);
  Value exponent = splat(p, shapeOf(x));
  return math::PowFOp::create(b, loc, a, exponent);
}

Value TensorMath::sign(Value x) {
  Shape s = shapeOf(x);
  Value zero = splat(0.0, s);
  Value pos = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, x, zero);
  Value negative =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, x, zero);
  Value minusOne = splat(-1.0, s);
  Value inner = arith::SelectOp::create(b, loc, negative, minusOne, zero);
  Value one = splat(1.0, s);
  return arith::SelectOp::create(b, loc, pos, one, inner);
}

Value TensorMath::lessEqual(Value x, Value y) {
  Value le = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLE, x, y);
  return arith::UIToFPOp::create(b, loc, type(shapeOf(x)), le);
}

Value TensorMath::reshape(Value v, ArrayRef<int64_t> to) {
  Shape from = shapeOf(v);
  if (from == Shape(to))
    return v;
  SmallVector<ReassociationIndices> groups;
  size_t t = 0;
  for (int64_t d : from) {
    ReassociationIndices group;
    int64_t product = 1;
    while (t < to.size() && (product != d || group.empty())) {
      product *= to[t];
      group.push_back(t++);
    }
    groups.push_back(group);
  }
  while (t < to.size() && !groups.empty())
    groups.back().push_back(t++);
  return tensor::ExpandShapeOp::create(b, loc, type(to), v, groups);
}

Value TensorMath::matvec(Value M, Value x) {
  Shape s = shapeOf(M);
  s.erase(s.end() - 1);
  return LinearOp::create(b, loc, type(s), x, M, Value(), UnitAttr());
}

Value TensorMath::matvecT(Value M, Value x) {
  Shape s = shapeOf(M);
  s.erase(s.end() - 2);
  return LinearOp::create(b, loc, type(s), x, M, Value(), b.getUnitAttr());
}

Value TensorMath::outer(Value x, Value y) {
  Shape s = shapeOf(x);
  s.push_back(shapeOf(y).back());
  return OuterOp::create(b, loc, type(s), x, y);
}

Value TensorMath::rowSum(Value v) {
  Shape s = shapeOf(v);
  s.back() = 1;
  return SumOp::create(b, loc, type(s), v);
}

Value TensorMath::transposeLast2(Value v) {
  Shape s = shapeOf(v);
  SmallVector<int64_t> perm = llvm::to_vector(llvm::seq<int64_t>(0, s.size()));
  std::swap(perm[s.size() - 2], perm[s.size() - 1]);
  std::swap(s[s.size() - 2], s[s.size() - 1]);
  return TransposeOp::create(b, loc, type(s), v, b.getDenseI64ArrayAttr(perm));
}

Value TensorMath::matmul(Value x, Value y, bool transposeLhs,
                         bool transposeRhs) {
  Shape s = shapeOf(x), r = shapeOf(y);
  size_t n = s.size();
  s[n - 2] = transposeLhs ? shapeOf(x)[n - 1] : shapeOf(x)[n - 2];
  s[n - 1] = transposeRhs ? r[n - 2] : r[n - 1];
  return MatmulOp::create(b, loc, type(s), x, y,
                          transposeLhs ? b.getUnitAttr() : UnitAttr(),
                          transposeRhs ? b.getUnitAttr() : UnitAttr());
}

Value TensorMath::shiftIn(Value ring, Value x) {
  Shape s = shapeOf(ring);
  SmallVector<OpFoldResult> zeros(s.size(), b.getIndexAttr(0));
  SmallVector<OpFoldResult> ones(s.size(), b.getIndexAttr(1));
  SmallVector<OpFoldResult> sizes = getAsIndexOpFoldResult(b.getContext(), s);
  // ring[1:] into slots 0 .. n-2, then x into slot n-1.
  Shape older = s;
  older[0] = s[0] - 1;
  SmallVector<OpFoldResult> from = zeros, olderSizes = sizes;
  from[0] = b.getIndexAttr(1);
  olderSizes[0] = b.getIndexAttr(older[0]);
  Value kept = tensor::ExtractSliceOp::create(b, loc, type(older), ring, from,
                                              olderSizes, ones);
  Value shifted = tensor::InsertSliceOp::create(b, loc, kept, ring, zeros,
                                                olderSizes, ones);
  SmallVector<OpFoldResult> last = zeros, one = sizes;
  last[0] = b.getIndexAttr(s[0] - 1);
  one[0] = b.getIndexAttr(1);
  return tensor::InsertSliceOp::create(b, loc, x, shifted, last, one, ones);
}

Value TensorMath::pushFront(Value ring, Value x) {
  Shape s = shapeOf(ring);
  SmallVector<OpFoldResult> zeros(s.size(), b.getIndexAttr(0));
  SmallVector<OpFoldResult> ones(s.size(), b.getIndexAttr(1));
  SmallVector<OpFoldResult> sizes = getAsIndexOpFoldResult(b.getContext(), s);
  SmallVector<OpFoldResult> one = sizes;
  one[0] = b.getIndexAttr(1);
  Value front = ring;
  if (s[0] > 1) {
    // ring[: n-1] into slots 1 .. n-1.
    Shape newer = s;
    newer[0] = s[0] - 1;
    SmallVector<OpFoldResult> newerSizes = sizes, to = zeros;
    newerSizes[0] = b.getIndexAttr(newer[0]);
    to[0] = b.getIndexAttr(1);
    Value kept = tensor::ExtractSliceOp::create(b, loc, type(newer), ring,
                                                zeros, newerSizes, ones);
    front = tensor::InsertSliceOp::create(b, loc, kept, ring, to, newerSizes,
                                          ones);
  }
  return tensor::InsertSliceOp::create(b, loc, x, front, zeros, one, ones);
}

Value TensorMath::slot(Value ring, int64_t i) {
  Shape s = shapeOf(ring);
  SmallVector<OpFoldResult> at(s.size(), b.getIndexAttr(0));
  SmallVector<OpFoldResult> ones(s.size(), b.getIndexAttr(1));
  SmallVector<OpFoldResult> sizes = getAsIndexOpFoldResult(b.getContext(), s);
  at[0] = b.getIndexAttr(i);
  sizes[0] = b.getIndexAttr(1);
  return tensor::ExtractSliceOp::create(
      b, loc, type(ArrayRef<int64_t>(s).drop_front()), ring, at, sizes, ones);
}

Value TensorMath::flatten(Value v) {
  Shape s = shapeOf(v);
  if (s.size() == 1)
    return v;
  int64_t n = ShapedType::getNumElements(s);
  ReassociationIndices all =
      llvm::to_vector(llvm::seq<int64_t>(0, static_cast<int64_t>(s.size())));
  return tensor::CollapseShapeOp::create(b, loc, type({n}), v,
                                         ArrayRef<ReassociationIndices>{all});
}
