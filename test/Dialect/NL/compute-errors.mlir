// RUN: nl-opt %s --split-input-file -verify-diagnostics

// Checks of the compute ops; the model around each op is valid.

// nl.linear: weight d_out x d_in, input [..., d_in], bias [d_out].
nl.model @linear_rank1_weight attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %v4 = arith.constant dense<1.0> : tensor<4xf32>
    // expected-error @+1 {{'nl.linear' op weight must be a d_out x d_in matrix, or one per leading index of the input [], got shape [4]}}
    %r = nl.linear %x, %v4 : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @linear_rank3_weight attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %w3 = arith.constant dense<1.0> : tensor<2x8x4xf32>
    // expected-error @+1 {{'nl.linear' op weight must be a d_out x d_in matrix, or one per leading index of the input [], got shape [2, 8, 4]}}
    %r = nl.linear %x, %w3 : (tensor<4xf32>, tensor<2x8x4xf32>) -> tensor<8xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @linear_width_mismatch attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %v8 = arith.constant dense<1.0> : tensor<8xf32>
    %w = arith.constant dense<1.0> : tensor<8x4xf32>
    // expected-error @+1 {{'nl.linear' op input's last dimension is 8 but the weight ([8, 4]) takes 4}}
    %r = nl.linear %v8, %w : (tensor<8xf32>, tensor<8x4xf32>) -> tensor<8xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @linear_scalar_input attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %w = arith.constant dense<1.0> : tensor<8x4xf32>
    %s = arith.constant dense<1.0> : tensor<f32>
    // expected-error @+1 {{'nl.linear' op input must have at least one dimension}}
    %r = nl.linear %s, %w : (tensor<f32>, tensor<8x4xf32>) -> tensor<8xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @linear_bias_wrong_width attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %v4 = arith.constant dense<1.0> : tensor<4xf32>
    %w = arith.constant dense<1.0> : tensor<8x4xf32>
    // expected-error @+1 {{'nl.linear' op bias has shape [4] but the weight produces [8]}}
    %r = nl.linear %x, %w, %v4 : (tensor<4xf32>, tensor<8x4xf32>, tensor<4xf32>) -> tensor<8xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @linear_bias_wrong_rank attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %w = arith.constant dense<1.0> : tensor<8x4xf32>
    %h8 = arith.constant dense<1.0> : tensor<2x8xf32>
    // expected-error @+1 {{'nl.linear' op bias has shape [2, 8] but the weight produces [8]}}
    %r = nl.linear %x, %w, %h8 : (tensor<4xf32>, tensor<8x4xf32>, tensor<2x8xf32>) -> tensor<8xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @linear_result_wrong attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %w = arith.constant dense<1.0> : tensor<8x4xf32>
    // expected-error @+1 {{'nl.linear' op result has shape [4] but the projection yields [8]}}
    %r = nl.linear %x, %w : (tensor<4xf32>, tensor<8x4xf32>) -> tensor<4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @linear_result_drops_heads attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %w = arith.constant dense<1.0> : tensor<8x4xf32>
    %h = arith.constant dense<1.0> : tensor<2x4xf32>
    // expected-error @+1 {{'nl.linear' op result has shape [8] but the projection yields [2, 8]}}
    %r = nl.linear %h, %w : (tensor<2x4xf32>, tensor<8x4xf32>) -> tensor<8xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @linear_f16 attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %w = arith.constant dense<1.0> : tensor<8x4xf32>
    %x16 = arith.constant dense<1.0> : tensor<4xf16>
    // expected-error @+1 {{'nl.linear' op operand #0 must be ranked tensor of 32-bit float values, but got 'tensor<4xf16>'}}
    %r = nl.linear %x16, %w : (tensor<4xf16>, tensor<8x4xf32>) -> tensor<8xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Binary ops broadcast as NumPy does; the result is the broadcast shape.
