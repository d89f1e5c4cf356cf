//===- NLOps.cpp - Step, read/update and compute ops of nl ----------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// The structural ops (model, param, level, state, transfer) are verified in
// NLStructureOps.cpp; this file holds the generated op definitions, the step,
// the ops that read and write levels, and the compute ops.
//
//===----------------------------------------------------------------------===//

#include "nl/IR/NLOps.h"

#include "mlir/Dialect/Traits.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::nl;

//===----------------------------------------------------------------------===//
// Custom directives used by the generated parsers/printers
//===----------------------------------------------------------------------===//

static ParseResult parsePeriod(OpAsmParser &parser, PeriodAttr &period) {
  period = PeriodAttr::parseBare(parser);
  return success(static_cast<bool>(period));
}

static void printPeriod(OpAsmPrinter &printer, Operation *, PeriodAttr period) {
  period.printBare(printer.getStream());
}

#define GET_OP_CLASSES
#include "nl/IR/NLOps.cpp.inc"

Value mlir::nl::createF32Splat(OpBuilder &builder, Location loc, double value,
                               ArrayRef<int64_t> shape) {
  auto type = getF32TensorType(shape, builder.getContext());
  return arith::ConstantOp::create(
      builder, loc, type,
      DenseElementsAttr::get(type, builder.getF32FloatAttr(value).getValue()));
}

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

namespace {

/// The expected shape of a key/value/query of width `dim` for a memory with
/// `heads` heads: `[dim]`, or `[heads, dim]`.
SmallVector<int64_t> perHeadShape(int64_t heads, int64_t dim) {
  if (heads == 1)
    return {dim};
  return {heads, dim};
}

} // namespace

LevelOp mlir::nl::lookupLevelFor(Operation *op, FlatSymbolRefAttr ref,
                                 SymbolTableCollection &tables) {
  auto model = op->getParentOfType<ModelOp>();
  if (!model) {
    op->emitOpError() << "must be inside an nl.model";
    return {};
  }
  Operation *target = tables.lookupSymbolIn(model, ref.getAttr());
  if (!target) {
    op->emitOpError() << "names " << ref << ", which is not defined in model @"
                      << model.getSymName();
    return {};
  }
  auto level = dyn_cast<LevelOp>(target);
  if (!level) {
    InFlightDiagnostic diag = op->emitOpError()
                              << "names " << ref << ", which is a '"
                              << target->getName() << "', not a level";
    diag.attachNote(target->getLoc()) << ref << " is defined here";
    return {};
  }
  return level;
}

namespace {

/// The memory type of `level`, or an error if the level holds no readable
/// memory.
MemoryTypeInterface getReadableMemory(Operation *op, LevelOp level) {
  StateOp memory = level.getMemory();
  if (!memory)
    return {};
  auto type = dyn_cast<MemoryTypeInterface>(memory.getType());
  if (!type) {
    InFlightDiagnostic diag = op->emitOpError()
                              << "level @" << level.getSymName()
                              << " holds a tensor buffer (" << memory.getType()
                              << "), which cannot be read or given keys; only "
                                 "!nl.matrix, !nl.mlp and !nl.kv_cache can";
    diag.attachNote(memory.getLoc()) << "the level's memory is declared here";
  }
  return type;
}

/// Checks that `value` has shape `expected`.
LogicalResult checkShape(Operation *op, StringRef what, Value value,
                         ArrayRef<int64_t> expected, StringRef why) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getShape() == expected)
    return success();
  return op->emitOpError() << what << " has shape "
                           << formatShape(type.getShape()) << " but " << why
                           << " needs " << formatShape(expected);
}

} // namespace

//===----------------------------------------------------------------------===//
// StepOp / YieldOp
//===----------------------------------------------------------------------===//

ParseResult StepOp::parse(OpAsmParser &parser, OperationState &result) {
  SmallVector<OpAsmParser::Argument> args;
  SmallVector<Type> outputs;
  if (parser.parseArgumentList(args, OpAsmParser::Delimiter::Paren,
                               /*allowType=*/true) ||
      parser.parseOptionalArrowTypeList(outputs) ||
      parser.parseOptionalAttrDictWithKeyword(result.attributes))
    return failure();
  result.getOrAddProperties<Properties>().output_types =
      parser.getBuilder().getTypeArrayAttr(outputs);
  return parser.parseRegion(*result.addRegion(), args);
}

