//===- MapToGPU.cpp - Loop form of a model to GPU kernels -----------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// One thread block runs one stream through every token of a call. Within a
// token, the loop form is a sequence of phases; each `scf.parallel` becomes
// a block-strided loop fenced by barriers, writes outside parallel loops run
// on thread 0, and the rest is computed redundantly by every thread (so
// scalars such as norms and gates need no broadcast). See Passes.td for the
// kernel ABI.
//
//===----------------------------------------------------------------------===//

#include "LoopNest.h"
#include "nlc/Conversion/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/ScopeExit.h"

namespace nlc {
#define GEN_PASS_DEF_NLMAPTOGPU
#include "nlc/Conversion/Passes.h.inc"
} // namespace nlc

using namespace mlir;

namespace {

/// Whether `op` or an op nested in it may write memory (unknown effects
/// count as writes).
bool mayWrite(Operation *op) {
  WalkResult r = op->walk([](Operation *nested) {
    if (auto effects = dyn_cast<MemoryEffectOpInterface>(nested)) {
      if (effects.hasEffect<MemoryEffects::Write>() ||
          effects.hasEffect<MemoryEffects::Free>())
        return WalkResult::interrupt();
      return WalkResult::advance();
    }
    if (nested->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
      return WalkResult::advance();
    return WalkResult::interrupt();
  });
  return r.wasInterrupted();
}

/// Whether `op` contains an scf.parallel (and so needs the whole block).
bool containsParallel(Operation *op) {
  WalkResult r =
      op->walk([](scf::ParallelOp) { return WalkResult::interrupt(); });
  return r.wasInterrupted();
}

int64_t alignTo(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

/// Builds the body of one kernel from the body of one loop-form function.
class KernelBody {
public:
  KernelBody(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  /// Emits the ops of `src` (its terminator excluded) at the insertion point.
  LogicalResult emitOps(Block &src, IRMapping &map);

  Value tid, ntid;
  /// Map loops with reductions or nested parallel loops a warp per
  /// iteration (needs a block size that is a multiple of the warp).
  bool warpRows = true;
  /// What was made, for the pass statistics.
  int64_t threadLoops = 0, warpLoops = 0, serialRegions = 0, barriers = 0;

private:
  LogicalResult emitParallel(scf::ParallelOp par, IRMapping &map);
  /// Runs `body` for the iterations first, first + stride, ... of `par`'s
  /// linearized space, with its induction variables mapped.
  void distribute(scf::ParallelOp par, IRMapping &map, Value first,
                  Value stride, function_ref<void()> body);
  void cloneBody(Block &body, IRMapping &map);
  bool warpMappable(scf::ParallelOp par);
  void emitWarpBody(Block &body, IRMapping &map);
  LogicalResult emitUniform(Operation *op, IRMapping &map);
  LogicalResult flushSerial(IRMapping &map);
  void barrier() {
    if (lastWasBarrier)
      return;
    gpu::BarrierOp::create(b, loc);
    lastWasBarrier = true;
    ++barriers;
  }
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }

  static constexpr int64_t kWarp = 32;
  OpBuilder &b;
  Location loc;
  Value lane;                      // tid % 32, in a warp-mapped loop
  SmallVector<Operation *> serial; // consecutive writes, for thread 0
  bool lastWasBarrier = false;
};

LogicalResult KernelBody::emitOps(Block &src, IRMapping &map) {
  lastWasBarrier = false;
  for (Operation &op : src.without_terminator()) {
    if (isa<memref::AllocaOp>(op))
      continue; // mapped to scratch views by the caller
    if (auto par = dyn_cast<scf::ParallelOp>(op)) {
      if (failed(flushSerial(map)) || failed(emitParallel(par, map)))
        return failure();
      continue;
    }
    if (op.getNumRegions() && containsParallel(&op)) {
      if (failed(flushSerial(map)) || failed(emitUniform(&op, map)))
        return failure();
      continue;
    }
    if (mayWrite(&op)) {
      serial.push_back(&op);
      continue;
    }
    // Computed by every thread. A read must see the pending writes (close
    // the serial region first); so must a use of a value of a pending
    // serial op, which lives on thread 0 alone (flushSerial reports it).
    bool usesSerial = llvm::any_of(op.getOperands(), [&](Value v) {
      return llvm::is_contained(serial, v.getDefiningOp());
    });
    if ((usesSerial || !isMemoryEffectFree(&op)) && failed(flushSerial(map)))
      return failure();
    b.clone(op, map);
    lastWasBarrier = false;
  }
  return flushSerial(map);
}

LogicalResult KernelBody::flushSerial(IRMapping &map) {
  if (serial.empty())
    return success();
  for (Operation *op : serial)
    for (Value r : op->getResults())
      for (Operation *user : r.getUsers())
        if (!llvm::is_contained(serial, user))
          return op->emitOpError()
                 << "writes memory and produces a value used by every "
                    "thread; the GPU mapping runs such ops on one thread";
  barrier();
  Value first =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid, idx(0));
  auto ifFirst = scf::IfOp::create(b, loc, first, /*withElseRegion=*/false);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifFirst.getThenRegion().front());
    for (Operation *op : serial)
      b.clone(*op, map);
  }
  serial.clear();
  lastWasBarrier = false;
  ++serialRegions;
  barrier();
  return success();
}

