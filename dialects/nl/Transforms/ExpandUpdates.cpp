//===- ExpandUpdates.cpp - Learning rules as explicit dataflow ------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// Every nl.update of a learning level becomes the rule's math written with
// compute ops over explicit states: the gradient of one token, an
// nl.learn that adds it to the pending chunk (and keeps the gates the apply
// uses), and an nl.apply that runs when the level fires. Every nl.read of
// such a level becomes an nl.load of its memory and a product. The step's
// ops are put in execution order first (orderStepOps), so a load sees
// exactly the stores above it.
//
//===----------------------------------------------------------------------===//

#include "nl/IR/NLDependencies.h"
#include "nl/IR/NLRules.h"
#include "nl/IR/NLTypes.h"
#include "nl/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Traits.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/StringSet.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLEXPANDUPDATES
#include "nl/Transforms/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;

namespace {

using Shape = SmallVector<int64_t>;

Shape shapeOf(Value v) { return TensorMath::shapeOf(v); }

/// How the tensors of a level's memory are laid out, which decides how a
/// gate (a scalar, one value per head or one per key channel) meets them.
enum class Layout { Matrix, MlpPart, Plain };

/// The states and gates of one learning level, and the builders of its
/// rule's math.
class RuleExpander {
public:
  RuleExpander(ModelOp model, OpBuilder &b,
               const llvm::DenseMap<StringRef, UpdateOp> &updates)
      : model(model), b(b), updates(updates) {}

  /// Expands the update `u` of its level (and of the levels its `via`
  /// names); `b` is set before `u`.
  LogicalResult expand(UpdateOp u);

private:
  /// M3's slow momentum level: its nl.learn of the gradient `g` and its
  /// nl.apply, after the weight's apply.
  LogicalResult expandM3Slow(UpdateOp u, Value g, Shape shape, Layout layout,
                             int64_t heads);
  /// Newton-Schulz of `v` with `rule`'s ns_steps (muon's output map).
  Value newtonSchulzOf(Value v, RuleAttr rule) {
    return algorithmEntry(Algorithm::muon).outputMap(math, v, rule);
  }

  ModelOp model;
  OpBuilder &b;
  const llvm::DenseMap<StringRef, UpdateOp> &updates;
  Location loc = UnknownLoc::get(b.getContext());

  //===--- Small builders (TensorMath at this update's location) --------===//

  TensorMath math{b, UnknownLoc::get(b.getContext())};
  RankedTensorType ty(ArrayRef<int64_t> shape) { return math.type(shape); }
  Value splat(double v, ArrayRef<int64_t> shape = {}) {
    return math.splat(v, shape);
  }
  Value add(Value x, Value y) { return math.add(x, y); }
  Value sub(Value x, Value y) { return math.sub(x, y); }
  Value mul(Value x, Value y) { return math.mul(x, y); }
  Value div(Value x, Value y) { return math.div(x, y); }
  Value reshape(Value v, ArrayRef<int64_t> to) { return math.reshape(v, to); }
  Value matvec(Value M, Value x) { return math.matvec(M, x); }
  Value rowSum(Value v) { return math.rowSum(v); }

  //===--- States ---------------------------------------------------------===//

  SymbolRefAttr ref(LevelOp level, StringRef state, StringRef part = {}) {
    SmallVector<FlatSymbolRefAttr> nested = {
        FlatSymbolRefAttr::get(b.getContext(), state)};
    if (!part.empty())
      nested.push_back(FlatSymbolRefAttr::get(b.getContext(), part));
    return SymbolRefAttr::get(b.getStringAttr(level.getSymName()), nested);
  }
  Value load(SymbolRefAttr state, ArrayRef<int64_t> shape) {
    return LoadOp::create(b, loc, ty(shape), state);
  }
  void store(SymbolRefAttr state, Value v) {
    StoreOp::create(b, loc, state, v);
  }
  /// A bookkeeping state of `level` (zeros, the role given), made once.
  SymbolRefAttr hidden(LevelOp level, StringRef name, ArrayRef<int64_t> shape,
                       StateRole role, Attribute init = {}) {
    for (StateOp s : level.getStates())
      if (s.getSymName() == name)
        return ref(level, name);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToEnd(&level.getBody().front());
    StateOp::create(
        b, level.getLoc(), b.getStringAttr(name), TypeAttr::get(ty(shape)),
        init ? cast<InitializerAttrInterface>(init)
             : InitializerAttrInterface(ZerosAttr::get(b.getContext())),
        StateRoleAttr::get(b.getContext(), role));
    return ref(level, name);
  }

  //===--- Gates ----------------------------------------------------------===//

