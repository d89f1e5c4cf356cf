// RUN: nl-opt %s --split-input-file | nl-opt --split-input-file | FileCheck %s
// RUN: nl-opt %s --split-input-file --mlir-print-op-generic | nl-opt --split-input-file | FileCheck %s

// The smallest model: a step and nothing to learn.
// CHECK-LABEL: nl.model @empty
// CHECK-SAME:    attributes {dim = 4 : i64}
// CHECK-NEXT:    nl.step(%[[X:.+]]: tensor<4xf32>) -> tensor<4xf32> {
// CHECK-NEXT:      nl.yield %[[X]] : tensor<4xf32>
nl.model @empty attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Model attributes: dim, heads and the hyper-period; heads = 1 is elided.
// CHECK-LABEL: nl.model @attrs
// CHECK-SAME:    attributes {dim = 64 : i64, heads = 4 : i64, hyper_period = 16 : i64}
// CHECK-LABEL: nl.model @default_heads
// CHECK-SAME:    attributes {dim = 8 : i64}
nl.model @attrs attributes {dim = 64, heads = 4, hyper_period = 16} {
  nl.step(%x : tensor<64xf32>) -> tensor<64xf32> {
    nl.yield %x : tensor<64xf32>
  }
}
nl.model @default_heads attributes {dim = 8, heads = 1} {
  nl.step(%x : tensor<8xf32>) -> tensor<8xf32> {
    nl.yield %x : tensor<8xf32>
  }
}

// -----

// A step may return nothing or several values.
// CHECK-LABEL: nl.model @outputs
// CHECK:         nl.step(%{{.+}}: tensor<4xf32>) {
// CHECK-NEXT:      nl.yield{{$}}
// CHECK-LABEL: nl.model @two_outputs
// CHECK:         nl.step(%[[X:.+]]: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
// CHECK-NEXT:      nl.yield %[[X]], %[[X]] : tensor<4xf32>, tensor<4xf32>
nl.model @outputs attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) {
    nl.yield
  }
}
nl.model @two_outputs attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
    nl.yield %x, %x : tensor<4xf32>, tensor<4xf32>
  }
}

// -----

