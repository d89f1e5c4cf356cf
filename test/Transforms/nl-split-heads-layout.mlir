// RUN: nl-opt %s --split-input-file --nl-split-heads -verify-diagnostics | FileCheck %s
// RUN: not nl-opt %s --split-input-file --nl-split-heads=required=true -o /dev/null 2>&1 | FileCheck %s --check-prefix=REQ
// Without remarks, the same models and no diagnostic at all:
// RUN: sed -e '/expected-remark/d' %s | nl-opt --split-input-file --nl-split-heads=remarks=false -verify-diagnostics | FileCheck %s --check-prefix=QUIET

// The runtime runs head h of @m__head on the h-th slice of every tensor
// the back ends keep for @m (ModelLayoutInterface, registered by the nlc
// tools): a model of one head whose state is not the full model's, head by
// head, is dropped (an error with `required`).

// One lr for both heads of a level that learns from the chunk start: the
// level keeps that gate of its pending chunk in its state, one value for
// both heads, so the model of one head would not hold it head by head.
// CHECK-LABEL: nl.model @shared_gate
// CHECK-NOT:   nl.model @shared_gate__head
// QUIET-LABEL: nl.model @shared_gate
// QUIET-NOT:   nl.model @shared_gate__head
// REQ: error: the one-head model @shared_gate__head does not hold the full model's state head by head
// expected-remark @below {{model @shared_gate runs its heads together: its one-head model would not hold its state head by head}}
nl.model @shared_gate attributes {dim = 16 : i64, hyper_period = 4 : i64} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start, read = before_write> attributes {schedule = #nl.schedule<period = 4, rank = 0, order = 0, fires = 1>} {
    nl.state @M : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
  }
  nl.step(%x: tensor<16xf32>) -> tensor<8xf32> {
    %ks = tensor.extract_slice %x[0] [8] [1] : tensor<16xf32> to tensor<8xf32>
    %k = tensor.expand_shape %ks [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
    %vs = tensor.extract_slice %x[8] [8] [1] : tensor<16xf32> to tensor<8xf32>
    %v = tensor.expand_shape %vs [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
    %lr = arith.constant dense<1.000000e-01> : tensor<f32>
    nl.update @M key(%k : tensor<2x4xf32>) value(%v : tensor<2x4xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @M(%k) : tensor<2x4xf32> -> tensor<2x4xf32>
    %o = tensor.collapse_shape %y [[0, 1]] : tensor<2x4xf32> into tensor<8xf32>
    nl.yield %o : tensor<8xf32>
  }
}

// -----

// An lr per head: its gate is per head too, and the model of one head is
// kept.
// CHECK-LABEL: nl.model @gate_per_head
// CHECK:       nl.model @gate_per_head__head attributes {dim = 16 : i64, head_split = 2 : i64, hyper_period = 4 : i64}
// CHECK:         nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
// QUIET-LABEL: nl.model @gate_per_head
// QUIET:       nl.model @gate_per_head__head
nl.model @gate_per_head attributes {dim = 16 : i64, hyper_period = 4 : i64} {
  nl.level @M period 4 rule <objective = l2, grad_at = chunk_start, read = before_write> attributes {schedule = #nl.schedule<period = 4, rank = 0, order = 0, fires = 1>} {
    nl.state @M : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
  }
  nl.step(%x: tensor<16xf32>) -> tensor<8xf32> {
    %ks = tensor.extract_slice %x[0] [8] [1] : tensor<16xf32> to tensor<8xf32>
    %k = tensor.expand_shape %ks [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
    %vs = tensor.extract_slice %x[8] [8] [1] : tensor<16xf32> to tensor<8xf32>
    %v = tensor.expand_shape %vs [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
    %lr = arith.constant dense<1.000000e-01> : tensor<2xf32>
    nl.update @M key(%k : tensor<2x4xf32>) value(%v : tensor<2x4xf32>) lr(%lr : tensor<2xf32>)
    %y = nl.read @M(%k) : tensor<2x4xf32> -> tensor<2x4xf32>
    %o = tensor.collapse_shape %y [[0, 1]] : tensor<2x4xf32> into tensor<8xf32>
    nl.yield %o : tensor<8xf32>
  }
}
