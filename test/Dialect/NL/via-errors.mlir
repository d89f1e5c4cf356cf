// RUN: nl-opt %s --split-input-file -verify-diagnostics

// Optimizer levels named in a rule's `via`.

nl.model @unknown_level attributes {dim = 4} {
  // expected-error @+1 {{'nl.level' op 'via' names @S, which is not a level of this model}}
  nl.level @L period 1 rule <objective = l2, algorithm = momentum, via = [@S]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @names_a_param attributes {dim = 4} {
  nl.param @S : tensor<4x4xf32> = #nl.zeros
  // expected-error @+1 {{'nl.level' op 'via' names @S, which is not a level of this model}}
  nl.level @L period 1 rule <objective = l2, algorithm = momentum, via = [@S]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @names_itself attributes {dim = 4} {
  // expected-error @+1 {{'nl.level' op 'via' cannot name the level itself}}
  nl.level @L period 1 rule <objective = l2, algorithm = momentum, via = [@L]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @L lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @serves_two attributes {dim = 4} {
  nl.level @S period 1 rule <objective = linear> {
    nl.state @B : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-note @+1 {{first use here}}
  nl.level @A period 1 rule <objective = l2, algorithm = momentum, via = [@S]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-error @+1 {{'nl.level' op level @S already serves @A; an optimizer level serves one level}}
  nl.level @B period 1 rule <objective = l2, algorithm = momentum, via = [@S]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @S lr(%lr : tensor<f32>)
    nl.update @A key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @B key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @different_period attributes {dim = 4} {
  // expected-note @+1 {{@S is declared here}}
  nl.level @S period 4 rule <objective = linear> {
    nl.state @B : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-error @+1 {{'nl.level' op optimizer level @S has period 4 but serves a level of period 1; the two must update together}}
  nl.level @L period 1 rule <objective = l2, algorithm = momentum, via = [@S]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @S lr(%lr : tensor<f32>)
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @frozen_optimizer attributes {dim = 4} {
  // expected-note @+1 {{@S is declared here}}
  nl.level @S period frozen {
    nl.state @B : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-error @+1 {{'nl.level' op optimizer level @S has period frozen but serves a level of period 16; the two must update together}}
  nl.level @L period 16 rule <objective = l2, algorithm = momentum, via = [@S]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @different_memory_shape attributes {dim = 4} {
  // expected-note @+1 {{@S is declared here}}
  nl.level @S period 1 rule <objective = linear> {
    nl.state @B : !nl.matrix<4x8xf32> = #nl.zeros
  }
  // expected-error @+1 {{'nl.level' op optimizer level @S holds '!nl.matrix<4x8xf32>' but must hold the shape of the memory it serves, '!nl.matrix<4x4xf32>'}}
  nl.level @L period 1 rule <objective = l2, algorithm = momentum, via = [@S]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @S lr(%lr : tensor<f32>)
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @different_memory_kind attributes {dim = 4} {
  // expected-note @+1 {{@S is declared here}}
  nl.level @S period 1 rule <objective = linear> {
    nl.state @B : tensor<4x4xf32> = #nl.zeros
  }
  // expected-error @+1 {{'nl.level' op optimizer level @S holds 'tensor<4x4xf32>' but must hold the shape of the memory it serves, '!nl.matrix<4x4xf32>'}}
  nl.level @L period 1 rule <objective = l2, algorithm = momentum, via = [@S]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @S lr(%lr : tensor<f32>)
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// The second level of an adam `via` is checked too.
nl.model @adam_second_level attributes {dim = 4} {
  nl.level @m period 1 rule <objective = linear> {
    nl.state @B : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-note @+1 {{@v is declared here}}
  nl.level @v period 1 rule <objective = linear> {
    nl.state @B : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
  }
  // expected-error @+1 {{'nl.level' op optimizer level @v holds '!nl.matrix<4x4xf32, heads = 2>' but must hold the shape of the memory it serves, '!nl.matrix<4x4xf32>'}}
  nl.level @L period 1 rule <objective = l2, algorithm = adam, via = [@m, @v]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @m lr(%lr : tensor<f32>)
    nl.update @v lr(%lr : tensor<f32>)
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @non_linear_optimizer attributes {dim = 4} {
  // expected-note @+1 {{@S is declared here}}
  nl.level @S period 1 rule <objective = l2> {
    nl.state @B : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-error @+1 {{'nl.level' op optimizer level @S takes a gradient as its context, so its objective must be 'linear', not 'l2'}}
  nl.level @L period 1 rule <objective = l2, algorithm = momentum, via = [@S]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @S lr(%lr : tensor<f32>)
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// An optimizer level gets its context from the level it serves: nl.update
// gives it gates only.
nl.model @optimizer_given_key attributes {dim = 4} {
  nl.level @S period 1 rule <objective = linear> {
    nl.state @B : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @L period 1 rule <objective = l2, algorithm = momentum, via = [@S]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    // expected-error @+1 {{'nl.update' op 'key' is not allowed for level @S: its context is the gradient of @L, which it serves as 'via'}}
    nl.update @S key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @optimizer_given_value attributes {dim = 4} {
  nl.level @S period 1 rule <objective = linear> {
    nl.state @B : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @L period 1 rule <objective = l2, algorithm = momentum, via = [@S]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    // expected-error @+1 {{'nl.update' op 'value' is not allowed for level @S: its context is the gradient of @L, which it serves as 'via'}}
    nl.update @S value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Even a linear optimizer level takes no grad: the served level supplies it.
nl.model @optimizer_given_grad attributes {dim = 4} {
  nl.level @S period 1 rule <objective = linear> {
    nl.state @B : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @L period 1 rule <objective = l2, algorithm = momentum, via = [@S]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    %g = arith.constant dense<1.0> : tensor<4x4xf32>
    // expected-error @+1 {{'nl.update' op 'grad' is not allowed for level @S: its context is the gradient of @L, which it serves as 'via'}}
    nl.update @S grad(%g : tensor<4x4xf32>) lr(%lr : tensor<f32>)
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// The served level's own gates: a `via` momentum has no fused buffer, so
// its decay is the optimizer level's `retain`, not `momentum_decay`.
nl.model @served_given_momentum_decay attributes {dim = 4} {
  nl.level @S period 1 rule <objective = linear, retention = decay> {
    nl.state @B : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @L period 1 rule <objective = l2, algorithm = momentum, via = [@S]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @S lr(%lr : tensor<f32>) retain(%lr : tensor<f32>)
    // expected-error @+1 {{'nl.update' op 'momentum_decay' is not allowed for level @L: only a fused momentum/muon rule has a momentum buffer (a 'via' level takes its own 'retain')}}
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) momentum_decay(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Positive (no diagnostic expected): a served level and its optimizer
// level, both frozen, need no update and satisfy every `via` check.
nl.model @frozen_pair attributes {dim = 4} {
  nl.level @S period frozen rule <objective = linear> {
    nl.state @B : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @L period frozen rule <objective = l2, algorithm = momentum, via = [@S]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// M3: the first two `via` levels update with the served level; the third,
// the slow momentum, at a multiple of its period.
nl.model @m3_slow_not_multiple attributes {dim = 4} {
  nl.level @m_fast period 4 rule <objective = linear> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @v period 4 rule <objective = linear> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-note @+1 {{@m_slow is declared here}}
  nl.level @m_slow period 6 rule <objective = linear> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-error @+1 {{'nl.level' op the slow momentum @m_slow of 'm3' has period 6, which must be a multiple of the period 4 of the level it serves}}
  nl.level @W period 4 rule <objective = l2, algorithm = m3, via = [@m_fast, @v, @m_slow]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @m_fast lr(%lr : tensor<f32>)
    nl.update @v lr(%lr : tensor<f32>)
    nl.update @m_slow lr(%lr : tensor<f32>)
    nl.update @W key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @m3_slow_faster attributes {dim = 4} {
  nl.level @m_fast period 4 rule <objective = linear> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @v period 4 rule <objective = linear> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-note @+1 {{@m_slow is declared here}}
  nl.level @m_slow period 2 rule <objective = linear> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-error @+1 {{'nl.level' op the slow momentum @m_slow of 'm3' has period 2, which must be a multiple of the period 4 of the level it serves}}
  nl.level @W period 4 rule <objective = l2, algorithm = m3, via = [@m_fast, @v, @m_slow]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @m_fast lr(%lr : tensor<f32>)
    nl.update @v lr(%lr : tensor<f32>)
    nl.update @m_slow lr(%lr : tensor<f32>)
    nl.update @W key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @m3_slow_frozen attributes {dim = 4} {
  nl.level @m_fast period 4 rule <objective = linear> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @v period 4 rule <objective = linear> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-note @+1 {{@m_slow is declared here}}
  nl.level @m_slow period frozen {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-error @+1 {{'nl.level' op the slow momentum @m_slow of 'm3' has period frozen, which must be a multiple of the period 4 of the level it serves}}
  nl.level @W period 4 rule <objective = l2, algorithm = m3, via = [@m_fast, @v, @m_slow]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @m_fast lr(%lr : tensor<f32>)
    nl.update @v lr(%lr : tensor<f32>)
    nl.update @W key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// The second moment is not the slow one: it keeps the served period.
nl.model @m3_second_level_period attributes {dim = 4} {
  nl.level @m_fast period 4 rule <objective = linear> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-note @+1 {{@v is declared here}}
  nl.level @v period 16 rule <objective = linear> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @m_slow period 16 rule <objective = linear> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-error @+1 {{'nl.level' op optimizer level @v has period 16 but serves a level of period 4; the two must update together}}
  nl.level @W period 4 rule <objective = l2, algorithm = m3, via = [@m_fast, @v, @m_slow]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @m_fast lr(%lr : tensor<f32>)
    nl.update @v lr(%lr : tensor<f32>)
    nl.update @m_slow lr(%lr : tensor<f32>)
    nl.update @W key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Positive: a slow momentum of the served period (a multiple, 1x).
nl.model @m3_slow_equal_period attributes {dim = 4} {
  nl.level @m_fast period 4 rule <objective = linear> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @v period 4 rule <objective = linear> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @m_slow period 4 rule <objective = linear> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @W period 4 rule <objective = l2, algorithm = m3, via = [@m_fast, @v, @m_slow]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @m_fast lr(%lr : tensor<f32>)
    nl.update @v lr(%lr : tensor<f32>)
    nl.update @m_slow lr(%lr : tensor<f32>)
    nl.update @W key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Positive: 16 is a multiple of 2.
nl.model @m3_slow_multiple attributes {dim = 4} {
  nl.level @m_fast period 2 rule <objective = linear> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @v period 2 rule <objective = linear> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @m_slow period 16 rule <objective = linear> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @W period 2 rule <objective = l2, algorithm = m3, via = [@m_fast, @v, @m_slow]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @m_fast lr(%lr : tensor<f32>)
    nl.update @v lr(%lr : tensor<f32>)
    nl.update @m_slow lr(%lr : tensor<f32>)
    nl.update @W key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}
