//===- VJPRules.h - Vector-Jacobian products of the nl ops ------*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// One rule per differentiable op: given the cotangent of its result, the
// cotangents it adds to its operands, written with nl compute ops. The
// rules are per op, never per learning rule; a reverse sweep (nl.grad's
// nl-derive-gradients today, the task loss's backward next) implements
// VJPSweep to say which values are active, where the forward values are and
// where cotangents accumulate.
//
//===----------------------------------------------------------------------===//

#ifndef NL_TRANSFORMS_VJPRULES_H
#define NL_TRANSFORMS_VJPRULES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"

namespace mlir::nl {

/// A reverse sweep as the rules see it.
class VJPSweep {
public:
  VJPSweep(OpBuilder &b, Location loc) : b(b), loc(loc) {}
  virtual ~VJPSweep() = default;

  /// Whether the sweep wants the cotangent of `v` (it depends on what is
  /// differentiated).
  virtual bool isActive(Value v) = 0;
  /// The forward value of `v` where the sweep builds.
  virtual Value primal(Value v) = 0;
  /// Adds `d` to the cotangent of `v` (nothing if `v` is not active).
  virtual void accumulate(Value v, Value d) = 0;

  OpBuilder &builder() { return b; }
  Location location() const { return loc; }

  //===--- Builders (the result types follow the operands) --------------===//
  Value constant(double v, ArrayRef<int64_t> shape);
  /// An elementwise op with broadcasting; products with splat constants of
  /// 1 or of each other fold, so a sweep seeded with 1 does not multiply by
  /// it.
  template <typename OpT> Value binary(Value lhs, Value rhs);
  /// `v` summed down to `shape` (the adjoint of broadcasting).
  Value sumTo(Value v, ArrayRef<int64_t> shape);
  Value linear(Value x, Value w, bool transpose);
  Value outer(Value a, Value c);
  Value matmul(Value lhs, Value rhs, bool transposeLhs, bool transposeRhs);
  Value transposeLast2(Value v);

  /// The constants the rules made (a sweep erases those left unused).
  SmallVector<arith::ConstantOp> constants;

protected:
  OpBuilder &b;
  Location loc;
};

/// Adds to the operands of `op` their cotangents for the cotangent `dy` of
/// its (single) result. Fails, with a located error, for an op that has no
/// rule (or whose second derivative is not written yet).
LogicalResult buildVJP(Operation *op, Value dy, VJPSweep &sweep);

} // namespace mlir::nl

#endif // NL_TRANSFORMS_VJPRULES_H
