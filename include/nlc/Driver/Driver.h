//===- Driver.h - The nlc compiler as a library -----------------*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// `nlc` is a thin command line over this library, so that a C API and
// bindings can drive the same phases.
//
//===----------------------------------------------------------------------===//

#ifndef NLC_DRIVER_DRIVER_H
#define NLC_DRIVER_DRIVER_H

#include "nlc/Frontend/MLIRGen.h"
#include "nlc/Pipelines/Pipelines.h"

#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>
#include <vector>

namespace mlir {
class MLIRContext;
} // namespace mlir

namespace nlc {

enum class Target { CPU, CUDA };

/// The phases of compilation, in order; `--emit=` stops after one.
enum class Phase {
  AST,       // the parsed description (text)
  NL,        // nl dialect, graph form (verified)
  Scheduled, // nl with periods, ranks, order and hyper-period annotated
  Expanded,  // nl in the explicit-update form (nl-expand-updates)
  Linalg,    // kernel form: scf loops on memrefs (`--emit=loops`,
             // alias `linalg`)
  LLVM,      // LLVM IR for the host
  Obj,       // object file for the host
  Lib,       // shared library + JSON manifest
  PTX,       // PTX, CUDA target
  CudaSrc,   // self-contained .cu + .h, CUDA target (-o DIR)
};

/// The name of a phase as spelled by `--emit=` and in dumps.
llvm::StringRef phaseName(Phase phase);
/// Parses a `--emit=` value.
std::optional<Phase> parsePhase(llvm::StringRef name);

struct CompileOptions {
  std::string inputFile = "-";
  std::string outputFile = "-";
  Target target = Target::CPU;
  Phase emit = Phase::NL;
  unsigned optLevel = 2;
  std::string gpuArch = "sm_90";
  /// CPU: run the heaviest loops of a step on an OpenMP thread team.
  bool cpuParallel = false;
  /// ... for the loops whose estimated operations reach this.
  int64_t cpuParallelMinWork = 2000000;
  /// CPU: libm for erf, tanh and exp (no nl-approximate-math).
  bool exactMath = false;
  /// The most bytes of state one stream may keep; a model beyond it is a
  /// located error at compile time.
  int64_t maxStateBytes = int64_t(16) << 30;
  /// CPU: the most scratch bytes one call of an entry point may use (its
  /// stack frame; the manifest's "stack_bytes" tells the runtime how large
  /// a stack to run it on).
  int64_t maxScratchBytes = int64_t(1) << 30;
  /// CPU: the chunk-parallel form of the step (nl-chunk).
  ChunkForm chunkForm = ChunkForm::Auto;
  /// CPU: the per-head form of the step (nl-split-heads).
  HeadForm headForm = HeadForm::Auto;
  /// CPU: lower the rules fused or from their explicit-update form.
  UpdateForm updateForm = UpdateForm::Fused;
  /// CPU: add the backward of the step (nl-derive-backward, from the
  /// explicit-update form, which it implies) and its entry point; the
  /// runtime's BPTT schedule: a checkpoint every `bpttCheckpoint` tokens,
  /// the state's cotangent cut every `bpttTruncate` tokens (0: never).
  bool backward = false;
  int64_t bpttCheckpoint = 64;
  int64_t bpttTruncate = 0;
  /// Threads per block of the CUDA kernels (one block runs one stream).
  int64_t gpuBlockSize = 512;
  /// The CUDA toolkit (for libdevice); empty: $CUDA_HOME, else
  /// /usr/local/cuda.
  std::string cudaPath;
  std::vector<HyperOverride> overrides;
  /// When set, the output of every phase is written to DIR/NN-phase.ext.
  std::string dumpPhasesDir;
  /// Print a table of the levels and their schedule instead of the IR
  /// (implies scheduling).
  bool summary = false;
};

/// Compiles one file as `options` say. Diagnostics are printed to stderr as
/// `file:line:col: error: ...` with the source line and a caret. Returns 0
/// on success; on failure returns 1 and writes nothing to the output.
int compile(const CompileOptions &options, mlir::MLIRContext &context);

/// Parses `-D name=value`; returns nullopt for a malformed one.
std::optional<HyperOverride> parseHyperOverride(llvm::StringRef text);

/// Compiles with the options registered for standalone use: registers the
/// dialects and passes, creates a context, and runs `compile`.
int compileStandalone(const CompileOptions &options);

/// The built-in rule vocabulary: objectives, retentions, algorithms and
/// every rule field with its values and default (`nlc --list-rules`).
std::string listRules();

/// "nlc X.Y.Z (LLVM/MLIR A.B.C)".
std::string versionString();

/// The identity of this build of the compiler: a hash of the GNU build IDs
/// of every object of the running process (the compiler's own code,
/// libMLIR, ...), 16 hex digits. Two builds that differ in any code differ
/// here, whatever their version says; nl-run keys its cache on it.
std::string buildIdentity();

} // namespace nlc

#endif // NLC_DRIVER_DRIVER_H
