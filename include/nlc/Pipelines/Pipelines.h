//===- Pipelines.h - nlc's pass pipelines -----------------------*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// Every pass pipeline of the compiler, as library functions: the driver
// builds the whole MLIR compile of a model into one pass manager with them,
// and nl-opt runs the same pipelines by name (`--nl-cpu-pipeline=...`,
// `--pass-pipeline='builtin.module(nl-cpu-pipeline{...})'`) in lit tests.
// What comes after the MLIR passes (translation to LLVM IR, the host
// TargetMachine, objects, linking, PTX serialization) is lib/Target's.
//
//   nl-schedule-pipeline   nl (graph form) -> scheduled nl
//   nl-forms-pipeline      scheduled nl -> + the optional CPU forms
//                          (nl-split-heads, nl-chunk)
//   nl-kernel-pipeline     scheduled nl -> kernel form (nl-to-loops)
//   nl-cpu-pipeline        nl (graph form) -> LLVM dialect with the C
//                          entry points: schedule, forms, kernel, LLVM
//   nl-cuda-pipeline       nl (graph form) -> gpu.module of NVVM kernels
//                          with the plain pointer ABI: schedule, kernel,
//                          GPU
//
//===----------------------------------------------------------------------===//

#ifndef NLC_PIPELINES_PIPELINES_H
#define NLC_PIPELINES_PIPELINES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Support/LLVM.h"

#include <functional>
#include <string>

namespace mlir {
class OpPassManager;
} // namespace mlir

