//===- Chunk.cpp - nl-chunk: the chunk-parallel form of a step ------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// Adds nl.chunk_step to a model whose learning levels take gradients at the
// chunk start: every op of the step is lifted to the rows of a chunk
// (projections become matrix products), and each level's C rank-1 updates
// become products of matrices with a causal mask (Passes.td has the table).
// MLP memories are lifted after nl-expand-mlp and nl-derive-gradients: the
// derived backward pass runs on the chunk's rows, each layer's summed
// gradient is one product, and a read at the in-chunk weights is TTT's dual
// form of each layer.
//
//===----------------------------------------------------------------------===//

#include "nl/IR/NLRules.h"
#include "nl/IR/NLTensorMath.h"
#include "nl/Transforms/Passes.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Traits.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/StringSet.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLCHUNK
#include "nl/Transforms/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;

namespace {

using Shape = SmallVector<int64_t>;

Shape shapeOf(Value v) {
  return llvm::to_vector(cast<RankedTensorType>(v.getType()).getShape());
}

/// Why a model has no chunk form: the op to point at and the reason.
struct Refusal {
  Operation *at;
  std::string why;
};

/// Builds the chunk step of one model. Values of the step map to values of
/// the chunk body: a value that varies per token ("lifted") gains a leading
/// dimension of C rows; one that does not (constants, parameters, level
/// states) maps to itself.
class ChunkBuilder {
public:
  ChunkBuilder(ModelOp model, OpBuilder &b, int64_t perTokenChunk)
      : model(model), b(b), perTokenChunk(perTokenChunk) {}

  /// The chunk size, or a refusal when the model has no chunk form.
  FailureOr<int64_t> check();
  /// Writes the chunk step (after a successful check()).
  LogicalResult build(int64_t size);

  std::optional<Refusal> refusal;

private:
  LogicalResult refuse(Operation *at, const Twine &why) {
    refusal = Refusal{at, why.str()};
    return failure();
  }

  bool lifted(Value stepValue) { return liftedValues.contains(stepValue); }
  Value get(Value stepValue) { return map.lookup(stepValue); }
  RankedTensorType tensorType(ArrayRef<int64_t> shape) {
    return getF32TensorType(shape, b.getContext());
  }
  /// `v` (of shape [..]) as `[C, 1.., ..]` with `rank` dimensions after C.
  Value padRank(Value v, int64_t rank);
  /// `v` of shape [C, H, ..] as [H, C, ..] (identity when there is one head
  /// and the value is [C, ..]).
  Value headsFirst(Value v, int64_t heads);
  Value tokensFirst(Value v, int64_t heads);
  /// `v` with its dimensions permuted (result dimension d is v's perm[d]).
  Value permute(Value v, ArrayRef<int64_t> perm);
  /// Whether a gate has one value per head (true) or one in all (false);
  /// a refusal for any other shape.
  FailureOr<bool> perHeadGate(Value stepGate, int64_t heads, Operation *at);
  /// A gate of an update as a factor for the columns (tokens) of per-head
  /// matrices [H?, d, C]: [H, 1, C], [1, C], [H, 1, 1] or a scalar.
  FailureOr<Value> columnGate(Value stepGate, int64_t heads, Operation *at);
  /// A static slice of `v` (unit strides).
  Value slice(Value v, ArrayRef<int64_t> offsets, ArrayRef<int64_t> sizes);
  /// `v` of shape [a.., 1, b..] without the unit dimension at `dim`, or
  /// with one inserted there (`expand`).
  Value dropUnit(Value v, int64_t dim);
  Value insertUnit(Value v, int64_t dim);
  /// `v` as a vector of all its elements (itself when it is one).
  Value flatten(Value v);
  /// A column gate ([H, 1, C] / [1, C]) as a row gate ([H, C, 1] / [C, 1]);
  /// gates the same for every token are returned as they are.
  Value rowsOf(Value columnGate);
  /// A key, value or query of the chunk as one matrix per head with a row
  /// per token, [H?, C, d] (`columns`: [H?, d, C]).
  Value perHead(Value stepValue, int64_t heads, bool columns);
  /// The gate of the chunk's last token, shaped to scale [H?, r, c].
  FailureOr<Value> lastGate(Value stepGate, int64_t heads, Operation *at);

  LogicalResult liftOp(Operation *op);
  LogicalResult liftLinear(LinearOp op);
  LogicalResult liftWeights(WeightsOp op);
  /// The chunk-start tensors of an MLP memory (one nl.weights per level).
  WeightsOp startWeights(LevelOp level);
  LogicalResult liftPrefixLinear(LinearOp op);
  LogicalResult liftAfterWriteLinear(LinearOp op);
  /// Row `size - 1` of a lifted value, with the step's per-token shape.
  Value lastRow(Value liftedValue);
  LogicalResult emitLevel(UpdateOp update);
  LogicalResult emitMlpLevel(UpdateOp update);
  /// Whether the chunk form computes MLP level `level`; `chunked`: whether
  /// some level has a period of more than one token.
  LogicalResult checkMlpLevel(LevelOp level, bool chunked);
  /// The step's ops in the order the chunk builds them (a level's update
  /// before its reads), or a refusal.
  FailureOr<SmallVector<Operation *>> orderOps(StepOp step);
  /// The ops of the levels in rowLevels and of what depends only on them,
  /// run token by token in one nl.rows (empty when there are none).
  LogicalResult collectRows(ArrayRef<Operation *> ops);
  /// Emits the nl.rows of `rowOps` at the builder's insertion point.
  LogicalResult emitRows();
  LogicalResult emitRead(ReadOp read);
  /// `a c` (`ta`, `tc`: an operand transposed), reusing an equal product.
  Value matmul(Value a, Value c, bool ta, bool tc);
  Value product(Value a, Value c, bool ta, bool tc);
  Value binary(StringRef kind, Value x, Value y);

