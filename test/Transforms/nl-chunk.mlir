// RUN: nl-opt %s --split-input-file --nl-chunk | FileCheck %s
// RUN: nl-opt %s --split-input-file --nl-chunk=required=true | nl-opt --split-input-file | FileCheck %s

// (a) W3-like TTT-Linear: two heads with 3x5 matrices (values 3, keys 5),
// read = chunk_prefix, an lr per head taken from the token. Per head, with
// the chunk's keys K [C, 5], values V and queries Q:
//   G^T = lr (M0 K^T - V^T);  M1 = M0 - G^T K;  Y^T = M0 Q^T - G^T tril(Q K^T)^T.
// The step stays as it was; the chunk step follows it.
// CHECK-LABEL: nl.model @multi_head
// CHECK:       nl.step(%{{.*}}: tensor<28xf32>) -> tensor<6xf32> {
// CHECK:         nl.update @M key(
// CHECK:         nl.read @M(
// CHECK:       nl.chunk_step size 4 (%[[X:.*]]: tensor<4x28xf32>) -> tensor<4x6xf32> {
// CHECK:         %[[KS:.*]] = tensor.extract_slice %[[X]][0, 0] [4, 10] [1, 1] : tensor<4x28xf32> to tensor<4x10xf32>
// CHECK-NEXT:    %[[KE:.*]] = tensor.expand_shape %[[KS]] {{\[}}[0], [1, 2]] output_shape [4, 2, 5] : tensor<4x10xf32> into tensor<4x2x5xf32>
// CHECK-NEXT:    %[[VS:.*]] = tensor.extract_slice %[[X]][0, 10] [4, 6] [1, 1] : tensor<4x28xf32> to tensor<4x6xf32>
// CHECK-NEXT:    %[[VE:.*]] = tensor.expand_shape %[[VS]] {{\[}}[0], [1, 2]] output_shape [4, 2, 3] : tensor<4x6xf32> into tensor<4x2x3xf32>
// CHECK-NEXT:    %[[LR:.*]] = tensor.extract_slice %[[X]][0, 26] [4, 2] [1, 1] : tensor<4x28xf32> to tensor<4x2xf32>
// CHECK-NEXT:    %[[M0:.*]] = nl.weights @M : tensor<2x3x5xf32>
// CHECK-NEXT:    %[[K:.*]] = nl.transpose %[[KE]] {permutation = array<i64: 1, 0, 2>} : tensor<4x2x5xf32> -> tensor<2x4x5xf32>
// CHECK-NEXT:    %[[LRT:.*]] = nl.transpose %[[LR]] {permutation = array<i64: 1, 0>} : tensor<4x2xf32> -> tensor<2x4xf32>
// CHECK-NEXT:    %[[LRC:.*]] = tensor.expand_shape %[[LRT]] {{\[}}[0, 1], [2]] output_shape [2, 1, 4] : tensor<2x4xf32> into tensor<2x1x4xf32>
// CHECK-NEXT:    %[[VT:.*]] = nl.transpose %[[VE]] {permutation = array<i64: 1, 2, 0>} : tensor<4x2x3xf32> -> tensor<2x3x4xf32>
// CHECK-NEXT:    %[[P:.*]] = nl.matmul %[[M0]], %[[K]] {transpose_rhs} : tensor<2x3x5xf32>, tensor<2x4x5xf32> -> tensor<2x3x4xf32>
// CHECK-NEXT:    %[[E:.*]] = nl.sub %[[P]], %[[VT]] : tensor<2x3x4xf32>, tensor<2x3x4xf32> -> tensor<2x3x4xf32>
// CHECK-NEXT:    %[[G:.*]] = nl.mul %[[E]], %[[LRC]] : tensor<2x3x4xf32>, tensor<2x1x4xf32> -> tensor<2x3x4xf32>
// CHECK-NEXT:    %[[GK:.*]] = nl.matmul %[[G]], %[[K]] : tensor<2x3x4xf32>, tensor<2x4x5xf32> -> tensor<2x3x5xf32>
// CHECK-NEXT:    %[[M1:.*]] = nl.sub %[[M0]], %[[GK]] : tensor<2x3x5xf32>, tensor<2x3x5xf32> -> tensor<2x3x5xf32>
// CHECK-NEXT:    nl.assign @M(%[[M1]] : tensor<2x3x5xf32>)
// CHECK-NEXT:    %[[QS:.*]] = tensor.extract_slice %[[X]][0, 16] [4, 10] [1, 1] : tensor<4x28xf32> to tensor<4x10xf32>
// CHECK-NEXT:    %[[QE:.*]] = tensor.expand_shape %[[QS]] {{\[}}[0], [1, 2]] output_shape [4, 2, 5] : tensor<4x10xf32> into tensor<4x2x5xf32>
// CHECK-NEXT:    %[[Q:.*]] = nl.transpose %[[QE]] {permutation = array<i64: 1, 0, 2>} : tensor<4x2x5xf32> -> tensor<2x4x5xf32>
// CHECK-NEXT:    %[[Y0:.*]] = nl.matmul %[[M0]], %[[Q]] {transpose_rhs} : tensor<2x3x5xf32>, tensor<2x4x5xf32> -> tensor<2x3x4xf32>
// CHECK-NEXT:    %[[S:.*]] = nl.matmul %[[Q]], %[[K]] {transpose_rhs} : tensor<2x4x5xf32>, tensor<2x4x5xf32> -> tensor<2x4x4xf32>
// CHECK-NEXT:    %[[A:.*]] = nl.tril %[[S]] : tensor<2x4x4xf32>
// CHECK-NEXT:    %[[GA:.*]] = nl.matmul %[[G]], %[[A]] {transpose_rhs} : tensor<2x3x4xf32>, tensor<2x4x4xf32> -> tensor<2x3x4xf32>
// CHECK-NEXT:    %[[YT:.*]] = nl.sub %[[Y0]], %[[GA]] : tensor<2x3x4xf32>, tensor<2x3x4xf32> -> tensor<2x3x4xf32>
// CHECK-NEXT:    %[[Y:.*]] = nl.transpose %[[YT]] {permutation = array<i64: 2, 0, 1>} : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
// CHECK-NEXT:    %[[O:.*]] = tensor.collapse_shape %[[Y]] {{\[}}[0], [1, 2]] : tensor<4x2x3xf32> into tensor<4x6xf32>
// CHECK-NEXT:    nl.yield %[[O]] : tensor<4x6xf32>
// CHECK-NEXT:  }
nl.model @multi_head attributes {dim = 28} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start, read = chunk_prefix> {
    nl.state @M : !nl.matrix<3x5xf32, heads = 2> = #nl.zeros
  }
  nl.step(%x : tensor<28xf32>) -> tensor<6xf32> {
    %ks = tensor.extract_slice %x[0] [10] [1] : tensor<28xf32> to tensor<10xf32>
    %k = tensor.expand_shape %ks [[0, 1]] output_shape [2, 5] : tensor<10xf32> into tensor<2x5xf32>
    %vs = tensor.extract_slice %x[10] [6] [1] : tensor<28xf32> to tensor<6xf32>
    %v = tensor.expand_shape %vs [[0, 1]] output_shape [2, 3] : tensor<6xf32> into tensor<2x3xf32>
    %lr = tensor.extract_slice %x[26] [2] [1] : tensor<28xf32> to tensor<2xf32>
    nl.update @M key(%k : tensor<2x5xf32>) value(%v : tensor<2x3xf32>) lr(%lr : tensor<2xf32>)
    %qs = tensor.extract_slice %x[16] [10] [1] : tensor<28xf32> to tensor<10xf32>
    %q = tensor.expand_shape %qs [[0, 1]] output_shape [2, 5] : tensor<10xf32> into tensor<2x5xf32>
    %y = nl.read @M(%q) : tensor<2x5xf32> -> tensor<2x3xf32>
    %o = tensor.collapse_shape %y [[0, 1]] : tensor<2x3xf32> into tensor<6xf32>
    nl.yield %o : tensor<6xf32>
  }
}

