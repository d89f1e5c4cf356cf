//===- InitAll.h - Register everything nlc's tools use ----------*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#ifndef NLC_INITALL_H
#define NLC_INITALL_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace nlc {
/// Adds the nl dialect and the upstream dialects nlc lowers through.
void registerAllDialects(mlir::DialectRegistry &registry);
/// Registers the nl passes and pipelines (for nl-opt and the driver).
void registerAllPasses();
} // namespace nlc

#endif // NLC_INITALL_H