namespace nlc {

/// Whether the CPU pipeline adds the chunk-parallel form (nl-chunk).
enum class ChunkForm {
  Auto,   // when the model has one and a cost model says it pays
  Always, // a model without one is an error
  Never,  // every token runs the per-token step
};

/// Whether the CPU pipeline adds the model of one head (nl-split-heads),
/// which the runtime runs on several threads per stream.
enum class HeadForm {
  Auto,   // when the model's heads never meet inside a step
  Always, // a model without one is an error
  Never,  // a stream's heads always run together
};

/// How the CPU back end compiles the learning rules.
enum class UpdateForm {
  Fused,    // each level's update lowered as one fused kernel (the fast path)
  Expanded, // from the explicit-update form (nl-expand-updates), op by op;
            // the per-token step only (no chunk or head forms)
};

/// The spellings of the forms, as the pipelines' options take them.
inline llvm::cl::ValuesClass chunkFormValues() {
  return llvm::cl::values(clEnumValN(ChunkForm::Auto, "auto", "auto"),
                          clEnumValN(ChunkForm::Always, "always", "always"),
                          clEnumValN(ChunkForm::Never, "never", "never"));
}
inline llvm::cl::ValuesClass headFormValues() {
  return llvm::cl::values(clEnumValN(HeadForm::Auto, "auto", "auto"),
                          clEnumValN(HeadForm::Always, "always", "always"),
                          clEnumValN(HeadForm::Never, "never", "never"));
}

/// The phases of the MLIR compile of a model, in order.
enum class PipelinePhase {
  Scheduled, // nl-verify-schedule: periods, ranks, order annotated
  Forms,     // CPU: the optional forms added; CUDA: chunk forms removed
  Expanded,  // CPU, update-form=expanded: every rule as explicit updates
  ABI,       // nl-materialize-abi: every model's ABI final, as nl.abi
  Kernel,    // nl-to-loops: scf loops on memrefs (`--emit=loops`)
  Lowered,   // CPU: LLVM dialect; CUDA: gpu.module of NVVM kernels
};

/// "scheduled", "forms", "expanded", "abi", "kernel", "lowered".
llvm::StringRef pipelinePhaseName(PipelinePhase phase);

/// What a client of a whole pipeline (the driver) adds to it, in the same
/// pass manager: where it ends, and a call at the end of every phase.
struct PipelineHooks {
  /// The last phase whose passes are added.
  PipelinePhase last = PipelinePhase::Lowered;
  /// When set, called with the module after the last pass of each phase,
  /// by a pass of its own (`nlc-phase-end{phase=...}`, which does nothing
  /// elsewhere, e.g. in a crash reproducer run by nl-opt). It must not
  /// change the IR; a failure (with a diagnostic) stops the compile.
  std::function<mlir::LogicalResult(PipelinePhase, mlir::ModuleOp)> atPhaseEnd;
};

/// The options of `nl-forms-pipeline`.
struct FormsPipelineOptions
    : public mlir::PassPipelineOptions<FormsPipelineOptions> {
  Option<ChunkForm> chunkForm{
      *this, "chunk-form",
      llvm::cl::desc("The chunk-parallel form (nl-chunk): auto (by its cost "
                     "model, quietly), always (an error without one), "
                     "never"),
      llvm::cl::init(ChunkForm::Auto), chunkFormValues()};
  Option<HeadForm> headForm{
      *this, "head-form",
      llvm::cl::desc("The model of one head (nl-split-heads): auto (when "
                     "the heads never meet, quietly), always (an error "
                     "without one), never"),
      llvm::cl::init(HeadForm::Auto), headFormValues()};
};

/// The options of `nl-cpu-pipeline` (nlc's CPU flags of the same names).
struct CPUPipelineOptions
    : public mlir::PassPipelineOptions<CPUPipelineOptions> {
  Option<ChunkForm> chunkForm{
      *this, "chunk-form",
      llvm::cl::desc("The chunk-parallel form (nl-chunk): auto, always, "
                     "never"),
      llvm::cl::init(ChunkForm::Auto), chunkFormValues()};
  Option<HeadForm> headForm{
      *this, "head-form",
      llvm::cl::desc("The model of one head (nl-split-heads): auto, always, "
                     "never"),
      llvm::cl::init(HeadForm::Auto), headFormValues()};
  Option<UpdateForm> updateForm{
      *this, "update-form",
      llvm::cl::desc("The learning rules: fused (one kernel per level), or "
                     "expanded (nl-expand-updates, lowered op by op; no "
                     "chunk or head forms)"),
      llvm::cl::init(UpdateForm::Fused),
      llvm::cl::values(
          clEnumValN(UpdateForm::Fused, "fused", "fused"),
          clEnumValN(UpdateForm::Expanded, "expanded", "expanded"))};
  Option<bool> backward{
      *this, "backward",
      llvm::cl::desc("With update-form=expanded: add the backward of the "
                     "step (nl-derive-backward) and its entry point"),
      llvm::cl::init(false)};
  Option<int64_t> bpttCheckpoint{
      *this, "bptt-checkpoint",
      llvm::cl::desc("With backward: the runtime keeps the state every this "
                     "many tokens and recomputes between"),
      llvm::cl::init(64)};
  Option<int64_t> bpttTruncate{
      *this, "bptt-truncate",
      llvm::cl::desc("With backward: truncated BPTT, the state's cotangent "
                     "stops every this many tokens (0: never)"),
      llvm::cl::init(0)};
  Option<bool> cpuParallel{
      *this, "cpu-parallel",
      llvm::cl::desc("Give the heaviest parallel loops of a step to an "
                     "OpenMP thread team (nl-parallelize-cpu, "
                     "convert-scf-to-openmp)"),
      llvm::cl::init(false)};
  Option<int64_t> cpuParallelMinWork{
      *this, "cpu-parallel-min-work",
      llvm::cl::desc("With cpu-parallel: the estimated operations from "
                     "which a loop forks a thread team"),
      llvm::cl::init(2000000)};
  Option<bool> exactMath{
      *this, "exact-math",
      llvm::cl::desc("libm for erf, tanh and exp instead of the polynomials "
                     "LLVM vectorizes (no nl-approximate-math)"),
      llvm::cl::init(false)};
};

/// The options of `nl-cuda-pipeline` (nlc's flags of the same names).
struct CUDAPipelineOptions
    : public mlir::PassPipelineOptions<CUDAPipelineOptions> {
  Option<std::string> gpuArch{
      *this, "gpu-arch",
      llvm::cl::desc("CUDA architecture, sm_70 .. sm_121 (default sm_90)"),
      llvm::cl::init("sm_90")};
  Option<int64_t> gpuBlockSize{
      *this, "gpu-block-size",
      llvm::cl::desc("Threads per block (one block runs one stream), a "
                     "multiple of 32 in [32, 1024]"),
      llvm::cl::init(512)};
  Option<unsigned> optLevel{
      *this, "opt-level",
      llvm::cl::desc("Optimization level of the NVPTX back end"),
      llvm::cl::init(3)};
};

/// nl (graph form) -> scheduled nl: verifies the schedule of every model and
/// annotates periods, ranks, order and the hyper-period.
void buildSchedulePipeline(mlir::OpPassManager &pm,
                           const PipelineHooks &hooks = {});

/// Scheduled nl -> the same models with the optional forms of the CPU back
/// end: the ABI of the model (nl-materialize-abi), the model of one head
/// (nl-split-heads, which gives it its own ABI), then the chunk form of
/// every model (nl-chunk, after nl-expand-mlp and nl-derive-gradients; it
/// records its entry in the ABI). `auto` forms say nothing about models
/// without one.
void buildFormsPipeline(mlir::OpPassManager &pm,
                        const FormsPipelineOptions &options);

/// Scheduled nl -> kernel form (func/scf/memref/arith/math): the ABI of
/// every model that has none yet (nl-materialize-abi), the end of the ABI
/// phase (`hooks`), then the lowering, which reads it.
void buildKernelPipeline(mlir::OpPassManager &pm,
                         const PipelineHooks &hooks = {});

/// The backward of the step, when asked for: nl-derive-backward's options.
struct BackwardOptions {
  bool enabled = false;
  int64_t checkpointEvery = 64;
  int64_t truncate = 0;
};

/// Every learning rule as explicit updates: nl-expand-mlp,
/// nl-derive-gradients, nl-expand-updates on each model; then, when
/// `backward` is enabled, nl-derive-backward.
void buildExpandedPipeline(mlir::OpPassManager &pm,
                           const BackwardOptions &backward = {});

/// Kernel form -> LLVM dialect with the exported C entry points. Needs the
/// upstream passes registered (nlc::registerAllPasses); fails otherwise.
mlir::LogicalResult buildCPUToLLVMPipeline(mlir::OpPassManager &pm,
                                           const CPUPipelineOptions &options);

/// nl (graph form) -> LLVM dialect: the schedule, forms, kernel and LLVM
/// phases, up to `hooks.last`.
mlir::LogicalResult buildCPUPipeline(mlir::OpPassManager &pm,
                                     const CPUPipelineOptions &options,
                                     const PipelineHooks &hooks = {});

/// Checks `arch` (sm_70 .. sm_121[a]) and returns the PTX ISA feature it
/// needs, or fails with a message in `error`.
mlir::FailureOr<std::string> ptxFeatureFor(llvm::StringRef arch,
                                           std::string *error);

/// Kernel form -> gpu.module of NVVM kernels with the plain pointer ABI
/// (nl-map-to-gpu, nvvm-attach-target, convert-gpu-to-nvvm, ...), ready
/// for nlc::serializeToPTX. Fails with a message in `error` on options it
/// cannot compile for.
mlir::LogicalResult buildGPUToNVVMPipeline(mlir::OpPassManager &pm,
                                           const CUDAPipelineOptions &options,
                                           std::string *error);

/// nl (graph form) -> gpu.module of NVVM kernels: the schedule, the
/// models without their chunk forms (the kernels run every token with the
/// step), kernel and GPU phases, up to `hooks.last`. The options are
/// checked whatever the last phase (a message in `error`).
mlir::LogicalResult buildCUDAPipeline(mlir::OpPassManager &pm,
                                      const CUDAPipelineOptions &options,
                                      std::string *error,
                                      const PipelineHooks &hooks = {});

/// Registers the pipelines with the pass registry (`--nl-schedule-pipeline`,
/// `--nl-forms-pipeline`, `--nl-kernel-pipeline`, `--nl-cpu-pipeline`,
/// `--nl-cuda-pipeline`) and the `nlc-phase-end` pass.
void registerPipelines();

} // namespace nlc

#endif // NLC_PIPELINES_PIPELINES_H
