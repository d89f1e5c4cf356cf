//===- DeriveGradientsTest.cpp - nl-derive-gradients vs finite differences ===//
//
// Part of nlc, the Nested Learning Compiler.
//
// Every derivative rule of nl-derive-gradients, checked numerically: each
// case is a func @f holding one nl.grad. Its arguments get deterministic
// random values; the objective of the original nl.grad body is evaluated in
// float64 (NLInterpreter) and differentiated with central finite
// differences, element by element; the pass then rewrites a clone of the
// module and the derived func, evaluated in float64 too, must return the
// same gradients.
//
// Op-by-op cases use the objective sum(c * r), c a random argument of r's
// shape, so that every element of r matters; whole objectives (an MLP
// memory's l2 and dot objectives, a TTT-style layer) yield their own.
//
//===----------------------------------------------------------------------===//

#include "NLInterpreter.h"

#include "nl/IR/NLDialect.h"
#include "nl/IR/NLOps.h"
#include "nl/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

using namespace mlir;
using nltest::Env;
using nltest::Interpreter;
using nltest::Tensor;

namespace {

//===----------------------------------------------------------------------===//
// Cases
//===----------------------------------------------------------------------===//

/// A function argument: its name (without %) and shape ("3x4"; "" is a
/// scalar, tensor<f32>).
struct Arg {
  std::string name, shape;
};

std::string tensorType(const std::string &shape) {
  return shape.empty() ? "tensor<f32>" : "tensor<" + shape + "xf32>";
}

/// One nl.grad to check. The body refers to every argument by its name: a
/// differentiated one is the nl.grad block argument, any other is captured
/// from the func. With a non-empty `weighted` the body defines %r (of that
/// shape) and the objective is sum(c * r), c an extra random argument;
/// otherwise the body defines the objective %obj : tensor<f32> itself.
struct GradCase {
  std::string name;
  std::vector<Arg> args;
  std::vector<std::string> wrt; // the differentiated arguments, in order
  std::string body;
  std::optional<std::string> weighted;
};

GradCase weighted(std::string name, std::vector<Arg> args,
                  std::vector<std::string> wrt, std::string body,
                  std::string rShape) {
  return {std::move(name), std::move(args), std::move(wrt), std::move(body),
          std::move(rShape)};
}
GradCase objective(std::string name, std::vector<Arg> args,
                   std::vector<std::string> wrt, std::string body) {
  return {std::move(name), std::move(args), std::move(wrt), std::move(body),
          std::nullopt};
}

bool isWrt(const GradCase &c, const std::string &name) {
  return llvm::is_contained(c.wrt, name);
}

/// The func.func @f of a case. Differentiated arguments are passed to
/// nl.grad as %<name>_at and are %<name> inside its body.
std::string render(const GradCase &c) {
  std::vector<Arg> args = c.args;
  if (c.weighted)
    args.push_back({"c", *c.weighted});
  std::string params, atList, atTypes, blockArgs, returned;
  for (const Arg &a : args) {
    std::string type = tensorType(a.shape);
    if (!params.empty())
      params += ", ";
    params += "%" + a.name + (isWrt(c, a.name) ? "_at" : "") + ": " + type;
  }
  for (size_t i = 0; i < c.wrt.size(); ++i) {
    auto it =
        llvm::find_if(args, [&](const Arg &a) { return a.name == c.wrt[i]; });
    if (it == args.end()) // fails to parse, and shows why
      return "wrt names an unknown argument '" + c.wrt[i] + "'";
    std::string type = tensorType(it->shape);
    std::string sep = i ? ", " : "";
    atList += sep + "%" + c.wrt[i] + "_at";
    atTypes += sep + type;
    blockArgs += sep + "%" + c.wrt[i] + ": " + type;
    returned += sep + "%grads#" + std::to_string(i);
  }
  std::string body = c.body;
  if (c.weighted) {
    std::string t = tensorType(*c.weighted);
    body += "\n    %cr = nl.mul %c, %r : " + t + ", " + t + " -> " + t +
            "\n    %obj = nl.sum %cr : " + t + " -> tensor<f32>";
  }
  return "func.func @f(" + params + ") -> (" + atTypes + ") {\n" +
         "  %grads:" + std::to_string(c.wrt.size()) + " = nl.grad (" + atList +
         ") : " + atTypes + " -> " + atTypes + " {\n" + "  ^bb0(" + blockArgs +
         "):" + body + "\n    nl.yield %obj : tensor<f32>\n" +
         "  }\n  return " + returned + " : " + atTypes + "\n}\n";
}

//===----------------------------------------------------------------------===//
// The check
//===----------------------------------------------------------------------===//

// Central differences with step h = kStep * max(1, |x|) have a truncation
// error of about h^2 |f'''| / 6 and a rounding error of about
// 1e-16 |f| / h, both near 1e-10 here; a wrong rule is off by O(1).
constexpr double kStep = 1e-5;
constexpr double kRelTol = 1e-6;
constexpr double kAbsTol = 1e-8;

/// How well derived gradients agree with finite differences.
struct Comparison {
  bool ok = true;
  int elements = 0;
  /// max |derived - fd| / max(|fd|, |derived|) over elements above 1e-3.
  double worstRel = 0.0;
  /// max |derived - fd| / max |fd|, per differentiated tensor.
  double worstNormalized = 0.0;
  /// max |derived - fd| / tolerance: below 1 passes.
  double worstRatio = 0.0;
  std::string firstMismatch;
};

/// The worst agreement seen over a group of cases, or over all of them.
struct Stats {
  int cases = 0, elements = 0;
  double worstRel = 0.0, worstNormalized = 0.0, worstRatio = 0.0;
  std::string worstCase;

