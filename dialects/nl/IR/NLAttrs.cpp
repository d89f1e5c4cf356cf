//===- NLAttrs.cpp - Attributes of the nl dialect -------------------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "nl/IR/NLAttrs.h"
#include "nl/IR/NLDialect.h"
#include "nl/IR/NLRules.h"
#include "nl/IR/NLTypes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/TypeSwitch.h"

#include <charconv>
#include <cmath>

using namespace mlir;
using namespace mlir::nl;

#include "nl/IR/NLEnums.cpp.inc"

#include "nl/IR/NLAttrInterfaces.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "nl/IR/NLAttrs.cpp.inc"

void NLDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "nl/IR/NLAttrs.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Real-number parameters
//===----------------------------------------------------------------------===//

FailureOr<APFloat> mlir::nl::parseReal(AsmParser &parser) {
  SMLoc loc = parser.getCurrentLocation();
  double value;
  if (parser.parseFloat(value))
    return failure();
  if (!std::isfinite(value))
    return parser.emitError(loc, "expected a finite number");
  return APFloat(value);
}

FailureOr<std::optional<APFloat>>
mlir::nl::parseOptionalReal(AsmParser &parser) {
  FailureOr<APFloat> value = parseReal(parser);
  if (failed(value))
    return failure();
  return std::optional<APFloat>(*value);
}

void mlir::nl::printReal(AsmPrinter &printer, const APFloat &value) {
  char buffer[64];
  auto [end, ec] =
      std::to_chars(buffer, buffer + sizeof(buffer), value.convertToDouble());
  StringRef text(buffer, ec == std::errc() ? end - buffer : 0);
  // MLIR float literals need a dot: `1` and `1e-08` would not parse back.
  if (text.contains('.') || text.find_first_of("ni") != StringRef::npos) {
    printer << text;
    return;
  }
  size_t e = text.find('e');
  printer << text.substr(0, e) << ".0" << text.substr(e);
}

//===----------------------------------------------------------------------===//
// PeriodAttr
//===----------------------------------------------------------------------===//

LogicalResult PeriodAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 int64_t value) {
  if (value == kInfinite || value == kFrozen || value >= 1)
    return success();
  return emitError() << "chunk size must be a positive integer, got " << value;
}

void PeriodAttr::printBare(raw_ostream &os) const {
  if (isInfinite())
    os << "inf";
  else if (isFrozen())
    os << "frozen";
  else
    os << getValue();
}

PeriodAttr PeriodAttr::parseBare(AsmParser &parser) {
  MLIRContext *ctx = parser.getContext();
  if (succeeded(parser.parseOptionalKeyword("inf")))
    return getInfinite(ctx);
  if (succeeded(parser.parseOptionalKeyword("frozen")))
    return getFrozen(ctx);
  SMLoc loc = parser.getCurrentLocation();
  APInt value;
  OptionalParseResult parsed = parser.parseOptionalInteger(value);
  if (!parsed.has_value()) {
    parser.emitError(loc, "expected a period: a positive chunk size, "
                          "'inf' or 'frozen'");
    return {};
  }
  if (failed(*parsed))
    return {};
  if (!value.isNegative() && value.getSignificantBits() > 63) {
    parser.emitError(loc, "chunk size ")
        << llvm::toString(value, 10, /*Signed=*/true)
        << " is too large (at most 2^63 - 1)";
    return {};
  }
  if (value.isNegative() || value.isZero()) {
    parser.emitError(loc, "chunk size must be a positive integer, got ")
        << llvm::toString(value, 10, /*Signed=*/true);
    return {};
  }
  return getChunk(ctx, value.getSExtValue());
}

Attribute PeriodAttr::parse(AsmParser &parser, Type) {
  if (parser.parseLess())
    return {};
  PeriodAttr attr = parseBare(parser);
  if (!attr || parser.parseGreater())
    return {};
  return attr;
}

void PeriodAttr::print(AsmPrinter &printer) const {
  printer << '<';
  printBare(printer.getStream());
  printer << '>';
}

//===----------------------------------------------------------------------===//
// RuleAttr
//===----------------------------------------------------------------------===//

