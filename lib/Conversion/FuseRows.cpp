//===- FuseRows.cpp - One loop over the rows of a memory per step ---------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "LoopNest.h"
#include "nlc/Conversion/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace nlc {
#define GEN_PASS_DEF_NLFUSEROWS
#include "nlc/Conversion/Passes.h.inc"
} // namespace nlc

using namespace mlir;

namespace {

/// A top-level parallel loop, possibly the only op of an `scf.if` without
/// else (a level's active or fire bit).
struct RowLoop {
  Operation *top = nullptr; // the op in the function's block
  scf::ParallelOp loop;
  Value cond; // null when not guarded
};

std::optional<RowLoop> asRowLoop(Operation *op) {
  if (auto par = dyn_cast<scf::ParallelOp>(op))
    if (!par.getNumResults())
      return RowLoop{op, par, Value()};
  auto branch = dyn_cast<scf::IfOp>(op);
  if (!branch || branch.getNumResults() || !branch.getElseRegion().empty())
    return std::nullopt;
  Block &then = branch.getThenRegion().front();
  if (then.getOperations().size() != 2)
    return std::nullopt;
  auto par = dyn_cast<scf::ParallelOp>(then.front());
  if (!par || par.getNumResults())
    return std::nullopt;
  return RowLoop{op, par, branch.getCondition()};
}

/// Dimension `d` of `par` as constants (lb, ub, step), if they are.
std::optional<std::array<int64_t, 3>> constDim(scf::ParallelOp par,
                                               unsigned d) {
  auto lb = getConstantIntValue(par.getLowerBound()[d]);
  auto ub = getConstantIntValue(par.getUpperBound()[d]);
  auto st = getConstantIntValue(par.getStep()[d]);
  if (!lb || !ub || !st)
    return std::nullopt;
  return std::array<int64_t, 3>{*lb, *ub, *st};
}

unsigned sharedDims(scf::ParallelOp a, scf::ParallelOp b) {
  unsigned n = 0;
  while (n < a.getNumLoops() && n < b.getNumLoops()) {
    auto da = constDim(a, n), db = constDim(b, n);
    if (!da || !db || *da != *db)
      break;
    ++n;
  }
  return n;
}

/// Whether loops `a` then `b` can share one loop over their first `n`
/// dimensions: every buffer either writes is accessed, in both, through one
/// value and at indices that start with the loop's first n induction
/// variables (so each row is touched by its own iteration only), and the
/// bodies hold no other memory effects.
bool fusable(scf::ParallelOp a, scf::ParallelOp b, unsigned n) {
  struct Access {
    Value memref;
    ValueRange indices;
    scf::ParallelOp loop;
    bool write;
  };
  SmallVector<Access> accesses;
  bool unknown = false;
  for (scf::ParallelOp loop : {a, b})
    loop.getBody()->walk([&](Operation *op) {
      if (auto load = dyn_cast<memref::LoadOp>(op))
        accesses.push_back({load.getMemRef(), load.getIndices(), loop, false});
      else if (auto store = dyn_cast<memref::StoreOp>(op))
        accesses.push_back({store.getMemRef(), store.getIndices(), loop, true});
      else if (!isMemoryEffectFree(op) &&
               !op->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
        unknown = true;
    });
  if (unknown)
    return false;
  DenseMap<Value, Value> writtenThrough; // base -> the value it is written by
  for (const Access &w : accesses)
    if (w.write)
      writtenThrough[nlc::viewSource(w.memref)] = w.memref;
  for (Access &x : accesses) {
    auto it = writtenThrough.find(nlc::viewSource(x.memref));
    if (it == writtenThrough.end())
      continue;
    if (x.memref != it->second || x.indices.size() < n)
      return false;
    for (unsigned d = 0; d < n; ++d)
      if (x.indices[d] != x.loop.getInductionVars()[d])
        return false;
  }
  return true;
}

/// Rebuilds `row` at its place as `scf.parallel` over its first n
/// dimensions, its guard inside, and its other dimensions as scf.for.
scf::ParallelOp normalize(const RowLoop &row, unsigned n) {
  scf::ParallelOp par = row.loop;
  if (!row.cond && par.getNumLoops() == n)
    return par;
  OpBuilder b(row.top);
  Location loc = par.getLoc();
  IRMapping map;
  scf::ParallelOp outer = nlc::createOuterLoop(b, par, n, map);
  if (row.cond) {
    auto guard = scf::IfOp::create(b, loc, row.cond, /*withElse=*/false);
    b.setInsertionPoint(guard.getThenRegion().front().getTerminator());
  }
  nlc::cloneAsForNest(b, par, n, map);
  row.top->erase();
  return outer;
}

/// Keeps a token-scratch argument (nl.token_scratch) as one row inside the
/// fused loop that holds all of its accesses, when each indexes it by the
/// loop's induction variables first: the row lives on the stack of one
/// iteration, so a per-token gradient is never written to
/// memory and read back.
void keepScratchInRows(func::FuncOp fn) {
  for (BlockArgument arg : fn.getArguments()) {
    if (!fn.getArgAttr(arg.getArgNumber(),
                       nl::NLDialect::getTokenScratchAttrName()))
      continue;
    fn.removeArgAttr(arg.getArgNumber(),
                     nl::NLDialect::getTokenScratchAttrName());
    auto type = dyn_cast<MemRefType>(arg.getType());
    scf::ParallelOp loop;
    bool ok = type && type.hasStaticShape() && !arg.use_empty();
    for (Operation *user : arg.getUsers()) {
      if (!ok)
        break;
      auto par = user->getParentOfType<scf::ParallelOp>();
      while (par && par->getParentOfType<scf::ParallelOp>())
        par = par->getParentOfType<scf::ParallelOp>();
      ok = par && (!loop || par == loop) &&
           par->getParentOp() == fn.getOperation() &&
           isa<memref::LoadOp, memref::StoreOp>(user);
      loop = par;
      if (!ok)
        break;
      ValueRange indices = isa<memref::LoadOp>(user)
                               ? cast<memref::LoadOp>(user).getIndices()
                               : cast<memref::StoreOp>(user).getIndices();
      unsigned n = loop.getNumLoops();
      ok = n <= indices.size();
      for (unsigned d = 0; ok && d < n; ++d)
        ok = indices[d] == loop.getInductionVars()[d];
    }
    if (!ok)
      continue;
    unsigned n = loop.getNumLoops();
    // The row on the stack of one iteration: saved and restored around
    // the body (as an alloca scope would; one that held loops would not
    // survive scf-to-cf as a single block).
    Block *body = loop.getBody();
    Location loc = loop.getLoc();
    OpBuilder b(body, body->begin());
    Value stack = LLVM::StackSaveOp::create(
        b, loc, LLVM::LLVMPointerType::get(b.getContext()));
    auto rowType =
        MemRefType::get(type.getShape().drop_front(n), type.getElementType());
    Value row = memref::AllocaOp::create(b, loc, rowType);
    b.setInsertionPoint(body->getTerminator());
    LLVM::StackRestoreOp::create(b, loc, stack);
    for (Operation *user : llvm::to_vector(arg.getUsers())) {
      OpBuilder at(user);
      if (auto load = dyn_cast<memref::LoadOp>(user)) {
        auto idx = llvm::to_vector(load.getIndices().drop_front(n));
        load.replaceAllUsesWith(
            memref::LoadOp::create(at, load.getLoc(), row, idx).getResult());
        load.erase();
      } else {
        auto store = cast<memref::StoreOp>(user);
        auto idx = llvm::to_vector(store.getIndices().drop_front(n));
        memref::StoreOp::create(at, store.getLoc(), store.getValueToStore(),
                                row, idx);
        store.erase();
      }
    }
  }
}

struct FuseRowsPass : public nlc::impl::NLFuseRowsBase<FuseRowsPass> {
  using NLFuseRowsBase::NLFuseRowsBase;
  void runOnOperation() override {
    Block &block = getOperation().getBody().front();
    std::optional<RowLoop> head;
    SmallVector<Operation *> between; // pure ops after the head
    for (Operation *op = &block.front(); op;) {
      Operation *next = op->getNextNode();
      std::optional<RowLoop> row = asRowLoop(op);
      if (row && head) {
        unsigned n = sharedDims(head->loop, row->loop);
        if (n >= minDims && n <= head->loop.getNumLoops() &&
            fusable(head->loop, row->loop, n)) {
          for (Operation *pure : between)
            pure->moveBefore(head->top);
          between.clear();
          scf::ParallelOp into = normalize(*head, n);
          scf::ParallelOp from = normalize(*row, n);
          // Append `from`'s body to `into`'s, on `into`'s induction vars.
          Block *src = from.getBody(), *dst = into.getBody();
          for (auto [o, i] :
               llvm::zip(from.getInductionVars(), into.getInductionVars()))
            o.replaceAllUsesWith(i);
          dst->getOperations().splice(dst->getTerminator()->getIterator(),
                                      src->getOperations(), src->begin(),
                                      src->getTerminator()->getIterator());
          from.erase();
          head = RowLoop{into, into, Value()};
          op = next;
          continue;
        }
      }
      if (row) {
        head = row;
        between.clear();
      } else if (head && isMemoryEffectFree(op) && op->getNumRegions() == 0) {
        between.push_back(op);
      } else {
        head.reset();
        between.clear();
      }
      op = next;
    }
    if (scratchRows)
      keepScratchInRows(getOperation());
    else
      for (unsigned i = 0; i < getOperation().getNumArguments(); ++i)
        getOperation().removeArgAttr(i,
                                     nl::NLDialect::getTokenScratchAttrName());
  }
};

} // namespace
