//===- Passes.td - nlc conversion passes ------------------*- tablegen -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#ifndef NLC_CONVERSION_PASSES_TD
#define NLC_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def NLExportCABI : Pass<"nl-export-c-abi", "::mlir::ModuleOp"> {
  let summary = "Add the C entry points of compiled models (LLVM dialect)";
  let description = [{
    Runs after the conversion to the LLVM dialect. For every function that
    the lowering marked with `nl.entry_point = #nl.entry_point<...>` (its
    memrefs passed as bare pointers), adds an exported function of the
    entry point's symbol with the stable C ABI of docs/architecture.md,
    its argument groups counted by the entry point (a step of one head also
    takes the head):

    ```c
    void nl_<model>_step(const float *const *params, float *const *state,
                         const float *x, float *const *outputs,
                         uint64_t active, uint64_t fire);
    void nl_<model>_flush(const float *const *params, float *const *state,
                          uint64_t fire);
    ```

    which loads each tensor pointer from the arrays and calls the kernel.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
  let statistics = [
    Statistic<"numEntryPoints", "num-entry-points", "C entry points added">
  ];
}

def NLMaterializeABI : Pass<"nl-materialize-abi", "::mlir::nl::ModelOp"> {
  let summary = "Attach the ABI of a compiled model to it (nl.abi)";
  let description = [{
    Computes the ABI of a scheduled model once, where it is final (before
    the CPU forms, after the explicit-update form, or before the kernel
    form), and attaches it as `nl.abi = #nl.abi<...>`: its parameters and
    state tensors in the order of the C ABI, each with the kind of what it
    holds (a level's state, a KV cache's ring, a chunk accumulator, a
    deferred-gradient ring, the Omega rule's window, an m3 buffer, a gate
    of the pending chunk, a convolution's history), its owning level and
    the fields that name its source; the step's outputs; the levels with
    their periods, tails, order and rules; and the entry points. Every
    later consumer reads it: `nl-to-loops`, the driver's manifest and state
    checks, `nl-split-heads`'s check of the model of one head (which gives
    that model its own ABI), and `nl-chunk` (which adds the chunk entry it
    writes). A model that already has one keeps it. Fails, at the level or
    op, on what the back ends do not compile yet.

    Example: a model with a delta-rule level `@memory` (state `@M`, period
    16) gets
    `state = [#nl.abi_tensor<"memory.M", state, [16, 16], level = 0, state = @M>,
    #nl.abi_tensor<"memory.__acc", accumulator, [16, 16], level = 0>,
    #nl.abi_tensor<"memory.__gate.memory.lr", gate_lr, [1], level = 0, of = @memory>]`.
  }];
  let statistics = [
    Statistic<"numMaterialized", "num-materialized", "ABIs computed">
  ];
}

def NLToLoops : Pass<"nl-to-loops", "::mlir::ModuleOp"> {
  let summary = "Lower scheduled nl models to loops on memrefs";
  let description = [{
    Replaces every scheduled `nl.model` by two functions on memrefs written
    with scf loops, arith and math: the step of one token and the flush of
    pending chunks. Their arguments follow the model's ABI, which it reads
    from the model's `nl.abi` (run `nl-materialize-abi` first: a model
    without one is an error): parameters, then every state tensor,
    including the chunk accumulators and stored gates the compiled code
    needs, each found by its kind, never by its name. Each function gets the
    `nl.entry_point` it implements. The step orders the model's ops so that reads see the
    state before or after their level's write as the rule's `read` says,
    accumulates each level's gradient contribution when bit `active` is set,
    and applies the level's update when bit `fire` is set.

    Example: a delta-rule level becomes, per head and row r,
    `e = sum_c M[r,c] k[c] - v[r]; acc[r,c] += lr * e * k[c]`, then on fire
    `M = retain * M - acc; acc = 0`.

    A model with an `nl.chunk_step` (`nl-chunk`) gains a third function, the
    chunk entry, with the step's arguments for `C` tokens (`x` of `C x dim`,
    outputs with a leading `C`). `nl.matmul` becomes a register-tiled loop
    nest: blocks of 4 rows by 16 columns of the product are kept in vector
    registers (`vector.fma` on `vector<8xf32>`) across the contraction,
    and `nl.assign` writes the new states once the chunk's outputs are
    computed.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
    "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect"
  ];
  let options = [
    Option<"fastMath", "fast-math", "bool", /*default=*/"true",
           "Mark float arithmetic `reassoc,contract`, so that LLVM may "
           "reorder reductions and fuse multiply-adds (vectorizes; results "
           "differ from strict order by float rounding only)">
  ];
}

