// RUN: nl-opt %s --split-input-file -verify-diagnostics

// The verifiers of the chunk-parallel form: nl.matmul, nl.tril and
// nl.transpose (shapes), nl.assign (memory, count, shape, once per chunk),
// nl.chunk_step (tokens, outputs against the step, one per model, no
// per-token ops inside) and nl.weights of a matrix memory.

// nl.matmul multiplies matrices (or batches of them) of one rank.
func.func @matmul_rank(%a: tensor<4xf32>, %b: tensor<4x4xf32>) -> tensor<4xf32> {
  // expected-error @below {{'nl.matmul' op operands must be matrices of equal rank >= 2, got shapes [4] and [4, 4]}}
  %r = nl.matmul %a, %b : tensor<4xf32>, tensor<4x4xf32> -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

func.func @matmul_unequal_rank(%a: tensor<2x4x4xf32>, %b: tensor<4x4xf32>) -> tensor<2x4x4xf32> {
  // expected-error @below {{'nl.matmul' op operands must be matrices of equal rank >= 2, got shapes [2, 4, 4] and [4, 4]}}
  %r = nl.matmul %a, %b : tensor<2x4x4xf32>, tensor<4x4xf32> -> tensor<2x4x4xf32>
  return %r : tensor<2x4x4xf32>
}

// -----

func.func @matmul_batch(%a: tensor<2x4x4xf32>, %b: tensor<3x4x4xf32>) -> tensor<2x4x4xf32> {
  // expected-error @below {{'nl.matmul' op operands have different batch dimensions [2] and [3]}}
  %r = nl.matmul %a, %b : tensor<2x4x4xf32>, tensor<3x4x4xf32> -> tensor<2x4x4xf32>
  return %r : tensor<2x4x4xf32>
}

// -----

func.func @matmul_contraction(%a: tensor<4x3xf32>, %b: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @below {{'nl.matmul' op contracts 3 columns of the lhs with 4 rows of the rhs}}
  %r = nl.matmul %a, %b : tensor<4x3xf32>, tensor<4x3xf32> -> tensor<4x3xf32>
  return %r : tensor<4x3xf32>
}

// -----

// With transpose_lhs the lhs contributes its rows to the contraction.
func.func @matmul_contraction_transposed(%a: tensor<4x3xf32>, %b: tensor<3x5xf32>) -> tensor<3x5xf32> {
  // expected-error @below {{'nl.matmul' op contracts 4 columns of the lhs with 3 rows of the rhs}}
  %r = nl.matmul %a, %b {transpose_lhs} : tensor<4x3xf32>, tensor<3x5xf32> -> tensor<3x5xf32>
  return %r : tensor<3x5xf32>
}

// -----

func.func @matmul_result(%a: tensor<2x4x3xf32>, %b: tensor<2x5x3xf32>) -> tensor<2x5x4xf32> {
  // expected-error @below {{'nl.matmul' op result has shape [2, 5, 4] but the product is [2, 4, 5]}}
  %r = nl.matmul %a, %b {transpose_rhs} : tensor<2x4x3xf32>, tensor<2x5x3xf32> -> tensor<2x5x4xf32>
  return %r : tensor<2x5x4xf32>
}

// -----

func.func @tril_rank(%a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @below {{'nl.tril' op masks the last two dimensions and needs a matrix, got 'tensor<4xf32>'}}
  %r = nl.tril %a {strict} : tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

func.func @transpose_repeated(%a: tensor<2x3x4xf32>) -> tensor<3x3x4xf32> {
  // expected-error @below {{'nl.transpose' op permutation must list each of the 3 input dimensions once}}
  %r = nl.transpose %a {permutation = array<i64: 1, 1, 2>} : tensor<2x3x4xf32> -> tensor<3x3x4xf32>
  return %r : tensor<3x3x4xf32>
}

// -----

func.func @transpose_out_of_range(%a: tensor<2x3xf32>) -> tensor<3x2xf32> {
  // expected-error @below {{'nl.transpose' op permutation must list each of the 2 input dimensions once}}
  %r = nl.transpose %a {permutation = array<i64: 2, 0>} : tensor<2x3xf32> -> tensor<3x2xf32>
  return %r : tensor<3x2xf32>
}

// -----

func.func @transpose_short(%a: tensor<2x3x4xf32>) -> tensor<3x2x4xf32> {
  // expected-error @below {{'nl.transpose' op permutation must list each of the 3 input dimensions once}}
  %r = nl.transpose %a {permutation = array<i64: 1, 0>} : tensor<2x3x4xf32> -> tensor<3x2x4xf32>
  return %r : tensor<3x2x4xf32>
}

// -----

func.func @transpose_result(%a: tensor<2x3x4xf32>) -> tensor<2x4x3xf32> {
  // expected-error @below {{'nl.transpose' op result has shape [2, 4, 3] but the permuted input is [3, 2, 4]}}
  %r = nl.transpose %a {permutation = array<i64: 1, 0, 2>} : tensor<2x3x4xf32> -> tensor<2x4x3xf32>
  return %r : tensor<2x4x3xf32>
}

// -----

nl.model @assign_count attributes {dim = 4} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
  nl.chunk_step size 4 (%X : tensor<4x4xf32>) {
    %M0 = nl.weights @M : tensor<4x4xf32>
    // expected-error @below {{'nl.assign' op gives 2 value(s) but the memory of level @M stores 1 tensor(s)}}
    nl.assign @M(%M0, %M0 : tensor<4x4xf32>, tensor<4x4xf32>)
    nl.yield
  }
}

// -----

// The stored tensor of a multi-head matrix memory is [heads, rows, cols].
nl.model @assign_shape attributes {dim = 4, heads = 2} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start> {
    nl.state @S : !nl.matrix<2x2xf32, heads = 2> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %k = tensor.expand_shape %x [[0, 1]] output_shape [2, 2] : tensor<4xf32> into tensor<2x2xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%k : tensor<2x2xf32>) value(%k : tensor<2x2xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
  nl.chunk_step size 4 (%X : tensor<4x4xf32>) {
    // expected-error @below {{'nl.assign' op value #0 has shape [4, 4] but the stored tensor is [2, 2, 2]}}
    nl.assign @M(%X : tensor<4x4xf32>)
    nl.yield
  }
}

// -----

nl.model @assign_mlp_parts attributes {dim = 4} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start> {
    nl.state @W : !nl.mlp<[4, 8, 4], silu> = #nl.normal<std = 0.1>
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
  nl.chunk_step size 4 (%X : tensor<4x4xf32>) {
    %w0, %w1 = nl.weights @M : tensor<8x4xf32>, tensor<4x8xf32>
    // expected-error @below {{'nl.assign' op value #1 has shape [8, 4] but the stored tensor is [4, 8]}}
    nl.assign @M(%w0, %w0 : tensor<8x4xf32>, tensor<8x4xf32>)
    nl.yield
  }
}

// -----

nl.model @assign_no_memory attributes {dim = 4} {
  nl.level @A period inf {
    nl.state @cache : !nl.kv_cache<key = 4, value = 4>
  }
  nl.step(%x : tensor<4xf32>) {
    nl.update @A key(%x : tensor<4xf32>) value(%x : tensor<4xf32>)
    nl.yield
  }
  nl.chunk_step size 4 (%X : tensor<4x4xf32>) {
    // expected-error @below {{'nl.assign' op level @A has no matrix or MLP memory to write}}
    nl.assign @A(%X : tensor<4x4xf32>)
    nl.yield
  }
}

// -----

nl.model @assign_unknown_level attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) {
    nl.yield
  }
  nl.chunk_step size 4 (%X : tensor<4x4xf32>) {
    // expected-error @below {{'nl.assign' op names @nowhere, which is not defined in model @assign_unknown_level}}
    nl.assign @nowhere(%X : tensor<4x4xf32>)
    nl.yield
  }
}

