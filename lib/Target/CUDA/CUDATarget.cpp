//===- CUDATarget.cpp - Compiling nl models for NVIDIA GPUs ---------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "nlc/Target/CUDATarget.h"

#include "nlc/Conversion/Passes.h"
#include "nlc/Target/ModelABI.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

FailureOr<std::string> nlc::ptxFeatureFor(llvm::StringRef arch,
                                          std::string *error) {
  llvm::StringRef digits = arch;
  unsigned version = 0;
  if (!digits.consume_front("sm_") ||
      (digits.consume_back("a"), digits.getAsInteger(10, version)) ||
      version < 70 || version > 121) {
    *error = ("unknown GPU architecture '" + arch +
              "' (expected sm_70 .. sm_121, e.g. sm_80, sm_90, sm_90a)")
                 .str();
    return failure();
  }
  // The lowest PTX ISA that LLVM 22 accepts for the architecture.
  if (version >= 100)
    return std::string("+ptx86");
  return std::string("+ptx80");
}

LogicalResult nlc::buildCUDAPipeline(OpPassManager &pm,
                                     const CUDAOptions &options,
                                     std::string *error) {
  FailureOr<std::string> feature = ptxFeatureFor(options.arch, error);
  if (failed(feature))
    return failure();
  std::string pipeline;
  llvm::raw_string_ostream os(pipeline);
  os << "nl-map-to-gpu{block-size=" << options.blockSize
     << "},canonicalize,cse,"
     << "nvvm-attach-target{chip=" << options.arch << " features=" << *feature
     << " O=" << options.optLevel << "},"
     << "gpu.module(expand-strided-metadata,lower-affine,convert-scf-to-cf,"
        "convert-gpu-to-nvvm,nl-bare-kernel-args,canonicalize,cse),"
        "reconcile-unrealized-casts";
  if (failed(parsePassPipeline(pipeline, pm))) {
    *error = "cannot build the CUDA pipeline: " + pipeline;
    return failure();
  }
  return success();
}

namespace {
std::string toolkitPath(const nlc::CUDAOptions &options) {
  if (!options.toolkitPath.empty())
    return options.toolkitPath;
  for (const char *var : {"CUDA_HOME", "CUDA_PATH"})
    if (auto v = llvm::sys::Process::GetEnv(var))
      return *v;
  return "/usr/local/cuda";
}
} // namespace

FailureOr<nlc::CUDAImage> nlc::serializeToPTX(ModuleOp module,
                                              const CUDAOptions &options) {
  CUDAImage image;
  // Launch facts, from the lowered kernels (the attributes nl-map-to-gpu
  // set survive the lowering to llvm.func).
  module.walk([&](LLVM::LLVMFuncOp fn) {
    auto block = fn->getAttrOfType<IntegerAttr>("nl.block_size");
    if (!block)
      return;
    image.blockSize = block.getInt();
    if (auto s = fn->getAttrOfType<IntegerAttr>("nl.scratch_bytes"))
      image.scratchBytes = std::max(image.scratchBytes, s.getInt());
    if (fn.getName().ends_with("_steps"))
      image.stepsKernel = fn.getName().str();
    else
      image.flushKernel = fn.getName().str();
  });
  if (image.stepsKernel.empty() || image.flushKernel.empty())
    return module.emitError()
           << "the CUDA pipeline produced no steps/flush kernels";

  std::string toolkit = toolkitPath(options);
  llvm::SmallString<128> libdevice(toolkit);
  llvm::sys::path::append(libdevice, "nvvm", "libdevice", "libdevice.10.bc");
  if (!llvm::sys::fs::exists(libdevice))
    return module.emitError()
           << "libdevice (the CUDA math library) is not at '" << libdevice
           << "'; set CUDA_HOME or --cuda-path to the CUDA toolkit";

  PassManager pm(module.getContext(), ModuleOp::getOperationName());
  std::string pipeline =
      "gpu-module-to-binary{format=isa toolkit=" + toolkit + "}";
  if (failed(parsePassPipeline(pipeline, pm)) || failed(pm.run(module)))
    return failure();
  for (auto binary : module.getOps<gpu::BinaryOp>())
    for (Attribute a : binary.getObjects())
      if (auto object = dyn_cast<gpu::ObjectAttr>(a))
        image.ptx = object.getObject().getValue().str();
  if (image.ptx.empty())
    return module.emitError() << "gpu-module-to-binary produced no PTX";
  // A PTX module is NUL-terminated text for cuModuleLoadData.
  while (!image.ptx.empty() && image.ptx.back() == '\0')
    image.ptx.pop_back();
  return image;
}

std::string nlc::launchManifest(const CUDAImage &image,
                                const CUDAOptions &options) {
  std::string out;
  llvm::raw_string_ostream os(out);
  os << "{\"block_size\": " << image.blockSize << ", \"arch\": \""
     << options.arch << "\", \"scratch_bytes\": " << image.scratchBytes
     << ", \"image\": \"ptx\"}";
  return out;
}

