// RUN: nl-opt %s --split-input-file --nl-schedule-pipeline --nl-materialize-abi --nl-to-loops --canonicalize --cse | FileCheck %s

// Titans' memory with momentum and decay (objective = l2, retention = decay,
// algorithm = momentum) in the kernel form, with the momentum fused into the
// level (a second state, the momentum_decay gate) and kept in its own level
// (via = [@S]). Pins down: the gradient (l2 = full: 2 (M k - v) k^T) taken
// at the old memory and scaled by theta into the accumulator; the momentum
// update S = eta S - acc stored before the memory update, which adds the new
// S (not a reload of the old one): M = retain M + S (fused) or
// M = retain M + lr_M S (via); that only the served level's active/fire
// bits guard it (bit 1 for @M, the second level; the optimizer level's own
// update emits nothing); and for a chunked pair, the gates of both updates
// kept in their states and read by the flush.

// Fused: states M, S, acc; gates theta (lr), 1 - alpha (retain), eta.
// CHECK-LABEL: func.func @fused_step_impl(
// CHECK-SAME:    %[[M:[^:]+]]: memref<3x4xf32>, %[[S:[^:]+]]: memref<3x4xf32>, %[[ACC:[^:]+]]: memref<3x4xf32> {nl.token_scratch},
// CHECK-SAME:    %[[X:[^:]+]]: memref<4xf32>, %{{[^:]+}}: memref<3xf32>,
// CHECK-SAME:    %[[ACTIVE:[^:]+]]: i64, %[[FIRE:[^:]+]]: i64)
// CHECK-DAG:     %[[TWO:.+]] = arith.constant 2.000000e+00 : f32
// CHECK-DAG:     %[[ETAV:.+]] = arith.constant 8.000000e-01 : f32
// CHECK-DAG:     %[[RETV:.+]] = arith.constant 0.899999976 : f32
// CHECK-DAG:     %[[LRV:.+]] = arith.constant 5.000000e-01 : f32
// CHECK-DAG:     memref.store %[[LRV]], %[[LR:.+]][] : memref<f32>
// CHECK-DAG:     memref.store %[[RETV]], %[[RET:.+]][] : memref<f32>
// CHECK-DAG:     memref.store %[[ETAV]], %[[ETA:.+]][] : memref<f32>
// CHECK-DAG:     %[[A0:.+]] = arith.andi %[[ACTIVE]], %c1_i64
// CHECK-DAG:     %[[ON:.+]] = arith.cmpi ne, %[[A0]], %c0_i64
// CHECK-DAG:     %[[F0:.+]] = arith.andi %[[FIRE]], %c1_i64
// CHECK-DAG:     %[[FIRES:.+]] = arith.cmpi ne, %[[F0]], %c0_i64
// The gradient at the old memory, 2 e k^T theta.
// CHECK:         scf.if %[[ON]] {
// CHECK-NEXT:      scf.parallel (%[[R:.+]]) =
// CHECK-NEXT:        scf.for
// CHECK-NEXT:          memref.load %[[M]][%[[R]],
// CHECK:             %[[E:.+]] = arith.subf
// CHECK-NEXT:        %[[E2:.+]] = arith.mulf %[[E]], %[[TWO]]
// CHECK-NEXT:        scf.parallel (%[[J:.+]]) =
// CHECK-NEXT:          %[[KJ:.+]] = memref.load %[[X]][%[[J]]]
// CHECK-NEXT:          %[[G:.+]] = arith.mulf %[[E2]], %[[KJ]]
// CHECK-NEXT:          %[[L:.+]] = memref.load %[[LR]][]
// CHECK-NEXT:          %[[LG:.+]] = arith.mulf %[[G]], %[[L]]
// CHECK-NEXT:          memref.store %[[LG]], %[[ACC]][%[[R]], %[[J]]]
// The apply: S' = eta S - acc into S, then M = retain M + S'.
// CHECK:         %[[APPLY:.+]] = arith.andi %[[ON]], %[[FIRES]] : i1
// CHECK-NEXT:    scf.if %[[APPLY]] {
// CHECK-NEXT:      scf.parallel (%[[AR:.+]], %[[AC:.+]]) =
// CHECK-NEXT:        %[[A:.+]] = memref.load %[[ACC]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        %[[OLD:.+]] = memref.load %[[M]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        %[[RETG:.+]] = memref.load %[[RET]][]
// CHECK-NEXT:        %[[KEPT:.+]] = arith.mulf %[[OLD]], %[[RETG]]
// CHECK-NEXT:        %[[SOLD:.+]] = memref.load %[[S]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        %[[ETAG:.+]] = memref.load %[[ETA]][]
// CHECK-NEXT:        %[[SDEC:.+]] = arith.mulf %[[ETAG]], %[[SOLD]]
// CHECK-NEXT:        %[[SNEW:.+]] = arith.subf %[[SDEC]], %[[A]]
// CHECK-NEXT:        memref.store %[[SNEW]], %[[S]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        %[[NEW:.+]] = arith.addf %[[KEPT]], %[[SNEW]]
// CHECK-NEXT:        memref.store %[[NEW]], %[[M]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        scf.reduce
nl.model @fused attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2, l2 = full, retention = decay, algorithm = momentum> {
    nl.state @M : !nl.matrix<3x4xf32> = #nl.zeros
    nl.state @S : !nl.matrix<3x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<3xf32> {
    %v = tensor.extract_slice %x[0] [3] [1] : tensor<4xf32> to tensor<3xf32>
    %lr = arith.constant dense<0.5> : tensor<f32>
    %a = arith.constant dense<0.9> : tensor<f32>
    %eta = arith.constant dense<0.8> : tensor<f32>
    nl.update @L key(%x : tensor<4xf32>) value(%v : tensor<3xf32>) lr(%lr : tensor<f32>) retain(%a : tensor<f32>) momentum_decay(%eta : tensor<f32>)
    %y = nl.read @L(%x) : tensor<4xf32> -> tensor<3xf32>
    nl.yield %y : tensor<3xf32>
  }
}

