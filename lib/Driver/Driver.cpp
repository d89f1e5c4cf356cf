//===- Driver.cpp - The nlc compiler as a library -------------------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "nlc/Driver/Driver.h"

#include "nlc/ABI/ModelABI.h"
#include "nlc/Conversion/Passes.h" // kThreadLocalScratchPrefix
#include "nlc/Frontend/Parser.h"
#include "nlc/InitAll.h"
#include "nlc/Pipelines/Pipelines.h"
#include "nlc/Target/CPUTarget.h"
#include "nlc/Target/CUDATarget.h"

#include "llvm/IR/Constants.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/xxhash.h"

#include "nl/IR/NLOps.h"
#include "nl/IR/NLRules.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "nlrt/Files.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/IR/GlobalAlias.h"
#include "llvm/Support/CRC.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

#include "llvm/Support/raw_ostream.h"
#include <charconv>
#include <cstring>
#include <elf.h>
#include <link.h>
#include <unistd.h>

#ifndef NLC_VERSION
#define NLC_VERSION "0.0.0"
#endif

using namespace mlir;

namespace {
constexpr nlc::Phase kPhases[] = {nlc::Phase::AST,       nlc::Phase::NL,
                                  nlc::Phase::Scheduled, nlc::Phase::Expanded,
                                  nlc::Phase::Linalg,    nlc::Phase::LLVM,
                                  nlc::Phase::Obj,       nlc::Phase::Lib,
                                  nlc::Phase::PTX,       nlc::Phase::CudaSrc};
} // namespace

llvm::StringRef nlc::phaseName(Phase phase) {
  switch (phase) {
  case Phase::AST:
    return "ast";
  case Phase::NL:
    return "nl";
  case Phase::Scheduled:
    return "scheduled";
  case Phase::Expanded:
    return "expanded";
  case Phase::Linalg:
    return "loops";
  case Phase::LLVM:
    return "llvm";
  case Phase::Obj:
    return "obj";
  case Phase::Lib:
    return "lib";
  case Phase::PTX:
    return "ptx";
  case Phase::CudaSrc:
    return "cuda-src";
  }
  llvm_unreachable("unknown phase");
}

std::optional<nlc::Phase> nlc::parsePhase(llvm::StringRef name) {
  if (name == "linalg") // the issue tracker's name for the kernel form
    return Phase::Linalg;
  for (Phase p : kPhases)
    if (phaseName(p) == name)
      return p;
  return std::nullopt;
}

std::string nlc::versionString() {
  return std::string("nlc ") + NLC_VERSION + " (LLVM/MLIR " +
         LLVM_VERSION_STRING + ")";
}

std::string nlc::buildIdentity() {
  // The NT_GNU_BUILD_ID notes the linker wrote into every loaded object.
  std::string ids;
  dl_iterate_phdr(
      [](struct dl_phdr_info *info, size_t, void *out) {
        auto &text = *static_cast<std::string *>(out);
        for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr) &segment = info->dlpi_phdr[i];
          if (segment.p_type != PT_NOTE)
            continue;
          const char *at =
              reinterpret_cast<const char *>(info->dlpi_addr + segment.p_vaddr);
          const char *end = at + segment.p_memsz;
          while (at + sizeof(ElfW(Nhdr)) <= end) {
            ElfW(Nhdr) note;
            std::memcpy(&note, at, sizeof note);
            const char *name = at + sizeof note;
            const char *desc = name + ((note.n_namesz + 3) & ~3u);
            if (desc + note.n_descsz > end)
              break;
            if (note.n_type == NT_GNU_BUILD_ID && note.n_namesz == 4 &&
                std::memcmp(name, "GNU", 4) == 0)
              text.append(desc, note.n_descsz);
            at = desc + ((note.n_descsz + 3) & ~3u);
          }
        }
        return 0;
      },
      &ids);
  return llvm::utohexstr(llvm::xxh3_64bits(ids), /*LowerCase=*/true,
                         /*Width=*/16);
}