void KernelBody::distribute(scf::ParallelOp par, IRMapping &map, Value first,
                            Value stride, function_ref<void()> body) {
  // Trip counts, and their product: the linearized iteration space.
  SmallVector<Value> counts;
  Value total = idx(1);
  for (auto [lb, ub, step] :
       llvm::zip(par.getLowerBound(), par.getUpperBound(), par.getStep())) {
    Value l = map.lookupOrDefault(lb), u = map.lookupOrDefault(ub),
          s = map.lookupOrDefault(step);
    Value span = arith::SubIOp::create(b, loc, u, l);
    Value n = arith::CeilDivSIOp::create(b, loc, span, s);
    counts.push_back(n);
    total = arith::MulIOp::create(b, loc, total, n);
  }
  auto loop = scf::ForOp::create(b, loc, first, total, stride);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value rest = loop.getInductionVar();
  SmallVector<Value> ivs(counts.size());
  for (int d = counts.size() - 1; d >= 0; --d) {
    Value c = d ? Value(arith::RemSIOp::create(b, loc, rest, counts[d])) : rest;
    if (d)
      rest = arith::DivSIOp::create(b, loc, rest, counts[d]);
    Value scaled =
        arith::MulIOp::create(b, loc, c, map.lookupOrDefault(par.getStep()[d]));
    ivs[d] = arith::AddIOp::create(
        b, loc, map.lookupOrDefault(par.getLowerBound()[d]), scaled);
  }
  for (auto [old, iv] : llvm::zip(par.getInductionVars(), ivs))
    map.map(old, iv);
  body();
}

void KernelBody::cloneBody(Block &body, IRMapping &map) {
  for (Operation &op : body.without_terminator())
    b.clone(op, map);
}

LogicalResult KernelBody::emitParallel(scf::ParallelOp par, IRMapping &map) {
  if (par.getNumResults())
    return par.emitOpError() << "with reductions is not mapped to the GPU";
  barrier();
  if (warpRows && warpMappable(par)) {
    // A warp per iteration, its lanes over the inner loops.
    Value warpSize = idx(kWarp);
    Value warp = arith::DivUIOp::create(b, loc, tid, warpSize);
    Value warps = arith::DivUIOp::create(b, loc, ntid, warpSize);
    lane = arith::RemUIOp::create(b, loc, tid, warpSize);
    distribute(par, map, warp, warps,
               [&] { emitWarpBody(*par.getBody(), map); });
    ++warpLoops;
  } else {
    distribute(par, map, tid, ntid, [&] { cloneBody(*par.getBody(), map); });
    ++threadLoops;
  }
  lastWasBarrier = false;
  barrier();
  return success();
}

//===----------------------------------------------------------------------===//
// Warp mapping: the iterations of a parallel loop over warps, and within
// one iteration, its reductions and nested parallel loops over the lanes.
// Consecutive lanes then read consecutive elements of a memory row
// (coalesced), where a thread per row reads a row alone.
//===----------------------------------------------------------------------===//

