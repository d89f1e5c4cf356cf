//===- LowerChunkOps.cpp - nl-to-loops for the chunk-parallel form --------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// The chunk entry point of a model with an nl.chunk_step (nl-chunk), and the
// loops of its ops: nl.matmul as a register-tiled loop nest on vectors,
// nl.tril, nl.transpose, nl.assign's writes of the new states, and the
// pending chunks of slower levels (nl.accumulate, nl.pending, nl.fires).
//
//===----------------------------------------------------------------------===//

#include "ModelLowering.h"

using namespace nlc::detail;

namespace {
/// The register tile of nl.matmul: kRows rows by kVectors vectors of
/// kWidth floats, kRows * kVectors accumulators (12 of AVX2's 16 registers,
/// with the two vectors of the right operand and one broadcast).
constexpr int64_t kRows = 6, kVectors = 2, kWidth = 8;
} // namespace

/// The buffer `v` is a view of (through reshapes), or `v` itself.
static Value rootBuffer(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (auto e = dyn_cast<memref::ExpandShapeOp>(def))
      v = e.getSrc();
    else if (auto c = dyn_cast<memref::CollapseShapeOp>(def))
      v = c.getSrc();
    else
      break;
  }
  return v;
}

LogicalResult ModelLowering::lowerChunkStep(ChunkStepOp chunk) {
  func::FuncOp fn =
      makeFunction(abi.model + "_chunk_impl", /*isStep=*/true, chunk.getSize());
  // Its scratch is thread-local (one copy per calling thread), so its loops
  // must not run on a thread team: nl-parallelize-cpu keeps them serial.
  fn->setAttr(NLDialect::getSerialAttrName(), b.getUnitAttr());
  b.setInsertionPointToEnd(entry);
  threadLocalScratch = true;
  buffers[chunk.getInput()] = xArg;
  pendingAssigns.clear();
  pendingAccumulates.clear();
  intoState.clear();
  transposedCopies.clear();
  Block &body = chunk.getBody().front();
  // A new state computed elementwise (M1 = retain M0 - G^T K) is written in
  // place at the end instead of into a scratch copy.
  body.walk([&](AssignOp assign) {
    for (Value v : assign.getValues())
      if (Operation *def = v.getDefiningOp())
        if (isa<AddOp, SubOp, MulOp, DivOp>(def) && v.hasOneUse() &&
            def->getBlock() == &body)
          intoState.insert(def);
  });
  // A product whose only use is a state's update (M1 = M0 - G^T K, or a
  // slower level's pending sum) is computed at the end straight into the
  // state (M -= G^T K, acc += G^T K), not into a scratch matrix the size of
  // the state that is then read again. Its operands must not be states,
  // which the end writes.
  fusedProducts.clear();
  auto fusable = [&](Value step) -> MatmulOp {
    auto product = step.getDefiningOp<MatmulOp>();
    if (!product || !step.hasOneUse() || product->getBlock() != &body)
      return {};
    return product;
  };
  body.walk([&](Operation *op) {
    if (auto accumulate = dyn_cast<AccumulateOp>(op))
      for (Value step : accumulate.getSteps())
        if (MatmulOp product = fusable(step))
          fusedProducts.insert(product);
    if (intoState.contains(op) && isa<SubOp>(op) &&
        op->getOperand(0).getDefiningOp<WeightsOp>())
      if (MatmulOp product = fusable(op->getOperand(1)))
        fusedProducts.insert(product);
  });
  for (Operation &op : body.without_terminator()) {
    if (intoState.contains(&op))
      continue;
    if (fusedProducts.contains(&op)) {
      if (!readsState(cast<MatmulOp>(op)))
        continue;
      fusedProducts.erase(&op);
    }
    if (failed(lowerOp(&op)))
      return failure();
  }
  auto yield = cast<YieldOp>(body.getTerminator());
  for (auto [value, out] : llvm::zip(yield.getValues(), outputArgs)) {
    Value src = buf(value);
    forAll(shapeOf(value), [&](ValueRange ivs) {
      memref::StoreOp::create(b, loc, memref::LoadOp::create(b, loc, src, ivs),
                              out, ivs);
    });
  }
  // The new states, once nothing of the chunk reads the old ones. In place
  // only when each operand is the state itself or a buffer apart from it
  // (an element then depends on the same element of the old state only).
  for (AssignOp assign : pendingAssigns) {
    LevelOp level = model.lookupLevel(assign.getLevel());
    SmallVector<int> tensors = memoryTensors(level);
    if (isa<MatrixType>(level.getMemory().getType()))
      tensors = llvm::map_to_vector(level.getStates(), [&](StateOp state) {
        return stateOf(level, state.getSymName());
      });
    for (auto [value, tensor] : llvm::zip(assign.getValues(), tensors)) {
      Value dst = stateArgs[tensor];
      Operation *def = value.getDefiningOp();
      if (def && intoState.contains(def)) {
        if (auto product = def->getOperand(1).getDefiningOp<MatmulOp>();
            product && fusedProducts.contains(product)) {
          if (buf(def->getOperand(0)) == dst) {
            lowerMatmul(product, dst, /*sign=*/-1);
            continue;
          }
          lowerMatmul(product); // into scratch, subtracted below
        }
        bool inPlace = llvm::all_of(def->getOperands(), [&](Value operand) {
          Value ob = buf(operand);
          return ob == dst || rootBuffer(ob) != dst;
        });
        lowerBinary(def, inPlace ? dst : Value());
        if (inPlace)
          continue;
      }
      Value src = buf(value);
      forAll(shapeOf(value), [&](ValueRange ivs) {
        memref::StoreOp::create(
            b, loc, memref::LoadOp::create(b, loc, src, ivs), dst, ivs);
      });
    }
  }
  // A slower level's steps join its pending chunk, which its rule applies
  // when the level fires on the chunk's last token.
  for (AccumulateOp accumulate : pendingAccumulates) {
    LevelOp level = model.lookupLevel(accumulate.getLevel());
    for (auto [value, tensor] :
         llvm::zip(accumulate.getSteps(), accumulators(level))) {
      Value acc = stateArgs[tensor];
      if (fusedProducts.contains(value.getDefiningOp())) {
        lowerMatmul(value.getDefiningOp<MatmulOp>(), acc, /*sign=*/1);
        continue;
      }
      Value src = buf(value);
      forAll(shapeOf(value), [&](ValueRange ivs) {
        memref::StoreOp::create(
            b, loc,
            arith::AddFOp::create(b, loc,
                                  memref::LoadOp::create(b, loc, acc, ivs),
                                  memref::LoadOp::create(b, loc, src, ivs)),
            acc, ivs);
      });
    }
    int li = levelIndex.lookup(level.getSymName());
    emitLevelUpdate(updates.lookup(level.getSymName()), li, Value(),
                    bit(fireArg, li), /*contribute=*/false);
  }
  func::ReturnOp::create(b, loc);
  threadLocalScratch = false;
  return success();
}

