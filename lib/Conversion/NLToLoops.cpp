//===- NLToLoops.cpp - Lower nl models to loops on memrefs ----------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// Turns every scheduled nl.model into two functions on memrefs (scf loops,
// arith, math), the kernel form both targets start from:
//
//   @<model>_step_impl(params..., state..., x, outputs..., active, fire)
//   @<model>_flush_impl(params..., state..., fire)
//
// The step runs the model's ops in an order that respects the time
// semantics: a read that sees this step's write comes after the level's
// update, a read of the previous state before it. A level's update adds its
// gradient contribution to the level's accumulator (bit `active`) and, when
// its chunk ends (bit `fire`), applies the accumulated update with the rule's
// algorithm and retention. Every per-head loop is independent (the CUDA back
// end maps them to threads).
//
//===----------------------------------------------------------------------===//

#include "ModelLowering.h"
#include "nlc/Conversion/Passes.h"

#include "nl/IR/NLDependencies.h"
#include "nl/IR/NLOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/STLExtras.h"

namespace nlc {
#define GEN_PASS_DEF_NLTOLOOPS
#include "nlc/Conversion/Passes.h.inc"
} // namespace nlc

using namespace mlir;
using namespace mlir::nl;
using namespace nlc::detail;

func::FuncOp ModelLowering::makeFunction(StringRef name, bool isStep,
                                         int64_t chunk, bool backward) {
  // The chunk entry takes the step's arguments for `chunk` tokens.
  auto rows = [&](ArrayRef<int64_t> shape) {
    Shape s;
    if (chunk)
      s.push_back(chunk);
    s.append(shape.begin(), shape.end());
    return memTy(s);
  };
  SmallVector<Type> args;
  for (const nlc::ABITensor &t : abi.params)
    args.push_back(memTy(t));
  for (const nlc::ABITensor &t : abi.state)
    args.push_back(memTy(t));
  if (isStep) {
    args.push_back(rows({abi.dim}));
    for (const auto &shape : abi.outputs)
      args.push_back(rows(shape));
    args.push_back(b.getI64Type());
  }
  args.push_back(b.getI64Type());
  // The step of one head of a model (nl-split-heads) also takes the head.
  bool headStep = isStep && abi.headArg;
  if (headStep)
    args.push_back(b.getI64Type());
  // The backward: the parameters' gradients, the states' adjoints (f32 for
  // every tensor: a count has none, its slot is unused) and the input's
  // cotangent.
  if (backward) {
    for (const nlc::ABITensor &t : abi.params)
      args.push_back(memTy(t));
    for (const nlc::ABITensor &t : abi.state)
      args.push_back(memTy(t.shape));
    args.push_back(memTy({abi.dim}));
  }
  auto fn =
      func::FuncOp::create(b, loc, name, b.getFunctionType(args, TypeRange{}));
  // The entry point the function implements, as the model's ABI lists it.
  EntryKind kind = backward ? EntryKind::backward
                   : chunk  ? EntryKind::chunk
                   : isStep ? EntryKind::step
                            : EntryKind::flush;
  fn->setAttr(NLDialect::getEntryPointAttrName(),
              abi.entryPoint(b.getContext(), kind));
  entry = fn.addEntryBlock();
  unsigned a = 0;
  paramArgs.clear();
  stateArgs.clear();
  outputArgs.clear();
  for (size_t i = 0; i < abi.params.size(); ++i)
    paramArgs.push_back(entry->getArgument(a++));
  for (size_t i = 0; i < abi.state.size(); ++i)
    stateArgs.push_back(entry->getArgument(a++));
  if (isStep) {
    xArg = entry->getArgument(a++);
    for (size_t i = 0; i < abi.outputs.size(); ++i)
      outputArgs.push_back(entry->getArgument(a++));
    activeArg = entry->getArgument(a++);
  }
  fireArg = entry->getArgument(a++);
  headArg = headStep ? entry->getArgument(a++) : Value();
  gradArgs.clear();
  adjointArgs.clear();
  if (backward) {
    for (size_t i = 0; i < abi.params.size(); ++i)
      gradArgs.push_back(entry->getArgument(a++));
    for (size_t i = 0; i < abi.state.size(); ++i)
      adjointArgs.push_back(entry->getArgument(a++));
    dxArg = entry->getArgument(a++);
  }
  return fn;
}

//===----------------------------------------------------------------------===//
// Ordering the step
//===----------------------------------------------------------------------===//

//===----------------------------------------------------------------------===//
// Compute ops
//===----------------------------------------------------------------------===//

LogicalResult ModelLowering::lowerConstant(arith::ConstantOp op) {
  if (op.getType().isIndex()) { // a head's offset in a one-head step
    buffers[op.getResult()] = b.clone(*op)->getResult(0);
    return success();
  }
  auto dense = dyn_cast<DenseElementsAttr>(op.getValue());
  auto type = dyn_cast<RankedTensorType>(op.getType());
  if (!dense || !type || !dense.isSplat() || !type.getElementType().isF32())
    return op.emitOpError()
           << "the CPU back end lowers only f32 splat tensor constants";
  Value out = scratch(type.getShape());
  Value v = arith::ConstantOp::create(b, loc, dense.getSplatValue<FloatAttr>());
  forAll(type.getShape(),
         [&](ValueRange ivs) { memref::StoreOp::create(b, loc, v, out, ivs); });
  buffers[op.getResult()] = out;
  return success();
}

void ModelLowering::lowerLinear(LinearOp op) {
  Shape out = shapeOf(op.getResult());
  Value x = buf(op.getInput()), w = buf(op.getWeight());
  Value bias = op.getBias() ? buf(op.getBias()) : Value();
  Value wPending = pendingOf.lookup(op.getWeight());
  Value biasPending = op.getBias() ? pendingOf.lookup(op.getBias()) : Value();
  // A stored tensor minus its pending steps, when it has some.
  auto load = [&](Value buffer, Value pending, ValueRange ix) -> Value {
    Value v = memref::LoadOp::create(b, loc, buffer, ix);
    if (!pending)
      return v;
    return arith::SubFOp::create(b, loc, v,
                                 memref::LoadOp::create(b, loc, pending, ix));
  };
  Shape ws = shapeOf(op.getWeight());
  bool batched = ws.size() > 2, transposed = op.getTransposeWeight();
  int64_t in = transposed ? ws[ws.size() - 2] : ws.back();
  Value y = scratch(out);
  if (transposed && !bias && !wPending) {
    // y = W^T x row by row: y += x_i W[i, :] reads W along its rows (a
    // column walk per output would stride through memory).
    Shape lead(out.begin(), out.end() - 1);
    forAll(out, [&](ValueRange ivs) {
      memref::StoreOp::create(b, loc, f32(0.0), y, ivs);
    });
    forAll(lead, [&](ValueRange ls) {
      forInOrder(in, [&](Value i) {
        SmallVector<Value> xi(ls);
        xi.push_back(i);
        Value xv = memref::LoadOp::create(b, loc, x, xi);
        forAll({out.back()}, [&](ValueRange o) {
          SmallVector<Value> wi, yi(ls);
          if (batched)
            wi.append(ls.begin(), ls.end());
          wi.append({i, o[0]});
          yi.push_back(o[0]);
          Value prod = arith::MulFOp::create(
              b, loc, memref::LoadOp::create(b, loc, w, wi), xv);
          memref::StoreOp::create(
              b, loc,
              arith::AddFOp::create(
                  b, loc, memref::LoadOp::create(b, loc, y, yi), prod),
              y, yi);
        });
      });
    });
    buffers[op.getResult()] = y;
    return;
  }
  forAll(out, [&](ValueRange ivs) {
    Value o = ivs.back();
    SmallVector<Value> lead(ivs.drop_back());
    // W[lead?, o, i] (or W[lead?, i, o] transposed), bias[lead?, o].
    auto weightAt = [&](Value i) {
      SmallVector<Value> ix;
      if (batched)
        ix.append(lead);
      ix.push_back(transposed ? i : o);
      ix.push_back(transposed ? o : i);
      return ix;
    };
    Value acc = sum(in, [&](Value i) {
      SmallVector<Value> xi(lead);
      xi.push_back(i);
      Value wv = load(w, wPending, weightAt(i));
      Value xv = memref::LoadOp::create(b, loc, x, xi);
      return arith::MulFOp::create(b, loc, wv, xv);
    });
    if (bias) {
      SmallVector<Value> bi;
      if (batched)
        bi.append(lead);
      bi.push_back(o);
      acc = arith::AddFOp::create(b, loc, acc, load(bias, biasPending, bi));
    }
    memref::StoreOp::create(b, loc, acc, y, ivs);
  });
  buffers[op.getResult()] = y;
}

void ModelLowering::lowerBinary(Operation *op, Value out) {
  Value result = op->getResult(0);
  Value lhs = buf(op->getOperand(0)), rhs = buf(op->getOperand(1));
  if (!out)
    out = scratch(shapeOf(result));
  forAll(shapeOf(result), [&](ValueRange ivs) {
    Value a = loadBroadcast(lhs, ivs), c = loadBroadcast(rhs, ivs);
    Value r;
    if (isa<AddOp>(op))
      r = arith::AddFOp::create(b, loc, a, c);
    else if (isa<SubOp>(op))
      r = arith::SubFOp::create(b, loc, a, c);
    else if (isa<MulOp>(op))
      r = arith::MulFOp::create(b, loc, a, c);
    else
      r = arith::DivFOp::create(b, loc, a, c);
    memref::StoreOp::create(b, loc, r, out, ivs);
  });
  buffers[result] = out;
}