void StepOp::print(OpAsmPrinter &printer) {
  printer << '(';
  llvm::interleaveComma(
      getBody().getArguments(), printer,
      [&](BlockArgument arg) { printer.printRegionArgument(arg); });
  printer << ')';
  printer.printOptionalArrowTypeList(getOutputTypeList());
  printer.printOptionalAttrDictWithKeyword((*this)->getAttrs(),
                                           {getOutputTypesAttrName()});
  printer << ' ';
  printer.printRegion(getBody(), /*printEntryBlockArgs=*/false);
}

LogicalResult StepOp::verifyRegions() {
  Block &block = getBody().front();
  if (block.getNumArguments() != 1)
    return emitOpError() << "takes exactly one argument (the token), got "
                         << block.getNumArguments();
  auto model = (*this)->getParentOfType<ModelOp>();
  auto input = dyn_cast<RankedTensorType>(block.getArgument(0).getType());
  int64_t dim = model.getDim();
  if (!input || input.getShape() != ArrayRef<int64_t>{dim} ||
      !input.getElementType().isF32())
    return emitOpError() << "token must be a tensor<" << dim
                         << "xf32> (the model's dim), got "
                         << block.getArgument(0).getType();
  if (block.empty() || !isa<YieldOp>(block.back()))
    return emitOpError() << "body must end with nl.yield";
  return success();
}

LogicalResult YieldOp::verify() {
  if (isa<GradOp>((*this)->getParentOp())) {
    if (getValues().size() == 1 &&
        getValues()[0].getType() ==
            RankedTensorType::get({}, Float32Type::get(getContext())))
      return success();
    return emitOpError() << "in nl.grad must return one scalar objective "
                            "(tensor<f32>)";
  }
  Operation *step = (*this)->getParentOp();
  // The backward step's region verifier checks its cotangents.
  if (isa<BackwardStepOp>(step))
    return success();
  if (auto rows = dyn_cast<RowsOp>(step)) {
    // One token's row of each result.
    SmallVector<Type> expected;
    for (Type t : rows.getResultTypes()) {
      auto type = cast<RankedTensorType>(t);
      expected.push_back(RankedTensorType::get(type.getShape().drop_front(),
                                               type.getElementType()));
    }
    if (TypeRange(getValues().getTypes()) == TypeRange(expected))
      return success();
    return emitOpError() << "in nl.rows must return one row of each of its "
                            "results";
  }
  SmallVector<Type> expected =
      isa<ChunkStepOp>(step) ? cast<ChunkStepOp>(step).getOutputTypeList()
                             : cast<StepOp>(step).getOutputTypeList();
  if (TypeRange(getValues().getTypes()) == TypeRange(expected))
    return success();
  InFlightDiagnostic diag = emitOpError()
                            << "returns " << getValues().size()
                            << " value(s) whose types do not match the "
                               "step's declared outputs";
  diag.attachNote(step->getLoc())
      << "the step declares " << expected.size() << " output(s)";
  return diag;
}

//===----------------------------------------------------------------------===//
// ReadOp
//===----------------------------------------------------------------------===//