// -----

// (b) One head, read = before_write (Y = Q M0^T, no mask), a decay whose
// gate comes from the token: the chunk keeps the retain of its last token
// (row C-1 = 3) and scales M0 by it. The projections become one product
// over the chunk, X W^T, plus the bias; the l2 norm and the sigmoid work on
// the rows.
// CHECK-LABEL: nl.model @decay
// CHECK:       nl.chunk_step size 4 (%[[X:.*]]: tensor<4x6xf32>) -> tensor<4x3xf32> {
// CHECK-NEXT:    %[[F:.*]] = tensor.extract_slice %[[X]][0, 0] [4, 5] [1, 1] : tensor<4x6xf32> to tensor<4x5xf32>
// CHECK-NEXT:    %[[GS:.*]] = tensor.extract_slice %[[X]][0, 5] [4, 1] [1, 1] : tensor<4x6xf32> to tensor<4x1xf32>
// CHECK-NEXT:    %[[WK:.*]] = nl.get_param @W_k : tensor<5x5xf32>
// CHECK-NEXT:    %[[WV:.*]] = nl.get_param @W_v : tensor<3x5xf32>
// CHECK-NEXT:    %[[BV:.*]] = nl.get_param @b_v : tensor<3xf32>
// CHECK-NEXT:    %[[WQ:.*]] = nl.get_param @W_q : tensor<5x5xf32>
// CHECK-NEXT:    %[[KP:.*]] = nl.matmul %[[F]], %[[WK]] {transpose_rhs} : tensor<4x5xf32>, tensor<5x5xf32> -> tensor<4x5xf32>
// CHECK-NEXT:    %[[K:.*]] = nl.norm l2 %[[KP]] : (tensor<4x5xf32>) -> tensor<4x5xf32>
// CHECK-NEXT:    %[[VP:.*]] = nl.matmul %[[F]], %[[WV]] {transpose_rhs} : tensor<4x5xf32>, tensor<3x5xf32> -> tensor<4x3xf32>
// CHECK-NEXT:    %[[V:.*]] = nl.add %[[VP]], %[[BV]] : tensor<4x3xf32>, tensor<3xf32> -> tensor<4x3xf32>
// CHECK-NEXT:    %[[LR:.*]] = arith.constant dense<1.000000e-01> : tensor<f32>
// CHECK-NEXT:    %[[A:.*]] = nl.act sigmoid %[[GS]] : tensor<4x1xf32>
// CHECK-NEXT:    %[[M0:.*]] = nl.weights @M : tensor<3x5xf32>
// CHECK-NEXT:    %[[VT:.*]] = nl.transpose %[[V]] {permutation = array<i64: 1, 0>} : tensor<4x3xf32> -> tensor<3x4xf32>
// CHECK-NEXT:    %[[P:.*]] = nl.matmul %[[M0]], %[[K]] {transpose_rhs} : tensor<3x5xf32>, tensor<4x5xf32> -> tensor<3x4xf32>
// CHECK-NEXT:    %[[E:.*]] = nl.sub %[[P]], %[[VT]] : tensor<3x4xf32>, tensor<3x4xf32> -> tensor<3x4xf32>
// CHECK-NEXT:    %[[G:.*]] = nl.mul %[[E]], %[[LR]] : tensor<3x4xf32>, tensor<f32> -> tensor<3x4xf32>
// CHECK-NEXT:    %[[AL:.*]] = tensor.extract_slice %[[A]][3, 0] [1, 1] [1, 1] : tensor<4x1xf32> to tensor<1x1xf32>
// CHECK-NEXT:    %[[AC:.*]] = tensor.collapse_shape %[[AL]] {{\[}}[0, 1]] : tensor<1x1xf32> into tensor<1xf32>
// CHECK-NEXT:    %[[KEPT:.*]] = nl.mul %[[M0]], %[[AC]] : tensor<3x5xf32>, tensor<1xf32> -> tensor<3x5xf32>
// CHECK-NEXT:    %[[GK:.*]] = nl.matmul %[[G]], %[[K]] : tensor<3x4xf32>, tensor<4x5xf32> -> tensor<3x5xf32>
// CHECK-NEXT:    %[[M1:.*]] = nl.sub %[[KEPT]], %[[GK]] : tensor<3x5xf32>, tensor<3x5xf32> -> tensor<3x5xf32>
// CHECK-NEXT:    nl.assign @M(%[[M1]] : tensor<3x5xf32>)
// CHECK-NEXT:    %[[Q:.*]] = nl.matmul %[[F]], %[[WQ]] {transpose_rhs} : tensor<4x5xf32>, tensor<5x5xf32> -> tensor<4x5xf32>
// CHECK-NEXT:    %[[YT:.*]] = nl.matmul %[[M0]], %[[Q]] {transpose_rhs} : tensor<3x5xf32>, tensor<4x5xf32> -> tensor<3x4xf32>
// CHECK-NEXT:    %[[Y:.*]] = nl.transpose %[[YT]] {permutation = array<i64: 1, 0>} : tensor<3x4xf32> -> tensor<4x3xf32>
// CHECK-NEXT:    nl.yield %[[Y]] : tensor<4x3xf32>
// CHECK-NEXT:  }
nl.model @decay attributes {dim = 6} {
  nl.param @W_k : tensor<5x5xf32> = #nl.normal<std = 0.5>
  nl.param @W_v : tensor<3x5xf32> = #nl.normal<std = 0.5>
  nl.param @b_v : tensor<3xf32> = #nl.zeros
  nl.param @W_q : tensor<5x5xf32> = #nl.normal<std = 0.5>
  nl.level @M period 4 rule <objective = l2, retention = decay, grad_at = chunk_start, read = before_write> {
    nl.state @M : !nl.matrix<3x5xf32> = #nl.zeros
  }
  nl.step(%x : tensor<6xf32>) -> tensor<3xf32> {
    %f = tensor.extract_slice %x[0] [5] [1] : tensor<6xf32> to tensor<5xf32>
    %g = tensor.extract_slice %x[5] [1] [1] : tensor<6xf32> to tensor<1xf32>
    %wk = nl.get_param @W_k : tensor<5x5xf32>
    %wv = nl.get_param @W_v : tensor<3x5xf32>
    %bv = nl.get_param @b_v : tensor<3xf32>
    %wq = nl.get_param @W_q : tensor<5x5xf32>
    %kp = nl.linear %f, %wk : (tensor<5xf32>, tensor<5x5xf32>) -> tensor<5xf32>
    %k = nl.norm l2 %kp : (tensor<5xf32>) -> tensor<5xf32>
    %v = nl.linear %f, %wv, %bv : (tensor<5xf32>, tensor<3x5xf32>, tensor<3xf32>) -> tensor<3xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    %a = nl.act sigmoid %g : tensor<1xf32>
    nl.update @M key(%k : tensor<5xf32>) value(%v : tensor<3xf32>) lr(%lr : tensor<f32>) retain(%a : tensor<1xf32>)
    %q = nl.linear %f, %wq : (tensor<5xf32>, tensor<5x5xf32>) -> tensor<5xf32>
    %y = nl.read @M(%q) : tensor<5xf32> -> tensor<3xf32>
    nl.yield %y : tensor<3xf32>
  }
}

