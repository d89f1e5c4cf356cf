// DeltaNet (Yang et al. 2024, arXiv:2406.06484; NL Eq 65) with 4 heads of
// width 16: one gradient step on the L2 objective 1/2 ||S k - v||^2,
// S_t = S_{t-1} - beta_t (S_{t-1} k_t - v_t) k_t^T, beta_t = sigmoid(w . x)
// per head; q and k L2-normalized per head; o_t = S_t q_t.
nl.model @deltanet attributes {dim = 64, heads = 4} {
  nl.param @W_q : tensor<64x64xf32> = #nl.normal<std = 0.02>
  nl.param @W_k : tensor<64x64xf32> = #nl.normal<std = 0.02>
  nl.param @W_v : tensor<64x64xf32> = #nl.normal<std = 0.02>
  nl.param @W_beta : tensor<4x64xf32> = #nl.normal<std = 0.02>

  nl.level @S period 1 rule <objective = l2> {
    nl.state @S : !nl.matrix<16x16xf32, heads = 4> = #nl.zeros
  }

  nl.step(%x : tensor<64xf32>) -> tensor<64xf32> {
    %Wq = nl.get_param @W_q : tensor<64x64xf32>
    %Wk = nl.get_param @W_k : tensor<64x64xf32>
    %Wv = nl.get_param @W_v : tensor<64x64xf32>
    %Wb = nl.get_param @W_beta : tensor<4x64xf32>
    %q0 = nl.linear %x, %Wq : (tensor<64xf32>, tensor<64x64xf32>) -> tensor<64xf32>
    %k0 = nl.linear %x, %Wk : (tensor<64xf32>, tensor<64x64xf32>) -> tensor<64xf32>
    %v0 = nl.linear %x, %Wv : (tensor<64xf32>, tensor<64x64xf32>) -> tensor<64xf32>
    %q1 = tensor.expand_shape %q0 [[0, 1]] output_shape [4, 16] : tensor<64xf32> into tensor<4x16xf32>
    %k1 = tensor.expand_shape %k0 [[0, 1]] output_shape [4, 16] : tensor<64xf32> into tensor<4x16xf32>
    %v = tensor.expand_shape %v0 [[0, 1]] output_shape [4, 16] : tensor<64xf32> into tensor<4x16xf32>
    %q = nl.norm l2 %q1 : (tensor<4x16xf32>) -> tensor<4x16xf32>
    %k = nl.norm l2 %k1 : (tensor<4x16xf32>) -> tensor<4x16xf32>
    %zb = nl.linear %x, %Wb : (tensor<64xf32>, tensor<4x64xf32>) -> tensor<4xf32>
    %beta = nl.act sigmoid %zb : tensor<4xf32>
    nl.update @S key(%k : tensor<4x16xf32>) value(%v : tensor<4x16xf32>) lr(%beta : tensor<4xf32>)
    %o = nl.read @S(%q) : tensor<4x16xf32> -> tensor<4x16xf32>
    %y = tensor.collapse_shape %o [[0, 1]] : tensor<4x16xf32> into tensor<64xf32>
    nl.yield %y : tensor<64xf32>
  }
}
