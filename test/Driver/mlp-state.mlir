// A (frozen) level whose second state is an MLP memory: every layer's weight
// is its own state tensor "<level>.<state>.w<i>" (the back ends crashed here
// once, then refused it). (test/CUDA checks the MLP examples on the CUDA target.)
// RUN: nlc %s --emit=lib -o %t.so
// RUN: FileCheck %s < %t.json
// CHECK-DAG: "name": "L.P.w0"
// CHECK-DAG: "name": "L.P.w1"
nl.model @m attributes {dim = 4} {
  nl.level @L period frozen {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.identity
    nl.state @P : !nl.mlp<[4, 8, 4], silu> = #nl.normal<std = 0.02>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}