//===----------------------------------------------------------------------===//
// --emit=cuda-src
//===----------------------------------------------------------------------===//

namespace {
/// `text` as a C string literal, split into lines.
void writeCString(llvm::raw_ostream &os, llvm::StringRef text) {
  os << "  \"";
  for (char c : text) {
    switch (c) {
    case '\n':
      os << "\\n\"\n  \"";
      break;
    case '\t':
      os << "\\t";
      break;
    case '"':
      os << "\\\"";
      break;
    case '\\':
      os << "\\\\";
      break;
    default:
      os << c;
    }
  }
  os << "\"";
}

int64_t numel(llvm::ArrayRef<int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}
} // namespace

nlc::CUDASource nlc::writeCUDASource(const ModelABI &abi,
                                     const CUDAImage &image,
                                     llvm::StringRef version) {
  std::string m = abi.model;
  std::string M = llvm::StringRef(m).upper();
  CUDASource out;
  {
    llvm::raw_string_ostream os(out.header);
    os << "/* " << m << ".h: kernels of the nl model '" << m
       << "', generated by " << version << ". Do not edit.\n"
       << " *\n"
       << " * A plain C launch API over the CUDA driver API. Compiled by "
          "nvcc, the .cu\n"
       << " * also needs cudart: link with -lcudart_static -ldl -lpthread "
          "-lrt -lcuda\n"
       << " * (docs/cuda.md; g++ -x c++ on the .cu needs -lcuda alone).\n"
       << " * Buffers are device pointers: parameter i holds numel(i) "
          "floats; state\n"
       << " * j holds batch * numel(j) elements (stream-major; float, or "
          "int32 for the\n"
       << " * counts the manifest marks i32); x is\n"
       << " * [batch][tokens][" << abi.dim
       << "]; output k is [batch][tokens][numel(k)];\n"
       << " * fire is [tokens] (bit l set: level l applies its update after "
          "that\n"
       << " * token); scratch holds nl_" << m
       << "_scratch_bytes(batch) bytes. Initial values\n"
       << " * are the model's initializers (see its manifest).\n */\n"
       << "#ifndef NL_" << M << "_H\n#define NL_" << M << "_H\n\n"
       << "#include <cuda.h>\n#include <stddef.h>\n#include <stdint.h>\n\n"
       << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
       << "#define NL_" << M << "_DIM " << abi.dim << "\n"
       << "#define NL_" << M << "_NUM_PARAMS " << abi.params.size() << "\n"
       << "#define NL_" << M << "_NUM_STATE " << abi.state.size() << "\n"
       << "#define NL_" << M << "_NUM_OUTPUTS " << abi.outputs.size() << "\n"
       << "#define NL_" << M << "_NUM_LEVELS " << abi.levels.size() << "\n"
       << "#define NL_" << M << "_BLOCK_SIZE " << image.blockSize << "\n\n";
    auto table = [&](llvm::StringRef name, auto &&items, auto &&value,
                     llvm::StringRef type) {
      os << "static const " << type << " nl_" << m << "_" << name << "[] = {";
      llvm::interleaveComma(items, os, value);
      if (items.empty())
        os << "0";
      os << "};\n";
    };
    table(
        "param_names", abi.params,
        [&](const ABITensor &t) { os << "\"" << t.name << "\""; },
        "char *const");
    table(
        "param_numel", abi.params,
        [&](const ABITensor &t) { os << numel(t.shape); }, "int64_t");
    table(
        "state_names", abi.state,
        [&](const ABITensor &t) { os << "\"" << t.name << "\""; },
        "char *const");
    table(
        "state_numel", abi.state,
        [&](const ABITensor &t) { os << numel(t.shape); }, "int64_t");
    table(
        "output_numel", abi.outputs,
        [&](const auto &shape) { os << numel(shape); }, "int64_t");
    table(
        "level_names", abi.levels,
        [&](const ABILevel &l) { os << "\"" << l.name << "\""; },
        "char *const");
    os << "\ntypedef struct nl_" << m << "_kernels {\n"
       << "  CUmodule module;\n  CUfunction steps, flush;\n} nl_" << m
       << "_kernels_t;\n\n"
       << "/* Loads the kernels into the current context. */\n"
       << "CUresult nl_" << m << "_load(nl_" << m << "_kernels_t *k);\n"
       << "CUresult nl_" << m << "_unload(nl_" << m << "_kernels_t *k);\n"
       << "/* Bytes of scratch (device memory) a call for `batch` streams "
          "needs. */\n"
       << "size_t nl_" << m << "_scratch_bytes(int64_t batch);\n"
       << "/* Runs `tokens` tokens of `batch` streams on `stream`: one block "
          "per\n * stream. `params`, `state`, `outputs` are host arrays of "
          "device pointers;\n * `fire` is a device array. */\n"
       << "CUresult nl_" << m << "_steps(const nl_" << m
       << "_kernels_t *k, CUstream stream,\n"
       << "    int64_t batch, int64_t tokens, const float *const *params,\n"
       << "    float *const *state, const float *x, float *const *outputs,\n"
       << "    uint64_t active, const uint64_t *fire, void *scratch);\n"
       << "/* Applies the pending chunks of the levels whose bit is set in "
          "`fire`\n * (a call's end under the `flush` tail policy). */\n"
       << "CUresult nl_" << m << "_flush(const nl_" << m
       << "_kernels_t *k, CUstream stream,\n"
       << "    int64_t batch, const float *const *params, float *const "
          "*state,\n"
       << "    uint64_t fire, void *scratch);\n\n"
       << "#ifdef __cplusplus\n} /* extern \"C\" */\n#endif\n\n#endif /* NL_"
       << M << "_H */\n";
  }
  {
    llvm::raw_string_ostream os(out.source);
    size_t P = abi.params.size(), S = abi.state.size(), O = abi.outputs.size();
    os << "/* " << m << ".cu: kernels of the nl model '" << m
       << "', generated by " << version << ". Do not edit.\n"
       << " * The kernels are embedded as PTX (compiled by nlc from the "
          "model's IR)\n * and JIT-compiled by the driver on first load. "
          "*/\n"
       << "#include \"" << m << ".h\"\n\n"
       << "static const char nl_" << m << "_ptx[] =\n";
    writeCString(os, image.ptx);
    os << ";\n\n"
       << "CUresult nl_" << m << "_load(nl_" << m << "_kernels_t *k) {\n"
       << "  CUresult r = cuModuleLoadData(&k->module, nl_" << m << "_ptx);\n"
       << "  if (r != CUDA_SUCCESS)\n    return r;\n"
       << "  r = cuModuleGetFunction(&k->steps, k->module, \""
       << image.stepsKernel << "\");\n"
       << "  if (r == CUDA_SUCCESS)\n"
       << "    r = cuModuleGetFunction(&k->flush, k->module, \""
       << image.flushKernel << "\");\n"
       << "  return r;\n}\n\n"
       << "CUresult nl_" << m << "_unload(nl_" << m << "_kernels_t *k) {\n"
       << "  return cuModuleUnload(k->module);\n}\n\n"
       << "size_t nl_" << m << "_scratch_bytes(int64_t batch) {\n"
       << "  return (size_t)batch * " << image.scratchBytes << "u;\n}\n\n"
       << "CUresult nl_" << m << "_steps(const nl_" << m
       << "_kernels_t *k, CUstream stream,\n"
       << "    int64_t batch, int64_t tokens, const float *const *params,\n"
       << "    float *const *state, const float *x, float *const *outputs,\n"
       << "    uint64_t active, const uint64_t *fire, void *scratch) {\n"
       << "  if (batch <= 0 || tokens <= 0)\n"
       << "    return batch < 0 || tokens < 0 ? CUDA_ERROR_INVALID_VALUE : "
          "CUDA_SUCCESS;\n"
       << "  void *args[" << P + S + O + 5 << "];\n"
       << "  int64_t a = (int64_t)active, t = tokens;\n"
       << "  int n = 0;\n"
       << "  for (int i = 0; i < " << P << "; ++i)\n"
       << "    args[n++] = (void *)&params[i];\n"
       << "  for (int i = 0; i < " << S << "; ++i)\n"
       << "    args[n++] = (void *)&state[i];\n"
       << "  args[n++] = (void *)&x;\n"
       << "  for (int i = 0; i < " << O << "; ++i)\n"
       << "    args[n++] = (void *)&outputs[i];\n"
       << "  args[n++] = &a;\n  args[n++] = (void *)&fire;\n"
       << "  args[n++] = &t;\n  args[n++] = &scratch;\n"
       << "  return cuLaunchKernel(k->steps, (unsigned)batch, 1, 1, "
       << image.blockSize << ", 1, 1, 0,\n"
       << "                        stream, args, 0);\n}\n\n"
       << "CUresult nl_" << m << "_flush(const nl_" << m
       << "_kernels_t *k, CUstream stream,\n"
       << "    int64_t batch, const float *const *params, float *const "
          "*state,\n"
       << "    uint64_t fire, void *scratch) {\n"
       << "  if (batch <= 0 || fire == 0)\n"
       << "    return batch < 0 ? CUDA_ERROR_INVALID_VALUE : CUDA_SUCCESS;\n"
       << "  void *args[" << P + S + 2 << "];\n"
       << "  int64_t f = (int64_t)fire;\n  int n = 0;\n"
       << "  for (int i = 0; i < " << P << "; ++i)\n"
       << "    args[n++] = (void *)&params[i];\n"
       << "  for (int i = 0; i < " << S << "; ++i)\n"
       << "    args[n++] = (void *)&state[i];\n"
       << "  args[n++] = &f;\n  args[n++] = &scratch;\n"
       << "  return cuLaunchKernel(k->flush, (unsigned)batch, 1, 1, "
       << image.blockSize << ", 1, 1, 0,\n"
       << "                        stream, args, 0);\n}\n";
  }
  return out;
}
