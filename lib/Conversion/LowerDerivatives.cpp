//===- LowerDerivatives.cpp - nl-to-loops for the derivative ops ----------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// The loops of the ops nl-expand-mlp and nl-derive-gradients write: the
// stored tensors of an MLP memory (nl.weights), nl.sum, nl.outer,
// nl.act_grad and nl.norm_grad. Part of nl-to-loops (NLToLoops.cpp).
//
//===----------------------------------------------------------------------===//

#include "ModelLowering.h"

using namespace nlc::detail;

void ModelLowering::lowerWeights(WeightsOp op) {
  // Views of the state: every consumer runs before the level's write when
  // the op reads before it (orderStepOps), so nothing is copied.
  LevelOp level = model.lookupLevel(op.getLevel());
  auto type = cast<MlpType>(level.getMemory().getType());
  StringRef memory = level.getMemory().getSymName();
  for (auto [v, part] : llvm::zip(op.getResults(), type.getParts())) {
    Value stored = stateArgs[stateOf(level, memory, part.name)];
    buffers[v] = stored;
    if (!op.getChunkPrefix())
      continue;
    // TTT's in-chunk weights: the stored tensor minus the pending steps.
    // Projections subtract on the fly; anything else gets a copy.
    Value pending =
        stateArgs[tensorOf(ABIKind::accumulator, level, {}, part.name)];
    if (llvm::all_of(v.getUsers(), [&](Operation *user) {
          auto lin = dyn_cast<LinearOp>(user);
          return lin && lin.getInput() != v;
        })) {
      pendingOf[v] = pending;
      continue;
    }
    Value out = scratch(part.shape);
    forAll(part.shape, [&](ValueRange ivs) {
      memref::StoreOp::create(
          b, loc,
          arith::SubFOp::create(b, loc,
                                memref::LoadOp::create(b, loc, stored, ivs),
                                memref::LoadOp::create(b, loc, pending, ivs)),
          out, ivs);
    });
    buffers[v] = out;
  }
}

void ModelLowering::lowerSum(SumOp op) {
  Shape in = shapeOf(op.getInput()), out = shapeOf(op.getResult());
  Value src = buf(op.getInput());
  Value dst = scratch(out);
  size_t offset = in.size() - out.size();
  // The input dimensions the result lacks or holds as 1 are summed.
  SmallVector<int64_t> reduced;
  for (size_t d = 0; d < in.size(); ++d)
    if (d < offset || (out[d - offset] == 1 && in[d] != 1))
      reduced.push_back(d);
  forAll(out, [&](ValueRange ivs) {
    SmallVector<Value> ix(in.size());
    for (size_t d = offset; d < in.size(); ++d)
      ix[d] = out[d - offset] == 1 ? idx(0) : ivs[d - offset];
    std::function<Value(size_t)> nest = [&](size_t r) -> Value {
      if (r == reduced.size())
        return memref::LoadOp::create(b, loc, src, ix);
      return sum(in[reduced[r]], [&](Value i) {
        ix[reduced[r]] = i;
        return nest(r + 1);
      });
    };
    memref::StoreOp::create(b, loc, nest(0), dst, ivs);
  });
  buffers[op.getResult()] = dst;
}

void ModelLowering::lowerOuter(OuterOp op) {
  // A gradient only MLP updates consume is accumulated there, never stored
  // (the other updates read their gradient from a buffer).
  if (llvm::all_of(op->getUsers(), [&](Operation *u) {
        auto update = dyn_cast<UpdateOp>(u);
        return update &&
               isa<MlpType>(
                   model.lookupLevel(update.getLevel()).getMemory().getType());
      })) {
    lazyOuter[op.getResult()] = {buf(op.getLhs()), buf(op.getRhs())};
    return;
  }
  Shape out = shapeOf(op.getResult());
  Value l = buf(op.getLhs()), r = buf(op.getRhs());
  Value dst = scratch(out);
  forAll(out, [&](ValueRange ivs) {
    SmallVector<Value> li(ivs.drop_back()), ri(ivs.drop_back(2));
    ri.push_back(ivs.back());
    Value v =
        arith::MulFOp::create(b, loc, memref::LoadOp::create(b, loc, l, li),
                              memref::LoadOp::create(b, loc, r, ri));
    memref::StoreOp::create(b, loc, v, dst, ivs);
  });
  buffers[op.getResult()] = dst;
}

