// RUN: nl-opt %s | nl-opt | FileCheck %s
// RUN: nl-opt %s --mlir-print-op-generic | nl-opt | FileCheck %s

// The differentiation ops print and parse back to themselves.
// CHECK-LABEL: nl.model @m
nl.model @m attributes {dim = 4, heads = 2} {
  nl.level @M period 2 rule <objective = l2, grad_at = chunk_start> {
    nl.state @W : !nl.mlp<[2, 3, 2], silu, bias, heads = 2> = #nl.normal<std = 0.1>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<2x2xf32> {
    %k = tensor.expand_shape %x [[0, 1]] output_shape [2, 2] : tensor<4xf32> into tensor<2x2xf32>
    // CHECK: %[[W:.*]]:4 = nl.weights @M : tensor<2x3x2xf32>, tensor<2x3xf32>, tensor<2x2x3xf32>, tensor<2x2xf32>
    %w0, %b0, %w1, %b1 = nl.weights @M : tensor<2x3x2xf32>, tensor<2x3xf32>, tensor<2x2x3xf32>, tensor<2x2xf32>
    // CHECK: nl.weights @M after_write :
    %v0, %c0, %v1, %c1 = nl.weights @M after_write : tensor<2x3x2xf32>, tensor<2x3xf32>, tensor<2x2x3xf32>, tensor<2x2xf32>
    // CHECK: nl.grad(%[[W]]#0) : tensor<2x3x2xf32> -> tensor<2x3x2xf32> {
    %g = nl.grad (%w0) : tensor<2x3x2xf32> -> tensor<2x3x2xf32> {
    ^bb0(%a: tensor<2x3x2xf32>):
      // CHECK: nl.linear %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x2xf32>, tensor<2x3x2xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
      %z = nl.linear %k, %a, %b0 : (tensor<2x2xf32>, tensor<2x3x2xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
      // CHECK: nl.stop_grad %{{.*}} : tensor<2x3xf32>
      %s = nl.stop_grad %z : tensor<2x3xf32>
      %p = nl.mul %z, %s : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
      // CHECK: nl.sum %{{.*}} : tensor<2x3xf32> -> tensor<f32>
      %l = nl.sum %p : tensor<2x3xf32> -> tensor<f32>
      // CHECK: nl.yield %{{.*}} : tensor<f32>
      nl.yield %l : tensor<f32>
    }
    // CHECK: nl.sum %{{.*}} : tensor<2x3xf32> -> tensor<2x1xf32>
    %r = nl.sum %b0 : tensor<2x3xf32> -> tensor<2x1xf32>
    // CHECK: nl.outer %{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<2x2xf32> -> tensor<2x3x2xf32>
    %o = nl.outer %b0, %k : tensor<2x3xf32>, tensor<2x2xf32> -> tensor<2x3x2xf32>
    // CHECK: nl.act_grad gelu_tanh %{{.*}}, %{{.*}} : tensor<2x3xf32>
    %d = nl.act_grad gelu_tanh %b0, %c0 : tensor<2x3xf32>
    // CHECK: nl.norm_grad layer %{{.*}}, %{{.*}} scale %{{.*}} {eps = 1.000000e-05 : f64} : (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<2x2xf32>
    %sc = arith.constant dense<1.0> : tensor<2xf32>
    %n = nl.norm_grad layer %k, %b1 scale %sc {eps = 1.0e-05 : f64} : (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<2x2xf32>
    // CHECK: nl.linear %{{.*}}, %{{.*}} {transpose_weight} : (tensor<2x3xf32>, tensor<2x3x2xf32>) -> tensor<2x2xf32>
    %t = nl.linear %d, %w0 {transpose_weight} : (tensor<2x3xf32>, tensor<2x3x2xf32>) -> tensor<2x2xf32>
    %lr = arith.constant dense<0.1> : tensor<2xf32>
    // CHECK: nl.update @M grad(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x3x2xf32>, tensor<2x3xf32>, tensor<2x2x3xf32>, tensor<2x2xf32>) lr(%{{.*}} : tensor<2xf32>)
    nl.update @M grad(%g, %d, %w1, %b1 : tensor<2x3x2xf32>, tensor<2x3xf32>, tensor<2x2x3xf32>, tensor<2x2xf32>) lr(%lr : tensor<2xf32>)
    nl.yield %t : tensor<2x2xf32>
  }
}
