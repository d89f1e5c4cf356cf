//===- Session.h - Running a compiled model on streams ----------*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// A session holds everything a model learns while it serves: the state of
// every level for B independent streams, the clock, and the pending chunks.
// It ticks time token by token, tells the compiled step which levels learn
// (`active`) and which complete a chunk (`fire`), applies tail policies at
// the end of a call, and saves and loads the whole state. Feeding a stream
// in pieces, with save/load between them, equals feeding it whole.
//
//===----------------------------------------------------------------------===//

#ifndef NLRT_SESSION_H
#define NLRT_SESSION_H

#include "nlrt/Clock.h"
#include "nlrt/Model.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace nlrt {

/// Where a session keeps its state and runs its steps.
enum class Device { CPU, CUDA };

/// Parses "cpu" / "cuda" (also "cuda:0"); false on anything else.
bool parseDevice(const std::string &text, Device &out);

/// The devices this process can use, one line each ("cpu", then
/// "cuda:<i> <name>" per GPU the CUDA driver reports). Never fails: a
/// machine without a driver or a GPU lists "cpu" alone.
std::vector<std::string> listDevices();

class CudaExecutor;
class Executor;
struct SessionTestAccess;

/// What a check of values does when it finds a NaN or an Inf.
enum class CheckMode { Off, Warn, Error };

/// Parses "off" / "warn" / "error"; false on anything else.
bool parseCheckMode(const std::string &text, CheckMode &out);

/// How loadParams treats a file that does not hold every parameter.
struct ParamsOptions {
  /// Allow a subset on purpose: parameters the file does not hold keep the
  /// values drawn from the seed, and a warning lists them. A key of the
  /// file that is no parameter, a wrong shape or dtype and a non-finite
  /// value are errors still; a parameter with a `file` initializer must be
  /// there.
  bool partial = false;
};

/// How loadState treats a state saved by another build of the model.
struct StateOptions {
  /// Load a state whose model hash differs (another build: other -D values,
  /// rules or code) when its layout still matches (the same state tensors
  /// with the same shapes and dtypes, and the same levels and periods); a
  /// warning lists what differs.
  bool allowModelMismatch = false;
};

/// Receives the session's warnings (one line each, without a prefix). The
/// default writes "nlrt: warning: <line>" to stderr.
using WarningHandler = std::function<void(const std::string &)>;

/// What Session::backward computes besides the forward.
struct Gradients {
  /// Per parameter (the manifest's order): the gradient of the loss,
  /// summed over the streams and tokens of the call.
  std::vector<std::vector<float>> params;
  /// Per state tensor: the cotangent of the state at the start of the call,
  /// [B * numel] (stream by stream; zero for i32 counts and accumulators
  /// the loss does not reach).
  std::vector<std::vector<float>> state;
  /// [B, T, dim], the input's cotangent, when BackwardOptions::inputGrad.
  std::vector<float> input;
};

/// How Session::backward schedules backpropagation through time.
struct BackwardOptions {
  /// Tokens between the checkpoints of the state (0: the manifest's).
  int64_t checkpointEvery = 0;
  /// Truncated BPTT: the state's cotangent stops after every this many
  /// tokens of the call; -1: the manifest's, 0: never.
  int64_t truncate = -1;
  /// Whether to compute Gradients::input.
  bool inputGrad = false;
};

class Session {
public:
  /// A session of `batch` streams, parameters and state initialized from
  /// the manifest's initializers with `seed` (deterministic): a state
  /// initialized from a parameter (`param`) starts at that parameter's
  /// value. Tensors whose initializer is `file` need loadParams. Fails
  /// (never aborts) when the state of `batch` streams does not fit in
  /// memory or its size overflows.
  /// On Device::CUDA the model must have been compiled for the CUDA target
  /// (a `.ptx` model); the error says so, and says when no driver or GPU is
  /// present.
  static std::unique_ptr<Session> create(const Model &model, int64_t batch,
                                         uint64_t seed, std::string *error,
                                         Device device = Device::CPU);
  ~Session();

  /// Where warnings go (see WarningHandler).
  void setWarningHandler(WarningHandler handler) { warn = std::move(handler); }
  /// What run() does with a non-finite input value (default Error: the call
  /// fails and names the first one) and with outputs and states that have
  /// become non-finite (default Warn: once per tensor, naming the level and
  /// state, and the first non-finite output token). Outputs are checked
  /// after every call; states when an output is non-finite and otherwise
  /// after every 256 tokens of a stream (a scan costs a pass over them).
  /// The state check also applies to loadState and saveState.
  void setCheckInputs(CheckMode mode) { checkInputs = mode; }
  void setCheckState(CheckMode mode) { checkState = mode; }

  /// Replaces parameters (and the states a `file` initializer names) by the
  /// tensors of a safetensors file. Strict: every parameter of the manifest
  /// must be there under its key (TensorSpec::paramKey) with its exact
  /// shape; every tensor of the file must be used; every value must be
  /// finite. Float tensors may be stored as F32, F64 (narrowed), F16 or
  /// BF16 (widened). The error lists every missing key, every unknown one
  /// (with the nearest known name) and every mismatch at once. States
  /// initialized from a parameter take its new value unless the session
  /// has run or loaded a state since it was created.
  bool loadParams(const std::string &path, std::string *error,
                  const ParamsOptions &options = {});
  /// Writes every parameter under its key (and the states a params file
  /// initialized), so that `loadParams` of the result reproduces this
  /// session's start, e.g. the values drawn from the seed.
  bool saveParams(const std::string &path, std::string *error) const;
  /// Whether every parameter has a value (a `file` initializer needs one).
  bool paramsComplete(std::string *error) const;

