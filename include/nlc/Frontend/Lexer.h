//===- Lexer.h - Tokens of .nl model descriptions ---------------*- C++ -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#ifndef NLC_FRONTEND_LEXER_H
#define NLC_FRONTEND_LEXER_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/SMLoc.h"

namespace nlc {

struct Token {
  enum Kind {
    Eof,
    Error, // text holds the message
    Identifier,
    Integer,
    Float,
    String, // text holds the contents, without quotes
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Comma,
    Colon,
    Equal,
    Arrow,
    At,
    Plus,
    Minus,
    Star,
    Slash,
  };
  Kind kind = Eof;
  llvm::StringRef text;
  llvm::SMLoc loc;

  bool is(Kind k) const { return kind == k; }
  bool isWord(llvm::StringRef w) const {
    return kind == Identifier && text == w;
  }
};

/// Splits a buffer into tokens. `//` starts a comment to the end of the
/// line. Never reads past the buffer; bytes outside printable ASCII (other
/// than in comments and strings) are an Error token.
class Lexer {
public:
  explicit Lexer(llvm::StringRef buffer)
      : buffer(buffer), cur(buffer.begin()) {}
  Token next();

  /// A description of a token kind for "expected ..." messages.
  static const char *describe(Token::Kind kind);

private:
  Token make(Token::Kind kind, const char *start) const;
  Token error(const char *at, llvm::StringRef message);
  Token lexNumber(const char *start);

  llvm::StringRef buffer;
  const char *cur;
  std::string errorText;
};

} // namespace nlc

#endif // NLC_FRONTEND_LEXER_H