// -----

nl.model @assign_twice attributes {dim = 4} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
  nl.chunk_step size 4 (%X : tensor<4x4xf32>) {
    %M0 = nl.weights @M : tensor<4x4xf32>
    nl.assign @M(%M0 : tensor<4x4xf32>)
    // expected-error @below {{'nl.assign' op writes level @M a second time in one chunk}}
    nl.assign @M(%M0 : tensor<4x4xf32>)
    nl.yield
  }
}

// -----

nl.model @assign_in_step attributes {dim = 4} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    %M0 = nl.weights @M : tensor<4x4xf32>
    // expected-error @below {{'nl.assign' op expects parent op 'nl.chunk_step'}}
    nl.assign @M(%M0 : tensor<4x4xf32>)
    nl.yield
  }
}

// -----

nl.model @chunk_arg_width attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) {
    nl.yield
  }
  // expected-error @below {{'nl.chunk_step' op takes one argument, the chunk's tokens as a tensor<4x4xf32>}}
  nl.chunk_step size 4 (%X : tensor<4x5xf32>) {
    nl.yield
  }
}

// -----

nl.model @chunk_arg_rows attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) {
    nl.yield
  }
  // expected-error @below {{'nl.chunk_step' op takes one argument, the chunk's tokens as a tensor<8x4xf32>}}
  nl.chunk_step size 8 (%X : tensor<4x4xf32>) {
    nl.yield
  }
}

