// RUN: nl-opt %s --nl-chunk --split-input-file -verify-diagnostics
// RUN: nl-opt %s --nl-chunk --split-input-file 2>/dev/null | FileCheck %s --implicit-check-not=nl.chunk_step --implicit-check-not=nl.assign --implicit-check-not=nl.matmul
// RUN: nl-opt %s --split-input-file > %t.before
// RUN: nl-opt %s --nl-chunk --split-input-file 2>/dev/null > %t.after
// RUN: diff %t.before %t.after

// Models nl-chunk cannot write in the chunk-parallel form: each keeps its
// step unchanged (the printed module is the same with and without the pass:
// no nl.chunk_step, nothing left over from a chunk step begun and dropped)
// and the pass says why with a remark at the level, transfer or op that
// stops it. nl-chunk-required.mlir has the same refusals as errors.

// A per-token level with a decay beside the gradient (decoupled): only the
// gated delta rule's decay before it is in the chunk form (nl-chunk-delta.mlir).
// CHECK-LABEL: nl.model @period_one_decay
// CHECK: nl.step(
nl.model @period_one_decay attributes {dim = 4} {
  // expected-remark @below {{model @period_one_decay keeps its per-token form only: level @M has a decay on a per-token level other than the gated delta rule's (decay_order = before_grad, read = after_write), which the chunk form does not compute}}
  nl.level @M period 1 rule <objective = l2, retention = decay> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    %a = arith.constant dense<0.9> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) retain(%a : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Two matrix levels of different periods (multi-rate chunks hold slower
// MLP levels only).
// CHECK-LABEL: nl.model @two_periods
// CHECK: nl.step(
nl.model @two_periods attributes {dim = 4} {
  nl.level @A period 2 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-remark @below {{model @two_periods keeps its per-token form only: levels of periods 2 and 4 (a slower level of a multi-rate chunk must be an MLP memory)}}
  nl.level @B period 4 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @A key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @B key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Momentum kept in an optimizer level.
// CHECK-LABEL: nl.model @momentum
// CHECK: nl.step(
nl.model @momentum attributes {dim = 4} {
  // expected-remark @below {{model @momentum keeps its per-token form only: level @M has algorithm momentum through other levels, which the chunk form does not compute}}
  nl.level @M period 4 rule <objective = l2, algorithm = momentum, via = [@opt], grad_at = chunk_start, read = before_write> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @opt period 4 rule <objective = linear, retention = decay> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @opt lr(%lr : tensor<f32>) retain(%lr : tensor<f32>)
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Fused momentum on a per-token level (it is in the chunk form on a
// chunked level, nl-chunk.mlir).
// CHECK-LABEL: nl.model @fused_momentum
// CHECK: nl.step(
nl.model @fused_momentum attributes {dim = 4} {
  // expected-remark @below {{model @fused_momentum keeps its per-token form only: level @M has algorithm momentum, which the chunk form does not compute}}
  nl.level @M period 1 rule <objective = l2, algorithm = momentum, read = before_write> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
    nl.state @m : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) momentum_decay(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// A read after the write (the default read order).
// CHECK-LABEL: nl.model @after_write
// CHECK: nl.step(
nl.model @after_write attributes {dim = 4} {
  // expected-remark @below {{model @after_write keeps its per-token form only: level @M has read = after_write, which the chunk form does not compute}}
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @M(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %y : tensor<4xf32>
  }
}

// -----

// An MLP memory before nl-expand-mlp and nl-derive-gradients (its chunk
// form lifts the derived step: nl-chunk-mlp.mlir).
// CHECK-LABEL: nl.model @mlp
// CHECK: nl.step(
nl.model @mlp attributes {dim = 4} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @W : !nl.mlp<[4, 8, 4], silu> = #nl.normal<std = 0.1>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    // expected-remark @below {{model @mlp keeps its per-token form only: an MLP update before nl-expand-mlp and nl-derive-gradients (the chunk form lifts the derived gradients)}}
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// An MLP memory read before nl-expand-mlp (a frozen one: a learning one's
// update is refused first, see @mlp_update).
// CHECK-LABEL: nl.model @mlp_read
// CHECK: nl.step(
nl.model @mlp_read attributes {dim = 4} {
  nl.level @M period frozen {
    nl.state @W : !nl.mlp<[4, 8, 4], silu> = #nl.normal<std = 0.1>
  }
  nl.level @A period 4 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    // expected-remark @below {{model @mlp_read keeps its per-token form only: a read of an MLP memory before nl-expand-mlp}}
    %y = nl.read @M(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.update @A key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %y : tensor<4xf32>
  }
}

// -----

// A KV cache.
// CHECK-LABEL: nl.model @kv_cache
// CHECK: nl.step(
nl.model @kv_cache attributes {dim = 4} {
  // expected-remark @below {{model @kv_cache keeps its per-token form only: level @A has no matrix or MLP memory (KV caches and buffers run per token)}}
  nl.level @A period inf {
    nl.state @C : !nl.kv_cache<key = 4, value = 4>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.update @A key(%x : tensor<4xf32>) value(%x : tensor<4xf32>)
    %y = nl.read @A(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %y : tensor<4xf32>
  }
}

// -----

// A transfer that resets a level (both levels would qualify on their own;
// transfers that only describe the step's dataflow, like backprop, do not
// stop the chunk form).
// CHECK-LABEL: nl.model @transfers
// CHECK: nl.step(
nl.model @transfers attributes {dim = 4} {
  nl.level @fast period 4 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @slow period 16 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-remark @below {{model @transfers keeps its per-token form only: a transfer that resets a level is not in the chunk form yet}}
  nl.transfer init @slow -> @fast reset
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @fast key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @slow key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// An lr per key channel.
// CHECK-LABEL: nl.model @lr_per_channel
// CHECK: nl.step(
nl.model @lr_per_channel attributes {dim = 4} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-remark @below {{model @lr_per_channel keeps its per-token form only: a gate of shape [4] (one value per key channel) is not in the chunk form yet}}
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%x : tensor<4xf32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// A retain gate per key channel.
// CHECK-LABEL: nl.model @retain_per_channel
// CHECK: nl.step(
nl.model @retain_per_channel attributes {dim = 4} {
  nl.level @M period 4 rule <objective = l2, retention = decay, grad_at = chunk_start, read = before_write> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    // expected-remark @below {{model @retain_per_channel keeps its per-token form only: a gate of shape [4] (one value per key channel) is not in the chunk form yet}}
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) retain(%x : tensor<4xf32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// An objective other than l2 and dot.
// CHECK-LABEL: nl.model @lp
// CHECK: nl.step(
nl.model @lp attributes {dim = 4} {
  // expected-remark @below {{model @lp keeps its per-token form only: level @M has objective lp, which the chunk form does not compute}}
  nl.level @M period 4 rule <objective = lp, p = 3.0, grad_at = chunk_start, read = before_write> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// l2_prox retention.
// CHECK-LABEL: nl.model @l2_prox
// CHECK: nl.step(
nl.model @l2_prox attributes {dim = 4} {
  // expected-remark @below {{model @l2_prox keeps its per-token form only: level @M has retention l2_prox, which the chunk form does not compute}}
  nl.level @M period 4 rule <objective = l2, retention = l2_prox, grad_at = chunk_start, read = before_write> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// A decay applied before the gradient (Gated DeltaNet's order).
// CHECK-LABEL: nl.model @before_grad
// CHECK: nl.step(
nl.model @before_grad attributes {dim = 4} {
  // expected-remark @below {{model @before_grad keeps its per-token form only: level @M has decay_order before_grad, which the chunk form does not compute}}
  nl.level @M period 4 rule <objective = l2, retention = decay, decay_order = before_grad, grad_at = chunk_start, read = before_write> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) retain(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// A preconditioner.
// CHECK-LABEL: nl.model @precond
// CHECK: nl.step(
nl.model @precond attributes {dim = 4} {
  // expected-remark @below {{model @precond keeps its per-token form only: level @M has a preconditioner, which the chunk form does not compute}}
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start, read = before_write, precond = delta> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// An Omega window.
// CHECK-LABEL: nl.model @window
// CHECK: nl.step(
nl.model @window attributes {dim = 4} {
  // expected-remark @below {{model @window keeps its per-token form only: level @M has an Omega window, which the chunk form does not compute}}
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start, read = before_write, window = 2> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// The step size outside the chunk's sum.
// CHECK-LABEL: nl.model @per_chunk
// CHECK: nl.step(
nl.model @per_chunk attributes {dim = 4} {
  // expected-remark @below {{model @per_chunk keeps its per-token form only: level @M has lr_placement per_chunk, which the chunk form does not compute}}
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start, read = before_write, lr_placement = per_chunk> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// A matrix stored in_out.
// CHECK-LABEL: nl.model @in_out
// CHECK: nl.step(
nl.model @in_out attributes {dim = 4} {
  // expected-remark @below {{model @in_out keeps its per-token form only: level @M has layout in_out; the chunk form is written for out_in}}
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @S : !nl.matrix<4x4xf32, layout = in_out> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Only frozen levels: nothing learns in chunks.
// CHECK-LABEL: nl.model @frozen_only
// CHECK: nl.step(
// expected-remark @below {{model @frozen_only keeps its per-token form only: no level learns in the step}}
nl.model @frozen_only attributes {dim = 4} {
  nl.level @F period frozen {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.identity
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %y = nl.read @F(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %y : tensor<4xf32>
  }
}

// -----

// A convolution of a constant (its history is the same every token; the
// chunk form lifts convolutions of the token stream, nl-chunk-delta.mlir).
// CHECK-LABEL: nl.model @conv
// CHECK: nl.step(
nl.model @conv attributes {dim = 4} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %w = arith.constant dense<0.5> : tensor<2x4xf32>
    %one = arith.constant dense<1.0> : tensor<4xf32>
    // expected-remark @below {{model @conv keeps its per-token form only: a convolution of a value the same for every token, with a per-token weight or over several dimensions}}
    %c = nl.conv %one, %w : (tensor<4xf32>, tensor<2x4xf32>) -> tensor<4xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%c : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// A read whose query is a constant.
// CHECK-LABEL: nl.model @constant_query
// CHECK: nl.step(
nl.model @constant_query attributes {dim = 4} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    %q = arith.constant dense<1.0> : tensor<4xf32>
    // expected-remark @below {{model @constant_query keeps its per-token form only: a read whose query is the same for every token}}
    %y = nl.read @M(%q) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %y : tensor<4xf32>
  }
}

// -----

// An output that does not depend on the token.
// CHECK-LABEL: nl.model @constant_output
// CHECK: nl.step(
nl.model @constant_output attributes {dim = 4} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    %c = arith.constant dense<1.0> : tensor<4xf32>
    // expected-remark @below {{model @constant_output keeps its per-token form only: an output that is the same for every token}}
    nl.yield %c : tensor<4xf32>
  }
}

// -----

// An op the pass cannot lift to the chunk's rows.
// CHECK-LABEL: nl.model @sum
// CHECK: nl.step(
nl.model @sum attributes {dim = 4} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<f32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    // expected-remark @below {{model @sum keeps its per-token form only: 'nl.sum' on values that change per token is not in the chunk form yet}}
    %s = nl.sum %x : tensor<4xf32> -> tensor<f32>
    nl.yield %s : tensor<f32>
  }
}

// -----

// A projection whose weight is computed from the token.
// CHECK-LABEL: nl.model @weight_per_token
// CHECK: nl.step(
nl.model @weight_per_token attributes {dim = 4} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    %w = tensor.expand_shape %x [[0, 1]] output_shape [4, 1] : tensor<4xf32> into tensor<4x1xf32>
    %r = tensor.extract_slice %x[0] [1] [1] : tensor<4xf32> to tensor<1xf32>
    // expected-remark @below {{model @weight_per_token keeps its per-token form only: a projection whose weight changes per token}}
    %y = nl.linear %r, %w : (tensor<1xf32>, tensor<4x1xf32>) -> tensor<4xf32>
    nl.yield %y : tensor<4xf32>
  }
}

// -----

// A projection of a constant by a weight taken from the token (it crashed
// the pass once: the projection was neither lifted nor cloned).
// CHECK-LABEL: nl.model @weight_from_token
// CHECK: nl.step(
nl.model @weight_from_token attributes {dim = 4} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %w = tensor.expand_shape %x [[0, 1]] output_shape [4, 1] : tensor<4xf32> into tensor<4x1xf32>
    %r = arith.constant dense<2.0> : tensor<1xf32>
    // expected-remark @below {{model @weight_from_token keeps its per-token form only: a projection whose weight changes per token}}
    %y = nl.linear %r, %w : (tensor<1xf32>, tensor<4x1xf32>) -> tensor<4xf32>
    %z = nl.add %y, %x : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%z : tensor<4xf32>) lr(%lr : tensor<f32>)
    %o = nl.read @M(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %o : tensor<4xf32>
  }
}

// -----

// A read of a level that its own update depends on (read before the write,
// its output the update's value): the chunk's reads are written from the
// chunk's gradients, so the update would have to come first.
// CHECK-LABEL: nl.model @read_feeds_update
// CHECK: nl.step(
nl.model @read_feeds_update attributes {dim = 4} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-remark @below {{model @read_feeds_update keeps its per-token form only: a read of a level that its own update depends on}}
    %y = nl.read @M(%x) : tensor<4xf32> -> tensor<4xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%y : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %y : tensor<4xf32>
  }
}