  ModelOp model;
  OpBuilder &b;
  /// The chunk of a model whose levels all learn every token.
  int64_t perTokenChunk;
  Location loc = UnknownLoc::get(b.getContext());
  int64_t size = 0;
  IRMapping map;
  DenseSet<Value> liftedValues;
  /// Per chunked level: its chunk-start state M0, the lr-weighted errors of
  /// the chunk as columns G^T ([H?, dv, C]) and its keys K ([H?, C, dk]).
  struct LevelChunk {
    Value m0, g, k;
    /// A decaying per-token level: the decay left between tokens, D[t, s],
    /// and the decay since the chunk start as a column gate (else null).
    Value decay, sinceStart;
  };
  llvm::StringMap<LevelChunk> levels;
  /// Per token t of the chunk, an MLP gradient of a stored tensor is
  /// lr_t dy_t x_t^T (a weight: nl.outer of the derived backward pass) or
  /// lr_t dy_t (a bias). `dy` holds the rows lr_t dy_t ([C, out]), `x` the
  /// rows x_t ([C, in]; null for a bias), `stepDy` the step's dy_t.
  struct MlpGrad {
    Value dy, x, stepDy;
  };
  struct MlpChunk {
    SmallVector<MlpGrad> parts;
    /// The chunk's summed step of each stored tensor, sum_t lr_t grad_t.
    SmallVector<Value> steps;
  };
  llvm::StringMap<MlpChunk> mlpLevels;
  llvm::StringMap<WeightsOp> mlpWeights;
  /// Per slower MLP level: its pending chunk and whether it fires.
  llvm::StringMap<PendingOp> pendingChunks;
  llvm::StringMap<Value> fireFactors;
  /// The products built so far: operands and transposes (2 ta + tc).
  DenseMap<std::tuple<Value, Value, unsigned>, Value> products;
  /// Per-token outer products of the step (MLP gradients): their lifted
  /// operands, consumed by the level's update only.
  DenseMap<Value, std::pair<Value, Value>> outers;
  /// Stored tensors read at the in-chunk weights (`chunk_prefix`): level
  /// and part.
  DenseMap<Value, std::pair<StringRef, unsigned>> prefixParts;
  /// MLP levels that learn every token: their ops run token by token.
  llvm::StringSet<> rowLevels;
  /// The step's ops that nl.rows runs (in step order), and whether it has
  /// been emitted.
  SmallVector<Operation *> rowOps;
  DenseSet<Operation *> inRows;
  bool rowsEmitted = false;
  /// The step's ops whose results nothing uses (neither lifted nor run in
  /// nl.rows).
  DenseSet<Operation *> deadOps;
  /// Stored tensors read after the level's write (`after_write`): level and
  /// part. Only the chunk's last token sees the write.
  DenseMap<Value, std::pair<StringRef, unsigned>> afterParts;
};

FailureOr<int64_t> ChunkBuilder::check() {
  StepOp step = model.getStep();
  if (!step)
    return failure();
  if (model.getChunkStep())
    return failure(); // done already: nothing to say
  // Transfers that only describe the step's dataflow (parametric,
  // backprop: a CMS's one gradient flow at two rates, ...) change nothing in
  // the generated code; a reset does (at the end of a token).
  for (TransferOp t : model.getTransfers())
    if (t.getReset())
      return refuse(t, "a transfer that resets a level is not in the chunk "
                       "form yet");
  // The chunk is the shortest period of a chunked level (period > 1).
  int64_t period = 0;
  for (LevelOp level : model.getLevels()) {
    PeriodAttr p = level.getPeriod();
    if (level.learnsOnline() && !p.isInfinite() && p.getValue() > 1)
      period = period ? std::min(period, p.getValue()) : p.getValue();
  }
  bool learning = false;
  for (LevelOp level : model.getLevels()) {
    StateOp memory = level.getMemory();
    // A chunked matrix level has the chunk's period; an MLP level may be
    // slower, by a multiple of it (multi-rate: it keeps a pending chunk).
    auto fitsChunk = [&](bool slower) -> LogicalResult {
      int64_t p = level.getPeriod().getValue();
      if (p <= 1 || p == period || (slower && p % period == 0))
        return success();
      return refuse(level, "levels of periods " + Twine(period) + " and " +
                               Twine(p) +
                               (slower ? " (a slower level's period must be "
                                         "a multiple of the shortest)"
                                       : " (a slower level of a multi-rate "
                                         "chunk must be an MLP memory)"));
    };
    if (memory && isa<MlpType>(memory.getType())) {
      if (failed(checkMlpLevel(level, /*chunked=*/period > 0)))
        return failure();
      if (!level.learnsOnline())
        continue;
      if (failed(fitsChunk(/*slower=*/true)))
        return failure();
      learning = true;
      continue;
    }
    auto matrix =
        memory ? dyn_cast<MatrixType>(memory.getType()) : MatrixType();
    if (!matrix)
      return refuse(level, "level @" + level.getSymName() +
                               " has no matrix or MLP memory (KV caches and "
                               "buffers run per token)");
    if (matrix.getLayout() != Layout::out_in)
      return refuse(level, "level @" + level.getSymName() +
                               " has layout in_out; the chunk form is "
                               "written for out_in");
    if (!level.learnsOnline())
      continue; // only read: its state is constant
    RuleAttr rule = *level.getRule();
    bool fusedMomentum =
        rule.getAlgorithm() == Algorithm::momentum && !rule.getVia();
    if (llvm::range_size(level.getStates()) != (fusedMomentum ? 2u : 1u))
      return refuse(level, "level @" + level.getSymName() +
                               " keeps buffers besides its memory");
    if (failed(fitsChunk(/*slower=*/false)))
      return failure();
    int64_t p = level.getPeriod().getValue();
    auto why = [&]() -> std::string {
      if (!objectiveEntry(rule.getObjective()).chunkForm)
        return "objective " + stringifyObjective(rule.getObjective()).str();
      // gd, or momentum in its fused form on a chunked level (mini-batch
      // Titans: the buffer steps once per chunk).
      if (rule.getAlgorithm() != Algorithm::gd && !(fusedMomentum && p > 1))
        return "algorithm " + stringifyAlgorithm(rule.getAlgorithm()).str() +
               (rule.getVia() ? " through other levels" : "");
      if (!retentionEntry(rule.getRetention()).chunkForm)
        return "retention " + stringifyRetention(rule.getRetention()).str();
      if (rule.getPrecond() != Precond::none)
        return "a preconditioner";
      if (rule.getWindow() != 1)
        return "an Omega window";
      if (p == 1) {
        // The delta rule: the UT transform of its in-chunk interactions;
        // with a decay, the gated delta rule (decay before the gradient,
        // read after the write).
        if (rule.getRead() == ReadOrder::chunk_prefix)
          return "read = chunk_prefix on a per-token level";
        if (rule.getRetention() == Retention::decay &&
            (rule.getDecayOrder() != DecayOrder::before_grad ||
             rule.getRead() != ReadOrder::after_write))
          return "a decay on a per-token level other than the gated delta "
                 "rule's (decay_order = before_grad, read = after_write)";
        return {};
      }
      if (rule.getRead() == ReadOrder::after_write)
        return "read = after_write";
      if (rule.getRetention() == Retention::decay &&
          rule.getDecayOrder() != DecayOrder::decoupled)
        return "decay_order before_grad";
      if (rule.getLrPlacement() != LrPlacement::per_token)
        return "lr_placement per_chunk";
      return {};
    }();
    if (!why.empty())
      return refuse(level, "level @" + level.getSymName() + " has " + why +
                               ", which the chunk form does not compute");
    learning = true;
  }
  if (!learning)
    return refuse(model, "no level learns in the step");
  // Only per-token levels: the chunk is the pass's choice.
  if (!period)
    return perTokenChunk;
  return period;
}

Value ChunkBuilder::binary(StringRef kind, Value x, Value y) {
  Shape sx = shapeOf(x), sy = shapeOf(y), out;
  bool ok = OpTrait::util::getBroadcastedShape(sx, sy, out);
  assert(ok && "nl-chunk built operands that do not broadcast");
  (void)ok;
  Type t = tensorType(out);
  if (kind == "add")
    return AddOp::create(b, loc, t, x, y);
  if (kind == "sub")
    return SubOp::create(b, loc, t, x, y);
  return MulOp::create(b, loc, t, x, y);
}

Value ChunkBuilder::matmul(Value a, Value c, bool ta, bool tc) {
  // A product computed already (a read after the write repeats the keys'
  // forward pass of the gradient) is not computed again.
  Value &known = products[{a, c, unsigned(ta) << 1 | unsigned(tc)}];
  if (known)
    return known;
  known = product(a, c, ta, tc);
  return known;
}

Value ChunkBuilder::product(Value a, Value c, bool ta, bool tc) {
  return TensorMath(b, loc).matmul(a, c, ta, tc);
}

Value ChunkBuilder::padRank(Value v, int64_t rank) {
  Shape s = shapeOf(v);
  int64_t have = static_cast<int64_t>(s.size()) - 1;
  if (have >= rank)
    return v;
  Shape out{s[0]};
  out.append(rank - have, 1);
  out.append(s.begin() + 1, s.end());
  SmallVector<ReassociationIndices> groups;
  ReassociationIndices first;
  for (int64_t i = 0; i <= rank - have; ++i)
    first.push_back(i);
  groups.push_back(first);
  for (int64_t i = 1; i <= have; ++i)
    groups.push_back({rank - have + i});
  return tensor::ExpandShapeOp::create(b, loc, tensorType(out), v, groups);
}

Value ChunkBuilder::permute(Value v, ArrayRef<int64_t> perm) {
  Shape in = shapeOf(v), out;
  for (int64_t p : perm)
    out.push_back(in[p]);
  return TransposeOp::create(b, loc, tensorType(out), v,
                             b.getDenseI64ArrayAttr(perm));
}

Value ChunkBuilder::headsFirst(Value v, int64_t heads) {
  if (heads == 1)
    return v;
  SmallVector<int64_t> perm{1, 0};
  for (size_t i = 2; i < shapeOf(v).size(); ++i)
    perm.push_back(i);
  return permute(v, perm);
}

Value ChunkBuilder::tokensFirst(Value v, int64_t heads) {
  return headsFirst(v, heads); // swapping the first two is its own inverse
}

Value ChunkBuilder::slice(Value v, ArrayRef<int64_t> offsets,
                          ArrayRef<int64_t> sizes) {
  SmallVector<OpFoldResult> o, n, st;
  for (auto [off, size] : llvm::zip(offsets, sizes)) {
    o.push_back(b.getIndexAttr(off));
    n.push_back(b.getIndexAttr(size));
    st.push_back(b.getIndexAttr(1));
  }
  return tensor::ExtractSliceOp::create(b, loc, tensorType(sizes), v, o, n, st);
}

/// Reassociation groups that merge dimension `dim` (of size 1) of a rank
/// `rank` shape into a neighbour.
static SmallVector<ReassociationIndices> unitGroups(int64_t rank, int64_t dim) {
  SmallVector<ReassociationIndices> groups;
  for (int64_t i = 0; i < rank; ++i) {
    if (i == dim)
      continue;
    ReassociationIndices g{i};
    if (i + 1 == dim)
      g.push_back(dim);
    groups.push_back(g);
  }
  if (dim == 0)
    groups.front().insert(groups.front().begin(), 0);
  return groups;
}

Value ChunkBuilder::dropUnit(Value v, int64_t dim) {
  Shape s = shapeOf(v), out = s;
  out.erase(out.begin() + dim);
  return tensor::CollapseShapeOp::create(b, loc, tensorType(out), v,
                                         unitGroups(s.size(), dim));
}

Value ChunkBuilder::insertUnit(Value v, int64_t dim) {
  Shape s = shapeOf(v), out = s;
  out.insert(out.begin() + dim, 1);
  return tensor::ExpandShapeOp::create(b, loc, tensorType(out), v,
                                       unitGroups(out.size(), dim));
}

Value ChunkBuilder::rowsOf(Value gate) {
  Shape s = shapeOf(gate);
  if (s.size() < 2 || s.back() != size)
    return gate;
  // [1, C] -> [C, 1];  [H, 1, C] -> [H, C, 1]
  int64_t unit = s.size() - 2;
  return insertUnit(dropUnit(gate, unit), unit + 1);
}

Value ChunkBuilder::flatten(Value v) {
  Shape s = shapeOf(v);
  if (s.size() == 1)
    return v;
  int64_t numel = 1;
  ReassociationIndices all;
  for (auto [i, d] : llvm::enumerate(s)) {
    numel *= d;
    all.push_back(i);
  }
  return tensor::CollapseShapeOp::create(b, loc, tensorType({numel}), v,
                                         ArrayRef<ReassociationIndices>{all});
}

Value ChunkBuilder::perHead(Value stepValue, int64_t heads, bool columns) {
  Value v = get(stepValue);
  int64_t width = shapeOf(stepValue).back();
  if (!lifted(stepValue)) {
    // The same for every token: [H?, d] broadcast over C tokens.
    Shape out = heads > 1 ? Shape{heads, size, width} : Shape{size, width};
    if (heads > 1)
      v = tensor::ExpandShapeOp::create(
          b, loc, tensorType({heads, 1, width}), v,
          ArrayRef<ReassociationIndices>{{0, 1}, {2}});
    v = binary("add", createF32Splat(b, loc, 0.0, out), v);
    if (!columns)
      return v;
    return permute(v, heads > 1 ? SmallVector<int64_t>{0, 2, 1}
                                : SmallVector<int64_t>{1, 0});
  }
  // [C, H?, d] -> [H?, C, d] or [H?, d, C].
  if (!columns)
    return headsFirst(v, heads);
  return permute(v, heads > 1 ? SmallVector<int64_t>{1, 2, 0}
                              : SmallVector<int64_t>{1, 0});
}

FailureOr<bool> ChunkBuilder::perHeadGate(Value stepGate, int64_t heads,
                                          Operation *at) {
  Shape s = shapeOf(stepGate);
  int64_t numel = 1;
  for (int64_t d : s)
    numel *= d;
  if (numel == 1)
    return false;
  if (heads > 1 && numel == heads)
    return true;
  return (void)refuse(at, "a gate of shape " + formatShape(s) +
                              " (one value per key channel) is not in the "
                              "chunk form yet"),
         failure();
}

FailureOr<Value> ChunkBuilder::columnGate(Value stepGate, int64_t heads,
                                          Operation *at) {
  Shape s = shapeOf(stepGate);
  FailureOr<bool> isPerHead = perHeadGate(stepGate, heads, at);
  if (failed(isPerHead))
    return failure();
  bool perHead = *isPerHead;
  Value g = get(stepGate);
  if (!lifted(stepGate)) {
    if (!perHead)
      return g; // a scalar broadcasts against anything
    // [H] or [H, 1] -> [H, 1, 1]
    return Value(tensor::ExpandShapeOp::create(
        b, loc, tensorType({heads, 1, 1}), flatten(g),
        ArrayRef<ReassociationIndices>{{0, 1, 2}}));
  }
  // Lifted: [C, s..] -> [C] (one value per token) or [C, H].
  if (!perHead)
    return insertUnit(flatten(g), 0); // [1, C]
  if (s.size() != 1) {
    ReassociationIndices rest;
    for (size_t i = 1; i <= s.size(); ++i)
      rest.push_back(i);
    g = tensor::CollapseShapeOp::create(
        b, loc, tensorType({size, heads}), g,
        ArrayRef<ReassociationIndices>{{0}, rest});
  }
  return insertUnit(permute(g, {1, 0}), 1); // [H, 1, C]
}

FailureOr<Value> ChunkBuilder::lastGate(Value stepGate, int64_t heads,
                                        Operation *at) {
  Shape s = shapeOf(stepGate);
  FailureOr<bool> isPerHead = perHeadGate(stepGate, heads, at);
  if (failed(isPerHead))
    return failure();
  Value g = get(stepGate);
  if (lifted(stepGate)) {
    // The last row: [1, s..] -> [numel].
    Shape offsets(s.size() + 1, 0), row{1};
    offsets[0] = size - 1;
    row.append(s);
    g = flatten(slice(g, offsets, row));
  } else if (!*isPerHead) {
    return g; // a scalar broadcasts against [H?, r, c]
  } else {
    g = flatten(g);
  }
  if (!*isPerHead)
    return g; // [1] broadcasts against [H?, r, c]
  return Value(
      tensor::ExpandShapeOp::create(b, loc, tensorType({heads, 1, 1}), g,
                                    ArrayRef<ReassociationIndices>{{0, 1, 2}}));
}

LogicalResult ChunkBuilder::liftLinear(LinearOp op) {
  if (!lifted(op.getInput()) || lifted(op.getWeight()) ||
      (op.getBias() && lifted(op.getBias())))
    return refuse(op, "a projection whose weight changes per token");
  Value x = get(op.getInput());
  Value w = get(op.getWeight());
  Shape sx = shapeOf(op.getInput()), sw = shapeOf(op.getWeight());
  Shape sy = shapeOf(op.getResult());
  bool trans = !op.getTransposeWeight(); // y = x W^T
  Value y;
  if (sw.size() == 2 && sx.size() == 1) {
    y = matmul(x, w, false, trans);
  } else if (sw.size() == 2) {
    // [C, H.., in] -> [C*H.., in], one product, and back.
    int64_t rows = size;
    ReassociationIndices lead;
    for (size_t i = 0; i < sx.size(); ++i) {
      lead.push_back(i);
      if (i + 1 < sx.size())
        rows *= sx[i];
    }
    Value flat = tensor::CollapseShapeOp::create(
        b, loc, tensorType({rows, sx.back()}), x,
        ArrayRef<ReassociationIndices>{lead,
                                       {static_cast<int64_t>(sx.size())}});
    Value prod = matmul(flat, w, false, trans);
    Shape out{size};
    out.append(sy);
    y = tensor::ExpandShapeOp::create(
        b, loc, tensorType(out), prod,
        ArrayRef<ReassociationIndices>{lead,
                                       {static_cast<int64_t>(sx.size())}});
  } else if (sw.size() == 3 && sx.size() == 2) {
    // One weight per head: [C, H, in] -> [H, C, in] x [H, out, in]^T.
    Value prod = matmul(headsFirst(x, sx[0]), w, false, trans);
    y = tokensFirst(prod, sx[0]);
  } else {
    return refuse(op, "a projection of shape " + formatShape(sw) +
                          " applied to " + formatShape(sx));
  }
  if (op.getBias())
    y = binary("add", y, get(op.getBias()));
  map.map(op.getResult(), y);
  liftedValues.insert(op.getResult());
  return success();
}

LogicalResult ChunkBuilder::emitLevel(UpdateOp update) {
  LevelOp level = model.lookupLevel(update.getLevel());
  auto matrix = cast<MatrixType>(level.getMemory().getType());
  RuleAttr rule = *level.getRule();
  int64_t heads = matrix.getHeads();
  Type memType = getStorageTensorType(matrix);
  if (!update.getKey() || !update.getValue() || !update.getLr())
    return refuse(update, "an update without key, value and lr");
  // Per head, the chunk's errors are the columns of E^T = M0 K^T - V^T
  // ([dv, C]): every product below has the memory or the chunk's tokens in
  // row-major order, so no d x d matrix is ever transposed.
  bool momentum = rule.getAlgorithm() == Algorithm::momentum;
  SmallVector<Type> stateTypes{memType};
  if (momentum)
    stateTypes.push_back(memType);
  auto weights = WeightsOp::create(b, loc, stateTypes, level.getSymName());
  Value m0 = weights.getResult(0);
  Value k = perHead(update.getKey(), heads, /*columns=*/false); // [H?, C, dk]
  FailureOr<Value> lr = columnGate(update.getLr(), heads, update);
  if (failed(lr))
    return failure();
  Value vt = perHead(update.getValue(), heads, /*columns=*/true); // [H?,dv,C]
  bool perToken = level.getPeriod().getValue() == 1;
  bool gated = perToken && rule.getRetention() == Retention::decay;
  Value decay, sinceStart, toEnd, total;
  if (gated) {
    // The gated delta rule: with D[t, s] the decay between tokens s and t
    // and gamma_t = a_0 D[t, 0] the decay since the chunk start, token t's
    // error is taken at a_t M_{t-1} = gamma_t M0 + sum_{s<t} D[t,s] u_s k_s^T.
    FailureOr<Value> a = columnGate(update.getRetain(), heads, update);
    if (failed(a))
      return failure();
    Shape cols = heads > 1 ? Shape{heads, 1, size} : Shape{1, size};
    Value full = binary("add", createF32Splat(b, loc, 0.0, cols), *a);
    Value gates = dropUnit(full, heads > 1 ? 1 : 0); // [H?, C]
    Shape decayShape = shapeOf(gates);
    decayShape.push_back(size);
    decay = DecayMaskOp::create(b, loc, tensorType(decayShape), gates);
    // gamma as a column gate [H?, 1, C]: a_0 times column 0 of D.
    Shape first = shapeOf(decay);
    first.back() = 1;
    Shape zeros(first.size(), 0);
    Value column0 = slice(decay, zeros, first); // [H?, C, 1]
    Shape g0 = shapeOf(gates);
    g0.back() = 1;
    Value a0 = insertUnit(slice(gates, Shape(g0.size(), 0), g0),
                          g0.size() - 1);         // [H?, 1, 1]
    Value gammaRows = binary("mul", column0, a0); // [H?, C, 1]
    sinceStart = insertUnit(dropUnit(gammaRows, first.size() - 1),
                            first.size() - 2); // [H?, 1, C]
    // What is left of each token's write at the chunk end: row C-1 of D;
    // of the chunk-start state: gamma_{C-1}.
    Shape lastRow = shapeOf(decay);
    lastRow[lastRow.size() - 2] = 1;
    Shape rowOffset(lastRow.size(), 0);
    rowOffset[rowOffset.size() - 2] = size - 1;
    toEnd = slice(decay, rowOffset, lastRow); // [H?, 1, C]
    Shape lastCol = shapeOf(sinceStart);
    lastCol.back() = 1;
    Shape colOffset(lastCol.size(), 0);
    colOffset.back() = size - 1;
    total = slice(sinceStart, colOffset, lastCol); // [H?, 1, 1]
  }
  Value et;
  if (rule.getObjective() == Objective::l2) {
    Value pred = matmul(m0, k, false, true); // M0 K^T
    if (gated)
      pred = binary("mul", pred, sinceStart);
    et = binary("sub", pred, vt);
    if (rule.getL2() == L2Convention::full)
      et = binary("mul", et, createF32Splat(b, loc, 2.0));
  } else { // dot: -v
    et = binary("sub", createF32Splat(b, loc, 0.0), vt);
  }
  Value gt = binary("mul", et, *lr); // G^T = lr E^T
  if (perToken && rule.getObjective() == Objective::l2) {
    // The delta rule: token t's error sees the writes of the tokens before
    // it in the chunk, u_t = lr_t (v_t - M0 k_t - sum_{s<t} u_s k_s.k_t),
    // so U = T R with the UT transform T = (I + diag(lr) tril(K K^T, -1))^-1
    // (fla's chunked delta rule). As columns: G^T <- G^T T^T.
    Value scores = matmul(k, k, false, true); // [t, s] = k_t . k_s
    if (gated)
      scores = binary("mul", scores, decay);
    Value strict =
        TrilOp::create(b, loc, scores.getType(), scores, /*strict=*/true);
    Value t = TriInvOp::create(b, loc, scores.getType(),
                               binary("mul", strict, rowsOf(*lr)));
    gt = matmul(gt, t, false, true);
  }
  // M1 = retain_C M0 - G^T K.
  Value kept = m0;
  Value written = gt;
  if (gated) {
    // M1 = gamma_{C-1} M0 - (G^T D[C-1, :]) K
    kept = binary("mul", m0, total);
    written = binary("mul", gt, toEnd);
  } else if (rule.getRetention() == Retention::decay) {
    if (!update.getRetain())
      return refuse(update, "a decay without a retain gate");
    FailureOr<Value> retain = lastGate(update.getRetain(), heads, update);
    if (failed(retain))
      return failure();
    kept = binary("mul", m0, *retain);
  }
  Value step = matmul(written, k, false, false); // the chunk's summed gradient
  if (momentum) {
    // S1 = eta_C S0 - G^T K;  M1 = retain_C M0 + S1.
    if (!update.getMomentumDecay())
      return refuse(update, "momentum without a momentum_decay gate");
    FailureOr<Value> eta = lastGate(update.getMomentumDecay(), heads, update);
    if (failed(eta))
      return failure();
    Value s1 = binary("sub", binary("mul", weights.getResult(1), *eta), step);
    Value m1 = binary("add", kept, s1);
    AssignOp::create(b, loc, level.getSymName(), ValueRange{m1, s1});
  } else {
    Value m1 = binary("sub", kept, step);
    AssignOp::create(b, loc, level.getSymName(), ValueRange{m1});
  }
  levels[level.getSymName()] = {m0, gt, k, decay, sinceStart};
  return success();
}

LogicalResult ChunkBuilder::emitRead(ReadOp read) {
  LevelOp level = model.lookupLevel(read.getLevel());
  auto matrix = cast<MatrixType>(level.getMemory().getType());
  int64_t heads = matrix.getHeads();
  if (!lifted(read.getQuery()))
    return refuse(read, "a read whose query is the same for every token");
  Value q = perHead(read.getQuery(), heads, /*columns=*/false); // [H?, C, dk]
  Value yt; // Y^T, [H?, dv, C]
  if (!level.learnsOnline()) {
    Value m = WeightsOp::create(b, loc, TypeRange{getStorageTensorType(matrix)},
                                level.getSymName())
                  .getResult(0);
    yt = matmul(m, q, false, true);
  } else {
    auto it = levels.find(level.getSymName());
    if (it == levels.end())
      return refuse(read, "a read of @" + level.getSymName() +
                              " before its update in the step");
    LevelChunk &c = it->second;
    yt = matmul(c.m0, q, false, true); // Y^T = M0 Q^T
    if (c.decay)                       // gamma_t M0 q_t
      yt = binary("mul", yt, c.sinceStart);
    // Token t sees the chunk's writes up to itself (chunk_prefix, or a
    // per-token level read after its write) or before itself (a per-token
    // level read before its write): minus sum_{s <= t} (q_t . k_s) g_s.
    ReadOrder read = level.getRule()->getRead();
    bool perToken = level.getPeriod().getValue() == 1;
    if (read == ReadOrder::chunk_prefix || perToken) {
      Value scores = matmul(q, c.k, false, true); // [t, s]
      if (c.decay) // token s's write decayed until token t
        scores = binary("mul", scores, c.decay);
      Value masked = TrilOp::create(b, loc, scores.getType(), scores,
                                    /*strict=*/read == ReadOrder::before_write);
      yt = binary("sub", yt, matmul(c.g, masked, false, true));
    }
  }
  // [H?, dv, C] -> [C, H?, dv]
  Value y = permute(yt, heads > 1 ? SmallVector<int64_t>{2, 0, 1}
                                  : SmallVector<int64_t>{1, 0});
  map.map(read.getResult(), y);
  liftedValues.insert(read.getResult());
  return success();
}

LogicalResult ChunkBuilder::checkMlpLevel(LevelOp level, bool chunked) {
  auto no = [&](const Twine &why) {
    return refuse(level, "level @" + level.getSymName() + " (an MLP memory) " +
                             why + ", which the chunk form does not compute");
  };
  if (!level.learnsOnline())
    return success(); // only read: its weights are constant
  RuleAttr rule = *level.getRule();
  if (level.getPeriod().getValue() == 1) {
    // Its weights change within the chunk: its ops run token by token
    // (nl.rows), which pays only when slower levels are lifted around it.
    if (!chunked)
      return no("learns every token (its weights change within the chunk) "
                "and no slower level is lifted around it");
    if (rule.getVia())
      return no("learns every token through other levels");
    rowLevels.insert(level.getSymName());
    return success();
  }
  if (llvm::range_size(level.getStates()) != 1)
    return no("keeps buffers besides its memory");
  if (rule.getGradAt() != GradPoint::chunk_start)
    return no("takes its gradients at each token");
  if (rule.getAlgorithm() != Algorithm::gd || rule.getVia())
    return no("has algorithm " + stringifyAlgorithm(rule.getAlgorithm()).str() +
              (rule.getVia() ? " through other levels" : ""));
  if (rule.getRetention() != Retention::none)
    return no("has retention " + stringifyRetention(rule.getRetention()).str());
  if (rule.getPrecond() != Precond::none)
    return no("has a preconditioner");
  if (rule.getWindow() != 1)
    return no("has an Omega window");
  if (rule.getLrPlacement() != LrPlacement::per_token)
    return no("has lr_placement per_chunk");
  return success();
}

WeightsOp ChunkBuilder::startWeights(LevelOp level) {
  WeightsOp &start = mlpWeights[level.getSymName()];
  if (!start) {
    SmallVector<Type> types;
    for (const MlpType::Part &part :
         cast<MlpType>(level.getMemory().getType()).getParts())
      types.push_back(tensorType(part.shape));
    start = WeightsOp::create(b, loc, types, level.getSymName());
  }
  return start;
}

LogicalResult ChunkBuilder::liftWeights(WeightsOp op) {
  LevelOp level = model.lookupLevel(op.getLevel());
  if (!isa<MlpType>(level.getMemory().getType()))
    return refuse(op, "'nl.weights' of a matrix memory is not in the chunk "
                      "form");
  WeightsOp start = startWeights(level);
  // Before the write, and for a level without an update, the chunk-start
  // tensors; at the in-chunk weights, the same tensors corrected per token
  // where a projection uses them (liftPrefixLinear).
  bool afterWrite =
      op.getAfterWrite() && !op.getChunkPrefix() && level.learnsOnline();
  if (afterWrite && !mlpLevels.contains(level.getSymName()))
    return refuse(op, "a read of @" + level.getSymName() +
                          " after its write, before its update in the step");
  for (auto [i, v] : llvm::enumerate(op.getResults())) {
    map.map(v, start.getResult(i));
    if (op.getChunkPrefix() && level.learnsOnline())
      prefixParts[v] = {level.getSymName(), static_cast<unsigned>(i)};
    if (afterWrite)
      afterParts[v] = {level.getSymName(), static_cast<unsigned>(i)};
  }
  return success();
}

LogicalResult ChunkBuilder::emitMlpLevel(UpdateOp update) {
  LevelOp level = model.lookupLevel(update.getLevel());
  auto mlp = cast<MlpType>(level.getMemory().getType());
  int64_t heads = mlp.getHeads();
  if (update.getKey() || update.getGrad().size() != mlp.getParts().size())
    return refuse(update, "an MLP update before nl-expand-mlp and "
                          "nl-derive-gradients (the chunk form lifts the "
                          "derived gradients)");
  if (!update.getLr() || update.getRetain() || update.getMomentumDecay() ||
      update.getDeltaScale())
    return refuse(update, "an MLP update with gates other than lr");
  FailureOr<Value> lr = columnGate(update.getLr(), heads, update);
  if (failed(lr))
    return failure();
  Value lrRows = rowsOf(*lr); // [H?, C, 1], or one value for all tokens
  WeightsOp start = startWeights(level);
  auto rows = [&](Value stepValue) { // [C, H?, n] -> [H?, C, n]
    return headsFirst(get(stepValue), heads);
  };
  MlpChunk chunk;
  SmallVector<Value> steps;
  for (auto [i, g] : llvm::enumerate(update.getGrad())) {
    MlpGrad grad;
    Value step; // sum_t lr_t grad_t
    if (auto it = outers.find(g); it != outers.end()) {
      auto outer = g.getDefiningOp<OuterOp>();
      grad = {binary("mul", rows(outer.getLhs()), lrRows), rows(outer.getRhs()),
              outer.getLhs()};
      step = matmul(grad.dy, grad.x, /*ta=*/true, /*tc=*/false); // dY^T X
    } else if (lifted(g) && shapeOf(g).size() == (heads > 1 ? 2u : 1u)) {
      grad = {binary("mul", rows(g), lrRows), Value(), g};
      // The sum over the chunk's rows, tokens first.
      step = SumOp::create(b, loc, tensorType(shapeOf(g)),
                           tokensFirst(grad.dy, heads));
    } else {
      return refuse(update, "an MLP gradient that is neither a per-token "
                            "outer product nor a per-token vector");
    }
    chunk.parts.push_back(grad);
    steps.push_back(step);
  }
  // A level of the chunk's period fires on its last token; a slower one
  // adds the chunk to its pending one and fires where its period ends.
  if (level.getPeriod().getValue() == size) {
    SmallVector<Value> next;
    for (auto [w, step] : llvm::zip(start.getResults(), steps))
      next.push_back(binary("sub", w, step));
    AssignOp::create(b, loc, level.getSymName(), next);
  } else {
    AccumulateOp::create(b, loc, level.getSymName(), steps);
  }
  chunk.steps = std::move(steps);
  mlpLevels[level.getSymName()] = std::move(chunk);
  return success();
}

LogicalResult ChunkBuilder::liftPrefixLinear(LinearOp op) {
  // Per head, y_t = x_t (W0 - sum_{s<=t} lr_s dy_s x_s^T)^T + b0
  //                 - sum_{s<=t} lr_s db_s
  //  = x_t W0^T + b0 - sum_{s<=t} (x_t . x_s) lr_s dy_s - sum_{s<=t} lr_s db_s.
  // As matrices (TTT's dual form of a layer):
  //   Y = X W0^T + b0 - tril(X Xs^T) dY - tril(1) dB,
  // one product for both corrections when the bias gradient is dy itself.
  auto [name, part] = prefixParts.lookup(op.getWeight());
  auto it = mlpLevels.find(name);
  if (it == mlpLevels.end())
    return refuse(op, "a read of @" + name + " before its update in the step");
  int64_t heads =
      cast<MlpType>(model.lookupLevel(name).getMemory().getType()).getHeads();
  if (!lifted(op.getInput()) ||
      shapeOf(op.getInput()).size() != (heads > 1 ? 2u : 1u) ||
      op.getTransposeWeight())
    return refuse(op, "a projection at the in-chunk weights of an input the "
                      "same for every token, or transposed");
  MlpGrad &w = it->second.parts[part];
  if (!w.x)
    return refuse(op, "a projection at the in-chunk weights whose gradient is "
                      "not an outer product");
  Value x = headsFirst(get(op.getInput()), heads);       // [H?, C, in]
  Value y = matmul(x, get(op.getWeight()), false, true); // X W0^T
  Value scores = matmul(x, w.x, false, true);            // [t, s] = x_t . x_s
  if (Value bias = op.getBias()) {
    Value b0 = get(bias); // [H?, out]
    y = binary("add", y, heads > 1 ? insertUnit(b0, 1) : b0);
    if (auto db = prefixParts.find(bias); db != prefixParts.end()) {
      MlpGrad &g = it->second.parts[db->second.second];
      if (db->second.first != name || g.x)
        return refuse(op, "a bias at the in-chunk weights of another tensor");
      if (g.stepDy == w.stepDy) {
        scores = binary("add", scores, createF32Splat(b, loc, 1.0));
      } else {
        Shape square = shapeOf(scores);
        Value ones = createF32Splat(b, loc, 1.0, square);
        Value prefix = TrilOp::create(b, loc, ones.getType(), ones,
                                      /*strict=*/false);
        y = binary("sub", y, matmul(prefix, g.dy, false, false));
      }
    }
  }
  Value masked =
      TrilOp::create(b, loc, scores.getType(), scores, /*strict=*/false);
  y = binary("sub", y, matmul(masked, w.dy, false, false));
  map.map(op.getResult(), tokensFirst(y, heads));
  liftedValues.insert(op.getResult());
  return success();
}

Value ChunkBuilder::lastRow(Value v) {
  Shape s = shapeOf(v);
  Shape offsets(s.size(), 0), sizes = s;
  offsets[0] = size - 1;
  sizes[0] = 1;
  Shape strides(s.size(), 1);
  auto type = tensorType(ArrayRef<int64_t>(s).drop_front());
  return tensor::ExtractSliceOp::create(b, loc, type, v, ValueRange{},
                                        ValueRange{}, ValueRange{}, offsets,
                                        sizes, strides);
}

LogicalResult ChunkBuilder::liftAfterWriteLinear(LinearOp op) {
  // The level's write happens on the chunk's last token, so tokens before
  // it read the chunk-start tensors (the rows' product, as before the
  // write) and the last token reads them after the write when the level
  // fires there:
  //   y_last = (W0 - f (P + S)) x + b0 - f (p + s),
  // with f = 1 when the level fires on that token, P, p its pending chunk
  // (a slower level) and S, s this chunk's steps: products of one row
  // instead of a copy of the new tensors.
  auto [name, part] = afterParts.lookup(op.getWeight());
  auto bias = op.getBias() ? afterParts.find(op.getBias()) : afterParts.end();
  if (!afterParts.contains(op.getWeight()) ||
      (op.getBias() &&
       (bias == afterParts.end() || bias->second.first != name)))
    return refuse(op, "a projection whose weight and bias are not both the "
                      "stored tensors of one level after its write");
  if (failed(liftLinear(op)))
    return failure();
  MlpChunk &chunk = mlpLevels[name];
  LevelOp level = model.lookupLevel(name);
  bool slower = level.getPeriod().getValue() != size;
  Value x = lastRow(get(op.getInput()));
  Type rowType = op.getResult().getType();
  auto project = [&](Value w, Value bv) -> Value {
    return LinearOp::create(b, loc, rowType, x, w, bv,
                            op.getTransposeWeightAttr());
  };
  Value y =
      project(get(op.getWeight()), op.getBias() ? get(op.getBias()) : Value());
  // S x = dY^T (X x) from the step's factors (S = dY^T X, dY with lr), two
  // products with the chunk's rows instead of one with the whole step, so
  // the step itself is only ever added to the state.
  MlpGrad &w = chunk.parts[part];
  if (!w.x)
    return refuse(op, "a projection after the write whose gradient is not "
                      "an outer product");
  Shape sx = shapeOf(w.x);            // [H?, C, in]
  Shape su(sx.begin(), sx.end() - 1); // [H?, C]
  Value u =
      LinearOp::create(b, loc, tensorType(su), x, w.x, Value(), UnitAttr());
  Value change = LinearOp::create(b, loc, rowType, u, w.dy, Value(),
                                  b.getUnitAttr()); // dY^T u
  if (op.getBias())
    change = binary("add", change, chunk.steps[bias->second.second]);
  // A level of the chunk's period always fires on its last token and has
  // nothing pending before the chunk.
  if (slower) {
    PendingOp &pending = pendingChunks[name];
    if (!pending) {
      SmallVector<Type> types;
      for (const MlpType::Part &p :
           cast<MlpType>(level.getMemory().getType()).getParts())
        types.push_back(tensorType(p.shape));
      pending = PendingOp::create(b, loc, types, name);
    }
    change =
        binary("add", change,
               project(pending.getResult(part),
                       op.getBias() ? pending.getResult(bias->second.second)
                                    : Value()));
    Value &fires = fireFactors[name];
    if (!fires)
      fires = FiresOp::create(b, loc, tensorType({}), name);
    change = binary("mul", change, fires);
  }
  y = binary("sub", y, change);
  Shape offsets(shapeOf(get(op.getResult())).size(), 0);
  offsets[0] = size - 1;
  Shape sizes = shapeOf(get(op.getResult()));
  sizes[0] = 1;
  Shape strides(sizes.size(), 1);
  Value rows = tensor::InsertSliceOp::create(
      b, loc, y, get(op.getResult()), ValueRange{}, ValueRange{}, ValueRange{},
      offsets, sizes, strides);
  map.map(op.getResult(), rows);
  return success();
}

/// The reassociation of a reshape lifted to the chunk's rows: the token
/// dimension is a group of its own, unless one side has rank 0 (all unit
/// dimensions then join it); `expandedRank` counts the token dimension.
static SmallVector<ReassociationIndices>
liftGroups(ArrayRef<ReassociationIndices> groups, size_t expandedRank) {
  if (groups.empty()) {
    ReassociationIndices all;
    for (size_t i = 0; i < expandedRank; ++i)
      all.push_back(i);
    return {all};
  }
  SmallVector<ReassociationIndices> lifted{{0}};
  for (ReassociationIndices g : groups) {
    for (int64_t &i : g)
      ++i;
    lifted.push_back(g);
  }
  return lifted;
}

LogicalResult ChunkBuilder::liftOp(Operation *op) {
  bool anyLifted =
      llvm::any_of(op->getOperands(), [&](Value v) { return lifted(v); });
  auto isMlp = [&](StringRef level) {
    return isa<MlpType>(model.lookupLevel(level).getMemory().getType());
  };
  if (auto u = dyn_cast<UpdateOp>(op))
    return isMlp(u.getLevel()) ? emitMlpLevel(u) : emitLevel(u);
  if (llvm::any_of(op->getOperands(),
                   [&](Value v) { return outers.contains(v); }))
    return refuse(op, "a per-token outer product used other than as an MLP "
                      "gradient");
  if (!isa<LinearOp>(op) && llvm::any_of(op->getOperands(), [&](Value v) {
        return afterParts.contains(v);
      }))
    return refuse(op, "a stored tensor after the write used other than as a "
                      "projection's weight or bias");
  if (auto r = dyn_cast<ReadOp>(op)) {
    if (isMlp(r.getLevel()))
      return refuse(op, "a read of an MLP memory before nl-expand-mlp");
    return emitRead(r);
  }
  if (auto w = dyn_cast<WeightsOp>(op))
    return liftWeights(w);
  if (auto l = dyn_cast<LinearOp>(op)) {
    if (afterParts.contains(l.getWeight()) ||
        (l.getBias() && afterParts.contains(l.getBias())))
      return liftAfterWriteLinear(l);
    if (prefixParts.contains(l.getWeight()))
      return liftPrefixLinear(l);
    if (l.getBias() && prefixParts.contains(l.getBias()))
      return refuse(op, "a bias at the in-chunk weights with a weight that "
                        "is not");
    if (anyLifted)
      return liftLinear(l);
  }
  if (auto o = dyn_cast<OuterOp>(op)) {
    if (!lifted(o.getLhs()) || !lifted(o.getRhs()))
      return refuse(op, "an outer product of a value the same for every "
                        "token");
    outers[o.getResult()] = {get(o.getLhs()), get(o.getRhs())};
    return success();
  }
  if (auto conv = dyn_cast<ConvOp>(op)) {
    // The step's convolutions in order: the chunk shares their history.
    int64_t index = 0;
    bool found = false;
    model.getStep().walk([&](ConvOp c) {
      if (c == conv)
        found = true;
      else if (!found)
        ++index;
    });
    if (!lifted(conv.getInput()) || lifted(conv.getWeight()) ||
        shapeOf(conv.getInput()).size() != 1)
      return refuse(op, "a convolution of a value the same for every token, "
                        "with a per-token weight or over several dimensions");
    Shape out{size};
    out.append(shapeOf(conv.getResult()));
    Value y =
        ChunkConvOp::create(b, loc, tensorType(out), get(conv.getInput()),
                            get(conv.getWeight()), b.getI64IntegerAttr(index));
    map.map(conv.getResult(), y);
    liftedValues.insert(conv.getResult());
    return success();
  }
  if (isa<GradOp>(op))
    return refuse(op, "'nl.grad' is not in the chunk form (run "
                      "nl-derive-gradients first)");
  if (!anyLifted) { // the same for every token: computed once
    b.clone(*op, map);
    return success();
  }
  Operation *clone = nullptr;
  if (auto s = dyn_cast<tensor::ExtractSliceOp>(op)) {
    // Static sizes; an offset may be a value the same for every token (a
    // head's slice of the token, in the model of one head).
    if (s.hasUnitStride() && s.getSizes().empty() &&
        llvm::none_of(s.getOffsets(), [&](Value v) { return lifted(v); })) {
      SmallVector<OpFoldResult> offsets{b.getIndexAttr(0)},
          sizes{b.getIndexAttr(size)}, strides{b.getIndexAttr(1)};
      for (OpFoldResult o : s.getMixedOffsets())
        offsets.push_back(isa<Value>(o) ? OpFoldResult(get(cast<Value>(o)))
                                        : o);
      for (int64_t n : s.getStaticSizes())
        sizes.push_back(b.getIndexAttr(n));
      for (int64_t n : s.getStaticStrides())
        strides.push_back(b.getIndexAttr(n));
      Shape out{size};
      out.append(shapeOf(s.getResult()));
      clone = tensor::ExtractSliceOp::create(
          b, loc, tensorType(out), get(s.getSource()), offsets, sizes, strides);
    }
  } else if (auto e = dyn_cast<tensor::ExpandShapeOp>(op)) {
    Shape out{size};
    out.append(shapeOf(e.getResult()));
    clone = tensor::ExpandShapeOp::create(
        b, loc, tensorType(out), get(e.getSrc()),
        liftGroups(e.getReassociationIndices(), out.size()));
  } else if (auto c = dyn_cast<tensor::CollapseShapeOp>(op)) {
    Shape out{size};
    out.append(shapeOf(c.getResult()));
    clone = tensor::CollapseShapeOp::create(
        b, loc, tensorType(out), get(c.getSrc()),
        liftGroups(c.getReassociationIndices(),
                   shapeOf(c.getSrc()).size() + 1));
  } else if (isa<AddOp, SubOp, MulOp, DivOp>(op)) {
    int64_t rank = shapeOf(op->getResult(0)).size();
    SmallVector<Value> operands;
    for (Value v : op->getOperands())
      operands.push_back(lifted(v) ? padRank(get(v), rank) : get(v));
    Shape out{size};
    out.append(shapeOf(op->getResult(0)));
    OperationState state(loc, op->getName());
    state.addOperands(operands);
    state.addTypes(tensorType(out));
    state.addAttributes(op->getAttrs());
    clone = b.create(state);
  } else if (isa<ActOp, NormOp, ActGradOp, NormGradOp>(op)) {
    // Over the last dimension (or elementwise): the input (and the incoming
    // gradient) lifted, nothing else.
    size_t rowOperands = isa<ActGradOp, NormGradOp>(op) ? 2 : 1;
    if (llvm::any_of(op->getOperands().drop_front(rowOperands),
                     [&](Value v) { return lifted(v); }) ||
        llvm::any_of(op->getOperands().take_front(rowOperands),
                     [&](Value v) { return !lifted(v); }))
      return refuse(op, "a norm or activation whose scale or shift changes "
                        "per token, or a derivative at a value the same for "
                        "every token");
    Shape out{size};
    out.append(shapeOf(op->getResult(0)));
    IRMapping local = map;
    clone = b.clone(*op, local);
    clone->getResult(0).setType(tensorType(out));
  }
  if (!clone)
    return refuse(op, "'" + op->getName().getStringRef() +
                          "' on values that change per token is not in the "
                          "chunk form yet");
  map.map(op->getResult(0), clone->getResult(0));
  liftedValues.insert(op->getResult(0));
  return success();
}

FailureOr<SmallVector<Operation *>> ChunkBuilder::orderOps(StepOp step) {
  // The step's ops in their order, except that a level's update comes
  // before its reads (the chunk's reads are written from the chunk's
  // gradients) and before the tensors read after its write: a step may list
  // a read after the write first and leave the order to nl-to-loops.
  Block &body = step.getBody().front();
  SmallVector<Operation *> pending;
  llvm::StringMap<UpdateOp> updates;
  for (Operation &op : body.without_terminator()) {
    pending.push_back(&op);
    if (auto u = dyn_cast<UpdateOp>(op))
      updates[u.getLevel()] = u;
  }
  auto after = [&](Operation *op) -> Operation * {
    StringRef level;
    if (auto r = dyn_cast<ReadOp>(op))
      level = r.getLevel();
    else if (auto w = dyn_cast<WeightsOp>(op); w && w.getAfterWrite())
      level = w.getLevel();
    return level.empty() ? nullptr : updates.lookup(level);
  };
  DenseSet<Operation *> placed;
  SmallVector<Operation *> ordered;
  while (!pending.empty()) {
    // The first op whose operands and update are placed.
    auto ready = llvm::find_if(pending, [&](Operation *op) {
      Operation *update = after(op);
      if (update && !placed.contains(update))
        return false;
      return llvm::all_of(op->getOperands(), [&](Value v) {
        Operation *def = v.getDefiningOp();
        return !def || def->getBlock() != &body || placed.contains(def);
      });
    });
    if (ready == pending.end())
      return refuse(pending.front(),
                    "a read of a level that its own update depends on");
    placed.insert(*ready);
    ordered.push_back(*ready);
    pending.erase(ready);
  }
  return ordered;
}

LogicalResult ChunkBuilder::collectRows(ArrayRef<Operation *> ops) {
  if (rowLevels.empty())
    return success();
  auto levelOf = [](Operation *op) -> StringRef {
    if (auto u = dyn_cast<UpdateOp>(op))
      return u.getLevel();
    if (auto w = dyn_cast<WeightsOp>(op))
      return w.getLevel();
    if (auto r = dyn_cast<ReadOp>(op))
      return r.getLevel();
    return {};
  };
  auto depends = [](Operation *op, const DenseSet<Operation *> &set) {
    return llvm::any_of(op->getOperands(), [&](Value v) {
      return v.getDefiningOp() && set.contains(v.getDefiningOp());
    });
  };
  // The ops that depend on a per-token level's memory, except those that
  // also depend on another level's (the lifted levels' own ops and what
  // comes after them).
  DenseSet<Operation *> fromRows, fromLifted;
  for (Operation *op : ops) {
    StringRef level = levelOf(op);
    bool own = !level.empty() && rowLevels.contains(level);
    bool other = !level.empty() && !own;
    if (own && depends(op, fromLifted))
      return refuse(op, "level @" + level +
                            " learns every token from what a "
                            "lifted level computes (its ops would run token by "
                            "token after the lifted ones)");
    if (other || depends(op, fromLifted))
      fromLifted.insert(op);
    else if (own || depends(op, fromRows))
      fromRows.insert(op);
  }
  // nl.rows stands before the first lifted op that uses its results; an op
  // that depends on them alone but comes after that is lifted instead (it
  // works on each token's row), unless it reads or writes the level.
  bool used = false;
  for (Operation *op : ops) {
    if (deadOps.contains(op))
      continue;
    if (!fromRows.contains(op)) {
      used |= depends(op, inRows);
      continue;
    }
    if (!used) {
      rowOps.push_back(op);
      inRows.insert(op);
    } else if (!levelOf(op).empty()) {
      return refuse(op, "an op of a level that learns every token after "
                        "ops that use that level's results");
    }
  }
  return success();
}

LogicalResult ChunkBuilder::emitRows() {
  rowsEmitted = true;
  // Operands: the lifted values the ops use from outside; results: their
  // values used outside (or returned).
  SmallVector<Value> inputs, results;
  DenseSet<Value> seenInputs;
  for (Operation *op : rowOps) {
    for (Value v : op->getOperands()) {
      Operation *def = v.getDefiningOp();
      if ((def && inRows.contains(def)) || !lifted(v) ||
          !seenInputs.insert(v).second)
        continue;
      inputs.push_back(v);
    }
    for (Value r : op->getResults())
      if (llvm::any_of(r.getUsers(), [&](Operation *user) {
            return !inRows.contains(user) && !deadOps.contains(user);
          }))
        results.push_back(r);
  }
  SmallVector<Value> liftedInputs;
  SmallVector<Type> resultTypes;
  for (Value v : inputs)
    liftedInputs.push_back(get(v));
  for (Value r : results) {
    Shape s{size};
    s.append(shapeOf(r));
    resultTypes.push_back(tensorType(s));
  }
  auto rows = RowsOp::create(b, loc, resultTypes, liftedInputs);
  Block *body = new Block();
  rows.getBody().push_back(body);
  IRMapping local = map; // values above (unlifted) are used directly
  for (Value v : inputs)
    local.map(v, body->addArgument(v.getType(), v.getLoc()));
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(body);
    for (Operation *op : rowOps)
      b.clone(*op, local);
    SmallVector<Value> rowsOut;
    for (Value r : results)
      rowsOut.push_back(local.lookup(r));
    YieldOp::create(b, loc, rowsOut);
  }
  for (auto [r, v] : llvm::zip(results, rows.getResults())) {
    map.map(r, v);
    liftedValues.insert(r);
  }
  return success();
}

