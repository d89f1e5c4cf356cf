//===- MLIRGen.cpp - Lowering .nl descriptions to the nl dialect ----------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// Declarations become nl.param / nl.level / nl.transfer ops, the step body
// becomes compute ops inside nl.step. Names are resolved and shapes inferred
// here, so that errors point at the description; the nl verifier then checks
// what needs the whole model (periods, cycles, optimizer levels).
//
//===----------------------------------------------------------------------===//

#include "nlc/Frontend/MLIRGen.h"

#include "nl/IR/NLOps.h"
#include "nl/IR/NLRules.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Traits.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/ScopedHashTable.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/SourceMgr.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

using namespace mlir;
using namespace mlir::nl;
using llvm::SMLoc;
using llvm::StringRef;

namespace {

/// A number as the user would write it: `16`, `2.5`, `1e-08`.
std::string numStr(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15)
    return std::to_string(static_cast<long long>(v));
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), v);
  return std::string(buffer, ec == std::errc() ? end : buffer);
}

/// The closest of `candidates` to `name`, if it is close enough to be a typo.
std::string suggest(StringRef name, ArrayRef<StringRef> candidates) {
  std::string best;
  unsigned bestDistance = 3;
  for (StringRef c : candidates) {
    unsigned d = name.edit_distance(c, /*AllowReplacements=*/true, 3);
    if (d < bestDistance) {
      bestDistance = d;
      best = c.str();
    }
  }
  return best;
}

/// The fields of a rule, as written in a `rule { ... }` block: the rule
/// registry's.
SmallVector<StringRef> ruleFieldNames() {
  SmallVector<StringRef> names;
  for (const mlir::nl::RuleField &f : mlir::nl::ruleFields())
    names.push_back(f.name);
  return names;
}

/// The spellings of a rule field that takes an enumeration; empty for the
/// other fields.
SmallVector<StringRef> ruleFieldSpellings(StringRef field) {
  const mlir::nl::RuleField *f = mlir::nl::lookupRuleField(field);
  return f && f->spellings ? f->spellings() : SmallVector<StringRef>();
}

struct Hyper {
  double value;
  bool isInteger;
  SMLoc loc;
};

class MLIRGen {
public:
  MLIRGen(MLIRContext &ctx, const llvm::SourceMgr &sm)
      : ctx(ctx), sourceMgr(sm), builder(&ctx) {}

  OwningOpRef<ModuleOp> run(const nlc::ast::Model &model,
                            ArrayRef<nlc::HyperOverride> overrides);

private:
  //===--- Locations and errors -------------------------------------------===//

  Location loc(SMLoc l) {
    if (!l.isValid())
      return UnknownLoc::get(&ctx);
    unsigned id = sourceMgr.FindBufferContainingLoc(l);
    if (!id)
      return UnknownLoc::get(&ctx);
    auto [line, col] = sourceMgr.getLineAndColumn(l, id);
    StringRef file = sourceMgr.getMemoryBuffer(id)->getBufferIdentifier();
    return FileLineColLoc::get(&ctx, file, line, col);
  }

  InFlightDiagnostic error(SMLoc l) { return mlir::emitError(loc(l)); }

  /// Reports a duplicate `name` at `l`, with a note at the first one.
  LogicalResult checkUnique(StringRef name, SMLoc l, StringRef what) {
    auto [it, inserted] = declared.try_emplace(name, l);
    if (inserted)
      return success();
    InFlightDiagnostic diag = error(l) << "duplicate name '" << name << "': a "
                                       << what << " cannot reuse it";
    diag.attachNote(loc(it->second))
        << "'" << name << "' is first declared here";
    return diag;
  }

  //===--- Values of declarations
  //------------------------------------------===//

  FailureOr<double> evalNumber(const nlc::ast::Value &v,
                               const llvm::Twine &what,
                               bool *isInteger = nullptr);
  FailureOr<int64_t> evalInt(const nlc::ast::Value &v, const llvm::Twine &what,
                             int64_t min);
  FailureOr<std::string> evalWord(const nlc::ast::Value &v,
                                  const llvm::Twine &what);

  LogicalResult applyOverrides(ArrayRef<nlc::HyperOverride> overrides);
  FailureOr<InitializerAttrInterface> genInit(const nlc::ast::Init &init);
  FailureOr<Type> genStateType(const nlc::ast::StateType &type);
  FailureOr<RuleAttr> genRule(const nlc::ast::Level &level,
                              ArrayRef<nlc::ast::KeyValue> defaults);
  FailureOr<PeriodAttr> genPeriod(const nlc::ast::Value &v);
  /// Reports `name` as an unknown level at `l`, suggesting a close one.
  InFlightDiagnostic unknownLevel(SMLoc l, const llvm::Twine &what,
                                  StringRef name);
  LogicalResult checkDefaults(ArrayRef<nlc::ast::KeyValue> defaults);
  LogicalResult checkVia(const nlc::ast::Level &level);
  LogicalResult genLevel(const nlc::ast::Level &level,
                         ArrayRef<nlc::ast::KeyValue> defaults);
  LogicalResult genTransfer(const nlc::ast::Transfer &transfer);
  LogicalResult genStep(const nlc::ast::Step &step);

  //===--- Step bodies
  //-----------------------------------------------------===//

  FailureOr<Value> genExpr(const nlc::ast::Expr &e);
  FailureOr<Value> genName(const nlc::ast::Expr &e);
  FailureOr<Value> genBinary(const nlc::ast::Expr &e);
  FailureOr<Value> genCall(const nlc::ast::Expr &e);
  FailureOr<Value> genRead(const nlc::ast::Expr &e);
  LogicalResult genUpdate(const nlc::ast::Stmt &stmt);
  Value scalar(double v, Location l);
  RankedTensorType f32(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, builder.getF32Type());
  }
  static ArrayRef<int64_t> shapeOf(Value v) {
    return cast<RankedTensorType>(v.getType()).getShape();
  }
  /// Checks the number and names of a call's arguments: `positional`
  /// positional ones first, then named ones among `names`.
  LogicalResult checkArgs(const nlc::ast::Expr &call, unsigned positional,
                          ArrayRef<StringRef> names);
  const nlc::ast::Expr *namedArg(const nlc::ast::Expr &call, StringRef name);

public:
  /// The hyper-parameters of `m` in declaration order, after the overrides.
  std::vector<nlc::HyperValue> hyperValues(const nlc::ast::Model &m) {
    std::vector<nlc::HyperValue> out;
    for (const nlc::ast::Hyper &h : m.hypers) {
      const Hyper &v = hypers[h.name];
      out.push_back({h.name, v.value, v.isInteger});
    }
    return out;
  }

private:
  MLIRContext &ctx;
  const llvm::SourceMgr &sourceMgr;
  OpBuilder builder;
  ModelOp model;
  int64_t dim = 0;
  llvm::StringMap<Hyper> hypers;
  llvm::StringMap<SMLoc> declared; // model-level names
  llvm::StringMap<ParamOp> params;
  llvm::StringMap<LevelOp> levels;
  llvm::StringMap<Value> locals;      // step values
  llvm::StringMap<Value> paramValues; // nl.get_param, once each
  Operation *lastParamRead = nullptr;
};

} // namespace