namespace {

/// The location of errors that belong to no line of the input.
Location toolLoc(MLIRContext &ctx) {
  return NameLoc::get(StringAttr::get(&ctx, "nlc"));
}

/// Makes `path` durable: fsync()s it (an already written file).
std::error_code syncFile(llvm::StringRef path) {
  int fd;
  if (std::error_code ec = llvm::sys::fs::openFileForRead(path, fd))
    return ec;
  std::error_code ec;
  if (::fsync(fd) != 0)
    ec = std::error_code(errno, std::generic_category());
  ::close(fd);
  return ec;
}

/// A temporary name next to `path` of this process ("<path>.tmp.<pid>"),
/// renamed over `path` once complete, so that no reader ever sees a
/// partial output whatever kills the compiler.
std::string temporaryFor(llvm::StringRef path) {
  // The temporaries that killed compilers left for this path go first.
  nlrt::removeStaleTemporaries(path.str());
  return (path + ".tmp." + llvm::Twine(::getpid())).str();
}

/// Writes `text` to `path` ("-" is stdout). A file is written atomically:
/// into a temporary next to it, fsync()ed, then renamed over it. Returns
/// failure with a diagnostic if the file cannot be written.
LogicalResult writeOutput(llvm::StringRef path, llvm::StringRef text,
                          MLIRContext &ctx) {
  std::string message;
  if (path == "-") {
    auto file = openOutputFile(path, &message);
    if (!file)
      return emitError(toolLoc(ctx)) << message;
    file->os() << text;
    file->keep();
    return success();
  }
  std::string temp = temporaryFor(path);
  {
    auto file = openOutputFile(temp, &message);
    if (!file)
      return emitError(toolLoc(ctx)) << message;
    file->os() << text;
    file->os().flush();
    if (file->os().has_error())
      return emitError(toolLoc(ctx)) << "cannot write '" << path
                                     << "': " << file->os().error().message();
    file->keep();
  }
  if (std::error_code ec = syncFile(temp)) {
    llvm::sys::fs::remove(temp);
    return emitError(toolLoc(ctx))
           << "cannot write '" << path << "': " << ec.message();
  }
  if (std::error_code ec = llvm::sys::fs::rename(temp, path)) {
    llvm::sys::fs::remove(temp);
    return emitError(toolLoc(ctx))
           << "cannot write '" << path << "': " << ec.message();
  }
  return success();
}

/// The size and CRC-32 of a file, for the manifest's "library" entry.
FailureOr<nlc::LibraryInfo> describeFile(llvm::StringRef path,
                                         MLIRContext &ctx) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (std::error_code ec = buffer.getError())
    return emitError(toolLoc(ctx))
           << "cannot read '" << path << "': " << ec.message();
  llvm::StringRef bytes = (*buffer)->getBuffer();
  return nlc::LibraryInfo{static_cast<int64_t>(bytes.size()),
                          llvm::crc32(llvm::arrayRefFromStringRef(bytes))};
}

/// Prints `module` to a string.
std::string printModule(ModuleOp module) {
  std::string text;
  llvm::raw_string_ostream os(text);
  module.print(os);
  return text;
}

/// A table of every model's levels and schedule (`nlc --summary`).
std::string summarize(ModuleOp module) {
  std::string out;
  llvm::raw_string_ostream os(out);
  module.walk([&](mlir::nl::ModelOp model) {
    os << "model " << model.getSymName() << ": dim " << model.getDim()
       << ", hyper-period " << model.getHyperPeriod().value_or(0)
       << " tokens\n";
    os << llvm::formatv("  {0,-14} {1,-7} {2,-5} {3,-6} {4,-6} {5,-40} {6}\n",
                        "level", "period", "rank", "order", "fires", "memory",
                        "rule");
    for (mlir::nl::LevelOp level : model.getLevels()) {
      std::string period, memory, rule;
      llvm::raw_string_ostream ps(period), ms(memory), rs(rule);
      level.getPeriod().printBare(ps);
      if (mlir::nl::StateOp state = level.getMemory())
        ms << state.getType();
      if (mlir::nl::RuleAttr r = level.getRuleAttr())
        rs << r;
      mlir::nl::ScheduleAttr s = level.getScheduleAttr();
      os << llvm::formatv("  {0,-14} {1,-7} {2,-5} {3,-6} {4,-6} {5,-40} {6}\n",
                          level.getSymName(), period,
                          s ? std::to_string(s.getRank()) : "-",
                          s ? std::to_string(s.getOrder()) : "-",
                          s ? std::to_string(s.getFires()) : "-", memory,
                          rule.empty() ? "-" : rule);
    }
  });
  return out;
}

class Compilation {
public:
  Compilation(const nlc::CompileOptions &options, MLIRContext &ctx)
      : options(options), ctx(ctx) {}

  int run();

private:
  /// Records the output of a phase: for --dump-phases-to, and as the result
  /// when it is the phase asked for.
  LogicalResult phaseDone(nlc::Phase phase, llvm::StringRef text);
  LogicalResult loadInput(OwningOpRef<ModuleOp> &module);
  /// The whole MLIR compile of the module, in one pass manager: the
  /// pipeline of the target (lib/Pipelines) up to the last phase --emit
  /// needs, with phaseEnd() at the end of each phase.
  LogicalResult compileMLIR(ModuleOp module);
  /// The driver's work between two phases of the pipeline: the phase
  /// dumps, the ABI and manifest of the model, the limits it must keep.
  LogicalResult phaseEnd(nlc::PipelinePhase phase, ModuleOp module);
  /// Whether the rules are compiled from (or stop at) the explicit form.
  bool expanded() const {
    return options.updateForm == nlc::UpdateForm::Expanded ||
           options.emit == nlc::Phase::Expanded || options.backward;
  }
  /// The hash of the model as it is scheduled (CPU: before its forms; the
  /// explicit form: once written; CUDA: without its chunk form).
  LogicalResult modelHashOf(ModuleOp module);
  /// The model's ABI (its nl.abi) and its state limits.
  LogicalResult modelABI(ModuleOp module);
  /// CPU: the forms the model has (nl-split-heads, nl-chunk) in the ABI,
  /// and the options hash.
  LogicalResult formsDone(ModuleOp module);
  /// CPU: the kernel form's scratch limits and the manifest.
  LogicalResult kernelDone(ModuleOp module);
  /// What follows the pass manager: LLVM IR, objects and the library, or
  /// PTX and its files.
  int generateCPU(ModuleOp module);
  int generateCUDA(ModuleOp module);

