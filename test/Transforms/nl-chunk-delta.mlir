// RUN: nl-opt %s --split-input-file --nl-chunk=size=8 | FileCheck %s
// RUN: nl-opt %s --split-input-file --nl-chunk | FileCheck %s --check-prefix=SIZE

// The delta rule (period 1, gradients at each token's state, read after the
// write): within a chunk, token t's error sees the writes of the tokens
// before it, so the lr-weighted errors G^T = lr (M0 K^T - V^T) become
// G^T T^T with the UT transform T = (I + diag(lr) tril(K K^T, -1))^-1;
// the new state is M0 - (G^T T^T) K and the reads add the in-chunk writes
// up to and including their own token (tril, not strict).

// CHECK-LABEL: nl.model @delta
// CHECK: nl.chunk_step size 8 (%[[X:.*]]: tensor<8x12xf32>) -> tensor<8x8xf32>
// CHECK: %[[M0:.*]] = nl.weights @S : tensor<2x4x4xf32>
// CHECK: %[[K:.*]] = nl.transpose %{{.*}} {permutation = array<i64: 1, 0, 2>} : tensor<8x2x4xf32> -> tensor<2x8x4xf32>
// CHECK: %[[P:.*]] = nl.matmul %[[M0]], %[[K]] {transpose_rhs} : tensor<2x4x4xf32>, tensor<2x8x4xf32> -> tensor<2x4x8xf32>
// CHECK-NEXT: %[[E:.*]] = nl.sub %[[P]], %{{.*}} : tensor<2x4x8xf32>, tensor<2x4x8xf32> -> tensor<2x4x8xf32>
// CHECK-NEXT: %[[G:.*]] = nl.mul %[[E]], %[[LR:.*]] : tensor<2x4x8xf32>, tensor<2x1x8xf32> -> tensor<2x4x8xf32>
// CHECK-NEXT: %[[KK:.*]] = nl.matmul %[[K]], %[[K]] {transpose_rhs} : tensor<2x8x4xf32>, tensor<2x8x4xf32> -> tensor<2x8x8xf32>
// CHECK-NEXT: %[[L:.*]] = nl.tril %[[KK]] {strict} : tensor<2x8x8xf32>
// CHECK: %[[LRROW:.*]] = tensor.expand_shape %{{.*}} {{\[\[}}0], [1, 2]] output_shape [2, 8, 1] : tensor<2x8xf32> into tensor<2x8x1xf32>
// CHECK-NEXT: %[[A:.*]] = nl.mul %[[L]], %[[LRROW]] : tensor<2x8x8xf32>, tensor<2x8x1xf32> -> tensor<2x8x8xf32>
// CHECK-NEXT: %[[T:.*]] = nl.tri_inv %[[A]] : tensor<2x8x8xf32>
// CHECK-NEXT: %[[U:.*]] = nl.matmul %[[G]], %[[T]] {transpose_rhs} : tensor<2x4x8xf32>, tensor<2x8x8xf32> -> tensor<2x4x8xf32>
// CHECK-NEXT: %[[D:.*]] = nl.matmul %[[U]], %[[K]] : tensor<2x4x8xf32>, tensor<2x8x4xf32> -> tensor<2x4x4xf32>
// CHECK-NEXT: %[[M1:.*]] = nl.sub %[[M0]], %[[D]] : tensor<2x4x4xf32>, tensor<2x4x4xf32> -> tensor<2x4x4xf32>
// CHECK-NEXT: nl.assign @S(%[[M1]] : tensor<2x4x4xf32>)
// CHECK: %[[Y0:.*]] = nl.matmul %[[M0]], %[[Q:.*]] {transpose_rhs}
// CHECK-NEXT: %[[S:.*]] = nl.matmul %[[Q]], %[[K]] {transpose_rhs} : tensor<2x8x4xf32>, tensor<2x8x4xf32> -> tensor<2x8x8xf32>
// CHECK-NEXT: %[[SM:.*]] = nl.tril %[[S]] : tensor<2x8x8xf32>
// CHECK-NEXT: %[[C:.*]] = nl.matmul %[[U]], %[[SM]] {transpose_rhs}
// CHECK-NEXT: %[[Y:.*]] = nl.sub %[[Y0]], %[[C]]
// CHECK-NEXT: nl.transpose %[[Y]] {permutation = array<i64: 2, 0, 1>} : tensor<2x4x8xf32> -> tensor<8x2x4xf32>
// CHECK: nl.yield %{{.*}} : tensor<8x8xf32>

