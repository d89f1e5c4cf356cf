//===- NLOps.td - Operations of the nl dialect ------------*- tablegen -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#ifndef NL_OPS_TD
#define NL_OPS_TD

include "mlir/IR/BuiltinAttributes.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/RegionKindInterface.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "nl/IR/NLAttrs.td"
include "nl/IR/NLDialect.td"
include "nl/IR/NLTypes.td"

def NL_StateType : AnyTypeOf<[NL_MemoryTypeInterface, AnyStaticShapeTensor],
                             "a memory type or a static tensor">;
def NL_Tensor : RankedTensorOf<[F32]>;
// A state's storage: f32 values, or the i32 counts of ring buffers.
def NL_AnyTensor : RankedTensorOf<[F32, I32]>;

//===----------------------------------------------------------------------===//
// Structure: model, parameters, levels, states, transfers
//===----------------------------------------------------------------------===//

def NL_ModelOp : NL_Op<"model", [
    IsolatedFromAbove, Symbol, SymbolTable, GraphRegionNoTerminator,
    NoRegionArguments]> {
  let summary = "a nested-learning model: parameters, levels and one step";
  let description = [{
    The container of one model and the symbol table for its parameters and
    levels. `dim` is the width of one input token; `heads` the number of
    heads its memories are split into. `head_split = H` marks the model
    `nl-split-heads` derives from a model of `H` heads: one of its heads,
    whose step learns and reads head `nl.head_index` of every memory. The
    body holds `nl.param`,
    `nl.level` and `nl.transfer` ops in any order, exactly one `nl.step`,
    and at most one `nl.chunk_step` and one `nl.backward_step`.

    The verifier checks what needs the whole model: one update per level and
    step, optimizer levels (`via`) that match the level they serve, the
    period of every `init` transfer, and that no two levels need each
    other's state of the same step (a dependency cycle).

    Example:
    ```mlir
    nl.model @linear_attention attributes {dim = 64} {
      nl.param @W_k : tensor<64x64xf32> = #nl.normal<std = 0.02>
      nl.level @memory period 1 rule <objective = dot> {
        nl.state @S : !nl.matrix<64x64xf32> = #nl.zeros
      }
      nl.step(%x : tensor<64xf32>) -> tensor<64xf32> {
        %Wk = nl.get_param @W_k : tensor<64x64xf32>
        %k = nl.linear %x, %Wk : (tensor<64xf32>, tensor<64x64xf32>) -> tensor<64xf32>
        %one = arith.constant dense<1.0> : tensor<f32>
        nl.update @memory key(%k : tensor<64xf32>) value(%x : tensor<64xf32>) lr(%one : tensor<f32>)
        %y = nl.read @memory(%k) : tensor<64xf32> -> tensor<64xf32>
        nl.yield %y : tensor<64xf32>
      }
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       ConfinedAttr<I64Attr, [IntMinValue<1>]>:$dim,
                       DefaultValuedAttr<ConfinedAttr<I64Attr, [IntMinValue<1>]>, "1">:$heads,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntMinValue<1>]>>:$hyper_period,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntMinValue<2>]>>:$head_split);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$sym_name attr-dict-with-keyword $body";
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    /// The model's single step, or null if the model is malformed.
    StepOp getStep();
    /// The chunk-parallel form of the step (`nl-chunk`), or null.
    ChunkStepOp getChunkStep();
    /// The reverse of the step (`nl-derive-backward`), or null.
    BackwardStepOp getBackwardStep();
    /// Levels, parameters and transfers in body order.
    auto getLevels() { return getBody().getOps<LevelOp>(); }
    auto getParams() { return getBody().getOps<ParamOp>(); }
    auto getTransfers() { return getBody().getOps<TransferOp>(); }
    LevelOp lookupLevel(::llvm::StringRef name);
  }];
}

def NL_ParamOp : NL_Op<"param", [Symbol, HasParent<"ModelOp">]> {
  let summary = "a slow weight of the model, with its initializer";
  let description = [{
    A parameter (slow weight) that the online levels read but do not update:
    projections, gate weights, norm gains. Its tensor type is static and its
    initializer is required: `#nl.zeros`, `#nl.ones`, `#nl.fill<v>`,
    `#nl.normal<std = s>`, `#nl.uniform<low = a, high = b>`,
    `#nl.identity` or `#nl.from_file<"name">`.

    Example:
    ```mlir
    nl.param @W_q : tensor<64x64xf32> = #nl.normal<std = 0.02>
    nl.param @W_o : tensor<64x64xf32> = #nl.from_file<"block0.W_o">
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       TypeAttrOf<AnyStaticShapeTensor>:$type,
                       OptionalAttr<NL_InitializerAttrInterface>:$init);
  let assemblyFormat = "$sym_name `:` $type (`=` $init^)? attr-dict";
  let hasVerifier = 1;
}

def NL_LevelOp : NL_Op<"level", [
    Symbol, SymbolTable, HasParent<"ModelOp">, GraphRegionNoTerminator,
    NoRegionArguments]> {
  let summary = "a level: state, learning rule and update period";
  let description = [{
    A level of the nested system: one or more states (its first `nl.state`
    is the memory that `nl.read` and `nl.update` address), the learning rule
    that updates them, and the period after which an update is applied
    (`period 16`, `period inf`, `period frozen`).

    * `phase`: `online` levels learn inside `nl.step` while the model
      serves; `offline` levels learn only in an offline phase (consolidation,
      pre-training) and may not be updated in `nl.step`.
    * `tail`: what happens to a partial chunk at the end of a call: `carry`
      (default; the next call continues the chunk, so streaming equals one
      long call), `flush` (apply it as a short chunk) or `drop` (ambiguity
      A12).
    * `rule`: required for every level that learns, absent for a
      non-parametric level (`period inf`, a KV cache).

    An optimizer is a level like any other: a momentum buffer is a level
    whose context is the gradient of the level it serves (named in that
    level's `via`).

    Example: a Titans memory whose momentum is its own level.
    ```mlir
    nl.level @S period 1 rule <objective = linear, retention = decay> {
      nl.state @buf : !nl.matrix<64x64xf32> = #nl.zeros
    }
    nl.level @M period 1 rule <objective = l2, retention = decay, algorithm = momentum, via = [@S]> {
      nl.state @mem : !nl.matrix<64x64xf32> = #nl.zeros
    }
    ```
  }];
  let arguments = (ins
    SymbolNameAttr:$sym_name,
    NL_PeriodAttr:$period,
    DefaultValuedAttr<NL_Phase, "::mlir::nl::Phase::online">:$phase,
    DefaultValuedAttr<NL_TailPolicy, "::mlir::nl::TailPolicy::carry">:$tail,
    OptionalAttr<NL_RuleAttr>:$rule,
    OptionalAttr<NL_ScheduleAttr>:$schedule);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $sym_name `period` custom<Period>($period) (`phase` $phase^)?
    (`tail` $tail^)? (`rule` $rule^)? attr-dict-with-keyword $body
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The states of the level, in order.
    auto getStates() { return getBody().getOps<StateOp>(); }
    /// The memory addressed by nl.read / nl.update (the first state).
    StateOp getMemory();
    /// The level that names this one in its rule's `via` (this level keeps
    /// its optimizer's memory), or null.
    LevelOp getServedLevel();
    /// Whether the level learns in nl.step.
    bool learnsOnline() {
      return !getPeriod().isFrozen() && getPhase() == Phase::online;
    }
  }];
}

def NL_StateOp : NL_Op<"state", [Symbol, HasParent<"LevelOp">]> {
  let summary = "a state tensor of a level, with its initial value";
  let description = [{
    One piece of a level's state: a memory (`!nl.matrix`, `!nl.mlp`,
    `!nl.kv_cache`) or a buffer (a static tensor, e.g. a moment buffer of a
    fused optimizer). The initializer is required, except for a KV cache,
    which starts empty. States are checkpointed by the runtime.

    Example:
    ```mlir
    nl.state @M : !nl.mlp<[64, 256, 64], silu, residual> = #nl.normal<std = 0.02>
    nl.state @cache : !nl.kv_cache<key = 64, value = 64, window = 128>
    nl.state @__acc : tensor<64x64xf32> = #nl.zeros role accumulator
    ```

    `role` marks the bookkeeping buffers `nl-expand-updates` makes explicit
    (see `StateRole`); the runtime zeroes them when a pending chunk is
    dropped, and a reset discards them.
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       TypeAttrOf<NL_StateType>:$type,
                       OptionalAttr<NL_InitializerAttrInterface>:$init,
                       OptionalAttr<NL_StateRole>:$role);
  let assemblyFormat = [{
    $sym_name `:` $type (`=` $init^)? (`role` $role^)? attr-dict
  }];
  let hasVerifier = 1;
}

def NL_TransferOp : NL_Op<"transfer", [
    HasParent<"ModelOp">, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "a knowledge-transfer edge between two levels";
  let description = [{
    Declares how knowledge moves from level `from` to level `to` (Nested
    Learning §3.3). Only `init ... reset` changes the compiled code; the
    other kinds are declarations the verifier checks (both ends are levels,
    one edge per kind and pair, the rules below) and the back ends ignore:
    the generated code is the same without them. (A model with any transfer
    gets no per-head form from `nl-split-heads`.)

    * `parametric`: `to` is conditioned on the state of `from` (its reads
      feed `to`'s keys, values or gates in the step); no gradient crosses.
    * `nonparametric`: the same for a `from` that is a KV-cache level.
    * `backprop`: names CMS's "one gradient flow at two frequencies", but no
      gradient crosses the edge: each level descends its own objective on
      its own update's key and value. Both ends must be parametric levels.
    * `init`: the period of `to` must divide the period of `from`. Without
      `reset`, a declaration (nothing meta-learns `to`'s initial state);
      with `reset`, `to`'s memory (and its pending chunk) becomes a copy of
      `from`'s whenever `from` applies a chunk (nested CMS); both memories
      have one type.
    * `generation`: `from` generates `to`'s context or weights, through the
      step's dataflow.

    Example:
    ```mlir
    nl.transfer init @slow -> @fast reset
    nl.transfer backprop @cms1 -> @cms0
    ```
  }];
  let arguments = (ins NL_TransferKind:$kind, FlatSymbolRefAttr:$from,
                       FlatSymbolRefAttr:$to, UnitAttr:$reset);
  let assemblyFormat = "$kind $from `->` $to (`reset` $reset^)? attr-dict";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// The time step
//===----------------------------------------------------------------------===//

def NL_StepOp : NL_Op<"step", [
    IsolatedFromAbove, HasParent<"ModelOp">, SingleBlock]> {
  let summary = "the computation of one time step on one token";
  let description = [{
    The body runs once per token: its argument is the token (a
    `tensor<dim x f32>`), `nl.read` and `nl.update` address levels by symbol,
    and `nl.yield` returns the step's outputs. Within one step, the update
    order of levels is fixed by their dependencies (see
    `nl-verify-schedule`), and a read sees the state before or after its
    level's write of this step as the level's rule says (`read`).

    Example:
    ```mlir
    nl.step(%x : tensor<64xf32>) -> tensor<64xf32> {
      %y = nl.read @memory(%x) : tensor<64xf32> -> tensor<64xf32>
      nl.yield %y : tensor<64xf32>
    }
    ```
  }];
  let arguments = (ins TypeArrayAttr:$output_types);
  let regions = (region SizedRegion<1>:$body);
  let hasCustomAssemblyFormat = 1;
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    /// The token of this step (the body's single argument).
    ::mlir::BlockArgument getInput() { return getBody().getArgument(0); }
    /// The types nl.yield returns.
    ::llvm::SmallVector<::mlir::Type> getOutputTypeList() {
      return ::llvm::to_vector(getOutputTypes().getAsValueRange<::mlir::TypeAttr>());
    }
  }];
}

def NL_YieldOp : NL_Op<"yield", [
    Pure, ReturnLike, Terminator,
    ParentOneOf<["StepOp", "ChunkStepOp", "GradOp", "RowsOp", "BackwardStepOp"]>]> {
  let summary = "returns the outputs of a step or the objective of nl.grad";
  let description = [{
    Ends `nl.step` (or `nl.chunk_step`) and returns the step's outputs,
    whose types must match the types the step declares; or ends the body of `nl.grad` with the
    scalar objective (`tensor<f32>`) being differentiated; or ends the body
    of `nl.rows` with one token's row of each of its results.

    Example: `nl.yield %y : tensor<64xf32>`
  }];
  let arguments = (ins Variadic<AnyType>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Reading and writing levels
//===----------------------------------------------------------------------===//

def NL_ReadOp : NL_Op<"read", [DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "read a level's memory at a query";
  let description = [{
    Applies the memory of `level` to `query`: `M q` for a matrix memory, the
    MLP for an MLP memory, softmax attention over the cache for a KV cache.
    Whether it sees this step's write is the level's `read` order. With
    several heads the query and the result have a leading `heads` dimension.

    Example:
    ```mlir
    %y = nl.read @memory(%q) : tensor<64xf32> -> tensor<64xf32>
    %o = nl.read @attn(%qh) : tensor<4x16xf32> -> tensor<4x16xf32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$level, NL_Tensor:$query);
  let results = (outs NL_Tensor:$result);
  let assemblyFormat = [{
    $level `(` $query `)` attr-dict `:` type($query) `->` type($result)
  }];
}

def NL_UpdateOp : NL_Op<"update", [
    AttrSizedOperandSegments, ParentOneOf<["StepOp", "RowsOp"]>,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "feed one token of context and the gates to a level";
  let description = [{
    Gives `level` this step's context and gates. It sits directly in the
    step body (never under control flow), so every level is fed exactly once
    per token. The level's rule decides
    what happens: a per-token level (period 1) updates now; a level of
    period C accumulates and applies its update after every C tokens.

    Context, by the level's objective:
    * `dot`, `l2`, `lp`, `huber`: `key` and `value`;
    * `linear`: `grad`, a gradient of the memory's shape;
    * an MLP memory after `nl-expand-mlp`: `grad`, one gradient per stored
      tensor (`w0`, `b0`, `w1`, ...), already including the preconditioner;
    * a KV cache (`period inf`): `key` and `value`, appended;
    * an optimizer level named in another level's `via`: none, its context
      is the gradient of the level it serves.

    Gates: `lr` (step size, required by every learning level), `retain`
    (required with `retention = decay`), `momentum_decay` (required by a
    fused `momentum`/`muon` rule), `delta_scale` (optional, `huber` only:
    this token's threshold is the rule's `huber_delta` times it, Yaad's
    data-dependent delta_t; a scalar or one value per head). A gate is a scalar (`tensor<f32>`,
    `tensor<1xf32>`), one value per head, or one value per key channel. For
    a level whose algorithm lives in `via` levels, the optimizer level's `lr`
    scales the gradient it receives and this level's `lr` scales the
    optimizer's output as it is applied.

    Example:
    ```mlir
    nl.update @memory key(%k : tensor<64xf32>) value(%v : tensor<64xf32>)
        lr(%lr : tensor<f32>) retain(%a : tensor<f32>)
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$level,
                       Optional<NL_Tensor>:$key,
                       Optional<NL_Tensor>:$value,
                       Variadic<NL_Tensor>:$grad,
                       Optional<NL_Tensor>:$lr,
                       Optional<NL_Tensor>:$retain,
                       Optional<NL_Tensor>:$momentum_decay,
                       Optional<NL_Tensor>:$delta_scale);
  let assemblyFormat = [{
    $level
    (`key` `(` $key^ `:` type($key) `)`)?
    (`value` `(` $value^ `:` type($value) `)`)?
    (`grad` `(` $grad^ `:` type($grad) `)`)?
    (`lr` `(` $lr^ `:` type($lr) `)`)?
    (`retain` `(` $retain^ `:` type($retain) `)`)?
    (`momentum_decay` `(` $momentum_decay^ `:` type($momentum_decay) `)`)?
    (`delta_scale` `(` $delta_scale^ `:` type($delta_scale) `)`)?
    attr-dict
  }];
  let extraClassDeclaration = [{
    /// The (first) gradient context, or null when there is none.
    ::mlir::Value getSingleGrad() {
      return getGrad().empty() ? ::mlir::Value() : getGrad()[0];
    }
  }];
}

//===----------------------------------------------------------------------===//
// Compute
//===----------------------------------------------------------------------===//

def NL_GetParamOp : NL_Op<"get_param", [
    Pure, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "the value of a parameter";
  let description = [{
    Returns the value of the parameter `name`; the result type must be the
    parameter's type.

    Example: `%W = nl.get_param @W_q : tensor<64x64xf32>`
  }];
  let arguments = (ins FlatSymbolRefAttr:$name);
  let results = (outs AnyStaticShapeTensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
}

def NL_LinearOp : NL_Op<"linear", [Pure]> {
  let summary = "a linear projection y = W x (+ b)";
  let description = [{
    Projects the last dimension of `input` (`d_in`) with a weight of shape
    `d_out x d_in`, adding `bias` (`d_out`) if given. Leading dimensions
    (heads) are kept. A weight may carry the input's leading dimensions
    (`heads x d_out x d_in`, one matrix per head; the bias is then
    `heads x d_out`). With `transpose_weight` the weight is applied
    transposed, `y = W^T x` (a weight of shape `d_in x d_out`): the input
    gradient of a projection, as `nl-derive-gradients` writes it.

    Example:
    ```mlir
    %k = nl.linear %x, %W : (tensor<64xf32>, tensor<128x64xf32>) -> tensor<128xf32>
    %g = nl.linear %x, %Wg, %bg : (tensor<64xf32>, tensor<1x64xf32>, tensor<1xf32>) -> tensor<1xf32>
    %h = nl.linear %kh, %W1 : (tensor<4x16xf32>, tensor<4x64x16xf32>) -> tensor<4x64xf32>
    %dx = nl.linear %dy, %W {transpose_weight} : (tensor<128xf32>, tensor<128x64xf32>) -> tensor<64xf32>
    ```
  }];
  let arguments = (ins NL_Tensor:$input, NL_Tensor:$weight,
                       Optional<NL_Tensor>:$bias, UnitAttr:$transpose_weight);
  let results = (outs NL_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

class NL_BinaryOp<string mnemonic, string what> : NL_Op<mnemonic, [Pure]> {
  let summary = "elementwise " # what # " with NumPy broadcasting";
  let description = [{
    Elementwise }] # what # [{ of two f32 tensors. Shapes broadcast as in
    NumPy (trailing dimensions aligned; size-1 and missing dimensions
    stretch), so a scalar gate scales a vector and a per-head gate of shape
    `heads x 1` scales `heads x d`. The result type must be the broadcast
    shape.

    Example:
    ```mlir
    %y = nl.}] # mnemonic # [{ %a, %b : tensor<64xf32>, tensor<f32> -> tensor<64xf32>
    ```
  }];
  let arguments = (ins NL_Tensor:$lhs, NL_Tensor:$rhs);
  let results = (outs NL_Tensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)
  }];
  let hasVerifier = 1;
}

def NL_AddOp : NL_BinaryOp<"add", "sum">;
def NL_SubOp : NL_BinaryOp<"sub", "difference">;
def NL_MulOp : NL_BinaryOp<"mul", "product">;
def NL_DivOp : NL_BinaryOp<"div", "quotient">;

def NL_ActOp : NL_Op<"act", [Pure, SameOperandsAndResultType]> {
  let summary = "an elementwise activation";
  let description = [{
    Applies `kind` elementwise: `identity`, `relu`, `silu`, `gelu` (erf),
    `gelu_tanh`, `sigmoid`, `tanh`, `softplus`, `exp`. Gates are written
    with it, e.g. `lr = sigmoid(W x)`, so the squashing of every gate is
    explicit in the IR (ambiguity A20).

    Example: `%g = nl.act sigmoid %z : tensor<1xf32>`
  }];
  let arguments = (ins NL_Activation:$kind, NL_Tensor:$input);
  let results = (outs NL_Tensor:$result);
  let assemblyFormat = "$kind $input attr-dict `:` type($input)";
}

def NL_NormOp : NL_Op<"norm", [Pure, AttrSizedOperandSegments]> {
  let summary = "l2, layer or RMS normalization over the last dimension";
  let description = [{
    Normalizes the last dimension of `input`:
    * `l2`: `x / max(||x||, eps)` (no scale or shift);
    * `layer`: `(x - mean) / sqrt(var + eps) * scale + shift`;
    * `rms`: `x / sqrt(mean(x^2) + eps) * scale`.
    `scale` and `shift` are optional vectors of the last dimension's size.

    Example:
    ```mlir
    %qn = nl.norm l2 %q : (tensor<64xf32>) -> tensor<64xf32>
    %h = nl.norm layer %x scale %g shift %b {eps = 1.0e-05 : f64}
        : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32>
    ```
  }];
  let arguments = (ins NL_NormKind:$kind, NL_Tensor:$input,
                       Optional<NL_Tensor>:$scale, Optional<NL_Tensor>:$shift,
                       DefaultValuedAttr<F64Attr, "1e-6">:$eps);
  let results = (outs NL_Tensor:$result);
  let assemblyFormat = [{
    $kind $input (`scale` $scale^)? (`shift` $shift^)? attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def NL_ConvOp : NL_Op<"conv", []> {
  let summary = "a short causal depthwise convolution over time";
  let description = [{
    `y_t = sum_{i < w} weight[i] * x_{t-i}` per channel, where `w` is the
    first dimension of `weight` (`w x channels`). The last `w - 1` inputs are
    streaming state: lowering turns them into a buffer that the runtime
    checkpoints with the levels, and the first tokens of a stream see zeros
    before them. Not `Pure`: it reads and writes that history.

    Example:
    ```mlir
    %kc = nl.conv %k, %Wc : (tensor<64xf32>, tensor<4x64xf32>) -> tensor<64xf32>
    ```
  }];
  let arguments = (ins NL_Tensor:$input, NL_Tensor:$weight);
  let results = (outs NL_Tensor:$result);
  let assemblyFormat = "$input `,` $weight attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Differentiation
//===----------------------------------------------------------------------===//

def NL_WeightsOp : NL_Op<"weights", [
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "the stored tensors of a level's memory, as values";
  let description = [{
    Returns the tensors of the MLP memory of `level` (`w0`, `b0`, `w1`, ...;
    see `!nl.mlp`), or the one tensor of its matrix memory
    (`[heads?, rows, cols]`; in `nl.chunk_step`, the chunk-start state),
    optionally followed by the level's other states (a fused momentum
    buffer), so that a read or an objective can be written with compute
    ops and differentiated. Without `after_write` the values are the state
    before this step's write of the level (on a chunked level, the
    chunk-start state until the chunk is applied); with it, after the write.
    With `chunk_prefix` as well (a level with `read = chunk_prefix`), each
    tensor is the stored one minus the chunk's pending lr-weighted gradient
    sum, this token's included (TTT's in-mini-batch weights).
    `nl-expand-mlp` writes this op; the back ends lower it to views of the
    state (copying only for `chunk_prefix`).

    Example:
    ```mlir
    %w0, %w1 = nl.weights @M : tensor<256x64xf32>, tensor<64x256xf32>
    %v0, %v1 = nl.weights @M after_write : tensor<256x64xf32>, tensor<64x256xf32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$level, UnitAttr:$after_write,
                       UnitAttr:$chunk_prefix);
  let results = (outs Variadic<NL_Tensor>:$results);
  let assemblyFormat = [{
    $level (`after_write` $after_write^)? (`chunk_prefix` $chunk_prefix^)?
    attr-dict `:` type($results)
  }];
  let hasVerifier = 1;
}