//===----------------------------------------------------------------------===//
// Values of declarations
//===----------------------------------------------------------------------===//

FailureOr<double> MLIRGen::evalNumber(const nlc::ast::Value &v,
                                      const llvm::Twine &what,
                                      bool *isInteger) {
  if (v.kind == nlc::ast::Value::Kind::Number) {
    if (isInteger)
      *isInteger = v.isInteger;
    return v.number;
  }
  if (v.kind == nlc::ast::Value::Kind::Word) {
    auto it = hypers.find(v.text);
    if (it != hypers.end()) {
      if (isInteger)
        *isInteger = it->second.isInteger;
      return it->second.value;
    }
    return error(v.loc) << "'" << v.text << "' is not a hyper-parameter; "
                        << what << " must be a number or a hyper-parameter";
  }
  return error(v.loc) << what << " must be a number";
}

FailureOr<int64_t> MLIRGen::evalInt(const nlc::ast::Value &v,
                                    const llvm::Twine &what, int64_t min) {
  bool isInteger = false;
  FailureOr<double> value = evalNumber(v, what, &isInteger);
  if (failed(value))
    return failure();
  if (!isInteger || *value != std::floor(*value)) {
    return error(v.loc) << what << " must be an integer, got "
                        << numStr(*value);
  }
  if (std::fabs(*value) > 9007199254740992.0)
    return error(v.loc) << what << " " << numStr(*value)
                        << " is too large (at most 2^53)";
  if (*value < static_cast<double>(min))
    return error(v.loc) << what << " must be an integer >= " << min << ", got "
                        << static_cast<int64_t>(*value);
  return static_cast<int64_t>(*value);
}

FailureOr<std::string> MLIRGen::evalWord(const nlc::ast::Value &v,
                                         const llvm::Twine &what) {
  if (v.kind != nlc::ast::Value::Kind::Word)
    return error(v.loc) << what << " must be a name";
  return v.text;
}

LogicalResult MLIRGen::applyOverrides(ArrayRef<nlc::HyperOverride> overrides) {
  for (const nlc::HyperOverride &o : overrides) {
    auto it = hypers.find(o.name);
    if (it == hypers.end()) {
      SmallVector<StringRef> names;
      for (auto &h : hypers)
        names.push_back(h.getKey());
      llvm::sort(names);
      InFlightDiagnostic diag =
          mlir::emitError(NameLoc::get(StringAttr::get(&ctx, "nlc")))
          << "-D " << o.name << "=" << o.value
          << ": the model declares no hyper-parameter '" << o.name << "'";
      if (names.empty())
        diag << " (it declares none)";
      else
        diag << "; declared: " << llvm::join(names, ", ");
      return diag;
    }
    StringRef text = o.value;
    char *end = nullptr;
    std::string copy = text.str();
    double value = std::strtod(copy.c_str(), &end);
    if (copy.empty() || end != copy.c_str() + copy.size() ||
        !std::isfinite(value))
      return mlir::emitError(NameLoc::get(StringAttr::get(&ctx, "nlc")))
             << "-D " << o.name << "=" << o.value << ": '" << o.value
             << "' is not a finite number";
    if (it->second.isInteger && value != std::floor(value))
      return mlir::emitError(NameLoc::get(StringAttr::get(&ctx, "nlc")))
             << "-D " << o.name << "=" << o.value << ": '" << o.name
             << "' is an integer hyper-parameter";
    if (std::fabs(value) > 9007199254740992.0)
      return mlir::emitError(NameLoc::get(StringAttr::get(&ctx, "nlc")))
             << "-D " << o.name << "=" << o.value
             << ": the value is too large (at most 2^53 in magnitude)";
    it->second.value = value;
  }
  return success();
}

FailureOr<InitializerAttrInterface>
MLIRGen::genInit(const nlc::ast::Init &init) {
  auto real = [&](const nlc::ast::KeyValue &kv) -> FailureOr<APFloat> {
    FailureOr<double> v = evalNumber(*kv.value, "'" + kv.key + "'");
    if (failed(v))
      return failure();
    return APFloat(*v);
  };
  // Collect arguments by name (positional ones are named by position).
  llvm::StringMap<const nlc::ast::KeyValue *> args;
  auto take = [&](ArrayRef<StringRef> names) -> LogicalResult {
    for (auto [i, kv] : llvm::enumerate(init.args)) {
      StringRef key = kv.key;
      if (key.empty()) {
        if (i >= names.size())
          return error(kv.loc)
                 << "too many arguments for '" << init.kind << "'";
        key = names[i];
      }
      if (!llvm::is_contained(names, key))
        return error(kv.loc)
               << "'" << init.kind << "' takes no argument '" << key << "'";
      if (!args.try_emplace(key, &kv).second)
        return error(kv.loc) << "argument '" << key << "' given twice";
    }
    return success();
  };
  auto need = [&](StringRef name) -> FailureOr<APFloat> {
    auto it = args.find(name);
    if (it == args.end())
      return error(init.loc) << "'" << init.kind << "' needs '" << name << "'";
    return real(*it->second);
  };

  Location l = loc(init.loc);
  auto emit = [&]() { return mlir::emitError(l); };
  if (init.kind == "zeros" || init.kind == "ones" || init.kind == "identity") {
    if (failed(take({})))
      return failure();
    if (init.kind == "zeros")
      return InitializerAttrInterface(ZerosAttr::get(&ctx));
    if (init.kind == "ones")
      return InitializerAttrInterface(OnesAttr::get(&ctx));
    return InitializerAttrInterface(IdentityAttr::get(&ctx));
  }
  if (init.kind == "fill") {
    if (failed(take({"value"})))
      return failure();
    FailureOr<APFloat> v = need("value");
    if (failed(v))
      return failure();
    return InitializerAttrInterface(FillAttr::get(&ctx, *v));
  }
  if (init.kind == "normal") {
    if (failed(take({"std", "mean"})))
      return failure();
    FailureOr<APFloat> std = need("std");
    if (failed(std))
      return failure();
    std::optional<APFloat> mean;
    if (args.count("mean")) {
      FailureOr<APFloat> m = need("mean");
      if (failed(m))
        return failure();
      mean = *m;
    }
    NormalAttr attr = NormalAttr::getChecked(emit, &ctx, *std, mean);
    if (!attr)
      return failure();
    return InitializerAttrInterface(attr);
  }
  if (init.kind == "uniform") {
    if (failed(take({"low", "high"})))
      return failure();
    FailureOr<APFloat> low = need("low");
    if (failed(low))
      return failure();
    FailureOr<APFloat> high = need("high");
    if (failed(high))
      return failure();
    UniformAttr attr = UniformAttr::getChecked(emit, &ctx, *low, *high);
    if (!attr)
      return failure();
    return InitializerAttrInterface(attr);
  }
  if (init.kind == "file") {
    if (failed(take({"name"})))
      return failure();
    auto it = args.find("name");
    if (it == args.end() ||
        it->second->value->kind != nlc::ast::Value::Kind::String)
      return error(init.loc) << "'file' needs the tensor's name as a string, "
                                "e.g. file(\"layer0.W_q\")";
    FromFileAttr attr = FromFileAttr::getChecked(
        emit, &ctx, StringRef(it->second->value->text));
    if (!attr)
      return failure();
    return InitializerAttrInterface(attr);
  }
  if (init.kind == "param") {
    // A state that starts from a parameter's value (checked by the state's
    // verifier: the parameter exists and has the state's storage shape).
    if (failed(take({"name"})))
      return failure();
    auto it = args.find("name");
    if (it == args.end() ||
        it->second->value->kind != nlc::ast::Value::Kind::Word)
      return error(init.loc) << "'param' needs the parameter's name, e.g. "
                                "param(W0)";
    StringRef name = it->second->value->text;
    if (!params.count(name)) {
      SmallVector<StringRef> known;
      for (auto &p : params)
        known.push_back(p.getKey());
      std::string hint = suggest(name, known);
      InFlightDiagnostic diag = error(it->second->value->loc)
                                << "'" << name
                                << "' is not a parameter declared above";
      if (!hint.empty())
        diag << " (did you mean '" << hint << "'?)";
      return diag;
    }
    return InitializerAttrInterface(
        FromParamAttr::get(&ctx, FlatSymbolRefAttr::get(&ctx, name)));
  }
  std::string hint = suggest(init.kind, {"zeros", "ones", "identity", "fill",
                                         "normal", "uniform", "file", "param"});
  InFlightDiagnostic diag = error(init.loc)
                            << "unknown initializer '" << init.kind
                            << "'; expected zeros, ones, identity, fill, "
                               "normal, uniform, file or param";
  if (!hint.empty())
    diag << " (did you mean '" << hint << "'?)";
  return diag;
}