unsigned RuleAttr::expectedViaCount(Algorithm algorithm) {
  return algorithmEntry(algorithm).memories;
}

unsigned RuleAttr::fusedBufferCount() const {
  if (getVia())
    return 0;
  return expectedViaCount(getAlgorithm());
}

SmallVector<FlatSymbolRefAttr> RuleAttr::getViaLevels() const {
  SmallVector<FlatSymbolRefAttr> levels;
  if (ArrayAttr via = getVia())
    for (Attribute a : via)
      if (auto ref = dyn_cast<FlatSymbolRefAttr>(a))
        levels.push_back(ref);
  return levels;
}

LogicalResult RuleAttr::verify(
    function_ref<InFlightDiagnostic()> emitError, Objective objective,
    Retention retention, DecayOrder decayOrder, Algorithm algorithm,
    ArrayAttr via, GradPoint gradAt, ReadOrder read, L2Convention l2,
    std::optional<APFloat> pParam, std::optional<APFloat> huberParam,
    int64_t window, Precond precond, PrecondTarget precondTarget,
    DgdStep dgdStep, int64_t nsSteps, std::optional<APFloat> epsParam,
    std::optional<APFloat> slowWeightParam, WriteMode write,
    GradSource gradSource, LrPlacement lrPlacement, ChunkApply chunkApply) {
  if (chunkApply == ChunkApply::every_token) {
    // The Titans paper's mini-batch form (section 3.2): within a chunk every
    // gradient is taken at the chunk-start memory, every step applied at
    // once (through the momentum, if any).
    if (gradAt != GradPoint::chunk_start)
      return emitError() << "'chunk_apply = every_token' takes every gradient "
                            "at the chunk start; add 'grad_at = chunk_start'";
    if (algorithm != Algorithm::gd && algorithm != Algorithm::momentum)
      return emitError() << "'chunk_apply = every_token' applies a gd or "
                            "momentum step per token, not algorithm '"
                         << stringifyAlgorithm(algorithm) << "'";
    if (window != 1 || read == ReadOrder::chunk_prefix ||
        precond != Precond::none || objective == Objective::linear)
      return emitError() << "'chunk_apply = every_token' takes a key/value "
                            "objective without window, chunk_prefix read or "
                            "preconditioner";
  }
  auto toDouble = [](const std::optional<APFloat> &f) {
    return f ? std::optional<double>(f->convertToDouble()) : std::nullopt;
  };
  std::optional<double> p = toDouble(pParam);
  std::optional<double> huberDelta = toDouble(huberParam);
  std::optional<double> eps = toDouble(epsParam);
  // Parameters that belong to one objective or algorithm only.
  if (objective == Objective::lp) {
    if (!p)
      return emitError() << "objective 'lp' needs the exponent 'p'";
    if (!(*p >= 1.0))
      return emitError() << "exponent 'p' must be >= 1, got " << *p;
  } else if (p) {
    return emitError() << "'p' is only meaningful with objective 'lp'";
  }
  if (objective == Objective::huber) {
    if (!huberDelta)
      return emitError() << "objective 'huber' needs 'huber_delta'";
    if (!(*huberDelta > 0.0))
      return emitError() << "'huber_delta' must be positive, got "
                         << *huberDelta;
  } else if (huberDelta) {
    return emitError()
           << "'huber_delta' is only meaningful with objective 'huber'";
  }
  if (decayOrder != DecayOrder::decoupled && retention != Retention::decay)
    return emitError() << "'decay_order' is only meaningful with "
                          "'retention = decay'";
  if (l2 != L2Convention::half && objective != Objective::l2)
    return emitError() << "'l2' convention is only meaningful with "
                          "objective 'l2'";
  if (window < 1)
    return emitError() << "'window' must be a positive integer, got " << window;
  if (window > 1 && objective == Objective::linear)
    return emitError() << "a 'window' (Omega rule) needs a key/value "
                          "objective, not 'linear'";
  if (algorithm == Algorithm::dgd && objective != Objective::l2)
    return emitError() << "algorithm 'dgd' is the proximal step of the 'l2' "
                          "objective; got objective '"
                       << stringifyObjective(objective) << "'";
  // The proximal step of 1/2 ||M k - v||^2 + 1/(2 lr) ||M - M_t||^2; with
  // l2 = full the exact step would have 2 lr in place of lr, which nlc
  // does not silently substitute.
  if (algorithm == Algorithm::dgd && l2 == L2Convention::full &&
      dgdStep != DgdStep::undamped)
    return emitError() << "'dgd_step = " << stringifyDgdStep(dgdStep)
                       << "' is the exact proximal step of l2 = half; with "
                          "'l2 = full' it would be lr' = 2 lr / (1 + 2 lr "
                          "||k||^2): write 'l2 = half' and twice the lr";
  if (dgdStep != DgdStep::sherman_morrison && algorithm != Algorithm::dgd)
    return emitError() << "'dgd_step' is only meaningful with algorithm "
                          "'dgd'";
  if (nsSteps < 1)
    return emitError() << "'ns_steps' must be a positive integer, got "
                       << nsSteps;
  bool newtonSchulz =
      algorithm == Algorithm::muon || algorithm == Algorithm::m3;
  if (nsSteps != 5 && !newtonSchulz)
    return emitError() << "'ns_steps' is only meaningful with algorithm "
                          "'muon' or 'm3'";
  if (slowWeightParam && algorithm != Algorithm::m3)
    return emitError() << "'slow_weight' is only meaningful with algorithm "
                          "'m3'";
  if (slowWeightParam && slowWeightParam->isNegative())
    return emitError() << "'slow_weight' must be >= 0 (Algorithm 1 takes "
                          "alpha in [0, 1)), got "
                       << slowWeightParam->convertToDouble();
  if (algorithm == Algorithm::m3 && !via)
    return emitError() << "algorithm 'm3' keeps its three memories in levels; "
                          "name them with 'via'";
  if (eps) {
    if (algorithm != Algorithm::adam && algorithm != Algorithm::m3)
      return emitError() << "'eps' is only meaningful with algorithm 'adam' "
                            "or 'm3'";
    if (!(*eps > 0.0))
      return emitError() << "'eps' must be positive, got " << *eps;
  }
  if (read == ReadOrder::chunk_prefix &&
      (gradAt != GradPoint::chunk_start || algorithm != Algorithm::gd ||
       retention != Retention::none || via))
    return emitError() << "'read = chunk_prefix' (the chunk-start state minus "
                          "the chunk's steps so far) needs 'grad_at = "
                          "chunk_start', algorithm 'gd' and no retention";
  if (precond == Precond::delta && !objectiveEntry(objective).predictionGrad &&
      objectiveEntry(objective).keyValue)
    return emitError() << "'precond = delta' acts on the prediction error of "
                          "the objective; objective '"
                       << stringifyObjective(objective) << "' has none";
  if (precondTarget != PrecondTarget::first_layer && precond == Precond::none)
    return emitError() << "'precond_target' needs 'precond = delta'";
  if (precond == Precond::delta && objective == Objective::linear &&
      algorithm != Algorithm::gd)
    return emitError() << "'precond = delta' on objective 'linear' is delta "
                          "momentum (its key is the gradient it is fed) and "
                          "takes algorithm 'gd'";

  // The memory of the algorithm: fused (no via) or the named levels.
  if (via) {
    unsigned expected = expectedViaCount(algorithm);
    if (expected == 0)
      return emitError() << "algorithm '" << stringifyAlgorithm(algorithm)
                         << "' keeps no memory; 'via' is not allowed";
    if (via.size() != expected)
      return emitError() << "algorithm '" << stringifyAlgorithm(algorithm)
                         << "' takes " << expected << " level(s) in 'via', got "
                         << via.size();
    for (Attribute a : via)
      if (!isa<FlatSymbolRefAttr>(a))
        return emitError() << "'via' must list level symbols (@name), got "
                           << a;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// ScheduleAttr
//===----------------------------------------------------------------------===//

LogicalResult ScheduleAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   int64_t period, int64_t rank, int64_t order,
                                   int64_t fires) {
  if (period < 0 || rank < 0 || order < 0 || fires < 0)
    return emitError() << "schedule fields are counts and cannot be negative";
  if ((period == 0) != (fires == 0))
    return emitError() << "a level that never updates (period 0) fires 0 "
                          "times, and only such a level";
  return success();
}

//===----------------------------------------------------------------------===//
// Initializers
//===----------------------------------------------------------------------===//

namespace {
/// Requires `type` to hold plain values that an elementwise initializer can
/// fill: a static tensor or a parametric memory.
LogicalResult verifyFillable(Type type, StringRef what,
                             function_ref<InFlightDiagnostic()> emitError) {
  if (isa<KvCacheType>(type))
    return emitError() << what
                       << " cannot initialize a KV cache; it starts empty";
  return success();
}
} // namespace

LogicalResult ZerosAttr::verifyFor(Type type,
                                   function_ref<InFlightDiagnostic()> e) const {
  return verifyFillable(type, "#nl.zeros", e);
}

LogicalResult OnesAttr::verifyFor(Type type,
                                  function_ref<InFlightDiagnostic()> e) const {
  return verifyFillable(type, "#nl.ones", e);
}

LogicalResult FillAttr::verifyFor(Type type,
                                  function_ref<InFlightDiagnostic()> e) const {
  return verifyFillable(type, "#nl.fill", e);
}

LogicalResult
NormalAttr::verifyFor(Type type, function_ref<InFlightDiagnostic()> e) const {
  return verifyFillable(type, "#nl.normal", e);
}

LogicalResult
UniformAttr::verifyFor(Type type, function_ref<InFlightDiagnostic()> e) const {
  return verifyFillable(type, "#nl.uniform", e);
}

LogicalResult
FromFileAttr::verifyFor(Type type, function_ref<InFlightDiagnostic()> e) const {
  return verifyFillable(type, "#nl.from_file", e);
}

LogicalResult
FromParamAttr::verifyFor(Type type,
                         function_ref<InFlightDiagnostic()> e) const {
  if (isa<MlpType>(type))
    return e() << "#nl.from_param initializes a tensor or matrix state, not an "
                  "MLP memory (use #nl.from_file<\"key\">, which reads "
                  "key.w<i> / key.b<i>)";
  return verifyFillable(type, "#nl.from_param", e);
}

LogicalResult
IdentityAttr::verifyFor(Type type,
                        function_ref<InFlightDiagnostic()> emitError) const {
  if (auto matrix = dyn_cast<MatrixType>(type)) {
    if (matrix.getRows() != matrix.getCols())
      return emitError() << "#nl.identity needs a square matrix, got "
                         << matrix.getRows() << "x" << matrix.getCols();
    return success();
  }
  if (auto tensor = dyn_cast<RankedTensorType>(type)) {
    ArrayRef<int64_t> shape = tensor.getShape();
    if (shape.size() >= 2 && shape[shape.size() - 1] == shape[shape.size() - 2])
      return success();
    return emitError() << "#nl.identity needs square matrices in the last two "
                          "dimensions, got "
                       << type;
  }
  return emitError() << "#nl.identity needs a square matrix, got " << type;
}

LogicalResult NormalAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 APFloat stdParam,
                                 std::optional<APFloat> meanParam) {
  double std = stdParam.convertToDouble();
  if (!(std > 0.0) || !std::isfinite(std))
    return emitError() << "'std' of #nl.normal must be positive and finite, "
                          "got "
                       << std;
  if (meanParam && !meanParam->isFinite())
    return emitError() << "'mean' of #nl.normal must be finite";
  return success();
}