def NLMapToGPU : Pass<"nl-map-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Map the loop form of compiled models to GPU kernels, one "
                "block per stream";
  let description = [{
    Runs on the output of `nl-to-loops`. For every function it marked with
    `nl.entry_point` (the step and the flush), adds a kernel to a
    `gpu.module` and removes the function; the kernel's launch facts are its
    `nl.kernel = #nl.kernel<...>`.
    One thread block runs one stream (`gpu.block_id x`) through all T tokens
    of a call, so the per-token recurrence never leaves the chip and costs
    one launch per call, not one per token:

    - every top-level `scf.parallel` (rows of a memory, element-wise maps,
      heads) becomes a loop over its linearized iterations strided by the
      block's threads, between two `gpu.barrier`s; when its body holds sum
      loops (a row times a vector) or parallel loops (a row's update), each
      iteration gets a warp instead: the lanes split those loops (reading a
      row coalesced) and add their parts with shuffles (`warp-rows`);
    - other ops that write memory (scalar stores, sequential loops that
      store) run on thread 0 alone, between barriers;
    - everything else (scalar math, reductions that only read) runs on every
      thread, which then holds the same value;
    - `scf.for` / `scf.if` that contain parallel loops are kept, uniform
      across the block, and mapped recursively;
    - scratch buffers become shared memory when the total fits in
      `shared-memory-limit` bytes, else views of a global scratch buffer.

    Kernel ABI (every buffer a bare pointer; B = gridDim.x streams):

    ```c
    __global__ void nl_<m>_steps(const float *p0, ..., float *s0, ...,
                                 const float *x /*[B][T][dim]*/,
                                 float *o0 /*[B][T][numel]*/, ...,
                                 int64_t active, const uint64_t *fire /*[T]*/,
                                 int64_t T, char *scratch);
    __global__ void nl_<m>_flush(const float *p0, ..., float *s0, ...,
                                 int64_t fire, char *scratch);
    ```

    State tensor j is [B][numel_j]; `scratch` holds B times the kernel's
    `scratch_bytes` (its `#nl.kernel`) bytes (null when that is 0).
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::gpu::GPUDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect"
  ];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"512",
           "Threads per block (one block runs one stream)">,
    Option<"sharedMemoryLimit", "shared-memory-limit", "int64_t",
           /*default=*/"49152",
           "Per-stream scratch bytes kept in shared memory; more goes to a "
           "global scratch buffer">,
    Option<"warpRows", "warp-rows", "bool", /*default=*/"true",
           "Give each iteration of a parallel loop that holds sum loops or "
           "parallel loops a warp, its lanes splitting those (coalesced "
           "reads of memory rows); else a thread per iteration">
  ];
  let statistics = [
    Statistic<"numKernels", "num-kernels", "Kernels created">,
    Statistic<"numThreadLoops", "num-thread-loops",
              "Parallel loops distributed over threads">,
    Statistic<"numWarpLoops", "num-warp-loops",
              "Parallel loops distributed over warps">,
    Statistic<"numSerialRegions", "num-serial-regions",
              "Regions run by thread 0">,
    Statistic<"numBarriers", "num-barriers", "Barriers inserted">
  ];
}

