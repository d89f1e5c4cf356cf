// RUN: nl-opt %s --split-input-file -verify-diagnostics

// Initializers of parameters and states.

nl.model @param_without_initializer attributes {dim = 4} {
  // expected-error @+1 {{'nl.param' op parameter @p has no initializer; add one, e.g. '= #nl.zeros', '= #nl.normal<std = 0.02>' or '= #nl.from_file<"name">'}}
  nl.param @p : tensor<4xf32>
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @state_without_initializer attributes {dim = 4} {
  nl.level @L period frozen {
    // expected-error @+1 {{'nl.state' op state @M has no initializer; add one}}
    nl.state @M : !nl.matrix<4x4xf32>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @buffer_without_initializer attributes {dim = 4} {
  nl.level @L period frozen {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
    // expected-error @+1 {{'nl.state' op state @b has no initializer}}
    nl.state @b : tensor<4xf32>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @not_an_initializer attributes {dim = 4} {
  // expected-error @+1 {{invalid kind of attribute specified}}
  nl.param @p : tensor<4xf32> = 3
}

// -----

nl.model @normal_zero_std attributes {dim = 4} {
  // expected-error @+1 {{'std' of #nl.normal must be positive and finite, got 0.000000e+00}}
  nl.param @p : tensor<4xf32> = #nl.normal<std = 0.0>
}

// -----

nl.model @normal_negative_std attributes {dim = 4} {
  // expected-error @+1 {{'std' of #nl.normal must be positive and finite, got -1.000000e+00}}
  nl.param @p : tensor<4xf32> = #nl.normal<std = -1.0, mean = 1.0>
}

// -----

// Hexadecimal literals give the bits of a double: 0x7FF0000000000000 is +inf.
nl.model @normal_infinite_std attributes {dim = 4} {
  // expected-error @+2 {{expected a finite number}}
  // expected-error @+1 {{failed to parse NL_NormalAttr parameter 'std'}}
  nl.param @p : tensor<4xf32> = #nl.normal<std = 0x7FF0000000000000>
}

// -----

nl.model @normal_infinite_mean attributes {dim = 4} {
  // expected-error @+2 {{expected a finite number}}
  // expected-error @+1 {{failed to parse NL_NormalAttr parameter 'mean'}}
  nl.param @p : tensor<4xf32> = #nl.normal<std = 1.0, mean = 0x7FF0000000000000>
}

// -----

nl.model @normal_missing_std attributes {dim = 4} {
  // expected-error @+1 {{struct is missing required parameter: std}}
  nl.param @p : tensor<4xf32> = #nl.normal<mean = 1.0>
}

// -----

nl.model @uniform_empty_range attributes {dim = 4} {
  // expected-error @+1 {{#nl.uniform needs finite low < high, got [1.000000e+00, 1.000000e+00]}}
  nl.param @p : tensor<4xf32> = #nl.uniform<low = 1.0, high = 1.0>
}

// -----

nl.model @uniform_reversed attributes {dim = 4} {
  // expected-error @+1 {{#nl.uniform needs finite low < high, got [2.000000e+00, -1.000000e+00]}}
  nl.param @p : tensor<4xf32> = #nl.uniform<low = 2.0, high = -1.0>
}

// -----

nl.model @uniform_infinite attributes {dim = 4} {
  // expected-error @+2 {{expected a finite number}}
  // expected-error @+1 {{failed to parse NL_UniformAttr parameter 'high'}}
  nl.param @p : tensor<4xf32> = #nl.uniform<low = 0.0, high = 0x7FF0000000000000>
}

// -----

nl.model @from_file_empty_name attributes {dim = 4} {
  // expected-error @+1 {{#nl.from_file needs a non-empty tensor name}}
  nl.param @p : tensor<4xf32> = #nl.from_file<"">
}

// -----

nl.model @identity_non_square_param attributes {dim = 4} {
  // expected-error @+1 {{'nl.param' op #nl.identity needs square matrices in the last two dimensions, got 'tensor<4x8xf32>'}}
  nl.param @p : tensor<4x8xf32> = #nl.identity
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @identity_vector attributes {dim = 4} {
  // expected-error @+1 {{'nl.param' op #nl.identity needs square matrices in the last two dimensions, got 'tensor<4xf32>'}}
  nl.param @p : tensor<4xf32> = #nl.identity
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @identity_non_square_matrix attributes {dim = 4} {
  nl.level @L period frozen {
    // expected-error @+1 {{'nl.state' op #nl.identity needs a square matrix, got 4x8}}
    nl.state @M : !nl.matrix<4x8xf32> = #nl.identity
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @identity_mlp attributes {dim = 4} {
  nl.level @L period frozen {
    // expected-error @+1 {{'nl.state' op #nl.identity needs a square matrix, got '!nl.mlp<[4, 8, 4]>'}}
    nl.state @M : !nl.mlp<[4, 8, 4]> = #nl.identity
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// A KV cache starts empty: no initializer, not even zeros.
nl.model @kv_cache_zeros attributes {dim = 4} {
  nl.level @A period inf {
    // expected-error @+1 {{'nl.state' op a KV cache starts empty and takes no initializer}}
    nl.state @C : !nl.kv_cache<key = 4, value = 4> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.update @A key(%x : tensor<4xf32>) value(%x : tensor<4xf32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @kv_cache_from_file attributes {dim = 4} {
  nl.level @A period inf {
    // expected-error @+1 {{'nl.state' op a KV cache starts empty and takes no initializer}}
    nl.state @C : !nl.kv_cache<key = 4, value = 4> = #nl.from_file<"cache">
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.update @A key(%x : tensor<4xf32>) value(%x : tensor<4xf32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @param_f16 attributes {dim = 4} {
  // expected-error @+1 {{'nl.param' op parameters are f32 tensors, got 'tensor<4xf16>'}}
  nl.param @p : tensor<4xf16> = #nl.zeros
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @param_dynamic attributes {dim = 4} {
  // expected-error @+1 {{'nl.param' op attribute 'type' failed to satisfy constraint: type attribute of statically shaped tensor of any type values}}
  nl.param @p : tensor<?xf32> = #nl.zeros
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @param_memory_type attributes {dim = 4} {
  // expected-error @+1 {{'nl.param' op attribute 'type' failed to satisfy constraint: type attribute of statically shaped tensor of any type values}}
  nl.param @p : !nl.matrix<4x4xf32> = #nl.zeros
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @state_buffer_f16 attributes {dim = 4} {
  nl.level @L period frozen {
    // expected-error @+1 {{'nl.state' op state buffers are f32 tensors, got 'tensor<4xf16>'}}
    nl.state @M : tensor<4xf16> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @state_dynamic_buffer attributes {dim = 4} {
  nl.level @L period frozen {
    // expected-error @+1 {{'nl.state' op attribute 'type' failed to satisfy constraint: type attribute of a memory type or a static tensor}}
    nl.state @M : tensor<?xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @from_param_missing attributes {dim = 4} {
  nl.level @L period frozen {
    // expected-error @+1 {{'nl.state' op starts from @W0, which is not a parameter of this model}}
    nl.state @M : tensor<4xf32> = #nl.from_param<@W0>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @from_param_shape attributes {dim = 4} {
  nl.param @W0 : tensor<4x4xf32> = #nl.zeros
  nl.level @L period frozen {
    // expected-error @+1 {{'nl.state' op starts from parameter @W0 of type 'tensor<4x4xf32>', but its storage is 'tensor<4x2xf32>'}}
    nl.state @M : !nl.matrix<4x2xf32> = #nl.from_param<@W0>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @param_from_param attributes {dim = 4} {
  nl.param @W0 : tensor<4xf32> = #nl.zeros
  // expected-error @+1 {{'nl.param' op a parameter has an initializer of its own; #nl.from_param initializes states}}
  nl.param @W1 : tensor<4xf32> = #nl.from_param<@W0>
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @from_param_mlp attributes {dim = 4} {
  nl.param @W0 : tensor<4x4xf32> = #nl.zeros
  nl.level @L period frozen {
    // expected-error @+1 {{#nl.from_param initializes a tensor or matrix state, not an MLP memory}}
    nl.state @M : !nl.mlp<[4, 4]> = #nl.from_param<@W0>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}