  const nlc::CompileOptions &options;
  MLIRContext &ctx;
  llvm::SourceMgr sourceMgr;
  std::string result;
  unsigned phaseIndex = 0;
  /// The hyper-parameters of a .nl input (for the manifest).
  std::vector<nlc::HyperValue> hypers;
  /// The model's ABI, its hashes and manifest, as the phases find them.
  nlc::ModelABI abi;
  std::string modelHash, optionsHash, manifest;
  /// CPU, --cpu-parallel: the libomp the library links (empty: none).
  std::string openMPDir;
  /// CUDA: the optimization level of the NVPTX back end.
  unsigned cudaOptLevel = 0;
};

namespace {
/// The file extension of a phase's output in --dump-phases-to.
llvm::StringRef extension(nlc::Phase phase) {
  switch (phase) {
  case nlc::Phase::AST:
    return ".txt";
  case nlc::Phase::LLVM:
    return ".ll";
  case nlc::Phase::PTX:
    return ".ptx";
  default:
    return ".mlir";
  }
}
} // namespace

LogicalResult Compilation::phaseDone(nlc::Phase phase, llvm::StringRef text) {
  if (phase == options.emit)
    result = text.str();
  if (options.dumpPhasesDir.empty())
    return success();
  if (std::error_code ec =
          llvm::sys::fs::create_directories(options.dumpPhasesDir))
    return emitError(toolLoc(ctx))
           << "cannot create '" << options.dumpPhasesDir
           << "' for --dump-phases-to: " << ec.message();
  llvm::SmallString<128> path(options.dumpPhasesDir);
  unsigned index = phaseIndex++;
  std::string name = (llvm::Twine(index < 10 ? "0" : "") + llvm::Twine(index) +
                      "-" + nlc::phaseName(phase) + extension(phase))
                         .str();
  llvm::sys::path::append(path, name);
  return writeOutput(path, text, ctx);
}

LogicalResult Compilation::loadInput(OwningOpRef<ModuleOp> &module) {
  Location inputLoc = toolLoc(ctx);
  if (options.inputFile != "-" &&
      llvm::sys::fs::is_directory(options.inputFile))
    return emitError(inputLoc) << "'" << options.inputFile
                               << "' is a directory, not a model description";
  auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(options.inputFile,
                                                   /*IsText=*/true);
  if (std::error_code ec = buffer.getError())
    return emitError(inputLoc)
           << "cannot read '" << options.inputFile << "': " << ec.message();
  llvm::StringRef text = (*buffer)->getBuffer();
  unsigned id = sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());

  if (llvm::StringRef(options.inputFile).ends_with(".mlir")) {
    if (options.emit == nlc::Phase::AST)
      return emitError(inputLoc) << "--emit=ast needs a .nl description; "
                                    "the input is already MLIR";
    ParserConfig config(&ctx);
    module = parseSourceFile<ModuleOp>(sourceMgr, config);
    if (!module)
      return failure();
    return success();
  }

  auto reportAt = [&](llvm::SMLoc l, const llvm::Twine &message) {
    auto [line, col] = sourceMgr.getLineAndColumn(l, id);
    emitError(FileLineColLoc::get(&ctx, options.inputFile, line, col))
        << message.str();
  };
  std::unique_ptr<nlc::ast::Model> ast = nlc::parseModel(text, reportAt);
  if (!ast)
    return failure();
  {
    std::string dump;
    llvm::raw_string_ostream os(dump);
    nlc::ast::dump(*ast, os);
    if (failed(phaseDone(nlc::Phase::AST, dump)))
      return failure();
  }
  if (options.emit == nlc::Phase::AST)
    return success();
  module = nlc::lowerToNL(*ast, ctx, sourceMgr, options.overrides, &hypers);
  return success(static_cast<bool>(module));
}

