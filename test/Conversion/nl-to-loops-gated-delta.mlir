// RUN: nl-opt %s --split-input-file --nl-schedule-pipeline --nl-materialize-abi --nl-to-loops --canonicalize --cse | FileCheck %s

// The gated delta rule (objective = l2, retention = decay) in the kernel
// form. Pins down where the retain gate meets the gradient step:
//   decay_order = before_grad (Gated DeltaNet): the prediction is taken at
//     the decayed state, sum_c (M[r, c] retain) k[c], and the apply is
//     retain M - acc;
//   decay_order = decoupled (Titans): the prediction is taken at M itself,
//     and the apply is retain M - acc;
// a gate per key channel (tensor<4xf32>) is read at the column c in both
// places; a chunked level keeps the gate of its pending chunk's last token
// in a state, and its flush decays by that stored gate. The retain gate
// never scales the accumulator. A chunked before_grad level is refused
// (nl-to-loops-errors.mlir); its chunk-parallel form (the decay mask) is in
// nl-to-loops-chunk-form.mlir.

// CHECK-LABEL: func.func @gdn_step_impl(
// CHECK-SAME:    %[[M:[^:]+]]: memref<3x4xf32>, %[[ACC:[^:]+]]: memref<3x4xf32> {nl.token_scratch},
// CHECK-SAME:    %[[X:[^:]+]]: memref<4xf32>,
// CHECK-DAG:     %[[LRV:.+]] = arith.constant 5.000000e-01 : f32
// CHECK-DAG:     %[[AV:.+]] = arith.constant 8.750000e-01 : f32
// CHECK-DAG:     memref.store %[[LRV]], %[[LR:.+]][] : memref<f32>
// CHECK-DAG:     memref.store %[[AV]], %[[RET:.+]][] : memref<f32>
// The prediction at the decayed state: (M[r, c] * retain) * k[c].
// CHECK:         scf.if
// CHECK-NEXT:      scf.parallel (%[[R:.+]]) =
// CHECK-NEXT:        %[[PRED:.+]] = scf.for %[[C:.+]] = %{{.+}} to %c4 step %{{.+}} iter_args(%[[S:.+]] = %{{.+}}) -> (f32) {
// CHECK-NEXT:          %[[MRC:.+]] = memref.load %[[M]][%[[R]], %[[C]]]
// CHECK-NEXT:          %[[A:.+]] = memref.load %[[RET]][]
// CHECK-NEXT:          %[[DECAYED:.+]] = arith.mulf %[[MRC]], %[[A]]
// CHECK-NEXT:          %[[KC:.+]] = memref.load %[[X]][%[[C]]]
// CHECK-NEXT:          %[[P:.+]] = arith.mulf %[[DECAYED]], %[[KC]]
// CHECK-NEXT:          arith.addf %[[S]], %[[P]]
// CHECK:             %[[E:.+]] = arith.subf %[[PRED]], %{{.+}}
// The step is scaled by lr only: e k^T lr.
// CHECK-NEXT:        scf.parallel (%[[J:.+]]) =
// CHECK-NEXT:          %[[KJ:.+]] = memref.load %[[X]][%[[J]]]
// CHECK-NEXT:          %[[G:.+]] = arith.mulf %[[E]], %[[KJ]]
// CHECK-NEXT:          %[[L:.+]] = memref.load %[[LR]][]
// CHECK-NEXT:          %[[LG:.+]] = arith.mulf %[[G]], %[[L]]
// CHECK-NEXT:          memref.store %[[LG]], %[[ACC]][%[[R]], %[[J]]]
// The apply: retain * M - acc.
// CHECK:         scf.if
// CHECK-NEXT:      scf.parallel (%[[AR:.+]], %[[AC:.+]]) =
// CHECK-NEXT:        %[[ACCV:.+]] = memref.load %[[ACC]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        %[[OLD:.+]] = memref.load %[[M]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        %[[A2:.+]] = memref.load %[[RET]][]
// CHECK-NEXT:        %[[KEPT:.+]] = arith.mulf %[[OLD]], %[[A2]]
// CHECK-NEXT:        %[[NEW:.+]] = arith.subf %[[KEPT]], %[[ACCV]]
// CHECK-NEXT:        memref.store %[[NEW]], %[[M]][%[[AR]], %[[AC]]]
// The read after the write sees the new state.
// CHECK:         scf.parallel
// CHECK-NEXT:      scf.for
// CHECK-NEXT:        memref.load %[[M]][
nl.model @gdn attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2, retention = decay, decay_order = before_grad> {
    nl.state @M : !nl.matrix<3x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<3xf32> {
    %v = tensor.extract_slice %x[0] [3] [1] : tensor<4xf32> to tensor<3xf32>
    %lr = arith.constant dense<0.5> : tensor<f32>
    %a = arith.constant dense<0.875> : tensor<f32>
    nl.update @L key(%x : tensor<4xf32>) value(%v : tensor<3xf32>) lr(%lr : tensor<f32>) retain(%a : tensor<f32>)
    %y = nl.read @L(%x) : tensor<4xf32> -> tensor<3xf32>
    nl.yield %y : tensor<3xf32>
  }
}

