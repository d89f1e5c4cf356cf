// RUN: nl-opt %s | nl-opt | FileCheck %s

// The explicit-update form prints and parses back: bookkeeping states with
// their role, loads and stores of a matrix memory, a buffer and an MLP
// memory's stored tensor, and the learn/apply regions.
// CHECK-LABEL: nl.model @explicit
// CHECK:      nl.state @__acc : tensor<4x4xf32> = #nl.zeros role accumulator
// CHECK-NEXT: nl.state @__gate.S.lr : tensor<f32> = #nl.zeros role gate
// CHECK:      nl.learn @S {
// CHECK-NEXT:   %[[A:.*]] = nl.load @S::@__acc : tensor<4x4xf32>
// CHECK:        nl.store @S::@__acc(%{{.*}} : tensor<4x4xf32>)
// CHECK:      nl.apply @S {
// CHECK:        nl.store @S::@S(%{{.*}} : tensor<4x4xf32>)
// CHECK:      nl.load @M::@M::@w0 : tensor<8x4xf32>
nl.model @explicit attributes {dim = 4} {
  nl.level @S period 2 rule <objective = l2> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
    nl.state @__acc : tensor<4x4xf32> = #nl.zeros role accumulator
    nl.state @__gate.S.lr : tensor<f32> = #nl.zeros role gate
  }
  nl.level @M period frozen {
    nl.state @M : !nl.mlp<[4, 8, 4], silu> = #nl.normal<std = 0.1>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.5> : tensor<f32>
    %g = nl.outer %x, %x : tensor<4xf32>, tensor<4xf32> -> tensor<4x4xf32>
    nl.learn @S {
      %acc = nl.load @S::@__acc : tensor<4x4xf32>
      %sum = nl.add %acc, %g : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
      nl.store @S::@__acc(%sum : tensor<4x4xf32>)
      nl.store @S::@__gate.S.lr(%lr : tensor<f32>)
    }
    nl.apply @S {
      %l = nl.load @S::@__gate.S.lr : tensor<f32>
      %acc = nl.load @S::@__acc : tensor<4x4xf32>
      %m = nl.load @S::@S : tensor<4x4xf32>
      %step = nl.mul %acc, %l : tensor<4x4xf32>, tensor<f32> -> tensor<4x4xf32>
      %m1 = nl.sub %m, %step : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
      nl.store @S::@S(%m1 : tensor<4x4xf32>)
      %z = arith.constant dense<0.0> : tensor<4x4xf32>
      nl.store @S::@__acc(%z : tensor<4x4xf32>)
    }
    %w0 = nl.load @M::@M::@w0 : tensor<8x4xf32>
    %h = nl.linear %x, %w0 : (tensor<4xf32>, tensor<8x4xf32>) -> tensor<8xf32>
    %s = nl.load @S::@S : tensor<4x4xf32>
    %o = nl.linear %x, %s : (tensor<4xf32>, tensor<4x4xf32>) -> tensor<4xf32>
    nl.yield %o : tensor<4xf32>
  }
}
