// RUN: nl-opt %s --split-input-file | nl-opt --split-input-file | FileCheck %s
// RUN: nl-opt %s --split-input-file --mlir-print-op-generic | nl-opt --split-input-file | FileCheck %s

// Every field spelled with its default value prints as the bare objective.
// CHECK-LABEL: nl.model @defaults_elided
// CHECK:       nl.level @L period 1 rule <objective = l2> {
nl.model @defaults_elided attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2, retention = none, decay_order = decoupled, algorithm = gd, grad_at = token, read = after_write, l2 = half, window = 1, precond = none, precond_target = first_layer, dgd_step = sherman_morrison, ns_steps = 5, write = stop_grad, grad_source = local, lr_placement = per_token> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Every objective; `p` and `huber_delta` belong to lp and huber. Frozen
// levels keep the models small: their rules are verified all the same.
// CHECK-LABEL: nl.model @objectives
// CHECK:       nl.level @dot period frozen rule <objective = dot> {
// CHECK:       nl.level @l2 period frozen rule <objective = l2> {
// CHECK:       nl.level @l2_full period frozen rule <objective = l2, l2 = full> {
// CHECK:       nl.level @lp period frozen rule <objective = lp, p = 3.0> {
// CHECK:       nl.level @lp_one period frozen rule <objective = lp, p = 1.0> {
// CHECK:       nl.level @huber period frozen rule <objective = huber, huber_delta = 0.5> {
// CHECK:       nl.level @linear period frozen rule <objective = linear> {
nl.model @objectives attributes {dim = 4} {
  nl.level @dot period frozen rule <objective = dot> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @l2 period frozen rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @l2_full period frozen rule <objective = l2, l2 = full> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @lp period frozen rule <objective = lp, p = 3.0> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @lp_one period frozen rule <objective = lp, p = 1.0> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @huber period frozen rule <objective = huber, huber_delta = 5.0e-01> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @linear period frozen rule <objective = linear> {
    nl.state @M : tensor<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Every retention, and the decay order of a decaying rule.
// CHECK-LABEL: nl.model @retentions
// CHECK:       nl.level @none period frozen rule <objective = l2> {
// CHECK:       nl.level @decay period frozen rule <objective = l2, retention = decay> {
// CHECK:       nl.level @decay_before_grad period frozen rule <objective = l2, retention = decay, decay_order = before_grad> {
// CHECK:       nl.level @prox period frozen rule <objective = l2, retention = l2_prox> {
nl.model @retentions attributes {dim = 4} {
  nl.level @none period frozen rule <objective = l2, retention = none> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @decay period frozen rule <objective = l2, retention = decay> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @decay_before_grad period frozen rule <objective = l2, retention = decay, decay_order = before_grad> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @prox period frozen rule <objective = l2, retention = l2_prox> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Every fused algorithm with its own parameter; fused buffers are states.
// CHECK-LABEL: nl.model @algorithms
// CHECK:       nl.level @gd period frozen rule <objective = l2> {
// CHECK:       nl.level @momentum period frozen rule <objective = l2, algorithm = momentum> {
// CHECK:       nl.level @dgd period frozen rule <objective = l2, algorithm = dgd> {
// CHECK:       nl.level @dgd_unit period frozen rule <objective = l2, algorithm = dgd, dgd_step = unit_norm> {
// CHECK:       nl.level @dgd_undamped period frozen rule <objective = l2, algorithm = dgd, dgd_step = undamped> {
// CHECK:       nl.level @muon period frozen rule <objective = linear, algorithm = muon> {
// CHECK:       nl.level @muon_steps period frozen rule <objective = linear, algorithm = muon, ns_steps = 3> {
// CHECK:       nl.level @adam period frozen rule <objective = linear, algorithm = adam> {
// CHECK:       nl.level @adam_eps period frozen rule <objective = linear, algorithm = adam, eps = 1.0e-08> {
nl.model @algorithms attributes {dim = 4} {
  nl.level @gd period frozen rule <objective = l2, algorithm = gd> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @momentum period frozen rule <objective = l2, algorithm = momentum> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
    nl.state @m : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @dgd period frozen rule <objective = l2, algorithm = dgd, dgd_step = sherman_morrison> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @dgd_unit period frozen rule <objective = l2, algorithm = dgd, dgd_step = unit_norm> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @dgd_undamped period frozen rule <objective = l2, algorithm = dgd, dgd_step = undamped> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @muon period frozen rule <objective = linear, algorithm = muon, ns_steps = 5> {
    nl.state @W : tensor<4x4xf32> = #nl.zeros
    nl.state @m : tensor<4x4xf32> = #nl.zeros
  }
  nl.level @muon_steps period frozen rule <objective = linear, algorithm = muon, ns_steps = 3> {
    nl.state @W : tensor<4x4xf32> = #nl.zeros
    nl.state @m : tensor<4x4xf32> = #nl.zeros
  }
  nl.level @adam period frozen rule <objective = linear, algorithm = adam> {
    nl.state @W : tensor<4x4xf32> = #nl.zeros
    nl.state @m : tensor<4x4xf32> = #nl.zeros
    nl.state @v : tensor<4x4xf32> = #nl.zeros
  }
  nl.level @adam_eps period frozen rule <objective = linear, algorithm = adam, eps = 1.0e-8> {
    nl.state @W : tensor<4x4xf32> = #nl.zeros
    nl.state @m : tensor<4x4xf32> = #nl.zeros
    nl.state @v : tensor<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// `via` with one level (momentum), one level (muon) and two levels (adam).
// CHECK-LABEL: nl.model @via
// CHECK:       nl.level @M period 1 rule <objective = l2, algorithm = momentum, via = [@m_buf]> {
// CHECK:       nl.level @U period 1 rule <objective = dot, algorithm = muon, via = [@u_buf], ns_steps = 2> {
// CHECK:       nl.level @A period 1 rule <objective = l2, algorithm = adam, via = [@a_m, @a_v], eps = 0.001> {
nl.model @via attributes {dim = 4} {
  nl.level @m_buf period 1 rule <objective = linear> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @M period 1 rule <objective = l2, algorithm = momentum, via = [@m_buf]> {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @u_buf period 1 rule <objective = linear> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @U period 1 rule <objective = dot, algorithm = muon, via = [@u_buf], ns_steps = 2> {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @a_m period 1 rule <objective = linear> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @a_v period 1 rule <objective = linear> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @A period 1 rule <objective = l2, algorithm = adam, via = [@a_m, @a_v], eps = 1.0e-3> {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @m_buf lr(%lr : tensor<f32>)
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @u_buf lr(%lr : tensor<f32>)
    nl.update @U key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @a_m lr(%lr : tensor<f32>)
    nl.update @a_v lr(%lr : tensor<f32>)
    nl.update @A key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// M3 (Multi-scale Momentum Muon): three `via` levels, the last one a slow
// momentum whose period is a multiple of the served level's; its own
// parameters ns_steps, eps and slow_weight.
// CHECK-LABEL: nl.model @m3
// CHECK:       nl.level @W period 1 rule <objective = l2, algorithm = m3, via = [@m_fast, @v, @m_slow]> {
// CHECK:       nl.level @W2 period 4 rule <objective = dot, algorithm = m3, via = [@m_fast2, @v2, @m_slow2], ns_steps = 3, eps = 1.0e-06, slow_weight = 0.5> {
nl.model @m3 attributes {dim = 4} {
  nl.level @m_fast period 1 rule <objective = linear> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @v period 1 rule <objective = linear> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @m_slow period 16 rule <objective = linear> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @W period 1 rule <objective = l2, algorithm = m3, via = [@m_fast, @v, @m_slow], ns_steps = 5> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @m_fast2 period 4 rule <objective = linear> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @v2 period 4 rule <objective = linear> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @m_slow2 period 4 rule <objective = linear> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @W2 period 4 rule <objective = dot, algorithm = m3, via = [@m_fast2, @v2, @m_slow2], ns_steps = 3, eps = 1.0e-6, slow_weight = 5.0e-1> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @m_fast lr(%lr : tensor<f32>)
    nl.update @v lr(%lr : tensor<f32>)
    nl.update @m_slow lr(%lr : tensor<f32>)
    nl.update @W key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @m_fast2 lr(%lr : tensor<f32>)
    nl.update @v2 lr(%lr : tensor<f32>)
    nl.update @m_slow2 lr(%lr : tensor<f32>)
    nl.update @W2 key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// The scheduling and gradient fields, each off its default.
// CHECK-LABEL: nl.model @scheduling_fields
// CHECK:       nl.level @grad_at period frozen rule <objective = l2, grad_at = chunk_start> {
// CHECK:       nl.level @read period frozen rule <objective = l2, read = before_write> {
// CHECK:       nl.level @window period frozen rule <objective = l2, window = 8> {
// CHECK:       nl.level @write period frozen rule <objective = l2, write = differentiable> {
// CHECK:       nl.level @task period frozen rule <objective = l2, grad_source = task> {
// CHECK:       nl.level @per_chunk period frozen rule <objective = l2, lr_placement = per_chunk> {
nl.model @scheduling_fields attributes {dim = 4} {
  nl.level @grad_at period frozen rule <objective = l2, grad_at = chunk_start> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @read period frozen rule <objective = l2, read = before_write> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @window period frozen rule <objective = l2, window = 8> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @write period frozen rule <objective = l2, write = differentiable> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @task period frozen rule <objective = l2, grad_source = task> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @per_chunk period frozen rule <objective = l2, lr_placement = per_chunk> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// The delta preconditioner, on the first layer (default) or every layer.
// CHECK-LABEL: nl.model @precond
// CHECK:       nl.level @first period frozen rule <objective = l2, precond = delta> {
// CHECK:       nl.level @every period frozen rule <objective = l2, precond = delta, precond_target = every_layer> {
nl.model @precond attributes {dim = 4} {
  nl.level @first period frozen rule <objective = l2, precond = delta, precond_target = first_layer> {
    nl.state @M : !nl.mlp<[4, 8, 4], silu> = #nl.zeros
  }
  nl.level @every period frozen rule <objective = l2, precond = delta, precond_target = every_layer> {
    nl.state @M : !nl.mlp<[4, 8, 4], silu> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Every field off its default at once (a Hope-like DGD rule), written out
// of order; the printer uses the declaration order.
// CHECK-LABEL: nl.model @everything
// CHECK:       nl.level @L period 16 rule <objective = l2, retention = decay, decay_order = before_grad, algorithm = dgd, grad_at = chunk_start, read = before_write, l2 = full, window = 4, precond = delta, precond_target = every_layer, dgd_step = undamped, write = differentiable, grad_source = task, lr_placement = per_chunk> {
nl.model @everything attributes {dim = 4} {
  nl.level @L period 16 rule <lr_placement = per_chunk, grad_source = task, write = differentiable, dgd_step = undamped, precond_target = every_layer, precond = delta, window = 4, l2 = full, read = before_write, grad_at = chunk_start, algorithm = dgd, decay_order = before_grad, retention = decay, objective = l2> {
    nl.state @M : !nl.mlp<[4, 8, 4], silu, residual> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) retain(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// A rule is also an ordinary attribute.
// CHECK-LABEL: nl.model @as_attribute
// CHECK-SAME:    r = #nl.rule<objective = huber, huber_delta = 1.0, window = 2>
nl.model @as_attribute attributes {dim = 4, r = #nl.rule<objective = huber, huber_delta = 1.0, window = 2>} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// TTT's in-mini-batch read.
// CHECK-LABEL: nl.model @chunk_prefix
// CHECK-SAME:    r = #nl.rule<objective = l2, grad_at = chunk_start, read = chunk_prefix>
nl.model @chunk_prefix attributes {dim = 4, r = #nl.rule<objective = l2, grad_at = chunk_start, read = chunk_prefix>} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}
