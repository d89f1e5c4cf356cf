// `via = [@S, @S]` is reported as a duplicate entry of the list.
// RUN: nl-opt %s -verify-diagnostics

nl.model @duplicate_via attributes {dim = 4} {
  nl.level @S period 1 rule <objective = linear> {
    nl.state @B : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-error-re @+1 {{'nl.level' op {{.*}}@S{{.*(twice|more than once|duplicate).*}}}}
  nl.level @L period 1 rule <objective = l2, algorithm = adam, via = [@S, @S]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @S lr(%lr : tensor<f32>)
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}
