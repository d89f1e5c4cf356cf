// RUN: nl-opt %s --split-input-file --nl-schedule-pipeline --nl-materialize-abi --nl-to-loops -verify-diagnostics

// A load is a view of the state: a value loaded from it may not be used
// after a store of the same state (nl-expand-updates never writes that).
nl.model @late_use attributes {dim = 4} {
  nl.level @A period 1 rule <objective = linear> {
    nl.state @A : tensor<4xf32> = #nl.zeros
    nl.state @__acc : tensor<4xf32> = #nl.zeros role accumulator
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %old = nl.load @A::@A : tensor<4xf32>
    nl.learn @A {
      nl.store @A::@__acc(%x : tensor<4xf32>)
    }
    nl.apply @A {
      %acc = nl.load @A::@__acc : tensor<4xf32>
      %new = nl.sub %old, %acc : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
      // expected-error @+1 {{'nl.store' op overwrites @A::@A while a value loaded from it is still used}}
      nl.store @A::@A(%new : tensor<4xf32>)
    }
    // expected-note @+1 {{used here, after the store}}
    %y = nl.add %old, %x : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
    nl.yield %y : tensor<4xf32>
  }
}