FailureOr<Type> MLIRGen::genStateType(const nlc::ast::StateType &type) {
  SmallVector<int64_t> dims;
  for (const nlc::ast::Value &d : type.dims) {
    FailureOr<int64_t> v = evalInt(d, "a dimension", 1);
    if (failed(v))
      return failure();
    dims.push_back(*v);
  }
  auto emit = [&]() { return error(type.loc); };
  int64_t heads = 1;
  auto option = [&](const nlc::ast::KeyValue &kv,
                    ArrayRef<StringRef> allowed) -> LogicalResult {
    if (llvm::is_contained(allowed, kv.key))
      return success();
    return error(kv.loc) << "unknown option '" << kv.key << "' of a "
                         << type.kind << " state; expected one of "
                         << llvm::join(allowed, ", ");
  };

  if (type.kind == "tensor")
    return Type(f32(dims));

  if (type.kind == "matrix") {
    if (dims.size() != 2)
      return error(type.loc) << "a matrix memory has two dimensions "
                                "(rows, cols), got "
                             << dims.size();
    Layout layout = Layout::out_in;
    for (const nlc::ast::KeyValue &kv : type.options) {
      if (failed(option(kv, {"heads", "layout"})))
        return failure();
      if (!kv.value)
        return error(kv.loc) << "'" << kv.key << "' needs a value";
      if (kv.key == "heads") {
        FailureOr<int64_t> h = evalInt(*kv.value, "'heads'", 1);
        if (failed(h))
          return failure();
        heads = *h;
      } else {
        FailureOr<std::string> w = evalWord(*kv.value, "'layout'");
        if (failed(w))
          return failure();
        std::optional<Layout> l = symbolizeLayout(*w);
        if (!l)
          return error(kv.value->loc)
                 << "unknown layout '" << *w << "'; expected out_in or in_out";
        layout = *l;
      }
    }
    Type t = MatrixType::getChecked(emit, &ctx, dims[0], dims[1],
                                    Type(builder.getF32Type()), heads, layout);
    if (!t)
      return failure();
    return t;
  }

  if (type.kind == "mlp") {
    Activation act = Activation::identity;
    NormKind norm = NormKind::none;
    bool bias = false, residual = false;
    for (const nlc::ast::KeyValue &kv : type.options) {
      if (failed(option(kv, {"act", "bias", "residual", "norm", "heads"})))
        return failure();
      if (kv.key == "bias" || kv.key == "residual") {
        if (kv.value)
          return error(kv.loc)
                 << "'" << kv.key << "' is a flag and takes no value";
        (kv.key == "bias" ? bias : residual) = true;
        continue;
      }
      if (!kv.value)
        return error(kv.loc) << "'" << kv.key << "' needs a value";
      if (kv.key == "heads") {
        FailureOr<int64_t> h = evalInt(*kv.value, "'heads'", 1);
        if (failed(h))
          return failure();
        heads = *h;
        continue;
      }
      FailureOr<std::string> w = evalWord(*kv.value, "'" + kv.key + "'");
      if (failed(w))
        return failure();
      if (kv.key == "act") {
        std::optional<Activation> a = symbolizeActivation(*w);
        if (!a)
          return error(kv.value->loc)
                 << "unknown activation '" << *w
                 << "'; expected identity, relu, silu, gelu, gelu_tanh, "
                    "sigmoid, tanh, softplus or exp";
        act = *a;
      } else {
        std::optional<NormKind> n = symbolizeNormKind(*w);
        if (!n)
          return error(kv.value->loc) << "unknown norm '" << *w
                                      << "'; expected none, l2, layer or rms";
        norm = *n;
      }
    }
    Type t = MlpType::getChecked(emit, &ctx, ArrayRef<int64_t>(dims), act, bias,
                                 residual, norm, heads);
    if (!t)
      return failure();
    return t;
  }

  // kv_cache(key = k, value = v, window = w, heads = h)
  int64_t key = 0, value = 0, window = 0;
  for (const nlc::ast::KeyValue &kv : type.options) {
    if (failed(option(kv, {"key", "value", "window", "heads"})))
      return failure();
    if (!kv.value)
      return error(kv.loc) << "'" << kv.key << "' needs a value";
    FailureOr<int64_t> v =
        evalInt(*kv.value, "'" + kv.key + "'", kv.key == "window" ? 0 : 1);
    if (failed(v))
      return failure();
    (kv.key == "key"      ? key
     : kv.key == "value"  ? value
     : kv.key == "window" ? window
                          : heads) = *v;
  }
  if (!key || !value)
    return error(type.loc) << "a kv_cache needs 'key' and 'value' widths";
  Type t = KvCacheType::getChecked(emit, &ctx, key, value, window, heads);
  if (!t)
    return failure();
  return t;
}

FailureOr<PeriodAttr> MLIRGen::genPeriod(const nlc::ast::Value &v) {
  if (v.kind == nlc::ast::Value::Kind::Word && v.text == "inf")
    return PeriodAttr::getInfinite(&ctx);
  if (v.kind == nlc::ast::Value::Kind::Word && v.text == "frozen")
    return PeriodAttr::getFrozen(&ctx);
  bool isInteger = false;
  FailureOr<double> n = evalNumber(v, "a period", &isInteger);
  if (failed(n))
    return failure();
  if (!isInteger || *n < 1 || *n != std::floor(*n))
    return error(v.loc) << "chunk size must be a positive integer, 'inf' or "
                           "'frozen', got "
                        << numStr(*n);
  return PeriodAttr::getChunk(&ctx, static_cast<int64_t>(*n));
}

