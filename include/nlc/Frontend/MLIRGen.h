//===- MLIRGen.h - Lowering .nl descriptions to the nl dialect --*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#ifndef NLC_FRONTEND_MLIRGEN_H
#define NLC_FRONTEND_MLIRGEN_H

#include "nlc/Frontend/AST.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace llvm {
class SourceMgr;
} // namespace llvm

namespace mlir {
class MLIRContext;
} // namespace mlir

namespace nlc {

/// A hyper-parameter override from the command line: `-D name=value`.
struct HyperOverride {
  std::string name;
  std::string value;
};

/// A hyper-parameter's value after the overrides, as the model was built.
struct HyperValue {
  std::string name;
  double value;
  bool isInteger;
};

/// Lowers `model` to a module holding one `nl.model`, with a file:line:col
/// location on every op. Reports errors through the context's diagnostic
/// engine (at the offending position of the description) and returns null.
/// The returned module is verified. When `resolved` is given, it receives
/// every hyper-parameter's value in declaration order (the manifest records
/// them).
mlir::OwningOpRef<mlir::ModuleOp>
lowerToNL(const ast::Model &model, mlir::MLIRContext &context,
          const llvm::SourceMgr &sourceMgr,
          llvm::ArrayRef<HyperOverride> overrides = {},
          std::vector<HyperValue> *resolved = nullptr);

} // namespace nlc

#endif // NLC_FRONTEND_MLIRGEN_H
