//===- NLStructureOps.cpp - Model, params, levels, states, transfers ------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// Verification of the declarative part of a model. Checks that need more
// than one op (a level's updates, `via` levels, periods across transfers,
// dependency cycles) live in ModelOp::verifyRegions.
//
//===----------------------------------------------------------------------===//

#include "nl/IR/NLDependencies.h"
#include "nl/IR/NLOps.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace mlir::nl;

namespace {
/// Verifies an optional initializer `init` of a value of type `type`.
LogicalResult verifyInitializer(Operation *op, StringRef what, StringRef name,
                                Type type, InitializerAttrInterface init) {
  if (!init)
    return op->emitOpError()
           << what << " @" << name
           << " has no initializer; add one, e.g. '= #nl.zeros', "
              "'= #nl.normal<std = 0.02>' or '= #nl.from_file<\"name\">'";
  return init.verifyFor(type, [&] { return op->emitOpError(); });
}
} // namespace

//===----------------------------------------------------------------------===//
// ModelOp
//===----------------------------------------------------------------------===//

StepOp ModelOp::getStep() {
  auto steps = getBody().getOps<StepOp>();
  return steps.empty() ? StepOp() : *steps.begin();
}

ChunkStepOp ModelOp::getChunkStep() {
  auto steps = getBody().getOps<ChunkStepOp>();
  return steps.empty() ? ChunkStepOp() : *steps.begin();
}

BackwardStepOp ModelOp::getBackwardStep() {
  auto steps = getBody().getOps<BackwardStepOp>();
  return steps.empty() ? BackwardStepOp() : *steps.begin();
}

LevelOp ModelOp::lookupLevel(StringRef name) {
  return dyn_cast_or_null<LevelOp>(
      ::mlir::SymbolTable::lookupSymbolIn(getOperation(), name));
}

namespace {
std::string periodStr(PeriodAttr period) {
  std::string s;
  llvm::raw_string_ostream os(s);
  period.printBare(os);
  return s;
}

/// Checks the levels named in `level`'s `via`: they exist, are distinct
/// optimizer levels of the same period whose memory has the served memory's
/// shape, and serve no other level.
LogicalResult verifyVia(ModelOp model, LevelOp level,
                        llvm::DenseMap<StringRef, LevelOp> &servedBy) {
  RuleAttr rule = level.getRuleAttr();
  if (!rule)
    return success();
  StateOp memory = level.getMemory();
  SmallVector<FlatSymbolRefAttr> via = rule.getViaLevels();
  for (auto [i, ref] : llvm::enumerate(via))
    if (llvm::is_contained(ArrayRef(via).take_front(i), ref))
      return level.emitOpError() << "'via' names " << ref
                                 << " twice; each memory of the algorithm is "
                                    "its own level";
  for (FlatSymbolRefAttr ref : via) {
    LevelOp opt = model.lookupLevel(ref.getValue());
    if (!opt)
      return level.emitOpError()
             << "'via' names " << ref << ", which is not a level of this model";
    auto [it, inserted] = servedBy.try_emplace(opt.getSymName(), level);
    if (!inserted) {
      InFlightDiagnostic diag = level.emitOpError()
                                << "level " << ref << " already serves @"
                                << it->second.getSymName()
                                << "; an optimizer level serves one level";
      diag.attachNote(it->second.getLoc()) << "first use here";
      return diag;
    }
    // M3's slow momentum (its third level) runs at a multiple of the served
    // period; every other optimizer level updates with the level it serves.
    if (opt.getPhase() != level.getPhase()) {
      InFlightDiagnostic diag = level.emitOpError()
                                << "optimizer level " << ref << " learns "
                                << stringifyPhase(opt.getPhase())
                                << " but serves a level that learns "
                                << stringifyPhase(level.getPhase());
      diag.attachNote(opt.getLoc()) << ref << " is declared here";
      return diag;
    }
    bool slowM3 = rule.getAlgorithm() == Algorithm::m3 && ref == via.back();
    if (slowM3) {
      PeriodAttr fast = level.getPeriod(), slow = opt.getPeriod();
      bool bothFrozen = fast.isFrozen() && slow.isFrozen();
      if (!bothFrozen && (!fast.isChunk() || !slow.isChunk() ||
                          slow.getValue() % fast.getValue() != 0)) {
        InFlightDiagnostic diag =
            level.emitOpError()
            << "the slow momentum " << ref << " of 'm3' has period "
            << periodStr(slow) << ", which must be a multiple of the period "
            << periodStr(fast) << " of the level it serves";
        diag.attachNote(opt.getLoc()) << ref << " is declared here";
        return diag;
      }
    } else if (opt.getPeriod() != level.getPeriod()) {
      InFlightDiagnostic diag =
          level.emitOpError()
          << "optimizer level " << ref << " has period "
          << periodStr(opt.getPeriod()) << " but serves a level of period "
          << periodStr(level.getPeriod()) << "; the two must update together";
      diag.attachNote(opt.getLoc()) << ref << " is declared here";
      return diag;
    }
    StateOp optMemory = opt.getMemory();
    if (memory && optMemory && optMemory.getType() != memory.getType()) {
      InFlightDiagnostic diag = level.emitOpError()
                                << "optimizer level " << ref << " holds "
                                << optMemory.getType()
                                << " but must hold the shape of the memory it "
                                   "serves, "
                                << memory.getType();
      diag.attachNote(opt.getLoc()) << ref << " is declared here";
      return diag;
    }
    RuleAttr optRule = opt.getRuleAttr();
    if (optRule && optRule.getObjective() != Objective::linear) {
      InFlightDiagnostic diag = level.emitOpError()
                                << "optimizer level " << ref
                                << " takes a gradient as its context, so its "
                                   "objective must be 'linear', not '"
                                << stringifyObjective(optRule.getObjective())
                                << "'";
      diag.attachNote(opt.getLoc()) << ref << " is declared here";
      return diag;
    }
  }
  return success();
}
} // namespace