LogicalResult ChunkBuilder::build(int64_t chunkSize) {
  size = chunkSize;
  StepOp step = model.getStep();
  loc = step.getLoc();
  SmallVector<Type> outputs;
  for (Type t : step.getOutputTypeList()) {
    Shape s{size};
    s.append(cast<RankedTensorType>(t).getShape().begin(),
             cast<RankedTensorType>(t).getShape().end());
    outputs.push_back(tensorType(s));
  }
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointAfter(step);
  auto chunk = ChunkStepOp::create(b, loc, b.getI64IntegerAttr(size),
                                   b.getTypeArrayAttr(outputs));
  Block *body = new Block();
  chunk.getBody().push_back(body);
  Value x = body->addArgument(
      tensorType({size, static_cast<int64_t>(model.getDim())}), loc);
  map.map(step.getInput(), x);
  liftedValues.insert(step.getInput());
  b.setInsertionPointToStart(body);
  // Ops whose results nothing uses (the inner objective's value, which
  // nl-derive-gradients leaves next to its gradient) are not lifted.
  for (Operation &op :
       llvm::reverse(step.getBody().front().without_terminator()))
    if (isMemoryEffectFree(&op) &&
        llvm::all_of(op.getUsers(),
                     [&](Operation *user) { return deadOps.contains(user); }))
      deadOps.insert(&op);
  FailureOr<SmallVector<Operation *>> order = orderOps(step);
  if (failed(order) || failed(collectRows(*order))) {
    chunk.erase();
    return failure();
  }
  auto usesRows = [&](Operation *op) {
    return llvm::any_of(op->getOperands(), [&](Value v) {
      return v.getDefiningOp() && inRows.contains(v.getDefiningOp());
    });
  };
  for (Operation *op : *order) {
    if (deadOps.contains(op) || inRows.contains(op))
      continue;
    loc = op->getLoc();
    if (!rowsEmitted && usesRows(op) && failed(emitRows())) {
      chunk.erase();
      return failure();
    }
    if (failed(liftOp(op))) {
      chunk.erase();
      return failure();
    }
  }
  auto yield = cast<YieldOp>(step.getBody().front().getTerminator());
  if (!rowsEmitted && !rowOps.empty() && failed(emitRows())) {
    chunk.erase();
    return failure();
  }
  for (Value v : yield.getValues())
    if (afterParts.contains(v)) {
      chunk.erase();
      return refuse(yield, "an output that is a stored tensor after the write");
    }
  SmallVector<Value> results;
  for (Value v : yield.getValues()) {
    if (!lifted(v)) {
      chunk.erase();
      return refuse(yield, "an output that is the same for every token");
    }
    results.push_back(get(v));
  }
  YieldOp::create(b, yield.getLoc(), results);
  return success();
}

