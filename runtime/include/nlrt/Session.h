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

class Session {
public:
  /// A session of `batch` streams, parameters and state initialized from
  /// the manifest's initializers with `seed` (deterministic). Tensors whose
  /// initializer is `file` need setParams.
  /// On Device::CUDA the model must have been compiled for the CUDA target
  /// (a `.ptx` model); the error says so, and says when no driver or GPU is
  /// present.
  static std::unique_ptr<Session> create(const Model &model, int64_t batch,
                                         uint64_t seed, std::string *error,
                                         Device device = Device::CPU);
  ~Session();

  /// Replaces parameters by the tensors of a safetensors file (by name and
  /// shape). Every `file`-initialized parameter must be present.
  bool loadParams(const std::string &path, std::string *error);
  /// Whether every parameter has a value (a `file` initializer needs one).
  bool paramsComplete(std::string *error) const;

  /// Runs T tokens of every stream: `x` is [B, T, dim]; `outputs[i]` is
  /// [B, T, numel(output i)]. Applies tail policies at the end. `threads`
  /// splits the streams on the CPU; on CUDA one launch runs them all.
  bool run(const float *x, int64_t tokens, const std::vector<float *> &outputs,
           int threads, std::string *error);

  /// Saves / loads the state of every stream and the clock (safetensors,
  /// written atomically, tagged with the model hash).
  bool saveState(const std::string &path, std::string *error) const;
  bool loadState(const std::string &path, std::string *error);

  /// Resets a level to its initial state; freezes / unfreezes it.
  bool resetLevel(const std::string &level, std::string *error);
  bool freezeLevel(const std::string &level, bool frozen, std::string *error);

  int64_t batch() const { return streams; }
  const Clock &clock() const { return timer; }
  /// The L2 norm of state tensor `i` over all streams.
  double stateNorm(size_t i) const;

private:
  Session(const Model &model, int64_t batch, Clock clock);
  void initTensor(const TensorSpec &spec, uint64_t seed, float *out) const;
  uint64_t activeMask() const;
  /// Per token of a call of `tokens` tokens: whether a whole chunk of the
  /// chunk entry point starts there (all zero without one).
  std::vector<char> chunkStarts(int64_t tokens, uint64_t active) const;
  bool zeroPending(size_t level, std::string *error);
  /// Brings the host copy of every state tensor up to date (CUDA: the
  /// device holds the newer values after a run).
  bool syncStateToHost(std::string *error) const;
  /// Uploads state tensor `j` after the host copy was overwritten (CUDA).
  bool stateWritten(size_t j, std::string *error);

  const Model &model;
  int64_t streams;
  Clock timer;
  uint64_t seed = 0;
  std::vector<std::vector<float>> params;
  std::vector<bool> paramSet;
  // [B * numel] each. On CUDA this is the host mirror of the device state,
  // refreshed by const readers too (saveState, stateNorm), hence mutable.
  mutable std::vector<std::vector<float>> state;
  std::vector<bool> stateSet; // false until a file-init arrives
  /// The device half of a CUDA session; null on the CPU.
  std::unique_ptr<CudaExecutor> gpu;
};

} // namespace nlrt

#endif // NLRT_SESSION_H
