//===- ModelABI.cpp - The C ABI and manifest of a compiled model ----------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "nlc/ABI/ModelABI.h"

#include "nl/IR/NLDialect.h"
#include "nl/IR/NLRules.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <charconv>

using namespace mlir;
using namespace mlir::nl;

using Kind = nlc::ABITensor::Kind;

bool nlc::ABITensor::isCounter() const { return isCounterKind(kind); }

nlc::ABITensor::Role nlc::ABITensor::role() const {
  switch (kind) {
  case Kind::param:
    return Role::Param;
  case Kind::state:
    if (stateRole == StateRole::accumulator)
      return Role::Accumulator;
    if (stateRole == StateRole::gate)
      return Role::Gate;
    if (stateRole == StateRole::window)
      return Role::History;
    return Role::State;
  case Kind::accumulator:
  case Kind::defer_dy:
  case Kind::defer_x:
  case Kind::defer_count:
  case Kind::m3_pending:
    return Role::Accumulator;
  case Kind::gate_lr:
  case Kind::gate_retain:
  case Kind::gate_momentum_decay:
    return Role::Gate;
  case Kind::history:
    return Role::History;
  default:
    return Role::State;
  }
}

int nlc::ModelABI::find(Kind kind, int level, llvm::StringRef stateName,
                        llvm::StringRef part, llvm::StringRef of) const {
  for (auto [i, t] : llvm::enumerate(state))
    if (t.kind == kind && (level < 0 || t.level == level) &&
        t.state == stateName && t.part == part && t.of == of)
      return static_cast<int>(i);
  return -1;
}

int nlc::ModelABI::find(SymbolRefAttr ref) const {
  ArrayRef<FlatSymbolRefAttr> nested = ref.getNestedReferences();
  int level = levelIndex(ref.getRootReference());
  if (level < 0 || nested.empty() || nested.size() > 2)
    return -1;
  return find(Kind::state, level, nested[0].getValue(),
              nested.size() == 2 ? nested[1].getValue() : StringRef());
}

int nlc::ModelABI::findHistory(int64_t index) const {
  for (auto [i, t] : llvm::enumerate(state))
    if (t.kind == Kind::history && t.index == index)
      return static_cast<int>(i);
  return -1;
}

int nlc::ModelABI::levelIndex(llvm::StringRef name) const {
  for (auto [i, l] : llvm::enumerate(levels))
    if (l.name == name)
      return static_cast<int>(i);
  return -1;
}

