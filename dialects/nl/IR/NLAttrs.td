//===- NLAttrs.td - Attributes of the nl dialect ----------*- tablegen -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#ifndef NL_ATTRS_TD
#define NL_ATTRS_TD

include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "nl/IR/NLDialect.td"
include "nl/IR/NLEnums.td"
include "nl/IR/NLInterfaces.td"

// A real number written as a plain literal (`0.02`, `1e-08`).
def NL_F64Param : AttrParameter<"::llvm::APFloat", "a real number"> {
  let parser = "::mlir::nl::parseReal($_parser)";
  let printer = "::mlir::nl::printReal($_printer, $_self)";
  let comparator = "$_lhs.bitwiseIsEqual($_rhs)";
}
// An optional real number; omitted from the syntax when absent.
def NL_OptF64Param
    : AttrParameter<"std::optional<::llvm::APFloat>", "a real number"> {
  let parser = "::mlir::nl::parseOptionalReal($_parser)";
  let printer = "::mlir::nl::printReal($_printer, *$_self)";
  let comparator = "::mlir::nl::sameReal($_lhs, $_rhs)";
  let defaultValue = "std::optional<::llvm::APFloat>()";
}

class NL_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<NL_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

//===----------------------------------------------------------------------===//
// Period
//===----------------------------------------------------------------------===//

def NL_PeriodAttr : NL_Attr<"Period", "period"> {
  let summary = "update period of a level: a chunk size, `inf` or `frozen`";
  let description = [{
    How many tokens pass between two updates of a level. A positive integer C
    is a chunk size: the level applies one update after every C tokens (its
    frequency is 1/C). `inf` marks a non-parametric level, such as attention
    over a KV cache, whose state grows every token and is never compressed;
    for scheduling it acts as period 1. `frozen` marks a level that never
    updates online (frequency 0), such as pre-trained MLP weights at inference.

    Only ratios of frequencies matter (ambiguity A1), so nlc stores chunk
    sizes and never a normalized frequency.

    Example:
    ```mlir
    #nl.period<16>
    #nl.period<inf>
    #nl.period<frozen>
    ```
  }];
  let parameters = (ins "int64_t":$value);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    static constexpr int64_t kInfinite = -1;
    static constexpr int64_t kFrozen = 0;
    static PeriodAttr getChunk(::mlir::MLIRContext *ctx, int64_t c) {
      return get(ctx, c);
    }
    static PeriodAttr getInfinite(::mlir::MLIRContext *ctx) {
      return get(ctx, kInfinite);
    }
    static PeriodAttr getFrozen(::mlir::MLIRContext *ctx) {
      return get(ctx, kFrozen);
    }
    bool isInfinite() const { return getValue() == kInfinite; }
    bool isFrozen() const { return getValue() == kFrozen; }
    bool isChunk() const { return getValue() >= 1; }
    /// Tokens between two updates for scheduling: the chunk size, 1 for
    /// `inf`, 0 (never) for `frozen`.
    int64_t getEffectivePeriod() const {
      return isInfinite() ? 1 : getValue();
    }
    /// Prints the bare form (`16`, `inf`, `frozen`) used inside nl.level.
    void printBare(::llvm::raw_ostream &os) const;
    /// Parses the bare form.
    static PeriodAttr parseBare(::mlir::AsmParser &parser);
  }];
}

//===----------------------------------------------------------------------===//
// Learning rule
//===----------------------------------------------------------------------===//

