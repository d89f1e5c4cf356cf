// RUN: nl-opt %s --split-input-file --pass-pipeline='builtin.module(nl.model(nl-expand-mlp,nl-derive-gradients,nl-chunk))' -verify-diagnostics 2>/dev/null | FileCheck %s
// RUN: nl-opt %s --split-input-file --pass-pipeline='builtin.module(nl.model(nl-expand-mlp,nl-derive-gradients,nl-chunk))' -verify-diagnostics

// The chunk form of MLP memories, lifted from the derived step (after
// nl-expand-mlp and nl-derive-gradients): the forward and backward passes of
// the chunk's keys run on its rows at the chunk-start weights, each stored
// tensor's summed gradient is one product (dY^T X for a weight, a sum over
// the rows for a bias), and a read at the in-chunk weights (read =
// chunk_prefix) is TTT's dual form of each layer,
//   Y = X W0^T + b0 - tril(X Xs^T + 1) (lr dY).
// test/Runtime/chunk-mlp.test checks the numbers against float64.

// TTT-MLP, one head: residual, biases, chunk_prefix, one lr for all tokens.
// CHECK-LABEL: nl.model @ttt
// CHECK: nl.chunk_step size 4 (%[[X:.*]]: tensor<4x12xf32>) -> tensor<4x4xf32>
// CHECK-DAG: %[[K:.*]] = tensor.extract_slice %[[X]][0, 0] [4, 4] [1, 1]
// CHECK-DAG: %[[Q:.*]] = tensor.extract_slice %[[X]][0, 8] [4, 4] [1, 1]
// CHECK-DAG: %[[LR:.*]] = arith.constant dense<1.000000e-01> : tensor<f32>
// CHECK: %[[W:.*]]:4 = nl.weights @M : tensor<8x4xf32>, tensor<8xf32>, tensor<4x8xf32>, tensor<4xf32>
// The keys' forward pass at the chunk-start weights: one product per layer.
// CHECK: %[[Z0:.*]] = nl.matmul %[[K]], %[[W]]#0 {transpose_rhs} : tensor<4x4xf32>, tensor<8x4xf32> -> tensor<4x8xf32>
// CHECK: %[[Z:.*]] = nl.add %[[Z0]], %[[W]]#1
// CHECK: %[[H:.*]] = nl.act gelu %[[Z]] : tensor<4x8xf32>
// CHECK: nl.matmul %[[H]], %[[W]]#2 {transpose_rhs}
// The backward pass: dH = dY W1, through the activation.
// CHECK: %[[DH0:.*]] = nl.matmul %{{.*}}, %[[W]]#2 : tensor<4x4xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
// CHECK: %[[DH:.*]] = nl.act_grad gelu %[[Z]], %[[DH0]] : tensor<4x8xf32>
// Summed gradients: W0 -= (lr dH)^T K, b0 -= sum_t lr dH_t, W1 and b1 alike.
// CHECK: %[[LDH:.*]] = nl.mul %[[DH]], %[[LR]]
// CHECK: %[[G0:.*]] = nl.matmul %[[LDH]], %[[K]] {transpose_lhs} : tensor<4x8xf32>, tensor<4x4xf32> -> tensor<8x4xf32>
// CHECK: %[[GB0:.*]] = nl.sum %{{.*}} : tensor<4x8xf32> -> tensor<8xf32>
// CHECK: %[[LDY:.*]] = nl.mul %{{.*}}, %[[LR]] : tensor<4x4xf32>, tensor<f32>
// CHECK: %[[G1:.*]] = nl.matmul %[[LDY]], %[[H]] {transpose_lhs} : tensor<4x4xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
// CHECK: %[[GB1:.*]] = nl.sum %{{.*}} : tensor<4x4xf32> -> tensor<4xf32>
// CHECK: %[[W0:.*]] = nl.sub %[[W]]#0, %[[G0]]
// CHECK: %[[B0:.*]] = nl.sub %[[W]]#1, %[[GB0]]
// CHECK: %[[W1:.*]] = nl.sub %[[W]]#2, %[[G1]]
// CHECK: %[[B1:.*]] = nl.sub %[[W]]#3, %[[GB1]] : tensor<4xf32>
// CHECK: nl.assign @M(%[[W0]], %[[B0]], %[[W1]], %[[B1]] :
// The read: layer 0 in its dual form (weight and bias corrections in one
// causal product, since the bias gradient is the layer's dy).
// CHECK: %[[QW:.*]] = nl.matmul %[[Q]], %[[W]]#0 {transpose_rhs}
// CHECK: %[[S:.*]] = nl.matmul %[[Q]], %[[K]] {transpose_rhs} : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
// CHECK: %[[QB:.*]] = nl.add %[[QW]], %[[W]]#1
// CHECK: %[[S1:.*]] = nl.add %[[S]], %{{.*}} : tensor<4x4xf32>, tensor<f32>
// CHECK: %[[M:.*]] = nl.tril %[[S1]] : tensor<4x4xf32>
// CHECK: %[[C:.*]] = nl.matmul %[[M]], %[[LDH]] : tensor<4x4xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
// CHECK: %[[Z1:.*]] = nl.sub %[[QB]], %[[C]]
// CHECK: %[[HQ:.*]] = nl.act gelu %[[Z1]]
// Layer 1: its keys' inputs are the keys' hidden values H.
// CHECK: nl.matmul %[[HQ]], %[[H]] {transpose_rhs}
// CHECK: nl.tril
// CHECK: nl.matmul %{{.*}}, %[[LDY]]
// CHECK: nl.yield
nl.model @ttt attributes {dim = 12} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start, read = chunk_prefix> {
    nl.state @W : !nl.mlp<[4, 8, 4], gelu, bias, residual> = #nl.normal<std = 0.1>
  }
  nl.step(%x : tensor<12xf32>) -> tensor<4xf32> {
    %k = tensor.extract_slice %x[0] [4] [1] : tensor<12xf32> to tensor<4xf32>
    %v = tensor.extract_slice %x[4] [4] [1] : tensor<12xf32> to tensor<4xf32>
    %q = tensor.extract_slice %x[8] [4] [1] : tensor<12xf32> to tensor<4xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%k : tensor<4xf32>) value(%v : tensor<4xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @M(%q) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %y : tensor<4xf32>
  }
}

