//===- Pipelines.cpp - nlc's pass pipelines -------------------------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "nlc/Pipelines/Pipelines.h"

#include "nl/IR/NLOps.h"
#include "nl/Transforms/Passes.h"
#include "nlc/Conversion/Passes.h"

#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

llvm::StringRef nlc::pipelinePhaseName(PipelinePhase phase) {
  switch (phase) {
  case PipelinePhase::Scheduled:
    return "scheduled";
  case PipelinePhase::Forms:
    return "forms";
  case PipelinePhase::Expanded:
    return "expanded";
  case PipelinePhase::ABI:
    return "abi";
  case PipelinePhase::Kernel:
    return "kernel";
  case PipelinePhase::Lowered:
    return "lowered";
  }
  llvm_unreachable("unknown pipeline phase");
}

namespace {
/// The end of a phase of a whole pipeline: calls the client's hook there
/// (nothing without one).
struct PhaseEndPass
    : public PassWrapper<PhaseEndPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(PhaseEndPass)
  using Hook = std::function<LogicalResult(nlc::PipelinePhase, ModuleOp)>;

  PhaseEndPass() = default;
  PhaseEndPass(nlc::PipelinePhase at, Hook hook) : hook(std::move(hook)) {
    phase = at;
  }
  PhaseEndPass(const PhaseEndPass &other)
      : PassWrapper(other), hook(other.hook) {}

  StringRef getArgument() const override { return "nlc-phase-end"; }
  StringRef getName() const override { return "NLCPhaseEnd"; }
  StringRef getDescription() const override {
    return "The end of a phase of nlc's compile, where the driver writes "
           "the phase's output and checks the model; does nothing elsewhere";
  }

  void runOnOperation() override {
    if (hook && failed(hook(phase, getOperation())))
      signalPassFailure();
  }

  Option<nlc::PipelinePhase> phase{
      *this, "phase", llvm::cl::desc("The phase that ends here"),
      llvm::cl::init(nlc::PipelinePhase::Scheduled),
      llvm::cl::values(
          clEnumValN(nlc::PipelinePhase::Scheduled, "scheduled", "scheduled"),
          clEnumValN(nlc::PipelinePhase::Forms, "forms", "forms"),
          clEnumValN(nlc::PipelinePhase::Expanded, "expanded", "expanded"),
          clEnumValN(nlc::PipelinePhase::ABI, "abi", "abi"),
          clEnumValN(nlc::PipelinePhase::Kernel, "kernel", "kernel"),
          clEnumValN(nlc::PipelinePhase::Lowered, "lowered", "lowered"))};
  Hook hook;
};

/// Ends phase `phase` of a whole pipeline: the hook's pass, if any. Returns
/// whether the pipeline goes on.
bool endPhase(OpPassManager &pm, nlc::PipelinePhase phase,
              const nlc::PipelineHooks &hooks) {
  if (hooks.atPhaseEnd)
    pm.addPass(std::make_unique<PhaseEndPass>(phase, hooks.atPhaseEnd));
  return phase < hooks.last;
}
} // namespace

void nlc::buildSchedulePipeline(OpPassManager &pm, const PipelineHooks &hooks) {
  pm.nest<nl::ModelOp>().addPass(nl::createNLVerifySchedule());
  endPhase(pm, PipelinePhase::Scheduled, hooks);
}

void nlc::buildFormsPipeline(OpPassManager &pm,
                             const FormsPipelineOptions &options) {
  // The ABI of the model as it is scheduled, which the forms keep (the
  // one-head model gets its own from nl-split-heads).
  pm.nest<nl::ModelOp>().addPass(createNLMaterializeABI());
  // Unless a form is required, why a model has none is no news.
  if (options.headForm != HeadForm::Never) {
    nl::NLSplitHeadsOptions split;
    split.required = options.headForm == HeadForm::Always;
    split.emitRemarks = false;
    pm.addPass(nl::createNLSplitHeads(split));
  }
  if (options.chunkForm != ChunkForm::Never) {
    nl::NLChunkOptions chunk;
    chunk.required = options.chunkForm == ChunkForm::Always;
    chunk.form = options.chunkForm == ChunkForm::Auto ? nl::ChunkFormMode::Auto
                                                      : nl::ChunkFormMode::On;
    chunk.emitRemarks = false;
    // MLP memories are lifted in their derived form (the kernel
    // pipeline's runs of these two passes then find nothing to do).
    OpPassManager &model = pm.nest<nl::ModelOp>();
    model.addPass(nl::createNLExpandMlp());
    model.addPass(nl::createNLDeriveGradients());
    model.addPass(nl::createNLChunk(chunk));
  }
}

