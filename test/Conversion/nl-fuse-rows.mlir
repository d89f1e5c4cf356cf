// RUN: nl-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(nl-fuse-rows))' | FileCheck %s

// A gradient into the accumulator (under the active bit), the apply (under
// the fire bit, one more dimension) and the read become one loop over
// (head, row): the guards move inside, the apply's columns become an scf.for,
// and the pure op between the loops moves above them.
// CHECK-LABEL: func.func @level
// CHECK:         %[[ON:.+]] = arith.cmpi ne
// CHECK:         %[[FIRE:.+]] = arith.andi
// CHECK:         scf.parallel (%[[H:.+]], %[[R:.+]]) =
// CHECK-NEXT:      scf.if %[[ON]] {
// CHECK:             memref.store %{{.+}}, %{{.+}}[%[[H]], %[[R]], %{{.+}}]
// CHECK:           scf.if %[[FIRE]] {
// CHECK-NEXT:        scf.for %[[C:.+]] =
// CHECK:               memref.store %{{.+}}, %{{.+}}[%[[H]], %[[R]], %[[C]]]
// CHECK:           memref.store %{{.+}}, %{{.+}}[%[[H]], %[[R]]] : memref<2x4xf32>
// CHECK:           scf.reduce
// CHECK-NOT:     scf.parallel
// CHECK:         return
func.func @level(%m: memref<2x4x4xf32>, %acc: memref<2x4x4xf32>,
                 %k: memref<2x4xf32>, %y: memref<2x4xf32>, %a: i64, %f: i64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %z = arith.constant 0 : i64
  %zero = arith.constant 0.0 : f32
  %on = arith.cmpi ne, %a, %z : i64
  scf.if %on {
    scf.parallel (%h, %r) = (%c0, %c0) to (%c2, %c4) step (%c1, %c1) {
      scf.parallel (%c) = (%c0) to (%c4) step (%c1) {
        %kv = memref.load %k[%h, %c] : memref<2x4xf32>
        %old = memref.load %acc[%h, %r, %c] : memref<2x4x4xf32>
        %new = arith.addf %old, %kv : f32
        memref.store %new, %acc[%h, %r, %c] : memref<2x4x4xf32>
        scf.reduce
      }
      scf.reduce
    }
  }
  %fb = arith.cmpi ne, %f, %z : i64
  %fire = arith.andi %on, %fb : i1
  scf.if %fire {
    scf.parallel (%h, %r, %c) = (%c0, %c0, %c0) to (%c2, %c4, %c4) step (%c1, %c1, %c1) {
      %g = memref.load %acc[%h, %r, %c] : memref<2x4x4xf32>
      %mv = memref.load %m[%h, %r, %c] : memref<2x4x4xf32>
      %n = arith.subf %mv, %g : f32
      memref.store %n, %m[%h, %r, %c] : memref<2x4x4xf32>
      memref.store %zero, %acc[%h, %r, %c] : memref<2x4x4xf32>
      scf.reduce
    }
  }
  scf.parallel (%h, %r) = (%c0, %c0) to (%c2, %c4) step (%c1, %c1) {
    %s = scf.for %c = %c0 to %c4 step %c1 iter_args(%t = %zero) -> (f32) {
      %mv = memref.load %m[%h, %r, %c] : memref<2x4x4xf32>
      %kv = memref.load %k[%h, %c] : memref<2x4xf32>
      %p = arith.mulf %mv, %kv : f32
      %u = arith.addf %t, %p : f32
      scf.yield %u : f32
    }
    memref.store %s, %y[%h, %r] : memref<2x4xf32>
    scf.reduce
  }
  return
}

// -----

