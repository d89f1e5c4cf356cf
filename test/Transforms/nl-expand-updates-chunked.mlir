// RUN: nl-opt %s --split-input-file --pass-pipeline='builtin.module(nl.model(nl-verify-schedule,nl-expand-updates))' | FileCheck %s

// A level of period 4: nl.learn adds the token's gradient to the pending
// chunk and keeps its gates; nl.apply (also the flush entry's) reads only
// states: the stored gates, the accumulator, and clears it. A retain gate
// per key channel meets the columns.
// CHECK-LABEL: nl.model @chunked
// CHECK:      nl.state @__acc : tensor<4x4xf32> = #nl.zeros role accumulator
// CHECK-NEXT: nl.state @__gate.S.lr : tensor<f32> = #nl.zeros role gate
// CHECK-NEXT: nl.state @__gate.S.retain : tensor<4xf32> = #nl.zeros role gate
// CHECK:      %[[LR:.*]] = arith.constant dense<5.000000e-01> : tensor<f32>
// CHECK-NEXT: %[[RET:.*]] = arith.constant dense<0.899999976> : tensor<4xf32>
// CHECK:      %[[A:.*]] = nl.mul %{{.*}}, %[[LR]]
// CHECK-NEXT: nl.learn @S {
// CHECK-NEXT:   %[[OLD:.*]] = nl.load @S::@__acc
// CHECK-NEXT:   %[[SUM:.*]] = nl.add %[[OLD]], %[[A]]
// CHECK-NEXT:   nl.store @S::@__acc(%[[SUM]]
// CHECK-NEXT:   nl.store @S::@__gate.S.lr(%[[LR]]
// CHECK-NEXT:   nl.store @S::@__gate.S.retain(%[[RET]]
// CHECK-NEXT: }
// CHECK-NEXT: nl.apply @S {
// CHECK-NEXT:   %[[R:.*]] = nl.load @S::@__gate.S.retain : tensor<4xf32>
// CHECK-NEXT:   %[[ACC:.*]] = nl.load @S::@__acc
// CHECK-NEXT:   %[[RC:.*]] = tensor.expand_shape %[[R]] {{\[\[}}0, 1]] output_shape [1, 4]
// CHECK-NEXT:   %[[M:.*]] = nl.load @S::@S
// CHECK-NEXT:   %[[KEPT:.*]] = nl.mul %[[M]], %[[RC]] : tensor<4x4xf32>, tensor<1x4xf32>
// CHECK-NEXT:   %[[M1:.*]] = nl.sub %[[KEPT]], %[[ACC]]
// CHECK-NEXT:   nl.store @S::@S(%[[M1]]
// CHECK-NEXT:   %[[Z:.*]] = arith.constant dense<0.000000e+00> : tensor<4x4xf32>
// CHECK-NEXT:   nl.store @S::@__acc(%[[Z]]
// CHECK-NEXT: }
nl.model @chunked attributes {dim = 4} {
  nl.level @S period 4 rule <objective = l2, retention = decay, grad_at = chunk_start> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.5> : tensor<f32>
    %a = arith.constant dense<0.9> : tensor<4xf32>
    nl.update @S key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) retain(%a : tensor<4xf32>)
    %o = nl.read @S(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %o : tensor<4xf32>
  }
}

// -----

// lr_placement = per_chunk: the chunk's gradients are summed unweighted and
// the stored lr scales the sum at the apply.
// CHECK-LABEL: nl.model @per_chunk
// CHECK:      %[[G:.*]] = nl.outer
// CHECK-NEXT: nl.learn @S {
// CHECK-NEXT:   %[[OLD:.*]] = nl.load @S::@__acc
// CHECK-NEXT:   nl.add %[[OLD]], %[[G]]
// CHECK:      nl.apply @S {
// CHECK-NEXT:   %[[L:.*]] = nl.load @S::@__gate.S.lr
// CHECK-NEXT:   %[[ACC:.*]] = nl.load @S::@__acc
// CHECK-NEXT:   %[[A:.*]] = nl.mul %[[ACC]], %[[L]]
nl.model @per_chunk attributes {dim = 4} {
  nl.level @S period 4 rule <objective = l2, lr_placement = per_chunk> {
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

// TTT's mini-batch reads (read = chunk_prefix): after this token's learn,
// the read sees the chunk-start memory less the pending chunk's
// lr-weighted gradients, this token's included: (M - G) q.
// CHECK-LABEL: nl.model @ttt
// CHECK:      nl.learn @S {
// CHECK:        nl.store @S::@__acc(
// CHECK:      nl.apply @S {
// CHECK:      }
// CHECK-NEXT: %[[M:.*]] = nl.load @S::@S : tensor<4x4xf32>
// CHECK-NEXT: %[[G:.*]] = nl.load @S::@__acc : tensor<4x4xf32>
// CHECK-NEXT: %[[W:.*]] = nl.sub %[[M]], %[[G]]
// CHECK-NEXT: %[[Y:.*]] = nl.linear %[[Q:.*]], %[[W]]
// CHECK-NEXT: nl.yield %[[Y]]
nl.model @ttt attributes {dim = 4} {
  nl.level @S period 4 rule <objective = l2, grad_at = chunk_start, read = chunk_prefix> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @S key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    %o = nl.read @S(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %o : tensor<4xf32>
  }
}
