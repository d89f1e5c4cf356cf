// RUN: nl-opt %s --split-input-file --pass-pipeline='builtin.module(nl.model(nl-verify-schedule,nl-expand-updates))' | FileCheck %s

// Gated DeltaNet: decay before the gradient step. The error is taken at the
// decayed state, and the apply keeps retain * S.
// CHECK-LABEL: nl.model @gdn
// CHECK:      %[[LR:.*]] = arith.constant dense<5.000000e-01>
// CHECK:      %[[A:.*]] = arith.constant dense<0.899999976>
// CHECK:      %[[S:.*]] = nl.load @S::@S : tensor<4x4xf32>
// CHECK-NEXT: %[[D:.*]] = nl.mul %[[S]], %[[A]]
// CHECK-NEXT: %[[P:.*]] = nl.linear %{{.*}}, %[[D]]
// CHECK:      nl.apply @S {
// CHECK:        %[[OLD:.*]] = nl.load @S::@S
// CHECK-NEXT:   %[[KEPT:.*]] = nl.mul %[[OLD]], %[[A]]
// CHECK-NEXT:   %[[NEW:.*]] = nl.sub %[[KEPT]]
// CHECK-NEXT:   nl.store @S::@S(%[[NEW]]
nl.model @gdn attributes {dim = 4} {
  nl.level @S period 1 rule <objective = l2, retention = decay, decay_order = before_grad> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %beta = arith.constant dense<0.5> : tensor<f32>
    %a = arith.constant dense<0.9> : tensor<f32>
    nl.update @S key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%beta : tensor<f32>) retain(%a : tensor<f32>)
    %o = nl.read @S(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %o : tensor<4xf32>
  }
}

// -----

// Decoupled decay (Titans' order): the error at the old state, unscaled.
// CHECK-LABEL: nl.model @decoupled
// CHECK:      %[[S:.*]] = nl.load @S::@S : tensor<4x4xf32>
// CHECK-NEXT: nl.linear %{{.*}}, %[[S]]
nl.model @decoupled attributes {dim = 4} {
  nl.level @S period 1 rule <objective = l2, retention = decay> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %beta = arith.constant dense<0.5> : tensor<f32>
    %a = arith.constant dense<0.9> : tensor<f32>
    nl.update @S key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%beta : tensor<f32>) retain(%a : tensor<f32>)
    %o = nl.read @S(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %o : tensor<4xf32>
  }
}
