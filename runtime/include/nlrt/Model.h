//===- Model.h - A compiled model: manifest and entry points ----*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// Loads the shared library nlc produced (`nlc --emit=lib -o m.so`) and its
// manifest (`m.json`). The runtime knows nothing of any rule's math: it only
// calls the two entry points the compiler generated.
//
//===----------------------------------------------------------------------===//

#ifndef NLRT_MODEL_H
#define NLRT_MODEL_H

#include "nlrt/Clock.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nlrt {

/// How a tensor gets its first value (the manifest's "init").
struct InitSpec {
  std::string kind = "zeros"; // zeros ones identity fill normal uniform file
  double value = 0, std = 0, mean = 0, low = 0, high = 0;
  std::string file; // tensor name in the params file
};

struct TensorSpec {
  std::string name;
  std::string role; // param, state, accumulator, gate
  std::vector<int64_t> shape;
  int64_t numel = 0;
  int level = -1;
  InitSpec init;
};

struct LevelSpec {
  std::string name;
  int64_t period = 1; // 0: never updates online
  bool infinite = false;
  TailPolicy tail = TailPolicy::Carry;
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
  /// Index of the level called `name`, or -1.
  int levelIndex(const std::string &name) const;
};

/// Parses and validates a manifest.
bool parseManifest(const std::string &json, Manifest &out, std::string *error);

using StepFn = void (*)(const float *const *params, float *const *state,
                        const float *x, float *const *outputs, uint64_t active,
                        uint64_t fire);
using FlushFn = void (*)(const float *const *params, float *const *state,
                         uint64_t fire);

/// A loaded model: its manifest and entry points. Unloads on destruction.
class Model {
public:
  /// Loads `libraryPath` and the manifest next to it (same name, `.json`).
  static std::unique_ptr<Model> load(const std::string &libraryPath,
                                     std::string *error);
  ~Model();
  Model(const Model &) = delete;
  Model &operator=(const Model &) = delete;

  const Manifest &manifest() const { return info; }
  StepFn step() const { return stepFn; }
  FlushFn flush() const { return flushFn; }

private:
  Model() = default;
  void *handle = nullptr;
  Manifest info;
  StepFn stepFn = nullptr;
  FlushFn flushFn = nullptr;
};

} // namespace nlrt

#endif // NLRT_MODEL_H
