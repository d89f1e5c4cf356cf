//===- LowerBackward.cpp - nl-to-loops for the backward entry -------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// nl.backward_step becomes nl_<model>_backward: the step's arguments (its
// output pointers hold the outputs' cotangents, its state the primal state
// before the token, read only), then one gradient per parameter (added to),
// one adjoint per state tensor (the cotangent of the state after the token
// on entry, before it on return) and the input's cotangent. The body's
// scf.if ops (the levels' regions as dataflow) keep their results in
// scratch buffers.
//
//===----------------------------------------------------------------------===//

#include "ModelLowering.h"

using namespace nlc::detail;

int ModelLowering::adjointSlot(SymbolRefAttr state,
                               std::optional<uint64_t> history) {
  if (state)
    return abi.find(state);
  return abi.findHistory(static_cast<int64_t>(*history));
}

LogicalResult ModelLowering::lowerBackwardOp(Operation *op) {
  if (auto h = dyn_cast<HistoryOp>(op)) {
    int i = abi.findHistory(h.getIndex());
    if (i < 0)
      return op->emitOpError() << "names a history the model's ABI lacks";
    buffers[h.getResult()] = stateArgs[i];
    return success();
  }
  if (auto a = dyn_cast<AdjointOp>(op)) {
    int i = adjointSlot(a.getStateAttr(), a.getHistory());
    if (i < 0)
      return op->emitOpError() << "names a slot the model's ABI lacks";
    buffers[a.getResult()] = adjointArgs[i];
    return success();
  }
  if (auto s = dyn_cast<SetAdjointOp>(op)) {
    if (adjointSlot(s.getStateAttr(), s.getHistory()) < 0)
      return op->emitOpError() << "names a slot the model's ABI lacks";
    pendingAdjoints.push_back(s);
    return success();
  }
  if (auto g = dyn_cast<ParamGradOp>(op)) {
    for (auto [i, t] : llvm::enumerate(abi.params)) {
      if (t.name != g.getParam())
        continue;
      Value grad = gradArgs[i], src = buf(g.getValue());
      forAll(shapeOf(g.getValue()), [&](ValueRange ivs) {
        Value sum = arith::AddFOp::create(
            b, loc, memref::LoadOp::create(b, loc, grad, ivs),
            memref::LoadOp::create(b, loc, src, ivs));
        memref::StoreOp::create(b, loc, sum, grad, ivs);
      });
      return success();
    }
    return op->emitOpError() << "names a parameter the model's ABI lacks";
  }
  if (auto r = dyn_cast<RunsOp>(op)) {
    int li = levelIndex.lookup(r.getLevel());
    Value cond = bit(activeArg, li);
    if (r.getApply())
      cond = arith::AndIOp::create(b, loc, cond, bit(fireArg, li));
    buffers[r.getResult()] = cond;
    return success();
  }
  auto ifOp = cast<scf::IfOp>(op);
  SmallVector<Value> results;
  for (Value r : ifOp.getResults()) {
    auto type = dyn_cast<RankedTensorType>(r.getType());
    if (!type || !type.getElementType().isF32())
      return op->emitOpError() << "the CPU back end lowers scf.if with f32 "
                                  "tensor results only";
    results.push_back(scratch(type.getShape()));
  }
  auto lowered = scf::IfOp::create(b, loc, buf(ifOp.getCondition()),
                                   /*withElseRegion=*/true);
  for (auto [from, to] : {std::pair(&ifOp.getThenRegion(),
                                    &lowered.getThenRegion()),
                          std::pair(&ifOp.getElseRegion(),
                                    &lowered.getElseRegion())}) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(to->front().getTerminator());
    for (Operation &inner : from->front().without_terminator())
      if (failed(lowerOp(&inner)))
        return failure();
    auto yield = cast<scf::YieldOp>(from->front().getTerminator());
    for (auto [v, out] : llvm::zip(yield.getResults(), results)) {
      Value src = buf(v);
      forAll(shapeOf(v), [&](ValueRange ivs) {
        memref::StoreOp::create(
            b, loc, memref::LoadOp::create(b, loc, src, ivs), out, ivs);
      });
    }
  }
  for (auto [r, out] : llvm::zip(ifOp.getResults(), results))
    buffers[r] = out;
  return success();
}

LogicalResult ModelLowering::lowerBackwardStep(BackwardStepOp op) {
  makeFunction(abi.model + "_backward_impl", /*isStep=*/true, /*chunk=*/0,
               /*backward=*/true);
  b.setInsertionPointToEnd(entry);
  Block &body = op.getBody().front();
  if (body.getNumArguments() != 1 + outputArgs.size())
    return op.emitOpError() << "takes one input and one cotangent per output "
                               "in the CPU back end";
  buffers[body.getArgument(0)] = xArg;
  for (auto [arg, dy] : llvm::zip(body.getArguments().drop_front(), outputArgs))
    buffers[arg] = dy;
  pendingAdjoints.clear();
  for (Operation &inner : body.without_terminator())
    if (failed(lowerOp(&inner)))
      return failure();

  // The adjoints before the token. A value that is (a view of) another
  // slot's adjoint is copied first, so that no write clobbers what a later
  // one reads.
  auto rootOf = [](Value v) {
    while (Operation *def = v.getDefiningOp()) {
      if (!isa<memref::ExpandShapeOp, memref::CollapseShapeOp>(def))
        break;
      v = def->getOperand(0);
    }
    return v;
  };
  SmallVector<std::pair<Value, Value>> copies;
  for (SetAdjointOp s : pendingAdjoints) {
    Value dst = adjointArgs[adjointSlot(s.getStateAttr(), s.getHistory())];
    Value src = buf(s.getValue());
    if (src == dst)
      continue;
    if (llvm::is_contained(adjointArgs, rootOf(src))) {
      Value copy = scratch(shapeOf(s.getValue()));
      forAll(shapeOf(s.getValue()), [&](ValueRange ivs) {
        memref::StoreOp::create(
            b, loc, memref::LoadOp::create(b, loc, src, ivs), copy, ivs);
      });
      src = copy;
    }
    copies.push_back({src, dst});
  }
  for (auto [src, dst] : copies)
    forAll(cast<MemRefType>(dst.getType()).getShape(), [&](ValueRange ivs) {
      memref::StoreOp::create(b, loc, memref::LoadOp::create(b, loc, src, ivs),
                              dst, ivs);
    });

  auto yield = cast<YieldOp>(body.getTerminator());
  Value dx = buf(yield.getValues()[0]);
  forAll(shapeOf(yield.getValues()[0]), [&](ValueRange ivs) {
    memref::StoreOp::create(b, loc, memref::LoadOp::create(b, loc, dx, ivs),
                            dxArg, ivs);
  });
  func::ReturnOp::create(b, loc);
  return success();
}