LogicalResult UniformAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                  APFloat lowParam, APFloat highParam) {
  double low = lowParam.convertToDouble(), high = highParam.convertToDouble();
  if (!(low < high) || !std::isfinite(low) || !std::isfinite(high))
    return emitError() << "#nl.uniform needs finite low < high, got [" << low
                       << ", " << high << "]";
  return success();
}

LogicalResult FromFileAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   StringRef name) {
  if (name.empty())
    return emitError() << "#nl.from_file needs a non-empty tensor name";
  return success();
}

//===----------------------------------------------------------------------===//
// The ABI of a compiled model
//===----------------------------------------------------------------------===//

FailureOr<SmallVector<int64_t>> mlir::nl::parseShape(AsmParser &parser) {
  SmallVector<int64_t> shape;
  SMLoc loc = parser.getCurrentLocation();
  if (failed(parser.parseCommaSeparatedList(AsmParser::Delimiter::Square,
                                            [&]() -> ParseResult {
                                              int64_t d;
                                              if (parser.parseInteger(d))
                                                return failure();
                                              shape.push_back(d);
                                              return success();
                                            })))
    return failure();
  if (llvm::any_of(shape, [](int64_t d) { return d < 0; }))
    return parser.emitError(loc, "a shape's sizes cannot be negative");
  return shape;
}

