// Two heads that never meet, learning in chunks of 8 tokens from the chunk
// start with an lr per head, and a tanh on the read: a model with both
// optional CPU forms (the model of one head, the chunk form) and a function
// nl-approximate-math rewrites. The graph form, as nlc --emit=nl writes it.
module {
  nl.model @heads attributes {dim = 16 : i64} {
    nl.level @M period 8 rule <objective = l2, grad_at = chunk_start, read = before_write> {
      nl.state @M : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
    }
    nl.step(%x: tensor<16xf32>) -> tensor<8xf32> {
      %ks = tensor.extract_slice %x[0] [8] [1] : tensor<16xf32> to tensor<8xf32>
      %k = tensor.expand_shape %ks [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
      %vs = tensor.extract_slice %x[8] [8] [1] : tensor<16xf32> to tensor<8xf32>
      %v = tensor.expand_shape %vs [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
      %lr = tensor.extract_slice %x[0] [2] [1] : tensor<16xf32> to tensor<2xf32>
      nl.update @M key(%k : tensor<2x4xf32>) value(%v : tensor<2x4xf32>) lr(%lr : tensor<2xf32>)
      %y = nl.read @M(%k) : tensor<2x4xf32> -> tensor<2x4xf32>
      %t = nl.act tanh %y : tensor<2x4xf32>
      %o = tensor.collapse_shape %t [[0, 1]] : tensor<2x4xf32> into tensor<8xf32>
      nl.yield %o : tensor<8xf32>
    }
  }
}
