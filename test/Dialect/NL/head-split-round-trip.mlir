// RUN: nl-opt %s | nl-opt | FileCheck %s
// RUN: nl-opt %s --mlir-print-op-generic | nl-opt | FileCheck %s
// RUN: nl-opt %s --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// The per-head form prints and parses back to itself: a model marked
// head_split (the model of one head, as nl-split-heads writes it) and
// nl.head_index, in its step and in its chunk step, with the index
// arithmetic and dynamic slices that pick the head's part of the token.
// CHECK-LABEL: nl.model @w1__head attributes {dim = 30 : i64, head_split = 2 : i64} {
// CHECK:       nl.step(%[[X:.*]]: tensor<30xf32>) -> tensor<4xf32> {
// CHECK-NEXT:    %[[H:.*]] = nl.head_index
// CHECK-NEXT:    %[[C4:.*]] = arith.constant 4 : index
// CHECK-NEXT:    %[[AT:.*]] = arith.muli %[[H]], %[[C4]] : index
// CHECK-NEXT:    %[[K:.*]] = tensor.extract_slice %[[X]][%[[AT]]] [4] [1] : tensor<30xf32> to tensor<4xf32>
// CHECK-NEXT:    %[[C24:.*]] = arith.constant 24 : index
// CHECK-NEXT:    %[[GAT:.*]] = arith.addi %[[H]], %[[C24]] : index
// CHECK-NEXT:    %[[G:.*]] = tensor.extract_slice %[[X]][%[[GAT]]] [1] [1] : tensor<30xf32> to tensor<f32>
// CHECK-NEXT:    nl.update @M key(%[[K]] : tensor<4xf32>) value(%[[K]] : tensor<4xf32>) lr(%[[G]] : tensor<f32>)
// CHECK-NEXT:    %[[Y:.*]] = nl.read @M(%[[K]]) : tensor<4xf32> -> tensor<4xf32>
// CHECK-NEXT:    nl.yield %[[Y]] : tensor<4xf32>
// CHECK-NEXT:  }
// CHECK-NEXT:  nl.chunk_step size 4 (%[[XS:.*]]: tensor<4x30xf32>) -> tensor<4x4xf32> {
// CHECK-NEXT:    %[[HC:.*]] = nl.head_index
// CHECK-NEXT:    %[[C4C:.*]] = arith.constant 4 : index
// CHECK-NEXT:    %[[ATC:.*]] = arith.muli %[[HC]], %[[C4C]] : index
// CHECK-NEXT:    %[[KS:.*]] = tensor.extract_slice %[[XS]][0, %[[ATC]]] [4, 4] [1, 1] : tensor<4x30xf32> to tensor<4x4xf32>
// CHECK-NEXT:    nl.yield %[[KS]] : tensor<4x4xf32>
// CHECK-NEXT:  }
// CHECK-NEXT: }
// GENERIC: "nl.model"() <{dim = 30 : i64, head_split = 2 : i64, heads = 1 : i64, sym_name = "w1__head"}>
// GENERIC: "nl.head_index"() : () -> index
// GENERIC: "nl.head_index"() : () -> index
nl.model @w1__head attributes {dim = 30, head_split = 2} {
  nl.level @M period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<30xf32>) -> tensor<4xf32> {
    %h = nl.head_index
    %c4 = arith.constant 4 : index
    %at = arith.muli %h, %c4 : index
    %k = tensor.extract_slice %x[%at] [4] [1] : tensor<30xf32> to tensor<4xf32>
    %c24 = arith.constant 24 : index
    %gat = arith.addi %h, %c24 : index
    %g = tensor.extract_slice %x[%gat] [1] [1] : tensor<30xf32> to tensor<f32>
    nl.update @M key(%k : tensor<4xf32>) value(%k : tensor<4xf32>) lr(%g : tensor<f32>)
    %y = nl.read @M(%k) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %y : tensor<4xf32>
  }
  nl.chunk_step size 4 (%xs : tensor<4x30xf32>) -> tensor<4x4xf32> {
    %h = nl.head_index
    %c4 = arith.constant 4 : index
    %at = arith.muli %h, %c4 : index
    %ks = tensor.extract_slice %xs[0, %at] [4, 4] [1, 1] : tensor<4x30xf32> to tensor<4x4xf32>
    nl.yield %ks : tensor<4x4xf32>
  }
}
