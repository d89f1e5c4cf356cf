//===- Model.cpp - A compiled model: manifest and entry points ------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "nlrt/Model.h"

#include "nlrt/Json.h"
#include "nlrt/Tensor.h"

#include "FileIO.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <dlfcn.h>
#include <elf.h>
#include <fstream>
#include <limits>
#include <sstream>
#include <type_traits>

using namespace nlrt;

int Manifest::levelIndex(const std::string &name) const {
  for (size_t i = 0; i < levels.size(); ++i)
    if (levels[i].name == name)
      return static_cast<int>(i);
  return -1;
}

int Manifest::paramIndex(const std::string &name) const {
  for (size_t i = 0; i < params.size(); ++i)
    if (params[i].name == name)
      return static_cast<int>(i);
  return -1;
}

int Manifest::stateIndex(const std::string &name) const {
  for (size_t i = 0; i < state.size(); ++i)
    if (state[i].name == name)
      return static_cast<int>(i);
  return -1;
}

std::string Manifest::layoutJson() const {
  std::string out = "{\"model\":" + quoteJson(model) +
                    ",\"dim\":" + std::to_string(dim) + ",\"hypers\":{";
  for (size_t i = 0; i < hypers.size(); ++i)
    out += (i ? "," : "") + quoteJson(hypers[i].first) + ":" + hypers[i].second;
  out += "},\"levels\":[";
  for (size_t i = 0; i < levels.size(); ++i) {
    const LevelSpec &l = levels[i];
    out += std::string(i ? "," : "") + "{\"name\":" + quoteJson(l.name) +
           ",\"period\":" + std::to_string(l.period) +
           ",\"tail\":" + quoteJson(tailPolicyName(l.tail)) +
           ",\"rule\":" + quoteJson(l.rule) + "}";
  }
  out += "],\"state\":[";
  for (size_t j = 0; j < state.size(); ++j) {
    const TensorSpec &t = state[j];
    out += std::string(j ? "," : "") + "{\"name\":" + quoteJson(t.name) +
           ",\"dtype\":\"" + (t.dtype == DType::F32 ? "f32" : "i32") +
           "\",\"shape\":[";
    for (size_t d = 0; d < t.shape.size(); ++d)
      out += (d ? "," : "") + std::to_string(t.shape[d]);
    out += "]}";
  }
  return out + "]}";
}

