//===- ModelLowering.h - The state of nl-to-loops for one model -*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// Private to lib/Conversion: the builder nl-to-loops runs for each model.
// NLToLoops.cpp lowers the step, the levels and the compute ops;
// LowerDerivatives.cpp the ops nl-derive-gradients writes.
//
//===----------------------------------------------------------------------===//

#ifndef NLC_LIB_CONVERSION_MODELLOWERING_H
#define NLC_LIB_CONVERSION_MODELLOWERING_H

#include "nlc/ABI/ModelABI.h"

#include "nl/IR/NLDialect.h"
#include "nlc/Conversion/Passes.h"

#include "nl/IR/NLOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"

namespace nlc::detail {

using namespace mlir;
using namespace mlir::nl;

using Shape = SmallVector<int64_t>;
/// Index helpers for a matrix memory of `heads` heads: storage
/// [heads?, rows, cols], vectors [heads?, n].
struct MatrixView {
  int64_t heads, rows, cols;
  SmallVector<Value> at(Value h, Value r, Value c) const {
    if (heads == 1)
      return {r, c};
    return {h, r, c};
  }
  SmallVector<Value> vec(Value h, Value i) const {
    if (heads == 1)
      return {i};
    return {h, i};
  }
};

/// Builds the two entry functions of one model.
class ModelLowering {
public:
  ModelLowering(ModelOp model, const nlc::ModelABI &abi, OpBuilder &builder)
      : model(model), abi(abi), b(builder), loc(model.getLoc()) {}

