//===- Parser.cpp - Parser of .nl model descriptions ----------------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "nlc/Frontend/Parser.h"
#include "nlc/Frontend/Lexer.h"

#include "llvm/ADT/StringExtras.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

using namespace nlc;
using llvm::SMLoc;
using llvm::StringRef;

namespace {

class Parser {
public:
  Parser(StringRef buffer, ErrorFn error) : lexer(buffer), report(error) {
    advance();
  }

  std::unique_ptr<ast::Model> parseFile();

private:
  //===--- Tokens ---------------------------------------------------------===//

  void advance() {
    tok = lexer.next();
    if (tok.is(Token::Error))
      fail(tok.loc, tok.text);
  }

  bool fail(SMLoc loc, const llvm::Twine &message) {
    if (!failed)
      report(loc, message);
    failed = true;
    return false;
  }

  /// Reports "expected X, found Y" at the current token.
  bool expected(const llvm::Twine &what) {
    if (tok.is(Token::Error))
      return false; // already reported
    std::string found =
        tok.is(Token::Eof) ? "end of file" : ("'" + tok.text + "'").str();
    return fail(tok.loc, "expected " + what + ", found " + found);
  }

  bool consumeIf(Token::Kind kind) {
    if (!tok.is(kind))
      return false;
    advance();
    return true;
  }

  bool expect(Token::Kind kind) {
    if (consumeIf(kind))
      return !failed;
    return expected(Lexer::describe(kind));
  }

  bool expectWord(StringRef word) {
    if (tok.isWord(word)) {
      advance();
      return !failed;
    }
    return expected("'" + word + "'");
  }

  bool parseName(std::string &name, SMLoc &loc, const llvm::Twine &what) {
    if (!tok.is(Token::Identifier))
      return expected(what);
    name = tok.text.str();
    loc = tok.loc;
    advance();
    return !failed;
  }

  /// Tracks nesting depth; fails when input nests too deeply.
  struct Nest {
    Parser &p;
    bool ok;
    Nest(Parser &p) : p(p), ok(++p.depth <= kMaxNesting) {
      if (!ok)
        p.fail(p.tok.loc, "nesting deeper than " + llvm::Twine(kMaxNesting) +
                              " levels; simplify the expression");
    }
    ~Nest() { --p.depth; }
  };

  //===--- Values, key/value lists ----------------------------------------===//

  bool parseNumber(double &value, bool &isInteger, bool negate);
  bool parseValue(ast::Value &value);
  bool parseKeyValue(ast::KeyValue &kv, bool allowFlag);
  bool parseKeyValueList(std::vector<ast::KeyValue> &list, Token::Kind close,
                         bool allowFlag, bool allowPositional);
  bool parseInit(std::optional<ast::Init> &init);
  bool parseShape(std::vector<ast::Value> &dims);

  //===--- Declarations ---------------------------------------------------===//

  bool parseModelHeader(ast::Model &model);
  bool parseHyper(ast::Model &model);
  bool parseDefaults(ast::Model &model);
  bool parseParam(ast::Model &model);
  bool parseLevel(ast::Model &model);
  bool parseState(ast::Level &level);
  bool parseStateType(ast::StateType &type);
  bool parseTransfer(ast::Model &model);
  bool parseStep(ast::Model &model);

  //===--- Step bodies ----------------------------------------------------===//

  bool parseStmt(std::vector<ast::Stmt> &body);
  bool parseArgs(std::vector<ast::Arg> &args, bool namedOnly);
  ast::ExprPtr parseExpr();
  ast::ExprPtr makeBinary(char op, SMLoc loc, ast::ExprPtr lhs,
                          ast::ExprPtr rhs);
  ast::ExprPtr parseAdditive();
  ast::ExprPtr parseMultiplicative();
  ast::ExprPtr parseMatmul();
  ast::ExprPtr parseUnary();
  ast::ExprPtr parsePrimary();

  Lexer lexer;
  ErrorFn report;
  Token tok;
  bool failed = false;
  unsigned depth = 0;
};

} // namespace

//===----------------------------------------------------------------------===//
// Values
//===----------------------------------------------------------------------===//

bool Parser::parseNumber(double &value, bool &isInteger, bool negate) {
  isInteger = tok.is(Token::Integer);
  std::string text = tok.text.str();
  if (isInteger) {
    unsigned long long v;
    if (llvm::getAsUnsignedInteger(tok.text, 10, v) || v > (1ull << 53))
      return fail(tok.loc,
                  "integer " + tok.text + " is too large (at most 2^53)");
    value = static_cast<double>(v);
  } else {
    char *end = nullptr;
    value = std::strtod(text.c_str(), &end);
    if (!std::isfinite(value))
      return fail(tok.loc, "number " + tok.text + " is out of range");
  }
  if (negate)
    value = -value;
  advance();
  return !failed;
}

