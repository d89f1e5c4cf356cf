// RUN: nl-opt %s --pass-pipeline='builtin.module(nl.model(nl-verify-schedule,nl-expand-mlp,nl-derive-gradients,nl-expand-updates))' | FileCheck %s

// An MLP memory of period 2, after nl-expand-mlp and nl-derive-gradients:
// one accumulator per stored tensor; the views of the weights become one
// load per tensor (@M::@M::@w0); the derived gradients, lr-weighted, join
// the pending chunk; the apply decays and steps each tensor and clears its
// accumulator.
// CHECK-LABEL: nl.model @mlp
// CHECK:      nl.state @__acc.w0 : tensor<8x4xf32> = #nl.zeros role accumulator
// CHECK-NEXT: nl.state @__acc.w1 : tensor<4x8xf32> = #nl.zeros role accumulator
// CHECK-NEXT: nl.state @__gate.M.lr : tensor<f32> = #nl.zeros role gate
// CHECK-NEXT: nl.state @__gate.M.retain : tensor<f32> = #nl.zeros role gate
// CHECK:      %[[LR:.*]] = arith.constant dense<5.000000e-01> : tensor<f32>
// CHECK:      %[[W0:.*]] = nl.load @M::@M::@w0 : tensor<8x4xf32>
// CHECK-NEXT: %[[W1:.*]] = nl.load @M::@M::@w1 : tensor<4x8xf32>
// CHECK:      %[[G1:.*]] = nl.outer
// CHECK:      %[[G0:.*]] = nl.outer
// CHECK-NEXT: %[[A0:.*]] = nl.mul %[[G0]], %[[LR]] : tensor<8x4xf32>
// CHECK-NEXT: %[[A1:.*]] = nl.mul %[[G1]], %[[LR]] : tensor<4x8xf32>
// CHECK-NEXT: nl.learn @M {
// CHECK:        nl.store @M::@__acc.w0
// CHECK:        nl.store @M::@__acc.w1
// CHECK:      nl.apply @M {
// CHECK-NEXT:   %[[R:.*]] = nl.load @M::@__gate.M.retain
// CHECK-NEXT:   %[[C0:.*]] = nl.load @M::@__acc.w0
// CHECK-NEXT:   %[[O0:.*]] = nl.load @M::@M::@w0
// CHECK-NEXT:   %[[K0:.*]] = nl.mul %[[O0]], %[[R]]
// CHECK-NEXT:   %[[N0:.*]] = nl.sub %[[K0]], %[[C0]]
// CHECK-NEXT:   nl.store @M::@M::@w0(%[[N0]]
// CHECK:        nl.store @M::@__acc.w0
// CHECK:        nl.store @M::@M::@w1
// CHECK:        nl.store @M::@__acc.w1
// CHECK:      }
// CHECK-NEXT: nl.load @M::@M::@w0
// CHECK-NEXT: nl.load @M::@M::@w1
// CHECK-NOT:  nl.weights
// CHECK-NOT:  nl.update
nl.model @mlp attributes {dim = 4} {
  nl.level @M period 2 rule <objective = l2, retention = decay> {
    nl.state @M : !nl.mlp<[4, 8, 4], silu> = #nl.normal<std = 0.1>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.5> : tensor<f32>
    %a = arith.constant dense<0.9> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) retain(%a : tensor<f32>)
    %o = nl.read @M(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %o : tensor<4xf32>
  }
}
