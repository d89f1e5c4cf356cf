// RUN: nl-opt %s --split-input-file -verify-diagnostics

// Checks of the explicit-update ops against the states and levels they
// name. Every case is one valid model with one thing changed.

nl.model @wrong_type attributes {dim = 4} {
  nl.level @S period frozen {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{'nl.load' op @S::@S is stored as 'tensor<4x4xf32>', not 'tensor<16xf32>'}}
    %s = nl.load @S::@S : tensor<16xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @no_state attributes {dim = 4} {
  nl.level @S period frozen {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{'nl.load' op names no state of level @S: @T}}
    %s = nl.load @S::@T : tensor<4x4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @whole_mlp attributes {dim = 4} {
  nl.level @M period frozen {
    nl.state @M : !nl.mlp<[4, 8, 4], silu> = #nl.normal<std = 0.1>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{addresses the MLP memory @M of @M as a whole; name one stored tensor}}
    %s = nl.load @M::@M : tensor<8x4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @store_outside attributes {dim = 4} {
  nl.level @S period frozen {
    nl.state @S : tensor<4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{'nl.store' op stores outside nl.learn and nl.apply}}
    nl.store @S::@S(%x : tensor<4xf32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @store_other attributes {dim = 4} {
  nl.level @A period 1 rule <objective = linear> {
    nl.state @A : tensor<4xf32> = #nl.zeros
  }
  nl.level @B period frozen {
    nl.state @B : tensor<4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.apply @A {
      // expected-error @+1 {{'nl.store' op stores a state of @B in the update of @A, which does not keep its optimizer memory there}}
      nl.store @B::@B(%x : tensor<4xf32>)
    }
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// A chunked level's apply also runs in the flush entry: states only.
nl.model @apply_uses_step attributes {dim = 4} {
  nl.level @A period 4 rule <objective = linear> {
    nl.state @A : tensor<4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.apply @A {
      // expected-error @+1 {{'nl.store' op in the apply of @A (period 4) uses a value of the step; a pending chunk is also applied by the flush entry, so the apply reads states only}}
      nl.store @A::@A(%x : tensor<4xf32>)
    }
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @apply_twice attributes {dim = 4} {
  nl.level @A period 1 rule <objective = linear> {
    nl.state @A : tensor<4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-note @+1 {{first here}}
    nl.apply @A {
    }
    // expected-error @+1 {{'nl.apply' op repeats the nl.apply of level @A}}
    nl.apply @A {
    }
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @apply_before_learn attributes {dim = 4} {
  nl.level @A period 1 rule <objective = linear> {
    nl.state @A : tensor<4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{'nl.apply' op precedes the nl.learn of level @A}}
    nl.apply @A {
    }
    // expected-note @+1 {{the learn is here}}
    nl.learn @A {
    }
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @role_first attributes {dim = 4} {
  nl.level @A period 1 rule <objective = linear> {
    nl.state @__acc : tensor<4xf32> = #nl.zeros role accumulator
    // expected-error @+1 {{'nl.state' op follows a bookkeeping state (one with a 'role'); those come after the level's memory and buffers}}
    nl.state @A : tensor<4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}
