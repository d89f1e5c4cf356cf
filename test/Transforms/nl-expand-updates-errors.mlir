// RUN: nl-opt %s --split-input-file --pass-pipeline='builtin.module(nl.model(nl-verify-schedule,nl-expand-updates))' -verify-diagnostics

// What nl-expand-updates does not write yet is a located error naming the
// rule's feature, never a level left in another form.

nl.model @adam_chunked attributes {dim = 4} {
  nl.level @m1 period 4 rule <objective = linear, retention = decay> {
    nl.state @m : tensor<4xf32> = #nl.zeros
  }
  nl.level @m2 period 4 rule <objective = linear, retention = decay> {
    nl.state @v : tensor<4xf32> = #nl.zeros
  }
  nl.level @W period 4 rule <objective = linear, algorithm = adam, via = [@m1, @m2]> {
    nl.state @W : tensor<4xf32> = #nl.zeros
  }
  nl.step(%g : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @m1 lr(%lr : tensor<f32>) retain(%lr : tensor<f32>)
    nl.update @m2 lr(%lr : tensor<f32>) retain(%lr : tensor<f32>)
    // expected-error @+1 {{'nl.update' op feeds @W, whose rule uses 'algorithm = adam' on a level of period above 1; nl-expand-updates does not write that as explicit updates yet}}
    nl.update @W grad(%g : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

// An Omega window on a chunked level: the window of which tokens, at which
// state, is not defined (nor compiled by the fused back end).
nl.model @omega attributes {dim = 4} {
  nl.level @S period 4 rule <objective = l2, window = 4> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    // expected-error @+1 {{whose rule uses the Omega rule ('window' above 1) other than with gd on a matrix memory of period 1 (per-token lr, decoupled decay, no preconditioner)}}
    nl.update @S key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    %o = nl.read @S(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %o : tensor<4xf32>
  }
}

// -----

nl.model @ttt attributes {dim = 4} {
  nl.level @S period 4 rule <objective = l2, grad_at = chunk_start, read = chunk_prefix, lr_placement = per_chunk> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    // expected-error @+1 {{whose rule uses 'read = chunk_prefix' with 'lr_placement = per_chunk'}}
    nl.update @S key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    %o = nl.read @S(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %o : tensor<4xf32>
  }
}

// -----

// The mini-batch form applies its steps at once: a dropped tail has nothing
// left to drop.
nl.model @every_token_drop attributes {dim = 4} {
  nl.level @S period 4 tail drop rule <objective = l2, grad_at = chunk_start, chunk_apply = every_token> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    // expected-error @+1 {{whose rule uses 'chunk_apply = every_token' with 'tail drop' (its steps are applied at once; nothing is left to drop)}}
    nl.update @S key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    %o = nl.read @S(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %o : tensor<4xf32>
  }
}

// -----

// A rule the pass does not write is never read as another: l2_prox is not
// taken for 'none'.
nl.model @l2_prox attributes {dim = 4} {
  nl.level @S period 1 rule <objective = l2, retention = l2_prox> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    // expected-error @+1 {{whose rule uses retention 'l2_prox'}}
    nl.update @S key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    %o = nl.read @S(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %o : tensor<4xf32>
  }
}

// -----

// Delta momentum keys on one token's gradient: not on a chunked level.
nl.model @delta_momentum attributes {dim = 4} {
  nl.level @m period 4 rule <objective = linear, retention = decay, precond = delta> {
    nl.state @S : tensor<4xf32> = #nl.zeros
  }
  nl.level @W period 4 rule <objective = linear, algorithm = momentum, via = [@m]> {
    nl.state @W : tensor<4xf32> = #nl.zeros
  }
  nl.step(%g : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @m lr(%lr : tensor<f32>) retain(%lr : tensor<f32>)
    // expected-error @+1 {{whose rule uses delta momentum (a 'via' level with 'precond = delta') other than the momentum of a plain buffer of period 1}}
    nl.update @W grad(%g : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

// Yaad's data-dependent threshold on an Omega window: which token's scale
// would each slot take? Not written yet.
nl.model @yaad_window attributes {dim = 4} {
  nl.level @S period 1 rule <objective = huber, huber_delta = 1.0, window = 2> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    // expected-error @+1 {{'nl.update' op has a data-dependent huber threshold (delta_scale) on an Omega window; nl-expand-updates does not write that yet}}
    nl.update @S key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) delta_scale(%lr : tensor<f32>)
    %o = nl.read @S(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %o : tensor<4xf32>
  }
}
