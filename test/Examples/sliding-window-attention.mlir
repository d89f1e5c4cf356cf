// The example sliding-window-attention.mlir verifies, round-trips unchanged, and schedules as
// expected: a non-parametric level (KV cache) acts as period 1.
// RUN: nl-opt %examples/sliding-window-attention.mlir > %t.1.mlir
// RUN: nl-opt %t.1.mlir > %t.2.mlir
// RUN: diff %t.1.mlir %t.2.mlir
// RUN: nl-opt %examples/sliding-window-attention.mlir --mlir-print-op-generic | nl-opt > %t.3.mlir
// RUN: diff %t.1.mlir %t.3.mlir
// RUN: nl-opt %examples/sliding-window-attention.mlir --nl-verify-schedule | FileCheck %s

// CHECK-LABEL: nl.model @sliding_window_attention
// CHECK-SAME: hyper_period = 1
// CHECK-DAG: nl.level @attention period inf {{.*}}#nl.schedule<period = 1, rank = 0, order = 0, fires = 1>