namespace {

bool fail(std::string *error, const std::string &message) {
  if (error)
    *error = "manifest: " + message;
  return false;
}

bool getString(const JsonValue &obj, const char *key, std::string &out,
               std::string *error) {
  const JsonValue *v = obj.get(key);
  if (!v || !v->asString(out))
    return fail(error, std::string("missing string '") + key + "'");
  return true;
}

bool getInt(const JsonValue &obj, const char *key, int64_t &out,
            std::string *error) {
  const JsonValue *v = obj.get(key);
  if (!v || !v->asInt(out))
    return fail(error, std::string("missing integer '") + key + "'");
  return true;
}

bool getShape(const JsonValue &v, std::vector<int64_t> &shape,
              std::string *error) {
  if (!v.isArray() || v.elements().size() > kMaxRank)
    return fail(error, "a shape must be an array of at most 8 integers");
  for (const JsonValue &d : v.elements()) {
    int64_t n;
    if (!d.asInt(n) || n < 1)
      return fail(error, "shape dimensions must be positive integers");
    shape.push_back(n);
  }
  return true;
}

/// A JSON number as the shortest text that reads back the same.
std::string formatNumber(const JsonValue &v) {
  int64_t i;
  if (v.asInt(i))
    return std::to_string(i);
  double d = 0;
  v.asDouble(d);
  char text[64];
  auto [end, ec] = std::to_chars(text, text + sizeof text, d);
  return std::string(text, ec == std::errc() ? end : text);
}

/// Parses one tensor entry; `ringFill` receives its "ring_fill" name.
bool parseTensor(const JsonValue &v, TensorSpec &t, std::string &ringFill,
                 std::string *error) {
  if (!v.isObject() || !getString(v, "name", t.name, error) ||
      !getString(v, "role", t.role, error) || t.name.empty())
    return fail(error, "malformed tensor entry (it needs a non-empty "
                       "\"name\" and a \"role\")");
  static const char *const roles[] = {"param", "state", "accumulator", "gate",
                                      "history"};
  if (std::find(std::begin(roles), std::end(roles), t.role) == std::end(roles))
    return fail(error,
                "tensor '" + t.name + "' has an unknown role '" + t.role + "'");
  const JsonValue *shape = v.get("shape");
  if (!shape)
    return fail(error, "tensor '" + t.name + "' has no \"shape\"");
  if (!getShape(*shape, t.shape, error))
    return false;
  std::optional<int64_t> numel = checkedNumel(t.shape, 4);
  if (!numel)
    return fail(error, "tensor '" + t.name + "' is too large");
  t.numel = *numel;
  // The owning level: checked against the levels by the caller; anything
  // beyond an int is out of range already.
  int64_t level = -1;
  if (v.get("level") && !getInt(v, "level", level, error))
    return false;
  if (level < -1 || level > 64)
    return fail(error,
                "tensor '" + t.name + "' names level " + std::to_string(level));
  t.level = static_cast<int>(level);
  const JsonValue *init = v.get("init");
  if (!init || !init->isObject() ||
      !getString(*init, "kind", t.init.kind, error))
    return fail(error, "tensor '" + t.name + "' has no initializer");
  static const char *const kinds[] = {"zeros",  "ones",    "identity", "fill",
                                      "normal", "uniform", "file",     "param"};
  if (std::find(std::begin(kinds), std::end(kinds), t.init.kind) ==
      std::end(kinds))
    return fail(error, "tensor '" + t.name + "' has an unknown initializer '" +
                           t.init.kind + "'");
  if (t.init.kind == "identity" && t.shape.empty())
    return fail(error, "tensor '" + t.name +
                           "': an identity initializer needs a matrix");
  // The numbers an initializer takes must be finite numbers.
  for (auto [key, out] :
       {std::pair<const char *, double *>{"value", &t.init.value},
        {"std", &t.init.std},
        {"mean", &t.init.mean},
        {"low", &t.init.low},
        {"high", &t.init.high}}) {
    const JsonValue *n = init->get(key);
    if (n && (!n->asDouble(*out) || !std::isfinite(*out)))
      return fail(error, "tensor '" + t.name + "': initializer field '" + key +
                             "' is not a finite number");
  }
  if (t.init.kind == "normal" && !(t.init.std > 0))
    return fail(error, "tensor '" + t.name + "': 'normal' needs std > 0");
  if (t.init.kind == "uniform" && !(t.init.low < t.init.high))
    return fail(error, "tensor '" + t.name + "': 'uniform' needs low < high");
  if ((t.init.kind == "file" || t.init.kind == "param") &&
      !getString(*init, "name", t.init.file, error))
    return false;
  std::string dtype = "f32";
  if (v.get("dtype") && !getString(v, "dtype", dtype, error))
    return false;
  if (dtype == "i32") {
    // A count the compiled code uses as an index: its range is part of the
    // contract, checked on every state the runtime accepts.
    t.dtype = DType::I32;
    const JsonValue *range = v.get("range");
    int64_t low = -1;
    if (!range || !range->isArray() || range->size() != 2 ||
        !range->elements()[0].asInt(low) || low != 0 ||
        !range->elements()[1].asInt(t.maxValue) || t.maxValue < 0 ||
        t.maxValue > std::numeric_limits<int32_t>::max())
      return fail(error, "i32 tensor '" + t.name +
                             "' needs \"range\": [0, max] with max an int32");
    if (t.init.kind != "zeros")
      return fail(error, "i32 tensor '" + t.name + "' must start at zeros");
  } else if (dtype != "f32") {
    return fail(error, "tensor '" + t.name + "' has dtype '" + dtype +
                           "' (this runtime holds f32 and i32 tensors)");
  }
  if (v.get("ring_fill") && !getString(v, "ring_fill", ringFill, error))
    return false;
  return true;
}

} // namespace

