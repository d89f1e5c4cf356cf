//===- NLRules.cpp - The registry of learning-rule fields and algorithms --===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "nl/IR/NLRules.h"
#include "nl/IR/NLOps.h"

#include <cassert>
#include <iterator>

using namespace mlir;
using namespace mlir::nl;

namespace {

/// The spellings of `EnumT` with `Default` first.
template <typename EnumT, EnumT Default>
llvm::SmallVector<llvm::StringRef> spellings() {
  llvm::SmallVector<llvm::StringRef> all = enumSpellings<EnumT>();
  llvm::StringRef first = stringifyEnum(Default);
  llvm::SmallVector<llvm::StringRef> out = {first};
  for (llvm::StringRef s : all)
    if (s != first)
      out.push_back(s);
  return out;
}

const RuleField kFields[] = {
    {"objective", spellings<Objective, Objective::dot>, "",
     "inner objective L(M; k, v); linear = <g, M> for a given gradient "
     "(required)"},
    {"retention", spellings<Retention, Retention::none>, "",
     "decay multiplies the old state by the 'retain' gate"},
    {"decay_order", spellings<DecayOrder, DecayOrder::decoupled>, "",
     "gradient at the old state (Titans) or the decayed one (Gated "
     "DeltaNet)"},
    {"algorithm", spellings<Algorithm, Algorithm::gd>, "",
     "how the gradient becomes an update"},
    {"via", nullptr, "[level, ...]",
     "levels keeping the algorithm's memory (momentum/muon: 1, adam: 2, "
     "m3: 3)"},
    {"grad_at", spellings<GradPoint, GradPoint::token>, "",
     "state at which gradients are taken"},
    {"read", spellings<ReadOrder, ReadOrder::after_write>, "",
     "whether a read in the same step sees this step's write; chunk_prefix: "
     "the chunk-start state minus the chunk's steps so far (TTT)"},
    {"l2", spellings<L2Convention, L2Convention::half>, "",
     "L = 1/2 ||Mk - v||^2 or ||Mk - v||^2"},
    {"p", nullptr, "number >= 1", "exponent of the lp objective"},
    {"huber_delta", nullptr, "number > 0", "threshold of the huber objective"},
    {"window", nullptr, "integer >= 1 (1)", "Omega-rule window"},
    {"precond", spellings<Precond, Precond::none>, "",
     "delta: M <- M (retain I - lr k k^T) - lr grad"},
    {"precond_target", spellings<PrecondTarget, PrecondTarget::first_layer>, "",
     "which weights of an MLP memory the preconditioner multiplies"},
    {"dgd_step", spellings<DgdStep, DgdStep::sherman_morrison>, "",
     "DGD step size"},
    {"ns_steps", nullptr, "integer >= 1 (5)",
     "Newton-Schulz iterations of muon"},
    {"eps", nullptr, "number > 0 (1e-8)", "epsilon of adam and m3"},
    {"slow_weight", nullptr, "number (1)", "weight of m3's slow momentum"},
    {"write", spellings<WriteMode, WriteMode::stop_grad>, "",
     "whether outer gradients flow through writes"},
    {"grad_source", spellings<GradSource, GradSource::local>, "",
     "the level's own objective or the task loss"},
    {"lr_placement", spellings<LrPlacement, LrPlacement::per_token>, "",
     "step size inside or outside a chunk's gradient sum"},
    {"chunk_apply", spellings<ChunkApply, ChunkApply::at_end>, "",
     "a chunk's steps applied at its end, or every token with the "
     "gradients at the chunk start (Titans 3.2)"},
};

//===--- Objectives: dL/d(Mk), or dL/dM --------------------------------===//

/// e = M k - v.
Value error(TensorMath &m, const ObjectiveArgs &a) {
  Value pred = m.matvec(a.M, a.key);
  return m.sub(pred, a.value);
}

Value dotGrad(TensorMath &m, const ObjectiveArgs &a) { return m.neg(a.value); }

Value l2Grad(TensorMath &m, const ObjectiveArgs &a) {
  Value e = error(m, a);
  return a.rule.getL2() == L2Convention::full ? m.mul(e, m.splat(2.0)) : e;
}

Value lpGrad(TensorMath &m, const ObjectiveArgs &a) {
  // p sign(e) |e|^(p-1). C++ leaves the order of arguments open: every op
  // is built in a statement of its own, so that the IR is the same
  // everywhere.
  Value e = error(m, a);
  double p = a.rule.getP()->convertToDouble();
  Value mag = p != 1.0 ? m.powConst(e, p - 1.0) : Value();
  Value scale = m.splat(p);
  Value s = m.sign(e);
  Value signed_ = m.mul(s, mag);
  return m.mul(scale, signed_);
}

Value huberGrad(TensorMath &m, const ObjectiveArgs &a) {
  // Yaad: the l2 gradient inside the ball ||e_h|| <= delta_h, delta_h
  // sign(e) outside, per head.
  Value e = error(m, a);
  Value delta = m.splat(a.rule.getHuberDelta()->convertToDouble());
  if (a.deltaScale)
    delta = m.mul(delta, a.deltaScale);
  Value norm = m.sqrt(m.rowSum(m.mul(e, e)));
  TensorMath::Shape ns = TensorMath::shapeOf(norm);
  // The threshold is broadcast to the norm's shape by adding zeros.
  Value thr = m.add(delta, m.splat(0.0, ns));
  Value in = m.lessEqual(norm, thr);
  Value out = m.sub(m.splat(1.0, ns), in);
  Value inside = m.mul(e, in);
  Value outside = m.mul(m.mul(delta, m.sign(e)), out);
  return m.add(inside, outside);
}

Value ojaGrad(TensorMath &m, const ObjectiveArgs &a) {
  // d/dM (-<M k, v> + 1/2 ||M^T v||^2) = v (M^T v - k)^T.
  Value back = m.matvecT(a.M, a.value);
  Value residual = m.sub(back, a.key);
  return m.outer(a.value, residual);
}

const ObjectiveEntry kObjectives[] = {
    {Objective::dot, "L = -<M k, v>: grad = -v k^T (Hebbian, linear attention)",
     /*keyValue=*/true, /*mlpMemory=*/true, /*fused=*/true, /*chunkForm=*/true,
     dotGrad, nullptr},
    {Objective::l2,
     "L = 1/2 ||M k - v||^2 (l2 = full: no 1/2): grad = (M k - v) k^T (delta "
     "rule)",
     true, true, true, true, l2Grad, nullptr},
    {Objective::lp,
     "L = ||M k - v||_p^p: grad = p sign(e) |e|^(p-1) k^T (Moneta)", true,
     false, true, false, lpGrad, nullptr},
    {Objective::huber,
     "Huber(M k - v; huber_delta): e k^T inside the ball, delta sign(e) k^T "
     "outside (Yaad)",
     true, false, true, false, huberGrad, nullptr},
    {Objective::linear,
     "L = <g, M> for the gradient g the update is fed (optimizer levels)",
     false, false, true, false, nullptr, nullptr},
    {Objective::oja,
     "L = -<M k, v> + 1/2 ||M^T v||^2: grad = v (M^T v - k)^T (OjaNet, Irie "
     "2022)",
     true, false, false, false, nullptr, ojaGrad},
};

static_assert(std::size(kObjectives) == getMaxEnumValForObjective() + 1,
              "one registry entry per objective");

const RetentionEntry kRetentions[] = {
    {Retention::none, "no forgetting term", true, true, true},
    {Retention::decay,
     "M <- retain M + ...: the old state times the 'retain' gate", true, true,
     true},
    {Retention::l2_prox,
     "the proximal term ||M - M_prev||^2 / (2 lr) (for the l2 objective this "
     "is algorithm dgd); no back end compiles it yet",
     false, false, false},
};

static_assert(std::size(kRetentions) == getMaxEnumValForRetention() + 1,
              "one registry entry per retention");

//===--- Algorithms' output maps ----------------------------------------===//

/// Newton-Schulz with the quintic coefficients (3.4445, -4.7750, 2.0315),
/// `ns_steps` iterations, per head: X = S / (||S||_F + 1e-7), transposed if
/// it has more rows than columns; A = X X^T, B = b A + c A A, X = a X + B X.
Value newtonSchulz(TensorMath &m, Value S, RuleAttr rule) {
  TensorMath::Shape s = TensorMath::shapeOf(S);
  int64_t rows = s[s.size() - 2], cols = s.back();
  // ||S||_F per head: the rows' sums of squares, then their sum.
  Value rowsSq = m.rowSum(m.mul(S, S));
  Value frob = m.rowSum(m.transposeLast2(rowsSq));
  Value norm = m.sqrt(frob);
  Value scale = m.add(norm, m.splat(1e-7));
  Value X = m.div(S, scale);
  bool transposed = rows > cols;
  if (transposed)
    X = m.transposeLast2(X);
  for (int64_t i = 0; i < rule.getNsSteps(); ++i) {
    Value A = m.matmul(X, X, /*transposeLhs=*/false, /*transposeRhs=*/true);
    Value AA = m.matmul(A, A);
    Value bA = m.mul(A, m.splat(-4.7750));
    Value cAA = m.mul(AA, m.splat(2.0315));
    Value B = m.add(bA, cAA);
    Value aX = m.mul(X, m.splat(3.4445));
    Value BX = m.matmul(B, X);
    X = m.add(aX, BX);
  }
  return transposed ? m.transposeLast2(X) : X;
}

const AlgorithmEntry kAlgorithms[] = {
    {Algorithm::gd, 0, "M <- retain M - lr grad", /*chunked=*/true,
     /*expanded=*/true},
    {Algorithm::momentum, 1,
     "S <- decay S - lr grad, M <- retain M + S (one memory: S)",
     /*chunked=*/true, /*expanded=*/true},
    {Algorithm::dgd, 0,
     "delta gradient descent: the proximal step of the l2 objective "
     "(dgd_step)",
     /*chunked=*/false, /*expanded=*/true},
    {Algorithm::muon, 1, "momentum through Newton-Schulz (ns_steps)",
     /*chunked=*/false, /*expanded=*/true, newtonSchulz},
    {Algorithm::adam, 2,
     "m1 <- b1 m1 + c1 g, m2 <- b2 m2 + c2 g^2, M <- M - lr m1 / (sqrt(m2) "
     "+ eps)",
     /*chunked=*/false, /*expanded=*/true},
    {Algorithm::m3, 3,
     "Multi-scale Momentum Muon (NL Algorithm 1): fast and slow momentum, "
     "second moment",
     /*chunked=*/false, /*expanded=*/true, newtonSchulz},
};

static_assert(std::size(kAlgorithms) == getMaxEnumValForAlgorithm() + 1,
              "one registry entry per algorithm");

} // namespace

