//===- SplitHeads.cpp - nl-split-heads: the model of one head -------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// Adds, next to a model whose H heads never meet inside a step, the model
// of one head (`head_split = H`): the same levels with one head each, and a
// step that computes head `nl.head_index` only. The runtime then runs the
// heads of one stream on several threads, each thread a range of heads over
// every token of a call, as a hand-fused loop would.
//
// Every value of the step is one of:
//   flat    the same for every head (the token, its slices, parameters,
//           anything computed from them alone); the head's step computes
//           it too;
//   head    one row per head (leading dimension H): `split_heads` of a flat
//           value, a read of a level, elementwise ops on head values; the
//           head's step holds the head's row, without the H dimension;
//   merged  `merge_heads` of a head value (head-major): only returned.
// A flat value with leading dimension H that meets a head value (a gate per
// head, an operand of an elementwise op) is sliced at the head's row.
//
//===----------------------------------------------------------------------===//

#include "nl/Transforms/ModelLayout.h"
#include "nl/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLSPLITHEADS
#include "nl/Transforms/Passes.h.inc"
} // namespace mlir::nl

MLIR_DEFINE_EXPLICIT_TYPE_ID(mlir::nl::ModelLayoutInterface)

using namespace mlir;
using namespace mlir::nl;

namespace {

/// Why a model has no per-head form: the op to point at and the reason.
struct Refusal {
  Operation *at;
  std::string why;
};

enum class Kind { Flat, Head, Merged };

/// Builds the step of the one-head model from the step of the full model.
class HeadStepBuilder {
public:
  HeadStepBuilder(ModelOp model, int64_t heads, OpBuilder &b)
      : model(model), heads(heads), b(b) {}

  /// Writes the body of `into` (a block with the token as argument) from
  /// the full model's step.
  LogicalResult build(Block *into, SmallVector<Type> &outputs);

  std::optional<Refusal> refusal;

private:
  LogicalResult refuse(Operation *at, const Twine &why) {
    refusal = Refusal{at, why.str()};
    return failure();
  }
  LogicalResult buildOp(Operation &op);
  /// The head's row of a step value used where a head value is expected: a
  /// head value's own, a flat value's row `h` (leading dimension H), or a
  /// flat scalar as it is. Null when the value has no row per head.
  Value headRow(Value stepValue);
  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  /// Elements [at, at + width) of vector `v`, as `type` (`[width]`, or a
  /// scalar when width is 1).
  Value sliceVector(Value v, Value at, int64_t width, RankedTensorType type);
  /// `v` with its leading dimension dropped: row `at` of it.
  Value dropLeading(Value v, Value at);
  static RankedTensorType withoutLeading(Type t) {
    auto type = cast<RankedTensorType>(t);
    return RankedTensorType::get(type.getShape().drop_front(),
                                 type.getElementType());
  }

  ModelOp model;
  int64_t heads;
  OpBuilder &b;
  Location loc = UnknownLoc::get(b.getContext());
  Value head; // nl.head_index
  IRMapping map;
  DenseMap<Value, Kind> kinds;
  DenseMap<Value, Value> rows; // flat value -> its head's row
};

Value HeadStepBuilder::sliceVector(Value v, Value at, int64_t width,
                                   RankedTensorType type) {
  // A slice of a static slice of a vector (the token's keys, then the
  // head's) reads the token directly.
  if (auto inner = v.getDefiningOp<tensor::ExtractSliceOp>();
      inner && inner.getSourceType().getRank() == 1 && inner.hasUnitStride() &&
      !ShapedType::isDynamic(inner.getStaticOffsets()[0])) {
    if (int64_t o = inner.getStaticOffsets()[0])
      at = arith::AddIOp::create(b, loc, at, index(o));
    v = inner.getSource();
  }
  return tensor::ExtractSliceOp::create(
      b, loc, type, v, ArrayRef<OpFoldResult>{at},
      ArrayRef<OpFoldResult>{b.getIndexAttr(width)},
      ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
}

Value HeadStepBuilder::dropLeading(Value v, Value at) {
  auto type = cast<RankedTensorType>(v.getType());
  if (type.getRank() == 1)
    return sliceVector(v, at, 1, withoutLeading(type));
  int64_t rank = type.getRank();
  SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0)), sizes,
      strides(rank, b.getIndexAttr(1));
  offsets[0] = at;
  sizes.push_back(b.getIndexAttr(1));
  for (int64_t d : type.getShape().drop_front())
    sizes.push_back(b.getIndexAttr(d));
  return tensor::ExtractSliceOp::create(b, loc, withoutLeading(type), v,
                                        offsets, sizes, strides);
}

