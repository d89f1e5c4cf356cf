//===- NLInterpreter.h - A float64 interpreter of nl compute ops -*- C++
//-*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// Test-only: evaluates the nl compute ops (and arith.constant, func.return)
// in double precision, straight from the ops' definitions, so that the IR
// nl-derive-gradients writes can be checked against finite differences of
// the IR it started from. Nothing here is shared with the lowering: the
// derivatives of nl.act_grad and nl.norm_grad are derived independently.
//
//===----------------------------------------------------------------------===//

#ifndef NLC_UNITTESTS_DIALECT_NLINTERPRETER_H
#define NLC_UNITTESTS_DIALECT_NLINTERPRETER_H

#include "mlir/IR/Block.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/DenseMap.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::func {
class FuncOp;
} // namespace mlir::func

namespace nltest {

/// A dense row-major float64 tensor; rank 0 holds one element.
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<double> data;

  static Tensor zeros(std::vector<int64_t> shape);
  int64_t numel() const { return static_cast<int64_t>(data.size()); }
};

/// The number of elements of `shape`.
int64_t numElements(const std::vector<int64_t> &shape);

/// Values of the ops evaluated so far (and of the bound arguments).
using Env = llvm::DenseMap<mlir::Value, Tensor>;

/// Evaluates one op at a time. On failure `error()` says which op and why.
class Interpreter {
public:
  /// Evaluates `op` with its operands taken from `env`, and binds its
  /// results in `env`. Knows arith.constant and the nl compute ops:
  /// linear, add, sub, mul, div, act, act_grad, norm, norm_grad, sum, outer,
  /// stop_grad.
  bool evalOp(mlir::Operation &op, Env &env);

  /// Evaluates the ops of `block` in order up to its terminator, then
  /// returns the terminator's operands (nl.yield, func.return) in `results`.
  bool runBlock(mlir::Block &block, Env &env, std::vector<Tensor> &results);

  /// Runs `func` (one block) at `args`.
  bool runFunc(mlir::func::FuncOp func, const std::vector<Tensor> &args,
               std::vector<Tensor> &results);

  const std::string &error() const { return message; }

private:
  bool fail(mlir::Operation &op, const std::string &why);

  std::string message;
};

} // namespace nltest

#endif // NLC_UNITTESTS_DIALECT_NLINTERPRETER_H
