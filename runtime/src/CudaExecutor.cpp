//===- CudaExecutor.cpp - Running a CUDA model on one GPU -----------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "CudaExecutor.h"

#include <cctype>
#include <cstring>
#include <limits>

using namespace nlrt;
using namespace nlrt::cuda;

namespace {

/// a * b * c as a byte count, or false if it overflows size_t or int64.
bool bytesOf(int64_t a, int64_t b, int64_t c, size_t &out) {
  int64_t ab, abc;
  if (a < 0 || b < 0 || c < 0 || __builtin_mul_overflow(a, b, &ab) ||
      __builtin_mul_overflow(ab, c, &abc))
    return false;
  out = static_cast<size_t>(abc);
  return true;
}

/// The compute capability an arch name asks for ("sm_90" -> 90, "sm_100a"
/// -> 100), and whether it is architecture-specific (the "a" suffix: such
/// code runs on that exact architecture only). False if not of that form.
bool parseArch(const std::string &arch, int &capability, bool &exact) {
  size_t i = arch.rfind('_');
  if (i == std::string::npos || i + 1 >= arch.size() ||
      !std::isdigit(static_cast<unsigned char>(arch[i + 1])))
    return false;
  capability = 0;
  for (++i;
       i < arch.size() && std::isdigit(static_cast<unsigned char>(arch[i]));
       ++i)
    capability = capability * 10 + (arch[i] - '0');
  exact = i < arch.size() && arch[i] == 'a';
  return capability > 0 && capability < 1000;
}

} // namespace

bool CudaExecutor::fail(const std::string &message, std::string *error) const {
  if (error)
    *error = "CUDA " + deviceName + ": " + message;
  return false;
}

bool CudaExecutor::bind(std::string *error) {
  std::string why;
  if (!cu.check(cu.cuCtxSetCurrent(context), "cuCtxSetCurrent", &why))
    return fail(why, error);
  return true;
}

bool CudaExecutor::reserve(Buffer &buffer, size_t bytes,
                           const std::string &what, std::string *error) {
  if (bytes <= buffer.bytes)
    return true;
  // Earlier work on the buffer is finished: every call ends with a
  // synchronization of the stream.
  if (buffer.ptr)
    cu.cuMemFree(buffer.ptr);
  buffer = Buffer();
  std::string why;
  if (!cu.check(cu.cuMemAlloc(&buffer.ptr, bytes), "cuMemAlloc_v2", &why)) {
    buffer = Buffer();
    return fail(why + " allocating " + std::to_string(bytes) + " bytes for " +
                    what,
                error);
  }
  buffer.bytes = bytes;
  return true;
}

bool CudaExecutor::upload(const Buffer &buffer, const void *host, size_t bytes,
                          const std::string &what, std::string *error) {
  if (bytes == 0)
    return true;
  std::string why;
  // From pageable memory the driver stages the bytes before it returns, so
  // the host buffer may change right after.
  if (!cu.check(cu.cuMemcpyHtoDAsync(buffer.ptr, host, bytes, stream),
                "cuMemcpyHtoDAsync_v2", &why))
    return fail(why + " uploading " + what, error);
  return true;
}

bool CudaExecutor::download(void *host, const Buffer &buffer, size_t bytes,
                            const std::string &what, std::string *error) {
  if (bytes == 0)
    return true;
  std::string why;
  if (!cu.check(cu.cuMemcpyDtoHAsync(host, buffer.ptr, bytes, stream),
                "cuMemcpyDtoHAsync_v2", &why))
    return fail(why + " downloading " + what, error);
  return true;
}

bool CudaExecutor::synchronize(const char *what, std::string *error) {
  std::string why;
  // Errors of kernels (an illegal address, a trap) surface here.
  if (!cu.check(cu.cuStreamSynchronize(stream), "cuStreamSynchronize", &why))
    return fail(why + " " + what, error);
  return true;
}

