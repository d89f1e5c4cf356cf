// RUN: nl-opt %s --split-input-file -verify-diagnostics

func.func @yield_not_scalar(%x: tensor<4xf32>) -> tensor<4xf32> {
  %g = nl.grad (%x) : tensor<4xf32> -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    // expected-error @below {{'nl.yield' op in nl.grad must return one scalar objective (tensor<f32>)}}
    nl.yield %a : tensor<4xf32>
  }
  return %g : tensor<4xf32>
}

// -----

func.func @grad_types(%x: tensor<4xf32>) -> tensor<3xf32> {
  // expected-error @below {{'nl.grad' op must return one gradient of the type of each operand}}
  %g = nl.grad (%x) : tensor<4xf32> -> tensor<3xf32> {
  ^bb0(%a: tensor<4xf32>):
    %l = nl.sum %a : tensor<4xf32> -> tensor<f32>
    nl.yield %l : tensor<f32>
  }
  return %g : tensor<3xf32>
}

// -----

func.func @grad_block_args(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @below {{'nl.grad' op body must take one argument of the type of each operand}}
  %g = nl.grad (%x) : tensor<4xf32> -> tensor<4xf32> {
  ^bb0(%a: tensor<2xf32>):
    %l = nl.sum %a : tensor<2xf32> -> tensor<f32>
    nl.yield %l : tensor<f32>
  }
  return %g : tensor<4xf32>
}

// -----

func.func @sum_shape(%x: tensor<2x4xf32>) -> tensor<3xf32> {
  // expected-error @below {{'nl.sum' op result shape [3] does not broadcast to the input shape [2, 4]}}
  %s = nl.sum %x : tensor<2x4xf32> -> tensor<3xf32>
  return %s : tensor<3xf32>
}

// -----

func.func @outer_lead(%a: tensor<2x3xf32>, %b: tensor<4xf32>) -> tensor<2x3x4xf32> {
  // expected-error @below {{'nl.outer' op operands [2, 3] and [4] must be vectors with the same leading dimensions}}
  %o = nl.outer %a, %b : tensor<2x3xf32>, tensor<4xf32> -> tensor<2x3x4xf32>
  return %o : tensor<2x3x4xf32>
}

// -----

func.func @norm_grad_l2_scale(%x: tensor<4xf32>, %s: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @below {{'nl.norm_grad' op scale must be a vector of 4 values, and an l2 norm takes none}}
  %d = nl.norm_grad l2 %x, %x scale %s : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

func.func @linear_batched_lead(%x: tensor<2x4xf32>, %w: tensor<3x8x4xf32>) -> tensor<2x8xf32> {
  // expected-error @below {{'nl.linear' op weight must be a d_out x d_in matrix, or one per leading index of the input [2], got shape [3, 8, 4]}}
  %y = nl.linear %x, %w : (tensor<2x4xf32>, tensor<3x8x4xf32>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

nl.model @weights_of_buffer attributes {dim = 4} {
  nl.level @M period frozen {
    nl.state @S : tensor<4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    // expected-error @below {{'nl.weights' op level @M has no MLP or matrix memory}}
    %w = nl.weights @M : tensor<4xf32>
    nl.yield
  }
}

// -----

nl.model @weights_matrix_after_write attributes {dim = 4} {
  nl.level @M period frozen {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    // expected-error @below {{'nl.weights' op of the matrix memory of level @M returns the stored state; 'after_write' and 'chunk_prefix' apply to MLP memories}}
    %w = nl.weights @M after_write : tensor<4x4xf32>
    nl.yield
  }
}

// -----

nl.model @weights_matrix_shape attributes {dim = 4} {
  nl.level @M period frozen {
    nl.state @S : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    // expected-error @below {{'nl.weights' op result #0 has shape [4, 4] but the stored matrix needs [2, 4, 4]}}
    %w = nl.weights @M : tensor<4x4xf32>
    nl.yield
  }
}

// -----

nl.model @weights_count attributes {dim = 4} {
  nl.level @M period 1 rule <objective = l2> {
    nl.state @W : !nl.mlp<[4, 8, 4], silu> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    // expected-error @below {{'nl.weights' op returns 1 value(s) but the MLP memory of level @M stores 2 tensor(s)}}
    %w = nl.weights @M : tensor<8x4xf32>
    nl.yield
  }
}

// -----

nl.model @update_grads_count attributes {dim = 4} {
  nl.level @M period 1 rule <objective = l2> {
    nl.state @W : !nl.mlp<[4, 8, 4], silu> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %g = arith.constant dense<0.0> : tensor<8x4xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    // expected-error @below {{'nl.update' op gives 1 gradient(s) but the MLP memory of level @M stores 2 tensor(s)}}
    nl.update @M grad(%g : tensor<8x4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

nl.model @update_grad_shape attributes {dim = 4} {
  nl.level @M period 1 rule <objective = l2> {
    nl.state @W : !nl.mlp<[4, 8, 4], silu> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %g = arith.constant dense<0.0> : tensor<8x4xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    // expected-error @below {{'nl.update' op grad of w1 has shape [8, 4] but the stored tensor needs [4, 8]}}
    nl.update @M grad(%g, %g : tensor<8x4xf32>, tensor<8x4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

nl.model @mlp_channel_gate attributes {dim = 4} {
  nl.level @M period 1 rule <objective = l2> {
    nl.state @W : !nl.mlp<[4, 8, 4], silu> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    // expected-error @below {{'nl.update' op gate 'lr' has shape [4]; expected a scalar (tensor<f32> or tensor<1xf32>)}}
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%x : tensor<4xf32>)
    nl.yield
  }
}

// -----

nl.model @prefix_before_write attributes {dim = 4} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start, read = chunk_prefix> {
    nl.state @W : !nl.mlp<[4, 8, 4], silu> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    // expected-error @below {{'nl.weights' op 'chunk_prefix' includes this token's step and needs 'after_write'}}
    %w:2 = nl.weights @M chunk_prefix : tensor<8x4xf32>, tensor<4x8xf32>
    nl.yield
  }
}
