// RUN: nl-opt %s --nl-verify-schedule="remarks=true" -verify-diagnostics -o /dev/null

nl.model @remarks attributes {dim = 4} {
  // expected-remark @below {{level @a: period 2, rank 0, order 0, fires 3 time(s) per hyper-period of 6}}
  nl.level @a period 2 rule <objective = l2> {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-remark @below {{level @b: period 3, rank 1, order 1, fires 2 time(s) per hyper-period of 6}}
  nl.level @b period 3 rule <objective = l2> {
    nl.state @W : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @a key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @b key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}
