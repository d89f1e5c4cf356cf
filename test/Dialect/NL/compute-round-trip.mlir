// RUN: nl-opt %s --split-input-file | nl-opt --split-input-file | FileCheck %s
// RUN: nl-opt %s --split-input-file --mlir-print-op-generic | nl-opt --split-input-file | FileCheck %s

// nl.get_param and nl.linear, with and without a bias, on a vector and on a
// multi-head input [H, d] (leading dimensions are kept).
// CHECK-LABEL: nl.model @linear
// CHECK:       nl.step(%[[X:.+]]: tensor<4xf32>)
// CHECK:         %[[W:.+]] = nl.get_param @W : tensor<8x4xf32>
// CHECK-NEXT:    %[[B:.+]] = nl.get_param @b : tensor<8xf32>
// CHECK-NEXT:    %[[Y:.+]] = nl.linear %[[X]], %[[W]] : (tensor<4xf32>, tensor<8x4xf32>) -> tensor<8xf32>
// CHECK-NEXT:    %[[YB:.+]] = nl.linear %[[X]], %[[W]], %[[B]] : (tensor<4xf32>, tensor<8x4xf32>, tensor<8xf32>) -> tensor<8xf32>
// CHECK-NEXT:    %[[H:.+]] = arith.constant
// CHECK-NEXT:    %[[YH:.+]] = nl.linear %[[H]], %[[W]], %[[B]] : (tensor<2x4xf32>, tensor<8x4xf32>, tensor<8xf32>) -> tensor<2x8xf32>
// CHECK-NEXT:    %[[G:.+]] = nl.get_param @w_gate : tensor<1x4xf32>
// CHECK-NEXT:    %{{.+}} = nl.linear %[[X]], %[[G]] : (tensor<4xf32>, tensor<1x4xf32>) -> tensor<1xf32>
nl.model @linear attributes {dim = 4} {
  nl.param @W : tensor<8x4xf32> = #nl.normal<std = 0.02>
  nl.param @b : tensor<8xf32> = #nl.zeros
  nl.param @w_gate : tensor<1x4xf32> = #nl.zeros
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %W = nl.get_param @W : tensor<8x4xf32>
    %b = nl.get_param @b : tensor<8xf32>
    %y = nl.linear %x, %W : (tensor<4xf32>, tensor<8x4xf32>) -> tensor<8xf32>
    %yb = nl.linear %x, %W, %b : (tensor<4xf32>, tensor<8x4xf32>, tensor<8xf32>) -> tensor<8xf32>
    %h = arith.constant dense<1.0> : tensor<2x4xf32>
    %yh = nl.linear %h, %W, %b : (tensor<2x4xf32>, tensor<8x4xf32>, tensor<8xf32>) -> tensor<2x8xf32>
    %wg = nl.get_param @w_gate : tensor<1x4xf32>
    %g = nl.linear %x, %wg : (tensor<4xf32>, tensor<1x4xf32>) -> tensor<1xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Elementwise arithmetic (add, sub, mul, div) with NumPy broadcasting: equal shapes, a scalar, a
// size-1 vector, a per-head gate [H, 1] and a missing leading dimension.
// CHECK-LABEL: nl.model @binary
// CHECK:       nl.step(%[[X:.+]]: tensor<4xf32>)
// CHECK:         %[[S:.+]] = arith.constant dense<2.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[ONE:.+]] = arith.constant dense<3.000000e+00> : tensor<1xf32>
// CHECK-NEXT:    %[[HG:.+]] = arith.constant dense<4.000000e+00> : tensor<2x1xf32>
// CHECK-NEXT:    %[[H:.+]] = arith.constant dense<5.000000e+00> : tensor<2x4xf32>
// CHECK-NEXT:    %[[A:.+]] = nl.add %[[X]], %[[X]] : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
// CHECK-NEXT:    %[[B:.+]] = nl.sub %[[A]], %[[S]] : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
// CHECK-NEXT:    %[[C:.+]] = nl.mul %[[ONE]], %[[B]] : tensor<1xf32>, tensor<4xf32> -> tensor<4xf32>
// CHECK-NEXT:    %[[D:.+]] = nl.mul %[[H]], %[[HG]] : tensor<2x4xf32>, tensor<2x1xf32> -> tensor<2x4xf32>
// CHECK-NEXT:    %[[E:.+]] = nl.add %[[D]], %[[C]] : tensor<2x4xf32>, tensor<4xf32> -> tensor<2x4xf32>
// CHECK-NEXT:    %{{.+}} = nl.sub %[[HG]], %[[C]] : tensor<2x1xf32>, tensor<4xf32> -> tensor<2x4xf32>
// CHECK-NEXT:    %{{.+}} = nl.add %[[S]], %[[S]] : tensor<f32>, tensor<f32> -> tensor<f32>
// CHECK-NEXT:    %{{.+}} = nl.div %[[X]], %[[S]] : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
// CHECK-NEXT:    %{{.+}} = nl.div %[[H]], %[[HG]] : tensor<2x4xf32>, tensor<2x1xf32> -> tensor<2x4xf32>
nl.model @binary attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %s = arith.constant dense<2.0> : tensor<f32>
    %one = arith.constant dense<3.0> : tensor<1xf32>
    %hg = arith.constant dense<4.0> : tensor<2x1xf32>
    %h = arith.constant dense<5.0> : tensor<2x4xf32>
    %a = nl.add %x, %x : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
    %b = nl.sub %a, %s : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
    %c = nl.mul %one, %b : tensor<1xf32>, tensor<4xf32> -> tensor<4xf32>
    %d = nl.mul %h, %hg : tensor<2x4xf32>, tensor<2x1xf32> -> tensor<2x4xf32>
    %e = nl.add %d, %c : tensor<2x4xf32>, tensor<4xf32> -> tensor<2x4xf32>
    %f = nl.sub %hg, %c : tensor<2x1xf32>, tensor<4xf32> -> tensor<2x4xf32>
    %g = nl.add %s, %s : tensor<f32>, tensor<f32> -> tensor<f32>
    %q = nl.div %x, %s : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
    %qh = nl.div %h, %hg : tensor<2x4xf32>, tensor<2x1xf32> -> tensor<2x4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Every activation.
// CHECK-LABEL: nl.model @activations
// CHECK:       nl.step(%[[X:.+]]: tensor<4xf32>)
// CHECK-NEXT:    %[[A0:.+]] = nl.act identity %[[X]] : tensor<4xf32>
// CHECK-NEXT:    %[[A1:.+]] = nl.act relu %[[A0]] : tensor<4xf32>
// CHECK-NEXT:    %[[A2:.+]] = nl.act silu %[[A1]] : tensor<4xf32>
// CHECK-NEXT:    %[[A3:.+]] = nl.act gelu %[[A2]] : tensor<4xf32>
// CHECK-NEXT:    %[[A4:.+]] = nl.act gelu_tanh %[[A3]] : tensor<4xf32>
// CHECK-NEXT:    %[[A5:.+]] = nl.act sigmoid %[[A4]] : tensor<4xf32>
// CHECK-NEXT:    %[[A6:.+]] = nl.act tanh %[[A5]] : tensor<4xf32>
// CHECK-NEXT:    %[[A7:.+]] = nl.act softplus %[[A6]] : tensor<4xf32>
// CHECK-NEXT:    %[[A8:.+]] = nl.act exp %[[A7]] : tensor<4xf32>
// CHECK-NEXT:    nl.yield %[[A8]] : tensor<4xf32>
nl.model @activations attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %a0 = nl.act identity %x : tensor<4xf32>
    %a1 = nl.act relu %a0 : tensor<4xf32>
    %a2 = nl.act silu %a1 : tensor<4xf32>
    %a3 = nl.act gelu %a2 : tensor<4xf32>
    %a4 = nl.act gelu_tanh %a3 : tensor<4xf32>
    %a5 = nl.act sigmoid %a4 : tensor<4xf32>
    %a6 = nl.act tanh %a5 : tensor<4xf32>
    %a7 = nl.act softplus %a6 : tensor<4xf32>
    %a8 = nl.act exp %a7 : tensor<4xf32>
    nl.yield %a8 : tensor<4xf32>
  }
}