void nlc::buildKernelPipeline(OpPassManager &pm, const PipelineHooks &hooks) {
  // A model without forms gets its ABI here, where it is final.
  pm.nest<nl::ModelOp>().addPass(createNLMaterializeABI());
  endPhase(pm, PipelinePhase::ABI, hooks);
  OpPassManager &model = pm.nest<nl::ModelOp>();
  model.addPass(nl::createNLExpandMlp());
  model.addPass(nl::createNLDeriveGradients());
  pm.addPass(createNLToLoops());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

LogicalResult nlc::buildCPUToLLVMPipeline(OpPassManager &pm,
                                          const CPUPipelineOptions &options) {
  // Upstream conversions, by name (stable across API renames). With
  // threads, the heaviest parallel loops of a step go to an OpenMP team.
  // Rows of a memory first: one loop per step over them (nl-fuse-rows).
  std::string pipeline = "func.func(nl-fuse-rows),";
  if (options.cpuParallel)
    pipeline = "func.func(nl-fuse-rows{scratch-rows=0}),"
               "func.func(nl-parallelize-cpu{min-work=" +
               std::to_string(int64_t(options.cpuParallelMinWork)) +
               "}),convert-scf-to-openmp,canonicalize,";
  // erf, tanh and exp as polynomials LLVM vectorizes, unless libm's.
  if (!options.exactMath)
    pipeline += "nl-approximate-math,";
  pipeline +=
      "expand-strided-metadata,lower-affine,convert-scf-to-cf,"
      "convert-math-to-libm,convert-math-to-llvm,convert-vector-to-llvm,"
      "convert-arith-to-llvm,"
      "finalize-memref-to-llvm,"
      "convert-func-to-llvm{use-bare-ptr-memref-call-conv=1},"
      "convert-cf-to-llvm,";
  if (options.cpuParallel)
    pipeline += "convert-openmp-to-llvm,";
  pipeline += "reconcile-unrealized-casts";
  if (failed(parsePassPipeline(pipeline, pm)))
    return failure();
  pm.addPass(createNLExportCABI());
  pm.addPass(createCanonicalizerPass());
  return success();
}

void nlc::buildExpandedPipeline(OpPassManager &pm,
                                const BackwardOptions &backward) {
  OpPassManager &model = pm.nest<nl::ModelOp>();
  model.addPass(nl::createNLExpandMlp());
  model.addPass(nl::createNLDeriveGradients());
  model.addPass(nl::createNLExpandUpdates());
  if (!backward.enabled)
    return;
  nl::NLDeriveBackwardOptions options;
  options.checkpointEvery = backward.checkpointEvery;
  options.truncate = backward.truncate;
  model.addPass(nl::createNLDeriveBackward(options));
}

LogicalResult nlc::buildCPUPipeline(OpPassManager &pm,
                                    const CPUPipelineOptions &options,
                                    const PipelineHooks &hooks) {
  // The backward is derived from the explicit-update form.
  if (options.backward && options.updateForm != UpdateForm::Expanded)
    return failure();
  buildSchedulePipeline(pm);
  if (!endPhase(pm, PipelinePhase::Scheduled, hooks))
    return success();
  if (options.updateForm == UpdateForm::Expanded) {
    // A per-token program of its own: no chunk or head form.
    if (options.chunkForm == ChunkForm::Always ||
        options.headForm == HeadForm::Always)
      return failure();
    BackwardOptions backward;
    backward.enabled = options.backward;
    backward.checkpointEvery = options.bpttCheckpoint;
    backward.truncate = options.bpttTruncate;
    buildExpandedPipeline(pm, backward);
    if (!endPhase(pm, PipelinePhase::Expanded, hooks))
      return success();
  } else {
    FormsPipelineOptions forms;
    forms.chunkForm = options.chunkForm;
    forms.headForm = options.headForm;
    buildFormsPipeline(pm, forms);
    if (!endPhase(pm, PipelinePhase::Forms, hooks))
      return success();
  }
  buildKernelPipeline(pm, hooks);
  if (!endPhase(pm, PipelinePhase::Kernel, hooks))
    return success();
  if (failed(buildCPUToLLVMPipeline(pm, options)))
    return failure();
  endPhase(pm, PipelinePhase::Lowered, hooks);
  return success();
}

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

namespace {
/// The PTX feature of the options' architecture, or a message in `error`.
FailureOr<std::string> checkCUDAOptions(const nlc::CUDAPipelineOptions &options,
                                        std::string *error) {
  FailureOr<std::string> feature = nlc::ptxFeatureFor(options.gpuArch, error);
  if (failed(feature))
    return failure();
  int64_t block = options.gpuBlockSize;
  if (block < 32 || block > 1024 || block % 32) {
    *error = "--gpu-block-size must be a multiple of 32 in [32, 1024], not " +
             std::to_string(block);
    return failure();
  }
  return feature;
}
} // namespace

LogicalResult nlc::buildGPUToNVVMPipeline(OpPassManager &pm,
                                          const CUDAPipelineOptions &options,
                                          std::string *error) {
  FailureOr<std::string> feature = checkCUDAOptions(options, error);
  if (failed(feature))
    return failure();
  std::string pipeline;
  llvm::raw_string_ostream os(pipeline);
  os << "nl-map-to-gpu{block-size=" << int64_t(options.gpuBlockSize)
     << "},canonicalize,cse,"
     << "nvvm-attach-target{chip=" << std::string(options.gpuArch)
     << " features=" << *feature << " O=" << unsigned(options.optLevel) << "},"
     << "gpu.module(expand-strided-metadata,lower-affine,convert-scf-to-cf,"
        "convert-gpu-to-nvvm,nl-bare-kernel-args,canonicalize,cse),"
        "reconcile-unrealized-casts";
  if (failed(parsePassPipeline(pipeline, pm))) {
    *error = "cannot build the CUDA pipeline: " + pipeline;
    return failure();
  }
  return success();
}

LogicalResult nlc::buildCUDAPipeline(OpPassManager &pm,
                                     const CUDAPipelineOptions &options,
                                     std::string *error,
                                     const PipelineHooks &hooks) {
  if (failed(checkCUDAOptions(options, error)))
    return failure();
  buildSchedulePipeline(pm);
  if (!endPhase(pm, PipelinePhase::Scheduled, hooks))
    return success();
  // The CUDA kernels run every token with the step (one block per stream).
  nl::NLChunkOptions noChunk;
  noChunk.form = nl::ChunkFormMode::Off;
  pm.nest<nl::ModelOp>().addPass(nl::createNLChunk(noChunk));
  if (!endPhase(pm, PipelinePhase::Forms, hooks))
    return success();
  buildKernelPipeline(pm, hooks);
  if (!endPhase(pm, PipelinePhase::Kernel, hooks))
    return success();
  if (failed(buildGPUToNVVMPipeline(pm, options, error)))
    return failure();
  endPhase(pm, PipelinePhase::Lowered, hooks);
  return success();
}

namespace {
/// Registers a pipeline whose builder may fail with a message.
template <typename Options>
void registerFalliblePipeline(
    StringRef arg, StringRef description,
    std::function<LogicalResult(OpPassManager &, const Options &,
                                std::string *)>
        build) {
  registerPassPipeline(
      arg, description,
      [build](OpPassManager &pm, StringRef text,
              function_ref<LogicalResult(const Twine &)> errorHandler) {
        Options options;
        if (failed(options.parseFromString(text)))
          return failure();
        std::string error;
        if (failed(build(pm, options, &error)))
          return errorHandler(error.empty() ? "cannot build the pipeline"
                                            : error);
        return success();
      },
      [](function_ref<void(const detail::PassOptions &)> optHandler) {
        optHandler(Options());
      });
}
} // namespace

void nlc::registerPipelines() {
  PassRegistration<PhaseEndPass>();
  PassPipelineRegistration<>(
      "nl-schedule-pipeline",
      "Verify and annotate the schedule of every nl.model in a module",
      [](OpPassManager &pm) { buildSchedulePipeline(pm); });
  PassPipelineRegistration<FormsPipelineOptions>(
      "nl-forms-pipeline",
      "Add the optional forms of the CPU back end to scheduled models: their "
      "ABI (nl-materialize-abi), the model of one head (nl-split-heads), "
      "then the chunk form (nl-chunk)",
      [](OpPassManager &pm, const FormsPipelineOptions &options) {
        buildFormsPipeline(pm, options);
      });
  PassPipelineRegistration<>(
      "nl-expanded-pipeline",
      "Write every learning rule of scheduled models as explicit updates "
      "(nl-expand-mlp, nl-derive-gradients, nl-expand-updates)",
      [](OpPassManager &pm) { buildExpandedPipeline(pm); });
  PassPipelineRegistration<>(
      "nl-kernel-pipeline",
      "Lower scheduled models to the kernel form (scf loops on memrefs), "
      "after materializing their ABI (nl-materialize-abi)",
      [](OpPassManager &pm) { buildKernelPipeline(pm); });
  registerFalliblePipeline<CPUPipelineOptions>(
      "nl-cpu-pipeline",
      "Compile nl models for the host CPU, up to the LLVM dialect with the "
      "C entry points: schedule, forms, kernel form, LLVM",
      [](OpPassManager &pm, const CPUPipelineOptions &options,
         std::string *error) {
        if (succeeded(buildCPUPipeline(pm, options)))
          return success();
        *error = "cannot build the CPU pipeline (are the upstream passes "
                 "registered?)";
        return failure();
      });
  registerFalliblePipeline<CUDAPipelineOptions>(
      "nl-cuda-pipeline",
      "Compile nl models for NVIDIA GPUs, up to a gpu.module of NVVM "
      "kernels: schedule, no chunk forms, kernel form, GPU",
      [](OpPassManager &pm, const CUDAPipelineOptions &options,
         std::string *error) { return buildCUDAPipeline(pm, options, error); });
}
