// RUN: nl-opt %s --split-input-file --pass-pipeline='builtin.module(nl.model(nl-expand-mlp,nl-derive-gradients,nl-chunk))' -verify-diagnostics 2>/dev/null | FileCheck %s
// RUN: nl-opt %s --split-input-file --pass-pipeline='builtin.module(nl.model(nl-expand-mlp,nl-derive-gradients,nl-chunk))' -verify-diagnostics

// Multi-rate chunks of MLP memories: the chunk is the shortest period; a
// slower level (a multiple of it) adds the chunk's summed steps to its
// pending chunk (nl.accumulate) and fires where its period ends. A read
// after the write sees the chunk-start weights on every token but the last;
// the last token's projections are corrected by what the write changes,
//   y_last = W0 x + b0 - f (P + S) x,  S x = dY^T (X x),
// with S = dY^T X the chunk's step, P the pending chunk (nl.pending) and f whether
// the level fires there (nl.fires; always, for a level of the chunk's
// period, which has nothing pending). test/Runtime/chunk-rates.test checks
// the numbers against float64.

// CHECK-LABEL: nl.model @rates
// CHECK: nl.chunk_step size 2 (%[[X:.*]]: tensor<2x8xf32>) -> tensor<2x4xf32>
// CHECK: %[[K:.*]] = tensor.extract_slice %[[X]][0, 0] [2, 4] [1, 1]
// CHECK: %[[A:.*]]:2 = nl.weights @A : tensor<8x4xf32>, tensor<4x8xf32>
// The keys' forward pass, which the read repeats: computed once.
// CHECK: %[[Z:.*]] = nl.matmul %[[K]], %[[A]]#0 {transpose_rhs} : tensor<2x4xf32>, tensor<8x4xf32> -> tensor<2x8xf32>
// CHECK-NOT: nl.matmul %[[K]], %[[A]]#0
// CHECK: %[[DY0:.*]] = nl.mul %{{.*}}, %{{.*}} : tensor<2x8xf32>, tensor<f32> -> tensor<2x8xf32>
// CHECK: %[[S0:.*]] = nl.matmul %[[DY0]], %[[K]] {transpose_lhs} : tensor<2x8xf32>, tensor<2x4xf32> -> tensor<8x4xf32>
// CHECK: %[[DY1:.*]] = nl.mul %{{.*}}, %{{.*}} : tensor<2x4xf32>, tensor<f32> -> tensor<2x4xf32>
// CHECK: %[[S1:.*]] = nl.matmul %[[DY1]], %{{.*}} {transpose_lhs} : tensor<2x4xf32>, tensor<2x8xf32> -> tensor<4x8xf32>
// @A has the chunk's period: it is assigned, and fires on the last token.
// CHECK: nl.assign @A(
// The last token's correction S x = dY^T (K x), from the step's factors.
// CHECK: %[[KL:.*]] = tensor.extract_slice %[[K]][1, 0] [1, 4] [1, 1] : tensor<2x4xf32> to tensor<4xf32>
// CHECK: %[[ZL0:.*]] = nl.linear %[[KL]], %[[A]]#0 : (tensor<4xf32>, tensor<8x4xf32>) -> tensor<8xf32>
// CHECK: %[[U:.*]] = nl.linear %[[KL]], %[[K]] : (tensor<4xf32>, tensor<2x4xf32>) -> tensor<2xf32>
// CHECK: %[[DZ:.*]] = nl.linear %[[U]], %[[DY0]] {transpose_weight} : (tensor<2xf32>, tensor<2x8xf32>) -> tensor<8xf32>
// CHECK: %[[ZL:.*]] = nl.sub %[[ZL0]], %[[DZ]] : tensor<8xf32>, tensor<8xf32> -> tensor<8xf32>
// CHECK: %[[ZR:.*]] = tensor.insert_slice %[[ZL]] into %[[Z]][1, 0] [1, 8] [1, 1] : tensor<8xf32> into tensor<2x8xf32>
// CHECK: nl.act gelu %[[ZR]] : tensor<2x8xf32>
// CHECK: nl.linear %{{.*}}, %[[DY1]] {transpose_weight} : (tensor<2xf32>, tensor<2x4xf32>) -> tensor<4xf32>
// CHECK: %[[H:.*]] = tensor.insert_slice %{{.*}} into %{{.*}}[1, 0] [1, 4] [1, 1] : tensor<4xf32> into tensor<2x4xf32>
// @B (period 4) keeps a pending chunk.
// CHECK: %[[B:.*]]:2 = nl.weights @B
// CHECK: %[[ZB:.*]] = nl.matmul %[[H]], %[[B]]#0 {transpose_rhs}
// CHECK: %[[T0:.*]] = nl.matmul %{{.*}}, %[[H]] {transpose_lhs} : tensor<2x8xf32>, tensor<2x4xf32> -> tensor<8x4xf32>
// CHECK: %[[T1:.*]] = nl.matmul %{{.*}}, %{{.*}} {transpose_lhs} : tensor<2x4xf32>, tensor<2x8xf32> -> tensor<4x8xf32>
// CHECK: nl.accumulate @B(%[[T0]], %[[T1]] : tensor<8x4xf32>, tensor<4x8xf32>)
// CHECK-NOT: nl.assign @B
// CHECK: %[[HL:.*]] = tensor.extract_slice %[[H]][1, 0] [1, 4] [1, 1]
// CHECK: %[[Y0:.*]] = nl.linear %[[HL]], %[[B]]#0
// CHECK: %[[HU:.*]] = nl.linear %[[HL]], %[[H]] : (tensor<4xf32>, tensor<2x4xf32>) -> tensor<2xf32>
// CHECK: %[[DS:.*]] = nl.linear %[[HU]], %{{.*}} {transpose_weight}
// CHECK: %[[P:.*]]:2 = nl.pending @B : tensor<8x4xf32>, tensor<4x8xf32>
// CHECK: %[[DP:.*]] = nl.linear %[[HL]], %[[P]]#0
// CHECK: %[[D:.*]] = nl.add %[[DS]], %[[DP]]
// CHECK: %[[F:.*]] = nl.fires @B : tensor<f32>
// CHECK: %[[FD:.*]] = nl.mul %[[D]], %[[F]] : tensor<8xf32>, tensor<f32> -> tensor<8xf32>
// CHECK: nl.sub %[[Y0]], %[[FD]]
// The second layer uses the same pending chunk and factor.
// CHECK: nl.linear %{{.*}}, %[[P]]#1
// CHECK-NOT: nl.pending
// CHECK-NOT: nl.fires
// CHECK: nl.mul %{{.*}}, %[[F]] : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
// CHECK: %[[OUT:.*]] = tensor.insert_slice
// CHECK: nl.yield %[[OUT]] : tensor<2x4xf32>
nl.model @rates attributes {dim = 8} {
  nl.level @A period 2 rule <objective = l2, grad_at = chunk_start, read = after_write> {
    nl.state @W : !nl.mlp<[4, 8, 4], gelu> = #nl.normal<std = 0.1>
  }
  nl.level @B period 4 rule <objective = l2, grad_at = chunk_start, read = after_write> {
    nl.state @W : !nl.mlp<[4, 8, 4], gelu> = #nl.normal<std = 0.1>
  }
  nl.step(%x : tensor<8xf32>) -> tensor<4xf32> {
    %k = tensor.extract_slice %x[0] [4] [1] : tensor<8xf32> to tensor<4xf32>
    %v = tensor.extract_slice %x[4] [4] [1] : tensor<8xf32> to tensor<4xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @A key(%k : tensor<4xf32>) value(%v : tensor<4xf32>) lr(%lr : tensor<f32>)
    %h = nl.read @A(%k) : tensor<4xf32> -> tensor<4xf32>
    nl.update @B key(%h : tensor<4xf32>) value(%v : tensor<4xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @B(%h) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %y : tensor<4xf32>
  }
}

// -----

// A slower level before the write: no correction, only the accumulation.
// CHECK-LABEL: nl.model @before_write
// CHECK: nl.chunk_step size 2
// CHECK: nl.assign @A(
// CHECK: nl.accumulate @B(
// CHECK-NOT: nl.pending
// CHECK-NOT: nl.fires
// CHECK-NOT: tensor.insert_slice
// CHECK: nl.yield
nl.model @before_write attributes {dim = 8} {
  nl.level @A period 2 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @W : !nl.mlp<[4, 8, 4], gelu> = #nl.normal<std = 0.1>
  }
  nl.level @B period 6 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @W : !nl.mlp<[4, 8, 4], gelu> = #nl.normal<std = 0.1>
  }
  nl.step(%x : tensor<8xf32>) -> tensor<4xf32> {
    %k = tensor.extract_slice %x[0] [4] [1] : tensor<8xf32> to tensor<4xf32>
    %v = tensor.extract_slice %x[4] [4] [1] : tensor<8xf32> to tensor<4xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    %h = nl.read @A(%k) : tensor<4xf32> -> tensor<4xf32>
    nl.update @A key(%k : tensor<4xf32>) value(%v : tensor<4xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @B(%h) : tensor<4xf32> -> tensor<4xf32>
    nl.update @B key(%h : tensor<4xf32>) value(%v : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %y : tensor<4xf32>
  }
}

// -----

// CHECK-LABEL: nl.model @not_a_multiple
// CHECK-NOT: nl.chunk_step
nl.model @not_a_multiple attributes {dim = 4} {
  nl.level @A period 4 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @W : !nl.mlp<[4, 8, 4], gelu> = #nl.normal<std = 0.1>
  }
  // expected-remark @below {{model @not_a_multiple keeps its per-token form only: levels of periods 4 and 6 (a slower level's period must be a multiple of the shortest)}}
  nl.level @B period 6 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @W : !nl.mlp<[4, 8, 4], gelu> = #nl.normal<std = 0.1>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    %y = nl.read @B(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.update @A key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @B key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %y : tensor<4xf32>
  }
}