namespace {

/// Why the CPU back end cannot compile `level` yet, or empty. The rule of
/// a level in the explicit-update form (`explicitForm`, its updates already
/// written as nl ops) is nl-expand-updates' to judge, not the fused
/// lowering's.
std::string unsupported(LevelOp level, bool chunked, bool explicitForm) {
  StateOp memory = level.getMemory();
  if (!memory)
    return "a level without state";
  Type type = memory.getType();
  if (isa<MlpType>(type)) {
    // The derived gradients feed the plain algorithms with fused buffers.
    RuleAttr rule = level.getRuleAttr();
    if (rule && (!rule.getViaLevels().empty() ||
                 (rule.getAlgorithm() != Algorithm::gd &&
                  rule.getAlgorithm() != Algorithm::momentum)))
      return ("an MLP memory with algorithm '" +
              stringifyAlgorithm(rule.getAlgorithm()) + "'" +
              (rule.getViaLevels().empty() ? "" : " kept in 'via' levels") +
              " (MLP memories take gd or a fused momentum)")
          .str();
    if (rule && rule.getDecayOrder() == DecayOrder::before_grad &&
        rule.getRetention() == Retention::decay)
      return "an MLP memory with 'decay_order = before_grad'";
    if (rule && rule.getWindow() != 1)
      return "an Omega-rule window on an MLP memory";
  }
  if (auto cache = dyn_cast<KvCacheType>(type))
    if (cache.getWindow() == 0)
      return "an unbounded KV cache (window = 0; the CPU back end keeps a "
             "fixed-size ring buffer)";
  if (auto tensor = dyn_cast<RankedTensorType>(type))
    if (tensor.getRank() == 0)
      return "a rank-0 state";
  if (auto matrix = dyn_cast<MatrixType>(type))
    if (matrix.getLayout() != Layout::out_in)
      return "a matrix memory with layout = in_out";
  RuleAttr rule = level.getRuleAttr();
  if (!rule || explicitForm)
    return {};
  // Where each objective and retention compiles is the rule registry's.
  const ObjectiveEntry &objective = objectiveEntry(rule.getObjective());
  // Gradients of objectives without an MLP form are written for matrix
  // memories; DGD's proximal step is derived for l2 only (the verifier).
  if (objective.keyValue && !objective.mlpMemory && !isa<MatrixType>(type))
    return ("objective '" + stringifyObjective(rule.getObjective()) +
            "' on a memory that is not a matrix")
        .str();
  if (!objective.fused)
    return ("objective '" + stringifyObjective(rule.getObjective()) +
            "' (its explicit-update form compiles: --update-form=expanded)")
        .str();
  if (!retentionEntry(rule.getRetention()).fused)
    return ("retention '" + stringifyRetention(rule.getRetention()) + "'")
        .str();

  if (rule.getWindow() != 1) {
    if (chunked)
      return "an Omega-rule window on a level with a period above 1";
    if (rule.getAlgorithm() != Algorithm::gd || !rule.getViaLevels().empty())
      return "an Omega-rule window with an algorithm other than 'gd'";
    if (rule.getDecayOrder() == DecayOrder::before_grad)
      return "an Omega-rule window with 'decay_order = before_grad'";
    if (!isa<MatrixType>(type))
      return "an Omega-rule window on a memory that is not a matrix";
  }
  // nl-expand-mlp folds an MLP memory's preconditioner into its gradient.
  // Delta momentum (precond on objective 'linear') is checked by computeABI.
  if (rule.getPrecond() != Precond::none && !isa<MlpType>(type) &&
      rule.getObjective() != Objective::linear &&
      (!isa<MatrixType>(type) || rule.getAlgorithm() != Algorithm::gd))
    return "'precond = delta' other than on an MLP memory or a matrix memory "
           "with algorithm "
           "'gd'";
  // Where each algorithm compiles is the rule registry's.
  if (chunked && !algorithmEntry(rule.getAlgorithm()).chunked)
    return ("algorithm '" + stringifyAlgorithm(rule.getAlgorithm()) +
            "' on a level with a period above 1")
        .str();
  switch (rule.getAlgorithm()) {
  case Algorithm::gd:
  case Algorithm::momentum:
    break;
  case Algorithm::m3: {
    if (!isa<MatrixType>(type))
      return "algorithm 'm3' on a memory that is not a matrix";
    auto model = level->getParentOfType<ModelOp>();
    LevelOp slow = model.lookupLevel(rule.getViaLevels().back().getValue());
    if (slow && slow.getTail() == TailPolicy::flush)
      return "algorithm 'm3' whose slow momentum has 'tail flush'";
    break;
  }
  case Algorithm::muon:
    if (!isa<MatrixType>(type))
      return "algorithm 'muon' on a memory that is not a matrix";
    break;
  case Algorithm::dgd:
    if (!isa<MatrixType>(type))
      return "algorithm 'dgd' on a memory that is not a matrix";
    if (rule.getLrPlacement() != LrPlacement::per_token)
      return "algorithm 'dgd' with lr_placement = per_chunk";
    break;
  case Algorithm::adam:
    break;
  default:
    return ("algorithm '" + stringifyAlgorithm(rule.getAlgorithm()) + "'")
        .str();
  }
  if (chunked && rule.getDecayOrder() == DecayOrder::before_grad)
    return "'decay_order = before_grad' on a level with a period above 1";
  return {};
}

} // namespace