namespace {
/// Symbolizes `word` as an EnumT, or reports the valid names.
template <typename EnumT>
FailureOr<EnumT> parseEnum(StringRef word, StringRef field,
                           function_ref<InFlightDiagnostic()> emit) {
  if (std::optional<EnumT> v = symbolizeEnum<EnumT>(word))
    return *v;
  SmallVector<StringRef> valid = enumSpellings<EnumT>();
  InFlightDiagnostic diag = emit()
                            << "unknown " << field << " '" << word
                            << "'; expected one of " << llvm::join(valid, ", ");
  std::string hint = suggest(word, valid);
  if (!hint.empty())
    diag << " (did you mean '" << hint << "'?)";
  return diag;
}
} // namespace

FailureOr<RuleAttr> MLIRGen::genRule(const nlc::ast::Level &level,
                                     ArrayRef<nlc::ast::KeyValue> defaults) {
  // Level fields override model defaults.
  llvm::StringMap<const nlc::ast::KeyValue *> fields;
  for (const nlc::ast::KeyValue &kv : defaults)
    fields[kv.key] = &kv;
  llvm::StringSet<> seen;
  for (const nlc::ast::KeyValue &kv : level.rule) {
    if (!seen.insert(kv.key).second)
      return error(kv.loc) << "rule field '" << kv.key << "' given twice";
    fields[kv.key] = &kv;
  }

  SmallVector<StringRef> kFields = ruleFieldNames();
  for (auto &entry : fields) {
    if (llvm::is_contained(kFields, entry.getKey()))
      continue;
    const nlc::ast::KeyValue &kv = *entry.second;
    InFlightDiagnostic diag = error(kv.loc) << "unknown rule field '" << kv.key
                                            << "'; expected one of "
                                            << llvm::join(kFields, ", ");
    std::string hint = suggest(kv.key, kFields);
    if (!hint.empty())
      diag << " (did you mean '" << hint << "'?)";
    return diag;
  }
  if (!fields.count("objective"))
    return error(*level.ruleLoc)
           << "the rule of level '" << level.name
           << "' needs an 'objective' (dot, l2, lp, huber or linear)";

  // Reads one enum field, keeping `def` when absent.
  auto enumField = [&](StringRef name, auto def) -> FailureOr<decltype(def)> {
    auto it = fields.find(name);
    if (it == fields.end())
      return def;
    const nlc::ast::KeyValue &kv = *it->second;
    FailureOr<std::string> w = evalWord(*kv.value, "'" + name + "'");
    if (failed(w))
      return failure();
    return parseEnum<decltype(def)>(*w, name,
                                    [&] { return error(kv.value->loc); });
  };
  auto realField = [&](StringRef name) -> FailureOr<std::optional<APFloat>> {
    auto it = fields.find(name);
    if (it == fields.end())
      return std::optional<APFloat>();
    FailureOr<double> v = evalNumber(*it->second->value, "'" + name + "'");
    if (failed(v))
      return failure();
    return std::optional<APFloat>(APFloat(*v));
  };
  auto intField = [&](StringRef name, int64_t def) -> FailureOr<int64_t> {
    auto it = fields.find(name);
    if (it == fields.end())
      return def;
    return evalInt(*it->second->value, "'" + name + "'", 1);
  };

  auto objective = enumField("objective", Objective::dot);
  auto retention = enumField("retention", Retention::none);
  auto decayOrder = enumField("decay_order", DecayOrder::decoupled);
  auto algorithm = enumField("algorithm", Algorithm::gd);
  auto gradAt = enumField("grad_at", GradPoint::token);
  auto read = enumField("read", ReadOrder::after_write);
  auto l2 = enumField("l2", L2Convention::half);
  auto precond = enumField("precond", Precond::none);
  auto precondTarget = enumField("precond_target", PrecondTarget::first_layer);
  auto dgdStep = enumField("dgd_step", DgdStep::sherman_morrison);
  auto write = enumField("write", WriteMode::stop_grad);
  auto gradSource = enumField("grad_source", GradSource::local);
  auto lrPlacement = enumField("lr_placement", LrPlacement::per_token);
  auto chunkApply = enumField("chunk_apply", ChunkApply::at_end);
  if (failed(objective) || failed(retention) || failed(decayOrder) ||
      failed(algorithm) || failed(gradAt) || failed(read) || failed(l2) ||
      failed(precond) || failed(precondTarget) || failed(dgdStep) ||
      failed(write) || failed(gradSource) || failed(lrPlacement) ||
      failed(chunkApply))
    return failure();
  auto p = realField("p");
  auto huber = realField("huber_delta");
  auto eps = realField("eps");
  auto slowWeight = realField("slow_weight");
  auto window = intField("window", 1);
  auto nsSteps = intField("ns_steps", 5);
  if (failed(p) || failed(huber) || failed(eps) || failed(slowWeight) ||
      failed(window) || failed(nsSteps))
    return failure();

  ArrayAttr via;
  if (auto it = fields.find("via"); it != fields.end()) {
    const nlc::ast::Value &v = *it->second->value;
    SmallVector<Attribute> refs;
    auto addRef = [&](const nlc::ast::Value &e) -> LogicalResult {
      if (e.kind != nlc::ast::Value::Kind::Word)
        return error(e.loc) << "'via' lists level names";
      refs.push_back(FlatSymbolRefAttr::get(&ctx, e.text));
      return success();
    };
    if (v.kind == nlc::ast::Value::Kind::List) {
      for (const nlc::ast::Value &e : v.elements)
        if (failed(addRef(e)))
          return failure();
    } else if (failed(addRef(v))) {
      return failure();
    }
    via = builder.getArrayAttr(refs);
  }

  SMLoc ruleLoc = *level.ruleLoc;
  RuleAttr rule = RuleAttr::getChecked(
      [&] { return error(ruleLoc); }, &ctx, *objective, *retention, *decayOrder,
      *algorithm, via, *gradAt, *read, *l2, *p, *huber, *window, *precond,
      *precondTarget, *dgdStep, *nsSteps, *eps, *slowWeight, *write,
      *gradSource, *lrPlacement, *chunkApply);
  if (!rule)
    return failure();
  return rule;
}

InFlightDiagnostic MLIRGen::unknownLevel(SMLoc l, const llvm::Twine &what,
                                         StringRef name) {
  SmallVector<StringRef> known;
  for (auto &lv : levels)
    known.push_back(lv.getKey());
  InFlightDiagnostic diag = error(l) << what << " '" << name << "'";
  std::string hint = suggest(name, known);
  if (!hint.empty())
    diag << " (did you mean '" << hint << "'?)";
  return diag;
}