  void add(const std::string &name, const Comparison &cmp) {
    ++cases;
    elements += cmp.elements;
    worstNormalized = std::max(worstNormalized, cmp.worstNormalized);
    worstRatio = std::max(worstRatio, cmp.worstRatio);
    if (cmp.worstRel >= worstRel) {
      worstRel = cmp.worstRel;
      worstCase = name;
    }
  }
  void print(const std::string &what) const {
    std::printf("[ FD-check ] %s: %d cases, %d gradient elements; worst "
                "relative error %.3g (%s), worst error / max|gradient| "
                "%.3g, worst error / tolerance %.3g\n",
                what.c_str(), cases, elements, worstRel, worstCase.c_str(),
                worstNormalized, worstRatio);
  }
};
Stats &globalStats() {
  static Stats stats;
  return stats;
}

class SummaryPrinter : public ::testing::Environment {
  void TearDown() override {
    if (globalStats().cases)
      globalStats().print("all groups");
  }
};
[[maybe_unused]] ::testing::Environment *const summaryPrinter =
    ::testing::AddGlobalTestEnvironment(new SummaryPrinter);

Comparison compare(const GradCase &c, const std::vector<Tensor> &fd,
                   const std::vector<Tensor> &derived) {
  Comparison cmp;
  for (size_t k = 0; k < fd.size(); ++k) {
    if (derived[k].shape != fd[k].shape) {
      cmp.ok = false;
      cmp.firstMismatch = "d/d" + c.wrt[k] + ": shape differs";
      return cmp;
    }
    double scale = 0.0;
    for (double v : fd[k].data)
      scale = std::max(scale, std::fabs(v));
    for (int64_t e = 0; e < fd[k].numel(); ++e) {
      double ref = fd[k].data[e], got = derived[k].data[e];
      double mag = std::max(std::fabs(ref), std::fabs(got));
      double err = std::fabs(got - ref);
      double tol = kAbsTol + kRelTol * mag;
      ++cmp.elements;
      cmp.worstRatio = std::max(cmp.worstRatio, err / tol);
      if (mag > 1e-3)
        cmp.worstRel = std::max(cmp.worstRel, err / mag);
      if (scale > 0.0)
        cmp.worstNormalized = std::max(cmp.worstNormalized, err / scale);
      if (!(err <= tol) && cmp.ok) {
        cmp.ok = false;
        char buf[200];
        std::snprintf(buf, sizeof(buf),
                      "d/d%s[%lld]: derived %.12g, finite difference %.12g",
                      c.wrt[k].c_str(), static_cast<long long>(e), got, ref);
        cmp.firstMismatch = buf;
      }
    }
  }
  return cmp;
}

/// Collects the diagnostics emitted while it lives.
struct DiagnosticCapture {
  explicit DiagnosticCapture(MLIRContext &ctx)
      : handler(&ctx, [this](Diagnostic &d) {
          llvm::raw_string_ostream os(text);
          os << d << "\n";
          return success();
        }) {}
  std::string text;
  ScopedDiagnosticHandler handler;
};

class DeriveGradientsTest : public ::testing::Test {
protected:
  DeriveGradientsTest() : ctx(MLIRContext::Threading::DISABLED) {
    DialectRegistry registry;
    registry
        .insert<nl::NLDialect, arith::ArithDialect, func::FuncDialect,
                scf::SCFDialect, math::MathDialect, tensor::TensorDialect>();
    ctx.appendDialectRegistry(registry);
    ctx.loadAllAvailableDialects();
  }

  /// A parsed case and the values it is checked at.
  struct Prepared {
    OwningOpRef<ModuleOp> module;
    func::FuncOp func;
    nl::GradOp grad;
    std::vector<Tensor> args;
    Env captured; // the func's arguments and the ops before nl.grad
    Env frozen;   // nl.stop_grad results at the unperturbed point
  };

  /// Parses `c` and fills the func's arguments: uniform magnitudes in
  /// [0.25, 1.25] with random signs (never near 0: relu's kink, divisors),
  /// seeded by the case name.
  ::testing::AssertionResult prepare(const GradCase &c, Prepared &p) {
    std::string text = render(c);
    {
      DiagnosticCapture diags(ctx);
      p.module = parseSourceString<ModuleOp>(text, &ctx);
      if (!p.module)
        return ::testing::AssertionFailure() << "does not parse:\n"
                                             << diags.text << text;
    }
    p.func = p.module->lookupSymbol<func::FuncOp>("f");
    p.module->walk([&](nl::GradOp g) { p.grad = g; });
    if (!p.func || !p.grad)
      return ::testing::AssertionFailure() << "no func @f with nl.grad";

    uint32_t seed = 2166136261u; // FNV-1a of the name
    for (char ch : c.name)
      seed = (seed ^ static_cast<unsigned char>(ch)) * 16777619u;
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> magnitude(0.25, 1.25);
    std::bernoulli_distribution negative(0.5);
    for (BlockArgument arg : p.func.getArguments()) {
      auto type = cast<RankedTensorType>(arg.getType());
      Tensor t = Tensor::zeros(
          std::vector<int64_t>(type.getShape().begin(), type.getShape().end()));
      for (double &v : t.data)
        v = negative(rng) ? -magnitude(rng) : magnitude(rng);
      p.captured[arg] = t;
      p.args.push_back(std::move(t));
    }
    Interpreter interp;
    for (Operation &op : p.func.getBody().front()) {
      if (&op == p.grad.getOperation())
        break;
      if (!interp.evalOp(op, p.captured))
        return ::testing::AssertionFailure() << interp.error();
    }
    // The body once at the operands, to freeze what nl.stop_grad returns.
    std::vector<Tensor> at;
    for (Value v : p.grad.getAt())
      at.push_back(p.captured.lookup(v));
    double unused;
    return evaluateObjective(p, at, &unused, /*freeze=*/true);
  }

  /// The objective of the original nl.grad body at `at` (one tensor per
  /// block argument). nl.stop_grad returns its value at the unperturbed
  /// point, so finite differences do not see through it.
  ::testing::AssertionResult evaluateObjective(Prepared &p,
                                               const std::vector<Tensor> &at,
                                               double *value,
                                               bool freeze = false) {
    Env env = p.captured;
    Block &body = p.grad.getBody().front();
    for (auto [arg, t] : llvm::zip(body.getArguments(), at))
      env[arg] = t;
    Interpreter interp;
    for (Operation &op : body.without_terminator()) {
      if (isa<nl::StopGradOp>(op) && !freeze) {
        env[op.getResult(0)] = p.frozen.lookup(op.getResult(0));
        continue;
      }
      if (!interp.evalOp(op, env))
        return ::testing::AssertionFailure() << interp.error();
      if (isa<nl::StopGradOp>(op))
        p.frozen[op.getResult(0)] = env.lookup(op.getResult(0));
    }
    const Tensor &obj = env.lookup(body.getTerminator()->getOperand(0));
    if (obj.numel() != 1)
      return ::testing::AssertionFailure() << "objective is not a scalar";
    *value = obj.data[0];
    return ::testing::AssertionSuccess();
  }

