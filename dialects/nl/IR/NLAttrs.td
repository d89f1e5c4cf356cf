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

//===----------------------------------------------------------------------===//
// The ABI of a compiled model (materialized by nl-materialize-abi)
//===----------------------------------------------------------------------===//

// A static shape, `[4, 16, 16]` (`[]` for a scalar).
def NL_ShapeParam : ArrayRefParameter<"int64_t", "a static shape"> {
  let parser = "::mlir::nl::parseShape($_parser)";
  let printer = "::mlir::nl::printShape($_printer, $_self)";
}
// An optional count, omitted when absent.
def NL_OptIntParam : OptionalParameter<"std::optional<int64_t>"> {
  let printer = "$_printer << *$_self";
}
// A list of static shapes, `[[8], [4, 16]]`.
def NL_ShapeListParam
    : ArrayRefParameter<"::mlir::DenseI64ArrayAttr", "static shapes"> {
  let parser = "::mlir::nl::parseShapeList($_parser)";
  let printer = "::mlir::nl::printShapeList($_printer, $_self)";
}
// An optional list of booleans, `[true, false]`; omitted when empty.
def NL_BoolListParam : OptionalArrayRefParameter<"bool", "booleans"> {
  let parser = "::mlir::nl::parseBoolList($_parser)";
  let printer = "::mlir::nl::printBoolList($_printer, $_self)";
}
// A bracketed list of attributes of one kind, `[#nl.x<...>, ...]`.
class NL_AttrListParam<string attr, string desc>
    : ArrayRefParameter<"::mlir::nl::" # attr, desc> {
  let parser = "::mlir::nl::parseAttrList<::mlir::nl::" # attr # ">($_parser)";
  let printer = "::mlir::nl::printAttrList($_printer, $_self)";
}

def NL_ABITensorAttr : NL_Attr<"ABITensor", "abi_tensor"> {
  let summary = "one tensor of a compiled model: what it holds and its place";
  let description = [{
    A parameter, a level's state, or a buffer the runtime holds for the
    compiled code, in the order of the C ABI (an element of `#nl.abi`'s
    `params` or `state`). `name` is the manifest's, for people and files
    only: the compiler finds a tensor by its `kind` and fields.

    * `kind`: what it holds (`ABIKind`: `param`, `state`, `kv_keys`,
      `kv_values`, `kv_pos`, `kv_fill`, `accumulator`, `defer_dy`,
      `defer_x`, `defer_count`, `omega_keys`, `omega_values`, `omega_lr`,
      `omega_pos`, `omega_fill`, `m3_pending`, `m3_o2`, `gate_lr`,
      `gate_retain`, `gate_momentum_decay`, `history`). The counts
      (`kv_pos`, `kv_fill`, `defer_count`, `omega_pos`, `omega_fill`) are
      `i32` of shape `[1]` and give their largest valid value `max`; every
      other tensor is `f32`.
    * `level`: the index of the level that owns it (its tail policy and
      resets apply); absent for parameters and convolution histories.
    * `state`: the `nl.state` it stores (`state`, `kv_*`); `part`: the
      tensor of an MLP memory (`state`, `accumulator`, `defer_dy`,
      `defer_x`); `of`: the level whose update a `gate_*` comes from, or
      the `m3` level a `m3_pending` sum belongs to; `index`: the
      convolution of a `history`, in step order; `role`: the role of a
      bookkeeping `nl.state` (`accumulator`, `gate`, `snapshot`).
    * `init`: its initializer (zeros when absent).

    Example:
    ```mlir
    #nl.abi_tensor<"memory.M", state, [4, 16, 16], level = 0, state = @M,
                   init = #nl.zeros>
    #nl.abi_tensor<"memory.__gate.memory.lr", gate_lr, [4], level = 0,
                   of = @memory>
    #nl.abi_tensor<"cache.kv.pos", kv_pos, [1], level = 1, state = @kv,
                   max = 15>
    ```
  }];
  let parameters = (ins StringRefParameter<"the manifest's name">:$name,
                        NL_EnumParameter<NL_ABIKind>:$kind,
                        NL_ShapeParam:$shape,
                        NL_OptIntParam:$level,
                        OptionalParameter<"::mlir::FlatSymbolRefAttr">:$state,
                        StringRefParameter<"an MLP tensor", "\"\"">:$part,
                        OptionalParameter<"::mlir::FlatSymbolRefAttr">:$of,
                        NL_OptIntParam:$index,
                        OptionalParameter<"std::optional<::mlir::nl::StateRole>">:$role,
                        NL_OptIntParam:$max,
                        OptionalParameter<"::mlir::Attribute">:$init);
  let assemblyFormat = [{
    `<` $name `,` $kind `,` $shape (`,` struct($level, $state, $part, $of,
    $index, $role, $max, $init)^)? `>`
  }];
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Whether it is an i32 count (else f32).
    bool isCounter() const;
  }];
}

