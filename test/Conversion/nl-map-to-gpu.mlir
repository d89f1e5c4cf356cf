// RUN: nl-opt %s --split-input-file --nl-map-to-gpu=warp-rows=false | FileCheck %s
// RUN: nl-opt %s --split-input-file --nl-map-to-gpu=shared-memory-limit=0 | FileCheck %s --check-prefix=GLOBAL
// RUN: nl-opt %s --split-input-file --nl-map-to-gpu | FileCheck %s --check-prefix=WARP

// One block per stream, all tokens in the kernel: parameters are viewed at
// offset 0, state and tokens per stream (block id) and token; the scratch
// becomes shared memory; the row loop is strided over the threads between
// barriers; the scalar store runs on thread 0; the reduction that only reads
// runs on every thread.
// CHECK-LABEL: gpu.module @nl_m_kernels
// CHECK:       gpu.func @nl_m_steps(%[[W:.+]]: memref<?xi8>, %[[S:.+]]: memref<?xi8>, %[[X:.+]]: memref<?xi8>, %[[Y:.+]]: memref<?xi8>, %[[ACT:.+]]: i64, %[[FIRE:.+]]: memref<?xi8>, %[[T:.+]]: i64, %[[SCR:.+]]: memref<?xi8>)
// CHECK-SAME:    workgroup(%[[WG:.+]] : memref<16xi8, #gpu.address_space<workgroup>>)
// CHECK-SAME:    kernel
// CHECK-SAME:    known_block_size = array<i32: 512, 1, 1>
// CHECK-SAME:    nl.kernel = #nl.kernel<step, block_size = 512, scratch_bytes = 0, buffer_args = [true, true, true, true, false, true, false, true]>
// CHECK:         %[[B:.+]] = gpu.block_id x
// CHECK:         %[[TID:.+]] = gpu.thread_id x
// CHECK:         %[[NT:.+]] = gpu.block_dim x
// CHECK:         memref.view %[[W]][%{{.+}}][] : memref<?xi8> to memref<4x4xf32>
// CHECK:         %[[SOFF:.+]] = arith.muli %[[B]], %{{.+}} : index
// CHECK:         memref.view %[[S]][%{{.+}}][] : memref<?xi8> to memref<4xf32>
// CHECK:         %[[CAST:.+]] = memref.memory_space_cast %[[WG]]
// CHECK:         %[[TMP:.+]] = memref.view %[[CAST]][%{{.+}}][] : memref<16xi8> to memref<4xf32>
// CHECK:         scf.for %[[TOK:.+]] = %{{.+}} to %{{.+}} step
// CHECK:           memref.view %[[X]]
// CHECK:           memref.load %{{.+}}[%[[TOK]]] : memref<?xi64>
// CHECK:           gpu.barrier
// CHECK:           scf.for %[[ROW:.+]] = %[[TID]] to %{{.+}} step %[[NT]] {
// CHECK:             memref.store %{{.+}}, %[[TMP]][%{{.+}}]
// CHECK:           }
// CHECK:           gpu.barrier
// CHECK:           %[[SUM:.+]] = scf.for {{.+}} iter_args
// Thread 0 writes only once every thread has read what it overwrites.
// CHECK:           gpu.barrier
// CHECK:           %[[FIRST:.+]] = arith.cmpi eq, %[[TID]], %{{.+}} : index
// CHECK:           scf.if %[[FIRST]] {
// CHECK:             memref.store %[[SUM]]
// CHECK:           }
// CHECK:           gpu.barrier
// CHECK:         gpu.return
// CHECK:       gpu.func @nl_m_flush(
// With warp-rows (the default), the row loop, whose body is a sum over the
// row, gives each row a warp: lane l adds the terms l, l + 32, ..., and a
// butterfly of shuffles adds the lanes' parts; lane 0 stores the row.
// WARP:        %[[TID:.+]] = gpu.thread_id x
// WARP:        %[[NT:.+]] = gpu.block_dim x
// WARP:        gpu.barrier
// WARP:        %[[WARP:.+]] = arith.divui %[[TID]], %[[C32:.+]] : index
// WARP:        %[[WARPS:.+]] = arith.divui %[[NT]], %[[C32]] : index
// WARP:        %[[LANE:.+]] = arith.remui %[[TID]], %[[C32]] : index
// WARP:        scf.for %{{.+}} = %[[WARP]] to %{{.+}} step %[[WARPS]] {
// WARP:          %[[PART:.+]] = scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} iter_args
// WARP:          gpu.shuffle xor %[[PART]], %{{.+}}, %{{.+}} : f32
// WARP-COUNT-4:  gpu.shuffle xor
// WARP:          %[[L0:.+]] = arith.cmpi eq, %[[LANE]], %{{.+}} : index
// WARP:          scf.if %[[L0]] {
// WARP:            memref.store
// WARP:          }
// WARP:        }
// WARP:        gpu.barrier
// GLOBAL:      gpu.func @nl_m_steps(
// GLOBAL-NOT:    workgroup
// GLOBAL-SAME:   nl.kernel = #nl.kernel<step, block_size = 512, scratch_bytes = 16,
// GLOBAL:        %[[OFF:.+]] = arith.muli %{{.+}}, %c16 : index
// GLOBAL:        memref.view %arg7[%{{.+}}][] : memref<?xi8> to memref<4xf32>
module {
  func.func @m_step_impl(%w: memref<4x4xf32>, %s: memref<4xf32>,
                         %x: memref<4xf32>, %y: memref<4xf32>, %active: i64,
                         %fire: i64)
      attributes {nl.entry_point = #nl.entry_point<"nl_m_step", step,
                  params = 1, state = 1, outputs = 1>} {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c4 = arith.constant 4 : index
    %zero = arith.constant 0.0 : f32
    %tmp = memref.alloca() : memref<4xf32>
    scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
      %acc = scf.for %j = %c0 to %c4 step %c1 iter_args(%a = %zero) -> (f32) {
        %wv = memref.load %w[%i, %j] : memref<4x4xf32>
        %xv = memref.load %x[%j] : memref<4xf32>
        %p = arith.mulf %wv, %xv : f32
        %n = arith.addf %a, %p : f32
        scf.yield %n : f32
      }
      memref.store %acc, %tmp[%i] : memref<4xf32>
      scf.reduce
    }
    %sum = scf.for %j = %c0 to %c4 step %c1 iter_args(%a = %zero) -> (f32) {
      %v = memref.load %tmp[%j] : memref<4xf32>
      %n = arith.addf %a, %v : f32
      scf.yield %n : f32
    }
    memref.store %sum, %s[%c0] : memref<4xf32>
    memref.store %sum, %y[%c0] : memref<4xf32>
    return
  }
  func.func @m_flush_impl(%w: memref<4x4xf32>, %s: memref<4xf32>, %fire: i64)
      attributes {nl.entry_point = #nl.entry_point<"nl_m_flush", flush,
                  params = 1, state = 1, outputs = 0>} {
    return
  }
}
