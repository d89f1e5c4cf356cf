//===- AST.cpp - Printing the syntax tree (nlc --emit=ast) ----------------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "nlc/Frontend/AST.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <charconv>

using namespace nlc::ast;
using llvm::raw_ostream;

namespace {

/// The shortest text that reads back as `number`.
void printNumber(double number, bool isInteger, raw_ostream &os) {
  if (isInteger) {
    os << static_cast<long long>(number);
    return;
  }
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), number);
  os << llvm::StringRef(buffer, ec == std::errc() ? end - buffer : 0);
}

void print(const Value &v, raw_ostream &os) {
  switch (v.kind) {
  case Value::Kind::Number:
    printNumber(v.number, v.isInteger, os);
    return;
  case Value::Kind::Word:
    os << v.text;
    return;
  case Value::Kind::String:
    os << '"' << v.text << '"';
    return;
  case Value::Kind::List:
    os << '[';
    llvm::interleaveComma(v.elements, os,
                          [&](const Value &e) { print(e, os); });
    os << ']';
    return;
  }
}

void print(const std::vector<KeyValue> &list, raw_ostream &os) {
  llvm::interleaveComma(list, os, [&](const KeyValue &kv) {
    if (!kv.key.empty())
      os << kv.key;
    if (kv.value) {
      if (!kv.key.empty())
        os << " = ";
      print(*kv.value, os);
    }
  });
}

void print(const Init &init, raw_ostream &os) {
  os << init.kind;
  if (!init.args.empty()) {
    os << '(';
    print(init.args, os);
    os << ')';
  }
}

void print(const Expr &e, raw_ostream &os);

void print(const std::vector<Arg> &args, raw_ostream &os) {
  for (const Arg &a : args) {
    os << ' ';
    if (!a.name.empty())
      os << a.name << '=';
    print(*a.value, os);
  }
}

void print(const Expr &e, raw_ostream &os) {
  switch (e.kind) {
  case Expr::Kind::Number:
    printNumber(e.number, e.isInteger, os);
    return;
  case Expr::Kind::Name:
    os << e.name;
    return;
  case Expr::Kind::Negate:
    os << "(neg ";
    print(*e.lhs, os);
    os << ')';
    return;
  case Expr::Kind::Binary:
    os << '(' << e.op << ' ';
    print(*e.lhs, os);
    os << ' ';
    print(*e.rhs, os);
    os << ')';
    return;
  case Expr::Kind::Call:
    os << "(call " << e.name;
    print(e.args, os);
    os << ')';
    return;
  }
}

} // namespace

void nlc::ast::dump(const Model &model, raw_ostream &os) {
  os << "model " << model.name << " (";
  print(model.attrs, os);
  os << ")\n";
  if (!model.defaults.empty()) {
    os << "  defaults ";
    print(model.defaults, os);
    os << '\n';
  }
  for (const Hyper &h : model.hypers) {
    os << "  hyper " << h.name << " = ";
    print(h.value, os);
    os << '\n';
  }
  for (const Param &p : model.params) {
    os << "  param " << p.name << " [";
    llvm::interleaveComma(p.shape, os, [&](const Value &v) { print(v, os); });
    os << ']';
    if (p.init) {
      os << " = ";
      print(*p.init, os);
    }
    os << '\n';
  }
  for (const Level &l : model.levels) {
    os << "  level " << l.name << " period ";
    print(l.period, os);
    for (const std::optional<KeyValue> &kv : {l.phase, l.tail})
      if (kv) {
        os << ' ' << kv->key << ' ';
        print(*kv->value, os);
      }
    os << '\n';
    if (l.ruleLoc) {
      os << "    rule ";
      print(l.rule, os);
      os << '\n';
    }
    for (const State &s : l.states) {
      os << "    state " << s.name << " : " << s.type.kind;
      if (!s.type.dims.empty()) {
        os << '[';
        llvm::interleaveComma(s.type.dims, os,
                              [&](const Value &v) { print(v, os); });
        os << ']';
      }
      if (!s.type.options.empty()) {
        os << '(';
        print(s.type.options, os);
        os << ')';
      }
      if (s.init) {
        os << " = ";
        print(*s.init, os);
      }
      os << '\n';
    }
  }
  for (const Transfer &t : model.transfers)
    os << "  transfer " << t.kind << ' ' << t.from << " -> " << t.to
       << (t.reset ? " reset" : "") << '\n';
  for (const Step &s : model.steps) {
    os << "  step(" << s.arg << ")\n";
    for (const Stmt &st : s.body) {
      os << "    ";
      switch (st.kind) {
      case Stmt::Kind::Assign:
        os << st.name << " = ";
        print(*st.value, os);
        break;
      case Stmt::Kind::Update:
        os << "update " << st.name;
        print(st.args, os);
        break;
      case Stmt::Kind::Return:
        os << "return";
        for (const ExprPtr &e : st.results) {
          os << ' ';
          print(*e, os);
        }
        break;
      }
      os << '\n';
    }
  }
}