  /// Central differences of the objective for every element of every
  /// differentiated argument.
  ::testing::AssertionResult finiteDifferences(Prepared &p,
                                               std::vector<Tensor> &fd) {
    std::vector<Tensor> at;
    for (Value v : p.grad.getAt())
      at.push_back(p.captured.lookup(v));
    for (size_t k = 0; k < at.size(); ++k) {
      Tensor d = Tensor::zeros(at[k].shape);
      for (int64_t e = 0; e < at[k].numel(); ++e) {
        double x = at[k].data[e];
        double h = kStep * std::max(1.0, std::fabs(x));
        double plus, minus;
        at[k].data[e] = x + h;
        if (auto r = evaluateObjective(p, at, &plus); !r)
          return r;
        at[k].data[e] = x - h;
        if (auto r = evaluateObjective(p, at, &minus); !r)
          return r;
        at[k].data[e] = x;
        // The step actually taken, after rounding x + h and x - h.
        d.data[e] = (plus - minus) / ((x + h) - (x - h));
      }
      fd.push_back(std::move(d));
    }
    return ::testing::AssertionSuccess();
  }

  /// Runs nl-derive-gradients on a clone of the module; the clone is kept
  /// in `derivedModule`.
  ::testing::AssertionResult derive(Prepared &p,
                                    OwningOpRef<ModuleOp> &derivedModule) {
    derivedModule = p.module->clone();
    PassManager pm(&ctx);
    pm.addPass(nl::createNLDeriveGradients());
    DiagnosticCapture diags(ctx);
    if (failed(pm.run(*derivedModule)))
      return ::testing::AssertionFailure() << "nl-derive-gradients failed:\n"
                                           << diags.text;
    bool left = false;
    derivedModule->walk([&](nl::GradOp) { left = true; });
    if (left)
      return ::testing::AssertionFailure() << "an nl.grad is left";
    return ::testing::AssertionSuccess();
  }

  /// The gradients the derived func returns.
  ::testing::AssertionResult evaluateDerived(Prepared &p, ModuleOp derived,
                                             std::vector<Tensor> &grads) {
    Interpreter interp;
    if (!interp.runFunc(derived.lookupSymbol<func::FuncOp>("f"), p.args, grads))
      return ::testing::AssertionFailure() << interp.error() << "\nin\n"
                                           << printed(derived);
    return ::testing::AssertionSuccess();
  }

  static std::string printed(Operation *op) {
    std::string s;
    llvm::raw_string_ostream os(s);
    op->print(os);
    return s;
  }

  /// The whole check of one case; adds it to `group`.
  void check(const GradCase &c, Stats &group) {
    SCOPED_TRACE("case '" + c.name + "':\n" + render(c));
    Prepared p;
    ASSERT_TRUE(prepare(c, p));
    ASSERT_EQ(p.grad.getAt().size(), c.wrt.size());
    std::vector<Tensor> fd, grads;
    ASSERT_TRUE(finiteDifferences(p, fd));
    OwningOpRef<ModuleOp> derived;
    ASSERT_TRUE(derive(p, derived));
    ASSERT_TRUE(evaluateDerived(p, *derived, grads));
    ASSERT_EQ(grads.size(), fd.size());
    Comparison cmp = compare(c, fd, grads);
    EXPECT_TRUE(cmp.ok) << cmp.firstMismatch << "\nderived IR:\n"
                        << printed(*derived);
    group.add(c.name, cmp);
    globalStats().add(c.name, cmp);
  }

  /// Checks every case and prints the group's worst agreement.
  void checkAll(const std::vector<GradCase> &cases) {
    Stats group;
    for (const GradCase &c : cases)
      check(c, group);
    group.print(
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
  }

  /// Runs the pass on a case that must be rejected; returns the diagnostics.
  std::string expectRejected(const GradCase &c) {
    SCOPED_TRACE("case '" + c.name + "'");
    Prepared p;
    DiagnosticCapture parseDiags(ctx);
    p.module = parseSourceString<ModuleOp>(render(c), &ctx);
    EXPECT_TRUE(p.module) << parseDiags.text;
    if (!p.module)
      return "";
    PassManager pm(&ctx);
    pm.addPass(nl::createNLDeriveGradients());
    DiagnosticCapture diags(ctx);
    EXPECT_TRUE(failed(pm.run(*p.module))) << "the pass accepted it";
    return diags.text;
  }

  MLIRContext ctx;
};

//===----------------------------------------------------------------------===//
// nl.linear
//===----------------------------------------------------------------------===//

TEST_F(DeriveGradientsTest, Linear) {
  const char *plain = R"(
    %r = nl.linear %x, %w : (tensor<4xf32>, tensor<3x4xf32>) -> tensor<3xf32>)";
  const char *biased = R"(
    %r = nl.linear %x, %w, %b : (tensor<4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<3xf32>)";
  checkAll({
      weighted("wrt input", {{"x", "4"}, {"w", "3x4"}}, {"x"}, plain, "3"),
      weighted("wrt weight", {{"x", "4"}, {"w", "3x4"}}, {"w"}, plain, "3"),
      weighted("wrt bias", {{"x", "4"}, {"w", "3x4"}, {"b", "3"}}, {"b"},
               biased, "3"),
      weighted("wrt all", {{"x", "4"}, {"w", "3x4"}, {"b", "3"}},
               {"x", "w", "b"}, biased, "3"),
      weighted("batched weight", {{"x", "2x4"}, {"w", "2x3x4"}, {"b", "2x3"}},
               {"x", "w", "b"}, R"(
    %r = nl.linear %x, %w, %b : (tensor<2x4xf32>, tensor<2x3x4xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>)",
               "2x3"),
      weighted("shared weight over heads",
               {{"x", "2x4"}, {"w", "3x4"}, {"b", "3"}}, {"x", "w", "b"}, R"(
    %r = nl.linear %x, %w, %b : (tensor<2x4xf32>, tensor<3x4xf32>, tensor<3xf32>) -> tensor<2x3xf32>)",
               "2x3"),
      weighted("shared weight, rank-3 input", {{"x", "2x2x4"}, {"w", "3x4"}},
               {"x", "w"}, R"(
    %r = nl.linear %x, %w : (tensor<2x2x4xf32>, tensor<3x4xf32>) -> tensor<2x2x3xf32>)",
               "2x2x3"),
      weighted("transpose_weight", {{"x", "3"}, {"w", "3x4"}, {"b", "4"}},
               {"x", "w", "b"}, R"(
    %r = nl.linear %x, %w, %b {transpose_weight} : (tensor<3xf32>, tensor<3x4xf32>, tensor<4xf32>) -> tensor<4xf32>)",
               "4"),
      weighted("transpose_weight, batched", {{"x", "2x3"}, {"w", "2x3x4"}},
               {"x", "w"}, R"(
    %r = nl.linear %x, %w {transpose_weight} : (tensor<2x3xf32>, tensor<2x3x4xf32>) -> tensor<2x4xf32>)",
               "2x4"),
  });
}

