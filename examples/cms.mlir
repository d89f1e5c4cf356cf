// A Continuum Memory System of three MLP levels (NL arXiv:2512.24695, §7,
// Eqs 70-71), sequential variant: y = M3(M2(M1(x))) with chunk sizes
// 1 / 16 / 256. Each level accumulates the gradients of its chunk, taken at
// the chunk-start state (`grad_at = chunk_start`, ambiguity A9), and applies
// them once at the chunk boundary; a partial chunk is carried to the next
// call (`tail carry`, A12). The gradient source here is a local L2 objective
// per level that reconstructs a projection of the token (A11: the task-loss
// teach signal is the other reading; see docs/ambiguities.md). The
// `backprop` transfers record that the three levels share one gradient flow.
nl.model @cms attributes {dim = 64} {
  nl.param @W_target : tensor<64x64xf32> = #nl.normal<std = 0.02>

  nl.level @mlp_fast period 1 rule <objective = l2, grad_at = chunk_start> {
    nl.state @W : !nl.mlp<[64, 256, 64], gelu, residual> = #nl.normal<std = 0.02>
  }
  nl.level @mlp_mid period 16 rule <objective = l2, grad_at = chunk_start> {
    nl.state @W : !nl.mlp<[64, 256, 64], gelu, residual> = #nl.normal<std = 0.02>
  }
  nl.level @mlp_slow period 256 rule <objective = l2, grad_at = chunk_start> {
    nl.state @W : !nl.mlp<[64, 256, 64], gelu, residual> = #nl.normal<std = 0.02>
  }
  nl.transfer backprop @mlp_mid -> @mlp_fast
  nl.transfer backprop @mlp_slow -> @mlp_mid

  nl.step(%x : tensor<64xf32>) -> tensor<64xf32> {
    %Wt = nl.get_param @W_target : tensor<64x64xf32>
    %target = nl.linear %x, %Wt : (tensor<64xf32>, tensor<64x64xf32>) -> tensor<64xf32>
    %lr = arith.constant dense<0.01> : tensor<f32>
    %h1 = nl.read @mlp_fast(%x) : tensor<64xf32> -> tensor<64xf32>
    %h2 = nl.read @mlp_mid(%h1) : tensor<64xf32> -> tensor<64xf32>
    %y = nl.read @mlp_slow(%h2) : tensor<64xf32> -> tensor<64xf32>
    nl.update @mlp_fast key(%x : tensor<64xf32>) value(%target : tensor<64xf32>) lr(%lr : tensor<f32>)
    nl.update @mlp_mid key(%h1 : tensor<64xf32>) value(%target : tensor<64xf32>) lr(%lr : tensor<f32>)
    nl.update @mlp_slow key(%h2 : tensor<64xf32>) value(%target : tensor<64xf32>) lr(%lr : tensor<f32>)
    nl.yield %y : tensor<64xf32>
  }
}
