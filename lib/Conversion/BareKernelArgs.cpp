//===- BareKernelArgs.cpp - One pointer per kernel buffer -----------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// Upstream's bare-pointer calling convention needs static shapes; nlc's
// kernel buffers hold B streams (B known at launch only), so they are
// memref<?xi8> in the gpu dialect and are narrowed to a pointer here, after
// the lowering to LLVM.
//
//===----------------------------------------------------------------------===//

#include "nlc/Conversion/Passes.h"

#include "mlir/IR/Builders.h"

namespace nlc {
#define GEN_PASS_DEF_NLBAREKERNELARGS
#include "nlc/Conversion/Passes.h.inc"
} // namespace nlc

using namespace mlir;

namespace {

struct BareKernelArgsPass
    : public nlc::impl::NLBareKernelArgsBase<BareKernelArgsPass> {
  void runOnOperation() override;
};

/// The descriptor of a 1-D memref, as convert-gpu-to-nvvm expands it.
constexpr unsigned kDescriptorArgs =
    5; // allocated, aligned, offset, size, stride

LogicalResult narrow(LLVM::LLVMFuncOp fn, ArrayRef<bool> buffers) {
  if (fn.isExternal())
    return success();
  Block &entry = fn.getBody().front();
  unsigned expected = 0;
  for (bool b : buffers)
    expected += b ? kDescriptorArgs : 1;
  if (entry.getNumArguments() != expected)
    return fn.emitOpError()
           << "has " << entry.getNumArguments()
           << " arguments; its nl.kernel buffer_args describe " << expected;
  OpBuilder b(fn.getContext());
  b.setInsertionPointToStart(&entry);
  Location loc = fn.getLoc();
  auto ptr = LLVM::LLVMPointerType::get(fn.getContext());
  Value zero = LLVM::ConstantOp::create(b, loc, b.getI64Type(), 0);
  Value one = LLVM::ConstantOp::create(b, loc, b.getI64Type(), 1);
  SmallVector<Type> types;
  unsigned at = 0;
  for (bool isBuffer : buffers) {
    if (!isBuffer) {
      types.push_back(entry.getArgument(at).getType());
      ++at;
      continue;
    }
    for (unsigned i = 0; i < kDescriptorArgs; ++i)
      if (i < 2
              ? !isa<LLVM::LLVMPointerType>(entry.getArgument(at + i).getType())
              : !entry.getArgument(at + i).getType().isInteger(64))
        return fn.emitOpError() << "argument " << at + i
                                << " is not part of a 1-D memref descriptor";
    Value p = entry.addArgument(ptr, loc);
    entry.getArgument(at).replaceAllUsesWith(p);
    entry.getArgument(at + 1).replaceAllUsesWith(p);
    entry.getArgument(at + 2).replaceAllUsesWith(zero);
    entry.getArgument(at + 3).replaceAllUsesWith(zero); // never read
    entry.getArgument(at + 4).replaceAllUsesWith(one);
    types.push_back(ptr);
    at += kDescriptorArgs;
  }
  // The new pointers were appended: move each into its buffer's place by
  // keeping scalars where they are and erasing the expanded groups.
  SmallVector<Value> order;
  unsigned appended = expected;
  at = 0;
  for (bool isBuffer : buffers) {
    if (isBuffer) {
      order.push_back(entry.getArgument(appended++));
      at += kDescriptorArgs;
    } else {
      order.push_back(entry.getArgument(at++));
    }
  }
  // Rebuild the argument list in ABI order: add fresh arguments in order,
  // forward every old one to its replacement, then drop the old ones.
  unsigned old = entry.getNumArguments();
  for (Value v : order) {
    Value fresh = entry.addArgument(v.getType(), loc);
    v.replaceAllUsesWith(fresh);
  }
  entry.eraseArguments(0, old);
  fn.setFunctionType(LLVM::LLVMFunctionType::get(
      LLVM::LLVMVoidType::get(fn.getContext()), types));
  // Argument attributes described the expanded arguments.
  fn.removeArgAttrsAttr();
  return success();
}

void BareKernelArgsPass::runOnOperation() {
  WalkResult r = getOperation().walk([](LLVM::LLVMFuncOp fn) {
    StringRef name = nl::NLDialect::getKernelAttrName();
    auto kernel = fn->getAttrOfType<nl::KernelAttr>(name);
    if (!kernel || kernel.getBufferArgs().empty())
      return WalkResult::advance();
    if (failed(narrow(fn, kernel.getBufferArgs())))
      return WalkResult::interrupt();
    // The arguments are bare pointers now; the launch facts stay.
    fn->setAttr(name, nl::KernelAttr::get(fn.getContext(), kernel.getKind(),
                                          kernel.getBlockSize(),
                                          kernel.getScratchBytes(), {}));
    return WalkResult::advance();
  });
  if (r.wasInterrupted())
    signalPassFailure();
}

} // namespace