//===----------------------------------------------------------------------===//
// nl.add, nl.sub, nl.mul, nl.div
//===----------------------------------------------------------------------===//

TEST_F(DeriveGradientsTest, Elementwise) {
  struct Shapes {
    const char *what, *lhs, *rhs, *result;
  };
  const Shapes shapes[] = {
      {"same shape", "2x4", "2x4", "2x4"},
      {"vector and scalar", "4", "", "4"},
      {"scalar and vector", "", "4", "4"},
      {"per-row gate", "2x4", "2x1", "2x4"},
      {"vector and matrix", "4", "2x4", "2x4"},
      {"column and row", "3x1", "1x4", "3x4"},
  };
  std::vector<GradCase> cases;
  for (const char *op : {"add", "sub", "mul", "div"})
    for (const Shapes &s : shapes)
      cases.push_back(weighted(std::string(op) + ", " + s.what,
                               {{"a", s.lhs}, {"b", s.rhs}}, {"a", "b"},
                               std::string("\n    %r = nl.") + op +
                                   " %a, %b : " + tensorType(s.lhs) + ", " +
                                   tensorType(s.rhs) + " -> " +
                                   tensorType(s.result),
                               s.result));
  // One value on both sides: the two adjoints accumulate.
  for (const char *op : {"add", "sub", "mul", "div"})
    cases.push_back(weighted(std::string(op) + ", x with itself", {{"x", "4"}},
                             {"x"},
                             std::string("\n    %r = nl.") + op +
                                 " %x, %x : tensor<4xf32>, tensor<4xf32> -> "
                                 "tensor<4xf32>",
                             "4"));
  // Only one side differentiated, the other captured.
  cases.push_back(weighted("div, only the divisor",
                           {{"a", "2x4"}, {"b", "2x1"}}, {"b"}, R"(
    %r = nl.div %a, %b : tensor<2x4xf32>, tensor<2x1xf32> -> tensor<2x4xf32>)",
                           "2x4"));
  cases.push_back(weighted("sub, only the subtrahend", {{"a", "4"}, {"b", ""}},
                           {"b"}, R"(
    %r = nl.sub %a, %b : tensor<4xf32>, tensor<f32> -> tensor<4xf32>)",
                           "4"));
  checkAll(cases);
}

//===----------------------------------------------------------------------===//
// nl.act (every kind)
//===----------------------------------------------------------------------===//

TEST_F(DeriveGradientsTest, Activations) {
  std::vector<GradCase> cases;
  for (const char *kind : {"identity", "relu", "silu", "gelu", "gelu_tanh",
                           "sigmoid", "tanh", "softplus", "exp"})
    cases.push_back(weighted(kind, {{"x", "2x3"}}, {"x"},
                             std::string("\n    %r = nl.act ") + kind +
                                 " %x : tensor<2x3xf32>",
                             "2x3"));
  // Through a projection, so that the activation sees values of both signs
  // and of larger magnitude.
  for (const char *kind : {"relu", "gelu", "gelu_tanh", "softplus"})
    cases.push_back(weighted(std::string(kind) + " of a projection",
                             {{"x", "4"}, {"w", "6x4"}}, {"x", "w"},
                             std::string(R"(
    %h = nl.linear %x, %w : (tensor<4xf32>, tensor<6x4xf32>) -> tensor<6xf32>
    %r = nl.act )") + kind + " %h : tensor<6xf32>",
                             "6"));
  checkAll(cases);
}

//===----------------------------------------------------------------------===//
// nl.norm (every kind, scale and shift)
//===----------------------------------------------------------------------===//

TEST_F(DeriveGradientsTest, Norms) {
  checkAll({
      weighted("l2", {{"x", "2x4"}}, {"x"}, R"(
    %r = nl.norm l2 %x : (tensor<2x4xf32>) -> tensor<2x4xf32>)",
               "2x4"),
      // eps above ||x||: x / eps, a plain scaling.
      weighted("l2 below eps", {{"x", "2x4"}}, {"x"}, R"(
    %r = nl.norm l2 %x {eps = 1.0e+01 : f64} : (tensor<2x4xf32>) -> tensor<2x4xf32>)",
               "2x4"),
      weighted("layer", {{"x", "2x5"}}, {"x"}, R"(
    %r = nl.norm layer %x : (tensor<2x5xf32>) -> tensor<2x5xf32>)",
               "2x5"),
      weighted("layer, eps 1e-1", {{"x", "2x5"}}, {"x"}, R"(
    %r = nl.norm layer %x {eps = 1.0e-01 : f64} : (tensor<2x5xf32>) -> tensor<2x5xf32>)",
               "2x5"),
      weighted("layer with scale and shift",
               {{"x", "2x5"}, {"s", "5"}, {"t", "5"}}, {"x", "s", "t"}, R"(
    %r = nl.norm layer %x scale %s shift %t {eps = 1.0e-05 : f64} : (tensor<2x5xf32>, tensor<5xf32>, tensor<5xf32>) -> tensor<2x5xf32>)",
               "2x5"),
      weighted("layer with scale only", {{"x", "5"}, {"s", "5"}}, {"x", "s"},
               R"(
    %r = nl.norm layer %x scale %s : (tensor<5xf32>, tensor<5xf32>) -> tensor<5xf32>)",
               "5"),
      weighted("layer with shift only", {{"x", "5"}, {"t", "5"}}, {"x", "t"},
               R"(
    %r = nl.norm layer %x shift %t : (tensor<5xf32>, tensor<5xf32>) -> tensor<5xf32>)",
               "5"),
      weighted("layer, captured scale", {{"x", "2x5"}, {"s", "5"}, {"t", "5"}},
               {"x"}, R"(
    %r = nl.norm layer %x scale %s shift %t : (tensor<2x5xf32>, tensor<5xf32>, tensor<5xf32>) -> tensor<2x5xf32>)",
               "2x5"),
      weighted("rms", {{"x", "2x4"}}, {"x"}, R"(
    %r = nl.norm rms %x : (tensor<2x4xf32>) -> tensor<2x4xf32>)",
               "2x4"),
      weighted("rms with scale", {{"x", "2x4"}, {"s", "4"}}, {"x", "s"}, R"(
    %r = nl.norm rms %x scale %s {eps = 1.0e-05 : f64} : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>)",
               "2x4"),
      weighted("rms, scale only differentiated", {{"x", "2x4"}, {"s", "4"}},
               {"s"}, R"(
    %r = nl.norm rms %x scale %s : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>)",
               "2x4"),
  });
}

