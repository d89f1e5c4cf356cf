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
    | `nl.norm` | `nl.norm_grad` for the input; `dy * norm(x)` and `dy`, summed, for scale and shift |
    | `nl.sum` | `dy` broadcast back |
    | `nl.outer` | `dy b` and `dy^T a` |
    | `nl.stop_grad`, constants, parameters, `nl.weights` | none |

    Only values that depend on the region's arguments are differentiated.
    An op without a rule on that path (`nl.read`, `nl.conv`, a nested
    `nl.grad`, a second derivative) is a located error. An argument the
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

#endif // NL_TRANSFORMS_PASSES_TD
