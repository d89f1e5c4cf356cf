//===- Model.cpp - A compiled model: manifest and entry points ------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "nlrt/Model.h"

#include "nlrt/Json.h"
#include "nlrt/Tensor.h"

#include <dlfcn.h>
#include <fstream>
#include <sstream>
#include <type_traits>

using namespace nlrt;

int Manifest::levelIndex(const std::string &name) const {
  for (size_t i = 0; i < levels.size(); ++i)
    if (levels[i].name == name)
      return static_cast<int>(i);
  return -1;
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

bool parseTensor(const JsonValue &v, TensorSpec &t, std::string *error) {
  if (!v.isObject() || !getString(v, "name", t.name, error) ||
      !getString(v, "role", t.role, error))
    return fail(error, "malformed tensor entry");
  const JsonValue *shape = v.get("shape");
  if (!shape || !getShape(*shape, t.shape, error))
    return false;
  std::optional<int64_t> numel = checkedNumel(t.shape, 4);
  if (!numel)
    return fail(error, "tensor '" + t.name + "' is too large");
  t.numel = *numel;
  int64_t level = -1;
  if (v.get("level") && !getInt(v, "level", level, error))
    return false;
  t.level = static_cast<int>(level);
  const JsonValue *init = v.get("init");
  if (!init || !getString(*init, "kind", t.init.kind, error))
    return fail(error, "tensor '" + t.name + "' has no initializer");
  auto number = [&](const char *key, double &out) {
    if (const JsonValue *n = init->get(key))
      n->asDouble(out);
  };
  number("value", t.init.value);
  number("std", t.init.std);
  number("mean", t.init.mean);
  number("low", t.init.low);
  number("high", t.init.high);
  if (t.init.kind == "file" && !getString(*init, "name", t.init.file, error))
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
  if (!root->isObject() || !getString(*root, "format", format, error))
    return false;
  if (format != "nlc-model/1")
    return fail(error, "unsupported format '" + format + "'");
  out.json = json;
  if (!getString(*root, "model", out.model, error) ||
      !getString(*root, "model_hash", out.modelHash, error) ||
      !getInt(*root, "dim", out.dim, error))
    return false;
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
    if (!getString(l, "name", spec.name, error) ||
        !getInt(l, "period", spec.period, error) ||
        !getString(l, "tail", tail, error) || spec.period < 0)
      return fail(error, "malformed level entry");
    if (const JsonValue *inf = l.get("infinite"))
      inf->asBool(spec.infinite);
    spec.tail = tail == "flush"  ? TailPolicy::Flush
                : tail == "drop" ? TailPolicy::Drop
                                 : TailPolicy::Carry;
    out.levels.push_back(spec);
  }
  for (const char *key : {"params", "state"}) {
    const JsonValue *list = root->get(key);
    if (!list || !list->isArray())
      return fail(error, std::string("missing '") + key + "'");
    for (const JsonValue &t : list->elements()) {
      TensorSpec spec;
      if (!parseTensor(t, spec, error))
        return false;
      (std::string(key) == "params" ? out.params : out.state)
          .push_back(std::move(spec));
    }
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

std::unique_ptr<Model> Model::load(const std::string &libraryPath,
                                   std::string *error) {
  std::string manifestPath = libraryPath;
  size_t dot = manifestPath.rfind('.');
  size_t slash = manifestPath.rfind('/');
  if (dot != std::string::npos && (slash == std::string::npos || dot > slash))
    manifestPath.resize(dot);
  manifestPath += ".json";
  std::ifstream in(manifestPath, std::ios::binary);
  if (!in) {
    *error = "cannot read the manifest '" + manifestPath + "'";
    return nullptr;
  }
  std::stringstream text;
  text << in.rdbuf();

  std::unique_ptr<Model> model(new Model());
  if (!parseManifest(text.str(), model->info, error)) {
    *error = manifestPath + ": " + *error;
    return nullptr;
  }
  model->file = libraryPath;
  if (model->info.target == "cuda") {
    // A GPU image is data for the driver's loader (PTX is JIT-compiled when a
    // CUDA session loads it), so nothing is resolved here: a machine without
    // a GPU can still load the model, print its manifest and say why it
    // cannot run it.
    std::ifstream image(libraryPath, std::ios::binary);
    if (!image) {
      *error = "cannot read the CUDA image '" + libraryPath + "'";
      return nullptr;
    }
    std::stringstream imageBytes;
    imageBytes << image.rdbuf();
    model->bytes = imageBytes.str();
    if (model->bytes.empty()) {
      *error = "the CUDA image '" + libraryPath + "' is empty";
      return nullptr;
    }
    return model;
  }
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
      !resolve(model->info.headChunkSymbol, model->headChunkFn))
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