/// `acc = init; for j: acc = acc + f(j)` with f free of writes: the loop
/// whose terms the lanes can split and sum with shuffles.
static bool isSumLoop(Operation *op) {
  auto loop = dyn_cast<scf::ForOp>(op);
  if (!loop || loop.getNumRegionIterArgs() != 1 ||
      !loop.getRegionIterArgs()[0].getType().isF32() || mayWrite(loop))
    return false;
  Value acc = loop.getRegionIterArgs()[0];
  auto yield = cast<scf::YieldOp>(loop.getBody()->getTerminator());
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add || !acc.hasOneUse() || *acc.getUsers().begin() != add)
    return false;
  return add.getLhs() == acc || add.getRhs() == acc;
}

bool KernelBody::warpMappable(scf::ParallelOp par) {
  Block &body = *par.getBody();
  bool worthIt = false;
  for (Operation &op : body.without_terminator()) {
    if (isSumLoop(&op) || isa<scf::ParallelOp>(op))
      worthIt = true;
    // Lane 0 alone runs other writes; their results would live there only.
    else if (mayWrite(&op) && op.getNumResults())
      return false;
  }
  if (!worthIt)
    return false;
  // Lanes synchronize nowhere inside an iteration, so a buffer written in
  // the body must be touched (read or written) only within one nested
  // parallel loop (whose iterations are independent), or written by
  // top-level stores and never read in the body.
  DenseMap<Value, Operation *> owner; // buffer -> its nested parallel loop
  DenseSet<Value> written, read;
  bool ok = true;
  body.walk([&](Operation *op) {
    Value buffer;
    bool isWrite = false;
    if (auto store = dyn_cast<memref::StoreOp>(op)) {
      buffer = store.getMemRef();
      isWrite = true;
    } else if (auto load = dyn_cast<memref::LoadOp>(op)) {
      buffer = load.getMemRef();
    } else {
      if (mayWrite(op) && op->getNumRegions() == 0)
        ok = false; // a write the analysis does not know
      return;
    }
    buffer = nlc::viewSource(buffer);
    (isWrite ? written : read).insert(buffer);
    Operation *nested = op->getParentOfType<scf::ParallelOp>();
    if (nested == par.getOperation())
      nested = nullptr;
    auto [it, inserted] = owner.try_emplace(buffer, nested);
    if (!inserted && it->second != nested)
      it->second = par.getOperation(); // touched in two places
  });
  if (!ok)
    return false;
  for (Value buffer : written) {
    Operation *where = owner.lookup(buffer);
    if (where == par.getOperation())
      return false;
    if (!where && read.contains(buffer))
      return false;
  }
  return true;
}

void KernelBody::emitWarpBody(Block &body, IRMapping &map) {
  for (Operation &op : body.without_terminator()) {
    if (isSumLoop(&op)) {
      auto loop = cast<scf::ForOp>(op);
      Value step = map.lookupOrDefault(loop.getStep());
      Value first = arith::AddIOp::create(
          b, loc, map.lookupOrDefault(loop.getLowerBound()),
          arith::MulIOp::create(b, loc, lane, step));
      Value stride = arith::MulIOp::create(b, loc, step, idx(kWarp));
      Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0));
      auto part = scf::ForOp::create(
          b, loc, first, map.lookupOrDefault(loop.getUpperBound()), stride,
          ValueRange{zero},
          [&](OpBuilder &, Location, Value j, ValueRange acc) {
            map.map(loop.getInductionVar(), j);
            map.map(loop.getRegionIterArgs()[0], acc[0]);
            cloneBody(*loop.getBody(), map);
            scf::YieldOp::create(
                b, loc,
                map.lookupOrDefault(
                    loop.getBody()->getTerminator()->getOperand(0)));
          });
      // Butterfly: every lane ends with the sum of all lanes' parts.
      Value sum = part.getResult(0);
      Value width =
          arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(kWarp));
      for (int offset = kWarp / 2; offset > 0; offset /= 2) {
        Value o =
            arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(offset));
        Value other =
            gpu::ShuffleOp::create(b, loc, sum, o, width, gpu::ShuffleMode::XOR)
                .getShuffleResult();
        sum = arith::AddFOp::create(b, loc, sum, other);
      }
      map.map(loop.getResult(0),
              arith::AddFOp::create(
                  b, loc, map.lookupOrDefault(loop.getInitArgs()[0]), sum));
    } else if (auto nested = dyn_cast<scf::ParallelOp>(op)) {
      distribute(nested, map, lane, idx(kWarp),
                 [&] { cloneBody(*nested.getBody(), map); });
    } else if (mayWrite(&op)) {
      Value first =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane, idx(0));
      auto ifFirst = scf::IfOp::create(b, loc, first, /*withElseRegion=*/false);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&ifFirst.getThenRegion().front());
      b.clone(op, map);
    } else {
      b.clone(op, map);
    }
  }
}