//===----------------------------------------------------------------------===//
// nl.sum, nl.outer
//===----------------------------------------------------------------------===//

TEST_F(DeriveGradientsTest, SumAndOuter) {
  checkAll({
      weighted("sum to a scalar", {{"x", "2x3"}}, {"x"}, R"(
    %r = nl.sum %x : tensor<2x3xf32> -> tensor<f32>)",
               ""),
      weighted("sum to 2x1", {{"x", "2x3"}}, {"x"}, R"(
    %r = nl.sum %x : tensor<2x3xf32> -> tensor<2x1xf32>)",
               "2x1"),
      weighted("sum over heads", {{"x", "2x3"}}, {"x"}, R"(
    %r = nl.sum %x : tensor<2x3xf32> -> tensor<3xf32>)",
               "3"),
      weighted("sum to 1x3", {{"x", "2x3"}}, {"x"}, R"(
    %r = nl.sum %x : tensor<2x3xf32> -> tensor<1x3xf32>)",
               "1x3"),
      weighted("outer", {{"a", "3"}, {"b", "4"}}, {"a", "b"}, R"(
    %r = nl.outer %a, %b : tensor<3xf32>, tensor<4xf32> -> tensor<3x4xf32>)",
               "3x4"),
      weighted("outer per head", {{"a", "2x3"}, {"b", "2x4"}}, {"a", "b"}, R"(
    %r = nl.outer %a, %b : tensor<2x3xf32>, tensor<2x4xf32> -> tensor<2x3x4xf32>)",
               "2x3x4"),
      weighted("outer of a vector with itself", {{"a", "3"}}, {"a"}, R"(
    %r = nl.outer %a, %a : tensor<3xf32>, tensor<3xf32> -> tensor<3x3xf32>)",
               "3x3"),
  });
}

//===----------------------------------------------------------------------===//
// The explicit-update form's vocabulary: products, layouts, slices and the
// elementwise upstream ops the rules use
//===----------------------------------------------------------------------===//

TEST_F(DeriveGradientsTest, MatmulAndTranspose) {
  checkAll({
      weighted("matmul", {{"a", "2x3"}, {"b", "3x4"}}, {"a", "b"}, R"(
    %r = nl.matmul %a, %b : tensor<2x3xf32>, tensor<3x4xf32> -> tensor<2x4xf32>)",
               "2x4"),
      weighted("matmul transpose_lhs", {{"a", "3x2"}, {"b", "3x4"}}, {"a", "b"},
               R"(
    %r = nl.matmul %a, %b {transpose_lhs} : tensor<3x2xf32>, tensor<3x4xf32> -> tensor<2x4xf32>)",
               "2x4"),
      weighted("matmul transpose_rhs", {{"a", "2x3"}, {"b", "4x3"}}, {"a", "b"},
               R"(
    %r = nl.matmul %a, %b {transpose_rhs} : tensor<2x3xf32>, tensor<4x3xf32> -> tensor<2x4xf32>)",
               "2x4"),
      weighted("matmul both transposed, per head",
               {{"a", "2x3x2"}, {"b", "2x4x3"}}, {"a", "b"}, R"(
    %r = nl.matmul %a, %b {transpose_lhs, transpose_rhs} : tensor<2x3x2xf32>, tensor<2x4x3xf32> -> tensor<2x2x4xf32>)",
               "2x2x4"),
      weighted("X X^T (one operand twice)", {{"x", "2x3"}}, {"x"}, R"(
    %r = nl.matmul %x, %x {transpose_rhs} : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x2xf32>)",
               "2x2"),
      weighted("transpose", {{"x", "2x3x4"}}, {"x"}, R"(
    %r = nl.transpose %x {permutation = array<i64: 2, 0, 1>} : tensor<2x3x4xf32> -> tensor<4x2x3xf32>)",
               "4x2x3"),
  });
}

TEST_F(DeriveGradientsTest, ReshapesAndSlices) {
  checkAll({
      weighted("expand_shape", {{"x", "6"}}, {"x"}, R"(
    %r = tensor.expand_shape %x [[0, 1]] output_shape [2, 3] : tensor<6xf32> into tensor<2x3xf32>)",
               "2x3"),
      weighted("collapse_shape", {{"x", "2x3"}}, {"x"}, R"(
    %r = tensor.collapse_shape %x [[0, 1]] : tensor<2x3xf32> into tensor<6xf32>)",
               "6"),
      weighted("extract_slice, a dropped dimension", {{"x", "3x4"}}, {"x"},
               R"(
    %r = tensor.extract_slice %x[1, 0] [1, 4] [1, 1] : tensor<3x4xf32> to tensor<4xf32>)",
               "4"),
      weighted("insert_slice: source and destination",
               {{"w", "3x4"}, {"k", "4"}}, {"w", "k"}, R"(
    %r = tensor.insert_slice %k into %w[2, 0] [1, 4] [1, 1] : tensor<4xf32> into tensor<3x4xf32>)",
               "3x4"),
      weighted("a window shifted in (Omega)", {{"w", "3x4"}, {"k", "4"}},
               {"w", "k"}, R"(
    %old = tensor.extract_slice %w[1, 0] [2, 4] [1, 1] : tensor<3x4xf32> to tensor<2x4xf32>
    %sh = tensor.insert_slice %old into %w[0, 0] [2, 4] [1, 1] : tensor<2x4xf32> into tensor<3x4xf32>
    %r = tensor.insert_slice %k into %sh[2, 0] [1, 4] [1, 1] : tensor<4xf32> into tensor<3x4xf32>)",
               "3x4"),
  });
}