// The second loop reads another row of what the first writes (a transpose):
// fusing would read rows not yet written, so the loops stay apart.
// CHECK-LABEL: func.func @transpose
// CHECK:         scf.parallel
// CHECK:         scf.reduce
// CHECK:         scf.parallel
func.func @transpose(%a: memref<4x4xf32>, %b: memref<4x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %one = arith.constant 1.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c4) step (%c1, %c1) {
    memref.store %one, %a[%i, %j] : memref<4x4xf32>
    scf.reduce
  }
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c4) step (%c1, %c1) {
    %v = memref.load %a[%j, %i] : memref<4x4xf32>
    memref.store %v, %b[%i, %j] : memref<4x4xf32>
    scf.reduce
  }
  return
}

// -----

// A per-token accumulator (nl.token_scratch) written and read only inside
// the fused loop, at (row, column): one row on the stack of each iteration,
// saved and restored around the body; the argument is no longer touched and
// loses the attribute.
// CHECK-LABEL: func.func @scratch_row
// CHECK-SAME:    %[[ACC:[^:]+]]: memref<4x4xf32>,
// CHECK-NOT:     nl.token_scratch
// CHECK:         scf.parallel (%[[R:.+]]) =
// CHECK-NEXT:      %[[SP:.+]] = llvm.intr.stacksave : !llvm.ptr
// CHECK-NEXT:      %[[ROW:.+]] = memref.alloca() : memref<4xf32>
// CHECK:             memref.store %{{.+}}, %[[ROW]][%{{.+}}] : memref<4xf32>
// CHECK:             memref.load %[[ROW]][%{{.+}}] : memref<4xf32>
// CHECK:           llvm.intr.stackrestore %[[SP]] : !llvm.ptr
// CHECK-NEXT:      scf.reduce
// CHECK-NOT:     %[[ACC]]
// CHECK:         return
func.func @scratch_row(%m: memref<4x4xf32>, %acc: memref<4x4xf32> {nl.token_scratch},
                       %k: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  scf.parallel (%r) = (%c0) to (%c4) step (%c1) {
    scf.for %c = %c0 to %c4 step %c1 {
      %kv = memref.load %k[%c] : memref<4xf32>
      memref.store %kv, %acc[%r, %c] : memref<4x4xf32>
    }
    scf.reduce
  }
  scf.parallel (%r, %c) = (%c0, %c0) to (%c4, %c4) step (%c1, %c1) {
    %g = memref.load %acc[%r, %c] : memref<4x4xf32>
    %old = memref.load %m[%r, %c] : memref<4x4xf32>
    %new = arith.subf %old, %g : f32
    memref.store %new, %m[%r, %c] : memref<4x4xf32>
    scf.reduce
  }
  return
}

// -----

// The same accumulator also read after the loop (say, a reset) keeps its
// memory: nothing changes but the attribute.
// CHECK-LABEL: func.func @scratch_escapes
// CHECK-NOT:     nl.token_scratch
// CHECK-NOT:     memref.alloca
// CHECK-NOT:     llvm.intr.stacksave
// CHECK:         memref.store %{{.+}}, %arg1[
// CHECK:         memref.load %arg1[
// CHECK:         memref.load %arg1[%{{.+}}, %{{.+}}] : memref<4x4xf32>
// CHECK:         return
func.func @scratch_escapes(%m: memref<4x4xf32>, %acc: memref<4x4xf32> {nl.token_scratch},
                           %k: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  scf.parallel (%r, %c) = (%c0, %c0) to (%c4, %c4) step (%c1, %c1) {
    %kv = memref.load %k[%c] : memref<4xf32>
    memref.store %kv, %acc[%r, %c] : memref<4x4xf32>
    scf.reduce
  }
  scf.parallel (%r, %c) = (%c0, %c0) to (%c4, %c4) step (%c1, %c1) {
    %g = memref.load %acc[%r, %c] : memref<4x4xf32>
    memref.store %g, %m[%r, %c] : memref<4x4xf32>
    scf.reduce
  }
  %last = memref.load %acc[%c0, %c0] : memref<4x4xf32>
  memref.store %last, %k[%c0] : memref<4xf32>
  return
}
