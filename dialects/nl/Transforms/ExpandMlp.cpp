//===- ExpandMlp.cpp - MLP-memory reads and updates as compute ------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// A read of an MLP memory becomes its forward pass over nl.weights; an
// update becomes an nl.grad of the level's objective (differentiated later
// by nl-derive-gradients) and an nl.update in the derived form, one gradient
// per stored tensor.
//
//===----------------------------------------------------------------------===//

#include "nl/IR/NLDependencies.h"
#include "nl/IR/NLRules.h"
#include "nl/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

namespace mlir::nl {
#define GEN_PASS_DEF_NLEXPANDMLP
#include "nl/Transforms/Passes.h.inc"
} // namespace mlir::nl

using namespace mlir;
using namespace mlir::nl;

namespace {


/// Builds the compute ops of one MLP memory.
class MlpBuilder {
public:
  MlpBuilder(OpBuilder &b, Location loc, LevelOp level, MlpType type)
      : b(b), loc(loc), level(level), type(type) {}

  /// The stored tensors, before or after this step's write.
  SmallVector<Value> weights(bool afterWrite, bool chunkPrefix = false) {
    SmallVector<Type> types;
    for (const MlpType::Part &p : type.getParts())
      types.push_back(getF32TensorType(p.shape, b.getContext()));
    auto op = WeightsOp::create(b, loc, types, level.getSymName(), afterWrite,
                                chunkPrefix);
    return SmallVector<Value>(op.getResults());
  }

  /// M(x) for the stored tensors `w` (w0, b0?, w1, b1?, ...).
  Value apply(Value x, ValueRange w) {
    unsigned stride = type.getBias() ? 2 : 1;
    unsigned layers = type.getNumLayers();
    Value h = x;
    for (unsigned i = 0; i < layers; ++i) {
      Value weight = w[i * stride];
      Value bias = type.getBias() ? w[i * stride + 1] : Value();
      auto ws = cast<RankedTensorType>(weight.getType()).getShape();
      SmallVector<int64_t> shape(
          cast<RankedTensorType>(h.getType()).getShape());
      shape.back() = ws[ws.size() - 2];
      h = LinearOp::create(b, loc, getF32TensorType(shape, b.getContext()), h, weight,
                           bias);
      if (i + 1 < layers && type.getActivation() != Activation::identity)
        h = ActOp::create(b, loc, h.getType(), type.getActivation(), h);
    }
    if (type.getNorm() != NormKind::none)
      h = NormOp::create(b, loc, h.getType(),
                         NormKindAttr::get(b.getContext(), type.getNorm()), h,
                         Value(), Value(), b.getF64FloatAttr(1e-6));
    if (type.getResidual())
      h = AddOp::create(b, loc, h.getType(), x, h);
    return h;
  }

private:
  OpBuilder &b;
  Location loc;
  LevelOp level;
  MlpType type;
};

LogicalResult expandUpdate(UpdateOp update, LevelOp level, MlpType type) {
  RuleAttr rule = level.getRuleAttr();
  Objective objective = rule.getObjective();
  if (!objectiveEntry(objective).mlpMemory)
    return update.emitOpError()
           << "on the MLP memory of level @" << level.getSymName()
           << ": objective '" << stringifyObjective(objective)
           << "' is not derived for MLP memories yet (l2 and dot are)";
  bool precond = rule.getPrecond() == Precond::delta;
  if (precond && rule.getPrecondTarget() != PrecondTarget::first_layer)
    return update.emitOpError()
           << "on the MLP memory of level @" << level.getSymName()
           << ": 'precond_target = every_layer' is not supported (only the "
              "first layer takes the key, ambiguity A21)";
  OpBuilder b(update);
  Location loc = update.getLoc();
  MlpBuilder mlp(b, loc, level, type);
  Value key = update.getKey(), value = update.getValue();
  SmallVector<Value> w = mlp.weights(/*afterWrite=*/false);

  // The objective at the state before the write, as a region.
  auto grad = GradOp::create(b, loc, w);
  {
    OpBuilder::InsertionGuard guard(b);
    Block &body = grad.getBody().front();
    b.setInsertionPointToStart(&body);
    Value y = mlp.apply(key, body.getArguments());
    Value loss;
    if (objective == Objective::l2) {
      Value e = SubOp::create(b, loc, y.getType(), y, value);
      Value sq = MulOp::create(b, loc, e.getType(), e, e);
      Value total = SumOp::create(b, loc, getF32TensorType({}, b.getContext()), sq);
      loss = rule.getL2() == L2Convention::full
                 ? total
                 : MulOp::create(b, loc, total.getType(), total,
                                 createF32Splat(b, loc, 0.5))
                       .getResult();
    } else {
      Value yv = MulOp::create(b, loc, y.getType(), y, value);
      Value total = SumOp::create(b, loc, getF32TensorType({}, b.getContext()), yv);
      loss = MulOp::create(b, loc, total.getType(), total,
                           createF32Splat(b, loc, -1.0));
    }
    YieldOp::create(b, loc, loss);
  }
  SmallVector<Value> grads(grad.getResults());
  if (precond) {
    // W0 (retain I - lr k k^T) = retain W0 - lr (W0 k) k^T: the apply's
    // gradient step takes (W0 k) k^T with the objective's gradient.
    auto ws = cast<RankedTensorType>(w[0].getType()).getShape();
    SmallVector<int64_t> zs(cast<RankedTensorType>(key.getType()).getShape());
    zs.back() = ws[ws.size() - 2];
    Value z = LinearOp::create(b, loc, getF32TensorType(zs, b.getContext()), key, w[0],
                               Value());
    Value kk = OuterOp::create(b, loc, w[0].getType(), z, key);
    grads[0] = AddOp::create(b, loc, w[0].getType(), grads[0], kk);
  }
  UpdateOp::create(b, loc, update.getLevelAttr(), Value(), Value(), grads,
                   update.getLr(), update.getRetain(),
                   update.getMomentumDecay(), update.getDeltaScale());
  update.erase();
  return success();
}

struct ExpandMlpPass : public mlir::nl::impl::NLExpandMlpBase<ExpandMlpPass> {
  using Base::Base;
  void runOnOperation() override {
    ModelOp model = getOperation();
    StepOp step = model.getStep();
    if (!step)
      return;
    auto mlpOf = [&](StringRef name) -> std::pair<LevelOp, MlpType> {
      LevelOp level = model.lookupLevel(name);
      StateOp memory = level ? level.getMemory() : StateOp();
      if (!memory)
        return {};
      return {level, dyn_cast<MlpType>(memory.getType())};
    };
    SmallVector<Operation *> ops;
    step.walk([&](Operation *op) {
      if (isa<ReadOp, UpdateOp>(op))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      if (auto read = dyn_cast<ReadOp>(op)) {
        auto [level, type] = mlpOf(read.getLevel());
        if (!type)
          continue;
        OpBuilder b(read);
        MlpBuilder mlp(b, read.getLoc(), level, type);
        RuleAttr rule = level.getRuleAttr();
        SmallVector<Value> w = mlp.weights(
            readSeesThisStep(level),
            rule && rule.getRead() == ReadOrder::chunk_prefix &&
                level.learnsOnline());
        read.replaceAllUsesWith(mlp.apply(read.getQuery(), w));
        read.erase();
        continue;
      }
      auto update = cast<UpdateOp>(op);
      auto [level, type] = mlpOf(update.getLevel());
      if (!type || !update.getGrad().empty() || !update.getKey())
        continue;
      if (failed(expandUpdate(update, level, type)))
        return signalPassFailure();
    }
  }
};

} // namespace