LogicalResult Compilation::compileMLIR(ModuleOp module) {
  PassManager pm(&ctx, ModuleOp::getOperationName());
  if (failed(applyPassManagerCLOptions(pm)))
    return emitError(toolLoc(ctx))
           << "the pass manager options are not registered (a tool using "
              "the driver library must call "
              "mlir::registerPassManagerCLOptions)";
  applyDefaultTimingPassManagerCLOptions(pm);

  nlc::PipelineHooks hooks;
  hooks.atPhaseEnd = [this](nlc::PipelinePhase phase, ModuleOp module) {
    return phaseEnd(phase, module);
  };
  if (options.emit <= nlc::Phase::Scheduled) {
    hooks.last = nlc::PipelinePhase::Scheduled;
    nlc::buildSchedulePipeline(pm, hooks);
    return pm.run(module);
  }
  hooks.last = options.emit == nlc::Phase::Linalg ? nlc::PipelinePhase::Kernel
                                                  : nlc::PipelinePhase::Lowered;
  if (options.emit == nlc::Phase::Expanded)
    hooks.last = nlc::PipelinePhase::Expanded;
  if (options.backward) {
    if (options.target == nlc::Target::CUDA)
      return emitError(toolLoc(ctx))
             << "--backward is compiled by the CPU back end only (yet)";
    if (options.bpttCheckpoint < 1 || options.bpttTruncate < 0)
      return emitError(toolLoc(ctx))
             << "--bptt-checkpoint must be at least 1 and --bptt-truncate "
                "at least 0 (0: never)";
  }
  if (expanded()) {
    if (options.target == nlc::Target::CUDA &&
        options.emit != nlc::Phase::Expanded)
      return emitError(toolLoc(ctx)) << "--update-form=expanded is compiled "
                                        "by the CPU back end only (yet)";
    if (options.chunkForm == nlc::ChunkForm::Always ||
        options.headForm == nlc::HeadForm::Always)
      return emitError(toolLoc(ctx))
             << "--update-form=expanded compiles the per-token step only; it "
                "takes neither --chunk-form=always nor --head-form=always";
  }

  if (options.target == nlc::Target::CUDA && !expanded()) {
    if (options.emit == nlc::Phase::LLVM || options.emit == nlc::Phase::Obj)
      return emitError(toolLoc(ctx))
             << "--emit=" << nlc::phaseName(options.emit)
             << " is a host phase; for --target=cuda use --emit=ptx, lib or "
                "cuda-src";
    nlc::CUDAPipelineOptions cuda;
    cuda.gpuArch = options.gpuArch;
    cuda.gpuBlockSize = options.gpuBlockSize;
    cudaOptLevel = cuda.optLevel;
    std::string error;
    if (failed(nlc::buildCUDAPipeline(pm, cuda, &error, hooks)))
      return emitError(toolLoc(ctx)) << error;
    return pm.run(module);
  }

  nlc::CPUPipelineOptions cpu;
  cpu.chunkForm = options.chunkForm;
  cpu.headForm = options.headForm;
  cpu.exactMath = options.exactMath;
  if (expanded())
    cpu.updateForm = nlc::UpdateForm::Expanded;
  cpu.backward = options.backward;
  cpu.bpttCheckpoint = options.bpttCheckpoint;
  cpu.bpttTruncate = options.bpttTruncate;
  if (options.cpuParallel && hooks.last > nlc::PipelinePhase::Kernel) {
    openMPDir = nlc::openMPLibraryDir();
    if (openMPDir.empty())
      emitWarning(toolLoc(ctx))
          << "libomp.so is not installed with this LLVM (package "
             "libomp-22-dev); compiling a single-threaded model";
    cpu.cpuParallel = !openMPDir.empty();
    cpu.cpuParallelMinWork = options.cpuParallelMinWork;
  }
  if (failed(nlc::buildCPUPipeline(pm, cpu, hooks)))
    return emitError(toolLoc(ctx)) << "cannot build the pass pipeline";
  return pm.run(module);
}

LogicalResult Compilation::phaseEnd(nlc::PipelinePhase phase, ModuleOp module) {
  bool cuda = options.target == nlc::Target::CUDA;
  switch (phase) {
  case nlc::PipelinePhase::Scheduled:
    if (failed(phaseDone(nlc::Phase::Scheduled, printModule(module))))
      return failure();
    // The model hash names the model, not how it is run: it comes before
    // the CPU forms, so that a state saved with either form loads in the
    // other.
    // The explicit form's hash is taken after it is written (its states).
    if (options.emit > nlc::Phase::Scheduled && !cuda && !expanded())
      return modelHashOf(module);
    return success();
  case nlc::PipelinePhase::Expanded:
    if (failed(phaseDone(nlc::Phase::Expanded, printModule(module))))
      return failure();
    if (options.emit == nlc::Phase::Expanded)
      return success();
    return modelHashOf(module);
  case nlc::PipelinePhase::Forms:
    // CUDA: the model without its chunk form, which the kernels never run.
    return cuda ? modelHashOf(module) : success();
  case nlc::PipelinePhase::ABI:
    // Every model's nl.abi is final (nl-materialize-abi).
    if (failed(modelABI(module)))
      return failure();
    return cuda ? success() : formsDone(module);
  case nlc::PipelinePhase::Kernel:
    if (failed(phaseDone(nlc::Phase::Linalg, printModule(module))))
      return failure();
    return cuda ? success() : kernelDone(module);
  case nlc::PipelinePhase::Lowered:
    return success();
  }
  llvm_unreachable("unknown pipeline phase");
}

namespace {
std::string hex(uint64_t v) {
  return llvm::utohexstr(v, /*LowerCase=*/true, /*Width=*/16);
}
} // namespace

namespace {
/// The bytes of `count` elements of `shape` (4 bytes each), or nullopt on
/// overflow.
std::optional<int64_t> tensorBytes(llvm::ArrayRef<int64_t> shape,
                                   int64_t itemBytes = 4) {
  int64_t bytes = itemBytes;
  for (int64_t d : shape)
    if (d < 0 || llvm::MulOverflow(bytes, d, bytes))
      return std::nullopt;
  return bytes;
}

std::string humanBytes(double bytes) {
  const char *units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int u = 0;
  while (bytes >= 1024 && u < 6) {
    bytes /= 1024;
    ++u;
  }
  return llvm::formatv(u ? "{0:F1} {1}" : "{0:F0} {1}", bytes, units[u]).str();
}
} // namespace