void ModelLowering::lowerAct(ActOp op) {
  Value in = buf(op.getInput());
  Value out = scratch(shapeOf(op.getResult()));
  forAll(shapeOf(op.getResult()), [&](ValueRange ivs) {
    Value x = memref::LoadOp::create(b, loc, in, ivs);
    Value y;
    switch (op.getKind()) {
    case Activation::identity:
      y = x;
      break;
    case Activation::relu:
      y = arith::MaximumFOp::create(b, loc, x, f32(0.0));
      break;
    case Activation::sigmoid:
      y = sigmoid(x);
      break;
    case Activation::silu:
      y = arith::MulFOp::create(b, loc, x, sigmoid(x));
      break;
    case Activation::tanh:
      y = math::TanhOp::create(b, loc, x);
      break;
    case Activation::exp:
      y = math::ExpOp::create(b, loc, x);
      break;
    case Activation::softplus: {
      // max(x, 0) + log1p(exp(-|x|)): exact and overflow-free.
      Value m = arith::MaximumFOp::create(b, loc, x, f32(0.0));
      Value a = math::AbsFOp::create(b, loc, x);
      Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, a));
      y = arith::AddFOp::create(b, loc, m, math::Log1pOp::create(b, loc, e));
      break;
    }
    case Activation::gelu: {
      Value s = arith::MulFOp::create(b, loc, x, f32(0.7071067811865476));
      Value e = arith::AddFOp::create(b, loc, f32(1.0),
                                      math::ErfOp::create(b, loc, s));
      y = arith::MulFOp::create(b, loc,
                                arith::MulFOp::create(b, loc, f32(0.5), x), e);
      break;
    }
    case Activation::gelu_tanh: {
      Value x3 =
          arith::MulFOp::create(b, loc, x, arith::MulFOp::create(b, loc, x, x));
      Value inner = arith::AddFOp::create(
          b, loc, x, arith::MulFOp::create(b, loc, f32(0.044715), x3));
      Value t = math::TanhOp::create(
          b, loc,
          arith::MulFOp::create(b, loc, f32(0.7978845608028654), inner));
      y = arith::MulFOp::create(b, loc,
                                arith::MulFOp::create(b, loc, f32(0.5), x),
                                arith::AddFOp::create(b, loc, f32(1.0), t));
      break;
    }
    }
    memref::StoreOp::create(b, loc, y, out, ivs);
  });
  buffers[op.getResult()] = out;
}

LogicalResult ModelLowering::lowerNorm(NormOp op) {
  Shape shape = shapeOf(op.getResult());
  Value in = buf(op.getInput());
  Value scale = op.getScale() ? buf(op.getScale()) : Value();
  Value shift = op.getShift() ? buf(op.getShift()) : Value();
  Value out = scratch(shape);
  int64_t n = shape.back();
  Value eps = f32(op.getEps().convertToDouble());
  Shape rows(shape.begin(), shape.end() - 1);
  forAll(rows, [&](ValueRange ivs) {
    auto at = [&](Value i) {
      SmallVector<Value> ix(ivs);
      ix.push_back(i);
      return ix;
    };
    Value mean = f32(0.0);
    if (op.getKind() == NormKind::layer)
      mean = arith::DivFOp::create(b, loc,
                                   sum(n,
                                       [&](Value i) {
                                         return memref::LoadOp::create(
                                             b, loc, in, at(i));
                                       }),
                                   f32(static_cast<double>(n)));
    Value sq = sum(n, [&](Value i) {
      Value x = memref::LoadOp::create(b, loc, in, at(i));
      Value c = arith::SubFOp::create(b, loc, x, mean);
      return arith::MulFOp::create(b, loc, c, c);
    });
    Value inv;
    if (op.getKind() == NormKind::l2) {
      Value norm = math::SqrtOp::create(b, loc, sq);
      inv = arith::DivFOp::create(b, loc, f32(1.0),
                                  arith::MaximumFOp::create(b, loc, norm, eps));
    } else {
      Value var =
          arith::DivFOp::create(b, loc, sq, f32(static_cast<double>(n)));
      // 1 / sqrt: libm has no rsqrtf for math.rsqrt to call.
      inv = arith::DivFOp::create(
          b, loc, f32(1.0),
          math::SqrtOp::create(b, loc,
                               arith::AddFOp::create(b, loc, var, eps)));
    }
    forAll({n}, [&](ValueRange j) {
      Value x = memref::LoadOp::create(b, loc, in, at(j[0]));
      Value y = arith::MulFOp::create(
          b, loc, arith::SubFOp::create(b, loc, x, mean), inv);
      if (scale)
        y = arith::MulFOp::create(b, loc, y,
                                  memref::LoadOp::create(b, loc, scale, j));
      if (shift)
        y = arith::AddFOp::create(b, loc, y,
                                  memref::LoadOp::create(b, loc, shift, j));
      memref::StoreOp::create(b, loc, y, out, at(j[0]));
    });
  });
  buffers[op.getResult()] = out;
  return success();
}

//===----------------------------------------------------------------------===//
// Levels
//===----------------------------------------------------------------------===//

Value ModelLowering::asMatrix(Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  if (type.getRank() == 2 && type.getDimSize(0) == 1)
    return buffer;
  Value flat = buffer;
  if (type.getRank() > 1) {
    ReassociationIndices all;
    for (int64_t d = 0; d < type.getRank(); ++d)
      all.push_back(d);
    flat = memref::CollapseShapeOp::create(b, loc, buffer,
                                           ArrayRef<ReassociationIndices>{all});
  }
  int64_t n = type.getNumElements();
  return memref::ExpandShapeOp::create(b, loc, SmallVector<int64_t>{1, n}, flat,
                                       ArrayRef<ReassociationIndices>{{0, 1}});
}

Value ModelLowering::asHeadRows(Value buffer, int64_t heads) {
  if (heads == 1)
    return asMatrix(buffer);
  auto type = cast<MemRefType>(buffer.getType());
  ReassociationIndices all;
  for (int64_t d = 0; d < type.getRank(); ++d)
    all.push_back(d);
  Value flat = buffer;
  if (type.getRank() > 1)
    flat = memref::CollapseShapeOp::create(b, loc, buffer,
                                           ArrayRef<ReassociationIndices>{all});
  int64_t n = type.getNumElements() / heads;
  return memref::ExpandShapeOp::create(
      b, loc, SmallVector<int64_t>{heads, 1, n}, flat,
      ArrayRef<ReassociationIndices>{{0, 1, 2}});
}

void ModelLowering::lowerConv(ConvOp op) {
  // y[c] = sum_i W[i, c] x_{t-i}[c]; hist[j] holds x_{t-1-j}.
  Shape wShape = shapeOf(op.getWeight());
  int64_t width = wShape[0], channels = wShape[1];
  Value x = buf(op.getInput()), w = buf(op.getWeight());
  Value out = scratch({channels});
  Value hist = width > 1 ? stateArgs[abi.findHistory(convIndex[op])] : Value();
  forAll({channels}, [&](ValueRange cs) {
    Value c = cs[0];
    Value y = arith::MulFOp::create(
        b, loc, memref::LoadOp::create(b, loc, w, ValueRange{idx(0), c}),
        memref::LoadOp::create(b, loc, x, ValueRange{c}));
    for (int64_t i = 1; i < width; ++i)
      y = arith::AddFOp::create(
          b, loc, y,
          arith::MulFOp::create(
              b, loc, memref::LoadOp::create(b, loc, w, ValueRange{idx(i), c}),
              memref::LoadOp::create(b, loc, hist, ValueRange{idx(i - 1), c})));
    memref::StoreOp::create(b, loc, y, out, ValueRange{c});
    // Shift the history by one token.
    for (int64_t j = width - 2; j >= 1; --j)
      memref::StoreOp::create(
          b, loc,
          memref::LoadOp::create(b, loc, hist, ValueRange{idx(j - 1), c}), hist,
          ValueRange{idx(j), c});
    if (width > 1)
      memref::StoreOp::create(b, loc,
                              memref::LoadOp::create(b, loc, x, ValueRange{c}),
                              hist, ValueRange{idx(0), c});
  });
  buffers[op.getResult()] = out;
}

void ModelLowering::lowerAppend(UpdateOp op, LevelOp level, KvCacheType cache,
                                int li) {
  StringRef cacheState = level.getMemory().getSymName();
  Value keys = stateArgs[tensorOf(ABIKind::kv_keys, level, cacheState)];
  Value values = stateArgs[tensorOf(ABIKind::kv_values, level, cacheState)];
  Value pos = stateArgs[tensorOf(ABIKind::kv_pos, level, cacheState)];
  Value fill = stateArgs[tensorOf(ABIKind::kv_fill, level, cacheState)];
  auto ifActive = scf::IfOp::create(b, loc, bit(activeArg, li), false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&ifActive.getThenRegion().front());
  Value slot = loadCount(pos);
  int64_t heads = cache.getHeads();
  auto store = [&](Value src, Value ring, int64_t width) {
    forAll({heads, width}, [&](ValueRange hc) {
      SmallVector<Value> from, to;
      if (heads != 1) {
        from.push_back(hc[0]);
        to.push_back(hc[0]);
      }
      from.push_back(hc[1]);
      to.append({slot, hc[1]});
      memref::StoreOp::create(b, loc, memref::LoadOp::create(b, loc, src, from),
                              ring, to);
    });
  };
  store(buf(op.getKey()), keys, cache.getKey());
  store(buf(op.getValue()), values, cache.getValue());
  advanceRing(pos, slot, fill, cache.getWindow());
}

