// RUN: nl-opt %s --split-input-file --nl-schedule-pipeline --nl-to-loops -verify-diagnostics

// What the CPU back end does not compile yet is a located error, not a
// crash or wrong code.
nl.model @mlp attributes {dim = 4} {
  // expected-error @below {{uses an MLP memory (!nl.mlp; its gradients must be derived by the compiler first); the CPU back end does not compile that yet}}
  nl.level @L period 1 rule <objective = l2> {
    nl.state @M : !nl.mlp<[4, 8, 4], silu, residual> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

nl.model @cache attributes {dim = 4} {
  // expected-error @below {{uses an unbounded KV cache (window = 0; the CPU back end keeps a fixed-size ring buffer); the CPU back end does not compile that yet}}
  nl.level @A period inf {
    nl.state @C : !nl.kv_cache<key = 4, value = 4>
  }
  nl.step(%x : tensor<4xf32>) {
    nl.update @A key(%x : tensor<4xf32>) value(%x : tensor<4xf32>)
    nl.yield
  }
}

// -----

nl.model @dgd_chunked attributes {dim = 4} {
  // expected-error @below {{uses algorithm 'dgd' on a level with a period above 1; the CPU back end does not compile that yet}}
  nl.level @W period 4 rule <objective = l2, algorithm = dgd> {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @W key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}
