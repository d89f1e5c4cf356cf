//===- NLChunkOps.cpp - The ops of the chunk-parallel form ----------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// Parsing, printing and verification of nl.chunk_step, nl.assign,
// nl.accumulate, nl.pending, nl.fires,
// nl.matmul, nl.tril and nl.transpose: what nl-chunk writes when it turns a
// level's per-token recurrence into products of matrices over a chunk.
//
//===----------------------------------------------------------------------===//

#include "nl/IR/NLOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallSet.h"

using namespace mlir;
using namespace mlir::nl;

//===----------------------------------------------------------------------===//
// ChunkStepOp
//===----------------------------------------------------------------------===//

ParseResult ChunkStepOp::parse(OpAsmParser &parser, OperationState &result) {
  int64_t size = 0;
  SmallVector<OpAsmParser::Argument> args;
  SmallVector<Type> outputs;
  if (parser.parseKeyword("size") || parser.parseInteger(size) ||
      parser.parseArgumentList(args, OpAsmParser::Delimiter::Paren,
                               /*allowType=*/true) ||
      parser.parseOptionalArrowTypeList(outputs) ||
      parser.parseOptionalAttrDictWithKeyword(result.attributes))
    return failure();
  Properties &props = result.getOrAddProperties<Properties>();
  props.size = parser.getBuilder().getI64IntegerAttr(size);
  props.output_types = parser.getBuilder().getTypeArrayAttr(outputs);
  return parser.parseRegion(*result.addRegion(), args);
}

void ChunkStepOp::print(OpAsmPrinter &printer) {
  printer << " size " << getSize() << " (";
  llvm::interleaveComma(
      getBody().getArguments(), printer,
      [&](BlockArgument arg) { printer.printRegionArgument(arg); });
  printer << ')';
  printer.printOptionalArrowTypeList(getOutputTypeList());
  printer.printOptionalAttrDictWithKeyword(
      (*this)->getAttrs(), {getOutputTypesAttrName(), getSizeAttrName()});
  printer << ' ';
  printer.printRegion(getBody(), /*printEntryBlockArgs=*/false);
}

LogicalResult ChunkStepOp::verifyRegions() {
  Block &block = getBody().front();
  auto model = (*this)->getParentOfType<ModelOp>();
  SmallVector<int64_t> expected{static_cast<int64_t>(getSize()),
                                 static_cast<int64_t>(model.getDim())};
  auto input = block.getNumArguments() == 1
                   ? dyn_cast<RankedTensorType>(block.getArgument(0).getType())
                   : RankedTensorType();
  if (!input || input.getShape() != ArrayRef<int64_t>(expected) ||
      !input.getElementType().isF32())
    return emitOpError() << "takes one argument, the chunk's tokens as a "
                         << "tensor<" << getSize() << "x" << model.getDim()
                         << "xf32>";
  if (block.empty() || !isa<YieldOp>(block.back()))
    return emitOpError() << "body must end with nl.yield";
  // Token-by-token ops have no meaning here: the chunk form reads and
  // writes levels with nl.weights and nl.assign.
  llvm::SmallSet<StringRef, 4> assigned;
  WalkResult walk = getBody().walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (isa<RowsOp>(op))
      return WalkResult::skip(); // the step's ops, token by token
    if (isa<ReadOp, UpdateOp, ConvOp, GradOp>(op)) {
      op->emitOpError() << "works on one token and cannot appear in "
                           "nl.chunk_step; use nl.weights, nl.matmul and "
                           "nl.assign";
      return WalkResult::interrupt();
    }
    if (isa<AssignOp, AccumulateOp>(op)) {
      auto level = op->getAttrOfType<FlatSymbolRefAttr>("level").getValue();
      if (!assigned.insert(level).second) {
        op->emitOpError() << "writes level @" << level
                          << " a second time in one chunk";
        return WalkResult::interrupt();
      }
    }
    if (auto weights = dyn_cast<WeightsOp>(op))
      if (weights.getAfterWrite()) {
        weights.emitOpError() << "in nl.chunk_step returns the chunk-start "
                                 "state; 'after_write' has no meaning here";
        return WalkResult::interrupt();
      }
    return WalkResult::advance();
  });
  return failure(walk.wasInterrupted());
}

//===----------------------------------------------------------------------===//
// RowsOp
//===----------------------------------------------------------------------===//

