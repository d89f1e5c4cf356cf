// RUN: nl-opt %s --pass-pipeline='builtin.module(nl.model(nl-verify-schedule,nl-expand-updates,nl-materialize-abi),nl-to-loops,canonicalize,cse)' | FileCheck %s

// The explicit-update form of a level of period 4 in the kernel form. The
// state arguments are the memory and the bookkeeping states nl-expand-updates
// declared (accumulator, stored lr and retain). The learn runs behind the
// level's active bit: the accumulator gains the token's gradient and the
// gates are stored; the apply behind active & fire: retain * M - acc into
// the memory and zeros into the accumulator. The flush entry holds the same
// apply behind the fire bit alone.
// CHECK-LABEL: func.func @chunked_step_impl(
// CHECK-SAME:    %[[M:[a-z0-9]+]]: memref<4x4xf32>, %[[ACC:[a-z0-9]+]]: memref<4x4xf32>,
// CHECK-SAME:    %[[LR:[a-z0-9]+]]: memref<f32>, %[[RET:[a-z0-9]+]]: memref<4xf32>,
// CHECK-SAME:    %{{[a-z0-9]+}}: memref<4xf32>, %{{[a-z0-9]+}}: memref<4xf32>,
// CHECK-SAME:    %[[ACTIVE:[a-z0-9]+]]: i64, %[[FIRE:[a-z0-9]+]]: i64)
// CHECK:       %[[A0:.*]] = arith.andi %[[ACTIVE]], %c1_i64
// CHECK-NEXT:  %[[ISACTIVE:.*]] = arith.cmpi ne, %[[A0]], %c0_i64
// CHECK-NEXT:  scf.if %[[ISACTIVE]] {
// CHECK:         memref.load %[[ACC]]
// CHECK:         memref.store %{{.*}}, %[[ACC]]
// CHECK:         memref.store %{{.*}}, %[[LR]][]
// CHECK:         memref.store %{{.*}}, %[[RET]]
// CHECK:       %[[F0:.*]] = arith.andi %[[FIRE]], %c1_i64
// CHECK-NEXT:  %[[FIRES:.*]] = arith.cmpi ne, %[[F0]], %c0_i64
// CHECK-NEXT:  %[[COND:.*]] = arith.andi %[[ISACTIVE]], %[[FIRES]]
// CHECK-NEXT:  scf.if %[[COND]] {
// CHECK:         memref.expand_shape %[[RET]]
// CHECK:         memref.load %[[M]]
// CHECK:         arith.mulf
// CHECK:         memref.load %[[ACC]]
// CHECK:         arith.subf
// CHECK:         memref.store %{{.*}}, %[[M]]
// CHECK:         memref.store %{{.*}}, %[[ACC]]
// CHECK:       return
// CHECK-LABEL: func.func @chunked_flush_impl(
// CHECK-SAME:    %[[FM:[a-z0-9]+]]: memref<4x4xf32>, %[[FACC:[a-z0-9]+]]: memref<4x4xf32>,
// CHECK-SAME:    %[[FFIRE:[a-z0-9]+]]: i64)
// CHECK:       %[[G0:.*]] = arith.andi %[[FFIRE]], %c1_i64
// CHECK-NEXT:  %[[GO:.*]] = arith.cmpi ne, %[[G0]], %c0_i64
// CHECK-NEXT:  scf.if %[[GO]] {
// CHECK:         memref.store %{{.*}}, %[[FM]]
// CHECK:         memref.store %{{.*}}, %[[FACC]]
// CHECK:       return
nl.model @chunked attributes {dim = 4} {
  nl.level @S period 4 rule <objective = l2, retention = decay> {
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
