//===- NLRules.h - The registry of learning-rule fields and algorithms -*- C++
//-*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// One table of the fields a `#nl.rule<...>` (a `rule { ... }` block) takes,
// and one entry per update algorithm: what memory it keeps, where the back
// ends compile it. The front end's field list and spellings, `nlc
// --list-rules`, the rule verifier's `via` counts, the CPU back end's
// per-algorithm legality and nl-expand-updates all read these tables.
//
//===----------------------------------------------------------------------===//

#ifndef NL_IR_NLRULES_H
#define NL_IR_NLRULES_H

#include "nl/IR/NLAttrs.h"

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
};

/// The entry of `algorithm`.
const AlgorithmEntry &algorithmEntry(Algorithm algorithm);
/// Every algorithm, in declaration order.
llvm::ArrayRef<AlgorithmEntry> algorithms();

} // namespace mlir::nl

#endif // NL_IR_NLRULES_H