def NL_GradOp : NL_Op<"grad", [SingleBlock, RecursiveMemoryEffects]> {
  let summary = "the gradient of a scalar objective, written as a region";
  let description = [{
    The body computes a scalar objective (`tensor<f32>`, returned with
    `nl.yield`) of its block arguments; values from above are constants.
    The results are the gradients of the objective with respect to the block
    arguments, evaluated at the operands `at`, one per argument and of the
    same type. `nl.stop_grad` inside the body marks a value the objective
    does not differentiate through.

    `nl-derive-gradients` replaces the op by the forward computation and its
    reverse-mode derivative (vector-Jacobian products), written with nl
    compute ops, so the back ends never see it.

    Example: the gradient of `1/2 ||W k - v||^2` with respect to W.
    ```mlir
    %g = nl.grad (%W) : tensor<16x16xf32> -> tensor<16x16xf32> {
    ^bb0(%w: tensor<16x16xf32>):
      %y = nl.linear %k, %w : (tensor<16xf32>, tensor<16x16xf32>) -> tensor<16xf32>
      %e = nl.sub %y, %v : tensor<16xf32>, tensor<16xf32> -> tensor<16xf32>
      %s = nl.mul %e, %e : tensor<16xf32>, tensor<16xf32> -> tensor<16xf32>
      %l = nl.sum %s : tensor<16xf32> -> tensor<f32>
      %h = arith.constant dense<5.000000e-01> : tensor<f32>
      %o = nl.mul %l, %h : tensor<f32>, tensor<f32> -> tensor<f32>
      nl.yield %o : tensor<f32>
    }
    ```
  }];
  let arguments = (ins Variadic<NL_Tensor>:$at);
  let results = (outs Variadic<NL_Tensor>:$grads);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    `(` $at `)` `:` type($at) `->` type($grads) attr-dict-with-keyword $body
  }];
  let hasRegionVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [OpBuilder<(ins "::mlir::ValueRange":$at)>];
}

