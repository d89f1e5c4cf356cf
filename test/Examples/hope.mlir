// The example hope.mlir verifies, round-trips unchanged, and schedules as
// expected: self-modifying Titans (8/64) + CMS (16/256): hyper-period 256.
// RUN: nl-opt %examples/hope.mlir > %t.1.mlir
// RUN: nl-opt %t.1.mlir > %t.2.mlir
// RUN: diff %t.1.mlir %t.2.mlir
// RUN: nl-opt %examples/hope.mlir --mlir-print-op-generic | nl-opt > %t.3.mlir
// RUN: diff %t.1.mlir %t.3.mlir
// RUN: nl-opt %examples/hope.mlir --nl-verify-schedule | FileCheck %s

// CHECK-LABEL: nl.model @hope
// CHECK-SAME: hyper_period = 256
// CHECK-DAG: nl.level @M_k period 64 {{.*}}#nl.schedule<period = 64, rank = 2, order = 2, fires = 4>
// CHECK-DAG: nl.level @M_v period 64 {{.*}}#nl.schedule<period = 64, rank = 2, order = 3, fires = 4>
// CHECK-DAG: nl.level @M_lr period 64 {{.*}}#nl.schedule<period = 64, rank = 2, order = 4, fires = 4>
// CHECK-DAG: nl.level @M_retain period 64 {{.*}}#nl.schedule<period = 64, rank = 2, order = 5, fires = 4>
// CHECK-DAG: nl.level @M_memory period 8 {{.*}}#nl.schedule<period = 8, rank = 0, order = 0, fires = 32>
// CHECK-DAG: nl.level @cms_16 period 16 {{.*}}#nl.schedule<period = 16, rank = 1, order = 1, fires = 16>
// CHECK-DAG: nl.level @cms_256 period 256 {{.*}}#nl.schedule<period = 256, rank = 3, order = 6, fires = 1>
