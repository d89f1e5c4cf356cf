// RUN: nl-opt %s --split-input-file -verify-diagnostics --allow-unregistered-dialect

// expected-error @+1 {{'nl.model' op @no_step has no nl.step; a model needs one step body}}
nl.model @no_step attributes {dim = 4} {
  nl.param @p : tensor<4xf32> = #nl.zeros
}

// -----

nl.model @two_steps attributes {dim = 4} {
  // expected-note @+1 {{first step here}}
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
  // expected-error @+1 {{'nl.step' op is the second step of model @two_steps; a model has one step}}
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @foreign_op attributes {dim = 4} {
  // expected-error @+1 {{'arith.constant' op cannot appear directly in an nl.model; a model holds nl.param, nl.level, nl.transfer, one nl.step and at most one nl.chunk_step}}
  %c = arith.constant 1.0 : f32
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @nested_model attributes {dim = 4} {
  // expected-error @+1 {{'nl.model' op cannot appear directly in an nl.model}}
  nl.model @inner attributes {dim = 4} {
    nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
      nl.yield %x : tensor<4xf32>
    }
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @zero_dim attributes {dim = 0} {
  // expected-error @-1 {{'nl.model' op attribute 'dim' failed to satisfy constraint: 64-bit signless integer attribute whose minimum value is 1}}
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @zero_heads attributes {dim = 4, heads = 0} {
  // expected-error @-1 {{'nl.model' op attribute 'heads' failed to satisfy constraint: 64-bit signless integer attribute whose minimum value is 1}}
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// expected-error @+1 {{'nl.model' op requires attribute 'dim'}}
nl.model @missing_dim {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @duplicate_symbol attributes {dim = 4} {
  // expected-note @+1 {{see existing symbol definition here}}
  nl.param @W : tensor<4xf32> = #nl.zeros
  nl.level @L period frozen {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-error @+1 {{redefinition of symbol named 'W'}}
  nl.param @W : tensor<4xf32> = #nl.zeros
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

//===----------------------------------------------------------------------===//
// The step
//===----------------------------------------------------------------------===//

nl.model @two_arguments attributes {dim = 4} {
  // expected-error @+1 {{'nl.step' op takes exactly one argument (the token), got 2}}
  nl.step(%x : tensor<4xf32>, %y : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @no_argument attributes {dim = 4} {
  // expected-error @+1 {{'nl.step' op takes exactly one argument (the token), got 0}}
  nl.step() -> tensor<4xf32> {
    %c = arith.constant dense<1.0> : tensor<4xf32>
    nl.yield %c : tensor<4xf32>
  }
}

// -----

nl.model @token_wrong_width attributes {dim = 4} {
  // expected-error @+1 {{'nl.step' op token must be a tensor<4xf32> (the model's dim), got 'tensor<8xf32>'}}
  nl.step(%x : tensor<8xf32>) -> tensor<8xf32> {
    nl.yield %x : tensor<8xf32>
  }
}

// -----

nl.model @token_wrong_element attributes {dim = 4} {
  // expected-error @+1 {{'nl.step' op token must be a tensor<4xf32> (the model's dim), got 'tensor<4xf16>'}}
  nl.step(%x : tensor<4xf16>) -> tensor<4xf16> {
    nl.yield %x : tensor<4xf16>
  }
}

// -----

nl.model @token_matrix attributes {dim = 4} {
  // expected-error @+1 {{'nl.step' op token must be a tensor<4xf32> (the model's dim), got 'tensor<1x4xf32>'}}
  nl.step(%x : tensor<1x4xf32>) -> tensor<1x4xf32> {
    nl.yield %x : tensor<1x4xf32>
  }
}

// -----

nl.model @token_not_tensor attributes {dim = 4} {
  // expected-error @+1 {{'nl.step' op token must be a tensor<4xf32> (the model's dim), got 'f32'}}
  nl.step(%x : f32) -> f32 {
    nl.yield %x : f32
  }
}

// -----

nl.model @yield_type_mismatch attributes {dim = 4} {
  // expected-note @+1 {{the step declares 1 output(s)}}
  nl.step(%x : tensor<4xf32>) -> tensor<8xf32> {
    // expected-error @+1 {{'nl.yield' op returns 1 value(s) whose types do not match the step's declared outputs}}
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @yield_too_few attributes {dim = 4} {
  // expected-note @+1 {{the step declares 2 output(s)}}
  nl.step(%x : tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
    // expected-error @+1 {{'nl.yield' op returns 1 value(s) whose types do not match the step's declared outputs}}
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @yield_too_many attributes {dim = 4} {
  // expected-note @+1 {{the step declares 0 output(s)}}
  nl.step(%x : tensor<4xf32>) {
    // expected-error @+1 {{'nl.yield' op returns 1 value(s) whose types do not match the step's declared outputs}}
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @no_terminator attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{block with no terminator}}
    %c = arith.constant dense<1.0> : tensor<4xf32>
  }
}

// -----

nl.model @empty_body attributes {dim = 4} {
  // expected-error @+1 {{'nl.step' op expects a non-empty block}}
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
  }
}

// -----

// Only an op that may be a terminator (here an unregistered one) reaches the
// step's own check.
nl.model @foreign_terminator attributes {dim = 4} {
  // expected-error @+1 {{'nl.step' op body must end with nl.yield}}
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    "test.terminator"(%x) : (tensor<4xf32>) -> ()
  }
}

// -----

// expected-error @+1 {{'nl.step' op expects parent op 'nl.model'}}
nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
  nl.yield %x : tensor<4xf32>
}

// -----

nl.model @yield_outside_step attributes {dim = 4} {
  // expected-error @+1 {{'nl.yield' op expects parent op to be one of 'nl.step, nl.chunk_step, nl.grad, nl.rows, nl.backward_step'}}
  nl.yield
}

// -----

//===----------------------------------------------------------------------===//
// Levels and their updates
//===----------------------------------------------------------------------===//

nl.model @level_without_state attributes {dim = 4} {
  // expected-error @+1 {{'nl.level' op @L declares no state; a level holds at least its memory}}
  nl.level @L period frozen {
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @foreign_op_in_level attributes {dim = 4} {
  nl.level @L period frozen {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
    // expected-error @+1 {{'arith.constant' op cannot appear in an nl.level, which holds only nl.state ops}}
    %c = arith.constant 1.0 : f32
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @param_in_level attributes {dim = 4} {
  nl.level @L period frozen {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
    // expected-error @+1 {{'nl.param' op cannot appear in an nl.level, which holds only nl.state ops}}
    nl.param @p : tensor<4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @state_in_model attributes {dim = 4} {
  // expected-error @+1 {{'nl.state' op expects parent op 'nl.level'}}
  nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @duplicate_state attributes {dim = 4} {
  nl.level @L period frozen {
    // expected-note @+1 {{see existing symbol definition here}}
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
    // expected-error @+1 {{redefinition of symbol named 'M'}}
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @updated_twice attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    // expected-note @+1 {{first update here}}
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    // expected-error @+1 {{'nl.update' op updates level @L a second time in one step}}
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @never_updated attributes {dim = 4} {
  // expected-error @+1 {{'nl.level' op @L learns online but no nl.update in the step feeds it; add one, or declare it 'period frozen' or 'phase offline'}}
  nl.level @L period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// A chunked level is fed every token, too.
nl.model @chunked_never_updated attributes {dim = 4} {
  nl.level @fast period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-error @+1 {{'nl.level' op @slow learns online but no nl.update in the step feeds it}}
  nl.level @slow period 16 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @fast key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// A KV cache appends every token: it needs its update, too.
nl.model @cache_never_updated attributes {dim = 4} {
  // expected-error @+1 {{'nl.level' op @A learns online but no nl.update in the step feeds it}}
  nl.level @A period inf {
    nl.state @C : !nl.kv_cache<key = 4, value = 4>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// An optimizer level is fed its gates by an update of its own.
nl.model @optimizer_never_updated attributes {dim = 4} {
  // expected-error @+1 {{'nl.level' op @S learns online but no nl.update in the step feeds it}}
  nl.level @S period 1 rule <objective = linear> {
    nl.state @B : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @L period 1 rule <objective = l2, algorithm = momentum, via = [@S]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @update_frozen attributes {dim = 4} {
  // expected-note @+1 {{declared 'period frozen' here}}
  nl.level @L period frozen rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    // expected-error @+1 {{'nl.update' op level @L is frozen and cannot be updated online}}
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @update_offline attributes {dim = 4} {
  // expected-note @+1 {{declared 'phase offline' here}}
  nl.level @L period 16 phase offline rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    // expected-error @+1 {{'nl.update' op level @L learns offline and cannot be updated in nl.step}}
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @unknown_phase attributes {dim = 4} {
  // expected-error @+1 {{expected string or keyword containing one of the following enum values for attribute 'phase' [online, offline]}}
  nl.level @L period 16 phase sleeping {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @unknown_tail attributes {dim = 4} {
  // expected-error @+1 {{expected string or keyword containing one of the following enum values for attribute 'tail' [carry, flush, drop]}}
  nl.level @L period 16 tail pad {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
}
