//===- NLRules.h - The registry of learning rules --------------*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// One table of the fields a `#nl.rule<...>` (a `rule { ... }` block) takes,
// one entry per inner objective (its gradient, written with TensorMath, and
// where it compiles), one per retention and one per update algorithm (what
// memory it keeps, where the back ends compile it). The front end's field
// list and spellings, `nlc --list-rules`, the rule verifier, the back ends'
// legality (the fused CPU lowering, nl-chunk, nl-expand-mlp) and
// nl-expand-updates all read these tables: a new objective is one entry
// here plus its tests.
//
//===----------------------------------------------------------------------===//

#ifndef NL_IR_NLRULES_H
#define NL_IR_NLRULES_H

#include "nl/IR/NLAttrs.h"
#include "nl/IR/NLTensorMath.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

namespace mlir::nl {

/// One field of a learning rule.
struct RuleField {
  llvm::StringRef name;
  /// The spellings of an enumeration field, its default first; empty for a
  /// number, an integer or the `via` list.
  llvm::SmallVector<llvm::StringRef> (*spellings)();
  /// What a field that is not an enumeration takes (and its default).
  llvm::StringRef values;
  /// One line: what the field decides.
  llvm::StringRef meaning;
};

/// Every field, in the order `#nl.rule<...>` prints them.
llvm::ArrayRef<RuleField> ruleFields();
/// The field called `name`, or null.
const RuleField *lookupRuleField(llvm::StringRef name);

/// What an objective's gradient is built from: one token's key and value
/// and the memory (`M`, [heads?, rows, cols]) the gradient is taken at.
struct ObjectiveArgs {
  Value M, key, value;
  RuleAttr rule;
  /// A data-dependent scale of huber's threshold (per head), or null.
  Value deltaScale;
};

/// One inner objective L(M; k, v).
struct ObjectiveEntry {
  Objective objective;
  /// One line: the loss and its gradient.
  llvm::StringRef summary;
  /// It takes a key and a value (`linear` takes the gradient itself).
  bool keyValue;
  /// An MLP memory may learn with it (nl-expand-mlp derives its gradient).
  bool mlpMemory;
  /// The fused CPU/CUDA lowering compiles it; the explicit form
  /// (nl-expand-updates) compiles every key/value objective.
  bool fused;
  /// nl-chunk writes its chunk form.
  bool chunkForm;
  /// The gradient of a matrix memory is `e k^T`, e = dL/d(Mk): this builds
  /// e (DGD's step sizes and the delta preconditioner act on it). Null if
  /// the objective builds its whole gradient instead.
  Value (*predictionGrad)(TensorMath &, const ObjectiveArgs &);
  /// dL/dM of a matrix memory, for an objective that is not of that form.
  Value (*gradient)(TensorMath &, const ObjectiveArgs &);
};

/// The entry of `objective`.
const ObjectiveEntry &objectiveEntry(Objective objective);
/// Every objective, in declaration order.
llvm::ArrayRef<ObjectiveEntry> objectives();

/// One retention (forgetting) term.
struct RetentionEntry {
  Retention retention;
  llvm::StringRef summary;
  /// Where it compiles: the fused lowering, nl-chunk, nl-expand-updates.
  bool fused, chunkForm, expanded;
};
const RetentionEntry &retentionEntry(Retention retention);
llvm::ArrayRef<RetentionEntry> retentions();

/// One update algorithm.
struct AlgorithmEntry {
  Algorithm algorithm;
  /// The memories it keeps: the levels its `via` names (or, fused, the
  /// states that follow the memory in its own level).
  unsigned memories;
  /// One line: what it does.
  llvm::StringRef summary;
  /// The CPU back end compiles it on a level of period above 1.
  bool chunked;
  /// nl-expand-updates writes it as explicit updates.
  bool expanded;
  /// The output map sigma of a momentum-like algorithm (NL Eq 52: W <- W +
  /// sigma(m)): applied to the updated momentum before it is added to the
  /// memory; null for the identity.
  Value (*outputMap)(TensorMath &, Value momentum, RuleAttr rule);
};

/// The entry of `algorithm`.
const AlgorithmEntry &algorithmEntry(Algorithm algorithm);
/// Every algorithm, in declaration order.
llvm::ArrayRef<AlgorithmEntry> algorithms();

} // namespace mlir::nl

#endif // NL_IR_NLRULES_H