// -----

// (c) A frozen matrix level is only read: K^T = W X^T from its weights,
// and it is never assigned; its output keys a learning level with
// l2 = full (the error doubled), the only level nl.assign writes.
// CHECK-LABEL: nl.model @frozen_read
// CHECK:       nl.chunk_step size 4 (%[[X:.*]]: tensor<4x5xf32>) -> tensor<4x3xf32> {
// CHECK-NEXT:    %[[W:.*]] = nl.weights @F : tensor<5x5xf32>
// CHECK-NEXT:    %[[KT:.*]] = nl.matmul %[[W]], %[[X]] {transpose_rhs} : tensor<5x5xf32>, tensor<4x5xf32> -> tensor<5x4xf32>
// CHECK-NEXT:    %[[K:.*]] = nl.transpose %[[KT]] {permutation = array<i64: 1, 0>} : tensor<5x4xf32> -> tensor<4x5xf32>
// CHECK-NEXT:    %[[V:.*]] = tensor.extract_slice %[[X]][0, 0] [4, 3] [1, 1] : tensor<4x5xf32> to tensor<4x3xf32>
// CHECK-NEXT:    %[[LR:.*]] = arith.constant dense<1.000000e-01> : tensor<f32>
// CHECK-NEXT:    %[[M0:.*]] = nl.weights @M : tensor<3x5xf32>
// CHECK-NEXT:    %[[VT:.*]] = nl.transpose %[[V]] {permutation = array<i64: 1, 0>} : tensor<4x3xf32> -> tensor<3x4xf32>
// CHECK-NEXT:    %[[P:.*]] = nl.matmul %[[M0]], %[[K]] {transpose_rhs} : tensor<3x5xf32>, tensor<4x5xf32> -> tensor<3x4xf32>
// CHECK-NEXT:    %[[E:.*]] = nl.sub %[[P]], %[[VT]] : tensor<3x4xf32>, tensor<3x4xf32> -> tensor<3x4xf32>
// CHECK-NEXT:    %[[TWO:.*]] = arith.constant dense<2.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[E2:.*]] = nl.mul %[[E]], %[[TWO]] : tensor<3x4xf32>, tensor<f32> -> tensor<3x4xf32>
// CHECK-NEXT:    %[[G:.*]] = nl.mul %[[E2]], %[[LR]] : tensor<3x4xf32>, tensor<f32> -> tensor<3x4xf32>
// CHECK-NEXT:    %[[GK:.*]] = nl.matmul %[[G]], %[[K]] : tensor<3x4xf32>, tensor<4x5xf32> -> tensor<3x5xf32>
// CHECK-NEXT:    %[[M1:.*]] = nl.sub %[[M0]], %[[GK]] : tensor<3x5xf32>, tensor<3x5xf32> -> tensor<3x5xf32>
// CHECK-NEXT:    nl.assign @M(%[[M1]] : tensor<3x5xf32>)
// CHECK-NEXT:    %[[YT:.*]] = nl.matmul %[[M0]], %[[X]] {transpose_rhs} : tensor<3x5xf32>, tensor<4x5xf32> -> tensor<3x4xf32>
// CHECK-NEXT:    %[[Y:.*]] = nl.transpose %[[YT]] {permutation = array<i64: 1, 0>} : tensor<3x4xf32> -> tensor<4x3xf32>
// CHECK-NEXT:    nl.yield %[[Y]] : tensor<4x3xf32>
// CHECK-NEXT:  }
nl.model @frozen_read attributes {dim = 5} {
  nl.level @F period frozen {
    nl.state @W : !nl.matrix<5x5xf32> = #nl.identity
  }
  nl.level @M period 4 rule <objective = l2, l2 = full, grad_at = chunk_start, read = before_write> {
    nl.state @M : !nl.matrix<3x5xf32> = #nl.zeros
  }
  nl.step(%x : tensor<5xf32>) -> tensor<3xf32> {
    %k = nl.read @F(%x) : tensor<5xf32> -> tensor<5xf32>
    %v = tensor.extract_slice %x[0] [3] [1] : tensor<5xf32> to tensor<3xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%k : tensor<5xf32>) value(%v : tensor<3xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @M(%x) : tensor<5xf32> -> tensor<3xf32>
    nl.yield %y : tensor<3xf32>
  }
}

