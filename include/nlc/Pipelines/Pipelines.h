//===- Pipelines.h - nlc's pass pipelines -----------------------*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// Pipelines are library functions (the driver picks phases, nl-opt runs the
// same pipelines by name in lit tests).
//
//===----------------------------------------------------------------------===//

#ifndef NLC_PIPELINES_PIPELINES_H
#define NLC_PIPELINES_PIPELINES_H

namespace mlir {
class OpPassManager;
} // namespace mlir

namespace nlc {
/// nl (graph form) -> scheduled nl: verifies the schedule of every model and
/// annotates periods, ranks, order and the hyper-period.
void buildSchedulePipeline(mlir::OpPassManager &pm);

/// Registers the pipelines with the pass registry (`--nl-schedule-pipeline`).
void registerPipelines();
} // namespace nlc

#endif // NLC_PIPELINES_PIPELINES_H