/// The stated limits of a model's state: a tensor of at most 2^31 - 1
/// elements (its counts are int32), a stream's state of at most
/// --max-state-bytes. Errors are located at the state that breaks them.
LogicalResult checkStateLimits(const nlc::ModelABI &abi,
                               const nlc::CompileOptions &options,
                               MLIRContext &ctx, ModuleOp module) {
  Location fallback = module.getLoc();
  for (auto model : module.getBody()->getOps<mlir::nl::ModelOp>())
    fallback = model.getLoc();
  auto where = [&](const nlc::ABITensor &t) -> Location {
    if (t.def)
      return t.def->getLoc();
    if (t.level >= 0 && t.level < static_cast<int>(abi.levels.size()) &&
        abi.levels[t.level].op)
      return mlir::nl::LevelOp(abi.levels[t.level].op)->getLoc();
    return fallback;
  };
  int64_t total = 0;
  const nlc::ABITensor *largest = nullptr;
  int64_t largestBytes = 0;
  for (const nlc::ABITensor &t : abi.state) {
    std::optional<int64_t> bytes = tensorBytes(t.shape);
    std::optional<int64_t> elements = tensorBytes(t.shape, 1);
    if (!bytes || *elements > std::numeric_limits<int32_t>::max())
      return emitError(where(t))
             << "state tensor '" << t.name << "' of shape "
             << llvm::join(
                    llvm::map_range(
                        t.shape, [](int64_t d) { return std::to_string(d); }),
                    "x")
             << " has more than 2^31 - 1 elements, the limit of one tensor";
    if (*bytes > largestBytes) {
      largestBytes = *bytes;
      largest = &t;
    }
    if (llvm::AddOverflow(total, *bytes, total))
      total = std::numeric_limits<int64_t>::max();
  }
  if (largest && total > options.maxStateBytes)
    return emitError(where(*largest))
           << "model '" << abi.model << "' keeps " << humanBytes(total)
           << " of state per stream (the largest tensor, '" << largest->name
           << "', " << humanBytes(largestBytes) << "); the limit is "
           << humanBytes(options.maxStateBytes) << " (--max-state-bytes)";
  return success();
}

/// The largest scratch one call of an entry point uses: its entry block's
/// stack buffers, or the thread-local buffers of chunk entries; checked
/// against --max-scratch-bytes. Returns the stack bytes.
FailureOr<int64_t> checkScratchLimits(ModuleOp module,
                                      const nlc::CompileOptions &options) {
  int64_t stack = 0, threadLocal = 0;
  std::string largest;
  auto describe = [](MemRefType t) {
    std::string text;
    llvm::raw_string_ostream os(text);
    os << t;
    return text;
  };
  // Sums the buffers into `sum`, naming the largest in `what`.
  int64_t biggest = 0;
  auto count = [&](MemRefType t, int64_t &sum, std::string &what) {
    if (!t.hasStaticShape())
      return true;
    std::optional<int64_t> bytes = tensorBytes(
        t.getShape(), std::max<int64_t>(1, t.getElementTypeBitWidth() / 8));
    if (!bytes || llvm::AddOverflow(sum, *bytes, sum))
      return false;
    if (*bytes > biggest) {
      biggest = *bytes;
      what = describe(t);
    }
    return true;
  };
  bool overflow = false;
  Location at = module.getLoc();
  module.walk([&](func::FuncOp fn) {
    if (fn.isExternal())
      return;
    int64_t frame = 0;
    std::string what;
    biggest = 0;
    for (auto alloca : fn.getBody().front().getOps<memref::AllocaOp>())
      overflow |= !count(alloca.getType(), frame, what);
    if (frame > stack) {
      stack = frame;
      largest = what;
      at = fn.getLoc();
    }
  });
  std::string tlsWhat;
  biggest = 0;
  module.walk([&](memref::GlobalOp global) {
    if (global.getSymName().starts_with(nlc::kThreadLocalScratchPrefix))
      overflow |= !count(global.getType(), threadLocal, tlsWhat);
  });
  int64_t worst = std::max(stack, threadLocal);
  if (overflow || worst > options.maxScratchBytes)
    return emitError(at) << "a call of this model needs "
                         << (overflow ? std::string("more than 2^63 bytes")
                                      : humanBytes(worst))
                         << " of scratch (e.g. "
                         << (stack >= threadLocal ? largest : tlsWhat)
                         << "); the limit is "
                         << humanBytes(options.maxScratchBytes)
                         << " (--max-scratch-bytes)";
  return stack;
}

LogicalResult Compilation::modelHashOf(ModuleOp module) {
  std::string modelText;
  {
    llvm::raw_string_ostream os(modelText);
    module.print(os, OpPrintingFlags().elideLargeElementsAttrs());
  }
  size_t models =
      llvm::range_size(module.getBody()->getOps<mlir::nl::ModelOp>());
  if (models != 1)
    return emitError(toolLoc(ctx))
           << "the back ends compile one nl.model per input, found " << models;
  modelHash = hex(llvm::xxh3_64bits(modelText));
  return success();
}

