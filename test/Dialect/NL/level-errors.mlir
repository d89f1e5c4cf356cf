// RUN: nl-opt %s --split-input-file -verify-diagnostics

// Checks of nl.level: period against memory, rule against states.

nl.model @inf_without_cache attributes {dim = 4} {
  // expected-error @+1 {{'nl.level' op 'period inf' marks a non-parametric level, whose memory must be a !nl.kv_cache}}
  nl.level @L period inf {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @inf_with_rule_and_matrix attributes {dim = 4} {
  // expected-error @+1 {{'nl.level' op 'period inf' marks a non-parametric level, whose memory must be a !nl.kv_cache}}
  nl.level @L period inf rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @cache_period_1 attributes {dim = 4} {
  // expected-error @+1 {{'nl.level' op a KV cache level must have 'period inf'; it is written every token}}
  nl.level @A period 1 {
    nl.state @C : !nl.kv_cache<key = 4, value = 4>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @cache_frozen attributes {dim = 4} {
  // expected-error @+1 {{'nl.level' op a KV cache level must have 'period inf'; it is written every token}}
  nl.level @A period frozen {
    nl.state @C : !nl.kv_cache<key = 4, value = 4>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @cache_with_rule attributes {dim = 4} {
  // expected-error @+1 {{'nl.level' op a non-parametric level (KV cache) has no learning rule}}
  nl.level @A period inf rule <objective = dot> {
    nl.state @C : !nl.kv_cache<key = 4, value = 4>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @cache_with_second_state attributes {dim = 4} {
  // expected-error @+1 {{'nl.level' op a KV cache level holds only its cache}}
  nl.level @A period inf {
    nl.state @C : !nl.kv_cache<key = 4, value = 4>
    nl.state @extra : tensor<4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @cache_as_second_state attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
    // expected-error @+1 {{'nl.state' op a KV cache must be the only state of its level}}
    nl.state @C : !nl.kv_cache<key = 4, value = 4>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @cache_as_fused_buffer attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2, algorithm = momentum> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
    // expected-error @+1 {{'nl.state' op a KV cache must be the only state of its level}}
    nl.state @C : !nl.kv_cache<key = 4, value = 4>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @chunked_without_rule attributes {dim = 4} {
  // expected-error @+1 {{'nl.level' op @L has period 16 but no learning rule; add 'rule <objective = ...>' or declare it 'period frozen'}}
  nl.level @L period 16 {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @per_token_without_rule attributes {dim = 4} {
  // expected-error @+1 {{'nl.level' op @L has period 1 but no learning rule}}
  nl.level @L period 1 {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Key/value objectives need a memory that can be read: a tensor buffer
// only takes a gradient (objective linear).
nl.model @l2_on_tensor attributes {dim = 4} {
  // expected-error @+1 {{'nl.level' op objective 'l2' needs a memory (!nl.matrix or !nl.mlp), got 'tensor<4x4xf32>'}}
  nl.level @L period 1 rule <objective = l2> {
    nl.state @M : tensor<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @dot_on_tensor attributes {dim = 4} {
  // expected-error @+1 {{'nl.level' op objective 'dot' needs a memory (!nl.matrix or !nl.mlp), got 'tensor<4xf32>'}}
  nl.level @L period frozen rule <objective = dot> {
    nl.state @M : tensor<4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @huber_on_tensor attributes {dim = 4} {
  // expected-error @+1 {{'nl.level' op objective 'huber' needs a memory (!nl.matrix or !nl.mlp), got 'tensor<4x4xf32>'}}
  nl.level @L period 1 rule <objective = huber, huber_delta = 1.0> {
    nl.state @M : tensor<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Fused optimizers keep their buffers as extra states of the memory's type.
nl.model @momentum_missing_buffer attributes {dim = 4} {
  // expected-error @+1 {{'nl.level' op @L has 1 state(s) but its rule needs 2 (the memory and 1 fused 'momentum' buffer(s) of the memory's type)}}
  nl.level @L period 1 rule <objective = l2, algorithm = momentum> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @momentum_extra_buffer attributes {dim = 4} {
  // expected-error @+1 {{'nl.level' op @L has 3 state(s) but its rule needs 2 (the memory and 1 fused 'momentum' buffer(s) of the memory's type)}}
  nl.level @L period 1 rule <objective = l2, algorithm = momentum> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
    nl.state @m : !nl.matrix<4x4xf32> = #nl.zeros
    nl.state @v : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @muon_missing_buffer attributes {dim = 4} {
  // expected-error @+1 {{'nl.level' op @L has 1 state(s) but its rule needs 2 (the memory and 1 fused 'muon' buffer(s) of the memory's type)}}
  nl.level @L period 1 rule <objective = linear, algorithm = muon> {
    nl.state @W : tensor<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @adam_one_buffer attributes {dim = 4} {
  // expected-error @+1 {{'nl.level' op @L has 2 state(s) but its rule needs 3 (the memory and 2 fused 'adam' buffer(s) of the memory's type)}}
  nl.level @L period 1 rule <objective = linear, algorithm = adam> {
    nl.state @W : tensor<4x4xf32> = #nl.zeros
    nl.state @m : tensor<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @gd_extra_state attributes {dim = 4} {
  // expected-error @+1 {{'nl.level' op @L has 2 state(s) but its rule needs 1 (the memory); keep optimizer state in a level named by 'via'}}
  nl.level @L period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
    nl.state @m : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// With `via`, the optimizer's memory lives in another level: no buffers.
nl.model @via_with_buffer attributes {dim = 4} {
  nl.level @S period 1 rule <objective = linear> {
    nl.state @B : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-error @+1 {{'nl.level' op @L has 2 state(s) but its rule needs 1 (the memory); keep optimizer state in a level named by 'via'}}
  nl.level @L period 1 rule <objective = l2, algorithm = momentum, via = [@S]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
    nl.state @m : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @buffer_as_tensor attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2, algorithm = momentum> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
    // expected-error @+1 {{'nl.state' op fused 'momentum' buffer must have the memory's type '!nl.matrix<4x4xf32>', got 'tensor<4x4xf32>'}}
    nl.state @m : tensor<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @buffer_other_shape attributes {dim = 4} {
  nl.level @L period 1 rule <objective = linear, algorithm = adam> {
    nl.state @W : tensor<4x4xf32> = #nl.zeros
    nl.state @m : tensor<4x4xf32> = #nl.zeros
    // expected-error @+1 {{'nl.state' op fused 'adam' buffer must have the memory's type 'tensor<4x4xf32>', got 'tensor<4xf32>'}}
    nl.state @v : tensor<4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @buffer_other_heads attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2, algorithm = momentum> {
    nl.state @M : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
    // expected-error @+1 {{'nl.state' op fused 'momentum' buffer must have the memory's type '!nl.matrix<4x4xf32, heads = 2>', got '!nl.matrix<4x4xf32>'}}
    nl.state @m : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}