LogicalResult ModelLowering::lowerRows(RowsOp op) {
  // One iteration per token: its rows of the operands are copied into
  // scratch of the step's shapes, the body is lowered as the step is, and
  // the values it yields are stored as the token's rows of the results.
  int64_t size =
      static_cast<int64_t>(op->getParentOfType<ChunkStepOp>().getSize());
  SmallVector<Value> results;
  for (Value r : op.getResults()) {
    results.push_back(scratch(shapeOf(r)));
    buffers[r] = results.back();
  }
  auto tokens = scf::ForOp::create(b, loc, idx(0), idx(size), idx(1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(tokens.getBody()->getTerminator());
  Value t = tokens.getInductionVar();
  auto withToken = [&](ValueRange ivs) {
    SmallVector<Value> at{t};
    at.append(ivs.begin(), ivs.end());
    return at;
  };
  Block &body = op.getBody().front();
  for (auto [input, arg] : llvm::zip(op.getInputs(), body.getArguments())) {
    Value src = buf(input), row = scratch(shapeOf(arg));
    forAll(shapeOf(arg), [&](ValueRange ivs) {
      memref::StoreOp::create(
          b, loc, memref::LoadOp::create(b, loc, src, withToken(ivs)), row,
          ivs);
    });
    buffers[arg] = row;
  }
  for (Operation &inner : body.without_terminator())
    if (failed(lowerOp(&inner)))
      return failure();
  auto yield = cast<YieldOp>(body.getTerminator());
  for (auto [value, out] : llvm::zip(yield.getValues(), results)) {
    Value src = buf(value);
    forAll(shapeOf(value), [&](ValueRange ivs) {
      memref::StoreOp::create(b, loc, memref::LoadOp::create(b, loc, src, ivs),
                              out, withToken(ivs));
    });
  }
  return success();
}

bool ModelLowering::readsState(MatmulOp op) {
  return llvm::any_of(op->getOperands(), [&](Value v) {
    return llvm::is_contained(stateArgs, rootBuffer(buf(v)));
  });
}

void ModelLowering::lowerMatmul(MatmulOp op, Value into, int sign) {
  Shape sa = shapeOf(op.getLhs()), sb = shapeOf(op.getRhs());
  Shape out = shapeOf(op.getResult());
  size_t n = out.size();
  Shape batch(out.begin(), out.end() - 2);
  int64_t rows = out[n - 2], cols = out[n - 1];
  bool ta = op.getTransposeLhs();
  int64_t depth = ta ? sa[n - 2] : sa[n - 1];
  Value a = buf(op.getLhs()), rhs = buf(op.getRhs());
  Value result = into ? into : scratch(out);
  if (!into)
    buffers[op.getResult()] = result;

  // The register tiles read the right operand as [batch.., depth, cols],
  // rows contiguous. A transposed one is copied once (depth x cols loads
  // against the rows x depth x cols multiply-adds of the product), unless
  // the other two matrices are smaller together: a chunk's few rows times
  // a layer's weights (X W^T) are then computed as (W X^T)^T, copying X
  // and the result instead of W.
  if (op.getTransposeRhs()) {
    // In the chunk entry's body (straight-line code over buffers written
    // once, the states only at its end) one copy serves every product; in
    // a step, a state buffer may change between two products.
    bool reusable = threadLocalScratch && b.getInsertionBlock() == entry;
    Value copy = reusable ? transposedCopies.lookup(rhs) : Value();
    if (!copy && !ta && rows * (depth + cols) < depth * cols) {
      Value at = transposedCopy(a, batch, rows, depth); // X^T: [depth, rows]
      Shape swapped(batch);
      swapped.append({cols, rows});
      Value product = scratch(swapped);
      tiledProduct(rhs, /*ta=*/false, at, batch, cols, rows, depth, product,
                   /*sign=*/0);
      forAll(out, [&](ValueRange ivs) {
        SmallVector<Value> from(ivs.drop_back(2));
        from.append({ivs[n - 1], ivs[n - 2]});
        Value v = memref::LoadOp::create(b, loc, product, from);
        if (sign) {
          Value old = memref::LoadOp::create(b, loc, result, ivs);
          v = sign > 0 ? arith::AddFOp::create(b, loc, old, v).getResult()
                       : arith::SubFOp::create(b, loc, old, v).getResult();
        }
        memref::StoreOp::create(b, loc, v, result, ivs);
      });
      return;
    }
    if (!copy) {
      copy = transposedCopy(rhs, batch, cols, depth);
      if (reusable)
        transposedCopies[rhs] = copy;
    }
    rhs = copy;
  }
  tiledProduct(a, ta, rhs, batch, rows, cols, depth, result, sign);
}

Value ModelLowering::transposedCopy(Value m, ArrayRef<int64_t> batch,
                                    int64_t rows, int64_t cols) {
  // Blocks of kWidth source rows streamed along the columns: each source
  // cache line is used whole while it is in L1, and each store is one
  // vector of the copy (a gather of all the rows at once misses the cache
  // on every element once the rows are a few KB apart).
  Shape t(batch.begin(), batch.end());
  t.append({cols, rows});
  Value copy = scratch(t);
  int64_t blocked = rows - rows % kWidth;
  auto copyAt = [&](ValueRange bi, Value r, Value c) {
    SmallVector<Value> from(bi.begin(), bi.end()), to(from);
    from.append({r, c});
    to.append({c, r});
    memref::StoreOp::create(b, loc, memref::LoadOp::create(b, loc, m, from),
                            copy, to);
  };
  forAll(batch, [&](ValueRange bi) {
    if (blocked) {
      auto blocks =
          scf::ForOp::create(b, loc, idx(0), idx(blocked), idx(kWidth));
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(blocks.getBody());
      auto cs = scf::ForOp::create(b, loc, idx(0), idx(cols), idx(1));
      b.setInsertionPointToStart(cs.getBody());
      for (int64_t r = 0; r < kWidth; ++r)
        copyAt(bi,
               arith::AddIOp::create(b, loc, blocks.getInductionVar(), idx(r)),
               cs.getInductionVar());
    }
    if (blocked < rows)
      forAll({rows - blocked, cols}, [&](ValueRange rc) {
        copyAt(bi, arith::AddIOp::create(b, loc, rc[0], idx(blocked)), rc[1]);
      });
  });
  return copy;
}

void ModelLowering::tiledProduct(Value a, bool ta, Value rhs,
                                 ArrayRef<int64_t> batch, int64_t rows,
                                 int64_t cols, int64_t depth, Value result,
                                 int sign) {
  auto vecTy = VectorType::get({kWidth}, b.getF32Type());
  int64_t tileCols = kVectors * kWidth;
  int64_t fullCols = cols - cols % tileCols;
  forAll(batch, [&](ValueRange bi) {
    auto at = [&](Value i, Value j) {
      SmallVector<Value> ix(bi.begin(), bi.end());
      ix.append({i, j});
      return ix;
    };
    auto loadA = [&](Value i, Value k) -> Value {
      Value v = memref::LoadOp::create(b, loc, a, ta ? at(k, i) : at(i, k));
      return sign < 0 ? arith::NegFOp::create(b, loc, v).getResult() : v;
    };
    // The register tiles: `tileRows` rows of A times tileCols columns of
    // the right operand, over rows [r0, r1).
    auto tiles = [&](int64_t r0, int64_t r1, int64_t tileRows) {
      if (r0 >= r1 || !fullCols)
        return;
      auto rowLoop =
          scf::ForOp::create(b, loc, idx(r0), idx(r1), idx(tileRows));
      OpBuilder::InsertionGuard g1(b);
      b.setInsertionPointToStart(rowLoop.getBody());
      Value i0 = rowLoop.getInductionVar();
      auto colLoop =
          scf::ForOp::create(b, loc, idx(0), idx(fullCols), idx(tileCols));
      b.setInsertionPointToStart(colLoop.getBody());
      Value j0 = colLoop.getInductionVar();
      // The tile's rows of A and vectors of columns.
      SmallVector<Value> is, js;
      for (int64_t r = 0; r < tileRows; ++r)
        is.push_back(arith::AddIOp::create(b, loc, i0, idx(r)));
      for (int64_t v = 0; v < kVectors; ++v)
        js.push_back(arith::AddIOp::create(b, loc, j0, idx(v * kWidth)));
      Value zero = arith::ConstantOp::create(
          b, loc, vecTy, DenseElementsAttr::get(vecTy, 0.0f));
      // The tile starts from the result when the product is added to it.
      SmallVector<Value> init;
      for (Value i : is)
        for (Value j : js)
          init.push_back(
              sign ? vector::LoadOp::create(b, loc, vecTy, result, at(i, j))
                         .getResult()
                   : zero);
      auto kLoop = scf::ForOp::create(b, loc, idx(0), idx(depth), idx(1), init);
      {
        OpBuilder::InsertionGuard g2(b);
        b.setInsertionPointToStart(kLoop.getBody());
        Value k = kLoop.getInductionVar();
        SmallVector<Value> bv;
        for (Value j : js)
          bv.push_back(vector::LoadOp::create(b, loc, vecTy, rhs, at(k, j)));
        SmallVector<Value> next;
        for (auto [r, i] : llvm::enumerate(is)) {
          Value av = vector::BroadcastOp::create(b, loc, vecTy, loadA(i, k));
          for (int64_t v = 0; v < kVectors; ++v)
            next.push_back(vector::FMAOp::create(
                b, loc, av, bv[v],
                kLoop.getRegionIterArgs()[r * kVectors + v]));
        }
        scf::YieldOp::create(b, loc, next);
      }
      for (auto [r, i] : llvm::enumerate(is))
        for (auto [v, j] : llvm::enumerate(js))
          vector::StoreOp::create(b, loc, kLoop.getResult(r * kVectors + v),
                                  result, at(i, j));
    };
    // Tiles of kRows rows, then of fewer for the rows left.
    int64_t sixes = rows - rows % kRows;
    int64_t fours = sixes + (rows - sixes) / 4 * 4;
    tiles(0, sixes, kRows);
    tiles(sixes, fours, 4);
    tiles(fours, rows, 1);
    // The edges the tile does not cover, one dot product per element.
    auto scalarBlock = [&](int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
      if (r0 >= r1 || c0 >= c1)
        return;
      forAll({r1 - r0, c1 - c0}, [&](ValueRange ij) {
        Value i = arith::AddIOp::create(b, loc, ij[0], idx(r0));
        Value j = arith::AddIOp::create(b, loc, ij[1], idx(c0));
        Value dot = sum(depth, [&](Value k) {
          return arith::MulFOp::create(
              b, loc, loadA(i, k),
              memref::LoadOp::create(b, loc, rhs, at(k, j)));
        });
        if (sign) // loadA negates for sign < 0
          dot = arith::AddFOp::create(
              b, loc, memref::LoadOp::create(b, loc, result, at(i, j)), dot);
        memref::StoreOp::create(b, loc, dot, result, at(i, j));
      });
    };
    scalarBlock(0, rows, fullCols, cols);
  });
}

void ModelLowering::lowerTril(TrilOp op) {
  Shape shape = shapeOf(op.getResult());
  Value in = buf(op.getInput()), out = scratch(shape);
  size_t n = shape.size();
  forAll(shape, [&](ValueRange ivs) {
    auto pred =
        op.getStrict() ? arith::CmpIPredicate::ult : arith::CmpIPredicate::ule;
    Value keep = arith::CmpIOp::create(b, loc, pred, ivs[n - 1], ivs[n - 2]);
    Value v = arith::SelectOp::create(
        b, loc, keep, memref::LoadOp::create(b, loc, in, ivs), f32(0.0));
    memref::StoreOp::create(b, loc, v, out, ivs);
  });
  buffers[op.getResult()] = out;
}

void ModelLowering::lowerTranspose(TransposeOp op) {
  Shape shape = shapeOf(op.getResult());
  Value in = buf(op.getInput()), out = scratch(shape);
  ArrayRef<int64_t> perm = op.getPermutation();
  forAll(shape, [&](ValueRange ivs) {
    SmallVector<Value> from(ivs.size());
    for (auto [d, p] : llvm::enumerate(perm))
      from[p] = ivs[d];
    memref::StoreOp::create(b, loc, memref::LoadOp::create(b, loc, in, from),
                            out, ivs);
  });
  buffers[op.getResult()] = out;
}

Value ModelLowering::unitLowerByRows(
    ArrayRef<int64_t> shape,
    function_ref<Value(function_ref<SmallVector<Value>(ValueRange)> at,
                       Value out, Value i, Value j)>
        below) {
  size_t n = shape.size();
  int64_t c = shape[n - 1];
  Value out = scratch(shape);
  Shape batch(shape.begin(), shape.end() - 2);
  forAll(batch, [&](ValueRange bi) {
    auto at = [&](ValueRange tail) {
      SmallVector<Value> ix(bi.begin(), bi.end());
      ix.append(tail.begin(), tail.end());
      return ix;
    };
    // Row by row: the rows above i are final when row i is computed.
    forInOrder(c, [&](Value i) {
      forAll({c}, [&](ValueRange js) {
        Value j = js[0];
        Value isBelow =
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, j, i);
        auto ifBelow = scf::IfOp::create(b, loc, b.getF32Type(), isBelow,
                                         /*withElseRegion=*/true);
        {
          OpBuilder::InsertionGuard g(b);
          b.setInsertionPointToStart(&ifBelow.getThenRegion().front());
          scf::YieldOp::create(b, loc, ValueRange{below(at, out, i, j)});
          b.setInsertionPointToStart(&ifBelow.getElseRegion().front());
          Value diag =
              arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, j, i);
          scf::YieldOp::create(b, loc,
                               ValueRange{arith::SelectOp::create(
                                   b, loc, diag, f32(1.0), f32(0.0))});
        }
        memref::StoreOp::create(b, loc, ifBelow.getResult(0), out, at({i, j}));
      });
    });
  });
  return out;
}

