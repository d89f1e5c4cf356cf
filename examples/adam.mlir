// Adam as one weight level served by two moment levels of the same period
// (NL App. B: Adam's moments are same-frequency, independent memories of the
// gradient stream; the first is fed g, the second g*g):
//   m1 = b1 m1 + (1 - b1) g,   m2 = b2 m2 + (1 - b2) g*g
//   W  = W - lr m1 / (sqrt(m2) + eps)
nl.model @adam attributes {dim = 4096} {
  nl.level @m1 period 1 rule <objective = linear, retention = decay> {
    nl.state @m : tensor<4096xf32> = #nl.zeros
  }
  nl.level @m2 period 1 rule <objective = linear, retention = decay> {
    nl.state @v : tensor<4096xf32> = #nl.zeros
  }
  nl.level @W period 1 rule <objective = linear, algorithm = adam, via = [@m1, @m2], eps = 1.0e-08> {
    nl.state @W : tensor<4096xf32> = #nl.from_file<"W">
  }

  nl.step(%g : tensor<4096xf32>) {
    %lr = arith.constant dense<1.0e-3> : tensor<f32>
    %b1 = arith.constant dense<0.9> : tensor<f32>
    %c1 = arith.constant dense<0.1> : tensor<f32>
    %b2 = arith.constant dense<0.999> : tensor<f32>
    %c2 = arith.constant dense<1.0e-3> : tensor<f32>
    nl.update @m1 lr(%c1 : tensor<f32>) retain(%b1 : tensor<f32>)
    nl.update @m2 lr(%c2 : tensor<f32>) retain(%b2 : tensor<f32>)
    nl.update @W grad(%g : tensor<4096xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}
