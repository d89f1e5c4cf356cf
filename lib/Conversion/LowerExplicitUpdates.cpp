//===- LowerExplicitUpdates.cpp - nl-to-loops for the explicit form -------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// The ops nl-expand-updates writes: nl.load is a view of the state, nl.store
// copies a value into it, nl.learn and nl.apply run their region behind the
// level's active and fire bits (nl.apply also in the flush entry), and the
// upstream arith/math ops the rules use elementwise on tensors (sign,
// comparisons, powers, square roots) become loops of their scalar forms.
//
//===----------------------------------------------------------------------===//

#include "ModelLowering.h"

#include "mlir/IR/IRMapping.h"

using namespace nlc::detail;

LogicalResult ModelLowering::lowerLoad(LoadOp op) {
  int i = abi.find(op.getState());
  if (i < 0)
    return op.emitOpError() << "loads " << op.getState()
                            << ", which the model's ABI does not hold";
  buffers[op.getResult()] = stateArgs[i];
  return success();
}

LogicalResult ModelLowering::lowerStore(StoreOp op) {
  int i = abi.find(op.getState());
  if (i < 0)
    return op.emitOpError() << "stores " << op.getState()
                            << ", which the model's ABI does not hold";
  // A load is a view of the state, not a copy: no value loaded from it may
  // be used after this store (nl-expand-updates never writes that).
  for (Operation *user : stateUsers(stateArgs[i], op)) {
    InFlightDiagnostic diag = op.emitOpError()
                              << "overwrites " << op.getState()
                              << " while a value loaded from it is still used";
    diag.attachNote(user->getLoc()) << "used here, after the store";
    return diag;
  }
  Value src = buf(op.getValue()), dst = stateArgs[i];
  if (src == dst)
    return success();
  forAll(shapeOf(op.getValue()), [&](ValueRange ivs) {
    memref::StoreOp::create(b, loc, memref::LoadOp::create(b, loc, src, ivs),
                            dst, ivs);
  });
  return success();
}

SmallVector<Operation *> ModelLowering::stateUsers(Value state, StoreOp store) {
  SmallVector<Operation *> late;
  auto after = [&](Operation *user) {
    // Compare in the innermost block that holds both ops.
    for (Operation *s = store; s; s = s->getParentOp())
      if (Operation *u = s->getBlock()->findAncestorOpInBlock(*user))
        return u != s && s->isBeforeInBlock(u);
    return false;
  };
  for (auto &[value, buffer] : buffers)
    if (buffer == state && isa_and_nonnull<LoadOp>(value.getDefiningOp()))
      for (Operation *user : value.getUsers())
        if (after(user))
          late.push_back(user);
  return late;
}

LogicalResult ModelLowering::lowerGuarded(Operation *op, StringRef level,
                                          Region &body, bool inFlush) {
  int li = levelIndex.lookup(level);
  Value cond;
  if (isa<LearnOp>(op))
    cond = bit(activeArg, li);
  else if (inFlush)
    cond = bit(fireArg, li);
  else
    cond = arith::AndIOp::create(b, loc, bit(activeArg, li), bit(fireArg, li));
  auto ifOp = scf::IfOp::create(b, loc, cond, /*withElse=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&ifOp.getThenRegion().front());
  for (Operation &inner : body.front())
    if (failed(lowerOp(&inner)))
      return failure();
  return success();
}

LogicalResult ModelLowering::lowerElementwise(Operation *op) {
  Value result = op->getResult(0);
  auto type = dyn_cast<RankedTensorType>(result.getType());
  if (!type || op->getNumResults() != 1 ||
      !llvm::all_of(op->getOperandTypes(), [&](Type t) {
        auto s = dyn_cast<RankedTensorType>(t);
        return s && s.getShape() == type.getShape();
      }))
    return op->emitOpError() << "is lowered elementwise on tensors of one "
                                "shape only";
  Type element = type.getElementType();
  if (!element.isF32() && !element.isInteger(1))
    return op->emitOpError() << "on tensors of " << element
                             << " is not supported by the CPU back end";
  Value out = scratch(type.getShape(), element);
  SmallVector<Value> ins;
  for (Value v : op->getOperands())
    ins.push_back(buf(v));
  forAll(type.getShape(), [&](ValueRange ivs) {
    IRMapping map;
    for (auto [v, in] : llvm::zip(op->getOperands(), ins))
      map.map(v, memref::LoadOp::create(b, loc, in, ivs).getResult());
    Operation *scalar = b.clone(*op, map);
    scalar->getResult(0).setType(element);
    memref::StoreOp::create(b, loc, scalar->getResult(0), out, ivs);
  });
  buffers[result] = out;
  return success();
}