void ModelLowering::lowerActGrad(ActGradOp op) {
  Value in = buf(op.getInput()), dyBuf = buf(op.getGrad());
  Value out = scratch(shapeOf(op.getResult()));
  forAll(shapeOf(op.getResult()), [&](ValueRange ivs) {
    Value x = memref::LoadOp::create(b, loc, in, ivs);
    Value dy = memref::LoadOp::create(b, loc, dyBuf, ivs);
    auto mul = [&](Value a, Value c) {
      return arith::MulFOp::create(b, loc, a, c).getResult();
    };
    auto add = [&](Value a, Value c) {
      return arith::AddFOp::create(b, loc, a, c).getResult();
    };
    auto sub = [&](Value a, Value c) {
      return arith::SubFOp::create(b, loc, a, c).getResult();
    };
    Value d; // act'(x)
    switch (op.getKind()) {
    case Activation::identity:
      d = f32(1.0);
      break;
    case Activation::relu:
      d = arith::SelectOp::create(
          b, loc,
          arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, x, f32(0.0)),
          f32(1.0), f32(0.0));
      break;
    case Activation::sigmoid: {
      Value sg = sigmoid(x);
      d = mul(sg, sub(f32(1.0), sg));
      break;
    }
    case Activation::silu: {
      // s (1 + x (1 - s)).
      Value sg = sigmoid(x);
      d = mul(sg, add(f32(1.0), mul(x, sub(f32(1.0), sg))));
      break;
    }
    case Activation::tanh: {
      Value t = math::TanhOp::create(b, loc, x);
      d = sub(f32(1.0), mul(t, t));
      break;
    }
    case Activation::exp:
      d = math::ExpOp::create(b, loc, x);
      break;
    case Activation::softplus:
      d = sigmoid(x);
      break;
    case Activation::gelu: {
      // Phi(x) + x phi(x).
      Value cdf = mul(
          f32(0.5),
          add(f32(1.0),
              math::ErfOp::create(b, loc, mul(x, f32(0.7071067811865476)))));
      Value pdf = mul(f32(0.3989422804014327),
                      math::ExpOp::create(b, loc, mul(f32(-0.5), mul(x, x))));
      d = add(cdf, mul(x, pdf));
      break;
    }
    case Activation::gelu_tanh: {
      // 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 a x^2), t = tanh(c (x + a x^3)).
      Value x2 = mul(x, x);
      Value u =
          mul(f32(0.7978845608028654), add(x, mul(f32(0.044715), mul(x2, x))));
      Value t = math::TanhOp::create(b, loc, u);
      Value du = mul(f32(0.7978845608028654),
                     add(f32(1.0), mul(f32(3.0 * 0.044715), x2)));
      d = add(mul(f32(0.5), add(f32(1.0), t)),
              mul(mul(f32(0.5), x), mul(sub(f32(1.0), mul(t, t)), du)));
      break;
    }
    }
    memref::StoreOp::create(b, loc, mul(dy, d), out, ivs);
  });
  buffers[op.getResult()] = out;
}

void ModelLowering::lowerNormGrad(NormGradOp op) {
  Shape shape = shapeOf(op.getResult());
  Value in = buf(op.getInput()), dyBuf = buf(op.getGrad());
  Value scale = op.getScale() ? buf(op.getScale()) : Value();
  Value out = scratch(shape);
  int64_t n = shape.back();
  Value eps = f32(op.getEps().convertToDouble());
  Value count = f32(static_cast<double>(n));
  Shape rows(shape.begin(), shape.end() - 1);
  NormKind kind = op.getKind();
  forAll(rows, [&](ValueRange ivs) {
    auto at = [&](Value i) {
      SmallVector<Value> ix(ivs);
      ix.push_back(i);
      return ix;
    };
    auto load = [&](Value buffer, Value i) {
      return memref::LoadOp::create(b, loc, buffer, at(i)).getResult();
    };
    // g = dy * scale, the gradient of the normalized value.
    auto g = [&](Value i) {
      Value dy = load(dyBuf, i);
      return scale ? arith::MulFOp::create(
                         b, loc, dy,
                         memref::LoadOp::create(b, loc, scale, ValueRange{i}))
                         .getResult()
                   : dy;
    };
    Value mean = f32(0.0);
    if (kind == NormKind::layer)
      mean = arith::DivFOp::create(
          b, loc, sum(n, [&](Value i) { return load(in, i); }), count);
    auto centered = [&](Value i) {
      return arith::SubFOp::create(b, loc, load(in, i), mean).getResult();
    };
    Value sq = sum(n, [&](Value i) {
      Value c = centered(i);
      return arith::MulFOp::create(b, loc, c, c);
    });
    // inv: 1 / ||x|| (l2, or 1/eps below it) or 1 / sqrt(var + eps).
    Value inv, below;
    if (kind == NormKind::l2) {
      Value norm = math::SqrtOp::create(b, loc, sq);
      below =
          arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLE, norm, eps);
      inv = arith::DivFOp::create(b, loc, f32(1.0),
                                  arith::MaximumFOp::create(b, loc, norm, eps));
    } else {
      inv = arith::DivFOp::create(
          b, loc, f32(1.0),
          math::SqrtOp::create(
              b, loc,
              arith::AddFOp::create(
                  b, loc, arith::DivFOp::create(b, loc, sq, count), eps)));
    }
    auto xhat = [&](Value i) {
      return arith::MulFOp::create(b, loc, centered(i), inv).getResult();
    };
    // dx = inv (g - mean(g) - xhat mean(g xhat)) (layer), without the mean
    // term (rms), and inv (g - xhat (g . xhat)) (l2, zero below eps' ball:
    // there x / eps is linear).
    Value dot = sum(n, [&](Value i) {
      return arith::MulFOp::create(b, loc, g(i), xhat(i));
    });
    Value gMean = f32(0.0);
    if (kind != NormKind::l2) {
      dot = arith::DivFOp::create(b, loc, dot, count);
      if (kind == NormKind::layer)
        gMean = arith::DivFOp::create(b, loc, sum(n, g), count);
    } else {
      dot = arith::SelectOp::create(b, loc, below, f32(0.0), dot);
    }
    forAll({n}, [&](ValueRange j) {
      Value v = arith::SubFOp::create(
          b, loc, arith::SubFOp::create(b, loc, g(j[0]), gMean),
          arith::MulFOp::create(b, loc, xhat(j[0]), dot));
      memref::StoreOp::create(b, loc, arith::MulFOp::create(b, loc, v, inv),
                              out, at(j[0]));
    });
  });
  buffers[op.getResult()] = out;
}
