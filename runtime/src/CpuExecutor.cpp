//===- CpuExecutor.cpp - Running a call plan on the CPU -------------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// The CPU executor calls a model's entry points as a plan says, on a pool
// of threads kept for the session: one team over the streams, and for each
// of its threads a team over a stream's heads (head runs). Threads are
// started by the first call that needs them and reused by the calls after.
//
//===----------------------------------------------------------------------===//

#include "CpuBackward.h"
#include "Executor.h"
#include "ThreadTeam.h"

#include "nlrt/Model.h"

#include <algorithm>

using namespace nlrt;

Executor::~Executor() = default;

bool Executor::backward(const BackwardIO &, std::string *error) {
  *error = "the backward runs on the CPU only (yet)";
  return false;
}

namespace {

int64_t outputNumel(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

class CpuExecutor : public Executor {
public:
  explicit CpuExecutor(const Model &model)
      : model(model), streamTeam(frameBytes(model)) {
    for (const auto &o : model.manifest().outputs)
      outNumel.push_back(outputNumel(o));
  }
  bool run(const CallPlan &plan, const CallIO &io, std::string *error) override;
  bool backward(const BackwardIO &io, std::string *error) override {
    return runCpuBackward(model, streamTeam, io, error);
  }

private:
  static size_t frameBytes(const Model &model) {
    return static_cast<size_t>(model.manifest().stackBytes);
  }
  /// Every item of the plan for stream `b`, on the thread of stream-team
  /// slot `slot`.
  void runStream(const CallPlan &plan, const CallIO &io,
                 const float *const *params, int64_t b, int slot);
  /// Head run `run` of stream `b`: the heads split over the slot's team.
  void runHeads(const CallPlan &plan, const CallIO &io,
                const float *const *params, int64_t b, const PlanItem &run,
                int slot);

  const Model &model;
  std::vector<int64_t> outNumel;
  ThreadTeam streamTeam;
  /// The head team of each thread of the stream team (by slot).
  std::vector<std::unique_ptr<ThreadTeam>> headTeams;
};

bool CpuExecutor::run(const CallPlan &plan, const CallIO &io,
                      std::string *error) {
  std::vector<const float *> paramPtrs;
  for (const auto &p : io.params)
    paramPtrs.push_back(p.data());
  // A stream-team slot is 0 (this thread) or one of at most `workers`
  // helpers; each has a head team of its own.
  if (plan.hasHeadRuns())
    while (headTeams.size() < static_cast<size_t>(plan.split.workers) + 1)
      headTeams.push_back(std::make_unique<ThreadTeam>(frameBytes(model)));
  SetThreadsFn setThreads = model.setThreads();
  auto work = [&](int64_t part, int slot) {
    if (setThreads)
      setThreads(plan.split.team);
    for (int64_t b = plan.streamParts[part].first;
         b < plan.streamParts[part].second; ++b)
      runStream(plan, io, paramPtrs.data(), b, slot);
  };
  return streamTeam.run(static_cast<int64_t>(plan.streamParts.size()), work,
                        error);
}

void CpuExecutor::runStream(const CallPlan &plan, const CallIO &io,
                            const float *const *params, int64_t b, int slot) {
  const Manifest &m = model.manifest();
  std::vector<float *> statePtrs(io.state.size());
  std::vector<float *> outPtrs(io.outputs.size());
  for (size_t j = 0; j < io.state.size(); ++j)
    statePtrs[j] = io.state[j].data() + b * m.state[j].numel;
  for (const PlanItem &item : plan.itemsOf(b)) {
    switch (item.kind) {
    case EntryKind::Step:
    case EntryKind::Chunk: {
      for (size_t o = 0; o < io.outputs.size(); ++o)
        outPtrs[o] =
            io.outputs[o] + (b * plan.tokens + item.begin) * outNumel[o];
      StepFn fn = item.kind == EntryKind::Chunk ? model.chunk() : model.step();
      fn(params, statePtrs.data(),
         io.x + (b * plan.tokens + item.begin) * m.dim, outPtrs.data(),
         io.active, item.fire);
      break;
    }
    case EntryKind::HeadRun:
      runHeads(plan, io, params, b, item, slot);
      // The head threads ran with a team of one.
      if (model.setThreads())
        model.setThreads()(plan.split.team);
      break;
    case EntryKind::Flush:
      model.flush()(params, statePtrs.data(), item.fire);
      break;
    case EntryKind::HeadStep:
    case EntryKind::HeadChunk:
      break; // only inside head runs
    }
  }
}

void CpuExecutor::runHeads(const CallPlan &plan, const CallIO &io,
                           const float *const *params, int64_t b,
                           const PlanItem &run, int slot) {
  const Manifest &m = model.manifest();
  int64_t heads = plan.heads, tokens = plan.tokens;
  bool anyChunk = false;
  for (size_t k = run.firstCall; k < run.firstCall + run.numCalls; ++k)
    anyChunk |= plan.headCalls[k].kind == EntryKind::HeadChunk;
  auto work = [&](int64_t part, int) {
    if (model.setThreads())
      model.setThreads()(1);
    std::vector<float *> statePtrs(io.state.size());
    std::vector<float *> outPtrs(io.outputs.size());
    // A head's chunk writes its outputs as [C, numel / heads] rows, which
    // are then put in place among the other heads'.
    std::vector<std::vector<float>> chunkOut(io.outputs.size());
    if (anyChunk)
      for (size_t o = 0; o < io.outputs.size(); ++o)
        chunkOut[o].resize(plan.chunkSize * outNumel[o] / heads);
    for (int64_t h = plan.headParts[part].first;
         h < plan.headParts[part].second; ++h) {
      for (size_t j = 0; j < io.state.size(); ++j)
        statePtrs[j] = io.state[j].data() + b * m.state[j].numel +
                       h * (m.state[j].numel / heads);
      for (size_t k = run.firstCall; k < run.firstCall + run.numCalls; ++k) {
        const PlanItem &call = plan.headCalls[k];
        int64_t t = call.begin;
        const float *xt = io.x + (b * tokens + t) * m.dim;
        if (call.kind == EntryKind::HeadChunk) {
          for (size_t o = 0; o < io.outputs.size(); ++o)
            outPtrs[o] = chunkOut[o].data();
          model.headChunk()(params, statePtrs.data(), xt, outPtrs.data(),
                            io.active, call.fire, h);
          for (size_t o = 0; o < io.outputs.size(); ++o) {
            int64_t per = outNumel[o] / heads;
            for (int64_t s = 0; s < plan.chunkSize; ++s)
              std::copy_n(chunkOut[o].data() + s * per, per,
                          io.outputs[o] + (b * tokens + t + s) * outNumel[o] +
                              h * per);
          }
          continue;
        }
        for (size_t o = 0; o < io.outputs.size(); ++o)
          outPtrs[o] = io.outputs[o] + (b * tokens + t) * outNumel[o] +
                       h * (outNumel[o] / heads);
        model.headStep()(params, statePtrs.data(), xt, outPtrs.data(),
                         io.active, call.fire, h);
      }
    }
  };
  // The stream's thread works too (its stack holds the frames, or it would
  // not run the stream): a helper that cannot be started leaves its heads
  // to the others, and the run cannot fail.
  std::string ignored;
  headTeams[slot]->run(static_cast<int64_t>(plan.headParts.size()), work,
                       &ignored);
}

} // namespace

std::unique_ptr<Executor> nlrt::makeCpuExecutor(const Model &model) {
  return std::make_unique<CpuExecutor>(model);
}

bool NullExecutor::run(const CallPlan &plan, const CallIO &io, std::string *) {
  plans.push_back(plan);
  auto record = [&](int64_t b, int64_t h, const PlanItem &item) {
    calls.push_back(
        {b, h, item.kind, item.begin, item.end, item.fire, io.active});
  };
  for (int64_t b = 0; b < plan.streams; ++b)
    for (const PlanItem &item : plan.itemsOf(b)) {
      if (item.kind != EntryKind::HeadRun) {
        record(b, -1, item);
        continue;
      }
      for (const auto &[h0, h1] : plan.headParts)
        for (int64_t h = h0; h < h1; ++h)
          for (size_t k = item.firstCall; k < item.firstCall + item.numCalls;
               ++k)
            record(b, h, plan.headCalls[k]);
    }
  return true;
}