LogicalResult ReadOp::verifySymbolUses(SymbolTableCollection &tables) {
  LevelOp level = lookupLevelFor(*this, getLevelAttr(), tables);
  if (!level)
    return failure();
  MemoryTypeInterface memory = getReadableMemory(*this, level);
  if (!memory)
    return failure();
  int64_t heads = memory.getHeads();
  if (failed(checkShape(*this, "query", getQuery(),
                        perHeadShape(heads, memory.getKeyDim()),
                        "the memory's key width")) ||
      failed(checkShape(*this, "result", getResult(),
                        perHeadShape(heads, memory.getValueDim()),
                        "the memory's value width")))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// UpdateOp
//===----------------------------------------------------------------------===//

namespace {
/// Checks a gate: a scalar, one value per head, or one per key channel.
LogicalResult checkGate(Operation *op, StringRef name, Value gate,
                        int64_t heads, int64_t channels) {
  ArrayRef<int64_t> shape = cast<RankedTensorType>(gate.getType()).getShape();
  bool scalar = llvm::all_of(shape, [](int64_t d) { return d == 1; });
  bool perHead = heads > 1 && (shape == ArrayRef<int64_t>{heads} ||
                               shape == ArrayRef<int64_t>{heads, 1});
  bool perChannel = channels > 0 &&
                    (shape == ArrayRef<int64_t>(perHeadShape(heads, channels)));
  if (scalar || perHead || perChannel)
    return success();
  InFlightDiagnostic diag = op->emitOpError()
                            << "gate '" << name << "' has shape "
                            << formatShape(shape)
                            << "; expected a scalar (tensor<f32> or "
                               "tensor<1xf32>)";
  if (heads > 1)
    diag << ", one value per head (tensor<" << heads << "xf32>)";
  if (channels > 0)
    diag << " or one value per key channel "
         << formatShape(perHeadShape(heads, channels));
  return diag;
}

/// Requires operand `value` to be present (`required`) or absent.
LogicalResult expectOperand(Operation *op, LevelOp level, StringRef name,
                            Value value, bool required, StringRef why) {
  if (static_cast<bool>(value) == required)
    return success();
  if (required)
    return op->emitOpError() << "level @" << level.getSymName() << " needs '"
                             << name << "': " << why;
  return op->emitOpError() << "'" << name << "' is not allowed for level @"
                           << level.getSymName() << ": " << why;
}
} // namespace

LogicalResult UpdateOp::verifySymbolUses(SymbolTableCollection &tables) {
  LevelOp level = lookupLevelFor(*this, getLevelAttr(), tables);
  if (!level)
    return failure();
  if (level.getPeriod().isFrozen()) {
    InFlightDiagnostic diag = emitOpError()
                              << "level @" << level.getSymName()
                              << " is frozen and cannot be updated online";
    diag.attachNote(level.getLoc()) << "declared 'period frozen' here";
    return diag;
  }
  if (level.getPhase() == Phase::offline) {
    InFlightDiagnostic diag =
        emitOpError() << "level @" << level.getSymName()
                      << " learns offline and cannot be updated in nl.step";
    diag.attachNote(level.getLoc()) << "declared 'phase offline' here";
    return diag;
  }
  StateOp memoryState = level.getMemory();
  if (!memoryState)
    return failure(); // reported by the level's verifier

  // A KV cache appends (key, value) and has no gates.
  if (auto cache = dyn_cast<KvCacheType>(memoryState.getType())) {
    const char *why = "a KV cache appends one (key, value) per token";
    if (failed(expectOperand(*this, level, "key", getKey(), true, why)) ||
        failed(expectOperand(*this, level, "value", getValue(), true, why)) ||
        failed(expectOperand(*this, level, "grad", getSingleGrad(), false, why)))
      return failure();
    for (auto [name, gate] : {std::pair<StringRef, Value>{"lr", getLr()},
                              {"retain", getRetain()},
                              {"momentum_decay", getMomentumDecay()},
                              {"delta_scale", getDeltaScale()}})
      if (failed(expectOperand(*this, level, name, gate, false,
                               "a non-parametric level has no gates")))
        return failure();
    return failure(
        failed(checkShape(*this, "key", getKey(),
                          perHeadShape(cache.getHeads(), cache.getKey()),
                          "the cache's key width")) ||
        failed(checkShape(*this, "value", getValue(),
                          perHeadShape(cache.getHeads(), cache.getValue()),
                          "the cache's value width")));
  }

  RuleAttr rule = level.getRuleAttr();
  if (!rule)
    return failure(); // reported by the level's verifier

  // The context: generated for optimizer levels, else by the objective.
  Type memoryType = memoryState.getType();
  auto memory = dyn_cast<MemoryTypeInterface>(memoryType);
  int64_t heads = memory ? memory.getHeads() : 1;
  int64_t keyDim = memory ? memory.getKeyDim() : 0;
  LevelOp served = level.getServedLevel();
  if (served == level)
    served = {}; // `via` naming itself is reported by the model verifier
  if (served) {
    std::string why = ("its context is the gradient of @" +
                       served.getSymName() + ", which it serves as 'via'")
                          .str();
    for (auto [name, value] : {std::pair<StringRef, Value>{"key", getKey()},
                               {"value", getValue()},
                               {"grad", getSingleGrad()}})
      if (failed(expectOperand(*this, level, name, value, false, why)))
        return failure();
  } else if (rule.getObjective() == Objective::linear) {
    const char *why = "objective 'linear' takes a gradient as its context";
    if (getGrad().size() > 1)
      return emitOpError() << "takes one 'grad' for level @"
                           << level.getSymName() << ", got "
                           << getGrad().size();
    if (failed(expectOperand(*this, level, "grad", getSingleGrad(), true, why)) ||
        failed(expectOperand(*this, level, "key", getKey(), false, why)) ||
        failed(expectOperand(*this, level, "value", getValue(), false, why)))
      return failure();
    RankedTensorType storage = getStorageTensorType(memoryType);
    if (!storage)
      return emitOpError() << "a 'grad' context needs a level whose memory is "
                              "one tensor (a matrix or a buffer), got "
                           << memoryType;
    if (failed(checkShape(*this, "grad", getSingleGrad(), storage.getShape(),
                          "the level's state")))
      return failure();
  } else if (auto mlp = dyn_cast<MlpType>(memoryType); mlp && !getGrad().empty()) {
    // The derived form nl-expand-mlp writes: one gradient per stored tensor.
    const char *why = "an MLP update with derived gradients takes no key or "
                      "value";
    if (failed(expectOperand(*this, level, "key", getKey(), false, why)) ||
        failed(expectOperand(*this, level, "value", getValue(), false, why)))
      return failure();
    SmallVector<MlpType::Part> parts = mlp.getParts();
    if (getGrad().size() != parts.size())
      return emitOpError() << "gives " << getGrad().size()
                           << " gradient(s) but the MLP memory of level @"
                           << level.getSymName() << " stores " << parts.size()
                           << " tensor(s)";
    for (auto [g, part] : llvm::zip(getGrad(), parts))
      if (failed(checkShape(*this, ("grad of " + part.name).c_str(), g,
                            part.shape, "the stored tensor")))
        return failure();
  } else {
    std::string why = ("objective '" + stringifyObjective(rule.getObjective()) +
                       "' takes (key, value) pairs")
                          .str();
    if (failed(expectOperand(*this, level, "key", getKey(), true, why)) ||
        failed(expectOperand(*this, level, "value", getValue(), true, why)) ||
        failed(expectOperand(*this, level, "grad", getSingleGrad(), false, why)))
      return failure();
    if (!memory)
      return emitOpError() << "objective '"
                           << stringifyObjective(rule.getObjective())
                           << "' needs a memory (!nl.matrix or !nl.mlp), "
                              "but level @"
                           << level.getSymName() << " holds " << memoryType;
    if (failed(checkShape(*this, "key", getKey(),
                          perHeadShape(heads, memory.getKeyDim()),
                          "the memory's key width")) ||
        failed(checkShape(*this, "value", getValue(),
                          perHeadShape(heads, memory.getValueDim()),
                          "the memory's value width")))
      return failure();
  }

  // Gates.
  if (failed(expectOperand(*this, level, "lr", getLr(), true,
                           "every learning level takes a step size")))
    return failure();
  bool decays = rule.getRetention() == Retention::decay;
  if (failed(expectOperand(*this, level, "retain", getRetain(), decays,
                           decays ? "its rule has 'retention = decay'"
                                  : "its rule has no decay retention")))
    return failure();
  bool fusedMomentum =
      !rule.getVia() && (rule.getAlgorithm() == Algorithm::momentum ||
                         rule.getAlgorithm() == Algorithm::muon);
  if (failed(expectOperand(
          *this, level, "momentum_decay", getMomentumDecay(), fusedMomentum,
          fusedMomentum ? "its rule keeps a fused momentum buffer"
                        : "only a fused momentum/muon rule has a momentum "
                          "buffer (a 'via' level takes its own 'retain')")))
    return failure();
  // An MLP memory's tensors have no key channel to gate.
  int64_t gateChannels = isa<MlpType>(memoryType) ? 0 : keyDim;
  for (auto [name, gate] : {std::pair<StringRef, Value>{"lr", getLr()},
                            {"retain", getRetain()},
                            {"momentum_decay", getMomentumDecay()}})
    if (gate && failed(checkGate(*this, name, gate, heads, gateChannels)))
      return failure();
  // Yaad's data-dependent threshold: per token, per head at most (the ball
  // is on a head's whole error vector).
  bool huber = rule.getObjective() == Objective::huber;
  if (!huber &&
      failed(expectOperand(*this, level, "delta_scale", getDeltaScale(), false,
                           "only a 'huber' objective has a threshold")))
    return failure();
  if (getDeltaScale() &&
      failed(checkGate(*this, "delta_scale", getDeltaScale(), heads, 0)))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// GetParamOp
//===----------------------------------------------------------------------===//

LogicalResult GetParamOp::verifySymbolUses(SymbolTableCollection &tables) {
  auto model = (*this)->getParentOfType<ModelOp>();
  if (!model)
    return emitOpError() << "must be inside an nl.model";
  auto param = tables.lookupSymbolIn<ParamOp>(model, getNameAttr());
  if (!param)
    return emitOpError() << "names " << getNameAttr()
                         << ", which is not a parameter of model @"
                         << model.getSymName();
  if (param.getType() != getType()) {
    InFlightDiagnostic diag = emitOpError()
                              << "result type " << getType()
                              << " does not match the parameter's type "
                              << param.getType();
    diag.attachNote(param.getLoc()) << "parameter declared here";
    return diag;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Compute ops
//===----------------------------------------------------------------------===//

LogicalResult LinearOp::verify() {
  auto input = getInput().getType();
  auto weight = getWeight().getType();
  if (input.getRank() < 1)
    return emitOpError() << "input must have at least one dimension";
  // A weight is one matrix, or one per leading index of the input.
  ArrayRef<int64_t> lead = input.getShape().drop_back();
  bool batched = weight.getRank() > 2;
  if (weight.getRank() < 2 ||
      (batched && (weight.getRank() != input.getRank() + 1 ||
                   weight.getShape().drop_back(2) != lead)))
    return emitOpError() << "weight must be a d_out x d_in matrix, or one per "
                            "leading index of the input "
                         << formatShape(lead) << ", got shape "
                         << formatShape(weight.getShape());
  int64_t rows = weight.getShape()[weight.getRank() - 2];
  int64_t cols = weight.getShape().back();
  int64_t out = getTransposeWeight() ? cols : rows;
  int64_t in = getTransposeWeight() ? rows : cols;
  if (input.getShape().back() != in)
    return emitOpError() << "input's last dimension is "
                         << input.getShape().back() << " but the weight ("
                         << formatShape(weight.getShape()) << ") takes " << in;
  if (getBias()) {
    SmallVector<int64_t> biasShape;
    if (batched)
      biasShape.append(lead.begin(), lead.end());
    biasShape.push_back(out);
    if (getBias().getType().getShape() != ArrayRef<int64_t>(biasShape))
      return emitOpError() << "bias has shape "
                           << formatShape(getBias().getType().getShape())
                           << " but the weight produces "
                           << formatShape(biasShape);
  }
  SmallVector<int64_t> expected(input.getShape());
  expected.back() = out;
  if (getResult().getType().getShape() != ArrayRef<int64_t>(expected))
    return emitOpError() << "result has shape "
                         << formatShape(getResult().getType().getShape())
                         << " but the projection yields "
                         << formatShape(expected);
  return success();
}

namespace {
LogicalResult verifyBroadcast(Operation *op, RankedTensorType lhs,
                              RankedTensorType rhs, RankedTensorType result) {
  SmallVector<int64_t> shape;
  if (!OpTrait::util::getBroadcastedShape(lhs.getShape(), rhs.getShape(),
                                          shape))
    return op->emitOpError()
           << "operand shapes " << formatShape(lhs.getShape()) << " and "
           << formatShape(rhs.getShape()) << " do not broadcast";
  if (result.getShape() != ArrayRef<int64_t>(shape))
    return op->emitOpError()
           << "result has shape " << formatShape(result.getShape())
           << " but the operands broadcast to " << formatShape(shape);
  return success();
}
} // namespace

LogicalResult AddOp::verify() {
  return verifyBroadcast(*this, getLhs().getType(), getRhs().getType(),
                         getResult().getType());
}
LogicalResult SubOp::verify() {
  return verifyBroadcast(*this, getLhs().getType(), getRhs().getType(),
                         getResult().getType());
}
LogicalResult MulOp::verify() {
  return verifyBroadcast(*this, getLhs().getType(), getRhs().getType(),
                         getResult().getType());
}
LogicalResult DivOp::verify() {
  return verifyBroadcast(*this, getLhs().getType(), getRhs().getType(),
                         getResult().getType());
}

LogicalResult NormOp::verify() {
  auto input = getInput().getType();
  if (getKind() == NormKind::none)
    return emitOpError()
           << "norm kind 'none' normalizes nothing; remove the op";
  if (input.getRank() < 1)
    return emitOpError() << "input must have at least one dimension";
  if (getResult().getType() != input)
    return emitOpError() << "result type " << getResult().getType()
                         << " must equal the input type " << input;
  if (!(getEps().convertToDouble() > 0.0))
    return emitOpError() << "'eps' must be positive";
  if (getKind() == NormKind::l2 && (getScale() || getShift()))
    return emitOpError() << "an l2 norm takes no scale or shift";
  if (getKind() == NormKind::rms && getShift())
    return emitOpError() << "an rms norm takes no shift";
  int64_t width = input.getShape().back();
  for (auto [name, v] : {std::pair<StringRef, Value>{"scale", getScale()},
                         {"shift", getShift()}})
    if (v && cast<RankedTensorType>(v.getType()).getShape() !=
                 ArrayRef<int64_t>{width})
      return emitOpError() << name << " must be a vector of " << width
                           << " values (the normalized dimension)";
  return success();
}

LogicalResult ConvOp::verify() {
  auto input = getInput().getType();
  auto weight = getWeight().getType();
  if (weight.getRank() != 2)
    return emitOpError() << "weight must be (width x channels), got shape "
                         << formatShape(weight.getShape());
  if (input.getRank() < 1 || input.getShape().back() != weight.getDimSize(1))
    return emitOpError() << "input's last dimension must be the weight's "
                            "channel count "
                         << weight.getDimSize(1);
  if (getResult().getType() != input)
    return emitOpError() << "result type must equal the input type " << input;
  return success();
}

//===----------------------------------------------------------------------===//
// Differentiation ops
//===----------------------------------------------------------------------===//

LogicalResult WeightsOp::verifySymbolUses(SymbolTableCollection &tables) {
  LevelOp level = lookupLevelFor(*this, getLevelAttr(), tables);
  if (!level)
    return failure();
  StateOp memory = level.getMemory();
  if (auto matrix =
          memory ? dyn_cast<MatrixType>(memory.getType()) : MatrixType()) {
    if (getAfterWrite())
      return emitOpError() << "of the matrix memory of level @"
                           << level.getSymName()
                           << " returns the stored state; 'after_write' and "
                              "'chunk_prefix' apply to MLP memories";
    // The memory, or the memory and the level's other states (the buffers
    // of a fused algorithm).
    SmallVector<StateOp> states = llvm::to_vector(level.getStates());
    if (getResults().size() != 1 && getResults().size() != states.size())
      return emitOpError() << "returns " << getResults().size()
                           << " value(s) but level @" << level.getSymName()
                           << " stores its matrix memory (1) and "
                           << states.size() - 1 << " other state(s)";
    for (auto [i, pair] : llvm::enumerate(llvm::zip(getResults(), states))) {
      auto [value, state] = pair;
      RankedTensorType storage = getStorageTensorType(state.getType());
      if (!storage)
        return emitOpError() << "cannot return state @" << state.getSymName()
                             << " of level @" << level.getSymName()
                             << " as one tensor";
      if (failed(checkShape(*this, ("result #" + Twine(i)).str(), value,
                            storage.getShape(),
                            i ? "the stored state" : "the stored matrix")))
        return failure();
    }
    return success();
  }
  auto mlp = memory ? dyn_cast<MlpType>(memory.getType()) : MlpType();
  if (!mlp)
    return emitOpError() << "level @" << level.getSymName()
                         << " has no MLP or matrix memory";
  SmallVector<MlpType::Part> parts = mlp.getParts();
  if (getResults().size() != parts.size())
    return emitOpError() << "returns " << getResults().size()
                         << " value(s) but the MLP memory of level @"
                         << level.getSymName() << " stores " << parts.size()
                         << " tensor(s)";
  for (auto [v, part] : llvm::zip(getResults(), parts))
    if (failed(checkShape(*this, ("result " + part.name).c_str(), v,
                          part.shape, "the stored tensor")))
      return failure();
  return success();
}

LogicalResult WeightsOp::verify() {
  if (getChunkPrefix() && !getAfterWrite())
    return emitOpError() << "'chunk_prefix' includes this token's step and "
                            "needs 'after_write'";
  return success();
}

void GradOp::build(OpBuilder &builder, OperationState &state, ValueRange at) {
  state.addOperands(at);
  state.addTypes(at.getTypes());
  Region *body = state.addRegion();
  Block *block = new Block();
  body->push_back(block);
  for (Value v : at)
    block->addArgument(v.getType(), v.getLoc());
}

LogicalResult GradOp::verifyRegions() {
  Block &body = getBody().front();
  if (TypeRange(getAt().getTypes()) != TypeRange(getGrads().getTypes()))
    return emitOpError() << "must return one gradient of the type of each "
                            "operand";
  if (TypeRange(body.getArgumentTypes()) != TypeRange(getAt().getTypes()))
    return emitOpError() << "body must take one argument of the type of each "
                            "operand";
  if (body.empty() || !isa<YieldOp>(body.back()))
    return emitOpError() << "body must end with nl.yield";
  return success();
}

LogicalResult SumOp::verify() {
  ArrayRef<int64_t> in = getInput().getType().getShape();
  ArrayRef<int64_t> out = getResult().getType().getShape();
  SmallVector<int64_t> joined;
  if (out.size() > in.size() ||
      !OpTrait::util::getBroadcastedShape(in, out, joined) ||
      ArrayRef<int64_t>(joined) != in)
    return emitOpError() << "result shape " << formatShape(out)
                         << " does not broadcast to the input shape "
                         << formatShape(in);
  return success();
}

LogicalResult OuterOp::verify() {
  ArrayRef<int64_t> a = getLhs().getType().getShape();
  ArrayRef<int64_t> c = getRhs().getType().getShape();
  if (a.empty() || a.size() != c.size() || a.drop_back() != c.drop_back())
    return emitOpError() << "operands " << formatShape(a) << " and "
                         << formatShape(c)
                         << " must be vectors with the same leading "
                            "dimensions";
  SmallVector<int64_t> expected(a);
  expected.push_back(c.back());
  if (getResult().getType().getShape() != ArrayRef<int64_t>(expected))
    return emitOpError() << "result has shape "
                         << formatShape(getResult().getType().getShape())
                         << " but the outer product is "
                         << formatShape(expected);
  return success();
}

LogicalResult NormGradOp::verify() {
  auto input = getInput().getType();
  if (getKind() == NormKind::none)
    return emitOpError() << "norm kind 'none' has no gradient";
  if (input.getRank() < 1 || getGrad().getType() != input ||
      getResult().getType() != input)
    return emitOpError() << "input, gradient and result must have one type "
                            "of rank >= 1";
  if (!(getEps().convertToDouble() > 0.0))
    return emitOpError() << "'eps' must be positive";
  if (getScale() && (getKind() == NormKind::l2 ||
                     getScale().getType().getShape() !=
                         ArrayRef<int64_t>{input.getShape().back()}))
    return emitOpError() << "scale must be a vector of "
                         << input.getShape().back()
                         << " values, and an l2 norm takes none";
  return success();
}