LogicalResult KernelBody::emitUniform(Operation *op, IRMapping &map) {
  auto mapped = [&](ValueRange values) {
    SmallVector<Value> out;
    for (Value v : values)
      out.push_back(map.lookupOrDefault(v));
    return out;
  };
  LogicalResult result = success();
  if (auto loop = dyn_cast<scf::ForOp>(op)) {
    auto copy = scf::ForOp::create(
        b, loc, map.lookupOrDefault(loop.getLowerBound()),
        map.lookupOrDefault(loop.getUpperBound()),
        map.lookupOrDefault(loop.getStep()), mapped(loop.getInitArgs()),
        [&](OpBuilder &, Location, Value iv, ValueRange iters) {
          map.map(loop.getInductionVar(), iv);
          map.map(loop.getRegionIterArgs(), iters);
          result = emitOps(*loop.getBody(), map);
          barrier(); // the next iteration may overwrite what this one read
          scf::YieldOp::create(
              b, loc, mapped(loop.getBody()->getTerminator()->getOperands()));
        });
    map.map(loop.getResults(), copy.getResults());
  } else if (auto branch = dyn_cast<scf::IfOp>(op)) {
    bool hasElse = !branch.getElseRegion().empty();
    auto copy = scf::IfOp::create(b, loc, branch.getResultTypes(),
                                  map.lookupOrDefault(branch.getCondition()),
                                  /*addThenBlock=*/true, hasElse);
    auto fill = [&](Region &from, Region &to) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&to.front());
      if (succeeded(result))
        result = emitOps(from.front(), map);
      scf::YieldOp::create(b, loc,
                           mapped(from.front().getTerminator()->getOperands()));
    };
    fill(branch.getThenRegion(), copy.getThenRegion());
    if (hasElse)
      fill(branch.getElseRegion(), copy.getElseRegion());
    map.map(branch.getResults(), copy.getResults());
  } else {
    return op->emitOpError()
           << "holds a parallel loop in a region the GPU mapping does not know";
  }
  lastWasBarrier = false;
  return result;
}

class MapToGPUPass : public nlc::impl::NLMapToGPUBase<MapToGPUPass> {
public:
  using NLMapToGPUBase::NLMapToGPUBase;
  void runOnOperation() override;

private:
  LogicalResult buildKernel(func::FuncOp fn, gpu::GPUModuleOp into);
};

