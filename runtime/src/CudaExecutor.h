//===- CudaExecutor.h - Running a CUDA model on one GPU ---------*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// The device half of a CUDA session: the loaded module and its two kernels,
// device copies of the parameters and of the state of all streams, the
// per-call buffers (tokens, outputs, fire masks) and one stream that orders
// every copy and launch.
//
// The session's host vectors stay the copy that files, resets and norms
// read and write; the device copy is what kernels update. Each tensor
// remembers which copy is newer, so a call moves only what changed:
// host writes (loadParams, loadState, resetLevel) are uploaded at once, a
// run leaves the state newer on the device, and host reads (saveState,
// stateNorm) download it only then. A failed upload leaves the host copy
// marked newer, and the next run retries it before launching.
//
// Internal to the runtime: Session owns one when its device is CUDA.
//
//===----------------------------------------------------------------------===//

#ifndef NLRT_SRC_CUDAEXECUTOR_H
#define NLRT_SRC_CUDAEXECUTOR_H

#include "CudaDriver.h"
#include "Executor.h"

#include "nlrt/Model.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nlrt {

class CudaExecutor : public Executor {
public:
  /// Opens cuda:0 (CUDA_VISIBLE_DEVICES picks which GPU that is), JIT-loads
  /// the model's image, finds its kernels and allocates parameters and the
  /// state of `batch` streams. Null with a message on failure.
  static std::unique_ptr<CudaExecutor> create(const Model &model, int64_t batch,
                                              std::string *error);
  ~CudaExecutor() override;
  CudaExecutor(const CudaExecutor &) = delete;
  CudaExecutor &operator=(const CudaExecutor &) = delete;

  /// The host copy of parameter `i` changed: uploads it.
  bool writeParam(size_t i, const std::vector<float> &host, std::string *error);
  /// The host copy of state `j` was overwritten whole: uploads it.
  bool writeState(size_t j, const std::vector<float> &host, std::string *error);
  /// Brings the host copy of state `j` up to date (a download if a run
  /// changed it since).
  bool readState(size_t j, std::vector<float> &host, std::string *error);
  /// Zeroes state `j` in both copies (on the device without a round trip).
  bool zeroState(size_t j, std::vector<float> &host, std::string *error);

  /// Runs a call in one launch: the kernel loops over the plan's tokens
  /// with its per-token fire masks (launch() with plan.fire and plan.flush);
  /// the plan's items and thread split are for the CPU.
  bool run(const CallPlan &plan, const CallIO &io, std::string *error) override;

  /// Runs `tokens` tokens of every stream: uploads `x` [B, T, dim] and the
  /// fire masks, launches the steps kernel (and the flush kernel if `flush`
  /// is nonzero), and copies the outputs back into `outputs[k]`
  /// ([B, T, numel_k]). `params` and `state` are the host copies, read only
  /// for tensors whose upload is still pending.
  bool launch(const std::vector<std::vector<float>> &params,
              const std::vector<std::vector<float>> &state, const float *x,
              int64_t tokens, const std::vector<float *> &outputs,
              uint64_t active, const std::vector<uint64_t> &fire,
              uint64_t flush, std::string *error);

private:
  /// Which copy of a tensor holds its current value.
  enum class Fresh { Both, Host, Device };

  /// A device allocation that only grows.
  struct Buffer {
    cuda::CUdeviceptr ptr = 0;
    size_t bytes = 0;
  };

  CudaExecutor(const cuda::Driver &driver, const Model &model, int64_t batch)
      : cu(driver), model(model), streams(batch) {}
  /// Makes the session's context current on the calling thread: a session
  /// may be driven from any thread, one at a time.
  bool bind(std::string *error);
  /// Ensures `buffer` holds at least `bytes` (reallocating, contents lost).
  bool reserve(Buffer &buffer, size_t bytes, const std::string &what,
               std::string *error);
  bool upload(const Buffer &buffer, const void *host, size_t bytes,
              const std::string &what, std::string *error);
  bool download(void *host, const Buffer &buffer, size_t bytes,
                const std::string &what, std::string *error);
  bool synchronize(const char *what, std::string *error);
  /// Prefixes a driver error with the device, so users know which GPU.
  bool fail(const std::string &message, std::string *error) const;

  const cuda::Driver &cu;
  const Model &model;
  int64_t streams;
  std::string deviceName; // "cuda:0 (NVIDIA H100 80GB HBM3)"
  cuda::CUdevice device = 0;
  cuda::CUcontext context = nullptr;
  cuda::CUstream stream = nullptr;
  cuda::CUmodule module = nullptr;
  cuda::CUfunction stepsKernel = nullptr, flushKernel = nullptr;

  std::vector<Buffer> params, state;
  std::vector<bool> paramPending; // host newer: upload before the next launch
  std::vector<Fresh> stateFresh;
  Buffer x, fire, scratch;
  std::vector<Buffer> outputs;
  std::vector<size_t> outputNumel;
};

} // namespace nlrt

#endif // NLRT_SRC_CUDAEXECUTOR_H
