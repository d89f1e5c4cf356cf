//===- InitAll.cpp - Register everything nlc's tools use ------------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "nlc/InitAll.h"

#include "nl/IR/NLDialect.h"
#include "nl/Transforms/Passes.h"
#include "nlc/ABI/ModelABI.h"
#include "nlc/Conversion/Passes.h"
#include "nlc/Pipelines/Pipelines.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"

void nlc::registerAllDialects(mlir::DialectRegistry &registry) {
  registry.insert<mlir::nl::NLDialect, mlir::arith::ArithDialect,
                  mlir::LLVM::LLVMDialect, mlir::func::FuncDialect,
                  mlir::linalg::LinalgDialect, mlir::math::MathDialect,
                  mlir::memref::MemRefDialect, mlir::scf::SCFDialect,
                  mlir::tensor::TensorDialect, mlir::gpu::GPUDialect,
                  mlir::NVVM::NVVMDialect>();
  // The CUDA target: #nvvm.target serializes gpu.modules to PTX through
  // LLVM's NVPTX back end.
  mlir::NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerGPUDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
  mlir::registerNVVMDialectTranslation(registry);
  // ConvertToLLVM interfaces of the dialects above (convert-gpu-to-nvvm
  // lowers arith, cf, memref inside kernels through them).
  mlir::registerAllExtensions(registry);
  // The layout of compiled models' tensors, which nl-split-heads checks
  // the model of one head against.
  nlc::registerModelLayout(registry);
}

void nlc::registerAllPasses() {
  mlir::nl::registerNLPasses();
  nlc::registerNLCConversionPasses();
  nlc::registerPipelines();
  // The upstream passes the CPU/CUDA pipelines are built from (by name).
  mlir::registerAllPasses();
}