FailureOr<nlc::ModelABI> nlc::computeABI(ModelOp model) {
  ModelABI abi;
  abi.model = model.getSymName().str();
  abi.dim = model.getDim();
  abi.hyperPeriod = model.getHyperPeriod().value_or(1);
  if (ChunkStepOp chunk = model.getChunkStep())
    abi.chunkSize = chunk.getSize();
  if (BackwardStepOp backward = model.getBackwardStep()) {
    abi.hasBackward = true;
    abi.checkpointEvery = backward.getCheckpointEvery();
    abi.truncate = backward.getTruncate();
  }

  for (ParamOp p : model.getParams()) {
    auto type = cast<RankedTensorType>(p.getType());
    ABITensor t{Kind::param, p.getSymName().str(),
                llvm::to_vector(type.getShape()), -1, p.getInitAttr()};
    t.def = p;
    abi.params.push_back(std::move(t));
  }

  // Levels that keep another level's optimizer memory.
  llvm::StringSet<> optimizerLevels;
  for (LevelOp level : model.getLevels())
    if (RuleAttr rule = level.getRuleAttr())
      for (FlatSymbolRefAttr ref : rule.getViaLevels())
        optimizerLevels.insert(ref.getValue());

  llvm::DenseMap<StringRef, UpdateOp> updates;
  llvm::StringSet<> explicitLevels;
  if (StepOp step = model.getStep()) {
    step.walk([&](UpdateOp u) { updates[u.getLevel()] = u; });
    step.walk([&](ApplyOp a) { explicitLevels.insert(a.getLevel()); });
  }

  for (auto [i, level] : llvm::enumerate(model.getLevels())) {
    ScheduleAttr schedule = level.getScheduleAttr();
    if (!schedule)
      return level.emitOpError()
             << "has no schedule; run nl-verify-schedule before lowering";
    ABILevel info;
    info.name = level.getSymName().str();
    info.op = level;
    info.period = schedule.getPeriod();
    info.infinite = level.getPeriod().isInfinite();
    info.tail = level.getTail();
    info.order = schedule.getOrder();
    info.rule = level.getRuleAttr();
    bool chunked = info.period > 1;
    std::string why = unsupported(level, chunked,
                                  explicitLevels.contains(level.getSymName()));
    // The Titans paper's mini-batch form exists in the explicit form only.
    if (RuleAttr rule = level.getRuleAttr();
        why.empty() && rule &&
        rule.getChunkApply() == ChunkApply::every_token &&
        !explicitLevels.contains(level.getSymName()))
      why = "'chunk_apply = every_token' outside the explicit-update form "
            "(compile with --update-form=expanded)";
    // Delta momentum (NL Eqs 48-49): a momentum level whose preconditioner
    // keys on the gradient it is fed. Compiled where that gradient is an
    // explicit per-token value: a plain buffer updated with `grad` every
    // token.
    if (RuleAttr rule = level.getRuleAttr();
        why.empty() && rule && rule.getObjective() == Objective::linear &&
        rule.getPrecond() == Precond::delta) {
      LevelOp served = level.getServedLevel();
      if (!served ||
          served.getRuleAttr().getAlgorithm() != Algorithm::momentum ||
          served.getRuleAttr().getObjective() != Objective::linear ||
          !isa<RankedTensorType>(served.getMemory().getType()) ||
          served.getPeriod().getEffectivePeriod() != 1)
        why = "'precond = delta' on objective 'linear' other than as the "
              "'via' momentum level of a per-token level updated with a "
              "gradient on a plain buffer (delta momentum)";
    }
    if (!why.empty())
      return level.emitOpError()
             << "uses " << why
             << "; the CPU back end does not compile that yet";

    int li = static_cast<int>(i);
    // A tensor of level `li` (its owner).
    auto add = [&](Kind kind, std::string name,
                   SmallVector<int64_t> shape) -> ABITensor & {
      abi.state.push_back({kind, std::move(name), std::move(shape), li});
      return abi.state.back();
    };
    auto counter = [&](Kind kind, std::string name,
                       int64_t maxValue) -> ABITensor & {
      ABITensor &t = add(kind, std::move(name), {1});
      t.maxValue = maxValue;
      return t;
    };
    for (StateOp s : level.getStates()) {
      std::string sym = s.getSymName().str();
      if (auto cache = dyn_cast<KvCacheType>(s.getType())) {
        // A ring buffer of the last `window` keys and values per head, the
        // next slot to write and how many slots hold tokens.
        std::string base = info.name + "." + s.getSymName().str();
        SmallVector<int64_t> lead;
        if (cache.getHeads() != 1)
          lead.push_back(cache.getHeads());
        auto ring = [&](int64_t width) {
          SmallVector<int64_t> shape(lead);
          shape.append({cache.getWindow(), width});
          return shape;
        };
        for (auto [kind, suffix, width] :
             {std::tuple{Kind::kv_keys, ".keys", cache.getKey()},
              std::tuple{Kind::kv_values, ".values", cache.getValue()}}) {
          ABITensor &t = add(kind, base + suffix, ring(width));
          t.state = sym;
          t.def = s;
        }
        // The next slot to write, and how many slots hold tokens.
        ABITensor &pos =
            counter(Kind::kv_pos, base + ".pos", cache.getWindow() - 1);
        pos.state = sym;
        pos.def = s;
        ABITensor &fill =
            counter(Kind::kv_fill, base + ".fill", cache.getWindow());
        fill.state = sym;
        fill.def = s;
        continue;
      }
      if (auto mlp = dyn_cast<MlpType>(s.getType())) {
        // One tensor per layer weight and bias. Biases start at zero, except
        // from a file, where tensor "<name>.<part>" initializes each part.
        auto fromFile = dyn_cast_or_null<FromFileAttr>(s.getInitAttr());
        for (const MlpType::Part &p : mlp.getParts()) {
          Attribute init = p.isBias ? Attribute() : s.getInitAttr();
          if (fromFile)
            init = FromFileAttr::get(s.getContext(),
                                     (fromFile.getName() + "." + p.name).str());
          ABITensor &t =
              add(Kind::state, info.name + "." + sym + "." + p.name, p.shape);
          t.init = init;
          t.state = sym;
          t.part = p.name;
          t.def = s;
        }
        continue;
      }
      RankedTensorType storage = getStorageTensorType(s.getType());
      if (!storage)
        return s.emitError()
               << "the back ends do not compile a state of type " << s.getType()
               << " yet (MLP memories need compiler-derived gradients)";
      // The bookkeeping states nl-expand-updates made explicit keep their
      // role.
      ABITensor &t = add(Kind::state, info.name + "." + sym,
                         llvm::to_vector(storage.getShape()));
      t.init = s.getInitAttr();
      t.state = sym;
      t.stateRole = s.getRole();
      t.def = s;
    }
    // A level in the explicit-update form holds its buffers as states.
    bool learns = level.learnsOnline() && level.getRuleAttr() &&
                  !optimizerLevels.contains(level.getSymName()) &&
                  !explicitLevels.contains(level.getSymName());
    if (learns) {
      if (auto mlp = dyn_cast<MlpType>(level.getMemory().getType())) {
        for (const MlpType::Part &p : mlp.getParts())
          add(Kind::accumulator, info.name + ".__acc." + p.name, p.shape).part =
              p.name;
        // A chunked level defers each weight's gradient dy x^T: it keeps the
        // chunk's dy (lr included) and x, and sums their outer products as
        // one GEMM when the chunk is applied, or every kMaxDeferredRows
        // tokens of a longer period. A chunk_prefix read needs the
        // running sum, and the preconditioned first layer a second term.
        RuleAttr rule = level.getRuleAttr();
        if (chunked && rule.getRead() != ReadOrder::chunk_prefix) {
          bool any = false;
          for (const MlpType::Part &p : mlp.getParts()) {
            if (p.isBias ||
                (p.name == "w0" && rule.getPrecond() != Precond::none))
              continue;
            ArrayRef<int64_t> shape = p.shape;
            for (auto [kind, suffix, width] :
                 {std::tuple{Kind::defer_dy, "dy", shape[shape.size() - 2]},
                  std::tuple{Kind::defer_x, "x", shape.back()}}) {
              SmallVector<int64_t> ring = {
                  std::min<int64_t>(info.period, kMaxDeferredRows)};
              ring.append(shape.begin(), shape.end() - 2);
              ring.push_back(width);
              add(kind, info.name + ".__defer." + p.name + "." + suffix, ring)
                  .part = p.name;
            }
            any = true;
          }
          // The tokens in the ring: it is summed into the accumulator
          // before a token finds it full.
          if (any)
            counter(Kind::defer_count, info.name + ".__defer_n",
                    std::min<int64_t>(info.period, kMaxDeferredRows));
        }
      }
      RankedTensorType storage =
          getStorageTensorType(level.getMemory().getType());
      if (storage)
        add(Kind::accumulator, info.name + ".__acc",
            llvm::to_vector(storage.getShape()));
      RuleAttr rule = level.getRuleAttr();
      if (rule.getAlgorithm() == Algorithm::m3) {
        // The gradient sum of the slow momentum's pending chunk (owned by
        // the slow level, so that its tail policy applies) and NS(M2), used
        // until the slow level fires again.
        StringRef slow = rule.getViaLevels().back().getValue();
        int slowIndex = 0;
        for (auto [j, l] : llvm::enumerate(model.getLevels()))
          if (l.getSymName() == slow)
            slowIndex = static_cast<int>(j);
        ABITensor &pending = add(Kind::m3_pending, info.name + ".__m3_pending",
                                 llvm::to_vector(storage.getShape()));
        pending.level = slowIndex;
        pending.of = info.name;
        add(Kind::m3_o2, info.name + ".__m3_o2",
            llvm::to_vector(storage.getShape()));
      }
      if (rule.getWindow() > 1) {
        // The Omega rule's window: the last `window` keys, values and lr
        // gates of the level's update, a ring buffer (pos, fill).
        UpdateOp u = updates.lookup(level.getSymName());
        for (auto [kind, part, value] :
             {std::tuple{Kind::omega_keys, "keys", u ? u.getKey() : Value()},
              std::tuple{Kind::omega_values, "values",
                         u ? u.getValue() : Value()},
              std::tuple{Kind::omega_lr, "lr", u ? u.getLr() : Value()}}) {
          if (!value)
            continue;
          SmallVector<int64_t> shape = {rule.getWindow()};
          llvm::append_range(
              shape, cast<RankedTensorType>(value.getType()).getShape());
          add(kind, info.name + ".__omega_" + part, shape);
        }
        counter(Kind::omega_pos, info.name + ".__omega_pos",
                rule.getWindow() - 1);
        counter(Kind::omega_fill, info.name + ".__omega_fill",
                rule.getWindow());
      }
      if (chunked) {
        // The gates of the pending chunk, applied when it ends.
        SmallVector<UpdateOp> sources = {updates.lookup(level.getSymName())};
        for (FlatSymbolRefAttr ref : level.getRuleAttr().getViaLevels())
          sources.push_back(updates.lookup(ref.getValue()));
        for (UpdateOp u : sources) {
          if (!u)
            continue;
          for (auto [kind, gateName, gate] :
               {std::tuple{Kind::gate_lr, "lr", u.getLr()},
                std::tuple{Kind::gate_retain, "retain", u.getRetain()},
                std::tuple{Kind::gate_momentum_decay, "momentum_decay",
                           u.getMomentumDecay()}}) {
            if (!gate)
              continue;
            auto type = cast<RankedTensorType>(gate.getType());
            add(kind,
                (info.name + ".__gate." + u.getLevel() + "." + gateName).str(),
                llvm::to_vector(type.getShape()))
                .of = u.getLevel().str();
          }
        }
      }
    }
    abi.levels.push_back(std::move(info));
  }
  // The last w - 1 inputs of every short convolution, in step order.
  if (StepOp step = model.getStep()) {
    int64_t n = 0;
    WalkResult walk = step.walk([&](ConvOp conv) {
      auto in = cast<RankedTensorType>(conv.getInput().getType());
      auto w = cast<RankedTensorType>(conv.getWeight().getType());
      if (in.getRank() != 1) {
        conv.emitOpError() << "on a value of rank " << in.getRank()
                           << " is not compiled by the CPU back end yet "
                              "(apply it before split_heads)";
        return WalkResult::interrupt();
      }
      if (w.getDimSize(0) > 1) {
        ABITensor t{Kind::history,
                    "__conv" + std::to_string(n),
                    {w.getDimSize(0) - 1, in.getDimSize(0)},
                    -1};
        t.index = n;
        t.def = conv;
        abi.state.push_back(std::move(t));
      }
      ++n;
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return failure();
  }
  abi.headArg = model.getHeadSplit().has_value();
  if (abi.levels.size() > 64)
    return model.emitOpError()
           << "has " << abi.levels.size() << " levels; the CPU ABI supports 64";
  if (StepOp step = model.getStep())
    for (Type t : step.getOutputTypeList())
      abi.outputs.push_back(
          llvm::to_vector(cast<RankedTensorType>(t).getShape()));
  return abi;
}

//===----------------------------------------------------------------------===//
// The ABI in the IR (#nl.abi)
//===----------------------------------------------------------------------===//

namespace {
ABITensorAttr tensorAttr(MLIRContext *ctx, const nlc::ABITensor &t) {
  auto sym = [&](const std::string &s) {
    return s.empty() ? FlatSymbolRefAttr() : FlatSymbolRefAttr::get(ctx, s);
  };
  auto opt = [](bool present, int64_t v) {
    return present ? std::optional<int64_t>(v) : std::nullopt;
  };
  return ABITensorAttr::get(
      ctx, t.name, t.kind, t.shape, opt(t.level >= 0, t.level), sym(t.state),
      t.part, sym(t.of), opt(t.kind == Kind::history, t.index), t.stateRole,
      opt(t.isCounter(), t.maxValue), t.init);
}

nlc::ABITensor tensorOf(ABITensorAttr a) {
  nlc::ABITensor t{a.getKind(), a.getName().str(),
                   llvm::to_vector(a.getShape()),
                   static_cast<int>(a.getLevel().value_or(-1)), a.getInit()};
  if (a.getState())
    t.state = a.getState().getValue().str();
  t.part = a.getPart().str();
  if (a.getOf())
    t.of = a.getOf().getValue().str();
  t.index = a.getIndex().value_or(-1);
  t.stateRole = a.getRole();
  t.maxValue = a.getMax().value_or(0);
  return t;
}
} // namespace

EntryPointAttr nlc::ModelABI::entryPoint(MLIRContext *ctx,
                                         EntryKind kind) const {
  int64_t numParams = params.size(), numState = state.size();
  switch (kind) {
  case EntryKind::step:
    return EntryPointAttr::get(ctx, stepSymbol(), kind, numParams, numState,
                               outputs.size(), 0, headArg);
  case EntryKind::flush:
    return EntryPointAttr::get(ctx, flushSymbol(), kind, numParams, numState, 0,
                               0, false);
  case EntryKind::chunk:
    return EntryPointAttr::get(ctx, chunkSymbol(), kind, numParams, numState,
                               outputs.size(), chunkSize, headArg);
  case EntryKind::backward:
    return EntryPointAttr::get(ctx, backwardSymbol(), kind, numParams, numState,
                               outputs.size(), 0, false);
  }
  llvm_unreachable("unknown entry kind");
}

ABIAttr nlc::ModelABI::toAttr(MLIRContext *ctx) const {
  SmallVector<ABILevelAttr> levelAttrs;
  for (const ABILevel &l : levels)
    levelAttrs.push_back(ABILevelAttr::get(ctx, l.name, l.period, l.infinite,
                                           l.tail, l.order, l.rule));
  SmallVector<ABITensorAttr> paramAttrs, stateAttrs;
  for (const ABITensor &t : params)
    paramAttrs.push_back(tensorAttr(ctx, t));
  for (const ABITensor &t : state)
    stateAttrs.push_back(tensorAttr(ctx, t));
  SmallVector<DenseI64ArrayAttr> outputAttrs;
  for (const auto &shape : outputs)
    outputAttrs.push_back(DenseI64ArrayAttr::get(ctx, shape));
  SmallVector<EntryPointAttr> entries = {entryPoint(ctx, EntryKind::step),
                                         entryPoint(ctx, EntryKind::flush)};
  if (chunkSize)
    entries.push_back(entryPoint(ctx, EntryKind::chunk));
  if (hasBackward)
    entries.push_back(entryPoint(ctx, EntryKind::backward));
  return ABIAttr::get(ctx, model, dim, hyperPeriod, levelAttrs, paramAttrs,
                      stateAttrs, outputAttrs, entries);
}

nlc::ModelABI nlc::ModelABI::fromAttr(ABIAttr attr, ModelOp model) {
  ModelABI abi;
  abi.model = attr.getModel().str();
  abi.dim = attr.getDim();
  abi.hyperPeriod = attr.getHyperPeriod();
  SmallVector<LevelOp> levelOps;
  if (model)
    levelOps = llvm::to_vector(model.getLevels());
  for (auto [i, l] : llvm::enumerate(attr.getLevels())) {
    ABILevel info;
    info.name = l.getName().str();
    if (i < levelOps.size())
      info.op = levelOps[i];
    info.period = l.getPeriod();
    info.infinite = l.getInfinite();
    info.tail = l.getTail();
    info.order = l.getOrder();
    info.rule = l.getRule();
    abi.levels.push_back(std::move(info));
  }
  for (ABITensorAttr t : attr.getParams())
    abi.params.push_back(tensorOf(t));
  for (ABITensorAttr t : attr.getState())
    abi.state.push_back(tensorOf(t));
  for (DenseI64ArrayAttr shape : attr.getOutputs())
    abi.outputs.push_back(llvm::to_vector(shape.asArrayRef()));
  if (EntryPointAttr chunk = attr.getEntryPoint(EntryKind::chunk))
    abi.chunkSize = chunk.getTokens();
  abi.hasBackward = bool(attr.getEntryPoint(EntryKind::backward));
  abi.headArg = attr.getEntryPoint(EntryKind::step).getHead();
  if (!model)
    return abi;
  if (BackwardStepOp backward = model.getBackwardStep()) {
    abi.checkpointEvery = backward.getCheckpointEvery();
    abi.truncate = backward.getTruncate();
  }
  // The ops the tensors come from, for diagnostics.
  for (ABITensor &t : abi.params)
    t.def = model.lookupSymbol(t.name);
  SmallVector<ConvOp> convs;
  if (StepOp step = model.getStep())
    step.walk([&](ConvOp conv) { convs.push_back(conv); });
  for (ABITensor &t : abi.state) {
    if (t.kind == Kind::history && t.index >= 0 &&
        t.index < static_cast<int64_t>(convs.size()))
      t.def = convs[t.index];
    else if (!t.state.empty() && t.level >= 0 &&
             t.level < static_cast<int>(levelOps.size()))
      t.def = levelOps[t.level].lookupSymbol(t.state);
  }
  return abi;
}

FailureOr<nlc::ModelABI> nlc::getModelABI(ModelOp model) {
  auto attr = model->getAttrOfType<ABIAttr>(NLDialect::getABIAttrName());
  if (!attr)
    return model.emitOpError() << "has no ABI (" << NLDialect::getABIAttrName()
                               << "); run nl-materialize-abi first";
  return ModelABI::fromAttr(attr, model);
}

//===----------------------------------------------------------------------===//
// Manifest
//===----------------------------------------------------------------------===//

namespace {

void writeNumber(llvm::raw_ostream &os, double v) {
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), v);
  os << llvm::StringRef(buffer, ec == std::errc() ? end - buffer : 0);
}

void writeString(llvm::raw_ostream &os, llvm::StringRef s) {
  os << '"';
  for (char c : s) {
    if (c == '"' || c == '\\')
      os << '\\' << c;
    else if (static_cast<unsigned char>(c) < 0x20)
      os << llvm::format("\\u%04x", c);
    else
      os << c;
  }
  os << '"';
}

void writeShape(llvm::raw_ostream &os, llvm::ArrayRef<int64_t> shape) {
  os << '[';
  llvm::interleaveComma(shape, os);
  os << ']';
}

void writeInit(llvm::raw_ostream &os, Attribute init) {
  os << "{\"kind\": ";
  if (!init || isa<ZerosAttr>(init)) {
    os << "\"zeros\"}";
  } else if (isa<OnesAttr>(init)) {
    os << "\"ones\"}";
  } else if (isa<IdentityAttr>(init)) {
    os << "\"identity\"}";
  } else if (auto fill = dyn_cast<FillAttr>(init)) {
    os << "\"fill\", \"value\": ";
    writeNumber(os, fill.getValue().convertToDouble());
    os << '}';
  } else if (auto normal = dyn_cast<NormalAttr>(init)) {
    os << "\"normal\", \"std\": ";
    writeNumber(os, normal.getStd().convertToDouble());
    os << ", \"mean\": ";
    writeNumber(os,
                normal.getMean() ? normal.getMean()->convertToDouble() : 0.0);
    os << '}';
  } else if (auto uniform = dyn_cast<UniformAttr>(init)) {
    os << "\"uniform\", \"low\": ";
    writeNumber(os, uniform.getLow().convertToDouble());
    os << ", \"high\": ";
    writeNumber(os, uniform.getHigh().convertToDouble());
    os << '}';
  } else if (auto param = dyn_cast<FromParamAttr>(init)) {
    os << "\"param\", \"name\": ";
    writeString(os, param.getParam().getValue());
    os << '}';
  } else if (auto file = dyn_cast<FromFileAttr>(init)) {
    os << "\"file\", \"name\": ";
    writeString(os, file.getName());
    os << '}';
  } else {
    llvm_unreachable("unknown initializer");
  }
}

void writeTensor(llvm::raw_ostream &os, const nlc::ABITensor &t,
                 const nlc::ModelABI &abi) {
  static const char *roles[] = {"param", "state", "accumulator", "gate",
                                "history"};
  os << "    {\"name\": ";
  writeString(os, t.name);
  os << ", \"role\": \"" << roles[static_cast<int>(t.role())]
     << "\", \"dtype\": \"" << (t.isCounter() ? "i32" : "f32")
     << "\", \"shape\": ";
  writeShape(os, t.shape);
  if (t.isCounter()) {
    os << ", \"range\": [0, " << t.maxValue << ']';
    // A ring buffer's write position names its fill count: while fewer
    // than max + 1 slots are filled, the position equals the fill.
    int fill = t.kind == Kind::kv_pos
                   ? abi.find(Kind::kv_fill, t.level, t.state)
               : t.kind == Kind::omega_pos ? abi.find(Kind::omega_fill, t.level)
                                           : -1;
    if (fill >= 0) {
      os << ", \"ring_fill\": ";
      writeString(os, abi.state[fill].name);
    }
  }
  if (t.level >= 0)
    os << ", \"level\": " << t.level;
  os << ", \"init\": ";
  writeInit(os, t.init);
  os << '}';
}

} // namespace