void mlir::nl::printShape(AsmPrinter &printer, ArrayRef<int64_t> shape) {
  printer << '[';
  llvm::interleaveComma(shape, printer.getStream());
  printer << ']';
}

FailureOr<SmallVector<DenseI64ArrayAttr>>
mlir::nl::parseShapeList(AsmParser &parser) {
  SmallVector<DenseI64ArrayAttr> shapes;
  if (failed(parser.parseCommaSeparatedList(
          AsmParser::Delimiter::Square, [&]() -> ParseResult {
            FailureOr<SmallVector<int64_t>> shape = parseShape(parser);
            if (failed(shape))
              return failure();
            shapes.push_back(
                DenseI64ArrayAttr::get(parser.getContext(), *shape));
            return success();
          })))
    return failure();
  return shapes;
}

void mlir::nl::printShapeList(AsmPrinter &printer,
                              ArrayRef<DenseI64ArrayAttr> shapes) {
  printer << '[';
  llvm::interleaveComma(shapes, printer.getStream(), [&](DenseI64ArrayAttr s) {
    printShape(printer, s.asArrayRef());
  });
  printer << ']';
}

FailureOr<SmallVector<bool>> mlir::nl::parseBoolList(AsmParser &parser) {
  SmallVector<bool> values;
  if (failed(parser.parseCommaSeparatedList(
          AsmParser::Delimiter::Square, [&]() -> ParseResult {
            if (succeeded(parser.parseOptionalKeyword("true")))
              values.push_back(true);
            else if (succeeded(parser.parseOptionalKeyword("false")))
              values.push_back(false);
            else
              return parser.emitError(parser.getCurrentLocation(),
                                      "expected 'true' or 'false'");
            return success();
          })))
    return failure();
  return values;
}

