//===- Passes.td - Passes of the nl dialect ---------------*- tablegen -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#ifndef NL_TRANSFORMS_PASSES_TD
#define NL_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def NLVerifySchedule : Pass<"nl-verify-schedule", "::mlir::nl::ModelOp"> {
  let summary = "Compute every level's effective period and the global schedule";
  let description = [{
    Computes, for each level of a model:

    * its effective period: the chunk size; 1 for a non-parametric (`inf`)
      level, which is written every token; 0 (never) for `frozen` and
      `offline` levels; an optimizer level named in another level's `via`
      takes the period of the level it serves;
    * its rank, the paper's level index: 0 for the fastest frequency,
      levels of equal frequency share a rank;
    * its position in the within-step update order: a topological order of
      the same-step dependencies (a level comes after the levels whose
      step-t state it needs), faster levels first among independent ones,
      then body order;
    * how many times it fires per hyper-period.

    The model's hyper-period (the least common multiple of the effective
    periods) is attached as `hyper_period`; each level gets a
    `#nl.schedule`. The pass fails with a located error when the
    hyper-period exceeds `max-hyper-period` tokens.

    Example:
    ```mlir
    // nl-opt --nl-verify-schedule
    nl.level @fast period 1 ... {schedule = #nl.schedule<period = 1, rank = 0, order = 0, fires = 16>}
    nl.level @slow period 16 ... {schedule = #nl.schedule<period = 16, rank = 1, order = 1, fires = 1>}
    ```
  }];
  let dependentDialects = ["::mlir::nl::NLDialect"];
  let options = [
    Option<"maxHyperPeriod", "max-hyper-period", "int64_t",
           /*default=*/"int64_t(1) << 40",
           "Largest hyper-period (in tokens) accepted before the schedule is "
           "considered a mistake">,
    Option<"emitRemarks", "remarks", "bool", /*default=*/"false",
           "Emit one remark per level with its schedule (for humans and "
           "-verify-diagnostics)">
  ];
  let statistics = [
    Statistic<"numLevels", "num-levels", "Levels scheduled">,
    Statistic<"numFrozen", "num-frozen", "Levels that never update online">
  ];
}

