// A Hope block (NL arXiv:2512.24695, §8.3, Eqs 94-97): self-modifying
// Titans followed by a two-level Continuum Memory System.
//
// Self-modifying Titans (§8.2, Eqs 86-91): k, v, lr and retain are produced
// by memories read at the previous state (`read = before_write`), and every
// memory generates its own value v_hat = M(v) (self-referential):
//   M_t = M_{t-1} (retain_t I - lr_t k_t k_t^T) - lr_t grad L(M_c; k_t, v_hat)
// (`precond = delta` on the first layer, A19/A21; gradients at the chunk
// boundary state M_c, `grad_at = chunk_start`). q is the only fixed
// projection (A16). Chunk sizes: 8 for the output memory, 64 for the others
// (A17, kmccleary's ablation values). The output memory keeps a fused
// momentum buffer (A22: Hope's ablation has a momentum term).
// lr = 0.1 * softplus(M_lr(x)), retain = sigmoid(M_retain(x)) (A20).
// CMS (§7): two MLP levels of chunk 16 and 256 after the memory read.
nl.model @hope attributes {dim = 64} {
  nl.param @W_q : tensor<64x64xf32> = #nl.normal<std = 0.02>
  nl.param @conv : tensor<4x64xf32> = #nl.normal<std = 0.1>
  nl.param @W_target : tensor<64x64xf32> = #nl.normal<std = 0.02>

  // The self-modifying memories.
  nl.level @M_k period 64 rule <objective = l2, retention = decay, grad_at = chunk_start, read = before_write, precond = delta> {
    nl.state @W : !nl.mlp<[64, 256, 64], silu, residual> = #nl.normal<std = 0.02>
  }
  nl.level @M_v period 64 rule <objective = l2, retention = decay, grad_at = chunk_start, read = before_write, precond = delta> {
    nl.state @W : !nl.mlp<[64, 256, 64], silu, residual> = #nl.normal<std = 0.02>
  }
  nl.level @M_lr period 64 rule <objective = l2, retention = decay, grad_at = chunk_start, read = before_write, precond = delta> {
    nl.state @W : !nl.mlp<[64, 64, 1], silu> = #nl.normal<std = 0.02>
  }
  nl.level @M_retain period 64 rule <objective = l2, retention = decay, grad_at = chunk_start, read = before_write, precond = delta> {
    nl.state @W : !nl.mlp<[64, 64, 1], silu> = #nl.normal<std = 0.02>
  }
  nl.level @M_memory period 8 rule <objective = l2, retention = decay, algorithm = momentum, grad_at = chunk_start, read = before_write, precond = delta> {
    nl.state @W : !nl.mlp<[64, 256, 64], silu, residual> = #nl.normal<std = 0.02>
    nl.state @S : !nl.mlp<[64, 256, 64], silu, residual> = #nl.zeros
  }

  // The continuum memory after it.
  nl.level @cms_16 period 16 rule <objective = l2, grad_at = chunk_start> {
    nl.state @W : !nl.mlp<[64, 256, 64], gelu, residual> = #nl.normal<std = 0.02>
  }
  nl.level @cms_256 period 256 rule <objective = l2, grad_at = chunk_start> {
    nl.state @W : !nl.mlp<[64, 256, 64], gelu, residual> = #nl.normal<std = 0.02>
  }
  nl.transfer backprop @cms_256 -> @cms_16

  nl.step(%x : tensor<64xf32>) -> tensor<64xf32> {
    %Wq = nl.get_param @W_q : tensor<64x64xf32>
    %C = nl.get_param @conv : tensor<4x64xf32>
    %xc = nl.conv %x, %C : (tensor<64xf32>, tensor<4x64xf32>) -> tensor<64xf32>
    %q0 = nl.linear %xc, %Wq : (tensor<64xf32>, tensor<64x64xf32>) -> tensor<64xf32>
    %q = nl.norm l2 %q0 : (tensor<64xf32>) -> tensor<64xf32>

    // Projections are memories read at the previous state.
    %k0 = nl.read @M_k(%xc) : tensor<64xf32> -> tensor<64xf32>
    %k = nl.norm l2 %k0 : (tensor<64xf32>) -> tensor<64xf32>
    %v = nl.read @M_v(%xc) : tensor<64xf32> -> tensor<64xf32>
    %zlr = nl.read @M_lr(%xc) : tensor<64xf32> -> tensor<1xf32>
    %splr = nl.act softplus %zlr : tensor<1xf32>
    %scale = arith.constant dense<0.1> : tensor<1xf32>
    %lr = nl.mul %splr, %scale : tensor<1xf32>, tensor<1xf32> -> tensor<1xf32>
    %zr = nl.read @M_retain(%xc) : tensor<64xf32> -> tensor<1xf32>
    %retain = nl.act sigmoid %zr : tensor<1xf32>

    // Self-generated values v_hat = M(v).
    %vk = nl.read @M_k(%v) : tensor<64xf32> -> tensor<64xf32>
    %vv = nl.read @M_v(%v) : tensor<64xf32> -> tensor<64xf32>
    %vlr = nl.read @M_lr(%v) : tensor<64xf32> -> tensor<1xf32>
    %vr = nl.read @M_retain(%v) : tensor<64xf32> -> tensor<1xf32>
    %vm = nl.read @M_memory(%v) : tensor<64xf32> -> tensor<64xf32>

    %o = nl.read @M_memory(%q) : tensor<64xf32> -> tensor<64xf32>
    %mdecay = arith.constant dense<0.9> : tensor<f32>
    nl.update @M_k key(%k : tensor<64xf32>) value(%vk : tensor<64xf32>) lr(%lr : tensor<1xf32>) retain(%retain : tensor<1xf32>)
    nl.update @M_v key(%k : tensor<64xf32>) value(%vv : tensor<64xf32>) lr(%lr : tensor<1xf32>) retain(%retain : tensor<1xf32>)
    nl.update @M_lr key(%k : tensor<64xf32>) value(%vlr : tensor<1xf32>) lr(%lr : tensor<1xf32>) retain(%retain : tensor<1xf32>)
    nl.update @M_retain key(%k : tensor<64xf32>) value(%vr : tensor<1xf32>) lr(%lr : tensor<1xf32>) retain(%retain : tensor<1xf32>)
    nl.update @M_memory key(%k : tensor<64xf32>) value(%vm : tensor<64xf32>) lr(%lr : tensor<1xf32>) retain(%retain : tensor<1xf32>) momentum_decay(%mdecay : tensor<f32>)

    // CMS on the memory's output.
    %Wt = nl.get_param @W_target : tensor<64x64xf32>
    %target = nl.linear %x, %Wt : (tensor<64xf32>, tensor<64x64xf32>) -> tensor<64xf32>
    %clr = arith.constant dense<0.01> : tensor<f32>
    %h = nl.read @cms_16(%o) : tensor<64xf32> -> tensor<64xf32>
    %y = nl.read @cms_256(%h) : tensor<64xf32> -> tensor<64xf32>
    nl.update @cms_16 key(%o : tensor<64xf32>) value(%target : tensor<64xf32>) lr(%clr : tensor<f32>)
    nl.update @cms_256 key(%h : tensor<64xf32>) value(%target : tensor<64xf32>) lr(%clr : tensor<f32>)
    nl.yield %y : tensor<64xf32>
  }
}
