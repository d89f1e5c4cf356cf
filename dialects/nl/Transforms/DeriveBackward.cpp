//===- DeriveBackward.cpp - The reverse of one token of the step ----------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// From a model's step in the explicit-update form (nl-expand-updates), the
// vector-Jacobian product of one token as an nl.backward_step:
//
//  1. The forward, as dataflow. Every state a step reads or writes becomes
//     an SSA value: a load is the current value, a store replaces it, and
//     each level's nl.learn / nl.apply becomes an scf.if on nl.runs whose
//     results are the states the region writes (the states before it when
//     it does not run). A short convolution becomes slices of its history.
//     The primal state before the token is read (nl.load, nl.history) and
//     never written.
//  2. The reverse sweep, seeded with the outputs' cotangents (the
//     arguments) and the states' cotangents after the token (nl.adjoint),
//     through the VJP rules of VJPRules.cpp; an scf.if's reverse is an
//     scf.if on the same condition that recomputes the region and sweeps
//     it. It ends with the states' cotangents before the token
//     (nl.set_adjoint), the parameters' gradient increments
//     (nl.param_grad) and the inputs' cotangents (nl.yield).
//
// `write = stop_grad` (docs/ambiguities.md, A24): the increment a level's
// regions store is a constant to the outer gradient (`nl.stop_grad %new
// through %before`): no gradient reaches the write's keys, values, gates
// or step sizes, and the state before the write passes its cotangent on
// unchanged (fast state = meta + delta, so an initial state still learns).
//
//===----------------------------------------------------------------------===//

#include "nl/IR/NLTensorMath.h"
#include "nl/Transforms/Passes.h"
#include "nl/Transforms/VJPRules.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

#include <map>

namespace mlir::nl {
#define GEN_PASS_DEF_NLDERIVEBACKWARD
#include "nl/Transforms/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;

namespace {

/// A state the step reads or writes: a level's state tensor, or the
/// history of the `history`-th convolution.
struct Slot {
  SymbolRefAttr state;
  int64_t history = -1;
  RankedTensorType type;
};

/// The key of a slot in the maps below.
std::string slotKey(SymbolRefAttr state, int64_t history) {
  if (state) {
    std::string s;
    llvm::raw_string_ostream os(s);
    os << state;
    return s;
  }
  return "history " + std::to_string(history);
}

/// Whether a value of the backward body needs a cotangent: every f32
/// tensor but the constants.
bool isDifferentiable(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (!type || !type.getElementType().isF32())
    return false;
  return !v.getDefiningOp<arith::ConstantOp>();
}

/// A reverse sweep over one block of the backward body: the top level, or
/// the region of an scf.if recomputed inside its reverse.
class Sweep : public VJPSweep {
public:
  Sweep(OpBuilder &b, Location loc) : VJPSweep(b, loc) {}

  bool isActive(Value v) override { return isDifferentiable(v); }
  /// The forward values are in the body the sweep builds in (a recomputed
  /// region's clones refer to the values around them).
  Value primal(Value v) override { return v; }
  void accumulate(Value v, Value d) override {
    if (!isDifferentiable(v))
      return;
    Value &slot = adjoints[v];
    slot = slot ? binary<AddOp>(slot, d) : d;
  }
  Value adjoint(Value v) { return adjoints.lookup(v); }
  /// The cotangent of `v`, or a zero of its shape.
  Value adjointOrZero(Value v) {
    if (Value d = adjoint(v))
      return d;
    return constant(0.0, cast<RankedTensorType>(v.getType()).getShape());
  }

  /// Sweeps `ops` (of the forward, in order) in reverse. Values defined
  /// outside them collect their cotangents here too.
  LogicalResult run(ArrayRef<Operation *> ops);

private:
  LogicalResult reverseIf(scf::IfOp op);