// -----

// A level that learns every token runs token by token inside the chunk
// (nl.rows), with the ops that depend on it alone; its read keys the lifted
// level of period 2.
// CHECK-LABEL: nl.model @rows
// CHECK: nl.chunk_step size 2 (%[[X:.*]]: tensor<2x4xf32>)
// CHECK: %[[SW:.*]]:2 = nl.weights @S
// CHECK: %[[H:.*]] = nl.rows(%[[X]] : tensor<2x4xf32>) -> tensor<2x4xf32> {
// CHECK: ^bb0(%[[XT:.*]]: tensor<4xf32>):
// CHECK: nl.weights @F : tensor<8x4xf32>, tensor<4x8xf32>
// CHECK: nl.update @F grad(
// CHECK: nl.weights @F after_write
// CHECK: nl.yield %{{.*}} : tensor<4xf32>
// CHECK-NEXT: }
// CHECK: nl.matmul %[[H]], %[[SW]]#0 {transpose_rhs}
// CHECK: nl.assign @S(
nl.model @rows attributes {dim = 4} {
  nl.level @F period 1 rule <objective = l2, grad_at = chunk_start, read = after_write> {
    nl.state @W : !nl.mlp<[4, 8, 4], gelu> = #nl.normal<std = 0.1>
  }
  nl.level @S period 2 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @W : !nl.mlp<[4, 8, 4], gelu> = #nl.normal<std = 0.1>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @F key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    %h = nl.read @F(%x) : tensor<4xf32> -> tensor<4xf32>
    %y = nl.read @S(%h) : tensor<4xf32> -> tensor<4xf32>
    nl.update @S key(%h : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %y : tensor<4xf32>
  }
}

