// A (frozen) level whose second state is an MLP: the back ends reject it with a
// located error (they crashed here before), on both targets.
// RUN: not nlc %s --emit=lib -o %t.so 2>&1 | FileCheck %s
// RUN: not nlc %s --target=cuda --emit=ptx -o %t.ptx 2>&1 | FileCheck %s
// CHECK: mlp-state-error.mlir:[[@LINE+4]]:5: error: the back ends do not compile a state of type '!nl.mlp<[4, 8, 4], silu>' yet (MLP memories need compiler-derived gradients)
nl.model @m attributes {dim = 4} {
  nl.level @L period frozen {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.identity
    nl.state @P : !nl.mlp<[4, 8, 4], silu> = #nl.normal<std = 0.02>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}