bool Parser::parseValue(ast::Value &value) {
  Nest nest(*this);
  if (!nest.ok)
    return false;
  value.loc = tok.loc;
  bool negate = false;
  if (tok.is(Token::Minus)) {
    negate = true;
    advance();
  }
  if (tok.is(Token::Integer) || tok.is(Token::Float)) {
    value.kind = ast::Value::Kind::Number;
    return parseNumber(value.number, value.isInteger, negate);
  }
  if (negate)
    return expected("a number after '-'");
  if (tok.is(Token::Identifier)) {
    value.kind = ast::Value::Kind::Word;
    value.text = tok.text.str();
    advance();
    return !failed;
  }
  if (tok.is(Token::String)) {
    value.kind = ast::Value::Kind::String;
    value.text = tok.text.str();
    advance();
    return !failed;
  }
  if (consumeIf(Token::LBracket)) {
    value.kind = ast::Value::Kind::List;
    if (consumeIf(Token::RBracket))
      return !failed;
    do {
      ast::Value element;
      if (!parseValue(element))
        return false;
      value.elements.push_back(std::move(element));
    } while (consumeIf(Token::Comma) && !tok.is(Token::RBracket));
    return expect(Token::RBracket);
  }
  return expected("a value (a number, a name, a string or a [list])");
}

bool Parser::parseKeyValue(ast::KeyValue &kv, bool allowFlag) {
  if (!parseName(kv.key, kv.loc, "a name"))
    return false;
  if (!consumeIf(Token::Equal)) {
    if (allowFlag)
      return !failed;
    return expected("'=' after '" + kv.key + "'");
  }
  kv.value.emplace();
  return parseValue(*kv.value);
}

bool Parser::parseKeyValueList(std::vector<ast::KeyValue> &list,
                               Token::Kind close, bool allowFlag,
                               bool allowPositional) {
  while (!tok.is(close)) {
    ast::KeyValue kv;
    // A positional name (param(W0)) is an identifier not followed by '='.
    bool positionalName = false;
    if (allowPositional && tok.is(Token::Identifier)) {
      Lexer save = lexer;
      Token saveTok = tok;
      advance();
      positionalName = !tok.is(Token::Equal);
      lexer = save;
      tok = saveTok;
    }
    if (allowPositional && (!tok.is(Token::Identifier) || positionalName)) {
      kv.loc = tok.loc;
      kv.value.emplace();
      if (!parseValue(*kv.value))
        return false;
    } else if (!parseKeyValue(kv, allowFlag)) {
      return false;
    }
    list.push_back(std::move(kv));
    if (!consumeIf(Token::Comma))
      break;
  }
  return expect(close);
}

bool Parser::parseInit(std::optional<ast::Init> &init) {
  init.emplace();
  if (!parseName(init->kind, init->loc,
                 "an initializer (zeros, ones, identity, fill(v), "
                 "normal(std = s), uniform(low = a, high = b), file(\"name\"), "
                 "param(P))"))
    return false;
  if (consumeIf(Token::LParen))
    return parseKeyValueList(init->args, Token::RParen, /*allowFlag=*/false,
                             /*allowPositional=*/true);
  return !failed;
}

bool Parser::parseShape(std::vector<ast::Value> &dims) {
  if (!expect(Token::LBracket))
    return false;
  do {
    ast::Value dim;
    if (!parseValue(dim))
      return false;
    dims.push_back(std::move(dim));
  } while (consumeIf(Token::Comma));
  return expect(Token::RBracket);
}

//===----------------------------------------------------------------------===//
// Declarations
//===----------------------------------------------------------------------===//

std::unique_ptr<ast::Model> Parser::parseFile() {
  auto model = std::make_unique<ast::Model>();
  if (failed)
    return nullptr;
  if (tok.is(Token::Eof)) {
    fail(tok.loc, "empty model description; it must start with "
                  "'model NAME(dim = D)'");
    return nullptr;
  }
  if (!parseModelHeader(*model))
    return nullptr;
  while (!tok.is(Token::Eof) && !failed) {
    bool ok;
    if (tok.isWord("hyper"))
      ok = parseHyper(*model);
    else if (tok.isWord("defaults"))
      ok = parseDefaults(*model);
    else if (tok.isWord("param"))
      ok = parseParam(*model);
    else if (tok.isWord("level"))
      ok = parseLevel(*model);
    else if (tok.isWord("transfer"))
      ok = parseTransfer(*model);
    else if (tok.isWord("step"))
      ok = parseStep(*model);
    else if (tok.isWord("model"))
      ok = fail(tok.loc, "a file describes one model; found a second 'model'");
    else
      ok = expected("a declaration (hyper, defaults, param, level, transfer "
                    "or step)");
    if (!ok)
      return nullptr;
  }
  if (failed)
    return nullptr;
  return model;
}

