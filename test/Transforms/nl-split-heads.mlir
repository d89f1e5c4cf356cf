// RUN: nl-opt %s --split-input-file --nl-split-heads | FileCheck %s
// RUN: nl-opt %s --split-input-file --nl-split-heads=required=true | nl-opt --split-input-file | FileCheck %s
// The full models come out as they went in: the module printed with the pass,
// less the models it added (@<m>__head, up to their closing brace), is the
// module printed without it.
// RUN: nl-opt %s --split-input-file > %t.before
// RUN: nl-opt %s --split-input-file --nl-split-heads | awk '/^  nl.model @[A-Za-z0-9_]*__head /{skip=1} !skip{print} skip && /^  }$/{skip=0}' > %t.after
// RUN: diff %t.before %t.after
// ... and the filter above drops only the added models: both inputs gain one.
// RUN: nl-opt %s --split-input-file --nl-split-heads | grep -c 'head_split = 2' | FileCheck %s --check-prefix=COUNT
// COUNT: 2

// (a) W1 (bench/models/w1.nl) with 2 heads of width 4: momentum through a
// separate level, every gate per head and sliced from the token
// (k, v, q at 0, 8, 16; theta, eta, keep at 24, 26, 28). The model of one
// head follows the full model: the same levels with one head per memory,
// head h's keys, values and queries read straight from the token at
// h*4 + 0, 8, 16 (the split_heads of a slice composed into one dynamic
// slice), each gate its element h as a tensor<f32>, and the read of the
// head's memory is the head's slice of the output (no merge_heads).
// CHECK-LABEL: nl.model @w1 attributes {dim = 30 : i64} {
// CHECK:         nl.state @S : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
// CHECK:         nl.state @M : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
// CHECK:       nl.step(%{{.*}}: tensor<30xf32>) -> tensor<8xf32> {
// CHECK:         tensor.collapse_shape
// CHECK-NEXT:    nl.yield %{{.*}} : tensor<8xf32>
// CHECK-NEXT:  }
// CHECK-NEXT: }
// CHECK-NEXT: nl.model @w1__head attributes {dim = 30 : i64, head_split = 2 : i64} {
// CHECK-NEXT:   nl.level @momentum period 1 rule <objective = linear, retention = decay> {
// CHECK-NEXT:     nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
// CHECK-NEXT:   }
// CHECK-NEXT:   nl.level @memory period 1 rule <objective = l2, retention = decay, algorithm = momentum, via = [@momentum]> {
// CHECK-NEXT:     nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
// CHECK-NEXT:   }
// CHECK-NEXT:   nl.step(%[[X:.*]]: tensor<30xf32>) -> tensor<4xf32> {
// CHECK-NEXT:     %[[H:.*]] = nl.head_index
// CHECK-NEXT:     %[[C4K:.*]] = arith.constant 4 : index
// CHECK-NEXT:     %[[KAT:.*]] = arith.muli %[[H]], %[[C4K]] : index
// CHECK-NEXT:     %[[K:.*]] = tensor.extract_slice %[[X]][%[[KAT]]] [4] [1] : tensor<30xf32> to tensor<4xf32>
// CHECK-NEXT:     %[[C4V:.*]] = arith.constant 4 : index
// CHECK-NEXT:     %[[VH:.*]] = arith.muli %[[H]], %[[C4V]] : index
// CHECK-NEXT:     %[[C8:.*]] = arith.constant 8 : index
// CHECK-NEXT:     %[[VAT:.*]] = arith.addi %[[VH]], %[[C8]] : index
// CHECK-NEXT:     %[[V:.*]] = tensor.extract_slice %[[X]][%[[VAT]]] [4] [1] : tensor<30xf32> to tensor<4xf32>
// CHECK-NEXT:     %[[C4Q:.*]] = arith.constant 4 : index
// CHECK-NEXT:     %[[QH:.*]] = arith.muli %[[H]], %[[C4Q]] : index
// CHECK-NEXT:     %[[C16:.*]] = arith.constant 16 : index
// CHECK-NEXT:     %[[QAT:.*]] = arith.addi %[[QH]], %[[C16]] : index
// CHECK-NEXT:     %[[Q:.*]] = tensor.extract_slice %[[X]][%[[QAT]]] [4] [1] : tensor<30xf32> to tensor<4xf32>
// CHECK-NEXT:     %[[C24:.*]] = arith.constant 24 : index
// CHECK-NEXT:     %[[TAT:.*]] = arith.addi %[[H]], %[[C24]] : index
// CHECK-NEXT:     %[[THETA:.*]] = tensor.extract_slice %[[X]][%[[TAT]]] [1] [1] : tensor<30xf32> to tensor<f32>
// CHECK-NEXT:     %[[C26:.*]] = arith.constant 26 : index
// CHECK-NEXT:     %[[EAT:.*]] = arith.addi %[[H]], %[[C26]] : index
// CHECK-NEXT:     %[[ETA:.*]] = tensor.extract_slice %[[X]][%[[EAT]]] [1] [1] : tensor<30xf32> to tensor<f32>
// CHECK-NEXT:     nl.update @momentum lr(%[[THETA]] : tensor<f32>) retain(%[[ETA]] : tensor<f32>)
// CHECK-NEXT:     %[[ONE:.*]] = arith.constant dense<1.000000e+00> : tensor<f32>
// CHECK-NEXT:     %[[C28:.*]] = arith.constant 28 : index
// CHECK-NEXT:     %[[PAT:.*]] = arith.addi %[[H]], %[[C28]] : index
// CHECK-NEXT:     %[[KEEP:.*]] = tensor.extract_slice %[[X]][%[[PAT]]] [1] [1] : tensor<30xf32> to tensor<f32>
// CHECK-NEXT:     nl.update @memory key(%[[K]] : tensor<4xf32>) value(%[[V]] : tensor<4xf32>) lr(%[[ONE]] : tensor<f32>) retain(%[[KEEP]] : tensor<f32>)
// CHECK-NEXT:     %[[Y:.*]] = nl.read @memory(%[[Q]]) : tensor<4xf32> -> tensor<4xf32>
// CHECK-NEXT:     nl.yield %[[Y]] : tensor<4xf32>
// CHECK-NEXT:   }
// CHECK-NEXT: }
nl.model @w1 attributes {dim = 30} {
  nl.level @momentum period 1 rule <objective = linear, retention = decay> {
    nl.state @S : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
  }
  nl.level @memory period 1 rule <objective = l2, retention = decay, algorithm = momentum, via = [@momentum]> {
    nl.state @M : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
  }
  nl.step(%x : tensor<30xf32>) -> tensor<8xf32> {
    %ks = tensor.extract_slice %x[0] [8] [1] : tensor<30xf32> to tensor<8xf32>
    %k = tensor.expand_shape %ks [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
    %vs = tensor.extract_slice %x[8] [8] [1] : tensor<30xf32> to tensor<8xf32>
    %v = tensor.expand_shape %vs [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
    %qs = tensor.extract_slice %x[16] [8] [1] : tensor<30xf32> to tensor<8xf32>
    %q = tensor.expand_shape %qs [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
    %theta = tensor.extract_slice %x[24] [2] [1] : tensor<30xf32> to tensor<2xf32>
    %eta = tensor.extract_slice %x[26] [2] [1] : tensor<30xf32> to tensor<2xf32>
    nl.update @momentum lr(%theta : tensor<2xf32>) retain(%eta : tensor<2xf32>)
    %one = arith.constant dense<1.0> : tensor<f32>
    %keep = tensor.extract_slice %x[28] [2] [1] : tensor<30xf32> to tensor<2xf32>
    nl.update @memory key(%k : tensor<2x4xf32>) value(%v : tensor<2x4xf32>) lr(%one : tensor<f32>) retain(%keep : tensor<2xf32>)
    %y = nl.read @memory(%q) : tensor<2x4xf32> -> tensor<2x4xf32>
    %o = tensor.collapse_shape %y [[0, 1]] : tensor<2x4xf32> into tensor<8xf32>
    nl.yield %o : tensor<8xf32>
  }
}

// -----

// (b) Ops on per-head values, with operands the same for every head: l2 norms
// of the keys and queries after split_heads, silu of the values, a scale of
// one value per channel ([4], broadcast over the heads: passed as it is), a
// bias of one row per head ([2, 4]: its row h), a gate per head computed from
// the token (sigmoid of all heads' gates, then its element h), a scalar
// constant times the read. The model attribute `heads` becomes 1 (left out
// when printed), the projection-free values of the token are computed by the
// head's step as they were.
// CHECK-LABEL: nl.model @rowwise__head attributes {dim = 26 : i64, head_split = 2 : i64} {
// CHECK-NEXT:    nl.param @scale : tensor<4xf32> = #nl.ones
// CHECK-NEXT:    nl.param @bias : tensor<2x4xf32> = #nl.zeros
// CHECK-NEXT:    nl.level @M period 1 rule <objective = l2, retention = decay> {
// CHECK-NEXT:      nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
// CHECK-NEXT:    }
// CHECK-NEXT:    nl.step(%[[X:.*]]: tensor<26xf32>) -> tensor<4xf32> {
// CHECK-NEXT:      %[[H:.*]] = nl.head_index
// CHECK-NEXT:      %[[S:.*]] = nl.get_param @scale : tensor<4xf32>
// CHECK-NEXT:      %[[B:.*]] = nl.get_param @bias : tensor<2x4xf32>
// CHECK-NEXT:      %[[C4K:.*]] = arith.constant 4 : index
// CHECK-NEXT:      %[[KAT:.*]] = arith.muli %[[H]], %[[C4K]] : index
// CHECK-NEXT:      %[[KH:.*]] = tensor.extract_slice %[[X]][%[[KAT]]] [4] [1] : tensor<26xf32> to tensor<4xf32>
// CHECK-NEXT:      %[[K:.*]] = nl.norm l2 %[[KH]] : (tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT:      %[[C4V:.*]] = arith.constant 4 : index
// CHECK-NEXT:      %[[VHAT:.*]] = arith.muli %[[H]], %[[C4V]] : index
// CHECK-NEXT:      %[[C8:.*]] = arith.constant 8 : index
// CHECK-NEXT:      %[[VAT:.*]] = arith.addi %[[VHAT]], %[[C8]] : index
// CHECK-NEXT:      %[[VH:.*]] = tensor.extract_slice %[[X]][%[[VAT]]] [4] [1] : tensor<26xf32> to tensor<4xf32>
// CHECK-NEXT:      %[[VA:.*]] = nl.act silu %[[VH]] : tensor<4xf32>
// CHECK-NEXT:      %[[VM:.*]] = nl.mul %[[VA]], %[[S]] : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
// CHECK-NEXT:      %[[BH:.*]] = tensor.extract_slice %[[B]][%[[H]], 0] [1, 4] [1, 1] : tensor<2x4xf32> to tensor<4xf32>
// CHECK-NEXT:      %[[V:.*]] = nl.add %[[VM]], %[[BH]] : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
// CHECK-NEXT:      %[[GZ:.*]] = tensor.extract_slice %[[X]][24] [2] [1] : tensor<26xf32> to tensor<2xf32>
// CHECK-NEXT:      %[[G:.*]] = nl.act sigmoid %[[GZ]] : tensor<2xf32>
// CHECK-NEXT:      %[[LR:.*]] = arith.constant dense<1.000000e-01> : tensor<f32>
// CHECK-NEXT:      %[[GH:.*]] = tensor.extract_slice %[[G]][%[[H]]] [1] [1] : tensor<2xf32> to tensor<f32>
// CHECK-NEXT:      nl.update @M key(%[[K]] : tensor<4xf32>) value(%[[V]] : tensor<4xf32>) lr(%[[LR]] : tensor<f32>) retain(%[[GH]] : tensor<f32>)
// CHECK-NEXT:      %[[C4Q:.*]] = arith.constant 4 : index
// CHECK-NEXT:      %[[QHAT:.*]] = arith.muli %[[H]], %[[C4Q]] : index
// CHECK-NEXT:      %[[C16:.*]] = arith.constant 16 : index
// CHECK-NEXT:      %[[QAT:.*]] = arith.addi %[[QHAT]], %[[C16]] : index
// CHECK-NEXT:      %[[QH:.*]] = tensor.extract_slice %[[X]][%[[QAT]]] [4] [1] : tensor<26xf32> to tensor<4xf32>
// CHECK-NEXT:      %[[Q:.*]] = nl.norm l2 %[[QH]] : (tensor<4xf32>) -> tensor<4xf32>
// CHECK-NEXT:      %[[Y:.*]] = nl.read @M(%[[Q]]) : tensor<4xf32> -> tensor<4xf32>
// CHECK-NEXT:      %[[HALF:.*]] = arith.constant dense<5.000000e-01> : tensor<f32>
// CHECK-NEXT:      %[[YH:.*]] = nl.mul %[[Y]], %[[HALF]] : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
// CHECK-NEXT:      nl.yield %[[YH]] : tensor<4xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:  }
nl.model @rowwise attributes {dim = 26, heads = 2} {
  nl.param @scale : tensor<4xf32> = #nl.ones
  nl.param @bias : tensor<2x4xf32> = #nl.zeros
  nl.level @M period 1 rule <objective = l2, retention = decay> {
    nl.state @M : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
  }
  nl.step(%x : tensor<26xf32>) -> tensor<8xf32> {
    %s = nl.get_param @scale : tensor<4xf32>
    %b = nl.get_param @bias : tensor<2x4xf32>
    %ks = tensor.extract_slice %x[0] [8] [1] : tensor<26xf32> to tensor<8xf32>
    %kh = tensor.expand_shape %ks [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
    %k = nl.norm l2 %kh : (tensor<2x4xf32>) -> tensor<2x4xf32>
    %vs = tensor.extract_slice %x[8] [8] [1] : tensor<26xf32> to tensor<8xf32>
    %vh = tensor.expand_shape %vs [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
    %va = nl.act silu %vh : tensor<2x4xf32>
    %vm = nl.mul %va, %s : tensor<2x4xf32>, tensor<4xf32> -> tensor<2x4xf32>
    %v = nl.add %vm, %b : tensor<2x4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
    %gz = tensor.extract_slice %x[24] [2] [1] : tensor<26xf32> to tensor<2xf32>
    %g = nl.act sigmoid %gz : tensor<2xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @M key(%k : tensor<2x4xf32>) value(%v : tensor<2x4xf32>) lr(%lr : tensor<f32>) retain(%g : tensor<2xf32>)
    %qs = tensor.extract_slice %x[16] [8] [1] : tensor<26xf32> to tensor<8xf32>
    %qh = tensor.expand_shape %qs [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
    %q = nl.norm l2 %qh : (tensor<2x4xf32>) -> tensor<2x4xf32>
    %y = nl.read @M(%q) : tensor<2x4xf32> -> tensor<2x4xf32>
    %half = arith.constant dense<0.5> : tensor<f32>
    %yh = nl.mul %y, %half : tensor<2x4xf32>, tensor<f32> -> tensor<2x4xf32>
    %o = tensor.collapse_shape %yh [[0, 1]] : tensor<2x4xf32> into tensor<8xf32>
    nl.yield %o : tensor<8xf32>
  }
}