// -----

// decoupled: the prediction reads M undecayed; the decay is in the apply.
// CHECK-LABEL: func.func @decoupled_step_impl(
// CHECK-SAME:    %[[M:[^:]+]]: memref<3x4xf32>, %[[ACC:[^:]+]]: memref<3x4xf32> {nl.token_scratch},
// CHECK-SAME:    %[[X:[^:]+]]: memref<4xf32>,
// CHECK-DAG:     %[[AV:.+]] = arith.constant 8.750000e-01 : f32
// CHECK-DAG:     memref.store %[[AV]], %[[RET:.+]][] : memref<f32>
// CHECK:         scf.if
// CHECK-NEXT:      scf.parallel (%[[R:.+]]) =
// CHECK-NEXT:        scf.for %[[C:.+]] = %{{.+}} to %c4
// CHECK-NEXT:          %[[MRC:.+]] = memref.load %[[M]][%[[R]], %[[C]]]
// CHECK-NEXT:          %[[KC:.+]] = memref.load %[[X]][%[[C]]]
// CHECK-NEXT:          arith.mulf %[[MRC]], %[[KC]]
// CHECK-NOT:       memref.load %[[RET]][]
// CHECK:           memref.store %{{.+}}, %[[ACC]][
// CHECK:         scf.if
// CHECK-NEXT:      scf.parallel (%[[AR:.+]], %[[AC:.+]]) =
// CHECK-NEXT:        %[[ACCV:.+]] = memref.load %[[ACC]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        %[[OLD:.+]] = memref.load %[[M]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        %[[A:.+]] = memref.load %[[RET]][]
// CHECK-NEXT:        %[[KEPT:.+]] = arith.mulf %[[OLD]], %[[A]]
// CHECK-NEXT:        %[[NEW:.+]] = arith.subf %[[KEPT]], %[[ACCV]]
// CHECK-NEXT:        memref.store %[[NEW]], %[[M]][%[[AR]], %[[AC]]]
nl.model @decoupled attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2, retention = decay> {
    nl.state @M : !nl.matrix<3x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %v = tensor.extract_slice %x[0] [3] [1] : tensor<4xf32> to tensor<3xf32>
    %lr = arith.constant dense<0.5> : tensor<f32>
    %a = arith.constant dense<0.875> : tensor<f32>
    nl.update @L key(%x : tensor<4xf32>) value(%v : tensor<3xf32>) lr(%lr : tensor<f32>) retain(%a : tensor<f32>)
    nl.yield
  }
}

// -----

// A data-dependent retain gate per key channel, a = sigmoid(x): element c
// of the gate decays column c of M, in the prediction and in the apply.
// CHECK-LABEL: func.func @channels_step_impl(
// CHECK-SAME:    %[[M:[^:]+]]: memref<3x4xf32>, %[[ACC:[^:]+]]: memref<3x4xf32> {nl.token_scratch},
// CHECK:         math.exp
// CHECK:         memref.store %{{.+}}, %[[RET:.+]][%{{.+}}] : memref<4xf32>
// CHECK:         scf.if
// CHECK-NEXT:      scf.parallel (%[[R:.+]]) =
// CHECK-NEXT:        scf.for %[[C:.+]] = %{{.+}} to %c4
// CHECK-NEXT:          %[[MRC:.+]] = memref.load %[[M]][%[[R]], %[[C]]]
// CHECK-NEXT:          %[[A:.+]] = memref.load %[[RET]][%[[C]]]
// CHECK-NEXT:          arith.mulf %[[MRC]], %[[A]]
// CHECK:         scf.if
// CHECK-NEXT:      scf.parallel (%[[AR:.+]], %[[AC:.+]]) =
// CHECK-NEXT:        %[[ACCV:.+]] = memref.load %[[ACC]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        %[[OLD:.+]] = memref.load %[[M]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        %[[A2:.+]] = memref.load %[[RET]][%[[AC]]]
// CHECK-NEXT:        %[[KEPT:.+]] = arith.mulf %[[OLD]], %[[A2]]
// CHECK-NEXT:        arith.subf %[[KEPT]], %[[ACCV]]
nl.model @channels attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2, retention = decay, decay_order = before_grad> {
    nl.state @M : !nl.matrix<3x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %v = tensor.extract_slice %x[0] [3] [1] : tensor<4xf32> to tensor<3xf32>
    %lr = arith.constant dense<0.5> : tensor<f32>
    %a = nl.act sigmoid %x : tensor<4xf32>
    nl.update @L key(%x : tensor<4xf32>) value(%v : tensor<3xf32>) lr(%lr : tensor<f32>) retain(%a : tensor<4xf32>)
    nl.yield
  }
}

