//===- NLBackwardOps.cpp - The backward form's ops ------------------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// nl.backward_step holds the vector-Jacobian product of one token of the
// step (nl-derive-backward writes it). Inside it, nl.load and nl.history
// read the primal state before the token, nl.runs says which of the levels'
// regions ran, nl.adjoint / nl.set_adjoint hold the states' cotangents and
// nl.param_grad adds to the parameters' gradients.
//
//===----------------------------------------------------------------------===//

#include "nl/IR/NLOps.h"
#include "nl/IR/NLTypes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::nl;

//===----------------------------------------------------------------------===//
// BackwardStepOp
//===----------------------------------------------------------------------===//

ParseResult BackwardStepOp::parse(OpAsmParser &parser, OperationState &result) {
  SmallVector<OpAsmParser::Argument> args;
  SmallVector<Type> inputs;
  if (parser.parseArgumentList(args, OpAsmParser::Delimiter::Paren,
                               /*allowType=*/true) ||
      parser.parseOptionalArrowTypeList(inputs) ||
      parser.parseOptionalAttrDictWithKeyword(result.attributes))
    return failure();
  result.getOrAddProperties<Properties>().input_types =
      parser.getBuilder().getTypeArrayAttr(inputs);
  return parser.parseRegion(*result.addRegion(), args);
}

void BackwardStepOp::print(OpAsmPrinter &printer) {
  printer << " (";
  llvm::interleaveComma(
      getBody().getArguments(), printer,
      [&](BlockArgument arg) { printer.printRegionArgument(arg); });
  printer << ')';
  printer.printOptionalArrowTypeList(
      llvm::to_vector(getInputTypes().getAsValueRange<TypeAttr>()));
  // The schedule only where it is not the default.
  SmallVector<StringRef> elided = {getInputTypesAttrName()};
  if (getCheckpointEvery() == 64)
    elided.push_back(getCheckpointEveryAttrName());
  if (getTruncate() == 0)
    elided.push_back(getTruncateAttrName());
  printer.printOptionalAttrDictWithKeyword(
      (*this)->getAttrDictionary().getValue(), elided);
  printer << ' ';
  printer.printRegion(getBody(), /*printEntryBlockArgs=*/false);
}