bool Parser::parseModelHeader(ast::Model &model) {
  model.loc = tok.loc;
  if (!tok.isWord("model"))
    return expected("'model NAME(dim = D)' at the start of the file");
  advance();
  SMLoc nameLoc;
  if (!parseName(model.name, nameLoc, "the model's name") ||
      !expect(Token::LParen))
    return false;
  return parseKeyValueList(model.attrs, Token::RParen, /*allowFlag=*/false,
                           /*allowPositional=*/false);
}

bool Parser::parseHyper(ast::Model &model) {
  ast::Hyper hyper;
  hyper.loc = tok.loc;
  advance();
  SMLoc nameLoc;
  if (!parseName(hyper.name, nameLoc, "the hyper-parameter's name") ||
      !expect(Token::Equal))
    return false;
  hyper.value.loc = tok.loc;
  bool negate = consumeIf(Token::Minus);
  if (!tok.is(Token::Integer) && !tok.is(Token::Float))
    return expected("a number (the hyper-parameter's default value)");
  hyper.value.kind = ast::Value::Kind::Number;
  if (!parseNumber(hyper.value.number, hyper.value.isInteger, negate))
    return false;
  model.hypers.push_back(std::move(hyper));
  return true;
}

bool Parser::parseDefaults(ast::Model &model) {
  advance();
  if (!expect(Token::LBrace))
    return false;
  return parseKeyValueList(model.defaults, Token::RBrace, /*allowFlag=*/false,
                           /*allowPositional=*/false);
}

bool Parser::parseParam(ast::Model &model) {
  ast::Param param;
  param.loc = tok.loc;
  advance();
  SMLoc nameLoc;
  if (!parseName(param.name, nameLoc, "the parameter's name") ||
      !expect(Token::Colon) || !parseShape(param.shape))
    return false;
  if (consumeIf(Token::Equal) && !parseInit(param.init))
    return false;
  model.params.push_back(std::move(param));
  return !failed;
}

bool Parser::parseLevel(ast::Model &model) {
  ast::Level level;
  level.loc = tok.loc;
  advance();
  SMLoc nameLoc;
  if (!parseName(level.name, nameLoc, "the level's name") ||
      !expectWord("period"))
    return false;
  if (!parseValue(level.period))
    return false;
  while (tok.isWord("phase") || tok.isWord("tail")) {
    std::optional<ast::KeyValue> &slot =
        tok.isWord("phase") ? level.phase : level.tail;
    slot.emplace();
    slot->key = tok.text.str();
    slot->loc = tok.loc;
    advance();
    slot->value.emplace();
    if (!parseValue(*slot->value))
      return false;
  }
  if (!expect(Token::LBrace))
    return false;
  while (!tok.is(Token::RBrace)) {
    if (tok.isWord("rule")) {
      if (level.ruleLoc)
        return fail(tok.loc, "level '" + level.name + "' has a second rule");
      level.ruleLoc = tok.loc;
      advance();
      if (!expect(Token::LBrace) ||
          !parseKeyValueList(level.rule, Token::RBrace, /*allowFlag=*/false,
                             /*allowPositional=*/false))
        return false;
    } else if (tok.isWord("state")) {
      if (!parseState(level))
        return false;
    } else {
      return expected("'rule', 'state' or '}' in level '" + level.name + "'");
    }
  }
  advance();
  model.levels.push_back(std::move(level));
  return !failed;
}

bool Parser::parseState(ast::Level &level) {
  ast::State state;
  state.loc = tok.loc;
  advance();
  SMLoc nameLoc;
  if (!parseName(state.name, nameLoc, "the state's name") ||
      !expect(Token::Colon) || !parseStateType(state.type))
    return false;
  if (consumeIf(Token::Equal) && !parseInit(state.init))
    return false;
  level.states.push_back(std::move(state));
  return !failed;
}

