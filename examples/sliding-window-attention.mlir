// Sliding-window softmax attention as a non-parametric level (NL Eqs 62-63):
// the state is a KV cache of the last 128 tokens, written every token
// (`period inf`), and a read is the Nadaraya-Watson estimate
// sum_i softmax(q . k_i) v_i over the cache, current token included.
nl.model @sliding_window_attention attributes {dim = 64, heads = 4} {
  nl.param @W_q : tensor<64x64xf32> = #nl.normal<std = 0.02>
  nl.param @W_k : tensor<64x64xf32> = #nl.normal<std = 0.02>
  nl.param @W_v : tensor<64x64xf32> = #nl.normal<std = 0.02>

  nl.level @attention period inf {
    nl.state @cache : !nl.kv_cache<key = 16, value = 16, window = 128, heads = 4>
  }

  nl.step(%x : tensor<64xf32>) -> tensor<64xf32> {
    %Wq = nl.get_param @W_q : tensor<64x64xf32>
    %Wk = nl.get_param @W_k : tensor<64x64xf32>
    %Wv = nl.get_param @W_v : tensor<64x64xf32>
    %q0 = nl.linear %x, %Wq : (tensor<64xf32>, tensor<64x64xf32>) -> tensor<64xf32>
    %k0 = nl.linear %x, %Wk : (tensor<64xf32>, tensor<64x64xf32>) -> tensor<64xf32>
    %v0 = nl.linear %x, %Wv : (tensor<64xf32>, tensor<64x64xf32>) -> tensor<64xf32>
    %q = tensor.expand_shape %q0 [[0, 1]] output_shape [4, 16] : tensor<64xf32> into tensor<4x16xf32>
    %k = tensor.expand_shape %k0 [[0, 1]] output_shape [4, 16] : tensor<64xf32> into tensor<4x16xf32>
    %v = tensor.expand_shape %v0 [[0, 1]] output_shape [4, 16] : tensor<64xf32> into tensor<4x16xf32>
    nl.update @attention key(%k : tensor<4x16xf32>) value(%v : tensor<4x16xf32>)
    %o = nl.read @attention(%q) : tensor<4x16xf32> -> tensor<4x16xf32>
    %y = tensor.collapse_shape %o [[0, 1]] : tensor<4x16xf32> into tensor<64xf32>
    nl.yield %y : tensor<64xf32>
  }
}
