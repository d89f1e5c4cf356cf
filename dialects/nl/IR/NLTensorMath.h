//===- NLTensorMath.h - Building rule math from nl tensor ops ---*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// The few builders a learning rule's math is written with, over the nl
// compute ops on tensors: NumPy-broadcast elementwise arithmetic, size-1
// reshapes, M x and M^T x per head, outer products and row sums. The rule
// registry's objectives (NLRules.h) and nl-expand-updates write with them,
// so that every op they make is one the explicit-update form documents.
//
//===----------------------------------------------------------------------===//

#ifndef NL_IR_NLTENSORMATH_H
#define NL_IR_NLTENSORMATH_H

#include "mlir/IR/Builders.h"
#include "llvm/ADT/SmallVector.h"

namespace mlir::nl {

class TensorMath {
public:
  using Shape = llvm::SmallVector<int64_t>;

  TensorMath(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  OpBuilder &builder() { return b; }
  Location location() const { return loc; }
  void setLocation(Location l) { loc = l; }

  static Shape shapeOf(Value v);
  RankedTensorType type(ArrayRef<int64_t> shape);
  /// An f32 tensor of `shape` filled with `v` (a scalar tensor if empty).
  Value splat(double v, ArrayRef<int64_t> shape = {});

  /// Elementwise, with NumPy broadcasting; `mul(x, {})` is `x`.
  Value add(Value x, Value y);
  Value sub(Value x, Value y);
  Value mul(Value x, Value y);
  Value div(Value x, Value y);
  Value neg(Value x);
  Value abs(Value x);
  Value sqrt(Value x);
  /// |x|^p elementwise (p a constant).
  Value powConst(Value x, double p);
  /// 1 where x > 0, -1 where x < 0, 0 elsewhere.
  Value sign(Value x);
  /// 1 where x <= y, 0 elsewhere (x and y of one shape).
  Value lessEqual(Value x, Value y);

  /// `v` with size-1 dimensions inserted so that it has shape `to` (the
  /// same number of elements).
  Value reshape(Value v, ArrayRef<int64_t> to);
  /// y = M x per head: M [heads?, rows, cols], x [heads?, cols].
  Value matvec(Value M, Value x);
  /// y = M^T x per head: M [heads?, rows, cols], x [heads?, rows].
  Value matvecT(Value M, Value x);
  /// r[..., i, j] = x[..., i] * y[..., j].
  Value outer(Value x, Value y);
  /// The sum over the last dimension, kept as a size-1 dimension.
  Value rowSum(Value v);
  /// `ring` [n, ...s] shifted one slot towards 0 with `x` [...s] in its
  /// last slot: the window of the last n tokens after this one.
  Value shiftIn(Value ring, Value x);
  /// `ring` [n, ...s] shifted one slot away from 0 with `x` [...s] in slot
  /// 0: a short convolution's history (newest first) after this token.
  Value pushFront(Value ring, Value x);
  /// Slot `i` of `ring` [n, ...s], of shape [...s].
  Value slot(Value ring, int64_t i);
  /// `v` as a vector (collapse_shape of all its dimensions).
  Value flatten(Value v);
  /// The last two dimensions swapped.
  Value transposeLast2(Value v);
  /// a b per head (batched over the leading dimensions), either operand
  /// taken with its last two dimensions swapped.
  Value matmul(Value a, Value b, bool transposeLhs = false,
               bool transposeRhs = false);

private:
  template <typename Op> Value binary(Value x, Value y);
  OpBuilder &b;
  Location loc;
};

} // namespace mlir::nl

#endif // NL_IR_NLTENSORMATH_H
