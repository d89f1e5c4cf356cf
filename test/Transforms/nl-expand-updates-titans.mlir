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

// -----

// chunk_apply = every_token (the Titans paper's mini-batch form): the
// gradient at the chunk-start memory M0 = fresh ? M : @__chunk_start; the
// learn stores M0, clears fresh and applies the step at once (live gates);
// the apply, at the chunk's end, only sets fresh.
// CHECK-LABEL: nl.model @titans_minibatch
// CHECK:      nl.state @__chunk_start : tensor<4x4xf32> = #nl.zeros role snapshot
// CHECK-NEXT: nl.state @__chunk_fresh : tensor<1xf32> = #nl.ones role snapshot
// CHECK:      %[[M:.*]] = nl.load @memory::@M
// CHECK-NEXT: %[[F:.*]] = nl.load @memory::@__chunk_fresh
// CHECK:      %[[STALE:.*]] = nl.sub %{{.*}}, %[[F]]
// CHECK-NEXT: %[[OLD:.*]] = nl.load @memory::@__chunk_start
// CHECK-NEXT: %[[MF:.*]] = nl.mul %[[M]], %[[F]]
// CHECK-NEXT: %[[SF:.*]] = nl.mul %[[OLD]], %[[STALE]]
// CHECK-NEXT: %[[M0:.*]] = nl.add %[[MF]], %[[SF]]
// CHECK-NEXT: nl.linear %{{.*}}, %[[M0]]
// CHECK:      nl.learn @memory {
// CHECK-NEXT:   nl.store @memory::@__chunk_start(%[[M0]]
// CHECK:        nl.store @memory::@__chunk_fresh
// CHECK:        nl.store @momentum::@S
// CHECK:        nl.store @memory::@M
// CHECK-NEXT: }
// CHECK-NEXT: nl.apply @memory {
// CHECK-NEXT:   %[[ONE:.*]] = arith.constant dense<1.000000e+00> : tensor<1xf32>
// CHECK-NEXT:   nl.store @memory::@__chunk_fresh(%[[ONE]]
// CHECK-NEXT: }
nl.model @titans_minibatch attributes {dim = 4} {
  nl.level @momentum period 4 rule <objective = linear, retention = decay> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @memory period 4 rule <objective = l2, retention = decay, algorithm = momentum, via = [@momentum], grad_at = chunk_start, chunk_apply = every_token> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %theta = arith.constant dense<0.1> : tensor<f32>
    %eta = arith.constant dense<0.9> : tensor<f32>
    %alpha = arith.constant dense<0.95> : tensor<f32>
    %one = arith.constant dense<1.0> : tensor<f32>
    nl.update @momentum lr(%theta : tensor<f32>) retain(%eta : tensor<f32>)
    nl.update @memory key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%one : tensor<f32>) retain(%alpha : tensor<f32>)
    %o = nl.read @memory(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %o : tensor<4xf32>
  }
}