// -----

nl.model @chunk_two_args attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) {
    nl.yield
  }
  // expected-error @below {{'nl.chunk_step' op takes one argument, the chunk's tokens as a tensor<4x4xf32>}}
  nl.chunk_step size 4 (%X : tensor<4x4xf32>, %Y : tensor<4x4xf32>) {
    nl.yield
  }
}

// -----

nl.model @chunk_size_one attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) {
    nl.yield
  }
  // expected-error @below {{'nl.chunk_step' op attribute 'size' failed to satisfy constraint: 64-bit signless integer attribute whose minimum value is 2}}
  nl.chunk_step size 1 (%X : tensor<1x4xf32>) {
    nl.yield
  }
}

// -----

nl.model @chunk_outputs attributes {dim = 4} {
  // expected-note @below {{the step is here}}
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
  // expected-error @below {{'nl.chunk_step' op must return the step's outputs with a leading dimension of 4 (one row per token of the chunk)}}
  nl.chunk_step size 4 (%X : tensor<4x4xf32>) -> tensor<4xf32> {
    %r = tensor.extract_slice %X[0, 0] [1, 4] [1, 1] : tensor<4x4xf32> to tensor<4xf32>
    nl.yield %r : tensor<4xf32>
  }
}

// -----

nl.model @chunk_missing_output attributes {dim = 4} {
  // expected-note @below {{the step is here}}
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
  // expected-error @below {{'nl.chunk_step' op must return the step's outputs with a leading dimension of 4 (one row per token of the chunk)}}
  nl.chunk_step size 4 (%X : tensor<4x4xf32>) {
    nl.yield
  }
}

// -----

nl.model @chunk_yield_types attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
  // expected-note @below {{the step declares 1 output(s)}}
  nl.chunk_step size 4 (%X : tensor<4x4xf32>) -> tensor<4x4xf32> {
    %r = tensor.extract_slice %X[0, 0] [1, 4] [1, 1] : tensor<4x4xf32> to tensor<4xf32>
    // expected-error @below {{'nl.yield' op returns 1 value(s) whose types do not match the step's declared outputs}}
    nl.yield %r : tensor<4xf32>
  }
}

// -----

nl.model @two_chunk_steps attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) {
    nl.yield
  }
  nl.chunk_step size 4 (%X : tensor<4x4xf32>) {
    nl.yield
  }
  // expected-error @below {{'nl.chunk_step' op is the second chunk step of model @two_chunk_steps; a model has at most one}}
  nl.chunk_step size 2 (%X : tensor<2x4xf32>) {
    nl.yield
  }
}

// -----

func.func @chunk_outside_model() {
  // expected-error @below {{'nl.chunk_step' op expects parent op 'nl.model'}}
  nl.chunk_step size 4 (%X : tensor<4x4xf32>) {
    nl.yield
  }
  return
}

// -----

