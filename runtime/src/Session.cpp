//===- Session.cpp - Running a compiled model on streams ------------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "nlrt/Session.h"

#include "CudaExecutor.h"

#include "nlrt/Safetensors.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>
#include <thread>

using namespace nlrt;

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

// Out of line: CudaExecutor is incomplete in the header.
Session::~Session() = default;

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
  std::vector<LevelTiming> timings;
  for (const LevelSpec &l : m.levels)
    timings.push_back(
        {l.name, l.period == 0 ? LevelTiming::kFrozen : l.period, l.tail});
  std::optional<Clock> clock = Clock::create(timings, error);
  if (!clock)
    return nullptr;
  std::unique_ptr<Session> s(new Session(model, batch, std::move(*clock)));
  s->seed = seed;
  for (const TensorSpec &p : m.params) {
    s->params.emplace_back(p.numel);
    s->paramSet.push_back(p.init.kind != "file");
    s->initTensor(p, seed, s->params.back().data());
  }
  for (const TensorSpec &t : m.state) {
    std::vector<float> one(t.numel);
    s->initTensor(t, seed, one.data());
    std::vector<float> all(t.numel * batch);
    for (int64_t b = 0; b < batch; ++b)
      std::copy(one.begin(), one.end(), all.begin() + b * t.numel);
    s->state.push_back(std::move(all));
    s->stateSet.push_back(t.init.kind != "file");
  }
  if (device == Device::CUDA) {
    s->gpu = CudaExecutor::create(model, batch, error);
    if (!s->gpu)
      return nullptr;
    for (size_t i = 0; i < s->params.size(); ++i)
      if (!s->gpu->writeParam(i, s->params[i], error))
        return nullptr;
    for (size_t j = 0; j < s->state.size(); ++j)
      if (!s->stateWritten(j, error))
        return nullptr;
  }
  return s;
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