// -----

// (d) The dot objective: the error is -v (no product with M0 before the
// update), with a per-token scalar lr as a row [1, C]; read = chunk_prefix.
// CHECK-LABEL: nl.model @dot
// CHECK:       nl.chunk_step size 4 (%[[X:.*]]: tensor<4x6xf32>) -> tensor<4x3xf32> {
// CHECK-NEXT:    %[[K:.*]] = tensor.extract_slice %[[X]][0, 0] [4, 5] [1, 1] : tensor<4x6xf32> to tensor<4x5xf32>
// CHECK-NEXT:    %[[V:.*]] = tensor.extract_slice %[[X]][0, 1] [4, 3] [1, 1] : tensor<4x6xf32> to tensor<4x3xf32>
// CHECK-NEXT:    %[[LR:.*]] = tensor.extract_slice %[[X]][0, 5] [4, 1] [1, 1] : tensor<4x6xf32> to tensor<4x1xf32>
// CHECK-NEXT:    %[[M0:.*]] = nl.weights @M : tensor<3x5xf32>
// CHECK-NEXT:    %[[LRF:.*]] = tensor.collapse_shape %[[LR]] {{\[}}[0, 1]] : tensor<4x1xf32> into tensor<4xf32>
// CHECK-NEXT:    %[[LRR:.*]] = tensor.expand_shape %[[LRF]] {{\[}}[0, 1]] output_shape [1, 4] : tensor<4xf32> into tensor<1x4xf32>
// CHECK-NEXT:    %[[VT:.*]] = nl.transpose %[[V]] {permutation = array<i64: 1, 0>} : tensor<4x3xf32> -> tensor<3x4xf32>
// CHECK-NEXT:    %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[E:.*]] = nl.sub %[[ZERO]], %[[VT]] : tensor<f32>, tensor<3x4xf32> -> tensor<3x4xf32>
// CHECK-NEXT:    %[[G:.*]] = nl.mul %[[E]], %[[LRR]] : tensor<3x4xf32>, tensor<1x4xf32> -> tensor<3x4xf32>
// CHECK-NEXT:    %[[GK:.*]] = nl.matmul %[[G]], %[[K]] : tensor<3x4xf32>, tensor<4x5xf32> -> tensor<3x5xf32>
// CHECK-NEXT:    %[[M1:.*]] = nl.sub %[[M0]], %[[GK]] : tensor<3x5xf32>, tensor<3x5xf32> -> tensor<3x5xf32>
// CHECK-NEXT:    nl.assign @M(%[[M1]] : tensor<3x5xf32>)
// CHECK-NEXT:    %[[Y0:.*]] = nl.matmul %[[M0]], %[[K]] {transpose_rhs} : tensor<3x5xf32>, tensor<4x5xf32> -> tensor<3x4xf32>
// CHECK-NEXT:    %[[S:.*]] = nl.matmul %[[K]], %[[K]] {transpose_rhs} : tensor<4x5xf32>, tensor<4x5xf32> -> tensor<4x4xf32>
// CHECK-NEXT:    %[[A:.*]] = nl.tril %[[S]] : tensor<4x4xf32>
// CHECK-NEXT:    %[[GA:.*]] = nl.matmul %[[G]], %[[A]] {transpose_rhs} : tensor<3x4xf32>, tensor<4x4xf32> -> tensor<3x4xf32>
// CHECK-NEXT:    %[[YT:.*]] = nl.sub %[[Y0]], %[[GA]] : tensor<3x4xf32>, tensor<3x4xf32> -> tensor<3x4xf32>
// CHECK-NEXT:    %[[Y:.*]] = nl.transpose %[[YT]] {permutation = array<i64: 1, 0>} : tensor<3x4xf32> -> tensor<4x3xf32>
// CHECK-NEXT:    nl.yield %[[Y]] : tensor<4x3xf32>
nl.model @dot attributes {dim = 6} {
  nl.level @M period 4 rule <objective = dot, grad_at = chunk_start, read = chunk_prefix> {
    nl.state @M : !nl.matrix<3x5xf32> = #nl.zeros
  }
  nl.step(%x : tensor<6xf32>) -> tensor<3xf32> {
    %k = tensor.extract_slice %x[0] [5] [1] : tensor<6xf32> to tensor<5xf32>
    %v = tensor.extract_slice %x[1] [3] [1] : tensor<6xf32> to tensor<3xf32>
    %lr = tensor.extract_slice %x[5] [1] [1] : tensor<6xf32> to tensor<1xf32>
    nl.update @M key(%k : tensor<5xf32>) value(%v : tensor<3xf32>) lr(%lr : tensor<1xf32>)
    %y = nl.read @M(%k) : tensor<5xf32> -> tensor<3xf32>
    nl.yield %y : tensor<3xf32>
  }
}

