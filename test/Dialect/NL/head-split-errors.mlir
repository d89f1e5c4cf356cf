// RUN: nl-opt %s --split-input-file -verify-diagnostics

// The verifiers of the per-head form: nl.head_index only in the step (or
// chunk step) of a model marked head_split, and head_split counts at least
// two heads.

// A model of all its heads has no head index.
nl.model @no_split attributes {dim = 8} {
  nl.level @M period 1 rule <objective = l2> {
    nl.state @S : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
  }
  nl.step(%x : tensor<8xf32>) -> tensor<4xf32> {
    // expected-error @below {{'nl.head_index' op is only valid in the step of a model marked 'head_split' (the model of one head)}}
    %h = nl.head_index
    %c4 = arith.constant 4 : index
    %at = arith.muli %h, %c4 : index
    %y = tensor.extract_slice %x[%at] [4] [1] : tensor<8xf32> to tensor<4xf32>
    nl.yield %y : tensor<4xf32>
  }
}

// -----

// Outside any model.
func.func @outside_model() -> index {
  // expected-error @below {{'nl.head_index' op is only valid in the step of a model marked 'head_split' (the model of one head)}}
  %h = nl.head_index
  return %h : index
}

// -----

// In the model of one head, but outside its step.
nl.model @in_model_body attributes {dim = 8, head_split = 2} {
  // expected-error @below {{'nl.head_index' op must be inside a step}}
  %h = nl.head_index
  nl.level @M period 1 rule <objective = l2> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<8xf32>) -> tensor<8xf32> {
    nl.yield %x : tensor<8xf32>
  }
}

// -----

// One head is no split.
// expected-error @below {{'nl.model' op attribute 'head_split' failed to satisfy constraint: 64-bit signless integer attribute whose minimum value is 2}}
nl.model @split_one attributes {dim = 4, head_split = 1} {
  nl.level @M period 1 rule <objective = l2> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// expected-error @below {{'nl.model' op attribute 'head_split' failed to satisfy constraint: 64-bit signless integer attribute whose minimum value is 2}}
nl.model @split_zero attributes {dim = 4, head_split = 0} {
  nl.level @M period 1 rule <objective = l2> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// The index is an index, nothing else.
nl.model @typed attributes {dim = 4, head_split = 2} {
  nl.level @M period 1 rule <objective = l2> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @below {{'nl.head_index' op result #0 must be index, but got 'i64'}}
    %h = "nl.head_index"() : () -> i64
    nl.yield %x : tensor<4xf32>
  }
}