// -----

// Two heads, one lr per head and token, read before the write (every token
// of the chunk sees the chunk-start weights: no causal product). Per head,
// the products are batched over a leading head dimension.
// CHECK-LABEL: nl.model @heads
// CHECK: nl.chunk_step size 4
// CHECK: %[[W:.*]]:2 = nl.weights @M : tensor<2x8x4xf32>, tensor<2x4x8xf32>
// The lr per head and token as rows [H, C, 1].
// CHECK: %[[LR:.*]] = tensor.expand_shape %{{.*}} {{\[\[}}0], [1, 2]] output_shape [2, 4, 1]
// CHECK: %[[LDH:.*]] = nl.mul %{{.*}}, %[[LR]] : tensor<2x4x8xf32>, tensor<2x4x1xf32> -> tensor<2x4x8xf32>
// CHECK: %[[G0:.*]] = nl.matmul %[[LDH]], %{{.*}} {transpose_lhs} : tensor<2x4x8xf32>, tensor<2x4x4xf32> -> tensor<2x8x4xf32>
// CHECK: %[[G1:.*]] = nl.matmul %{{.*}}, %{{.*}} {transpose_lhs} : tensor<2x4x4xf32>, tensor<2x4x8xf32> -> tensor<2x4x8xf32>
// CHECK: %[[W0:.*]] = nl.sub %[[W]]#0, %[[G0]]
// CHECK: %[[W1:.*]] = nl.sub %[[W]]#1, %[[G1]]
// CHECK: nl.assign @M(%[[W0]], %[[W1]] :
// CHECK-NOT: nl.tril
// CHECK: nl.yield
nl.model @heads attributes {dim = 18} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @W : !nl.mlp<[4, 8, 4], silu, heads = 2> = #nl.normal<std = 0.1>
  }
  nl.step(%x : tensor<18xf32>) -> tensor<8xf32> {
    %ks = tensor.extract_slice %x[0] [8] [1] : tensor<18xf32> to tensor<8xf32>
    %k = tensor.expand_shape %ks [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
    %vs = tensor.extract_slice %x[8] [8] [1] : tensor<18xf32> to tensor<8xf32>
    %v = tensor.expand_shape %vs [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
    %lr = tensor.extract_slice %x[16] [2] [1] : tensor<18xf32> to tensor<2xf32>
    %y = nl.read @M(%k) : tensor<2x4xf32> -> tensor<2x4xf32>
    nl.update @M key(%k : tensor<2x4xf32>) value(%v : tensor<2x4xf32>) lr(%lr : tensor<2xf32>)
    %o = tensor.collapse_shape %y [[0, 1]] : tensor<2x4xf32> into tensor<8xf32>
    nl.yield %o : tensor<8xf32>
  }
}

// -----

// MLP memories the chunk form does not compute: the step stays as it is.
// CHECK-LABEL: nl.model @per_token
// CHECK-NOT: nl.chunk_step
nl.model @per_token attributes {dim = 4} {
  // expected-remark @below {{model @per_token keeps its per-token form only: level @M (an MLP memory) learns every token (its weights change within the chunk) and no slower level is lifted around it, which the chunk form does not compute}}
  nl.level @M period 1 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @W : !nl.mlp<[4, 8, 4], silu> = #nl.normal<std = 0.1>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @M(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %y : tensor<4xf32>
  }
}

