// RUN: nl-opt %s --split-input-file --pass-pipeline='builtin.module(nl.model(nl-verify-schedule,nl-expand-updates))' | FileCheck %s

// Hebbian memory (linear attention): the dot objective's gradient -v k^T
// needs no read of the state; a read before the write loads the old state
// above the apply.
// CHECK-LABEL: nl.model @hebbian
// CHECK:      nl.step(%[[X:.*]]: tensor<4xf32>)
// CHECK:      %[[S0:.*]] = nl.load @S::@S
// CHECK-NEXT: %[[O:.*]] = nl.linear %[[X]], %[[S0]]
// CHECK:      %[[NV:.*]] = arith.negf %[[X]] : tensor<4xf32>
// CHECK-NEXT: %[[G:.*]] = nl.outer %[[NV]], %[[X]]
// CHECK:      nl.learn @S
// CHECK:      nl.apply @S
// CHECK:      nl.yield %[[O]]
nl.model @hebbian attributes {dim = 4} {
  nl.level @S period 1 rule <objective = dot, read = before_write> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @S key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    %o = nl.read @S(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %o : tensor<4xf32>
  }
}
