//===- NLDependencies.h - Same-step dependencies between levels -*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// Level A *needs* level B within a step when A's state at step t is computed
// from B's state at step t: A's update consumes a read of B that sees B's
// write of this step (B's rule has `read = after_write`, or B is a KV cache,
// whose reads include the current token), or B is named in A's `via` (A
// applies the momentum B computed this step). The model verifier rejects
// cycles of this relation; nl-verify-schedule orders updates by it.
//
//===----------------------------------------------------------------------===//

#ifndef NL_IR_NLDEPENDENCIES_H
#define NL_IR_NLDEPENDENCIES_H

#include "nl/IR/NLOps.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"

namespace mlir::nl {

/// Whether a read of `level` in step t returns the level's step-t state: its
/// rule reads after the write, or it is a KV cache (whose reads include the
/// current token).
bool readSeesThisStep(LevelOp level);

/// One edge: level `from` needs the step-t state of level `to`.
struct LevelDependency {
  unsigned from;
  unsigned to;
  /// The op that creates the need: an nl.read, or the level whose `via`
  /// names `to`.
  Operation *witness;
};

/// The graph of same-step dependencies between the levels of one model.
class LevelGraph {
public:
  explicit LevelGraph(ModelOp model);

  /// Levels, in the model's body order (indices used by edges).
  MutableArrayRef<LevelOp> getLevels() { return levels; }
  ArrayRef<LevelDependency> getDependencies() const { return deps; }
  /// Index of the level called `name`, if any.
  std::optional<unsigned> indexOf(StringRef name) const;

  /// A dependency cycle as the list of its edges, or an empty list.
  SmallVector<LevelDependency> findCycle() const;

  /// An order of the levels in which every level comes after the levels it
  /// needs; among levels that are free at the same time, `before(a, b)`
  /// decides. Fails if the graph has a cycle.
  FailureOr<SmallVector<unsigned>>
  topologicalOrder(llvm::function_ref<bool(unsigned, unsigned)> before) const;

private:
  SmallVector<LevelOp> levels;
  llvm::DenseMap<StringRef, unsigned> index;
  SmallVector<LevelDependency> deps;
};

/// The step's ops in an order that respects its values and the read/update
/// semantics: a read (or nl.weights view) that sees the state before its
/// level's write comes before the update, one that sees it after comes
/// after, and an optimizer level's update before the update of the level it
/// serves. Stable: among free ops, program order. A located error if no such
/// order exists. The one place this order is computed; nl-expand-updates
/// materializes it, and the lowering follows it.
FailureOr<SmallVector<Operation *>> orderStepOps(ModelOp model, StepOp step);

} // namespace mlir::nl

#endif // NL_IR_NLDEPENDENCIES_H