// nl.update belongs to nl.step (its own parent check fires first); the
// chunk form writes a level with nl.assign.
nl.model @update_in_chunk attributes {dim = 4} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
  nl.chunk_step size 4 (%X : tensor<4x4xf32>) {
    %x = tensor.extract_slice %X[0, 0] [1, 4] [1, 1] : tensor<4x4xf32> to tensor<4xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    // expected-error @below {{'nl.update' op expects parent op to be one of 'nl.step, nl.rows'}}
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

nl.model @read_in_chunk attributes {dim = 4} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @M(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %y : tensor<4xf32>
  }
  nl.chunk_step size 4 (%X : tensor<4x4xf32>) -> tensor<4x4xf32> {
    %x = tensor.extract_slice %X[0, 0] [1, 4] [1, 1] : tensor<4x4xf32> to tensor<4xf32>
    // expected-error @below {{'nl.read' op works on one token and cannot appear in nl.chunk_step; use nl.weights, nl.matmul and nl.assign}}
    %y = nl.read @M(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %X : tensor<4x4xf32>
  }
}

// -----

nl.model @grad_in_chunk attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) {
    nl.yield
  }
  nl.chunk_step size 4 (%X : tensor<4x4xf32>) {
    // expected-error @below {{'nl.grad' op works on one token and cannot appear in nl.chunk_step; use nl.weights, nl.matmul and nl.assign}}
    %g = nl.grad (%X) : tensor<4x4xf32> -> tensor<4x4xf32> {
    ^bb0(%a: tensor<4x4xf32>):
      %l = nl.sum %a : tensor<4x4xf32> -> tensor<f32>
      nl.yield %l : tensor<f32>
    }
    nl.yield
  }
}

// -----

nl.model @conv_in_chunk attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) {
    nl.yield
  }
  nl.chunk_step size 4 (%X : tensor<4x4xf32>) {
    %w = arith.constant dense<0.5> : tensor<3x4xf32>
    // expected-error @below {{'nl.conv' op works on one token and cannot appear in nl.chunk_step; use nl.weights, nl.matmul and nl.assign}}
    %c = nl.conv %X, %w : (tensor<4x4xf32>, tensor<3x4xf32>) -> tensor<4x4xf32>
    nl.yield
  }
}

// -----

nl.model @weights_after_write_matrix attributes {dim = 4} {
  nl.level @M period 1 rule <objective = l2> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    // expected-error @below {{'nl.weights' op of the matrix memory of level @M returns the stored state; 'after_write' and 'chunk_prefix' apply to MLP memories}}
    %w = nl.weights @M after_write : tensor<4x4xf32>
    nl.yield
  }
}

// -----

nl.model @weights_chunk_prefix_matrix attributes {dim = 4} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start, read = chunk_prefix> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    // expected-error @below {{'nl.weights' op of the matrix memory of level @M returns the stored state; 'after_write' and 'chunk_prefix' apply to MLP memories}}
    %w = nl.weights @M after_write chunk_prefix : tensor<4x4xf32>
    nl.yield
  }
}

// -----

nl.model @weights_matrix_count attributes {dim = 4} {
  nl.level @M period 1 rule <objective = l2> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    // expected-error @below {{'nl.weights' op returns 2 value(s) but level @M stores its matrix memory (1) and 0 other state(s)}}
    %w:2 = nl.weights @M : tensor<4x4xf32>, tensor<4x4xf32>
    nl.yield
  }
}

// -----

nl.model @weights_matrix_heads attributes {dim = 4, heads = 2} {
  nl.level @M period 1 rule <objective = l2> {
    nl.state @S : !nl.matrix<2x2xf32, heads = 2> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %k = tensor.expand_shape %x [[0, 1]] output_shape [2, 2] : tensor<4xf32> into tensor<2x2xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%k : tensor<2x2xf32>) value(%k : tensor<2x2xf32>) lr(%lr : tensor<f32>)
    // expected-error @below {{'nl.weights' op result #0 has shape [2, 2] but the stored matrix needs [2, 2, 2]}}
    %w = nl.weights @M : tensor<2x2xf32>
    nl.yield
  }
}

// -----

