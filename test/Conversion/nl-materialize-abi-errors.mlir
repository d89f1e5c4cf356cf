// RUN: nl-opt %s --split-input-file --nl-schedule-pipeline --nl-materialize-abi -verify-diagnostics

// What the back ends do not compile is a located error of the pass that
// computes the ABI.
nl.model @in_out attributes {dim = 4} {
  // expected-error @below {{uses a matrix memory with layout = in_out; the CPU back end does not compile that yet}}
  nl.level @L period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32, layout = in_out> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}
