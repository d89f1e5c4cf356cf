// RUN: nl-opt %s --split-input-file --nl-schedule-pipeline --nl-materialize-abi --nl-to-loops --canonicalize --cse | FileCheck %s

// Delta gradient descent (algorithm = dgd, NL Eqs 56-57) in the kernel form:
// the delta step (M k - v) k^T with the step size of `dgd_step`:
//   sherman_morrison: lr' = lr / (1 + lr ||k||^2), ||k||^2 a reduction over
//                     the key;
//   unit_norm:        lr' = lr / (1 + lr);
//   undamped:         (M k + lr (M k - v)) k^T, so that M - acc is
//                     M (I - k k^T) - lr (M k - v) k^T (camera-ready Eq 28).
// The row factor replaces the per-token lr scaling (lr is not applied
// twice); the apply is M - acc. DGD on a level of period above 1 and with
// lr_placement = per_chunk is refused (nl-to-loops-errors.mlir).

// CHECK-LABEL: func.func @sm_step_impl(
// CHECK-SAME:    %[[M:[^:]+]]: memref<3x4xf32>, %[[ACC:[^:]+]]: memref<3x4xf32> {nl.token_scratch},
// CHECK-SAME:    %[[X:[^:]+]]: memref<4xf32>,
// CHECK-DAG:     %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG:     %[[LRV:.+]] = arith.constant 5.000000e-01 : f32
// CHECK-DAG:     memref.store %[[LRV]], %[[LR:.+]][] : memref<f32>
// CHECK:         scf.if
// CHECK-NEXT:      scf.parallel (%[[R:.+]]) =
// CHECK-NEXT:        %[[PRED:.+]] = scf.for
// CHECK-NEXT:          memref.load %[[M]][%[[R]],
// CHECK:             %[[E:.+]] = arith.subf %[[PRED]],
// CHECK-NEXT:        %[[L:.+]] = memref.load %[[LR]][]
// ||k||^2:
// CHECK-NEXT:        %[[KK:.+]] = scf.for %[[C:.+]] = %{{.+}} to %c4 step %{{.+}} iter_args(%[[S:.+]] = %{{.+}}) -> (f32) {
// CHECK-NEXT:          %[[KC:.+]] = memref.load %[[X]][%[[C]]]
// CHECK-NEXT:          %[[KC2:.+]] = arith.mulf %[[KC]], %[[KC]]
// CHECK-NEXT:          %[[S1:.+]] = arith.addf %[[S]], %[[KC2]]
// CHECK-NEXT:          scf.yield %[[S1]]
// CHECK-NEXT:        }
// lr' = lr / (1 + lr ||k||^2):
// CHECK-NEXT:        %[[LKK:.+]] = arith.mulf %[[L]], %[[KK]]
// CHECK-NEXT:        %[[D:.+]] = arith.addf %[[LKK]], %[[ONE]]
// CHECK-NEXT:        %[[LP:.+]] = arith.divf %[[L]], %[[D]]
// CHECK-NEXT:        scf.parallel (%[[J:.+]]) =
// CHECK-NEXT:          %[[KJ:.+]] = memref.load %[[X]][%[[J]]]
// CHECK-NEXT:          %[[G:.+]] = arith.mulf %[[E]], %[[KJ]]
// CHECK-NEXT:          %[[LG:.+]] = arith.mulf %[[G]], %[[LP]]
// CHECK-NEXT:          memref.store %[[LG]], %[[ACC]][%[[R]], %[[J]]]
// CHECK:         scf.if
// CHECK-NEXT:      scf.parallel (%[[AR:.+]], %[[AC:.+]]) =
// CHECK-NEXT:        %[[A:.+]] = memref.load %[[ACC]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        %[[OLD:.+]] = memref.load %[[M]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        %[[NEW:.+]] = arith.subf %[[OLD]], %[[A]]
// CHECK-NEXT:        memref.store %[[NEW]], %[[M]][%[[AR]], %[[AC]]]
nl.model @sm attributes {dim = 4} {
  nl.level @M period 1 rule <objective = l2, algorithm = dgd> {
    nl.state @M : !nl.matrix<3x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<3xf32> {
    %v = tensor.extract_slice %x[0] [3] [1] : tensor<4xf32> to tensor<3xf32>
    %lr = arith.constant dense<0.5> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%v : tensor<3xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @M(%x) : tensor<4xf32> -> tensor<3xf32>
    nl.yield %y : tensor<3xf32>
  }
}

// -----

// unit_norm: lr' = lr / (1 + lr), no reduction over the key.
// CHECK-LABEL: func.func @unit_step_impl(
// CHECK-DAG:     %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG:     memref.store %{{.+}}, %[[LR:.+]][] : memref<f32>
// CHECK:         %[[E:.+]] = arith.subf
// CHECK-NEXT:    %[[L:.+]] = memref.load %[[LR]][]
// CHECK-NEXT:    %[[D:.+]] = arith.addf %[[L]], %[[ONE]]
// CHECK-NEXT:    %[[LP:.+]] = arith.divf %[[L]], %[[D]]
// CHECK-NEXT:    scf.parallel
// CHECK-NEXT:      %[[KJ:.+]] = memref.load
// CHECK-NEXT:      %[[G:.+]] = arith.mulf %[[E]], %[[KJ]]
// CHECK-NEXT:      %[[LG:.+]] = arith.mulf %[[G]], %[[LP]]
// CHECK-NEXT:      memref.store %[[LG]]
nl.model @unit attributes {dim = 4} {
  nl.level @M period 1 rule <objective = l2, algorithm = dgd, dgd_step = unit_norm> {
    nl.state @M : !nl.matrix<3x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %v = tensor.extract_slice %x[0] [3] [1] : tensor<4xf32> to tensor<3xf32>
    %lr = arith.constant dense<0.5> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%v : tensor<3xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

// undamped: the row factor is (M k)_r + lr e_r, with (M k)_r = e_r + v_r;
// the gradient row is not scaled again.
// CHECK-LABEL: func.func @undamped_step_impl(
// CHECK-DAG:     memref.store %{{.+}}, %[[LR:.+]][] : memref<f32>
// CHECK:         scf.parallel (%[[R:.+]]) =
// CHECK:           %[[VR:.+]] = memref.load %[[V:.+]][%[[R]]] : memref<3xf32>
// CHECK-NEXT:      %[[E:.+]] = arith.subf %{{.+}}, %[[VR]]
// CHECK-NEXT:      %[[L:.+]] = memref.load %[[LR]][]
// CHECK-NEXT:      %[[PRED:.+]] = arith.addf %[[E]], %[[VR]]
// CHECK-NEXT:      %[[LE:.+]] = arith.mulf %[[L]], %[[E]]
// CHECK-NEXT:      %[[COEF:.+]] = arith.addf %[[PRED]], %[[LE]]
// CHECK-NEXT:      scf.parallel
// CHECK-NEXT:        %[[KJ:.+]] = memref.load
// CHECK-NEXT:        %[[G:.+]] = arith.mulf %[[COEF]], %[[KJ]]
// CHECK-NEXT:        memref.store %[[G]]
nl.model @undamped attributes {dim = 4} {
  nl.level @M period 1 rule <objective = l2, algorithm = dgd, dgd_step = undamped> {
    nl.state @M : !nl.matrix<3x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %v = tensor.extract_slice %x[0] [3] [1] : tensor<4xf32> to tensor<3xf32>
    %lr = arith.constant dense<0.5> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%v : tensor<3xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}