void ModelLowering::lowerAttend(ReadOp op, LevelOp level, KvCacheType cache) {
  // y = sum_i softmax_i(q . k_i) v_i over the filled slots (no score
  // scaling: scale q in the step if you want 1/sqrt(d)).
  StringRef cacheState = level.getMemory().getSymName();
  Value keys = stateArgs[tensorOf(ABIKind::kv_keys, level, cacheState)];
  Value values = stateArgs[tensorOf(ABIKind::kv_values, level, cacheState)];
  Value fill = stateArgs[tensorOf(ABIKind::kv_fill, level, cacheState)];
  Value q = buf(op.getQuery());
  int64_t heads = cache.getHeads(), window = cache.getWindow();
  Value out = scratch(shapeOf(op.getResult()));
  Value scores = scratch({heads, window});
  Value n = loadCount(fill);
  auto at = [&](Value h, Value i, Value c) {
    SmallVector<Value> ix;
    if (heads != 1)
      ix.push_back(h);
    ix.append({i, c});
    return ix;
  };
  auto vecAt = [&](Value h, Value c) {
    return heads != 1 ? SmallVector<Value>{h, c} : SmallVector<Value>{c};
  };
  forAll({heads}, [&](ValueRange hs) {
    Value h = hs[0];
    // Scores and their maximum.
    auto maxLoop =
        scf::ForOp::create(b, loc, idx(0), n, idx(1), ValueRange{f32(-3.0e38)});
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(maxLoop.getBody());
      Value i = maxLoop.getInductionVar();
      Value s = sum(cache.getKey(), [&](Value c) {
        return arith::MulFOp::create(
            b, loc, memref::LoadOp::create(b, loc, keys, at(h, i, c)),
            memref::LoadOp::create(b, loc, q, vecAt(h, c)));
      });
      memref::StoreOp::create(b, loc, s, scores, ValueRange{h, i});
      scf::YieldOp::create(b, loc,
                           ValueRange{arith::MaximumFOp::create(
                               b, loc, maxLoop.getRegionIterArgs()[0], s)});
    }
    Value mx = maxLoop.getResult(0);
    // Normalizer.
    auto zLoop =
        scf::ForOp::create(b, loc, idx(0), n, idx(1), ValueRange{f32(0.0)});
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(zLoop.getBody());
      Value i = zLoop.getInductionVar();
      Value e = math::ExpOp::create(
          b, loc,
          arith::SubFOp::create(
              b, loc, memref::LoadOp::create(b, loc, scores, ValueRange{h, i}),
              mx));
      memref::StoreOp::create(b, loc, e, scores, ValueRange{h, i});
      scf::YieldOp::create(b, loc,
                           ValueRange{arith::AddFOp::create(
                               b, loc, zLoop.getRegionIterArgs()[0], e)});
    }
    Value z = zLoop.getResult(0);
    forAll({cache.getValue()}, [&](ValueRange cs) {
      Value c = cs[0];
      auto acc =
          scf::ForOp::create(b, loc, idx(0), n, idx(1), ValueRange{f32(0.0)});
      {
        OpBuilder::InsertionGuard g(b);
        b.setInsertionPointToStart(acc.getBody());
        Value i = acc.getInductionVar();
        Value t = arith::MulFOp::create(
            b, loc, memref::LoadOp::create(b, loc, scores, ValueRange{h, i}),
            memref::LoadOp::create(b, loc, values, at(h, i, c)));
        scf::YieldOp::create(b, loc,
                             ValueRange{arith::AddFOp::create(
                                 b, loc, acc.getRegionIterArgs()[0], t)});
      }
      memref::StoreOp::create(
          b, loc, arith::DivFOp::create(b, loc, acc.getResult(0), z), out,
          vecAt(h, c));
    });
  });
  buffers[op.getResult()] = out;
}

