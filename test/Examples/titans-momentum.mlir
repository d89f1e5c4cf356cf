// The example titans-momentum.mlir verifies, round-trips unchanged, and schedules as
// expected: the momentum level updates before the memory that applies it.
// RUN: nl-opt %examples/titans-momentum.mlir > %t.1.mlir
// RUN: nl-opt %t.1.mlir > %t.2.mlir
// RUN: diff %t.1.mlir %t.2.mlir
// RUN: nl-opt %examples/titans-momentum.mlir --mlir-print-op-generic | nl-opt > %t.3.mlir
// RUN: diff %t.1.mlir %t.3.mlir
// RUN: nl-opt %examples/titans-momentum.mlir --nl-verify-schedule | FileCheck %s

// CHECK-LABEL: nl.model @titans_momentum
// CHECK-SAME: hyper_period = 1
// CHECK-DAG: nl.level @momentum period 1 {{.*}}#nl.schedule<period = 1, rank = 0, order = 0, fires = 1>
// CHECK-DAG: nl.level @memory period 1 {{.*}}#nl.schedule<period = 1, rank = 0, order = 1, fires = 1>