  LogicalResult run();

private:
  //===--- Small builders
  //--------------------------------------------------===//

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value f32(double v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  MemRefType memTy(ArrayRef<int64_t> shape) {
    return MemRefType::get(shape, b.getF32Type());
  }
  /// The memref type of an ABI tensor (f32 values or i32 counts).
  MemRefType memTy(const nlc::ABITensor &t) {
    return MemRefType::get(t.shape, t.isCounter() ? Type(b.getI32Type())
                                                  : Type(b.getF32Type()));
  }
  /// A scratch buffer of f32 (or of `element`), allocated once at function
  /// entry: on the stack, or,
  /// in the chunk entry when large (a chunk's d x d products would not fit
  /// a thread's stack), in a thread-local global of its own that
  /// nl-export-c-abi marks thread_local (allocated once per thread, so no
  /// call pays for fresh pages).
  Value scratch(ArrayRef<int64_t> shape, Type element = {}) {
    OpBuilder::InsertionGuard guard(b);
    MemRefType type = element ? MemRefType::get(shape, element) : memTy(shape);
    int64_t bytes = 4;
    for (int64_t d : shape)
      bytes *= d;
    if (threadLocalScratch && bytes > kMaxStackScratch) {
      auto module = model->getParentOfType<ModuleOp>();
      b.setInsertionPointToStart(module.getBody());
      std::string name = (std::string(kThreadLocalScratchPrefix) + abi.model +
                          "_" + std::to_string(numGlobalScratch++));
      memref::GlobalOp::create(b, loc, name, b.getStringAttr("private"), type,
                               b.getUnitAttr(),
                               /*constant=*/false, IntegerAttr());
      b.setInsertionPointToStart(entry);
      return memref::GetGlobalOp::create(b, loc, type, name);
    }
    b.setInsertionPointToStart(entry);
    return memref::AllocaOp::create(b, loc, type);
  }
  /// Runs `body` over every index of `shape` as one scf.parallel: the
  /// iterations must be independent (each writes only its own elements),
  /// which is what the CUDA back end distributes over threads. Every
  /// element-wise map, row of a matrix-vector product and row of a memory
  /// update is built this way.
  void forAll(ArrayRef<int64_t> shape, function_ref<void(ValueRange)> body) {
    if (shape.empty()) // a scalar: one iteration, no loop
      return body({});
    SmallVector<Value> lbs, ubs, steps;
    for (int64_t n : shape) {
      lbs.push_back(idx(0));
      ubs.push_back(idx(n));
      steps.push_back(idx(1));
    }
    auto loop = scf::ParallelOp::create(b, loc, lbs, ubs, steps);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    body(loop.getInductionVars());
  }
  /// Runs `body` for i = 0 .. n-1 in order (an scf.for): for iterations that
  /// share scratch buffers and so must not run concurrently.
  void forInOrder(int64_t n, function_ref<void(Value)> body) {
    auto loop = scf::ForOp::create(b, loc, idx(0), idx(n), idx(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    body(loop.getInductionVar());
  }
  /// sum_{i < n} f(i), as an scf.for. A long sum whose length splits into
  /// vector-aligned quarters keeps one accumulator per quarter, added at the
  /// end: LLVM unrolls a short constant-trip loop completely, and with a
  /// single accumulator that leaves one chain of dependent FMAs, bound by
  /// their latency rather than by the FMA units.
  Value sum(int64_t n, function_ref<Value(Value)> term) {
    constexpr int64_t kParts = 4, kVector = 8;
    int64_t parts =
        n >= 2 * kParts * kVector && n % (kParts * kVector) == 0 ? kParts : 1;
    int64_t len = n / parts;
    SmallVector<Value> init(parts, f32(0.0));
    auto loop = scf::ForOp::create(b, loc, idx(0), idx(len), idx(1), init);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value i = loop.getInductionVar();
      SmallVector<Value> next;
      for (int64_t p = 0; p < parts; ++p) {
        Value at =
            p == 0 ? i
                   : arith::AddIOp::create(b, loc, i, idx(p * len)).getResult();
        next.push_back(arith::AddFOp::create(
            b, loc, loop.getRegionIterArgs()[p], term(at)));
      }
      scf::YieldOp::create(b, loc, next);
    }
    Value total = loop.getResult(0);
    for (int64_t p = 1; p < parts; ++p)
      total = arith::AddFOp::create(b, loc, total, loop.getResult(p));
    return total;
  }
  /// Loads `buffer` (of `shape`) at the broadcast of `ivs` (indices into a
  /// result of rank ivs.size()), NumPy style.
  Value loadBroadcast(Value buffer, ValueRange ivs) {
    auto shape = cast<MemRefType>(buffer.getType()).getShape();
    SmallVector<Value> indices;
    size_t offset = ivs.size() - shape.size();
    for (auto [d, size] : llvm::enumerate(shape))
      indices.push_back(size == 1 ? idx(0) : ivs[offset + d]);
    return memref::LoadOp::create(b, loc, buffer, indices);
  }
  /// The value of gate buffer `g` for head h and key channel c of a memory
  /// seen as `m`: a scalar, one value per head ([H] or [H, 1]), or one per
  /// key channel ([C] or [H, C]); 1 when there is no gate.
  Value gateAt(Value g, const MatrixView &m, Value h, Value c) {
    if (!g)
      return f32(1.0);
    auto shape = cast<MemRefType>(g.getType()).getShape();
    SmallVector<Value> ix;
    if (llvm::all_of(shape, [](int64_t d) { return d == 1; }))
      ix.assign(shape.size(), idx(0));
    else if (shape.size() == 1 && shape[0] == m.heads && m.heads > 1)
      ix = {h};
    else if (shape.size() == 2 && shape[1] == 1)
      ix = {h, idx(0)};
    else
      ix = m.vec(h, c);
    return memref::LoadOp::create(b, loc, g, ix);
  }
  /// The index of `level` in the ABI (its bit in the masks).
  int levelOf(LevelOp level) { return levelIndex.lookup(level.getSymName()); }
  /// The ABI index of `level`'s tensor of `kind` with these fields, or -1.
  int tensorOf(ABIKind kind, LevelOp level, StringRef state = {},
               StringRef part = {}, StringRef of = {}) {
    return abi.find(kind, levelOf(level), state, part, of);
  }
  /// The ABI index of the tensor of `level`'s state `state` (of MLP part
  /// `part`).
  int stateOf(LevelOp level, StringRef state, StringRef part = {}) {
    return tensorOf(ABIKind::state, level, state, part);
  }
  /// The ABI index of `level`'s memory tensor (not an MLP memory).
  int memoryOf(LevelOp level) {
    return stateOf(level, level.getMemory().getSymName());
  }
  /// Whether bit `i` of `mask` is set.
  Value bit(Value mask, int64_t i) {
    Value shifted = arith::ShRUIOp::create(
        b, loc, mask, arith::ConstantIntOp::create(b, loc, i, 64));
    Value one = arith::ConstantIntOp::create(b, loc, 1, 64);
    Value lsb = arith::AndIOp::create(b, loc, shifted, one);
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, lsb,
                                 arith::ConstantIntOp::create(b, loc, 0, 64));
  }
  /// The i32 count held in `counter` (a one-element i32 state tensor), as
  /// an index. The runtime keeps every count in its manifest range.
  Value loadCount(Value counter) {
    return arith::IndexCastOp::create(
               b, loc, b.getIndexType(),
               memref::LoadOp::create(b, loc, counter, ValueRange{idx(0)}))
        .getResult();
  }
  /// Stores the index `n` into the i32 count `counter`.
  void storeCount(Value n, Value counter) {
    memref::StoreOp::create(
        b, loc, arith::IndexCastOp::create(b, loc, b.getI32Type(), n), counter,
        ValueRange{idx(0)});
  }
  /// A ring buffer of `window` slots takes one more entry: the write
  /// position `pos` (its old value is `at`) moves on modulo the window and
  /// the fill count grows up to it; returns the new fill.
  Value advanceRing(Value pos, Value at, Value fill, int64_t window) {
    Value next = arith::AddIOp::create(b, loc, at, idx(1));
    Value end = idx(window);
    storeCount(
        arith::SelectOp::create(
            b, loc,
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, next, end),
            idx(0), next),
        pos);
    Value grown = arith::MinUIOp::create(
        b, loc, arith::AddIOp::create(b, loc, loadCount(fill), idx(1)), end);
    storeCount(grown, fill);
    return grown;
  }
  Value sigmoid(Value x) {
    Value neg = arith::NegFOp::create(b, loc, x);
    Value e = math::ExpOp::create(b, loc, neg);
    Value den = arith::AddFOp::create(b, loc, f32(1.0), e);
    return arith::DivFOp::create(b, loc, f32(1.0), den);
  }

