// RUN: nl-opt %s --split-input-file --pass-pipeline='builtin.module(nl.model(nl-verify-schedule,nl-expand-updates))' -verify-diagnostics

// What nl-expand-updates does not write yet is a located error naming the
// rule's feature, never a level left in another form.

nl.model @muon attributes {dim = 4} {
  nl.level @m period 1 rule <objective = linear, retention = decay> {
    nl.state @S : !nl.matrix<2x2xf32> = #nl.zeros
  }
  nl.level @W period 1 rule <objective = linear, algorithm = muon, via = [@m]> {
    nl.state @W : !nl.matrix<2x2xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %g = tensor.expand_shape %x [[0, 1]] output_shape [2, 2] : tensor<4xf32> into tensor<2x2xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @m lr(%lr : tensor<f32>) retain(%lr : tensor<f32>)
    // expected-error @+1 {{'nl.update' op feeds @W, whose rule uses algorithm 'muon'; nl-expand-updates does not write that as explicit updates yet}}
    nl.update @W grad(%g : tensor<2x2xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

nl.model @omega attributes {dim = 4} {
  nl.level @S period 1 rule <objective = l2, window = 4> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    // expected-error @+1 {{whose rule uses the Omega rule ('window' above 1)}}
    nl.update @S key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    %o = nl.read @S(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %o : tensor<4xf32>
  }
}

// -----

nl.model @ttt attributes {dim = 4} {
  nl.level @S period 4 rule <objective = l2, grad_at = chunk_start, read = chunk_prefix> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    // expected-error @+1 {{whose rule uses 'read = chunk_prefix'}}
    nl.update @S key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    %o = nl.read @S(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %o : tensor<4xf32>
  }
}