  DenseMap<Value, Value> adjoints;
};

LogicalResult Sweep::run(ArrayRef<Operation *> ops) {
  for (Operation *op : llvm::reverse(ops)) {
    // The leaves: the primal state, parameters, masks and constants.
    if (isa<LoadOp, HistoryOp, GetParamOp, AdjointOp, RunsOp, arith::ConstantOp,
            scf::YieldOp>(op))
      continue;
    if (llvm::none_of(op->getResults(),
                      [&](Value r) { return adjoints.lookup(r); }))
      continue;
    if (auto ifOp = dyn_cast<scf::IfOp>(op)) {
      if (failed(reverseIf(ifOp)))
        return failure();
      continue;
    }
    if (op->getNumResults() != 1 || op->getNumRegions() != 0)
      return op->emitOpError()
             << "has no derivative rule for the backward of the step";
    if (failed(buildVJP(op, adjoints.lookup(op->getResult(0)), *this)))
      return failure();
  }
  return success();
}

/// The values defined outside `op` that its regions use.
llvm::SetVector<Value> capturedValues(Operation *op) {
  llvm::SetVector<Value> captured;
  op->walk([&](Operation *inner) {
    for (Value v : inner->getOperands())
      if (!op->isAncestor(v.getParentBlock()->getParentOp()))
        captured.insert(v);
  });
  return captured;
}

LogicalResult Sweep::reverseIf(scf::IfOp op) {
  // The cotangents of the values the region uses from outside it: computed
  // by recomputing the region and sweeping it where it ran, and passed
  // through from the results where it did not.
  SmallVector<Value> captured;
  for (Value v : capturedValues(op))
    if (isDifferentiable(v))
      captured.push_back(v);
  SmallVector<Type> types =
      llvm::map_to_vector(captured, [](Value v) { return v.getType(); });
  SmallVector<Value> dResults =
      llvm::map_to_vector(op.getResults(), [&](Value r) { return adjoint(r); });
  auto reverse = scf::IfOp::create(b, loc, types, op.getCondition(),
                                   /*withElseRegion=*/true);
  auto fill = [&](Block &block, Region &forward) -> LogicalResult {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&block);
    // The region's forward again, where it ran (its clones use the values
    // around the scf.if as the forward does).
    IRMapping clones;
    SmallVector<Operation *> ops;
    for (Operation &inner : forward.front())
      ops.push_back(b.clone(inner, clones));
    auto yield = cast<scf::YieldOp>(ops.back());
    ops.pop_back();
    Sweep inner(b, loc);
    for (auto [v, d] : llvm::zip(yield.getResults(), dResults))
      if (d)
        inner.accumulate(v, d);
    yield.erase();
    if (failed(inner.run(ops)))
      return failure();
    SmallVector<Value> out;
    for (Value v : captured)
      out.push_back(inner.adjointOrZero(v));
    scf::YieldOp::create(b, loc, out);
    constants.append(inner.constants.begin(), inner.constants.end());
    return success();
  };
  if (failed(fill(reverse.getThenRegion().front(), op.getThenRegion())) ||
      failed(fill(reverse.getElseRegion().front(), op.getElseRegion())))
    return failure();
  for (auto [v, d] : llvm::zip(captured, reverse.getResults()))
    accumulate(v, d);
  return success();
}

/// Writes the backward step of one model.
class BackwardWriter {
public:
  BackwardWriter(ModelOp model, int64_t checkpointEvery, int64_t truncate)
      : model(model), b(model.getContext()), checkpointEvery(checkpointEvery),
        truncate(truncate) {}
  LogicalResult run();

private:
  /// The current value of `slot` (its primal load when still unwritten).
  Value current(const Slot &slot);
  void setCurrent(const Slot &slot, Value v) {
    values[slotKey(slot.state, slot.history)] = v;
  }
  Slot slotOf(SymbolRefAttr state, Type type) {
    return {state, -1, cast<RankedTensorType>(type)};
  }

  /// The step's ops in the backward body, as dataflow.
  LogicalResult functionalize(Block &from, IRMapping &map);
  LogicalResult functionalizeRegion(Operation *guard, StringRef level,
                                    bool apply, Region &body, IRMapping &map);
  void functionalizeConv(ConvOp conv, IRMapping &map);