LogicalResult MLIRGen::checkDefaults(ArrayRef<nlc::ast::KeyValue> defaults) {
  // Defaults are checked where they are written, even if no level uses them.
  SmallVector<StringRef> kFields = ruleFieldNames();
  llvm::StringSet<> seen;
  for (const nlc::ast::KeyValue &kv : defaults) {
    if (!seen.insert(kv.key).second)
      return error(kv.loc) << "rule field '" << kv.key << "' given twice";
    if (!llvm::is_contained(kFields, kv.key)) {
      InFlightDiagnostic diag = error(kv.loc) << "unknown rule field '"
                                              << kv.key << "'; expected one of "
                                              << llvm::join(kFields, ", ");
      std::string hint = suggest(kv.key, kFields);
      if (!hint.empty())
        diag << " (did you mean '" << hint << "'?)";
      return diag;
    }
    if (kv.value->kind != nlc::ast::Value::Kind::Word ||
        hypers.count(kv.value->text))
      continue;
    StringRef w = kv.value->text;
    SmallVector<StringRef> valid = ruleFieldSpellings(kv.key);
    bool known = valid.empty() || llvm::is_contained(valid, w);
    if (!known)
      return error(kv.value->loc) << "unknown " << kv.key << " '" << w
                                  << "' in defaults; see nlc --list-rules";
  }
  return success();
}

LogicalResult MLIRGen::checkVia(const nlc::ast::Level &level) {
  for (const nlc::ast::KeyValue &kv : level.rule) {
    if (kv.key != "via")
      continue;
    SmallVector<const nlc::ast::Value *> names;
    if (kv.value->kind == nlc::ast::Value::Kind::List)
      for (const nlc::ast::Value &e : kv.value->elements)
        names.push_back(&e);
    else
      names.push_back(&*kv.value);
    for (const nlc::ast::Value *n : names)
      if (n->kind == nlc::ast::Value::Kind::Word && !levels.count(n->text))
        return unknownLevel(n->loc, "'via' names unknown level", n->text);
  }
  return success();
}

LogicalResult MLIRGen::genLevel(const nlc::ast::Level &level,
                                ArrayRef<nlc::ast::KeyValue> defaults) {
  if (failed(checkUnique(level.name, level.loc, "level")))
    return failure();
  FailureOr<PeriodAttr> period = genPeriod(level.period);
  if (failed(period))
    return failure();
  Phase phase = Phase::online;
  TailPolicy tail = TailPolicy::carry;
  if (level.phase) {
    FailureOr<std::string> w = evalWord(*level.phase->value, "'phase'");
    if (failed(w))
      return failure();
    FailureOr<Phase> p = parseEnum<Phase>(
        *w, "phase", [&] { return error(level.phase->value->loc); });
    if (failed(p))
      return failure();
    phase = *p;
  }
  if (level.tail) {
    FailureOr<std::string> w = evalWord(*level.tail->value, "'tail'");
    if (failed(w))
      return failure();
    FailureOr<TailPolicy> t = parseEnum<TailPolicy>(
        *w, "tail policy", [&] { return error(level.tail->value->loc); });
    if (failed(t))
      return failure();
    tail = *t;
  }
  bool isCache = llvm::any_of(level.states, [](const nlc::ast::State &s) {
    return s.type.kind == "kv_cache";
  });
  if (!level.ruleLoc && period->isChunk() && phase == Phase::online && !isCache)
    return error(level.loc)
           << "level '" << level.name << "' has period " << period->getValue()
           << " but no learning rule; add 'rule { "
              "objective = ... }' or declare it 'period "
              "frozen'";
  RuleAttr rule;
  if (level.ruleLoc) {
    FailureOr<RuleAttr> r = genRule(level, defaults);
    if (failed(r))
      return failure();
    rule = *r;
  }

  auto op = LevelOp::create(builder, loc(level.loc), level.name, *period, phase,
                            tail, rule, ScheduleAttr());
  levels[level.name] = op;
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(&op.getBody().emplaceBlock());
  llvm::StringSet<> stateNames;
  for (const nlc::ast::State &state : level.states) {
    if (!stateNames.insert(state.name).second)
      return error(state.loc)
             << "level '" << level.name << "' has two states named '"
             << state.name << "'";
    FailureOr<Type> type = genStateType(state.type);
    if (failed(type))
      return failure();
    InitializerAttrInterface init;
    if (state.init) {
      FailureOr<InitializerAttrInterface> i = genInit(*state.init);
      if (failed(i))
        return failure();
      init = *i;
    } else if (state.type.kind != "kv_cache") {
      return error(state.loc) << "state '" << state.name
                              << "' has no initializer; add one, e.g. "
                                 "'= zeros' or '= normal(std = 0.02)'";
    }
    StateOp::create(builder, loc(state.loc), state.name, *type, init,
                    StateRoleAttr());
  }
  return success();
}

LogicalResult MLIRGen::genTransfer(const nlc::ast::Transfer &t) {
  FailureOr<TransferKind> kind = parseEnum<TransferKind>(
      t.kind, "transfer kind", [&] { return error(t.kindLoc); });
  if (failed(kind))
    return failure();
  for (auto [name, l] :
       {std::pair<StringRef, SMLoc>{t.from, t.fromLoc}, {t.to, t.toLoc}}) {
    if (!levels.count(name))
      return unknownLevel(l, "unknown level", name);
  }
  TransferOp::create(builder, loc(t.loc), *kind, t.from, t.to, t.reset);
  return success();
}

//===----------------------------------------------------------------------===//
// Step bodies
//===----------------------------------------------------------------------===//

Value MLIRGen::scalar(double v, Location l) {
  return createF32Splat(builder, l, v);
}

LogicalResult MLIRGen::checkArgs(const nlc::ast::Expr &call,
                                 unsigned positional,
                                 ArrayRef<StringRef> names) {
  unsigned count = 0;
  llvm::StringSet<> seen;
  for (const nlc::ast::Arg &a : call.args) {
    if (a.name.empty()) {
      if (!seen.empty())
        return error(a.loc) << "positional argument after a named one";
      ++count;
      continue;
    }
    if (!llvm::is_contained(names, a.name)) {
      InFlightDiagnostic diag = error(a.loc)
                                << "'" << call.name << "' takes no argument '"
                                << a.name << "'";
      if (!names.empty())
        diag << "; it takes " << llvm::join(names, ", ");
      return diag;
    }
    if (!seen.insert(a.name).second)
      return error(a.loc) << "argument '" << a.name << "' given twice";
  }
  if (count != positional)
    return error(call.loc) << "'" << call.name << "' takes " << positional
                           << " positional argument(s), got " << count;
  return success();
}

const nlc::ast::Expr *MLIRGen::namedArg(const nlc::ast::Expr &call,
                                        StringRef name) {
  for (const nlc::ast::Arg &a : call.args)
    if (a.name == name)
      return a.value.get();
  return nullptr;
}

FailureOr<Value> MLIRGen::genExpr(const nlc::ast::Expr &e) {
  switch (e.kind) {
  case nlc::ast::Expr::Kind::Number:
    return scalar(e.number, loc(e.loc));
  case nlc::ast::Expr::Kind::Name:
    return genName(e);
  case nlc::ast::Expr::Kind::Binary:
    return genBinary(e);
  case nlc::ast::Expr::Kind::Negate: {
    FailureOr<Value> v = genExpr(*e.lhs);
    if (failed(v))
      return failure();
    Location l = loc(e.loc);
    Value zero = scalar(0.0, l);
    return Value(SubOp::create(builder, l, v->getType(), zero, *v));
  }
  case nlc::ast::Expr::Kind::Call:
    return genCall(e);
  }
  llvm_unreachable("unknown expression");
}