bool Session::loadParams(const std::string &path, std::string *error) {
  TensorFile file;
  if (!readSafetensors(path, file, error))
    return false;
  const Manifest &m = model.manifest();
  for (size_t i = 0; i < m.params.size(); ++i) {
    const TensorSpec &p = m.params[i];
    std::string key = p.init.kind == "file" ? p.init.file : p.name;
    auto it = file.tensors.find(key);
    if (it == file.tensors.end())
      it = file.tensors.find(p.name);
    if (it == file.tensors.end())
      continue;
    if (it->second.shape != p.shape) {
      *error = path + ": tensor '" + it->first + "' has shape " +
               shapeToString(it->second.shape) + " but parameter '" + p.name +
               "' needs " + shapeToString(p.shape);
      return false;
    }
    params[i] = it->second.data;
    paramSet[i] = true;
    if (gpu && !gpu->writeParam(i, params[i], error))
      return false;
  }
  // States may start from the file too (e.g. a weight served by optimizer
  // levels); every stream starts from the same value.
  for (size_t j = 0; j < m.state.size(); ++j) {
    const TensorSpec &s = m.state[j];
    if (s.init.kind != "file")
      continue;
    auto it = file.tensors.find(s.init.file);
    if (it == file.tensors.end())
      continue;
    if (it->second.shape != s.shape) {
      *error = path + ": tensor '" + it->first + "' has shape " +
               shapeToString(it->second.shape) + " but state '" + s.name +
               "' needs " + shapeToString(s.shape);
      return false;
    }
    for (int64_t b = 0; b < streams; ++b)
      std::copy(it->second.data.begin(), it->second.data.end(),
                state[j].begin() + b * s.numel);
    stateSet[j] = true;
    if (!stateWritten(j, error))
      return false;
  }
  return paramsComplete(error);
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

namespace {
/// Runs work(begin, end) on `parts` threads (this one included) over
/// ranges that split [0, items) evenly.
template <typename Work>
void splitOverThreads(int64_t items, int64_t parts, const Work &work) {
  std::vector<std::thread> helpers;
  for (int64_t w = 1; w < parts; ++w)
    helpers.emplace_back(work, items * w / parts, items * (w + 1) / parts);
  work(0, items / parts);
  for (std::thread &th : helpers)
    th.join();
}
} // namespace

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

bool Session::run(const float *x, int64_t tokens,
                  const std::vector<float *> &outputs, int threads,
                  std::string *error) {
  const Manifest &m = model.manifest();
  if (outputs.size() != m.outputs.size()) {
    *error = "the model has " + std::to_string(m.outputs.size()) + " output(s)";
    return false;
  }
  if (!paramsComplete(error))
    return false;
  // The clock is shared by all streams: compute the masks once. A CUDA call
  // can fail; it then leaves the clock as it found it.
  std::vector<int64_t> clockBefore = timer.saveState();
  uint64_t active = activeMask();
  std::vector<char> chunkAt = chunkStarts(tokens, active);
  std::vector<uint64_t> fire(tokens);
  for (int64_t t = 0; t < tokens; ++t)
    for (size_t i : timer.tick())
      fire[t] |= uint64_t(1) << i;
  std::vector<size_t> dropped;
  for (size_t i = 0; i < m.levels.size(); ++i)
    if (m.levels[i].tail == TailPolicy::Drop && timer.pending(i) > 0)
      dropped.push_back(i);
  uint64_t flush = 0;
  for (size_t i : timer.endOfCall())
    flush |= uint64_t(1) << i;

  if (gpu) {
    // One launch runs every token of every stream; `threads` has no use.
    if (!gpu->run(params, state, x, tokens, outputs, active, fire, flush,
                  error)) {
      std::string ignored;
      timer.loadState(clockBefore, &ignored);
      return false;
    }
    for (size_t i : dropped)
      if (!zeroPending(i, error))
        return false;
    return true;
  }

  std::vector<const float *> paramPtrs;
  for (const auto &p : params)
    paramPtrs.push_back(p.data());
  std::vector<int64_t> outNumel;
  for (const auto &o : m.outputs)
    outNumel.push_back(outputNumel(o));

  int64_t workers = std::max<int64_t>(1, std::min<int64_t>(threads, streams));
  // Threads left over once every worker has a stream form each worker's
  // team for the parallel loops inside a step (B = 1 uses them all).
  int team = static_cast<int>(std::max<int64_t>(1, threads / workers));
  // With a step of one head (nl-split-heads), a stream's team splits its
  // heads instead: each thread a range of heads over a run of per-token
  // steps, so that a head's state stays in one core's cache and the
  // threads meet once per run, not once per token. Runs shorter than
  // kMinHeadRun tokens do not pay for starting the threads.
  constexpr int64_t kMinHeadRun = 16;
  int64_t heads = m.headSplit;
  int headTeam =
      model.headStep() ? static_cast<int>(std::min<int64_t>(team, heads)) : 1;
  // The chunk entry gets the levels that fire on any of its tokens (a
  // slower level's on the last one).
  auto chunkFires = [&](int64_t t) {
    uint64_t fires = 0;
    for (int64_t s = t; s < t + m.chunkSize; ++s)
      fires |= fire[s];
    return fires;
  };
  auto runHeads = [&](int64_t b, int64_t begin, int64_t end) {
    auto work = [&](int64_t h0, int64_t h1) {
      if (model.setThreads())
        model.setThreads()(1);
      std::vector<float *> statePtrs(state.size());
      std::vector<float *> outPtrs(outputs.size());
      // A head's chunk writes its outputs as [C, numel / heads] rows, which
      // are then put in place among the other heads'.
      std::vector<std::vector<float>> chunkOut(outputs.size());
      for (size_t o = 0; o < outputs.size(); ++o)
        chunkOut[o].resize(model.headChunk() ? m.chunkSize * outNumel[o] / heads
                                             : 0);
      for (int64_t h = h0; h < h1; ++h) {
        for (size_t j = 0; j < state.size(); ++j)
          statePtrs[j] = state[j].data() + b * m.state[j].numel +
                         h * (m.state[j].numel / heads);
        for (int64_t t = begin; t < end;) {
          const float *xt = x + (b * tokens + t) * m.dim;
          if (model.headChunk() && chunkAt[t]) {
            for (size_t o = 0; o < outputs.size(); ++o)
              outPtrs[o] = chunkOut[o].data();
            model.headChunk()(paramPtrs.data(), statePtrs.data(), xt,
                              outPtrs.data(), active, chunkFires(t), h);
            for (size_t o = 0; o < outputs.size(); ++o) {
              int64_t per = outNumel[o] / heads;
              for (int64_t s = 0; s < m.chunkSize; ++s)
                std::copy_n(chunkOut[o].data() + s * per, per,
                            outputs[o] + (b * tokens + t + s) * outNumel[o] +
                                h * per);
            }
            t += m.chunkSize;
            continue;
          }
          for (size_t o = 0; o < outputs.size(); ++o)
            outPtrs[o] = outputs[o] + (b * tokens + t) * outNumel[o] +
                         h * (outNumel[o] / heads);
          model.headStep()(paramPtrs.data(), statePtrs.data(), xt,
                           outPtrs.data(), active, fire[t], h);
          ++t;
        }
      }
    };
    splitOverThreads(heads, headTeam, work);
  };
  auto runStreams = [&](int64_t begin, int64_t end) {
    if (model.setThreads())
      model.setThreads()(team);
    std::vector<float *> statePtrs(state.size());
    std::vector<float *> outPtrs(outputs.size());
    for (int64_t b = begin; b < end; ++b) {
      for (size_t j = 0; j < state.size(); ++j)
        statePtrs[j] = state[j].data() + b * m.state[j].numel;
      // With a chunk entry of one head, the whole call runs head by head:
      // each thread its heads' chunks and other tokens.
      if (model.headChunk() && headTeam > 1) {
        runHeads(b, 0, tokens);
        if (model.setThreads())
          model.setThreads()(team);
        if (flush)
          model.flush()(paramPtrs.data(), statePtrs.data(), flush);
        continue;
      }
      for (int64_t t = 0; t < tokens;) {
        // A whole chunk of every learning level runs in one call of the
        // chunk entry; a long enough run of other tokens runs head by head
        // when the stream has threads for it; any other token runs the
        // step.
        int64_t run = 0;
        while (!chunkAt[t] && headTeam > 1 && t + run < tokens &&
               !chunkAt[t + run])
          ++run;
        if (run >= kMinHeadRun) {
          runHeads(b, t, t + run);
          if (model.setThreads())
            model.setThreads()(team);
          t += run;
          continue;
        }
        for (size_t o = 0; o < outputs.size(); ++o)
          outPtrs[o] = outputs[o] + (b * tokens + t) * outNumel[o];
        StepFn fn = chunkAt[t] ? model.chunk() : model.step();
        fn(paramPtrs.data(), statePtrs.data(), x + (b * tokens + t) * m.dim,
           outPtrs.data(), active, chunkAt[t] ? chunkFires(t) : fire[t]);
        t += chunkAt[t] ? m.chunkSize : 1;
      }
      if (flush)
        model.flush()(paramPtrs.data(), statePtrs.data(), flush);
    }
  };
  splitOverThreads(streams, workers, runStreams);
  for (size_t i : dropped)
    zeroPending(i, error);
  return true;
}

bool Session::saveState(const std::string &path, std::string *error) const {
  const Manifest &m = model.manifest();
  if (!syncStateToHost(error))
    return false;
  TensorFile file;
  for (size_t j = 0; j < m.state.size(); ++j) {
    Tensor t;
    t.shape.push_back(streams);
    t.shape.insert(t.shape.end(), m.state[j].shape.begin(),
                   m.state[j].shape.end());
    t.data = state[j];
    file.tensors[m.state[j].name] = std::move(t);
  }
  std::ostringstream clockText;
  for (int64_t v : timer.saveState())
    clockText << v << ',';
  file.metadata["nlc.model"] = m.model;
  file.metadata["nlc.model_hash"] = m.modelHash;
  file.metadata["nlc.clock"] = clockText.str();
  return writeSafetensors(path, file, error);
}

bool Session::loadState(const std::string &path, std::string *error) {
  const Manifest &m = model.manifest();
  TensorFile file;
  if (!readSafetensors(path, file, error))
    return false;
  auto hash = file.metadata.find("nlc.model_hash");
  if (hash == file.metadata.end() || hash->second != m.modelHash) {
    auto name = file.metadata.find("nlc.model");
    *error =
        path + ": this state belongs to model '" +
        (name == file.metadata.end() ? std::string("?") : name->second) +
        "' (hash " +
        (hash == file.metadata.end() ? std::string("none") : hash->second) +
        "), not to '" + m.model + "' (hash " + m.modelHash + ")";
    return false;
  }
  std::vector<std::vector<float>> loaded;
  for (size_t j = 0; j < m.state.size(); ++j) {
    auto it = file.tensors.find(m.state[j].name);
    std::vector<int64_t> shape = {streams};
    shape.insert(shape.end(), m.state[j].shape.begin(), m.state[j].shape.end());
    if (it == file.tensors.end() || it->second.shape != shape) {
      *error = path + ": state '" + m.state[j].name + "' is missing or not " +
               shapeToString(shape) + " (batch " + std::to_string(streams) +
               ")";
      return false;
    }
    loaded.push_back(it->second.data);
  }
  std::vector<int64_t> clockState;
  auto clockText = file.metadata.find("nlc.clock");
  if (clockText == file.metadata.end()) {
    *error = path + ": no clock state (nlc.clock)";
    return false;
  }
  std::stringstream in(clockText->second);
  std::string item;
  while (std::getline(in, item, ','))
    clockState.push_back(std::strtoll(item.c_str(), nullptr, 10));
  if (!timer.loadState(clockState, error)) {
    *error = path + ": " + *error;
    return false;
  }
  state = std::move(loaded);
  std::fill(stateSet.begin(), stateSet.end(), true);
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
  for (size_t j = 0; j < m.state.size(); ++j) {
    if (m.state[j].level != level)
      continue;
    std::vector<float> one(m.state[j].numel);
    initTensor(m.state[j], seed, one.data());
    for (int64_t b = 0; b < streams; ++b)
      std::copy(one.begin(), one.end(), state[j].begin() + b * one.size());
  }
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