def NL_ABILevelAttr : NL_Attr<"ABILevel", "abi_level"> {
  let summary = "one level of a compiled model, as its runtime clock sees it";
  let description = [{
    A level of `#nl.abi`, in the order of the bits of the entry points'
    `active` and `fire` masks: its `period` (tokens between two fires, 0
    for a level that never learns online, 1 for a KV cache, which is
    `infinite`), its `tail` policy, its position `order` in the step's
    update order, and its `rule`, when it has one (the manifest prints it).

    Example:
    `#nl.abi_level<"memory", period = 16, tail = flush, order = 0, rule = #nl.rule<objective = l2>>`
  }];
  let parameters = (ins StringRefParameter<"the level's symbol">:$name,
                        "int64_t":$period,
                        DefaultValuedParameter<"bool", "false">:$infinite,
                        EnumParameter<NL_TailPolicy>:$tail,
                        "int64_t":$order,
                        OptionalParameter<"::mlir::nl::RuleAttr">:$rule);
  let assemblyFormat = [{
    `<` $name `,` struct($period, $infinite, $tail, $order, $rule) `>`
  }];
  let genVerifyDecl = 1;
}

def NL_EntryPointAttr : NL_Attr<"EntryPoint", "entry_point"> {
  let summary = "an entry point of a compiled model and its arguments";
  let description = [{
    A C function (or CUDA kernel) of a compiled model: its `symbol`, what
    it runs (`kind`: `step`, `flush`, `chunk` for `tokens` tokens at
    once, or `backward`) and the counts of its argument groups: `params`
    and `state` pointers, then for a step, chunk or backward the input and
    `outputs` pointers (a backward's are the outputs' cotangents), the
    `active` mask, and always the `fire` mask; a backward then takes
    `params` gradient pointers, `state` adjoint pointers and the input's
    cotangent; `head`: an entry of the
    model of one head (nl-split-heads: its step and chunk entry), which
    takes the head index last.

    An element of `#nl.abi`'s `entry_points`, and, under the name
    `nl.entry_point`, the attribute of the function `nl-to-loops` emits for
    it, which `nl-export-c-abi` and `nl-map-to-gpu` read.

    Example:
    ```mlir
    func.func @m_step_impl(...) attributes {
        nl.entry_point = #nl.entry_point<"nl_m_step", step, params = 3,
                                         state = 5, outputs = 1>}
    ```
  }];
  let parameters = (ins StringRefParameter<"the C symbol">:$symbol,
                        NL_EnumParameter<NL_EntryKind>:$kind,
                        "int64_t":$params, "int64_t":$state,
                        "int64_t":$outputs,
                        DefaultValuedParameter<"int64_t", "0">:$tokens,
                        DefaultValuedParameter<"bool", "false">:$head);
  let assemblyFormat = [{
    `<` $symbol `,` $kind `,` struct($params, $state, $outputs, $tokens,
    $head) `>`
  }];
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The C symbol of the entry point of `kind` of model `model`:
    /// `nl_<model>_step`, `nl_<model>_flush`, `nl_<model>_chunk`.
    static std::string getSymbolFor(::llvm::StringRef model, EntryKind kind);
  }];
}