Value HeadStepBuilder::headRow(Value stepValue) {
  Kind kind = kinds.lookup(stepValue);
  if (kind == Kind::Head)
    return map.lookup(stepValue);
  if (kind != Kind::Flat)
    return Value();
  auto type = cast<RankedTensorType>(stepValue.getType());
  if (type.getRank() == 0)
    return map.lookup(stepValue);
  if (type.getDimSize(0) != heads)
    return Value();
  Value &row = rows[stepValue];
  if (!row)
    row = dropLeading(map.lookup(stepValue), head);
  return row;
}

LogicalResult HeadStepBuilder::buildOp(Operation &op) {
  loc = op.getLoc();
  bool anyHead = false, anyMerged = false;
  for (Value v : op.getOperands()) {
    anyHead |= kinds.lookup(v) == Kind::Head;
    anyMerged |= kinds.lookup(v) == Kind::Merged;
  }
  if (anyMerged)
    return refuse(&op, "'" + op.getName().getStringRef() +
                           "' uses all heads' outputs (merge_heads): only "
                           "the step's results may");

  // split_heads of a flat vector: the head's slice of it.
  if (auto expand = dyn_cast<tensor::ExpandShapeOp>(op)) {
    auto src = cast<RankedTensorType>(expand.getSrc().getType());
    auto dst = cast<RankedTensorType>(expand.getResult().getType());
    if (anyHead)
      return refuse(&op, "a reshape of a per-head value");
    if (src.getRank() == 1 && dst.getRank() == 2 &&
        dst.getDimSize(0) == heads) {
      int64_t width = dst.getDimSize(1);
      Value at = arith::MulIOp::create(b, loc, head, index(width));
      map.map(expand.getResult(), sliceVector(map.lookup(expand.getSrc()), at,
                                              width, withoutLeading(dst)));
      kinds[expand.getResult()] = Kind::Head;
      return success();
    }
  }
  // merge_heads: the head's row is its slice of the merged vector.
  if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(op);
      collapse && anyHead) {
    auto src = cast<RankedTensorType>(collapse.getSrc().getType());
    if (src.getRank() != 2)
      return refuse(&op, "a reshape of a per-head value of rank " +
                             Twine(src.getRank()));
    map.map(collapse.getResult(), map.lookup(collapse.getSrc()));
    kinds[collapse.getResult()] = Kind::Merged;
    return success();
  }

  // Same for every head: computed by each head's step. A projection would
  // be computed H times per token instead of once.
  if (!anyHead && isa<LinearOp, MatmulOp>(op))
    return refuse(&op, "a projection shared by the heads (each head's step "
                       "would compute all of it)");
  if (!anyHead && op.getNumRegions() == 0 && isPure(&op)) {
    Operation *clone = b.clone(op, map);
    for (auto [from, to] : llvm::zip(op.getResults(), clone->getResults())) {
      map.map(from, to);
      kinds[from] = Kind::Flat;
    }
    return success();
  }

  // A level's read and update, and elementwise ops on head values: the
  // head's row of every operand of rank >= the op's, scalars as they are.
  bool levelOp = isa<ReadOp, UpdateOp>(op);
  bool rowWise = isa<AddOp, SubOp, MulOp, DivOp, ActOp, NormOp, StopGradOp>(op);
  if (!levelOp && !rowWise)
    return refuse(&op, "'" + op.getName().getStringRef() +
                           "' is not computed head by head");
  int64_t rank = 0;
  for (Value r : op.getResults())
    rank = std::max(rank, cast<RankedTensorType>(r.getType()).getRank());
  IRMapping operands;
  for (Value v : op.getOperands()) {
    auto type = cast<RankedTensorType>(v.getType());
    int64_t vRank = type.getRank();
    Kind kind = kinds.lookup(v);
    // A head's row broadcast along a new leading dimension would meet the
    // other heads' rows.
    if (rowWise && kind == Kind::Head && vRank < rank)
      return refuse(&op, "a per-head value broadcast against all heads");
    Value mapped;
    if (levelOp && kind == Kind::Flat &&
        type.getShape() == ArrayRef<int64_t>{1}) {
      mapped = map.lookup(v); // a gate shared by the heads
    } else if (levelOp ? vRank > 0 : vRank >= rank) {
      mapped = headRow(v);
      if (!mapped)
        return refuse(&op, "an operand without a row per head (its leading "
                           "dimension is not " +
                               Twine(heads) + ")");
    } else {
      mapped = map.lookup(v);
    }
    operands.map(v, mapped);
  }
  Operation *clone = b.clone(op, operands);
  for (auto [from, to] : llvm::zip(op.getResults(), clone->getResults())) {
    auto type = cast<RankedTensorType>(from.getType());
    if (type.getRank() == 0 || type.getDimSize(0) != heads)
      return refuse(&op, "a result without a row per head");
    to.setType(withoutLeading(type));
    map.map(from, to);
    kinds[from] = Kind::Head;
  }
  return success();
}

