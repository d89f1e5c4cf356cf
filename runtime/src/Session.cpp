//===- Session.cpp - Running a compiled model on streams ------------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "nlrt/Session.h"

#include "CallPlan.h"
#include "Checks.h"
#include "CudaExecutor.h"
#include "Executor.h"

#include "nlrt/Safetensors.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <new>
#include <sstream>
#include <unistd.h>

using namespace nlrt;
using namespace nlrt::detail;

namespace {

/// splitmix64: a small, portable generator, so that a seed gives the same
/// parameters on every machine and standard library.
struct Random {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double uniform() { return (next() >> 11) * (1.0 / 9007199254740992.0); }
  double normal() {
    double u1 = uniform(), u2 = uniform();
    if (u1 < 1e-300)
      u1 = 1e-300;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
};

uint64_t hashName(const std::string &name) {
  uint64_t h = 1469598103934665603ull; // FNV-1a
  for (unsigned char c : name)
    h = (h ^ c) * 1099511628211ull;
  return h;
}

int64_t outputNumel(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

} // namespace

Session::Session(const Model &model, int64_t batch, Clock clock)
    : model(model), streams(batch), timer(std::move(clock)) {}

// Out of line: Executor is incomplete in the header.
Session::~Session() = default;

void SessionTestAccess::setExecutor(Session &session,
                                    std::unique_ptr<Executor> e) {
  session.gpu = nullptr;
  session.executor = std::move(e);
}

bool nlrt::parseCheckMode(const std::string &text, CheckMode &out) {
  if (text == "off")
    out = CheckMode::Off;
  else if (text == "warn")
    out = CheckMode::Warn;
  else if (text == "error")
    out = CheckMode::Error;
  else
    return false;
  return true;
}

std::unique_ptr<Session> Session::create(const Model &model, int64_t batch,
                                         uint64_t seed, std::string *error,
                                         Device device) {
  const Manifest &m = model.manifest();
  // A model runs only where it was compiled for: the CPU calls entry points
  // of a shared library, CUDA launches kernels of a PTX image.
  if (model.isCuda() && device != Device::CUDA) {
    *error = "model '" + m.model +
             "' was compiled for target cuda; run it with --device=cuda";
    return nullptr;
  }
  if (!model.isCuda() && device == Device::CUDA) {
    *error = "model '" + m.model + "' was compiled for target " +
             model.target() +
             "; run it with --device=cpu, or compile it with --target=cuda";
    return nullptr;
  }
  if (batch < 1) {
    *error = "the batch must hold at least one stream";
    return nullptr;
  }
  // The state of `batch` streams must have a size, and fit in this
  // machine's memory (an allocation beyond it would fail late, or bring the
  // out-of-memory killer instead of an error).
  uint64_t bytes = 0;
  for (const std::vector<TensorSpec> *list : {&m.params, &m.state})
    for (const TensorSpec &t : *list) {
      uint64_t copies = list == &m.params ? 1 : static_cast<uint64_t>(batch);
      uint64_t n = static_cast<uint64_t>(t.numel) * 4;
      if (n && copies > (UINT64_MAX / 2 - bytes) / n) {
        *error = "the state of " + std::to_string(batch) +
                 " streams of model '" + m.model + "' is too large";
        return nullptr;
      }
      bytes += n * copies;
    }
  long pages = ::sysconf(_SC_PHYS_PAGES), pageSize = ::sysconf(_SC_PAGESIZE);
  if (pages > 0 && pageSize > 0 &&
      bytes > static_cast<uint64_t>(pages) * static_cast<uint64_t>(pageSize)) {
    *error = "model '" + m.model + "' needs " + std::to_string(bytes) +
             " bytes of parameters and state for " + std::to_string(batch) +
             " stream(s); this machine has " +
             std::to_string(static_cast<uint64_t>(pages) * pageSize) +
             " bytes of memory";
    return nullptr;
  }
  std::vector<LevelTiming> timings;
  for (const LevelSpec &l : m.levels)
    timings.push_back(
        {l.name, l.period == 0 ? LevelTiming::kFrozen : l.period, l.tail});
  std::optional<Clock> clock = Clock::create(timings, error);
  if (!clock)
    return nullptr;
  std::unique_ptr<Session> s(new Session(model, batch, std::move(*clock)));
  s->seed = seed;
  try {
    for (const TensorSpec &p : m.params) {
      s->params.emplace_back(p.numel);
      s->paramSet.push_back(p.init.drawn());
      s->initTensor(p, seed, s->params.back().data());
    }
    for (size_t j = 0; j < m.state.size(); ++j) {
      s->state.emplace_back(m.state[j].numel * batch);
      s->stateSet.push_back(m.state[j].init.drawn());
      s->initState(j);
    }
  } catch (const std::bad_alloc &) {
    *error = "cannot allocate the " + std::to_string(bytes) +
             " bytes of parameters and state of model '" + m.model + "' for " +
             std::to_string(batch) + " stream(s)";
    return nullptr;
  }
  s->reportedNonFinite.assign(m.state.size(), false);
  if (device == Device::CPU)
    s->executor = makeCpuExecutor(model);
  if (device == Device::CUDA) {
    std::unique_ptr<CudaExecutor> cuda =
        CudaExecutor::create(model, batch, error);
    if (!cuda)
      return nullptr;
    s->gpu = cuda.get();
    s->executor = std::move(cuda);
    for (size_t i = 0; i < s->params.size(); ++i)
      if (!s->gpu->writeParam(i, s->params[i], error))
        return nullptr;
    for (size_t j = 0; j < s->state.size(); ++j)
      if (!s->stateWritten(j, error))
        return nullptr;
  }
  return s;
}

void Session::warning(const std::string &message) const {
  if (warn)
    warn(message);
  else
    std::fprintf(stderr, "nlrt: warning: %s\n", message.c_str());
}

void Session::initState(size_t j) {
  const TensorSpec &t = model.manifest().state[j];
  std::vector<float> one(t.numel);
  if (t.init.kind == "param") {
    one = params[model.manifest().paramIndex(t.init.file)];
  } else if (t.init.kind == "file") {
    auto it = fileInits.find(t.init.file);
    if (it != fileInits.end())
      one = it->second;
  } else {
    initTensor(t, seed, one.data());
  }
  for (int64_t b = 0; b < streams; ++b)
    std::copy(one.begin(), one.end(), state[j].begin() + b * t.numel);
}

bool Session::stateWritten(size_t j, std::string *error) {
  return !gpu || gpu->writeState(j, state[j], error);
}

bool Session::syncStateToHost(std::string *error) const {
  if (gpu)
    for (size_t j = 0; j < state.size(); ++j)
      if (!gpu->readState(j, state[j], error))
        return false;
  return true;
}

void Session::initTensor(const TensorSpec &spec, uint64_t seedValue,
                         float *out) const {
  const InitSpec &init = spec.init;
  std::fill(out, out + spec.numel, 0.0f);
  if (init.kind == "ones" || init.kind == "fill") {
    std::fill(out, out + spec.numel,
              static_cast<float>(init.kind == "ones" ? 1.0 : init.value));
  } else if (init.kind == "identity") {
    int64_t n = spec.shape.back();
    int64_t rows =
        spec.shape.size() >= 2 ? spec.shape[spec.shape.size() - 2] : 1;
    for (int64_t base = 0; base < spec.numel; base += rows * n)
      for (int64_t i = 0; i < std::min(rows, n); ++i)
        out[base + i * n + i] = 1.0f;
  } else if (init.kind == "normal" || init.kind == "uniform") {
    Random rng{seedValue ^ hashName(spec.name)};
    for (int64_t i = 0; i < spec.numel; ++i)
      out[i] = static_cast<float>(init.kind == "normal"
                                      ? init.mean + init.std * rng.normal()
                                      : init.low + (init.high - init.low) *
                                                       rng.uniform());
  }
}

bool Session::loadParams(const std::string &path, std::string *error,
                         const ParamsOptions &options) {
  TensorFile file;
  if (!readSafetensors(path, file, error))
    return false;
  const Manifest &m = model.manifest();
  // Every key the model reads from a params file: the parameters', and the
  // keys `file` initializers of states name.
  struct Target {
    const TensorSpec *spec;
    bool isParam;
    size_t index;
  };
  std::map<std::string, std::vector<Target>> wanted;
  for (size_t i = 0; i < m.params.size(); ++i)
    wanted[m.params[i].paramKey()].push_back({&m.params[i], true, i});
  for (size_t j = 0; j < m.state.size(); ++j)
    if (m.state[j].init.kind == "file")
      wanted[m.state[j].init.file].push_back({&m.state[j], false, j});
  std::vector<std::string> known;
  for (const auto &[key, targets] : wanted)
    known.push_back(key);

  std::vector<std::string> missing, drawn, unknown, mismatched, nonFinite;
  for (const auto &[key, tensor] : file.tensors) {
    auto it = wanted.find(key);
    if (it == wanted.end()) {
      std::string near = nearestName(key, known);
      unknown.push_back(
          "'" + key + "'" +
          (near.empty() ? "" : " (did you mean '" + near + "'?)"));
      continue;
    }
    const TensorSpec &spec = *it->second.front().spec;
    if (tensor.dtype != DType::F32) {
      mismatched.push_back("'" + key + "' is " + tensor.storedAs + "; " +
                           spec.name +
                           " is a float tensor (F32, F64, F16 or "
                           "BF16)");
      continue;
    }
    if (tensor.shape != spec.shape) {
      mismatched.push_back(
          "'" + key + "' has shape " + shapeToString(tensor.shape) + " but " +
          (it->second.front().isParam ? "parameter '" : "state '") + spec.name +
          "' needs " + shapeToString(spec.shape));
      continue;
    }
    int64_t bad = firstNonFinite(tensor.data.data(), tensor.numel());
    if (bad >= 0)
      nonFinite.push_back("'" + key + "'" + indexText(tensor.shape, bad) +
                          " = " + nonFiniteText(tensor.data[bad]) +
                          (tensor.storedAs == "F64" ? " (as float32)" : ""));
  }
  for (const auto &[key, targets] : wanted) {
    if (file.tensors.count(key))
      continue;
    const TensorSpec &spec = *targets.front().spec;
    if (options.partial && spec.init.drawn())
      drawn.push_back(key);
    else
      missing.push_back("'" + key + "' (" + shapeToString(spec.shape) +
                        (spec.init.drawn() ? "" : ", no other initializer") +
                        ")");
  }
  if (!missing.empty() || !unknown.empty() || !mismatched.empty() ||
      !nonFinite.empty()) {
    std::string message = path + ": the parameters do not match model '" +
                          m.model + "' (nothing was loaded)";
    auto list = [&](const char *what, const std::vector<std::string> &items) {
      if (items.empty())
        return;
      message += std::string("\n  ") + what + ": ";
      for (size_t i = 0; i < items.size(); ++i)
        message += (i ? ", " : "") + items[i];
    };
    list("missing", missing);
    list("unknown", unknown);
    list("mismatched", mismatched);
    list("not finite", nonFinite);
    if (!missing.empty() && !options.partial)
      message += "\n  (see nl-run --info for every parameter; "
                 "--params-partial keeps the seed's values for those the "
                 "file does not hold)";
    *error = message;
    return false;
  }

  for (const auto &[key, tensor] : file.tensors)
    for (const Target &t : wanted[key]) {
      if (t.isParam) {
        params[t.index] = tensor.data;
        paramSet[t.index] = true;
        if (gpu && !gpu->writeParam(t.index, params[t.index], error))
          return false;
      } else {
        fileInits[key] = tensor.data;
        // Every stream starts from the same value.
        initState(t.index);
        stateSet[t.index] = true;
        if (!stateWritten(t.index, error))
          return false;
      }
    }
  // A state that starts from a parameter takes its value, wherever it came
  // from, unless the session has moved on from its initial state.
  if (!started)
    for (size_t j = 0; j < m.state.size(); ++j)
      if (m.state[j].init.kind == "param") {
        initState(j);
        if (!stateWritten(j, error))
          return false;
      }
  // A params file that --params-out wrote records its seed: states drawn
  // from another seed make a different run.
  auto seeded = file.metadata.find("nlc.seed");
  if (seeded != file.metadata.end() && seeded->second != std::to_string(seed))
    for (const TensorSpec &t : m.state)
      if (t.init.kind == "normal" || t.init.kind == "uniform") {
        warning(path + " was written by a run with seed " + seeded->second +
                "; this run draws its states (such as '" + t.name +
                "') from seed " + std::to_string(seed) +
                ": pass that seed to reproduce the run");
        break;
      }
  if (!drawn.empty()) {
    std::string names;
    for (size_t i = 0; i < drawn.size(); ++i)
      names += (i ? ", " : "") + drawn[i];
    warning(path + " holds " + std::to_string(file.tensors.size()) + " of " +
            std::to_string(wanted.size()) +
            " parameters; drawn from the seed " + std::to_string(seed) +
            " instead: " + names);
  }
  return true;
}

bool Session::saveParams(const std::string &path, std::string *error) const {
  const Manifest &m = model.manifest();
  if (!paramsComplete(error))
    return false;
  TensorFile file;
  for (size_t i = 0; i < m.params.size(); ++i) {
    Tensor t;
    t.shape = m.params[i].shape;
    t.data = params[i];
    file.tensors[m.params[i].paramKey()] = std::move(t);
  }
  for (const auto &[key, values] : fileInits) {
    Tensor t;
    for (const TensorSpec &s : m.state)
      if (s.init.kind == "file" && s.init.file == key)
        t.shape = s.shape;
    t.data = values;
    file.tensors[key] = std::move(t);
  }
  file.metadata["nlc.model"] = m.model;
  file.metadata["nlc.model_hash"] = m.modelHash;
  file.metadata["nlc.seed"] = std::to_string(seed);
  return writeSafetensors(path, file, error);
}

bool Session::paramsComplete(std::string *error) const {
  const Manifest &m = model.manifest();
  for (size_t i = 0; i < m.params.size(); ++i)
    if (!paramSet[i]) {
      *error = "parameter '" + m.params[i].name + "' is initialized from '" +
               m.params[i].init.file + "' of a params file; pass --params";
      return false;
    }
  for (size_t j = 0; j < m.state.size(); ++j)
    if (!stateSet[j]) {
      *error = "state '" + m.state[j].name + "' is initialized from '" +
               m.state[j].init.file + "' of a params file; pass --params";
      return false;
    }
  return true;
}

uint64_t Session::activeMask() const {
  uint64_t mask = 0;
  for (size_t i = 0; i < model.manifest().levels.size(); ++i)
    if (model.manifest().levels[i].period > 0 && !timer.frozen(i))
      mask |= uint64_t(1) << i;
  return mask;
}

std::vector<char> Session::chunkStarts(int64_t tokens, uint64_t active) const {
  // Tokens t .. t+C-1 of this call run as one chunk when every learning
  // level is active and either learns every token (period 1) or has a
  // period that is a multiple of C and a pending count at t that is one too
  // (so the chunk never straddles the end of its period: a level of period
  // C fires on token t+C-1, a slower one there or later); the clock is not
  // ticked yet.
  const Manifest &m = model.manifest();
  std::vector<char> starts(tokens, 0);
  int64_t c = m.chunkSize;
  if (!model.chunk() || c < 2 || tokens < c)
    return starts;
  std::vector<size_t> learning;
  for (size_t i = 0; i < m.levels.size(); ++i) {
    if (m.levels[i].infinite)
      return starts;
    int64_t period = m.levels[i].period;
    if (period == 0)
      continue;
    if ((period % c != 0 && period != 1) || !(active >> i & 1))
      return starts;
    if (period != 1)
      learning.push_back(i);
  }
  if (learning.empty()) { // every level learns every token
    for (int64_t t = 0; t + c <= tokens; t += c)
      starts[t] = 1;
    return starts;
  }
  // The chunked levels' periods are multiples of C: one phase modulo C
  // describes them all; a chunk starts where it is 0.
  int64_t phase = timer.pending(learning[0]) % c;
  for (size_t i : learning)
    if (timer.pending(i) % c != phase)
      return starts;
  for (int64_t t = (c - phase) % c; t + c <= tokens; t += c)
    starts[t] = 1;
  return starts;
}

bool Session::zeroPending(size_t level, std::string *error) {
  const Manifest &m = model.manifest();
  for (size_t j = 0; j < m.state.size(); ++j)
    if (m.state[j].level == static_cast<int>(level) &&
        (m.state[j].role == "accumulator" || m.state[j].role == "gate")) {
      if (gpu) {
        if (!gpu->zeroState(j, state[j], error))
          return false;
      } else {
        std::fill(state[j].begin(), state[j].end(), 0.0f);
      }
    }
  return true;
}

bool Session::checkCall(const float *x, int64_t tokens,
                        const std::vector<float *> &outputs,
                        std::string *error) {
  const Manifest &m = model.manifest();
  if (outputs.size() != m.outputs.size()) {
    *error = "the model has " + std::to_string(m.outputs.size()) + " output(s)";
    return false;
  }
  if (!paramsComplete(error))
    return false;
  if (tokens < 0 || (tokens > 0 && !x)) {
    *error = "a call needs tokens >= 0 and an input";
    return false;
  }
  // Every buffer of the call must have a size (the caller's hold them).
  for (size_t o = 0; o <= m.outputs.size(); ++o) {
    std::vector<int64_t> shape = {streams, tokens};
    if (o < m.outputs.size())
      shape.insert(shape.end(), m.outputs[o].begin(), m.outputs[o].end());
    else
      shape.push_back(m.dim);
    if (!checkedNumel(shape, sizeof(float))) {
      *error = "a call of " + std::to_string(tokens) + " tokens of " +
               std::to_string(streams) + " streams is too large";
      return false;
    }
  }
  // A NaN or Inf in the input would reach every level's state: refused
  // (or reported) before anything runs.
  if (checkInputs != CheckMode::Off) {
    int64_t n = streams * tokens * m.dim;
    int64_t bad = firstNonFinite(x, n);
    if (bad >= 0) {
      std::string where =
          "input [stream " + std::to_string(bad / (tokens * m.dim)) +
          ", token " + std::to_string(bad / m.dim % tokens) + ", element " +
          std::to_string(bad % m.dim) + "] is " + nonFiniteText(x[bad]);
      if (checkInputs == CheckMode::Error) {
        *error = where + " (the first non-finite input value; nothing ran)";
        return false;
      }
      warning(where + " (the first non-finite input value)");
    }
  }
  return true;
}

Session::CallMasks Session::tickCall(int64_t tokens) {
  const Manifest &m = model.manifest();
  CallMasks masks;
  masks.clockBefore = timer.saveState();
  masks.active = activeMask();
  masks.fire.assign(tokens, 0);
  for (int64_t t = 0; t < tokens; ++t)
    for (size_t i : timer.tick())
      masks.fire[t] |= uint64_t(1) << i;
  for (size_t i = 0; i < m.levels.size(); ++i)
    if (m.levels[i].tail == TailPolicy::Drop && timer.pending(i) > 0)
      masks.dropped.push_back(i);
  for (size_t i : timer.endOfCall())
    masks.flush |= uint64_t(1) << i;
  return masks;
}

bool Session::run(const float *x, int64_t tokens,
                  const std::vector<float *> &outputs, int threads,
                  std::string *error) {
  const Manifest &m = model.manifest();
  if (!checkCall(x, tokens, outputs, error))
    return false;
  started = true;
  // The clock is shared by all streams: compute the masks once. A CUDA call
  // can fail; it then leaves the clock as it found it.
  uint64_t active = activeMask();
  std::vector<char> chunkAt = chunkStarts(tokens, active);
  CallMasks masks = tickCall(tokens);

  // Which entry point runs which tokens, and on which threads (on CUDA one
  // launch runs every token of every stream; `threads` has no use there).
  CallFacts facts;
  facts.tokens = tokens;
  facts.chunkSize = m.chunkSize;
  facts.chunkStarts = std::move(chunkAt);
  facts.fire = std::move(masks.fire);
  facts.flush = masks.flush;
  facts.hasChunk = model.chunk() != nullptr;
  facts.hasHeadStep = model.headStep() != nullptr;
  facts.hasHeadChunk = model.headChunk() != nullptr;
  facts.heads = m.headSplit;
  facts.threads = threads;
  facts.streams = streams;
  CallPlan plan = planCall(std::move(facts));
  CallIO io{params, state, x, outputs, active};
  if (!executor->run(plan, io, error)) {
    // Nothing ran: the clock goes back to where it was.
    std::string ignored;
    timer.loadState(masks.clockBefore, &ignored);
    return false;
  }
  for (size_t i : masks.dropped)
    if (!zeroPending(i, error))
      return false;
  return checkAfterRun(tokens, outputs, error);
}

bool Session::backward(const float *x, int64_t tokens,
                       const std::vector<const float *> &dys,
                       const std::vector<float *> &outputs, Gradients &grads,
                       int threads, std::string *error,
                       const BackwardOptions &options) {
  const Manifest &m = model.manifest();
  if (!model.backward()) {
    *error = "model '" + m.model +
             "' has no backward entry point (compile it with nlc "
             "--backward)";
    return false;
  }
  if (gpu) {
    *error = "the backward runs on the CPU only (yet)";
    return false;
  }
  if (dys.size() != m.outputs.size()) {
    *error = "the backward takes one cotangent per output (" +
             std::to_string(m.outputs.size()) + "), got " +
             std::to_string(dys.size());
    return false;
  }
  int64_t every =
      options.checkpointEvery > 0 ? options.checkpointEvery : m.checkpointEvery;
  int64_t truncate = options.truncate >= 0 ? options.truncate : m.truncate;
  if (options.checkpointEvery < 0 || every < 1) {
    *error = "the checkpoint interval must be at least 1 token";
    return false;
  }
  if (!checkCall(x, tokens, outputs, error))
    return false;
  if (checkInputs != CheckMode::Off)
    for (size_t o = 0; o < dys.size(); ++o) {
      if (!dys[o])
        continue;
      int64_t n = streams * tokens * outputNumel(m.outputs[o]);
      int64_t bad = firstNonFinite(dys[o], n);
      if (bad < 0)
        continue;
      std::string where = "the cotangent of output " + std::to_string(o) +
                          " is " + nonFiniteText(dys[o][bad]) + " at element " +
                          std::to_string(bad);
      if (checkInputs == CheckMode::Error) {
        *error = where + " (nothing ran)";
        return false;
      }
      warning(where);
    }
  // The backward of a flush is not compiled: refuse before the clock moves.
  {
    Clock probe = timer;
    for (int64_t t = 0; t < tokens; ++t)
      probe.tick();
    std::vector<size_t> flushed = probe.endOfCall();
    if (!flushed.empty()) {
      *error = "the end of this call flushes level '" +
               m.levels[flushed[0]].name +
               "' (tail = flush), whose backward is not compiled yet; end "
               "the call on its period or give it tail = carry or drop";
      return false;
    }
  }
  started = true;
  CallMasks masks = tickCall(tokens);
  grads.params.assign(m.params.size(), {});
  for (size_t i = 0; i < m.params.size(); ++i)
    grads.params[i].assign(params[i].size(), 0.0f);
  grads.state.assign(m.state.size(), {});
  for (size_t j = 0; j < m.state.size(); ++j)
    grads.state[j].assign(state[j].size(), 0.0f);
  grads.input.assign(options.inputGrad ? streams * tokens * m.dim : 0, 0.0f);
  BackwardIO io{params,      state,
                x,           outputs,
                dys,         masks.active,
                masks.fire,  tokens,
                streams,     every,
                truncate,    grads.params,
                grads.state, options.inputGrad ? grads.input.data() : nullptr,
                threads};
  if (!executor->backward(io, error)) {
    std::string ignored;
    timer.loadState(masks.clockBefore, &ignored);
    return false;
  }
  for (size_t i : masks.dropped)
    if (!zeroPending(i, error))
      return false;
  if (!checkAfterRun(tokens, outputs, error))
    return false;
  return checkGradients(grads, error);
}

bool Session::checkGradients(const Gradients &grads, std::string *error) {
  if (checkState == CheckMode::Off)
    return true;
  const Manifest &m = model.manifest();
  std::string message;
  for (size_t i = 0; i < grads.params.size() && message.empty(); ++i) {
    int64_t bad = firstNonFinite(grads.params[i].data(),
                                 static_cast<int64_t>(grads.params[i].size()));
    if (bad >= 0)
      message = "the gradient of parameter '" + m.params[i].name + "' is " +
                nonFiniteText(grads.params[i][bad]) + " at " +
                indexText(m.params[i].shape, bad);
  }
  for (size_t j = 0; j < grads.state.size() && message.empty(); ++j) {
    int64_t numel = m.state[j].numel;
    int64_t bad = firstNonFinite(grads.state[j].data(),
                                 static_cast<int64_t>(grads.state[j].size()));
    if (bad >= 0)
      message = "the gradient of the initial state '" + m.state[j].name +
                "' is " + nonFiniteText(grads.state[j][bad]) + " in stream " +
                std::to_string(bad / numel) + " at " +
                indexText(m.state[j].shape, bad % numel);
  }
  if (message.empty())
    return true;
  if (checkState == CheckMode::Error) {
    *error = message + " (--check-state=error)";
    return false;
  }
  warning(message);
  return true;
}

bool Session::checkAfterRun(int64_t tokens, const std::vector<float *> &outputs,
                            std::string *error) {
  if (checkState == CheckMode::Off)
    return true;
  const Manifest &m = model.manifest();
  // Which output went non-finite first, and at which token.
  std::string firstOutput;
  for (size_t o = 0; o < outputs.size() && firstOutput.empty(); ++o) {
    int64_t per = outputNumel(m.outputs[o]);
    int64_t bad = firstNonFinite(outputs[o], streams * tokens * per);
    if (bad >= 0)
      firstOutput = "output " + std::to_string(o) + " is " +
                    nonFiniteText(outputs[o][bad]) + " from stream " +
                    std::to_string(bad / (tokens * per)) + ", token " +
                    std::to_string(bad / per % tokens) + " of this call";
  }
  // The states are scanned when an output went non-finite, and otherwise
  // once every kStateCheckTokens tokens of a stream: a scan costs a pass
  // over the state, as much as a step of a decode call of one token.
  tokensSinceStateCheck += tokens;
  if (firstOutput.empty() && tokensSinceStateCheck < kStateCheckTokens)
    return true;
  int64_t sinceLast = tokensSinceStateCheck;
  tokensSinceStateCheck = 0;
  if (!syncStateToHost(error))
    return false;
  // The states that went non-finite since the last scan, in level order:
  // the first is where it started (the others read it).
  std::vector<std::string> states;
  for (size_t j = 0; j < m.state.size(); ++j) {
    const TensorSpec &t = m.state[j];
    if (t.dtype != DType::F32)
      continue;
    int64_t bad = firstNonFinite(state[j].data(), streams * t.numel);
    if (bad < 0) {
      reportedNonFinite[j] = false;
      continue;
    }
    if (reportedNonFinite[j])
      continue;
    reportedNonFinite[j] = true;
    std::string level =
        t.level >= 0 ? " (level " + m.levels[t.level].name + ")" : "";
    states.push_back("'" + t.name + "'" + level + " of stream " +
                     std::to_string(bad / t.numel) + " at " +
                     indexText(t.shape, bad % t.numel));
  }
  if (states.empty() && firstOutput.empty())
    return true;
  std::string message;
  if (!states.empty()) {
    message = "state " + states[0] + " went non-finite (NaN or Inf) in the " +
              "last " + std::to_string(sinceLast) + " token(s)";
    // The first few that followed; the rest by count.
    constexpr size_t kShown = 4;
    if (states.size() > 1) {
      message += "; then";
      for (size_t i = 1; i < states.size() && i <= kShown; ++i)
        message += (i > 1 ? ", " : " ") + states[i];
      if (states.size() > kShown + 1)
        message +=
            " and " + std::to_string(states.size() - kShown - 1) + " more";
    }
  }
  if (!firstOutput.empty())
    message += (message.empty() ? "" : "; ") + firstOutput;
  if (checkState == CheckMode::Error) {
    *error = message + " (--check-state=error)";
    return false;
  }
  warning(message);
  return true;
}

namespace {
/// The tag of nlc state files (metadata "nlc.format").
constexpr char kStateFormat[] = "nlc-state/1";
} // namespace

bool Session::saveState(const std::string &path, std::string *error) const {
  const Manifest &m = model.manifest();
  if (!syncStateToHost(error))
    return false;
  TensorFile file;
  std::string nonFinite;
  for (size_t j = 0; j < m.state.size(); ++j) {
    const TensorSpec &spec = m.state[j];
    Tensor t;
    t.dtype = spec.dtype;
    t.shape.push_back(streams);
    t.shape.insert(t.shape.end(), spec.shape.begin(), spec.shape.end());
    if (spec.dtype == DType::I32) {
      t.ints.resize(state[j].size());
      for (size_t e = 0; e < state[j].size(); ++e)
        t.ints[e] = countAt(state[j], e);
    } else {
      t.data = state[j];
      if (nonFinite.empty() && checkState != CheckMode::Off &&
          firstNonFinite(t.data.data(), t.numel()) >= 0)
        nonFinite = spec.name;
    }
    file.tensors[spec.name] = std::move(t);
  }
  if (!nonFinite.empty()) {
    if (checkState == CheckMode::Error) {
      *error = path + ": not written: state '" + nonFinite +
               "' holds NaN or Inf (--check-state=error)";
      return false;
    }
    warning(path + ": the state written holds NaN or Inf (first: '" +
            nonFinite + "')");
  }
  std::ostringstream clockText;
  for (int64_t v : timer.saveState())
    clockText << v << ',';
  file.metadata["nlc.format"] = kStateFormat;
  file.metadata["nlc.model"] = m.model;
  file.metadata["nlc.model_hash"] = m.modelHash;
  file.metadata["nlc.layout"] = m.layoutJson();
  file.metadata["nlc.clock"] = clockText.str();
  return writeSafetensors(path, file, error);
}

bool Session::loadState(const std::string &path, std::string *error,
                        const StateOptions &options) {
  const Manifest &m = model.manifest();
  TensorFile file;
  if (!readSafetensors(path, file, error))
    return false;
  auto meta = [&](const char *key) -> const std::string * {
    auto it = file.metadata.find(key);
    return it == file.metadata.end() ? nullptr : &it->second;
  };
  auto fail = [&](const std::string &message) {
    *error = path + ": " + message;
    return false;
  };
  const std::string *format = meta("nlc.format");
  if (!format)
    return fail("not an nlc state file (no \"nlc.format\" in its metadata; "
                "states are written by nl-run --state-out)");
  if (*format != kStateFormat)
    return fail("state format '" + *format + "' is not '" + kStateFormat +
                "', the one this runtime reads");
  const std::string *hash = meta("nlc.model_hash");
  if (!hash || *hash != m.modelHash) {
    const std::string *name = meta("nlc.model");
    const std::string *layout = meta("nlc.layout");
    bool compatible = false;
    std::vector<std::string> changes =
        layout ? describeLayoutChange(*layout, m, compatible)
               : std::vector<std::string>{"the state records no layout"};
    std::string list;
    for (const std::string &c : changes)
      list += "\n  " + c;
    std::string what = "this state belongs to model '" +
                       (name ? *name : std::string("?")) + "' (hash " +
                       (hash ? *hash : std::string("none")) + "), not to '" +
                       m.model + "' (hash " + m.modelHash + "):" + list;
    if (!compatible)
      return fail(what + "\n  (the layouts differ: it cannot be loaded)");
    if (!options.allowModelMismatch)
      return fail(what + "\n  (the layouts match: --allow-model-mismatch "
                         "loads it anyway)");
    warning(path + ": loading a state of another build: " + what);
  }
  if (!file.checksummed)
    return fail("a state file carries a CRC-32 per tensor (nlc.crc32.<name>); "
                "this one lacks some: it was not written by nlc, or was "
                "edited without updating them");
  // Every tensor the model holds, with its shape and dtype, and no other.
  std::vector<std::vector<float>> loaded;
  std::vector<std::string> problems;
  for (size_t j = 0; j < m.state.size(); ++j) {
    const TensorSpec &spec = m.state[j];
    std::vector<int64_t> shape = {streams};
    shape.insert(shape.end(), spec.shape.begin(), spec.shape.end());
    auto it = file.tensors.find(spec.name);
    if (it == file.tensors.end()) {
      problems.push_back("state '" + spec.name + "' is missing");
      loaded.emplace_back();
      continue;
    }
    const Tensor &t = it->second;
    const char *want = spec.dtype == DType::I32 ? "I32" : "F32";
    if (t.storedAs != want) {
      problems.push_back("state '" + spec.name + "' is " + t.storedAs +
                         ", not " + want);
    } else if (t.shape != shape) {
      problems.push_back(
          "state '" + spec.name + "' is " + shapeToString(t.shape) + ", not " +
          shapeToString(shape) + " (batch " + std::to_string(streams) + ")");
    }
    if (spec.dtype == DType::I32) {
      std::vector<float> words(t.ints.size());
      for (size_t e = 0; e < t.ints.size(); ++e)
        setCount(words, e, t.ints[e]);
      loaded.push_back(std::move(words));
    } else {
      loaded.push_back(t.data);
    }
  }
  for (const auto &[name, t] : file.tensors)
    if (m.stateIndex(name) < 0)
      problems.push_back("tensor '" + name + "' is no state of model '" +
                         m.model + "'");
  if (!problems.empty()) {
    std::string message = "this state does not fit model '" + m.model + "':";
    for (const std::string &p : problems)
      message += "\n  " + p;
    return fail(message);
  }
  if (!checkCounts(m, loaded, streams, path + ": ", error))
    return false;
  if (checkState != CheckMode::Off)
    for (size_t j = 0; j < m.state.size(); ++j) {
      if (m.state[j].dtype != DType::F32)
        continue;
      int64_t bad = firstNonFinite(loaded[j].data(), loaded[j].size());
      if (bad < 0)
        continue;
      std::string what = "state '" + m.state[j].name + "' of stream " +
                         std::to_string(bad / m.state[j].numel) + " holds " +
                         nonFiniteText(loaded[j][bad]) + " at " +
                         indexText(m.state[j].shape, bad % m.state[j].numel);
      if (checkState == CheckMode::Error)
        return fail(what + " (--check-state=error)");
      warning(path + ": " + what);
      break;
    }
  // The clock: comma-separated integers, each parsed whole.
  const std::string *clockText = meta("nlc.clock");
  if (!clockText)
    return fail("no clock state (nlc.clock)");
  std::vector<int64_t> clockState;
  std::stringstream in(*clockText);
  std::string item;
  while (std::getline(in, item, ',')) {
    char *end = nullptr;
    errno = 0;
    long long v = std::strtoll(item.c_str(), &end, 10);
    if (item.empty() || errno || *end != '\0')
      return fail("the clock state holds '" + item + "', not an integer");
    clockState.push_back(v);
  }
  if (!timer.loadState(clockState, error))
    return fail("clock: " + *error);
  state = std::move(loaded);
  std::fill(stateSet.begin(), stateSet.end(), true);
  std::fill(reportedNonFinite.begin(), reportedNonFinite.end(), false);
  started = true;
  for (size_t j = 0; j < state.size(); ++j)
    if (!stateWritten(j, error))
      return false;
  return true;
}

bool Session::resetLevel(const std::string &name, std::string *error) {
  const Manifest &m = model.manifest();
  int level = m.levelIndex(name);
  if (level < 0) {
    *error = "no level '" + name + "'";
    return false;
  }
  for (size_t j = 0; j < m.state.size(); ++j)
    if (m.state[j].level == level)
      initState(j);
  timer.reset(level);
  for (size_t j = 0; j < m.state.size(); ++j)
    if (m.state[j].level == level && !stateWritten(j, error))
      return false;
  return true;
}

bool Session::freezeLevel(const std::string &name, bool frozen,
                          std::string *error) {
  int level = model.manifest().levelIndex(name);
  if (level < 0) {
    *error = "no level '" + name + "'";
    return false;
  }
  if (frozen)
    timer.freeze(level);
  else
    timer.unfreeze(level);
  return true;
}

std::vector<int32_t> Session::counts(size_t i) const {
  std::vector<int32_t> out;
  std::string ignored;
  if (model.manifest().state[i].dtype != DType::I32 ||
      (gpu && !gpu->readState(i, state[i], &ignored)))
    return out;
  for (size_t e = 0; e < state[i].size(); ++e)
    out.push_back(countAt(state[i], e));
  return out;
}

double Session::stateNorm(size_t i) const {
  // No error channel here: a failed download reads as NaN.
  std::string ignored;
  if (gpu && !gpu->readState(i, state[i], &ignored))
    return std::nan("");
  double s = 0;
  for (float v : state[i])
    s += static_cast<double>(v) * v;
  return std::sqrt(s);
}