LogicalResult MapToGPUPass::buildKernel(func::FuncOp fn,
                                        gpu::GPUModuleOp into) {
  MLIRContext *ctx = fn.getContext();
  Location loc = fn.getLoc();
  auto entryPoint = fn->getAttrOfType<nl::EntryPointAttr>(
      nl::NLDialect::getEntryPointAttrName());
  int64_t numParams = entryPoint.getParams(), numState = entryPoint.getState(),
          numOutputs = entryPoint.getOutputs();
  if (entryPoint.getKind() == nl::EntryKind::chunk ||
      entryPoint.getKind() == nl::EntryKind::backward || entryPoint.getHead())
    return fn.emitOpError() << "is the entry point '" << entryPoint.getSymbol()
                            << "', which the CUDA back end does not run "
                               "(only the step and the flush)";
  unsigned tensors = numParams + numState;
  bool isStep = entryPoint.getKind() == nl::EntryKind::step;
  if (fn.getNumArguments() !=
      (isStep ? tensors + 1 + numOutputs + 2 : tensors + 1))
    return fn.emitOpError() << "does not have the arguments of its "
                            << nl::NLDialect::getEntryPointAttrName();

  // Scratch: every alloca of the entry block, 16-byte aligned.
  Block &entry = fn.getBody().front();
  SmallVector<std::pair<memref::AllocaOp, int64_t>> allocas;
  int64_t scratchBytes = 0;
  for (auto alloca : entry.getOps<memref::AllocaOp>()) {
    MemRefType t = alloca.getType();
    if (!t.hasStaticShape() || !t.getLayout().isIdentity() ||
        t.getElementTypeBitWidth() % 8)
      return alloca.emitOpError()
             << "scratch of type " << t << " is not mapped to the GPU";
    allocas.push_back({alloca, scratchBytes});
    scratchBytes = alignTo(
        scratchBytes + t.getNumElements() * t.getElementTypeBitWidth() / 8, 16);
  }
  bool shared = scratchBytes <= sharedMemoryLimit;

  OpBuilder b(ctx);
  Type i8buf = MemRefType::get({ShapedType::kDynamic}, b.getI8Type());
  Type i64 = b.getI64Type();
  SmallVector<Type> argTypes(tensors + (isStep ? 1 + numOutputs : 0), i8buf);
  if (isStep)
    argTypes.append({i64, i8buf, i64});
  else
    argTypes.push_back(i64);
  argTypes.push_back(i8buf); // scratch
  SmallVector<Type> workgroup;
  auto wgSpace = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  if (shared && scratchBytes)
    workgroup.push_back(
        MemRefType::get({scratchBytes}, b.getI8Type(), nullptr, wgSpace));

  std::string name = entryPoint.getSymbol().str() +
                     (isStep ? "s" : ""); // nl_m_steps, nl_m_flush
  b.setInsertionPointToEnd(into.getBody());
  auto kernel =
      gpu::GPUFuncOp::create(b, loc, name, FunctionType::get(ctx, argTypes, {}),
                             workgroup, TypeRange{});
  kernel->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
  kernel.setKnownBlockSizeAttr(
      b.getDenseI32ArrayAttr({int32_t(blockSize), 1, 1}));
  SmallVector<bool> isBuffer;
  for (Type t : argTypes)
    isBuffer.push_back(isa<MemRefType>(t));
  kernel->setAttr(nl::NLDialect::getKernelAttrName(),
                  nl::KernelAttr::get(ctx, entryPoint.getKind(), blockSize,
                                      shared ? 0 : scratchBytes, isBuffer));
  Block &body = kernel.getBody().front();
  b.setInsertionPointToStart(&body);

  KernelBody emit(b, loc);
  emit.warpRows = warpRows && blockSize % 32 == 0;
  llvm::scope_exit record([&] {
    numThreadLoops += emit.threadLoops;
    numWarpLoops += emit.warpLoops;
    numSerialRegions += emit.serialRegions;
    numBarriers += emit.barriers;
  });
  Value stream = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  emit.tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  emit.ntid = gpu::BlockDimOp::create(b, loc, gpu::Dimension::x);
  auto cIdx = [&](int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  // A typed view of `buffer` at element `offset` (times the type's size).
  auto view = [&](Value buffer, MemRefType type, Value elementOffset) {
    int64_t bytes = type.getElementTypeBitWidth() / 8;
    Value shift = arith::MulIOp::create(b, loc, elementOffset, cIdx(bytes));
    return memref::ViewOp::create(b, loc, type, buffer, shift, ValueRange{})
        .getResult();
  };

  IRMapping map;
  for (unsigned i = 0; i < tensors; ++i) {
    auto type = cast<MemRefType>(fn.getArgument(i).getType());
    Value offset = i < numParams
                       ? cIdx(0)
                       : Value(arith::MulIOp::create(
                             b, loc, stream, cIdx(type.getNumElements())));
    map.map(fn.getArgument(i), view(body.getArgument(i), type, offset));
  }
  Value scratchBase;
  if (shared && scratchBytes)
    scratchBase = memref::MemorySpaceCastOp::create(
        b, loc, MemRefType::get({scratchBytes}, b.getI8Type()),
        kernel.getWorkgroupAttributions()[0]);
  unsigned scratchArg = argTypes.size() - 1;
  for (auto [alloca, offset] : allocas) {
    Value at =
        shared ? cIdx(offset)
               : Value(arith::AddIOp::create(
                     b, loc,
                     arith::MulIOp::create(b, loc, stream, cIdx(scratchBytes)),
                     cIdx(offset)));
    Value base = shared ? scratchBase : body.getArgument(scratchArg);
    map.map(alloca.getResult(), memref::ViewOp::create(b, loc, alloca.getType(),
                                                       base, at, ValueRange{}));
  }

  if (!isStep) {
    map.map(fn.getArgument(tensors), body.getArgument(tensors));
    if (failed(emit.emitOps(entry, map)))
      return failure();
    gpu::ReturnOp::create(b, loc);
    ++numKernels;
    return success();
  }

  // The token loop of the steps kernel.
  unsigned xArg = tensors, activeArg = tensors + 1 + numOutputs;
  Value tokens = arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                            body.getArgument(activeArg + 2));
  auto fireType = MemRefType::get({ShapedType::kDynamic}, i64);
  Value fires =
      memref::ViewOp::create(b, loc, fireType, body.getArgument(activeArg + 1),
                             cIdx(0), ValueRange{tokens});
  LogicalResult result = success();
  scf::ForOp::create(
      b, loc, cIdx(0), tokens, cIdx(1), ValueRange{},
      [&](OpBuilder &, Location, Value t, ValueRange) {
        Value row = arith::AddIOp::create(
            b, loc, arith::MulIOp::create(b, loc, stream, tokens), t);
        for (unsigned i = 0; i <= numOutputs; ++i) {
          unsigned arg = xArg + i;
          auto type = cast<MemRefType>(fn.getArgument(arg).getType());
          Value offset =
              arith::MulIOp::create(b, loc, row, cIdx(type.getNumElements()));
          map.map(fn.getArgument(arg),
                  view(body.getArgument(arg), type, offset));
        }
        map.map(fn.getArgument(activeArg), body.getArgument(activeArg));
        map.map(fn.getArgument(activeArg + 1),
                memref::LoadOp::create(b, loc, fires, ValueRange{t}));
        result = emit.emitOps(entry, map);
        // The next token overwrites the scratch this one read.
        gpu::BarrierOp::create(b, loc);
        scf::YieldOp::create(b, loc);
      });
  if (failed(result))
    return failure();
  gpu::ReturnOp::create(b, loc);
  ++numKernels;
  return success();
}