def NL_StopGradOp : NL_Op<"stop_grad", [Pure, SameOperandsAndResultType]> {
  let summary = "identity whose derivative is zero";
  let description = [{
    Returns its input. Inside `nl.grad` the objective is not differentiated
    through it (a stop-gradient point, e.g. a self-generated target).

    With `through %before` (a write of a `write = stop_grad` level in
    `nl.backward_step`, docs/ambiguities.md A24) the value is still the
    input, but the increment `input - before` is what is constant: the
    cotangent of the result reaches `before` unchanged (the state before
    the write keeps an identity path, "fast state = meta + delta") and
    nothing else of the write.

    Example:
    ```mlir
    %t = nl.stop_grad %v : tensor<64xf32>
    %M1 = nl.stop_grad %new through %M : tensor<8x8xf32>
    ```
  }];
  let arguments = (ins NL_Tensor:$input, Optional<NL_Tensor>:$through);
  let results = (outs NL_Tensor:$result);
  let assemblyFormat =
      "$input (`through` $through^)? attr-dict `:` type($input)";
}

def NL_SumOp : NL_Op<"sum", [Pure]> {
  let summary = "sum over the dimensions a shape broadcasts along";
  let description = [{
    Sums `input` down to the result shape, which must broadcast to the
    input's shape (NumPy rules): every input dimension that the result lacks
    or holds as 1 is summed. `tensor<f32>` sums everything. It is the
    adjoint of broadcasting, which is how `nl-derive-gradients` uses it.

    Example:
    ```mlir
    %l = nl.sum %sq : tensor<64xf32> -> tensor<f32>
    %g = nl.sum %d : tensor<4x16xf32> -> tensor<4x1xf32>
    ```
  }];
  let arguments = (ins NL_Tensor:$input);
  let results = (outs NL_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def NL_OuterOp : NL_Op<"outer", [Pure]> {
  let summary = "outer product of the last dimensions, per leading index";
  let description = [{
    `r[..., i, j] = lhs[..., i] * rhs[..., j]`; both operands have the same
    leading dimensions (heads). The weight gradient of `nl.linear`.

    Example:
    ```mlir
    %g = nl.outer %dy, %x : tensor<256xf32>, tensor<64xf32> -> tensor<256x64xf32>
    ```
  }];
  let arguments = (ins NL_Tensor:$lhs, NL_Tensor:$rhs);
  let results = (outs NL_Tensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)
  }];
  let hasVerifier = 1;
}