def NLBareKernelArgs : Pass<"nl-bare-kernel-args", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Pass each buffer of an nlc GPU kernel as one pointer";
  let description = [{
    Runs after `convert-gpu-to-nvvm`, which expands every `memref<?xi8>`
    argument of a kernel into its descriptor (allocated and aligned pointer,
    offset, size, stride). For the kernels `nl-map-to-gpu` made (their
    `#nl.kernel`'s `buffer_args`, which it then drops), replaces each such
    group by one `!llvm.ptr`: offset
    0, stride 1, and a size nothing reads. The result is the plain kernel ABI
    of `nl-map-to-gpu`, which a CUDA launcher or a `.cu` wrapper calls with
    one pointer per tensor.

    Example: `llvm.func @k(%p: !llvm.ptr, %a: !llvm.ptr, %o: i64, %n: i64,
    %s: i64, %t: i64)` becomes `llvm.func @k(%p: !llvm.ptr, %t: i64)`.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def NLParallelizeCPU : Pass<"nl-parallelize-cpu", "::mlir::func::FuncOp"> {
  let summary = "Keep the parallel loops worth a thread team; run the rest "
                "in order";
  let description = [{
    Runs on the loop form for the CPU. A step of one token is small (a few
    microseconds to a few hundred), so forking threads pays only for its
    heaviest loops: an outermost `scf.parallel` whose estimated work (trip
    count times the operations of its body, nested loops multiplied out) is
    at least `min-work` stays parallel, for `convert-scf-to-openmp` to give
    to a thread team; every other `scf.parallel` (nested ones, small ones)
    becomes a nest of `scf.for`, which LLVM vectorizes as before.

    The default threshold comes from W1 on a 2-core x86 host (bench/): the
    fused row loop of 8 heads of 128x128 memories (~4M operations, ~70 us)
    gains 1.4x from 2 threads, that of 64x64 memories (~1.2M, ~16 us) loses
    to the fork and join, so it stays sequential.

    A function marked `nl.serial` (the chunk entry of `nl-chunk`, whose
    scratch is thread-local) keeps every loop serial: a team member would
    see its own copy of the scratch.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect"];
  let options = [
    Option<"minWork", "min-work", "int64_t", /*default=*/"2000000",
           "Estimated operations below which a parallel loop runs in order">
  ];
}

def NLFuseRows : Pass<"nl-fuse-rows", "::mlir::func::FuncOp"> {
  let summary = "Fuse consecutive parallel loops over the same rows";
  let description = [{
    Runs on the loop form. A level's step is several loops over the rows of
    its memory (the gradient into the accumulator, the apply when the chunk
    ends, the read): each walks the whole state. When consecutive top-level
    `scf.parallel` loops (possibly each under an `scf.if` on a loop-invariant
    condition, such as a level's active or fire bit) share their leading
    dimensions and touch every buffer that one of them writes only at rows
    given by those dimensions, they become one loop: per row, the gradient,
    the apply and the read run back to back while the row is in cache, and a
    thread team forks once per step instead of once per loop.

    Normalization first: `scf.if %c { scf.parallel }` becomes
    `scf.parallel { scf.if %c }`, and a loop with more dimensions than the
    shared prefix keeps the prefix parallel and runs the rest as `scf.for`.
    Pure ops between two loops move above the first.

    Example: `scf.parallel (h, r) {acc[h, r, :] += ...}` then
    `scf.if %fire { scf.parallel (h, r, c) {M[h, r, c] = ...} }` become
    `scf.parallel (h, r) { acc[h, r, :] += ...; scf.if %fire { scf.for c
    {M[h, r, c] = ...} } }`.

    Then a per-token level's accumulator (an argument marked
    `nl.token_scratch` by nl-to-loops: one token's gradient, written and
    applied in the same step) whose every access is in one fused loop, at
    indices that start with the loop's induction variables, becomes one
    row on the stack of each iteration (`memref.alloca` between
    `llvm.intr.stacksave` and `llvm.intr.stackrestore`): the gradient is
    never written to memory and read back.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::LLVM::LLVMDialect"];
  let options = [
    Option<"minDims", "min-dims", "unsigned", /*default=*/"1",
           "Fuse only loops sharing at least this many leading dimensions "
           "(the rows of a memory: (rows), or (heads, rows))">,
    Option<"scratchRows", "scratch-rows", "bool", /*default=*/"true",
           "Keep a per-token accumulator as one row on the stack of each "
           "iteration (off for OpenMP builds: convert-scf-to-openmp puts "
           "bodies with allocas in alloca scopes, which cannot hold loops "
           "once they are lowered to branches)">
  ];
}

def NLApproximateMath : Pass<"nl-approximate-math", "::mlir::ModuleOp"> {
  let summary = "Write transcendental math ops as polynomials LLVM vectorizes";
  let description = [{
    Runs on the loop form for the CPU, before `convert-math-to-libm`. Every
    `math` op named in `functions` becomes MLIR's polynomial approximation
    of it (arith ops on the same element type): LLVM vectorizes those, where
    a call to libm's `erff`, `tanhf` or `expf` stays one scalar call per
    element. An MLP memory with a GELU spends about a fifth of its time in
    `erff` otherwise (W4 in bench/).

    The approximations are accurate to a few float32 ulps (erf: absolute
    error below 1e-6; test/Runtime/approximate-math.test measures each
    activation against float64). `nlc --exact-math` leaves the ops to libm.

    Example: `%y = math.erf %x : f32` becomes a clamp of `%x`, a few
    `arith.select`s of interval coefficients and a polynomial in FMAs.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::LLVM::LLVMDialect"];
  let options = [
    ListOption<"functions", "functions", "std::string",
               "The math ops to approximate, by mnemonic (default: erf, "
               "tanh, exp)">
  ];
}

#endif // NLC_CONVERSION_PASSES_TD
