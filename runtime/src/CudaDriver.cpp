//===- CudaDriver.cpp - The CUDA driver API, loaded at run time -----------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "CudaDriver.h"

#include <dlfcn.h>
#include <initializer_list>

using namespace nlrt;
using namespace nlrt::cuda;

std::string Driver::describe(CUresult result) const {
  const char *name = nullptr;
  const char *text = nullptr;
  // Both leave the pointer alone (or null) for a code they do not know.
  if (cuGetErrorName(result, &name) != CUDA_SUCCESS || !name) {
    // The toolkit's stub libcuda (found on a build machine's library path)
    // fails every call, the naming of its own error included.
    if (result == CUDA_ERROR_STUB_LIBRARY)
      return "CUDA_ERROR_STUB_LIBRARY (the CUDA toolkit's stub libcuda was "
             "loaded, not the NVIDIA driver's)";
    return "CUresult " + std::to_string(result);
  }
  if (cuGetErrorString(result, &text) != CUDA_SUCCESS || !text)
    return name;
  return std::string(name) + " (" + text + ")";
}

bool Driver::check(CUresult result, const char *call,
                   std::string *error) const {
  if (result == CUDA_SUCCESS)
    return true;
  if (error)
    *error = std::string(call) + " failed: " + describe(result);
  return false;
}

namespace {

/// The outcome of the one attempt per process to load the driver.
struct Loaded {
  Driver driver{};
  bool ok = false;
  std::string error;
};

/// Resolves `names` in order (a versioned symbol first, then the plain one
/// of older drivers) into `slot`.
template <typename Fn>
bool resolve(void *library, Fn &slot, std::initializer_list<const char *> names,
             std::string &missing) {
  for (const char *name : names)
    if (void *symbol = dlsym(library, name)) {
      slot = reinterpret_cast<Fn>(symbol);
      return true;
    }
  missing = *names.begin();
  return false;
}

Loaded load() {
  Loaded result;
  const std::string prefix = "CUDA device requested but the NVIDIA driver "
                             "library (libcuda.so.1) could not be loaded: ";
  // libcuda.so.1 is what the driver installs; libcuda.so exists only where a
  // toolkit's development link is on the search path. The library is never
  // closed: the driver lives as long as the process.
  void *library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *why = dlerror();
    result.error = prefix + (why ? why : "unknown dlopen error");
    library = dlopen("libcuda.so", RTLD_NOW | RTLD_LOCAL);
    if (!library)
      return result;
  }
  Driver &d = result.driver;
  std::string missing;
  bool all =
      resolve(library, d.cuInit, {"cuInit"}, missing) &&
      resolve(library, d.cuDeviceGetCount, {"cuDeviceGetCount"}, missing) &&
      resolve(library, d.cuDeviceGet, {"cuDeviceGet"}, missing) &&
      resolve(library, d.cuDeviceGetName, {"cuDeviceGetName"}, missing) &&
      resolve(library, d.cuDeviceGetAttribute, {"cuDeviceGetAttribute"},
              missing) &&
      resolve(library, d.cuDevicePrimaryCtxRetain, {"cuDevicePrimaryCtxRetain"},
              missing) &&
      resolve(library, d.cuDevicePrimaryCtxRelease,
              {"cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease"},
              missing) &&
      resolve(library, d.cuCtxSetCurrent, {"cuCtxSetCurrent"}, missing) &&
      resolve(library, d.cuModuleLoadDataEx, {"cuModuleLoadDataEx"}, missing) &&
      resolve(library, d.cuModuleUnload, {"cuModuleUnload"}, missing) &&
      resolve(library, d.cuModuleGetFunction, {"cuModuleGetFunction"},
              missing) &&
      // The unversioned cuMemAlloc/cuMemFree/cuMemcpy* of the driver are the
      // legacy 32-bit-pointer ABI: only the _v2 symbols will do.
      resolve(library, d.cuMemAlloc, {"cuMemAlloc_v2"}, missing) &&
      resolve(library, d.cuMemFree, {"cuMemFree_v2"}, missing) &&
      resolve(library, d.cuMemcpyHtoDAsync, {"cuMemcpyHtoDAsync_v2"},
              missing) &&
      resolve(library, d.cuMemcpyDtoHAsync, {"cuMemcpyDtoHAsync_v2"},
              missing) &&
      resolve(library, d.cuMemsetD8Async, {"cuMemsetD8Async"}, missing) &&
      resolve(library, d.cuStreamCreate, {"cuStreamCreate"}, missing) &&
      resolve(library, d.cuStreamDestroy,
              {"cuStreamDestroy_v2", "cuStreamDestroy"}, missing) &&
      resolve(library, d.cuStreamSynchronize, {"cuStreamSynchronize"},
              missing) &&
      resolve(library, d.cuLaunchKernel, {"cuLaunchKernel"}, missing) &&
      resolve(library, d.cuGetErrorName, {"cuGetErrorName"}, missing) &&
      resolve(library, d.cuGetErrorString, {"cuGetErrorString"}, missing);
  if (!all) {
    result.error = prefix + "it has no symbol " + missing +
                   " (the driver is too old or not NVIDIA's)";
    return result;
  }
  result.error.clear();

  // cuInit is where a driver without a usable GPU says so (no device, a
  // stub library from the toolkit, a driver older than the kernel module).
  std::string why;
  if (!d.check(d.cuInit(0), "cuInit", &why)) {
    result.error = "no CUDA device: " + why;
    return result;
  }
  int count = 0;
  if (!d.check(d.cuDeviceGetCount(&count), "cuDeviceGetCount", &why)) {
    result.error = "no CUDA device: " + why;
    return result;
  }
  if (count < 1) {
    result.error = "no CUDA device: the driver reports no GPU (check "
                   "CUDA_VISIBLE_DEVICES and nvidia-smi)";
    return result;
  }
  result.ok = true;
  return result;
}

} // namespace

const Driver *nlrt::cuda::getDriver(std::string *error) {
  // A function-local static is initialized exactly once, even when several
  // threads create sessions at the same time.
  static const Loaded loaded = load();
  if (!loaded.ok) {
    if (error)
      *error = loaded.error;
    return nullptr;
  }
  return &loaded.driver;
}