// -----

// The per-token level keyed by what a lifted level reads: refused.
// CHECK-LABEL: nl.model @rows_after_lifted
// CHECK-NOT: nl.chunk_step
nl.model @rows_after_lifted attributes {dim = 4} {
  nl.level @S period 2 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @W : !nl.mlp<[4, 8, 4], gelu> = #nl.normal<std = 0.1>
  }
  nl.level @F period 1 rule <objective = l2, grad_at = chunk_start, read = after_write> {
    nl.state @W : !nl.mlp<[4, 8, 4], gelu> = #nl.normal<std = 0.1>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    %h = nl.read @S(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.update @S key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    // expected-remark @below {{model @rows_after_lifted keeps its per-token form only: level @F learns every token from what a lifted level computes (its ops would run token by token after the lifted ones)}}
    nl.update @F key(%h : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @F(%h) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %y : tensor<4xf32>
  }
}

// -----

// An op that depends on the per-token level's read alone but comes after a
// lifted op has used that read is lifted (it works on each token's row):
// nl.rows returns the read, and the sum is a lifted op after it.
// CHECK-LABEL: nl.model @rows_then_lifted
// CHECK: %[[H:.*]] = nl.rows(
// CHECK: nl.yield %{{.*}} : tensor<4xf32>
// CHECK-NEXT: }
// CHECK: nl.assign @S(
// CHECK: %[[Z:.*]] = nl.add %[[H]], %[[H]] : tensor<2x4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
// CHECK: nl.yield %{{.*}} : tensor<2x4xf32>
nl.model @rows_then_lifted attributes {dim = 4} {
  nl.level @F period 1 rule <objective = l2, grad_at = chunk_start, read = after_write> {
    nl.state @W : !nl.mlp<[4, 8, 4], gelu> = #nl.normal<std = 0.1>
  }
  nl.level @S period 2 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @W : !nl.mlp<[4, 8, 4], gelu> = #nl.normal<std = 0.1>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @F key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    %h = nl.read @F(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.update @S key(%h : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @S(%h) : tensor<4xf32> -> tensor<4xf32>
    %z = nl.add %h, %h : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
    %o = nl.add %y, %z : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
    nl.yield %o : tensor<4xf32>
  }
}

// -----

// A second read of the per-token level after a lifted op has used the first:
// nl.rows would have to run twice.
// CHECK-LABEL: nl.model @rows_read_late
// CHECK-NOT: nl.chunk_step
nl.model @rows_read_late attributes {dim = 4} {
  nl.level @F period 1 rule <objective = l2, grad_at = chunk_start, read = after_write> {
    nl.state @W : !nl.mlp<[4, 8, 4], gelu> = #nl.normal<std = 0.1>
  }
  nl.level @S period 2 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @W : !nl.mlp<[4, 8, 4], gelu> = #nl.normal<std = 0.1>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @F key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    %h = nl.read @F(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.update @S key(%h : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @S(%h) : tensor<4xf32> -> tensor<4xf32>
    %q = nl.mul %x, %x : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
    // expected-remark @below {{model @rows_read_late keeps its per-token form only: an op of a level that learns every token after ops that use that level's results}}
    %g = nl.read @F(%q) : tensor<4xf32> -> tensor<4xf32>
    %o = nl.add %y, %g : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
    nl.yield %o : tensor<4xf32>
  }
}