TEST_F(DeriveGradientsTest, UpstreamElementwise) {
  checkAll({
      weighted("negf", {{"x", "5"}}, {"x"}, R"(
    %r = arith.negf %x : tensor<5xf32>)",
               "5"),
      weighted("sqrt", {{"x", "5"}}, {"x"}, R"(
    %s = nl.mul %x, %x : tensor<5xf32>, tensor<5xf32> -> tensor<5xf32>
    %one = arith.constant dense<1.0> : tensor<5xf32>
    %p = nl.add %s, %one : tensor<5xf32>, tensor<5xf32> -> tensor<5xf32>
    %r = math.sqrt %p : tensor<5xf32>)",
               "5"),
      weighted("absf", {{"x", "5"}}, {"x"}, R"(
    %r = math.absf %x : tensor<5xf32>)",
               "5"),
      weighted("powf |x|^1.5 (Lp's magnitude)", {{"x", "5"}}, {"x"}, R"(
    %a = math.absf %x : tensor<5xf32>
    %e = arith.constant dense<1.5> : tensor<5xf32>
    %r = math.powf %a, %e : tensor<5xf32>)",
               "5"),
      weighted("select by a comparison (Huber's branches)",
               {{"x", "5"}, {"y", "5"}}, {"x", "y"}, R"(
    %gt = arith.cmpf ogt, %x, %y : tensor<5xf32>
    %xx = nl.mul %x, %x : tensor<5xf32>, tensor<5xf32> -> tensor<5xf32>
    %r = arith.select %gt, %xx, %y : tensor<5xi1>, tensor<5xf32>)",
               "5"),
      weighted("a 0/1 mask times a value", {{"x", "5"}, {"y", "5"}}, {"x", "y"},
               R"(
    %le = arith.cmpf ole, %x, %y : tensor<5xf32>
    %m = arith.uitofp %le : tensor<5xi1> to tensor<5xf32>
    %r = nl.mul %m, %x : tensor<5xf32>, tensor<5xf32> -> tensor<5xf32>)",
               "5"),
  });
}

//===----------------------------------------------------------------------===//
// Second derivatives: nl.act_grad (an MLP memory's inner gradient)
//===----------------------------------------------------------------------===//

TEST_F(DeriveGradientsTest, ActivationSecondDerivatives) {
  // Every smooth activation, in its input and its output gradient.
  std::vector<GradCase> cases;
  for (const char *kind : {"identity", "silu", "gelu", "gelu_tanh", "sigmoid",
                           "tanh", "softplus", "exp"})
    cases.push_back(weighted(std::string("act_grad ") + kind,
                             {{"x", "5"}, {"dy", "5"}}, {"x", "dy"},
                             std::string("\n    %r = nl.act_grad ") + kind +
                                 " %x, %dy : tensor<5xf32>",
                             "5"));
  checkAll(cases);
  checkAll({
      weighted("relu's act_grad: the output gradient only",
               {{"x", "5"}, {"dy", "5"}}, {"dy"}, R"(
    %r = nl.act_grad relu %x, %dy : tensor<5xf32>)",
               "5"),
      weighted("an MLP layer's inner gradient, differentiated in W",
               {{"w", "3x4"}, {"k", "4"}, {"g", "3"}}, {"w"}, R"(
    %z = nl.linear %k, %w : (tensor<4xf32>, tensor<3x4xf32>) -> tensor<3xf32>
    %dz = nl.act_grad silu %z, %g : tensor<3xf32>
    %r = nl.outer %dz, %k : tensor<3xf32>, tensor<4xf32> -> tensor<3x4xf32>)",
               "3x4"),
  });
}

//===----------------------------------------------------------------------===//
// nl.stop_grad, unused arguments, constants, trivial objectives
//===----------------------------------------------------------------------===//

TEST_F(DeriveGradientsTest, StopGradAndUnused) {
  checkAll({
      // d/dx sum(c * x * stop_grad(x)) = c * x, not 2 c x.
      weighted("x * stop_grad(x)", {{"x", "4"}}, {"x"}, R"(
    %s = nl.stop_grad %x : tensor<4xf32>
    %r = nl.mul %x, %s : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>)",
               "4"),
      weighted("stop_grad of a branch", {{"x", "4"}, {"w", "3x4"}}, {"x", "w"},
               R"(
    %h = nl.linear %x, %w : (tensor<4xf32>, tensor<3x4xf32>) -> tensor<3xf32>
    %t = nl.stop_grad %h : tensor<3xf32>
    %a = nl.act tanh %h : tensor<3xf32>
    %r = nl.sub %a, %t : tensor<3xf32>, tensor<3xf32> -> tensor<3xf32>)",
               "3"),
      weighted("only stop_grad(x) used", {{"x", "4"}}, {"x"}, R"(
    %r = nl.stop_grad %x : tensor<4xf32>)",
               "4"),
      weighted("unused argument", {{"x", "4"}, {"y", "2x3"}}, {"x", "y"}, R"(
    %r = nl.act sigmoid %x : tensor<4xf32>)",
               "4"),
      weighted("constants in the body", {{"x", "4"}}, {"x"}, R"(
    %two = arith.constant dense<2.000000e+00> : tensor<4xf32>
    %h = arith.constant dense<5.000000e-01> : tensor<f32>
    %m = nl.mul %two, %x : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
    %r = nl.add %m, %h : tensor<4xf32>, tensor<f32> -> tensor<4xf32>)",
               "4"),
      // The differentiated argument named obj is what nl.grad yields.
      objective("objective is a block argument", {{"x", "3"}, {"obj", ""}},
                {"x", "obj"}, ""),
      objective("objective s + s", {{"s", ""}}, {"s"}, R"(
    %obj = nl.add %s, %s : tensor<f32>, tensor<f32> -> tensor<f32>)"),
      objective("objective stop_grad(s), a dead use of s", {{"s", ""}}, {"s"},
                R"(
    %obj = nl.stop_grad %s : tensor<f32>
    %unused = nl.add %s, %s : tensor<f32>, tensor<f32> -> tensor<f32>)"),
      objective("objective is constant", {{"x", "3"}}, {"x"}, R"(
    %obj = arith.constant dense<3.000000e+00> : tensor<f32>)"),
  });
}

//===----------------------------------------------------------------------===//
// Whole objectives
//===----------------------------------------------------------------------===//