bool nlrt::parseManifest(const std::string &json, Manifest &out,
                         std::string *error) {
  std::string parseError;
  std::optional<JsonValue> root = parseJson(json, &parseError);
  if (!root)
    return fail(error, parseError);
  std::string format;
  if (!root->isObject())
    return fail(error, "not a JSON object");
  if (!getString(*root, "format", format, error))
    return false;
  if (format != "nlc-model/1")
    return fail(error, "unsupported format '" + format + "'");
  out.json = json;
  if (!getString(*root, "model", out.model, error) ||
      !getString(*root, "model_hash", out.modelHash, error) ||
      !getInt(*root, "dim", out.dim, error))
    return false;
  if (out.dim < 1)
    return fail(error, "'dim' must be a positive integer, got " +
                           std::to_string(out.dim));
  if (const JsonValue *c = root->get("compiler"))
    getString(*c, "version", out.compilerVersion, error);
  const JsonValue *entry = root->get("entry_points");
  if (!entry || !getString(*entry, "step", out.stepSymbol, error) ||
      !getString(*entry, "flush", out.flushSymbol, error))
    return fail(error, "missing entry points");
  if (entry->get("chunk")) {
    if (!getString(*entry, "chunk", out.chunkSymbol, error) ||
        !getInt(*root, "chunk_size", out.chunkSize, error))
      return false;
    if (out.chunkSize < 2)
      return fail(error, "'chunk_size' must be at least 2");
  }
  if (entry->get("head_step")) {
    if (!getString(*entry, "head_step", out.headStepSymbol, error) ||
        !getInt(*root, "head_split", out.headSplit, error))
      return false;
    if (out.headSplit < 2)
      return fail(error, "'head_split' must be at least 2");
  }
  if (entry->get("head_chunk")) {
    if (!getString(*entry, "head_chunk", out.headChunkSymbol, error))
      return false;
    if (out.headSplit < 2 || out.chunkSize < 2)
      return fail(error, "'head_chunk' needs 'head_step' and 'chunk'");
  }
  if (entry->get("backward")) {
    const JsonValue *schedule = root->get("backward");
    if (!getString(*entry, "backward", out.backwardSymbol, error))
      return false;
    if (!schedule ||
        !getInt(*schedule, "checkpoint_every", out.checkpointEvery, error) ||
        !getInt(*schedule, "truncate", out.truncate, error))
      return fail(error, "a backward entry point needs 'backward': "
                         "{\"checkpoint_every\": K, \"truncate\": H}");
    if (out.checkpointEvery < 1 || out.truncate < 0)
      return fail(error, "'backward' needs checkpoint_every >= 1 and "
                         "truncate >= 0");
  }
  if (root->get("stack_bytes") &&
      (!getInt(*root, "stack_bytes", out.stackBytes, error) ||
       out.stackBytes < 0 || out.stackBytes > (int64_t(1) << 40)))
    return fail(error, "'stack_bytes' must be an integer in [0, 2^40]");
  // The target decides how the image is loaded; manifests written before
  // targets existed are CPU ones.
  if (const JsonValue *target = root->get("target"))
    if (!target->asString(out.target))
      return fail(error, "'target' must be a string");
  if (out.target != "cpu" && out.target != "cuda")
    return fail(error, "unsupported target '" + out.target +
                           "' (this runtime runs 'cpu' and 'cuda')");
  if (out.target == "cuda") {
    const JsonValue *launch = root->get("launch");
    if (!launch || !launch->isObject() ||
        !getInt(*launch, "block_size", out.blockSize, error))
      return fail(error, "a cuda model needs \"launch\": {\"block_size\": N}");
    // 1024 threads per block is the limit of every CUDA architecture.
    if (out.blockSize < 1 || out.blockSize > 1024)
      return fail(error, "launch.block_size must be in [1, 1024], got " +
                             std::to_string(out.blockSize));
    if (const JsonValue *arch = launch->get("arch"))
      if (!arch->asString(out.arch))
        return fail(error, "launch.arch must be a string such as \"sm_90\"");
    if (launch->get("scratch_bytes") &&
        (!getInt(*launch, "scratch_bytes", out.scratchBytes, error) ||
         out.scratchBytes < 0))
      return fail(error, "launch.scratch_bytes must be a non-negative integer");
  }
  const JsonValue *outputs = root->get("outputs");
  if (!outputs || !outputs->isArray())
    return fail(error, "missing outputs");
  for (const JsonValue &o : outputs->elements()) {
    out.outputs.emplace_back();
    if (!getShape(o, out.outputs.back(), error))
      return false;
  }
  const JsonValue *levels = root->get("levels");
  if (!levels || !levels->isArray() || levels->elements().size() > 64)
    return fail(error, "missing or too many levels");
  for (const JsonValue &l : levels->elements()) {
    LevelSpec spec;
    std::string tail;
    if (!l.isObject() || !getString(l, "name", spec.name, error) ||
        !getInt(l, "period", spec.period, error) ||
        !getString(l, "tail", tail, error) || spec.period < 0 ||
        spec.name.empty())
      return fail(error, "malformed level entry");
    if (out.levelIndex(spec.name) >= 0)
      return fail(error, "level '" + spec.name + "' is listed twice");
    if (tail != "carry" && tail != "flush" && tail != "drop")
      return fail(error, "level '" + spec.name + "' has tail '" + tail +
                             "' (carry, flush or drop)");
    if (const JsonValue *inf = l.get("infinite"))
      if (!inf->asBool(spec.infinite))
        return fail(error,
                    "level '" + spec.name + "': 'infinite' is not a boolean");
    if (l.get("rule") && !getString(l, "rule", spec.rule, error))
      return false;
    spec.tail = tail == "flush"  ? TailPolicy::Flush
                : tail == "drop" ? TailPolicy::Drop
                                 : TailPolicy::Carry;
    out.levels.push_back(spec);
  }
  std::vector<std::string> ringFills;
  for (const char *key : {"params", "state"}) {
    const JsonValue *list = root->get(key);
    if (!list || !list->isArray())
      return fail(error, std::string("missing '") + key + "'");
    for (const JsonValue &t : list->elements()) {
      TensorSpec spec;
      std::string ringFill;
      if (!parseTensor(t, spec, ringFill, error))
        return false;
      bool isParam = std::string(key) == "params";
      if (!isParam)
        ringFills.push_back(ringFill);
      if ((isParam ? out.paramIndex(spec.name) : out.stateIndex(spec.name)) >=
          0)
        return fail(error, std::string(isParam ? "parameter" : "state") + " '" +
                               spec.name + "' is listed twice");
      (isParam ? out.params : out.state).push_back(std::move(spec));
    }
  }
  if (const JsonValue *hypers = root->get("hypers")) {
    if (!hypers->isObject())
      return fail(error, "'hypers' must be an object of numbers");
    for (const JsonValue::Member &h : hypers->members()) {
      double value;
      if (!h.second.asDouble(value))
        return fail(error, "hyper-parameter '" + h.first + "' is not a number");
      out.hypers.push_back({h.first, formatNumber(h.second)});
    }
  }
  // Every tensor a state tensor names, and what a tensor refers to, exists.
  for (TensorSpec &t : out.state) {
    if (t.init.kind == "param" && out.paramIndex(t.init.file) < 0)
      return fail(error, "state '" + t.name + "' starts from parameter '" +
                             t.init.file + "', which the model does not have");
    if (t.init.kind == "param" &&
        out.params[out.paramIndex(t.init.file)].shape != t.shape)
      return fail(error, "state '" + t.name + "' and parameter '" +
                             t.init.file + "' differ in shape");
    if (t.level >= static_cast<int>(out.levels.size()))
      return fail(error, "tensor '" + t.name + "' names level " +
                             std::to_string(t.level) + " of " +
                             std::to_string(out.levels.size()));
  }
  for (TensorSpec &t : out.params)
    if (t.dtype != DType::F32 || t.init.kind == "param" || t.level != -1 ||
        t.role != "param")
      return fail(error, "parameter '" + t.name +
                             "' must be an f32 param of no level, with its "
                             "own initializer");
  for (TensorSpec &t : out.state)
    if (t.role == "param")
      return fail(error, "state '" + t.name + "' has the role 'param'");
  for (size_t j = 0; j < out.state.size(); ++j) {
    if (ringFills[j].empty())
      continue;
    TensorSpec &t = out.state[j];
    t.ringFill = out.stateIndex(ringFills[j]);
    if (t.dtype != DType::I32 || t.ringFill < 0 ||
        out.state[t.ringFill].dtype != DType::I32 ||
        out.state[t.ringFill].maxValue != t.maxValue + 1)
      return fail(error, "ring position '" + t.name +
                             "' needs an i32 fill count of one more slot");
  }
  if (const JsonValue *library = root->get("library")) {
    std::string crc;
    if (!library->isObject() ||
        !getInt(*library, "bytes", out.libraryBytes, error) ||
        out.libraryBytes < 0 || !getString(*library, "crc32", crc, error) ||
        crc.size() != 8 ||
        crc.find_first_not_of("0123456789abcdef") != std::string::npos)
      return fail(
          error,
          "'library' must be {\"bytes\": N, \"crc32\": \"8 hex digits\"}");
    out.libraryCrc32 = static_cast<uint32_t>(std::stoul(crc, nullptr, 16));
  }
  // The head step runs on the h-th slice of every state tensor and output.
  if (out.headSplit) {
    for (const TensorSpec &s : out.state)
      if (s.numel % out.headSplit)
        return fail(error, "state '" + s.name + "' does not split into " +
                               std::to_string(out.headSplit) + " heads");
    for (const auto &o : out.outputs) {
      std::optional<int64_t> n = checkedNumel(o, 4);
      if (!n || *n % out.headSplit)
        return fail(error, "an output does not split into " +
                               std::to_string(out.headSplit) + " heads");
    }
  }
  return true;
}

