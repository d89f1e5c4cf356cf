// RUN: nl-opt %s --split-input-file --nl-schedule-pipeline --nl-materialize-abi --nl-to-loops --canonicalize --cse | FileCheck %s

// A delta-rule level with decay: per row, the prediction is a reduction over
// the key, the gradient row (M k - v) k^T is scaled by lr into the
// accumulator, and on fire the state becomes retain * M - acc. A per-token
// level writes its accumulator (one token's contribution), so the apply does
// not clear it, and marks it scratch of one step (nl.token_scratch).
// CHECK-LABEL: func.func @delta_step_impl(
// CHECK-SAME:    %[[W:[^:]+]]: memref<4x4xf32>,
// CHECK-SAME:    %[[M:[^:]+]]: memref<4x4xf32>, %[[ACC:[^:]+]]: memref<4x4xf32> {nl.token_scratch},
// CHECK-SAME:    %[[X:[^:]+]]: memref<4xf32>, %[[Y:[^:]+]]: memref<4xf32>,
// CHECK-SAME:    %[[ACTIVE:[^:]+]]: i64, %[[FIRE:[^:]+]]: i64)
// CHECK-SAME:    nl.entry_point = #nl.entry_point<"nl_delta_step", step, params = 1, state = 2, outputs = 1>
// The key k = W x: rows in parallel, each a reduction.
// CHECK:         scf.parallel
// CHECK:           scf.for {{.*}} iter_args
// CHECK:             memref.load %[[W]]
// CHECK:             memref.load %[[X]]
// The contribution, when the level is active: rows are independent.
// CHECK:         %[[ON:.+]] = arith.cmpi ne
// CHECK:         scf.if %[[ON]] {
// CHECK:           scf.parallel (%[[R:.+]]) = 
// CHECK:             %[[PRED:.+]] = scf.for {{.*}} iter_args
// CHECK:               memref.load %[[M]]
// CHECK:             %[[E:.+]] = arith.subf %[[PRED]]
// CHECK:             scf.parallel
// CHECK:               %[[G:.+]] = arith.mulf %[[E]]
// CHECK-NOT:           memref.load %[[ACC]]
// CHECK:               memref.store {{.*}}, %[[ACC]]
// The apply, when the chunk ends.
// CHECK:         %[[APPLY:.+]] = arith.andi %[[ON]], %{{.+}} : i1
// CHECK:         scf.if %[[APPLY]] {
// CHECK:           scf.parallel (%{{.+}}, %{{.+}}) = 
// CHECK:               %[[A:.+]] = memref.load %[[ACC]]
// CHECK:               %[[OLD:.+]] = memref.load %[[M]]
// CHECK:               %[[KEPT:.+]] = arith.mulf %[[OLD]]
// CHECK:               %[[NEW:.+]] = arith.subf %[[KEPT]], %[[A]]
// CHECK:               memref.store %[[NEW]], %[[M]]
// CHECK-NOT:           memref.store %{{.+}}, %[[ACC]]
// The read after the write.
// CHECK:         scf.parallel
// CHECK:           memref.load %[[M]]
// CHECK:         memref.store {{.*}}, %[[Y]]
// CHECK:       func.func @delta_flush_impl(
// CHECK-SAME:    nl.entry_point = #nl.entry_point<"nl_delta_flush", flush, params = 1, state = 2, outputs = 0>
nl.model @delta attributes {dim = 4} {
  nl.param @W : tensor<4x4xf32> = #nl.normal<std = 0.1>
  nl.level @L period 1 rule <objective = l2, retention = decay> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %W = nl.get_param @W : tensor<4x4xf32>
    %k = nl.linear %x, %W : (tensor<4xf32>, tensor<4x4xf32>) -> tensor<4xf32>
    %lr = arith.constant dense<0.5> : tensor<f32>
    %r = arith.constant dense<0.9> : tensor<f32>
    nl.update @L key(%k : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) retain(%r : tensor<f32>)
    %y = nl.read @L(%k) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %y : tensor<4xf32>
  }
}

// -----