// -----

// (e) Two heads with decay: a constant lr per head and a retain per head
// from the token both become [H, 1, 1] factors (the retain from the last
// row). A projection with one weight per head is one batched product over
// the heads; a shared projection of [C, H, in] is one product over C*H rows.
// CHECK-LABEL: nl.model @heads_decay
// CHECK:       nl.chunk_step size 4 (%[[X:.*]]: tensor<4x12xf32>) -> tensor<4x2x3xf32> {
// CHECK:         %[[XH:.*]] = tensor.expand_shape %{{.*}} {{\[}}[0], [1, 2]] output_shape [4, 2, 5] : tensor<4x10xf32> into tensor<4x2x5xf32>
// CHECK-NEXT:    %[[WK:.*]] = nl.get_param @W_k : tensor<2x5x5xf32>
// CHECK-NEXT:    %[[WV:.*]] = nl.get_param @W_v : tensor<3x5xf32>
// CHECK-NEXT:    %[[XT:.*]] = nl.transpose %[[XH]] {permutation = array<i64: 1, 0, 2>} : tensor<4x2x5xf32> -> tensor<2x4x5xf32>
// CHECK-NEXT:    %[[KH:.*]] = nl.matmul %[[XT]], %[[WK]] {transpose_rhs} : tensor<2x4x5xf32>, tensor<2x5x5xf32> -> tensor<2x4x5xf32>
// CHECK-NEXT:    %[[KC:.*]] = nl.transpose %[[KH]] {permutation = array<i64: 1, 0, 2>} : tensor<2x4x5xf32> -> tensor<4x2x5xf32>
// CHECK-NEXT:    %[[XF:.*]] = tensor.collapse_shape %[[XH]] {{\[}}[0, 1], [2]] : tensor<4x2x5xf32> into tensor<8x5xf32>
// CHECK-NEXT:    %[[VF:.*]] = nl.matmul %[[XF]], %[[WV]] {transpose_rhs} : tensor<8x5xf32>, tensor<3x5xf32> -> tensor<8x3xf32>
// CHECK-NEXT:    %[[VC:.*]] = tensor.expand_shape %[[VF]] {{\[}}[0, 1], [2]] output_shape [4, 2, 3] : tensor<8x3xf32> into tensor<4x2x3xf32>
// CHECK:         %[[A:.*]] = nl.act sigmoid %{{.*}} : tensor<4x2xf32>
// CHECK-NEXT:    %[[LR:.*]] = arith.constant dense<[1.000000e-01, 2.000000e-01]> : tensor<2xf32>
// CHECK-NEXT:    %[[M0:.*]] = nl.weights @M : tensor<2x3x5xf32>
// CHECK-NEXT:    %[[K:.*]] = nl.transpose %[[KC]] {permutation = array<i64: 1, 0, 2>} : tensor<4x2x5xf32> -> tensor<2x4x5xf32>
// CHECK-NEXT:    %[[LRH:.*]] = tensor.expand_shape %[[LR]] {{\[}}[0, 1, 2]] output_shape [2, 1, 1] : tensor<2xf32> into tensor<2x1x1xf32>
// CHECK-NEXT:    %[[VT:.*]] = nl.transpose %[[VC]] {permutation = array<i64: 1, 2, 0>} : tensor<4x2x3xf32> -> tensor<2x3x4xf32>
// CHECK-NEXT:    %[[P:.*]] = nl.matmul %[[M0]], %[[K]] {transpose_rhs} : tensor<2x3x5xf32>, tensor<2x4x5xf32> -> tensor<2x3x4xf32>
// CHECK-NEXT:    %[[E:.*]] = nl.sub %[[P]], %[[VT]]
// CHECK-NEXT:    %[[G:.*]] = nl.mul %[[E]], %[[LRH]] : tensor<2x3x4xf32>, tensor<2x1x1xf32> -> tensor<2x3x4xf32>
// CHECK-NEXT:    %[[AL:.*]] = tensor.extract_slice %[[A]][3, 0] [1, 2] [1, 1] : tensor<4x2xf32> to tensor<1x2xf32>
// CHECK-NEXT:    %[[AF:.*]] = tensor.collapse_shape %[[AL]] {{\[}}[0, 1]] : tensor<1x2xf32> into tensor<2xf32>
// CHECK-NEXT:    %[[AH:.*]] = tensor.expand_shape %[[AF]] {{\[}}[0, 1, 2]] output_shape [2, 1, 1] : tensor<2xf32> into tensor<2x1x1xf32>
// CHECK-NEXT:    %[[KEPT:.*]] = nl.mul %[[M0]], %[[AH]] : tensor<2x3x5xf32>, tensor<2x1x1xf32> -> tensor<2x3x5xf32>
// CHECK-NEXT:    %[[GK:.*]] = nl.matmul %[[G]], %[[K]] : tensor<2x3x4xf32>, tensor<2x4x5xf32> -> tensor<2x3x5xf32>
// CHECK-NEXT:    %[[M1:.*]] = nl.sub %[[KEPT]], %[[GK]] : tensor<2x3x5xf32>, tensor<2x3x5xf32> -> tensor<2x3x5xf32>
// CHECK-NEXT:    nl.assign @M(%[[M1]] : tensor<2x3x5xf32>)
// CHECK-NOT:     nl.tril
// CHECK:         nl.yield %{{.*}} : tensor<4x2x3xf32>
nl.model @heads_decay attributes {dim = 12, heads = 2} {
  nl.param @W_k : tensor<2x5x5xf32> = #nl.normal<std = 0.5>
  nl.param @W_v : tensor<3x5xf32> = #nl.normal<std = 0.5>
  nl.level @M period 4 rule <objective = l2, retention = decay, grad_at = chunk_start, read = before_write> {
    nl.state @M : !nl.matrix<3x5xf32, heads = 2> = #nl.zeros
  }
  nl.step(%x : tensor<12xf32>) -> tensor<2x3xf32> {
    %xs = tensor.extract_slice %x[0] [10] [1] : tensor<12xf32> to tensor<10xf32>
    %xh = tensor.expand_shape %xs [[0, 1]] output_shape [2, 5] : tensor<10xf32> into tensor<2x5xf32>
    %wk = nl.get_param @W_k : tensor<2x5x5xf32>
    %wv = nl.get_param @W_v : tensor<3x5xf32>
    %k = nl.linear %xh, %wk : (tensor<2x5xf32>, tensor<2x5x5xf32>) -> tensor<2x5xf32>
    %v = nl.linear %xh, %wv : (tensor<2x5xf32>, tensor<3x5xf32>) -> tensor<2x3xf32>
    %g = tensor.extract_slice %x[10] [2] [1] : tensor<12xf32> to tensor<2xf32>
    %a = nl.act sigmoid %g : tensor<2xf32>
    %lr = arith.constant dense<[0.1, 0.2]> : tensor<2xf32>
    nl.update @M key(%k : tensor<2x5xf32>) value(%v : tensor<2x3xf32>) lr(%lr : tensor<2xf32>) retain(%a : tensor<2xf32>)
    %y = nl.read @M(%xh) : tensor<2x5xf32> -> tensor<2x3xf32>
    nl.yield %y : tensor<2x3xf32>
  }
}

