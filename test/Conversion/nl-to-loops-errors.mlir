// RUN: nl-opt %s --split-input-file --nl-schedule-pipeline --nl-materialize-abi --nl-to-loops -verify-diagnostics

// What the CPU back end does not compile yet is a located error, not a
// crash or wrong code.
// An MLP memory's update must be expanded (nl-expand-mlp) and differentiated
// (nl-derive-gradients) first; nlc runs both before nl-to-loops.
nl.model @mlp attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2> {
    nl.state @M : !nl.mlp<[4, 8, 4], silu, residual> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    // expected-error @below {{'nl.update' op updates the MLP memory of level @L with a key and value; run nl-expand-mlp and nl-derive-gradients before lowering}}
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

nl.model @cache attributes {dim = 4} {
  // expected-error @below {{uses an unbounded KV cache (window = 0; the CPU back end keeps a fixed-size ring buffer); the CPU back end does not compile that yet}}
  nl.level @A period inf {
    nl.state @C : !nl.kv_cache<key = 4, value = 4>
  }
  nl.step(%x : tensor<4xf32>) {
    nl.update @A key(%x : tensor<4xf32>) value(%x : tensor<4xf32>)
    nl.yield
  }
}

// -----

nl.model @dgd_chunked attributes {dim = 4} {
  // expected-error @below {{uses algorithm 'dgd' on a level with a period above 1; the CPU back end does not compile that yet}}
  nl.level @W period 4 rule <objective = l2, algorithm = dgd> {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @W key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

nl.model @omega_chunked attributes {dim = 4} {
  // expected-error @below {{uses an Omega-rule window on a level with a period above 1; the CPU back end does not compile that yet}}
  nl.level @W period 4 rule <objective = l2, window = 3> {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @W key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

nl.model @omega_momentum attributes {dim = 4} {
  // expected-error @below {{uses an Omega-rule window with an algorithm other than 'gd'; the CPU back end does not compile that yet}}
  nl.level @W period 1 rule <objective = l2, algorithm = momentum, window = 3> {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.zeros
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @W key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) momentum_decay(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

nl.model @omega_before_grad attributes {dim = 4} {
  // expected-error @below {{uses an Omega-rule window with 'decay_order = before_grad'; the CPU back end does not compile that yet}}
  nl.level @W period 1 rule <objective = l2, retention = decay, decay_order = before_grad, window = 3> {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @W key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) retain(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

nl.model @precond_momentum attributes {dim = 4} {
  // expected-error @below {{uses 'precond = delta' other than on an MLP memory or a matrix memory with algorithm 'gd'; the CPU back end does not compile that yet}}
  nl.level @W period 1 rule <objective = l2, algorithm = momentum, precond = delta> {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.zeros
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @W key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) momentum_decay(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

// A read of an MLP memory is expanded by nl-expand-mlp first (it crashed
// here once).
nl.model @mlp_read attributes {dim = 4} {
  nl.level @L period frozen {
    nl.state @M : !nl.mlp<[4, 8, 4], silu, residual> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @below {{'nl.read' op reads an MLP memory; run nl-expand-mlp before lowering}}
    %y = nl.read @L(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %y : tensor<4xf32>
  }
}

// -----

// A nested-CMS reset copies one memory into another of the same type.
nl.model @reset_types attributes {dim = 4} {
  nl.level @fast period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @slow period 4 rule <objective = l2, grad_at = chunk_start> {
    nl.state @M : !nl.matrix<4x2xf32> = #nl.zeros
  }
  // expected-error @below {{'nl.transfer' op resets @fast ('!nl.matrix<4x4xf32>') to the memory of @slow ('!nl.matrix<4x2xf32>'); the back ends need two parametric memories of one type}}
  nl.transfer init @slow -> @fast reset
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    %h = tensor.extract_slice %x[0] [2] [1] : tensor<4xf32> to tensor<2xf32>
    nl.update @fast key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @slow key(%h : tensor<2xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

// The gated delta rule takes its gradient at the decayed state token by
// token; a chunk's steps at one state would need the decay of every token
// (the chunk form's decay mask), which the per-token kernels do not keep.
nl.model @before_grad_chunked attributes {dim = 4} {
  // expected-error @below {{uses 'decay_order = before_grad' on a level with a period above 1; the CPU back end does not compile that yet}}
  nl.level @W period 4 rule <objective = l2, retention = decay, decay_order = before_grad> {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @W key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) retain(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

// The optimizers kept in `via` levels apply per token only (the rule
// registry's `chunked` column).
nl.model @adam_chunked attributes {dim = 4} {
  nl.level @m1 period 4 rule <objective = linear, retention = decay> {
    nl.state @m : tensor<4xf32> = #nl.zeros
  }
  nl.level @m2 period 4 rule <objective = linear, retention = decay> {
    nl.state @v : tensor<4xf32> = #nl.zeros
  }
  // expected-error @below {{uses algorithm 'adam' on a level with a period above 1; the CPU back end does not compile that yet}}
  nl.level @W period 4 rule <objective = linear, algorithm = adam, via = [@m1, @m2]> {
    nl.state @W : tensor<4xf32> = #nl.zeros
  }
  nl.step(%g : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @m1 lr(%lr : tensor<f32>) retain(%lr : tensor<f32>)
    nl.update @m2 lr(%lr : tensor<f32>) retain(%lr : tensor<f32>)
    nl.update @W grad(%g : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

nl.model @muon_chunked attributes {dim = 4} {
  nl.level @B period 4 rule <objective = linear, retention = decay> {
    nl.state @B : !nl.matrix<2x2xf32> = #nl.zeros
  }
  // expected-error @below {{uses algorithm 'muon' on a level with a period above 1; the CPU back end does not compile that yet}}
  nl.level @W period 4 rule <objective = linear, algorithm = muon, via = [@B]> {
    nl.state @W : !nl.matrix<2x2xf32> = #nl.zeros
  }
  nl.step(%g : tensor<4xf32>) {
    %G = tensor.expand_shape %g [[0, 1]] output_shape [2, 2] : tensor<4xf32> into tensor<2x2xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @B lr(%lr : tensor<f32>) retain(%lr : tensor<f32>)
    nl.update @W grad(%G : tensor<2x2xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

nl.model @m3_chunked attributes {dim = 4} {
  nl.level @fast period 4 rule <objective = linear> {
    nl.state @M1 : !nl.matrix<2x2xf32> = #nl.zeros
  }
  nl.level @second period 4 rule <objective = linear> {
    nl.state @V : !nl.matrix<2x2xf32> = #nl.zeros
  }
  nl.level @slow period 8 rule <objective = linear> {
    nl.state @M2 : !nl.matrix<2x2xf32> = #nl.zeros
  }
  // expected-error @below {{uses algorithm 'm3' on a level with a period above 1; the CPU back end does not compile that yet}}
  nl.level @W period 4 rule <objective = linear, algorithm = m3, via = [@fast, @second, @slow]> {
    nl.state @W : !nl.matrix<2x2xf32> = #nl.zeros
  }
  nl.step(%g : tensor<4xf32>) {
    %G = tensor.expand_shape %g [[0, 1]] output_shape [2, 2] : tensor<4xf32> into tensor<2x2xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @fast lr(%lr : tensor<f32>)
    nl.update @second lr(%lr : tensor<f32>)
    nl.update @slow lr(%lr : tensor<f32>)
    nl.update @W grad(%G : tensor<2x2xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

// DGD's step size lr / (1 + lr ||k||^2) is the token's own.
nl.model @dgd_per_chunk attributes {dim = 4} {
  // expected-error @below {{uses algorithm 'dgd' with lr_placement = per_chunk; the CPU back end does not compile that yet}}
  nl.level @W period 1 rule <objective = l2, algorithm = dgd, lr_placement = per_chunk> {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @W key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

// MLP memories take the plain algorithms with fused buffers; the Omega
// window and the gated order are written for matrix memories.
nl.model @mlp_via attributes {dim = 4} {
  nl.level @S period 1 rule <objective = linear, retention = decay> {
    nl.state @S : !nl.mlp<[4, 8, 4], silu> = #nl.zeros
  }
  // expected-error @below {{uses an MLP memory with algorithm 'momentum' kept in 'via' levels (MLP memories take gd or a fused momentum); the CPU back end does not compile that yet}}
  nl.level @L period 1 rule <objective = l2, algorithm = momentum, via = [@S]> {
    nl.state @M : !nl.mlp<[4, 8, 4], silu> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @S lr(%lr : tensor<f32>) retain(%lr : tensor<f32>)
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

nl.model @mlp_window attributes {dim = 4} {
  // expected-error @below {{uses an Omega-rule window on an MLP memory; the CPU back end does not compile that yet}}
  nl.level @L period 1 rule <objective = l2, window = 2> {
    nl.state @M : !nl.mlp<[4, 8, 4], silu> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}
