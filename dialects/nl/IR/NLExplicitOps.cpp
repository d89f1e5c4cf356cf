//===- NLExplicitOps.cpp - The explicit-update form's ops -----------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// nl.load / nl.store address one state of a level; nl.learn / nl.apply hold
// a level's contribution of one token and its update at a fire. Together
// with the compute ops they spell out every learning rule as dataflow
// (nl-expand-updates writes them).
//
//===----------------------------------------------------------------------===//

#include "nl/IR/NLOps.h"
#include "nl/IR/NLTypes.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::nl;

RankedTensorType mlir::nl::lookupStateStorage(Operation *op,
                                              SymbolRefAttr ref,
                                              SymbolTableCollection &tables) {
  ArrayRef<FlatSymbolRefAttr> nested = ref.getNestedReferences();
  if (nested.empty() || nested.size() > 2) {
    op->emitOpError() << "names a state as @level::@state (or "
                         "@level::@state::@part), got "
                      << ref;
    return {};
  }
  LevelOp level = lookupLevelFor(
      op, FlatSymbolRefAttr::get(ref.getRootReference()), tables);
  if (!level)
    return {};
  StateOp state;
  for (StateOp s : level.getStates())
    if (s.getSymName() == nested[0].getValue())
      state = s;
  if (!state) {
    op->emitOpError() << "names no state of level @" << level.getSymName()
                      << ": " << nested[0];
    return {};
  }
  if (auto mlp = dyn_cast<MlpType>(state.getType())) {
    if (nested.size() == 2)
      for (const MlpType::Part &p : mlp.getParts())
        if (p.name == nested[1].getValue())
          return getF32TensorType(p.shape, op->getContext());
    op->emitOpError() << "addresses the MLP memory @" << state.getSymName()
                      << " of @" << level.getSymName()
                      << " as a whole; name one stored tensor "
                         "(@level::@state::@w0, ...)";
    return {};
  }
  RankedTensorType storage = getStorageTensorType(state.getType());
  if (isa<KvCacheType>(state.getType()) || !storage || nested.size() != 1) {
    op->emitOpError() << "addresses " << ref << " of type " << state.getType()
                      << "; loads and stores take matrix memories, tensor "
                         "buffers and the stored tensors of MLP memories";
    return {};
  }
  return storage;
}

static LogicalResult checkStorage(Operation *op, SymbolRefAttr ref, Type type,
                                  SymbolTableCollection &tables) {
  RankedTensorType storage = lookupStateStorage(op, ref, tables);
  if (!storage)
    return failure();
  if (storage != type)
    return op->emitOpError()
           << ref << " is stored as " << storage << ", not " << type;
  return success();
}

LogicalResult LoadOp::verifySymbolUses(SymbolTableCollection &tables) {
  return checkStorage(*this, getState(), getResult().getType(), tables);
}

LogicalResult StoreOp::verifySymbolUses(SymbolTableCollection &tables) {
  if (failed(checkStorage(*this, getState(), getValue().getType(), tables)))
    return failure();
  // Inside the learn/apply region of the state's level or of a level it
  // keeps the optimizer memory of.
  Operation *guard = (*this)->getParentOp();
  while (guard && !isa<LearnOp, ApplyOp>(guard))
    guard = guard->getParentOp();
  if (!guard)
    return emitOpError() << "stores outside nl.learn and nl.apply";
  StringRef owner = isa<LearnOp>(guard) ? cast<LearnOp>(guard).getLevel()
                                        : cast<ApplyOp>(guard).getLevel();
  if (owner == getLevelName())
    return success();
  LevelOp level = lookupLevelFor(
      *this, FlatSymbolRefAttr::get(getContext(), owner), tables);
  if (level && level.getRuleAttr())
    for (FlatSymbolRefAttr ref : level.getRuleAttr().getViaLevels())
      if (ref.getValue() == getLevelName())
        return success();
  return emitOpError() << "stores a state of @" << getLevelName()
                       << " in the update of @" << owner
                       << ", which does not keep its optimizer memory there";
}

/// One learn and one apply per level, the apply after the learn.
template <typename Guard>
static LogicalResult verifyGuard(Guard op, SymbolTableCollection &tables) {
  LevelOp level = lookupLevelFor(op, op.getLevelAttr(), tables);
  if (!level)
    return failure();
  for (Operation &other : *op->getBlock()) {
    if (&other == op.getOperation())
      break;
    if (auto same = dyn_cast<Guard>(other);
        same && same.getLevel() == op.getLevel()) {
      InFlightDiagnostic diag = op.emitOpError()
                                << "repeats the " << op->getName()
                                << " of level @" << op.getLevel();
      diag.attachNote(same.getLoc()) << "first here";
      return diag;
    }
  }
  return success();
}

LogicalResult LearnOp::verifySymbolUses(SymbolTableCollection &tables) {
  return verifyGuard(*this, tables);
}

LogicalResult ApplyOp::verifySymbolUses(SymbolTableCollection &tables) {
  if (failed(verifyGuard(*this, tables)))
    return failure();
  for (Operation *op = (*this)->getNextNode(); op; op = op->getNextNode())
    if (auto learn = dyn_cast<LearnOp>(op);
        learn && learn.getLevel() == getLevel()) {
      InFlightDiagnostic diag =
          emitOpError() << "precedes the nl.learn of level @" << getLevel();
      diag.attachNote(learn.getLoc()) << "the learn is here";
      return diag;
    }
  // A level with a pending chunk applies it in the flush entry too, where
  // no value of the step exists.
  LevelOp level = lookupLevelFor(*this, getLevelAttr(), tables);
  PeriodAttr period = level.getPeriod();
  if (period.isInfinite() || period.isFrozen() || period.getValue() <= 1)
    return success();
  WalkResult walk = getBody().walk([&](Operation *inner) {
    for (Value v : inner->getOperands())
      if (!getBody().isAncestor(v.getParentRegion())) {
        InFlightDiagnostic diag =
            inner->emitOpError()
            << "in the apply of @" << getLevel() << " (period "
            << period.getValue()
            << ") uses a value of the step; a pending chunk is also "
               "applied by the flush entry, so the apply reads states only";
        if (Operation *def = v.getDefiningOp())
          diag.attachNote(def->getLoc()) << "the value is defined here";
        return WalkResult::interrupt();
      }
    return WalkResult::advance();
  });
  return failure(walk.wasInterrupted());
}