TEST_F(DeriveGradientsTest, WholeObjectives) {
  // M(k) = k + W1 silu(W0 k): a 2-layer residual MLP memory.
  const char *mlp = R"(
    %h = nl.linear %k, %w0 : (tensor<4xf32>, tensor<8x4xf32>) -> tensor<8xf32>
    %a = nl.act silu %h : tensor<8xf32>
    %o = nl.linear %a, %w1 : (tensor<8xf32>, tensor<4x8xf32>) -> tensor<4xf32>
    %m = nl.add %k, %o : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>)";
  checkAll({
      // 1/2 ||M(k) - v||^2
      objective("l2 objective of a residual MLP memory",
                {{"k", "4"}, {"v", "4"}, {"w0", "8x4"}, {"w1", "4x8"}},
                {"w0", "w1"}, std::string(mlp) + R"(
    %e = nl.sub %m, %v : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
    %sq = nl.mul %e, %e : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
    %l = nl.sum %sq : tensor<4xf32> -> tensor<f32>
    %half = arith.constant dense<5.000000e-01> : tensor<f32>
    %obj = nl.mul %l, %half : tensor<f32>, tensor<f32> -> tensor<f32>)"),
      // -<M(k), v>
      objective("dot objective of a residual MLP memory",
                {{"k", "4"}, {"v", "4"}, {"w0", "8x4"}, {"w1", "4x8"}},
                {"w0", "w1"}, std::string(mlp) + R"(
    %p = nl.mul %m, %v : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
    %s = nl.sum %p : tensor<4xf32> -> tensor<f32>
    %neg = arith.constant dense<-1.000000e+00> : tensor<f32>
    %obj = nl.mul %s, %neg : tensor<f32>, tensor<f32> -> tensor<f32>)"),
      // TTT-MLP with 2 heads: z = k + LN(W1 gelu_tanh(W0 k + b0) + b1),
      // 1/2 ||z - v||^2 per head, summed; the norm's gains are slow weights.
      objective("TTT-style layer, 2 heads",
                {{"k", "2x4"},
                 {"v", "2x4"},
                 {"g", "4"},
                 {"beta", "4"},
                 {"w0", "2x8x4"},
                 {"b0", "2x8"},
                 {"w1", "2x4x8"},
                 {"b1", "2x4"}},
                {"w0", "b0", "w1", "b1"}, R"(
    %h = nl.linear %k, %w0, %b0 : (tensor<2x4xf32>, tensor<2x8x4xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
    %a = nl.act gelu_tanh %h : tensor<2x8xf32>
    %o = nl.linear %a, %w1, %b1 : (tensor<2x8xf32>, tensor<2x4x8xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
    %n = nl.norm layer %o scale %g shift %beta {eps = 1.0e-06 : f64} : (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
    %z = nl.add %k, %n : tensor<2x4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
    %e = nl.sub %z, %v : tensor<2x4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
    %sq = nl.mul %e, %e : tensor<2x4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
    %l = nl.sum %sq : tensor<2x4xf32> -> tensor<f32>
    %half = arith.constant dense<5.000000e-01> : tensor<f32>
    %obj = nl.mul %l, %half : tensor<f32>, tensor<f32> -> tensor<f32>)"),
      // A gated, normalized matrix memory with a data-dependent target:
      // q = l2(Wk x) per head (shared Wk), a per-head sigmoid gate, an rms
      // norm whose gain is learned, the target a stopped projection.
      objective("gated normalized memory, shared projections",
                {{"x", "2x4"},
                 {"wk", "4x4"},
                 {"wg", "1x4"},
                 {"m", "2x4x4"},
                 {"s", "4"},
                 {"wv", "4x4"}},
                {"wk", "wg", "m", "s"}, R"(
    %q0 = nl.linear %x, %wk : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
    %q = nl.norm l2 %q0 : (tensor<2x4xf32>) -> tensor<2x4xf32>
    %gz = nl.linear %x, %wg : (tensor<2x4xf32>, tensor<1x4xf32>) -> tensor<2x1xf32>
    %gate = nl.act sigmoid %gz : tensor<2x1xf32>
    %y0 = nl.linear %q, %m : (tensor<2x4xf32>, tensor<2x4x4xf32>) -> tensor<2x4xf32>
    %y1 = nl.mul %y0, %gate : tensor<2x4xf32>, tensor<2x1xf32> -> tensor<2x4xf32>
    %y = nl.norm rms %y1 scale %s : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
    %t0 = nl.linear %x, %wv : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
    %t = nl.stop_grad %t0 : tensor<2x4xf32>
    %e = nl.sub %y, %t : tensor<2x4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
    %sq = nl.mul %e, %e : tensor<2x4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
    %d = nl.add %gate, %gate : tensor<2x1xf32>, tensor<2x1xf32> -> tensor<2x1xf32>
    %w = nl.div %sq, %d : tensor<2x4xf32>, tensor<2x1xf32> -> tensor<2x4xf32>
    %obj = nl.sum %w : tensor<2x4xf32> -> tensor<f32>)"),
  });
}

//===----------------------------------------------------------------------===//
// The check itself: a wrong rule is caught, by a wide margin
//===----------------------------------------------------------------------===//

TEST_F(DeriveGradientsTest, CheckCatchesWrongDerivatives) {
  // Each mutant breaks one rule in correctly derived IR; the check must
  // reject it by orders of magnitude, and reject even a 1e-4 relative error.
  struct Mutant {
    const char *what;
    GradCase c;
    std::function<int(ModuleOp)> mutate; // returns how many ops it changed
  };
  GradCase silu = weighted("silu of a projection", {{"x", "4"}, {"w", "6x4"}},
                           {"x", "w"}, R"(
    %h = nl.linear %x, %w : (tensor<4xf32>, tensor<6x4xf32>) -> tensor<6xf32>
    %r = nl.act silu %h : tensor<6xf32>)",
                           "6");
  GradCase layer =
      weighted("layer with scale", {{"x", "2x5"}, {"s", "5"}}, {"x"}, R"(
    %r = nl.norm layer %x scale %s : (tensor<2x5xf32>, tensor<5xf32>) -> tensor<2x5xf32>)",
               "2x5");
  Mutant mutants[] = {
      {"sigmoid' in place of silu'", silu,
       [](ModuleOp m) {
         int n = 0;
         m.walk([&](nl::ActGradOp g) {
           g.setKind(nl::Activation::sigmoid);
           ++n;
         });
         return n;
       }},
      {"norm_grad without the scale", layer,
       [](ModuleOp m) {
         int n = 0;
         m.walk([&](nl::NormGradOp g) {
           if (g.getScale()) {
             g->eraseOperand(2);
             ++n;
           }
         });
         return n;
       }},
      {"norm_grad rms in place of layer", layer,
       [](ModuleOp m) {
         int n = 0;
         m.walk([&](nl::NormGradOp g) {
           g.setKind(nl::NormKind::rms);
           ++n;
         });
         return n;
       }},
  };
  for (Mutant &mutant : mutants) {
    SCOPED_TRACE(mutant.what);
    Prepared p;
    ASSERT_TRUE(prepare(mutant.c, p));
    std::vector<Tensor> fd, grads;
    ASSERT_TRUE(finiteDifferences(p, fd));
    OwningOpRef<ModuleOp> derived;
    ASSERT_TRUE(derive(p, derived));
    ASSERT_TRUE(evaluateDerived(p, *derived, grads));
    EXPECT_TRUE(compare(mutant.c, fd, grads).ok);

    std::vector<Tensor> nudged = grads;
    for (Tensor &t : nudged)
      for (double &v : t.data)
        v *= 1.0 + 1e-4;
    Comparison slightlyOff = compare(mutant.c, fd, nudged);
    EXPECT_FALSE(slightlyOff.ok);
    EXPECT_GT(slightlyOff.worstRatio, 10.0);

    ASSERT_GT(mutant.mutate(*derived), 0);
    ASSERT_TRUE(evaluateDerived(p, *derived, grads));
    Comparison wrong = compare(mutant.c, fd, grads);
    EXPECT_FALSE(wrong.ok);
    EXPECT_GT(wrong.worstRatio, 1e4);
  }
}

