// Linear attention as a Hebbian level (Nested Learning arXiv:2512.24695,
// Eq 64; Katharopoulos et al. 2020): the dot-product objective
// L = -<S k, v> makes one gradient step S_t = S_{t-1} + v_t k_t^T, and the
// output reads the updated state, o_t = S_t q_t (`read = after_write`).
nl.model @linear_attention attributes {dim = 64} {
  nl.param @W_q : tensor<64x64xf32> = #nl.normal<std = 0.02>
  nl.param @W_k : tensor<64x64xf32> = #nl.normal<std = 0.02>
  nl.param @W_v : tensor<64x64xf32> = #nl.normal<std = 0.02>

  nl.level @S period 1 rule <objective = dot> {
    nl.state @S : !nl.matrix<64x64xf32> = #nl.zeros
  }

  nl.step(%x : tensor<64xf32>) -> tensor<64xf32> {
    %Wq = nl.get_param @W_q : tensor<64x64xf32>
    %Wk = nl.get_param @W_k : tensor<64x64xf32>
    %Wv = nl.get_param @W_v : tensor<64x64xf32>
    %q = nl.linear %x, %Wq : (tensor<64xf32>, tensor<64x64xf32>) -> tensor<64xf32>
    %k = nl.linear %x, %Wk : (tensor<64xf32>, tensor<64x64xf32>) -> tensor<64xf32>
    %v = nl.linear %x, %Wv : (tensor<64xf32>, tensor<64x64xf32>) -> tensor<64xf32>
    %one = arith.constant dense<1.0> : tensor<f32>
    nl.update @S key(%k : tensor<64xf32>) value(%v : tensor<64xf32>) lr(%one : tensor<f32>)
    %o = nl.read @S(%q) : tensor<64xf32> -> tensor<64xf32>
    nl.yield %o : tensor<64xf32>
  }
}
