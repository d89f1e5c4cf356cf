// RUN: nl-opt %s --split-input-file --pass-pipeline='builtin.module(nl.model(nl-expand-mlp))' -verify-diagnostics

nl.model @lp attributes {dim = 4} {
  nl.level @M period 1 rule <objective = lp, p = 3.0> {
    nl.state @W : !nl.mlp<[4, 8, 4], silu, residual> = #nl.normal<std = 0.1>
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    // expected-error @below {{'nl.update' op on the MLP memory of level @M: objective 'lp' is not derived for MLP memories yet (l2 and dot are)}}
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

nl.model @every_layer attributes {dim = 4} {
  nl.level @M period 1 rule <objective = l2, retention = decay, precond = delta, precond_target = every_layer> {
    nl.state @W : !nl.mlp<[4, 8, 4], silu, residual> = #nl.normal<std = 0.1>
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    %a = arith.constant dense<0.9> : tensor<f32>
    // expected-error @below {{'nl.update' op on the MLP memory of level @M: 'precond_target = every_layer' is not supported (only the first layer takes the key, ambiguity A21)}}
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) retain(%a : tensor<f32>)
    nl.yield
  }
}