// A period-4 level adds each token's contribution to its chunk's sum, keeps
// the gates of its pending chunk in state buffers and applies them in the
// flush entry point too.
// CHECK-LABEL: func.func @chunk_step_impl(
// CHECK-SAME:    %{{[^:]+}}: memref<4x4xf32>, %[[ACC:[^:]+]]: memref<4x4xf32>, %[[GATE:[^:]+]]: memref<f32>,
// CHECK:         %[[SUM:.+]] = memref.load %[[ACC]]
// CHECK:         arith.addf %[[SUM]]
// CHECK:         memref.store %{{.+}}, %[[GATE]][]
// CHECK-LABEL: func.func @chunk_flush_impl(
// CHECK-SAME:    %{{[^:]+}}: memref<4x4xf32>, %[[FACC:[^:]+]]: memref<4x4xf32>, %[[FGATE:[^:]+]]: memref<f32>, %{{[^:]+}}: i64)
// CHECK:         scf.if
// CHECK:           memref.load %[[FGATE]][]
// CHECK:           memref.store %{{.+}}, %[[FACC]]
nl.model @chunk attributes {dim = 4} {
  nl.level @L period 4 rule <objective = dot, lr_placement = per_chunk> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<0.5> : tensor<f32>
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

// A momentum kept in its own level: the served level's update runs the
// optimizer (S = retain_S S - acc; M = M + lr S) and the optimizer level's
// own nl.update only supplies gates.
// CHECK-LABEL: func.func @titans_step_impl(
// CHECK-SAME:    %[[S:[^:]+]]: memref<4x4xf32>, %[[M:[^:]+]]: memref<4x4xf32>, %[[ACC:[^:]+]]: memref<4x4xf32>
// CHECK:         scf.if
// CHECK:               %[[SOLD:.+]] = memref.load %[[S]]
// CHECK:               %[[SNEW:.+]] = arith.subf
// CHECK:               memref.store %[[SNEW]], %[[S]]
// CHECK:               %[[STEP:.+]] = arith.mulf %[[SNEW]]
// CHECK:               arith.addf %{{.+}}, %[[STEP]]
// CHECK:               memref.store %{{.+}}, %[[M]]
nl.model @titans attributes {dim = 4} {
  nl.level @S period 1 rule <objective = linear, retention = decay> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @M period 1 rule <objective = l2, algorithm = momentum, via = [@S]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    %one = arith.constant dense<1.0> : tensor<f32>
    %eta = arith.constant dense<0.9> : tensor<f32>
    nl.update @S lr(%lr : tensor<f32>) retain(%eta : tensor<f32>)
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%one : tensor<f32>)
    nl.yield
  }
}

// -----

// An outer product feeding a matrix memory's gradient is stored (only MLP
// updates accumulate one without storing it; this crashed once).
// CHECK-LABEL: func.func @outer_grad_step_impl(
// CHECK-SAME:    %{{[^:]+}}: memref<4x4xf32>, %[[ACC:[^:]+]]: memref<4x4xf32> {nl.token_scratch},
// CHECK:         %[[G:.+]] = memref.alloca() : memref<4x4xf32>
// CHECK:         memref.store %{{.+}}, %[[G]]
// CHECK:         memref.load %[[G]]
// CHECK:         memref.store %{{.+}}, %[[ACC]]
nl.model @outer_grad attributes {dim = 4} {
  nl.level @W period 1 rule <objective = linear> {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %g = nl.outer %x, %x : tensor<4xf32>, tensor<4xf32> -> tensor<4x4xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @W grad(%g : tensor<4x4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

// A product whose right operand is used transposed reads it from a transposed
// copy. In the chunk entry (buffers written once, the states only at its
// end) one copy serves every product of the same operand; in a step, where a
// state may change between two products, each product copies its own.
// CHECK-LABEL: func.func @tcopy_step_impl(
// CHECK-COUNT-2: memref.alloca() : memref<8x1xf32>
// CHECK-LABEL: func.func @tcopy_chunk_impl(
// CHECK:         memref.alloca() : memref<8x6xf32>
// CHECK-NOT:     memref.alloca() : memref<8x6xf32>
// CHECK-LABEL: func.func @tcopy_flush_impl(
nl.model @tcopy attributes {dim = 8} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @M : !nl.matrix<6x8xf32> = #nl.zeros
  }
  nl.step(%x : tensor<8xf32>) -> tensor<6xf32> {
    %xs = tensor.expand_shape %x [[0, 1]] output_shape [1, 8] : tensor<8xf32> into tensor<1x8xf32>
    %w = arith.constant dense<0.5> : tensor<6x8xf32>
    %p = nl.matmul %w, %xs {transpose_rhs} : tensor<6x8xf32>, tensor<1x8xf32> -> tensor<6x1xf32>
    %q = nl.matmul %w, %xs {transpose_rhs} : tensor<6x8xf32>, tensor<1x8xf32> -> tensor<6x1xf32>
    %s = nl.add %p, %q : tensor<6x1xf32>, tensor<6x1xf32> -> tensor<6x1xf32>
    %y = tensor.collapse_shape %s [[0, 1]] : tensor<6x1xf32> into tensor<6xf32>
    %v = tensor.extract_slice %x[0] [6] [1] : tensor<8xf32> to tensor<6xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%x : tensor<8xf32>) value(%v : tensor<6xf32>) lr(%lr : tensor<f32>)
    nl.yield %y : tensor<6xf32>
  }
  nl.chunk_step size 4 (%X : tensor<4x8xf32>) -> tensor<4x6xf32> {
    %m0 = nl.weights @M : tensor<6x8xf32>
    %a = nl.matmul %X, %m0 {transpose_rhs} : tensor<4x8xf32>, tensor<6x8xf32> -> tensor<4x6xf32>
    %b = nl.matmul %X, %m0 {transpose_rhs} : tensor<4x8xf32>, tensor<6x8xf32> -> tensor<4x6xf32>
    %y = nl.add %a, %b : tensor<4x6xf32>, tensor<4x6xf32> -> tensor<4x6xf32>
    nl.yield %y : tensor<4x6xf32>
  }
}