std::unique_ptr<CudaExecutor>
CudaExecutor::create(const Model &model, int64_t batch, std::string *error) {
  const Driver *driver = cuda::getDriver(error);
  if (!driver)
    return nullptr;
  const Manifest &m = model.manifest();
  // The steps kernel runs one block per stream.
  if (batch > std::numeric_limits<int32_t>::max()) {
    *error = "a CUDA session holds at most 2^31-1 streams";
    return nullptr;
  }
  std::unique_ptr<CudaExecutor> e(new CudaExecutor(*driver, model, batch));
  const Driver &cu = *driver;
  std::string why;
  e->deviceName = "cuda:0";
  if (!cu.check(cu.cuDeviceGet(&e->device, 0), "cuDeviceGet", &why)) {
    e->fail(why, error);
    return nullptr;
  }
  char name[256] = {};
  if (cu.cuDeviceGetName(name, sizeof(name) - 1, e->device) == CUDA_SUCCESS)
    e->deviceName += std::string(" (") + name + ")";
  if (!cu.check(cu.cuDevicePrimaryCtxRetain(&e->context, e->device),
                "cuDevicePrimaryCtxRetain", &why)) {
    e->context = nullptr;
    e->fail(why, error);
    return nullptr;
  }
  if (!e->bind(error))
    return nullptr;

  // A GPU older than the image's architecture would fail in the JIT with a
  // message about PTX targets; say it in the model's terms instead.
  int major = 0, minor = 0, wanted = 0;
  bool exact = false;
  if (parseArch(m.arch, wanted, exact) &&
      cu.cuDeviceGetAttribute(&major,
                              CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
                              e->device) == CUDA_SUCCESS &&
      cu.cuDeviceGetAttribute(&minor,
                              CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
                              e->device) == CUDA_SUCCESS) {
    int have = major * 10 + minor;
    if (have < wanted || (exact && have != wanted)) {
      e->fail("model '" + m.model + "' was compiled for " + m.arch +
                  " but this GPU is sm_" + std::to_string(have) +
                  "; recompile it for this GPU",
              error);
      return nullptr;
    }
  }

  if (!cu.check(cu.cuStreamCreate(&e->stream, CU_STREAM_NON_BLOCKING),
                "cuStreamCreate", &why)) {
    e->stream = nullptr;
    e->fail(why, error);
    return nullptr;
  }

  // The PTX JIT explains its failures in a log, not in the result code.
  std::vector<char> log(16384, '\0');
  CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER,
                            CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {log.data(), reinterpret_cast<void *>(log.size() - 1)};
  // image() is a std::string: its bytes are NUL-terminated, as PTX text
  // must be.
  CUresult loaded = cu.cuModuleLoadDataEx(&e->module, model.image().c_str(), 2,
                                          options, values);
  if (loaded != CUDA_SUCCESS) {
    e->module = nullptr;
    cu.check(loaded, "cuModuleLoadDataEx", &why);
    std::string jitLog(log.data());
    e->fail("cannot load the image '" + model.path() + "': " + why +
                (jitLog.empty() ? "" : "\n" + jitLog),
            error);
    return nullptr;
  }
  for (auto [symbol, slot] : {std::make_pair(&m.stepSymbol, &e->stepsKernel),
                              std::make_pair(&m.flushSymbol, &e->flushKernel)})
    if (!cu.check(cu.cuModuleGetFunction(slot, e->module, symbol->c_str()),
                  "cuModuleGetFunction", &why)) {
      e->fail("the image '" + model.path() + "' has no kernel '" + *symbol +
                  "' (the manifest's entry point): " + why,
              error);
      return nullptr;
    }

  // Parameters and state live on the device for the whole session.
  e->params.resize(m.params.size());
  e->paramPending.assign(m.params.size(), true);
  for (size_t i = 0; i < m.params.size(); ++i) {
    size_t bytes;
    if (!bytesOf(m.params[i].numel, 1, sizeof(float), bytes) ||
        !e->reserve(e->params[i], bytes, "parameter '" + m.params[i].name + "'",
                    error))
      return nullptr;
  }
  e->state.resize(m.state.size());
  e->stateFresh.assign(m.state.size(), Fresh::Host);
  for (size_t j = 0; j < m.state.size(); ++j) {
    size_t bytes;
    if (!bytesOf(m.state[j].numel, batch, sizeof(float), bytes)) {
      e->fail("state '" + m.state[j].name + "' of " + std::to_string(batch) +
                  " streams is too large",
              error);
      return nullptr;
    }
    if (!e->reserve(e->state[j], bytes, "state '" + m.state[j].name + "'",
                    error))
      return nullptr;
  }
  e->outputs.resize(m.outputs.size());
  for (const auto &shape : m.outputs) {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    e->outputNumel.push_back(static_cast<size_t>(n));
  }
  return e;
}

