//===- nlc.cpp - The nlc compiler driver ----------------------------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
// Flag parsing only; the work happens in the NLCDriver library.
//
//===----------------------------------------------------------------------===//

#include "nlc/Driver/Driver.h"
#include "nlc/InitAll.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

namespace cl = llvm::cl;

static cl::OptionCategory mainCategory("Compilation");
static cl::OptionCategory infoCategory("Information");

static cl::opt<std::string> inputFile(cl::Positional,
                                      cl::desc("<model.nl | model.mlir>"),
                                      cl::init("-"), cl::cat(mainCategory));
static cl::opt<std::string> outputFile("o",
                                       cl::desc("Output file ('-' = stdout)"),
                                       cl::value_desc("file"), cl::init("-"),
                                       cl::cat(mainCategory));
static cl::opt<nlc::Target>
    target("target", cl::desc("Code generation target"),
           cl::init(nlc::Target::CPU),
           cl::values(clEnumValN(nlc::Target::CPU, "cpu", "host CPU (default)"),
                      clEnumValN(nlc::Target::CUDA, "cuda", "NVIDIA GPU")),
           cl::cat(mainCategory));
static cl::opt<std::string>
    emit("emit",
         cl::desc("Stop after a phase: ast, nl (default), scheduled, expanded, "
                  "loops, llvm, "
                  "obj, lib, ptx, cuda-src"),
         cl::value_desc("phase"), cl::init("nl"), cl::cat(mainCategory));
enum OptLevel { O0 = 0, O1 = 1, O2 = 2, O3 = 3 };
static cl::opt<OptLevel> optLevel(cl::desc("Optimization level"),
                                  cl::values(clEnumVal(O0, "no optimization"),
                                             clEnumVal(O1, "basic"),
                                             clEnumVal(O2, "default"),
                                             clEnumVal(O3, "aggressive")),
                                  cl::init(O2), cl::cat(mainCategory));
static cl::list<std::string>
    defines("D", cl::desc("Override a hyper-parameter: -D name=value"),
            cl::value_desc("name=value"), cl::Prefix, cl::cat(mainCategory));
static cl::opt<std::string>
    gpuArch("gpu-arch", cl::desc("CUDA architecture (default sm_90)"),
            cl::init("sm_90"), cl::cat(mainCategory));
static cl::opt<bool> cpuParallel(
    "cpu-parallel",
    cl::desc("CPU: run the heaviest loops of a step on an OpenMP thread team "
             "(links libomp; the runtime sets the team size). Off by "
             "default: it pays only for large steps (see bench/)"),
    cl::init(false), cl::cat(mainCategory));
static cl::opt<int64_t> cpuParallelMinWork(
    "cpu-parallel-min-work",
    cl::desc("With --cpu-parallel: the estimated operations from which a "
             "loop forks a thread team (default 2000000)"),
    cl::init(2000000), cl::cat(mainCategory));
static cl::opt<int64_t> maxStateBytes(
    "max-state-bytes",
    cl::desc("The most bytes of state one stream of the model may keep "
             "(default 16 GiB): a larger model is an error at compile time"),
    cl::init(int64_t(16) << 30), cl::Hidden, cl::cat(mainCategory));
static cl::opt<int64_t> maxScratchBytes(
    "max-scratch-bytes",
    cl::desc("CPU: the most bytes of scratch one call of a compiled entry "
             "point may use (default 1 GiB; the runtime runs it on a thread "
             "whose stack holds it)"),
    cl::init(int64_t(1) << 30), cl::Hidden, cl::cat(mainCategory));
static cl::opt<bool> exactMath(
    "exact-math",
    cl::desc("CPU: call libm for erf, tanh and exp instead of the "
             "polynomials LLVM vectorizes (nl-approximate-math; a few float32 "
             "ulps apart)"),
    cl::init(false), cl::cat(mainCategory));
static cl::opt<nlc::ChunkForm> chunkForm(
    "chunk-form",
    cl::desc("CPU: add the chunk-parallel form of the step (nl-chunk), run "
             "for whole chunks while the per-token step runs the rest"),
    cl::values(clEnumValN(nlc::ChunkForm::Auto, "auto",
                          "by a cost model: chunks of at least 8 tokens, "
                          "and for models whose levels all learn every "
                          "token, keys at least 128 wide (default)"),
               clEnumValN(nlc::ChunkForm::Always, "always",
                          "always; a model without one is an error"),
               clEnumValN(nlc::ChunkForm::Never, "never",
                          "never: every token runs the per-token step")),
    cl::init(nlc::ChunkForm::Auto), cl::cat(mainCategory));
static cl::opt<nlc::UpdateForm> updateForm(
    "update-form", cl::desc("CPU: how the learning rules are compiled"),
    cl::values(clEnumValN(nlc::UpdateForm::Fused, "fused",
                          "each level's update as one fused kernel (default)"),
               clEnumValN(nlc::UpdateForm::Expanded, "expanded",
                          "op by op from the explicit-update form "
                          "(nl-expand-updates; --emit=expanded prints it); "
                          "per-token step only")),
    cl::init(nlc::UpdateForm::Fused), cl::Hidden, cl::cat(mainCategory));
