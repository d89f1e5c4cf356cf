// RUN: nl-opt %s | nl-opt | FileCheck %s

// The ops of a multi-rate chunk: a slower MLP level (period 8 in chunks of
// 4) adds its chunk to its pending one (nl.accumulate), and a read after
// its write on the chunk's last token uses the pending chunk (nl.pending)
// and whether the level fires there (nl.fires).

// CHECK-LABEL: nl.model @rates
// CHECK: nl.chunk_step size 4
// CHECK: %[[P:.*]]:2 = nl.pending @slow : tensor<8x4xf32>, tensor<4x8xf32>
// CHECK-NEXT: %[[F:.*]] = nl.fires @slow : tensor<f32>
// CHECK-NEXT: nl.accumulate @slow(%[[P]]#0, %[[P]]#1 : tensor<8x4xf32>, tensor<4x8xf32>)
// CHECK-NEXT: nl.yield
nl.model @rates attributes {dim = 4} {
  nl.level @slow period 8 rule <objective = l2, grad_at = chunk_start> {
    nl.state @W : !nl.mlp<[4, 8, 4], gelu> = #nl.normal<std = 0.1>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @slow key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
  nl.chunk_step size 4 (%X : tensor<4x4xf32>) -> tensor<4x4xf32> {
    %p:2 = nl.pending @slow : tensor<8x4xf32>, tensor<4x8xf32>
    %f = nl.fires @slow : tensor<f32>
    nl.accumulate @slow(%p#0, %p#1 : tensor<8x4xf32>, tensor<4x8xf32>)
    nl.yield %X : tensor<4x4xf32>
  }
}
