//===- Parser.h - Parser of .nl model descriptions --------------*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
// The grammar is in docs/language.md. The parser stops at the first error;
// it never recurses deeper than kMaxNesting levels, so hostile input cannot
// exhaust the stack.
//
//===----------------------------------------------------------------------===//

#ifndef NLC_FRONTEND_PARSER_H
#define NLC_FRONTEND_PARSER_H

#include "nlc/Frontend/AST.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/Twine.h"

namespace nlc {

/// Receives one error at a position of the buffer.
using ErrorFn = llvm::function_ref<void(llvm::SMLoc, const llvm::Twine &)>;

/// The deepest nesting of expressions and brackets the parser accepts.
constexpr unsigned kMaxNesting = 256;

/// Parses a whole description held in `buffer`. Returns null after reporting
/// an error through `error`.
std::unique_ptr<ast::Model> parseModel(llvm::StringRef buffer, ErrorFn error);

} // namespace nlc

#endif // NLC_FRONTEND_PARSER_H