LogicalResult HeadStepBuilder::build(Block *into, SmallVector<Type> &outputs) {
  StepOp step = model.getStep();
  Block &body = step.getBody().front();
  b.setInsertionPointToStart(into);
  head = HeadIndexOp::create(b, step.getLoc());
  map.map(step.getInput(), into->getArgument(0));
  kinds[step.getInput()] = Kind::Flat;
  for (Operation &op : body.without_terminator())
    if (failed(buildOp(op)))
      return failure();
  auto yield = cast<YieldOp>(body.getTerminator());
  SmallVector<Value> results;
  for (Value v : yield.getValues()) {
    Kind kind = kinds.lookup(v);
    if (kind == Kind::Flat)
      return refuse(yield, "an output that is the same for every head (only "
                           "per-head outputs are split)");
    results.push_back(map.lookup(v));
    outputs.push_back(results.back().getType());
  }
  YieldOp::create(b, yield.getLoc(), results);
  // What only the full step needed (all heads' slices of the token).
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(*into)))
    if (isOpTriviallyDead(&op))
      op.erase();
  return success();
}

/// The heads of every memory of `model` (all must agree, and be > 1), or a
/// refusal.
FailureOr<int64_t> modelHeads(ModelOp model, std::optional<Refusal> &refusal) {
  auto refuse = [&](Operation *at, const Twine &why) {
    refusal = Refusal{at, why.str()};
    return failure();
  };
  if (!model.getStep())
    return refuse(model, "the model has no step");
  if (model.getChunkStep())
    return refuse(model.getChunkStep(), "the model already has a chunk form "
                                        "(run nl-split-heads before nl-chunk)");
  for (TransferOp t : model.getTransfers())
    return refuse(t, "a transfer between levels");
  int64_t heads = 0;
  for (LevelOp level : model.getLevels())
    for (StateOp state : level.getStates()) {
      auto m = dyn_cast<MatrixType>(state.getType());
      if (!m)
        return refuse(state, "a state that is not a matrix memory");
      if (heads && m.getHeads() != heads)
        return refuse(state, "memories of " + Twine(heads) + " and " +
                                 Twine(m.getHeads()) + " heads");
      heads = m.getHeads();
    }
  if (heads < 2)
    return refuse(model, "no memory with more than one head");
  return heads;
}

