// RUN: nl-opt %s --split-input-file -verify-diagnostics

// nl.accumulate, nl.pending and nl.fires: the level's period, its memory,
// the tensors' shapes, where they may appear.

nl.model @same_period attributes {dim = 4} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start> {
    nl.state @W : !nl.mlp<[4, 8, 4], gelu> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    nl.yield
  }
  nl.chunk_step size 4 (%X : tensor<4x4xf32>) {
    %w:2 = nl.weights @M : tensor<8x4xf32>, tensor<4x8xf32>
    // expected-error @below {{'nl.accumulate' op needs a level whose period is a multiple of the chunk's size 4 and larger; @M has period 4}}
    nl.accumulate @M(%w#0, %w#1 : tensor<8x4xf32>, tensor<4x8xf32>)
    nl.yield
  }
}

// -----

nl.model @not_a_multiple attributes {dim = 4} {
  nl.level @M period 6 rule <objective = l2, grad_at = chunk_start> {
    nl.state @W : !nl.mlp<[4, 8, 4], gelu> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    nl.yield
  }
  nl.chunk_step size 4 (%X : tensor<4x4xf32>) {
    // expected-error @below {{'nl.pending' op needs a level whose period is a multiple of the chunk's size 4 and larger; @M has period 6}}
    %p:2 = nl.pending @M : tensor<8x4xf32>, tensor<4x8xf32>
    nl.yield
  }
}

// -----

nl.model @matrix attributes {dim = 4} {
  nl.level @M period 8 rule <objective = l2, grad_at = chunk_start> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    nl.yield
  }
  nl.chunk_step size 4 (%X : tensor<4x4xf32>) {
    %M0 = nl.weights @M : tensor<4x4xf32>
    // expected-error @below {{'nl.accumulate' op level @M has a matrix memory; only MLP memories keep a pending update in the chunk form}}
    nl.accumulate @M(%M0 : tensor<4x4xf32>)
    nl.yield
  }
}

// -----

nl.model @shapes attributes {dim = 4} {
  nl.level @M period 8 rule <objective = l2, grad_at = chunk_start> {
    nl.state @W : !nl.mlp<[4, 8, 4], gelu> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    nl.yield
  }
  nl.chunk_step size 4 (%X : tensor<4x4xf32>) {
    // expected-error @below {{'nl.pending' op result #1 has shape [8, 4] but the stored tensor is [4, 8]}}
    %p:2 = nl.pending @M : tensor<8x4xf32>, tensor<8x4xf32>
    nl.yield
  }
}

// -----

nl.model @count attributes {dim = 4} {
  nl.level @M period 8 rule <objective = l2, grad_at = chunk_start> {
    nl.state @W : !nl.mlp<[4, 8, 4], gelu> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    nl.yield
  }
  nl.chunk_step size 4 (%X : tensor<4x4xf32>) {
    %w:2 = nl.weights @M : tensor<8x4xf32>, tensor<4x8xf32>
    // expected-error @below {{'nl.accumulate' op gives 1 step(s) but the memory of level @M stores 2 tensor(s)}}
    nl.accumulate @M(%w#0 : tensor<8x4xf32>)
    nl.yield
  }
}

// -----

nl.model @twice attributes {dim = 4} {
  nl.level @M period 8 rule <objective = l2, grad_at = chunk_start> {
    nl.state @W : !nl.mlp<[4, 8, 4], gelu> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    nl.yield
  }
  nl.chunk_step size 4 (%X : tensor<4x4xf32>) {
    %w:2 = nl.weights @M : tensor<8x4xf32>, tensor<4x8xf32>
    nl.accumulate @M(%w#0, %w#1 : tensor<8x4xf32>, tensor<4x8xf32>)
    // expected-error @below {{'nl.accumulate' op writes level @M a second time in one chunk}}
    nl.accumulate @M(%w#0, %w#1 : tensor<8x4xf32>, tensor<4x8xf32>)
    nl.yield
  }
}

// -----

nl.model @frozen attributes {dim = 4} {
  nl.level @M period frozen {
    nl.state @W : !nl.mlp<[4, 8, 4], gelu> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    nl.yield
  }
  nl.chunk_step size 4 (%X : tensor<4x4xf32>) {
    // expected-error @below {{'nl.fires' op level @M does not learn, so it never fires}}
    %f = nl.fires @M : tensor<f32>
    nl.yield
  }
}

// -----

nl.model @in_step attributes {dim = 4} {
  nl.level @M period 8 rule <objective = l2, grad_at = chunk_start> {
    nl.state @W : !nl.mlp<[4, 8, 4], gelu> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    // expected-error @below {{'nl.fires' op expects parent op 'nl.chunk_step'}}
    %f = nl.fires @M : tensor<f32>
    nl.yield
  }
}
