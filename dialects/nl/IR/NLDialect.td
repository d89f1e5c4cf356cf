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

    The facts the compiler's passes hand on are the dialect's discardable
    attributes, each verified where it appears (any other `nl.` attribute
    is an error): `nl.abi = #nl.abi<...>` on an `nl.model` (its ABI,
    `nl-materialize-abi`, checked against the model), `nl.entry_point =
    #nl.entry_point<...>` on a function of the kernel form (`nl-to-loops`),
    `nl.kernel = #nl.kernel<...>` on a CUDA kernel (`nl-map-to-gpu`),
    `nl.serial` (unit) on a function whose loops stay serial, and
    `nl.token_scratch` (unit) on an entry point's argument that holds one
    token's value.
  }];

  let useDefaultAttributePrinterParser = 1;
  // The discardable attributes the passes hand on (below): registered and
  // verified here, so that no unknown `nl.` attribute passes verification.
  let hasOperationAttrVerify = 1;
  let hasRegionArgAttrVerify = 1;
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
    /// `nl.abi` on an nl.model: its #nl.abi (nl-materialize-abi).
    static constexpr ::llvm::StringLiteral getABIAttrName() {
      return ::llvm::StringLiteral("nl.abi");
    }
    /// `nl.entry_point` on a function of the kernel form: the
    /// #nl.entry_point it implements (nl-to-loops).
    static constexpr ::llvm::StringLiteral getEntryPointAttrName() {
      return ::llvm::StringLiteral("nl.entry_point");
    }
    /// `nl.kernel` on a CUDA kernel: its #nl.kernel (nl-map-to-gpu).
    static constexpr ::llvm::StringLiteral getKernelAttrName() {
      return ::llvm::StringLiteral("nl.kernel");
    }
    /// `nl.serial` (unit) on a function whose loops nl-parallelize-cpu
    /// keeps serial (the chunk entry: its thread-local scratch would be
    /// another thread's on a team member).
    static constexpr ::llvm::StringLiteral getSerialAttrName() {
      return ::llvm::StringLiteral("nl.serial");
    }
    /// `nl.token_scratch` (unit) on a memref argument of an entry point:
    /// a state written and read within one token (nl-fuse-rows keeps one
    /// row of it).
    static constexpr ::llvm::StringLiteral getTokenScratchAttrName() {
      return ::llvm::StringLiteral("nl.token_scratch");
    }
  }];
}

class NL_Op<string mnemonic, list<Trait> traits = []>
    : Op<NL_Dialect, mnemonic, traits>;

#endif // NL_DIALECT_TD