FailureOr<Value> MLIRGen::genName(const nlc::ast::Expr &e) {
  if (auto it = locals.find(e.name); it != locals.end())
    return it->second;
  if (auto it = params.find(e.name); it != params.end()) {
    Value &cached = paramValues[e.name];
    if (!cached) {
      // Parameter reads gather at the top of the step, in first-use order.
      OpBuilder::InsertionGuard guard(builder);
      if (lastParamRead)
        builder.setInsertionPointAfter(lastParamRead);
      else
        builder.setInsertionPointToStart(builder.getInsertionBlock());
      auto read =
          GetParamOp::create(builder, loc(e.loc), it->second.getType(), e.name);
      lastParamRead = read;
      cached = read;
    }
    return cached;
  }
  if (auto it = hypers.find(e.name); it != hypers.end())
    return scalar(it->second.value, loc(e.loc));
  if (levels.count(e.name))
    return error(e.loc) << "'" << e.name << "' is a level; read it with read("
                        << e.name << ", query)";
  SmallVector<StringRef> names;
  for (auto &entry : locals)
    names.push_back(entry.getKey());
  for (auto &entry : params)
    names.push_back(entry.getKey());
  for (auto &entry : hypers)
    names.push_back(entry.getKey());
  InFlightDiagnostic diag = error(e.loc) << "unknown name '" << e.name << "'";
  std::string hint = suggest(e.name, names);
  if (!hint.empty())
    diag << " (did you mean '" << hint << "'?)";
  return diag;
}

FailureOr<Value> MLIRGen::genBinary(const nlc::ast::Expr &e) {
  FailureOr<Value> lhs = genExpr(*e.lhs);
  if (failed(lhs))
    return failure();
  FailureOr<Value> rhs = genExpr(*e.rhs);
  if (failed(rhs))
    return failure();
  Location l = loc(e.loc);
  ArrayRef<int64_t> a = shapeOf(*lhs), b = shapeOf(*rhs);
  if (e.op == '@') {
    if (a.size() != 2)
      return error(e.loc) << "the left operand of '@' must be a d_out x d_in "
                             "matrix, got shape "
                          << formatShape(a);
    if (b.empty() || b.back() != a[1])
      return error(e.loc) << "cannot apply a " << formatShape(a)
                          << " matrix to a value of shape " << formatShape(b)
                          << ": its last dimension must be " << a[1];
    SmallVector<int64_t> out(b);
    out.back() = a[0];
    return Value(LinearOp::create(builder, l, f32(out), *rhs, *lhs, Value()));
  }
  SmallVector<int64_t> shape;
  if (!OpTrait::util::getBroadcastedShape(a, b, shape))
    return error(e.loc) << "cannot combine shapes " << formatShape(a) << " and "
                        << formatShape(b) << " with '" << e.op << "'";
  Type type = f32(shape);
  switch (e.op) {
  case '+':
    return Value(AddOp::create(builder, l, type, *lhs, *rhs));
  case '-':
    return Value(SubOp::create(builder, l, type, *lhs, *rhs));
  case '*':
    return Value(MulOp::create(builder, l, type, *lhs, *rhs));
  case '/':
    return Value(DivOp::create(builder, l, type, *lhs, *rhs));
  }
  llvm_unreachable("unknown binary operator");
}

FailureOr<Value> MLIRGen::genRead(const nlc::ast::Expr &e) {
  if (failed(checkArgs(e, 2, {})))
    return failure();
  const nlc::ast::Expr &levelArg = *e.args[0].value;
  if (levelArg.kind != nlc::ast::Expr::Kind::Name)
    return error(levelArg.loc) << "the first argument of 'read' is a level "
                                  "name";
  auto it = levels.find(levelArg.name);
  if (it == levels.end())
    return unknownLevel(levelArg.loc, "unknown level", levelArg.name);
  LevelOp level = it->second;
  StateOp memory = level.getMemory();
  auto type = memory ? dyn_cast<MemoryTypeInterface>(memory.getType())
                     : MemoryTypeInterface();
  if (!type)
    return error(levelArg.loc) << "level '" << levelArg.name
                               << "' holds no memory that can be read";
  FailureOr<Value> query = genExpr(*e.args[1].value);
  if (failed(query))
    return failure();
  SmallVector<int64_t> out;
  if (type.getHeads() != 1)
    out.push_back(type.getHeads());
  out.push_back(type.getValueDim());
  return Value(ReadOp::create(builder, loc(e.loc), f32(out),
                              FlatSymbolRefAttr::get(&ctx, levelArg.name),
                              *query));
}