std::vector<std::string>
nlrt::describeLayoutChange(const std::string &savedLayout,
                           const Manifest &current, bool &compatible) {
  compatible = false;
  std::vector<std::string> changes;
  std::optional<JsonValue> saved = parseJson(savedLayout, nullptr);
  std::optional<JsonValue> here = parseJson(current.layoutJson(), nullptr);
  if (!saved || !saved->isObject() || !here) {
    changes.push_back("the state does not describe its layout");
    return changes;
  }
  auto text = [](const JsonValue *v) {
    if (!v)
      return std::string("(none)");
    std::string s;
    if (v->asString(s))
      return s;
    if (v->isNumber())
      return formatNumber(*v);
    return std::string("?");
  };
  auto differ = [&](const std::string &what, const JsonValue *a,
                    const JsonValue *b) {
    if (text(a) != text(b))
      changes.push_back(what + ": " + text(a) + " in the state, " + text(b) +
                        " here");
  };
  differ("model", saved->get("model"), here->get("model"));
  differ("dim", saved->get("dim"), here->get("dim"));
  // Members of an object (hypers) or entries of an array of named objects
  // (levels, state), by name.
  auto byName = [](const JsonValue *list) {
    std::vector<std::pair<std::string, const JsonValue *>> out;
    if (list && list->isObject())
      for (const JsonValue::Member &m : list->members())
        out.push_back({m.first, &m.second});
    if (list && list->isArray())
      for (const JsonValue &e : list->elements()) {
        std::string name;
        if (const JsonValue *n = e.get("name"); n && n->asString(name))
          out.push_back({name, &e});
      }
    return out;
  };
  auto find = [](const auto &list, const std::string &name) {
    for (const auto &[n, v] : list)
      if (n == name)
        return v;
    return static_cast<const JsonValue *>(nullptr);
  };
  bool layoutsMatch = text(saved->get("dim")) == text(here->get("dim"));
  for (const char *group : {"hypers", "levels", "state"}) {
    auto before = byName(saved->get(group)), after = byName(here->get(group));
    std::string kind = std::string(group) == "hypers"   ? "hyper-parameter"
                       : std::string(group) == "levels" ? "level"
                                                        : "state tensor";
    for (const auto &[name, v] : before)
      if (!find(after, name)) {
        changes.push_back(kind + " '" + name + "' is in the state only");
        layoutsMatch &= kind == "hyper-parameter";
      }
    for (const auto &[name, v] : after) {
      const JsonValue *old = find(before, name);
      if (!old) {
        changes.push_back(kind + " '" + name + "' is new here");
        layoutsMatch &= kind == "hyper-parameter";
        continue;
      }
      if (kind == "hyper-parameter") {
        differ("hyper " + name, old, v);
        continue;
      }
      std::vector<const char *> fields =
          kind == "level" ? std::vector<const char *>{"period", "tail", "rule"}
                          : std::vector<const char *>{"dtype", "shape"};
      for (const char *field : fields) {
        const JsonValue *a = old->get(field), *b = v->get(field);
        std::string ta = text(a), tb = text(b);
        if (std::string(field) == "shape") {
          std::vector<int64_t> sa, sb;
          for (const JsonValue *x : {a, b}) {
            auto &out = x == a ? sa : sb;
            if (x && x->isArray())
              for (const JsonValue &d : x->elements()) {
                int64_t n = -1;
                d.asInt(n);
                out.push_back(n);
              }
          }
          ta = shapeToString(sa);
          tb = shapeToString(sb);
        }
        if (ta == tb)
          continue;
        changes.push_back(kind + " '" + name + "' " + field + ": " + ta +
                          " in the state, " + tb + " here");
        // A rule or tail may change what the state means but not its
        // layout; a period changes the clock.
        layoutsMatch &=
            std::string(field) != "period" && (kind != "state tensor");
      }
    }
  }
  if (changes.empty())
    changes.push_back("no difference in dims, hyper-parameters, levels or "
                      "state layout (the step's code differs)");
  compatible = layoutsMatch;
  return changes;
}