bool Parser::parseStateType(ast::StateType &type) {
  type.loc = tok.loc;
  if (tok.is(Token::LBracket)) {
    type.kind = "tensor";
    return parseShape(type.dims);
  }
  if (!tok.isWord("matrix") && !tok.isWord("mlp") && !tok.isWord("kv_cache"))
    return expected("a state type (matrix[r, c], mlp[w0, w1, ...], "
                    "kv_cache(key = k, value = v) or a shape [n, ...])");
  type.kind = tok.text.str();
  advance();
  if (type.kind != "kv_cache" && !parseShape(type.dims))
    return false;
  if (consumeIf(Token::LParen))
    return parseKeyValueList(type.options, Token::RParen, /*allowFlag=*/true,
                             /*allowPositional=*/false);
  if (type.kind == "kv_cache")
    return expected("'(' with the cache's key and value widths");
  return !failed;
}

bool Parser::parseTransfer(ast::Model &model) {
  ast::Transfer transfer;
  transfer.loc = tok.loc;
  advance();
  if (!parseName(transfer.kind, transfer.kindLoc,
                 "a transfer kind (parametric, nonparametric, backprop, "
                 "init, generation)") ||
      !parseName(transfer.from, transfer.fromLoc, "the source level") ||
      !expect(Token::Arrow) ||
      !parseName(transfer.to, transfer.toLoc, "the target level"))
    return false;
  if (tok.isWord("reset")) {
    transfer.reset = true;
    advance();
  }
  model.transfers.push_back(std::move(transfer));
  return !failed;
}

bool Parser::parseStep(ast::Model &model) {
  ast::Step step;
  step.loc = tok.loc;
  advance();
  if (!expect(Token::LParen) ||
      !parseName(step.arg, step.argLoc, "the token's name") ||
      !expect(Token::RParen) || !expect(Token::LBrace))
    return false;
  while (!tok.is(Token::RBrace)) {
    if (tok.is(Token::Eof))
      return expected("'}' to close the step");
    if (!parseStmt(step.body))
      return false;
  }
  advance();
  model.steps.push_back(std::move(step));
  return !failed;
}

//===----------------------------------------------------------------------===//
// Step bodies
//===----------------------------------------------------------------------===//

bool Parser::parseStmt(std::vector<ast::Stmt> &body) {
  ast::Stmt stmt;
  stmt.loc = tok.loc;
  if (tok.isWord("update")) {
    stmt.kind = ast::Stmt::Kind::Update;
    advance();
    SMLoc nameLoc;
    if (!parseName(stmt.name, nameLoc, "the name of the level to update") ||
        !expect(Token::LParen) || !parseArgs(stmt.args, /*namedOnly=*/true))
      return false;
  } else if (tok.isWord("return")) {
    stmt.kind = ast::Stmt::Kind::Return;
    advance();
    if (!tok.is(Token::RBrace)) {
      do {
        ast::ExprPtr e = parseExpr();
        if (!e)
          return false;
        stmt.results.push_back(std::move(e));
      } while (consumeIf(Token::Comma));
    }
  } else {
    stmt.kind = ast::Stmt::Kind::Assign;
    SMLoc nameLoc;
    if (!parseName(stmt.name, nameLoc,
                   "a statement (NAME = expr, update LEVEL(...) or return)") ||
        !expect(Token::Equal))
      return false;
    stmt.value = parseExpr();
    if (!stmt.value)
      return false;
  }
  body.push_back(std::move(stmt));
  return !failed;
}

bool Parser::parseArgs(std::vector<ast::Arg> &args, bool namedOnly) {
  while (!tok.is(Token::RParen)) {
    ast::Arg arg;
    arg.loc = tok.loc;
    if (tok.is(Token::Identifier)) {
      // `name = expr` or a positional expression starting with a name.
      Lexer save = lexer;
      Token saveTok = tok;
      std::string name = tok.text.str();
      advance();
      if (tok.is(Token::Equal)) {
        arg.name = name;
        advance();
      } else {
        lexer = save;
        tok = saveTok;
      }
    }
    if (namedOnly && arg.name.empty())
      return fail(arg.loc, "expected 'name = value' (arguments of update are "
                           "named: key, value, grad, lr, retain, "
                           "momentum_decay)");
    arg.value = parseExpr();
    if (!arg.value)
      return false;
    args.push_back(std::move(arg));
    if (!consumeIf(Token::Comma))
      break;
  }
  return expect(Token::RParen);
}

ast::ExprPtr Parser::parseExpr() {
  Nest nest(*this);
  if (!nest.ok)
    return nullptr;
  return parseAdditive();
}

