// RUN: nl-opt %s --nl-schedule-pipeline --nl-to-loops -verify-diagnostics
// RUN: nl-opt %s --nl-schedule-pipeline --nl-materialize-abi --nl-to-loops | FileCheck %s

// nl-to-loops reads the ABI nl-materialize-abi attached; without it, it
// says so at the model. With it, the model lowers.
// CHECK: func.func @m_step_impl(
// CHECK-SAME: nl.entry_point = #nl.entry_point<"nl_m_step", step, params = 0, state = 2, outputs = 0>
// expected-error @below {{'nl.model' op has no ABI (nl.abi); run nl-materialize-abi first}}
nl.model @m attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<4x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<0.1> : tensor<f32>
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}