static cl::opt<bool> backward(
    "backward",
    cl::desc("CPU: add the backward of the step (nl-derive-backward, from "
             "the explicit-update form) and its entry point"),
    cl::Hidden, cl::cat(mainCategory));
static cl::opt<int64_t> bpttCheckpoint(
    "bptt-checkpoint",
    cl::desc("With --backward: the runtime keeps the state every N tokens "
             "and recomputes between (default 64)"),
    cl::init(64), cl::Hidden, cl::cat(mainCategory));
static cl::opt<int64_t> bpttTruncate(
    "bptt-truncate",
    cl::desc("With --backward: truncated BPTT, the state's cotangent stops "
             "every N tokens (default 0: never)"),
    cl::init(0), cl::Hidden, cl::cat(mainCategory));
static cl::opt<nlc::HeadForm> headForm(
    "head-form",
    cl::desc("CPU: add the step of one head (nl-split-heads), which the "
             "runtime runs on threads of their own when a stream has more "
             "than one thread"),
    cl::values(clEnumValN(nlc::HeadForm::Auto, "auto",
                          "when the model's heads never meet inside a step "
                          "(default)"),
               clEnumValN(nlc::HeadForm::Always, "always",
                          "always; a model without one is an error"),
               clEnumValN(nlc::HeadForm::Never, "never",
                          "never: a stream's heads always run together")),
    cl::init(nlc::HeadForm::Auto), cl::cat(mainCategory));
static cl::opt<int64_t> gpuBlockSize(
    "gpu-block-size",
    cl::desc("Threads per block of the CUDA kernels (default 512)"),
    cl::init(512), cl::cat(mainCategory));
static cl::opt<std::string>
    cudaPath("cuda-path",
             cl::desc("CUDA toolkit directory, for libdevice (default "
                      "$CUDA_HOME, else /usr/local/cuda)"),
             cl::value_desc("dir"), cl::cat(mainCategory));
static cl::opt<std::string> dumpPhasesTo(
    "dump-phases-to",
    cl::desc("Write the output of every phase to numbered files in DIR"),
    cl::value_desc("dir"), cl::cat(mainCategory));
static cl::opt<bool>
    summary("summary",
            cl::desc("Print the levels and their schedule instead of the IR"),
            cl::cat(infoCategory));
static cl::opt<bool> listRules("list-rules",
                               cl::desc("Print the built-in rules and their "
                                        "attributes"),
                               cl::cat(infoCategory));

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  mlir::registerPassManagerCLOptions();
  mlir::registerDefaultTimingManagerCLOptions();
  cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << nlc::versionString() << "\nbuild " << nlc::buildIdentity() << "\n";
  });
  // --help shows nlc's own flags; the standard --mlir-* flags still work and
  // are listed by --help-hidden.
  cl::HideUnrelatedOptions({&mainCategory, &infoCategory});
  cl::ParseCommandLineOptions(
      argc, argv,
      "nlc: the Nested Learning Compiler\n\n"
      "  Compiles a model description (.nl, or nl-dialect .mlir).\n"
      "  Standard MLIR options (--mlir-print-ir-after-all, --mlir-timing,\n"
      "  --mlir-pass-pipeline-crash-reproducer, ...) are accepted; see "
      "--help-hidden.\n");

  if (listRules) {
    llvm::outs() << nlc::listRules();
    return 0;
  }

  nlc::CompileOptions options;
  options.inputFile = inputFile;
  options.outputFile = outputFile;
  options.target = target;
  options.optLevel = optLevel;
  options.gpuArch = gpuArch;
  options.gpuBlockSize = gpuBlockSize;
  options.cpuParallel = cpuParallel;
  options.cpuParallelMinWork = cpuParallelMinWork;
  options.exactMath = exactMath;
  options.maxStateBytes = maxStateBytes;
  options.maxScratchBytes = maxScratchBytes;
  options.chunkForm = chunkForm;
  options.updateForm = updateForm;
  options.backward = backward;
  options.bpttCheckpoint = bpttCheckpoint;
  options.bpttTruncate = bpttTruncate;
  options.headForm = headForm;
  options.cudaPath = cudaPath;
  options.dumpPhasesDir = dumpPhasesTo;
  options.summary = summary;
  std::optional<nlc::Phase> phase = nlc::parsePhase(emit);
  if (!phase) {
    llvm::errs()
        << "nlc: error: unknown --emit value '" << emit
        << "'; expected ast, nl, scheduled, expanded, loops, llvm, obj, lib, "
           "ptx or cuda-src\n";
    return 1;
  }
  options.emit = *phase;
  for (const std::string &d : defines) {
    std::optional<nlc::HyperOverride> o = nlc::parseHyperOverride(d);
    if (!o) {
      llvm::errs() << "nlc: error: -D expects name=value, got '" << d << "'\n";
      return 1;
    }
    options.overrides.push_back(*o);
  }
  return nlc::compileStandalone(options);
}
