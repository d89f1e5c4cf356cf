//===- CUDATarget.h - Compiling nl models for NVIDIA GPUs -------*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// The kernel form (nl-to-loops) is mapped to one thread block per stream
// (nl-map-to-gpu), lowered through the gpu and NVVM dialects, and serialized
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

namespace mlir {
class OpPassManager;
} // namespace mlir

namespace nlc {

struct ModelABI;

struct CUDAOptions {
  std::string arch = "sm_90"; // sm_<major><minor>[a]
  int64_t blockSize = 512;
  unsigned optLevel = 3;
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

/// Checks `arch` (sm_70 .. sm_120a) and returns the PTX ISA feature it
/// needs, or an error message.
mlir::FailureOr<std::string> ptxFeatureFor(llvm::StringRef arch,
                                           std::string *error);

/// Kernel form -> gpu.module of NVVM kernels with the plain pointer ABI.
mlir::LogicalResult buildCUDAPipeline(mlir::OpPassManager &pm,
                                      const CUDAOptions &options,
                                      std::string *error);

/// Serializes the gpu.module of `module` (after buildCUDAPipeline) to PTX.
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
