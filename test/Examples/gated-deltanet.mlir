// The example gated-deltanet.mlir verifies, round-trips unchanged, and schedules as
// expected: one gated delta-rule level (decay before the gradient).
// RUN: nl-opt %examples/gated-deltanet.mlir > %t.1.mlir
// RUN: nl-opt %t.1.mlir > %t.2.mlir
// RUN: diff %t.1.mlir %t.2.mlir
// RUN: nl-opt %examples/gated-deltanet.mlir --mlir-print-op-generic | nl-opt > %t.3.mlir
// RUN: diff %t.1.mlir %t.3.mlir
// RUN: nl-opt %examples/gated-deltanet.mlir --nl-verify-schedule | FileCheck %s

// CHECK-LABEL: nl.model @gated_deltanet
// CHECK-SAME: hyper_period = 1
// CHECK-DAG: nl.level @S period 1 {{.*}}#nl.schedule<period = 1, rank = 0, order = 0, fires = 1>
