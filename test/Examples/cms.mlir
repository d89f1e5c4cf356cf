// The example cms.mlir verifies, round-trips unchanged, and schedules as
// expected: three CMS levels at 1/16/256: hyper-period 256.
// RUN: nl-opt %examples/cms.mlir > %t.1.mlir
// RUN: nl-opt %t.1.mlir > %t.2.mlir
// RUN: diff %t.1.mlir %t.2.mlir
// RUN: nl-opt %examples/cms.mlir --mlir-print-op-generic | nl-opt > %t.3.mlir
// RUN: diff %t.1.mlir %t.3.mlir
// RUN: nl-opt %examples/cms.mlir --nl-verify-schedule | FileCheck %s

// CHECK-LABEL: nl.model @cms
// CHECK-SAME: hyper_period = 256
// CHECK-DAG: nl.level @mlp_fast period 1 {{.*}}#nl.schedule<period = 1, rank = 0, order = 0, fires = 256>
// CHECK-DAG: nl.level @mlp_mid period 16 {{.*}}#nl.schedule<period = 16, rank = 1, order = 1, fires = 16>
// CHECK-DAG: nl.level @mlp_slow period 256 {{.*}}#nl.schedule<period = 256, rank = 2, order = 2, fires = 1>
