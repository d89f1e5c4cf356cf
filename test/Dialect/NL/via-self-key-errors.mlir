// A level whose `via` names itself is told so, not that its keys are wrong:
// the level verifier reports the self-reference before updates are checked.
// RUN: nl-opt %s -verify-diagnostics

nl.model @self_via attributes {dim = 4} {
  // expected-error @+1 {{'nl.level' op 'via' cannot name the level itself}}
  nl.level @L period 1 rule <objective = l2, algorithm = momentum, via = [@L]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}
