//===- CudaDriver.h - The CUDA driver API, loaded at run time ---*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// nlrt must build and run on machines without CUDA, so it neither includes
// cuda.h nor links libcuda: the few driver entry points the CUDA executor
// needs are resolved with dlopen/dlsym the first time a CUDA device is asked
// for. The types below mirror cuda.h's ABI (handles are opaque pointers,
// CUresult and CUdevice are ints, device pointers are 64-bit integers).
//
// Internal to the runtime: not installed, not part of the public API.
//
//===----------------------------------------------------------------------===//

#ifndef NLRT_SRC_CUDADRIVER_H
#define NLRT_SRC_CUDADRIVER_H

#include <cstddef>
#include <string>

namespace nlrt {
namespace cuda {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;
using CUjit_option = int;

constexpr CUresult CUDA_SUCCESS = 0;
constexpr CUresult CUDA_ERROR_STUB_LIBRARY = 34;
// cuStreamCreate flag: the stream does not wait for the legacy default
// stream, which other CUDA code in the process may be using.
constexpr unsigned CU_STREAM_NON_BLOCKING = 1;
// CUjit_option values (cuda.h): where the PTX JIT writes its error log.
constexpr CUjit_option CU_JIT_ERROR_LOG_BUFFER = 5;
constexpr CUjit_option CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;
// CUdevice_attribute values (cuda.h).
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;

/// The driver's entry points. The `_v2` names are the ones cuda.h maps the
/// plain names to (64-bit device pointers); dlsym sees the raw symbols.
struct Driver {
  CUresult (*cuInit)(unsigned flags);
  CUresult (*cuDeviceGetCount)(int *count);
  CUresult (*cuDeviceGet)(CUdevice *device, int ordinal);
  CUresult (*cuDeviceGetName)(char *name, int length, CUdevice device);
  CUresult (*cuDeviceGetAttribute)(int *value, int attribute, CUdevice device);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *context, CUdevice device);
  CUresult (*cuDevicePrimaryCtxRelease)(CUdevice device);
  CUresult (*cuCtxSetCurrent)(CUcontext context);
  CUresult (*cuModuleLoadDataEx)(CUmodule *module, const void *image,
                                 unsigned numOptions, CUjit_option *options,
                                 void **optionValues);
  CUresult (*cuModuleUnload)(CUmodule module);
  CUresult (*cuModuleGetFunction)(CUfunction *function, CUmodule module,
                                  const char *name);
  CUresult (*cuMemAlloc)(CUdeviceptr *pointer, size_t bytes);
  CUresult (*cuMemFree)(CUdeviceptr pointer);
  CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr destination, const void *source,
                                size_t bytes, CUstream stream);
  CUresult (*cuMemcpyDtoHAsync)(void *destination, CUdeviceptr source,
                                size_t bytes, CUstream stream);
  CUresult (*cuMemsetD8Async)(CUdeviceptr destination, unsigned char value,
                              size_t count, CUstream stream);
  CUresult (*cuStreamCreate)(CUstream *stream, unsigned flags);
  CUresult (*cuStreamDestroy)(CUstream stream);
  CUresult (*cuStreamSynchronize)(CUstream stream);
  CUresult (*cuLaunchKernel)(CUfunction function, unsigned gridX,
                             unsigned gridY, unsigned gridZ, unsigned blockX,
                             unsigned blockY, unsigned blockZ,
                             unsigned sharedMemBytes, CUstream stream,
                             void **kernelParams, void **extra);
  CUresult (*cuGetErrorName)(CUresult result, const char **name);
  CUresult (*cuGetErrorString)(CUresult result, const char **text);

  /// "CUDA_ERROR_OUT_OF_MEMORY (out of memory)", or "CUresult N" when the
  /// driver does not know the code.
  std::string describe(CUresult result) const;
  /// True on CUDA_SUCCESS; otherwise writes "<call> failed: <describe>" to
  /// `error` (if non-null).
  bool check(CUresult result, const char *call, std::string *error) const;
};

/// The driver, loaded and initialized (cuInit) once per process, thread-safe.
/// Null if the library cannot be loaded or lacks an entry point ("CUDA device
/// requested but the NVIDIA driver library (libcuda.so.1) could not be
/// loaded: ..."), or if cuInit fails or no device is present ("no CUDA
/// device: ..."); `error` (if non-null) says which.
const Driver *getDriver(std::string *error);

} // namespace cuda
} // namespace nlrt

#endif // NLRT_SRC_CUDADRIVER_H