LogicalResult RowsOp::verifyRegions() {
  int64_t size = static_cast<int64_t>(
      (*this)->getParentOfType<ChunkStepOp>().getSize());
  Block &block = getBody().front();
  if (block.getNumArguments() != getInputs().size())
    return emitOpError() << "has " << getInputs().size()
                         << " operand(s) but its body takes "
                         << block.getNumArguments() << " row(s)";
  auto rowOf = [&](Type t) -> Type {
    auto type = dyn_cast<RankedTensorType>(t);
    if (!type || type.getRank() == 0 || type.getDimSize(0) != size)
      return Type();
    return RankedTensorType::get(type.getShape().drop_front(),
                                 type.getElementType());
  };
  for (auto [i, pair] :
       llvm::enumerate(llvm::zip(getInputs(), block.getArguments()))) {
    auto [input, arg] = pair;
    Type row = rowOf(input.getType());
    if (!row)
      return emitOpError() << "operand #" << i << " has type "
                           << input.getType() << "; each operand has one row "
                           << "per token of the chunk (" << size << ")";
    if (arg.getType() != row)
      return emitOpError() << "body argument #" << i << " has type "
                           << arg.getType() << " but operand #" << i
                           << "'s row is " << row;
  }
  for (auto [i, t] : llvm::enumerate(getResultTypes()))
    if (!rowOf(t))
      return emitOpError() << "result #" << i << " has type " << t
                           << "; each result has one row per token of the "
                           << "chunk (" << size << ")";
  if (block.empty() || !isa<YieldOp>(block.back()))
    return emitOpError() << "body must end with nl.yield";
  return success();
}

//===----------------------------------------------------------------------===//
// AssignOp
//===----------------------------------------------------------------------===//

/// Checks that `types` (the op's `what`s) are the stored tensors of the
/// memory of `level` (and, for a matrix memory with `withStates`, its other
/// states after it).
static LogicalResult checkStoredTensors(Operation *op, LevelOp level,
                                        TypeRange types, StringRef what,
                                        bool withStates) {
  StateOp memory = level.getMemory();
  SmallVector<SmallVector<int64_t>> shapes;
  if (auto matrix =
          memory ? dyn_cast<MatrixType>(memory.getType()) : MatrixType()) {
    if (!withStates)
      return op->emitOpError() << "level @" << level.getSymName()
                               << " has a matrix memory; only MLP memories "
                                  "keep a pending update in the chunk form";
    // The memory, or the memory and the level's other states (a fused
    // algorithm's buffers), as nl.weights returns them.
    for (StateOp state : level.getStates()) {
      RankedTensorType storage = getStorageTensorType(state.getType());
      if (!storage)
        break;
      shapes.push_back(llvm::to_vector(storage.getShape()));
    }
    if (types.size() == 1)
      shapes.resize(1);
  } else if (auto mlp =
                 memory ? dyn_cast<MlpType>(memory.getType()) : MlpType()) {
    for (const MlpType::Part &p : mlp.getParts())
      shapes.push_back(p.shape);
  } else {
    return op->emitOpError() << "level @" << level.getSymName()
                             << " has no matrix or MLP memory to write";
  }
  if (types.size() != shapes.size())
    return op->emitOpError()
           << "gives " << types.size() << " " << what
           << "(s) but the memory of level @" << level.getSymName()
           << " stores " << shapes.size() << " tensor(s)";
  for (auto [i, pair] : llvm::enumerate(llvm::zip(types, shapes))) {
    auto [type, shape] = pair;
    ArrayRef<int64_t> got = cast<RankedTensorType>(type).getShape();
    if (got != ArrayRef<int64_t>(shape))
      return op->emitOpError() << what << " #" << i << " has shape "
                               << formatShape(got) << " but the stored tensor is "
                               << formatShape(shape);
  }
  return success();
}

LogicalResult AssignOp::verifySymbolUses(SymbolTableCollection &tables) {
  LevelOp level = lookupLevelFor(*this, getLevelAttr(), tables);
  if (!level)
    return failure();
  return checkStoredTensors(*this, level, getValues().getTypes(), "value",
                            /*withStates=*/true);
}

/// The level a pending-chunk op of `chunk` names, when its period is a
/// multiple of the chunk's size and larger; else a located error.
static LevelOp slowerLevel(Operation *op, FlatSymbolRefAttr ref,
                           SymbolTableCollection &tables) {
  LevelOp level = lookupLevelFor(op, ref, tables);
  if (!level)
    return {};
  auto chunk = op->getParentOfType<ChunkStepOp>();
  int64_t size = static_cast<int64_t>(chunk.getSize());
  PeriodAttr period = level.getPeriod();
  if (period.isInfinite() || period.isFrozen() || period.getValue() <= size ||
      period.getValue() % size != 0) {
    op->emitOpError() << "needs a level whose period is a multiple of the "
                         "chunk's size "
                      << size << " and larger; @" << level.getSymName()
                      << " has period "
                      << (period.isInfinite() ? std::string("inf")
                          : period.isFrozen()
                              ? std::string("frozen")
                              : std::to_string(period.getValue()));
    return {};
  }
  return level;
}

LogicalResult AccumulateOp::verifySymbolUses(SymbolTableCollection &tables) {
  LevelOp level = slowerLevel(*this, getLevelAttr(), tables);
  if (!level)
    return failure();
  return checkStoredTensors(*this, level, getSteps().getTypes(), "step",
                            /*withStates=*/false);
}

LogicalResult PendingOp::verifySymbolUses(SymbolTableCollection &tables) {
  LevelOp level = slowerLevel(*this, getLevelAttr(), tables);
  if (!level)
    return failure();
  return checkStoredTensors(*this, level, getResults().getTypes(),
                            "result", /*withStates=*/false);
}

