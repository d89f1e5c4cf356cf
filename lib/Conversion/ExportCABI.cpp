//===- ExportCABI.cpp - The C entry points of compiled models -------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "nlc/Conversion/Passes.h"

#include "nl/IR/NLAttrs.h"
#include "nl/IR/NLDialect.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"

namespace nlc {
#define GEN_PASS_DEF_NLEXPORTCABI
#include "nlc/Conversion/Passes.h.inc"
} // namespace nlc

using namespace mlir;

namespace {

struct NLExportCABIPass : public nlc::impl::NLExportCABIBase<NLExportCABIPass> {
  void runOnOperation() override;
};

/// Loads pointer `i` of the array `base` (of pointers).
Value loadPointer(OpBuilder &b, Location loc, Value base, int64_t i) {
  auto ptr = LLVM::LLVMPointerType::get(b.getContext());
  Value slot = LLVM::GEPOp::create(
      b, loc, ptr, ptr, base, ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(i)});
  return LLVM::LoadOp::create(b, loc, ptr, slot);
}

} // namespace

void NLExportCABIPass::runOnOperation() {
  ModuleOp module = getOperation();
  MLIRContext *ctx = module.getContext();
  OpBuilder b(ctx);
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  auto i64 = b.getI64Type();
  auto voidTy = LLVM::LLVMVoidType::get(ctx);

  // The chunk entries' large scratch: one copy per thread.
  module.walk([&](LLVM::GlobalOp global) {
    if (global.getSymName().starts_with(nlc::kThreadLocalScratchPrefix))
      global.setThreadLocal_(true);
  });

  SmallVector<std::pair<LLVM::LLVMFuncOp, nl::EntryPointAttr>> kernels;
  module.walk([&](LLVM::LLVMFuncOp fn) {
    if (auto entry = fn->getAttrOfType<nl::EntryPointAttr>(
            nl::NLDialect::getEntryPointAttrName()))
      kernels.push_back({fn, entry});
  });
  for (auto [kernel, entryPoint] : kernels) {
    StringRef symbol = entryPoint.getSymbol();
    int64_t numParams = entryPoint.getParams();
    int64_t numState = entryPoint.getState();
    int64_t numOutputs = entryPoint.getOutputs();
    bool isStep = entryPoint.getKind() != nl::EntryKind::flush;
    // The backward also takes the parameters' gradients, the states'
    // adjoints and the input's cotangent.
    bool isBackward = entryPoint.getKind() == nl::EntryKind::backward;
    bool takesHead = entryPoint.getHead();
    Location loc = kernel.getLoc();

    SmallVector<Type> args = {ptr, ptr};
    if (isStep)
      args.append({ptr, ptr, i64});
    args.push_back(i64);
    if (takesHead)
      args.push_back(i64);
    if (isBackward)
      args.append({ptr, ptr, ptr});
    b.setInsertionPointAfter(kernel);
    auto entry = LLVM::LLVMFuncOp::create(
        b, loc, symbol, LLVM::LLVMFunctionType::get(voidTy, args));
    Block *body = entry.addEntryBlock(b);
    b.setInsertionPointToStart(body);
    SmallVector<Value> callArgs;
    for (int64_t i = 0; i < numParams; ++i)
      callArgs.push_back(loadPointer(b, loc, body->getArgument(0), i));
    for (int64_t i = 0; i < numState; ++i)
      callArgs.push_back(loadPointer(b, loc, body->getArgument(1), i));
    unsigned next = 2;
    if (isStep) {
      callArgs.push_back(body->getArgument(next++));
      Value outputs = body->getArgument(next++);
      for (int64_t i = 0; i < numOutputs; ++i)
        callArgs.push_back(loadPointer(b, loc, outputs, i));
      callArgs.push_back(body->getArgument(next++));
    }
    callArgs.push_back(body->getArgument(next++));
    if (takesHead)
      callArgs.push_back(body->getArgument(next++));
    if (isBackward) {
      Value grads = body->getArgument(next++), adjoints = body->getArgument(next++);
      for (int64_t i = 0; i < numParams; ++i)
        callArgs.push_back(loadPointer(b, loc, grads, i));
      for (int64_t i = 0; i < numState; ++i)
        callArgs.push_back(loadPointer(b, loc, adjoints, i));
      callArgs.push_back(body->getArgument(next++));
    }
    if (callArgs.size() != kernel.getNumArguments()) {
      kernel.emitOpError() << "does not have the ABI its attributes describe";
      return signalPassFailure();
    }
    LLVM::CallOp::create(b, loc, kernel, callArgs);
    LLVM::ReturnOp::create(b, loc, ValueRange{});
    kernel.setLinkage(LLVM::Linkage::Internal);
    ++numEntryPoints;
  }
}
