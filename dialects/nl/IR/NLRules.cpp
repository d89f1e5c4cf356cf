//===- NLRules.cpp - The registry of learning-rule fields and algorithms --===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "nl/IR/NLRules.h"

#include <cassert>
#include <iterator>

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
     /*chunked=*/false, /*expanded=*/false},
    {Algorithm::adam, 2,
     "m1 <- b1 m1 + c1 g, m2 <- b2 m2 + c2 g^2, M <- M - lr m1 / (sqrt(m2) "
     "+ eps)",
     /*chunked=*/false, /*expanded=*/true},
    {Algorithm::m3, 3,
     "Multi-scale Momentum Muon (NL Algorithm 1): fast and slow momentum, "
     "second moment",
     /*chunked=*/false, /*expanded=*/false},
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

const AlgorithmEntry &mlir::nl::algorithmEntry(Algorithm algorithm) {
  // Entries are in declaration order.
  const AlgorithmEntry &e = kAlgorithms[static_cast<unsigned>(algorithm)];
  assert(e.algorithm == algorithm && "the algorithm table is out of order");
  return e;
}
