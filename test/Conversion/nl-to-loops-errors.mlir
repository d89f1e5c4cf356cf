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