  //===--- Values
  //----------------------------------------------------------===//

  /// The memref holding nl value `v`.
  Value buf(Value v) { return buffers.lookup(v); }
  Shape shapeOf(Value v) {
    return llvm::to_vector(cast<ShapedType>(v.getType()).getShape());
  }

  LogicalResult lowerOp(Operation *op);

  //===--- The explicit-update form (LowerExplicitUpdates.cpp) ----------===//
  LogicalResult lowerLoad(LoadOp op);
  LogicalResult lowerStore(StoreOp op);
  /// The users, after `store`, of values loaded from `state`.
  SmallVector<Operation *> stateUsers(Value state, StoreOp store);
  /// nl.learn / nl.apply: `body` behind the level's active bit (learn), its
  /// active and fire bits (apply in the step) or its fire bit (the flush).
  LogicalResult lowerGuarded(Operation *op, StringRef level, Region &body,
                             bool inFlush);
  /// An upstream arith/math op applied elementwise to tensors of one shape.
  LogicalResult lowerElementwise(Operation *op);
  LogicalResult lowerConstant(arith::ConstantOp op);
  void lowerLinear(LinearOp op);
  /// An elementwise op; into `out` when given (else a new scratch).
  void lowerBinary(Operation *op, Value out = {});
  void lowerAct(ActOp op);
  LogicalResult lowerNorm(NormOp op);
  void lowerRead(ReadOp op);
  void lowerAttend(ReadOp op, LevelOp level, KvCacheType cache);
  void lowerAppend(UpdateOp op, LevelOp level, KvCacheType cache, int li);
  void lowerConv(ConvOp op);
  /// `buffer` seen as the [heads?, rows, cols] storage of a memory: a matrix
  /// memory as it is, a plain buffer as a [1, numel] matrix.
  Value asMatrix(Value buffer);
  /// A tensor of an MLP memory with `heads` heads seen as [heads, 1, n]
  /// ([1, n] for one head), the view MatrixView indexes.
  Value asHeadRows(Value buffer, int64_t heads);
  void lowerWeights(WeightsOp op);
  void lowerSum(SumOp op);
  void lowerOuter(OuterOp op);
  void lowerActGrad(ActGradOp op);
  void lowerNormGrad(NormGradOp op);
  /// The `init ... reset` transfers (nested CMS): after every update of a
  /// step in which `from` fired, `to`'s memory becomes `from`'s and `to`'s
  /// pending chunk is emptied (in the step, only where `from` is active).
  LogicalResult emitResets(bool inStep);
  /// ABI indices of the tensors of `level`'s memory (one per MLP part).
  SmallVector<int> memoryTensors(LevelOp level);
  /// ABI indices of `level`'s accumulators, one per memory tensor (-1 where
  /// it has none).
  SmallVector<int> accumulators(LevelOp level);
  /// Whether `level` learns in the step (it has an accumulator).
  bool learnsInStep(LevelOp level) {
    return llvm::any_of(accumulators(level), [](int i) { return i >= 0; });
  }
  LogicalResult lowerUpdate(UpdateOp op, bool inFlush);
  /// Adds the weight gradients an MLP level deferred (its `__defer` ring of
  /// dy and x rows, if it has one) to its accumulators, and empties the ring.
  void foldDeferred(LevelOp level);