/// Joins two operands; fails when the tree grows taller than kMaxNesting, so
/// that long operator chains cannot exhaust the stack of later passes.
ast::ExprPtr Parser::makeBinary(char op, SMLoc loc, ast::ExprPtr lhs,
                                ast::ExprPtr rhs) {
  auto e = std::make_unique<ast::Expr>();
  e->kind = ast::Expr::Kind::Binary;
  e->loc = loc;
  e->op = op;
  e->depth = 1 + std::max(lhs->depth, rhs->depth);
  e->lhs = std::move(lhs);
  e->rhs = std::move(rhs);
  if (e->depth > kMaxNesting) {
    fail(loc, "expression deeper than " + llvm::Twine(kMaxNesting) +
                  " operations; split it into several statements");
    return nullptr;
  }
  return e;
}

ast::ExprPtr Parser::parseAdditive() {
  ast::ExprPtr lhs = parseMultiplicative();
  while (lhs && (tok.is(Token::Plus) || tok.is(Token::Minus))) {
    char op = tok.is(Token::Plus) ? '+' : '-';
    SMLoc loc = tok.loc;
    advance();
    ast::ExprPtr rhs = parseMultiplicative();
    if (!rhs)
      return nullptr;
    lhs = makeBinary(op, loc, std::move(lhs), std::move(rhs));
  }
  return failed ? nullptr : std::move(lhs);
}

ast::ExprPtr Parser::parseMultiplicative() {
  ast::ExprPtr lhs = parseMatmul();
  while (lhs && (tok.is(Token::Star) || tok.is(Token::Slash))) {
    char op = tok.is(Token::Star) ? '*' : '/';
    SMLoc loc = tok.loc;
    advance();
    ast::ExprPtr rhs = parseMatmul();
    if (!rhs)
      return nullptr;
    lhs = makeBinary(op, loc, std::move(lhs), std::move(rhs));
  }
  return failed ? nullptr : std::move(lhs);
}

ast::ExprPtr Parser::parseMatmul() {
  ast::ExprPtr lhs = parseUnary();
  while (lhs && tok.is(Token::At)) {
    SMLoc loc = tok.loc;
    advance();
    ast::ExprPtr rhs = parseUnary();
    if (!rhs)
      return nullptr;
    lhs = makeBinary('@', loc, std::move(lhs), std::move(rhs));
  }
  return failed ? nullptr : std::move(lhs);
}

ast::ExprPtr Parser::parseUnary() {
  Nest nest(*this);
  if (!nest.ok)
    return nullptr;
  if (tok.is(Token::Minus)) {
    SMLoc loc = tok.loc;
    advance();
    ast::ExprPtr operand = parseUnary();
    if (!operand)
      return nullptr;
    auto e = std::make_unique<ast::Expr>();
    e->kind = ast::Expr::Kind::Negate;
    e->loc = loc;
    e->depth = 1 + operand->depth;
    if (e->depth > kMaxNesting) {
      fail(loc, "expression deeper than " + llvm::Twine(kMaxNesting) +
                    " operations; split it into several statements");
      return nullptr;
    }
    e->lhs = std::move(operand);
    return e;
  }
  return parsePrimary();
}

ast::ExprPtr Parser::parsePrimary() {
  auto e = std::make_unique<ast::Expr>();
  e->loc = tok.loc;
  if (tok.is(Token::Integer) || tok.is(Token::Float)) {
    e->kind = ast::Expr::Kind::Number;
    if (!parseNumber(e->number, e->isInteger, /*negate=*/false))
      return nullptr;
    return e;
  }
  if (tok.is(Token::Identifier)) {
    e->name = tok.text.str();
    advance();
    if (consumeIf(Token::LParen)) {
      e->kind = ast::Expr::Kind::Call;
      if (!parseArgs(e->args, /*namedOnly=*/false))
        return nullptr;
      for (const ast::Arg &arg : e->args)
        e->depth = std::max(e->depth, 1 + arg.value->depth);
      if (e->depth > kMaxNesting) {
        fail(e->loc, "expression deeper than " + llvm::Twine(kMaxNesting) +
                         " operations; split it into several statements");
        return nullptr;
      }
      return e;
    }
    e->kind = ast::Expr::Kind::Name;
    return failed ? nullptr : std::move(e);
  }
  if (consumeIf(Token::LParen)) {
    ast::ExprPtr inner = parseExpr();
    if (!inner || !expect(Token::RParen))
      return nullptr;
    return inner;
  }
  expected("an expression");
  return nullptr;
}

std::unique_ptr<ast::Model> nlc::parseModel(StringRef buffer, ErrorFn error) {
  Parser parser(buffer, error);
  return parser.parseFile();
}
