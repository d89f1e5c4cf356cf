//===- Passes.td - Passes of the nl dialect ---------------*- tablegen -*-===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#ifndef NL_TRANSFORMS_PASSES_TD
#define NL_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def NLVerifySchedule : Pass<"nl-verify-schedule", "::mlir::nl::ModelOp"> {
  let summary = "Compute every level's effective period and the global schedule";
  let description = [{
    Computes, for each level of a model:

    * its effective period: the chunk size; 1 for a non-parametric (`inf`)
      level, which is written every token; 0 (never) for `frozen` and
      `offline` levels; an optimizer level named in another level's `via`
      takes the period of the level it serves;
    * its rank, the paper's level index: 0 for the fastest frequency,
      levels of equal frequency share a rank;
    * its position in the within-step update order: a topological order of
      the same-step dependencies (a level comes after the levels whose
      step-t state it needs), faster levels first among independent ones,
      then body order;
    * how many times it fires per hyper-period.

    The model's hyper-period (the least common multiple of the effective
    periods) is attached as `hyper_period`; each level gets a
    `#nl.schedule`. The pass fails with a located error when the
    hyper-period exceeds `max-hyper-period` tokens.

    Example:
    ```mlir
    // nl-opt --nl-verify-schedule
    nl.level @fast period 1 ... {schedule = #nl.schedule<period = 1, rank = 0, order = 0, fires = 16>}
    nl.level @slow period 16 ... {schedule = #nl.schedule<period = 16, rank = 1, order = 1, fires = 1>}
    ```
  }];
  let dependentDialects = ["::mlir::nl::NLDialect"];
  let options = [
    Option<"maxHyperPeriod", "max-hyper-period", "int64_t",
           /*default=*/"int64_t(1) << 40",
           "Largest hyper-period (in tokens) accepted before the schedule is "
           "considered a mistake">,
    Option<"emitRemarks", "remarks", "bool", /*default=*/"false",
           "Emit one remark per level with its schedule (for humans and "
           "-verify-diagnostics)">
  ];
  let statistics = [
    Statistic<"numLevels", "num-levels", "Levels scheduled">,
    Statistic<"numFrozen", "num-frozen", "Levels that never update online">
  ];
}

#endif // NL_TRANSFORMS_PASSES_TD