/// The cost model of `form=auto`, from bench/ on a 2-core AVX2 host:
///  * a chunk shorter than two register tiles of nl.matmul (8 rows) keeps
///    the per-token form, which is as fast there;
///  * a model whose levels all learn every token (the delta rule through
///    the UT transform) pays for the transform only with wide heads: at
///    d = 64 the chunk form ran at 0.85-1.18x the per-token form (W2, W8;
///    within the noise), at d = 128 at 1.5-2x (W2). Levels that take their
///    gradients at the chunk start gain at every width (W3: 1.5x at
///    d = 64, 2.3x at 128).
/// Returns why the per-token form is as fast for chunks of `size` tokens,
/// or an empty string when the chunk form pays.
std::string perTokenIsAsFast(ModelOp model, int64_t size) {
  constexpr int64_t kMinAutoChunk = 8, kMinPerTokenWidth = 128;
  if (size < kMinAutoChunk)
    return ("its chunks of " + Twine(size) + " tokens are shorter than " +
            Twine(kMinAutoChunk) + ", where the per-token form is as fast")
        .str();
  bool allPerToken = true;
  int64_t widest = 0;
  for (LevelOp level : model.getLevels()) {
    if (!level.learnsOnline())
      continue;
    allPerToken &= level.getPeriod().getValue() == 1;
    if (StateOp memory = level.getMemory())
      if (auto m = dyn_cast<MatrixType>(memory.getType()))
        widest = std::max(widest, m.getCols());
  }
  if (allPerToken && widest < kMinPerTokenWidth)
    return ("its levels all learn every token and its keys are " +
            Twine(widest) + " wide, narrower than the " +
            Twine(kMinPerTokenWidth) + " from which the UT transform pays")
        .str();
  return {};
}