// -----

// CHECK-LABEL: nl.model @momentum
// CHECK-NOT: nl.chunk_step
nl.model @momentum attributes {dim = 4} {
  // expected-remark @below {{model @momentum keeps its per-token form only: level @M (an MLP memory) keeps buffers besides its memory, which the chunk form does not compute}}
  nl.level @M period 4 rule <objective = l2, algorithm = momentum, grad_at = chunk_start, read = before_write> {
    nl.state @W : !nl.mlp<[4, 8, 4], silu> = #nl.normal<std = 0.1>
    nl.state @S : !nl.mlp<[4, 8, 4], silu> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    %eta = arith.constant dense<0.9> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) momentum_decay(%eta : tensor<f32>)
    %y = nl.read @M(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %y : tensor<4xf32>
  }
}

// -----

// CHECK-LABEL: nl.model @decay
// CHECK-NOT: nl.chunk_step
nl.model @decay attributes {dim = 4} {
  // expected-remark @below {{model @decay keeps its per-token form only: level @M (an MLP memory) has retention decay, which the chunk form does not compute}}
  nl.level @M period 4 rule <objective = l2, retention = decay, grad_at = chunk_start, read = before_write> {
    nl.state @W : !nl.mlp<[4, 8, 4], silu> = #nl.normal<std = 0.1>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    %a = arith.constant dense<0.9> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) retain(%a : tensor<f32>)
    %y = nl.read @M(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %y : tensor<4xf32>
  }
}

// -----

// A read at the in-chunk weights written before the level's update: the
// chunk form builds it after the update (its dual form needs the chunk's
// gradients), as nl-to-loops orders the step.
// CHECK-LABEL: nl.model @prefix_first
// CHECK: nl.chunk_step size 4
// CHECK: nl.assign @M(
// CHECK: nl.tril
nl.model @prefix_first attributes {dim = 8} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start, read = chunk_prefix> {
    nl.state @W : !nl.mlp<[4, 8, 4], silu> = #nl.normal<std = 0.1>
  }
  nl.step(%x : tensor<8xf32>) -> tensor<4xf32> {
    %k = tensor.extract_slice %x[0] [4] [1] : tensor<8xf32> to tensor<4xf32>
    %v = tensor.extract_slice %x[4] [4] [1] : tensor<8xf32> to tensor<4xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    %y = nl.read @M(%k) : tensor<4xf32> -> tensor<4xf32>
    nl.update @M key(%k : tensor<4xf32>) value(%v : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %y : tensor<4xf32>
  }
}