// -----

// A period-4 gated level: the learn keeps this token's lr and retain in
// their gate states (__gate.L.lr, __gate.L.retain); the apply in the step
// decays by the live gate, the flush by the stored one.
// CHECK-LABEL: func.func @chunked_step_impl(
// CHECK-SAME:    %[[M:[^:]+]]: memref<3x4xf32>, %[[ACC:[^:]+]]: memref<3x4xf32>,
// CHECK-SAME:    %[[GLR:[^:]+]]: memref<f32>, %[[GRET:[^:]+]]: memref<f32>,
// CHECK-DAG:     %[[AV:.+]] = arith.constant 8.750000e-01 : f32
// CHECK-DAG:     memref.store %[[AV]], %[[RET:.+]][] : memref<f32>
// CHECK:         scf.if
// CHECK:               %[[SUM:.+]] = memref.load %[[ACC]][
// CHECK-NEXT:          arith.addf %[[SUM]]
// CHECK:           memref.store %{{.+}}, %[[GLR]][]
// CHECK-NEXT:      %[[A:.+]] = memref.load %[[RET]][]
// CHECK-NEXT:      memref.store %[[A]], %[[GRET]][]
// CHECK-NEXT:    }
// CHECK:         scf.if
// CHECK-NEXT:      scf.parallel
// CHECK-NEXT:        %[[ACCV:.+]] = memref.load %[[ACC]][
// CHECK-NEXT:        %[[OLD:.+]] = memref.load %[[M]][
// CHECK-NEXT:        %[[A2:.+]] = memref.load %[[RET]][]
// CHECK-NEXT:        %[[KEPT:.+]] = arith.mulf %[[OLD]], %[[A2]]
// CHECK-NEXT:        arith.subf %[[KEPT]], %[[ACCV]]
// CHECK-LABEL: func.func @chunked_flush_impl(
// CHECK-SAME:    %[[FM:[^:]+]]: memref<3x4xf32>, %[[FACC:[^:]+]]: memref<3x4xf32>,
// CHECK-SAME:    %{{[^:]+}}: memref<f32>, %[[FGRET:[^:]+]]: memref<f32>, %{{[^:]+}}: i64)
// CHECK:         scf.if
// CHECK-NEXT:      scf.parallel (%[[FR:.+]], %[[FC:.+]]) =
// CHECK-NEXT:        %[[FA:.+]] = memref.load %[[FACC]][%[[FR]], %[[FC]]]
// CHECK-NEXT:        %[[FOLD:.+]] = memref.load %[[FM]][%[[FR]], %[[FC]]]
// CHECK-NEXT:        %[[FRET:.+]] = memref.load %[[FGRET]][]
// CHECK-NEXT:        %[[FKEPT:.+]] = arith.mulf %[[FOLD]], %[[FRET]]
// CHECK-NEXT:        %[[FNEW:.+]] = arith.subf %[[FKEPT]], %[[FA]]
// CHECK-NEXT:        memref.store %[[FNEW]], %[[FM]][%[[FR]], %[[FC]]]
// CHECK-NEXT:        memref.store %{{.+}}, %[[FACC]][%[[FR]], %[[FC]]]
nl.model @chunked attributes {dim = 4} {
  nl.level @L period 4 rule <objective = l2, retention = decay> {
    nl.state @M : !nl.matrix<3x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %v = tensor.extract_slice %x[0] [3] [1] : tensor<4xf32> to tensor<3xf32>
    %lr = arith.constant dense<0.5> : tensor<f32>
    %a = arith.constant dense<0.875> : tensor<f32>
    nl.update @L key(%x : tensor<4xf32>) value(%v : tensor<3xf32>) lr(%lr : tensor<f32>) retain(%a : tensor<f32>)
    nl.yield
  }
}