// -----

// A few rows times a large transposed operand (a chunk's keys times a layer's
// weights, X W^T) is computed as (W X^T)^T: the small operand and the result
// are transposed, the weights are not copied.
// CHECK-LABEL: func.func @swap_chunk_impl(
// CHECK-NOT:     memref<64x32xf32>
// CHECK-DAG:     memref.alloca() : memref<64x2xf32>
// CHECK-DAG:     memref.alloca() : memref<32x2xf32>
// CHECK-NOT:     memref<64x32xf32>
// CHECK-LABEL: func.func @swap_flush_impl(
nl.model @swap attributes {dim = 64} {
  nl.level @M period 2 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @M : !nl.matrix<32x64xf32> = #nl.zeros
  }
  nl.step(%x : tensor<64xf32>) -> tensor<32xf32> {
    %v = tensor.extract_slice %x[0] [32] [1] : tensor<64xf32> to tensor<32xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%x : tensor<64xf32>) value(%v : tensor<32xf32>) lr(%lr : tensor<f32>)
    nl.yield %v : tensor<32xf32>
  }
  nl.chunk_step size 2 (%X : tensor<2x64xf32>) -> tensor<2x32xf32> {
    %m0 = nl.weights @M : tensor<32x64xf32>
    %a = nl.matmul %X, %m0 {transpose_rhs} : tensor<2x64xf32>, tensor<32x64xf32> -> tensor<2x32xf32>
    nl.yield %a : tensor<2x32xf32>
  }
}

// -----

// A product whose only use is the new state (M1 = M0 - G^T K) is computed at
// the end of the chunk entry straight into the state: its register tiles
// start from M and subtract, and no scratch of the state's shape is made.
// CHECK-LABEL: func.func @fused_chunk_impl(
// CHECK-SAME:    %[[M:[^:]+]]: memref<8x16xf32>
// CHECK-NOT:     memref.alloca() : memref<8x16xf32>
// CHECK:         vector.load %[[M]]
// CHECK:         arith.negf
// CHECK:         vector.fma
// CHECK:         vector.store %{{.*}}, %[[M]]
// CHECK-LABEL: func.func @fused_flush_impl(
nl.model @fused attributes {dim = 16} {
  nl.level @M period 2 rule <objective = l2, grad_at = chunk_start, read = before_write> {
    nl.state @M : !nl.matrix<8x16xf32> = #nl.zeros
  }
  nl.step(%x : tensor<16xf32>) {
    %v = arith.constant dense<1.0> : tensor<8xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%x : tensor<16xf32>) value(%v : tensor<8xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
  nl.chunk_step size 2 (%X : tensor<2x16xf32>) {
    %m0 = nl.weights @M : tensor<8x16xf32>
    %g = arith.constant dense<0.5> : tensor<8x2xf32>
    %s = nl.matmul %g, %X : tensor<8x2xf32>, tensor<2x16xf32> -> tensor<8x16xf32>
    %m1 = nl.sub %m0, %s : tensor<8x16xf32>, tensor<8x16xf32> -> tensor<8x16xf32>
    nl.assign @M(%m1 : tensor<8x16xf32>)
    nl.yield
  }
}