LogicalResult Compilation::modelABI(ModuleOp module) {
  // The ABI and manifest come from the full model's nl.abi (the model of
  // one head, nl-split-heads, has a head_split).
  for (auto model : module.getBody()->getOps<mlir::nl::ModelOp>()) {
    if (model.getHeadSplit())
      continue;
    FailureOr<nlc::ModelABI> one = nlc::getModelABI(model);
    if (failed(one))
      return failure();
    abi = std::move(*one);
    break;
  }
  for (const nlc::HyperValue &h : hypers) {
    // The shortest text that reads back as the same double (a JSON number).
    char text[64];
    auto [end, ec] = h.isInteger
                         ? std::to_chars(text, text + sizeof text,
                                         static_cast<int64_t>(h.value))
                         : std::to_chars(text, text + sizeof text, h.value);
    abi.hypers.push_back(
        {h.name, std::string(text, ec == std::errc() ? end : text)});
  }
  return checkStateLimits(abi, options, ctx, module);
}

LogicalResult Compilation::formsDone(ModuleOp module) {
  // The model of one head, which nl-split-heads kept only if it holds the
  // full model's state head by head, and the chunk forms: the full
  // model's, and the one-head model's when it has one of the same size
  // (the runtime then runs chunks head by head too).
  // The full model's chunk entry is in its ABI (modelABI).
  for (auto model : module.getBody()->getOps<mlir::nl::ModelOp>()) {
    std::optional<uint64_t> heads = model.getHeadSplit();
    if (!heads || options.headForm == nlc::HeadForm::Never || abi.headSplit)
      continue;
    FailureOr<nlc::ModelABI> one = nlc::getModelABI(model);
    if (failed(one))
      return failure();
    abi.headSplit = static_cast<int64_t>(*heads);
    abi.headStepSymbol = one->stepSymbol();
    if (one->chunkSize && one->chunkSize == abi.chunkSize)
      abi.headChunkSymbol = one->chunkSymbol();
  }
  std::string optionsKey = std::to_string(options.optLevel) + "|cpu|" +
                           nlc::hostDescription() + "|" + nlc::versionString() +
                           "|" + nlc::buildIdentity();
  if (options.cpuParallel)
    optionsKey += "|omp" + std::to_string(options.cpuParallelMinWork);
  if (options.exactMath)
    optionsKey += "|exact-math";
  if (expanded())
    optionsKey += "|expanded";
  if (abi.hasBackward)
    optionsKey += "|backward" + std::to_string(abi.checkpointEvery) + "," +
                  std::to_string(abi.truncate);
  if (abi.chunkSize)
    optionsKey += "|chunk" + std::to_string(abi.chunkSize);
  if (abi.headSplit)
    optionsKey += "|heads" + std::to_string(abi.headSplit);
  optionsHash = hex(llvm::xxh3_64bits(optionsKey));
  return success();
}

LogicalResult Compilation::kernelDone(ModuleOp module) {
  FailureOr<int64_t> stack = checkScratchLimits(module, options);
  if (failed(stack))
    return failure();
  abi.stackBytes = *stack;
  manifest =
      nlc::writeManifest(abi, nlc::versionString(), optionsHash, modelHash);
  return success();
}

int Compilation::generateCPU(ModuleOp module) {
  llvm::LLVMContext llvmContext;
  std::string error;
  std::unique_ptr<llvm::Module> llvmModule =
      nlc::translateForHost(module, llvmContext, options.optLevel, &error);
  if (!llvmModule) {
    emitError(toolLoc(ctx)) << error;
    return 1;
  }
  // The manifest travels inside the library too, under a name of its own
  // and the fixed name the runtime reads when the .json is not there.
  auto *text = llvm::ConstantDataArray::getString(llvmContext, manifest);
  auto *embedded = new llvm::GlobalVariable(
      *llvmModule, text->getType(), /*isConstant=*/true,
      llvm::GlobalValue::ExternalLinkage, text,
      "nl_" + abi.model + "_manifest");
  llvm::GlobalAlias::create(nlc::kEmbeddedManifestSymbol, embedded);
  {
    std::string ir;
    llvm::raw_string_ostream os(ir);
    llvmModule->print(os, nullptr);
    if (failed(phaseDone(nlc::Phase::LLVM, ir)))
      return 1;
  }
  if (options.emit == nlc::Phase::LLVM)
    return 0;

  llvm::SmallString<0> object;
  if (failed(nlc::emitObject(*llvmModule, options.optLevel, object, &error))) {
    emitError(toolLoc(ctx)) << error;
    return 1;
  }
  if (options.emit == nlc::Phase::Obj) {
    result = std::string(object.str());
    return 0;
  }

  // A shared library and its manifest next to it.
  if (options.outputFile == "-") {
    emitError(toolLoc(ctx)) << "--emit=lib writes a shared library; give its "
                               "path with -o";
    return 1;
  }
  llvm::SmallString<128> objectPath;
  int fd;
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile("nlc-model", "o",
                                                              fd, objectPath)) {
    emitError(toolLoc(ctx))
        << "cannot create a temporary object file: " << ec.message();
    return 1;
  }
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << object;
  }
  // The library is linked under a temporary name, made durable, described
  // in the .json (its size and CRC-32, which the runtime checks before it
  // loads it), and only then renamed into place: the manifest first, so
  // that a library found next to a manifest is always complete.
  std::string tmpLib = temporaryFor(options.outputFile);
  LogicalResult linked =
      nlc::linkSharedLibrary(objectPath, tmpLib, openMPDir, &error);
  llvm::sys::fs::remove(objectPath);
  if (failed(linked)) {
    llvm::sys::fs::remove(tmpLib);
    emitError(toolLoc(ctx)) << error;
    return 1;
  }
  FailureOr<nlc::LibraryInfo> library = describeFile(tmpLib, ctx);
  if (failed(library) || syncFile(tmpLib)) {
    llvm::sys::fs::remove(tmpLib);
    if (succeeded(library))
      emitError(toolLoc(ctx)) << "cannot write '" << options.outputFile << "'";
    return 1;
  }
  llvm::SmallString<128> manifestPath(options.outputFile);
  llvm::sys::path::replace_extension(manifestPath, "json");
  if (failed(
          writeOutput(manifestPath,
                      nlc::writeManifest(abi, nlc::versionString(), optionsHash,
                                         modelHash, {}, &*library),
                      ctx))) {
    llvm::sys::fs::remove(tmpLib);
    return 1;
  }
  if (std::error_code ec = llvm::sys::fs::rename(tmpLib, options.outputFile)) {
    llvm::sys::fs::remove(tmpLib);
    emitError(toolLoc(ctx))
        << "cannot write '" << options.outputFile << "': " << ec.message();
    return 1;
  }
  result.clear();
  return 0;
}