void mlir::nl::printBoolList(AsmPrinter &printer, ArrayRef<bool> values) {
  printer << '[';
  llvm::interleaveComma(values, printer.getStream(),
                        [&](bool v) { printer << (v ? "true" : "false"); });
  printer << ']';
}

bool mlir::nl::isCounterKind(ABIKind kind) {
  switch (kind) {
  case ABIKind::kv_pos:
  case ABIKind::kv_fill:
  case ABIKind::defer_count:
  case ABIKind::omega_pos:
  case ABIKind::omega_fill:
    return true;
  default:
    return false;
  }
}

bool ABITensorAttr::isCounter() const { return isCounterKind(getKind()); }

LogicalResult ABITensorAttr::verify(
    function_ref<InFlightDiagnostic()> emitError, StringRef name, ABIKind kind,
    ArrayRef<int64_t> shape, std::optional<int64_t> level,
    FlatSymbolRefAttr state, StringRef part, FlatSymbolRefAttr of,
    std::optional<int64_t> index, std::optional<StateRole> role,
    std::optional<int64_t> max, Attribute init) {
  auto bad = [&]() {
    return emitError() << "ABI tensor '" << name << "' (" << stringifyEnum(kind)
                       << ") ";
  };
  if (name.empty())
    return emitError() << "an ABI tensor needs a name";
  if (llvm::any_of(shape, [](int64_t d) { return d < 0; }))
    return bad() << "has a negative size";
  bool param = kind == ABIKind::param, history = kind == ABIKind::history;
  if ((param || history) == level.has_value())
    return bad() << (level ? "takes no 'level'"
                           : "needs 'level', the index of its owning level");
  if (level && *level < 0)
    return bad() << "has a negative level index";
  bool stored = kind == ABIKind::state || kind == ABIKind::kv_keys ||
                kind == ABIKind::kv_values || kind == ABIKind::kv_pos ||
                kind == ABIKind::kv_fill;
  if (stored != static_cast<bool>(state))
    return bad() << (state ? "takes no 'state'"
                           : "needs 'state', the nl.state it stores");
  bool hasPart = kind == ABIKind::state || kind == ABIKind::accumulator ||
                 kind == ABIKind::defer_dy || kind == ABIKind::defer_x;
  if (!part.empty() && !hasPart)
    return bad() << "takes no 'part'";
  if ((kind == ABIKind::defer_dy || kind == ABIKind::defer_x) && part.empty())
    return bad() << "needs 'part', the MLP weight it defers";
  bool hasOf = kind == ABIKind::m3_pending || kind == ABIKind::gate_lr ||
               kind == ABIKind::gate_retain ||
               kind == ABIKind::gate_momentum_decay;
  if (hasOf != static_cast<bool>(of))
    return bad() << (of ? "takes no 'of'" : "needs 'of', the level it serves");
  if (history != index.has_value())
    return bad() << (index ? "takes no 'index'"
                           : "needs 'index', its convolution in step order");
  if (index && *index < 0)
    return bad() << "has a negative convolution index";
  if (role && kind != ABIKind::state)
    return bad() << "takes no 'role' (only an nl.state has one)";
  if (isCounterKind(kind) != max.has_value())
    return bad() << (max ? "is not a count and takes no 'max'"
                         : "is an i32 count and needs 'max', its largest "
                           "valid value");
  if (max && (*max < 0 || shape.size() != 1 || shape[0] != 1))
    return bad() << "is a count: of shape [1], with max >= 0";
  if (init && !isa<InitializerAttrInterface>(init))
    return bad() << "has an initializer that is not one: " << init;
  return success();
}

