// RUN: nl-opt %s --split-input-file --pass-pipeline='builtin.module(nl.model(nl-expand-mlp))' | FileCheck %s

// A read becomes the MLP's forward pass over nl.weights (after the write,
// the level's default read order); the update becomes the l2 objective in an
// nl.grad region at the state before the write and an update taking one
// gradient per stored tensor with the original gates.
// CHECK-LABEL: nl.model @titans_mlp
// CHECK: nl.step(%[[X:.*]]: tensor<4xf32>)
// CHECK: %[[W:.*]]:2 = nl.weights @M : tensor<8x4xf32>, tensor<4x8xf32>
// CHECK: %[[G:.*]]:2 = nl.grad(%[[W]]#0, %[[W]]#1) : tensor<8x4xf32>, tensor<4x8xf32> -> tensor<8x4xf32>, tensor<4x8xf32> {
// CHECK: ^bb0(%[[A0:.*]]: tensor<8x4xf32>, %[[A1:.*]]: tensor<4x8xf32>):
// CHECK:   %[[Z:.*]] = nl.linear %[[X]], %[[A0]]
// CHECK:   %[[H:.*]] = nl.act silu %[[Z]] : tensor<8xf32>
// CHECK:   %[[O:.*]] = nl.linear %[[H]], %[[A1]]
// CHECK:   %[[Y:.*]] = nl.add %[[X]], %[[O]]
// CHECK:   %[[E:.*]] = nl.sub %[[Y]], %[[X]]
// CHECK:   %[[SQ:.*]] = nl.mul %[[E]], %[[E]]
// CHECK:   %[[T:.*]] = nl.sum %[[SQ]] : tensor<4xf32> -> tensor<f32>
// CHECK:   %[[L:.*]] = nl.mul %[[T]], %{{.*}} : tensor<f32>, tensor<f32> -> tensor<f32>
// CHECK:   nl.yield %[[L]] : tensor<f32>
// CHECK: nl.update @M grad(%[[G]]#0, %[[G]]#1 : tensor<8x4xf32>, tensor<4x8xf32>) lr(%{{.*}} : tensor<f32>) retain(%{{.*}} : tensor<f32>)
// CHECK-NOT: nl.read
// CHECK: %[[V:.*]]:2 = nl.weights @M after_write : tensor<8x4xf32>, tensor<4x8xf32>
// CHECK: nl.linear %[[X]], %[[V]]#0
nl.model @titans_mlp attributes {dim = 4} {
  nl.level @M period 1 rule <objective = l2, retention = decay> {
    nl.state @W : !nl.mlp<[4, 8, 4], silu, residual> = #nl.normal<std = 0.1>
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

// TTT: per-head weights and biases, the layer norm on the stack's output and
// the residual; l2 = full has no 1/2. A before_write read reads the old state.
// CHECK-LABEL: nl.model @ttt
// CHECK: %[[W:.*]]:4 = nl.weights @T : tensor<2x6x3xf32>, tensor<2x6xf32>, tensor<2x3x6xf32>, tensor<2x3xf32>
// CHECK: %[[Z:.*]] = nl.linear %{{.*}}, %[[W]]#0, %[[W]]#1 : (tensor<2x3xf32>, tensor<2x6x3xf32>, tensor<2x6xf32>) -> tensor<2x6xf32>
// CHECK: nl.act gelu_tanh %[[Z]]
// CHECK: nl.linear %{{.*}}, %[[W]]#2, %[[W]]#3 : (tensor<2x6xf32>, tensor<2x3x6xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: nl.norm layer %{{.*}} : (tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK: nl.add
// CHECK: nl.grad
// CHECK: %[[T:.*]] = nl.sum %{{.*}} : tensor<2x3xf32> -> tensor<f32>
// CHECK-NEXT: nl.yield %[[T]] : tensor<f32>
// CHECK: nl.update @T grad({{.*}} : tensor<2x6x3xf32>, tensor<2x6xf32>, tensor<2x3x6xf32>, tensor<2x3xf32>) lr(%{{.*}} : tensor<2xf32>)
nl.model @ttt attributes {dim = 6, heads = 2} {
  nl.level @T period 4 rule <objective = l2, l2 = full, grad_at = chunk_start, read = before_write> {
    nl.state @W : !nl.mlp<[3, 6, 3], gelu_tanh, bias, residual, norm = layer, heads = 2> = #nl.normal<std = 0.1>
  }
  nl.step(%x : tensor<6xf32>) -> tensor<2x3xf32> {
    %k = tensor.expand_shape %x [[0, 1]] output_shape [2, 3] : tensor<6xf32> into tensor<2x3xf32>
    %lr = arith.constant dense<0.1> : tensor<2xf32>
    %y = nl.read @T(%k) : tensor<2x3xf32> -> tensor<2x3xf32>
    nl.update @T key(%k : tensor<2x3xf32>) value(%k : tensor<2x3xf32>) lr(%lr : tensor<2xf32>)
    nl.yield %y : tensor<2x3xf32>
  }
}

// -----

// precond = delta (first layer, A21): the first layer's gradient gains
// (W0 k) k^T at the old state.
// CHECK-LABEL: nl.model @precond
// CHECK: %[[W:.*]]:2 = nl.weights @M : tensor<8x4xf32>, tensor<4x8xf32>
// CHECK: %[[G:.*]]:2 = nl.grad
// CHECK: %[[Z:.*]] = nl.linear %[[K:.*]], %[[W]]#0 : (tensor<4xf32>, tensor<8x4xf32>) -> tensor<8xf32>
// CHECK: %[[KK:.*]] = nl.outer %[[Z]], %[[K]] : tensor<8xf32>, tensor<4xf32> -> tensor<8x4xf32>
// CHECK: %[[G0:.*]] = nl.add %[[G]]#0, %[[KK]]
// CHECK: nl.update @M grad(%[[G0]], %[[G]]#1 :
nl.model @precond attributes {dim = 4} {
  nl.level @M period 1 rule <objective = l2, retention = decay, precond = delta> {
    nl.state @W : !nl.mlp<[4, 8, 4], silu, residual> = #nl.normal<std = 0.1>
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    %a = arith.constant dense<0.9> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) retain(%a : tensor<f32>)
    nl.yield
  }
}