//===----------------------------------------------------------------------===//
// Errors: no rule on the active path
//===----------------------------------------------------------------------===//

TEST_F(DeriveGradientsTest, RejectsOpsWithoutRules) {
  std::string conv = expectRejected(objective(
      "nl.conv on the active path", {{"x", "4"}, {"wc", "2x4"}}, {"x"}, R"(
    %y = nl.conv %x, %wc : (tensor<4xf32>, tensor<2x4xf32>) -> tensor<4xf32>
    %obj = nl.sum %y : tensor<4xf32> -> tensor<f32>)"));
  EXPECT_NE(conv.find("'nl.conv' op depends on the differentiated values "
                      "but has no derivative rule"),
            std::string::npos)
      << conv;

  std::string nested =
      expectRejected(objective("nested nl.grad", {{"x", "4"}}, {"x"}, R"(
    %inner = nl.grad (%x) : tensor<4xf32> -> tensor<4xf32> {
    ^bb0(%y: tensor<4xf32>):
      %sq = nl.mul %y, %y : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
      %s = nl.sum %sq : tensor<4xf32> -> tensor<f32>
      nl.yield %s : tensor<f32>
    }
    %obj = nl.sum %inner : tensor<4xf32> -> tensor<f32>)"));
  EXPECT_NE(nested.find("'nl.grad' op nested in nl.grad is not supported"),
            std::string::npos)
      << nested;

  std::string second = expectRejected(
      objective("second derivative", {{"x", "4"}, {"dy", "4"}}, {"x"}, R"(
    %d = nl.norm_grad rms %x, %dy : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    %obj = nl.sum %d : tensor<4xf32> -> tensor<f32>)"));
  EXPECT_NE(second.find("'nl.norm_grad' op depends on the differentiated "
                        "values; its second derivative has no rule yet"),
            std::string::npos)
      << second;
}

TEST_F(DeriveGradientsTest, OpsWithoutRulesOffTheActivePathAreFine) {
  // nl.conv of a captured value: not differentiated, so not an error.
  GradCase c = objective("nl.conv off the active path",
                         {{"x", "4"}, {"u", "4"}, {"wc", "2x4"}}, {"x"}, R"(
    %y = nl.conv %u, %wc : (tensor<4xf32>, tensor<2x4xf32>) -> tensor<4xf32>
    %p = nl.mul %x, %y : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
    %obj = nl.sum %p : tensor<4xf32> -> tensor<f32>)");
  Prepared p;
  DiagnosticCapture parseDiags(ctx);
  p.module = parseSourceString<ModuleOp>(render(c), &ctx);
  ASSERT_TRUE(p.module) << parseDiags.text;
  p.module->walk([&](nl::GradOp g) { p.grad = g; });
  OwningOpRef<ModuleOp> derived;
  ASSERT_TRUE(derive(p, derived));
  // d/dx sum(x * y) = y: the returned gradient is computed from the conv's
  // result (the conv itself runs once, in the forward part).
  int convs = 0;
  Value convResult;
  derived->walk([&](nl::ConvOp op) {
    ++convs;
    convResult = op.getResult();
  });
  ASSERT_EQ(convs, 1) << printed(*derived);
  auto ret = cast<func::ReturnOp>(
      derived->lookupSymbol<func::FuncOp>("f").getBody().front().back());
  SmallVector<Value> work{ret.getOperand(0)};
  llvm::DenseSet<Value> seen;
  bool fromConv = false;
  while (!work.empty() && !fromConv) {
    Value v = work.pop_back_val();
    fromConv = v == convResult;
    if (Operation *def = v.getDefiningOp(); def && seen.insert(v).second)
      llvm::append_range(work, def->getOperands());
  }
  EXPECT_TRUE(fromConv) << printed(*derived);
}

// An op from another dialect on the differentiated path, whether it reads an
// argument inside its region or has two results, is a located error (the
// pass once treated both as constants and returned a zero gradient).
TEST_F(DeriveGradientsTest, RejectsForeignOpsOnTheActivePath) {
  std::string captured = expectRejected(
      objective("argument read inside a region", {{"x", "4"}}, {"x"}, R"(
    %y = scf.execute_region -> tensor<4xf32> {
      %t = nl.act tanh %x : tensor<4xf32>
      scf.yield %t : tensor<4xf32>
    }
    %obj = nl.sum %y : tensor<4xf32> -> tensor<f32>)"));
  EXPECT_NE(captured.find("no derivative rule"), std::string::npos) << captured;

  std::string twoResults =
      expectRejected(objective("two results", {{"x", "4"}}, {"x"}, R"(
    %true = arith.constant true
    %a, %b = scf.if %true -> (tensor<4xf32>, tensor<4xf32>) {
      scf.yield %x, %x : tensor<4xf32>, tensor<4xf32>
    } else {
      scf.yield %x, %x : tensor<4xf32>, tensor<4xf32>
    }
    %p = nl.mul %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
    %obj = nl.sum %p : tensor<4xf32> -> tensor<f32>)"));
  EXPECT_NE(twoResults.find("no derivative rule"), std::string::npos)
      << twoResults;
}

} // namespace
