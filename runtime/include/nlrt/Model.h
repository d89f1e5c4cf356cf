//===- Model.h - A compiled model: manifest and entry points ----*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// Loads what nlc produced and its manifest (`m.json`): for the CPU target the
// shared library (`nlc --emit=lib -o m.so`), for the CUDA target the PTX
// image (`nlc --target=cuda --emit=lib -o m.ptx`), whose bytes the CUDA
// executor hands to the driver. The runtime knows nothing of any rule's math:
// it only calls the two entry points the compiler generated.
//
//===----------------------------------------------------------------------===//

#ifndef NLRT_MODEL_H
#define NLRT_MODEL_H

#include "nlrt/Clock.h"
#include "nlrt/Tensor.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nlrt {

/// How a tensor gets its first value (the manifest's "init").
struct InitSpec {
  /// zeros ones identity fill normal uniform file param
  std::string kind = "zeros";
  double value = 0, std = 0, mean = 0, low = 0, high = 0;
  /// `file`: the tensor's key in the params file; `param`: the parameter
  /// whose value a state starts from.
  std::string file;
  /// Whether the tensor has a value without a params file (every kind but
  /// `file`).
  bool drawn() const { return kind != "file"; }
};

struct TensorSpec {
  std::string name;
  std::string role; // param, state, accumulator, gate, history
  std::vector<int64_t> shape;
  int64_t numel = 0;
  int level = -1;
  InitSpec init;
  /// f32 values, or i32 counts that the compiled code uses as indices.
  DType dtype = DType::F32;
  /// A count's valid values: [0, maxValue].
  int64_t maxValue = 0;
  /// A ring buffer's write position: the count of filled slots it follows
  /// (while the ring is not full the position equals the fill), or -1.
  int ringFill = -1;
  /// The key of this tensor in a params file (its `file` name, else its name).
  const std::string &paramKey() const {
    return init.kind == "file" ? init.file : name;
  }
};

struct LevelSpec {
  std::string name;
  int64_t period = 1; // 0: never updates online
  bool infinite = false;
  TailPolicy tail = TailPolicy::Carry;
  /// The level's learning rule as the compiler prints it (#nl.rule<...>),
  /// for diagnostics; empty when the manifest has none.
  std::string rule;
};

struct Manifest {
  std::string model;
  std::string modelHash;
  std::string compilerVersion;
  std::string json; // the manifest as read
  int64_t dim = 0;
  std::vector<std::vector<int64_t>> outputs;
  std::vector<LevelSpec> levels;
  std::vector<TensorSpec> params;
  std::vector<TensorSpec> state;
  std::string stepSymbol, flushSymbol;
  /// The chunk entry point (nl-chunk) and its tokens per call; empty / 0
  /// when the model has none. It runs `chunkSize` tokens that start a chunk
  /// of every learning level, with the step's arguments for that many
  /// tokens.
  std::string chunkSymbol;
  int64_t chunkSize = 0;
  /// The step of one head (nl-split-heads) and the heads it splits; empty /
  /// 0 when the model has none. Head h's state and outputs are the h-th
  /// slices (numel / headSplit elements) of every state tensor and output.
  std::string headStepSymbol;
  int64_t headSplit = 0;
  /// The chunk entry of one head (head h's slices for chunkSize tokens; its
  /// outputs [chunkSize, numel / headSplit] contiguous), or empty.
  std::string headChunkSymbol;
  /// The backward of the step (nlc --backward), or empty: one token's
  /// vector-Jacobian product. The runtime's schedule of backpropagation
  /// through time: a checkpoint of the state every `checkpointEvery`
  /// tokens, the state's cotangent cut every `truncate` tokens (0: never).
  std::string backwardSymbol;
  int64_t checkpointEvery = 0;
  int64_t truncate = 0;
  /// CPU: the largest stack frame of an entry point (its scratch); the
  /// runtime runs the entry points on threads whose stacks hold it.
  int64_t stackBytes = 0;
  /// "cpu" (also when the manifest has no "target") or "cuda".
  std::string target = "cpu";
  /// CUDA only (the manifest's "launch"): threads per block of both kernels
  /// and the architecture the image was compiled for ("sm_90"; may be empty).
  int64_t blockSize = 0;
  /// Global scratch bytes per stream the kernels need (their last argument).
  int64_t scratchBytes = 0;
  std::string arch;
  /// The size and CRC-32 of the compiled file, when the manifest records
  /// them (its .json does; the copy embedded in a library cannot): checked
  /// before the file is loaded. libraryBytes is -1 when absent.
  int64_t libraryBytes = -1;
  uint32_t libraryCrc32 = 0;
  /// The hyper-parameters the model was compiled with (name, value as
  /// written), when the manifest lists them.
  std::vector<std::pair<std::string, std::string>> hypers;
  /// Index of the level called `name`, or -1.
  int levelIndex(const std::string &name) const;
  /// Index of the parameter / state tensor called `name`, or -1.
  int paramIndex(const std::string &name) const;
  int stateIndex(const std::string &name) const;
  /// What a state file must match to be loaded into this model, and what
  /// is worth naming when it does not (dims, hyper-parameters, levels with
  /// their periods, tails and rules, state tensors with shapes and dtypes),
  /// as compact JSON. Saved with every state.
  std::string layoutJson() const;
};