struct NLChunkPass : public nl::impl::NLChunkBase<NLChunkPass> {
  using Base::Base;
  LogicalResult initialize(MLIRContext *context) override {
    if (required && form == ChunkFormMode::Off)
      return emitError(UnknownLoc::get(context))
             << "nl-chunk: 'required' asks for the chunk form that "
                "'form=off' removes";
    return success();
  }

  /// A model whose ABI is materialized (nl.abi) lists the chunk entry it
  /// has.
  static void recordChunkEntry(ModelOp model) {
    StringRef name = NLDialect::getABIAttrName();
    auto abi = model->getAttrOfType<ABIAttr>(name);
    if (!abi)
      return;
    ChunkStepOp chunk = model.getChunkStep();
    model->setAttr(name, abi.withChunkEntry(chunk ? chunk.getSize() : 0));
  }

  void runOnOperation() override {
    ModelOp model = getOperation();
    if (form == ChunkFormMode::Off) {
      if (ChunkStepOp existing = model.getChunkStep()) {
        existing.erase();
        recordChunkEntry(model);
      }
      return;
    }
    OpBuilder builder(model.getContext());
    ChunkBuilder chunk(model, builder, size);
    FailureOr<int64_t> size = chunk.check();
    if (succeeded(size) && form == ChunkFormMode::Auto && !required) {
      std::string why = perTokenIsAsFast(model, *size);
      if (!why.empty()) {
        if (emitRemarks)
          model.emitRemark() << "model @" << model.getSymName()
                             << " keeps its per-token form only: " << why;
        return;
      }
    }
    if (succeeded(size) && succeeded(chunk.build(*size))) {
      recordChunkEntry(model);
      ++numChunked;
      return;
    }
    if (!chunk.refusal)
      return;
    if (required) {
      chunk.refusal->at->emitError()
          << "model @" << model.getSymName()
          << " has no chunk-parallel form: " << chunk.refusal->why;
      return signalPassFailure();
    }
    if (emitRemarks)
      chunk.refusal->at->emitRemark()
          << "model @" << model.getSymName()
          << " keeps its per-token form only: " << chunk.refusal->why;
  }
};

} // namespace
