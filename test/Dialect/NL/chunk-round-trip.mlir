// RUN: nl-opt %s | nl-opt | FileCheck %s
// RUN: nl-opt %s --mlir-print-op-generic | nl-opt | FileCheck %s

// The ops of the chunk-parallel form print and parse back to themselves:
// nl.chunk_step with its size, tokens and per-token outputs, nl.weights of a
// matrix memory (heads first), nl.matmul with each transpose, nl.tril with
// and without `strict`, nl.transpose and nl.assign.
// CHECK-LABEL: nl.model @chunked
// CHECK:       nl.step(%{{.*}}: tensor<10xf32>) -> tensor<2x3xf32> {
// CHECK:       nl.chunk_step size 4 (%[[X:.*]]: tensor<4x10xf32>) -> tensor<4x2x3xf32> {
// CHECK:         %[[M0:.*]] = nl.weights @M : tensor<2x3x5xf32>
// CHECK-NEXT:    %[[K:.*]] = tensor.extract_slice %[[X]][0, 0] [4, 10] [1, 1] : tensor<4x10xf32> to tensor<4x10xf32>
// CHECK-NEXT:    %[[KE:.*]] = tensor.expand_shape %[[K]] {{\[}}[0], [1, 2]] output_shape [4, 2, 5] : tensor<4x10xf32> into tensor<4x2x5xf32>
// CHECK-NEXT:    %[[KT:.*]] = nl.transpose %[[KE]] {permutation = array<i64: 1, 0, 2>} : tensor<4x2x5xf32> -> tensor<2x4x5xf32>
// CHECK-NEXT:    %[[P:.*]] = nl.matmul %[[M0]], %[[KT]] {transpose_rhs} : tensor<2x3x5xf32>, tensor<2x4x5xf32> -> tensor<2x3x4xf32>
// CHECK-NEXT:    %[[U:.*]] = nl.matmul %[[P]], %[[KT]] : tensor<2x3x4xf32>, tensor<2x4x5xf32> -> tensor<2x3x5xf32>
// CHECK-NEXT:    %[[GK:.*]] = nl.matmul %[[KT]], %[[P]] {transpose_lhs, transpose_rhs} : tensor<2x4x5xf32>, tensor<2x3x4xf32> -> tensor<2x5x3xf32>
// CHECK-NEXT:    %[[KK:.*]] = nl.matmul %[[KT]], %[[KT]] {transpose_lhs} : tensor<2x4x5xf32>, tensor<2x4x5xf32> -> tensor<2x5x5xf32>
// CHECK-NEXT:    %[[S:.*]] = nl.matmul %[[KT]], %[[KT]] {transpose_rhs} : tensor<2x4x5xf32>, tensor<2x4x5xf32> -> tensor<2x4x4xf32>
// CHECK-NEXT:    %[[A:.*]] = nl.tril %[[S]] : tensor<2x4x4xf32>
// CHECK-NEXT:    %[[B:.*]] = nl.tril %[[S]] {strict} : tensor<2x4x4xf32>
// CHECK-NEXT:    %[[M1:.*]] = nl.sub %[[M0]], %[[U]] : tensor<2x3x5xf32>, tensor<2x3x5xf32> -> tensor<2x3x5xf32>
// CHECK-NEXT:    nl.assign @M(%[[M1]] : tensor<2x3x5xf32>)
// CHECK-NEXT:    %[[Y:.*]] = nl.matmul %[[B]], %[[A]] : tensor<2x4x4xf32>, tensor<2x4x4xf32> -> tensor<2x4x4xf32>
// CHECK-NEXT:    %[[YS:.*]] = tensor.extract_slice %[[Y]][0, 0, 0] [2, 4, 3] [1, 1, 1] : tensor<2x4x4xf32> to tensor<2x4x3xf32>
// CHECK-NEXT:    %[[O:.*]] = nl.transpose %[[YS]] {permutation = array<i64: 1, 0, 2>} : tensor<2x4x3xf32> -> tensor<4x2x3xf32>
// CHECK-NEXT:    nl.yield %[[O]] : tensor<4x2x3xf32>
// CHECK-NEXT:  }
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
  nl.chunk_step size 4 (%X : tensor<4x10xf32>) -> tensor<4x2x3xf32> {
    %M0 = nl.weights @M : tensor<2x3x5xf32>
    %K = tensor.extract_slice %X[0, 0] [4, 10] [1, 1] : tensor<4x10xf32> to tensor<4x10xf32>
    %Ke = tensor.expand_shape %K [[0], [1, 2]] output_shape [4, 2, 5] : tensor<4x10xf32> into tensor<4x2x5xf32>
    %KT = nl.transpose %Ke {permutation = array<i64: 1, 0, 2>} : tensor<4x2x5xf32> -> tensor<2x4x5xf32>
    %P = nl.matmul %M0, %KT {transpose_rhs} : tensor<2x3x5xf32>, tensor<2x4x5xf32> -> tensor<2x3x4xf32>
    %U = nl.matmul %P, %KT : tensor<2x3x4xf32>, tensor<2x4x5xf32> -> tensor<2x3x5xf32>
    %GK = nl.matmul %KT, %P {transpose_lhs, transpose_rhs} : tensor<2x4x5xf32>, tensor<2x3x4xf32> -> tensor<2x5x3xf32>
    %KK = nl.matmul %KT, %KT {transpose_lhs} : tensor<2x4x5xf32>, tensor<2x4x5xf32> -> tensor<2x5x5xf32>
    %S = nl.matmul %KT, %KT {transpose_rhs} : tensor<2x4x5xf32>, tensor<2x4x5xf32> -> tensor<2x4x4xf32>
    %A = nl.tril %S : tensor<2x4x4xf32>
    %B = nl.tril %S {strict} : tensor<2x4x4xf32>
    %M1 = nl.sub %M0, %U : tensor<2x3x5xf32>, tensor<2x3x5xf32> -> tensor<2x3x5xf32>
    nl.assign @M(%M1 : tensor<2x3x5xf32>)
    %Y = nl.matmul %B, %A : tensor<2x4x4xf32>, tensor<2x4x4xf32> -> tensor<2x4x4xf32>
    %Ys = tensor.extract_slice %Y[0, 0, 0] [2, 4, 3] [1, 1, 1] : tensor<2x4x4xf32> to tensor<2x4x3xf32>
    %O = nl.transpose %Ys {permutation = array<i64: 1, 0, 2>} : tensor<2x4x3xf32> -> tensor<4x2x3xf32>
    nl.yield %O : tensor<4x2x3xf32>
  }
}

