// The custom type parsers reject a field given twice instead of keeping the
// last value (`!nl.mlp<[4, 8, 4], silu, relu>`, `heads = 2, heads = 3`).
// RUN: nl-opt %s --split-input-file -verify-diagnostics

nl.model @mlp_two_activations attributes {dim = 4} {
  nl.level @L period frozen {
    // expected-error-re @+1 {{{{.*}}activation{{.*}}}}
    nl.state @M : !nl.mlp<[4, 8, 4], silu, relu> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @matrix_heads_twice attributes {dim = 4} {
  nl.level @L period frozen {
    // expected-error-re @+1 {{{{.*}}heads{{.*}}}}
    nl.state @M : !nl.matrix<4x4xf32, heads = 2, heads = 3> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}
