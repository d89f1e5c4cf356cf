// A KV cache must be the only state of its level, also for frozen or
// offline levels without a rule.
// RUN: nl-opt %s --split-input-file -verify-diagnostics

nl.model @frozen attributes {dim = 4} {
  nl.level @L period frozen {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
    // expected-error @+1 {{'nl.state' op a KV cache must be the only state of its level}}
    nl.state @C : !nl.kv_cache<key = 4, value = 4>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @offline attributes {dim = 4} {
  nl.level @L period 16 phase offline {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
    // expected-error @+1 {{'nl.state' op a KV cache must be the only state of its level}}
    nl.state @C : !nl.kv_cache<key = 4, value = 4>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}
