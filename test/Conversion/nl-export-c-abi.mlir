// RUN: nl-opt %s --nl-export-c-abi | FileCheck %s

// The kernel takes its tensors as bare pointers; the exported entry point
// takes arrays of them and the two masks, loads each pointer and calls it.
// CHECK-LABEL: llvm.func internal @m_step_impl(
// CHECK-LABEL: llvm.func @nl_m_step(
// CHECK-SAME:    %[[P:[^:]+]]: !llvm.ptr, %[[S:[^:]+]]: !llvm.ptr, %[[X:[^:]+]]: !llvm.ptr, %[[O:[^:]+]]: !llvm.ptr, %[[A:[^:]+]]: i64, %[[F:[^:]+]]: i64)
// CHECK:         %[[P0A:.+]] = llvm.getelementptr %[[P]][0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK:         %[[P0:.+]] = llvm.load %[[P0A]] : !llvm.ptr -> !llvm.ptr
// CHECK:         %[[S0A:.+]] = llvm.getelementptr %[[S]][0]
// CHECK:         %[[S0:.+]] = llvm.load %[[S0A]]
// CHECK:         %[[S1A:.+]] = llvm.getelementptr %[[S]][1]
// CHECK:         %[[S1:.+]] = llvm.load %[[S1A]]
// CHECK:         %[[O0A:.+]] = llvm.getelementptr %[[O]][0]
// CHECK:         %[[O0:.+]] = llvm.load %[[O0A]]
// CHECK:         llvm.call @m_step_impl(%[[P0]], %[[S0]], %[[S1]], %[[X]], %[[O0]], %[[A]], %[[F]])
// CHECK:         llvm.return
// CHECK-LABEL: llvm.func @nl_m_flush(
// CHECK-SAME:    %[[FP:[^:]+]]: !llvm.ptr, %[[FS:[^:]+]]: !llvm.ptr, %[[FF:[^:]+]]: i64)
// CHECK:         llvm.call @m_flush_impl(%{{.+}}, %{{.+}}, %{{.+}}, %[[FF]])
llvm.func @m_step_impl(%p0: !llvm.ptr, %s0: !llvm.ptr, %s1: !llvm.ptr, %x: !llvm.ptr, %y: !llvm.ptr, %active: i64, %fire: i64) attributes {nl.entry_point = #nl.entry_point<"nl_m_step", step, params = 1, state = 2, outputs = 1>} {
  llvm.return
}
llvm.func @m_flush_impl(%p0: !llvm.ptr, %s0: !llvm.ptr, %s1: !llvm.ptr, %fire: i64) attributes {nl.entry_point = #nl.entry_point<"nl_m_flush", flush, params = 1, state = 2, outputs = 0>} {
  llvm.return
}
