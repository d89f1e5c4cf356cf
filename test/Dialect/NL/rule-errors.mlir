// RUN: nl-opt %s --split-input-file -verify-diagnostics

// Every check of #nl.rule; each case breaks one field of a valid rule.

// Unknown names list the valid ones.
nl.model @unknown_objective attributes {dim = 4} {
  // expected-error @+2 {{expected ::mlir::nl::Objective to be one of: dot, l2, lp, huber, linear, oja}}
  // expected-error @+1 {{failed to parse NL_RuleAttr parameter 'objective'}}
  nl.level @L period 1 rule <objective = hebbian> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @unknown_retention attributes {dim = 4} {
  // expected-error @+2 {{expected ::mlir::nl::Retention to be one of: none, decay, l2_prox}}
  // expected-error @+1 {{failed to parse NL_RuleAttr parameter 'retention'}}
  nl.level @L period 1 rule <objective = l2, retention = forget> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @unknown_algorithm attributes {dim = 4} {
  // expected-error @+2 {{expected ::mlir::nl::Algorithm to be one of: gd, momentum, dgd, muon, adam, m3}}
  // expected-error @+1 {{failed to parse NL_RuleAttr parameter 'algorithm'}}
  nl.level @L period 1 rule <objective = l2, algorithm = sgd> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @unknown_grad_at attributes {dim = 4} {
  // expected-error @+2 {{expected ::mlir::nl::GradPoint to be one of: token, chunk_start}}
  // expected-error @+1 {{failed to parse NL_RuleAttr parameter 'grad_at'}}
  nl.level @L period 1 rule <objective = l2, grad_at = chunk_end> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @unknown_read attributes {dim = 4} {
  // expected-error @+2 {{expected ::mlir::nl::ReadOrder to be one of: before_write, after_write}}
  // expected-error @+1 {{failed to parse NL_RuleAttr parameter 'read'}}
  nl.level @L period 1 rule <objective = l2, read = later> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @unknown_decay_order attributes {dim = 4} {
  // expected-error @+2 {{expected ::mlir::nl::DecayOrder to be one of: decoupled, before_grad}}
  // expected-error @+1 {{failed to parse NL_RuleAttr parameter 'decay_order'}}
  nl.level @L period 1 rule <objective = l2, retention = decay, decay_order = after_grad> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @unknown_field attributes {dim = 4} {
  // expected-error @+1 {{duplicate or unknown struct parameter name: momentum}}
  nl.level @L period 1 rule <objective = l2, momentum = 0.9> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @duplicate_field attributes {dim = 4} {
  // expected-error @+1 {{duplicate or unknown struct parameter name: objective}}
  nl.level @L period 1 rule <objective = l2, objective = dot> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

// `objective` is the one required field.
nl.model @missing_objective attributes {dim = 4} {
  // expected-error @+1 {{struct is missing required parameter: objective}}
  nl.level @L period 1 rule <retention = decay> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @lp_without_p attributes {dim = 4} {
  // expected-error @+1 {{objective 'lp' needs the exponent 'p'}}
  nl.level @L period 1 rule <objective = lp> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @p_below_one attributes {dim = 4} {
  // expected-error @+1 {{exponent 'p' must be >= 1, got 5.000000e-01}}
  nl.level @L period 1 rule <objective = lp, p = 0.5> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

// Reals are float literals.
nl.model @p_integer_literal attributes {dim = 4} {
  // expected-error @+3 {{unexpected decimal integer literal for a floating point value}}
  // expected-note @+2 {{add a trailing dot to make the literal a float}}
  // expected-error @+1 {{failed to parse NL_RuleAttr parameter 'p'}}
  nl.level @L period 1 rule <objective = lp, p = 2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @p_with_l2 attributes {dim = 4} {
  // expected-error @+1 {{'p' is only meaningful with objective 'lp'}}
  nl.level @L period 1 rule <objective = l2, p = 2.0> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @huber_without_delta attributes {dim = 4} {
  // expected-error @+1 {{objective 'huber' needs 'huber_delta'}}
  nl.level @L period 1 rule <objective = huber> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @huber_delta_zero attributes {dim = 4} {
  // expected-error @+1 {{'huber_delta' must be positive, got 0.000000e+00}}
  nl.level @L period 1 rule <objective = huber, huber_delta = 0.0> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @huber_delta_negative attributes {dim = 4} {
  // expected-error @+1 {{'huber_delta' must be positive, got -1.000000e+00}}
  nl.level @L period 1 rule <objective = huber, huber_delta = -1.0> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @huber_delta_with_l2 attributes {dim = 4} {
  // expected-error @+1 {{'huber_delta' is only meaningful with objective 'huber'}}
  nl.level @L period 1 rule <objective = l2, huber_delta = 1.0> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @decay_order_without_decay attributes {dim = 4} {
  // expected-error @+1 {{'decay_order' is only meaningful with 'retention = decay'}}
  nl.level @L period 1 rule <objective = l2, decay_order = before_grad> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @l2_convention_with_dot attributes {dim = 4} {
  // expected-error @+1 {{'l2' convention is only meaningful with objective 'l2'}}
  nl.level @L period 1 rule <objective = dot, l2 = full> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @window_zero attributes {dim = 4} {
  // expected-error @+1 {{'window' must be a positive integer, got 0}}
  nl.level @L period 1 rule <objective = l2, window = 0> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @window_negative attributes {dim = 4} {
  // expected-error @+1 {{'window' must be a positive integer, got -2}}
  nl.level @L period 1 rule <objective = l2, window = -2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @window_with_linear attributes {dim = 4} {
  // expected-error @+1 {{a 'window' (Omega rule) needs a key/value objective, not 'linear'}}
  nl.level @L period 1 rule <objective = linear, window = 4> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @dgd_with_dot attributes {dim = 4} {
  // expected-error @+1 {{algorithm 'dgd' is the proximal step of the 'l2' objective; got objective 'dot'}}
  nl.level @L period 1 rule <objective = dot, algorithm = dgd> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @dgd_with_linear attributes {dim = 4} {
  // expected-error @+1 {{algorithm 'dgd' is the proximal step of the 'l2' objective; got objective 'linear'}}
  nl.level @L period 1 rule <objective = linear, algorithm = dgd> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @dgd_step_without_dgd attributes {dim = 4} {
  // expected-error @+1 {{'dgd_step' is only meaningful with algorithm 'dgd'}}
  nl.level @L period 1 rule <objective = l2, dgd_step = unit_norm> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @ns_steps_zero attributes {dim = 4} {
  // expected-error @+1 {{'ns_steps' must be a positive integer, got 0}}
  nl.level @L period 1 rule <objective = l2, algorithm = muon, ns_steps = 0> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @ns_steps_without_muon attributes {dim = 4} {
  // expected-error @+1 {{'ns_steps' is only meaningful with algorithm 'muon' or 'm3'}}
  nl.level @L period 1 rule <objective = l2, algorithm = momentum, ns_steps = 3> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @eps_without_adam attributes {dim = 4} {
  // expected-error @+1 {{'eps' is only meaningful with algorithm 'adam' or 'm3'}}
  nl.level @L period 1 rule <objective = l2, eps = 1.0e-8> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @eps_zero attributes {dim = 4} {
  // expected-error @+1 {{'eps' must be positive}}
  nl.level @L period 1 rule <objective = l2, algorithm = adam, eps = 0.0> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @eps_negative attributes {dim = 4} {
  // expected-error @+1 {{'eps' must be positive}}
  nl.level @L period 1 rule <objective = l2, algorithm = adam, eps = -1.0e-8> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @precond_target_without_precond attributes {dim = 4} {
  // expected-error @+1 {{'precond_target' needs 'precond = delta'}}
  nl.level @L period 1 rule <objective = l2, precond_target = every_layer> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @precond_with_linear attributes {dim = 4} {
  // expected-error @+1 {{'precond = delta' on objective 'linear' is delta momentum (its key is the gradient it is fed) and takes algorithm 'gd'}}
  nl.level @L period 1 rule <objective = linear, algorithm = momentum, precond = delta> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @via_with_gd attributes {dim = 4} {
  // expected-error @+1 {{algorithm 'gd' keeps no memory; 'via' is not allowed}}
  nl.level @L period 1 rule <objective = l2, via = [@S]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @via_with_dgd attributes {dim = 4} {
  // expected-error @+1 {{algorithm 'dgd' keeps no memory; 'via' is not allowed}}
  nl.level @L period 1 rule <objective = l2, algorithm = dgd, via = [@S]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @via_empty_list attributes {dim = 4} {
  // expected-error @+1 {{algorithm 'gd' keeps no memory; 'via' is not allowed}}
  nl.level @L period 1 rule <objective = l2, via = []> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @momentum_via_two attributes {dim = 4} {
  // expected-error @+1 {{algorithm 'momentum' takes 1 level(s) in 'via', got 2}}
  nl.level @L period 1 rule <objective = l2, algorithm = momentum, via = [@A, @B]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @momentum_via_none attributes {dim = 4} {
  // expected-error @+1 {{algorithm 'momentum' takes 1 level(s) in 'via', got 0}}
  nl.level @L period 1 rule <objective = l2, algorithm = momentum, via = []> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @muon_via_two attributes {dim = 4} {
  // expected-error @+1 {{algorithm 'muon' takes 1 level(s) in 'via', got 2}}
  nl.level @L period 1 rule <objective = l2, algorithm = muon, via = [@A, @B]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @adam_via_one attributes {dim = 4} {
  // expected-error @+1 {{algorithm 'adam' takes 2 level(s) in 'via', got 1}}
  nl.level @L period 1 rule <objective = l2, algorithm = adam, via = [@A]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @adam_via_three attributes {dim = 4} {
  // expected-error @+1 {{algorithm 'adam' takes 2 level(s) in 'via', got 3}}
  nl.level @L period 1 rule <objective = l2, algorithm = adam, via = [@A, @B, @C]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @via_integer attributes {dim = 4} {
  // expected-error @+1 {{'via' must list level symbols (@name), got 1 : i64}}
  nl.level @L period 1 rule <objective = l2, algorithm = momentum, via = [1]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @via_string attributes {dim = 4} {
  // expected-error @+1 {{'via' must list level symbols (@name), got "S"}}
  nl.level @L period 1 rule <objective = l2, algorithm = momentum, via = ["S"]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @via_nested_symbol attributes {dim = 4} {
  // expected-error @+1 {{'via' must list level symbols (@name), got @a::@b}}
  nl.level @L period 1 rule <objective = l2, algorithm = momentum, via = [@a::@b]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @m3_without_via attributes {dim = 4} {
  // expected-error @+1 {{algorithm 'm3' keeps its three memories in levels; name them with 'via'}}
  nl.level @L period 1 rule <objective = l2, algorithm = m3> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @m3_via_two attributes {dim = 4} {
  // expected-error @+1 {{algorithm 'm3' takes 3 level(s) in 'via', got 2}}
  nl.level @L period 1 rule <objective = l2, algorithm = m3, via = [@m, @v]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @m3_via_four attributes {dim = 4} {
  // expected-error @+1 {{algorithm 'm3' takes 3 level(s) in 'via', got 4}}
  nl.level @L period 1 rule <objective = l2, algorithm = m3, via = [@a, @b, @c, @d]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @slow_weight_without_m3 attributes {dim = 4} {
  // expected-error @+1 {{'slow_weight' is only meaningful with algorithm 'm3'}}
  nl.level @L period 1 rule <objective = l2, slow_weight = 0.5> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @slow_weight_with_adam attributes {dim = 4} {
  // expected-error @+1 {{'slow_weight' is only meaningful with algorithm 'm3'}}
  nl.level @L period 1 rule <objective = l2, algorithm = adam, slow_weight = 0.5> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @ns_steps_with_adam attributes {dim = 4} {
  // expected-error @+1 {{'ns_steps' is only meaningful with algorithm 'muon' or 'm3'}}
  nl.level @L period 1 rule <objective = l2, algorithm = adam, ns_steps = 2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @eps_with_muon attributes {dim = 4} {
  // expected-error @+1 {{'eps' is only meaningful with algorithm 'adam' or 'm3'}}
  nl.level @L period 1 rule <objective = l2, algorithm = muon, eps = 1.0e-8> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}
// -----

// The attribute form #nl.rule<...> is checked by the same verifier.
// expected-error @+1 {{objective 'lp' needs the exponent 'p'}}
nl.model @attribute_form attributes {dim = 4, r = #nl.rule<objective = lp>} {
}

// -----

nl.model @chunk_prefix_momentum attributes {dim = 4} {
  // expected-error @+1 {{'read = chunk_prefix' (the chunk-start state minus the chunk's steps so far) needs 'grad_at = chunk_start', algorithm 'gd' and no retention}}
  nl.level @L period 4 rule <objective = l2, grad_at = chunk_start, read = chunk_prefix, retention = decay> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

// The delta preconditioner acts on the prediction error e of e k^T; Oja's
// gradient v (M^T v - k)^T has none (the registry's predictionGrad).
nl.model @oja_precond attributes {dim = 4} {
  // expected-error @+1 {{'precond = delta' acts on the prediction error of the objective; objective 'oja' has none}}
  nl.level @L period 1 rule <objective = oja, precond = delta> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

// DGD's Sherman-Morrison step is exact for the 1/2 convention only.
nl.model @dgd_full attributes {dim = 4} {
  // expected-error @+1 {{'dgd_step = sherman_morrison' is the exact proximal step of l2 = half; with 'l2 = full' it would be lr' = 2 lr / (1 + 2 lr ||k||^2): write 'l2 = half' and twice the lr}}
  nl.level @L period 1 rule <objective = l2, algorithm = dgd, l2 = full> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}
