// RUN: nl-opt %s --split-input-file -verify-diagnostics

// Checks of nl.transfer. Cases without an expected diagnostic must verify.

nl.model @self_edge attributes {dim = 4} {
  nl.level @A period frozen {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-error @+1 {{'nl.transfer' op connects @A to itself; a transfer joins two levels}}
  nl.transfer parametric @A -> @A
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @reset_on_parametric attributes {dim = 4} {
  nl.level @A period frozen {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @B period frozen {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-error @+1 {{'nl.transfer' op 'reset' is only meaningful for an 'init' transfer}}
  nl.transfer parametric @B -> @A reset
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @reset_on_backprop attributes {dim = 4} {
  nl.level @A period frozen {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @B period frozen {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-error @+1 {{'nl.transfer' op 'reset' is only meaningful for an 'init' transfer}}
  nl.transfer backprop @B -> @A reset
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @unknown_from attributes {dim = 4} {
  nl.level @A period frozen {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-error @+1 {{'nl.transfer' op names @Z, which is not a level of model @unknown_from}}
  nl.transfer init @Z -> @A
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @unknown_to attributes {dim = 4} {
  nl.level @A period frozen {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-error @+1 {{'nl.transfer' op names @Z, which is not a level of model @unknown_to}}
  nl.transfer generation @A -> @Z
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @names_a_param attributes {dim = 4} {
  nl.level @A period frozen {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.param @P : tensor<4x4xf32> = #nl.zeros
  // expected-error @+1 {{'nl.transfer' op names @P, which is not a level of model @names_a_param}}
  nl.transfer init @P -> @A
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @unknown_kind attributes {dim = 4} {
  // expected-error @+1 {{expected string or keyword containing one of the following enum values for attribute 'kind' [parametric, nonparametric, backprop, init, generation]}}
  nl.transfer distill @A -> @B
}

// -----

// init: the inner (initialized) level's period must divide the outer one's.
nl.model @init_period_not_dividing attributes {dim = 4} {
  // expected-note @+1 {{inner level declared here}}
  nl.level @inner period 3 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @outer period 16 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-error @+1 {{'nl.transfer' op inner level @inner has period 3, which does not divide the period 16 of @outer that initializes it}}
  nl.transfer init @outer -> @inner reset
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @inner key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @outer key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// The faster level cannot initialize the slower one.
nl.model @init_reversed attributes {dim = 4} {
  nl.level @fast period 4 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-note @+1 {{inner level declared here}}
  nl.level @slow period 16 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-error @+1 {{'nl.transfer' op inner level @slow has period 16, which does not divide the period 4 of @fast that initializes it}}
  nl.transfer init @fast -> @slow
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @fast key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @slow key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// A KV cache (period inf) acts as period 1 for the check.
nl.model @init_from_cache attributes {dim = 4} {
  // expected-note @+1 {{inner level declared here}}
  nl.level @fast period 4 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @attn period inf {
    nl.state @C : !nl.kv_cache<key = 4, value = 4>
  }
  // expected-error @+1 {{'nl.transfer' op inner level @fast has period 4, which does not divide the period 1 of @attn that initializes it}}
  nl.transfer init @attn -> @fast
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @fast key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @attn key(%x : tensor<4xf32>) value(%x : tensor<4xf32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Positive: inner 4 divides outer 16.
nl.model @init_dividing attributes {dim = 4} {
  nl.level @inner period 4 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @outer period 16 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.transfer init @outer -> @inner reset
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @inner key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @outer key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Positive: a frozen outer level initializes a level of any period.
nl.model @init_from_frozen attributes {dim = 4} {
  nl.level @inner period 3 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @outer period frozen {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.transfer init @outer -> @inner reset
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @inner key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Positive: a frozen inner level is not constrained either.
nl.model @init_into_frozen attributes {dim = 4} {
  nl.level @inner period frozen {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @outer period 3 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.transfer init @outer -> @inner
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @outer key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @nonparametric_from_matrix attributes {dim = 4} {
  nl.level @A period frozen {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @B period frozen {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-error @+1 {{'nl.transfer' op a nonparametric transfer reads a cache, but @B is not a non-parametric (KV cache) level}}
  nl.transfer nonparametric @B -> @A
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Positive: nonparametric from a cache.
nl.model @nonparametric_from_cache attributes {dim = 4} {
  nl.level @A period frozen {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @attn period inf {
    nl.state @C : !nl.kv_cache<key = 4, value = 4>
  }
  nl.transfer nonparametric @attn -> @A
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.update @attn key(%x : tensor<4xf32>) value(%x : tensor<4xf32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @backprop_from_cache attributes {dim = 4} {
  nl.level @A period frozen {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @attn period inf {
    nl.state @C : !nl.kv_cache<key = 4, value = 4>
  }
  // expected-error @+1 {{'nl.transfer' op a backprop transfer joins parametric levels; @attn is not one}}
  nl.transfer backprop @attn -> @A
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.update @attn key(%x : tensor<4xf32>) value(%x : tensor<4xf32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @backprop_into_cache attributes {dim = 4} {
  nl.level @A period frozen {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @attn period inf {
    nl.state @C : !nl.kv_cache<key = 4, value = 4>
  }
  // expected-error @+1 {{'nl.transfer' op a backprop transfer joins parametric levels; @attn is not one}}
  nl.transfer backprop @A -> @attn
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.update @attn key(%x : tensor<4xf32>) value(%x : tensor<4xf32>)
    nl.yield %x : tensor<4xf32>
  }
}