// -----

// Via a momentum level: @S's lr (theta) scales the gradient, @S's retain
// (eta) decays the momentum, @M's lr scales the momentum into M. @M is
// level 1: bit 1 of active and fire.
// CHECK-LABEL: func.func @via_step_impl(
// CHECK-SAME:    %[[S:[^:]+]]: memref<3x4xf32>, %[[M:[^:]+]]: memref<3x4xf32>, %[[ACC:[^:]+]]: memref<3x4xf32> {nl.token_scratch},
// CHECK-SAME:    %[[X:[^:]+]]: memref<4xf32>, %{{[^:]+}}: memref<3xf32>,
// CHECK-SAME:    %[[ACTIVE:[^:]+]]: i64, %[[FIRE:[^:]+]]: i64)
// CHECK-DAG:     %[[RETV:.+]] = arith.constant 0.899999976 : f32
// CHECK-DAG:     %[[LRMV:.+]] = arith.constant 2.500000e-01 : f32
// CHECK-DAG:     %[[ETAV:.+]] = arith.constant 8.000000e-01 : f32
// CHECK-DAG:     %[[THETAV:.+]] = arith.constant 5.000000e-01 : f32
// CHECK-DAG:     memref.store %[[THETAV]], %[[THETA:.+]][] : memref<f32>
// CHECK-DAG:     memref.store %[[ETAV]], %[[ETA:.+]][] : memref<f32>
// CHECK-DAG:     memref.store %[[LRMV]], %[[LRM:.+]][] : memref<f32>
// CHECK-DAG:     memref.store %[[RETV]], %[[RET:.+]][] : memref<f32>
// CHECK-DAG:     %[[A1:.+]] = arith.shrui %[[ACTIVE]], %c1_i64
// CHECK-DAG:     %[[A2:.+]] = arith.andi %[[A1]], %c1_i64
// CHECK-DAG:     %[[ON:.+]] = arith.cmpi ne, %[[A2]], %c0_i64
// CHECK-DAG:     %[[F1:.+]] = arith.shrui %[[FIRE]], %c1_i64
// CHECK-DAG:     %[[F2:.+]] = arith.andi %[[F1]], %c1_i64
// CHECK-DAG:     %[[FIRES:.+]] = arith.cmpi ne, %[[F2]], %c0_i64
// CHECK:         scf.if %[[ON]] {
// CHECK-NEXT:      scf.parallel (%[[R:.+]]) =
// CHECK-NEXT:        scf.for
// CHECK-NEXT:          memref.load %[[M]][%[[R]],
// CHECK:               %[[L:.+]] = memref.load %[[THETA]][]
// CHECK-NEXT:          %[[LG:.+]] = arith.mulf %{{.+}}, %[[L]]
// CHECK-NEXT:          memref.store %[[LG]], %[[ACC]][
// CHECK:         %[[APPLY:.+]] = arith.andi %[[ON]], %[[FIRES]] : i1
// CHECK-NEXT:    scf.if %[[APPLY]] {
// CHECK-NEXT:      scf.parallel (%[[AR:.+]], %[[AC:.+]]) =
// CHECK-NEXT:        %[[A:.+]] = memref.load %[[ACC]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        %[[OLD:.+]] = memref.load %[[M]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        %[[RETG:.+]] = memref.load %[[RET]][]
// CHECK-NEXT:        %[[KEPT:.+]] = arith.mulf %[[OLD]], %[[RETG]]
// CHECK-NEXT:        %[[SOLD:.+]] = memref.load %[[S]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        %[[ETAG:.+]] = memref.load %[[ETA]][]
// CHECK-NEXT:        %[[SDEC:.+]] = arith.mulf %[[ETAG]], %[[SOLD]]
// CHECK-NEXT:        %[[SNEW:.+]] = arith.subf %[[SDEC]], %[[A]]
// CHECK-NEXT:        memref.store %[[SNEW]], %[[S]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        %[[LM:.+]] = memref.load %[[LRM]][]
// CHECK-NEXT:        %[[STEP:.+]] = arith.mulf %[[SNEW]], %[[LM]]
// CHECK-NEXT:        %[[NEW:.+]] = arith.addf %[[KEPT]], %[[STEP]]
// CHECK-NEXT:        memref.store %[[NEW]], %[[M]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        scf.reduce
// Nothing else writes S or M before the read.
// CHECK-NOT:     scf.if
// CHECK:         return
nl.model @via attributes {dim = 4} {
  nl.level @S period 1 rule <objective = linear, retention = decay> {
    nl.state @S : !nl.matrix<3x4xf32> = #nl.zeros
  }
  nl.level @M period 1 rule <objective = l2, retention = decay, algorithm = momentum, via = [@S]> {
    nl.state @M : !nl.matrix<3x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<3xf32> {
    %v = tensor.extract_slice %x[0] [3] [1] : tensor<4xf32> to tensor<3xf32>
    %theta = arith.constant dense<0.5> : tensor<f32>
    %eta = arith.constant dense<0.8> : tensor<f32>
    %lrm = arith.constant dense<0.25> : tensor<f32>
    %a = arith.constant dense<0.9> : tensor<f32>
    nl.update @S lr(%theta : tensor<f32>) retain(%eta : tensor<f32>)
    nl.update @M key(%x : tensor<4xf32>) value(%v : tensor<3xf32>) lr(%lrm : tensor<f32>) retain(%a : tensor<f32>)
    %y = nl.read @M(%x) : tensor<4xf32> -> tensor<3xf32>
    nl.yield %y : tensor<3xf32>
  }
}

// -----

// Both levels of period 4: the accumulator sums theta-scaled gradients, the
// learn keeps the four gates (@M's lr and retain, @S's lr and retain) in
// their states, and the flush applies S = eta S - acc, M = retain M + lr S
// from those states (in ABI order: __gate.M.lr, __gate.M.retain,
// __gate.S.lr, __gate.S.retain).
// CHECK-LABEL: func.func @chunked_step_impl(
// CHECK-SAME:    %[[S:[^:]+]]: memref<3x4xf32>, %[[M:[^:]+]]: memref<3x4xf32>, %[[ACC:[^:]+]]: memref<3x4xf32>,
// CHECK-SAME:    %[[GMLR:[^:]+]]: memref<f32>, %[[GMRET:[^:]+]]: memref<f32>, %[[GSLR:[^:]+]]: memref<f32>, %[[GSRET:[^:]+]]: memref<f32>,
// CHECK-DAG:     %[[RETV:.+]] = arith.constant 0.899999976 : f32
// CHECK-DAG:     %[[LRMV:.+]] = arith.constant 2.500000e-01 : f32
// CHECK-DAG:     %[[ETAV:.+]] = arith.constant 8.000000e-01 : f32
// CHECK-DAG:     %[[THETAV:.+]] = arith.constant 5.000000e-01 : f32
// CHECK-DAG:     memref.store %[[THETAV]], %[[THETA:.+]][] : memref<f32>
// CHECK-DAG:     memref.store %[[ETAV]], %[[ETA:.+]][] : memref<f32>
// CHECK-DAG:     memref.store %[[LRMV]], %[[LRM:.+]][] : memref<f32>
// CHECK-DAG:     memref.store %[[RETV]], %[[RET:.+]][] : memref<f32>
// CHECK:         scf.if
// CHECK:               %[[L:.+]] = memref.load %[[THETA]][]
// CHECK-NEXT:          %[[LG:.+]] = arith.mulf %{{.+}}, %[[L]]
// CHECK-NEXT:          %[[SUM:.+]] = memref.load %[[ACC]][
// CHECK-NEXT:          arith.addf %[[SUM]], %[[LG]]
// CHECK:           %[[G1:.+]] = memref.load %[[LRM]][]
// CHECK-NEXT:      memref.store %[[G1]], %[[GMLR]][]
// CHECK-NEXT:      %[[G2:.+]] = memref.load %[[RET]][]
// CHECK-NEXT:      memref.store %[[G2]], %[[GMRET]][]
// CHECK-NEXT:      %[[G3:.+]] = memref.load %[[THETA]][]
// CHECK-NEXT:      memref.store %[[G3]], %[[GSLR]][]
// CHECK-NEXT:      %[[G4:.+]] = memref.load %[[ETA]][]
// CHECK-NEXT:      memref.store %[[G4]], %[[GSRET]][]
// CHECK-NEXT:    }
// CHECK-LABEL: func.func @chunked_flush_impl(
// CHECK-SAME:    %[[FS:[^:]+]]: memref<3x4xf32>, %[[FM:[^:]+]]: memref<3x4xf32>, %[[FACC:[^:]+]]: memref<3x4xf32>,
// CHECK-SAME:    %[[FGMLR:[^:]+]]: memref<f32>, %[[FGMRET:[^:]+]]: memref<f32>, %{{[^:]+}}: memref<f32>, %[[FGSRET:[^:]+]]: memref<f32>,
// CHECK-SAME:    %[[FFIRE:[^:]+]]: i64)
// CHECK:         %[[F1:.+]] = arith.shrui %[[FFIRE]], %c1_i64
// CHECK-NEXT:    %[[F2:.+]] = arith.andi %[[F1]], %c1_i64
// CHECK-NEXT:    %[[GO:.+]] = arith.cmpi ne, %[[F2]], %c0_i64
// CHECK-NEXT:    scf.if %[[GO]] {
// CHECK-NEXT:      scf.parallel (%[[AR:.+]], %[[AC:.+]]) =
// CHECK-NEXT:        %[[A:.+]] = memref.load %[[FACC]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        %[[OLD:.+]] = memref.load %[[FM]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        %[[RETG:.+]] = memref.load %[[FGMRET]][]
// CHECK-NEXT:        %[[KEPT:.+]] = arith.mulf %[[OLD]], %[[RETG]]
// CHECK-NEXT:        %[[SOLD:.+]] = memref.load %[[FS]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        %[[ETAG:.+]] = memref.load %[[FGSRET]][]
// CHECK-NEXT:        %[[SDEC:.+]] = arith.mulf %[[ETAG]], %[[SOLD]]
// CHECK-NEXT:        %[[SNEW:.+]] = arith.subf %[[SDEC]], %[[A]]
// CHECK-NEXT:        memref.store %[[SNEW]], %[[FS]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        %[[LM:.+]] = memref.load %[[FGMLR]][]
// CHECK-NEXT:        %[[STEP:.+]] = arith.mulf %[[SNEW]], %[[LM]]
// CHECK-NEXT:        %[[NEW:.+]] = arith.addf %[[KEPT]], %[[STEP]]
// CHECK-NEXT:        memref.store %[[NEW]], %[[FM]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        memref.store %{{.+}}, %[[FACC]][%[[AR]], %[[AC]]]
nl.model @chunked attributes {dim = 4} {
  nl.level @S period 4 rule <objective = linear, retention = decay> {
    nl.state @S : !nl.matrix<3x4xf32> = #nl.zeros
  }
  nl.level @M period 4 rule <objective = l2, retention = decay, algorithm = momentum, via = [@S]> {
    nl.state @M : !nl.matrix<3x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<3xf32> {
    %v = tensor.extract_slice %x[0] [3] [1] : tensor<4xf32> to tensor<3xf32>
    %theta = arith.constant dense<0.5> : tensor<f32>
    %eta = arith.constant dense<0.8> : tensor<f32>
    %lrm = arith.constant dense<0.25> : tensor<f32>
    %a = arith.constant dense<0.9> : tensor<f32>
    nl.update @S lr(%theta : tensor<f32>) retain(%eta : tensor<f32>)
    nl.update @M key(%x : tensor<4xf32>) value(%v : tensor<3xf32>) lr(%lrm : tensor<f32>) retain(%a : tensor<f32>)
    %y = nl.read @M(%x) : tensor<4xf32> -> tensor<3xf32>
    nl.yield %y : tensor<3xf32>
  }
}