LogicalResult BackwardStepOp::verifyRegions() {
  auto model = (*this)->getParentOfType<ModelOp>();
  StepOp step = model ? model.getStep() : StepOp();
  if (!step)
    return emitOpError() << "needs the model's nl.step";
  // The step's inputs, then one cotangent per output.
  Block &block = getBody().front();
  SmallVector<Type> expected(step.getBody().getArgumentTypes());
  SmallVector<Type> inputs = expected;
  llvm::append_range(expected, step.getOutputTypeList());
  if (TypeRange(block.getArgumentTypes()) != TypeRange(expected)) {
    InFlightDiagnostic diag =
        emitOpError() << "takes the step's inputs and one cotangent per "
                         "output of the step ("
                      << expected.size() << " arguments)";
    diag.attachNote(step.getLoc()) << "the step is here";
    return diag;
  }
  if (TypeRange(llvm::to_vector(getInputTypes().getAsValueRange<TypeAttr>())) !=
      TypeRange(inputs))
    return emitOpError() << "returns one cotangent per input of the step";
  if (getCheckpointEvery() < 1 || getTruncate() < 0)
    return emitOpError() << "keeps the state every checkpoint_every >= 1 "
                            "tokens and truncates every truncate >= 0 (0: "
                            "never) tokens";
  if (block.empty() || !isa<YieldOp>(block.back()))
    return emitOpError() << "body must end with nl.yield";
  auto yield = cast<YieldOp>(block.back());
  if (TypeRange(yield.getValues().getTypes()) != TypeRange(inputs))
    return yield.emitOpError()
           << "in nl.backward_step must return one cotangent per input of "
              "the step";
  // The primal state is read, never written: the runtime hands the backward
  // of a token the state before it, which it may hand again.
  WalkResult walk = getBody().walk([&](Operation *op) {
    if (isa<StoreOp, UpdateOp, ReadOp, ConvOp, LearnOp, ApplyOp, GradOp>(op)) {
      op->emitOpError() << "cannot appear in nl.backward_step, which reads "
                           "the state before the token and writes only "
                           "adjoints and gradients";
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return failure(walk.wasInterrupted());
}

//===----------------------------------------------------------------------===//
// The backward step's ops
//===----------------------------------------------------------------------===//

/// The model of an op of the backward step, or null after an error.
static ModelOp backwardModel(Operation *op) {
  if (!op->getParentOfType<BackwardStepOp>()) {
    op->emitOpError() << "belongs in nl.backward_step";
    return {};
  }
  return op->getParentOfType<ModelOp>();
}

LogicalResult RunsOp::verifySymbolUses(SymbolTableCollection &tables) {
  if (!backwardModel(*this))
    return failure();
  return success(lookupLevelFor(*this, getLevelAttr(), tables) != nullptr);
}

/// The history type of the `index`-th nl.conv of the step of `model`, or
/// null when it has none.
static RankedTensorType historyType(ModelOp model, int64_t index) {
  int64_t n = 0;
  RankedTensorType type;
  model.getStep().walk([&](ConvOp conv) {
    if (n++ != index)
      return;
    auto weight = cast<RankedTensorType>(conv.getWeight().getType());
    type =
        RankedTensorType::get({weight.getDimSize(0) - 1, weight.getDimSize(1)},
                              weight.getElementType());
  });
  return type;
}

/// Checks the slot an adjoint op names: a state of type `type` or the
/// history of a convolution.
static LogicalResult checkSlot(Operation *op, SymbolRefAttr state,
                               std::optional<uint64_t> history, Type type,
                               SymbolTableCollection &tables) {
  ModelOp model = backwardModel(op);
  if (!model)
    return failure();
  if (bool(state) == history.has_value())
    return op->emitOpError()
           << "names either a state (@level::@state) or a history, not "
           << (state ? "both" : "neither");
  RankedTensorType storage =
      state ? lookupStateStorage(op, state, tables)
            : historyType(model, static_cast<int64_t>(*history));
  if (!storage) {
    if (state)
      return failure();
    return op->emitOpError() << "names history " << *history
                             << ", but the step has no such convolution";
  }
  if (storage != type)
    return op->emitOpError()
           << "addresses a slot stored as " << storage << ", not " << type;
  return success();
}

LogicalResult AdjointOp::verifySymbolUses(SymbolTableCollection &tables) {
  return checkSlot(*this, getStateAttr(), getHistory(), getType(), tables);
}

LogicalResult SetAdjointOp::verifySymbolUses(SymbolTableCollection &tables) {
  return checkSlot(*this, getStateAttr(), getHistory(), getValue().getType(),
                   tables);
}

LogicalResult HistoryOp::verify() {
  ModelOp model = backwardModel(*this);
  if (!model)
    return failure();
  RankedTensorType type = historyType(model, getIndex());
  if (!type)
    return emitOpError() << "names history " << getIndex()
                         << ", but the step has no such convolution";
  if (type != getType())
    return emitOpError() << "history " << getIndex() << " is " << type;
  return success();
}

LogicalResult ParamGradOp::verifySymbolUses(SymbolTableCollection &tables) {
  ModelOp model = backwardModel(*this);
  if (!model)
    return failure();
  auto param = tables.lookupSymbolIn<ParamOp>(model, getParamAttr());
  if (!param)
    return emitOpError() << "names " << getParamAttr()
                         << ", which is not a parameter of model @"
                         << model.getSymName();
  if (param.getType() != getValue().getType())
    return emitOpError() << "adds a " << getValue().getType()
                         << " to the gradient of a " << param.getType();
  return success();
}
