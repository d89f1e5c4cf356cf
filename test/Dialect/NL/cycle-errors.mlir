// RUN: nl-opt %s --split-input-file -verify-diagnostics

// No two levels may need each other's state of the same step. A read with
// `read = after_write` (the default) sees its level's write of this step, so
// an update that consumes it must come after that write. Cases without an
// expected diagnostic must verify.

nl.model @two_level_cycle attributes {dim = 4} {
  // expected-error @+1 {{'nl.level' op dependency cycle within one time step: @A needs @B at step t, @B needs @A at step t, so no update order exists}}
  nl.level @A period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @B period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    // expected-note @+1 {{@A's update consumes this read of @B, which sees the write of the same step}}
    %rb = nl.read @B(%x) : tensor<4xf32> -> tensor<4xf32>
    // expected-note @+1 {{@B's update consumes this read of @A, which sees the write of the same step}}
    %ra = nl.read @A(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.update @A key(%x : tensor<4xf32>) value(%rb : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @B key(%x : tensor<4xf32>) value(%ra : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// The dependency is found through other ops and through any operand (here
// the key and a gate).
nl.model @cycle_through_compute attributes {dim = 4} {
  // expected-error @+1 {{'nl.level' op dependency cycle within one time step: @A needs @B at step t, @B needs @A at step t}}
  nl.level @A period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @B period 1 rule <objective = dot, retention = decay> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    // expected-note @+1 {{@A's update consumes this read of @B}}
    %rb = nl.read @B(%x) : tensor<4xf32> -> tensor<4xf32>
    %t = nl.act tanh %rb : tensor<4xf32>
    %k = nl.norm l2 %t : (tensor<4xf32>) -> tensor<4xf32>
    // expected-note @+1 {{@B's update consumes this read of @A}}
    %ra = nl.read @A(%x) : tensor<4xf32> -> tensor<4xf32>
    %gate = nl.act sigmoid %ra : tensor<4xf32>
    nl.update @A key(%k : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @B key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) retain(%gate : tensor<4xf32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @self_cycle attributes {dim = 4} {
  // expected-error @+1 {{'nl.level' op dependency cycle within one time step: @A needs its own state of step t to compute it, so no update order exists}}
  nl.level @A period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    // expected-note @+1 {{@A's update consumes this read of @A, which sees the write of the same step}}
    %ra = nl.read @A(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.update @A key(%x : tensor<4xf32>) value(%ra : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// A KV cache is written every token: a read of it always sees this step.
nl.model @cache_self_cycle attributes {dim = 4} {
  // expected-error @+1 {{'nl.level' op dependency cycle within one time step: @C needs its own state of step t to compute it, so no update order exists}}
  nl.level @C period inf {
    nl.state @K : !nl.kv_cache<key = 4, value = 4>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    // expected-note @+1 {{@C's update consumes this read of @C, which sees the write of the same step}}
    %rc = nl.read @C(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.update @C key(%x : tensor<4xf32>) value(%rc : tensor<4xf32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

nl.model @three_level_cycle attributes {dim = 4} {
  // expected-error @+1 {{'nl.level' op dependency cycle within one time step: @A needs @B at step t, @B needs @C at step t, @C needs @A at step t}}
  nl.level @A period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @B period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @C period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    // expected-note @+1 {{@B's update consumes this read of @C}}
    %rc = nl.read @C(%x) : tensor<4xf32> -> tensor<4xf32>
    // expected-note @+1 {{@A's update consumes this read of @B}}
    %rb = nl.read @B(%x) : tensor<4xf32> -> tensor<4xf32>
    // expected-note @+1 {{@C's update consumes this read of @A}}
    %ra = nl.read @A(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.update @A key(%x : tensor<4xf32>) value(%rb : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @B key(%x : tensor<4xf32>) value(%rc : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @C key(%x : tensor<4xf32>) value(%ra : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// A chunked level's read sees its write on the steps where it fires.
nl.model @chunked_cycle attributes {dim = 4} {
  // expected-error @+1 {{'nl.level' op dependency cycle within one time step: @fast needs @slow at step t, @slow needs @fast at step t}}
  nl.level @fast period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @slow period 16 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    // expected-note @+1 {{@fast's update consumes this read of @slow}}
    %rs = nl.read @slow(%x) : tensor<4xf32> -> tensor<4xf32>
    // expected-note @+1 {{@slow's update consumes this read of @fast}}
    %rf = nl.read @fast(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.update @fast key(%x : tensor<4xf32>) value(%rs : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @slow key(%x : tensor<4xf32>) value(%rf : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// A served level applies its optimizer level's memory (`via`): if the
// optimizer's update consumes an after-write read of the served level, the
// two need each other.
nl.model @via_and_read_cycle attributes {dim = 4} {
  // expected-error @+1 {{'nl.level' op dependency cycle within one time step: @S needs @L at step t, @L needs @S at step t, so no update order exists}}
  nl.level @S period 1 rule <objective = linear> {
    nl.state @B : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-note @+1 {{@L applies the memory of @S ('via')}}
  nl.level @L period 1 rule <objective = l2, algorithm = momentum, via = [@S]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    // expected-note @+1 {{@S's update consumes this read of @L, which sees the write of the same step}}
    %rl = nl.read @L(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.update @S lr(%rl : tensor<4xf32>)
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Two levels that are each other's optimizer: a cycle of `via` edges alone.
nl.model @via_cycle attributes {dim = 4} {
  // expected-error @+2 {{'nl.level' op dependency cycle within one time step: @S needs @L at step t, @L needs @S at step t}}
  // expected-note @+1 {{@S applies the memory of @L ('via')}}
  nl.level @S period 1 rule <objective = linear, algorithm = momentum, via = [@L]> {
    nl.state @B : !nl.matrix<4x4xf32> = #nl.zeros
  }
  // expected-note @+1 {{@L applies the memory of @S ('via')}}
  nl.level @L period 1 rule <objective = linear, algorithm = momentum, via = [@S]> {
    nl.state @B : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @S lr(%lr : tensor<f32>)
    nl.update @L lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Positive: with `read = before_write` on @B, @A reads @B's state of step
// t-1, and @B can be updated after @A.
nl.model @broken_by_before_write attributes {dim = 4} {
  nl.level @A period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @B period 1 rule <objective = l2, read = before_write> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    %rb = nl.read @B(%x) : tensor<4xf32> -> tensor<4xf32>
    %ra = nl.read @A(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.update @A key(%x : tensor<4xf32>) value(%rb : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @B key(%x : tensor<4xf32>) value(%ra : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Positive: a level may read its own state of step t-1.
nl.model @self_before_write attributes {dim = 4} {
  nl.level @A period 1 rule <objective = l2, read = before_write> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    %ra = nl.read @A(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.update @A key(%x : tensor<4xf32>) value(%ra : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %ra : tensor<4xf32>
  }
}

// -----

// Positive: a chain @A needs @B needs @C has an order (C, B, A).
nl.model @chain attributes {dim = 4} {
  nl.level @A period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @B period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @C period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    %rc = nl.read @C(%x) : tensor<4xf32> -> tensor<4xf32>
    %rb = nl.read @B(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.update @A key(%x : tensor<4xf32>) value(%rb : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @B key(%x : tensor<4xf32>) value(%rc : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.update @C key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Positive: a frozen level is never written, so reading it adds no edge.
nl.model @frozen_read attributes {dim = 4} {
  nl.level @A period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @F period frozen rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    %rf = nl.read @F(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.update @A key(%x : tensor<4xf32>) value(%rf : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// Positive: a read that only feeds the output adds no edge.
nl.model @read_for_output attributes {dim = 4} {
  nl.level @A period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<1.0> : tensor<f32>
    nl.update @A key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    %ra = nl.read @A(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %ra : tensor<4xf32>
  }
}
