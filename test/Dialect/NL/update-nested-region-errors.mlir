// nl.update sits directly in the nl.step body: an update under scf.for
// (many times per token) or scf.if (some tokens only) is rejected.
// RUN: nl-opt %s --split-input-file -verify-diagnostics

nl.model @update_in_loop attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c8 = arith.constant 8 : index
    scf.for %i = %c0 to %c8 step %c1 {
      // expected-error-re @+1 {{'nl.update' op {{.+}}}}
      nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    }
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @update_in_branch attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    %cond = arith.constant true
    scf.if %cond {
      // expected-error-re @+1 {{'nl.update' op {{.+}}}}
      nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    }
    nl.yield %x : tensor<4xf32>
  }
}
