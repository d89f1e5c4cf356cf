// RUN: nl-opt %s --split-input-file --pass-pipeline='builtin.module(gpu.module(nl-bare-kernel-args))' --verify-diagnostics | FileCheck %s

// Each expanded 1-D memref descriptor becomes one pointer; scalars stay.
// CHECK: llvm.func @k(%[[P:.+]]: !llvm.ptr, %[[N:.+]]: i64, %[[Q:.+]]: !llvm.ptr)
// CHECK-SAME:    nl.kernel = #nl.kernel<step, block_size = 512, scratch_bytes = 0>
// CHECK:         %[[ZERO:.+]] = llvm.mlir.constant(0 : i64) : i64
// CHECK:         %[[ONE:.+]] = llvm.mlir.constant(1 : i64) : i64
// CHECK:         llvm.insertvalue %[[P]], %{{.+}}[0]
// CHECK:         llvm.insertvalue %[[P]], %{{.+}}[1]
// CHECK:         llvm.insertvalue %[[ZERO]], %{{.+}}[2]
// CHECK:         llvm.insertvalue %[[ONE]], %{{.+}}[4, 0]
// CHECK:         llvm.store %[[N]], %[[Q]]
gpu.module @g {
  llvm.func @k(%a0: !llvm.ptr, %a1: !llvm.ptr, %a2: i64, %a3: i64, %a4: i64,
               %n: i64,
               %b0: !llvm.ptr, %b1: !llvm.ptr, %b2: i64, %b3: i64, %b4: i64)
      attributes {gpu.kernel, nl.kernel = #nl.kernel<step, block_size = 512, scratch_bytes = 0, buffer_args = [true, false, true]>} {
    %0 = llvm.mlir.poison : !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>
    %1 = llvm.insertvalue %a0, %0[0] : !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>
    %2 = llvm.insertvalue %a1, %1[1] : !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>
    %3 = llvm.insertvalue %a2, %2[2] : !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>
    %4 = llvm.insertvalue %a4, %3[4, 0] : !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>
    llvm.store %n, %b1 : i64, !llvm.ptr
    llvm.return
  }
}

// -----

gpu.module @g {
  // expected-error @below {{has 2 arguments; its nl.kernel buffer_args describe 5}}
  llvm.func @k(%a0: !llvm.ptr, %a1: !llvm.ptr) attributes {nl.kernel = #nl.kernel<step, block_size = 512, scratch_bytes = 0, buffer_args = [true]>} {
    llvm.return
  }
}

// -----

gpu.module @g {
  // expected-error @below {{argument 2 is not part of a 1-D memref descriptor}}
  llvm.func @k(%a0: !llvm.ptr, %a1: !llvm.ptr, %a2: f32, %a3: i64, %a4: i64) attributes {nl.kernel = #nl.kernel<step, block_size = 512, scratch_bytes = 0, buffer_args = [true]>} {
    llvm.return
  }
}