void ModelLowering::lowerTriInv(TriInvOp op) {
  // X[i, j] = -sum_{j <= m < i} A[i, m] X[m, j] below the diagonal.
  Value a = buf(op.getInput());
  buffers[op.getResult()] = unitLowerByRows(
      shapeOf(op.getResult()), [&](auto at, Value x, Value i, Value j) {
        auto loop =
            scf::ForOp::create(b, loc, j, i, idx(1), ValueRange{f32(0.0)});
        {
          OpBuilder::InsertionGuard g(b);
          b.setInsertionPointToStart(loop.getBody());
          Value m = loop.getInductionVar();
          Value term = arith::MulFOp::create(
              b, loc, memref::LoadOp::create(b, loc, a, at({i, m})),
              memref::LoadOp::create(b, loc, x, at({m, j})));
          scf::YieldOp::create(b, loc,
                               ValueRange{arith::AddFOp::create(
                                   b, loc, loop.getRegionIterArgs()[0], term)});
        }
        return arith::NegFOp::create(b, loc, loop.getResult(0)).getResult();
      });
}

void ModelLowering::lowerDecayMask(DecayMaskOp op) {
  // r[t, s] = r[t-1, s] a[t] below the diagonal.
  Value a = buf(op.getInput());
  buffers[op.getResult()] = unitLowerByRows(
      shapeOf(op.getResult()), [&](auto at, Value r, Value t, Value s) {
        Value prev = arith::SubIOp::create(b, loc, t, idx(1));
        Value above = memref::LoadOp::create(b, loc, r, at({prev, s}));
        Value gate = memref::LoadOp::create(b, loc, a, at({t}));
        return arith::MulFOp::create(b, loc, above, gate).getResult();
      });
}

