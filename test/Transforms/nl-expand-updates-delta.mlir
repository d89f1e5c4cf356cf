// RUN: nl-opt %s --split-input-file --pass-pipeline='builtin.module(nl.model(nl-verify-schedule,nl-expand-updates))' | FileCheck %s

// The delta rule (DeltaNet), two heads, an lr per head: the gradient
// (S k - v) k^T at the state before the write, weighted per head, becomes
// this token's accumulator; the apply subtracts it; the read after the write
// loads the new state.
// CHECK-LABEL: nl.model @delta
// CHECK:      nl.state @S : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
// CHECK-NEXT: nl.state @__acc : tensor<2x4x4xf32> = #nl.zeros role accumulator
// CHECK:      nl.step(%[[X:.*]]: tensor<8xf32>)
// CHECK:      %[[K:.*]] = tensor.expand_shape %[[X]]
// CHECK:      %[[BETA:.*]] = arith.constant dense<5.000000e-01> : tensor<2xf32>
// CHECK:      %[[S:.*]] = nl.load @S::@S : tensor<2x4x4xf32>
// CHECK:      %[[P:.*]] = nl.linear %[[K]], %[[S]] : (tensor<2x4xf32>, tensor<2x4x4xf32>) -> tensor<2x4xf32>
// CHECK:      %[[E:.*]] = nl.sub %[[P]], %[[K]]
// CHECK:      %[[G:.*]] = nl.outer %[[E]], %[[K]] : tensor<2x4xf32>, tensor<2x4xf32> -> tensor<2x4x4xf32>
// CHECK:      %[[LR:.*]] = tensor.expand_shape %[[BETA]] {{\[\[}}0, 1, 2]] output_shape [2, 1, 1]
// CHECK:      %[[A:.*]] = nl.mul %[[G]], %[[LR]] : tensor<2x4x4xf32>, tensor<2x1x1xf32> -> tensor<2x4x4xf32>
// CHECK:      nl.learn @S {
// CHECK-NEXT:   nl.store @S::@__acc(%[[A]] : tensor<2x4x4xf32>)
// CHECK-NEXT: }
// CHECK-NEXT: nl.apply @S {
// CHECK-DAG:    %[[ACC:.*]] = nl.load @S::@__acc
// CHECK-DAG:    %[[OLD:.*]] = nl.load @S::@S
// CHECK:        %[[NEW:.*]] = nl.sub %[[OLD]], %[[ACC]]
// CHECK-NEXT:   nl.store @S::@S(%[[NEW]] : tensor<2x4x4xf32>)
// CHECK-NEXT: }
// CHECK-NEXT: %[[S1:.*]] = nl.load @S::@S
// CHECK-NEXT: %[[O:.*]] = nl.linear %[[K]], %[[S1]]
// CHECK-NEXT: nl.yield %[[O]]
// CHECK-NOT:  nl.update
nl.model @delta attributes {dim = 8, heads = 2} {
  nl.level @S period 1 rule <objective = l2> {
    nl.state @S : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
  }
  nl.step(%x : tensor<8xf32>) -> tensor<2x4xf32> {
    %k = tensor.expand_shape %x [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
    %beta = arith.constant dense<0.5> : tensor<2xf32>
    nl.update @S key(%k : tensor<2x4xf32>) value(%k : tensor<2x4xf32>) lr(%beta : tensor<2xf32>)
    %o = nl.read @S(%k) : tensor<2x4xf32> -> tensor<2x4xf32>
    nl.yield %o : tensor<2x4xf32>
  }
}

// -----

// The full L2 convention doubles the error; a read written above the update
// still sees the write (read = after_write): the order puts it after.
// CHECK-LABEL: nl.model @full_l2
// CHECK:      %[[E:.*]] = nl.sub
// CHECK-NEXT: %[[TWO:.*]] = arith.constant dense<2.000000e+00> : tensor<f32>
// CHECK-NEXT: %[[E2:.*]] = nl.mul %[[E]], %[[TWO]]
// CHECK-NEXT: nl.outer %[[E2]]
// CHECK:      nl.apply @S
// CHECK:      nl.store @S::@S
// CHECK-NEXT: }
// CHECK-NEXT: nl.load @S::@S
// CHECK-NEXT: %[[O:.*]] = nl.linear
// CHECK-NEXT: nl.yield %[[O]]
nl.model @full_l2 attributes {dim = 4} {
  nl.level @S period 1 rule <objective = l2, l2 = full> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %o = nl.read @S(%x) : tensor<4xf32> -> tensor<4xf32>
    %lr = arith.constant dense<0.5> : tensor<f32>
    nl.update @S key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %o : tensor<4xf32>
  }
}
