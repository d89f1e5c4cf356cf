//===- AST.h - Syntax tree of .nl model descriptions ------------*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// The parser builds this tree; MLIRGen lowers it to the nl dialect. Every
// node keeps the source position of its first token (an llvm::SMLoc into the
// buffer owned by the llvm::SourceMgr) so that every op and every error can
// point back at the description.
//
//===----------------------------------------------------------------------===//

#ifndef NLC_FRONTEND_AST_H
#define NLC_FRONTEND_AST_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/SMLoc.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace nlc::ast {

/// A literal or name on the right of `key = ...` (rule fields, options,
/// shapes): a number, a bare word, a string, or a list of words.
struct Value {
  enum class Kind { Number, Word, String, List } kind = Kind::Word;
  llvm::SMLoc loc;
  double number = 0;
  bool isInteger = false;
  std::string text;            // Word, String
  std::vector<Value> elements; // List
};

/// `name = value`, or a bare `name` (a flag such as `residual`).
struct KeyValue {
  llvm::SMLoc loc;
  std::string key;
  std::optional<Value> value;
};

//===----------------------------------------------------------------------===//
// Expressions and statements of the step
//===----------------------------------------------------------------------===//

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

/// An argument of a call: positional or `name = expr`.
struct Arg {
  llvm::SMLoc loc;
  std::string name; // empty when positional
  ExprPtr value;
};

struct Expr {
  enum class Kind { Number, Name, Call, Binary, Negate } kind;
  llvm::SMLoc loc;
  double number = 0;      // Number
  bool isInteger = false; // Number
  std::string name;       // Name, Call (callee)
  char op = 0;            // Binary: '+', '-', '*', '/', '@'
  ExprPtr lhs, rhs;       // Binary (lhs, rhs), Negate (lhs)
  std::vector<Arg> args;  // Call
  unsigned depth = 1;     // height of this subtree (bounded by the parser)
};

struct Stmt {
  enum class Kind { Assign, Update, Return } kind;
  llvm::SMLoc loc;
  std::string name;             // Assign: target; Update: level
  ExprPtr value;                // Assign
  std::vector<Arg> args;        // Update (named)
  std::vector<ExprPtr> results; // Return
};

//===----------------------------------------------------------------------===//
// Declarations
//===----------------------------------------------------------------------===//

struct Hyper {
  llvm::SMLoc loc;
  std::string name;
  Value value;
};

/// An initializer: `zeros`, `normal(std = 0.02)`, `file("W")`, ...
struct Init {
  llvm::SMLoc loc;
  std::string kind;
  std::vector<KeyValue> args; // positional arguments have an empty key
};

struct Param {
  llvm::SMLoc loc;
  std::string name;
  std::vector<Value> shape;
  std::optional<Init> init;
};

/// `matrix[r, c](...)`, `mlp[w0, w1, ...](...)`, `kv_cache(...)`, `[n, ...]`.
struct StateType {
  llvm::SMLoc loc;
  std::string kind; // "matrix", "mlp", "kv_cache", "tensor"
  std::vector<Value> dims;
  std::vector<KeyValue> options;
};

struct State {
  llvm::SMLoc loc;
  std::string name;
  StateType type;
  std::optional<Init> init;
};

struct Level {
  llvm::SMLoc loc;
  std::string name;
  Value period; // a number, a hyper name, or the words inf / frozen
  std::optional<KeyValue> phase, tail;
  std::optional<llvm::SMLoc> ruleLoc;
  std::vector<KeyValue> rule;
  std::vector<State> states;
};

struct Transfer {
  llvm::SMLoc loc;
  llvm::SMLoc kindLoc, fromLoc, toLoc;
  std::string kind, from, to;
  bool reset = false;
};

struct Step {
  llvm::SMLoc loc;
  llvm::SMLoc argLoc;
  std::string arg;
  std::vector<Stmt> body;
};

/// A whole description: `model name(dim = ..)` followed by declarations.
struct Model {
  llvm::SMLoc loc;
  std::string name;
  std::vector<KeyValue> attrs;    // dim, heads
  std::vector<KeyValue> defaults; // rule fields applied to every level
  std::vector<Hyper> hypers;
  std::vector<Param> params;
  std::vector<Level> levels;
  std::vector<Transfer> transfers;
  std::vector<Step> steps;
};

/// Prints the tree in an indented, stable text form (`nlc --emit=ast`).
void dump(const Model &model, llvm::raw_ostream &os);

} // namespace nlc::ast

#endif // NLC_FRONTEND_AST_H