LogicalResult ModelOp::verifyRegions() {
  // Only declarations and the step live directly in a model.
  SmallVector<StepOp> steps;
  SmallVector<ChunkStepOp> chunkSteps;
  SmallVector<BackwardStepOp> backwardSteps;
  for (Operation &op : getBody().front()) {
    if (auto step = dyn_cast<StepOp>(op)) {
      steps.push_back(step);
      continue;
    }
    if (auto chunk = dyn_cast<ChunkStepOp>(op)) {
      chunkSteps.push_back(chunk);
      continue;
    }
    if (auto backward = dyn_cast<BackwardStepOp>(op)) {
      backwardSteps.push_back(backward);
      continue;
    }
    if (!isa<ParamOp, LevelOp, TransferOp>(op))
      return op.emitOpError()
             << "cannot appear directly in an nl.model; a model holds "
                "nl.param, nl.level, nl.transfer, one nl.step and at most "
                "one nl.chunk_step and one nl.backward_step";
  }
  if (chunkSteps.size() > 1)
    return chunkSteps[1].emitOpError()
           << "is the second chunk step of model @" << getSymName()
           << "; a model has at most one";
  if (backwardSteps.size() > 1)
    return backwardSteps[1].emitOpError()
           << "is the second backward step of model @" << getSymName()
           << "; a model has at most one";
  if (steps.empty())
    return emitOpError() << "@" << getSymName()
                         << " has no nl.step; a model needs one step body";
  if (steps.size() > 1) {
    InFlightDiagnostic diag = steps[1].emitOpError()
                              << "is the second step of model @" << getSymName()
                              << "; a model has one step";
    diag.attachNote(steps[0].getLoc()) << "first step here";
    return diag;
  }

  // The chunk form returns the step's outputs for each of its tokens.
  if (!chunkSteps.empty()) {
    ChunkStepOp chunk = chunkSteps[0];
    SmallVector<Type> expected;
    for (Type t : steps[0].getOutputTypeList()) {
      SmallVector<int64_t> shape{static_cast<int64_t>(chunk.getSize())};
      llvm::append_range(shape, cast<RankedTensorType>(t).getShape());
      expected.push_back(getF32TensorType(shape, getContext()));
    }
    if (TypeRange(chunk.getOutputTypeList()) != TypeRange(expected)) {
      InFlightDiagnostic diag =
          chunk.emitOpError()
          << "must return the step's outputs with a leading dimension of "
          << chunk.getSize() << " (one row per token of the chunk)";
      diag.attachNote(steps[0].getLoc()) << "the step is here";
      return diag;
    }
  }

  // One update per level and step; every online level is updated.
  llvm::MapVector<StringRef, SmallVector<UpdateOp>> updates;
  steps[0].walk(
      [&](UpdateOp update) { updates[update.getLevel()].push_back(update); });
  for (auto &[name, list] : updates) {
    if (list.size() > 1) {
      InFlightDiagnostic diag = list[1].emitOpError()
                                << "updates level @" << name
                                << " a second time in one step";
      diag.attachNote(list[0].getLoc()) << "first update here";
      return diag;
    }
  }
  // After nl-expand-updates a level is fed by its nl.apply, and an
  // optimizer level by the level it serves.
  llvm::StringSet<> expanded;
  for (ApplyOp apply : steps[0].getBody().getOps<ApplyOp>()) {
    expanded.insert(apply.getLevel());
    if (LevelOp served = lookupLevel(apply.getLevel()))
      if (RuleAttr rule = served.getRuleAttr())
        for (FlatSymbolRefAttr ref : rule.getViaLevels())
          expanded.insert(ref.getValue());
  }
  for (LevelOp level : getLevels()) {
    if (!level.learnsOnline() || updates.count(level.getSymName()) ||
        expanded.contains(level.getSymName()))
      continue;
    InFlightDiagnostic diag = level.emitOpError();
    diag << "@" << level.getSymName()
         << " learns online but no nl.update in the step feeds it; add one, "
            "or declare it 'period frozen' or 'phase offline'";
    return diag;
  }

  // One transfer per (kind, from, to).
  llvm::DenseMap<std::tuple<unsigned, StringRef, StringRef>, TransferOp>
      transfers;
  for (TransferOp t : getTransfers()) {
    auto [it, inserted] = transfers.try_emplace(
        {static_cast<unsigned>(t.getKind()), t.getFrom(), t.getTo()}, t);
    if (!inserted) {
      InFlightDiagnostic diag =
          t.emitOpError() << "repeats the "
                          << stringifyTransferKind(t.getKind()) << " transfer @"
                          << t.getFrom() << " -> @" << t.getTo();
      diag.attachNote(it->second.getLoc()) << "first declared here";
      return diag;
    }
  }

  // Optimizer levels.
  llvm::DenseMap<StringRef, LevelOp> servedBy;
  for (LevelOp level : getLevels())
    if (failed(verifyVia(*this, level, servedBy)))
      return failure();

  // No two levels may need each other's state of the same step.
  LevelGraph graph(*this);
  SmallVector<LevelDependency> cycle = graph.findCycle();
  if (!cycle.empty()) {
    MutableArrayRef<LevelOp> levels = graph.getLevels();
    LevelOp first = levels[cycle.front().from];
    InFlightDiagnostic diag = first.emitOpError();
    diag << "dependency cycle within one time step: ";
    for (const LevelDependency &d : cycle) {
      if (d.from == d.to)
        diag << "@" << levels[d.from].getSymName()
             << " needs its own state of step t to compute it, ";
      else
        diag << "@" << levels[d.from].getSymName() << " needs @"
             << levels[d.to].getSymName() << " at step t, ";
    }
    diag << "so no update order exists";
    for (const LevelDependency &d : cycle) {
      if (isa<ReadOp>(d.witness))
        diag.attachNote(d.witness->getLoc())
            << "@" << levels[d.from].getSymName() << "'s update consumes this "
            << "read of @" << levels[d.to].getSymName()
            << ", which sees the write of the same step";
      else
        diag.attachNote(d.witness->getLoc())
            << "@" << levels[d.from].getSymName() << " applies the memory of @"
            << levels[d.to].getSymName() << " ('via')";
    }
    return diag;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// ParamOp / StateOp
//===----------------------------------------------------------------------===//

LogicalResult ParamOp::verify() {
  auto type = cast<RankedTensorType>(getType());
  if (!type.getElementType().isF32())
    return emitOpError() << "parameters are f32 tensors, got " << type;
  if (isa_and_nonnull<FromParamAttr>(getInitAttr()))
    return emitOpError() << "a parameter has an initializer of its own; "
                            "#nl.from_param initializes states";
  return verifyInitializer(*this, "parameter", getSymName(), type,
                           getInitAttr());
}

LogicalResult StateOp::verify() {
  Type type = getType();
  if (isa<KvCacheType>(type)) {
    if (getInitAttr())
      return emitOpError() << "a KV cache starts empty and takes no "
                              "initializer";
    return success();
  }
  if (auto tensor = dyn_cast<RankedTensorType>(type))
    if (!tensor.getElementType().isF32())
      return emitOpError() << "state buffers are f32 tensors, got " << type;
  if (failed(
          verifyInitializer(*this, "state", getSymName(), type, getInitAttr())))
    return failure();
  // A state that starts from a parameter needs one of its storage shape.
  if (auto from = dyn_cast<FromParamAttr>(getInitAttr())) {
    auto model = (*this)->getParentOfType<ModelOp>();
    auto param = model ? dyn_cast_or_null<ParamOp>(SymbolTable::lookupSymbolIn(
                             model, from.getParam().getAttr()))
                       : ParamOp();
    if (!param)
      return emitOpError() << "starts from " << from.getParam()
                           << ", which is not a parameter of this model";
    RankedTensorType storage = getStorageTensorType(type);
    if (!storage || storage.getShape() !=
                        cast<RankedTensorType>(param.getType()).getShape())
      return emitOpError() << "starts from parameter " << from.getParam()
                           << " of type " << param.getType()
                           << ", but its storage is "
                           << (storage ? Type(storage) : type);
  }
  return success();
}

//===----------------------------------------------------------------------===//
// LevelOp
//===----------------------------------------------------------------------===//

LevelOp LevelOp::getServedLevel() {
  auto model = (*this)->getParentOfType<ModelOp>();
  for (LevelOp other : model.getLevels())
    if (RuleAttr rule = other.getRuleAttr())
      for (FlatSymbolRefAttr ref : rule.getViaLevels())
        if (ref.getValue() == getSymName())
          return other;
  return {};
}

StateOp LevelOp::getMemory() {
  auto states = getStates();
  return states.empty() ? StateOp() : *states.begin();
}

LogicalResult LevelOp::verify() {
  SmallVector<StateOp> states;
  bool hasBookkeeping = false;
  for (Operation &op : getBody().front()) {
    auto state = dyn_cast<StateOp>(op);
    if (!state)
      return op.emitOpError() << "cannot appear in an nl.level, which holds "
                                 "only nl.state ops";
    // The bookkeeping states of the explicit-update form come last and are
    // not the rule's: accumulators and gate stashes.
    if (state.getRole()) {
      hasBookkeeping = true;
      continue;
    }
    if (hasBookkeeping)
      return state.emitOpError()
             << "follows a bookkeeping state (one with a 'role'); those come "
                "after the level's memory and buffers";
    states.push_back(state);
  }
  if (states.empty())
    return emitOpError() << "@" << getSymName()
                         << " declares no state; a level holds at least its "
                            "memory";
  StateOp memory = states.front();
  bool isCache = isa<KvCacheType>(memory.getType());
  PeriodAttr period = getPeriod();
  if (period.isInfinite() != isCache)
    return emitOpError() << (isCache ? "a KV cache level must have 'period "
                                       "inf'; it is written every token"
                                     : "'period inf' marks a non-parametric "
                                       "level, whose memory must be a "
                                       "!nl.kv_cache");
  for (StateOp state : llvm::drop_begin(states))
    if (isa<KvCacheType>(state.getType()))
      return state.emitOpError() << "a KV cache must be the only state of its "
                                    "level";
  RuleAttr rule = getRuleAttr();
  if (rule)
    for (FlatSymbolRefAttr ref : rule.getViaLevels())
      if (ref.getValue() == getSymName())
        return emitOpError() << "'via' cannot name the level itself";
  if (isCache) {
    if (rule)
      return emitOpError() << "a non-parametric level (KV cache) has no "
                              "learning rule";
    if (states.size() != 1)
      return emitOpError() << "a KV cache level holds only its cache";
    return success();
  }
  if (!rule) {
    if (period.isFrozen() || getPhase() == Phase::offline)
      return success();
    return emitOpError() << "@" << getSymName() << " has period "
                         << period.getValue()
                         << " but no learning rule; add 'rule <objective = "
                            "...>' or declare it 'period frozen'";
  }
  // Key/value objectives read the memory; they need a parametric map.
  if (rule.getObjective() != Objective::linear &&
      !isa<MatrixType, MlpType>(memory.getType()))
    return emitOpError() << "objective '"
                         << stringifyObjective(rule.getObjective())
                         << "' needs a memory (!nl.matrix or !nl.mlp), got "
                         << memory.getType();
  if (rule.getPrecondTarget() != PrecondTarget::first_layer &&
      !isa<MlpType>(memory.getType()))
    return emitOpError() << "'precond_target' chooses among the layers of an "
                            "MLP memory; @"
                         << getSymName() << " holds " << memory.getType();
  if (rule.getAlgorithm() == Algorithm::dgd &&
      !isa<MatrixType, MlpType>(memory.getType()))
    return emitOpError() << "algorithm 'dgd' needs a matrix or MLP memory";

  // A fused optimizer keeps its buffers as extra states of the memory's type.
  unsigned buffers = rule.fusedBufferCount();
  if (states.size() != 1 + buffers) {
    InFlightDiagnostic diag = emitOpError();
    diag << "@" << getSymName() << " has " << states.size()
         << " state(s) but its rule needs " << 1 + buffers;
    if (buffers)
      diag << " (the memory and " << buffers << " fused '"
           << stringifyAlgorithm(rule.getAlgorithm())
           << "' buffer(s) of the memory's type)";
    else
      diag << " (the memory); keep optimizer state in a level named by 'via'";
    return diag;
  }
  for (StateOp buffer : llvm::drop_begin(states))
    if (buffer.getType() != memory.getType())
      return buffer.emitOpError()
             << "fused '" << stringifyAlgorithm(rule.getAlgorithm())
             << "' buffer must have the memory's type " << memory.getType()
             << ", got " << buffer.getType();
  return success();
}

//===----------------------------------------------------------------------===//
// TransferOp
//===----------------------------------------------------------------------===//

LogicalResult TransferOp::verify() {
  if (getFrom() == getTo())
    return emitOpError() << "connects @" << getFrom()
                         << " to itself; a transfer joins two levels";
  if (getReset() && getKind() != TransferKind::init)
    return emitOpError() << "'reset' is only meaningful for an 'init' "
                            "transfer";
  return success();
}

LogicalResult TransferOp::verifySymbolUses(SymbolTableCollection &tables) {
  auto model = (*this)->getParentOfType<ModelOp>();
  LevelOp ends[2];
  FlatSymbolRefAttr refs[] = {getFromAttr(), getToAttr()};
  for (auto [i, ref] : llvm::enumerate(refs)) {
    ends[i] = tables.lookupSymbolIn<LevelOp>(model, ref.getAttr());
    if (!ends[i])
      return emitOpError() << "names " << ref
                           << ", which is not a level of model @"
                           << model.getSymName();
  }
  LevelOp from = ends[0], to = ends[1];
  switch (getKind()) {
  case TransferKind::init: {
    PeriodAttr outer = from.getPeriod(), inner = to.getPeriod();
    if (outer.isFrozen() || inner.isFrozen())
      return success();
    int64_t p = outer.getEffectivePeriod(), q = inner.getEffectivePeriod();
    if (p % q != 0) {
      InFlightDiagnostic diag = emitOpError();
      diag << "inner level @" << to.getSymName() << " has period " << q
           << ", which does not divide the period " << p << " of @"
           << from.getSymName() << " that initializes it";
      diag.attachNote(to.getLoc()) << "inner level declared here";
      return diag;
    }
    return success();
  }
  case TransferKind::nonparametric: {
    StateOp memory = from.getMemory();
    if (!memory || !isa<KvCacheType>(memory.getType()))
      return emitOpError() << "a nonparametric transfer reads a cache, but "
                              "@"
                           << from.getSymName()
                           << " is not a non-parametric (KV cache) level";
    return success();
  }
  case TransferKind::backprop:
    for (LevelOp level : {from, to}) {
      StateOp memory = level.getMemory();
      if (!memory || isa<KvCacheType>(memory.getType()))
        return emitOpError() << "a backprop transfer joins parametric levels; "
                                "@"
                             << level.getSymName() << " is not one";
    }
    return success();
  case TransferKind::parametric:
  case TransferKind::generation:
    return success();
  }
  llvm_unreachable("unknown transfer kind");
}