nl.model @add_not_broadcastable attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %v3 = arith.constant dense<1.0> : tensor<3xf32>
    // expected-error @+1 {{'nl.add' op operand shapes [4] and [3] do not broadcast}}
    %r = nl.add %x, %v3 : tensor<4xf32>, tensor<3xf32> -> tensor<4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @sub_not_broadcastable attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %h = arith.constant dense<1.0> : tensor<2x4xf32>
    %h3 = arith.constant dense<1.0> : tensor<3x4xf32>
    // expected-error @+1 {{'nl.sub' op operand shapes [2, 4] and [3, 4] do not broadcast}}
    %r = nl.sub %h, %h3 : tensor<2x4xf32>, tensor<3x4xf32> -> tensor<2x4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @mul_not_broadcastable attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %v8 = arith.constant dense<1.0> : tensor<8xf32>
    %h = arith.constant dense<1.0> : tensor<2x4xf32>
    // expected-error @+1 {{'nl.mul' op operand shapes [2, 4] and [8] do not broadcast}}
    %r = nl.mul %h, %v8 : tensor<2x4xf32>, tensor<8xf32> -> tensor<2x4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @add_wrong_result attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %s = arith.constant dense<1.0> : tensor<f32>
    // expected-error @+1 {{'nl.add' op result has shape [] but the operands broadcast to [4]}}
    %r = nl.add %x, %s : tensor<4xf32>, tensor<f32> -> tensor<f32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @sub_wrong_result attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %h = arith.constant dense<1.0> : tensor<2x4xf32>
    %h1 = arith.constant dense<1.0> : tensor<2x1xf32>
    // expected-error @+1 {{'nl.sub' op result has shape [4] but the operands broadcast to [2, 4]}}
    %r = nl.sub %h, %h1 : tensor<2x4xf32>, tensor<2x1xf32> -> tensor<4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @mul_wrong_result attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %h1 = arith.constant dense<1.0> : tensor<2x1xf32>
    // expected-error @+1 {{'nl.mul' op result has shape [2, 1] but the operands broadcast to [2, 4]}}
    %r = nl.mul %h1, %x : tensor<2x1xf32>, tensor<4xf32> -> tensor<2x1xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @add_f16_result attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{'nl.add' op result #0 must be ranked tensor of 32-bit float values, but got 'tensor<4xf16>'}}
    %r = nl.add %x, %x : tensor<4xf32>, tensor<4xf32> -> tensor<4xf16>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @div_not_broadcastable attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %h3 = arith.constant dense<1.0> : tensor<3x4xf32>
    %h = arith.constant dense<1.0> : tensor<2x4xf32>
    // expected-error @+1 {{'nl.div' op operand shapes [2, 4] and [3, 4] do not broadcast}}
    %r = nl.div %h, %h3 : tensor<2x4xf32>, tensor<3x4xf32> -> tensor<2x4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @div_wrong_result attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %s = arith.constant dense<1.0> : tensor<f32>
    // expected-error @+1 {{'nl.div' op result has shape [] but the operands broadcast to [4]}}
    %r = nl.div %s, %x : tensor<f32>, tensor<4xf32> -> tensor<f32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// nl.act keeps the type; only the generic form can spell a mismatch.
nl.model @act_type_mismatch attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{'nl.act' op requires the same type for all operands and results}}
    %r = "nl.act"(%x) <{kind = 2 : i32}> : (tensor<4xf32>) -> tensor<8xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @act_unknown_kind attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{custom op 'nl.act' expected string or keyword containing one of the following enum values for attribute 'kind' [identity, relu, silu, gelu, gelu_tanh, sigmoid, tanh, softplus, exp]}}
    %r = nl.act swish %x : tensor<4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @act_kind_out_of_range attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{invalid properties {kind = 42 : i32} for op nl.act}}
    %r = "nl.act"(%x) <{kind = 42 : i32}> : (tensor<4xf32>) -> tensor<4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// nl.norm.
nl.model @norm_none attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{'nl.norm' op norm kind 'none' normalizes nothing; remove the op}}
    %r = nl.norm none %x : (tensor<4xf32>) -> tensor<4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @norm_unknown_kind attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{custom op 'nl.norm' expected string or keyword containing one of the following enum values for attribute 'kind' [none, l2, layer, rms]}}
    %r = nl.norm batch %x : (tensor<4xf32>) -> tensor<4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @norm_l2_with_scale attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{'nl.norm' op an l2 norm takes no scale or shift}}
    %r = nl.norm l2 %x scale %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Generic form: the custom form cannot spell a shift without a scale.
nl.model @norm_l2_with_shift attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{'nl.norm' op an l2 norm takes no scale or shift}}
    %r = "nl.norm"(%x, %x) <{kind = 1 : i32, operandSegmentSizes = array<i32: 1, 0, 1>}> : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @norm_rms_with_shift attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{'nl.norm' op an rms norm takes no shift}}
    %r = nl.norm rms %x scale %x shift %x : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @norm_scale_wrong_size attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %v8 = arith.constant dense<1.0> : tensor<8xf32>
    // expected-error @+1 {{'nl.norm' op scale must be a vector of 4 values (the normalized dimension)}}
    %r = nl.norm layer %x scale %v8 : (tensor<4xf32>, tensor<8xf32>) -> tensor<4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @norm_shift_wrong_size attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %v3 = arith.constant dense<1.0> : tensor<3xf32>
    // expected-error @+1 {{'nl.norm' op shift must be a vector of 4 values (the normalized dimension)}}
    %r = nl.norm layer %x scale %x shift %v3 : (tensor<4xf32>, tensor<4xf32>, tensor<3xf32>) -> tensor<4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Scale and shift act on the last dimension only: no per-head gains.