Value ModelLowering::newtonSchulz(Value matrix, const MatrixView &m,
                                  int64_t steps) {
  bool transposed = m.rows > m.cols;
  int64_t p = std::min(m.rows, m.cols), q = std::max(m.rows, m.cols);
  Value out = scratch(cast<MemRefType>(matrix.getType()).getShape());
  Value x = scratch({p, q}), a = scratch({p, p}), bm = scratch({p, p}),
        t = scratch({p, q});
  auto element = [&](Value h, Value i, Value j) {
    return transposed ? m.at(h, j, i) : m.at(h, i, j);
  };
  // The scratch matrices are shared by the heads: one head at a time.
  forInOrder(m.heads, [&](Value h) {
    Value sq = sum(p, [&](Value i) {
      return sum(q, [&](Value j) {
        Value v = memref::LoadOp::create(b, loc, matrix, element(h, i, j));
        return arith::MulFOp::create(b, loc, v, v);
      });
    });
    Value inv = arith::DivFOp::create(
        b, loc, f32(1.0),
        arith::AddFOp::create(b, loc, math::SqrtOp::create(b, loc, sq),
                              f32(1e-7)));
    forAll({p, q}, [&](ValueRange ij) {
      Value v =
          memref::LoadOp::create(b, loc, matrix, element(h, ij[0], ij[1]));
      memref::StoreOp::create(b, loc, arith::MulFOp::create(b, loc, v, inv), x,
                              ij);
    });
    auto iterate = scf::ForOp::create(b, loc, idx(0), idx(steps), idx(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(iterate.getBody());
    // Element ij of L R (or of L R^T), summing over n.
    auto product = [&](Value l, Value r, bool rTransposed, int64_t n,
                       ValueRange ij) {
      return sum(n, [&](Value k) {
        SmallVector<Value, 2> rIndex = {k, ij[1]};
        if (rTransposed)
          std::swap(rIndex[0], rIndex[1]);
        return arith::MulFOp::create(
            b, loc, memref::LoadOp::create(b, loc, l, ValueRange{ij[0], k}),
            memref::LoadOp::create(b, loc, r, rIndex));
      });
    };
    // A = X X^T; B = b A + c A A; X = a X + B X.
    forAll({p, p}, [&](ValueRange ij) {
      memref::StoreOp::create(b, loc, product(x, x, true, q, ij), a, ij);
    });
    forAll({p, p}, [&](ValueRange ij) {
      Value v = arith::AddFOp::create(
          b, loc,
          arith::MulFOp::create(b, loc, f32(-4.7750),
                                memref::LoadOp::create(b, loc, a, ij)),
          arith::MulFOp::create(b, loc, f32(2.0315),
                                product(a, a, false, p, ij)));
      memref::StoreOp::create(b, loc, v, bm, ij);
    });
    forAll({p, q}, [&](ValueRange ij) {
      Value v = arith::AddFOp::create(
          b, loc,
          arith::MulFOp::create(b, loc, f32(3.4445),
                                memref::LoadOp::create(b, loc, x, ij)),
          product(bm, x, false, p, ij));
      memref::StoreOp::create(b, loc, v, t, ij);
    });
    forAll({p, q}, [&](ValueRange ij) {
      memref::StoreOp::create(b, loc, memref::LoadOp::create(b, loc, t, ij), x,
                              ij);
    });
    b.setInsertionPointAfter(iterate);
    forAll({p, q}, [&](ValueRange ij) {
      memref::StoreOp::create(b, loc, memref::LoadOp::create(b, loc, x, ij),
                              out, element(h, ij[0], ij[1]));
    });
  });
  return out;
}

void ModelLowering::emitM3(UpdateOp update, const MatrixView &m, Value mem,
                           Value acc, Value retain, Value lr,
                           function_ref<Value(int)> state) {
  LevelOp level = model.lookupLevel(update.getLevel());
  RuleAttr rule = level.getRuleAttr();
  SmallVector<FlatSymbolRefAttr> via = rule.getViaLevels();
  std::string name = level.getSymName().str();
  SmallVector<Value> memories;
  SmallVector<UpdateOp> owners;
  for (FlatSymbolRefAttr ref : via) {
    LevelOp opt = model.lookupLevel(ref.getValue());
    memories.push_back(state(memoryOf(opt)));
    owners.push_back(updates.lookup(ref.getValue()));
  }
  Value pending = state(abi.find(ABIKind::m3_pending, -1, {}, {}, name));
  Value o2 = state(tensorOf(ABIKind::m3_o2, level));
  auto moment = [&](unsigned i, Value h, Value c, Value term,
                    ArrayRef<Value> at) {
    Value old = memref::LoadOp::create(b, loc, memories[i], at);
    Value retainGate = owners[i].getRetain();
    Value r = gateAt(retainGate ? buf(retainGate) : Value(), m, h, c);
    Value l = gateAt(buf(owners[i].getLr()), m, h, c);
    Value v =
        arith::AddFOp::create(b, loc, arith::MulFOp::create(b, loc, r, old),
                              arith::MulFOp::create(b, loc, l, term));
    memref::StoreOp::create(b, loc, v, memories[i], at);
  };
  forAll({m.heads, m.rows, m.cols}, [&](ValueRange ix) {
    SmallVector<Value> at = m.at(ix[0], ix[1], ix[2]);
    Value g = memref::LoadOp::create(b, loc, acc, at);
    moment(0, ix[0], ix[2], g, at);
    moment(1, ix[0], ix[2], arith::MulFOp::create(b, loc, g, g), at);
    memref::StoreOp::create(
        b, loc,
        arith::AddFOp::create(b, loc,
                              memref::LoadOp::create(b, loc, pending, at), g),
        pending, at);
    memref::StoreOp::create(b, loc, f32(0.0), acc, at);
  });
  Value o1 = newtonSchulz(memories[0], m, rule.getNsSteps());
  double alpha =
      rule.getSlowWeight() ? rule.getSlowWeight()->convertToDouble() : 1.0;
  double eps = rule.getEps() ? rule.getEps()->convertToDouble() : 1e-8;
  forAll({m.heads, m.rows, m.cols}, [&](ValueRange ix) {
    SmallVector<Value> at = m.at(ix[0], ix[1], ix[2]);
    Value num = arith::AddFOp::create(
        b, loc, memref::LoadOp::create(b, loc, o1, at),
        arith::MulFOp::create(b, loc, f32(alpha),
                              memref::LoadOp::create(b, loc, o2, at)));
    Value den = arith::AddFOp::create(
        b, loc,
        math::SqrtOp::create(b, loc,
                             memref::LoadOp::create(b, loc, memories[1], at)),
        f32(eps));
    Value stepv =
        arith::MulFOp::create(b, loc, gateAt(lr, m, ix[0], ix[2]),
                              arith::DivFOp::create(b, loc, num, den));
    Value kept =
        arith::MulFOp::create(b, loc, memref::LoadOp::create(b, loc, mem, at),
                              gateAt(retain, m, ix[0], ix[2]));
    memref::StoreOp::create(b, loc, arith::SubFOp::create(b, loc, kept, stepv),
                            mem, at);
  });
  // The slow momentum, when its chunk ends.
  int slowIndex = levelIndex.lookup(via.back().getValue());
  auto ifSlow = scf::IfOp::create(b, loc, bit(fireArg, slowIndex), false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&ifSlow.getThenRegion().front());
  forAll({m.heads, m.rows, m.cols}, [&](ValueRange ix) {
    SmallVector<Value> at = m.at(ix[0], ix[1], ix[2]);
    moment(2, ix[0], ix[2], memref::LoadOp::create(b, loc, pending, at), at);
    memref::StoreOp::create(b, loc, f32(0.0), pending, at);
  });
  Value fresh = newtonSchulz(memories[2], m, rule.getNsSteps());
  forAll({m.heads, m.rows, m.cols}, [&](ValueRange ix) {
    SmallVector<Value> at = m.at(ix[0], ix[1], ix[2]);
    memref::StoreOp::create(b, loc, memref::LoadOp::create(b, loc, fresh, at),
                            o2, at);
  });
}

void ModelLowering::lowerRead(ReadOp op) {
  LevelOp level = model.lookupLevel(op.getLevel());
  if (auto cache = dyn_cast<KvCacheType>(level.getMemory().getType()))
    return lowerAttend(op, level, cache);
  auto type = cast<MatrixType>(level.getMemory().getType());
  MatrixView m{type.getHeads(), type.getRows(), type.getCols()};
  Value mem = stateArgs[memoryOf(level)], q = buf(op.getQuery());
  // read = chunk_prefix: the stored state minus the chunk's pending steps.
  RuleAttr rule = level.getRuleAttr();
  Value pending;
  if (rule && rule.getRead() == ReadOrder::chunk_prefix && level.learnsOnline())
    pending = stateArgs[tensorOf(ABIKind::accumulator, level)];
  Value out = scratch(shapeOf(op.getResult()));
  forAll({m.heads, m.rows}, [&](ValueRange hr) {
    Value acc = sum(m.cols, [&](Value c) {
      SmallVector<Value> at = m.at(hr[0], hr[1], c);
      Value mv = memref::LoadOp::create(b, loc, mem, at);
      if (pending)
        mv = arith::SubFOp::create(b, loc, mv,
                                   memref::LoadOp::create(b, loc, pending, at));
      Value qv = memref::LoadOp::create(b, loc, q, m.vec(hr[0], c));
      return arith::MulFOp::create(b, loc, mv, qv);
    });
    memref::StoreOp::create(b, loc, acc, out, m.vec(hr[0], hr[1]));
  });
  buffers[op.getResult()] = out;
}

void ModelLowering::emitLevelUpdate(UpdateOp update, int li, Value active,
                                    Value fire, bool contribute) {
  const nlc::ABILevel &info = abi.levels[li];
  LevelOp level = info.op;
  RuleAttr rule = level.getRuleAttr();
  Type memoryType = level.getMemory().getType();
  MatrixView m{1, 1, 0};
  auto mlp = dyn_cast<MlpType>(memoryType);
  bool plain = !isa<MatrixType>(memoryType) && !mlp;
  if (auto type = dyn_cast<MatrixType>(memoryType))
    m = {type.getHeads(), type.getRows(), type.getCols()};
  else if (mlp)
    m = {mlp.getHeads(), 1, 0}; // gates are per head; see mlpParts below
  else
    m.cols = cast<RankedTensorType>(memoryType).getNumElements();
  bool chunked = info.period > 1;
  // A per-token level's accumulator holds exactly one token's contribution:
  // it is written, not added to, and the apply need not clear it.
  bool overwrite = !chunked && rule.getWindow() == 1;
  std::string name = level.getSymName().str();
  // Memories, accumulators and moment buffers all have the memory's shape;
  // a plain buffer is seen as a [1, numel] matrix.
  auto state = [&](int i) {
    Value v = stateArgs[i];
    return plain && abi.state[i].role() != nlc::ABITensor::Role::Gate
               ? asMatrix(v)
               : v;
  };
  SmallVector<StateOp> states = llvm::to_vector(level.getStates());
  // An MLP memory is updated tensor by tensor, each seen as a [heads, 1, n]
  // matrix so that per-head gates apply.
  struct Part {
    Value mem, acc, buffer;
    MatrixView view;
    Value accStored;       // the accumulator in its own shape
    Value gradValue;       // the nl value of the gradient
    Value deferDy, deferX; // a deferred weight gradient's factors, or null
  };
  SmallVector<Part> mlpParts;
  if (mlp)
    for (auto [i, p] : llvm::enumerate(mlp.getParts())) {
      auto view = [&](Value v) { return asHeadRows(v, mlp.getHeads()); };
      Part part;
      part.mem =
          view(stateArgs[stateOf(level, states[0].getSymName(), p.name)]);
      part.accStored =
          stateArgs[tensorOf(ABIKind::accumulator, level, {}, p.name)];
      if (int j = tensorOf(ABIKind::defer_dy, level, {}, p.name); j >= 0) {
        part.deferDy = stateArgs[j];
        part.deferX = stateArgs[tensorOf(ABIKind::defer_x, level, {}, p.name)];
      }
      part.acc = view(part.accStored);
      if (states.size() > 1 && isa<MlpType>(states[1].getType()))
        part.buffer =
            view(stateArgs[stateOf(level, states[1].getSymName(), p.name)]);
      if (contribute)
        part.gradValue = update.getGrad()[i];
      part.view = {mlp.getHeads(), 1,
                   cast<MemRefType>(part.mem.getType()).getShape().back()};
      mlpParts.push_back(part);
    }
  Value mem = mlp ? Value() : state(stateOf(level, states[0].getSymName()));
  Value acc = mlp ? Value() : state(tensorOf(ABIKind::accumulator, level));
  if (overwrite && acc && rule.getAlgorithm() != Algorithm::m3 &&
      rule.getAlgorithm() != Algorithm::muon)
    if (auto arg = dyn_cast<BlockArgument>(
            stateArgs[tensorOf(ABIKind::accumulator, level)]))
      if (auto fn = dyn_cast<func::FuncOp>(arg.getOwner()->getParentOp()))
        fn.setArgAttr(arg.getArgNumber(), NLDialect::getTokenScratchAttrName(),
                      b.getUnitAttr());
  SmallVector<FlatSymbolRefAttr> via = rule.getViaLevels();
  Algorithm algorithm = rule.getAlgorithm();

  // A stored gate of the pending chunk, and a gate of update `u` (this
  // level's or an optimizer level's) as the apply reads it: the live value in
  // the step, except in a chunked level's flush, which has only the stored one.
  auto stored = [&](UpdateOp u, ABIKind gateKind) -> Value {
    return state(tensorOf(gateKind, level, {}, {}, u.getLevel()));
  };
  auto gate = [&](UpdateOp u, ABIKind gateKind, Value live) -> Value {
    if (!live)
      return {};
    return chunked && !contribute ? stored(u, gateKind) : buf(live);
  };
  auto gateAt = [&](Value g, Value h, Value c) {
    return this->gateAt(g, m, h, c);
  };

  UpdateOp momentumUpdate =
      via.empty() ? UpdateOp() : updates.lookup(via[0].getValue());
  // The lr that scales each gradient into the accumulator.
  Value lrLive = update.getLr();
  UpdateOp lrOwner = update;
  bool momentumLike =
      algorithm == Algorithm::momentum || algorithm == Algorithm::muon;
  if (momentumLike && momentumUpdate) {
    lrLive = momentumUpdate.getLr();
    lrOwner = momentumUpdate;
  }
  bool perToken = rule.getLrPlacement() == LrPlacement::per_token &&
                  algorithm != Algorithm::adam && algorithm != Algorithm::m3;

  if (contribute) {
    auto ifActive = scf::IfOp::create(b, loc, active, /*withElse=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifActive.getThenRegion().front());
    Value k = update.getKey() ? buf(update.getKey()) : Value();
    Value v = update.getValue() ? buf(update.getValue()) : Value();
    Value g = update.getSingleGrad() ? buf(update.getSingleGrad()) : Value();
    if (g && plain)
      g = asMatrix(g);
    Value retain = update.getRetain() ? buf(update.getRetain()) : Value();
    Value lr = buf(lrLive);
    bool beforeGrad = rule.getDecayOrder() == DecayOrder::before_grad &&
                      rule.getRetention() == Retention::decay;
    double scale2 = rule.getL2() == L2Convention::full ? 2.0 : 1.0;
    Objective objective = rule.getObjective();
    bool errorObjective = objective == Objective::l2 ||
                          objective == Objective::lp ||
                          objective == Objective::huber;
    // e_r = (M k)_r - v_r, at the old (or, before_grad, decayed) state.
    auto rowError = [&](Value h, Value r) {
      Value pred = sum(m.cols, [&](Value c) {
        Value mv = memref::LoadOp::create(b, loc, mem, m.at(h, r, c));
        if (beforeGrad)
          mv = arith::MulFOp::create(b, loc, mv, gateAt(retain, h, c));
        Value kv = memref::LoadOp::create(b, loc, k, m.vec(h, c));
        return arith::MulFOp::create(b, loc, mv, kv);
      });
      return arith::SubFOp::create(
                 b, loc, pred, memref::LoadOp::create(b, loc, v, m.vec(h, r)))
          .getResult();
    };
    // sign(e), 0 at 0 (the subgradient the l1 and lp rules take there).
    auto sign = [&](Value e) {
      Value pos =
          arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, e, f32(0.0));
      Value neg =
          arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, e, f32(0.0));
      return arith::SelectOp::create(
                 b, loc, pos, f32(1.0),
                 arith::SelectOp::create(b, loc, neg, f32(-1.0), f32(0.0)))
          .getResult();
    };
    // Huber (Yaad): per head, the l2 gradient inside the ball
    // ||M k - v|| <= delta, delta * sign(e) k^T (the l1 gradient) outside.
    // The ball needs every row's error first.
    // The contribution of one (key, value, lr) to the accumulator.
    auto contributeOne = [&] {
      Value inBall;
      double delta = 0.0;
      Value deltaScale =
          update.getDeltaScale() ? buf(update.getDeltaScale()) : Value();
      // This token's threshold for head h: the rule's delta, times the
      // delta_scale gate when the update gives one (Yaad's delta_t).
      auto deltaAt = [&](Value h) -> Value {
        Value d = f32(delta);
        return deltaScale ? Value(arith::MulFOp::create(
                                b, loc, d, gateAt(deltaScale, h, idx(0))))
                          : d;
      };
      if (objective == Objective::huber) {
        delta = rule.getHuberDelta()->convertToDouble();
        inBall = scratch({m.heads});
        Value errors = scratch({m.heads, m.rows});
        forAll({m.heads, m.rows}, [&](ValueRange hr) {
          memref::StoreOp::create(b, loc, rowError(hr[0], hr[1]), errors, hr);
        });
        forAll({m.heads}, [&](ValueRange hs) {
          Value sq = sum(m.rows, [&](Value r) {
            Value e =
                memref::LoadOp::create(b, loc, errors, ValueRange{hs[0], r});
            return arith::MulFOp::create(b, loc, e, e);
          });
          Value small = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLE,
                                              math::SqrtOp::create(b, loc, sq),
                                              deltaAt(hs[0]));
          memref::StoreOp::create(
              b, loc,
              arith::SelectOp::create(b, loc, small, f32(1.0), f32(0.0)),
              inBall, hs);
        });
      }
      forAll({m.heads, m.rows}, [&](ValueRange hr) {
        Value h = hr[0], r = hr[1];
        Value coef; // the row factor e_r of the gradient e k^T
        if (errorObjective) {
          Value e = rowError(h, r);
          Value l2 = arith::MulFOp::create(b, loc, e, f32(scale2));
          if (objective == Objective::l2) {
            coef = l2;
          } else if (objective == Objective::lp) {
            // p sign(e) |e|^(p-1) (Moneta's Lp bias, unsmoothed).
            double pw = rule.getP()->convertToDouble();
            Value mag = pw == 1.0 ? f32(1.0)
                                  : Value(math::PowFOp::create(
                                        b, loc, math::AbsFOp::create(b, loc, e),
                                        f32(pw - 1.0)));
            coef = arith::MulFOp::create(
                b, loc, f32(pw), arith::MulFOp::create(b, loc, sign(e), mag));
          } else {
            Value small = arith::CmpFOp::create(
                b, loc, arith::CmpFPredicate::ONE,
                memref::LoadOp::create(b, loc, inBall, ValueRange{h}),
                f32(0.0));
            coef = arith::SelectOp::create(
                b, loc, small, l2,
                arith::MulFOp::create(b, loc, deltaAt(h), sign(e)));
          }
        } else if (objective == Objective::dot) {
          coef = arith::NegFOp::create(
              b, loc, memref::LoadOp::create(b, loc, v, m.vec(h, r)));
        }
        // DGD, the proximal (implicit) step of the l2 objective, scales the
        // gradient by lr' = lr / (1 + lr ||k||^2) (Sherman-Morrison), or
        // lr / (1 + lr) for unit keys; `undamped` (camera-ready Eq 28) is
        // M (I - k k^T) - lr (M k - v) k^T.
        Value rowScale;
        if (algorithm == Algorithm::dgd) {
          Value l = gateAt(lr, h, idx(0));
          switch (rule.getDgdStep()) {
          case DgdStep::sherman_morrison: {
            Value kk = sum(m.cols, [&](Value c) {
              Value kv = memref::LoadOp::create(b, loc, k, m.vec(h, c));
              return arith::MulFOp::create(b, loc, kv, kv);
            });
            rowScale = arith::DivFOp::create(
                b, loc, l,
                arith::AddFOp::create(b, loc, f32(1.0),
                                      arith::MulFOp::create(b, loc, l, kk)));
            break;
          }
          case DgdStep::unit_norm:
            rowScale = arith::DivFOp::create(
                b, loc, l, arith::AddFOp::create(b, loc, f32(1.0), l));
            break;
          case DgdStep::undamped: {
            // (M k) k^T + lr (M k - v) k^T = (pred + lr e) k^T.
            Value pred = arith::AddFOp::create(
                b, loc, coef, memref::LoadOp::create(b, loc, v, m.vec(h, r)));
            coef = arith::AddFOp::create(
                b, loc, pred, arith::MulFOp::create(b, loc, l, coef));
            rowScale = f32(1.0);
            break;
          }
          }
        }
        // precond = delta (Hope Eq 88, A19): M (retain I - lr k k^T) - lr grad,
        // i.e. the row factor gains (M k)_r at the old state.
        if (rule.getPrecond() == Precond::delta)
          coef = arith::AddFOp::create(
              b, loc, coef, sum(m.cols, [&](Value c) {
                return arith::MulFOp::create(
                    b, loc, memref::LoadOp::create(b, loc, mem, m.at(h, r, c)),
                    memref::LoadOp::create(b, loc, k, m.vec(h, c)));
              }));
        forAll({m.cols}, [&](ValueRange cs) {
          Value c = cs[0];
          Value grad;
          if (coef)
            grad = arith::MulFOp::create(
                b, loc, coef, memref::LoadOp::create(b, loc, k, m.vec(h, c)));
          else
            grad = memref::LoadOp::create(b, loc, g, m.at(h, r, c));
          if (rowScale)
            grad = arith::MulFOp::create(b, loc, grad, rowScale);
          else if (perToken)
            grad = arith::MulFOp::create(b, loc, grad, gateAt(lr, h, c));
          if (!overwrite)
            grad = arith::AddFOp::create(
                b, loc, memref::LoadOp::create(b, loc, acc, m.at(h, r, c)),
                grad);
          memref::StoreOp::create(b, loc, grad, acc, m.at(h, r, c));
        });
      });
    };
    if (mlp) {
      // The derived gradient of every stored tensor, weighted by the lr (one
      // per head: the head is a tensor's first index when there are heads).
      auto headOf = [&](ValueRange ivs) {
        return mlp.getHeads() > 1 ? ivs[0] : idx(0);
      };
      auto weighted = [&](Value g, ValueRange ivs) {
        return perToken ? Value(arith::MulFOp::create(
                              b, loc, g, gateAt(lr, headOf(ivs), idx(0))))
                        : g;
      };
      // The slot of this token in the deferred factors; a full ring (a
      // period longer than it) is summed into the accumulator first.
      Value deferN, slot;
      if (int j = tensorOf(ABIKind::defer_count, level); j >= 0) {
        deferN = stateArgs[j];
        auto ring = llvm::find_if(mlpParts, [](Part &p) { return p.deferDy; });
        int64_t rows =
            cast<MemRefType>(ring->deferDy.getType()).getShape().front();
        if (rows < info.period) {
          Value full = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge,
                                             loadCount(deferN), idx(rows));
          auto ifFull = scf::IfOp::create(b, loc, full, /*withElse=*/false);
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(&ifFull.getThenRegion().front());
          foldDeferred(level);
        }
        slot = loadCount(deferN);
      }
      for (Part &part : mlpParts) {
        auto it = lazyOuter.find(part.gradValue);
        if (part.deferDy && it != lazyOuter.end()) {
          // Keep lr dy and x; the chunk's end sums their outer products.
          auto [l, r] = it->second;
          for (auto [from, into, scaled] :
               {std::tuple<Value, Value, bool>{l, part.deferDy, true},
                {r, part.deferX, false}}) {
            forAll(cast<MemRefType>(from.getType()).getShape(),
                   [&](ValueRange ivs) {
                     Value v = memref::LoadOp::create(b, loc, from, ivs);
                     SmallVector<Value> at = {slot};
                     at.append(ivs.begin(), ivs.end());
                     memref::StoreOp::create(
                         b, loc, scaled ? weighted(v, ivs) : v, into, at);
                   });
          }
          continue;
        }
        // Into the accumulator: a materialized gradient, or a weight's dy x^T
        // left to this update by the outer product (not materialized).
        Value materialized =
            it == lazyOuter.end() ? buf(part.gradValue) : Value();
        forAll(cast<MemRefType>(part.accStored.getType()).getShape(),
               [&](ValueRange ivs) {
                 Value grad;
                 if (materialized) {
                   grad = memref::LoadOp::create(b, loc, materialized, ivs);
                 } else {
                   auto [l, r] = it->second;
                   SmallVector<Value> li(ivs.drop_back()), ri(ivs.drop_back(2));
                   ri.push_back(ivs.back());
                   grad = arith::MulFOp::create(
                       b, loc, memref::LoadOp::create(b, loc, l, li),
                       memref::LoadOp::create(b, loc, r, ri));
                 }
                 grad = weighted(grad, ivs);
                 if (!overwrite)
                   grad = arith::AddFOp::create(
                       b, loc,
                       memref::LoadOp::create(b, loc, part.accStored, ivs),
                       grad);
                 memref::StoreOp::create(b, loc, grad, part.accStored, ivs);
               });
      }
      if (deferN)
        storeCount(arith::AddIOp::create(b, loc, loadCount(deferN), idx(1)),
                   deferN);
    } else if (int64_t window = rule.getWindow(); window > 1) {
      // The Omega rule (Atlas): the gradients of the last `window` tokens'
      // objectives, each at the current state and scaled by its own lr,
      // summed. The token enters the ring buffer first.
      Value keys = state(tensorOf(ABIKind::omega_keys, level));
      Value values = state(tensorOf(ABIKind::omega_values, level));
      Value lrs = state(tensorOf(ABIKind::omega_lr, level));
      Value posBuf = state(tensorOf(ABIKind::omega_pos, level));
      Value fillBuf = state(tensorOf(ABIKind::omega_fill, level));
      Value pos = loadCount(posBuf);
      auto slotAt = [&](Value slot, ValueRange ivs) {
        SmallVector<Value> ix = {slot};
        ix.append(ivs.begin(), ivs.end());
        return ix;
      };
      for (auto [from, into] :
           {std::pair<Value, Value>{k, keys}, {v, values}, {lr, lrs}})
        forAll(shapeOf(from), [&](ValueRange ivs) {
          memref::StoreOp::create(b, loc,
                                  memref::LoadOp::create(b, loc, from, ivs),
                                  into, slotAt(pos, ivs));
        });
      Value filled = advanceRing(posBuf, pos, fillBuf, window);
      // Each filled slot, copied to scratch of the live shapes.
      Value kSlot = scratch(shapeOf(k)), vSlot = scratch(shapeOf(v)),
            lrSlot = scratch(shapeOf(lr));
      auto slots = scf::ForOp::create(b, loc, idx(0), filled, idx(1));
      OpBuilder::InsertionGuard slotGuard(b);
      b.setInsertionPointToStart(slots.getBody());
      Value slot = slots.getInductionVar();
      for (auto [from, into] : {std::pair<Value, Value>{keys, kSlot},
                                {values, vSlot},
                                {lrs, lrSlot}})
        forAll(shapeOf(into), [&](ValueRange ivs) {
          memref::StoreOp::create(
              b, loc, memref::LoadOp::create(b, loc, from, slotAt(slot, ivs)),
              into, ivs);
        });
      k = kSlot;
      v = vSlot;
      lr = lrSlot;
      contributeOne();
    } else {
      contributeOne();
    }
    if (chunked) {
      // Keep this token's gates for the end of the chunk.
      SmallVector<UpdateOp> owners = {update};
      if (momentumUpdate)
        owners.push_back(momentumUpdate);
      for (UpdateOp u : owners)
        for (auto [gateKind, live] :
             {std::pair{ABIKind::gate_lr, u.getLr()},
              std::pair{ABIKind::gate_retain, u.getRetain()},
              std::pair{ABIKind::gate_momentum_decay, u.getMomentumDecay()}}) {
          if (!live)
            continue;
          Value src = buf(live), dst = stored(u, gateKind);
          forAll(shapeOf(live), [&](ValueRange ivs) {
            memref::StoreOp::create(
                b, loc, memref::LoadOp::create(b, loc, src, ivs), dst, ivs);
          });
        }
    }
  }

  // Apply at the end of the chunk.
  Value cond = contribute ? arith::AndIOp::create(b, loc, active, fire) : fire;
  auto ifFire = scf::IfOp::create(b, loc, cond, /*withElse=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&ifFire.getThenRegion().front());
  Value retain = gate(update, ABIKind::gate_retain, update.getRetain());
  Value lrSelf = gate(update, ABIKind::gate_lr, update.getLr());
  Value lrAcc = gate(lrOwner, ABIKind::gate_lr, lrLive);
  Value mdecay =
      gate(update, ABIKind::gate_momentum_decay, update.getMomentumDecay());
  Value optRetain = momentumUpdate ? gate(momentumUpdate, ABIKind::gate_retain,
                                          momentumUpdate.getRetain())
                                   : Value();
  if (rule.getRetention() != Retention::decay)
    retain = Value();
  Value buffer; // the momentum memory: a fused state or a via level's state
  if (momentumLike && !mlp) {
    if (via.empty()) {
      buffer = state(stateOf(level, states[1].getSymName()));
    } else {
      LevelOp opt = model.lookupLevel(via[0].getValue());
      buffer = state(memoryOf(opt));
    }
  }
  SmallVector<Value> moments;
  SmallVector<UpdateOp> momentUpdates;
  if (algorithm == Algorithm::adam)
    for (FlatSymbolRefAttr ref : via) {
      LevelOp opt = model.lookupLevel(ref.getValue());
      moments.push_back(state(memoryOf(opt)));
      momentUpdates.push_back(updates.lookup(ref.getValue()));
    }
  double eps = rule.getEps() ? rule.getEps()->convertToDouble() : 1e-8;

  if (algorithm == Algorithm::m3) {
    emitM3(update, m, mem, acc, retain, lrSelf, state);
    return;
  }

  if (algorithm == Algorithm::muon) {
    // S = decay S - acc; M = retain M + NS_k(S) (NL Eq 42, 52), times the
    // memory's own lr when S is a `via` level (the acc holds S's lr).
    forAll({m.heads, m.rows, m.cols}, [&](ValueRange ix) {
      SmallVector<Value> at = m.at(ix[0], ix[1], ix[2]);
      Value a = memref::LoadOp::create(b, loc, acc, at);
      Value decay = via.empty() ? gateAt(mdecay, ix[0], ix[2])
                                : gateAt(optRetain, ix[0], ix[2]);
      Value s = memref::LoadOp::create(b, loc, buffer, at);
      memref::StoreOp::create(
          b, loc,
          arith::SubFOp::create(b, loc, arith::MulFOp::create(b, loc, decay, s),
                                a),
          buffer, at);
      memref::StoreOp::create(b, loc, f32(0.0), acc, at);
    });
    Value orth = newtonSchulz(buffer, m, rule.getNsSteps());
    forAll({m.heads, m.rows, m.cols}, [&](ValueRange ix) {
      SmallVector<Value> at = m.at(ix[0], ix[1], ix[2]);
      Value kept =
          arith::MulFOp::create(b, loc, memref::LoadOp::create(b, loc, mem, at),
                                gateAt(retain, ix[0], ix[2]));
      Value o = memref::LoadOp::create(b, loc, orth, at);
      if (!via.empty())
        o = arith::MulFOp::create(b, loc, o, gateAt(lrSelf, ix[0], ix[2]));
      memref::StoreOp::create(b, loc, arith::AddFOp::create(b, loc, kept, o),
                              mem, at);
    });
    return;
  }

  // The apply of one tensor: its accumulator into the memory (and the
  // momentum buffer).
  auto applyTensor = [&](Value mem, Value acc, Value buffer,
                         const MatrixView &m) {
    // Delta momentum (NL Eqs 48-49, A19's composition): the momentum level's
    // precond = delta keys on the gradient g it is fed, so its step is
    // S (retain I - lr g g^T) - lr g: every element also loses lr (S . g) g.
    Value deltaDot, rawGrad, deltaLr;
    if (algorithm == Algorithm::momentum && momentumUpdate &&
        model.lookupLevel(via[0].getValue()).getRuleAttr().getPrecond() ==
            Precond::delta) {
      rawGrad = asMatrix(buf(update.getSingleGrad()));
      deltaLr = buf(momentumUpdate.getLr());
      deltaDot = sum(m.cols, [&](Value c) {
        return arith::MulFOp::create(
            b, loc,
            memref::LoadOp::create(b, loc, buffer, m.at(idx(0), idx(0), c)),
            memref::LoadOp::create(b, loc, rawGrad, m.at(idx(0), idx(0), c)));
      });
    }
    forAll({m.heads, m.rows, m.cols}, [&](ValueRange ix) {
      // An MLP tensor's gates are per head, never per column.
      Value h = ix[0], c = mlp ? idx(0) : ix[2];
      SmallVector<Value> at = m.at(ix[0], ix[1], ix[2]);
      Value a = memref::LoadOp::create(b, loc, acc, at);
      if (!perToken && algorithm != Algorithm::adam)
        a = arith::MulFOp::create(b, loc, a, gateAt(lrAcc, h, c));
      Value old = memref::LoadOp::create(b, loc, mem, at);
      Value kept = arith::MulFOp::create(b, loc, old, gateAt(retain, h, c));
      Value next;
      switch (algorithm) {
      case Algorithm::gd:
      case Algorithm::dgd:
        next = arith::SubFOp::create(b, loc, kept, a);
        break;
      case Algorithm::momentum: {
        Value s = memref::LoadOp::create(b, loc, buffer, at);
        Value decay =
            via.empty() ? gateAt(mdecay, h, c) : gateAt(optRetain, h, c);
        Value sNew = arith::SubFOp::create(
            b, loc, arith::MulFOp::create(b, loc, decay, s), a);
        if (deltaDot) {
          Value g = memref::LoadOp::create(b, loc, rawGrad, at);
          Value l = gateAt(deltaLr, h, c);
          sNew = arith::SubFOp::create(
              b, loc, sNew,
              arith::MulFOp::create(
                  b, loc, l, arith::MulFOp::create(b, loc, deltaDot, g)));
        }
        memref::StoreOp::create(b, loc, sNew, buffer, at);
        Value step = via.empty() ? sNew
                                 : arith::MulFOp::create(b, loc, sNew,
                                                         gateAt(lrSelf, h, c));
        next = arith::AddFOp::create(b, loc, kept, step);
        break;
      }
      case Algorithm::adam: {
        Value m1 = memref::LoadOp::create(b, loc, moments[0], at);
        Value m2 = memref::LoadOp::create(b, loc, moments[1], at);
        auto moment = [&](Value mold, UpdateOp u, Value term) {
          Value r = u.getRetain() ? gateAt(buf(u.getRetain()), h, c) : f32(1.0);
          Value l = gateAt(buf(u.getLr()), h, c);
          return arith::AddFOp::create(b, loc,
                                       arith::MulFOp::create(b, loc, r, mold),
                                       arith::MulFOp::create(b, loc, l, term));
        };
        Value m1n = moment(m1, momentUpdates[0], a);
        Value m2n =
            moment(m2, momentUpdates[1], arith::MulFOp::create(b, loc, a, a));
        memref::StoreOp::create(b, loc, m1n, moments[0], at);
        memref::StoreOp::create(b, loc, m2n, moments[1], at);
        Value den = arith::AddFOp::create(
            b, loc, math::SqrtOp::create(b, loc, m2n), f32(eps));
        Value stepv =
            arith::MulFOp::create(b, loc, gateAt(lrSelf, h, c),
                                  arith::DivFOp::create(b, loc, m1n, den));
        next = arith::SubFOp::create(b, loc, kept, stepv);
        break;
      }
      default:
        llvm_unreachable("rejected by nl-materialize-abi");
      }
      memref::StoreOp::create(b, loc, next, mem, at);
      if (!overwrite)
        memref::StoreOp::create(b, loc, f32(0.0), acc, at);
    });
  };
  if (!mlp)
    return applyTensor(mem, acc, buffer, m);
  foldDeferred(level);
  for (Part &part : mlpParts)
    applyTensor(part.mem, part.acc, part.buffer, part.view);
}

void ModelLowering::foldDeferred(LevelOp level) {
  // acc += sum_s dy_s x_s^T over the deferred tokens, row by row (a row of
  // acc stays in cache while x_s streams); then the ring is empty.
  int j = tensorOf(ABIKind::defer_count, level);
  if (j < 0)
    return;
  Value deferN = stateArgs[j];
  Value n = loadCount(deferN);
  for (const MlpType::Part &p :
       cast<MlpType>(level.getMemory().getType()).getParts()) {
    int dyIndex = tensorOf(ABIKind::defer_dy, level, {}, p.name);
    if (dyIndex < 0)
      continue;
    Value deferDy = stateArgs[dyIndex];
    Value deferX = stateArgs[tensorOf(ABIKind::defer_x, level, {}, p.name)];
    Value acc = stateArgs[tensorOf(ABIKind::accumulator, level, {}, p.name)];
    Shape shape = p.shape;
    forAll(ArrayRef<int64_t>(shape).drop_back(), [&](ValueRange rows) {
      auto tokens = scf::ForOp::create(b, loc, idx(0), n, idx(1));
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(tokens.getBody());
      SmallVector<Value> at = {tokens.getInductionVar()};
      at.append(rows.begin(), rows.end());
      Value dy = memref::LoadOp::create(b, loc, deferDy, at);
      forAll({shape.back()}, [&](ValueRange c) {
        SmallVector<Value> xi = {tokens.getInductionVar()};
        llvm::append_range(xi, rows.drop_back());
        xi.push_back(c[0]);
        SmallVector<Value> ai(rows);
        ai.push_back(c[0]);
        Value prod = arith::MulFOp::create(
            b, loc, dy, memref::LoadOp::create(b, loc, deferX, xi));
        memref::StoreOp::create(
            b, loc,
            arith::AddFOp::create(
                b, loc, memref::LoadOp::create(b, loc, acc, ai), prod),
            acc, ai);
      });
    });
  }
  storeCount(idx(0), deferN);
}

LogicalResult ModelLowering::lowerUpdate(UpdateOp op, bool inFlush) {
  LevelOp level = model.lookupLevel(op.getLevel());
  int li = levelIndex.lookup(level.getSymName());
  if (auto cache = dyn_cast<KvCacheType>(level.getMemory().getType())) {
    lowerAppend(op, level, cache, li);
    return success();
  }
  if (!learnsInStep(level))
    return success(); // optimizer levels: their served level runs them
  if (isa<MlpType>(level.getMemory().getType()) && op.getGrad().empty())
    return op.emitOpError()
           << "updates the MLP memory of level @" << level.getSymName()
           << " with a key and value; run nl-expand-mlp "
              "and nl-derive-gradients before lowering";
  Value active = bit(activeArg, li);
  Value fire = bit(fireArg, li);
  emitLevelUpdate(op, li, active, fire, /*contribute=*/!inFlush);
  return success();
}

