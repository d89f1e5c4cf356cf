//===- ManifestFuzzer.cpp - libFuzzer target for parseManifest ------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// Feeds arbitrary bytes to nlrt::parseManifest() (the manifest a compiled
// model carries, m.json or the copy embedded in the library) and checks that
// an accepted manifest is consistent, not only that nothing crashed:
//  - failures say "manifest: ...";
//  - the counts of outputs, levels, params, state and hypers are those of
//    the JSON; every field read equals the JSON's (no truncation, no
//    silently dropped or defaulted value: level indices, periods, tails,
//    infinite, init numbers, ranges);
//  - every TensorSpec has a valid shape whose product is numel; names are
//    unique (levels, params, state); level indices are -1 or a level;
//    i32 counts have [0, max] ranges and start at zeros; ring positions name
//    an i32 fill with one more slot; a state initialized from a parameter
//    names one of the same shape; parameters are f32;
//  - the entry points agree with chunk_size / head_split; head_split divides
//    every state tensor and output; a cuda model has a block size in
//    [1, 1024]; "library" gives a size >= 0 and a CRC-32;
//  - a hyper-parameter's text reads back as its value, and the layout a
//    state is saved with (layoutJson) is valid JSON that matches itself
//    (describeLayoutChange: compatible, no difference).
// Built by scripts/fuzz.sh (tools/nl-fuzz/runtime/ builds it without MLIR).
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"

#include "nlrt/Json.h"
#include "nlrt/Model.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

using namespace nlfuzz;
using nlrt::JsonValue;