LogicalResult ABILevelAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   StringRef name, int64_t period,
                                   bool infinite, TailPolicy tail,
                                   int64_t order, RuleAttr rule) {
  if (name.empty())
    return emitError() << "an ABI level needs a name";
  if (period < 0 || order < 0)
    return emitError() << "ABI level '" << name
                       << "': period and order cannot be negative";
  if (infinite && period != 1)
    return emitError() << "ABI level '" << name
                       << "': an infinite level runs every token (period 1)";
  return success();
}

LogicalResult
EntryPointAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                       StringRef symbol, EntryKind kind, int64_t params,
                       int64_t state, int64_t outputs, int64_t tokens,
                       bool head) {
  if (symbol.empty())
    return emitError() << "an entry point needs a symbol";
  if (params < 0 || state < 0 || outputs < 0)
    return emitError() << "entry point '" << symbol
                       << "': argument counts cannot be negative";
  if (kind == EntryKind::flush && (outputs != 0 || head))
    return emitError() << "entry point '" << symbol
                       << "': a flush takes no outputs and no head";
  if ((kind == EntryKind::chunk) != (tokens > 0))
    return emitError() << "entry point '" << symbol << "': "
                       << (tokens > 0 ? "only a chunk entry takes 'tokens'"
                                      : "a chunk entry takes 'tokens' > 0");
  if (tokens < 0)
    return emitError() << "entry point '" << symbol
                       << "': 'tokens' cannot be negative";
  return success();
}

std::string EntryPointAttr::getSymbolFor(StringRef model, EntryKind kind) {
  return ("nl_" + model + "_" + stringifyEntryKind(kind)).str();
}

ABIAttr ABIAttr::withChunkEntry(int64_t tokens) const {
  SmallVector<EntryPointAttr> entries;
  for (EntryPointAttr e : getEntryPoints())
    if (e.getKind() != EntryKind::chunk)
      entries.push_back(e);
  if (tokens > 0) {
    EntryPointAttr step = getEntryPoint(EntryKind::step);
    entries.push_back(EntryPointAttr::get(
        getContext(),
        EntryPointAttr::getSymbolFor(getModel(), EntryKind::chunk),
        EntryKind::chunk, step.getParams(), step.getState(), step.getOutputs(),
        tokens, step.getHead()));
  }
  return ABIAttr::get(getContext(), getModel(), getDim(), getHyperPeriod(),
                      getLevels(), getParams(), getState(), getOutputs(),
                      entries);
}

