// Gated DeltaNet (Yang et al. 2024, arXiv:2412.06464; spec §5.4):
// S_t = alpha_t (I - beta_t k_t k_t^T) S_{t-1} + beta_t v_t k_t^T, written in
// nlc's orientation (M is d_out x d_in, y = M k). The decay multiplies the
// state *before* the delta step (`decay_order = before_grad`), which is what
// distinguishes it from Titans' decoupled decay. alpha = exp(-softplus(a x)),
// beta = sigmoid(b x), per head; short causal convs on q, k, v; o = S_t q_t.
nl.model @gated_deltanet attributes {dim = 64, heads = 2} {
  nl.param @W_q : tensor<64x64xf32> = #nl.normal<std = 0.02>
  nl.param @W_k : tensor<64x64xf32> = #nl.normal<std = 0.02>
  nl.param @W_v : tensor<64x64xf32> = #nl.normal<std = 0.02>
  nl.param @conv_q : tensor<4x64xf32> = #nl.normal<std = 0.1>
  nl.param @conv_k : tensor<4x64xf32> = #nl.normal<std = 0.1>
  nl.param @conv_v : tensor<4x64xf32> = #nl.normal<std = 0.1>
  nl.param @W_a : tensor<2x64xf32> = #nl.normal<std = 0.02>
  nl.param @W_b : tensor<2x64xf32> = #nl.normal<std = 0.02>
  nl.param @W_o : tensor<64x64xf32> = #nl.normal<std = 0.02>

  nl.level @S period 1 rule <objective = l2, retention = decay, decay_order = before_grad> {
    nl.state @S : !nl.matrix<32x32xf32, heads = 2> = #nl.zeros
  }

  nl.step(%x : tensor<64xf32>) -> tensor<64xf32> {
    %Wq = nl.get_param @W_q : tensor<64x64xf32>
    %Wk = nl.get_param @W_k : tensor<64x64xf32>
    %Wv = nl.get_param @W_v : tensor<64x64xf32>
    %Cq = nl.get_param @conv_q : tensor<4x64xf32>
    %Ck = nl.get_param @conv_k : tensor<4x64xf32>
    %Cv = nl.get_param @conv_v : tensor<4x64xf32>
    %q0 = nl.linear %x, %Wq : (tensor<64xf32>, tensor<64x64xf32>) -> tensor<64xf32>
    %k0 = nl.linear %x, %Wk : (tensor<64xf32>, tensor<64x64xf32>) -> tensor<64xf32>
    %v0 = nl.linear %x, %Wv : (tensor<64xf32>, tensor<64x64xf32>) -> tensor<64xf32>
    %q1 = nl.conv %q0, %Cq : (tensor<64xf32>, tensor<4x64xf32>) -> tensor<64xf32>
    %k1 = nl.conv %k0, %Ck : (tensor<64xf32>, tensor<4x64xf32>) -> tensor<64xf32>
    %v1 = nl.conv %v0, %Cv : (tensor<64xf32>, tensor<4x64xf32>) -> tensor<64xf32>
    %q2 = nl.act silu %q1 : tensor<64xf32>
    %k2 = nl.act silu %k1 : tensor<64xf32>
    %v2 = nl.act silu %v1 : tensor<64xf32>
    %q3 = tensor.expand_shape %q2 [[0, 1]] output_shape [2, 32] : tensor<64xf32> into tensor<2x32xf32>
    %k3 = tensor.expand_shape %k2 [[0, 1]] output_shape [2, 32] : tensor<64xf32> into tensor<2x32xf32>
    %v = tensor.expand_shape %v2 [[0, 1]] output_shape [2, 32] : tensor<64xf32> into tensor<2x32xf32>
    %q = nl.norm l2 %q3 : (tensor<2x32xf32>) -> tensor<2x32xf32>
    %k = nl.norm l2 %k3 : (tensor<2x32xf32>) -> tensor<2x32xf32>

    %Wa = nl.get_param @W_a : tensor<2x64xf32>
    %Wb = nl.get_param @W_b : tensor<2x64xf32>
    %za = nl.linear %x, %Wa : (tensor<64xf32>, tensor<2x64xf32>) -> tensor<2xf32>
    %sa = nl.act softplus %za : tensor<2xf32>
    %zero = arith.constant dense<0.0> : tensor<2xf32>
    %na = nl.sub %zero, %sa : tensor<2xf32>, tensor<2xf32> -> tensor<2xf32>
    %alpha = nl.act exp %na : tensor<2xf32>
    %zb = nl.linear %x, %Wb : (tensor<64xf32>, tensor<2x64xf32>) -> tensor<2xf32>
    %beta = nl.act sigmoid %zb : tensor<2xf32>

    nl.update @S key(%k : tensor<2x32xf32>) value(%v : tensor<2x32xf32>) lr(%beta : tensor<2xf32>) retain(%alpha : tensor<2xf32>)
    %o = nl.read @S(%q) : tensor<2x32xf32> -> tensor<2x32xf32>
    %o1 = tensor.collapse_shape %o [[0, 1]] : tensor<2x32xf32> into tensor<64xf32>
    %Wo = nl.get_param @W_o : tensor<64x64xf32>
    %y = nl.linear %o1, %Wo : (tensor<64xf32>, tensor<64x64xf32>) -> tensor<64xf32>
    nl.yield %y : tensor<64xf32>
  }
}
