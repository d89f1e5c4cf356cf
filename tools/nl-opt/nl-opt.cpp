//===- nl-opt.cpp - Pass driver for testing the nl dialect ----------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// mlir-opt with the nl dialect, its passes and the upstream dialects nlc
// lowers through. Used by the lit suite; users want `nlc`.
//
//===----------------------------------------------------------------------===//

#include "nlc/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  nlc::registerAllDialects(registry);
  nlc::registerAllPasses();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "nl-opt: the nl dialect's pass driver\n", registry));
}