  /// `g` shaped to broadcast against a tensor of shape `target` of a memory
  /// of `heads` heads as the lowering reads gates: a scalar everywhere, one
  /// value per head along the leading dimension, one per key channel along
  /// the last (matrix memories only), or one per element (a buffer).
  FailureOr<Value> gateFor(Value g, Layout layout, ArrayRef<int64_t> target,
                           int64_t heads, Operation *user) {
    if (!g)
      return Value();
    Shape s = shapeOf(g);
    if (ShapedType::getNumElements(s) == 1 && s.size() <= target.size())
      return g;
    bool perHead = heads > 1 && (s == Shape{heads} || s == Shape{heads, 1});
    if (perHead && layout != Layout::Plain) {
      Shape to(target.size(), 1);
      to[0] = heads;
      return reshape(g, to);
    }
    if (layout == Layout::Matrix && s.back() == target.back() &&
        (heads == 1 ? s.size() == 1 : s == Shape{heads, target.back()})) {
      Shape to(target.size(), 1);
      to.back() = target.back();
      if (heads > 1)
        to[0] = heads;
      return reshape(g, to);
    }
    if (layout == Layout::Plain &&
        ShapedType::getNumElements(s) == ShapedType::getNumElements(target) &&
        s.size() <= target.size())
      return reshape(g, target);
    return user->emitOpError()
           << "has a gate of type " << g.getType()
           << " that nl-expand-updates cannot lay over a state of shape ["
           << llvm::make_range(target.begin(), target.end())
           << "] (scalars, one value per head or per key channel)";
  }
};

/// Why nl-expand-updates leaves `level`'s rule alone, or empty.
std::string notExpanded(ModelOp model, LevelOp level, RuleAttr rule,
                        int64_t period) {
  Algorithm algorithm = rule.getAlgorithm();
  const AlgorithmEntry &entry = algorithmEntry(algorithm);
  if (!entry.expanded)
    return "algorithm '" + stringifyAlgorithm(algorithm).str() + "'";
  if (!entry.chunked && period > 1)
    return "'algorithm = " + stringifyAlgorithm(algorithm).str() +
           "' on a level of period above 1";
  // The Omega rule as the fused back end compiles it: gd, per token, the
  // gradients at the old state, no preconditioner.
  if (rule.getWindow() > 1 &&
      (period > 1 || algorithm != Algorithm::gd ||
       rule.getPrecond() != Precond::none ||
       rule.getLrPlacement() != LrPlacement::per_token ||
       (rule.getRetention() == Retention::decay &&
        rule.getDecayOrder() == DecayOrder::before_grad) ||
       !isa<MatrixType>(level.getMemory().getType())))
    return "the Omega rule ('window' above 1) other than with gd on a matrix "
           "memory of period 1 (per-token lr, decoupled decay, no "
           "preconditioner)";
  if (!retentionEntry(rule.getRetention()).expanded)
    return "retention '" + stringifyRetention(rule.getRetention()).str() + "'";
  if (algorithm == Algorithm::dgd &&
      rule.getLrPlacement() != LrPlacement::per_token)
    return "'algorithm = dgd' with 'lr_placement = per_chunk'";
  if (rule.getChunkApply() == ChunkApply::every_token &&
      (period <= 1 || isa<MlpType>(level.getMemory().getType())))
    return "'chunk_apply = every_token' on " +
           std::string(period <= 1 ? "a level of period 1" : "an MLP memory");
  if (rule.getChunkApply() == ChunkApply::every_token &&
      level.getTail() == TailPolicy::drop)
    return "'chunk_apply = every_token' with 'tail drop' (its steps are "
           "applied at once; nothing is left to drop)";
  if (rule.getRead() == ReadOrder::chunk_prefix &&
      rule.getLrPlacement() != LrPlacement::per_token)
    return "'read = chunk_prefix' with 'lr_placement = per_chunk'";
  // Delta momentum (NL Eqs 48-49) where its key, the gradient, is one
  // token's: a plain buffer's momentum of period 1.
  for (FlatSymbolRefAttr ref : rule.getViaLevels())
    if (LevelOp opt = model.lookupLevel(ref.getValue()))
      if (RuleAttr r = opt.getRuleAttr();
          r && r.getPrecond() == Precond::delta &&
          (algorithm != Algorithm::momentum || period != 1 ||
           !isa<RankedTensorType>(level.getMemory().getType())))
        return "delta momentum (a 'via' level with 'precond = delta') other "
               "than the momentum of a plain buffer of period 1";
  if (isa<MlpType>(level.getMemory().getType()) &&
      (algorithm == Algorithm::dgd || !rule.getViaLevels().empty()))
    return "an MLP memory with 'algorithm = " +
           stringifyAlgorithm(algorithm).str() + "' or 'via' levels";
  return {};
}

LogicalResult RuleExpander::expand(UpdateOp u) {
  loc = u.getLoc();
  math.setLocation(loc);
  LevelOp level = model.lookupLevel(u.getLevel());
  RuleAttr rule = level.getRuleAttr();
  ScheduleAttr schedule = level.getScheduleAttr();
  if (!schedule)
    return u.emitOpError() << "needs the schedule of @" << level.getSymName()
                           << "; run nl-verify-schedule first";
  int64_t period = schedule.getPeriod();
  if (std::string why = notExpanded(model, level, rule, period); !why.empty())
    return u.emitOpError() << "feeds @" << level.getSymName()
                           << ", whose rule uses " << why
                           << "; nl-expand-updates does not write that as "
                              "explicit updates yet";
  // The Titans paper's mini-batch form: every step applied at once (as on
  // a per-token level), every gradient at the chunk-start memory, kept in
  // @__chunk_start; @__chunk_fresh is 1 when the next token starts a chunk.
  bool everyToken = rule.getChunkApply() == ChunkApply::every_token;
  bool chunked = period > 1 && !everyToken;
  Algorithm algorithm = rule.getAlgorithm();
  Type memoryType = level.getMemory().getType();
  auto mlp = dyn_cast<MlpType>(memoryType);
  auto matrix = dyn_cast<MatrixType>(memoryType);
  Layout layout = mlp      ? Layout::MlpPart
                  : matrix ? Layout::Matrix
                           : Layout::Plain;
  int64_t heads = mlp ? mlp.getHeads() : matrix ? matrix.getHeads() : 1;
  SmallVector<StateOp> states = llvm::to_vector(level.getStates());
  StringRef memName = states[0].getSymName();
  SmallVector<FlatSymbolRefAttr> via = rule.getViaLevels();
  UpdateOp momentumUpdate =
      via.empty() ? UpdateOp() : updates.lookup(via[0].getValue());
  // Momentum, or momentum through an output map (muon: Newton-Schulz).
  bool momentumLike =
      algorithm == Algorithm::momentum || algorithm == Algorithm::muon;
  Value lrLive = u.getLr();
  UpdateOp lrOwner = u;
  if (momentumLike && momentumUpdate) {
    lrLive = momentumUpdate.getLr();
    lrOwner = momentumUpdate;
  }
  // Adam and M3 feed the raw gradient to their moments (each with its own
  // lr); the others weight it by the lr as it is summed.
  bool rawMoments = algorithm == Algorithm::adam || algorithm == Algorithm::m3;
  bool perToken =
      rule.getLrPlacement() == LrPlacement::per_token && !rawMoments;

  // The tensors the rule updates: the memory, or each stored tensor of an
  // MLP memory, with the accumulator of each.
  struct Tensor {
    SymbolRefAttr mem, acc, buffer;
    Shape shape;
    Value grad; // this token's (lr-weighted) contribution
  };
  SmallVector<Tensor> tensors;
  auto accName = [&](StringRef part) {
    return part.empty() ? std::string("__acc") : ("__acc." + part).str();
  };
  if (mlp) {
    for (const MlpType::Part &p : mlp.getParts()) {
      Tensor t{ref(level, memName, p.name), {}, {}, p.shape, {}};
      if (states.size() > 1 && isa<MlpType>(states[1].getType()))
        t.buffer = ref(level, states[1].getSymName(), p.name);
      t.acc = hidden(level, accName(p.name), p.shape, StateRole::accumulator);
      tensors.push_back(t);
    }
  } else {
    Shape shape(getStorageTensorType(memoryType).getShape());
    Tensor t{ref(level, memName), {}, {}, shape, {}};
    if (momentumLike && via.empty()) {
      t.buffer = ref(level, states[1].getSymName());
    } else if (momentumLike) {
      LevelOp opt = model.lookupLevel(via[0].getValue());
      t.buffer = ref(opt, opt.getMemory().getSymName());
    }
    t.acc = hidden(level, accName({}), shape, StateRole::accumulator);
    tensors.push_back(t);
  }
  auto gate = [&](Value g, const Tensor &t) {
    return gateFor(g, layout, t.shape, heads, u);
  };

  SymbolRefAttr snapshot, fresh;
  Value chunkStart;
  // A linear objective's gradient as fed (delta momentum keys on it).
  Value rawGrad;
  // An Omega window's rings and their values after this token.
  SmallVector<std::pair<SymbolRefAttr, Value>> windows;

  //===--- This token's contribution (pure compute) ----------------------===//
  Value k = u.getKey(), v = u.getValue(), lr = lrLive;
  if (mlp) {
    if (u.getGrad().size() != tensors.size())
      return u.emitOpError()
             << "updates the MLP memory of @" << level.getSymName()
             << " without one gradient per stored tensor; "
                "run nl-expand-mlp and nl-derive-gradients "
                "first";
    for (auto [t, g] : llvm::zip(tensors, u.getGrad())) {
      FailureOr<Value> l = gate(lr, t);
      if (failed(l))
        return failure();
      t.grad = perToken ? mul(g, *l) : g;
    }
  } else {
    Tensor &t = tensors[0];
    Value grad;
    if (rule.getObjective() == Objective::linear) {
      grad = u.getSingleGrad();
      if (!grad)
        return u.emitOpError() << "feeds a level of objective 'linear' "
                                  "without a gradient";
      grad = reshape(grad, t.shape);
      rawGrad = grad;
    } else {
      if (!matrix)
        return u.emitOpError() << "feeds a key and value to a memory of type "
                               << memoryType << "; nl-expand-updates takes "
                               << "matrix memories there";
      Value M = load(t.mem, t.shape);
      if (everyToken) {
        // M0 = fresh ? M : the stored chunk start (fresh is 0 or 1).
        snapshot = hidden(level, "__chunk_start", t.shape, StateRole::snapshot);
        fresh = hidden(level, "__chunk_fresh", {1}, StateRole::snapshot,
                       OnesAttr::get(b.getContext()));
        Value f = load(fresh, {1});
        Value stale = sub(splat(1.0), f);
        Value start = load(snapshot, t.shape);
        Value mf = mul(M, f);
        Value sf = mul(start, stale);
        M = add(mf, sf);
        chunkStart = M;
      }
      FailureOr<Value> retainG = gate(u.getRetain(), t);
      if (failed(retainG))
        return failure();
      bool beforeGrad = rule.getDecayOrder() == DecayOrder::before_grad &&
                        rule.getRetention() == Retention::decay;
      Value at = beforeGrad ? mul(M, *retainG) : M;
      // The objective's gradient, from the registry: e = dL/d(Mk) (the
      // gradient e k^T), or the whole dL/dM.
      const ObjectiveEntry &objective = objectiveEntry(rule.getObjective());
      ObjectiveArgs args{at, k, v, rule, Value()};
      if (Value ds = u.getDeltaScale()) {
        Shape perHead = shapeOf(v);
        perHead.back() = 1;
        FailureOr<Value> d = gateFor(ds, Layout::MlpPart, perHead, heads, u);
        if (failed(d))
          return failure();
        args.deltaScale = *d;
      }
      if (int64_t c = rule.getWindow(); c > 1) {
        // The Omega rule (Atlas): the gradients of the last c tokens, each
        // weighted by its own token's lr, at this token's M. The windows
        // start as zeros, whose slots contribute nothing.
        if (args.deltaScale)
          return u.emitOpError() << "has a data-dependent huber threshold "
                                    "(delta_scale) on an Omega window; "
                                    "nl-expand-updates does not write that yet";
        for (auto [name, value] : {std::pair<StringRef, Value>{"keys", k},
                                   {"values", v},
                                   {"lr", lr}}) {
          Shape s = shapeOf(value);
          s.insert(s.begin(), c);
          SymbolRefAttr ring =
              hidden(level, ("__omega_" + name).str(), s, StateRole::window);
          Value now = math.shiftIn(load(ring, s), value);
          windows.push_back({ring, now});
        }
        Value sum;
        for (int64_t i = 0; i < c; ++i) {
          ObjectiveArgs slot{at, math.slot(windows[0].second, i),
                             math.slot(windows[1].second, i), rule, Value()};
          Value g =
              objective.predictionGrad
                  ? math.outer(objective.predictionGrad(math, slot), slot.key)
                  : objective.gradient(math, slot);
          FailureOr<Value> l = gate(math.slot(windows[2].second, i), t);
          if (failed(l))
            return failure();
          Value weighted = mul(g, *l);
          sum = sum ? add(sum, weighted) : weighted;
        }
        t.grad = sum;
      }
      Value coef;
      if (rule.getWindow() > 1)
        ; // summed above
      else if (objective.predictionGrad)
        coef = objective.predictionGrad(math, args);
      else
        grad = objective.gradient(math, args);
      Value rowScale;
      if (algorithm == Algorithm::dgd) {
        // One step size per head: lr' = lr / (1 + lr ||k||^2), lr / (1 + lr),
        // or the undamped M (I - k k^T) - lr (M k - v) k^T.
        Shape perHead = shapeOf(rowSum(k));
        FailureOr<Value> l = gateFor(lr, Layout::MlpPart, perHead, heads, u);
        if (failed(l))
          return failure();
        switch (rule.getDgdStep()) {
        case DgdStep::sherman_morrison: {
          Value scaled = mul(*l, rowSum(mul(k, k)));
          Value one = splat(1.0);
          rowScale = div(*l, add(one, scaled));
          break;
        }
        case DgdStep::unit_norm: {
          Value one = splat(1.0);
          rowScale = div(*l, add(one, *l));
          break;
        }
        case DgdStep::undamped: {
          Value pred = add(coef, v);
          Value step = mul(*l, coef);
          coef = add(pred, step);
          break;
        }
        }
      }
      if (rule.getPrecond() == Precond::delta)
        coef = add(coef, matvec(M, k));
      if (coef)
        grad = OuterOp::create(b, loc, ty(t.shape), coef, k);
      // DGD's step size is in its row scale (1 when undamped); every other
      // rule weights the gradient by the lr below.
      if (rowScale) {
        Shape s = shapeOf(rowScale);
        s.push_back(1);
        grad = mul(grad, reshape(rowScale, s));
      }
      if (algorithm == Algorithm::dgd) {
        t.grad = grad;
        grad = Value();
      }
    }
    if (grad) {
      FailureOr<Value> l = gate(lr, t);
      if (failed(l))
        return failure();
      t.grad = perToken ? mul(grad, *l) : grad;
    }
  }

  //===--- nl.learn: into the pending chunk ------------------------------===//
  // The accumulator holds the pending chunk's sum (a per-token level's: this
  // token's contribution); a chunked level also keeps the last token's
  // gates for the apply, which may run in the flush entry.
  SmallVector<UpdateOp> owners = {u};
  if (momentumUpdate)
    owners.push_back(momentumUpdate);
  llvm::StringMap<SymbolRefAttr> stash;
  Region *learnBody;
  {
    auto learn = LearnOp::create(b, loc, level.getSymName());
    learnBody = &learn.getBody();
    learn.getBody().emplaceBlock();
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&learn.getBody().front());
    if (everyToken) {
      store(snapshot, chunkStart);
      store(fresh, splat(0.0, {1}));
    }
    for (auto [ring, now] : windows)
      store(ring, now);
    for (Tensor &t : tensors)
      store(t.acc, chunked ? add(load(t.acc, t.shape), t.grad) : t.grad);
    for (UpdateOp o : chunked ? owners : SmallVector<UpdateOp>())
      for (auto [name, live] : {std::pair<StringRef, Value>{"lr", o.getLr()},
                                {"retain", o.getRetain()},
                                {"momentum_decay", o.getMomentumDecay()}}) {
        if (!live)
          continue;
        std::string key = ("__gate." + o.getLevel() + "." + name).str();
        stash[key] = hidden(level, key, shapeOf(live), StateRole::gate);
        store(stash[key], live);
      }
  }
  // A gate as the apply reads it: the live value of a per-token level, the
  // stored one of a chunked level.
  auto applied = [&](UpdateOp o, StringRef name, Value live) -> Value {
    if (!live)
      return {};
    if (!chunked)
      return live;
    std::string key = ("__gate." + o.getLevel() + "." + name).str();
    return load(stash[key], shapeOf(live));
  };