  /// Runs T tokens of every stream: `x` is [B, T, dim]; `outputs[i]` is
  /// [B, T, numel(output i)]. Applies tail policies at the end. `threads`
  /// splits the streams on the CPU; on CUDA one launch runs them all.
  bool run(const float *x, int64_t tokens, const std::vector<float *> &outputs,
           int threads, std::string *error);

  /// The forward of a call, as run() makes it (the state advances, the
  /// clock ticks, `outputs` are written, tails apply), and its backward:
  /// the gradients of L = sum over outputs o of <dys[o], output o>, from
  /// the state at the start of the call, by backpropagation through time
  /// with bounded memory (a checkpoint every K tokens, each segment's states
  /// recomputed). `dys[o]` is [B, T, numel(output o)], or null for zero.
  /// Needs a CPU model compiled with --backward; refuses a call whose end
  /// flushes a level (tail = flush: its backward is not compiled yet).
  /// Non-finite gradients are reported as setCheckState says.
  bool backward(const float *x, int64_t tokens,
                const std::vector<const float *> &dys,
                const std::vector<float *> &outputs, Gradients &grads,
                int threads, std::string *error,
                const BackwardOptions &options = {});

  /// Saves / loads the state of every stream and the clock (safetensors,
  /// written atomically, with the model hash and layout and a CRC-32 per
  /// tensor; docs/language.md describes the format). A state is validated
  /// whole before any of it is used: its format tag, model hash (a
  /// different one is refused with what differs, unless
  /// StateOptions::allowModelMismatch and the layout matches), checksums,
  /// every tensor's name, shape and dtype, every count against its range,
  /// its values (setCheckState) and the clock.
  bool saveState(const std::string &path, std::string *error) const;
  bool loadState(const std::string &path, std::string *error,
                 const StateOptions &options = {});

  /// Resets a level to its initial state; freezes / unfreezes it.
  bool resetLevel(const std::string &level, std::string *error);
  bool freezeLevel(const std::string &level, bool frozen, std::string *error);

  int64_t batch() const { return streams; }
  const Clock &clock() const { return timer; }
  /// The L2 norm of (f32) state tensor `i` over all streams.
  double stateNorm(size_t i) const;
  /// The values of i32 state tensor `i` (numel per stream, stream by
  /// stream); empty for an f32 tensor.
  std::vector<int32_t> counts(size_t i) const;

private:
  Session(const Model &model, int64_t batch, Clock clock);
  void initTensor(const TensorSpec &spec, uint64_t seed, float *out) const;
  /// Sets state tensor `j` of every stream to its initial value.
  void initState(size_t j);
  uint64_t activeMask() const;
  /// Per token of a call of `tokens` tokens: whether a whole chunk of the
  /// chunk entry point starts there (all zero without one).
  std::vector<char> chunkStarts(int64_t tokens, uint64_t active) const;
  bool zeroPending(size_t level, std::string *error);
  /// The checks of a call's buffers before anything runs (run, backward).
  bool checkCall(const float *x, int64_t tokens,
                 const std::vector<float *> &outputs, std::string *error);
  /// The masks of a call, ticking the clock: the levels that learn, each
  /// token's fire mask, the levels the end flushes and those whose pending
  /// tokens the end drops.
  struct CallMasks {
    std::vector<int64_t> clockBefore;
    uint64_t active = 0;
    std::vector<uint64_t> fire;
    uint64_t flush = 0;
    std::vector<size_t> dropped;
  };
  CallMasks tickCall(int64_t tokens);
  /// Reports non-finite gradients (setCheckState).
  bool checkGradients(const Gradients &grads, std::string *error);
  /// Brings the host copy of every state tensor up to date (CUDA: the
  /// device holds the newer values after a run).
  bool syncStateToHost(std::string *error) const;
  /// Uploads state tensor `j` after the host copy was overwritten (CUDA).
  bool stateWritten(size_t j, std::string *error);
  /// The end-of-call check of outputs and states (setCheckState).
  bool checkAfterRun(int64_t tokens, const std::vector<float *> &outputs,
                     std::string *error);
  void warning(const std::string &message) const;

  const Model &model;
  int64_t streams;
  Clock timer;
  uint64_t seed = 0;
  std::vector<std::vector<float>> params;
  std::vector<bool> paramSet;
  // [B * numel] each; an i32 tensor's elements hold int32 counts. On CUDA
  // this is the host mirror of the device state, refreshed by const readers
  // too (saveState, stateNorm), hence mutable.
  mutable std::vector<std::vector<float>> state;
  std::vector<bool> stateSet; // false until a file-init arrives
  /// The values a params file gave the states it initializes (for
  /// saveParams and resets).
  std::map<std::string, std::vector<float>> fileInits;
  /// Whether the session has run or loaded a state (states no longer hold
  /// their initial values).
  bool started = false;
  CheckMode checkInputs = CheckMode::Error;
  CheckMode checkState = CheckMode::Warn;
  /// The state tensors already reported non-finite (reported once).
  std::vector<bool> reportedNonFinite;
  /// Tokens run since the states were last scanned for NaN/Inf; they are
  /// scanned after at least this many, or when an output is non-finite.
  static constexpr int64_t kStateCheckTokens = 256;
  int64_t tokensSinceStateCheck = 0;
  WarningHandler warn;
  /// What runs a call's plan: the CPU executor (its thread pool) or the
  /// CUDA one.
  std::unique_ptr<Executor> executor;
  /// The executor when it is the device half of a CUDA session (it also
  /// mirrors the state); null on the CPU.
  CudaExecutor *gpu = nullptr;
  friend struct SessionTestAccess;
};

} // namespace nlrt

#endif // NLRT_SESSION_H
