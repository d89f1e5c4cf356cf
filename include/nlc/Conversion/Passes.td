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
    the lowering marked with `nl.c_symbol` (its memrefs passed as bare
    pointers), adds an exported function of that name with the stable C ABI
    of docs/architecture.md:

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

def NLToLoops : Pass<"nl-to-loops", "::mlir::ModuleOp"> {
  let summary = "Lower scheduled nl models to loops on memrefs";
  let description = [{
    Replaces every scheduled `nl.model` by two functions on memrefs written
    with scf loops, arith and math: the step of one token and the flush of
    pending chunks. Their arguments follow the model's ABI (parameters, then
    every state tensor, including the chunk accumulators and stored gates
    the lowering adds). The step orders the model's ops so that reads see the
    state before or after their level's write as the rule's `read` says,
    accumulates each level's gradient contribution when bit `active` is set,
    and applies the level's update when bit `fire` is set.

    Example: a delta-rule level becomes, per head and row r,
    `e = sum_c M[r,c] k[c] - v[r]; acc[r,c] += lr * e * k[c]`, then on fire
    `M = retain * M - acc; acc = 0`.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
    "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect"
  ];
  let options = [
    Option<"fastMath", "fast-math", "bool", /*default=*/"true",
           "Mark float arithmetic `reassoc,contract`, so that LLVM may "
           "reorder reductions and fuse multiply-adds (vectorizes; results "
           "differ from strict order by float rounding only)">
  ];
}

#endif // NLC_CONVERSION_PASSES_TD