nl.model @norm_scale_per_head attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %h = arith.constant dense<1.0> : tensor<2x4xf32>
    // expected-error @+1 {{'nl.norm' op scale must be a vector of 4 values (the normalized dimension)}}
    %r = nl.norm rms %h scale %h : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @norm_result_mismatch attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{'nl.norm' op result type 'tensor<8xf32>' must equal the input type 'tensor<4xf32>'}}
    %r = nl.norm layer %x : (tensor<4xf32>) -> tensor<8xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @norm_eps_zero attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{'nl.norm' op 'eps' must be positive}}
    %r = nl.norm layer %x {eps = 0.0 : f64} : (tensor<4xf32>) -> tensor<4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @norm_eps_negative attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{'nl.norm' op 'eps' must be positive}}
    %r = nl.norm rms %x {eps = -1.0e-06 : f64} : (tensor<4xf32>) -> tensor<4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @norm_scalar_input attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %s = arith.constant dense<1.0> : tensor<f32>
    // expected-error @+1 {{'nl.norm' op input must have at least one dimension}}
    %r = nl.norm l2 %s : (tensor<f32>) -> tensor<f32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// nl.conv: weight is width x channels; the result has the input's type.
nl.model @conv_rank1_weight attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %v4 = arith.constant dense<1.0> : tensor<4xf32>
    // expected-error @+1 {{'nl.conv' op weight must be (width x channels), got shape [4]}}
    %r = nl.conv %x, %v4 : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @conv_channel_mismatch attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %c5 = arith.constant dense<1.0> : tensor<3x5xf32>
    // expected-error @+1 {{'nl.conv' op input's last dimension must be the weight's channel count 5}}
    %r = nl.conv %x, %c5 : (tensor<4xf32>, tensor<3x5xf32>) -> tensor<4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @conv_scalar_input attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %s = arith.constant dense<1.0> : tensor<f32>
    %c = arith.constant dense<1.0> : tensor<3x4xf32>
    // expected-error @+1 {{'nl.conv' op input's last dimension must be the weight's channel count 4}}
    %r = nl.conv %s, %c : (tensor<f32>, tensor<3x4xf32>) -> tensor<f32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @conv_result_mismatch attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %c = arith.constant dense<1.0> : tensor<3x4xf32>
    // expected-error @+1 {{'nl.conv' op result type must equal the input type 'tensor<4xf32>'}}
    %r = nl.conv %x, %c : (tensor<4xf32>, tensor<3x4xf32>) -> tensor<8xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// nl.get_param.
nl.model @get_param_unknown attributes {dim = 4} {
  nl.param @W : tensor<8x4xf32> = #nl.zeros
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{'nl.get_param' op names @nowhere, which is not a parameter of model @get_param_unknown}}
    %r = nl.get_param @nowhere : tensor<8x4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @get_param_of_level attributes {dim = 4} {
  nl.param @W : tensor<8x4xf32> = #nl.zeros
  nl.level @L period frozen {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{'nl.get_param' op names @L, which is not a parameter of model @get_param_of_level}}
    %r = nl.get_param @L : tensor<4x4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @get_param_dynamic_result attributes {dim = 4} {
  nl.param @W : tensor<8x4xf32> = #nl.zeros
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{'nl.get_param' op result #0 must be statically shaped tensor of any type values, but got 'tensor<?x4xf32>'}}
    %r = nl.get_param @W : tensor<?x4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Positive (no diagnostic expected): the parameter's type and the result
// type agree.
nl.model @get_param_ok attributes {dim = 4} {
  nl.param @W : tensor<8x4xf32> = #nl.zeros
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %w = nl.get_param @W : tensor<8x4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @get_param_type_mismatch attributes {dim = 4} {
  // expected-note @+1 {{parameter declared here}}
  nl.param @W : tensor<8x4xf32> = #nl.zeros
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{'nl.get_param' op result type 'tensor<4x8xf32>' does not match the parameter's type 'tensor<8x4xf32>'}}
    %w = nl.get_param @W : tensor<4x8xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// expected-error @+1 {{'nl.get_param' op must be inside an nl.model}}
%w = nl.get_param @W : tensor<8x4xf32>