def NL_RuleAttr : NL_Attr<"Rule", "rule"> {
  let summary = "learning rule of a level: objective, retention, algorithm";
  let description = [{
    Everything that decides how a level turns its context into a new state.
    Only `objective` is required; every other field has a documented default
    and is printed only when it differs from it. Each field that resolves an
    ambiguity of the papers names it (A<n> refers to the ambiguity register in
    docs/ambiguities.md).

    | field | values (default first) | meaning |
    |---|---|---|
    | `objective` | `dot`, `l2`, `lp`, `huber`, `linear`, `oja` | inner objective L(M; k, v); `linear` is <g, M> for a given gradient g; `oja` is -<M k, v> + 1/2 ||M^T v||^2 |
    | `retention` | `none`, `decay`, `l2_prox` | `decay`: the old state is multiplied by the `retain` gate |
    | `decay_order` | `decoupled`, `before_grad` | gradient at the old state (Titans) or at the decayed state (Gated DeltaNet) |
    | `algorithm` | `gd`, `momentum`, `dgd`, `muon`, `adam`, `m3` | how the gradient becomes an update |
    | `via` | list of level symbols | the levels that keep the algorithm's memory: momentum and muon one (fed the gradient g), adam two (fed g and g*g), m3 three (fast momentum fed g, second moment fed g*g, slow momentum fed g at a slower period); absent = fused buffers in this level's own states |
    | `grad_at` | `token`, `chunk_start` | state at which gradients are taken (A9) |
    | `read` | `after_write`, `before_write`, `chunk_prefix` | whether a read in the same step sees this step's write; `chunk_prefix` (TTT's mini-batch semantics, gd without retention on a chunked level): the chunk-start state minus the chunk's lr-weighted gradients so far, this token's included |
    | `l2` | `half`, `full` | L = 1/2 ||Mk-v||^2 or ||Mk-v||^2 (the factor 2) |
    | `p` | float >= 1 | exponent of `lp` |
    | `huber_delta` | float > 0 | threshold of `huber` |
    | `window` | int >= 1, 1 | Omega-rule window c (A4: gradients, not losses, are summed) |
    | `precond` | `none`, `delta` | `delta`: M <- M (retain I - lr k k^T) - lr grad (Hope Eq 88, A19) |
    | `precond_target` | `first_layer`, `every_layer` | which weights of an MLP memory the preconditioner multiplies (A21) |
    | `dgd_step` | `sherman_morrison`, `unit_norm`, `undamped` | DGD step size lr' (A5) |
    | `ns_steps` | int >= 1, 5 | Newton-Schulz iterations of `muon` and `m3` |
    | `eps` | float > 0, 1e-8 | epsilon of `adam` and `m3` |
    | `slow_weight` | float, 1 | weight of the slow momentum in `m3` (Algorithm 1's alpha) |
    | `write` | `stop_grad`, `differentiable` | whether outer gradients flow through writes (A24) |
    | `grad_source` | `local`, `task` | the level's own objective, or the task loss (A11) |
    | `lr_placement` | `per_token`, `per_chunk` | step size inside or outside a chunk's gradient sum (A10) |
    | `chunk_apply` | `at_end`, `every_token` | a chunked level's steps summed and applied on the chunk's last token (titans-pytorch), or each applied at once with every gradient at the chunk-start state (the Titans paper's mini-batch form, section 3.2; `grad_at = chunk_start`) |

    Example: the Titans rule with momentum kept in a separate level `@S` and a
    DeltaNet rule.
    ```mlir
    #nl.rule<objective = l2, retention = decay, algorithm = momentum, via = [@S]>
    #nl.rule<objective = l2, read = after_write>
    ```
  }];
  let parameters = (ins
    NL_EnumParameter<NL_Objective>:$objective,
    NL_DefaultEnum<NL_Retention, "none">:$retention,
    NL_DefaultEnum<NL_DecayOrder, "decoupled">:$decay_order,
    NL_DefaultEnum<NL_Algorithm, "gd">:$algorithm,
    OptionalParameter<"::mlir::ArrayAttr">:$via,
    NL_DefaultEnum<NL_GradPoint, "token">:$grad_at,
    NL_DefaultEnum<NL_ReadOrder, "after_write">:$read,
    NL_DefaultEnum<NL_L2Convention, "half">:$l2,
    NL_OptF64Param:$p,
    NL_OptF64Param:$huber_delta,
    DefaultValuedParameter<"int64_t", "1">:$window,
    NL_DefaultEnum<NL_Precond, "none">:$precond,
    NL_DefaultEnum<NL_PrecondTarget, "first_layer">:$precond_target,
    NL_DefaultEnum<NL_DgdStep, "sherman_morrison">:$dgd_step,
    DefaultValuedParameter<"int64_t", "5">:$ns_steps,
    NL_OptF64Param:$eps,
    NL_OptF64Param:$slow_weight,
    NL_DefaultEnum<NL_WriteMode, "stop_grad">:$write,
    NL_DefaultEnum<NL_GradSource, "local">:$grad_source,
    NL_DefaultEnum<NL_LrPlacement, "per_token">:$lr_placement,
    NL_DefaultEnum<NL_ChunkApply, "at_end">:$chunk_apply
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The levels named by `via`, in order (empty for fused algorithms).
    ::llvm::SmallVector<::mlir::FlatSymbolRefAttr> getViaLevels() const;
    /// Number of `via` levels the algorithm takes (0 if it has no memory).
    static unsigned expectedViaCount(Algorithm algorithm);
    /// Number of states a fused rule needs besides the memory itself.
    unsigned fusedBufferCount() const;
  }];
}

//===----------------------------------------------------------------------===//
// Initializers
//===----------------------------------------------------------------------===//

class NL_InitAttr<string name, string mnemonic>
    : NL_Attr<name, mnemonic,
              [DeclareAttrInterfaceMethods<NL_InitializerAttrInterface>]>;

