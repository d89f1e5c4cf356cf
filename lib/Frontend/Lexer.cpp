//===- Lexer.cpp - Tokens of .nl model descriptions -----------------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "nlc/Frontend/Lexer.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

using namespace nlc;

Token Lexer::make(Token::Kind kind, const char *start) const {
  Token tok;
  tok.kind = kind;
  tok.text = llvm::StringRef(start, cur - start);
  tok.loc = llvm::SMLoc::getFromPointer(start);
  return tok;
}

Token Lexer::error(const char *at, llvm::StringRef message) {
  errorText = message.str();
  Token tok;
  tok.kind = Token::Error;
  tok.text = errorText;
  tok.loc = llvm::SMLoc::getFromPointer(at);
  return tok;
}

const char *Lexer::describe(Token::Kind kind) {
  switch (kind) {
  case Token::Eof:
    return "end of file";
  case Token::Error:
    return "invalid token";
  case Token::Identifier:
    return "a name";
  case Token::Integer:
    return "an integer";
  case Token::Float:
    return "a number";
  case Token::String:
    return "a string";
  case Token::LParen:
    return "'('";
  case Token::RParen:
    return "')'";
  case Token::LBracket:
    return "'['";
  case Token::RBracket:
    return "']'";
  case Token::LBrace:
    return "'{'";
  case Token::RBrace:
    return "'}'";
  case Token::Comma:
    return "','";
  case Token::Colon:
    return "':'";
  case Token::Equal:
    return "'='";
  case Token::Arrow:
    return "'->'";
  case Token::At:
    return "'@'";
  case Token::Plus:
    return "'+'";
  case Token::Minus:
    return "'-'";
  case Token::Star:
    return "'*'";
  case Token::Slash:
    return "'/'";
  }
  return "token";
}

Token Lexer::lexNumber(const char *start) {
  const char *end = buffer.end();
  bool isFloat = false;
  while (cur != end && llvm::isDigit(*cur))
    ++cur;
  if (cur != end && *cur == '.') {
    isFloat = true;
    ++cur;
    while (cur != end && llvm::isDigit(*cur))
      ++cur;
  }
  if (cur != end && (*cur == 'e' || *cur == 'E')) {
    const char *mark = cur++;
    if (cur != end && (*cur == '+' || *cur == '-'))
      ++cur;
    if (cur == end || !llvm::isDigit(*cur)) {
      cur = mark + 1;
      return error(mark, "expected digits in the exponent of a number");
    }
    isFloat = true;
    while (cur != end && llvm::isDigit(*cur))
      ++cur;
  }
  if (cur != end && (llvm::isAlpha(*cur) || *cur == '_'))
    return error(cur, "unexpected letter after a number");
  return make(isFloat ? Token::Float : Token::Integer, start);
}

Token Lexer::next() {
  const char *end = buffer.end();
  // Skip white space and comments.
  while (cur != end) {
    if (*cur == ' ' || *cur == '\t' || *cur == '\n' || *cur == '\r') {
      ++cur;
    } else if (*cur == '/' && cur + 1 != end && cur[1] == '/') {
      while (cur != end && *cur != '\n')
        ++cur;
    } else {
      break;
    }
  }
  const char *start = cur;
  if (cur == end)
    return make(Token::Eof, start);

  char c = *cur++;
  if (llvm::isAlpha(c) || c == '_') {
    while (cur != end && (llvm::isAlnum(*cur) || *cur == '_'))
      ++cur;
    return make(Token::Identifier, start);
  }
  if (llvm::isDigit(c) || (c == '.' && cur != end && llvm::isDigit(*cur))) {
    cur = start;
    return lexNumber(start);
  }
  switch (c) {
  case '(':
    return make(Token::LParen, start);
  case ')':
    return make(Token::RParen, start);
  case '[':
    return make(Token::LBracket, start);
  case ']':
    return make(Token::RBracket, start);
  case '{':
    return make(Token::LBrace, start);
  case '}':
    return make(Token::RBrace, start);
  case ',':
    return make(Token::Comma, start);
  case ':':
    return make(Token::Colon, start);
  case '=':
    return make(Token::Equal, start);
  case '@':
    return make(Token::At, start);
  case '+':
    return make(Token::Plus, start);
  case '*':
    return make(Token::Star, start);
  case '/':
    return make(Token::Slash, start);
  case '-':
    if (cur != end && *cur == '>') {
      ++cur;
      return make(Token::Arrow, start);
    }
    return make(Token::Minus, start);
  case '"': {
    while (cur != end && *cur != '"' && *cur != '\n')
      ++cur;
    if (cur == end || *cur != '"')
      return error(start, "unterminated string");
    Token tok = make(Token::String, start);
    tok.text = llvm::StringRef(start + 1, cur - start - 1);
    ++cur;
    return tok;
  }
  default:
    break;
  }
  std::string message;
  llvm::raw_string_ostream os(message);
  if (llvm::isPrint(c))
    os << "unexpected character '" << c << "'";
  else
    os << "unexpected byte 0x"
       << llvm::format_hex_no_prefix(static_cast<unsigned char>(c), 2)
       << " (a .nl file is ASCII text)";
  return error(start, message);
}
