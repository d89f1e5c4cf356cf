//===- CUDATarget.h - Compiling nl models for NVIDIA GPUs -------*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// The kernel form (nl-to-loops) is mapped to one thread block per stream
// (nl-map-to-gpu) and lowered through the gpu and NVVM dialects by the CUDA
// pipeline (nlc::buildCUDAPipeline, lib/Pipelines); here it is serialized
// to PTX by LLVM's NVPTX back end. The PTX is what the runtime loads with
// the CUDA driver API, and what `--emit=cuda-src` embeds in a standalone
// .cu file.
//
//===----------------------------------------------------------------------===//

#ifndef NLC_TARGET_CUDATARGET_H
#define NLC_TARGET_CUDATARGET_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <string>

namespace nlc {

struct ModelABI;

/// What PTX serialization and the manifest need (the pipeline's options:
/// nlc::CUDAPipelineOptions, lib/Pipelines).
struct CUDAOptions {
  std::string arch = "sm_90"; // sm_<major><minor>[a]
  /// Where libdevice is found (for math functions); empty: the
  /// CUDA_HOME / CUDA_PATH environment, else /usr/local/cuda.
  std::string toolkitPath;
};

/// The compiled kernels of one model and how to launch them.
struct CUDAImage {
  std::string ptx;
  std::string stepsKernel, flushKernel;
  int64_t blockSize = 0;
  int64_t scratchBytes = 0; // per stream, in global memory (0: none)
};

/// Serializes the gpu.module of `module` (after nlc::buildCUDAPipeline) to
/// PTX with LLVM's NVPTX back end.
mlir::FailureOr<CUDAImage> serializeToPTX(mlir::ModuleOp module,
                                          const CUDAOptions &options);

/// The "launch" member of a CUDA model's manifest.
std::string launchManifest(const CUDAImage &image, const CUDAOptions &options);

/// A self-contained CUDA source pair for `abi`: `<model>.h` declares a
/// plain C launch API, `<model>.cu` embeds the PTX and implements it with
/// the CUDA driver API.
struct CUDASource {
  std::string header, source;
};
CUDASource writeCUDASource(const ModelABI &abi, const CUDAImage &image,
                           llvm::StringRef version);

} // namespace nlc

#endif // NLC_TARGET_CUDATARGET_H
