//===- Executor.h - Carrying out a call plan --------------------*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// An executor takes the plan of one call (CallPlan.h) and the call's buffers
// and runs it: the CPU executor calls the model's entry points on a pool of
// threads it keeps for the session; the CUDA executor (CudaExecutor.h) runs
// every token of every stream in one launch; the null executor runs nothing
// and records what would run, for tests.
//
// Internal to the runtime: Session owns one.
//
//===----------------------------------------------------------------------===//

#ifndef NLRT_SRC_EXECUTOR_H
#define NLRT_SRC_EXECUTOR_H

#include "CallPlan.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nlrt {

class Model;
class Session;

/// The buffers of one call.
struct CallIO {
  /// Every parameter, and the state of every stream ([B * numel] each).
  const std::vector<std::vector<float>> &params;
  std::vector<std::vector<float>> &state;
  /// [B, T, dim] and, per output, [B, T, numel].
  const float *x;
  const std::vector<float *> &outputs;
  /// The levels that learn (the same for every token).
  uint64_t active;
};

/// The buffers and schedule of one call's backward (Session::backward):
/// the forward of the call from `state` (which it leaves at the end of the
/// call, as run() does), then backpropagation through time.
struct BackwardIO {
  const std::vector<std::vector<float>> &params;
  std::vector<std::vector<float>> &state;
  /// [B, T, dim]; per output [B, T, numel] (written by the forward).
  const float *x;
  const std::vector<float *> &outputs;
  /// Per output, the cotangent [B, T, numel], or null (zero).
  const std::vector<const float *> &dys;
  uint64_t active;
  /// Per token, the levels whose chunk it completes.
  const std::vector<uint64_t> &fire;
  int64_t tokens = 0, streams = 0;
  /// A checkpoint of the state every `checkpointEvery` tokens; the state's
  /// cotangent is cut after every `truncate`-th token (0: never).
  int64_t checkpointEvery = 1, truncate = 0;
  /// Out: the gradient of every parameter (summed over streams, added to),
  /// the cotangent of every state tensor at the start of the call
  /// ([B * numel], written) and, when non-null, the input's ([B, T, dim]).
  std::vector<std::vector<float>> &dparams;
  std::vector<std::vector<float>> &dstate;
  float *dx = nullptr;
  int threads = 1;
};

class Executor {
public:
  virtual ~Executor();
  /// Runs `plan` on `io`. False with a message when nothing ran.
  virtual bool run(const CallPlan &plan, const CallIO &io,
                   std::string *error) = 0;
  /// Runs the forward and the backward of one call. False with a message
  /// when nothing ran (by default: an executor without a backward).
  virtual bool backward(const BackwardIO &io, std::string *error);
};

/// The CPU executor of `model` (a CPU model): it calls the entry points on
/// threads of its own, started when a call first needs them and reused by
/// the calls after, each with a stack that holds the model's frames
/// (stack_bytes); they are joined when it is destroyed.
std::unique_ptr<Executor> makeCpuExecutor(const Model &model);

/// One entry-point call the null executor would have made.
struct RecordedCall {
  int64_t stream = 0;
  /// The head of a head step or head chunk; -1 for the other kinds.
  int64_t head = -1;
  EntryKind kind = EntryKind::Step;
  int64_t begin = 0, end = 0;
  uint64_t fire = 0, active = 0;
};

/// Runs nothing: records every plan it is given and, stream by stream and
/// head by head, the calls the plan makes (as the CPU executor would make
/// them, in the order one stream or one head sees them).
class NullExecutor : public Executor {
public:
  bool run(const CallPlan &plan, const CallIO &io, std::string *error) override;
  std::vector<CallPlan> plans;
  std::vector<RecordedCall> calls;
};

/// Tests only: replaces the executor of a CPU session (e.g. by a
/// NullExecutor, which then sees every plan Session::run makes).
struct SessionTestAccess {
  static void setExecutor(Session &session, std::unique_ptr<Executor> e);
};

} // namespace nlrt

#endif // NLRT_SRC_EXECUTOR_H
