/* A host program against the --emit=cuda-src API of titans-linear: links
 * (with the driver API stub here) and, on a GPU, runs one call. */
#include "titans_linear.h"

#include <stdio.h>

int main(void) {
  if (cuInit(0) != CUDA_SUCCESS) {
    printf("no GPU\n");
    return 0;
  }
  CUdevice dev;
  CUcontext ctx;
  nl_titans_linear_kernels_t k;
  if (cuDeviceGet(&dev, 0) || cuCtxCreate(&ctx, NULL, 0, dev) ||
      nl_titans_linear_load(&k))
    return 1;
  CUdeviceptr p[NL_TITANS_LINEAR_NUM_PARAMS], s[NL_TITANS_LINEAR_NUM_STATE];
  for (int i = 0; i < NL_TITANS_LINEAR_NUM_PARAMS; ++i)
    cuMemAlloc(&p[i], sizeof(float) * nl_titans_linear_param_numel[i]);
  for (int j = 0; j < NL_TITANS_LINEAR_NUM_STATE; ++j) {
    cuMemAlloc(&s[j], sizeof(float) * nl_titans_linear_state_numel[j]);
    cuMemsetD8(s[j], 0, sizeof(float) * nl_titans_linear_state_numel[j]);
  }
  CUdeviceptr x, y, fire;
  cuMemAlloc(&x, sizeof(float) * NL_TITANS_LINEAR_DIM);
  cuMemsetD8(x, 0, sizeof(float) * NL_TITANS_LINEAR_DIM);
  cuMemAlloc(&y, sizeof(float) * nl_titans_linear_output_numel[0]);
  cuMemAlloc(&fire, sizeof(uint64_t));
  cuMemsetD8(fire, 0xff, sizeof(uint64_t));
  CUresult r = nl_titans_linear_steps(
      &k, 0, 1, 1, (const float *const *)p, (float *const *)s,
      (const float *)x, (float *const *)&y, ~0ull, (const uint64_t *)fire,
      NULL);
  printf("steps: %d, sync: %d\n", (int)r, (int)cuCtxSynchronize());
  return nl_titans_linear_unload(&k) != CUDA_SUCCESS;
}