  ModelOp model;
  OpBuilder b;
  int64_t checkpointEvery, truncate;
  Location loc = model.getLoc();
  /// The slots by key (a deterministic order).
  std::map<std::string, Slot> slots;
  /// The current value of each slot, and its primal load.
  llvm::StringMap<Value> values, initial;
  /// The index of each convolution of the step (walk order, as the ABI).
  DenseMap<Operation *, int64_t> convIndex;
  /// The block the primal loads go to (the top of the body).
  Block *body = nullptr;
  /// Whether the level of the region being written has write = stop_grad.
  bool stopGrad = false;
};

Value BackwardWriter::current(const Slot &slot) {
  std::string key = slotKey(slot.state, slot.history);
  if (!slots.count(key))
    slots.insert({key, slot});
  if (Value v = values.lookup(key))
    return v;
  // Unwritten so far in this scope: the primal value before the token.
  if (Value v = initial.lookup(key))
    return values[key] = v;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(body);
  Value v = slot.state
                ? Value(LoadOp::create(b, loc, slot.type, slot.state))
                : Value(HistoryOp::create(b, loc, slot.type, slot.history));
  initial[key] = values[key] = v;
  return v;
}

void BackwardWriter::functionalizeConv(ConvOp conv, IRMapping &map) {
  // y = sum_i W[i] x_{t-i}; the history holds x_{t-1}, x_{t-2}, ...
  TensorMath m(b, conv.getLoc());
  Value x = map.lookup(conv.getInput()), w = map.lookup(conv.getWeight());
  auto wType = cast<RankedTensorType>(w.getType());
  int64_t width = wType.getDimSize(0);
  Value y = m.mul(m.slot(w, 0), x);
  if (width > 1) {
    Slot slot{SymbolRefAttr(), convIndex.lookup(conv),
              m.type({width - 1, wType.getDimSize(1)})};
    Value hist = current(slot);
    for (int64_t i = 1; i < width; ++i) {
      Value term = m.mul(m.slot(w, i), m.slot(hist, i - 1));
      y = m.add(y, term);
    }
    setCurrent(slot, m.pushFront(hist, x));
  }
  map.map(conv.getResult(), y);
}

LogicalResult BackwardWriter::functionalizeRegion(Operation *guard,
                                                  StringRef level, bool apply,
                                                  Region &region,
                                                  IRMapping &map) {
  // The slots the region writes are the scf.if's results.
  std::map<std::string, Slot> written;
  region.walk([&](StoreOp s) {
    Slot slot = slotOf(s.getState(), s.getValue().getType());
    written.insert({slotKey(slot.state, -1), slot});
  });
  SmallVector<Value> before;
  SmallVector<Type> types;
  for (auto &[key, slot] : written) {
    before.push_back(current(slot));
    types.push_back(slot.type);
  }
  LevelOp levelOp = model.lookupLevel(level);
  bool saved = stopGrad;
  stopGrad = levelOp && levelOp.getRuleAttr() &&
             levelOp.getRuleAttr().getWrite() == WriteMode::stop_grad;
  Value cond = RunsOp::create(b, guard->getLoc(), level, apply);
  auto ifOp = scf::IfOp::create(b, guard->getLoc(), types, cond,
                                /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    llvm::StringMap<Value> outer = values;
    if (failed(functionalize(region.front(), map)))
      return failure();
    SmallVector<Value> after;
    for (auto &[key, slot] : written)
      after.push_back(values.lookup(key));
    scf::YieldOp::create(b, guard->getLoc(), after);
    values = std::move(outer);
    b.setInsertionPointToStart(&ifOp.getElseRegion().front());
    scf::YieldOp::create(b, guard->getLoc(), before);
  }
  stopGrad = saved;
  for (auto [i, entry] : llvm::enumerate(written))
    setCurrent(entry.second, ifOp.getResult(i));
  return success();
}

LogicalResult BackwardWriter::functionalize(Block &from, IRMapping &map) {
  for (Operation &op : from) {
    if (isa<YieldOp>(op))
      continue;
    if (auto load = dyn_cast<LoadOp>(op)) {
      map.map(load.getResult(),
              current(slotOf(load.getState(), load.getType())));
      continue;
    }
    if (auto store = dyn_cast<StoreOp>(op)) {
      Value v = map.lookup(store.getValue());
      Slot slot = slotOf(store.getState(), v.getType());
      // A write of a stop_grad level: its increment is a constant to the
      // outer gradient; the state before it passes its cotangent on.
      if (stopGrad && isDifferentiable(v))
        v = StopGradOp::create(b, store.getLoc(), v, current(slot));
      setCurrent(slot, v);
      continue;
    }
    if (auto learn = dyn_cast<LearnOp>(op)) {
      if (failed(functionalizeRegion(learn, learn.getLevel(), false,
                                     learn.getBody(), map)))
        return failure();
      continue;
    }
    if (auto apply = dyn_cast<ApplyOp>(op)) {
      if (failed(functionalizeRegion(apply, apply.getLevel(), true,
                                     apply.getBody(), map)))
        return failure();
      continue;
    }
    if (auto conv = dyn_cast<ConvOp>(op)) {
      functionalizeConv(conv, map);
      continue;
    }
    if (isa<ReadOp, UpdateOp>(op))
      return op.emitOpError()
             << "is not differentiated yet: the backward of the step "
                "covers levels in the explicit-update form (KV caches "
                "are not)";
    if (op.getNumRegions() != 0)
      return op.emitOpError() << "has regions; the backward of the step "
                                 "does not differentiate it";
    if (isa<GetParamOp>(op)) {
      // At the top, outside any region, where its gradient is summed.
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(body);
      b.clone(op, map);
      continue;
    }
    b.clone(op, map);
  }
  return success();
}

LogicalResult BackwardWriter::run() {
  StepOp step = model.getStep();
  if (!step)
    return model.emitOpError() << "has no step to differentiate";
  if (BackwardStepOp old = model.getBackwardStep())
    old.erase();
  for (TransferOp t : model.getTransfers())
    if (t.getKind() == TransferKind::init && t.getReset())
      return t.emitOpError()
             << "is not differentiated yet: the backward of the step does "
                "not cover 'init ... reset' transfers";
  step.walk([&](ConvOp c) {
    int64_t n = convIndex.size();
    convIndex[c] = n;
  });

  // The body: the step's inputs, then the outputs' cotangents.
  Block &stepBlock = step.getBody().front();
  SmallVector<Type> inputs(stepBlock.getArgumentTypes());
  SmallVector<Type> args = inputs;
  llvm::append_range(args, step.getOutputTypeList());
  b.setInsertionPointAfter(step);
  if (checkpointEvery < 1 || truncate < 0)
    return model.emitOpError()
           << "cannot keep the state every " << checkpointEvery
           << " tokens or truncate every " << truncate
           << " (checkpoint-every >= 1, truncate >= 0)";
  auto backward = BackwardStepOp::create(
      b, step.getLoc(), b.getTypeArrayAttr(inputs),
      b.getI64IntegerAttr(checkpointEvery), b.getI64IntegerAttr(truncate));
  body = b.createBlock(&backward.getBody(), {}, args,
                       SmallVector<Location>(args.size(), step.getLoc()));
  b.setInsertionPointToEnd(body);

  // 1. The forward as dataflow.
  IRMapping map;
  for (auto [arg, to] :
       llvm::zip(stepBlock.getArguments(),
                 body->getArguments().take_front(stepBlock.getNumArguments())))
    map.map(arg, to);
  if (failed(functionalize(stepBlock, map)))
    return failure();
  SmallVector<Operation *> forward;
  for (Operation &op : *body)
    forward.push_back(&op);

  // 2. The reverse sweep, seeded with the outputs' and the final states'
  // cotangents.
  Sweep sweep(b, loc);
  auto yield = cast<YieldOp>(stepBlock.getTerminator());
  for (auto [v, d] :
       llvm::zip(yield.getValues(),
                 body->getArguments().drop_front(stepBlock.getNumArguments())))
    sweep.accumulate(map.lookup(v), d);
  for (auto &[key, slot] : slots) {
    Value after = values.lookup(key);
    Value d = slot.state
                  ? Value(AdjointOp::create(b, loc, slot.type, slot.state,
                                            IntegerAttr()))
                  : Value(AdjointOp::create(b, loc, slot.type, SymbolRefAttr(),
                                            b.getI64IntegerAttr(slot.history)));
    sweep.accumulate(after, d);
  }
  if (failed(sweep.run(forward)))
    return failure();

  // The cotangents of the state before the token, the parameters' gradient
  // increments and the inputs' cotangents.
  for (auto &[key, slot] : slots) {
    Value d = sweep.adjointOrZero(initial.lookup(key));
    if (slot.state)
      SetAdjointOp::create(b, loc, slot.state, IntegerAttr(), d);
    else
      SetAdjointOp::create(b, loc, SymbolRefAttr(),
                           b.getI64IntegerAttr(slot.history), d);
  }
  for (Operation *op : forward)
    if (auto get = dyn_cast<GetParamOp>(op))
      if (Value d = sweep.adjoint(get.getResult()))
        ParamGradOp::create(b, loc, get.getNameAttr(), d);
  SmallVector<Value> dInputs;
  for (BlockArgument arg : body->getArguments().take_front(inputs.size()))
    dInputs.push_back(sweep.adjointOrZero(arg));
  YieldOp::create(b, loc, dInputs);
  // What the sweep did not need of the recomputed forward (an output no
  // cotangent reads) goes: the greedy driver with no patterns erases dead
  // ops. (scf.if's canonical patterns would hoist a level's region out of
  // its fire condition into a select: every token would pay for it.)
  if (failed(
          applyPatternsGreedily(backward.getBody(), FrozenRewritePatternSet())))
    return backward.emitOpError() << "did not simplify";
  return success();
}

struct DeriveBackwardPass
    : public mlir::nl::impl::NLDeriveBackwardBase<DeriveBackwardPass> {
  using Base::Base;
  void runOnOperation() override {
    if (failed(BackwardWriter(getOperation(), checkpointEvery, truncate).run()))
      return signalPassFailure();
  }
};

} // namespace
