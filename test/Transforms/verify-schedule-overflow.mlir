// RUN: not nl-opt %s --nl-verify-schedule="max-hyper-period=9223372036854775807" 2>&1 | FileCheck %s

// Periods whose lcm overflows int64 are rejected, never wrapped around.
// CHECK: verify-schedule-overflow.mlir:[[@LINE+5]]:3: error: 'nl.level' op makes the model's hyper-period overflow 64 bits
nl.model @overflow attributes {dim = 4} {
  nl.level @a period 4611686018427387847 rule <objective = l2> {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @b period 4611686018427387817 rule <objective = l2> {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @a key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @b key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}
