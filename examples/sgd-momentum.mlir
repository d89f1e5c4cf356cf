// SGD with momentum as two levels over a gradient stream (NL §4, Eqs 33-34):
// the context of each step is the gradient g_t of a 4096-element weight.
//   m_{t+1} = momentum_decay * m_t - lr * g_t   (level @m: a memory of g)
//   W_{t+1} = W_t + m_{t+1}                     (level @W applies it)
// The same @m level, attached to a Titans memory, is examples/titans-momentum:
// architecture and optimizer are written with the same ops.
nl.model @sgd_momentum attributes {dim = 4096} {
  nl.level @m period 1 rule <objective = linear, retention = decay> {
    nl.state @m : tensor<4096xf32> = #nl.zeros
  }
  nl.level @W period 1 rule <objective = linear, algorithm = momentum, via = [@m]> {
    nl.state @W : tensor<4096xf32> = #nl.from_file<"W">
  }

  nl.step(%g : tensor<4096xf32>) {
    %lr = arith.constant dense<0.01> : tensor<f32>
    %beta = arith.constant dense<0.9> : tensor<f32>
    %one = arith.constant dense<1.0> : tensor<f32>
    nl.update @m lr(%lr : tensor<f32>) retain(%beta : tensor<f32>)
    nl.update @W grad(%g : tensor<4096xf32>) lr(%one : tensor<f32>)
    nl.yield
  }
}