struct NLSplitHeadsPass : public nl::impl::NLSplitHeadsBase<NLSplitHeadsPass> {
  using Base::Base;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // The full models, taken first: a one-head model found below may go.
    SmallVector<ModelOp> full;
    for (ModelOp model : module.getBody()->getOps<ModelOp>())
      if (!model.getHeadSplit())
        full.push_back(model);
    for (ModelOp model : full) {
      std::optional<Refusal> refusal;
      if (succeeded(split(module, model, refusal))) {
        ModelOp one = cast<ModelOp>(SymbolTable::lookupSymbolIn(
            module, (model.getSymName() + "__head").str()));
        if (holdsStateHeadByHead(model, one)) {
          ++numSplit;
          continue;
        }
        if (required) {
          one.emitError() << "the one-head model @" << one.getSymName()
                          << " does not hold the full model's state head by "
                             "head";
          return signalPassFailure();
        }
        one.erase();
        if (emitRemarks)
          model.emitRemark()
              << "model @" << model.getSymName()
              << " runs its heads together: its one-head model would not "
                 "hold its state head by head";
        continue;
      }
      if (required) {
        refusal->at->emitError() << "model @" << model.getSymName()
                                 << " has no per-head form: " << refusal->why;
        return signalPassFailure();
      }
      if (emitRemarks)
        refusal->at->emitRemark()
            << "model @" << model.getSymName()
            << " runs its heads together: " << refusal->why;
    }
  }

  /// The runtime runs head h of `one` on the h-th slice of every state
  /// tensor and output of `model`: the two must agree on them, tensor by
  /// tensor, in the ABI the back ends give them (the full model's nl.abi,
  /// else ModelLayoutInterface). True when they do, or when no back end
  /// says (or it would not compile the model: it then says why itself).
  /// When the full model has an nl.abi, `one` gets its own.
  bool holdsStateHeadByHead(ModelOp model, ModelOp one) {
    StringRef name = NLDialect::getABIAttrName();
    one->removeAttr(name);
    auto *layouts =
        model->getDialect()->getRegisteredInterface<ModelLayoutInterface>();
    if (!layouts)
      return true;
    auto materialized = model->getAttrOfType<ABIAttr>(name);
    ABIAttr full = materialized ? materialized : layouts->computeABI(model);
    ABIAttr head = layouts->computeABI(one);
    if (!full || !head)
      return true;
    auto elements = [](ABITensorAttr t) {
      return ShapedType::getNumElements(t.getShape());
    };
    int64_t h = static_cast<int64_t>(*one.getHeadSplit());
    if (head.getState().size() != full.getState().size() ||
        head.getParams().size() != full.getParams().size() ||
        head.getOutputs().size() != full.getOutputs().size())
      return false;
    for (auto [a, b] : llvm::zip_equal(head.getState(), full.getState()))
      if (a.getName() != b.getName() || elements(a) * h != elements(b))
        return false;
    for (auto [a, b] : llvm::zip_equal(head.getOutputs(), full.getOutputs()))
      if (ShapedType::getNumElements(a.asArrayRef()) * h !=
          ShapedType::getNumElements(b.asArrayRef()))
        return false;
    if (materialized)
      one->setAttr(name, head);
    return true;
  }

  /// Adds the model of one head after `model`.
  LogicalResult split(ModuleOp module, ModelOp model,
                      std::optional<Refusal> &refusal) {
    FailureOr<int64_t> heads = modelHeads(model, refusal);
    if (failed(heads))
      return failure();
    std::string name = (model.getSymName() + "__head").str();
    if (auto existing = dyn_cast_or_null<ModelOp>(
            SymbolTable::lookupSymbolIn(module, name));
        existing && existing.getHeadSplit() == uint64_t(*heads))
      return success(); // split already
    if (SymbolTable::lookupSymbolIn(module, name)) {
      refusal = Refusal{model, "a symbol @" + name + " already exists"};
      return failure();
    }
    OpBuilder b(model.getContext());
    b.setInsertionPointAfter(model);
    auto one = cast<ModelOp>(b.clone(*model.getOperation()));
    // The full model's ABI is not this model's (holdsStateHeadByHead).
    one->removeAttr(NLDialect::getABIAttrName());
    one.setSymName(name);
    one.setHeadSplit(*heads);
    one.setHeads(1);
    for (LevelOp level : one.getLevels())
      for (StateOp state : level.getStates()) {
        auto m = cast<MatrixType>(state.getType());
        state.setType(MatrixType::get(b.getContext(), m.getRows(), m.getCols(),
                                      m.getElementType(), 1, m.getLayout()));
      }
    StepOp oldStep = one.getStep();
    b.setInsertionPoint(oldStep);
    Block *body = new Block();
    body->addArgument(oldStep.getInput().getType(), oldStep.getLoc());
    HeadStepBuilder builder(model, *heads, b);
    SmallVector<Type> outputs;
    if (failed(builder.build(body, outputs))) {
      delete body;
      one.erase();
      refusal = builder.refusal;
      return failure();
    }
    b.setInsertionPoint(oldStep);
    auto step =
        StepOp::create(b, oldStep.getLoc(), b.getTypeArrayAttr(outputs));
    step.getBody().push_back(body);
    oldStep.erase();
    // The per-op rules above keep every op's own constraints; the model's
    // verifier has the last word (e.g. on a gate's shape for one head).
    std::string diagnostic;
    {
      ScopedDiagnosticHandler capture(b.getContext(), [&](Diagnostic &d) {
        if (diagnostic.empty())
          diagnostic = d.str();
        return success();
      });
      if (succeeded(verify(one)))
        return success();
    }
    one.erase();
    refusal = Refusal{model, "its one-head model is invalid: " + diagnostic};
    return failure();
  }
};

} // namespace