void MapToGPUPass::runOnOperation() {
  ModuleOp module = getOperation();
  if (blockSize < 1 || blockSize > 1024) {
    module.emitError() << "block-size must be in [1, 1024], not "
                       << static_cast<int64_t>(blockSize);
    return signalPassFailure();
  }
  SmallVector<func::FuncOp> functions;
  for (auto fn : module.getOps<func::FuncOp>())
    if (fn->hasAttr(nl::NLDialect::getEntryPointAttrName())) {
      functions.push_back(fn);
      // A hint for nl-fuse-rows (CPU) only.
      for (unsigned i = 0; i < fn.getNumArguments(); ++i)
        fn.removeArgAttr(i, nl::NLDialect::getTokenScratchAttrName());
    }
  if (functions.empty())
    return;
  OpBuilder b(module.getContext());
  b.setInsertionPointToEnd(module.getBody());
  std::string name = "nl_kernels";
  if (auto entry = functions.front()->getAttrOfType<nl::EntryPointAttr>(
          nl::NLDialect::getEntryPointAttrName()))
    name = entry.getSymbol().rsplit('_').first.str() + "_kernels";
  auto gpuModule = gpu::GPUModuleOp::create(b, module.getLoc(), name);
  module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                  b.getUnitAttr());
  for (func::FuncOp fn : functions) {
    if (failed(buildKernel(fn, gpuModule)))
      return signalPassFailure();
    fn.erase();
  }
}

} // namespace
