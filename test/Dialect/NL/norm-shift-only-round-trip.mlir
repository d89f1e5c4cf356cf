// A layer norm with a shift but no scale prints and parses back
// (`nl.norm layer %x shift %b`).
// RUN: nl-opt %s | nl-opt | FileCheck %s

// CHECK-LABEL: nl.model @shift_only
// CHECK:       nl.step(%[[X:.+]]: tensor<4xf32>)
// CHECK:         %[[B:.+]] = arith.constant
// CHECK-NEXT:    %{{.+}} = nl.norm layer %[[X]] shift %[[B]] : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
nl.model @shift_only attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %b = arith.constant dense<1.0> : tensor<4xf32>
    %n = "nl.norm"(%x, %b) <{kind = 2 : i32, operandSegmentSizes = array<i32: 1, 0, 1>}> : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    nl.yield %n : tensor<4xf32>
  }
}