CudaExecutor::~CudaExecutor() {
  // Nothing here can report an error; a context that is already broken
  // makes these calls fail harmlessly.
  if (!context)
    return;
  cu.cuCtxSetCurrent(context);
  if (stream)
    cu.cuStreamSynchronize(stream);
  auto release = [&](Buffer &b) {
    if (b.ptr)
      cu.cuMemFree(b.ptr);
    b = Buffer();
  };
  for (Buffer &b : params)
    release(b);
  for (Buffer &b : state)
    release(b);
  for (Buffer &b : outputs)
    release(b);
  release(x);
  release(fire);
  release(scratch);
  if (module)
    cu.cuModuleUnload(module);
  if (stream)
    cu.cuStreamDestroy(stream);
  cu.cuDevicePrimaryCtxRelease(device);
}

bool CudaExecutor::writeParam(size_t i, const std::vector<float> &host,
                              std::string *error) {
  paramPending[i] = true;
  if (!bind(error) ||
      !upload(params[i], host.data(), host.size() * sizeof(float),
              "parameter '" + model.manifest().params[i].name + "'", error) ||
      !synchronize("after uploading parameters", error))
    return false;
  paramPending[i] = false;
  return true;
}

bool CudaExecutor::writeState(size_t j, const std::vector<float> &host,
                              std::string *error) {
  stateFresh[j] = Fresh::Host;
  if (!bind(error) ||
      !upload(state[j], host.data(), host.size() * sizeof(float),
              "state '" + model.manifest().state[j].name + "'", error) ||
      !synchronize("after uploading state", error))
    return false;
  stateFresh[j] = Fresh::Both;
  return true;
}

bool CudaExecutor::readState(size_t j, std::vector<float> &host,
                             std::string *error) {
  if (stateFresh[j] != Fresh::Device)
    return true;
  if (!bind(error) ||
      !download(host.data(), state[j], host.size() * sizeof(float),
                "state '" + model.manifest().state[j].name + "'", error) ||
      !synchronize("after downloading state", error))
    return false;
  stateFresh[j] = Fresh::Both;
  return true;
}

bool CudaExecutor::zeroState(size_t j, std::vector<float> &host,
                             std::string *error) {
  // Zero each copy that holds the current value; the stale one stays stale
  // (and is overwritten when it is next synchronized).
  if (stateFresh[j] != Fresh::Device)
    std::fill(host.begin(), host.end(), 0.0f);
  if (stateFresh[j] == Fresh::Host)
    return true;
  std::string why;
  if (!bind(error))
    return false;
  if (!cu.check(cu.cuMemsetD8Async(state[j].ptr, 0, state[j].bytes, stream),
                "cuMemsetD8Async", &why))
    return fail(why + " zeroing state '" + model.manifest().state[j].name + "'",
                error);
  return synchronize("after zeroing state", error);
}

bool CudaExecutor::run(const CallPlan &plan, const CallIO &io,
                       std::string *error) {
  return launch(io.params, io.state, io.x, plan.tokens, io.outputs, io.active,
                plan.fire, plan.flush, error);
}

