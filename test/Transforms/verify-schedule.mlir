// RUN: nl-opt %s --split-input-file --nl-verify-schedule | FileCheck %s

// Periods 1/16/256: ranks follow frequency, the hyper-period is the lcm.
// CHECK-LABEL: nl.model @cms
// CHECK-SAME: hyper_period = 256
// CHECK-DAG: nl.level @fast period 1 {{.*}}schedule = #nl.schedule<period = 1, rank = 0, order = 0, fires = 256>
// CHECK-DAG: nl.level @mid period 16 {{.*}}schedule = #nl.schedule<period = 16, rank = 1, order = 1, fires = 16>
// CHECK-DAG: nl.level @slow period 256 {{.*}}schedule = #nl.schedule<period = 256, rank = 2, order = 2, fires = 1>
nl.model @cms attributes {dim = 8} {
  nl.level @slow period 256 rule <objective = l2> {
    nl.state @W : !nl.matrix<8x8xf32> = #nl.zeros
  }
  nl.level @mid period 16 rule <objective = l2> {
    nl.state @W : !nl.matrix<8x8xf32> = #nl.zeros
  }
  nl.level @fast period 1 rule <objective = l2> {
    nl.state @W : !nl.matrix<8x8xf32> = #nl.zeros
  }
  nl.step(%x : tensor<8xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @slow key(%x : tensor<8xf32>) value(%x : tensor<8xf32>) lr(%lr : tensor<f32>)
    nl.update @mid key(%x : tensor<8xf32>) value(%x : tensor<8xf32>) lr(%lr : tensor<f32>)
    nl.update @fast key(%x : tensor<8xf32>) value(%x : tensor<8xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

// Coprime periods: hyper-period 3 * 4 * 5; equal frequencies share a rank.
// CHECK-LABEL: nl.model @coprime
// CHECK-SAME: hyper_period = 60
// CHECK: nl.level @a period 3 {{.*}}#nl.schedule<period = 3, rank = 0, order = 0, fires = 20>
// CHECK: nl.level @b period 4 {{.*}}#nl.schedule<period = 4, rank = 1, order = 2, fires = 15>
// CHECK: nl.level @c period 5 {{.*}}#nl.schedule<period = 5, rank = 2, order = 3, fires = 12>
// CHECK: nl.level @d period 3 {{.*}}#nl.schedule<period = 3, rank = 0, order = 1, fires = 20>
nl.model @coprime attributes {dim = 4} {
  nl.level @a period 3 rule <objective = dot> {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @b period 4 rule <objective = dot> {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @c period 5 rule <objective = dot> {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @d period 3 rule <objective = dot> {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @a key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @b key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @c key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @d key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

// inf acts as period 1; frozen and offline levels never fire and rank last.
// CHECK-LABEL: nl.model @kinds
// CHECK-SAME: hyper_period = 8
// CHECK: nl.level @cache period inf {{.*}}#nl.schedule<period = 1, rank = 0, order = 0, fires = 8>
// CHECK: nl.level @chunk period 8 {{.*}}#nl.schedule<period = 8, rank = 1, order = 1, fires = 1>
// CHECK: nl.level @frozen period frozen {{.*}}#nl.schedule<period = 0, rank = 2, order = 2, fires = 0>
// CHECK: nl.level @sleep period 4 phase offline {{.*}}#nl.schedule<period = 0, rank = 2, order = 3, fires = 0>
nl.model @kinds attributes {dim = 4} {
  nl.level @cache period inf {
    nl.state @kv : !nl.kv_cache<key = 4, value = 4>
  }
  nl.level @chunk period 8 rule <objective = l2> {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @frozen period frozen {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.identity
  }
  nl.level @sleep period 4 phase offline rule <objective = l2> {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @cache key(%x : tensor<4xf32>) value(%x : tensor<4xf32>)
    nl.update @chunk key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @frozen(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %y : tensor<4xf32>
  }
}

// -----

// A same-step dependency overrides frequency order: @fast consumes the
// after-write read of @slow, so @slow updates first within a step.
// CHECK-LABEL: nl.model @dependent
// CHECK: nl.level @fast period 1 {{.*}}#nl.schedule<period = 1, rank = 0, order = 1, fires = 2>
// CHECK: nl.level @slow period 2 {{.*}}#nl.schedule<period = 2, rank = 1, order = 0, fires = 1>
nl.model @dependent attributes {dim = 4} {
  nl.level @fast period 1 rule <objective = l2> {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @slow period 2 rule <objective = l2> {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<1.0> : tensor<f32>
    %s = nl.read @slow(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.update @fast key(%x : tensor<4xf32>) value(%s : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @slow key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

// An optimizer level takes the period of the level it serves and updates
// before it (the served level applies this step's momentum).
// CHECK-LABEL: nl.model @optimizer
// CHECK-SAME: hyper_period = 4
// CHECK: nl.level @W period 4 {{.*}}#nl.schedule<period = 4, rank = 0, order = 1, fires = 1>
// CHECK: nl.level @m period 4 {{.*}}#nl.schedule<period = 4, rank = 0, order = 0, fires = 1>
nl.model @optimizer attributes {dim = 16} {
  nl.level @W period 4 rule <objective = linear, algorithm = momentum, via = [@m]> {
    nl.state @W : tensor<16xf32> = #nl.zeros
  }
  nl.level @m period 4 rule <objective = linear, retention = decay> {
    nl.state @m : tensor<16xf32> = #nl.zeros
  }
  nl.step(%g : tensor<16xf32>) {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @W grad(%g : tensor<16xf32>) lr(%lr : tensor<f32>)
    nl.update @m lr(%lr : tensor<f32>) retain(%lr : tensor<f32>)
    nl.yield
  }
}
