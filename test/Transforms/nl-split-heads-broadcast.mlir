// RUN: not nl-opt %s --nl-split-heads=required=true -o /dev/null 2>&1 | FileCheck %s
// RUN: nl-opt %s --nl-split-heads 2>/dev/null | FileCheck %s --check-prefix=KEEP

// Heads that meet through broadcasting: %k holds one row per head ([2, 2]),
// and nl.mul broadcasts it against %p ([2, 2, 2]) along a new leading
// dimension, so row i of the product is k[j, l] * p[i, j, l] for every head
// j: the gradient of head i reads all heads' keys. The model has no per-head
// form. (A step of one head that multiplies its own row of k into row i of
// p, k[i, l] * p[i, j, l], computes other numbers: nlc --emit=lib of this
// model then gives different outputs and states with nl-run --num-threads=1
// and 2.)
// CHECK: error: model @broadcast_over_heads has no per-head form
// KEEP-NOT: @broadcast_over_heads__head
// KEEP-NOT: nl.head_index
// KEEP:     nl.model @broadcast_over_heads attributes
// KEEP:       nl.step
// KEEP-NOT: @broadcast_over_heads__head
// KEEP-NOT: nl.head_index
nl.model @broadcast_over_heads attributes {dim = 4} {
  nl.param @P : tensor<2x2x2xf32> = #nl.normal<std = 0.5>
  nl.level @W period 1 rule <objective = linear> {
    nl.state @S : !nl.matrix<2x2xf32, heads = 2> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %k = tensor.expand_shape %x [[0, 1]] output_shape [2, 2] : tensor<4xf32> into tensor<2x2xf32>
    %p = nl.get_param @P : tensor<2x2x2xf32>
    %g = nl.mul %k, %p : tensor<2x2xf32>, tensor<2x2x2xf32> -> tensor<2x2x2xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @W grad(%g : tensor<2x2x2xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @W(%k) : tensor<2x2xf32> -> tensor<2x2xf32>
    %o = tensor.collapse_shape %y [[0, 1]] : tensor<2x2xf32> into tensor<4xf32>
    nl.yield %o : tensor<4xf32>
  }
}