def NL_ABIAttr : NL_Attr<"ABI", "abi"> {
  let summary = "the ABI of a compiled model: its tensors, levels and entry points";
  let description = [{
    Attached to an `nl.model` as `nl.abi` by `nl-materialize-abi` (once per
    model: `nl-split-heads` gives the model of one head its own, `nl-chunk`
    adds the chunk entry it writes), and read by every later consumer: the
    lowering (`nl-to-loops`), the driver's manifest writer and checks, and
    `nl-split-heads`'s check of the model of one head. It lists, in the
    order of the C ABI, the model's `params` and `state` tensors
    (`#nl.abi_tensor`: one stream's levels' states and the buffers the
    compiled code needs), the `outputs` of the step, the `levels` in the
    order of the mask bits (`#nl.abi_level`) and the `entry_points`
    (`#nl.entry_point`). It is verified against the model it is attached
    to (the model's name, parameters, levels and chunk entry).

    Example:
    ```mlir
    nl.model @m dim 8 attributes {nl.abi = #nl.abi<"m", dim = 8,
        hyper_period = 1,
        levels = [#nl.abi_level<"memory", period = 1, tail = carry,
                                order = 0, rule = #nl.rule<objective = l2>>],
        params = [#nl.abi_tensor<"W", param, [8, 8], init = #nl.normal<std = 0.02>>],
        state = [#nl.abi_tensor<"memory.M", state, [8, 8], level = 0, state = @M>,
                 #nl.abi_tensor<"memory.__acc", accumulator, [8, 8], level = 0>],
        outputs = [[8]],
        entry_points = [
          #nl.entry_point<"nl_m_step", step, params = 1, state = 2, outputs = 1>,
          #nl.entry_point<"nl_m_flush", flush, params = 1, state = 2, outputs = 0>]>} {
      ...
    }
    ```
  }];
  let parameters = (ins StringRefParameter<"the model's symbol">:$model,
                        "int64_t":$dim, "int64_t":$hyper_period,
                        NL_AttrListParam<"ABILevelAttr", "levels">:$levels,
                        NL_AttrListParam<"ABITensorAttr", "parameters">:$params,
                        NL_AttrListParam<"ABITensorAttr", "state">:$state,
                        NL_ShapeListParam:$outputs,
                        NL_AttrListParam<"EntryPointAttr",
                                         "entry points">:$entry_points);
  let assemblyFormat = [{
    `<` $model `,` struct($dim, $hyper_period, $levels, $params, $state,
    $outputs, $entry_points) `>`
  }];
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The entry point of `kind`, or null.
    EntryPointAttr getEntryPoint(EntryKind kind) const;
    /// This ABI with the chunk entry of `tokens` tokens (none for 0): what
    /// nl-chunk records when it adds or removes a model's chunk form.
    ABIAttr withChunkEntry(int64_t tokens) const;
  }];
}

def NL_KernelAttr : NL_Attr<"Kernel", "kernel"> {
  let summary = "how a CUDA kernel of a compiled model is launched";
  let description = [{
    Attached to each kernel `nl-map-to-gpu` writes, as `nl.kernel`: the
    entry point it runs (`kind`: the `step` of all tokens of a call, or the
    `flush`), the threads of its block (`block_size`), the bytes of global
    scratch one block needs (`scratch_bytes`, 0 when it fits in shared
    memory), and, until `nl-bare-kernel-args` has turned them into bare
    pointers, which kernel arguments are buffers (`buffer_args`). The PTX
    serialization and the CUDA source writer read the first three.

    Example:
    `#nl.kernel<step, block_size = 512, scratch_bytes = 0, buffer_args = [true, true, false]>`
  }];
  let parameters = (ins NL_EnumParameter<NL_EntryKind>:$kind,
                        "int64_t":$block_size, "int64_t":$scratch_bytes,
                        NL_BoolListParam:$buffer_args);
  let assemblyFormat = [{
    `<` $kind `,` struct($block_size, $scratch_bytes, $buffer_args) `>`
  }];
  let genVerifyDecl = 1;
}

#endif // NL_ATTRS_TD