  //===--- nl.apply: at a fire -------------------------------------------===//
  // (every_token: the step runs in the nl.learn, every active token; the
  // fire only starts the next chunk.)
  auto apply = ApplyOp::create(b, loc, level.getSymName());
  apply.getBody().emplaceBlock();
  OpBuilder::InsertionGuard guard(b);
  if (everyToken) {
    b.setInsertionPointToStart(&apply.getBody().front());
    store(fresh, splat(1.0, {1}));
    b.setInsertionPointToEnd(&learnBody->front());
  } else {
    b.setInsertionPointToStart(&apply.getBody().front());
  }
  Value retain = rule.getRetention() == Retention::decay
                     ? applied(u, "retain", u.getRetain())
                     : Value();
  Value lrSelf = applied(u, "lr", u.getLr());
  Value lrAcc = applied(lrOwner, "lr", lrLive);
  Value mdecay = applied(u, "momentum_decay", u.getMomentumDecay());
  Value optRetain = momentumUpdate ? applied(momentumUpdate, "retain",
                                             momentumUpdate.getRetain())
                                   : Value();
  double eps = rule.getEps() ? rule.getEps()->convertToDouble() : 1e-8;
  LevelOp momentumLevel =
      momentumUpdate ? model.lookupLevel(momentumUpdate.getLevel()) : LevelOp();
  bool deltaMomentum =
      momentumLevel && momentumLevel.getRuleAttr() &&
      momentumLevel.getRuleAttr().getPrecond() == Precond::delta;
  if (deltaMomentum && !rawGrad)
    return u.emitOpError() << "feeds a delta momentum level without a "
                              "gradient (objective 'linear')";
  for (Tensor &t : tensors) {
    Value a = load(t.acc, t.shape);
    FailureOr<Value> lrAccG = gate(lrAcc, t), retainG = gate(retain, t),
                     lrSelfG = gate(lrSelf, t);
    if (failed(lrAccG) || failed(retainG) || failed(lrSelfG))
      return failure();
    if (!perToken && !rawMoments)
      a = mul(a, *lrAccG);
    Value kept = mul(load(t.mem, t.shape), *retainG);
    Value next;
    switch (algorithm) {
    case Algorithm::gd:
    case Algorithm::dgd:
      next = sub(kept, a);
      break;
    case Algorithm::momentum:
    case Algorithm::muon: {
      // S = decay S - G; M = retain M + sigma(S) (times the lr of a `via`
      // momentum's level), sigma the algorithm's output map (NL Eq 52).
      FailureOr<Value> decay = gate(via.empty() ? mdecay : optRetain, t);
      if (failed(decay))
        return failure();
      Value old = load(t.buffer, t.shape);
      Value s = sub(mul(old, *decay), a);
      if (deltaMomentum) {
        // m (decay I - lr g g^T) - lr g: the momentum's own inner objective
        // keys on the gradient (NL Eqs 48-49).
        FailureOr<Value> lrG = gate(lrAcc, t);
        if (failed(lrG))
          return failure();
        Value dot = rowSum(math.flatten(mul(old, rawGrad)));
        Value keyed = mul(mul(rawGrad, dot), *lrG);
        s = sub(s, keyed);
      }
      store(t.buffer, s);
      const AlgorithmEntry &entry = algorithmEntry(algorithm);
      Value o = entry.outputMap ? entry.outputMap(math, s, rule) : s;
      next = add(kept, via.empty() ? o : mul(o, *lrSelfG));
      break;
    }
    case Algorithm::adam:
    case Algorithm::m3: {
      // The first two via levels keep the moments of the raw gradient,
      // M1 = r1 M1 + b1 g and V = r2 V + b2 g^2; the step is lr M1 /
      // (sqrt(V) + eps) (Adam) or, NL Algorithm 1, lr (NS(M1) + alpha O2) /
      // (sqrt(V) + eps) with O2 the slow momentum's Newton-Schulz as of its
      // last fire (kept by the slow level, expandM3Slow).
      SmallVector<Value> moments;
      for (unsigned i : {0u, 1u}) {
        LevelOp opt = model.lookupLevel(via[i].getValue());
        UpdateOp o = updates.lookup(via[i].getValue());
        SymbolRefAttr m = this->ref(opt, opt.getMemory().getSymName());
        FailureOr<Value> r = gate(o.getRetain(), t), l = gate(o.getLr(), t);
        if (failed(r) || failed(l))
          return failure();
        Value term = i == 0 ? a : mul(a, a);
        Value old = load(m, t.shape);
        Value fed = mul(term, *l);
        Value decayed = *r ? mul(old, *r) : old;
        Value moment = add(decayed, fed);
        store(m, moment);
        moments.push_back(moment);
      }
      Value num = moments[0];
      if (algorithm == Algorithm::m3) {
        LevelOp slow = model.lookupLevel(via[2].getValue());
        SymbolRefAttr m3Output =
            hidden(slow, "__m3_o2", t.shape, StateRole::snapshot);
        Value o1 = newtonSchulzOf(moments[0], rule);
        double alpha = rule.getSlowWeight()
                           ? rule.getSlowWeight()->convertToDouble()
                           : 1.0;
        // One op per statement: C++ leaves the order of arguments open.
        Value stored = load(m3Output, t.shape);
        Value o2 = mul(stored, splat(alpha));
        num = add(o1, o2);
      }
      Value root = math.sqrt(moments[1]);
      Value den = add(root, splat(eps));
      next = sub(kept, mul(div(num, den), *lrSelfG));
      break;
    }
    default:
      llvm_unreachable("rejected by notExpanded");
    }
    store(t.mem, next);
    if (chunked)
      store(t.acc, splat(0.0, t.shape));
  }
  if (algorithm == Algorithm::m3) {
    b.setInsertionPointAfter(apply);
    return expandM3Slow(u, tensors[0].grad, tensors[0].shape, layout, heads);
  }
  return success();
}

