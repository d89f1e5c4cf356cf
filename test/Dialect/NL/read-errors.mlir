// RUN: nl-opt %s --split-input-file -verify-diagnostics

// Checks of nl.read against the memory it reads.

// M is d_out x d_in: an 8x4 matrix maps 4 values to 8.
nl.model @result_wrong_width attributes {dim = 4} {
  nl.level @L period frozen {
    nl.state @M : !nl.matrix<8x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{'nl.read' op result has shape [4] but the memory's value width needs [8]}}
    %y = nl.read @L(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @query_wrong_width attributes {dim = 4} {
  nl.level @L period frozen {
    nl.state @M : !nl.matrix<4x8xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{'nl.read' op query has shape [4] but the memory's key width needs [8]}}
    %y = nl.read @L(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// With layout = in_out the matrix is d_in x d_out: the key width is rows.
nl.model @query_in_out_layout attributes {dim = 4} {
  nl.level @L period frozen {
    nl.state @M : !nl.matrix<8x4xf32, layout = in_out> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{'nl.read' op query has shape [4] but the memory's key width needs [8]}}
    %y = nl.read @L(%x) : tensor<4xf32> -> tensor<8xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @query_missing_heads attributes {dim = 4} {
  nl.level @L period frozen {
    nl.state @M : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{'nl.read' op query has shape [4] but the memory's key width needs [2, 4]}}
    %y = nl.read @L(%x) : tensor<4xf32> -> tensor<2x4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @query_wrong_heads attributes {dim = 4} {
  nl.level @L period frozen {
    nl.state @M : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %q = arith.constant dense<1.0> : tensor<4x4xf32>
    // expected-error @+1 {{'nl.read' op query has shape [4, 4] but the memory's key width needs [2, 4]}}
    %y = nl.read @L(%q) : tensor<4x4xf32> -> tensor<2x4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @result_missing_heads attributes {dim = 4} {
  nl.level @L period frozen {
    nl.state @M : !nl.mlp<[4, 16, 8], silu, heads = 2> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %q = arith.constant dense<1.0> : tensor<2x4xf32>
    // expected-error @+1 {{'nl.read' op result has shape [8] but the memory's value width needs [2, 8]}}
    %y = nl.read @L(%q) : tensor<2x4xf32> -> tensor<8xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @mlp_result_wrong_width attributes {dim = 4} {
  nl.level @L period frozen {
    nl.state @M : !nl.mlp<[4, 16, 8], silu> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{'nl.read' op result has shape [4] but the memory's value width needs [8]}}
    %y = nl.read @L(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @cache_result_wrong_width attributes {dim = 4} {
  nl.level @A period inf {
    nl.state @C : !nl.kv_cache<key = 4, value = 8>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %v = arith.constant dense<1.0> : tensor<8xf32>
    nl.update @A key(%x : tensor<4xf32>) value(%v : tensor<8xf32>)
    // expected-error @+1 {{'nl.read' op result has shape [4] but the memory's value width needs [8]}}
    %y = nl.read @A(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @cache_query_missing_heads attributes {dim = 4} {
  nl.level @A period inf {
    nl.state @C : !nl.kv_cache<key = 4, value = 4, heads = 2>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %h = arith.constant dense<1.0> : tensor<2x4xf32>
    nl.update @A key(%h : tensor<2x4xf32>) value(%h : tensor<2x4xf32>)
    // expected-error @+1 {{'nl.read' op query has shape [4] but the memory's key width needs [2, 4]}}
    %y = nl.read @A(%x) : tensor<4xf32> -> tensor<2x4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// A tensor buffer (the state of a linear-objective level) is not a map.
nl.model @read_tensor_buffer attributes {dim = 4} {
  nl.level @L period frozen {
    // expected-note @+1 {{the level's memory is declared here}}
    nl.state @W : tensor<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{'nl.read' op level @L holds a tensor buffer ('tensor<4x4xf32>'), which cannot be read or given keys; only !nl.matrix, !nl.mlp and !nl.kv_cache can}}
    %y = nl.read @L(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @unknown_level attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{'nl.read' op names @memory, which is not defined in model @unknown_level}}
    %y = nl.read @memory(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @read_a_param attributes {dim = 4} {
  // expected-note @+1 {{@W is defined here}}
  nl.param @W : tensor<4x4xf32> = #nl.zeros
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{'nl.read' op names @W, which is a 'nl.param', not a level}}
    %y = nl.read @W(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @result_not_f32 attributes {dim = 4} {
  nl.level @L period frozen {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{'nl.read' op result #0 must be ranked tensor of 32-bit float values, but got 'tensor<4xf16>'}}
    %y = nl.read @L(%x) : tensor<4xf32> -> tensor<4xf16>
    nl.yield %x : tensor<4xf32>
  }
}

// -----

%q = arith.constant dense<1.0> : tensor<4xf32>
// expected-error @+1 {{'nl.read' op must be inside an nl.model}}
%y = nl.read @L(%q) : tensor<4xf32> -> tensor<4xf32>