/// The differences between the layout a state file recorded
/// (Manifest::layoutJson) and `current`, one line each ("hyper lr: 0.01 in
/// the state, 0.001 here"); `compatible` tells whether the state tensors
/// and the clock still match (the same names, shapes, dtypes and periods).
std::vector<std::string> describeLayoutChange(const std::string &savedLayout,
                                              const Manifest &current,
                                              bool &compatible);

/// The symbol under which a compiled library embeds its manifest.
constexpr const char *kEmbeddedManifestSymbol = "nlc_manifest";

/// Parses and validates a manifest.
bool parseManifest(const std::string &json, Manifest &out, std::string *error);

/// The manifest path of a compiled model: `libraryPath` with its extension
/// replaced by `.json`.
std::string manifestPathFor(const std::string &libraryPath);

/// The checks Model::load makes before it uses a compiled file, without
/// loading it: the size and CRC-32 its .json records, and that a library
/// is a complete ELF file. False with a message when the file is damaged.
bool verifyModelFile(const std::string &libraryPath, std::string *error);

using StepFn = void (*)(const float *const *params, float *const *state,
                        const float *x, float *const *outputs, uint64_t active,
                        uint64_t fire);
/// The step of one head: the step's arguments (the head's slices of state
/// and outputs), then the head.
using HeadStepFn = void (*)(const float *const *params, float *const *state,
                            const float *x, float *const *outputs,
                            uint64_t active, uint64_t fire, int64_t head);
using FlushFn = void (*)(const float *const *params, float *const *state,
                         uint64_t fire);
/// The backward of one token: the step's arguments (`outputs` holds the
/// cotangents of the outputs, `state` the state before the token, which it
/// only reads), then the gradients of the parameters (added to), the
/// cotangents of the state (in: after the token; out: before it) and the
/// input's cotangent (written).
using BackwardFn = void (*)(const float *const *params,
                            const float *const *state, const float *x,
                            const float *const *dy, uint64_t active,
                            uint64_t fire, float *const *dparams,
                            float *const *dstate, float *dx);
/// Sets the thread team of the calling thread (OpenMP's
/// omp_set_num_threads, from the libomp a threaded model links).
using SetThreadsFn = void (*)(int threads);

/// A loaded model: its manifest and entry points. Unloads on destruction.
class Model {
public:
  /// Loads a compiled model: the manifest next to `libraryPath` (same name,
  /// `.json`) when there is one, else (a CPU library) the manifest the
  /// library embeds (kEmbeddedManifestSymbol); then `libraryPath` itself:
  /// dlopen for a CPU model, its bytes for a CUDA one. Before that, the file
  /// must match the size and CRC-32 its .json records, and a library must
  /// be a complete ELF file (a truncated one is refused, not mapped); a
  /// .json whose model hash differs from the embedded manifest's is stale
  /// and refused.

  static std::unique_ptr<Model> load(const std::string &libraryPath,
                                     std::string *error);
  ~Model();
  Model(const Model &) = delete;
  Model &operator=(const Model &) = delete;

  const Manifest &manifest() const { return info; }
  /// The path the model was loaded from.
  const std::string &path() const { return file; }
  /// The manifest's target: "cpu" or "cuda".
  const std::string &target() const { return info.target; }
  bool isCuda() const { return info.target == "cuda"; }
  /// CPU models: the entry points (null for a CUDA model).
  StepFn step() const { return stepFn; }
  FlushFn flush() const { return flushFn; }
  /// The chunk entry (same signature as the step, for chunkSize tokens), or
  /// null.
  StepFn chunk() const { return chunkFn; }
  /// The step of one head, or null.
  HeadStepFn headStep() const { return headStepFn; }
  /// The chunk entry of one head (the head step's signature for chunkSize
  /// tokens), or null.
  HeadStepFn headChunk() const { return headChunkFn; }
  /// The backward of one token, or null (a model compiled without
  /// --backward).
  BackwardFn backward() const { return backwardFn; }
  /// Null for a model compiled without threads (--cpu-parallel=false).
  SetThreadsFn setThreads() const { return setThreadsFn; }
  /// CUDA models: the module image as read (PTX text); empty for CPU models.
  const std::string &image() const { return bytes; }

private:
  Model() = default;
  void *handle = nullptr;
  Manifest info;
  std::string file;
  std::string bytes;
  StepFn stepFn = nullptr;
  FlushFn flushFn = nullptr;
  StepFn chunkFn = nullptr;
  HeadStepFn headStepFn = nullptr;
  HeadStepFn headChunkFn = nullptr;
  BackwardFn backwardFn = nullptr;
  SetThreadsFn setThreadsFn = nullptr;
};

} // namespace nlrt

#endif // NLRT_MODEL_H
