// RUN: nl-opt %s --split-input-file | nl-opt --split-input-file | FileCheck %s
// RUN: nl-opt %s --split-input-file --mlir-print-op-generic | nl-opt --split-input-file | FileCheck %s

// !nl.matrix: the default heads (1) and layout (out_in) are elided.
// CHECK-LABEL: nl.model @matrix
// CHECK:       nl.state @plain : !nl.matrix<4x4xf32> = #nl.zeros
// CHECK-NEXT:  nl.state @defaults : !nl.matrix<4x8xf32> = #nl.zeros
// CHECK-NEXT:  nl.state @heads : !nl.matrix<8x4xf32, heads = 4> = #nl.zeros
// CHECK-NEXT:  nl.state @in_out : !nl.matrix<4x8xf32, layout = in_out> = #nl.zeros
// CHECK-NEXT:  nl.state @both : !nl.matrix<4x8xf32, heads = 2, layout = in_out> = #nl.zeros
// CHECK-NEXT:  nl.state @swapped : !nl.matrix<4x8xf32, heads = 2, layout = in_out> = #nl.zeros
nl.model @matrix attributes {dim = 4} {
  nl.level @L period frozen {
    nl.state @plain : !nl.matrix<4x4xf32> = #nl.zeros
    nl.state @defaults : !nl.matrix<4x8xf32, heads = 1, layout = out_in> = #nl.zeros
    nl.state @heads : !nl.matrix<8x4xf32, heads = 4> = #nl.zeros
    nl.state @in_out : !nl.matrix<4x8xf32, layout = in_out> = #nl.zeros
    nl.state @both : !nl.matrix<4x8xf32, heads = 2, layout = in_out> = #nl.zeros
    nl.state @swapped : !nl.matrix<4x8xf32, layout = in_out, heads = 2> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// !nl.mlp: fields print in a fixed order (activation, bias, residual, norm,
// heads); identity activation, norm = none and heads = 1 are elided.
// CHECK-LABEL: nl.model @mlp
// CHECK:       nl.state @linear : !nl.mlp<[4, 4]> = #nl.zeros
// CHECK-NEXT:  nl.state @defaults : !nl.mlp<[4, 8, 4]> = #nl.zeros
// CHECK-NEXT:  nl.state @silu : !nl.mlp<[4, 16, 4], silu> = #nl.zeros
// CHECK-NEXT:  nl.state @deep : !nl.mlp<[4, 16, 16, 8], relu, bias> = #nl.zeros
// CHECK-NEXT:  nl.state @hope : !nl.mlp<[4, 16, 4], silu, residual> = #nl.zeros
// CHECK-NEXT:  nl.state @ttt : !nl.mlp<[4, 16, 4], gelu_tanh, bias, residual, norm = layer, heads = 4> = #nl.zeros
// CHECK-NEXT:  nl.state @reordered : !nl.mlp<[4, 4], tanh, bias, residual, norm = rms, heads = 2> = #nl.zeros
// CHECK-NEXT:  nl.state @l2norm : !nl.mlp<[4, 4], norm = l2> = #nl.zeros
nl.model @mlp attributes {dim = 4} {
  nl.level @L period frozen {
    nl.state @linear : !nl.mlp<[4, 4]> = #nl.zeros
    nl.state @defaults : !nl.mlp<[4, 8, 4], identity, norm = none, heads = 1> = #nl.zeros
    nl.state @silu : !nl.mlp<[4, 16, 4], silu> = #nl.zeros
    nl.state @deep : !nl.mlp<[4, 16, 16, 8], relu, bias> = #nl.zeros
    nl.state @hope : !nl.mlp<[4, 16, 4], silu, residual> = #nl.zeros
    nl.state @ttt : !nl.mlp<[4, 16, 4], gelu_tanh, bias, residual, norm = layer, heads = 4> = #nl.zeros
    nl.state @reordered : !nl.mlp<[4, 4], heads = 2, norm = rms, residual, bias, tanh> = #nl.zeros
    nl.state @l2norm : !nl.mlp<[4, 4], norm = l2> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Every activation an MLP memory may use.
// CHECK-LABEL: nl.model @mlp_activations
// CHECK:       !nl.mlp<[4, 4], relu>
// CHECK:       !nl.mlp<[4, 4], silu>
// CHECK:       !nl.mlp<[4, 4], gelu>
// CHECK:       !nl.mlp<[4, 4], gelu_tanh>
// CHECK:       !nl.mlp<[4, 4], sigmoid>
// CHECK:       !nl.mlp<[4, 4], tanh>
// CHECK:       !nl.mlp<[4, 4], softplus>
// CHECK:       !nl.mlp<[4, 4], exp>
nl.model @mlp_activations attributes {dim = 4} {
  nl.level @L period frozen {
    nl.state @a : !nl.mlp<[4, 4], relu> = #nl.zeros
    nl.state @b : !nl.mlp<[4, 4], silu> = #nl.zeros
    nl.state @c : !nl.mlp<[4, 4], gelu> = #nl.zeros
    nl.state @d : !nl.mlp<[4, 4], gelu_tanh> = #nl.zeros
    nl.state @e : !nl.mlp<[4, 4], sigmoid> = #nl.zeros
    nl.state @f : !nl.mlp<[4, 4], tanh> = #nl.zeros
    nl.state @g : !nl.mlp<[4, 4], softplus> = #nl.zeros
    nl.state @h : !nl.mlp<[4, 4], exp> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// !nl.kv_cache: window = 0 (unbounded) and heads = 1 are elided; the fields
// may be written in any order.
// CHECK-LABEL: nl.model @kv_cache
// CHECK:       nl.state @C : !nl.kv_cache<key = 4, value = 8>
// CHECK:       nl.state @C : !nl.kv_cache<key = 4, value = 4, window = 128>
// CHECK:       nl.state @C : !nl.kv_cache<key = 4, value = 4, heads = 2>
// CHECK:       nl.state @C : !nl.kv_cache<key = 4, value = 4, window = 16, heads = 2>
nl.model @kv_cache attributes {dim = 4} {
  nl.level @full period inf {
    nl.state @C : !nl.kv_cache<value = 8, key = 4, window = 0, heads = 1>
  }
  nl.level @window period inf {
    nl.state @C : !nl.kv_cache<key = 4, value = 4, window = 128>
  }
  nl.level @heads period inf {
    nl.state @C : !nl.kv_cache<key = 4, value = 4, heads = 2>
  }
  nl.level @both period inf {
    nl.state @C : !nl.kv_cache<heads = 2, window = 16, value = 4, key = 4>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %v8 = arith.constant dense<1.0> : tensor<8xf32>
    %h = arith.constant dense<1.0> : tensor<2x4xf32>
    nl.update @full key(%x : tensor<4xf32>) value(%v8 : tensor<8xf32>)
    nl.update @window key(%x : tensor<4xf32>) value(%x : tensor<4xf32>)
    nl.update @heads key(%h : tensor<2x4xf32>) value(%h : tensor<2x4xf32>)
    nl.update @both key(%h : tensor<2x4xf32>) value(%h : tensor<2x4xf32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// The types are ordinary MLIR types outside a level, too.
// CHECK-LABEL: nl.model @as_attributes
// CHECK-SAME:    kv = !nl.kv_cache<key = 2, value = 3, window = 5>
// CHECK-SAME:    matrix = !nl.matrix<2x3xf32, layout = in_out>
// CHECK-SAME:    mlp = !nl.mlp<[2, 3], sigmoid, heads = 8>
nl.model @as_attributes attributes {dim = 4, kv = !nl.kv_cache<key = 2, value = 3, window = 5>, matrix = !nl.matrix<2x3xf32, layout = in_out>, mlp = !nl.mlp<[2, 3], sigmoid, heads = 8>} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}