// Every initializer of a parameter, in declaration order.
// CHECK-LABEL: nl.model @initializers
// CHECK-NEXT:    nl.param @zeros : tensor<4xf32> = #nl.zeros
// CHECK-NEXT:    nl.param @ones : tensor<4xf32> = #nl.ones
// CHECK-NEXT:    nl.param @identity : tensor<4x4xf32> = #nl.identity
// CHECK-NEXT:    nl.param @identity_batched : tensor<2x3x3xf32> = #nl.identity
// CHECK-NEXT:    nl.param @fill : tensor<1xf32> = #nl.fill<-2.0>
// CHECK-NEXT:    nl.param @fill_small : tensor<1xf32> = #nl.fill<1.0e-10>
// CHECK-NEXT:    nl.param @normal : tensor<4x4xf32> = #nl.normal<std = 0.02>
// CHECK-NEXT:    nl.param @normal_mean : tensor<4x4xf32> = #nl.normal<std = 2.0, mean = 1.0>
// CHECK-NEXT:    nl.param @uniform : tensor<4xf32> = #nl.uniform<low = 0.0, high = 16.0>
// CHECK-NEXT:    nl.param @uniform_neg : tensor<4xf32> = #nl.uniform<low = -1.5, high = -0.5>
// CHECK-NEXT:    nl.param @from_file : tensor<4x4xf32> = #nl.from_file<"layer0.W_q">
// CHECK-NEXT:    nl.param @scalar : tensor<f32> = #nl.fill<0.5>
nl.model @initializers attributes {dim = 4} {
  nl.param @zeros : tensor<4xf32> = #nl.zeros
  nl.param @ones : tensor<4xf32> = #nl.ones
  nl.param @identity : tensor<4x4xf32> = #nl.identity
  nl.param @identity_batched : tensor<2x3x3xf32> = #nl.identity
  nl.param @fill : tensor<1xf32> = #nl.fill<-2.0>
  nl.param @fill_small : tensor<1xf32> = #nl.fill<1.0e-10>
  nl.param @normal : tensor<4x4xf32> = #nl.normal<std = 2.0e-02>
  nl.param @normal_mean : tensor<4x4xf32> = #nl.normal<mean = 1.0, std = 2.0>
  nl.param @uniform : tensor<4xf32> = #nl.uniform<low = 0.0, high = 16.0>
  nl.param @uniform_neg : tensor<4xf32> = #nl.uniform<low = -1.5, high = -0.5>
  nl.param @from_file : tensor<4x4xf32> = #nl.from_file<"layer0.W_q">
  nl.param @scalar : tensor<f32> = #nl.fill<0.5>
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Reals whose shortest form has an exponent but no dot keep a dot, so
// that they parse back as floats (1e-08 would be an integer and a name).
// CHECK-LABEL: nl.model @real_printing
// CHECK-NEXT:    nl.param @a : tensor<1xf32> = #nl.fill<1.0e+20>
// CHECK-NEXT:    nl.param @b : tensor<1xf32> = #nl.fill<2.0e-05>
// CHECK-NEXT:    nl.param @c : tensor<1xf32> = #nl.fill<100.0>
// CHECK-NEXT:    nl.param @d : tensor<1xf32> = #nl.fill<-0.0>
// CHECK-NEXT:    nl.param @e : tensor<1xf32> = #nl.normal<std = 1.0e-08>
nl.model @real_printing attributes {dim = 4} {
  nl.param @a : tensor<1xf32> = #nl.fill<1.0e20>
  nl.param @b : tensor<1xf32> = #nl.fill<2.0e-5>
  nl.param @c : tensor<1xf32> = #nl.fill<100.0>
  nl.param @d : tensor<1xf32> = #nl.fill<-0.0>
  nl.param @e : tensor<1xf32> = #nl.normal<std = 1.0e-8>
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Initializers of states: every memory but a KV cache takes one.
// CHECK-LABEL: nl.model @state_initializers
// CHECK:         nl.state @M : !nl.matrix<4x4xf32> = #nl.identity
// CHECK-NEXT:    nl.state @H : !nl.matrix<4x4xf32, heads = 2> = #nl.identity
// CHECK-NEXT:    nl.state @P : !nl.mlp<[4, 8, 4], silu> = #nl.normal<std = 0.02>
// CHECK-NEXT:    nl.state @F : !nl.matrix<4x8xf32> = #nl.from_file<"M0">
// CHECK-NEXT:    nl.state @s : tensor<f32> = #nl.ones
// CHECK-NEXT:    nl.state @W : !nl.matrix<4x8xf32> = #nl.from_param<@W0>
nl.model @state_initializers attributes {dim = 4} {
  nl.param @W0 : tensor<4x8xf32> = #nl.normal<std = 0.02>
  nl.level @L period frozen {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.identity
    nl.state @H : !nl.matrix<4x4xf32, heads = 2> = #nl.identity
    nl.state @P : !nl.mlp<[4, 8, 4], silu> = #nl.normal<std = 0.02>
    nl.state @F : !nl.matrix<4x8xf32> = #nl.from_file<"M0">
    nl.state @s : tensor<f32> = #nl.ones
    nl.state @W : !nl.matrix<4x8xf32> = #nl.from_param<@W0>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Parameters, levels and transfers may come in any order around the step;
// the printer keeps body order.
// CHECK-LABEL: nl.model @order
// CHECK-NEXT:    nl.level @L period frozen
// CHECK:         nl.step
// CHECK:         nl.param @late : tensor<4xf32> = #nl.zeros
nl.model @order attributes {dim = 4} {
  nl.level @L period frozen {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
  nl.param @late : tensor<4xf32> = #nl.zeros
}

// -----

// Two models in one module, each its own symbol table.
// CHECK-LABEL: nl.model @first
// CHECK:         nl.param @W : tensor<4xf32>
// CHECK-LABEL: nl.model @second
// CHECK:         nl.param @W : tensor<8xf32>
nl.model @first attributes {dim = 4} {
  nl.param @W : tensor<4xf32> = #nl.zeros
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}
nl.model @second attributes {dim = 8} {
  nl.param @W : tensor<8xf32> = #nl.zeros
  nl.step(%x : tensor<8xf32>) -> tensor<8xf32> {
    nl.yield %x : tensor<8xf32>
  }
}

// -----

// A Titans-like model (examples/titans-momentum.mlir, shrunk) round-trips.
// CHECK-LABEL: nl.model @titans_like
// CHECK:         nl.level @momentum period 1 rule <objective = linear, retention = decay> {
// CHECK:         nl.level @memory period 1 rule <objective = l2, retention = decay, algorithm = momentum, via = [@momentum]> {
// CHECK:         nl.step(%[[X:.+]]: tensor<4xf32>) -> tensor<4xf32> {
// CHECK:           %[[WK:.+]] = nl.get_param @W_k : tensor<4x4xf32>
// CHECK:           %[[K:.+]] = nl.linear %[[X]], %[[WK]] : (tensor<4xf32>, tensor<4x4xf32>) -> tensor<4xf32>
// CHECK:           nl.update @momentum lr(%[[LR:.+]] : tensor<f32>) retain(%[[LR]] : tensor<f32>)
// CHECK-NEXT:      nl.update @memory key(%[[K]] : tensor<4xf32>) value(%[[X]] : tensor<4xf32>) lr(%[[LR]] : tensor<f32>) retain(%[[LR]] : tensor<f32>)
// CHECK-NEXT:      %[[Y:.+]] = nl.read @memory(%[[K]]) : tensor<4xf32> -> tensor<4xf32>
// CHECK-NEXT:      nl.yield %[[Y]] : tensor<4xf32>
nl.model @titans_like attributes {dim = 4} {
  nl.param @W_k : tensor<4x4xf32> = #nl.normal<std = 2.0e-02>
  nl.level @momentum period 1 rule <objective = linear, retention = decay> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @memory period 1 rule <objective = l2, retention = decay, algorithm = momentum, via = [@momentum]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %Wk = nl.get_param @W_k : tensor<4x4xf32>
    %k = nl.linear %x, %Wk : (tensor<4xf32>, tensor<4x4xf32>) -> tensor<4xf32>
    %lr = arith.constant dense<0.5> : tensor<f32>
    nl.update @momentum lr(%lr : tensor<f32>) retain(%lr : tensor<f32>)
    nl.update @memory key(%k : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) retain(%lr : tensor<f32>)
    %y = nl.read @memory(%k) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %y : tensor<4xf32>
  }
}
