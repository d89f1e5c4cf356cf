// RUN: nl-opt %s --pass-pipeline='builtin.module(func.func(nl-parallelize-cpu{min-work=1000}))' | FileCheck %s

// The heavy loop (8 x 64 iterations of a 64-term row) stays parallel over its
// outer dimension, with its inner dimension and nested loop as scf.for; the
// small map (8 iterations) runs in order.
// CHECK-LABEL: func.func @step
// CHECK:         scf.parallel (%[[H:.+]]) = (%{{.+}}) to (%{{.+}}) step (%{{.+}}) {
// CHECK-NEXT:      scf.for %[[R:.+]] = %{{.+}} to %{{.+}} step %{{.+}} {
// CHECK:             scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} iter_args
// CHECK:             scf.for %[[C:.+]] =
// CHECK:               memref.store %{{.+}}, %{{.+}}[%[[H]], %[[R]], %[[C]]]
// CHECK:         scf.reduce
// CHECK-NOT:     scf.parallel
// CHECK:         scf.for %[[I:.+]] = %{{.+}} to %{{.+}} step
// CHECK:           memref.store %{{.+}}, %{{.+}}[%[[I]]]
func.func @step(%m: memref<8x64x64xf32>, %k: memref<64xf32>, %g: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%h, %r) = (%c0, %c0) to (%c8, %c64) step (%c1, %c1) {
    %s = scf.for %c = %c0 to %c64 step %c1 iter_args(%a = %zero) -> (f32) {
      %v = memref.load %m[%h, %r, %c] : memref<8x64x64xf32>
      %w = memref.load %k[%c] : memref<64xf32>
      %p = arith.mulf %v, %w : f32
      %n = arith.addf %a, %p : f32
      scf.yield %n : f32
    }
    scf.parallel (%c) = (%c0) to (%c64) step (%c1) {
      %w = memref.load %k[%c] : memref<64xf32>
      %u = arith.mulf %s, %w : f32
      memref.store %u, %m[%h, %r, %c] : memref<8x64x64xf32>
      scf.reduce
    }
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    memref.store %zero, %g[%i] : memref<8xf32>
    scf.reduce
  }
  return
}
