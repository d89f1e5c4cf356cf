//===- ModelABI.h - The C ABI and manifest of a compiled model --*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// A compiled model is a shared library with two entry points and a JSON
// manifest. Both the lowering (which emits the entry points) and the
// manifest writer derive the argument order from this one description,
// which nl-materialize-abi computes once per model and attaches to it as
// `nl.abi = #nl.abi<...>` (ModelABI::toAttr); its readers take it back with
// getModelABI and find each tensor by its kind (ModelABI::find), never by
// its name, which is the manifest's.
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

#include <optional>

#include <string>

namespace nlc {

/// The most tokens whose weight-gradient factors (dy, x) an MLP level keeps
/// before summing them into its accumulator: a period's worth, up to this
/// (a slow level's whole period would cost megabytes of state).
constexpr int64_t kMaxDeferredRows = 64;

/// One tensor of the ABI: a parameter, a level's state, or an internal
/// buffer the runtime holds for the compiled code (chunk accumulators,
/// gates of the pending chunk, the input history of short convolutions).
/// The in-memory view of an #nl.abi_tensor: the compiler finds a tensor by
/// its kind and fields (ModelABI::find), its name is the manifest's.
struct ABITensor {
  using Kind = mlir::nl::ABIKind;
  Kind kind;
  std::string name; // "W_q", "memory.M", "slow.__acc"
  llvm::SmallVector<int64_t> shape;
  int level = -1;       // owning level index, -1 for params and histories
  mlir::Attribute init; // an initializer attribute, or null (zeros)
  /// The nl.state it stores (state, kv_*), the tensor of an MLP memory
  /// (state, accumulator, defer_*), the level it serves (gate_*,
  /// m3_pending): empty when it has none.
  std::string state, part, of;
  /// The convolution of a history, in step order; -1 otherwise.
  int64_t index = -1;
  /// The role of a bookkeeping nl.state (nl-expand-updates).
  std::optional<mlir::nl::StateRole> stateRole;
  /// An i32 count's largest valid value (the smallest is 0). The runtime
  /// refuses a state outside [0, maxValue] before the code sees it.
  int64_t maxValue = 0;
  /// The nl.param, nl.state or nl.conv it comes from, when the ABI was
  /// read with its model; null otherwise.
  mlir::Operation *def = nullptr;

  /// The manifest's roles.
  enum class Role { Param, State, Accumulator, Gate, History };
  Role role() const;
  /// The element type: f32 for every value the model computes with, i32 for
  /// the bookkeeping counts the code uses as indices (a ring buffer's write
  /// position and fill, the tokens in a deferred-gradient ring).
  bool isCounter() const;
};

struct ABILevel {
  std::string name;
  /// The level, when the ABI was read with its model.
  mlir::nl::LevelOp op;
  int64_t period; // 0 = frozen/offline, 1 for inf
  bool infinite = false;
  mlir::nl::TailPolicy tail = mlir::nl::TailPolicy::carry;
  int64_t order = 0;
  /// The rule, if any (the manifest prints it).
  mlir::nl::RuleAttr rule;
};

struct ModelABI {
  std::string model;
  int64_t dim = 0;
  int64_t hyperPeriod = 1;
  llvm::SmallVector<ABILevel> levels;
  llvm::SmallVector<ABITensor> params;
  llvm::SmallVector<ABITensor> state;
  llvm::SmallVector<llvm::SmallVector<int64_t>> outputs;

  std::string stepSymbol() const {
    return mlir::nl::EntryPointAttr::getSymbolFor(model,
                                                  mlir::nl::EntryKind::step);
  }
  std::string flushSymbol() const {
    return mlir::nl::EntryPointAttr::getSymbolFor(model,
                                                  mlir::nl::EntryKind::flush);
  }
  /// Tokens per call of the chunk entry point (nl.chunk_step), 0 if none.
  int64_t chunkSize = 0;
  std::string chunkSymbol() const {
    return mlir::nl::EntryPointAttr::getSymbolFor(model,
                                                  mlir::nl::EntryKind::chunk);
  }
  /// Whether the model has a backward entry (nl.backward_step).
  bool hasBackward = false;
  std::string backwardSymbol() const {
    return mlir::nl::EntryPointAttr::getSymbolFor(model,
                                                  mlir::nl::EntryKind::backward);
  }
  /// The backward's schedule, for the manifest (the driver's options): the
  /// state is kept every `checkpointEvery` tokens and recomputed between;
  /// `truncate` > 0 stops the gradient through the state every that many
  /// tokens of a call (truncated BPTT), 0 never.
  int64_t checkpointEvery = 64;
  int64_t truncate = 0;
  /// The model of one head (nl-split-heads): its step takes the head last.
  bool headArg = false;

  // What the driver adds for the manifest.
  /// CPU: the largest stack frame of an entry point (its scratch), which
  /// the runtime's threads must hold; 0 if unknown.
  int64_t stackBytes = 0;
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

  /// The index in `state` of the tensor of `kind` owned by level `level`
  /// (any level when -1) with these fields (empty: none), or -1.
  int find(ABITensor::Kind kind, int level, llvm::StringRef state = {},
           llvm::StringRef part = {}, llvm::StringRef of = {}) const;
  /// The index of the stored tensor of state `@level::@state` (of MLP
  /// part `::@part`), or -1.
  int find(mlir::SymbolRefAttr state) const;
  /// The index of the history of the `index`-th convolution, or -1.
  int findHistory(int64_t index) const;
  /// The level called `name`, or -1.
  int levelIndex(llvm::StringRef name) const;

  /// The ABI as an attribute (nl-materialize-abi attaches it).
  mlir::nl::ABIAttr toAttr(mlir::MLIRContext *context) const;
  /// The ABI an attribute describes; with `model`, the ops of its tensors
  /// and levels too.
  static ModelABI fromAttr(mlir::nl::ABIAttr attr,
                           mlir::nl::ModelOp model = {});
  /// The entry point of `kind` as an attribute.
  mlir::nl::EntryPointAttr entryPoint(mlir::MLIRContext *context,
                                      mlir::nl::EntryKind kind) const;
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
/// error) on constructs the CPU back end does not support yet. Only
/// nl-materialize-abi and nl-split-heads's check (ModelLayoutInterface)
/// call it; everything else reads the model's nl.abi.
mlir::FailureOr<ModelABI> computeABI(mlir::nl::ModelOp model);

/// The ABI attached to `model` (nl.abi), read with the model's ops; fails
/// with a located error when there is none ("run nl-materialize-abi").
mlir::FailureOr<ModelABI> getModelABI(mlir::nl::ModelOp model);

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