def NL_ActGradOp : NL_Op<"act_grad", [Pure, SameOperandsAndResultType]> {
  let summary = "the input gradient of an activation";
  let description = [{
    `dx = dy * act'(x)` elementwise, for the activation `kind` of `nl.act`
    taken at `input` (`x`) and the output gradient `grad` (`dy`).

    Example: `%dz = nl.act_grad silu %z, %dh : tensor<256xf32>`
  }];
  let arguments = (ins NL_Activation:$kind, NL_Tensor:$input, NL_Tensor:$grad);
  let results = (outs NL_Tensor:$result);
  let assemblyFormat = "$kind $input `,` $grad attr-dict `:` type($input)";
}

def NL_NormGradOp : NL_Op<"norm_grad", [Pure]> {
  let summary = "the input gradient of a normalization";
  let description = [{
    The vector-Jacobian product of `nl.norm kind` (same `eps`, same optional
    `scale`) at `input`, for the output gradient `grad`, over the last
    dimension. The shift does not change it. The gradients of `scale` and
    `shift` themselves are written with `nl.mul` and `nl.sum`.

    Example:
    ```mlir
    %dx = nl.norm_grad layer %x, %dy {eps = 1.0e-06 : f64}
        : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
    ```
  }];
  let arguments = (ins NL_NormKind:$kind, NL_Tensor:$input, NL_Tensor:$grad,
                       Optional<NL_Tensor>:$scale,
                       DefaultValuedAttr<F64Attr, "1e-6">:$eps);
  let results = (outs NL_Tensor:$result);
  let assemblyFormat = [{
    $kind $input `,` $grad (`scale` $scale^)? attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// The explicit-update form (written by nl-expand-updates)
//===----------------------------------------------------------------------===//

def NL_LoadOp : NL_Op<"load", [MemoryEffects<[MemRead]>,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "the value a state tensor holds at this point of the step";
  let description = [{
    Reads state `@level::@state` as a value of its storage type (a matrix
    memory as `[heads?, rows, cols]`, a buffer as its tensor type; one
    stored tensor of an MLP memory as `@level::@state::@w0`). The
    step's ops run in program order in the explicit-update form, so a load
    sees every `nl.store` to the state above it; a loaded value must not be
    used below a later store of the same state (the back ends lower a load
    to a view of the state, not a copy).

    Example:
    ```mlir
    %M = nl.load @memory::@M : tensor<4x32x32xf32>
    ```
  }];
  let arguments = (ins SymbolRefAttr:$state);
  let results = (outs NL_AnyTensor:$result);
  let assemblyFormat = "$state attr-dict `:` type($result)";
  let extraClassDeclaration = [{
    ::llvm::StringRef getLevelName() { return getState().getRootReference(); }
  }];
}

def NL_StoreOp : NL_Op<"store", [MemoryEffects<[MemWrite]>,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "sets a state tensor to a value";
  let description = [{
    Writes `value` into state `@level::@state`. A store sits in the
    `nl.learn` or `nl.apply` region of `level`, or of a level whose `via`
    names `level` (an optimizer level's moment, applied by the level it
    serves).

    Example:
    ```mlir
    nl.store @memory::@__acc(%acc1 : tensor<32x32xf32>)
    ```
  }];
  let arguments = (ins SymbolRefAttr:$state, NL_AnyTensor:$value);
  let assemblyFormat = "$state `(` $value `:` type($value) `)` attr-dict";
  let extraClassDeclaration = [{
    ::llvm::StringRef getLevelName() { return getState().getRootReference(); }
  }];
}

class NL_GuardOp<string mnemonic> : NL_Op<mnemonic, [
    HasParent<"StepOp">, SingleBlock, NoTerminator, RecursiveMemoryEffects,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let arguments = (ins FlatSymbolRefAttr:$level);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$level $body attr-dict";
}

def NL_LearnOp : NL_GuardOp<"learn"> {
  let summary = "a level's contribution of one token, run while it is active";
  let description = [{
    The ops that feed one token's context to `level`: its gradient (or
    contribution) added to the pending chunk's accumulator, the gates the
    apply will use stored. The region runs when the level is active (the
    runtime's freeze clears it) and may use any value of the step above
    it. At most one per level.

    Example:
    ```mlir
    nl.learn @memory {
      %acc = nl.load @memory::@__acc : tensor<32x32xf32>
      %acc1 = nl.add %acc, %g : tensor<32x32xf32>, tensor<32x32xf32> -> tensor<32x32xf32>
      nl.store @memory::@__acc(%acc1 : tensor<32x32xf32>)
    }
    ```
  }];
}

def NL_ApplyOp : NL_GuardOp<"apply"> {
  let summary = "a level's update at a fire: its pending chunk into its state";
  let description = [{
    The ops that run when the clock fires `level` (the last token of its
    period, and the level is active): its rule turns the accumulated chunk
    into a new memory, moment buffers and optimizer levels included. The
    same region is the level's part of the flush entry, which applies a
    pending chunk at the end of a call (tail `flush`); so the apply of a
    level of period above 1 reads only states (`nl.load`), never a value of
    the step: that is checked. A per-token level's apply may use the
    step's values (it never has a pending chunk). At most one per level,
    after its `nl.learn`.

    Example:
    ```mlir
    nl.apply @memory {
      %M = nl.load @memory::@M : tensor<32x32xf32>
      %acc = nl.load @memory::@__acc : tensor<32x32xf32>
      %M1 = nl.sub %M, %acc : tensor<32x32xf32>, tensor<32x32xf32> -> tensor<32x32xf32>
      nl.store @memory::@M(%M1 : tensor<32x32xf32>)
      %z = arith.constant dense<0.0> : tensor<32x32xf32>
      nl.store @memory::@__acc(%z : tensor<32x32xf32>)
    }
    ```
  }];
}

//===----------------------------------------------------------------------===//
// The backward form (written by nl-derive-backward)
//===----------------------------------------------------------------------===//

def NL_BackwardStepOp : NL_Op<"backward_step", [
    IsolatedFromAbove, HasParent<"ModelOp">, SingleBlock]> {
  let summary = "the vector-Jacobian product of one token of the step";
  let description = [{
    The reverse of one `nl.step` (`nl-derive-backward`): its arguments are
    the step's inputs followed by one cotangent per output of the step; it
    recomputes the token's forward from the state before the token
    (`nl.load`, `nl.history`), then sweeps it in reverse. A state's
    cotangent lives in its adjoint (`nl.adjoint` holds the cotangent of the
    state after the token on entry; `nl.set_adjoint` leaves the cotangent
    of the state before it), a parameter's gradient is added to with
    `nl.param_grad`, and `nl.yield` returns the cotangent of each input.
    The levels' regions of the step become `scf.if` on `nl.runs`, with
    the states they write as results, so the body is dataflow: the primal
    state is never written.

    `checkpoint_every` (K, default 64) and `truncate` (H, default 0: never)
    are the runtime's schedule of backpropagation through time, stated in
    the manifest: the forward keeps the state every K tokens and the
    backward recomputes each segment's states from it; H > 0 stops the
    state's cotangent every H tokens of a call (truncated BPTT).

    Example:
    ```mlir
    nl.backward_step (%x : tensor<8xf32>, %dy : tensor<8xf32>) -> tensor<8xf32> {
      %M = nl.load @memory::@M : tensor<8x8xf32>
      ...
      nl.set_adjoint @memory::@M(%dM : tensor<8x8xf32>)
      nl.param_grad @W_k(%dWk : tensor<8x8xf32>)
      nl.yield %dx : tensor<8xf32>
    }
    ```
  }];
  let arguments = (ins TypeArrayAttr:$input_types,
                       DefaultValuedAttr<I64Attr, "64">:$checkpoint_every,
                       DefaultValuedAttr<I64Attr, "0">:$truncate);
  let regions = (region SizedRegion<1>:$body);
  let hasCustomAssemblyFormat = 1;
  let hasRegionVerifier = 1;
}

def NL_RunsOp : NL_Op<"runs", [Pure,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "whether a level's nl.learn (or nl.apply) runs on this token";
  let description = [{
    In `nl.backward_step`: true when the step's `nl.learn` region of
    `level` runs on this token (the level is active), or with `apply`, its
    `nl.apply` region (active, and the clock fires it). The condition of
    the `scf.if` the regions become.

    Example:
    ```mlir
    %fires = nl.runs @memory apply
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$level, UnitAttr:$apply);
  let results = (outs I1:$result);
  let assemblyFormat = "$level (`apply` $apply^)? attr-dict";
}

def NL_HistoryOp : NL_Op<"history", [MemoryEffects<[MemRead]>]> {
  let summary = "the history of a short convolution before this token";
  let description = [{
    In `nl.backward_step`: the last `w - 1` inputs of the `index`-th
    `nl.conv` of the step (in step order), row `j` holding the input of
    `j + 1` tokens ago, as the step saw them before this token.

    Example:
    ```mlir
    %h = nl.history 0 : tensor<3x64xf32>
    ```
  }];
  let arguments = (ins ConfinedAttr<I64Attr, [IntNonNegative]>:$index);
  let results = (outs NL_Tensor:$result);
  let assemblyFormat = "$index attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def NL_AdjointOp : NL_Op<"adjoint", [MemoryEffects<[MemRead]>,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "the cotangent of a state after this token";
  let description = [{
    In `nl.backward_step`: the adjoint of state `@level::@state` (or of the
    `history`-th convolution's history), which holds the cotangent of the
    state after the token when the backward of the token starts.

    Example:
    ```mlir
    %dM = nl.adjoint @memory::@M : tensor<8x8xf32>
    %dh = nl.adjoint history 0 : tensor<3x64xf32>
    ```
  }];
  let arguments = (ins OptionalAttr<SymbolRefAttr>:$state,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntNonNegative]>>:$history);
  let results = (outs NL_AnyTensor:$result);
  let assemblyFormat = "($state^)? (`history` $history^)? attr-dict `:` type($result)";
}

def NL_SetAdjointOp : NL_Op<"set_adjoint", [MemoryEffects<[MemWrite]>,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "leaves the cotangent of a state before this token";
  let description = [{
    In `nl.backward_step`: sets the adjoint of state `@level::@state` (or
    of a convolution's history) to `value`, the cotangent of the state
    before the token, which the backward of the previous token starts
    from. Written once per adjoint, after the sweep.

    Example:
    ```mlir
    nl.set_adjoint @memory::@M(%dM0 : tensor<8x8xf32>)
    ```
  }];
  let arguments = (ins OptionalAttr<SymbolRefAttr>:$state,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntNonNegative]>>:$history,
                       NL_AnyTensor:$value);
  let assemblyFormat = [{
    ($state^)? (`history` $history^)? `(` $value `:` type($value) `)` attr-dict
  }];
}

def NL_ParamGradOp : NL_Op<"param_grad", [MemoryEffects<[MemWrite]>,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "adds to a parameter's gradient";
  let description = [{
    In `nl.backward_step`: adds `value`, this token's contribution, to the
    gradient of parameter `param`, which sums over the tokens and streams
    of a backward call.

    Example:
    ```mlir
    nl.param_grad @W_k(%dWk : tensor<8x8xf32>)
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$param, NL_Tensor:$value);
  let assemblyFormat = "$param `(` $value `:` type($value) `)` attr-dict";
}

//===----------------------------------------------------------------------===//
// The chunk-parallel form (written by nl-chunk)
//===----------------------------------------------------------------------===//

def NL_ChunkStepOp : NL_Op<"chunk_step", [
    IsolatedFromAbove, HasParent<"ModelOp">, SingleBlock]> {
  let summary = "the computation of one whole chunk of tokens at once";
  let description = [{
    An alternative body for `size` consecutive tokens that start a chunk of
    every learning level of the model: its argument holds the tokens
    (`tensor<size x dim x f32>`) and `nl.yield` returns every output of
    the step for each of them (a leading `size` dimension). A level's
    state at the chunk start is read with `nl.weights`; `nl.assign` gives
    the state the level holds after the chunk (the level fires on the
    chunk's last token); `nl.accumulate` adds to the pending chunk of a
    slower level, which fires where its period ends; `nl.rows` runs the
    ops of a level that learns every token token by token. The
    computation is the model's `nl.step` run
    `size` times, rewritten as products of matrices (`nl.matmul`) with
    causal masks (`nl.tril`) instead of one rank-1 update per token;
    `nl-chunk` writes it and keeps the step, which the runtime uses for the
    tokens that do not form a whole chunk (a call's tail, a chunk begun in
    an earlier call, a frozen level).

    Example:
    ```mlir
    nl.chunk_step size 16 (%X : tensor<16x192xf32>) -> tensor<16x64xf32> {
      ...
      nl.assign @M(%M1 : tensor<64x64xf32>)
      nl.yield %O : tensor<16x64xf32>
    }
    ```
  }];
  let arguments = (ins ConfinedAttr<I64Attr, [IntMinValue<2>]>:$size,
                       TypeArrayAttr:$output_types);
  let regions = (region SizedRegion<1>:$body);
  let hasCustomAssemblyFormat = 1;
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    /// The tokens of the chunk (the body's single argument).
    ::mlir::BlockArgument getInput() { return getBody().getArgument(0); }
    /// The types nl.yield returns.
    ::llvm::SmallVector<::mlir::Type> getOutputTypeList() {
      return ::llvm::to_vector(getOutputTypes().getAsValueRange<::mlir::TypeAttr>());
    }
  }];
}

def NL_AssignOp : NL_Op<"assign", [
    HasParent<"ChunkStepOp">, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "the state a level holds after the chunk";
  let description = [{
    Inside `nl.chunk_step`: the memory of `level` becomes `values` (one
    tensor per stored tensor, as `nl.weights` returns them; a matrix level
    may list its other states after the memory) at the end of
    the chunk, that is, the level fires on the chunk's last token. Reads
    within the chunk are computed from the chunk-start state. A level is
    assigned at most once per chunk.

    Example:
    ```mlir
    nl.assign @M(%M1 : tensor<4x32x32xf32>)
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$level, Variadic<NL_Tensor>:$values);
  let assemblyFormat = [{
    $level `(` $values `:` type($values) `)` attr-dict
  }];
}

def NL_AccumulateOp : NL_Op<"accumulate", [
    HasParent<"ChunkStepOp">, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "adds a chunk's update to a slower level's pending chunk";
  let description = [{
    Inside `nl.chunk_step`, for an MLP level whose period is a multiple of
    the chunk's size, larger than it (a slower level of a multi-rate
    model): `steps` (one per stored tensor, the chunk's summed lr-weighted
    gradients, as `nl.weights` returns the tensors) join the level's
    pending chunk at the end of the chunk. When the level fires on the
    chunk's last token (its period ends there), its rule then applies the
    whole pending chunk, exactly as the per-token step does. The runtime
    starts a chunk only where it does not straddle the level's period.
    Reads within the chunk see the state of the chunk start; a read after
    the write on the chunk's last token adds `nl.pending` and `nl.fires`.
    A level is accumulated or assigned at most once per chunk.

    Example:
    ```mlir
    nl.accumulate @slow(%G0, %G1 : tensor<1024x256xf32>, tensor<256x1024xf32>)
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$level, Variadic<NL_Tensor>:$steps);
  let assemblyFormat = [{
    $level `(` $steps `:` type($steps) `)` attr-dict
  }];
}

def NL_PendingOp : NL_Op<"pending", [
    HasParent<"ChunkStepOp">, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "the pending update of a slower level at the chunk start";
  let description = [{
    Inside `nl.chunk_step`: the lr-weighted gradient sums a level of period
    larger than the chunk has gathered since it last fired (the chunks
    before this one), one tensor per stored tensor of its MLP memory. The
    level applies them with this chunk's `nl.accumulate` steps when it
    fires on the chunk's last token, so its weights there are
    `w - fires * (pending + steps)`.

    Example:
    ```mlir
    %P0, %P1 = nl.pending @slow : tensor<1024x256xf32>, tensor<256x1024xf32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$level);
  let results = (outs Variadic<NL_Tensor>:$results);
  let assemblyFormat = [{ $level attr-dict `:` type($results) }];
}

def NL_FiresOp : NL_Op<"fires", [
    HasParent<"ChunkStepOp">, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "whether a level fires on the chunk's last token";
  let description = [{
    Inside `nl.chunk_step`: `1.0` when the clock fires `level` on the
    chunk's last token (its period ends there), else `0.0`; a factor for
    the correction a read after the write needs on that token.

    Example:
    ```mlir
    %f = nl.fires @slow : tensor<f32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$level);
  let results = (outs 0DTensorOf<[F32]>:$result);
  let assemblyFormat = [{ $level attr-dict `:` type($result) }];
}

def NL_RowsOp : NL_Op<"rows", [
    HasParent<"ChunkStepOp">, SingleBlock, RecursiveMemoryEffects]> {
  let summary = "the ops of per-token levels, run once per token of a chunk";
  let description = [{
    Inside `nl.chunk_step`: the body runs once per token of the chunk, in
    order, exactly as `nl.step` would run it. Each block argument is the
    token's row of the matching operand (`tensor<C x ...>` gives
    `tensor<...>`), and the values `nl.yield` returns become the token's
    row of the results. `nl.update`, `nl.read` and `nl.weights` mean what
    they mean in the step. `nl-chunk` puts here the ops of a level that
    learns every token and whose memory it cannot lift (an MLP memory, whose
    weights change within the chunk) when the rest of the step can be
    lifted: the slower levels then still run as matrix products over the
    chunk's rows. Values defined above the op (constants, parameters, the
    chunk-start weights of other levels) may be used directly.

    Example:
    ```mlir
    %h = nl.rows (%K, %V : tensor<16x8xf32>, tensor<16x8xf32>) -> tensor<16x8xf32> {
    ^bb0(%k: tensor<8xf32>, %v: tensor<8xf32>):
      ...
      nl.update @fast grad(%g0, %g1 : tensor<16x8xf32>, tensor<8x16xf32>) lr(%lr : tensor<f32>)
      ...
      nl.yield %y : tensor<8xf32>
    }
    ```
  }];
  let arguments = (ins Variadic<NL_Tensor>:$inputs);
  let results = (outs Variadic<NL_Tensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    `(` ($inputs^ `:` type($inputs))? `)` (`->` type($results)^)? $body attr-dict
  }];
  let hasRegionVerifier = 1;
}

def NL_MatmulOp : NL_Op<"matmul", [Pure]> {
  let summary = "batched matrix product";
  let description = [{
    `r[..., i, j] = sum_k a[..., i, k] * b[..., k, j]` over the last two
    dimensions; the leading (batch) dimensions, one matrix per head, must
    be equal. `transpose_lhs` / `transpose_rhs` take the operand's last two
    dimensions transposed. The chunk-parallel form's products: the
    predictions of a chunk's keys `K M^T`, the scores `Q K^T`, and the
    chunk's weight update `G^T K`. The CPU back end lowers it to a
    register-tiled loop nest (AVX2/FMA vectors when the host has them).

    Example:
    ```mlir
    %P = nl.matmul %K, %M {transpose_rhs}
        : tensor<4x16x32xf32>, tensor<4x32x32xf32> -> tensor<4x16x32xf32>
    ```
  }];
  let arguments = (ins NL_Tensor:$lhs, NL_Tensor:$rhs,
                       UnitAttr:$transpose_lhs, UnitAttr:$transpose_rhs);
  let results = (outs NL_Tensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)
  }];
  let hasVerifier = 1;
}