LogicalResult FiresOp::verifySymbolUses(SymbolTableCollection &tables) {
  LevelOp level = lookupLevelFor(*this, getLevelAttr(), tables);
  if (!level)
    return failure();
  if (!level.learnsOnline())
    return emitOpError() << "level @" << level.getSymName()
                         << " does not learn, so it never fires";
  return success();
}

//===----------------------------------------------------------------------===//
// MatmulOp, TrilOp, TriInvOp, DecayMaskOp, TransposeOp
//===----------------------------------------------------------------------===//

LogicalResult MatmulOp::verify() {
  ArrayRef<int64_t> a = getLhs().getType().getShape();
  ArrayRef<int64_t> b = getRhs().getType().getShape();
  ArrayRef<int64_t> r = getResult().getType().getShape();
  if (a.size() < 2 || a.size() != b.size())
    return emitOpError() << "operands must be matrices of equal rank >= 2, "
                            "got shapes "
                         << formatShape(a) << " and " << formatShape(b);
  size_t n = a.size();
  if (a.drop_back(2) != b.drop_back(2))
    return emitOpError() << "operands have different batch dimensions "
                         << formatShape(a.drop_back(2)) << " and "
                         << formatShape(b.drop_back(2));
  int64_t m = getTransposeLhs() ? a[n - 1] : a[n - 2];
  int64_t ka = getTransposeLhs() ? a[n - 2] : a[n - 1];
  int64_t kb = getTransposeRhs() ? b[n - 1] : b[n - 2];
  int64_t cols = getTransposeRhs() ? b[n - 2] : b[n - 1];
  if (ka != kb)
    return emitOpError() << "contracts " << ka << " columns of the lhs with "
                         << kb << " rows of the rhs";
  SmallVector<int64_t> expected(a.drop_back(2));
  expected.append({m, cols});
  if (r != ArrayRef<int64_t>(expected))
    return emitOpError() << "result has shape " << formatShape(r)
                         << " but the product is " << formatShape(expected);
  return success();
}

LogicalResult TrilOp::verify() {
  if (getInput().getType().getRank() < 2)
    return emitOpError() << "masks the last two dimensions and needs a "
                            "matrix, got "
                         << getInput().getType();
  return success();
}

LogicalResult TriInvOp::verify() {
  ArrayRef<int64_t> shape = getInput().getType().getShape();
  if (shape.size() < 2 || shape[shape.size() - 1] != shape[shape.size() - 2])
    return emitOpError() << "inverts square matrices over the last two "
                            "dimensions, got shape "
                         << formatShape(shape);
  return success();
}

LogicalResult DecayMaskOp::verify() {
  ArrayRef<int64_t> in = getInput().getType().getShape();
  if (in.empty())
    return emitOpError() << "takes one gate per token, got a scalar";
  SmallVector<int64_t> expected(in);
  expected.push_back(in.back());
  if (getResult().getType().getShape() != ArrayRef<int64_t>(expected))
    return emitOpError() << "result has shape "
                         << formatShape(getResult().getType().getShape())
                         << " but the gates " << formatShape(in)
                         << " give " << formatShape(expected);
  return success();
}

LogicalResult ChunkConvOp::verify() {
  ArrayRef<int64_t> in = getInput().getType().getShape();
  ArrayRef<int64_t> w = getWeight().getType().getShape();
  if (w.size() != 2 || in.size() != 2 || in[1] != w[1])
    return emitOpError() << "takes the chunk's rows (C x channels) and a "
                            "weight (width x channels), got shapes "
                         << formatShape(in) << " and " << formatShape(w);
  if (getResult().getType() != getInput().getType())
    return emitOpError() << "result type must equal the input type "
                         << getInput().getType();
  auto step = (*this)->getParentOfType<ModelOp>().getStep();
  int64_t convs = 0;
  if (step)
    step.walk([&](ConvOp) { ++convs; });
  if (getHistory() >= static_cast<uint64_t>(convs))
    return emitOpError() << "names the history of convolution #"
                         << getHistory() << " but the step has " << convs;
  return success();
}

LogicalResult TransposeOp::verify() {
  ArrayRef<int64_t> in = getInput().getType().getShape();
  ArrayRef<int64_t> perm = getPermutation();
  SmallVector<bool> seen(in.size(), false);
  if (perm.size() != in.size())
    return emitOpError() << "permutation must list each of the " << in.size()
                         << " input dimensions once";
  for (int64_t p : perm) {
    if (p < 0 ||
        p >= static_cast<int64_t>(in.size()) || seen[p])
      return emitOpError() << "permutation must list each of the "
                           << in.size() << " input dimensions once";
    seen[p] = true;
  }
  SmallVector<int64_t> expected;
  for (int64_t p : perm)
    expected.push_back(in[p]);
  if (getResult().getType().getShape() != ArrayRef<int64_t>(expected))
    return emitOpError() << "result has shape "
                         << formatShape(getResult().getType().getShape())
                         << " but the permuted input is "
                         << formatShape(expected);
  return success();
}