// -----

// (f) Two levels of one period, the second keyed by the first's read: each
// is read from its own weights and assigned once; the rows of @A's read (Y_A,
// back in token order) are @B's keys, and only @B (chunk_prefix) has a mask.
// CHECK-LABEL: nl.model @two_levels
// CHECK:       nl.chunk_step size 4 (%[[X:.*]]: tensor<4x4xf32>) -> tensor<4x4xf32> {
// CHECK:         %[[A0:.*]] = nl.weights @A : tensor<4x4xf32>
// CHECK:         %[[YAT:.*]] = nl.matmul %[[A0]], %[[X]] {transpose_rhs}
// CHECK-NOT:     nl.tril
// CHECK:         nl.assign @A(
// @A's read is its prediction of the keys (the query is the key): the
// product is not computed again.
// CHECK-NEXT:    %[[YA:.*]] = nl.transpose %[[YAT]] {permutation = array<i64: 1, 0>}
// CHECK-NEXT:    %[[B0:.*]] = nl.weights @B : tensor<4x4xf32>
// CHECK:         %[[GB:.*]] = nl.mul
// CHECK-NEXT:    %[[UB:.*]] = nl.matmul %[[GB]], %[[YA]] : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
// CHECK-NEXT:    %[[B1:.*]] = nl.sub %[[B0]], %[[UB]]
// CHECK-NEXT:    nl.assign @B(%[[B1]] : tensor<4x4xf32>)
// CHECK-NEXT:    %[[YB0:.*]] = nl.matmul %[[B0]], %[[YA]] {transpose_rhs}
// CHECK-NEXT:    %[[S:.*]] = nl.matmul %[[YA]], %[[YA]] {transpose_rhs}
// CHECK-NEXT:    %[[M:.*]] = nl.tril %[[S]] : tensor<4x4xf32>
// CHECK-NEXT:    %[[GM:.*]] = nl.matmul %[[GB]], %[[M]] {transpose_rhs}
// CHECK-NEXT:    %[[YBT:.*]] = nl.sub %[[YB0]], %[[GM]]
// CHECK-NEXT:    %[[YB:.*]] = nl.transpose %[[YBT]]
// CHECK-NEXT:    nl.yield %[[YB]] : tensor<4x4xf32>
// CHECK-NOT:     nl.assign
nl.model @two_levels attributes {dim = 4} {
  nl.level @A period 4 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @B period 4 rule <objective = dot, grad_at = chunk_start, read = chunk_prefix> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @A key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @A(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.update @B key(%y : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    %z = nl.read @B(%y) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %z : tensor<4xf32>
  }
}

// -----

// Reshapes to rank 0 lift with the token dimension in their one group, and
// a constant scalar retain gate scales M0 as it is.
// CHECK-LABEL: nl.model @rank0_gate
// CHECK: nl.chunk_step size 4
// CHECK: %[[G:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1]] : tensor<4x1xf32> into tensor<4xf32>
// CHECK: tensor.expand_shape %[[G]] {{\[\[}}0, 1]] output_shape [1, 4] : tensor<4xf32> into tensor<1x4xf32>
// CHECK: nl.mul %{{.*}}, %{{.*}} : tensor<4x4xf32>, tensor<f32> -> tensor<4x4xf32>
nl.model @rank0_gate attributes {dim = 5} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start, read = before_write, retention = decay> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<5xf32>) -> tensor<4xf32> {
    %k = tensor.extract_slice %x[0] [4] [1] : tensor<5xf32> to tensor<4xf32>
    %g1 = tensor.extract_slice %x[4] [1] [1] : tensor<5xf32> to tensor<1xf32>
    %g = tensor.collapse_shape %g1 [] : tensor<1xf32> into tensor<f32>
    %a = arith.constant dense<0.9> : tensor<f32>
    nl.update @M key(%k : tensor<4xf32>) value(%k : tensor<4xf32>) lr(%g : tensor<f32>) retain(%a : tensor<f32>)
    %o = nl.read @M(%k) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %o : tensor<4xf32>
  }
}