def NL_ZerosAttr : NL_InitAttr<"Zeros", "zeros"> {
  let summary = "initialize with zeros";
  let description = [{
    Fills the value with 0. The usual start for memories and moment buffers.

    Example: `nl.state @M : !nl.matrix<64x64xf32> = #nl.zeros`
  }];
}

def NL_OnesAttr : NL_InitAttr<"Ones", "ones"> {
  let summary = "initialize with ones";
  let description = [{
    Fills the value with 1 (norm gains, for instance).

    Example: `nl.param @gain : tensor<64xf32> = #nl.ones`
  }];
}

def NL_IdentityAttr : NL_InitAttr<"Identity", "identity"> {
  let summary = "initialize a square matrix (per head) with the identity";
  let description = [{
    Fills a square matrix with the identity; per head for a multi-head memory.

    Example: `nl.state @M : !nl.matrix<64x64xf32> = #nl.identity`
  }];
}

def NL_FillAttr : NL_InitAttr<"Fill", "fill"> {
  let summary = "initialize with a constant";
  let description = [{
    Fills every element with one value.

    Example: `nl.param @bias : tensor<1xf32> = #nl.fill<-2.0>`
  }];
  let parameters = (ins NL_F64Param:$value);
  let assemblyFormat = "`<` $value `>`";
}

def NL_NormalAttr : NL_InitAttr<"Normal", "normal"> {
  let summary = "initialize with a seeded normal draw";
  let description = [{
    Draws every element from N(mean, std^2) with the run's seed. `std` must
    be positive; `mean` defaults to 0.

    Example: `nl.param @W_q : tensor<64x64xf32> = #nl.normal<std = 0.02>`
  }];
  let parameters = (ins NL_F64Param:$std,
                        NL_OptF64Param:$mean);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def NL_UniformAttr : NL_InitAttr<"Uniform", "uniform"> {
  let summary = "initialize with a seeded uniform draw";
  let description = [{
    Draws every element from U(low, high) with the run's seed; low < high.

    Example: `nl.param @A : tensor<4xf32> = #nl.uniform<low = 0.0, high = 16.0>`
  }];
  let parameters = (ins NL_F64Param:$low, NL_F64Param:$high);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def NL_FromFileAttr : NL_InitAttr<"FromFile", "from_file"> {
  let summary = "initialize from a named tensor of the params file";
  let description = [{
    Takes the value from the tensor called `name` in the safetensors file
    given at run time (`nl-run --params`). Its shape and dtype are checked
    when the file is loaded.

    Example: `nl.param @W_q : tensor<64x64xf32> = #nl.from_file<"layer0.W_q">`
  }];
  let parameters = (ins StringRefParameter<"tensor name">:$name);
  let assemblyFormat = "`<` $name `>`";
  let genVerifyDecl = 1;
}

def NL_FromParamAttr : NL_InitAttr<"FromParam", "from_param"> {
  let summary = "initialize a state with the value of a parameter";
  let description = [{
    A state that starts from the value of the parameter `param`, wherever
    that value came from: drawn from the run's seed by the parameter's own
    initializer, or read from the params file. The parameter must hold the
    state's storage shape (a matrix memory's `[heads?, rows, cols]`). Only
    states take it; a reset of the level goes back to the parameter's value.
    An optimizer's weight level (`examples/adam.nl`) uses it so that the
    weights it trains start from a parameter that a params file can set.

    Example:
    ```mlir
    nl.param @W0 : tensor<4096xf32> = #nl.normal<std = 0.02>
    nl.level @W period 1 rule <objective = linear> {
      nl.state @W : tensor<4096xf32> = #nl.from_param<@W0>
    }
    ```
  }];
  let parameters = (ins "::mlir::FlatSymbolRefAttr":$param);
  let assemblyFormat = "`<` $param `>`";
}

//===----------------------------------------------------------------------===//
// Schedule (computed by nl-verify-schedule)
//===----------------------------------------------------------------------===//

def NL_ScheduleAttr : NL_Attr<"Schedule", "schedule"> {
  let summary = "where a level sits in the model's global schedule";
  let description = [{
    Attached to every level by `nl-verify-schedule`.

    * `period`: tokens between two updates (0: never, for frozen and offline
      levels); an optimizer level inherits the period of the level it serves.
    * `rank`: the paper's level index, 0 for the fastest frequency; levels of
      equal frequency share a rank.
    * `order`: position in the within-step update order (a topological order
      of the same-step dependencies, faster levels first among independent
      ones).
    * `fires`: updates per hyper-period of the model.

    Example: `#nl.schedule<period = 16, rank = 1, order = 2, fires = 16>`
  }];
  let parameters = (ins "int64_t":$period, "int64_t":$rank, "int64_t":$order,
                        "int64_t":$fires);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // NL_ATTRS_TD
