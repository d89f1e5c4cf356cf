// RUN: nl-opt %s --split-input-file | nl-opt --split-input-file | FileCheck %s
// RUN: nl-opt %s --split-input-file --mlir-print-op-generic | nl-opt --split-input-file | FileCheck %s

// Every period form: a chunk size, 1, `inf` (a KV cache) and `frozen`.
// CHECK-LABEL: nl.model @periods
// CHECK:       nl.level @every_token period 1 rule <objective = l2> {
// CHECK:       nl.level @chunked period 16 rule <objective = l2> {
// CHECK:       nl.level @attention period inf {
// CHECK-NEXT:    nl.state @cache : !nl.kv_cache<key = 4, value = 4>
// CHECK:       nl.level @pretrained period frozen {
// CHECK-NEXT:    nl.state @W : !nl.matrix<4x4xf32> = #nl.zeros
nl.model @periods attributes {dim = 4} {
  nl.level @every_token period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @chunked period 16 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @attention period inf {
    nl.state @cache : !nl.kv_cache<key = 4, value = 4>
  }
  nl.level @pretrained period frozen {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @every_token key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @chunked key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @attention key(%x : tensor<4xf32>) value(%x : tensor<4xf32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// A large chunk size is kept as written.
// CHECK-LABEL: nl.model @large_chunk
// CHECK:       nl.level @L period 1048576 rule <objective = dot> {
nl.model @large_chunk attributes {dim = 4} {
  nl.level @L period 1048576 rule <objective = dot> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// The default phase (online) and tail (carry) are elided when printing.
// CHECK-LABEL: nl.model @defaults_elided
// CHECK:       nl.level @L period 4 rule <objective = l2> {
// CHECK-NOT:   phase
// CHECK-NOT:   tail
// CHECK:       nl.step
nl.model @defaults_elided attributes {dim = 4} {
  nl.level @L period 4 phase online tail carry rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Non-default tail policies are printed.
// CHECK-LABEL: nl.model @tails
// CHECK:       nl.level @flushed period 16 tail flush rule <objective = l2> {
// CHECK:       nl.level @dropped period 16 tail drop rule <objective = l2> {
nl.model @tails attributes {dim = 4} {
  nl.level @flushed period 16 tail flush rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @dropped period 16 tail drop rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @flushed key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @dropped key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// An offline level learns outside nl.step: it needs no nl.update, with or
// without a rule, and keeps its phase and tail.
// CHECK-LABEL: nl.model @offline
// CHECK:       nl.level @sleep period 256 phase offline tail drop rule <objective = l2> {
// CHECK:       nl.level @pretrain period 16 phase offline {
// CHECK:       nl.step
// CHECK-NOT:   nl.update
// CHECK:       nl.yield
nl.model @offline attributes {dim = 4} {
  nl.level @sleep period 256 phase offline tail drop rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @pretrain period 16 phase offline {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// A frozen level needs no rule and no update; a rule on it is kept.
// CHECK-LABEL: nl.model @frozen
// CHECK:       nl.level @bare period frozen {
// CHECK:       nl.level @ruled period frozen rule <objective = l2> {
// CHECK:       nl.level @buffers period frozen {
// CHECK-NEXT:    nl.state @W : !nl.matrix<4x4xf32> = #nl.zeros
// CHECK-NEXT:    nl.state @b : tensor<4xf32> = #nl.zeros
nl.model @frozen attributes {dim = 4} {
  nl.level @bare period frozen {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @ruled period frozen rule <objective = l2> {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @buffers period frozen {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.zeros
    nl.state @b : tensor<4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// A level of a fused optimizer keeps its buffers as extra states.
// CHECK-LABEL: nl.model @fused_buffers
// CHECK:       nl.level @momentum period 1 rule <objective = l2, algorithm = momentum> {
// CHECK-NEXT:    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
// CHECK-NEXT:    nl.state @m : !nl.matrix<4x4xf32> = #nl.zeros
// CHECK:       nl.level @adam period 1 rule <objective = linear, algorithm = adam> {
// CHECK-NEXT:    nl.state @W : tensor<4x4xf32> = #nl.zeros
// CHECK-NEXT:    nl.state @m : tensor<4x4xf32> = #nl.zeros
// CHECK-NEXT:    nl.state @v : tensor<4x4xf32> = #nl.zeros
nl.model @fused_buffers attributes {dim = 4} {
  nl.level @momentum period 1 rule <objective = l2, algorithm = momentum> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
    nl.state @m : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @adam period 1 rule <objective = linear, algorithm = adam> {
    nl.state @W : tensor<4x4xf32> = #nl.zeros
    nl.state @m : tensor<4x4xf32> = #nl.zeros
    nl.state @v : tensor<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    %g = arith.constant dense<1.0> : tensor<4x4xf32>
    nl.update @momentum key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) momentum_decay(%lr : tensor<f32>)
    nl.update @adam grad(%g : tensor<4x4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// The schedule that nl-verify-schedule attaches survives a round trip.
// CHECK-LABEL: nl.model @scheduled
// CHECK:       nl.level @L period 16 rule <objective = l2> attributes {schedule = #nl.schedule<period = 16, rank = 1, order = 2, fires = 16>} {
nl.model @scheduled attributes {dim = 4} {
  nl.level @L period 16 rule <objective = l2> attributes {schedule = #nl.schedule<period = 16, rank = 1, order = 2, fires = 16>} {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}
