// RUN: nl-opt %s --split-input-file --nl-derive-gradients | FileCheck %s

// The l2 objective of a linear map: dW = 2 (W k - v) k^T, with the seed's
// multiplications by 1 folded away.
// CHECK-LABEL: func.func @l2_linear
// CHECK-SAME: (%[[K:.*]]: tensor<4xf32>, %[[V:.*]]: tensor<3xf32>, %[[W:.*]]: tensor<3x4xf32>)
// CHECK-NOT: nl.grad
// CHECK: %[[Y:.*]] = nl.linear %[[K]], %[[W]]
// CHECK: %[[E:.*]] = nl.sub %[[Y]], %[[V]]
// CHECK: %[[DE:.*]] = nl.add %[[E]], %[[E]]
// CHECK: %[[G:.*]] = nl.outer %[[DE]], %[[K]] : tensor<3xf32>, tensor<4xf32> -> tensor<3x4xf32>
// CHECK-NOT: arith.constant
// CHECK: return %[[G]]
func.func @l2_linear(%k: tensor<4xf32>, %v: tensor<3xf32>, %w: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %g = nl.grad (%w) : tensor<3x4xf32> -> tensor<3x4xf32> {
  ^bb0(%a: tensor<3x4xf32>):
    %y = nl.linear %k, %a : (tensor<4xf32>, tensor<3x4xf32>) -> tensor<3xf32>
    %e = nl.sub %y, %v : tensor<3xf32>, tensor<3xf32> -> tensor<3xf32>
    %s = nl.mul %e, %e : tensor<3xf32>, tensor<3xf32> -> tensor<3xf32>
    %l = nl.sum %s : tensor<3xf32> -> tensor<f32>
    nl.yield %l : tensor<f32>
  }
  return %g : tensor<3x4xf32>
}

// -----

// Two layers: the input gradient of the second layer is a transposed
// linear, the activation's is nl.act_grad at the pre-activation, the bias
// gets dy itself; the gradients come back in argument order.
// CHECK-LABEL: func.func @two_layers
// CHECK: %[[Z:.*]] = nl.linear %{{.*}}, %{{.*}}, %{{.*}} : (tensor<3xf32>, tensor<5x3xf32>, tensor<5xf32>)
// CHECK: %[[H:.*]] = nl.act silu %[[Z]]
// CHECK: nl.linear %[[H]], %[[W1:[^ ]*]] :
// The objective is sum(y * c), so dy is c itself.
// CHECK: %[[DH:.*]] = nl.linear %[[C:[^,]*]], %[[W1]] {transpose_weight} : (tensor<2xf32>, tensor<2x5xf32>) -> tensor<5xf32>
// CHECK: %[[GW1:.*]] = nl.outer %[[C]], %[[H]] : tensor<2xf32>, tensor<5xf32> -> tensor<2x5xf32>
// CHECK: %[[DZ:.*]] = nl.act_grad silu %[[Z]], %[[DH]] : tensor<5xf32>
// CHECK: %[[GW0:.*]] = nl.outer %[[DZ]], %{{.*}} : tensor<5xf32>, tensor<3xf32> -> tensor<5x3xf32>
// CHECK: return %[[GW0]], %[[DZ]], %[[GW1]]
func.func @two_layers(%k: tensor<3xf32>, %c: tensor<2xf32>, %w0: tensor<5x3xf32>, %b0: tensor<5xf32>, %w1: tensor<2x5xf32>)
    -> (tensor<5x3xf32>, tensor<5xf32>, tensor<2x5xf32>) {
  %g:3 = nl.grad (%w0, %b0, %w1) : tensor<5x3xf32>, tensor<5xf32>, tensor<2x5xf32> -> tensor<5x3xf32>, tensor<5xf32>, tensor<2x5xf32> {
  ^bb0(%a0: tensor<5x3xf32>, %a1: tensor<5xf32>, %a2: tensor<2x5xf32>):
    %z = nl.linear %k, %a0, %a1 : (tensor<3xf32>, tensor<5x3xf32>, tensor<5xf32>) -> tensor<5xf32>
    %h = nl.act silu %z : tensor<5xf32>
    %y = nl.linear %h, %a2 : (tensor<5xf32>, tensor<2x5xf32>) -> tensor<2xf32>
    %p = nl.mul %y, %c : tensor<2xf32>, tensor<2xf32> -> tensor<2xf32>
    %l = nl.sum %p : tensor<2xf32> -> tensor<f32>
    nl.yield %l : tensor<f32>
  }
  return %g#0, %g#1, %g#2 : tensor<5x3xf32>, tensor<5xf32>, tensor<2x5xf32>
}

// -----