int Compilation::generateCUDA(ModuleOp module) {
  nlc::CUDAOptions cuda;
  cuda.arch = options.gpuArch;
  cuda.toolkitPath = options.cudaPath;
  FailureOr<nlc::CUDAImage> image = nlc::serializeToPTX(module, cuda);
  if (failed(image))
    return 1;
  if (failed(phaseDone(nlc::Phase::PTX, image->ptx)))
    return 1;
  if (options.emit == nlc::Phase::PTX) {
    result = image->ptx;
    return 0;
  }
  if (options.outputFile == "-") {
    emitError(toolLoc(ctx))
        << "--emit=" << nlc::phaseName(options.emit) << " writes files; give "
        << (options.emit == nlc::Phase::Lib ? "the model's path (m.ptx)"
                                            : "a directory")
        << " with -o";
    return 1;
  }
  if (options.emit == nlc::Phase::CudaSrc) {
    if (std::error_code ec =
            llvm::sys::fs::create_directories(options.outputFile)) {
      emitError(toolLoc(ctx)) << "cannot create directory '"
                              << options.outputFile << "': " << ec.message();
      return 1;
    }
    nlc::CUDASource src =
        nlc::writeCUDASource(abi, *image, nlc::versionString());
    llvm::SmallString<128> header(options.outputFile), source(header);
    llvm::sys::path::append(header, abi.model + ".h");
    llvm::sys::path::append(source, abi.model + ".cu");
    if (failed(writeOutput(header, src.header, ctx)) ||
        failed(writeOutput(source, src.source, ctx)))
      return 1;
    result.clear();
    return 0;
  }
  // --emit=lib: the PTX image and its manifest next to it.
  optionsHash =
      hex(llvm::xxh3_64bits((llvm::Twine(cudaOptLevel) + "|cuda|" + cuda.arch +
                             "|" + llvm::Twine(options.gpuBlockSize) + "|" +
                             nlc::versionString() + "|" + nlc::buildIdentity())
                                .str()));
  nlc::ManifestTarget target;
  target.target = "cuda";
  target.step = image->stepsKernel;
  target.flush = image->flushKernel;
  target.launch = nlc::launchManifest(*image, cuda);
  // The manifest records the image's size and CRC-32; it is written first,
  // so that an image found next to a manifest is always complete.
  nlc::LibraryInfo library{
      static_cast<int64_t>(image->ptx.size()),
      llvm::crc32(llvm::arrayRefFromStringRef(llvm::StringRef(image->ptx)))};
  manifest = nlc::writeManifest(abi, nlc::versionString(), optionsHash,
                                modelHash, target, &library);
  llvm::SmallString<128> manifestPath(options.outputFile);
  llvm::sys::path::replace_extension(manifestPath, "json");
  if (failed(writeOutput(manifestPath, manifest, ctx)) ||
      failed(writeOutput(options.outputFile, image->ptx, ctx)))
    return 1;
  result.clear();
  return 0;
}