def NL_TrilOp : NL_Op<"tril", [Pure, SameOperandsAndResultType]> {
  let summary = "causal mask: zero above the diagonal";
  let description = [{
    Keeps `x[..., i, j]` for `j <= i` (`j < i` with `strict`) and zeroes
    the rest, over the last two dimensions: within a chunk, token `i`
    sees the tokens up to itself.

    Example: `%A = nl.tril %S : tensor<4x16x16xf32>`
  }];
  let arguments = (ins NL_Tensor:$input, UnitAttr:$strict);
  let results = (outs NL_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def NL_TransposeOp : NL_Op<"transpose", [Pure]> {
  let summary = "permutes the dimensions of a tensor";
  let description = [{
    `r[i_p0, i_p1, ...] = x[i_0, i_1, ...]` for `permutation = [p0, p1,
    ...]`: result dimension `d` is input dimension `permutation[d]`. The
    chunk form moves the token dimension behind the heads
    (`[C, H, d] -> [H, C, d]`) so that each head's tokens form a matrix.

    Example:
    ```mlir
    %KT = nl.transpose %K {permutation = array<i64: 1, 0, 2>}
        : tensor<16x4x32xf32> -> tensor<4x16x32xf32>
    ```
  }];
  let arguments = (ins NL_Tensor:$input, DenseI64ArrayAttr:$permutation);
  let results = (outs NL_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def NL_TriInvOp : NL_Op<"tri_inv", [Pure, SameOperandsAndResultType]> {
  let summary = "inverse of a unit lower-triangular matrix, (I + A)^-1";
  let description = [{
    For each matrix of the last two (square) dimensions, `(I + A)^-1`
    where `A` is taken strictly below the diagonal (entries on and above it
    are ignored): the UT transform of the chunked delta rule, `T = (I +
    diag(beta) tril(K K^T, -1))^-1`, computed by forward substitution. The
    result is unit lower-triangular.

    Example: `%T = nl.tri_inv %A : tensor<4x64x64xf32>`
  }];
  let arguments = (ins NL_Tensor:$input);
  let results = (outs NL_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def NL_DecayMaskOp : NL_Op<"decay_mask", [Pure]> {
  let summary = "the products of a chunk's decay gates between two tokens";
  let description = [{
    For gates `a` of shape `[..., C]` (one per token of a chunk),
    `r[..., t, s] = prod_{s < j <= t} a[..., j]` for `s <= t` (1 on the
    diagonal) and 0 above it: how much of token `s`'s write is left at token
    `t` in a decaying memory (the gated delta rule). Computed by products
    row by row, never by dividing cumulative products, so small gates do
    not underflow into 0/0.

    Example:
    ```mlir
    %D = nl.decay_mask %a : tensor<4x16xf32> -> tensor<4x16x16xf32>
    ```
  }];
  let arguments = (ins NL_Tensor:$input);
  let results = (outs NL_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def NL_ChunkConvOp : NL_Op<"chunk_conv", [HasParent<"ChunkStepOp">]> {
  let summary = "a short causal convolution over a chunk's tokens";
  let description = [{
    `nl.conv` over the rows of a chunk (`input`: `C x channels`): row `t`
    is `sum_{i < w} weight[i] * x_{t-i}`, where the tokens before the chunk
    come from the history of the step's `history`-th `nl.conv` (in step
    order), which the op then advances by the chunk's last `w - 1` rows, so
    the chunk and the step share one stream of inputs. Not `Pure`: it reads
    and writes that history.

    Example:
    ```mlir
    %kc = nl.chunk_conv %K, %Wc history 0
        : (tensor<64x128xf32>, tensor<4x128xf32>) -> tensor<64x128xf32>
    ```
  }];
  let arguments = (ins NL_Tensor:$input, NL_Tensor:$weight,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$history);
  let results = (outs NL_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `history` $history attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// The per-head form (written by nl-split-heads)
//===----------------------------------------------------------------------===//

def NL_HeadIndexOp : NL_Op<"head_index", [Pure]> {
  let summary = "the head a per-head step computes";
  let description = [{
    Inside the step of a model marked `head_split = H` (written by
    `nl-split-heads`), the index in `[0, H)` of the head this run of the
    step learns and reads. The step uses it to pick the head's slice of the
    token, e.g. the head's keys out of all heads' keys. The caller chooses
    it: the runtime runs the heads of one stream on several threads, each
    thread a range of heads over every token of a call, with the state and
    outputs of head `h` at `h` times their per-head size.

    Example:
    ```mlir
    %h = nl.head_index
    %c64 = arith.constant 64 : index
    %at = arith.muli %h, %c64 : index
    %k = tensor.extract_slice %x[%at] [64] [1] : tensor<1560xf32> to tensor<64xf32>
    ```
  }];
  let results = (outs Index:$result);
  let assemblyFormat = "attr-dict";
  let hasVerifier = 1;
}

#endif // NL_OPS_TD