// -----

// Normalizations: l2 (no scale or shift), layer with scale and shift and an
// eps, layer and rms with a scale only, and a multi-head input; the default
// eps is elided.
// CHECK-LABEL: nl.model @norms
// CHECK:       nl.step(%[[X:.+]]: tensor<4xf32>)
// CHECK:         %[[G:.+]] = nl.get_param @gain : tensor<4xf32>
// CHECK-NEXT:    %[[B:.+]] = nl.get_param @bias : tensor<4xf32>
// CHECK-NEXT:    %{{.+}} = nl.norm l2 %[[X]] : (tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT:    %{{.+}} = nl.norm layer %[[X]] scale %[[G]] shift %[[B]] {eps = 1.000000e-05 : f64} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT:    %{{.+}} = nl.norm layer %[[X]] : (tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT:    %{{.+}} = nl.norm layer %[[X]] scale %[[G]] : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT:    %{{.+}} = nl.norm rms %[[X]] scale %[[G]] : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT:    %{{.+}} = nl.norm rms %[[X]] {eps = 1.000000e-08 : f64} : (tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT:    %[[H:.+]] = arith.constant
// CHECK-NEXT:    %{{.+}} = nl.norm rms %[[H]] scale %[[G]] : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
nl.model @norms attributes {dim = 4} {
  nl.param @gain : tensor<4xf32> = #nl.ones
  nl.param @bias : tensor<4xf32> = #nl.zeros
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %g = nl.get_param @gain : tensor<4xf32>
    %b = nl.get_param @bias : tensor<4xf32>
    %n0 = nl.norm l2 %x : (tensor<4xf32>) -> tensor<4xf32>
    %n1 = nl.norm layer %x scale %g shift %b {eps = 1.0e-05 : f64} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    %n2 = nl.norm layer %x {eps = 1.0e-06 : f64} : (tensor<4xf32>) -> tensor<4xf32>
    %n3 = nl.norm layer %x scale %g : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    %n4 = nl.norm rms %x scale %g : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    %n5 = nl.norm rms %x {eps = 1.0e-08 : f64} : (tensor<4xf32>) -> tensor<4xf32>
    %h = arith.constant dense<1.0> : tensor<2x4xf32>
    %n6 = nl.norm rms %h scale %g : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// A short causal convolution, on a vector and per head.
// CHECK-LABEL: nl.model @conv
// CHECK:       nl.step(%[[X:.+]]: tensor<4xf32>)
// CHECK-NEXT:    %[[W:.+]] = nl.get_param @w_conv : tensor<3x4xf32>
// CHECK-NEXT:    %[[C:.+]] = nl.conv %[[X]], %[[W]] : (tensor<4xf32>, tensor<3x4xf32>) -> tensor<4xf32>
// CHECK-NEXT:    %[[H:.+]] = arith.constant
// CHECK-NEXT:    %{{.+}} = nl.conv %[[H]], %[[W]] : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
// CHECK-NEXT:    nl.yield %[[C]] : tensor<4xf32>
nl.model @conv attributes {dim = 4} {
  nl.param @w_conv : tensor<3x4xf32> = #nl.normal<std = 0.1>
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %w = nl.get_param @w_conv : tensor<3x4xf32>
    %c = nl.conv %x, %w : (tensor<4xf32>, tensor<3x4xf32>) -> tensor<4xf32>
    %h = arith.constant dense<1.0> : tensor<2x4xf32>
    %ch = nl.conv %h, %w : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
    nl.yield %c : tensor<4xf32>
  }
}