bool CudaExecutor::launch(const std::vector<std::vector<float>> &hostParams,
                          const std::vector<std::vector<float>> &hostState,
                          const float *tokensIn, int64_t tokens,
                          const std::vector<float *> &hostOutputs,
                          uint64_t active,
                          const std::vector<uint64_t> &fireMasks,
                          uint64_t flush, std::string *error) {
  const Manifest &m = model.manifest();
  if (!bind(error))
    return false;
  // Host writes whose upload failed earlier go first.
  for (size_t i = 0; i < params.size(); ++i)
    if (paramPending[i]) {
      if (!upload(params[i], hostParams[i].data(),
                  hostParams[i].size() * sizeof(float),
                  "parameter '" + m.params[i].name + "'", error))
        return false;
      paramPending[i] = false;
    }
  for (size_t j = 0; j < state.size(); ++j)
    if (stateFresh[j] == Fresh::Host) {
      if (!upload(state[j], hostState[j].data(),
                  hostState[j].size() * sizeof(float),
                  "state '" + m.state[j].name + "'", error))
        return false;
      stateFresh[j] = Fresh::Both;
    }

  std::vector<size_t> outputBytes(outputs.size());
  size_t xBytes = 0, fireBytes = 0;
  if (tokens > 0) {
    bool fits = bytesOf(streams, tokens, m.dim * sizeof(float), xBytes) &&
                bytesOf(tokens, 1, sizeof(uint64_t), fireBytes);
    for (size_t k = 0; k < outputs.size(); ++k)
      fits = fits && bytesOf(streams, tokens, outputNumel[k] * sizeof(float),
                             outputBytes[k]);
    if (!fits)
      return fail("a call of " + std::to_string(tokens) +
                      " tokens is too large",
                  error);
    if (!reserve(x, xBytes, "the tokens", error) ||
        !reserve(fire, fireBytes, "the fire masks", error))
      return false;
    for (size_t k = 0; k < outputs.size(); ++k)
      if (!reserve(outputs[k], outputBytes[k], "output " + std::to_string(k),
                   error))
        return false;
    if (!upload(x, tokensIn, xBytes, "the tokens", error) ||
        !upload(fire, fireMasks.data(), fireBytes, "the fire masks", error))
      return false;
  }

  // Per-stream scratch in global memory, for kernels whose scratch does not
  // fit in shared memory.
  size_t scratchBytes = 0;
  if (m.scratchBytes > 0) {
    if (!bytesOf(streams, m.scratchBytes, 1, scratchBytes))
      return fail("the scratch of " + std::to_string(streams) +
                      " streams is too large",
                  error);
    if (!reserve(scratch, scratchBytes, "the scratch", error))
      return false;
  }

  // Kernel parameters are passed as pointers to their values, in the order
  // of the kernel ABI: params, state, then x, outputs, active, fire, T for
  // the steps kernel, or the fire mask for the flush kernel; the scratch
  // pointer last.
  // `args` points into `pointers`: reserve all of it up front so that no
  // push_back moves the values.
  std::vector<CUdeviceptr> pointers;
  pointers.reserve(params.size() + state.size() + 1 + outputs.size() + 3);
  std::vector<void *> args;
  auto pointerArg = [&](CUdeviceptr p) {
    pointers.push_back(p);
    args.push_back(&pointers.back());
  };
  for (const Buffer &b : params)
    pointerArg(b.ptr);
  for (const Buffer &b : state)
    pointerArg(b.ptr);
  size_t prefix = args.size();
  int64_t activeArg = static_cast<int64_t>(active);
  int64_t tokensArg = tokens;
  int64_t flushArg = static_cast<int64_t>(flush);
  auto launch = [&](CUfunction kernel, const char *which) {
    std::string why;
    if (!cu.check(cu.cuLaunchKernel(kernel, static_cast<unsigned>(streams), 1,
                                    1, static_cast<unsigned>(m.blockSize), 1, 1,
                                    0, stream, args.data(), nullptr),
                  "cuLaunchKernel", &why))
      return fail(why + " launching " + which, error);
    return true;
  };
  if (tokens > 0) {
    pointerArg(x.ptr);
    for (const Buffer &b : outputs)
      pointerArg(b.ptr);
    args.push_back(&activeArg);
    pointerArg(fire.ptr);
    args.push_back(&tokensArg);
    pointerArg(scratch.ptr);
    // From here on the kernel may have changed the state.
    stateFresh.assign(state.size(), Fresh::Device);
    if (!launch(stepsKernel, m.stepSymbol.c_str()))
      return false;
  }
  if (flush) {
    args.resize(prefix);
    args.push_back(&flushArg);
    pointerArg(scratch.ptr);
    stateFresh.assign(state.size(), Fresh::Device);
    if (!launch(flushKernel, m.flushSymbol.c_str()))
      return false;
  }
  if (tokens > 0)
    for (size_t k = 0; k < outputs.size(); ++k)
      if (!download(hostOutputs[k], outputs[k], outputBytes[k],
                    "output " + std::to_string(k), error))
        return false;
  return synchronize("after running the model", error);
}
