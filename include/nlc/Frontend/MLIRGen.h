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

/// Lowers `model` to a module holding one `nl.model`, with a file:line:col
/// location on every op. Reports errors through the context's diagnostic
/// engine (at the offending position of the description) and returns null.
/// The returned module is verified.
mlir::OwningOpRef<mlir::ModuleOp>
lowerToNL(const ast::Model &model, mlir::MLIRContext &context,
          const llvm::SourceMgr &sourceMgr,
          llvm::ArrayRef<HyperOverride> overrides = {});

} // namespace nlc

#endif // NLC_FRONTEND_MLIRGEN_H