void ModelLowering::lowerChunkConv(ChunkConvOp op) {
  // y[t, c] = sum_i W[i, c] x_{t-i}[c], x_{t-i} from the chunk's rows or,
  // before them, from the history (hist[j] holds x_{-1-j}).
  Shape shape = shapeOf(op.getResult());
  int64_t rows = shape[0], channels = shape[1];
  int64_t width = shapeOf(op.getWeight())[0];
  Value x = buf(op.getInput()), w = buf(op.getWeight());
  Value out = scratch(shape);
  Value hist =
      width > 1 ? stateArgs[abi.findHistory(op.getHistory())] : Value();
  forAll({rows, channels}, [&](ValueRange tc) {
    Value t = tc[0], c = tc[1];
    Value y = f32(0.0);
    for (int64_t i = 0; i < width; ++i) {
      // x_{t-i}: row t-i when t >= i, else hist[i-t-1].
      Value inChunk =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, t, idx(i));
      auto pick = scf::IfOp::create(b, loc, b.getF32Type(), inChunk,
                                    /*withElseRegion=*/true);
      {
        OpBuilder::InsertionGuard g(b);
        b.setInsertionPointToStart(&pick.getThenRegion().front());
        Value row = arith::SubIOp::create(b, loc, t, idx(i));
        scf::YieldOp::create(
            b, loc,
            ValueRange{memref::LoadOp::create(b, loc, x, ValueRange{row, c})});
        b.setInsertionPointToStart(&pick.getElseRegion().front());
        Value v = f32(0.0);
        if (hist) {
          Value j = arith::SubIOp::create(
              b, loc, arith::SubIOp::create(b, loc, idx(i), t), idx(1));
          v = memref::LoadOp::create(b, loc, hist, ValueRange{j, c});
        }
        scf::YieldOp::create(b, loc, ValueRange{v});
      }
      y = arith::AddFOp::create(
          b, loc, y,
          arith::MulFOp::create(
              b, loc, memref::LoadOp::create(b, loc, w, ValueRange{idx(i), c}),
              pick.getResult(0)));
    }
    memref::StoreOp::create(b, loc, y, out, ValueRange{t, c});
  });
  // The history after the chunk: its last w - 1 inputs, the older ones
  // shifted along when the chunk is shorter than that.
  if (hist) {
    forAll({channels}, [&](ValueRange cs) {
      Value c = cs[0];
      for (int64_t j = width - 2; j >= 0; --j) {
        Value v = j < rows ? Value(memref::LoadOp::create(
                                 b, loc, x, ValueRange{idx(rows - 1 - j), c}))
                           : Value(memref::LoadOp::create(
                                 b, loc, hist, ValueRange{idx(j - rows), c}));
        memref::StoreOp::create(b, loc, v, hist, ValueRange{idx(j), c});
      }
    });
  }
  buffers[op.getResult()] = out;
}
