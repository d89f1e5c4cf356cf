//===- ModelABI.h - The C ABI and manifest of a compiled model --*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// A compiled model is a shared library with two entry points and a JSON
// manifest. Both the lowering (which emits the entry points) and the
// manifest writer derive the argument order from this one description.
//
//   void nl_<model>_step(const float *const *params, float *const *state,
//                        const float *x, float *const *outputs,
//                        uint64_t active, uint64_t fire);
//   void nl_<model>_flush(const float *const *params, float *const *state,
//                         uint64_t fire);
//
// `params` and `state` list the tensors of the manifest in order (one
// stream's state; the runtime calls once per stream and token). Bit i of
// `active` lets level i learn from this token; bit i of `fire` applies level
// i's pending chunk after it (the runtime's clock decides both).
//
//===----------------------------------------------------------------------===//

#ifndef NLC_ABI_MODELABI_H
#define NLC_ABI_MODELABI_H

#include "nl/IR/NLOps.h"

#include "llvm/ADT/SmallVector.h"

#include <string>

namespace nlc {

/// The most tokens whose weight-gradient factors (dy, x) an MLP level keeps
/// before summing them into its accumulator: a period's worth, up to this
/// (a slow level's whole period would cost megabytes of state).
constexpr int64_t kMaxDeferredRows = 64;

/// One tensor of the ABI: a parameter, a level's state, or an internal
/// buffer the runtime holds for the compiled code (chunk accumulators,
/// gates of the pending chunk, the input history of short convolutions).
struct ABITensor {
  enum class Role { Param, State, Accumulator, Gate, History };
  Role role;
  std::string name; // "W_q", "memory.M", "slow.__acc"
  llvm::SmallVector<int64_t> shape;
  int level = -1;                 // owning level index, -1 for params
  mlir::Attribute init;           // an initializer attribute, or null (zeros)
  mlir::Operation *def = nullptr; // nl.param / nl.state, if any
  /// The element type: f32 for every value the model computes with, i32 for
  /// the bookkeeping counts the code uses as indices (a ring buffer's write
  /// position and fill, the tokens in a deferred-gradient ring).
  enum class Element { F32, I32 };
  Element element = Element::F32;
  /// An i32 count's largest valid value (the smallest is 0). The runtime
  /// refuses a state outside [0, maxValue] before the code sees it.
  int64_t maxValue = 0;
  /// A ring buffer's write position names its fill count here: while fewer
  /// than maxValue + 1 slots are filled, the position equals the fill.
  std::string ringFill;

  /// An i32 count of `level` in [0, maxValue].
  static ABITensor counter(std::string name, int level, int64_t maxValue,
                           Role role = Role::State,
                           mlir::Operation *def = nullptr) {
    ABITensor t{role, std::move(name), {1}, level, mlir::Attribute(), def};
    t.element = Element::I32;
    t.maxValue = maxValue;
    return t;
  }
  bool isCounter() const { return element == Element::I32; }
};

struct ABILevel {
  std::string name;
  mlir::nl::LevelOp op;
  int64_t period; // 0 = frozen/offline, 1 for inf
  bool infinite = false;
  std::string tail;
  int64_t order = 0;
  /// The rule as printed (#nl.rule<...>), for the manifest; empty if none.
  /// (`op` is gone once the model is lowered; this stays.)
  std::string rule;
};

struct ModelABI {
  std::string model;
  int64_t dim = 0;
  int64_t hyperPeriod = 1;
  llvm::SmallVector<ABILevel> levels;
  llvm::SmallVector<ABITensor> params;
  llvm::SmallVector<ABITensor> state;
  llvm::SmallVector<llvm::SmallVector<int64_t>> outputs;

  std::string stepSymbol() const { return "nl_" + model + "_step"; }
  std::string flushSymbol() const { return "nl_" + model + "_flush"; }
  /// Tokens per call of the chunk entry point (nl.chunk_step), 0 if none.
  int64_t chunkSize = 0;
  /// CPU: the largest stack frame of an entry point (its scratch), which
  /// the runtime's threads must hold; 0 if unknown.
  int64_t stackBytes = 0;
  std::string chunkSymbol() const { return "nl_" + model + "_chunk"; }
  /// The heads of the one-head model (nl-split-heads) the runtime may run
  /// on threads of their own, 0 if none; its step's C symbol.
  int64_t headSplit = 0;
  std::string headStepSymbol;
  /// The chunk entry of one head (the one-head model's nl-chunk form), or
  /// empty: head h's slices of the step's arguments for chunkSize tokens.
  std::string headChunkSymbol;
  /// The hyper-parameters the model was built with (name, value as a JSON
  /// number), from the front end; empty for an MLIR input.
  llvm::SmallVector<std::pair<std::string, std::string>> hypers;
  /// Index of the state tensor called `name`, or -1.
  int stateIndex(llvm::StringRef name) const;
};

/// The symbol under which a compiled CPU library embeds its manifest (a
/// NUL-terminated string), whatever the model is called, so that the
/// runtime can load a library without its .json.
inline constexpr const char *kEmbeddedManifestSymbol = "nlc_manifest";

/// The compiled file a manifest describes (its .json copy only: the copy
/// embedded in the library cannot describe the bytes that hold it).
struct LibraryInfo {
  int64_t bytes = 0;
  uint32_t crc32 = 0;
};

/// Registers the ABI's layout of a model's tensors on the nl dialect
/// (mlir::nl::ModelLayoutInterface), which nl-split-heads checks the model
/// of one head against.
void registerModelLayout(mlir::DialectRegistry &registry);

/// Computes the ABI of a verified, scheduled model. Fails (with a located
/// error) on constructs the CPU back end does not support yet.
mlir::FailureOr<ModelABI> computeABI(mlir::nl::ModelOp model);

/// The manifest (JSON) of a compiled model: levels and periods, every
/// parameter and state tensor with shape, dtype and initializer, the entry
/// points, and the compiler version and options hash.
/// What a manifest says about the code it describes: the target, the
/// entry points (C functions, or kernel names for cuda) and, for cuda, a
/// JSON object of launch parameters.
struct ManifestTarget {
  std::string target = "cpu";
  std::string step, flush; // empty: the C symbols of the ABI
  std::string launch;      // empty: none
};
std::string writeManifest(const ModelABI &abi, llvm::StringRef version,
                          llvm::StringRef optionsHash,
                          llvm::StringRef modelHash,
                          const ManifestTarget &target = {},
                          const LibraryInfo *library = nullptr);

} // namespace nlc

#endif // NLC_ABI_MODELABI_H