  /// NS_k of every head of `matrix` (stored like a memory of view `m`): the
  /// quintic Newton-Schulz iteration (3.4445, -4.7750, 2.0315) on the
  /// Frobenius-normalized matrix, transposed when it has more rows than
  /// columns. Returns a scratch buffer of the same shape.
  Value newtonSchulz(Value matrix, const MatrixView &m, int64_t steps);

  /// The apply of an `m3` level (NL §7.2, Algorithm 1) from the gradient in
  /// `acc`: M1 += lr1 g, V += lr2 g^2, pending += g;
  /// W = retain W - lr (NS(M1) + alpha O2) / (sqrt(V) + eps); and when the
  /// slow level fires, M2 += lr3 pending, O2 = NS(M2) (used from the next
  /// token on).
  void emitM3(UpdateOp update, const MatrixView &m, Value mem, Value acc,
              Value retain, Value lr, function_ref<Value(int)> state);

  /// Emits the gradient contribution and, behind `fire`, the apply of
  /// level `levelIndex` (the level of `update`).
  void emitLevelUpdate(UpdateOp update, int levelIndex, Value active,
                       Value fire, bool contribute);
  /// The step's (isStep) or the flush's function; with `chunk`, the chunk
  /// entry: the step's arguments for `chunk` tokens.
  /// With `backward`, the backward entry: the step's arguments (the
  /// outputs' cotangents for the outputs), then the gradients, adjoints and
  /// the input's cotangent.
  func::FuncOp makeFunction(StringRef name, bool isStep, int64_t chunk = 0,
                            bool backward = false);

  //===--- The backward (LowerBackward.cpp) -----------------------------===//

  /// The backward entry point from `nl.backward_step`.
  LogicalResult lowerBackwardStep(BackwardStepOp op);
  /// The backward body's own ops: nl.history, nl.adjoint, nl.set_adjoint,
  /// nl.param_grad, nl.runs and scf.if with results.
  LogicalResult lowerBackwardOp(Operation *op);
  /// The ABI index of the slot an adjoint op names.
  int adjointSlot(SymbolRefAttr state, std::optional<uint64_t> history);

  //===--- The chunk-parallel form (LowerChunkOps.cpp)
  //---------------------===//

