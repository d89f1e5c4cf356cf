//===- NLDialect.td - The nl dialect ----------------------*- tablegen -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#ifndef NL_DIALECT_TD
#define NL_DIALECT_TD

include "mlir/IR/OpBase.td"

def NL_Dialect : Dialect {
  let name = "nl";
  let cppNamespace = "::mlir::nl";
  let summary = "Nested learning: levels of associative memories";
  let description = [{
    The `nl` dialect makes the Nested Learning view (Behrouz et al., NeurIPS
    2025) executable. A model is a set of **levels**. Each level owns some
    state (a matrix memory, an MLP memory, a moment buffer or a KV cache), is
    fed a context flow (keys and values, or a gradient stream), and updates its
    state with a **learning rule** (inner objective, retention, algorithm) once
    every `period` tokens. Attention is a level of infinite frequency, a Titans
    memory a level of period 1, a CMS block a level of period C, and an
    optimizer's momentum a level whose context is another level's gradient.
    Architecture and optimizer are written with the same ops.

    Conventions fixed by the dialect (see docs/ambiguities.md):

    * A matrix memory `M` has shape `d_out x d_in` and is read as `y = M x`.
    * Gates are named `lr` (step size), `retain` (the factor multiplying the
      old state) and `momentum_decay` (the `retain` of a fused momentum
      buffer). The papers' clashing eta/theta/alpha never appear.
    * Every point where the papers are ambiguous is an explicit attribute with
      a documented default.

    A model has one `nl.step` region, the computation of one time step on one
    token. `nl.read` and `nl.update` inside it name levels by symbol.
  }];

  let useDefaultAttributePrinterParser = 1;
  let useDefaultTypePrinterParser = 1;
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect"
  ];
  let extraClassDeclaration = [{
  private:
    void registerAttributes();
    void registerTypes();
  public:
  }];
}

class NL_Op<string mnemonic, list<Trait> traits = []>
    : Op<NL_Dialect, mnemonic, traits>;

#endif // NL_DIALECT_TD
