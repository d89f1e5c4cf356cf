//===- CPUTarget.h - Compiling nl models for the host CPU -------*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// What comes after the MLIR passes of the CPU pipeline (nlc::buildCPUPipeline,
// lib/Pipelines): LLVM IR for the host, its object file, the shared library.
//
//===----------------------------------------------------------------------===//

#ifndef NLC_TARGET_CPUTARGET_H
#define NLC_TARGET_CPUTARGET_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <memory>
#include <string>

namespace llvm {
class LLVMContext;
class Module;
} // namespace llvm

namespace nlc {

/// The directory of the libomp.so compiled models link when parallel, or
/// empty when this installation has none.
std::string openMPLibraryDir();

/// Translates an LLVM-dialect module to LLVM IR for the host, optimized at
/// `optLevel`.
std::unique_ptr<llvm::Module> translateForHost(mlir::ModuleOp module,
                                               llvm::LLVMContext &llvmContext,
                                               unsigned optLevel,
                                               std::string *error);

/// The host CPU name and features the code is compiled for.
std::string hostDescription();

/// Emits an object file for the host.
mlir::LogicalResult emitObject(llvm::Module &module, unsigned optLevel,
                               llvm::SmallVectorImpl<char> &object,
                               std::string *error);

/// Links `objectPath` into the shared library `libraryPath` with the
/// system's C compiler driver (`cc -shared`), and libomp from `openMPDir`
/// when that is not empty.
mlir::LogicalResult linkSharedLibrary(llvm::StringRef objectPath,
                                      llvm::StringRef libraryPath,
                                      llvm::StringRef openMPDir,
                                      std::string *error);

} // namespace nlc

#endif // NLC_TARGET_CPUTARGET_H
