// RUN: nl-opt %s --split-input-file --nl-schedule-pipeline --nl-materialize-abi | FileCheck %s

// A chunked delta level with decay (its accumulator and the gates of the
// pending chunk, of its own update), a KV cache (its rings and counts, the
// position naming its largest slot) and a short convolution (its history):
// each tensor with its kind and the fields that name its source, in the
// order of the C ABI, and the entry points with their counts.
// CHECK-LABEL: nl.model @mixed attributes
// CHECK-SAME:  nl.abi = #nl.abi<"mixed", dim = 4, hyper_period = 4,
// CHECK-SAME:    levels = [#nl.abi_level<"memory", period = 4, tail = flush, order = {{[0-9]}}, rule = <objective = l2, retention = decay>>, #nl.abi_level<"cache", period = 1, infinite = true, tail = carry, order = {{[0-9]}}>],
// CHECK-SAME:    params = [#nl.abi_tensor<"C", param, [3, 4], init = #nl.ones>],
// CHECK-SAME:    state = [#nl.abi_tensor<"memory.M", state, [4, 4], level = 0, state = @M, init = #nl.zeros>,
// CHECK-SAME:      #nl.abi_tensor<"memory.__acc", accumulator, [4, 4], level = 0>,
// CHECK-SAME:      #nl.abi_tensor<"memory.__gate.memory.lr", gate_lr, [], level = 0, of = @memory>,
// CHECK-SAME:      #nl.abi_tensor<"memory.__gate.memory.retain", gate_retain, [], level = 0, of = @memory>,
// CHECK-SAME:      #nl.abi_tensor<"cache.kv.keys", kv_keys, [2, 4], level = 1, state = @kv>,
// CHECK-SAME:      #nl.abi_tensor<"cache.kv.values", kv_values, [2, 4], level = 1, state = @kv>,
// CHECK-SAME:      #nl.abi_tensor<"cache.kv.pos", kv_pos, [1], level = 1, state = @kv, max = 1>,
// CHECK-SAME:      #nl.abi_tensor<"cache.kv.fill", kv_fill, [1], level = 1, state = @kv, max = 2>,
// CHECK-SAME:      #nl.abi_tensor<"__conv0", history, [2, 4], index = 0>],
// CHECK-SAME:    outputs = {{\[\[}}4]],
// CHECK-SAME:    entry_points = [#nl.entry_point<"nl_mixed_step", step, params = 1, state = 9, outputs = 1>, #nl.entry_point<"nl_mixed_flush", flush, params = 1, state = 9, outputs = 0>]>
nl.model @mixed attributes {dim = 4} {
  nl.param @C : tensor<3x4xf32> = #nl.ones
  nl.level @memory period 4 tail flush rule <objective = l2, retention = decay> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @cache period inf {
    nl.state @kv : !nl.kv_cache<key = 4, value = 4, window = 2>
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %Cw = nl.get_param @C : tensor<3x4xf32>
    %xc = nl.conv %x, %Cw : (tensor<4xf32>, tensor<3x4xf32>) -> tensor<4xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    %a = arith.constant dense<0.9> : tensor<f32>
    nl.update @memory key(%xc : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>) retain(%a : tensor<f32>)
    nl.update @cache key(%xc : tensor<4xf32>) value(%x : tensor<4xf32>)
    %y = nl.read @cache(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %y : tensor<4xf32>
  }
}

// -----

// Titans-style momentum through a level (the optimizer level keeps no
// buffers of its own; the chunked memory stashes its own and the momentum
// level's gates) and the Omega rule's window (its keys, values and lr gates,
// a ring whose position names its fill).
// CHECK-LABEL: nl.model @momentum attributes
// CHECK-SAME:    state = [#nl.abi_tensor<"S.S", state, [4, 4], level = 0, state = @S, init = #nl.zeros>,
// CHECK-SAME:      #nl.abi_tensor<"M.M", state, [4, 4], level = 1, state = @M, init = #nl.zeros>,
// CHECK-SAME:      #nl.abi_tensor<"M.__acc", accumulator, [4, 4], level = 1>,
// CHECK-SAME:      #nl.abi_tensor<"M.__gate.M.lr", gate_lr, [], level = 1, of = @M>,
// CHECK-SAME:      #nl.abi_tensor<"M.__gate.S.lr", gate_lr, [], level = 1, of = @S>,
// CHECK-SAME:      #nl.abi_tensor<"M.__gate.S.retain", gate_retain, [], level = 1, of = @S>,
// CHECK-SAME:      #nl.abi_tensor<"O.O", state, [4, 4], level = 2, state = @O, init = #nl.zeros>,
// CHECK-SAME:      #nl.abi_tensor<"O.__acc", accumulator, [4, 4], level = 2>,
// CHECK-SAME:      #nl.abi_tensor<"O.__omega_keys", omega_keys, [3, 4], level = 2>,
// CHECK-SAME:      #nl.abi_tensor<"O.__omega_values", omega_values, [3, 4], level = 2>,
// CHECK-SAME:      #nl.abi_tensor<"O.__omega_lr", omega_lr, [3], level = 2>,
// CHECK-SAME:      #nl.abi_tensor<"O.__omega_pos", omega_pos, [1], level = 2, max = 2>,
// CHECK-SAME:      #nl.abi_tensor<"O.__omega_fill", omega_fill, [1], level = 2, max = 3>],
nl.model @momentum attributes {dim = 4} {
  nl.level @S period 2 rule <objective = linear, retention = decay> {
    nl.state @S : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @M period 2 rule <objective = l2, algorithm = momentum, via = [@S]> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @O period 1 rule <objective = l2, window = 3> {
    nl.state @O : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    %one = arith.constant dense<1.0> : tensor<f32>
    %eta = arith.constant dense<0.9> : tensor<f32>
    nl.update @S lr(%lr : tensor<f32>) retain(%eta : tensor<f32>)
    nl.update @M key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%one : tensor<f32>)
    nl.update @O key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

// A model that has an ABI keeps it (nl-split-heads and nl-chunk keep theirs
// current): the pass computes each model's ABI once.
// CHECK-LABEL: nl.model @kept attributes
// CHECK-SAME:    levels = [#nl.abi_level<"L", period = 1, tail = carry, order = 7, rule = <objective = l2>>]
nl.model @kept attributes {dim = 4, nl.abi = #nl.abi<"kept", dim = 4, hyper_period = 1,
    levels = [#nl.abi_level<"L", period = 1, tail = carry, order = 7, rule = #nl.rule<objective = l2>>],
    params = [],
    state = [#nl.abi_tensor<"L.M", state, [4, 4], level = 0, state = @M, init = #nl.zeros>,
             #nl.abi_tensor<"L.__acc", accumulator, [4, 4], level = 0>],
    outputs = [],
    entry_points = [#nl.entry_point<"nl_kept_step", step, params = 0, state = 2, outputs = 0>,
                    #nl.entry_point<"nl_kept_flush", flush, params = 0, state = 2, outputs = 0>]>} {
  nl.level @L period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}