// -----

// Mini-batch Titans: fused momentum on a chunked level. nl.weights returns
// the memory and its buffer; S1 = eta_C S0 - G^T K, M1 = retain_C M0 + S1;
// nl.assign gives both.
// CHECK-LABEL: nl.model @fused_momentum
// CHECK: nl.chunk_step size 4
// CHECK: %[[W:.*]]:2 = nl.weights @M : tensor<4x4xf32>, tensor<4x4xf32>
// CHECK: %[[KEPT:.*]] = nl.mul %[[W]]#0, %{{.*}} : tensor<4x4xf32>, tensor<f32> -> tensor<4x4xf32>
// CHECK: %[[D:.*]] = nl.matmul %{{.*}}, %{{.*}} : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
// CHECK: %[[ES:.*]] = nl.mul %[[W]]#1, %{{.*}} : tensor<4x4xf32>, tensor<f32> -> tensor<4x4xf32>
// CHECK-NEXT: %[[S1:.*]] = nl.sub %[[ES]], %[[D]]
// CHECK-NEXT: %[[M1:.*]] = nl.add %[[KEPT]], %[[S1]]
// CHECK-NEXT: nl.assign @M(%[[M1]], %[[S1]] : tensor<4x4xf32>, tensor<4x4xf32>)
nl.model @fused_momentum attributes {dim = 4} {
  nl.level @M period 4 rule <objective = l2, retention = decay, algorithm = momentum, grad_at = chunk_start, read = before_write> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
    nl.state @m : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    %a = arith.constant dense<0.9> : tensor<f32>
    %eta = arith.constant dense<0.5> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) retain(%a : tensor<f32>) momentum_decay(%eta : tensor<f32>)
    %y = nl.read @M(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %y : tensor<4xf32>
  }
}