  /// The chunk entry point from `nl.chunk_step`.
  LogicalResult lowerChunkStep(ChunkStepOp chunk);
  /// nl.rows: a loop over the chunk's tokens around the step's ops.
  LogicalResult lowerRows(RowsOp op);
  /// A register-tiled product: per batch index, 4 x 16 blocks of the result
  /// in vector registers across the contraction.
  /// nl.matmul into new scratch, or added to (`sign` 1) or subtracted from
  /// (`sign` -1) the buffer `into`.
  void lowerMatmul(MatmulOp op, Value into = {}, int sign = 0);
  /// Whether an operand of `op` is (a view of) a state.
  bool readsState(MatmulOp op);
  /// `m` ([batch.., rows, cols]) transposed into new scratch.
  Value transposedCopy(Value m, ArrayRef<int64_t> batch, int64_t rows,
                       int64_t cols);
  /// result = a (`ta`: transposed) times `rhs`, a [batch.., depth, cols]
  /// buffer with contiguous rows, in register tiles.
  void tiledProduct(Value a, bool ta, Value rhs, ArrayRef<int64_t> batch,
                    int64_t rows, int64_t cols, int64_t depth, Value result,
                    int sign);
  void lowerTril(TrilOp op);
  /// A unit lower-triangular matrix per index of the leading dimensions of
  /// `shape`, built row by row (rows above i are final when row i is): 1 on
  /// the diagonal, 0 above it, `below(at, out, i, j)` for j < i, where
  /// `at({r, c})` indexes `out` and the matching input.
  Value unitLowerByRows(
      ArrayRef<int64_t> shape,
      function_ref<Value(function_ref<SmallVector<Value>(ValueRange)> at,
                         Value out, Value i, Value j)>
          below);
  /// (I + A)^-1 of strictly lower A, by forward substitution per matrix.
  void lowerTriInv(TriInvOp op);
  /// prod_{s < j <= t} a[j] below the diagonal, row by row.
  void lowerDecayMask(DecayMaskOp op);
  /// nl.conv over a chunk's rows, continuing and advancing its history.
  void lowerChunkConv(ChunkConvOp op);
  void lowerTranspose(TransposeOp op);

  ModelOp model;
  const nlc::ModelABI &abi;
  OpBuilder &b;
  Location loc;
  Block *entry = nullptr;
  SmallVector<Value> paramArgs, stateArgs, outputArgs;
  Value xArg, activeArg, fireArg;
  /// The backward's parameter gradients, state adjoints, input cotangent.
  SmallVector<Value> gradArgs, adjointArgs;
  Value dxArg;
  /// The backward's nl.set_adjoint ops, written together at its end.
  SmallVector<SetAdjointOp> pendingAdjoints;
  /// The head a step of a one-head model (`head_split`) computes (i64).
  Value headArg;
  DenseMap<Value, Value> buffers;
  /// For a weight of a `chunk_prefix` read: the pending steps to subtract
  /// from it wherever a projection loads it.
  DenseMap<Value, Value> pendingOf;
  /// The chunk entry's transposed copies of matmul operands, by buffer: an
  /// operand used transposed by several products (a layer's weights, by the
  /// keys' and the queries' passes) is copied once.
  DenseMap<Value, Value> transposedCopies;
  /// Outer products left to their only consumer, an MLP update: the two
  /// vectors' buffers.
  DenseMap<Value, std::pair<Value, Value>> lazyOuter;
  /// The nl.assign ops of a chunk step: written after its outputs.
  SmallVector<AssignOp> pendingAssigns;
  /// The nl.accumulate ops of a chunk step: applied after the assigns.
  SmallVector<AccumulateOp> pendingAccumulates;
  /// Products computed at the end of a chunk step straight into the state
  /// or accumulator they update.
  DenseSet<Operation *> fusedProducts;
  /// Elementwise ops whose only use is an nl.assign: computed at the end of
  /// the chunk straight into the state they replace.
  DenseSet<Operation *> intoState;
  static constexpr int64_t kMaxStackScratch = 64 * 1024;
  /// Whether large scratch goes to thread-local globals (the chunk entry).
  bool threadLocalScratch = false;
  int64_t numGlobalScratch = 0;
  llvm::StringMap<UpdateOp> updates;
  llvm::StringMap<int> levelIndex;
  DenseMap<Operation *, int> convIndex;
};

} // namespace nlc::detail

#endif // NLC_LIB_CONVERSION_MODELLOWERING_H
