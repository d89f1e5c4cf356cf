// The example adam.mlir verifies, round-trips unchanged, and schedules as
// expected: Adam: two moment levels serve one weight level.
// RUN: nl-opt %examples/adam.mlir > %t.1.mlir
// RUN: nl-opt %t.1.mlir > %t.2.mlir
// RUN: diff %t.1.mlir %t.2.mlir
// RUN: nl-opt %examples/adam.mlir --mlir-print-op-generic | nl-opt > %t.3.mlir
// RUN: diff %t.1.mlir %t.3.mlir
// RUN: nl-opt %examples/adam.mlir --nl-verify-schedule | FileCheck %s

// CHECK-LABEL: nl.model @adam
// CHECK-SAME: hyper_period = 1
// CHECK-DAG: nl.level @m1 period 1 {{.*}}#nl.schedule<period = 1, rank = 0, order = 0, fires = 1>
// CHECK-DAG: nl.level @m2 period 1 {{.*}}#nl.schedule<period = 1, rank = 0, order = 1, fires = 1>
// CHECK-DAG: nl.level @W period 1 {{.*}}#nl.schedule<period = 1, rank = 0, order = 2, fires = 1>
