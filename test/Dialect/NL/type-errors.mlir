// RUN: nl-opt %s --split-input-file -verify-diagnostics

// !nl.matrix: two static dimensions, positive sizes and heads, float elements.
nl.model @matrix_three_dims attributes {dim = 4} {
  nl.level @L period frozen {
    // expected-error @+1 {{a matrix memory has two dimensions (rows x cols), got 3}}
    nl.state @M : !nl.matrix<4x4x4xf32> = #nl.zeros
  }
}

// -----

nl.model @matrix_one_dim attributes {dim = 4} {
  nl.level @L period frozen {
    // expected-error @+1 {{a matrix memory has two dimensions (rows x cols), got 1}}
    nl.state @M : !nl.matrix<4xf32> = #nl.zeros
  }
}

// -----

nl.model @matrix_zero_rows attributes {dim = 4} {
  nl.level @L period frozen {
    // expected-error @+1 {{matrix memory dimensions must be positive, got 0x4}}
    nl.state @M : !nl.matrix<0x4xf32> = #nl.zeros
  }
}

// -----

nl.model @matrix_zero_cols attributes {dim = 4} {
  nl.level @L period frozen {
    // expected-error @+1 {{matrix memory dimensions must be positive, got 4x0}}
    nl.state @M : !nl.matrix<4x0xf32> = #nl.zeros
  }
}

// -----

nl.model @matrix_dynamic attributes {dim = 4} {
  nl.level @L period frozen {
    // expected-error @+1 {{expected static shape}}
    nl.state @M : !nl.matrix<4x?xf32> = #nl.zeros
  }
}

// -----

nl.model @matrix_zero_heads attributes {dim = 4} {
  nl.level @L period frozen {
    // expected-error @+1 {{'heads' must be a positive integer, got 0}}
    nl.state @M : !nl.matrix<4x4xf32, heads = 0> = #nl.zeros
  }
}

// -----

nl.model @matrix_negative_heads attributes {dim = 4} {
  nl.level @L period frozen {
    // expected-error @+1 {{'heads' must be a positive integer, got -2}}
    nl.state @M : !nl.matrix<4x4xf32, heads = -2> = #nl.zeros
  }
}

// -----

nl.model @matrix_integer_elements attributes {dim = 4} {
  nl.level @L period frozen {
    // expected-error @+1 {{matrix memory elements are f32 (state stays in full precision), got 'i32'}}
    nl.state @M : !nl.matrix<4x4xi32> = #nl.zeros
  }
}

// -----

nl.model @matrix_unknown_field attributes {dim = 4} {
  nl.level @L period frozen {
    // expected-error @+1 {{unknown matrix memory field 'rank'; expected 'heads' or 'layout'}}
    nl.state @M : !nl.matrix<4x4xf32, rank = 2> = #nl.zeros
  }
}

// -----

nl.model @matrix_unknown_layout attributes {dim = 4} {
  nl.level @L period frozen {
    // expected-error @+1 {{unknown layout 'row_major'; expected out_in or in_out}}
    nl.state @M : !nl.matrix<4x4xf32, layout = row_major> = #nl.zeros
  }
}

// -----

// !nl.mlp: at least an input and an output width, all positive.
nl.model @mlp_one_width attributes {dim = 4} {
  nl.level @L period frozen {
    // expected-error @+1 {{an MLP memory needs at least two widths (input and output), got 1}}
    nl.state @M : !nl.mlp<[4]> = #nl.zeros
  }
}

// -----

nl.model @mlp_no_width attributes {dim = 4} {
  nl.level @L period frozen {
    // expected-error @+1 {{an MLP memory needs at least two widths (input and output), got 0}}
    nl.state @M : !nl.mlp<[]> = #nl.zeros
  }
}

// -----

nl.model @mlp_zero_width attributes {dim = 4} {
  nl.level @L period frozen {
    // expected-error @+1 {{MLP memory widths must be positive, got 0}}
    nl.state @M : !nl.mlp<[4, 0, 4]> = #nl.zeros
  }
}

// -----

nl.model @mlp_negative_width attributes {dim = 4} {
  nl.level @L period frozen {
    // expected-error @+1 {{MLP memory widths must be positive, got -8}}
    nl.state @M : !nl.mlp<[4, -8, 4]> = #nl.zeros
  }
}

// -----

nl.model @mlp_residual_mismatch attributes {dim = 4} {
  nl.level @L period frozen {
    // expected-error @+1 {{a residual MLP memory needs equal input and output widths, got 4 and 8}}
    nl.state @M : !nl.mlp<[4, 16, 8], silu, residual> = #nl.zeros
  }
}

// -----

nl.model @mlp_unknown_field attributes {dim = 4} {
  nl.level @L period frozen {
    // expected-error @+1 {{unknown MLP memory field 'swish'; expected an activation, 'bias', 'residual', 'norm' or 'heads'}}
    nl.state @M : !nl.mlp<[4, 16, 4], swish> = #nl.zeros
  }
}

// -----

nl.model @mlp_unknown_norm attributes {dim = 4} {
  nl.level @L period frozen {
    // expected-error @+1 {{unknown norm 'batch'; expected none, l2, layer or rms}}
    nl.state @M : !nl.mlp<[4, 16, 4], norm = batch> = #nl.zeros
  }
}

// -----

nl.model @mlp_zero_heads attributes {dim = 4} {
  nl.level @L period frozen {
    // expected-error @+1 {{'heads' must be a positive integer, got 0}}
    nl.state @M : !nl.mlp<[4, 16, 4], heads = 0> = #nl.zeros
  }
}

// -----

// !nl.kv_cache: positive widths and heads, window 0 (unbounded) or positive.
nl.model @kv_zero_key attributes {dim = 4} {
  nl.level @L period inf {
    // expected-error @+1 {{KV cache key and value widths must be positive}}
    nl.state @C : !nl.kv_cache<key = 0, value = 4>
  }
}

// -----

nl.model @kv_zero_value attributes {dim = 4} {
  nl.level @L period inf {
    // expected-error @+1 {{KV cache key and value widths must be positive}}
    nl.state @C : !nl.kv_cache<key = 4, value = 0>
  }
}

// -----

nl.model @kv_negative_window attributes {dim = 4} {
  nl.level @L period inf {
    // expected-error @+1 {{'window' must be 0 (unbounded) or a positive number of tokens, got -1}}
    nl.state @C : !nl.kv_cache<key = 4, value = 4, window = -1>
  }
}

// -----

nl.model @kv_zero_heads attributes {dim = 4} {
  nl.level @L period inf {
    // expected-error @+1 {{'heads' must be a positive integer, got 0}}
    nl.state @C : !nl.kv_cache<key = 4, value = 4, heads = 0>
  }
}

// -----

nl.model @kv_missing_value attributes {dim = 4} {
  nl.level @L period inf {
    // expected-error @+1 {{struct is missing required parameter: value}}
    nl.state @C : !nl.kv_cache<key = 4>
  }
}

// -----

nl.model @kv_unknown_field attributes {dim = 4} {
  nl.level @L period inf {
    // expected-error @+1 {{duplicate or unknown struct parameter name: size}}
    nl.state @C : !nl.kv_cache<key = 4, value = 4, size = 8>
  }
}

// -----

// Unknown type mnemonic.
nl.model @unknown_type attributes {dim = 4} {
  nl.level @L period frozen {
    // expected-error @+1 {{unknown  type `vector_memory` in dialect `nl`}}
    nl.state @M : !nl.vector_memory<4> = #nl.zeros
  }
}