namespace {

const JsonValue *member(const JsonValue &v, const char *key) {
  return v.get(key);
}

size_t countOf(const JsonValue &root, const char *key) {
  const JsonValue *v = root.get(key);
  return v ? v->size() : 0;
}

bool sameShape(const JsonValue *v, const std::vector<int64_t> &shape) {
  if (!v || !v->isArray() || v->size() != shape.size())
    return false;
  for (size_t i = 0; i < shape.size(); ++i) {
    int64_t n;
    if (!v->at(i)->asInt(n) || n != shape[i])
      return false;
  }
  return true;
}

void checkTensor(const JsonValue &json, const nlrt::TensorSpec &t,
                 const nlrt::Manifest &m, bool isParam) {
  std::string what = std::string(isParam ? "param" : "state") + " '" +
                     t.name + "': ";
  std::string name, role;
  NLFUZZ_CHECK("mf.tensor-json",
               json.get("name") && json.get("name")->asString(name) &&
                   name == t.name && json.get("role") &&
                   json.get("role")->asString(role) && role == t.role,
               what + "name or role differ from the JSON");
  NLFUZZ_CHECK("mf.shape", sameShape(member(json, "shape"), t.shape),
               what + "shape " + nlrt::shapeToString(t.shape) +
                   " differs from the JSON");
  std::optional<int64_t> numel = nlrt::checkedNumel(t.shape, 4);
  NLFUZZ_CHECK("mf.shape",
               t.shape.size() <= nlrt::kMaxRank && numel && *numel == t.numel &&
                   t.numel >= 1,
               what + "numel " + std::to_string(t.numel) + " for shape " +
                   nlrt::shapeToString(t.shape));
  for (int64_t d : t.shape)
    NLFUZZ_CHECK("mf.shape", d >= 1, what + "a dimension below 1");
  // The level index: exactly the JSON's, -1 or one of the levels.
  int64_t level = -1;
  if (const JsonValue *l = json.get("level"))
    NLFUZZ_CHECK("mf.level-json", l->asInt(level),
                 what + "a non-integer level was accepted");
  NLFUZZ_CHECK("mf.level-truncated", level == t.level,
               what + "level " + std::to_string(level) + " in the JSON, " +
                   std::to_string(t.level) + " read");
  NLFUZZ_CHECK(isParam ? "mf.level-range-param" : "mf.level-range",
               t.level >= -1 && t.level < static_cast<int64_t>(m.levels.size()),
               what + "level " + std::to_string(t.level) + " of " +
                   std::to_string(m.levels.size()) + " levels was accepted");
  // The initializer.
  const JsonValue *init = json.get("init");
  std::string kind;
  NLFUZZ_CHECK("mf.init", init && init->get("kind") &&
                              init->get("kind")->asString(kind) &&
                              kind == t.init.kind,
               what + "init kind differs from the JSON");
  // The kinds Session::initTensor() knows (Model.h); any other one would
  // silently start at zeros.
  static const std::set<std::string> kinds = {
      "zeros", "ones", "identity", "fill", "normal", "uniform", "file", "param"};
  NLFUZZ_CHECK("mf.init-kind", kinds.count(t.init.kind),
               what + "unknown init kind '" + t.init.kind + "' was accepted");
  // identity fills the diagonal of the last two dimensions.
  NLFUZZ_CHECK("mf.init-identity", t.init.kind != "identity" || !t.shape.empty(),
               what + "an identity initializer of a scalar was accepted");
  struct {
    const char *key;
    double value;
  } numbers[] = {{"value", t.init.value},
                 {"std", t.init.std},
                 {"mean", t.init.mean},
                 {"low", t.init.low},
                 {"high", t.init.high}};
  for (const auto &[key, value] : numbers) {
    const JsonValue *n = init->get(key);
    double d = 0;
    NLFUZZ_CHECK("mf.init-number", !n || n->asDouble(d),
                 what + "init '" + key + "' is not a number but was accepted");
    NLFUZZ_CHECK("mf.init-number", !n || d == value,
                 what + "init '" + key + "' differs from the JSON");
  }
  if (t.init.kind == "file" || t.init.kind == "param") {
    std::string file;
    NLFUZZ_CHECK("mf.init", init->get("name") &&
                                init->get("name")->asString(file) &&
                                file == t.init.file,
                 what + "init name differs from the JSON");
  }
  if (t.init.kind == "param") {
    int p = m.paramIndex(t.init.file);
    NLFUZZ_CHECK("mf.init-param",
                 !isParam && p >= 0 && m.params[p].shape == t.shape,
                 what + "starts from parameter '" + t.init.file +
                     "', which is not a parameter of its shape");
  }
  // dtype and range.
  std::string dtype = "f32";
  if (const JsonValue *d = json.get("dtype"))
    d->asString(dtype);
  NLFUZZ_CHECK("mf.dtype",
               (dtype == "f32" && t.dtype == nlrt::DType::F32) ||
                   (dtype == "i32" && t.dtype == nlrt::DType::I32),
               what + "dtype '" + dtype + "' read as " +
                   nlrt::dtypeName(t.dtype));
  NLFUZZ_CHECK("mf.param-f32", !isParam || t.dtype == nlrt::DType::F32,
               what + "an i32 parameter was accepted");
  if (t.dtype == nlrt::DType::I32) {
    NLFUZZ_CHECK("mf.range",
                 t.maxValue >= 0 &&
                     t.maxValue <= std::numeric_limits<int32_t>::max() &&
                     t.init.kind == "zeros",
                 what + "an i32 count without a valid range or zero start");
    const JsonValue *range = json.get("range");
    int64_t hi = -1;
    NLFUZZ_CHECK("mf.range",
                 range && range->size() == 2 && range->at(1)->asInt(hi) &&
                     hi == t.maxValue,
                 what + "range max differs from the JSON");
  }
  // Ring positions.
  std::string fill;
  if (const JsonValue *r = json.get("ring_fill"))
    r->asString(fill);
  if (isParam) {
    NLFUZZ_CHECK("mf.ring", t.ringFill == -1, what + "a ring position");
    return;
  }
  if (fill.empty()) {
    NLFUZZ_CHECK("mf.ring", t.ringFill == -1,
                 what + "a ring position without ring_fill");
  } else {
    NLFUZZ_CHECK("mf.ring",
                 t.ringFill >= 0 &&
                     t.ringFill < static_cast<int>(m.state.size()) &&
                     m.state[t.ringFill].name == fill &&
                     t.dtype == nlrt::DType::I32 &&
                     m.state[t.ringFill].dtype == nlrt::DType::I32 &&
                     m.state[t.ringFill].maxValue == t.maxValue + 1,
                 what + "ring_fill '" + fill + "' read as index " +
                     std::to_string(t.ringFill));
  }
}

void checkManifest(const std::string &text, const nlrt::Manifest &m) {
  NLFUZZ_CHECK("mf.json", m.json == text, "Manifest::json is not the input");
  std::string problem;
  std::optional<JsonValue> rootValue = nlrt::parseJson(text, &problem);
  NLFUZZ_CHECK("mf.json", rootValue && rootValue->isObject(),
               "accepted a manifest that is not a JSON object: " + problem);
  const JsonValue &root = *rootValue;
  std::string format;
  NLFUZZ_CHECK("mf.format",
               root.get("format") && root.get("format")->asString(format) &&
                   format == "nlc-model/1",
               "format '" + format + "' was accepted");

  // Counts.
  NLFUZZ_CHECK("mf.counts",
               m.outputs.size() == countOf(root, "outputs") &&
                   m.levels.size() == countOf(root, "levels") &&
                   m.params.size() == countOf(root, "params") &&
                   m.state.size() == countOf(root, "state") &&
                   m.hypers.size() == countOf(root, "hypers"),
               "counts read (outputs " + std::to_string(m.outputs.size()) +
                   ", levels " + std::to_string(m.levels.size()) +
                   ", params " + std::to_string(m.params.size()) +
                   ", state " + std::to_string(m.state.size()) +
                   ", hypers " + std::to_string(m.hypers.size()) +
                   ") differ from the JSON's");
  int64_t dim = 0;
  NLFUZZ_CHECK("mf.dim-json",
               root.get("dim") && root.get("dim")->asInt(dim) && dim == m.dim,
               "dim differs from the JSON");
  NLFUZZ_CHECK("mf.dim", m.dim >= 1,
               "dim " + std::to_string(m.dim) + " was accepted");

  // Outputs.
  for (size_t i = 0; i < m.outputs.size(); ++i) {
    const std::vector<int64_t> &o = m.outputs[i];
    NLFUZZ_CHECK("mf.output",
                 sameShape(root.get("outputs")->at(i), o) &&
                     o.size() <= nlrt::kMaxRank && nlrt::checkedNumel(o, 4) &&
                     std::all_of(o.begin(), o.end(),
                                 [](int64_t d) { return d >= 1; }),
                 "output " + std::to_string(i) + " shape " +
                     nlrt::shapeToString(o));
  }

  // Levels.
  std::set<std::string> names;
  for (size_t i = 0; i < m.levels.size(); ++i) {
    const nlrt::LevelSpec &l = m.levels[i];
    const JsonValue &json = *root.get("levels")->at(i);
    std::string what = "level '" + l.name + "': ";
    NLFUZZ_CHECK("mf.level-names", names.insert(l.name).second &&
                                       m.levelIndex(l.name) == int(i),
                 what + "the name is used by two levels");
    int64_t period = -1;
    std::string name;
    NLFUZZ_CHECK("mf.level-json",
                 json.get("name")->asString(name) && name == l.name &&
                     json.get("period")->asInt(period) && period == l.period &&
                     l.period >= 0,
                 what + "name or period differ from the JSON");
    std::string tail;
    json.get("tail")->asString(tail);
    NLFUZZ_CHECK("mf.tail", tail == "carry" || tail == "flush" || tail == "drop",
                 what + "tail '" + tail + "' was accepted (read as '" +
                     nlrt::tailPolicyName(l.tail) + "')");
    NLFUZZ_CHECK("mf.tail", tail == nlrt::tailPolicyName(l.tail),
                 what + "tail '" + tail + "' read as '" +
                     nlrt::tailPolicyName(l.tail) + "'");
    if (const JsonValue *inf = json.get("infinite")) {
      bool b = !l.infinite;
      NLFUZZ_CHECK("mf.infinite", inf->asBool(b) && b == l.infinite,
                   what + "'infinite' is not a boolean but was accepted");
    }
    std::string rule;
    if (const JsonValue *r = json.get("rule"))
      r->asString(rule);
    NLFUZZ_CHECK("mf.level-json", rule == l.rule,
                 what + "rule differs from the JSON");
  }

  // Tensors.
  for (const char *key : {"params", "state"}) {
    bool isParam = std::string(key) == "params";
    const std::vector<nlrt::TensorSpec> &list = isParam ? m.params : m.state;
    std::set<std::string> seen;
    for (size_t i = 0; i < list.size(); ++i) {
      const nlrt::TensorSpec &t = list[i];
      NLFUZZ_CHECK("mf.tensor-names",
                   seen.insert(t.name).second &&
                       (isParam ? m.paramIndex(t.name) : m.stateIndex(t.name)) ==
                           int(i),
                   std::string(key) + " '" + t.name + "' is listed twice");
      checkTensor(*root.get(key)->at(i), t, m, isParam);
    }
  }

  // Entry points.
  NLFUZZ_CHECK("mf.chunk",
               m.chunkSymbol.empty() ? m.chunkSize == 0 : m.chunkSize >= 2,
               "chunk entry '" + m.chunkSymbol + "' with chunk_size " +
                   std::to_string(m.chunkSize));
  NLFUZZ_CHECK("mf.heads",
               m.headStepSymbol.empty() ? m.headSplit == 0 : m.headSplit >= 2,
               "head step '" + m.headStepSymbol + "' with head_split " +
                   std::to_string(m.headSplit));
  NLFUZZ_CHECK("mf.heads",
               m.headChunkSymbol.empty() ||
                   (!m.headStepSymbol.empty() && !m.chunkSymbol.empty()),
               "a head chunk entry without a head step and a chunk entry");
  if (m.headSplit) {
    for (const nlrt::TensorSpec &s : m.state)
      NLFUZZ_CHECK("mf.heads", s.numel % m.headSplit == 0,
                   "state '" + s.name + "' does not split into " +
                       std::to_string(m.headSplit) + " heads");
    for (const auto &o : m.outputs)
      NLFUZZ_CHECK("mf.heads", *nlrt::checkedNumel(o) % m.headSplit == 0,
                   "an output does not split into heads");
  }

  // Target.
  NLFUZZ_CHECK("mf.target", m.target == "cpu" || m.target == "cuda",
               "target '" + m.target + "'");
  if (m.target == "cuda")
    NLFUZZ_CHECK("mf.launch",
                 m.blockSize >= 1 && m.blockSize <= 1024 && m.scratchBytes >= 0,
                 "block size " + std::to_string(m.blockSize) +
                     ", scratch bytes " + std::to_string(m.scratchBytes));

  // The library's size and checksum: absent is -1, present is a size.
  if (const JsonValue *lib = root.get("library")) {
    int64_t bytes = -2;
    std::string crc;
    NLFUZZ_CHECK("mf.library",
                 lib->get("bytes") && lib->get("bytes")->asInt(bytes) &&
                     bytes == m.libraryBytes && lib->get("crc32") &&
                     lib->get("crc32")->asString(crc) && crc.size() == 8,
                 "library differs from the JSON");
    NLFUZZ_CHECK("mf.library-size", m.libraryBytes >= 0,
                 "a library of " + std::to_string(m.libraryBytes) +
                     " bytes was accepted (-1 means: no size to check)");
    char hex[9];
    std::snprintf(hex, sizeof hex, "%08x", m.libraryCrc32);
    NLFUZZ_CHECK("mf.library", crc == hex, "crc32 " + crc + " read as " + hex);
  } else {
    NLFUZZ_CHECK("mf.library", m.libraryBytes == -1,
                 "a library size without \"library\"");
  }

  // Hyper-parameters: the text reads back as the value.
  for (size_t i = 0; i < m.hypers.size(); ++i) {
    const auto &[name, text] = m.hypers[i];
    const JsonValue::Member &h = root.get("hypers")->members()[i];
    double want = 0;
    NLFUZZ_CHECK("mf.hypers", h.first == name && h.second.asDouble(want),
                 "hyper '" + name + "' differs from the JSON");
    std::optional<JsonValue> back = nlrt::parseJson(text, nullptr);
    double got = 0;
    NLFUZZ_CHECK("mf.hypers", back && back->asDouble(got) && got == want,
                 "hyper '" + name + "' = " + text +
                     " does not read back as its value");
  }

  // The saved layout of a state matches the manifest it came from.
  std::string layout = m.layoutJson();
  NLFUZZ_CHECK("mf.layout", nlrt::parseJson(layout, &problem).has_value(),
               "layoutJson() is not valid JSON: " + problem);
  bool compatible = false;
  std::vector<std::string> changes =
      nlrt::describeLayoutChange(layout, m, compatible);
  NLFUZZ_CHECK("mf.layout", compatible && changes.size() == 1,
               "the layout does not match itself: " +
                   (changes.empty() ? std::string("(no lines)") : changes[0]));
}

void testOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  nlrt::Manifest m;
  std::string error;
  bool accepted = nlrt::parseManifest(text, m, &error);
  tell(accepted, error);
  if (!accepted) {
    NLFUZZ_CHECK("mf.error-prefix", startsWith(error, "manifest: "),
                 "error message without 'manifest: ': " + error);
    return;
  }
  checkManifest(text, m);
}

} // namespace

NLFUZZ_ENTRY_POINT(testOneInput)