LogicalResult RuleExpander::expandM3Slow(UpdateOp u, Value g, Shape shape,
                                         Layout layout, int64_t heads) {
  // M3's slow momentum is a level of its own (period f): it learns the
  // gradients of its chunk into its accumulator (its gates stashed, as a
  // chunked level's), and at its fire takes M2 = r3 M2 + b3 sum, O2 =
  // NS(M2), which the weight uses from the next token on.
  LevelOp level = model.lookupLevel(u.getLevel());
  SmallVector<FlatSymbolRefAttr> via = level.getRuleAttr().getViaLevels();
  LevelOp slow = model.lookupLevel(via[2].getValue());
  UpdateOp o = updates.lookup(via[2].getValue());
  SymbolRefAttr pending =
      hidden(slow, "__m3_pending", shape, StateRole::accumulator);
  SymbolRefAttr memory = ref(slow, slow.getMemory().getSymName());
  auto gateOf = [&](Value gv) { return gateFor(gv, layout, shape, heads, u); };
  // Its gates, stashed by its nl.learn for its apply (which may run in the
  // flush entry): {state, live value} of lr and retain.
  struct Stash {
    SymbolRefAttr state;
    Value live;
  };
  auto stashOf = [&](StringRef name, Value live) -> Stash {
    if (!live)
      return {};
    std::string key = ("__gate." + o.getLevel() + "." + name).str();
    return {hidden(slow, key, shapeOf(live), StateRole::gate), live};
  };
  Stash lrStash = stashOf("lr", o.getLr());
  Stash retainStash = stashOf("retain", o.getRetain());
  {
    auto learn = LearnOp::create(b, loc, slow.getSymName());
    learn.getBody().emplaceBlock();
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&learn.getBody().front());
    store(pending, add(load(pending, shape), g));
    for (const Stash &st : {lrStash, retainStash})
      if (st.live)
        store(st.state, st.live);
  }
  auto apply = ApplyOp::create(b, loc, slow.getSymName());
  apply.getBody().emplaceBlock();
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&apply.getBody().front());
  auto stashed = [&](const Stash &st) -> FailureOr<Value> {
    if (!st.live)
      return Value();
    return gateOf(load(st.state, shapeOf(st.live)));
  };
  FailureOr<Value> l = stashed(lrStash), r = stashed(retainStash);
  if (failed(l) || failed(r))
    return failure();
  Value old = load(memory, shape);
  Value fed = mul(load(pending, shape), *l);
  Value decayed = *r ? mul(old, *r) : old;
  Value moment = add(decayed, fed);
  store(memory, moment);
  store(pending, splat(0.0, shape));
  store(hidden(slow, "__m3_o2", shape, StateRole::snapshot),
        newtonSchulzOf(moment, level.getRuleAttr()));
  return success();
}

