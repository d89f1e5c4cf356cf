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