EntryPointAttr ABIAttr::getEntryPoint(EntryKind kind) const {
  for (EntryPointAttr e : getEntryPoints())
    if (e.getKind() == kind)
      return e;
  return {};
}

LogicalResult ABIAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                              StringRef model, int64_t dim, int64_t hyperPeriod,
                              ArrayRef<ABILevelAttr> levels,
                              ArrayRef<ABITensorAttr> params,
                              ArrayRef<ABITensorAttr> state,
                              ArrayRef<DenseI64ArrayAttr> outputs,
                              ArrayRef<EntryPointAttr> entryPoints) {
  if (model.empty())
    return emitError() << "an ABI needs its model's name";
  if (dim <= 0 || hyperPeriod <= 0)
    return emitError() << "the ABI of '" << model
                       << "': dim and hyper_period are positive";
  if (levels.size() > 64)
    return emitError() << "the ABI of '" << model << "' has " << levels.size()
                       << " levels; the masks hold 64";
  llvm::StringSet<> names;
  for (ABITensorAttr t : params) {
    if (t.getKind() != ABIKind::param)
      return emitError() << "the ABI of '" << model << "' lists '"
                         << t.getName() << "' (" << stringifyEnum(t.getKind())
                         << ") among its parameters";
    if (!names.insert(t.getName()).second)
      return emitError() << "the ABI of '" << model << "' has two tensors '"
                         << t.getName() << "'";
  }
  for (ABITensorAttr t : state) {
    if (t.getKind() == ABIKind::param)
      return emitError() << "the ABI of '" << model << "' lists parameter '"
                         << t.getName() << "' in its state";
    if (!names.insert(t.getName()).second)
      return emitError() << "the ABI of '" << model << "' has two tensors '"
                         << t.getName() << "'";
    if (t.getLevel() && *t.getLevel() >= static_cast<int64_t>(levels.size()))
      return emitError() << "ABI tensor '" << t.getName() << "' names level "
                         << *t.getLevel() << " of " << levels.size();
  }
  int64_t steps = 0, flushes = 0, chunks = 0, backwards = 0;
  for (EntryPointAttr e : entryPoints) {
    steps += e.getKind() == EntryKind::step;
    flushes += e.getKind() == EntryKind::flush;
    chunks += e.getKind() == EntryKind::chunk;
    backwards += e.getKind() == EntryKind::backward;
    int64_t wantOutputs = e.getKind() == EntryKind::flush
                              ? 0
                              : static_cast<int64_t>(outputs.size());
    if (e.getParams() != static_cast<int64_t>(params.size()) ||
        e.getState() != static_cast<int64_t>(state.size()) ||
        e.getOutputs() != wantOutputs)
      return emitError() << "entry point '" << e.getSymbol()
                         << "' disagrees with the ABI of '" << model
                         << "' on its argument counts (params = "
                         << params.size() << ", state = " << state.size()
                         << ", outputs = " << wantOutputs << ")";
  }
  if (steps != 1 || flushes != 1 || chunks > 1 || backwards > 1)
    return emitError() << "the ABI of '" << model
                       << "' has one step, one flush and at most one chunk "
                          "and one backward entry point";
  return success();
}

LogicalResult KernelAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 EntryKind kind, int64_t blockSize,
                                 int64_t scratchBytes,
                                 ArrayRef<bool> bufferArgs) {
  if (kind == EntryKind::chunk || kind == EntryKind::backward)
    return emitError() << "the CUDA kernels run the step and the flush, not "
                          "a chunk or backward entry";
  if (blockSize < 1 || blockSize > 1024)
    return emitError() << "a kernel's block_size is in [1, 1024], not "
                       << blockSize;
  if (scratchBytes < 0)
    return emitError() << "a kernel's scratch_bytes cannot be negative";
  return success();
}
