// A C++ host program against the --emit=cuda-src API of titans-linear, for
// cuda-src-link.test: it is only linked there (no GPU); on a GPU it loads
// the kernels and runs one token of one stream (zero parameters).
#include "titans_linear.h"

#include <cstdio>

int main() {
  if (cuInit(0) != CUDA_SUCCESS) {
    std::puts("no GPU");
    return 0;
  }
  CUdevice dev;
  CUcontext ctx;
  nl_titans_linear_kernels_t k;
  if (cuDeviceGet(&dev, 0) != CUDA_SUCCESS ||
      cuCtxCreate(&ctx, nullptr, 0, dev) != CUDA_SUCCESS ||
      nl_titans_linear_load(&k) != CUDA_SUCCESS)
    return 1;
  CUdeviceptr p[NL_TITANS_LINEAR_NUM_PARAMS], s[NL_TITANS_LINEAR_NUM_STATE];
  for (int i = 0; i < NL_TITANS_LINEAR_NUM_PARAMS; ++i) {
    size_t bytes = sizeof(float) * nl_titans_linear_param_numel[i];
    cuMemAlloc(&p[i], bytes);
    cuMemsetD8(p[i], 0, bytes);
  }
  for (int j = 0; j < NL_TITANS_LINEAR_NUM_STATE; ++j) {
    size_t bytes = sizeof(float) * nl_titans_linear_state_numel[j];
    cuMemAlloc(&s[j], bytes);
    cuMemsetD8(s[j], 0, bytes);
  }
  CUdeviceptr x, y, fire;
  cuMemAlloc(&x, sizeof(float) * NL_TITANS_LINEAR_DIM);
  cuMemsetD8(x, 0, sizeof(float) * NL_TITANS_LINEAR_DIM);
  cuMemAlloc(&y, sizeof(float) * nl_titans_linear_output_numel[0]);
  cuMemAlloc(&fire, sizeof(uint64_t));
  cuMemsetD8(fire, 0xff, sizeof(uint64_t));
  CUresult r = nl_titans_linear_steps(
      &k, nullptr, 1, 1, reinterpret_cast<const float *const *>(p),
      reinterpret_cast<float *const *>(s), reinterpret_cast<const float *>(x),
      reinterpret_cast<float *const *>(&y), ~0ull,
      reinterpret_cast<const uint64_t *>(fire), nullptr);
  std::printf("steps: %d, sync: %d\n", static_cast<int>(r),
              static_cast<int>(cuCtxSynchronize()));
  return r != CUDA_SUCCESS || nl_titans_linear_unload(&k) != CUDA_SUCCESS;
}
