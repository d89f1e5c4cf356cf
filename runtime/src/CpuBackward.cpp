//===- CpuBackward.cpp - Backpropagation through time on the CPU ----------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// The backward of a call, stream by stream, with memory bounded by the
// checkpoint interval K (the schedule fla and TTT use for their chunk
// states): the forward runs the step token by token and keeps a copy of the
// state before every K-th token; the backward then takes the segments last
// to first, recomputes each segment's per-token states from its checkpoint
// (K copies of the state, not T) and calls the compiled backward of each
// token in reverse with the state before it. The cotangent of the state
// flows from token to token in one buffer (the backward reads the cotangent
// of the state after the token and leaves that of the state before it);
// truncation at H zeroes it after every H-th token. Streams are independent:
// they are split over the team's threads, each part with gradients of its
// own, summed at the end in a fixed order.
//
//===----------------------------------------------------------------------===//

#include "CpuBackward.h"
#include "ThreadTeam.h"

#include "nlrt/Model.h"

#include <algorithm>
#include <cstring>

using namespace nlrt;

namespace {

int64_t numelOf(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// One stream's state as one contiguous block: tensor j at offset[j].
struct StateLayout {
  std::vector<int64_t> offset, numel;
  int64_t total = 0;

  explicit StateLayout(const Manifest &m) {
    for (const TensorSpec &t : m.state) {
      offset.push_back(total);
      numel.push_back(t.numel);
      total += t.numel;
    }
  }
  /// The tensors' pointers into `block`.
  std::vector<float *> pointers(float *block) const {
    std::vector<float *> p(offset.size());
    for (size_t j = 0; j < offset.size(); ++j)
      p[j] = block + offset[j];
    return p;
  }
};

class StreamBackward {
public:
  StreamBackward(const Model &model, const BackwardIO &io,
                 const std::vector<const float *> &params,
                 std::vector<std::vector<float>> &dparams)
      : model(model), m(model.manifest()), io(io), params(params), layout(m) {
    for (const auto &o : m.outputs)
      outNumel.push_back(numelOf(o));
    for (auto &g : dparams)
      dparamPtrs.push_back(g.data());
    for (int64_t n : outNumel) {
      scratchOut.emplace_back(n);
      zeroDy.emplace_back(n, 0.0f);
    }
    scratchDx.resize(m.dim);
  }

  void run(int64_t b);

private:
  /// Copies stream b's live state to a block.
  void save(int64_t b, float *block) const;

  const Model &model;
  const Manifest &m;
  const BackwardIO &io;
  const std::vector<const float *> &params;
  StateLayout layout;
  std::vector<int64_t> outNumel;
  std::vector<float *> dparamPtrs;
  std::vector<std::vector<float>> scratchOut, zeroDy;
  std::vector<float> scratchDx;
};

void StreamBackward::save(int64_t b, float *block) const {
  for (size_t j = 0; j < layout.offset.size(); ++j)
    std::memcpy(block + layout.offset[j],
                io.state[j].data() + b * layout.numel[j],
                layout.numel[j] * sizeof(float));
}

void StreamBackward::run(int64_t b) {
  const int64_t T = io.tokens, K = io.checkpointEvery, N = layout.total;
  const int64_t segments = (T + K - 1) / K;
  StepFn step = model.step();
  BackwardFn backward = model.backward();
  auto xAt = [&](int64_t t) { return io.x + (b * T + t) * m.dim; };

  // The forward: the live state, a checkpoint before every K-th token.
  std::vector<float> checkpoints(static_cast<size_t>(segments * N));
  std::vector<float *> live(layout.offset.size());
  for (size_t j = 0; j < live.size(); ++j)
    live[j] = io.state[j].data() + b * layout.numel[j];
  std::vector<float *> outPtrs(outNumel.size());
  for (int64_t t = 0; t < T; ++t) {
    if (t % K == 0)
      save(b, checkpoints.data() + (t / K) * N);
    for (size_t o = 0; o < outPtrs.size(); ++o)
      outPtrs[o] = io.outputs[o] + (b * T + t) * outNumel[o];
    step(params.data(), live.data(), xAt(t), outPtrs.data(), io.active,
         io.fire[t]);
  }

  // The backward, segment by segment from the last.
  std::vector<float> before(static_cast<size_t>(std::min(K, T) * N));
  std::vector<float> dstate(static_cast<size_t>(N), 0.0f);
  std::vector<float *> dstatePtrs = layout.pointers(dstate.data());
  std::vector<float *> scratchPtrs(outNumel.size());
  for (size_t o = 0; o < scratchOut.size(); ++o)
    scratchPtrs[o] = scratchOut[o].data();
  std::vector<const float *> dyPtrs(outNumel.size());
  for (int64_t s = segments - 1; s >= 0; --s) {
    int64_t begin = s * K, end = std::min(T, begin + K);
    // The state before each token of the segment, recomputed.
    std::copy_n(checkpoints.data() + s * N, N, before.data());
    for (int64_t t = begin; t + 1 < end; ++t) {
      float *next = before.data() + (t - begin + 1) * N;
      std::copy_n(next - N, N, next);
      std::vector<float *> ptrs = layout.pointers(next);
      step(params.data(), ptrs.data(), xAt(t), scratchPtrs.data(), io.active,
           io.fire[t]);
    }
    for (int64_t t = end - 1; t >= begin; --t) {
      // Truncated BPTT: what the tokens after a cut did is not charged to
      // the state before it.
      if (io.truncate > 0 && (t + 1) % io.truncate == 0 && t + 1 < T)
        std::fill(dstate.begin(), dstate.end(), 0.0f);
      for (size_t o = 0; o < dyPtrs.size(); ++o)
        dyPtrs[o] = io.dys[o] ? io.dys[o] + (b * T + t) * outNumel[o]
                              : zeroDy[o].data();
      std::vector<float *> ptrs =
          layout.pointers(before.data() + (t - begin) * N);
      float *dx = io.dx ? io.dx + (b * T + t) * m.dim : scratchDx.data();
      backward(params.data(), ptrs.data(), xAt(t), dyPtrs.data(), io.active,
               io.fire[t], dparamPtrs.data(), dstatePtrs.data(), dx);
    }
  }
  for (size_t j = 0; j < layout.offset.size(); ++j)
    std::copy_n(dstate.data() + layout.offset[j], layout.numel[j],
                io.dstate[j].data() + b * layout.numel[j]);
}

} // namespace

bool nlrt::runCpuBackward(const Model &model, ThreadTeam &team,
                          const BackwardIO &io, std::string *error) {
  if (!model.backward()) {
    *error = "the model was compiled without a backward (nlc --backward)";
    return false;
  }
  int64_t streams = io.streams;
  int64_t parts = std::max<int64_t>(1, std::min<int64_t>(io.threads, streams));
  std::vector<const float *> params;
  for (const auto &p : io.params)
    params.push_back(p.data());
  // Each part adds to gradients of its own.
  std::vector<std::vector<std::vector<float>>> partGrads(parts);
  for (auto &g : partGrads)
    for (const auto &p : io.params)
      g.emplace_back(p.size(), 0.0f);
  SetThreadsFn setThreads = model.setThreads();
  int team1 = std::max(1, io.threads / static_cast<int>(parts));
  auto work = [&](int64_t part, int) {
    if (setThreads)
      setThreads(team1);
    StreamBackward one(model, io, params, partGrads[part]);
    int64_t begin = streams * part / parts, end = streams * (part + 1) / parts;
    for (int64_t b = begin; b < end; ++b)
      one.run(b);
  };
  if (!team.run(parts, work, error))
    return false;
  for (size_t i = 0; i < io.dparams.size(); ++i)
    for (const auto &g : partGrads)
      for (size_t k = 0; k < g[i].size(); ++k)
        io.dparams[i][k] += g[i][k];
  return true;
}
