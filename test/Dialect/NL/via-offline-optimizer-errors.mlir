// An optimizer level learns in the phase of the level it serves: an offline
// optimizer could never be updated alongside an online level.
// RUN: nl-opt %s -verify-diagnostics

nl.model @offline_optimizer attributes {dim = 4} {
  // expected-note @+1 {{@S is declared here}}
  nl.level @S period 1 phase offline rule <objective = linear> {
    nl.state @B : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-error-re @+1 {{'nl.level' op optimizer level @S {{.*}}offline{{.*}}}}
  nl.level @L period 1 rule <objective = l2, algorithm = momentum, via = [@S]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}
