//===- CPUTarget.cpp - Compiling nl models for the host CPU ---------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "nlc/Target/CPUTarget.h"

#include "mlir/ExecutionEngine/OptUtils.h"

#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"

using namespace mlir;

std::string nlc::openMPLibraryDir() {
#ifdef NLC_OPENMP_LIB_DIR
  llvm::SmallString<128> lib(NLC_OPENMP_LIB_DIR);
  llvm::sys::path::append(lib, "libomp.so");
  if (llvm::sys::fs::exists(lib))
    return NLC_OPENMP_LIB_DIR;
#endif
  return {};
}

namespace {
std::unique_ptr<llvm::TargetMachine> hostMachine(unsigned optLevel,
                                                 std::string *error) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(llvm::sys::getProcessTriple());
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, *error);
  if (!target)
    return nullptr;
  llvm::SubtargetFeatures features;
  for (const auto &f : llvm::sys::getHostCPUFeatures())
    features.AddFeature(f.getKey(), f.getValue());
  llvm::CodeGenOptLevel level =
      optLevel >= 3   ? llvm::CodeGenOptLevel::Aggressive
      : optLevel == 0 ? llvm::CodeGenOptLevel::None
                      : llvm::CodeGenOptLevel::Default;
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, llvm::sys::getHostCPUName(), features.getString(),
      llvm::TargetOptions(), llvm::Reloc::PIC_, std::nullopt, level));
  if (!tm)
    *error = "cannot create a target machine for " + triple.str();
  return tm;
}
} // namespace

std::string nlc::hostDescription() {
  return (llvm::sys::getProcessTriple() + " " + llvm::sys::getHostCPUName())
      .str();
}

std::unique_ptr<llvm::Module>
nlc::translateForHost(ModuleOp module, llvm::LLVMContext &llvmContext,
                      unsigned optLevel, std::string *error) {
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerOpenMPDialectTranslation(registry);
  module.getContext()->appendDialectRegistry(registry);
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, "nlc-model");
  if (!llvmModule) {
    *error = "translation to LLVM IR failed";
    return nullptr;
  }
  std::unique_ptr<llvm::TargetMachine> tm = hostMachine(optLevel, error);
  if (!tm)
    return nullptr;
  llvmModule->setDataLayout(tm->createDataLayout());
  llvmModule->setTargetTriple(tm->getTargetTriple());
  auto optimize = makeOptimizingTransformer(optLevel, 0, tm.get());
  if (llvm::Error err = optimize(llvmModule.get())) {
    *error = llvm::toString(std::move(err));
    return nullptr;
  }
  return llvmModule;
}

LogicalResult nlc::emitObject(llvm::Module &module, unsigned optLevel,
                              llvm::SmallVectorImpl<char> &object,
                              std::string *error) {
  std::unique_ptr<llvm::TargetMachine> tm = hostMachine(optLevel, error);
  if (!tm)
    return failure();
  llvm::raw_svector_ostream os(object);
  llvm::legacy::PassManager pm;
  if (tm->addPassesToEmitFile(pm, os, nullptr,
                              llvm::CodeGenFileType::ObjectFile)) {
    *error = "the target cannot emit object files";
    return failure();
  }
  pm.run(module);
  return success();
}

LogicalResult nlc::linkSharedLibrary(llvm::StringRef objectPath,
                                     llvm::StringRef libraryPath,
                                     llvm::StringRef openMPDir,
                                     std::string *error) {
  llvm::ErrorOr<std::string> cc = llvm::sys::findProgramByName("cc");
  if (!cc) {
    *error = "no C compiler driver ('cc') on PATH to link the shared library";
    return failure();
  }
  llvm::SmallVector<llvm::StringRef> args = {
      *cc,        "-shared", "-Wl,--no-undefined", "-o", libraryPath,
      objectPath, "-lm"};
  std::string libDir, rpath;
  if (!openMPDir.empty()) {
    libDir = ("-L" + openMPDir).str();
    rpath = ("-Wl,-rpath," + openMPDir).str();
    args.append({libDir, rpath, "-lomp"});
  }
  std::string message;
  int rc =
      llvm::sys::ExecuteAndWait(*cc, args, std::nullopt, {}, 0, 0, &message);
  if (rc != 0) {
    *error = "linking " + libraryPath.str() + " failed" +
             (message.empty() ? "" : ": " + message);
    return failure();
  }
  return success();
}