/// The accumulator `__acc` (`__acc.<part>`) a chunked `read = chunk_prefix`
/// level's reads subtract (TTT: the chunk-start state minus the pending
/// chunk's lr-weighted gradients, this token's included), or null when the
/// level reads its memory as it is.
FailureOr<SymbolRefAttr> prefixAccumulator(Operation *read, LevelOp level,
                                           StringRef part) {
  RuleAttr rule = level.getRuleAttr();
  ScheduleAttr schedule = level.getScheduleAttr();
  // A per-token level applies its step before the read: nothing pending.
  if (!rule || rule.getRead() != ReadOrder::chunk_prefix ||
      !level.learnsOnline() || !schedule || schedule.getPeriod() <= 1)
    return SymbolRefAttr();
  std::string name = part.empty() ? "__acc" : ("__acc." + part).str();
  for (StateOp s : level.getStates())
    if (s.getSymName() == name) {
      MLIRContext *ctx = read->getContext();
      return SymbolRefAttr::get(StringAttr::get(ctx, level.getSymName()),
                                {FlatSymbolRefAttr::get(ctx, name)});
    }
  return read->emitOpError() << "reads @" << level.getSymName()
                             << " (read = chunk_prefix) before its update "
                                "was written as explicit updates";
}

/// A read of a matrix memory: M q (TTT's (M - G) q for chunk_prefix), at
/// the position the order gave it.
LogicalResult expandRead(OpBuilder &b, ReadOp read, LevelOp level) {
  auto matrix = cast<MatrixType>(level.getMemory().getType());
  RankedTensorType storage = getStorageTensorType(matrix);
  SymbolRefAttr ref = SymbolRefAttr::get(
      b.getStringAttr(level.getSymName()),
      {FlatSymbolRefAttr::get(b.getContext(), level.getMemory().getSymName())});
  Value M = LoadOp::create(b, read.getLoc(), storage, ref);
  FailureOr<SymbolRefAttr> acc = prefixAccumulator(read, level, {});
  if (failed(acc))
    return failure();
  if (*acc) {
    Value G = LoadOp::create(b, read.getLoc(), storage, *acc);
    M = SubOp::create(b, read.getLoc(), storage, M, G);
  }
  Value y = LinearOp::create(b, read.getLoc(), read.getResult().getType(),
                             read.getQuery(), M, Value(), UnitAttr());
  read.getResult().replaceAllUsesWith(y);
  return success();
}