std::string nlc::writeManifest(const ModelABI &abi, llvm::StringRef version,
                               llvm::StringRef optionsHash,
                               llvm::StringRef modelHash,
                               const ManifestTarget &target,
                               const LibraryInfo *library) {
  std::string out;
  llvm::raw_string_ostream os(out);
  os << "{\n  \"format\": \"nlc-model/1\",\n  \"model\": ";
  writeString(os, abi.model);
  os << ",\n  \"dim\": " << abi.dim
     << ",\n  \"hyper_period\": " << abi.hyperPeriod << ",\n  \"model_hash\": ";
  writeString(os, modelHash);
  os << ",\n  \"compiler\": {\"version\": ";
  writeString(os, version);
  os << ", \"options_hash\": ";
  writeString(os, optionsHash);
  os << "},\n  \"target\": ";
  writeString(os, target.target);
  if (library)
    os << ",\n  \"library\": {\"bytes\": " << library->bytes
       << ", \"crc32\": \"" << llvm::format_hex_no_prefix(library->crc32, 8)
       << "\"}";
  if (!abi.hypers.empty()) {
    os << ",\n  \"hypers\": {";
    llvm::interleaveComma(abi.hypers, os, [&](const auto &h) {
      writeString(os, h.first);
      os << ": " << h.second; // a JSON number
    });
    os << '}';
  }
  os << ",\n  \"entry_points\": {\"step\": ";
  writeString(os, target.step.empty() ? abi.stepSymbol() : target.step);
  os << ", \"flush\": ";
  writeString(os, target.flush.empty() ? abi.flushSymbol() : target.flush);
  if (abi.chunkSize) {
    os << ", \"chunk\": ";
    writeString(os, abi.chunkSymbol());
  }
  if (abi.headSplit) {
    os << ", \"head_step\": ";
    writeString(os, abi.headStepSymbol);
  }
  if (!abi.headChunkSymbol.empty()) {
    os << ", \"head_chunk\": ";
    writeString(os, abi.headChunkSymbol);
  }
  if (abi.hasBackward) {
    os << ", \"backward\": ";
    writeString(os, abi.backwardSymbol());
  }
  os << "},\n";
  if (abi.hasBackward)
    os << "  \"backward\": {\"checkpoint_every\": " << abi.checkpointEvery
       << ", \"truncate\": " << abi.truncate << "},\n";
  if (abi.chunkSize)
    os << "  \"chunk_size\": " << abi.chunkSize << ",\n";
  if (abi.headSplit)
    os << "  \"head_split\": " << abi.headSplit << ",\n";
  if (abi.stackBytes)
    os << "  \"stack_bytes\": " << abi.stackBytes << ",\n";
  if (!target.launch.empty())
    os << "  \"launch\": " << target.launch << ",\n";
  os << "  \"outputs\": [";
  llvm::interleaveComma(abi.outputs, os,
                        [&](const auto &shape) { writeShape(os, shape); });
  os << "],\n  \"levels\": [\n";
  llvm::interleave(
      abi.levels, os,
      [&](const ABILevel &l) {
        os << "    {\"name\": ";
        writeString(os, l.name);
        os << ", \"period\": " << l.period
           << ", \"infinite\": " << (l.infinite ? "true" : "false")
           << ", \"tail\": \"" << stringifyTailPolicy(l.tail)
           << "\", \"order\": " << l.order;
        if (l.rule) {
          std::string rule;
          llvm::raw_string_ostream rs(rule);
          Attribute(l.rule).print(rs);
          os << ", \"rule\": ";
          writeString(os, rule);
        }
        os << '}';
      },
      ",\n");
  os << "\n  ],\n  \"params\": [\n";
  llvm::interleave(
      abi.params, os, [&](const ABITensor &t) { writeTensor(os, t, abi); },
      ",\n");
  os << "\n  ],\n  \"state\": [\n";
  llvm::interleave(
      abi.state, os, [&](const ABITensor &t) { writeTensor(os, t, abi); },
      ",\n");
  os << "\n  ]\n}\n";
  return out;
}