FailureOr<Value> MLIRGen::genCall(const nlc::ast::Expr &e) {
  Location l = loc(e.loc);
  if (e.name == "read")
    return genRead(e);

  // Activations.
  if (std::optional<Activation> act = symbolizeActivation(e.name)) {
    if (failed(checkArgs(e, 1, {})))
      return failure();
    FailureOr<Value> x = genExpr(*e.args[0].value);
    if (failed(x))
      return failure();
    return Value(ActOp::create(builder, l, *act, *x));
  }

  // Norms.
  if (e.name == "l2norm" || e.name == "layernorm" || e.name == "rmsnorm") {
    NormKind kind = e.name == "l2norm"      ? NormKind::l2
                    : e.name == "layernorm" ? NormKind::layer
                                            : NormKind::rms;
    SmallVector<StringRef> allowed = {"eps"};
    if (kind != NormKind::l2)
      allowed.push_back("scale");
    if (kind == NormKind::layer)
      allowed.push_back("shift");
    if (failed(checkArgs(e, 1, allowed)))
      return failure();
    FailureOr<Value> x = genExpr(*e.args[0].value);
    if (failed(x))
      return failure();
    if (shapeOf(*x).empty())
      return error(e.loc) << "'" << e.name
                          << "' normalizes the last dimension of a vector; "
                             "got a scalar";
    Value scale, shift;
    double eps = 1e-6;
    if (const nlc::ast::Expr *s = namedArg(e, "scale")) {
      FailureOr<Value> v = genExpr(*s);
      if (failed(v))
        return failure();
      scale = *v;
    }
    if (const nlc::ast::Expr *s = namedArg(e, "shift")) {
      FailureOr<Value> v = genExpr(*s);
      if (failed(v))
        return failure();
      shift = *v;
    }
    if (const nlc::ast::Expr *s = namedArg(e, "eps")) {
      std::optional<double> v;
      if (s->kind == nlc::ast::Expr::Kind::Number)
        v = s->number;
      else if (s->kind == nlc::ast::Expr::Kind::Name && hypers.count(s->name))
        v = hypers[s->name].value;
      if (!v || !(*v > 0))
        return error(s->loc) << "'eps' must be a positive number or a "
                                "hyper-parameter holding one";
      eps = *v;
    }
    for (Value v : {scale, shift})
      if (v && shapeOf(v) != ArrayRef<int64_t>{shapeOf(*x).back()})
        return error(e.loc)
               << "the scale and shift of '" << e.name << "' must have shape ["
               << shapeOf(*x).back() << "], got " << formatShape(shapeOf(v));
    return Value(NormOp::create(builder, l, x->getType(), kind, *x, scale,
                                shift, APFloat(eps)));
  }

  if (e.name == "linear") {
    if (e.args.size() < 2 || e.args.size() > 3)
      return error(e.loc) << "'linear' takes (x, W) or (x, W, b)";
    if (failed(checkArgs(e, e.args.size(), {})))
      return failure();
    FailureOr<Value> x = genExpr(*e.args[0].value);
    if (failed(x))
      return failure();
    FailureOr<Value> w = genExpr(*e.args[1].value);
    if (failed(w))
      return failure();
    Value bias;
    if (e.args.size() == 3) {
      FailureOr<Value> b = genExpr(*e.args[2].value);
      if (failed(b))
        return failure();
      bias = *b;
    }
    ArrayRef<int64_t> ws = shapeOf(*w), xs = shapeOf(*x);
    if (ws.size() != 2 || xs.empty() || xs.back() != ws[1])
      return error(e.loc) << "'linear' needs a d_out x d_in weight and an "
                             "input whose last dimension is d_in; got "
                          << formatShape(ws) << " and " << formatShape(xs);
    if (bias && shapeOf(bias) != ArrayRef<int64_t>{ws[0]})
      return error(e.args[2].loc) << "the bias must have shape [" << ws[0]
                                  << "], got " << formatShape(shapeOf(bias));
    SmallVector<int64_t> out(xs);
    out.back() = ws[0];
    return Value(LinearOp::create(builder, l, f32(out), *x, *w, bias));
  }

  if (e.name == "conv") {
    if (failed(checkArgs(e, 2, {})))
      return failure();
    FailureOr<Value> x = genExpr(*e.args[0].value);
    if (failed(x))
      return failure();
    FailureOr<Value> w = genExpr(*e.args[1].value);
    if (failed(w))
      return failure();
    ArrayRef<int64_t> ws = shapeOf(*w), xs = shapeOf(*x);
    if (ws.size() != 2 || xs.empty() || xs.back() != ws[1])
      return error(e.loc) << "'conv' needs a (width x channels) weight whose "
                             "channels match the input; got "
                          << formatShape(ws) << " and " << formatShape(xs);
    return Value(ConvOp::create(builder, l, x->getType(), *x, *w));
  }

  if (e.name == "split_heads") {
    if (failed(checkArgs(e, 2, {})))
      return failure();
    const nlc::ast::Expr &h = *e.args[1].value;
    int64_t heads = 0;
    if (h.kind == nlc::ast::Expr::Kind::Number && h.isInteger)
      heads = static_cast<int64_t>(h.number);
    else if (h.kind == nlc::ast::Expr::Kind::Name && hypers.count(h.name) &&
             hypers[h.name].isInteger)
      heads = static_cast<int64_t>(hypers[h.name].value);
    if (heads < 1)
      return error(h.loc) << "the head count of 'split_heads' must be a "
                             "positive integer";
    FailureOr<Value> x = genExpr(*e.args[0].value);
    if (failed(x))
      return failure();
    ArrayRef<int64_t> xs = shapeOf(*x);
    if (xs.size() != 1 || xs[0] % heads != 0)
      return error(e.loc) << "'split_heads' splits a vector whose width is a "
                             "multiple of "
                          << heads << ", got shape " << formatShape(xs);
    auto type = f32({heads, xs[0] / heads});
    return Value(tensor::ExpandShapeOp::create(
        builder, l, type, *x, ArrayRef<ReassociationIndices>{{0, 1}}));
  }

  if (e.name == "slice") {
    // slice(x, offset, size): x[offset : offset + size] of a vector.
    if (failed(checkArgs(e, 3, {})))
      return failure();
    int64_t bounds[2];
    for (int i = 0; i < 2; ++i) {
      const nlc::ast::Expr &a = *e.args[i + 1].value;
      std::optional<double> v;
      if (a.kind == nlc::ast::Expr::Kind::Number && a.isInteger)
        v = a.number;
      else if (a.kind == nlc::ast::Expr::Kind::Name && hypers.count(a.name) &&
               hypers[a.name].isInteger)
        v = hypers[a.name].value;
      if (!v || *v < (i == 0 ? 0 : 1))
        return error(a.loc) << "the " << (i == 0 ? "offset" : "size")
                            << " of 'slice' must be an integer "
                            << (i == 0 ? ">= 0" : ">= 1");
      bounds[i] = static_cast<int64_t>(*v);
    }
    FailureOr<Value> x = genExpr(*e.args[0].value);
    if (failed(x))
      return failure();
    ArrayRef<int64_t> xs = shapeOf(*x);
    if (xs.size() != 1 || bounds[0] + bounds[1] > xs[0])
      return error(e.loc) << "'slice' takes " << bounds[1]
                          << " values from offset " << bounds[0]
                          << " of a vector; got shape " << formatShape(xs);
    return Value(tensor::ExtractSliceOp::create(
        builder, l, f32({bounds[1]}), *x, ValueRange{}, ValueRange{},
        ValueRange{}, builder.getDenseI64ArrayAttr({bounds[0]}),
        builder.getDenseI64ArrayAttr({bounds[1]}),
        builder.getDenseI64ArrayAttr({1})));
  }

  if (e.name == "merge_heads") {
    if (failed(checkArgs(e, 1, {})))
      return failure();
    FailureOr<Value> x = genExpr(*e.args[0].value);
    if (failed(x))
      return failure();
    ArrayRef<int64_t> xs = shapeOf(*x);
    if (xs.size() != 2)
      return error(e.loc) << "'merge_heads' takes a [heads, d] value, got "
                          << formatShape(xs);
    return Value(tensor::CollapseShapeOp::create(
        builder, l, f32({xs[0] * xs[1]}), *x,
        ArrayRef<ReassociationIndices>{{0, 1}}));
  }

  static const StringRef kFunctions[] = {
      "read",    "linear",      "conv",        "l2norm",    "layernorm",
      "rmsnorm", "split_heads", "merge_heads", "slice",     "identity",
      "relu",    "silu",        "gelu",        "gelu_tanh", "sigmoid",
      "tanh",    "softplus",    "exp"};
  InFlightDiagnostic diag = error(e.loc)
                            << "unknown function '" << e.name << "'";
  std::string hint = suggest(e.name, kFunctions);
  if (!hint.empty())
    diag << " (did you mean '" << hint << "'?)";
  else
    diag << "; the functions are "
         << llvm::join(ArrayRef<StringRef>(kFunctions), ", ");
  return diag;
}