llvm::ArrayRef<RuleField> mlir::nl::ruleFields() { return kFields; }

const RuleField *mlir::nl::lookupRuleField(llvm::StringRef name) {
  for (const RuleField &f : kFields)
    if (f.name == name)
      return &f;
  return nullptr;
}

llvm::ArrayRef<AlgorithmEntry> mlir::nl::algorithms() { return kAlgorithms; }

llvm::ArrayRef<ObjectiveEntry> mlir::nl::objectives() { return kObjectives; }

const ObjectiveEntry &mlir::nl::objectiveEntry(Objective objective) {
  const ObjectiveEntry &e = kObjectives[static_cast<unsigned>(objective)];
  assert(e.objective == objective && "the objective table is out of order");
  return e;
}

llvm::ArrayRef<RetentionEntry> mlir::nl::retentions() { return kRetentions; }

const RetentionEntry &mlir::nl::retentionEntry(Retention retention) {
  const RetentionEntry &e = kRetentions[static_cast<unsigned>(retention)];
  assert(e.retention == retention && "the retention table is out of order");
  return e;
}

const AlgorithmEntry &mlir::nl::algorithmEntry(Algorithm algorithm) {
  // Entries are in declaration order.
  const AlgorithmEntry &e = kAlgorithms[static_cast<unsigned>(algorithm)];
  assert(e.algorithm == algorithm && "the algorithm table is out of order");
  return e;
}