// The chunk of a model whose levels all learn every token is the pass's
// `size` option, 64 tokens by default.
// SIZE: nl.chunk_step size 64 (%{{.*}}: tensor<64x12xf32>)
nl.model @delta attributes {dim = 12} {
  nl.level @S period 1 rule <objective = l2> {
    nl.state @S : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
  }
  nl.step(%x : tensor<12xf32>) -> tensor<8xf32> {
    %k0 = tensor.extract_slice %x[0] [8] [1] : tensor<12xf32> to tensor<8xf32>
    %k = tensor.expand_shape %k0 [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
    %v0 = tensor.extract_slice %x[4] [8] [1] : tensor<12xf32> to tensor<8xf32>
    %v = tensor.expand_shape %v0 [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
    %b = tensor.extract_slice %x[10] [2] [1] : tensor<12xf32> to tensor<2xf32>
    nl.update @S key(%k : tensor<2x4xf32>) value(%v : tensor<2x4xf32>) lr(%b : tensor<2xf32>)
    %y = nl.read @S(%k) : tensor<2x4xf32> -> tensor<2x4xf32>
    %o = tensor.collapse_shape %y [[0, 1]] : tensor<2x4xf32> into tensor<8xf32>
    nl.yield %o : tensor<8xf32>
  }
}

// -----

// Read before the write: the in-chunk writes strictly before the token. The
// query is the key, so the read's products M0 Q^T and Q K^T are the
// transform's M0 K^T and K K^T, computed once.
// CHECK-LABEL: nl.model @delta_before
// CHECK: %[[P:.*]] = nl.matmul %{{.*}}, %{{.*}} {transpose_rhs} : tensor<4x4xf32>, tensor<8x4xf32> -> tensor<4x8xf32>
// CHECK: %[[S2:.*]] = nl.matmul %{{.*}}, %{{.*}} {transpose_rhs} : tensor<8x4xf32>, tensor<8x4xf32> -> tensor<8x8xf32>
// CHECK: nl.tri_inv
// CHECK: nl.assign @S
// CHECK-NEXT: nl.tril %[[S2]] {strict} : tensor<8x8xf32>
// CHECK-NEXT: %[[C:.*]] = nl.matmul
// CHECK-NEXT: nl.sub %[[P]], %[[C]]
nl.model @delta_before attributes {dim = 4} {
  nl.level @S period 1 rule <objective = l2, read = before_write> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.5> : tensor<f32>
    nl.update @S key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @S(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %y : tensor<4xf32>
  }
}

// -----

// The gated delta rule (decay before the gradient, read after the write):
// D = nl.decay_mask of the gates gives the decay between tokens; the
// predictions are scaled by the decay since the chunk start (a_0 D[t, 0]),
// K K^T by D inside the UT transform, the new state is gamma_{C-1} M0 minus
// the writes decayed to the chunk end (row C-1 of D), and the reads see
// gamma_t M0 q_t plus the decayed in-chunk writes.
// CHECK-LABEL: nl.model @gated
// CHECK: nl.chunk_step size 8
// CHECK: %[[D:.*]] = nl.decay_mask %[[A:.*]] : tensor<8xf32> -> tensor<8x8xf32>
// CHECK: %[[COL0:.*]] = tensor.extract_slice %[[D]][0, 0] [8, 1] [1, 1] : tensor<8x8xf32> to tensor<8x1xf32>
// CHECK: %[[A0:.*]] = tensor.extract_slice %[[A]][0] [1] [1] : tensor<8xf32> to tensor<1xf32>
// CHECK: %[[LAST:.*]] = tensor.extract_slice %[[D]][7, 0] [1, 8] [1, 1] : tensor<8x8xf32> to tensor<1x8xf32>
// CHECK: %[[P:.*]] = nl.matmul %[[M0:.*]], %[[K:.*]] {transpose_rhs} : tensor<4x4xf32>, tensor<8x4xf32> -> tensor<4x8xf32>
// CHECK-NEXT: %[[PG:.*]] = nl.mul %[[P]], %[[GAMMA:.*]] : tensor<4x8xf32>, tensor<1x8xf32> -> tensor<4x8xf32>
// CHECK: %[[KK:.*]] = nl.matmul %[[K]], %[[K]] {transpose_rhs}
// CHECK-NEXT: %[[KKD:.*]] = nl.mul %[[KK]], %[[D]] : tensor<8x8xf32>, tensor<8x8xf32> -> tensor<8x8xf32>
// CHECK-NEXT: nl.tril %[[KKD]] {strict}
// CHECK: nl.tri_inv
// CHECK: %[[U:.*]] = nl.matmul %{{.*}}, %{{.*}} {transpose_rhs} : tensor<4x8xf32>, tensor<8x8xf32> -> tensor<4x8xf32>
// CHECK-NEXT: %[[KEPT:.*]] = nl.mul %[[M0]], %{{.*}} : tensor<4x4xf32>, tensor<1x1xf32> -> tensor<4x4xf32>
// CHECK-NEXT: %[[UE:.*]] = nl.mul %[[U]], %[[LAST]] : tensor<4x8xf32>, tensor<1x8xf32> -> tensor<4x8xf32>
// CHECK-NEXT: %[[STEP:.*]] = nl.matmul %[[UE]], %[[K]] : tensor<4x8xf32>, tensor<8x4xf32> -> tensor<4x4xf32>
// CHECK-NEXT: %[[M1:.*]] = nl.sub %[[KEPT]], %[[STEP]]
// CHECK-NEXT: nl.assign @S(%[[M1]] : tensor<4x4xf32>)
// The read's M0 Q^T and Q K^T are M0 K^T and K K^T (the query is the key).
// CHECK-NEXT: nl.mul %[[P]], %[[GAMMA]]
// CHECK-NEXT: %[[SD:.*]] = nl.mul %[[KK]], %[[D]]
// CHECK-NEXT: nl.tril %[[SD]] : tensor<8x8xf32>
nl.model @gated attributes {dim = 6} {
  nl.level @S period 1 rule <objective = l2, retention = decay, decay_order = before_grad> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<6xf32>) -> tensor<4xf32> {
    %k = tensor.extract_slice %x[0] [4] [1] : tensor<6xf32> to tensor<4xf32>
    %b = tensor.extract_slice %x[4] [1] [1] : tensor<6xf32> to tensor<1xf32>
    %a = tensor.extract_slice %x[5] [1] [1] : tensor<6xf32> to tensor<1xf32>
    nl.update @S key(%k : tensor<4xf32>) value(%k : tensor<4xf32>) lr(%b : tensor<1xf32>) retain(%a : tensor<1xf32>)
    %y = nl.read @S(%k) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %y : tensor<4xf32>
  }
}

// -----

// A short convolution of the token stream becomes nl.chunk_conv over the
// chunk's rows, sharing the step's history (the first convolution of the
// step is history 0, the second history 1).
// CHECK-LABEL: nl.model @convs
// CHECK: nl.chunk_step size 8 (%[[X:.*]]: tensor<8x4xf32>)
// CHECK: %[[K:.*]] = nl.chunk_conv %[[X]], %{{.*}} history 0 : (tensor<8x4xf32>, tensor<3x4xf32>) -> tensor<8x4xf32>
// CHECK: %[[V:.*]] = nl.chunk_conv %[[X]], %{{.*}} history 1 : (tensor<8x4xf32>, tensor<2x4xf32>) -> tensor<8x4xf32>
nl.model @convs attributes {dim = 4} {
  nl.level @S period 1 rule <objective = l2> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %wk = arith.constant dense<0.5> : tensor<3x4xf32>
    %wv = arith.constant dense<0.25> : tensor<2x4xf32>
    %k = nl.conv %x, %wk : (tensor<4xf32>, tensor<3x4xf32>) -> tensor<4xf32>
    %v = nl.conv %x, %wv : (tensor<4xf32>, tensor<2x4xf32>) -> tensor<4xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @S key(%k : tensor<4xf32>) value(%v : tensor<4xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @S(%k) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %y : tensor<4xf32>
  }
}
