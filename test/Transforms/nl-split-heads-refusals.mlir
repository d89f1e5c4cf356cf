// RUN: nl-opt %s --split-input-file --nl-split-heads -verify-diagnostics
// RUN: not nl-opt %s --split-input-file --nl-split-heads=required=true -o /dev/null 2>&1 | FileCheck %s --check-prefix=REQ
// One error per refused model, none for the model already split (below).
// RUN: not nl-opt %s --split-input-file --nl-split-heads=required=true -o /dev/null 2>&1 | grep -c 'has no per-head form' | FileCheck %s --check-prefix=NREQ
// NREQ: {{^}}14{{$}}
// RUN: nl-opt %s --split-input-file > %t.before
// RUN: nl-opt %s --split-input-file --nl-split-heads 2>/dev/null > %t.after
// RUN: diff %t.before %t.after

// Models nl-split-heads gives no model of one head: each keeps its full step
// only (the printed module is the same with and without the pass: no
// @<m>__head, nothing left of one begun and dropped), and the pass says why
// with a remark at the op, state, transfer or model that stops it; with
// `required` the same reason is a located error (REQ).

// Heads that meet: a projection of all heads' outputs (merge_heads) inside
// the step.
nl.model @linear_of_merged attributes {dim = 8} {
  nl.param @W : tensor<8x8xf32> = #nl.normal<std = 0.5>
  nl.level @M period 1 rule <objective = l2> {
    nl.state @S : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
  }
  nl.step(%x : tensor<8xf32>) -> tensor<8xf32> {
    %k = tensor.expand_shape %x [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%k : tensor<2x4xf32>) value(%k : tensor<2x4xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @M(%k) : tensor<2x4xf32> -> tensor<2x4xf32>
    %o = tensor.collapse_shape %y [[0, 1]] : tensor<2x4xf32> into tensor<8xf32>
    %w = nl.get_param @W : tensor<8x8xf32>
    // REQ: nl-split-heads-refusals.mlir:[[@LINE+2]]:10: error: model @linear_of_merged has no per-head form: 'nl.linear' uses all heads' outputs (merge_heads): only the step's results may
    // expected-remark @below {{model @linear_of_merged runs its heads together: 'nl.linear' uses all heads' outputs (merge_heads): only the step's results may}}
    %z = nl.linear %o, %w : (tensor<8xf32>, tensor<8x8xf32>) -> tensor<8xf32>
    nl.yield %z : tensor<8xf32>
  }
}

// -----

// A projection of the token shared by the heads (each head's step would
// compute all of it).
nl.model @projection attributes {dim = 8} {
  nl.param @W_k : tensor<8x8xf32> = #nl.normal<std = 0.5>
  nl.level @M period 1 rule <objective = l2> {
    nl.state @S : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
  }
  nl.step(%x : tensor<8xf32>) -> tensor<8xf32> {
    %w = nl.get_param @W_k : tensor<8x8xf32>
    // REQ: nl-split-heads-refusals.mlir:[[@LINE+2]]:11: error: model @projection has no per-head form: a projection shared by the heads (each head's step would compute all of it)
    // expected-remark @below {{model @projection runs its heads together: a projection shared by the heads (each head's step would compute all of it)}}
    %kp = nl.linear %x, %w : (tensor<8xf32>, tensor<8x8xf32>) -> tensor<8xf32>
    %k = tensor.expand_shape %kp [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%k : tensor<2x4xf32>) value(%k : tensor<2x4xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @M(%k) : tensor<2x4xf32> -> tensor<2x4xf32>
    %o = tensor.collapse_shape %y [[0, 1]] : tensor<2x4xf32> into tensor<8xf32>
    nl.yield %o : tensor<8xf32>
  }
}

// -----

// A reshape of a per-head value (its rows are no longer the heads').
nl.model @reshape_head attributes {dim = 8} {
  nl.level @M period 1 rule <objective = l2> {
    nl.state @S : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
  }
  nl.step(%x : tensor<8xf32>) -> tensor<8xf32> {
    %k = tensor.expand_shape %x [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%k : tensor<2x4xf32>) value(%k : tensor<2x4xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @M(%k) : tensor<2x4xf32> -> tensor<2x4xf32>
    // REQ: nl-split-heads-refusals.mlir:[[@LINE+2]]:10: error: model @reshape_head has no per-head form: a reshape of a per-head value
    // expected-remark @below {{model @reshape_head runs its heads together: a reshape of a per-head value}}
    %r = tensor.expand_shape %y [[0], [1, 2]] output_shape [2, 2, 2] : tensor<2x4xf32> into tensor<2x2x2xf32>
    %o = tensor.collapse_shape %r [[0, 1, 2]] : tensor<2x2x2xf32> into tensor<8xf32>
    nl.yield %o : tensor<8xf32>
  }
}

// -----

// A reduction over all heads' reads.
nl.model @sum_heads attributes {dim = 8} {
  nl.level @M period 1 rule <objective = l2> {
    nl.state @S : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
  }
  nl.step(%x : tensor<8xf32>) -> tensor<f32> {
    %k = tensor.expand_shape %x [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%k : tensor<2x4xf32>) value(%k : tensor<2x4xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @M(%k) : tensor<2x4xf32> -> tensor<2x4xf32>
    // REQ: nl-split-heads-refusals.mlir:[[@LINE+2]]:10: error: model @sum_heads has no per-head form: 'nl.sum' is not computed head by head
    // expected-remark @below {{model @sum_heads runs its heads together: 'nl.sum' is not computed head by head}}
    %s = nl.sum %y : tensor<2x4xf32> -> tensor<f32>
    nl.yield %s : tensor<f32>
  }
}

// -----

// An output that is the same for every head (the token itself).
nl.model @flat_output attributes {dim = 8} {
  nl.level @M period 1 rule <objective = l2> {
    nl.state @S : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
  }
  nl.step(%x : tensor<8xf32>) -> tensor<8xf32> {
    %k = tensor.expand_shape %x [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%k : tensor<2x4xf32>) value(%k : tensor<2x4xf32>) lr(%lr : tensor<f32>)
    // REQ: nl-split-heads-refusals.mlir:[[@LINE+2]]:5: error: model @flat_output has no per-head form: an output that is the same for every head (only per-head outputs are split)
    // expected-remark @below {{model @flat_output runs its heads together: an output that is the same for every head (only per-head outputs are split)}}
    nl.yield %x : tensor<8xf32>
  }
}

// -----

// An operand broadcast over the heads along a leading dimension of 1 (no row
// per head to take).
nl.model @broadcast_row attributes {dim = 8} {
  nl.param @b : tensor<1x4xf32> = #nl.zeros
  nl.level @M period 1 rule <objective = l2> {
    nl.state @S : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
  }
  nl.step(%x : tensor<8xf32>) -> tensor<8xf32> {
    %k = tensor.expand_shape %x [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
    %b = nl.get_param @b : tensor<1x4xf32>
    // REQ: nl-split-heads-refusals.mlir:[[@LINE+2]]:10: error: model @broadcast_row has no per-head form: an operand without a row per head (its leading dimension is not 2)
    // expected-remark @below {{model @broadcast_row runs its heads together: an operand without a row per head (its leading dimension is not 2)}}
    %v = nl.add %k, %b : tensor<2x4xf32>, tensor<1x4xf32> -> tensor<2x4xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%k : tensor<2x4xf32>) value(%v : tensor<2x4xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @M(%k) : tensor<2x4xf32> -> tensor<2x4xf32>
    %o = tensor.collapse_shape %y [[0, 1]] : tensor<2x4xf32> into tensor<8xf32>
    nl.yield %o : tensor<8xf32>
  }
}

// -----

// A KV cache (of 2 heads).
nl.model @kv_cache attributes {dim = 8} {
  nl.level @A period inf {
    // REQ: nl-split-heads-refusals.mlir:[[@LINE+2]]:5: error: model @kv_cache has no per-head form: a state that is not a matrix memory
    // expected-remark @below {{model @kv_cache runs its heads together: a state that is not a matrix memory}}
    nl.state @C : !nl.kv_cache<key = 4, value = 4, heads = 2>
  }
  nl.step(%x : tensor<8xf32>) -> tensor<8xf32> {
    %k = tensor.expand_shape %x [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
    nl.update @A key(%k : tensor<2x4xf32>) value(%k : tensor<2x4xf32>)
    %y = nl.read @A(%k) : tensor<2x4xf32> -> tensor<2x4xf32>
    %o = tensor.collapse_shape %y [[0, 1]] : tensor<2x4xf32> into tensor<8xf32>
    nl.yield %o : tensor<8xf32>
  }
}

// -----

// An MLP memory (of 2 heads).
nl.model @mlp attributes {dim = 6} {
  nl.level @M period 1 rule <objective = l2> {
    // REQ: nl-split-heads-refusals.mlir:[[@LINE+2]]:5: error: model @mlp has no per-head form: a state that is not a matrix memory
    // expected-remark @below {{model @mlp runs its heads together: a state that is not a matrix memory}}
    nl.state @W : !nl.mlp<[3, 6, 3], silu, heads = 2> = #nl.normal<std = 0.1>
  }
  nl.step(%x : tensor<6xf32>) -> tensor<6xf32> {
    %k = tensor.expand_shape %x [[0, 1]] output_shape [2, 3] : tensor<6xf32> into tensor<2x3xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%k : tensor<2x3xf32>) value(%k : tensor<2x3xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @M(%k) : tensor<2x3xf32> -> tensor<2x3xf32>
    %o = tensor.collapse_shape %y [[0, 1]] : tensor<2x3xf32> into tensor<6xf32>
    nl.yield %o : tensor<6xf32>
  }
}

// -----

// A plain tensor state beside a memory of 2 heads (not split by heads).
nl.model @tensor_state attributes {dim = 8} {
  nl.level @M period 1 rule <objective = l2> {
    nl.state @S : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
  }
  nl.level @W period 1 rule <objective = linear> {
    // REQ: nl-split-heads-refusals.mlir:[[@LINE+2]]:5: error: model @tensor_state has no per-head form: a state that is not a matrix memory
    // expected-remark @below {{model @tensor_state runs its heads together: a state that is not a matrix memory}}
    nl.state @W : tensor<8xf32> = #nl.zeros
  }
  nl.step(%x : tensor<8xf32>) -> tensor<8xf32> {
    %k = tensor.expand_shape %x [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%k : tensor<2x4xf32>) value(%k : tensor<2x4xf32>) lr(%lr : tensor<f32>)
    nl.update @W grad(%x : tensor<8xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @M(%k) : tensor<2x4xf32> -> tensor<2x4xf32>
    %o = tensor.collapse_shape %y [[0, 1]] : tensor<2x4xf32> into tensor<8xf32>
    nl.yield %o : tensor<8xf32>
  }
}

// -----

// Memories of different heads (2 of 4 x 4, 4 of 2 x 2).
nl.model @mixed_heads attributes {dim = 8} {
  nl.level @A period 1 rule <objective = l2> {
    nl.state @S : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
  }
  nl.level @B period 1 rule <objective = l2> {
    // REQ: nl-split-heads-refusals.mlir:[[@LINE+2]]:5: error: model @mixed_heads has no per-head form: memories of 2 and 4 heads
    // expected-remark @below {{model @mixed_heads runs its heads together: memories of 2 and 4 heads}}
    nl.state @S : !nl.matrix<2x2xf32, heads = 4> = #nl.zeros
  }
  nl.step(%x : tensor<8xf32>) -> tensor<8xf32> {
    %k = tensor.expand_shape %x [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
    %k4 = tensor.expand_shape %x [[0, 1]] output_shape [4, 2] : tensor<8xf32> into tensor<4x2xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @A key(%k : tensor<2x4xf32>) value(%k : tensor<2x4xf32>) lr(%lr : tensor<f32>)
    nl.update @B key(%k4 : tensor<4x2xf32>) value(%k4 : tensor<4x2xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @A(%k) : tensor<2x4xf32> -> tensor<2x4xf32>
    %o = tensor.collapse_shape %y [[0, 1]] : tensor<2x4xf32> into tensor<8xf32>
    nl.yield %o : tensor<8xf32>
  }
}

// -----

// One head only: nothing to split.
// REQ: nl-split-heads-refusals.mlir:[[@LINE+2]]:1: error: model @one_head has no per-head form: no memory with more than one head
// expected-remark @below {{model @one_head runs its heads together: no memory with more than one head}}
nl.model @one_head attributes {dim = 4} {
  nl.level @M period 1 rule <objective = l2> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @M(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %y : tensor<4xf32>
  }
}

// -----

// A transfer between levels (both of 2 heads).
nl.model @transfers attributes {dim = 8} {
  nl.level @fast period 1 rule <objective = l2> {
    nl.state @S : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
  }
  nl.level @slow period 4 rule <objective = l2> {
    nl.state @S : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
  }
  // REQ: nl-split-heads-refusals.mlir:[[@LINE+2]]:3: error: model @transfers has no per-head form: a transfer between levels
  // expected-remark @below {{model @transfers runs its heads together: a transfer between levels}}
  nl.transfer parametric @slow -> @fast
  nl.step(%x : tensor<8xf32>) -> tensor<8xf32> {
    %k = tensor.expand_shape %x [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @fast key(%k : tensor<2x4xf32>) value(%k : tensor<2x4xf32>) lr(%lr : tensor<f32>)
    nl.update @slow key(%k : tensor<2x4xf32>) value(%k : tensor<2x4xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @fast(%k) : tensor<2x4xf32> -> tensor<2x4xf32>
    %o = tensor.collapse_shape %y [[0, 1]] : tensor<2x4xf32> into tensor<8xf32>
    nl.yield %o : tensor<8xf32>
  }
}

// -----

// A model that already has a chunk form (nl-split-heads runs before nl-chunk).
nl.model @chunked attributes {dim = 10, heads = 2} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @M : !nl.matrix<3x5xf32, heads = 2> = #nl.zeros
  }
  nl.step(%x : tensor<10xf32>) -> tensor<2x3xf32> {
    %k = tensor.expand_shape %x [[0, 1]] output_shape [2, 5] : tensor<10xf32> into tensor<2x5xf32>
    %v = tensor.extract_slice %k[0, 0] [2, 3] [1, 1] : tensor<2x5xf32> to tensor<2x3xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%k : tensor<2x5xf32>) value(%v : tensor<2x3xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @M(%k) : tensor<2x5xf32> -> tensor<2x3xf32>
    nl.yield %y : tensor<2x3xf32>
  }
  // REQ: nl-split-heads-refusals.mlir:[[@LINE+2]]:3: error: model @chunked has no per-head form: the model already has a chunk form (run nl-split-heads before nl-chunk)
  // expected-remark @below {{model @chunked runs its heads together: the model already has a chunk form (run nl-split-heads before nl-chunk)}}
  nl.chunk_step size 4 (%X : tensor<4x10xf32>) -> tensor<4x2x3xf32> {
    %M0 = nl.weights @M : tensor<2x3x5xf32>
    %K = tensor.expand_shape %X [[0], [1, 2]] output_shape [4, 2, 5] : tensor<4x10xf32> into tensor<4x2x5xf32>
    %KT = nl.transpose %K {permutation = array<i64: 1, 0, 2>} : tensor<4x2x5xf32> -> tensor<2x4x5xf32>
    %P = nl.matmul %M0, %KT {transpose_rhs} : tensor<2x3x5xf32>, tensor<2x4x5xf32> -> tensor<2x3x4xf32>
    %U = nl.matmul %P, %KT : tensor<2x3x4xf32>, tensor<2x4x5xf32> -> tensor<2x3x5xf32>
    %M1 = nl.sub %M0, %U : tensor<2x3x5xf32>, tensor<2x3x5xf32> -> tensor<2x3x5xf32>
    nl.assign @M(%M1 : tensor<2x3x5xf32>)
    %Ys = tensor.extract_slice %P[0, 0, 0] [2, 3, 4] [1, 1, 1] : tensor<2x3x4xf32> to tensor<2x3x4xf32>
    %Y = nl.transpose %Ys {permutation = array<i64: 2, 0, 1>} : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
    nl.yield %Y : tensor<4x2x3xf32>
  }
}

// -----

// The name of the model of one head is taken (by a model of one head that
// nl-split-heads did not write: it has no head_split, so the pass looks at
// it too).
// REQ: nl-split-heads-refusals.mlir:[[@LINE+2]]:1: error: model @taken has no per-head form: a symbol @taken__head already exists
// expected-remark @below {{model @taken runs its heads together: a symbol @taken__head already exists}}
nl.model @taken attributes {dim = 8} {
  nl.level @M period 1 rule <objective = l2> {
    nl.state @S : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
  }
  nl.step(%x : tensor<8xf32>) -> tensor<8xf32> {
    %k = tensor.expand_shape %x [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%k : tensor<2x4xf32>) value(%k : tensor<2x4xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @M(%k) : tensor<2x4xf32> -> tensor<2x4xf32>
    %o = tensor.collapse_shape %y [[0, 1]] : tensor<2x4xf32> into tensor<8xf32>
    nl.yield %o : tensor<8xf32>
  }
}
// expected-remark @below {{model @taken__head runs its heads together: no memory with more than one head}}
nl.model @taken__head attributes {dim = 8} {
  nl.level @M period 1 rule <objective = l2> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<8xf32>) -> tensor<4xf32> {
    %k = tensor.extract_slice %x[0] [4] [1] : tensor<8xf32> to tensor<4xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%k : tensor<4xf32>) value(%k : tensor<4xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @M(%k) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %y : tensor<4xf32>
  }
}

// -----

// A model of one head already (head_split): left alone, without a remark,
// also with `required` (no error, no @split__head__head).
nl.model @split__head attributes {dim = 8, head_split = 2} {
  nl.level @M period 1 rule <objective = l2> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<8xf32>) -> tensor<4xf32> {
    %h = nl.head_index
    %c4 = arith.constant 4 : index
    %at = arith.muli %h, %c4 : index
    %k = tensor.extract_slice %x[%at] [4] [1] : tensor<8xf32> to tensor<4xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%k : tensor<4xf32>) value(%k : tensor<4xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @M(%k) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %y : tensor<4xf32>
  }
}

// REQ-NOT: error: model @split__head
