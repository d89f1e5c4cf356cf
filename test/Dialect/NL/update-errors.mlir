// RUN: nl-opt %s --split-input-file -verify-diagnostics

// Checks of nl.update against the level it feeds. Every case is one valid
// model with one operand of one update changed.

// A KV cache appends (key, value) and has no gates.
nl.model @cache_missing_value attributes {dim = 4} {
  nl.level @A period inf {
    nl.state @C : !nl.kv_cache<key = 4, value = 4>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{'nl.update' op level @A needs 'value': a KV cache appends one (key, value) per token}}
    nl.update @A key(%x : tensor<4xf32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @cache_missing_key attributes {dim = 4} {
  nl.level @A period inf {
    nl.state @C : !nl.kv_cache<key = 4, value = 4>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{'nl.update' op level @A needs 'key': a KV cache appends one (key, value) per token}}
    nl.update @A value(%x : tensor<4xf32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @cache_with_grad attributes {dim = 4} {
  nl.level @A period inf {
    nl.state @C : !nl.kv_cache<key = 4, value = 4>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %g = arith.constant dense<1.0> : tensor<4x4xf32>
    // expected-error @+1 {{'nl.update' op 'grad' is not allowed for level @A: a KV cache appends one (key, value) per token}}
    nl.update @A key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) grad(%g : tensor<4x4xf32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @cache_with_lr attributes {dim = 4} {
  nl.level @A period inf {
    nl.state @C : !nl.kv_cache<key = 4, value = 4>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    // expected-error @+1 {{'nl.update' op 'lr' is not allowed for level @A: a non-parametric level has no gates}}
    nl.update @A key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @cache_with_retain attributes {dim = 4} {
  nl.level @A period inf {
    nl.state @C : !nl.kv_cache<key = 4, value = 4>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    // expected-error @+1 {{'nl.update' op 'retain' is not allowed for level @A: a non-parametric level has no gates}}
    nl.update @A key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) retain(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @cache_with_momentum_decay attributes {dim = 4} {
  nl.level @A period inf {
    nl.state @C : !nl.kv_cache<key = 4, value = 4>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    // expected-error @+1 {{'nl.update' op 'momentum_decay' is not allowed for level @A: a non-parametric level has no gates}}
    nl.update @A key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) momentum_decay(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @cache_key_wrong_width attributes {dim = 4} {
  nl.level @A period inf {
    nl.state @C : !nl.kv_cache<key = 4, value = 4>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %k8 = arith.constant dense<1.0> : tensor<8xf32>
    // expected-error @+1 {{'nl.update' op key has shape [8] but the cache's key width needs [4]}}
    nl.update @A key(%k8 : tensor<8xf32>) value(%x : tensor<4xf32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @cache_value_wrong_width attributes {dim = 4} {
  nl.level @A period inf {
    nl.state @C : !nl.kv_cache<key = 4, value = 4>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %k8 = arith.constant dense<1.0> : tensor<8xf32>
    // expected-error @+1 {{'nl.update' op value has shape [8] but the cache's value width needs [4]}}
    nl.update @A key(%x : tensor<4xf32>) value(%k8 : tensor<8xf32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// A multi-head cache takes [heads, width] keys and values.
nl.model @cache_key_missing_heads attributes {dim = 4} {
  nl.level @A period inf {
    nl.state @C : !nl.kv_cache<key = 4, value = 8, heads = 2>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %h8 = arith.constant dense<1.0> : tensor<2x8xf32>
    // expected-error @+1 {{'nl.update' op key has shape [4] but the cache's key width needs [2, 4]}}
    nl.update @A key(%x : tensor<4xf32>) value(%h8 : tensor<2x8xf32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @cache_value_wrong_heads attributes {dim = 4} {
  nl.level @A period inf {
    nl.state @C : !nl.kv_cache<key = 4, value = 8, heads = 2>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %h = arith.constant dense<1.0> : tensor<2x4xf32>
    // expected-error @+1 {{'nl.update' op value has shape [2, 4] but the cache's value width needs [2, 8]}}
    nl.update @A key(%h : tensor<2x4xf32>) value(%h : tensor<2x4xf32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Objective linear takes a gradient of the state's shape.
nl.model @linear_without_grad attributes {dim = 4} {
  nl.level @L period 1 rule <objective = linear> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    // expected-error @+1 {{'nl.update' op level @L needs 'grad': objective 'linear' takes a gradient as its context}}
    nl.update @L lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @linear_with_key attributes {dim = 4} {
  nl.level @L period 1 rule <objective = linear> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    %g = arith.constant dense<1.0> : tensor<4x4xf32>
    // expected-error @+1 {{'nl.update' op 'key' is not allowed for level @L: objective 'linear' takes a gradient as its context}}
    nl.update @L key(%x : tensor<4xf32>) grad(%g : tensor<4x4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @linear_with_value attributes {dim = 4} {
  nl.level @L period 1 rule <objective = linear> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    %g = arith.constant dense<1.0> : tensor<4x4xf32>
    // expected-error @+1 {{'nl.update' op 'value' is not allowed for level @L: objective 'linear' takes a gradient as its context}}
    nl.update @L value(%x : tensor<4xf32>) grad(%g : tensor<4x4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @linear_grad_wrong_shape attributes {dim = 4} {
  nl.level @L period 1 rule <objective = linear> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    %h = arith.constant dense<1.0> : tensor<2x4xf32>
    // expected-error @+1 {{'nl.update' op grad has shape [2, 4] but the level's state needs [4, 4]}}
    nl.update @L grad(%h : tensor<2x4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @linear_grad_missing_heads attributes {dim = 4} {
  nl.level @L period 1 rule <objective = linear> {
    nl.state @M : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    %g = arith.constant dense<1.0> : tensor<4x4xf32>
    // expected-error @+1 {{'nl.update' op grad has shape [4, 4] but the level's state needs [2, 4, 4]}}
    nl.update @L grad(%g : tensor<4x4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @linear_grad_on_tensor_buffer attributes {dim = 4} {
  nl.level @L period 1 rule <objective = linear> {
    nl.state @M : tensor<4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    %g = arith.constant dense<1.0> : tensor<4x4xf32>
    // expected-error @+1 {{'nl.update' op grad has shape [4, 4] but the level's state needs [4]}}
    nl.update @L grad(%g : tensor<4x4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// An MLP memory is several tensors: no single grad fits it.
nl.model @linear_grad_on_mlp attributes {dim = 4} {
  nl.level @L period 1 rule <objective = linear> {
    nl.state @M : !nl.mlp<[4, 8, 4]> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    %g = arith.constant dense<1.0> : tensor<4x4xf32>
    // expected-error @+1 {{'nl.update' op a 'grad' context needs a level whose memory is one tensor (a matrix or a buffer), got '!nl.mlp<[4, 8, 4]>'}}
    nl.update @L grad(%g : tensor<4x4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Key/value objectives take a key and a value of the memory's widths.
nl.model @l2_without_key attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    // expected-error @+1 {{'nl.update' op level @L needs 'key': objective 'l2' takes (key, value) pairs}}
    nl.update @L value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @l2_without_value attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    // expected-error @+1 {{'nl.update' op level @L needs 'value': objective 'l2' takes (key, value) pairs}}
    nl.update @L key(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @l2_with_grad attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    %g = arith.constant dense<1.0> : tensor<4x4xf32>
    // expected-error @+1 {{'nl.update' op 'grad' is not allowed for level @L: objective 'l2' takes (key, value) pairs}}
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) grad(%g : tensor<4x4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @dot_without_key attributes {dim = 4} {
  nl.level @L period 1 rule <objective = dot> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    // expected-error @+1 {{'nl.update' op level @L needs 'key': objective 'dot' takes (key, value) pairs}}
    nl.update @L value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @l2_key_wrong_shape attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    %k8 = arith.constant dense<1.0> : tensor<8xf32>
    // expected-error @+1 {{'nl.update' op key has shape [8] but the memory's key width needs [4]}}
    nl.update @L key(%k8 : tensor<8xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// M is d_out x d_in: an 8x4 matrix takes 4-wide keys and 8-wide values.
nl.model @l2_value_wrong_shape attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<8x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    // expected-error @+1 {{'nl.update' op value has shape [4] but the memory's value width needs [8]}}
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @l2_key_missing_heads attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    // expected-error @+1 {{'nl.update' op key has shape [4] but the memory's key width needs [2, 4]}}
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @l2_value_wrong_heads attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    %h = arith.constant dense<1.0> : tensor<2x4xf32>
    %h3 = arith.constant dense<1.0> : tensor<3x4xf32>
    // expected-error @+1 {{'nl.update' op value has shape [3, 4] but the memory's value width needs [2, 4]}}
    nl.update @L key(%h : tensor<2x4xf32>) value(%h3 : tensor<3x4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @mlp_value_wrong_width attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2> {
    nl.state @M : !nl.mlp<[4, 16, 8], silu> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    // expected-error @+1 {{'nl.update' op value has shape [4] but the memory's value width needs [8]}}
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Gates.
nl.model @missing_lr attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{'nl.update' op level @L needs 'lr': every learning level takes a step size}}
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @retain_without_decay attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    // expected-error @+1 {{'nl.update' op 'retain' is not allowed for level @L: its rule has no decay retention}}
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) retain(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @retain_with_l2_prox attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2, retention = l2_prox> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    // expected-error @+1 {{'nl.update' op 'retain' is not allowed for level @L: its rule has no decay retention}}
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) retain(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @decay_without_retain attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2, retention = decay> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    // expected-error @+1 {{'nl.update' op level @L needs 'retain': its rule has 'retention = decay'}}
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @momentum_without_decay attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2, algorithm = momentum> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
    nl.state @m : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    // expected-error @+1 {{'nl.update' op level @L needs 'momentum_decay': its rule keeps a fused momentum buffer}}
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @muon_without_decay attributes {dim = 4} {
  nl.level @L period 1 rule <objective = dot, algorithm = muon> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
    nl.state @m : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    // expected-error @+1 {{'nl.update' op level @L needs 'momentum_decay': its rule keeps a fused momentum buffer}}
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @gd_with_momentum_decay attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    // expected-error @+1 {{'nl.update' op 'momentum_decay' is not allowed for level @L: only a fused momentum/muon rule has a momentum buffer (a 'via' level takes its own 'retain')}}
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) momentum_decay(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @adam_with_momentum_decay attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2, algorithm = adam> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
    nl.state @m : !nl.matrix<4x4xf32> = #nl.zeros
    nl.state @v : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    // expected-error @+1 {{'nl.update' op 'momentum_decay' is not allowed for level @L: only a fused momentum/muon rule has a momentum buffer}}
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) momentum_decay(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// A gate is a scalar, one value per head or one per key channel.
nl.model @lr_wrong_shape attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<64x64xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %k3 = arith.constant dense<1.0> : tensor<3xf32>
    %k64 = arith.constant dense<1.0> : tensor<64xf32>
    // expected-error @+1 {{'nl.update' op gate 'lr' has shape [3]; expected a scalar (tensor<f32> or tensor<1xf32>) or one value per key channel [64]}}
    nl.update @L key(%k64 : tensor<64xf32>) value(%k64 : tensor<64xf32>) lr(%k3 : tensor<3xf32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @retain_wrong_shape attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2, retention = decay> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    %k8 = arith.constant dense<1.0> : tensor<8xf32>
    // expected-error @+1 {{'nl.update' op gate 'retain' has shape [8]; expected a scalar (tensor<f32> or tensor<1xf32>) or one value per key channel [4]}}
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) retain(%k8 : tensor<8xf32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @momentum_decay_wrong_shape attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2, algorithm = momentum> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
    nl.state @m : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    %h = arith.constant dense<1.0> : tensor<2x4xf32>
    // expected-error @+1 {{'nl.update' op gate 'momentum_decay' has shape [2, 4]; expected a scalar (tensor<f32> or tensor<1xf32>) or one value per key channel [4]}}
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) momentum_decay(%h : tensor<2x4xf32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @gate_wrong_heads attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %k3 = arith.constant dense<1.0> : tensor<3xf32>
    %h = arith.constant dense<1.0> : tensor<2x4xf32>
    // expected-error @+1 {{'nl.update' op gate 'lr' has shape [3]; expected a scalar (tensor<f32> or tensor<1xf32>), one value per head (tensor<2xf32>) or one value per key channel [2, 4]}}
    nl.update @L key(%h : tensor<2x4xf32>) value(%h : tensor<2x4xf32>) lr(%k3 : tensor<3xf32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @gate_per_channel_without_heads attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32, heads = 2> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %h = arith.constant dense<1.0> : tensor<2x4xf32>
    // expected-error @+1 {{'nl.update' op gate 'lr' has shape [4]; expected a scalar (tensor<f32> or tensor<1xf32>), one value per head (tensor<2xf32>) or one value per key channel [2, 4]}}
    nl.update @L key(%h : tensor<2x4xf32>) value(%h : tensor<2x4xf32>) lr(%x : tensor<4xf32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// A tensor buffer has no key channels: only a scalar gate fits.
nl.model @gate_on_buffer attributes {dim = 4} {
  nl.level @L period 1 rule <objective = linear> {
    nl.state @M : tensor<4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-error @+1 {{'nl.update' op gate 'lr' has shape [4]; expected a scalar (tensor<f32> or tensor<1xf32>)}}
    nl.update @L grad(%x : tensor<4xf32>) lr(%x : tensor<4xf32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// A `via` muon keeps its momentum in the optimizer level: no momentum_decay.
nl.model @via_muon_with_momentum_decay attributes {dim = 4} {
  nl.level @S period 1 rule <objective = linear> {
    nl.state @B : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @L period 1 rule <objective = l2, algorithm = muon, via = [@S]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @S lr(%lr : tensor<f32>)
    // expected-error @+1 {{'nl.update' op 'momentum_decay' is not allowed for level @L: only a fused momentum/muon rule has a momentum buffer (a 'via' level takes its own 'retain')}}
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) momentum_decay(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// An optimizer level still needs its step size.
nl.model @optimizer_without_lr attributes {dim = 4} {
  nl.level @S period 1 rule <objective = linear, retention = decay> {
    nl.state @B : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @L period 1 rule <objective = l2, algorithm = momentum, via = [@S]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    // expected-error @+1 {{'nl.update' op level @S needs 'lr': every learning level takes a step size}}
    nl.update @S retain(%lr : tensor<f32>)
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @names_a_param attributes {dim = 4} {
  // expected-note @+1 {{@P is defined here}}
  nl.param @P : tensor<4xf32> = #nl.zeros
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    // expected-error @+1 {{'nl.update' op names @P, which is a 'nl.param', not a level}}
    nl.update @P key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @unknown_level attributes {dim = 4} {
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    // expected-error @+1 {{'nl.update' op names @nowhere, which is not defined in model @unknown_level}}
    nl.update @nowhere key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// States are not visible from the step: an update names the level.
nl.model @names_a_state attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    // expected-error @+1 {{'nl.update' op names @M, which is not defined in model @names_a_state}}
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Outside a step there is no token to learn from.
%x = arith.constant dense<1.0> : tensor<4xf32>
// expected-error @+1 {{'nl.update' op expects parent op to be one of 'nl.step, nl.rows'}}
nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>)

// -----

nl.model @delta_scale_without_huber attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    // expected-error @+1 {{'nl.update' op 'delta_scale' is not allowed for level @L: only a 'huber' objective has a threshold}}
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) delta_scale(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @delta_scale_per_channel attributes {dim = 4} {
  nl.level @L period 1 rule <objective = huber, huber_delta = 1.0> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    // expected-error @+1 {{'nl.update' op gate 'delta_scale' has shape [4]; expected a scalar (tensor<f32> or tensor<1xf32>)}}
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) delta_scale(%x : tensor<4xf32>)
    nl.yield %x : tensor<4xf32>
  }
}