// -----

// Reads of every memory: a matrix (out_in: M is d_out x d_in; in_out: the
// transpose), a multi-head matrix, an MLP and KV caches, single and
// multi-head.
// CHECK-LABEL: nl.model @reads
// CHECK:       nl.step(%[[X:.+]]: tensor<4xf32>)
// CHECK:         %[[H:.+]] = arith.constant dense<1.000000e+00> : tensor<2x4xf32>
// CHECK-NEXT:    %{{.+}} = nl.read @out_in(%[[X]]) : tensor<4xf32> -> tensor<8xf32>
// CHECK-NEXT:    %{{.+}} = nl.read @in_out(%[[X]]) : tensor<4xf32> -> tensor<8xf32>
// CHECK-NEXT:    %{{.+}} = nl.read @heads(%[[H]]) : tensor<2x4xf32> -> tensor<2x4xf32>
// CHECK-NEXT:    %{{.+}} = nl.read @mlp(%[[X]]) : tensor<4xf32> -> tensor<8xf32>
// CHECK-NEXT:    %{{.+}} = nl.read @mlp_heads(%[[H]]) : tensor<2x4xf32> -> tensor<2x4xf32>
// CHECK-NEXT:    %{{.+}} = nl.read @attn(%[[X]]) : tensor<4xf32> -> tensor<8xf32>
// CHECK-NEXT:    %{{.+}} = nl.read @attn_heads(%[[H]]) : tensor<2x4xf32> -> tensor<2x4xf32>
nl.model @reads attributes {dim = 4} {
  nl.level @out_in period frozen {
    nl.state @M : !nl.matrix<8x4xf32> = #nl.zeros
  }
  nl.level @in_out period frozen {
    nl.state @M : !nl.matrix<4x8xf32, layout = in_out> = #nl.zeros
  }
  nl.level @heads period frozen {
    nl.state @M : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
  }
  nl.level @mlp period frozen {
    nl.state @M : !nl.mlp<[4, 16, 8], silu> = #nl.zeros
  }
  nl.level @mlp_heads period frozen {
    nl.state @M : !nl.mlp<[4, 16, 4], silu, residual, heads = 2> = #nl.zeros
  }
  nl.level @attn period inf {
    nl.state @C : !nl.kv_cache<key = 4, value = 8>
  }
  nl.level @attn_heads period inf {
    nl.state @C : !nl.kv_cache<key = 4, value = 4, window = 8, heads = 2>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %v8 = arith.constant dense<1.0> : tensor<8xf32>
    %h = arith.constant dense<1.0> : tensor<2x4xf32>
    %r0 = nl.read @out_in(%x) : tensor<4xf32> -> tensor<8xf32>
    %r1 = nl.read @in_out(%x) : tensor<4xf32> -> tensor<8xf32>
    %r2 = nl.read @heads(%h) : tensor<2x4xf32> -> tensor<2x4xf32>
    %r3 = nl.read @mlp(%x) : tensor<4xf32> -> tensor<8xf32>
    %r4 = nl.read @mlp_heads(%h) : tensor<2x4xf32> -> tensor<2x4xf32>
    %r5 = nl.read @attn(%x) : tensor<4xf32> -> tensor<8xf32>
    %r6 = nl.read @attn_heads(%h) : tensor<2x4xf32> -> tensor<2x4xf32>
    nl.update @attn key(%x : tensor<4xf32>) value(%v8 : tensor<8xf32>)
    nl.update @attn_heads key(%h : tensor<2x4xf32>) value(%h : tensor<2x4xf32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// nl.update with each valid combination of context and gates:
//   key/value objectives: key, value, lr (+ retain with decay, +
//   momentum_decay with fused momentum or muon);
//   linear objective: grad, lr (+ retain);
//   optimizer levels (named in a `via`): gates only;
//   KV caches: key and value only.
// CHECK-LABEL: nl.model @updates
// CHECK:       nl.step(%[[X:.+]]: tensor<4xf32>)
// CHECK-NEXT:    %[[LR:.+]] = arith.constant dense<1.000000e-01> : tensor<f32>
// CHECK-NEXT:    %[[G:.+]] = arith.constant dense<0.000000e+00> : tensor<4x4xf32>
// CHECK-NEXT:    nl.update @plain key(%[[X]] : tensor<4xf32>) value(%[[X]] : tensor<4xf32>) lr(%[[LR]] : tensor<f32>){{$}}
// CHECK-NEXT:    nl.update @decay key(%[[X]] : tensor<4xf32>) value(%[[X]] : tensor<4xf32>) lr(%[[LR]] : tensor<f32>) retain(%[[LR]] : tensor<f32>){{$}}
// CHECK-NEXT:    nl.update @momentum key(%[[X]] : tensor<4xf32>) value(%[[X]] : tensor<4xf32>) lr(%[[LR]] : tensor<f32>) momentum_decay(%[[LR]] : tensor<f32>){{$}}
// CHECK-NEXT:    nl.update @muon_decay key(%[[X]] : tensor<4xf32>) value(%[[X]] : tensor<4xf32>) lr(%[[LR]] : tensor<f32>) retain(%[[LR]] : tensor<f32>) momentum_decay(%[[LR]] : tensor<f32>) delta_scale(%[[LR]] : tensor<f32>){{$}}
// CHECK-NEXT:    nl.update @grad grad(%[[G]] : tensor<4x4xf32>) lr(%[[LR]] : tensor<f32>){{$}}
// CHECK-NEXT:    nl.update @grad_decay grad(%[[G]] : tensor<4x4xf32>) lr(%[[LR]] : tensor<f32>) retain(%[[LR]] : tensor<f32>){{$}}
// CHECK-NEXT:    nl.update @opt lr(%[[LR]] : tensor<f32>) retain(%[[LR]] : tensor<f32>){{$}}
// CHECK-NEXT:    nl.update @served key(%[[X]] : tensor<4xf32>) value(%[[X]] : tensor<4xf32>) lr(%[[LR]] : tensor<f32>){{$}}
// CHECK-NEXT:    nl.update @cache key(%[[X]] : tensor<4xf32>) value(%[[X]] : tensor<4xf32>){{$}}
nl.model @updates attributes {dim = 4} {
  nl.level @plain period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @decay period 1 rule <objective = dot, retention = decay> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @momentum period 1 rule <objective = l2, algorithm = momentum> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
    nl.state @m : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @muon_decay period 16 rule <objective = huber, huber_delta = 1.0, retention = decay, algorithm = muon> {
    nl.state @M : !nl.mlp<[4, 8, 4], silu> = #nl.zeros
    nl.state @m : !nl.mlp<[4, 8, 4], silu> = #nl.zeros
  }
  nl.level @grad period 1 rule <objective = linear> {
    nl.state @W : tensor<4x4xf32> = #nl.zeros
  }
  nl.level @grad_decay period 1 rule <objective = linear, retention = decay> {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @opt period 1 rule <objective = linear, retention = decay> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @served period 1 rule <objective = l2, algorithm = momentum, via = [@opt]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @cache period inf {
    nl.state @C : !nl.kv_cache<key = 4, value = 4>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    %g = arith.constant dense<0.0> : tensor<4x4xf32>
    nl.update @plain key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @decay key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) retain(%lr : tensor<f32>)
    nl.update @momentum key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) momentum_decay(%lr : tensor<f32>)
    nl.update @muon_decay key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) retain(%lr : tensor<f32>) momentum_decay(%lr : tensor<f32>) delta_scale(%lr : tensor<f32>)
    nl.update @grad grad(%g : tensor<4x4xf32>) lr(%lr : tensor<f32>)
    nl.update @grad_decay grad(%g : tensor<4x4xf32>) lr(%lr : tensor<f32>) retain(%lr : tensor<f32>)
    nl.update @opt lr(%lr : tensor<f32>) retain(%lr : tensor<f32>)
    nl.update @served key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @cache key(%x : tensor<4xf32>) value(%x : tensor<4xf32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Gate shapes: a scalar (tensor<f32>, tensor<1xf32>), one value per head
// ([H] or [H, 1]) and one value per key channel ([d_in], [H, d_in]); keys
// and values of a multi-head memory are [H, d]; the grad of a multi-head
// matrix is its storage [H, rows, cols].
// CHECK-LABEL: nl.model @gates
// CHECK:       nl.update @single key(%{{.+}} : tensor<8xf32>) value(%{{.+}} : tensor<4xf32>) lr(%{{.+}} : tensor<1xf32>) retain(%{{.+}} : tensor<8xf32>)
// CHECK-NEXT:  nl.update @multi key(%{{.+}} : tensor<2x4xf32>) value(%{{.+}} : tensor<2x4xf32>) lr(%{{.+}} : tensor<2xf32>) retain(%{{.+}} : tensor<2x1xf32>) momentum_decay(%{{.+}} : tensor<2x4xf32>)
// CHECK-NEXT:  nl.update @multi_grad grad(%{{.+}} : tensor<2x4x4xf32>) lr(%{{.+}} : tensor<f32>)
nl.model @gates attributes {dim = 4} {
  nl.level @single period 1 rule <objective = l2, retention = decay> {
    nl.state @M : !nl.matrix<4x8xf32> = #nl.zeros
  }
  nl.level @multi period 1 rule <objective = l2, retention = decay, algorithm = momentum> {
    nl.state @M : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
    nl.state @m : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
  }
  nl.level @multi_grad period 1 rule <objective = linear> {
    nl.state @M : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %s = arith.constant dense<0.1> : tensor<f32>
    %s1 = arith.constant dense<0.1> : tensor<1xf32>
    %k8 = arith.constant dense<0.1> : tensor<8xf32>
    %h = arith.constant dense<0.1> : tensor<2x4xf32>
    %ph = arith.constant dense<0.1> : tensor<2xf32>
    %ph1 = arith.constant dense<0.1> : tensor<2x1xf32>
    %g = arith.constant dense<0.1> : tensor<2x4x4xf32>
    nl.update @single key(%k8 : tensor<8xf32>) value(%x : tensor<4xf32>) lr(%s1 : tensor<1xf32>) retain(%k8 : tensor<8xf32>)
    nl.update @multi key(%h : tensor<2x4xf32>) value(%h : tensor<2x4xf32>) lr(%ph : tensor<2xf32>) retain(%ph1 : tensor<2x1xf32>) momentum_decay(%h : tensor<2x4xf32>)
    nl.update @multi_grad grad(%g : tensor<2x4x4xf32>) lr(%s : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}
