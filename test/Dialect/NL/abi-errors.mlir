// RUN: nl-opt %s --split-input-file -verify-diagnostics

// The ABI attributes (#nl.abi and its parts, #nl.entry_point, #nl.kernel)
// and the discardable attributes of the nl dialect: each is verified.

// A parameter belongs to no level.
// expected-error @+1 {{ABI tensor 'W' (param) takes no 'level'}}
func.func private @f() attributes {a = #nl.abi_tensor<"W", param, [4], level = 0>}

// -----

// A level's internal buffer names its owner.
// expected-error @+1 {{ABI tensor 'm.__acc' (accumulator) needs 'level', the index of its owning level}}
func.func private @f() attributes {a = #nl.abi_tensor<"m.__acc", accumulator, [4]>}

// -----

// A stored state names its nl.state.
// expected-error @+1 {{needs 'state', the nl.state it stores}}
func.func private @f() attributes {a = #nl.abi_tensor<"m.M", state, [4], level = 0>}

// -----

// Only stored states name one.
// expected-error @+1 {{takes no 'state'}}
func.func private @f() attributes {a = #nl.abi_tensor<"m.__acc", accumulator, [4], level = 0, state = @M>}

// -----

// A deferred ring names its MLP weight.
// expected-error @+1 {{needs 'part', the MLP weight it defers}}
func.func private @f() attributes {a = #nl.abi_tensor<"m.__defer.w0.dy", defer_dy, [2, 4], level = 0>}

// -----

// A gate names the level whose update it comes from.
// expected-error @+1 {{needs 'of', the level it serves}}
func.func private @f() attributes {a = #nl.abi_tensor<"m.__gate.m.lr", gate_lr, [], level = 0>}

// -----

// A convolution's history names the convolution.
// expected-error @+1 {{needs 'index', its convolution in step order}}
func.func private @f() attributes {a = #nl.abi_tensor<"__conv0", history, [3, 4]>}

// -----

// Only an nl.state has a role.
// expected-error @+1 {{takes no 'role'}}
func.func private @f() attributes {a = #nl.abi_tensor<"m.__acc", accumulator, [4], level = 0, role = accumulator>}

// -----

// A count gives its largest value.
// expected-error @+1 {{is an i32 count and needs 'max', its largest valid value}}
func.func private @f() attributes {a = #nl.abi_tensor<"c.kv.pos", kv_pos, [1], level = 0, state = @kv>}

// -----

// Only a count has one.
// expected-error @+1 {{is not a count and takes no 'max'}}
func.func private @f() attributes {a = #nl.abi_tensor<"m.M", state, [4], level = 0, state = @M, max = 3>}

// -----

// A count is one i32.
// expected-error @+1 {{is a count: of shape [1], with max >= 0}}
func.func private @f() attributes {a = #nl.abi_tensor<"c.kv.pos", kv_pos, [2], level = 0, state = @kv, max = 3>}

// -----

// The initializer is one.
// expected-error @+1 {{has an initializer that is not one}}
func.func private @f() attributes {a = #nl.abi_tensor<"W", param, [4], init = 3 : i64>}

// -----

// Shapes are static.
// expected-error @+2 {{a shape's sizes cannot be negative}}
// expected-error @+1 {{failed to parse NL_ABITensorAttr parameter 'shape'}}
func.func private @f() attributes {a = #nl.abi_tensor<"W", param, [-1]>}

// -----

// A level period is a count.
// expected-error @+1 {{ABI level 'm': period and order cannot be negative}}
func.func private @f() attributes {a = #nl.abi_level<"m", period = -1, tail = carry, order = 0>}

// -----

// An infinite level runs every token.
// expected-error @+1 {{an infinite level runs every token (period 1)}}
func.func private @f() attributes {a = #nl.abi_level<"c", period = 4, infinite = true, tail = carry, order = 0>}

// -----

// A flush has no outputs.
// expected-error @+1 {{a flush takes no outputs and no head}}
func.func private @f() attributes {a = #nl.entry_point<"nl_m_flush", flush, params = 0, state = 1, outputs = 1>}

// -----

// A chunk entry runs some tokens.
// expected-error @+1 {{a chunk entry takes 'tokens' > 0}}
func.func private @f() attributes {a = #nl.entry_point<"nl_m_chunk", chunk, params = 0, state = 1, outputs = 1>}

// -----

// Only a chunk entry does.
// expected-error @+1 {{only a chunk entry takes 'tokens'}}
func.func private @f() attributes {a = #nl.entry_point<"nl_m_step", step, params = 0, state = 1, outputs = 1, tokens = 4>}

// -----

// A kernel block has 1 to 1024 threads.
// expected-error @+1 {{a kernel's block_size is in [1, 1024], not 0}}
func.func private @f() attributes {a = #nl.kernel<step, block_size = 0, scratch_bytes = 0>}

// -----

// The CUDA kernels run no chunk entry.
// expected-error @+1 {{the CUDA kernels run the step and the flush, not a chunk or backward entry}}
func.func private @f() attributes {a = #nl.kernel<chunk, block_size = 32, scratch_bytes = 0>}

// -----

// The entry points' counts are the ABI's.
// expected-error @+1 {{entry point 'nl_m_step' disagrees with the ABI of 'm' on its argument counts (params = 1, state = 1, outputs = 1)}}
func.func private @f() attributes {a = #nl.abi<"m", dim = 4, hyper_period = 1, levels = [#nl.abi_level<"memory", period = 0, tail = carry, order = 0>], params = [#nl.abi_tensor<"W", param, [4, 4]>], state = [#nl.abi_tensor<"memory.M", state, [4, 4], level = 0, state = @M>], outputs = [[4]], entry_points = [#nl.entry_point<"nl_m_step", step, params = 1, state = 2, outputs = 1>, #nl.entry_point<"nl_m_flush", flush, params = 1, state = 1, outputs = 0>]>}

// -----

// One step, one flush.
// expected-error @+1 {{the ABI of 'm' has one step, one flush and at most one chunk and one backward entry point}}
func.func private @f() attributes {a = #nl.abi<"m", dim = 4, hyper_period = 1, levels = [#nl.abi_level<"memory", period = 0, tail = carry, order = 0>], params = [#nl.abi_tensor<"W", param, [4, 4]>], state = [#nl.abi_tensor<"memory.M", state, [4, 4], level = 0, state = @M>], outputs = [[4]], entry_points = [#nl.entry_point<"nl_m_step", step, params = 1, state = 1, outputs = 1>]>}

// -----

// Parameters are params.
// expected-error @+1 {{the ABI of 'm' lists parameter 'V' in its state}}
func.func private @f() attributes {a = #nl.abi<"m", dim = 4, hyper_period = 1, levels = [#nl.abi_level<"memory", period = 0, tail = carry, order = 0>], params = [#nl.abi_tensor<"W", param, [4, 4]>], state = [#nl.abi_tensor<"V", param, [4]>], outputs = [[4]], entry_points = [#nl.entry_point<"nl_m_step", step, params = 1, state = 1, outputs = 1>, #nl.entry_point<"nl_m_flush", flush, params = 1, state = 1, outputs = 0>]>}

// -----

// Names are unique.
// expected-error @+1 {{the ABI of 'm' has two tensors 'W'}}
func.func private @f() attributes {a = #nl.abi<"m", dim = 4, hyper_period = 1, levels = [#nl.abi_level<"memory", period = 0, tail = carry, order = 0>], params = [#nl.abi_tensor<"W", param, [4, 4]>], state = [#nl.abi_tensor<"W", state, [4, 4], level = 0, state = @M>], outputs = [[4]], entry_points = [#nl.entry_point<"nl_m_step", step, params = 1, state = 1, outputs = 1>, #nl.entry_point<"nl_m_flush", flush, params = 1, state = 1, outputs = 0>]>}

// -----

// A tensor's level is one of the ABI's.
// expected-error @+1 {{ABI tensor 'memory.M' names level 3 of 1}}
func.func private @f() attributes {a = #nl.abi<"m", dim = 4, hyper_period = 1, levels = [#nl.abi_level<"memory", period = 0, tail = carry, order = 0>], params = [#nl.abi_tensor<"W", param, [4, 4]>], state = [#nl.abi_tensor<"memory.M", state, [4, 4], level = 3, state = @M>], outputs = [[4]], entry_points = [#nl.entry_point<"nl_m_step", step, params = 1, state = 1, outputs = 1>, #nl.entry_point<"nl_m_flush", flush, params = 1, state = 1, outputs = 0>]>}

// -----

// nl.abi describes an nl.model.
// expected-error @+1 {{'nl.abi' is an attribute of nl.model}}
func.func private @f() attributes {nl.abi = #nl.abi<"m", dim = 4, hyper_period = 1, levels = [#nl.abi_level<"memory", period = 0, tail = carry, order = 0>], params = [#nl.abi_tensor<"W", param, [4, 4]>], state = [#nl.abi_tensor<"memory.M", state, [4, 4], level = 0, state = @M>], outputs = [[4]], entry_points = [#nl.entry_point<"nl_m_step", step, params = 1, state = 1, outputs = 1>, #nl.entry_point<"nl_m_flush", flush, params = 1, state = 1, outputs = 0>]>}

// -----

// ... with an #nl.abi.
// expected-error @+1 {{'nl.abi' takes an #nl.abi}}
func.func private @f() attributes {nl.abi = 1 : i64}

// -----

// The ABI is the model's own.
// expected-error @+1 {{'nl.model' op has an nl.abi that does not describe it: it is the ABI of 'other'}}
nl.model @m attributes {dim = 4, nl.abi = #nl.abi<"other", dim = 4, hyper_period = 1, levels = [#nl.abi_level<"memory", period = 0, tail = carry, order = 0>], params = [#nl.abi_tensor<"W", param, [4, 4]>], state = [#nl.abi_tensor<"memory.M", state, [4, 4], level = 0, state = @M>], outputs = [[4]], entry_points = [#nl.entry_point<"nl_m_step", step, params = 1, state = 1, outputs = 1>, #nl.entry_point<"nl_m_flush", flush, params = 1, state = 1, outputs = 0>]>} {
  nl.param @W : tensor<4x4xf32> = #nl.zeros
  nl.level @memory period frozen {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// ... with its parameters,
// expected-error @+1 {{has an nl.abi that does not describe it: it lists 0 parameters, the model has 1}}
nl.model @m attributes {dim = 4, nl.abi = #nl.abi<"m", dim = 4, hyper_period = 1, levels = [#nl.abi_level<"memory", period = 0, tail = carry, order = 0>], params = [], state = [#nl.abi_tensor<"memory.M", state, [4, 4], level = 0, state = @M>], outputs = [[4]], entry_points = [#nl.entry_point<"nl_m_step", step, params = 0, state = 1, outputs = 1>, #nl.entry_point<"nl_m_flush", flush, params = 0, state = 1, outputs = 0>]>} {
  nl.param @W : tensor<4x4xf32> = #nl.zeros
  nl.level @memory period frozen {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// ... its levels,
// expected-error @+1 {{has an nl.abi that does not describe it: level @memory is listed as 'other'}}
nl.model @m attributes {dim = 4, nl.abi = #nl.abi<"m", dim = 4, hyper_period = 1, levels = [#nl.abi_level<"other", period = 0, tail = carry, order = 0>], params = [#nl.abi_tensor<"W", param, [4, 4]>], state = [#nl.abi_tensor<"memory.M", state, [4, 4], level = 0, state = @M>], outputs = [[4]], entry_points = [#nl.entry_point<"nl_m_step", step, params = 1, state = 1, outputs = 1>, #nl.entry_point<"nl_m_flush", flush, params = 1, state = 1, outputs = 0>]>} {
  nl.param @W : tensor<4x4xf32> = #nl.zeros
  nl.level @memory period frozen {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// ... and its chunk entry.
// expected-error @+1 {{has an nl.abi that does not describe it: it lists a chunk entry the model does not have}}
nl.model @m attributes {dim = 4, nl.abi = #nl.abi<"m", dim = 4, hyper_period = 1, levels = [#nl.abi_level<"memory", period = 0, tail = carry, order = 0>], params = [#nl.abi_tensor<"W", param, [4, 4]>], state = [#nl.abi_tensor<"memory.M", state, [4, 4], level = 0, state = @M>], outputs = [[4]], entry_points = [#nl.entry_point<"nl_m_step", step, params = 1, state = 1, outputs = 1>, #nl.entry_point<"nl_m_flush", flush, params = 1, state = 1, outputs = 0>, #nl.entry_point<"nl_m_chunk", chunk, params = 1, state = 1, outputs = 1, tokens = 4>]>} {
  nl.param @W : tensor<4x4xf32> = #nl.zeros
  nl.level @memory period frozen {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    nl.yield %x : tensor<4xf32>
  }
}

// -----

// nl.entry_point is an attribute of functions.
// expected-error @+1 {{'nl.entry_point' is an attribute of functions}}
module attributes {nl.entry_point = #nl.entry_point<"nl_m_step", step, params = 0, state = 1, outputs = 1>} {
}

// -----

// ... with an #nl.entry_point.
// expected-error @+1 {{'nl.entry_point' takes an #nl.entry_point}}
func.func private @f() attributes {nl.entry_point = "nl_m_step"}

// -----

// nl.kernel takes an #nl.kernel.
// expected-error @+1 {{'nl.kernel' takes an #nl.kernel}}
func.func private @f() attributes {nl.kernel = 512 : i64}

// -----

// nl.serial is a unit attribute.
// expected-error @+1 {{'nl.serial' is a unit attribute}}
func.func private @f() attributes {nl.serial = 1 : i64}

// -----

// No other nl attribute is passed on.
// expected-error @+1 {{unknown attribute 'nl.c_symbol' of the nl dialect (known: nl.abi, nl.entry_point, nl.kernel, nl.serial)}}
func.func private @f() attributes {nl.c_symbol = "nl_m_step"}

// -----

// nl.token_scratch is a unit attribute,
// expected-error @+1 {{'nl.token_scratch' is a unit attribute}}
func.func private @f(%a: memref<4xf32> {nl.token_scratch = 1 : i64})

// -----

// ... and the only argument attribute.
// expected-error @+1 {{unknown argument attribute 'nl.buffer' of the nl dialect (known: nl.token_scratch)}}
func.func private @f(%a: memref<4xf32> {nl.buffer = unit})