LogicalResult MLIRGen::genUpdate(const nlc::ast::Stmt &stmt) {
  auto it = levels.find(stmt.name);
  if (it == levels.end())
    return unknownLevel(stmt.loc, "unknown level", stmt.name);
  static const StringRef kOperands[] = {
      "key", "value", "grad", "lr", "retain", "momentum_decay", "delta_scale"};
  Value operands[7];
  for (const nlc::ast::Arg &a : stmt.args) {
    const StringRef *slot = llvm::find(kOperands, a.name);
    if (slot == std::end(kOperands))
      return error(a.loc) << "update takes no argument '" << a.name
                          << "'; it takes "
                          << llvm::join(ArrayRef<StringRef>(kOperands), ", ");
    Value &v = operands[slot - std::begin(kOperands)];
    if (v)
      return error(a.loc) << "argument '" << a.name << "' given twice";
    FailureOr<Value> value = genExpr(*a.value);
    if (failed(value))
      return failure();
    v = *value;
  }
  UpdateOp::create(builder, loc(stmt.loc),
                   FlatSymbolRefAttr::get(&ctx, stmt.name), operands[0],
                   operands[1],
                   operands[2] ? ValueRange(operands[2]) : ValueRange(),
                   operands[3], operands[4], operands[5], operands[6]);
  return success();
}

LogicalResult MLIRGen::genStep(const nlc::ast::Step &step) {
  Location l = loc(step.loc);
  auto stepOp = StepOp::create(builder, l, builder.getTypeArrayAttr({}));
  Block &body = stepOp.getBody().emplaceBlock();
  BlockArgument token = body.addArgument(f32({dim}), loc(step.argLoc));
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(&body);
  locals.clear();
  paramValues.clear();
  lastParamRead = nullptr;
  if (params.count(step.arg) || hypers.count(step.arg) ||
      levels.count(step.arg))
    return error(step.argLoc) << "the token's name '" << step.arg
                              << "' is already a declaration's name";
  locals[step.arg] = token;

  SmallVector<Value> results;
  bool returned = false;
  for (const nlc::ast::Stmt &stmt : step.body) {
    if (returned)
      return error(stmt.loc) << "statement after 'return'";
    switch (stmt.kind) {
    case nlc::ast::Stmt::Kind::Assign: {
      if (locals.count(stmt.name) || params.count(stmt.name) ||
          hypers.count(stmt.name) || levels.count(stmt.name))
        return error(stmt.loc) << "'" << stmt.name
                               << "' is already defined; each name is "
                                  "assigned once";
      FailureOr<Value> v = genExpr(*stmt.value);
      if (failed(v))
        return failure();
      locals[stmt.name] = *v;
      break;
    }
    case nlc::ast::Stmt::Kind::Update:
      if (failed(genUpdate(stmt)))
        return failure();
      break;
    case nlc::ast::Stmt::Kind::Return:
      for (const nlc::ast::ExprPtr &e : stmt.results) {
        FailureOr<Value> v = genExpr(*e);
        if (failed(v))
          return failure();
        results.push_back(*v);
      }
      returned = true;
      break;
    }
  }
  YieldOp::create(builder, l, results);
  SmallVector<Type> types = llvm::to_vector(ValueRange(results).getTypes());
  stepOp.setOutputTypesAttr(builder.getTypeArrayAttr(types));
  return success();
}

//===----------------------------------------------------------------------===//
// The model
//===----------------------------------------------------------------------===//

OwningOpRef<ModuleOp> MLIRGen::run(const nlc::ast::Model &m,
                                   ArrayRef<nlc::HyperOverride> overrides) {
  for (const nlc::ast::Hyper &h : m.hypers) {
    if (failed(checkUnique(h.name, h.loc, "hyper-parameter")))
      return nullptr;
    hypers[h.name] = {h.value.number, h.value.isInteger, h.loc};
  }
  if (failed(applyOverrides(overrides)))
    return nullptr;

  int64_t heads = 1;
  bool haveDim = false;
  llvm::StringSet<> seenAttrs;
  for (const nlc::ast::KeyValue &kv : m.attrs) {
    if (!seenAttrs.insert(kv.key).second) {
      error(kv.loc) << "'" << kv.key << "' given twice";
      return nullptr;
    }
    if (kv.key != "dim" && kv.key != "heads") {
      error(kv.loc) << "unknown model attribute '" << kv.key
                    << "'; expected dim or heads";
      return nullptr;
    }
    FailureOr<int64_t> v = evalInt(*kv.value, "'" + kv.key + "'", 1);
    if (failed(v))
      return nullptr;
    if (kv.key == "dim") {
      dim = *v;
      haveDim = true;
    } else {
      heads = *v;
    }
  }
  if (!haveDim) {
    error(m.loc) << "model '" << m.name << "' needs its token width: model "
                 << m.name << "(dim = D)";
    return nullptr;
  }

  OwningOpRef<ModuleOp> module = ModuleOp::create(loc(m.loc));
  builder.setInsertionPointToEnd(module->getBody());
  model = ModelOp::create(builder, loc(m.loc), m.name, dim, heads,
                          IntegerAttr(), IntegerAttr());
  model.getBody().emplaceBlock();
  builder.setInsertionPointToEnd(&model.getBody().front());

  for (const nlc::ast::Param &p : m.params) {
    if (failed(checkUnique(p.name, p.loc, "parameter")))
      return nullptr;
    SmallVector<int64_t> shape;
    for (const nlc::ast::Value &d : p.shape) {
      FailureOr<int64_t> v = evalInt(d, "a dimension", 1);
      if (failed(v))
        return nullptr;
      shape.push_back(*v);
    }
    if (!p.init) {
      error(p.loc) << "parameter '" << p.name
                   << "' has no initializer; add one, e.g. '= zeros', "
                      "'= normal(std = 0.02)' or '= file(\"name\")'";
      return nullptr;
    }
    FailureOr<InitializerAttrInterface> init = genInit(*p.init);
    if (failed(init))
      return nullptr;
    params[p.name] =
        ParamOp::create(builder, loc(p.loc), p.name, f32(shape), *init);
  }
  if (failed(checkDefaults(m.defaults)))
    return nullptr;
  for (const nlc::ast::Level &level : m.levels)
    if (failed(genLevel(level, m.defaults)))
      return nullptr;
  for (const nlc::ast::Level &level : m.levels)
    if (failed(checkVia(level)))
      return nullptr;
  for (const nlc::ast::Transfer &t : m.transfers)
    if (failed(genTransfer(t)))
      return nullptr;
  if (m.steps.empty()) {
    error(m.loc) << "model '" << m.name
                 << "' has no step; add 'step(x) { ... return y }'";
    return nullptr;
  }
  if (m.steps.size() > 1) {
    InFlightDiagnostic diag = error(m.steps[1].loc)
                              << "a model has one step; this is the second";
    diag.attachNote(loc(m.steps[0].loc)) << "first step here";
    return nullptr;
  }
  if (failed(genStep(m.steps[0])))
    return nullptr;
  if (failed(mlir::verify(*module)))
    return nullptr;
  return module;
}

OwningOpRef<ModuleOp> nlc::lowerToNL(const ast::Model &model,
                                     MLIRContext &context,
                                     const llvm::SourceMgr &sourceMgr,
                                     ArrayRef<HyperOverride> overrides,
                                     std::vector<HyperValue> *resolved) {
  context.getOrLoadDialect<NLDialect>();
  context.getOrLoadDialect<arith::ArithDialect>();
  context.getOrLoadDialect<tensor::TensorDialect>();
  MLIRGen gen(context, sourceMgr);
  OwningOpRef<ModuleOp> module = gen.run(model, overrides);
  if (module && resolved)
    *resolved = gen.hyperValues(model);
  return module;
}