// Broadcasting is differentiated by summing back: a per-head gate [2, 1]
// scaling [2, 4] gets nl.sum to [2, 1]; a weight shared by both heads gets
// the heads' outer products summed. The layer norm's input gradient is
// nl.norm_grad with the same eps.
// CHECK-LABEL: func.func @broadcast_and_norm
// CHECK-DAG: nl.sum %{{.*}} : tensor<2x4xf32> -> tensor<2x1xf32>
// CHECK-DAG: nl.norm_grad layer %{{.*}}, %{{.*}} {eps = 1.000000e-05 : f64} : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
// CHECK: %[[O:.*]] = nl.outer %{{.*}}, %{{.*}} : tensor<2x4xf32>, tensor<2x3xf32> -> tensor<2x4x3xf32>
// CHECK: nl.sum %[[O]] : tensor<2x4x3xf32> -> tensor<4x3xf32>
func.func @broadcast_and_norm(%x: tensor<2x3xf32>, %g: tensor<2x1xf32>, %w: tensor<4x3xf32>) -> (tensor<2x1xf32>, tensor<4x3xf32>) {
  %r:2 = nl.grad (%g, %w) : tensor<2x1xf32>, tensor<4x3xf32> -> tensor<2x1xf32>, tensor<4x3xf32> {
  ^bb0(%a: tensor<2x1xf32>, %b: tensor<4x3xf32>):
    %y = nl.linear %x, %b : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
    %n = nl.norm layer %y {eps = 1.0e-05 : f64} : (tensor<2x4xf32>) -> tensor<2x4xf32>
    %s = nl.mul %n, %a : tensor<2x4xf32>, tensor<2x1xf32> -> tensor<2x4xf32>
    %q = nl.mul %s, %s : tensor<2x4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
    %l = nl.sum %q : tensor<2x4xf32> -> tensor<f32>
    nl.yield %l : tensor<f32>
  }
  return %r#0, %r#1 : tensor<2x1xf32>, tensor<4x3xf32>
}

// -----

// nl.stop_grad cuts the path: d/dx sum(x * stop_grad(x)) = stop_grad(x)
// only; an argument the objective does not use gets zeros.
// CHECK-LABEL: func.func @stop_and_unused
// CHECK: %[[S:.*]] = nl.stop_grad %{{.*}} : tensor<3xf32>
// CHECK-NOT: nl.add
// CHECK: %[[Z:.*]] = arith.constant dense<0.000000e+00> : tensor<2xf32>
// CHECK-NEXT: return %[[S]], %[[Z]]
func.func @stop_and_unused(%x: tensor<3xf32>, %u: tensor<2xf32>) -> (tensor<3xf32>, tensor<2xf32>) {
  %r:2 = nl.grad (%x, %u) : tensor<3xf32>, tensor<2xf32> -> tensor<3xf32>, tensor<2xf32> {
  ^bb0(%a: tensor<3xf32>, %b: tensor<2xf32>):
    %s = nl.stop_grad %a : tensor<3xf32>
    %p = nl.mul %a, %s : tensor<3xf32>, tensor<3xf32> -> tensor<3xf32>
    %l = nl.sum %p : tensor<3xf32> -> tensor<f32>
    nl.yield %l : tensor<f32>
  }
  return %r#0, %r#1 : tensor<3xf32>, tensor<2xf32>
}

// -----

// The explicit form's products and slices: the cotangent of a row of
// A B is that row's ones scattered into zeros (the adjoint of
// extract_slice), then dA = dP B^T (nl.matmul with transpose_rhs).
// CHECK-LABEL: func.func @matmul_slice
// CHECK-SAME:    (%[[A:.*]]: tensor<2x3xf32>, %[[B:.*]]: tensor<3x4xf32>)
// CHECK:         %[[P:.*]] = nl.matmul %[[A]], %[[B]]
// CHECK-NEXT:    tensor.extract_slice %[[P]][1, 0] [1, 4] [1, 1]
// CHECK:         %[[ONES:.*]] = arith.constant dense<1.000000e+00> : tensor<4xf32>
// CHECK-NEXT:    %[[ZEROS:.*]] = arith.constant dense<0.000000e+00> : tensor<2x4xf32>
// CHECK-NEXT:    %[[DP:.*]] = tensor.insert_slice %[[ONES]] into %[[ZEROS]][1, 0] [1, 4] [1, 1]
// CHECK-NEXT:    %[[DA:.*]] = nl.matmul %[[DP]], %[[B]] {transpose_rhs} : tensor<2x4xf32>, tensor<3x4xf32> -> tensor<2x3xf32>
// CHECK-NEXT:    return %[[DA]]
func.func @matmul_slice(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) -> tensor<2x3xf32> {
  %g = nl.grad (%a) : tensor<2x3xf32> -> tensor<2x3xf32> {
  ^bb0(%x: tensor<2x3xf32>):
    %p = nl.matmul %x, %b : tensor<2x3xf32>, tensor<3x4xf32> -> tensor<2x4xf32>
    %row = tensor.extract_slice %p[1, 0] [1, 4] [1, 1] : tensor<2x4xf32> to tensor<4xf32>
    %s = nl.sum %row : tensor<4xf32> -> tensor<f32>
    nl.yield %s : tensor<f32>
  }
  return %g : tensor<2x3xf32>
}