namespace {

/// Reads a whole file; false if it cannot be read.
bool readWhole(const std::string &path, std::string &out) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  std::stringstream text;
  text << in.rdbuf();
  out = text.str();
  return !in.bad();
}

/// Checks that `bytes` hold a complete ELF shared object: every segment and
/// table the headers describe lies inside the file. dlopen maps a library
/// without such checks, and touching a page past the end of a truncated
/// file kills the process with SIGBUS.
bool checkElf(const std::string &bytes, std::string &problem) {
  uint64_t size = bytes.size();
  if (size < sizeof(Elf64_Ehdr) || std::memcmp(bytes.data(), ELFMAG, SELFMAG))
    return problem = "not an ELF file", false;
  Elf64_Ehdr header;
  std::memcpy(&header, bytes.data(), sizeof header);
  if (header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_type != ET_DYN)
    return problem = "not a 64-bit ELF shared object", false;
  auto inside = [&](uint64_t offset, uint64_t count, uint64_t each) {
    return each == 0 || count == 0 ||
           (offset <= size && count <= (size - offset) / each);
  };
  if (header.e_phentsize != sizeof(Elf64_Phdr) ||
      !inside(header.e_phoff, header.e_phnum, header.e_phentsize) ||
      !inside(header.e_shoff, header.e_shnum, header.e_shentsize))
    return problem = "its ELF headers point past the end of the file "
                     "(truncated)",
           false;
  for (uint16_t i = 0; i < header.e_phnum; ++i) {
    Elf64_Phdr segment;
    std::memcpy(&segment, bytes.data() + header.e_phoff + i * sizeof segment,
                sizeof segment);
    if (segment.p_filesz && !inside(segment.p_offset, segment.p_filesz, 1))
      return problem = "segment " + std::to_string(i) + " ends at byte " +
                       std::to_string(segment.p_offset + segment.p_filesz) +
                       " of a " + std::to_string(size) +
                       "-byte file (truncated)",
             false;
  }
  return true;
}

} // namespace