// -----

// The model of one head (nl-split-heads) gets a chunk form too: the head's
// slices of the token, at offsets computed from nl.head_index, become slices
// of the chunk's rows at the same offsets.
// CHECK-LABEL: nl.model @one_head
// CHECK:       nl.chunk_step size 4 (%[[X:.*]]: tensor<4x20xf32>) -> tensor<4x4xf32> {
// CHECK:         %[[H:.*]] = nl.head_index
// CHECK:         %[[OK:.*]] = arith.muli %[[H]], %{{.*}} : index
// CHECK:         tensor.extract_slice %[[X]][0, %[[OK]]] [4, 4] [1, 1] : tensor<4x20xf32> to tensor<4x4xf32>
// CHECK:         %[[LR:.*]] = tensor.extract_slice %{{.*}}[0, %[[H]]] [4, 1] [1, 1] : tensor<4x2xf32> to tensor<4xf32>
// CHECK:         nl.assign @M(
nl.model @one_head attributes {dim = 20, head_split = 2} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<20xf32>) -> tensor<4xf32> {
    %h = nl.head_index
    %c4 = arith.constant 4 : index
    %ok = arith.muli %h, %c4 : index
    %k = tensor.extract_slice %x[%ok] [4] [1] : tensor<20xf32> to tensor<4xf32>
    %c8 = arith.constant 8 : index
    %ov = arith.addi %ok, %c8 : index
    %v = tensor.extract_slice %x[%ov] [4] [1] : tensor<20xf32> to tensor<4xf32>
    %g = tensor.extract_slice %x[16] [2] [1] : tensor<20xf32> to tensor<2xf32>
    %lr = tensor.extract_slice %g[%h] [1] [1] : tensor<2xf32> to tensor<f32>
    nl.update @M key(%k : tensor<4xf32>) value(%v : tensor<4xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @M(%k) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %y : tensor<4xf32>
  }
}

// -----

// A read of a learning level before its update in the step: the chunk form
// builds the update first (the chunk's reads are written from its
// gradients), as nl-to-loops orders the step.
// CHECK-LABEL: nl.model @read_first
// CHECK: nl.chunk_step size 4
// CHECK: nl.assign @M(
// CHECK: nl.yield
nl.model @read_first attributes {dim = 4} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %y = nl.read @M(%x) : tensor<4xf32> -> tensor<4xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %y : tensor<4xf32>
  }
}
