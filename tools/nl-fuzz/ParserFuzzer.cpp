//===- ParserFuzzer.cpp - libFuzzer target for the .nl front end ----------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// Feeds arbitrary bytes through the whole front end: lexer, parser, AST
// printer, lowering to the nl dialect, the verifier and the schedule
// pipeline; then, for models that schedule, the back ends' loop passes
// (nl-to-loops with the ABI, the CPU row fusion and threading choice, the
// same after nl-chunk, the GPU mapping). Any crash, hang, sanitizer report or leak is a bug; errors
// are the expected outcome for most inputs. Built by scripts/fuzz.sh, not by
// CI.
//
//===----------------------------------------------------------------------===//

#include "nlc/Frontend/MLIRGen.h"
#include "nlc/Frontend/Parser.h"
#include "nlc/InitAll.h"
#include "nlc/Pipelines/Pipelines.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const bool registered = (nlc::registerAllPasses(), true);
  (void)registered;
  // A fresh context per input keeps runs independent (no growth of uniqued
  // attributes across inputs) at a small cost per execution.
  mlir::DialectRegistry registry;
  nlc::registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  context.printOpOnDiagnostic(false);
  mlir::ScopedDiagnosticHandler swallow(
      &context, [](mlir::Diagnostic &) { return mlir::success(); });

  llvm::SourceMgr sourceMgr;
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  unsigned id = sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(bytes, "fuzz.nl"), llvm::SMLoc());
  llvm::StringRef text = sourceMgr.getMemoryBuffer(id)->getBuffer();

  std::unique_ptr<nlc::ast::Model> ast =
      nlc::parseModel(text, [](llvm::SMLoc, const llvm::Twine &) {});
  if (!ast)
    return 0;
  std::string dump;
  llvm::raw_string_ostream os(dump);
  nlc::ast::dump(*ast, os);

  mlir::OwningOpRef<mlir::ModuleOp> module =
      nlc::lowerToNL(*ast, context, sourceMgr);
  if (!module)
    return 0;
  mlir::PassManager pm(&context, mlir::ModuleOp::getOperationName());
  nlc::buildSchedulePipeline(pm);
  if (mlir::failed(pm.run(*module)))
    return 0;

  // The back ends' loop passes, by name (as the driver builds them).
  for (const char *pipeline :
       {"nl.model(nl-expand-mlp,nl-derive-gradients),nl-to-loops,"
        "func.func(nl-fuse-rows,nl-parallelize-cpu{min-work=1})",
        "nl-split-heads,nl.model(nl-chunk{size=4},nl-expand-mlp,"
        "nl-derive-gradients),"
        "nl-to-loops,func.func(nl-fuse-rows)",
        "nl.model(nl-expand-mlp,nl-derive-gradients),nl-to-loops,"
        "nl-map-to-gpu"}) {
    mlir::OwningOpRef<mlir::ModuleOp> copy = module->clone();
    mlir::PassManager lower(&context, mlir::ModuleOp::getOperationName());
    if (mlir::succeeded(mlir::parsePassPipeline(pipeline, lower)))
      (void)lower.run(*copy);
  }
  return 0;
}
