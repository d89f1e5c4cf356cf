// RUN: nl-opt %s --nl-verify-schedule="max-hyper-period=10000" -verify-diagnostics

// Two coprime periods whose lcm (101 * 103) exceeds the option's limit.
nl.model @too_long attributes {dim = 4} {
  nl.level @a period 101 rule <objective = l2> {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-error @below {{makes the model's hyper-period 10403 exceed 10000 tokens (max-hyper-period)}}
  nl.level @b period 103 rule <objective = l2> {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @a key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @b key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}
