// RUN: nl-opt %s --split-input-file --pass-pipeline='builtin.module(nl.model(nl-verify-schedule,nl-expand-updates))' | FileCheck %s

// Titans: momentum kept in its own level (via). The momentum level's lr
// (theta) weights the gradient, its retain (eta) decays S; the memory's
// retain (alpha) decays M and its lr scales S as it is applied. The
// momentum level's update is gone: the memory's apply stores its state.
// CHECK-LABEL: nl.model @titans
// CHECK:      %[[THETA:.*]] = arith.constant dense<1.000000e-01>
// CHECK-NEXT: %[[ETA:.*]] = arith.constant dense<0.899999976>
// CHECK-NEXT: %[[ALPHA:.*]] = arith.constant dense<9.900000e-01>
// CHECK-NEXT: %[[ONE:.*]] = arith.constant dense<1.000000e+00>
// CHECK:      %[[G:.*]] = nl.outer
// CHECK-NEXT: %[[A:.*]] = nl.mul %[[G]], %[[THETA]]
// CHECK:      nl.apply @memory {
// CHECK:        %[[ACC:.*]] = nl.load @memory::@__acc
// CHECK:        %[[M:.*]] = nl.load @memory::@M
// CHECK-NEXT:   %[[KEPT:.*]] = nl.mul %[[M]], %[[ALPHA]]
// CHECK-NEXT:   %[[S:.*]] = nl.load @momentum::@S
// CHECK-NEXT:   %[[DS:.*]] = nl.mul %[[S]], %[[ETA]]
// CHECK-NEXT:   %[[S1:.*]] = nl.sub %[[DS]], %[[ACC]]
// CHECK-NEXT:   nl.store @momentum::@S(%[[S1]]
// CHECK-NEXT:   %[[STEP:.*]] = nl.mul %[[S1]], %[[ONE]]
// CHECK-NEXT:   %[[M1:.*]] = nl.add %[[KEPT]], %[[STEP]]
// CHECK-NEXT:   nl.store @memory::@M(%[[M1]]
// CHECK-NOT:  nl.update
nl.model @titans attributes {dim = 4} {
  nl.level @momentum period 1 rule <objective = linear, retention = decay> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @memory period 1 rule <objective = l2, retention = decay, algorithm = momentum, via = [@momentum]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %theta = arith.constant dense<0.1> : tensor<f32>
    %eta = arith.constant dense<0.9> : tensor<f32>
    %alpha = arith.constant dense<0.99> : tensor<f32>
    %one = arith.constant dense<1.0> : tensor<f32>
    nl.update @momentum lr(%theta : tensor<f32>) retain(%eta : tensor<f32>)
    nl.update @memory key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%one : tensor<f32>) retain(%alpha : tensor<f32>)
    %o = nl.read @memory(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %o : tensor<4xf32>
  }
}

// -----

// The fused form: the momentum buffer is the level's second state, decayed
// by momentum_decay; the lr weights the gradient.
// CHECK-LABEL: nl.model @titans_fused
// CHECK:      %[[THETA:.*]] = arith.constant dense<1.000000e-01>
// CHECK-NEXT: %[[ETA:.*]] = arith.constant dense<0.899999976>
// CHECK:      nl.apply @memory {
// CHECK:        %[[S:.*]] = nl.load @memory::@S
// CHECK-NEXT:   %[[DS:.*]] = nl.mul %[[S]], %[[ETA]]
// CHECK-NEXT:   %[[S1:.*]] = nl.sub %[[DS]]
// CHECK-NEXT:   nl.store @memory::@S(%[[S1]]
// CHECK-NEXT:   %[[M1:.*]] = nl.add %{{.*}}, %[[S1]]
// CHECK-NEXT:   nl.store @memory::@M(%[[M1]]
nl.model @titans_fused attributes {dim = 4} {
  nl.level @memory period 1 rule <objective = l2, retention = decay, algorithm = momentum> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %theta = arith.constant dense<0.1> : tensor<f32>
    %eta = arith.constant dense<0.9> : tensor<f32>
    %alpha = arith.constant dense<0.99> : tensor<f32>
    nl.update @memory key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%theta : tensor<f32>) retain(%alpha : tensor<f32>) momentum_decay(%eta : tensor<f32>)
    %o = nl.read @memory(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %o : tensor<4xf32>
  }
}