/// The views nl-expand-mlp wrote of an MLP memory: a load per tensor (less
/// the pending chunk's sum for a chunk_prefix view).
LogicalResult expandWeights(OpBuilder &b, WeightsOp weights, LevelOp level) {
  auto mlp = cast<MlpType>(level.getMemory().getType());
  for (auto [p, r] : llvm::zip(mlp.getParts(), weights.getResults())) {
    SymbolRefAttr ref = SymbolRefAttr::get(
        b.getStringAttr(level.getSymName()),
        {FlatSymbolRefAttr::get(b.getContext(), level.getMemory().getSymName()),
         FlatSymbolRefAttr::get(b.getContext(), p.name)});
    Value w = LoadOp::create(b, weights.getLoc(), r.getType(), ref);
    if (weights.getChunkPrefix()) {
      FailureOr<SymbolRefAttr> acc = prefixAccumulator(weights, level, p.name);
      if (failed(acc))
        return failure();
      if (*acc) {
        Value G = LoadOp::create(b, weights.getLoc(), r.getType(), *acc);
        w = SubOp::create(b, weights.getLoc(), r.getType(), w, G);
      }
    }
    r.replaceAllUsesWith(w);
  }
  return success();
}

struct NLExpandUpdatesPass
    : public mlir::nl::impl::NLExpandUpdatesBase<NLExpandUpdatesPass> {
  void runOnOperation() override {
    ModelOp model = getOperation();
    StepOp step = model.getStep();
    if (!step || step->getParentOfType<ModelOp>() != model)
      return;
    if (model.getChunkStep()) {
      model.emitOpError() << "has a chunk form (nl-chunk); nl-expand-updates "
                             "runs on the per-token step only";
      return signalPassFailure();
    }
    // Materialize the execution order: every later op sees the stores of
    // the ops above it.
    FailureOr<SmallVector<Operation *>> order = orderStepOps(model, step);
    if (failed(order))
      return signalPassFailure();
    Block &body = step.getBody().front();
    for (Operation *op : *order)
      op->moveBefore(body.getTerminator());

    llvm::DenseMap<StringRef, UpdateOp> updates;
    step.walk([&](UpdateOp u) { updates[u.getLevel()] = u; });
    llvm::StringSet<> optimizers;
    for (LevelOp level : model.getLevels())
      if (RuleAttr rule = level.getRuleAttr())
        for (FlatSymbolRefAttr ref : rule.getViaLevels())
          optimizers.insert(ref.getValue());
    // The levels whose rule becomes explicit: every online learning level
    // with a parametric memory (a KV cache keeps its nl.update/nl.read).
    auto expands = [&](LevelOp level) {
      return level && level.learnsOnline() && level.getRuleAttr() &&
             !isa<KvCacheType>(level.getMemory().getType()) &&
             !optimizers.contains(level.getSymName());
    };

    OpBuilder b(model.getContext());
    RuleExpander expander(model, b, updates);
    SmallVector<Operation *> dead;
    for (Operation *op : *order) {
      b.setInsertionPoint(op);
      if (auto u = dyn_cast<UpdateOp>(op)) {
        LevelOp level = model.lookupLevel(u.getLevel());
        if (optimizers.contains(u.getLevel())) {
          dead.push_back(u); // its gates feed the level it serves
          continue;
        }
        if (!expands(level))
          continue;
        if (failed(expander.expand(u)))
          return signalPassFailure();
        dead.push_back(u);
      } else if (auto read = dyn_cast<ReadOp>(op)) {
        LevelOp level = model.lookupLevel(read.getLevel());
        if (!level || !isa<MatrixType>(level.getMemory().getType()))
          continue;
        if (failed(expandRead(b, read, level)))
          return signalPassFailure();
        dead.push_back(read);
      } else if (auto weights = dyn_cast<WeightsOp>(op)) {
        LevelOp level = model.lookupLevel(weights.getLevel());
        if (!isa<MlpType>(level.getMemory().getType()))
          continue;
        if (failed(expandWeights(b, weights, level)))
          return signalPassFailure();
        dead.push_back(weights);
      }
    }
    for (Operation *op : llvm::reverse(dead))
      op->erase();
    // Gates shaped for a use the rule did not make: erased, users first.
    SmallVector<Operation *> all;
    step.walk([&](Operation *op) { all.push_back(op); });
    for (Operation *op : llvm::reverse(all))
      if (op != step.getOperation() && isOpTriviallyDead(op))
        op->erase();
  }
};

} // namespace