LogicalResult ModelLowering::lowerOp(Operation *op) {
  if (auto c = dyn_cast<arith::ConstantOp>(op))
    return lowerConstant(c);
  if (auto p = dyn_cast<GetParamOp>(op)) {
    for (auto [i, t] : llvm::enumerate(abi.params))
      if (t.name == p.getName())
        buffers[p.getResult()] = paramArgs[i];
    return success();
  }
  if (auto l = dyn_cast<LinearOp>(op)) {
    lowerLinear(l);
    return success();
  }
  if (isa<AddOp, SubOp, MulOp, DivOp>(op)) {
    lowerBinary(op);
    return success();
  }
  if (auto a = dyn_cast<ActOp>(op)) {
    lowerAct(a);
    return success();
  }
  if (auto n = dyn_cast<NormOp>(op))
    return lowerNorm(n);
  if (auto e = dyn_cast<tensor::ExpandShapeOp>(op)) {
    buffers[e.getResult()] = memref::ExpandShapeOp::create(
        b, loc, shapeOf(e.getResult()), buf(e.getSrc()),
        e.getReassociationIndices());
    return success();
  }
  if (auto s = dyn_cast<tensor::ExtractSliceOp>(op)) {
    // A slice of static sizes with unit strides: copy it (consumers index
    // from 0). Offsets may be values (a head's slice of the token); unit
    // dimensions may be dropped (a head's row).
    Value src = buf(s.getSource());
    Shape sizes = llvm::to_vector(s.getStaticSizes());
    if (!s.hasUnitStride() || ShapedType::isDynamicShape(sizes))
      return op->emitOpError() << "the CPU back end lowers only slices of "
                                  "static sizes with unit strides";
    llvm::SmallBitVector dropped = s.getDroppedDims();
    SmallVector<OpFoldResult> offsets = s.getMixedOffsets();
    Value out = scratch(shapeOf(s.getResult()));
    forAll(shapeOf(s.getResult()), [&](ValueRange ivs) {
      SmallVector<Value> from;
      unsigned next = 0;
      for (auto [d, o] : llvm::enumerate(offsets)) {
        Value at = dropped.test(d) ? idx(0) : ivs[next++];
        if (auto v = dyn_cast<Value>(o))
          at = arith::AddIOp::create(b, loc, at, buf(v));
        else if (int64_t c = *getConstantIntValue(o))
          at = arith::AddIOp::create(b, loc, at, idx(c));
        from.push_back(at);
      }
      memref::StoreOp::create(b, loc, memref::LoadOp::create(b, loc, src, from),
                              out, ivs);
    });
    buffers[s.getResult()] = out;
    return success();
  }
  if (auto s = dyn_cast<tensor::InsertSliceOp>(op)) {
    // Static offsets and sizes, unit strides (the chunk's last row): in
    // place when nothing else reads the destination.
    Value dst = buf(s.getDest()), src = buf(s.getSource());
    if (!s.hasUnitStride() || ShapedType::isDynamicShape(s.getStaticSizes()) ||
        ShapedType::isDynamicShape(s.getStaticOffsets()))
      return op->emitOpError() << "the CPU back end lowers only inserts at "
                                  "static offsets with unit strides";
    // A buffer of the function's arguments (a state, the tokens) or one
    // another value still reads is copied first.
    Value root = dst;
    while (Operation *def = root.getDefiningOp()) {
      if (!isa<memref::ExpandShapeOp, memref::CollapseShapeOp>(def))
        break;
      root = def->getOperand(0);
    }
    if (!s.getDest().hasOneUse() || isa<BlockArgument>(root)) {
      Value copy = scratch(shapeOf(s.getResult()));
      forAll(shapeOf(s.getResult()), [&](ValueRange ivs) {
        memref::StoreOp::create(
            b, loc, memref::LoadOp::create(b, loc, dst, ivs), copy, ivs);
      });
      dst = copy;
    }
    llvm::SmallBitVector dropped = s.getDroppedDims();
    ArrayRef<int64_t> offsets = s.getStaticOffsets();
    forAll(shapeOf(s.getSource()), [&](ValueRange ivs) {
      SmallVector<Value> to;
      unsigned next = 0;
      for (auto [d, o] : llvm::enumerate(offsets))
        to.push_back(arith::AddIOp::create(
            b, loc, dropped.test(d) ? idx(0) : ivs[next++], idx(o)));
      memref::StoreOp::create(b, loc, memref::LoadOp::create(b, loc, src, ivs),
                              dst, to);
    });
    buffers[s.getResult()] = dst;
    return success();
  }
  if (isa<HeadIndexOp>(op)) {
    if (!headArg)
      return op->emitOpError() << "outside the step of a one-head model";
    buffers[op->getResult(0)] =
        arith::IndexCastOp::create(b, loc, b.getIndexType(), headArg);
    return success();
  }
  if (isa<arith::MulIOp, arith::AddIOp>(op) &&
      op->getResult(0).getType().isIndex()) {
    // Index arithmetic of a one-head step (a head's offset).
    IRMapping scalars;
    for (Value v : op->getOperands())
      scalars.map(v, buf(v));
    buffers[op->getResult(0)] = b.clone(*op, scalars)->getResult(0);
    return success();
  }
  if (auto c = dyn_cast<tensor::CollapseShapeOp>(op)) {
    buffers[c.getResult()] = memref::CollapseShapeOp::create(
        b, loc, buf(c.getSrc()), c.getReassociationIndices());
    return success();
  }
  if (auto r = dyn_cast<ReadOp>(op)) {
    if (isa<MlpType>(model.lookupLevel(r.getLevel()).getMemory().getType()))
      return op->emitOpError()
             << "reads an MLP memory; run nl-expand-mlp before lowering";
    lowerRead(r);
    return success();
  }
  if (auto c = dyn_cast<ConvOp>(op)) {
    lowerConv(c);
    return success();
  }
  if (auto u = dyn_cast<UpdateOp>(op))
    return lowerUpdate(u, /*inFlush=*/false);
  if (auto w = dyn_cast<WeightsOp>(op)) {
    LevelOp level = model.lookupLevel(w.getLevel());
    if (isa<MatrixType>(level.getMemory().getType())) {
      // The stored matrix itself (the chunk-start state in a chunk step),
      // then the level's other states.
      for (auto [value, state] : llvm::zip(w.getResults(), level.getStates()))
        buffers[value] = stateArgs[stateOf(level, state.getSymName())];
      return success();
    }
    lowerWeights(w);
    return success();
  }
  if (auto m = dyn_cast<MatmulOp>(op)) {
    lowerMatmul(m);
    return success();
  }
  if (auto t = dyn_cast<TrilOp>(op)) {
    lowerTril(t);
    return success();
  }
  if (auto t = dyn_cast<TransposeOp>(op)) {
    lowerTranspose(t);
    return success();
  }
  if (auto t = dyn_cast<TriInvOp>(op)) {
    lowerTriInv(t);
    return success();
  }
  if (auto d = dyn_cast<DecayMaskOp>(op)) {
    lowerDecayMask(d);
    return success();
  }
  if (auto c = dyn_cast<ChunkConvOp>(op)) {
    lowerChunkConv(c);
    return success();
  }
  if (auto a = dyn_cast<AssignOp>(op)) {
    pendingAssigns.push_back(a);
    return success();
  }
  if (auto r = dyn_cast<RowsOp>(op))
    return lowerRows(r);
  if (auto a = dyn_cast<AccumulateOp>(op)) {
    pendingAccumulates.push_back(a);
    return success();
  }
  if (auto p = dyn_cast<PendingOp>(op)) {
    // Views of the accumulators, which change only at the chunk's end,
    // once the tokens the step deferred (the per-token tokens of this
    // period) are summed into them.
    LevelOp level = model.lookupLevel(p.getLevel());
    foldDeferred(level);
    for (auto [v, i] : llvm::zip(p.getResults(), accumulators(level)))
      buffers[v] = stateArgs[i];
    return success();
  }
  if (auto f = dyn_cast<FiresOp>(op)) {
    Value out = scratch({});
    int li = levelIndex.lookup(f.getLevel());
    memref::StoreOp::create(
        b, loc,
        arith::SelectOp::create(b, loc, bit(fireArg, li), f32(1.0), f32(0.0)),
        out, ValueRange{});
    buffers[f.getResult()] = out;
    return success();
  }
  if (auto s = dyn_cast<StopGradOp>(op)) {
    buffers[s.getResult()] = buf(s.getInput());
    return success();
  }
  if (auto s = dyn_cast<SumOp>(op)) {
    lowerSum(s);
    return success();
  }
  if (auto o = dyn_cast<OuterOp>(op)) {
    lowerOuter(o);
    return success();
  }
  if (auto a = dyn_cast<ActGradOp>(op)) {
    lowerActGrad(a);
    return success();
  }
  if (auto n = dyn_cast<NormGradOp>(op)) {
    lowerNormGrad(n);
    return success();
  }
  if (isa<HistoryOp, AdjointOp, SetAdjointOp, ParamGradOp, RunsOp,
          scf::IfOp>(op))
    return lowerBackwardOp(op);
  if (auto l = dyn_cast<LoadOp>(op))
    return lowerLoad(l);
  if (auto s = dyn_cast<StoreOp>(op))
    return lowerStore(s);
  if (auto l = dyn_cast<LearnOp>(op))
    return lowerGuarded(l, l.getLevel(), l.getBody(), /*inFlush=*/false);
  if (auto a = dyn_cast<ApplyOp>(op))
    return lowerGuarded(a, a.getLevel(), a.getBody(), /*inFlush=*/false);
  if (isa<arith::ArithDialect, math::MathDialect>(op->getDialect()) &&
      op->hasTrait<OpTrait::Elementwise>())
    return lowerElementwise(op);
  if (isa<GradOp>(op))
    return op->emitOpError()
           << "must be differentiated first (run nl-derive-gradients)";
  return op->emitOpError() << "is not supported by the CPU back end yet";
}

