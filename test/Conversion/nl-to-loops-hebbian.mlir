// RUN: nl-opt %s --split-input-file --nl-schedule-pipeline --nl-materialize-abi --nl-to-loops --canonicalize --cse | FileCheck %s

// The Hebbian rule (objective = dot, L = -<M k, v>: linear attention) in the
// kernel form. Pins down that its gradient -v k^T does not read the memory
// (no prediction loop, no load of M before the apply), the sign (-v_r, so
// that M - acc adds lr v k^T), the lr scaling per token, and, for a chunked
// level with decay and lr_placement = per_chunk, the apply
// retain M - lr acc from the live gates in the step and from the stored
// gates (__gate.L.lr, __gate.L.retain) in the flush.

// CHECK-LABEL: func.func @hebb_step_impl(
// CHECK-SAME:    %[[M:[^:]+]]: memref<3x4xf32>, %[[ACC:[^:]+]]: memref<3x4xf32> {nl.token_scratch},
// CHECK-SAME:    %[[X:[^:]+]]: memref<4xf32>, %[[Y:[^:]+]]: memref<3xf32>,
// CHECK:         scf.parallel (%[[I:.+]]) =
// CHECK-NEXT:      %[[XI:.+]] = memref.load %[[X]][%[[I]]]
// CHECK-NEXT:      memref.store %[[XI]], %[[V:.+]][%[[I]]] : memref<3xf32>
// CHECK:         memref.store %{{.+}}, %[[LR:.+]][] : memref<f32>
// CHECK-NOT:     memref.load %[[M]][
// CHECK:         scf.if
// CHECK-NEXT:      scf.parallel (%[[R:.+]]) = (%{{.+}}) to (%c3)
// CHECK-NEXT:        %[[VR:.+]] = memref.load %[[V]][%[[R]]]
// CHECK-NEXT:        %[[NV:.+]] = arith.negf %[[VR]]
// CHECK-NEXT:        scf.parallel (%[[J:.+]]) = (%{{.+}}) to (%c4)
// CHECK-NEXT:          %[[KJ:.+]] = memref.load %[[X]][%[[J]]]
// CHECK-NEXT:          %[[G:.+]] = arith.mulf %[[NV]], %[[KJ]]
// CHECK-NEXT:          %[[L:.+]] = memref.load %[[LR]][]
// CHECK-NEXT:          %[[LG:.+]] = arith.mulf %[[G]], %[[L]]
// CHECK-NEXT:          memref.store %[[LG]], %[[ACC]][%[[R]], %[[J]]]
// CHECK-NOT:     memref.load %[[M]][
// CHECK:         scf.if
// CHECK-NEXT:      scf.parallel (%[[AR:.+]], %[[AC:.+]]) =
// CHECK-NEXT:        %[[A:.+]] = memref.load %[[ACC]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        %[[OLD:.+]] = memref.load %[[M]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        %[[NEW:.+]] = arith.subf %[[OLD]], %[[A]]
// CHECK-NEXT:        memref.store %[[NEW]], %[[M]][%[[AR]], %[[AC]]]
// The read after the write.
// CHECK:         scf.parallel
// CHECK-NEXT:      scf.for
// CHECK-NEXT:        memref.load %[[M]][
// CHECK:         memref.store %{{.+}}, %[[Y]][
// CHECK-LABEL: func.func @hebb_flush_impl(
// CHECK-NEXT:    return
nl.model @hebb attributes {dim = 4} {
  nl.level @L period 1 rule <objective = dot> {
    nl.state @M : !nl.matrix<3x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<3xf32> {
    %v = tensor.extract_slice %x[0] [3] [1] : tensor<4xf32> to tensor<3xf32>
    %lr = arith.constant dense<0.5> : tensor<f32>
    nl.update @L key(%x : tensor<4xf32>) value(%v : tensor<3xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @L(%x) : tensor<4xf32> -> tensor<3xf32>
    nl.yield %y : tensor<3xf32>
  }
}

// -----

// Chunked, with decay and the lr outside the sum: acc += -v k^T (no lr),
// M = retain M - lr acc at the chunk's end.
// CHECK-LABEL: func.func @decayed_step_impl(
// CHECK-SAME:    %[[M:[^:]+]]: memref<3x4xf32>, %[[ACC:[^:]+]]: memref<3x4xf32>,
// CHECK-SAME:    %[[GLR:[^:]+]]: memref<f32>, %[[GRET:[^:]+]]: memref<f32>,
// CHECK-DAG:     %[[LRV:.+]] = arith.constant 5.000000e-01 : f32
// CHECK-DAG:     %[[AV:.+]] = arith.constant 8.750000e-01 : f32
// CHECK-DAG:     memref.store %[[LRV]], %[[LR:.+]][] : memref<f32>
// CHECK-DAG:     memref.store %[[AV]], %[[RET:.+]][] : memref<f32>
// CHECK:         scf.if
// CHECK-NEXT:      scf.parallel (%[[R:.+]]) =
// CHECK-NEXT:        memref.load
// CHECK-NEXT:        %[[NV:.+]] = arith.negf
// CHECK-NEXT:        scf.parallel (%[[J:.+]]) =
// CHECK-NEXT:          %[[KJ:.+]] = memref.load
// CHECK-NEXT:          %[[G:.+]] = arith.mulf %[[NV]], %[[KJ]]
// CHECK-NEXT:          %[[SUM:.+]] = memref.load %[[ACC]][%[[R]], %[[J]]]
// CHECK-NEXT:          %[[NEXT:.+]] = arith.addf %[[SUM]], %[[G]]
// CHECK-NEXT:          memref.store %[[NEXT]], %[[ACC]][%[[R]], %[[J]]]
// CHECK:           %[[L:.+]] = memref.load %[[LR]][]
// CHECK-NEXT:      memref.store %[[L]], %[[GLR]][]
// CHECK-NEXT:      %[[A:.+]] = memref.load %[[RET]][]
// CHECK-NEXT:      memref.store %[[A]], %[[GRET]][]
// CHECK:         scf.if
// CHECK-NEXT:      scf.parallel (%[[AR:.+]], %[[AC:.+]]) =
// CHECK-NEXT:        %[[S:.+]] = memref.load %[[ACC]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        %[[L2:.+]] = memref.load %[[LR]][]
// CHECK-NEXT:        %[[STEP:.+]] = arith.mulf %[[S]], %[[L2]]
// CHECK-NEXT:        %[[OLD:.+]] = memref.load %[[M]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        %[[A2:.+]] = memref.load %[[RET]][]
// CHECK-NEXT:        %[[KEPT:.+]] = arith.mulf %[[OLD]], %[[A2]]
// CHECK-NEXT:        %[[NEW:.+]] = arith.subf %[[KEPT]], %[[STEP]]
// CHECK-NEXT:        memref.store %[[NEW]], %[[M]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        memref.store %{{.+}}, %[[ACC]][%[[AR]], %[[AC]]]
// CHECK-LABEL: func.func @decayed_flush_impl(
// CHECK-SAME:    %[[FM:[^:]+]]: memref<3x4xf32>, %[[FACC:[^:]+]]: memref<3x4xf32>,
// CHECK-SAME:    %[[FGLR:[^:]+]]: memref<f32>, %[[FGRET:[^:]+]]: memref<f32>, %{{[^:]+}}: i64)
// CHECK:         scf.if
// CHECK-NEXT:      scf.parallel (%[[FR:.+]], %[[FC:.+]]) =
// CHECK-NEXT:        %[[FS:.+]] = memref.load %[[FACC]][%[[FR]], %[[FC]]]
// CHECK-NEXT:        %[[FL:.+]] = memref.load %[[FGLR]][]
// CHECK-NEXT:        %[[FSTEP:.+]] = arith.mulf %[[FS]], %[[FL]]
// CHECK-NEXT:        %[[FOLD:.+]] = memref.load %[[FM]][%[[FR]], %[[FC]]]
// CHECK-NEXT:        %[[FA:.+]] = memref.load %[[FGRET]][]
// CHECK-NEXT:        %[[FKEPT:.+]] = arith.mulf %[[FOLD]], %[[FA]]
// CHECK-NEXT:        %[[FNEW:.+]] = arith.subf %[[FKEPT]], %[[FSTEP]]
// CHECK-NEXT:        memref.store %[[FNEW]], %[[FM]][%[[FR]], %[[FC]]]
nl.model @decayed attributes {dim = 4} {
  nl.level @L period 4 rule <objective = dot, retention = decay, lr_placement = per_chunk> {
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
