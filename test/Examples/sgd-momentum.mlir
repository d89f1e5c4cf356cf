// The example sgd-momentum.mlir verifies, round-trips unchanged, and schedules as
// expected: an optimizer written as two levels over a gradient stream.
// RUN: nl-opt %examples/sgd-momentum.mlir > %t.1.mlir
// RUN: nl-opt %t.1.mlir > %t.2.mlir
// RUN: diff %t.1.mlir %t.2.mlir
// RUN: nl-opt %examples/sgd-momentum.mlir --mlir-print-op-generic | nl-opt > %t.3.mlir
// RUN: diff %t.1.mlir %t.3.mlir
// RUN: nl-opt %examples/sgd-momentum.mlir --nl-verify-schedule | FileCheck %s

// CHECK-LABEL: nl.model @sgd_momentum
// CHECK-SAME: hyper_period = 1
// CHECK-DAG: nl.level @m period 1 {{.*}}#nl.schedule<period = 1, rank = 0, order = 0, fires = 1>
// CHECK-DAG: nl.level @W period 1 {{.*}}#nl.schedule<period = 1, rank = 0, order = 1, fires = 1>