LogicalResult ModelLowering::run() {
  StepOp step = model.getStep();
  for (auto [i, l] : llvm::enumerate(abi.levels))
    levelIndex[l.name] = i;
  step.walk([&](UpdateOp u) { updates[u.getLevel()] = u; });
  step.walk([&](ConvOp c) {
    int n = convIndex.size();
    convIndex[c] = n;
  });

  FailureOr<SmallVector<Operation *>> order = orderStepOps(model, step);
  if (failed(order))
    return failure();

  // The step.
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointAfter(model);
  func::FuncOp stepFn = makeFunction(abi.model + "_step_impl", true);
  b.setInsertionPointToEnd(entry);
  buffers[step.getInput()] = xArg;
  for (Operation *op : *order)
    if (failed(lowerOp(op)))
      return failure();
  // Every value the step returns is in scratch by now: resets only change
  // what the next tokens see.
  if (failed(emitResets(/*inStep=*/true)))
    return failure();
  auto yield = cast<YieldOp>(step.getBody().front().getTerminator());
  for (auto [value, out] : llvm::zip(yield.getValues(), outputArgs)) {
    Value src = buf(value);
    forAll(shapeOf(value), [&](ValueRange ivs) {
      memref::StoreOp::create(b, loc, memref::LoadOp::create(b, loc, src, ivs),
                              out, ivs);
    });
  }
  func::ReturnOp::create(b, loc);

  // The flush: applies the pending chunks of the levels in `fire`.
  b.setInsertionPointAfter(stepFn);
  makeFunction(abi.model + "_flush_impl", false);
  b.setInsertionPointToEnd(entry);
  for (Operation *op : *order) {
    // An explicit level's apply: its pending chunk, if it has one.
    if (auto a = dyn_cast<ApplyOp>(op)) {
      int li = levelIndex.lookup(a.getLevel());
      if (abi.levels[li].period > 1 &&
          failed(lowerGuarded(a, a.getLevel(), a.getBody(), /*inFlush=*/true)))
        return failure();
      continue;
    }
    if (auto u = dyn_cast<UpdateOp>(op)) {
      LevelOp level = model.lookupLevel(u.getLevel());
      int li = levelIndex.lookup(level.getSymName());
      if (abi.levels[li].period > 1 && learnsInStep(level))
        emitLevelUpdate(u, li, Value(), bit(fireArg, li),
                        /*contribute=*/false);
    }
  }
  if (failed(emitResets(/*inStep=*/false)))
    return failure();
  func::ReturnOp::create(b, loc);

  if (BackwardStepOp backward = model.getBackwardStep()) {
    b.setInsertionPointAfter(stepFn);
    if (failed(lowerBackwardStep(backward)))
      return failure();
  }
  if (ChunkStepOp chunk = model.getChunkStep()) {
    b.setInsertionPointAfter(stepFn);
    return lowerChunkStep(chunk);
  }
  return success();
}

