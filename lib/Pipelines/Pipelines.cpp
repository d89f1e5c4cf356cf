//===- Pipelines.cpp - nlc's pass pipelines -------------------------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "nlc/Pipelines/Pipelines.h"

#include "nl/IR/NLOps.h"
#include "nl/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

void nlc::buildSchedulePipeline(mlir::OpPassManager &pm) {
  pm.nest<mlir::nl::ModelOp>().addPass(mlir::nl::createNLVerifySchedule());
}

void nlc::registerPipelines() {
  mlir::PassPipelineRegistration<>(
      "nl-schedule-pipeline",
      "Verify and annotate the schedule of every nl.model in a module",
      [](mlir::OpPassManager &pm) { buildSchedulePipeline(pm); });
}