def NLExpandMlp : Pass<"nl-expand-mlp", "::mlir::nl::ModelOp"> {
  let summary = "Write MLP-memory reads and updates as differentiable compute";
  let description = [{
    Rewrites every `nl.read` of a level whose memory is an `!nl.mlp` into
    `nl.weights` and the MLP's forward pass written with nl compute ops
    (`nl.linear` per layer, the activation between layers, the optional
    norm of the stack's output and the residual `k + ...`). The read sees
    the state after this step's write when the level's rule says
    `read = after_write`.

    Every `nl.update` of such a level becomes the derived form: an
    `nl.grad` region holding the level's inner objective at the state before
    the write (`l2`: `s ||M(k) - v||^2`, s = 1/2 or 1 by the rule's `l2`
    field; `dot`: `-<M(k), v>`), and an `nl.update` that takes one gradient
    per stored tensor (`w0`, `b0`, `w1`, ...) with the original gates. With
    `precond = delta` (`precond_target = first_layer`, ambiguity A21) the
    first layer's gradient gains `(W0 k) k^T`, so that the apply computes
    `W0 (retain I - lr k k^T) - lr grad` (Hope Eq 88).
    `nl-derive-gradients` then turns each `nl.grad` into compute ops.

    Example:
    ```mlir
    // nl-opt --nl-expand-mlp
    %y = nl.read @M(%q) : tensor<64xf32> -> tensor<64xf32>
    // becomes
    %w0, %w1 = nl.weights @M after_write : tensor<256x64xf32>, tensor<64x256xf32>
    %z = nl.linear %q, %w0 : (tensor<64xf32>, tensor<256x64xf32>) -> tensor<256xf32>
    %h = nl.act silu %z : tensor<256xf32>
    %o = nl.linear %h, %w1 : (tensor<256xf32>, tensor<64x256xf32>) -> tensor<64xf32>
    %y = nl.add %q, %o : tensor<64xf32>, tensor<64xf32> -> tensor<64xf32>
    ```
  }];
  let dependentDialects = ["::mlir::nl::NLDialect", "::mlir::arith::ArithDialect"];
}

def NLExpandUpdates : Pass<"nl-expand-updates", "::mlir::nl::ModelOp"> {
  let summary = "Write every learning rule as explicit updates of explicit states";
  let description = [{
    Puts the step's ops in execution order (the order `nl-verify-schedule`'s
    dependencies give: reads before or after their level's write, optimizer
    levels before the level they serve), then rewrites every `nl.update` of
    a learning level into its rule's math over explicit states:

    * this token's contribution, as compute ops: the objective's gradient
      (`dot`: `-v k^T`; `l2`: `s (M k - v) k^T`; `lp`: `p sign(e) |e|^(p-1)
      k^T`; `huber`: the l2 gradient inside the ball `||e|| <= delta`,
      `delta sign(e) k^T` outside; `linear`: the given gradient), at the
      decayed state with `decay_order = before_grad`, plus `(M k) k^T` with
      `precond = delta`, scaled by DGD's step (`dgd_step`) or by `lr`
      (`lr_placement = per_token`);
    * for a level of period above 1, an `nl.learn` that adds it to the
      accumulator state `@__acc` (role `accumulator`) and keeps the gates
      of the token in `@__gate.<level>.<gate>` states (role `gate`);
    * an `nl.apply`, run when the level fires: `retain M - lr acc` (`gd`,
      `dgd`), the momentum buffer `S = decay S - lr acc` and `M = retain M +
      S` (`momentum`, fused or through a `via` level, whose `lr` then
      scales `S`), Adam's two `via` moments; then the accumulator is
      cleared.

    Every `nl.read` of a matrix memory becomes `nl.load` of the memory and
    `nl.linear`; every `nl.weights` view of an MLP memory one `nl.load` per
    stored tensor. The updates of optimizer levels (`via`) disappear: the
    level they serve reads their gates and stores their moments. KV caches
    keep their `nl.update`/`nl.read`.

    The state names and roles are those of the fused lowering, so a state
    file moves between the two forms. Not written yet (a located error):
    `muon`, `m3`, the Omega rule (`window` > 1), `read = chunk_prefix`,
    delta momentum, `dgd` or `via` on an MLP memory, `adam` on a chunked
    level, a model with a chunk form.

    Example:
    ```mlir
    // nl-opt --nl-verify-schedule --nl-expand-updates
    nl.update @memory key(%k : tensor<32xf32>) value(%v : tensor<32xf32>) lr(%lr : tensor<f32>)
    // becomes (a per-token level)
    %M = nl.load @memory::@M : tensor<32x32xf32>
    %p = nl.linear %k, %M : (tensor<32xf32>, tensor<32x32xf32>) -> tensor<32xf32>
    %e = nl.sub %p, %v : tensor<32xf32>, tensor<32xf32> -> tensor<32xf32>
    %g = nl.outer %e, %k : tensor<32xf32>, tensor<32xf32> -> tensor<32x32xf32>
    %a = nl.mul %g, %lr : tensor<32x32xf32>, tensor<f32> -> tensor<32x32xf32>
    nl.apply @memory {
      %M0 = nl.load @memory::@M : tensor<32x32xf32>
      %M1 = nl.sub %M0, %a : tensor<32x32xf32>, tensor<32x32xf32> -> tensor<32x32xf32>
      nl.store @memory::@M(%M1 : tensor<32x32xf32>)
    }
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect"];
}

def NLDeriveGradients : Pass<"nl-derive-gradients"> {
  let summary = "Reverse-mode differentiation of nl.grad regions";
  let description = [{
    Replaces every `nl.grad` by its body evaluated at the operands (the
    forward pass) followed by the reverse sweep: each differentiable op
    contributes vector-Jacobian products of its operands, accumulated with
    `nl.add`. The rules are general, not per learning rule:

    | op | adjoints |
    |---|---|
    | `nl.linear` | `dx = W^T dy`, `dW = dy x^T` (summed over heads for a shared weight), `db = dy` |
    | `nl.add`, `nl.sub`, `nl.mul`, `nl.div` | the elementwise rules, each summed back to its operand's shape (`nl.sum`), so broadcasting is differentiated |
    | `nl.act` | `nl.act_grad` |
    | `nl.act_grad` (second order) | `nl.act_grad` of the cotangent for the output gradient; `dr dy act''(x)` for the input, `act''` written with `nl.act` and elementwise ops per activation |
    | `nl.norm` | `nl.norm_grad` for the input; `dy * norm(x)` and `dy`, summed, for scale and shift |
    | `nl.sum` | `dy` broadcast back |
    | `nl.outer` | `dy b` and `dy^T a` |
    | `nl.matmul` | `dA' = dY B'^T`, `dB' = A'^T dY`, transposed back for a transposed operand |
    | `nl.transpose` | the inverse permutation |
    | `tensor.expand_shape`, `tensor.collapse_shape` | the opposite reshape |
    | `tensor.extract_slice` / `insert_slice` | `dy` into zeros at the slice / the slice of `dy` and `dy` with the slice zeroed |
    | `arith.negf`, `math.sqrt`, `math.absf`, `math.powf` (constant exponent), `arith.select` | `-dy`, `dy / (2 sqrt x)`, `dy sign(x)`, `dy c x^(c-1)`, `dy` to the branch taken |
    | `nl.stop_grad`, constants, parameters, `nl.weights`, `arith.cmpf`, `arith.uitofp` | none |

    The rules live in `dialects/nl/Transforms/VJPRules.cpp`, one per op,
    for any reverse sweep (this pass's, the task loss's backward).

    Only values that depend on the region's arguments are differentiated.
    An op without a rule on that path (`nl.read`, `nl.conv`, a nested
    `nl.grad`, `nl.norm_grad`'s second derivative) is a located error. An argument the
    objective does not depend on gets a zero gradient.

    Example:
    ```mlir
    // nl-opt --nl-derive-gradients
    %g = nl.grad (%W) : tensor<16x16xf32> -> tensor<16x16xf32> { ... }
    // becomes the forward ops, then
    %dy = ...                       // d objective / d y
    %g = nl.outer %dy, %k : tensor<16xf32>, tensor<16xf32> -> tensor<16x16xf32>
    ```
  }];
  let dependentDialects = ["::mlir::nl::NLDialect", "::mlir::arith::ArithDialect"];
  let statistics = [
    Statistic<"numRegions", "num-grad-regions", "nl.grad regions derived">
  ];
}

def NLDeriveBackward : Pass<"nl-derive-backward", "::mlir::nl::ModelOp"> {
  let summary = "The vector-Jacobian product of one token of the step";
  let description = [{
    Adds an `nl.backward_step` to a model whose step is in the explicit-
    update form (after `nl-expand-updates`): the reverse of one token, which
    takes the step's inputs and the cotangents of its outputs and of the
    state after the token (`nl.adjoint`), and gives the cotangents of the
    state before the token (`nl.set_adjoint`), of the inputs (`nl.yield`)
    and the token's increments of every parameter's gradient
    (`nl.param_grad`). The runtime runs it token by token in reverse over
    states it recomputes from checkpoints (backpropagation through time).

    First the step becomes dataflow: a load is the state's current value,
    a store replaces it, each level's `nl.learn` / `nl.apply` becomes an
    `scf.if` on `nl.runs` yielding the states it writes, and a short
    convolution reads slices of its history (`nl.history`). Then the sweep
    runs backwards through the rules of `VJPRules.cpp` (the same per-op
    rules as `nl-derive-gradients`; an MLP memory's inner gradient is
    differentiated again, the second-order terms); the reverse of an
    `scf.if` is an `scf.if` on the same condition that recomputes the
    region and sweeps it, and passes the cotangents through where it did
    not run.

    `write = stop_grad` (the default, `docs/ambiguities.md` A24): the
    increment a level's regions store is a constant (`nl.stop_grad %new
    through %before`): no outer gradient reaches the write's keys, values,
    gates or step sizes, and the state before the write passes its
    cotangent on unchanged (fast state = meta + delta); reads still pass
    gradients to their queries and to the state they read.
    `write = differentiable`: the gradient flows through the update into
    all of them (full meta-learning).

    Not differentiated yet (located errors): KV caches (`nl.read` /
    `nl.update` of a `period inf` level), `init ... reset` transfers.

    Example:
    ```mlir
    // nl-opt --nl-derive-backward (on the expanded form)
    nl.backward_step (%x : tensor<8xf32>, %dy : tensor<8xf32>) -> tensor<8xf32> {
      %M = nl.load @memory::@M : tensor<8x8xf32>
      %fires = nl.runs @memory apply
      %M1 = scf.if %fires -> (tensor<8x8xf32>) { ... } else { scf.yield %M : tensor<8x8xf32> }
      ...
      %dM1 = nl.adjoint @memory::@M : tensor<8x8xf32>
      %d:2 = scf.if %fires -> (tensor<8x8xf32>, tensor<8xf32>) { ... }
      nl.set_adjoint @memory::@M(%dM : tensor<8x8xf32>)
      nl.param_grad @W_k(%dWk : tensor<8x8xf32>)
      nl.yield %dx : tensor<8xf32>
    }
    ```
  }];
  let dependentDialects = ["::mlir::nl::NLDialect", "::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect"];
  let options = [
    Option<"checkpointEvery", "checkpoint-every", "int64_t",
           /*default=*/"64",
           "Backpropagation through time keeps the state every this many "
           "tokens and recomputes the tokens between (the backward_step's "
           "checkpoint_every, stated in the manifest)">,
    Option<"truncate", "truncate", "int64_t", /*default=*/"0",
           "Truncated BPTT: the state's cotangent stops every this many "
           "tokens of a call (0: never)">,
  ];
}

def NLChunk : Pass<"nl-chunk", "::mlir::nl::ModelOp"> {
  let summary = "Write the chunk-parallel form of a model's step";
  let description = [{
    Adds an `nl.chunk_step` to a model whose learning levels all take their
    gradients at the chunk start: the step run over one whole chunk of
    `C` tokens, written as products of matrices instead of `C` rank-1
    updates. Per head of a matrix memory `M` (`M0` at the chunk start),
    with the chunk's keys `K`, values `V`, queries `Q` and step sizes `lr`
    (rows are tokens):

    | per token | per chunk |
    |---|---|
    | `e_t = M0 k_t - v_t` (l2; `-v_t` for dot) | `E = K M0^T - V` |
    | `acc += lr_t e_t k_t^T` | `G = lr * E`; `M1 = retain_C M0 - G^T K` (`nl.assign`) |
    | `y_t = M0 q_t` (`read = before_write`) | `Y = Q M0^T` |
    | `y_t = (M0 - acc_t) q_t` (`chunk_prefix`, TTT's dual form) | `Y = Q M0^T - tril(Q K^T) G` |

    Every other op of the step (slices, projections, activations, norms,
    elementwise gates) is lifted to the chunk's rows: a projection becomes
    one `nl.matmul` over the chunk. The step stays: the runtime runs the
    tokens that do not fill a chunk aligned with the levels' clocks with it,
    so both forms compute the same numbers (up to rounding).

    An MLP memory (gd, gradients at the chunk start, no retention) is lifted
    in its derived form, so this pass runs after `nl-expand-mlp` and
    `nl-derive-gradients`: the forward and backward passes of the chunk's
    keys run on its rows at the chunk-start weights (any depth, activation,
    bias, norm, residual or head count), and per stored tensor

    | per token | per chunk |
    |---|---|
    | `acc_i += lr_t dy_t x_t^T` (a weight, `nl.outer`) | `W1 = W0 - (lr dY)^T X` |
    | `acc_i += lr_t db_t` (a bias) | `b1 = b0 - sum_t lr_t db_t` (`nl.sum`) |
    | a layer at `W0 - acc_t` (`chunk_prefix`) | `Y = Xq W0^T + b0 - tril(Xq X^T + 1) (lr dY)` |

    the last row being TTT-MLP's dual form, layer by layer: a layer's
    queries `Xq` come from the layer before it, already in that form.

    Multi-rate models (a continuum memory system): the chunk is the
    shortest period, and an MLP level whose period is a multiple of it adds
    each chunk's steps to its pending chunk (`nl.accumulate`), which its
    rule applies where its period ends; the runtime starts chunks where no
    level's period ends inside one. A read after the write (`read =
    after_write`) sees the chunk-start weights on every token but the last;
    that token's projections are corrected by what the write changes,
    `y = W0 x + b0 - f ((P + dY^T X) x + p + s)`, with the pending chunk
    `P, p` (`nl.pending`) and `f` whether the level fires there
    (`nl.fires`). An MLP level that learns every token runs token by token
    inside the chunk (`nl.rows`), with what depends on it alone, while the
    slower levels around it are lifted. A product the chunk would compute
    twice (a read after the write repeats the keys' forward pass, a read of
    the keys repeats their prediction) is built once. The model of one head
    (`nl-split-heads`) gets its chunk form like any other: the head's slices
    of the token, at offsets from `nl.head_index`, become slices of the
    chunk's rows.

    The pass leaves a model without a chunk form unchanged and says why
    with a remark (an error with `required`): a matrix level of another
    period, an MLP level whose period is not a multiple of the shortest,
    a memory it cannot lift (KV cache, an MLP learning every token with no
    slower level around it) or rule (momentum on an MLP, a per-token
    gradient point, `read = after_write` on a matrix, a preconditioner, a
    gate per key channel), a transfer that resets a level, a read that its
    own level's update depends on, or an op it cannot lift (`nl.conv` of a
    value the same for every token, an MLP memory before its expansion).
    Other transfers only describe the step's dataflow and change nothing.
    The step's ops are taken in their order, except that a level's update
    comes before its reads, as `nl-to-loops` orders them.

    With `form=auto` a model keeps its per-token form where the cost model
    (measured in `bench/`) says the chunk form does not pay: a chunk
    shorter than two register tiles of `nl.matmul` (8 rows), or a model
    whose learning levels all learn every token (the UT transform) with
    keys narrower than 128. `form=off` removes a chunk form instead.

    Example:
    ```mlir
    // nl-opt --nl-chunk
    nl.level @M period 16 rule <objective = l2, grad_at = chunk_start, read = chunk_prefix> {...}
    // gains
    nl.chunk_step size 16 (%X : tensor<16x136xf32>) -> tensor<16x32xf32> {
      %M0 = nl.weights @M : tensor<32x32xf32>
      %P = nl.matmul %K, %M0 {transpose_rhs} : ... -> tensor<16x32xf32>
      ...
      nl.assign @M(%M1 : tensor<32x32xf32>)
      nl.yield %Y : tensor<16x32xf32>
    }
    ```
  }];
  let options = [
    Option<"size", "size", "int64_t", /*default=*/"64",
           "Tokens per chunk of a model whose levels all learn every token "
           "(a chunked level's period decides otherwise)">,
    Option<"required", "required", "bool", /*default=*/"false",
           "Fail with a located error when the model has no chunk form "
           "(by default it keeps its per-token form only)">,
    Option<"form", "form", "::mlir::nl::ChunkFormMode",
           /*default=*/"::mlir::nl::ChunkFormMode::On",
           "Which models get the chunk form (with `required`, `auto` keeps "
           "every one the model has)",
           [{::llvm::cl::values(
             clEnumValN(::mlir::nl::ChunkFormMode::On, "on",
                        "every model that has one (default)"),
             clEnumValN(::mlir::nl::ChunkFormMode::Auto, "auto",
                        "those where a cost model says it pays (nlc "
                        "--chunk-form=auto): chunks of at least 8 tokens "
                        "(shorter ones run as fast per token) and, when "
                        "every learning level learns every token (the UT "
                        "transform of the delta rule), a matrix memory at "
                        "least 128 keys wide"),
             clEnumValN(::mlir::nl::ChunkFormMode::Off, "off",
                        "none; a chunk form the model has already is "
                        "removed (the CUDA pipeline: its kernels run every "
                        "token with the step)"))}]>,
    Option<"emitRemarks", "remarks", "bool", /*default=*/"true",
           "Say with a remark why a model keeps its per-token form only">
  ];
  let dependentDialects = ["::mlir::nl::NLDialect",
                           "::mlir::tensor::TensorDialect"];
  let statistics = [
    Statistic<"numChunked", "num-chunked-models", "models given a chunk form">
  ];
}

def NLSplitHeads : Pass<"nl-split-heads", "::mlir::ModuleOp"> {
  let summary = "Add the model of one head to a model whose heads never meet";
  let description = [{
    A step whose heads are independent (each head reads and learns its own
    memory from its own slice of the token, and the outputs are the heads'
    results side by side) can run head by head: one thread a range of heads
    over every token of a call, each head's state kept in its core's cache,
    instead of every head each token with one fork of a thread team per
    token. This pass adds, after such a model `@m`, the model of one head,
    `@m__head`, marked `head_split = H`: the same parameters and levels
    with one head per memory, and a step that computes head `nl.head_index`:

    | full step (H heads) | step of one head |
    |---|---|
    | `split_heads(v, H)` (`[H*e] -> [H, e]`) | `v[h*e : (h+1)*e]` |
    | a gate per head (`tensor<H>`) | its element `h` (`tensor<f32>`) |
    | `nl.read` / `nl.update` of a level of `H` heads | the same, on a level of one head |
    | elementwise ops, activations, norms of per-head values | the same on the head's row |
    | `merge_heads(y)` (returned) | `y` (the head's slice of the output) |
    | values of the token alone (slices, elementwise ops, constants) | computed by every head's step |

    The state of head `h` is the `h`-th slice of every state tensor (all
    are head-major), so the runtime runs the head model on the full
    model's state. A model keeps only its full step (a remark says why, an
    error with `required`) when any op mixes heads (a projection or a
    reshape of per-head values, a per-head value broadcast against all
    heads, an output that is not per head), a projection of the token
    would be computed by every head (`nl.linear`, `nl.matmul`), a level
    keeps a memory that is not a matrix, memories differ in heads, or the
    model has transfers or a chunk form already. It drops the model of one
    head it built (the same remark, or an error at it with `required`) when
    the back ends would not keep that model's state as the full model's
    slices, tensor by tensor, e.g. a gate shared by the heads kept in the
    state of a level that learns from the chunk start (the layout comes
    from the back ends through the nl dialect's `ModelLayoutInterface`,
    which the nlc tools register).

    Example:
    ```mlir
    // nl-opt --nl-split-heads
    nl.model @w2 attributes {dim = 200} { ... heads = 4 ... }
    // gains
    nl.model @w2__head attributes {dim = 200, head_split = 4 : i64} {
      nl.level @S ... { nl.state @S : !nl.matrix<16x16xf32> = #nl.zeros }
      nl.step(%x : tensor<200xf32>) -> tensor<16xf32> {
        %h = nl.head_index
        ...
      }
    }
    ```
  }];
  let options = [
    Option<"required", "required", "bool", /*default=*/"false",
           "Fail with a located error when a model has no per-head form "
           "(by default it keeps its full step only)">,
    Option<"emitRemarks", "remarks", "bool", /*default=*/"true",
           "Say with a remark why a model runs its heads together">
  ];
  let dependentDialects = ["::mlir::nl::NLDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
  let statistics = [
    Statistic<"numSplit", "num-split-models", "models given a per-head form">
  ];
}

#endif // NL_TRANSFORMS_PASSES_TD
