// RUN: nl-opt %s --nl-chunk=required=true --split-input-file -verify-diagnostics
// RUN: not nl-opt %s --nl-chunk=required=true --split-input-file 2>/dev/null | FileCheck %s

// With `required`, a model without a chunk-parallel form is an error at the
// level, transfer or op that stops it (nl-chunk-refusals.mlir has every
// reason as a remark), and the pass fails; a model that has one is chunked
// as without the option.

// CHECK-LABEL: nl.model @chunked
// CHECK:       nl.step(
// CHECK:       nl.chunk_step size 4 (%{{.*}}: tensor<4x4xf32>) -> tensor<4x4xf32> {
// CHECK:         nl.assign @M(%{{.*}} : tensor<4x4xf32>)
// CHECK:         nl.yield %{{.*}} : tensor<4x4xf32>
// CHECK-NOT:   nl.model
nl.model @chunked attributes {dim = 4} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start, read = before_write> {
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

// A per-token level with a decay beside the gradient (decoupled): only the
// gated delta rule's decay before it is in the chunk form (nl-chunk-delta.mlir).
nl.model @period_one_decay attributes {dim = 4} {
  // expected-error @below {{model @period_one_decay has no chunk-parallel form: level @M has a decay on a per-token level other than the gated delta rule's (decay_order = before_grad, read = after_write), which the chunk form does not compute}}
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

// A read after the write (the default read order).
nl.model @after_write attributes {dim = 4} {
  // expected-error @below {{model @after_write has no chunk-parallel form: level @M has read = after_write, which the chunk form does not compute}}
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

// A transfer that resets a level (both levels would qualify on their own).
nl.model @transfers attributes {dim = 4} {
  nl.level @fast period 4 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @slow period 16 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-error @below {{model @transfers has no chunk-parallel form: a transfer that resets a level is not in the chunk form yet}}
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
nl.model @lr_per_channel attributes {dim = 4} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @below {{model @lr_per_channel has no chunk-parallel form: a gate of shape [4] (one value per key channel) is not in the chunk form yet}}
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%x : tensor<4xf32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Only frozen levels: nothing learns in chunks.
// expected-error @below {{model @frozen_only has no chunk-parallel form: no level learns in the step}}
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
nl.model @conv attributes {dim = 4} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %w = arith.constant dense<0.5> : tensor<2x4xf32>
    %one = arith.constant dense<1.0> : tensor<4xf32>
    // expected-error @below {{model @conv has no chunk-parallel form: a convolution of a value the same for every token, with a per-token weight or over several dimensions}}
    %c = nl.conv %one, %w : (tensor<4xf32>, tensor<2x4xf32>) -> tensor<4xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%c : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// An output that does not depend on the token.
nl.model @constant_output attributes {dim = 4} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    %c = arith.constant dense<1.0> : tensor<4xf32>
    // expected-error @below {{model @constant_output has no chunk-parallel form: an output that is the same for every token}}
    nl.yield %c : tensor<4xf32>
  }
}