int Compilation::run() {
  SourceMgrDiagnosticHandler handler(sourceMgr, &ctx);
  // Errors that belong to no line of the input (options, missing files) are
  // printed as "nlc: error: ..."; located ones go to the SourceMgr handler,
  // which prints the line and a caret.
  ScopedDiagnosticHandler toolHandler(&ctx, [](Diagnostic &diag) {
    Location l = diag.getLocation();
    if (!isa<UnknownLoc, NameLoc>(l))
      return failure();
    const char *kind = diag.getSeverity() == DiagnosticSeverity::Error ? "error"
                       : diag.getSeverity() == DiagnosticSeverity::Warning
                           ? "warning"
                           : "note";
    llvm::errs() << "nlc: " << kind << ": " << diag << "\n";
    return success();
  });
  OwningOpRef<ModuleOp> module;
  if (failed(loadInput(module)))
    return 1;

  if (options.emit != nlc::Phase::AST) {
    if (failed(phaseDone(nlc::Phase::NL, printModule(*module))))
      return 1;
    bool cudaOnly =
        options.emit == nlc::Phase::PTX || options.emit == nlc::Phase::CudaSrc;
    if (cudaOnly && options.target != nlc::Target::CUDA) {
      emitError(toolLoc(ctx)) << "--emit=" << nlc::phaseName(options.emit)
                              << " needs --target=cuda";
      return 1;
    }
    if ((options.emit != nlc::Phase::NL || options.summary) &&
        failed(compileMLIR(*module)))
      return 1;
  }

  if (options.emit > nlc::Phase::Linalg) {
    int rc = options.target == nlc::Target::CUDA ? generateCUDA(*module)
                                                 : generateCPU(*module);
    if (rc)
      return rc;
    if (options.emit == nlc::Phase::Lib || options.emit == nlc::Phase::CudaSrc)
      return 0;
  }
  if (options.summary)
    result = summarize(*module);
  if (failed(writeOutput(options.outputFile, result, ctx)))
    return 1;
  return 0;
}

} // namespace

std::optional<nlc::HyperOverride>
nlc::parseHyperOverride(llvm::StringRef text) {
  size_t eq = text.find('=');
  if (eq == llvm::StringRef::npos || eq == 0)
    return std::nullopt;
  return HyperOverride{text.take_front(eq).str(),
                       text.drop_front(eq + 1).str()};
}

int nlc::compileStandalone(const CompileOptions &options) {
  nlc::registerAllPasses();
  DialectRegistry registry;
  nlc::registerAllDialects(registry);
  MLIRContext context(registry);
  context.printOpOnDiagnostic(false);
  return compile(options, context);
}

int nlc::compile(const CompileOptions &options, MLIRContext &context) {
  context.getOrLoadDialect<mlir::nl::NLDialect>();
  context.getOrLoadDialect<mlir::arith::ArithDialect>();
  context.getOrLoadDialect<mlir::tensor::TensorDialect>();
  Compilation compilation(options, context);
  return compilation.run();
}

//===----------------------------------------------------------------------===//
// --list-rules
//===----------------------------------------------------------------------===//

namespace {
/// "a, b, c": the spellings of an enumeration.
template <typename EnumT> std::string values() {
  return llvm::join(mlir::nl::enumSpellings<EnumT>(), ", ");
}
} // namespace

std::string nlc::listRules() {
  using namespace mlir::nl;
  std::string out;
  llvm::raw_string_ostream os(out);
  os << "Learning rules: rule { field = value, ... } in a level "
        "(#nl.rule<...> in nl IR).\n"
     << "The first value listed is the default; 'objective' is required.\n\n";
  auto row = [&](llvm::StringRef field, const std::string &vals,
                 llvm::StringRef meaning) {
    os << "  " << llvm::left_justify(field, 15) << vals << "\n"
       << "  " << llvm::left_justify("", 15) << meaning << "\n";
  };
  // Every field, objective, retention and algorithm as the rule registry
  // (NLRules.h) lists them.
  for (const RuleField &f : ruleFields()) {
    std::string vals =
        f.spellings ? llvm::join(f.spellings(), ", ") : f.values.str();
    row(f.name, vals, f.meaning);
  }
  // Where a value compiles: "fused" (the CPU/CUDA lowering), "chunk"
  // (nl-chunk's chunk form), "explicit" (nl-expand-updates,
  // --update-form=expanded).
  auto where = [](bool fused, bool chunk, bool expanded) {
    llvm::SmallVector<llvm::StringRef> w;
    if (fused)
      w.push_back("fused");
    if (chunk)
      w.push_back("chunk");
    if (expanded)
      w.push_back("explicit");
    return w.empty() ? std::string("none yet") : llvm::join(w, ", ");
  };
  auto entry = [&](llvm::StringRef name, llvm::StringRef summary,
                   const std::string &compiles) {
    os << "  " << llvm::left_justify(name, 15) << summary << "\n"
       << "  " << llvm::left_justify("", 15) << "compiles: " << compiles
       << "\n";
  };
  os << "\nObjectives:\n";
  for (const ObjectiveEntry &e : objectives())
    entry(stringifyObjective(e.objective), e.summary,
          where(e.fused, e.chunkForm, /*expanded=*/true));
  os << "\nRetentions:\n";
  for (const RetentionEntry &e : retentions())
    entry(stringifyRetention(e.retention), e.summary,
          where(e.fused, e.chunkForm, e.expanded));
  os << "\nAlgorithms:\n";
  for (const AlgorithmEntry &e : algorithms())
    entry(stringifyAlgorithm(e.algorithm), e.summary,
          std::string(e.chunked ? "fused (any period)" : "fused (period 1)") +
              (e.expanded ? ", explicit" : ""));
  os << "\nLevels: level NAME period (C | inf | frozen) [phase online|offline]"
        " [tail carry|flush|drop] { rule {...} state ... }\n"
     << "Memories: matrix[out, in](heads, layout), mlp[w0, ..., wn](act, bias,"
        " residual, norm, heads), kv_cache(key, value, window, heads), "
        "[shape]\n"
     << "Transfers: " << values<TransferKind>() << "\n";
  return out;
}
