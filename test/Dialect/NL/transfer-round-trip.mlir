// RUN: nl-opt %s --split-input-file | nl-opt --split-input-file | FileCheck %s
// RUN: nl-opt %s --split-input-file --mlir-print-op-generic | nl-opt --split-input-file | FileCheck %s

// Every transfer kind between two parametric levels and a cache.
// CHECK-LABEL: nl.model @kinds
// CHECK:       nl.transfer parametric @slow -> @fast{{$}}
// CHECK-NEXT:  nl.transfer nonparametric @attn -> @fast{{$}}
// CHECK-NEXT:  nl.transfer backprop @slow -> @fast{{$}}
// CHECK-NEXT:  nl.transfer init @slow -> @fast{{$}}
// CHECK-NEXT:  nl.transfer generation @slow -> @fast{{$}}
nl.model @kinds attributes {dim = 4} {
  nl.level @fast period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @slow period 16 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @attn period inf {
    nl.state @C : !nl.kv_cache<key = 4, value = 4>
  }
  nl.transfer parametric @slow -> @fast
  nl.transfer nonparametric @attn -> @fast
  nl.transfer backprop @slow -> @fast
  nl.transfer init @slow -> @fast
  nl.transfer generation @slow -> @fast
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @fast key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @slow key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @attn key(%x : tensor<4xf32>) value(%x : tensor<4xf32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Nested CMS: an init transfer with reset; the inner period divides the
// outer one (4 | 16, 16 | 16, 1 | 4).
// CHECK-LABEL: nl.model @nested_cms
// CHECK:       nl.transfer init @outer -> @inner reset
// CHECK-NEXT:  nl.transfer init @outer -> @same reset
// CHECK-NEXT:  nl.transfer init @inner -> @token{{$}}
nl.model @nested_cms attributes {dim = 4} {
  nl.level @token period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @inner period 4 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @same period 16 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @outer period 16 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.transfer init @outer -> @inner reset
  nl.transfer init @outer -> @same reset
  nl.transfer init @inner -> @token
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @token key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @inner key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @same key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @outer key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Init from a frozen (pre-trained) level: no period constraint.
// CHECK-LABEL: nl.model @init_from_frozen
// CHECK:       nl.transfer init @pretrained -> @fast reset
nl.model @init_from_frozen attributes {dim = 4} {
  nl.level @fast period 3 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @pretrained period frozen {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.from_file<"M">
  }
  nl.transfer init @pretrained -> @fast reset
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @fast key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// A transfer may name levels declared after it.
// CHECK-LABEL: nl.model @forward_reference
// CHECK:       nl.transfer backprop @b -> @a
// CHECK:       nl.level @a period frozen
nl.model @forward_reference attributes {dim = 4} {
  nl.transfer backprop @b -> @a
  nl.level @a period frozen {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @b period frozen {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}
