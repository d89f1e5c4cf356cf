// RUN: nl-opt %s --nl-schedule-pipeline --nl-materialize-abi --nl-to-loops | FileCheck %s
// RUN: nl-opt %s --nl-schedule-pipeline --nl-materialize-abi --nl-to-loops="fast-math=false" | FileCheck %s --check-prefix=STRICT

// By default float arithmetic may be reassociated and contracted (so LLVM
// vectorizes the reductions); fast-math=false keeps strict IEEE order.
// CHECK: scf.for {{.*}} iter_args
// CHECK:   arith.mulf {{.*}} fastmath<reassoc,contract>
// CHECK:   arith.addf {{.*}} fastmath<reassoc,contract>
// STRICT-NOT: fastmath
// STRICT:     scf.for {{.*}} iter_args
// STRICT:       arith.mulf %{{[^ ]+}}, %{{[^ ]+}} : f32
// STRICT:       arith.addf %{{[^ ]+}}, %{{[^ ]+}} : f32
// STRICT-NOT: fastmath
nl.model @m attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @L(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %y : tensor<4xf32>
  }
}