SmallVector<int> ModelLowering::memoryTensors(LevelOp level) {
  StringRef memory = level.getMemory().getSymName();
  if (auto mlp = dyn_cast<MlpType>(level.getMemory().getType()))
    return llvm::map_to_vector(mlp.getParts(), [&](const MlpType::Part &p) {
      return stateOf(level, memory, p.name);
    });
  return {memoryOf(level)};
}

SmallVector<int> ModelLowering::accumulators(LevelOp level) {
  if (auto mlp = dyn_cast<MlpType>(level.getMemory().getType()))
    return llvm::map_to_vector(mlp.getParts(), [&](const MlpType::Part &p) {
      return tensorOf(ABIKind::accumulator, level, {}, p.name);
    });
  return {tensorOf(ABIKind::accumulator, level)};
}

LogicalResult ModelLowering::emitResets(bool inStep) {
  for (TransferOp t : model.getTransfers()) {
    if (t.getKind() != TransferKind::init || !t.getReset())
      continue;
    LevelOp from = model.lookupLevel(t.getFrom()),
            to = model.lookupLevel(t.getTo());
    Type fromType = from.getMemory().getType(),
         toType = to.getMemory().getType();
    if (fromType != toType || isa<KvCacheType>(fromType))
      return t.emitOpError()
             << "resets @" << to.getSymName() << " (" << toType
             << ") to the memory of @" << from.getSymName() << " (" << fromType
             << "); the back ends need two parametric memories of one type";
    int li = levelIndex.lookup(from.getSymName());
    Value fire = bit(fireArg, li);
    Value cond =
        inStep ? arith::AndIOp::create(b, loc, bit(activeArg, li), fire) : fire;
    auto ifFire = scf::IfOp::create(b, loc, cond, /*withElse=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifFire.getThenRegion().front());
    auto copy = [&](Value src, Value dst) {
      forAll(cast<MemRefType>(dst.getType()).getShape(), [&](ValueRange ivs) {
        Value v =
            src ? Value(memref::LoadOp::create(b, loc, src, ivs)) : f32(0.0);
        memref::StoreOp::create(b, loc, v, dst, ivs);
      });
    };
    for (auto [src, dst] : llvm::zip(memoryTensors(from), memoryTensors(to)))
      copy(stateArgs[src], stateArgs[dst]);
    // TO's pending chunk is discarded: its accumulator and the tokens its
    // deferred-gradient ring still holds (the ring's contents are dead once
    // its count is 0).
    for (int i : accumulators(to))
      if (i >= 0)
        copy(Value(), stateArgs[i]);
    if (int i = tensorOf(ABIKind::defer_count, to); i >= 0)
      storeCount(idx(0), stateArgs[i]);
  }
  return success();
}

namespace {

struct NLToLoopsPass : public nlc::impl::NLToLoopsBase<NLToLoopsPass> {
  using Base::Base;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    OpBuilder builder(module.getContext());
    SmallVector<ModelOp> models =
        llvm::to_vector(module.getBody()->getOps<ModelOp>());
    for (ModelOp model : models) {
      FailureOr<nlc::ModelABI> abi = nlc::getModelABI(model);
      if (failed(abi))
        return signalPassFailure();
      ModelLowering lowering(model, *abi, builder);
      if (failed(lowering.run()))
        return signalPassFailure();
      model.erase();
    }
    if (fastMath) {
      auto flags = arith::FastMathFlagsAttr::get(
          module.getContext(),
          arith::FastMathFlags::reassoc | arith::FastMathFlags::contract);
      module.walk([&](arith::ArithFastMathInterface op) {
        op->setAttr(op.getFastMathAttrName(), flags);
      });
    }
  }
};

} // namespace
