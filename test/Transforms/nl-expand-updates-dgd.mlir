// RUN: nl-opt %s --split-input-file --pass-pipeline='builtin.module(nl.model(nl-verify-schedule,nl-expand-updates))' | FileCheck %s

// DGD (ambiguity A5), Sherman-Morrison: the gradient is scaled by
// lr / (1 + lr ||k||^2), in place of the lr.
// CHECK-LABEL: nl.model @sherman_morrison
// CHECK:      %[[LR:.*]] = arith.constant dense<5.000000e-01>
// CHECK:      %[[E:.*]] = nl.sub
// CHECK-NEXT: %[[KK:.*]] = nl.mul %[[K:.*]], %[[K]]
// CHECK-NEXT: %[[N:.*]] = nl.sum %[[KK]] : tensor<4xf32> -> tensor<1xf32>
// CHECK-NEXT: %[[LN:.*]] = nl.mul %[[LR]], %[[N]]
// CHECK-NEXT: %[[ONE:.*]] = arith.constant dense<1.000000e+00>
// CHECK-NEXT: %[[DEN:.*]] = nl.add %[[ONE]], %[[LN]]
// CHECK-NEXT: %[[STEP:.*]] = nl.div %[[LR]], %[[DEN]]
// CHECK-NEXT: %[[G:.*]] = nl.outer %[[E]], %[[K]]
// CHECK-NEXT: %[[S:.*]] = tensor.expand_shape %[[STEP]]
// CHECK-NEXT: %[[A:.*]] = nl.mul %[[G]], %[[S]]
// CHECK-NEXT: nl.learn @S {
// CHECK-NEXT:   nl.store @S::@__acc(%[[A]]
nl.model @sherman_morrison attributes {dim = 4} {
  nl.level @S period 1 rule <objective = l2, algorithm = dgd> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.5> : tensor<f32>
    nl.update @S key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    %o = nl.read @S(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %o : tensor<4xf32>
  }
}

// -----

// unit_norm: lr / (1 + lr).
// CHECK-LABEL: nl.model @unit_norm
// CHECK:      %[[LR:.*]] = arith.constant dense<5.000000e-01>
// CHECK:      %[[ONE:.*]] = arith.constant dense<1.000000e+00>
// CHECK-NEXT: %[[DEN:.*]] = nl.add %[[ONE]], %[[LR]]
// CHECK-NEXT: %[[STEP:.*]] = nl.div %[[LR]], %[[DEN]]
// CHECK-NOT:  nl.sum
nl.model @unit_norm attributes {dim = 4} {
  nl.level @S period 1 rule <objective = l2, algorithm = dgd, dgd_step = unit_norm> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.5> : tensor<f32>
    nl.update @S key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    %o = nl.read @S(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %o : tensor<4xf32>
  }
}

// -----

// undamped (camera-ready Eq 28): M (I - k k^T) - lr (M k - v) k^T, i.e. the
// row factor (e + v) + lr e, with no further lr.
// CHECK-LABEL: nl.model @undamped
// CHECK:      %[[LR:.*]] = arith.constant dense<5.000000e-01>
// CHECK:      %[[E:.*]] = nl.sub %{{.*}}, %[[V:.*]] :
// CHECK-NEXT: %[[P:.*]] = nl.add %[[E]], %[[V]]
// CHECK-NEXT: %[[LE:.*]] = nl.mul %[[LR]], %[[E]]
// CHECK-NEXT: %[[C:.*]] = nl.add %[[P]], %[[LE]]
// CHECK-NEXT: %[[G:.*]] = nl.outer %[[C]], %{{.*}}
// CHECK-NEXT: nl.learn @S {
// CHECK-NEXT:   nl.store @S::@__acc(%[[G]]
nl.model @undamped attributes {dim = 4} {
  nl.level @S period 1 rule <objective = l2, algorithm = dgd, dgd_step = undamped> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.5> : tensor<f32>
    nl.update @S key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    %o = nl.read @S(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %o : tensor<4xf32>
  }
}