/// The checks of a compiled file before anything uses it: the size and
/// CRC-32 its .json records (when `info` is its parsed .json), and for a
/// library, a complete ELF file.
static bool checkModelBytes(const std::string &libraryPath,
                            const std::string &bytes, const Manifest *info,
                            const std::string &manifestPath,
                            std::string *error) {
  if (info && info->libraryBytes >= 0) {
    uint32_t crc = detail::crc32Of(bytes.data(), bytes.size());
    if (static_cast<int64_t>(bytes.size()) != info->libraryBytes ||
        crc != info->libraryCrc32) {
      char want[9], got[9];
      std::snprintf(want, sizeof want, "%08x", info->libraryCrc32);
      std::snprintf(got, sizeof got, "%08x", crc);
      *error = "'" + libraryPath + "' is not the file its manifest '" +
               manifestPath + "' describes (" + std::to_string(bytes.size()) +
               " bytes, CRC-32 " + got + "; the manifest says " +
               std::to_string(info->libraryBytes) + " bytes, " + want +
               "): it is damaged or from another build; compile it again";
      return false;
    }
  }
  if (info && info->target == "cuda") {
    if (bytes.empty()) {
      *error = "the CUDA image '" + libraryPath + "' is empty";
      return false;
    }
    return true;
  }
  std::string problem;
  if (!checkElf(bytes, problem)) {
    bool elf = bytes.compare(0, SELFMAG, ELFMAG) == 0;
    *error = "cannot load '" + libraryPath + "': " + problem +
             (info || elf ? ""
                          : " (a CUDA image needs its manifest '" +
                                manifestPath + "')");
    return false;
  }
  return true;
}

