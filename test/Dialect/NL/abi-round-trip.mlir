// RUN: nl-opt %s --split-input-file | nl-opt --split-input-file | FileCheck %s
// RUN: nl-opt %s --split-input-file --mlir-print-op-generic | nl-opt --split-input-file | FileCheck %s

// The ABI of a model (nl.abi, as nl-materialize-abi attaches it): every
// kind of tensor with its fields, elided where absent or default.
// CHECK-LABEL: nl.model @m attributes
// CHECK-SAME:  nl.abi = #nl.abi<"m", dim = 4, hyper_period = 2,
// CHECK-SAME:    levels = [#nl.abi_level<"memory", period = 2, tail = flush, order = 0, rule = <objective = l2>>, #nl.abi_level<"cache", period = 1, infinite = true, tail = carry, order = 1>],
// CHECK-SAME:    params = [#nl.abi_tensor<"W", param, [4, 4], init = #nl.normal<std = 0.02>>],
// CHECK-SAME:    state = [#nl.abi_tensor<"memory.M", state, [4, 4], level = 0, state = @M, init = #nl.zeros>,
// CHECK-SAME:      #nl.abi_tensor<"memory.__acc", accumulator, [4, 4], level = 0>,
// CHECK-SAME:      #nl.abi_tensor<"memory.__gate.memory.lr", gate_lr, [], level = 0, of = @memory>,
// CHECK-SAME:      #nl.abi_tensor<"cache.kv.keys", kv_keys, [8, 4], level = 1, state = @kv>,
// CHECK-SAME:      #nl.abi_tensor<"cache.kv.pos", kv_pos, [1], level = 1, state = @kv, max = 7>,
// CHECK-SAME:      #nl.abi_tensor<"mlp.__defer.w0.dy", defer_dy, [2, 8], level = 0, part = "w0">,
// CHECK-SAME:      #nl.abi_tensor<"memory.__acc2", state, [4, 4], level = 0, state = @__acc, role = accumulator>,
// CHECK-SAME:      #nl.abi_tensor<"__conv0", history, [3, 4], index = 0>],
// CHECK-SAME:    outputs = {{\[\[}}4], [2, 2]],
// CHECK-SAME:    entry_points = [#nl.entry_point<"nl_m_step", step, params = 1, state = 8, outputs = 2>, #nl.entry_point<"nl_m_flush", flush, params = 1, state = 8, outputs = 0>]>
nl.model @m attributes {dim = 4, nl.abi = #nl.abi<"m", dim = 4, hyper_period = 2,
    levels = [#nl.abi_level<"memory", period = 2, tail = flush, order = 0, rule = #nl.rule<objective = l2>>,
              #nl.abi_level<"cache", period = 1, infinite = true, tail = carry, order = 1>],
    params = [#nl.abi_tensor<"W", param, [4, 4], init = #nl.normal<std = 0.02>>],
    state = [#nl.abi_tensor<"memory.M", state, [4, 4], level = 0, state = @M, init = #nl.zeros>,
             #nl.abi_tensor<"memory.__acc", accumulator, [4, 4], level = 0>,
             #nl.abi_tensor<"memory.__gate.memory.lr", gate_lr, [], level = 0, of = @memory>,
             #nl.abi_tensor<"cache.kv.keys", kv_keys, [8, 4], level = 1, state = @kv>,
             #nl.abi_tensor<"cache.kv.pos", kv_pos, [1], level = 1, state = @kv, max = 7>,
             #nl.abi_tensor<"mlp.__defer.w0.dy", defer_dy, [2, 8], level = 0, part = "w0">,
             #nl.abi_tensor<"memory.__acc2", state, [4, 4], level = 0, state = @__acc, role = accumulator>,
             #nl.abi_tensor<"__conv0", history, [3, 4], index = 0>],
    outputs = [[4], [2, 2]],
    entry_points = [#nl.entry_point<"nl_m_step", step, params = 1, state = 8, outputs = 2>,
                    #nl.entry_point<"nl_m_flush", flush, params = 1, state = 8, outputs = 0>]>} {
  nl.param @W : tensor<4x4xf32> = #nl.normal<std = 0.02>
  nl.level @memory period frozen rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.level @cache period frozen {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// The facts of the kernel form: the entry point a function implements
// (the step of one head takes the head last), a chunk entry that stays
// serial, a token's scratch argument, and a CUDA kernel's launch.
// CHECK-LABEL: func.func @m_step_impl(
// CHECK-SAME:    %{{.*}}: memref<4xf32> {nl.token_scratch}
// CHECK-SAME:    attributes {nl.entry_point = #nl.entry_point<"nl_m__head_step", step, params = 0, state = 1, outputs = 0, head = true>}
// CHECK-LABEL: func.func @m_chunk_impl(
// CHECK-SAME:    attributes {nl.entry_point = #nl.entry_point<"nl_m_chunk", chunk, params = 0, state = 1, outputs = 0, tokens = 8>, nl.serial}
// CHECK-LABEL: func.func @kernel(
// CHECK-SAME:    attributes {nl.kernel = #nl.kernel<step, block_size = 512, scratch_bytes = 64, buffer_args = [true, false]>}
// CHECK-LABEL: func.func @bare(
// CHECK-SAME:    attributes {nl.kernel = #nl.kernel<flush, block_size = 256, scratch_bytes = 0>}
func.func @m_step_impl(%s: memref<4xf32> {nl.token_scratch}, %x: memref<4xf32>, %active: i64, %fire: i64, %head: i64)
    attributes {nl.entry_point = #nl.entry_point<"nl_m__head_step", step, params = 0, state = 1, outputs = 0, head = true>} {
  return
}
func.func @m_chunk_impl(%s: memref<4xf32>, %x: memref<8x4xf32>, %active: i64, %fire: i64)
    attributes {nl.entry_point = #nl.entry_point<"nl_m_chunk", chunk, params = 0, state = 1, outputs = 0, tokens = 8>, nl.serial} {
  return
}
func.func @kernel(%a: memref<?xi8>, %n: i64)
    attributes {nl.kernel = #nl.kernel<step, block_size = 512, scratch_bytes = 64, buffer_args = [true, false]>} {
  return
}
func.func @bare(%a: memref<?xi8>)
    attributes {nl.kernel = #nl.kernel<flush, block_size = 256, scratch_bytes = 0>} {
  return
}