// In the chunk form nl.weights is the chunk-start state, even of an MLP.
nl.model @weights_after_write_in_chunk attributes {dim = 4} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start> {
    nl.state @W : !nl.mlp<[4, 8, 4], silu> = #nl.normal<std = 0.1>
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
  nl.chunk_step size 4 (%X : tensor<4x4xf32>) {
    // expected-error @below {{'nl.weights' op in nl.chunk_step returns the chunk-start state; 'after_write' has no meaning here}}
    %w0, %w1 = nl.weights @M after_write : tensor<8x4xf32>, tensor<4x8xf32>
    nl.yield
  }
}

// -----

func.func @tri_inv_not_square(%a: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @below {{'nl.tri_inv' op inverts square matrices over the last two dimensions, got shape [4, 8]}}
  %t = nl.tri_inv %a : tensor<4x8xf32>
  return %t : tensor<4x8xf32>
}

// -----

func.func @tri_inv_vector(%a: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @below {{'nl.tri_inv' op inverts square matrices over the last two dimensions, got shape [8]}}
  %t = nl.tri_inv %a : tensor<8xf32>
  return %t : tensor<8xf32>
}

// -----

func.func @transpose_empty_permutation(%a: tensor<2x3xf32>) -> tensor<f32> {
  // expected-error @below {{'nl.transpose' op permutation must list each of the 2 input dimensions once}}
  %t = nl.transpose %a {permutation = array<i64>} : tensor<2x3xf32> -> tensor<f32>
  return %t : tensor<f32>
}

// -----

func.func @decay_mask_shape(%a: tensor<2x8xf32>) -> tensor<2x8x4xf32> {
  // expected-error @below {{'nl.decay_mask' op result has shape [2, 8, 4] but the gates [2, 8] give [2, 8, 8]}}
  %d = nl.decay_mask %a : tensor<2x8xf32> -> tensor<2x8x4xf32>
  return %d : tensor<2x8x4xf32>
}

// -----

func.func @decay_mask_scalar(%a: tensor<f32>) -> tensor<1x1xf32> {
  // expected-error @below {{'nl.decay_mask' op takes one gate per token, got a scalar}}
  %d = nl.decay_mask %a : tensor<f32> -> tensor<1x1xf32>
  return %d : tensor<1x1xf32>
}

// -----

nl.model @chunk_conv_history attributes {dim = 4} {
  nl.level @M period frozen {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
  nl.chunk_step size 2 (%X : tensor<2x4xf32>) -> tensor<2x4xf32> {
    %w = arith.constant dense<0.5> : tensor<2x4xf32>
    // expected-error @below {{'nl.chunk_conv' op names the history of convolution #0 but the step has 0}}
    %y = nl.chunk_conv %X, %w history 0 : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
    nl.yield %y : tensor<2x4xf32>
  }
}

// -----

nl.model @chunk_conv_shape attributes {dim = 4} {
  nl.level @M period frozen {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
  nl.chunk_step size 2 (%X : tensor<2x4xf32>) -> tensor<2x4xf32> {
    %w = arith.constant dense<0.5> : tensor<2x3xf32>
    // expected-error @below {{'nl.chunk_conv' op takes the chunk's rows (C x channels) and a weight (width x channels), got shapes [2, 4] and [2, 3]}}
    %y = nl.chunk_conv %X, %w history 0 : (tensor<2x4xf32>, tensor<2x3xf32>) -> tensor<2x4xf32>
    nl.yield %y : tensor<2x4xf32>
  }
}

// -----

nl.model @chunk_conv_result attributes {dim = 4} {
  nl.level @M period frozen {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %w = arith.constant dense<0.5> : tensor<2x4xf32>
    %c = nl.conv %x, %w : (tensor<4xf32>, tensor<2x4xf32>) -> tensor<4xf32>
    nl.yield %c : tensor<4xf32>
  }
  nl.chunk_step size 2 (%X : tensor<2x4xf32>) -> tensor<2x4xf32> {
    %w = arith.constant dense<0.5> : tensor<2x4xf32>
    // expected-error @below {{'nl.chunk_conv' op result type must equal the input type 'tensor<2x4xf32>'}}
    %y = nl.chunk_conv %X, %w history 0 : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<4x2xf32>
    nl.yield %X : tensor<2x4xf32>
  }
}
