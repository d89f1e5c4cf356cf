// RUN: nl-opt %s --pass-pipeline='builtin.module(nl.model(nl-verify-schedule,nl-expand-updates))' | FileCheck %s

// The Omega rule (Atlas), window 3: three window states of role `window`
// (keys, values, step sizes of the last tokens, newest last) are shifted
// by one slot with this token's values; the step sums every slot's
// gradient (M k_i - v_i) k_i^T, taken at this token's M, times its own lr;
// the rings are stored in the nl.learn, before the accumulator.
// CHECK-LABEL: nl.model @omega
// CHECK:      nl.state @__omega_keys : tensor<3x4xf32> = #nl.zeros role window
// CHECK-NEXT: nl.state @__omega_values : tensor<3x4xf32> = #nl.zeros role window
// CHECK-NEXT: nl.state @__omega_lr : tensor<3xf32> = #nl.zeros role window
// CHECK:      nl.step(%[[X:.*]]: tensor<4xf32>)
// CHECK:      %[[M:.*]] = nl.load @S::@S : tensor<4x4xf32>
// CHECK:      %[[K0:.*]] = nl.load @S::@__omega_keys
// CHECK-NEXT: %[[KOLD:.*]] = tensor.extract_slice %[[K0]][1, 0] [2, 4] [1, 1]
// CHECK-NEXT: %[[KSH:.*]] = tensor.insert_slice %[[KOLD]] into %[[K0]][0, 0] [2, 4] [1, 1]
// CHECK-NEXT: %[[K:.*]] = tensor.insert_slice %[[X]] into %[[KSH]][2, 0] [1, 4] [1, 1] : tensor<4xf32> into tensor<3x4xf32>
// CHECK:      %[[L0:.*]] = nl.load @S::@__omega_lr
// CHECK:      %[[L:.*]] = tensor.insert_slice %[[LR:.*]] into %{{.*}}[2] [1] [1] : tensor<f32> into tensor<3xf32>
// Slot 0: its key and value, its gradient, its lr.
// CHECK-NEXT: %[[K_0:.*]] = tensor.extract_slice %[[K]][0, 0] [1, 4] [1, 1] : tensor<3x4xf32> to tensor<4xf32>
// CHECK-NEXT: %[[V_0:.*]] = tensor.extract_slice %[[V:.*]][0, 0] [1, 4] [1, 1] : tensor<3x4xf32> to tensor<4xf32>
// CHECK-NEXT: %[[P_0:.*]] = nl.linear %[[K_0]], %[[M]]
// CHECK-NEXT: %[[E_0:.*]] = nl.sub %[[P_0]], %[[V_0]]
// CHECK-NEXT: %[[G_0:.*]] = nl.outer %[[E_0]], %[[K_0]]
// CHECK-NEXT: %[[LR_0:.*]] = tensor.extract_slice %[[L]][0] [1] [1] : tensor<3xf32> to tensor<f32>
// CHECK-NEXT: %[[W_0:.*]] = nl.mul %[[G_0]], %[[LR_0]]
// CHECK-COUNT-2: nl.outer
// CHECK:      %[[SUM:.*]] = nl.add %{{.*}}, %{{.*}} : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
// CHECK-NEXT: nl.learn @S {
// CHECK-NEXT:   nl.store @S::@__omega_keys(%[[K]] : tensor<3x4xf32>)
// CHECK-NEXT:   nl.store @S::@__omega_values
// CHECK-NEXT:   nl.store @S::@__omega_lr(%[[L]] : tensor<3xf32>)
// CHECK-NEXT:   nl.store @S::@__acc(%[[SUM]] : tensor<4x4xf32>)
// CHECK-NEXT: }
// CHECK:      nl.apply @S {
// CHECK-NEXT:   %[[A:.*]] = nl.load @S::@__acc
// CHECK-NEXT:   %[[M1:.*]] = nl.load @S::@S
// CHECK-NEXT:   %[[KEPT:.*]] = nl.mul %[[M1]], %[[RET:[^ ,]+]]
// CHECK-NEXT:   %[[NEW:.*]] = nl.sub %[[KEPT]], %[[A]]
// CHECK-NEXT:   nl.store @S::@S(%[[NEW]]
// CHECK-NOT:  nl.update
nl.model @omega attributes {dim = 4} {
  nl.level @S period 1 rule <objective = l2, retention = decay, window = 3> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    %r = arith.constant dense<0.95> : tensor<f32>
    nl.update @S key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) retain(%r : tensor<f32>)
    %o = nl.read @S(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %o : tensor<4xf32>
  }
}
