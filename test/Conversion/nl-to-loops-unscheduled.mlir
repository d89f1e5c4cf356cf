// RUN: nl-opt %s --nl-materialize-abi --nl-to-loops -verify-diagnostics

// Lowering needs the schedule (effective periods) nl-verify-schedule adds.
nl.model @m attributes {dim = 4} {
  // expected-error @below {{has no schedule; run nl-verify-schedule before lowering}}
  nl.level @L period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}