// A single-head memory: nl.weights returns [rows, cols] without a head
// dimension, and a step without outputs gives a chunk step without them.
// CHECK-LABEL: nl.model @single_head
// CHECK:       nl.chunk_step size 2 (%[[X:.*]]: tensor<2x4xf32>) {
// CHECK-NEXT:    %[[M0:.*]] = nl.weights @L : tensor<4x4xf32>
// CHECK-NEXT:    %[[W:.*]] = nl.weights @F : tensor<4x4xf32>
// CHECK-NEXT:    %[[P:.*]] = nl.matmul %[[X]], %[[W]] {transpose_rhs} : tensor<2x4xf32>, tensor<4x4xf32> -> tensor<2x4xf32>
// CHECK-NEXT:    %[[T:.*]] = nl.transpose %[[P]] {permutation = array<i64: 1, 0>} : tensor<2x4xf32> -> tensor<4x2xf32>
// CHECK-NEXT:    %[[U:.*]] = nl.matmul %[[T]], %[[X]] : tensor<4x2xf32>, tensor<2x4xf32> -> tensor<4x4xf32>
// CHECK-NEXT:    %[[M1:.*]] = nl.sub %[[M0]], %[[U]]
// CHECK-NEXT:    nl.assign @L(%[[M1]] : tensor<4x4xf32>)
// CHECK-NEXT:    nl.yield{{$}}
// CHECK-NEXT:  }
nl.model @single_head attributes {dim = 4} {
  nl.level @L period 2 rule <objective = dot, grad_at = chunk_start> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @F period frozen {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.identity
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
  nl.chunk_step size 2 (%X : tensor<2x4xf32>) {
    %M0 = nl.weights @L : tensor<4x4xf32>
    %W = nl.weights @F : tensor<4x4xf32>
    %P = nl.matmul %X, %W {transpose_rhs} : tensor<2x4xf32>, tensor<4x4xf32> -> tensor<2x4xf32>
    %T = nl.transpose %P {permutation = array<i64: 1, 0>} : tensor<2x4xf32> -> tensor<4x2xf32>
    %U = nl.matmul %T, %X : tensor<4x2xf32>, tensor<2x4xf32> -> tensor<4x4xf32>
    %M1 = nl.sub %M0, %U : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
    nl.assign @L(%M1 : tensor<4x4xf32>)
    nl.yield
  }
}

// -----

// nl.tri_inv, the UT transform's inverse, outside a model.
// CHECK-LABEL: func.func @tri_inv
// CHECK-NEXT: %[[T:.*]] = nl.tri_inv %{{.*}} : tensor<2x8x8xf32>
// CHECK-NEXT: return %[[T]]
func.func @tri_inv(%a: tensor<2x8x8xf32>) -> tensor<2x8x8xf32> {
  %t = nl.tri_inv %a : tensor<2x8x8xf32>
  return %t : tensor<2x8x8xf32>
}

// nl.decay_mask, the decay between a chunk's tokens.
// CHECK-LABEL: func.func @decay_mask
// CHECK-NEXT: %[[D:.*]] = nl.decay_mask %{{.*}} : tensor<2x8xf32> -> tensor<2x8x8xf32>
func.func @decay_mask(%a: tensor<2x8xf32>) -> tensor<2x8x8xf32> {
  %d = nl.decay_mask %a : tensor<2x8xf32> -> tensor<2x8x8xf32>
  return %d : tensor<2x8x8xf32>
}