std::string nlrt::manifestPathFor(const std::string &libraryPath) {
  std::string manifestPath = libraryPath;
  size_t dot = manifestPath.rfind('.');
  size_t slash = manifestPath.rfind('/');
  if (dot != std::string::npos && (slash == std::string::npos || dot > slash))
    manifestPath.resize(dot);
  return manifestPath + ".json";
}

bool nlrt::verifyModelFile(const std::string &libraryPath, std::string *error) {
  std::string manifestPath = manifestPathFor(libraryPath), text, bytes;
  Manifest info;
  bool haveJson = readWhole(manifestPath, text);
  if (haveJson && !parseManifest(text, info, error)) {
    *error = manifestPath + ": " + *error;
    return false;
  }
  if (!readWhole(libraryPath, bytes)) {
    *error = "cannot read the model '" + libraryPath + "'";
    return false;
  }
  return checkModelBytes(libraryPath, bytes, haveJson ? &info : nullptr,
                         manifestPath, error);
}

std::unique_ptr<Model> Model::load(const std::string &libraryPath,
                                   std::string *error) {
  std::string manifestPath = manifestPathFor(libraryPath);
  std::unique_ptr<Model> model(new Model());
  model->file = libraryPath;
  // The .json next to the library, when there is one; a CPU library also
  // embeds its manifest, read below when there is no .json.
  std::string text;
  bool haveJson = readWhole(manifestPath, text);
  if (haveJson && !parseManifest(text, model->info, error)) {
    *error = manifestPath + ": " + *error;
    return nullptr;
  }
  std::string bytes;
  if (!readWhole(libraryPath, bytes)) {
    *error =
        "cannot read the model '" + libraryPath + "': " + std::strerror(errno);
    return nullptr;
  }
  if (!checkModelBytes(libraryPath, bytes, haveJson ? &model->info : nullptr,
                       manifestPath, error))
    return nullptr;
  if (haveJson && model->info.target == "cuda") {
    // A GPU image is data for the driver's loader (PTX is JIT-compiled when a
    // CUDA session loads it), so nothing is resolved here: a machine without
    // a GPU can still load the model, print its manifest and say why it
    // cannot run it.
    model->bytes = std::move(bytes);
    return model;
  }
  bytes.clear();
  // A bare name ("m.so") means the file here, not a search of the library
  // path, which is what dlopen would do with it.
  std::string file = libraryPath.find('/') == std::string::npos
                         ? "./" + libraryPath
                         : libraryPath;
  model->handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!model->handle) {
    const char *why = dlerror();
    *error = "cannot load '" + libraryPath + "': " + (why ? why : "unknown");
    return nullptr;
  }
  const char *embedded =
      static_cast<const char *>(dlsym(model->handle, kEmbeddedManifestSymbol));
  if (!haveJson) {
    if (!embedded) {
      *error = "'" + libraryPath + "' has no manifest: neither '" +
               manifestPath + "' nor one embedded in the library (" +
               kEmbeddedManifestSymbol + ")";
      return nullptr;
    }
    if (!parseManifest(embedded, model->info, error)) {
      *error = libraryPath + " (embedded manifest): " + *error;
      return nullptr;
    }
  } else if (embedded) {
    // A .json of another build next to this library would describe other
    // code: the two must name the same model.
    Manifest inside;
    std::string ignored;
    if (parseManifest(embedded, inside, &ignored) &&
        inside.modelHash != model->info.modelHash) {
      *error = "'" + manifestPath + "' describes model hash " +
               model->info.modelHash + " but '" + libraryPath +
               "' was compiled from model hash " + inside.modelHash +
               " (a stale manifest; compile the model again)";
      return nullptr;
    }
  }
  if (model->info.target != "cpu") {
    *error = "'" + libraryPath +
             "' is a shared library but its manifest "
             "says target " +
             model->info.target;
    return nullptr;
  }
  model->stepFn = reinterpret_cast<StepFn>(
      dlsym(model->handle, model->info.stepSymbol.c_str()));
  model->flushFn = reinterpret_cast<FlushFn>(
      dlsym(model->handle, model->info.flushSymbol.c_str()));
  // The optional entry points the manifest names must be there.
  auto resolve = [&](const std::string &symbol, auto &fn) {
    if (symbol.empty())
      return true;
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(
        dlsym(model->handle, symbol.c_str()));
    if (fn)
      return true;
    *error = "'" + libraryPath + "' does not export " + symbol +
             ", which its manifest names";
    return false;
  };
  if (!resolve(model->info.chunkSymbol, model->chunkFn) ||
      !resolve(model->info.headStepSymbol, model->headStepFn) ||
      !resolve(model->info.headChunkSymbol, model->headChunkFn) ||
      !resolve(model->info.backwardSymbol, model->backwardFn))
    return nullptr;
  // A model compiled with threads links libomp; its team size is set per
  // calling thread (absent: a single-threaded model).
  model->setThreadsFn = reinterpret_cast<SetThreadsFn>(
      dlsym(model->handle, "omp_set_num_threads"));
  if (!model->stepFn || !model->flushFn) {
    *error = "'" + libraryPath + "' does not export " + model->info.stepSymbol +
             " and " + model->info.flushSymbol;
    return nullptr;
  }
  return model;
}

Model::~Model() {
  if (handle)
    dlclose(handle);
}
