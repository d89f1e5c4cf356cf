// RUN: nl-opt %s --split-input-file --nl-schedule-pipeline --nl-materialize-abi --nl-to-loops --canonicalize --cse | FileCheck %s

// The delta rule (objective = l2) in the kernel form, per token and chunked.
// Pins down the math of the fused lowering (emitLevelUpdate): the prediction
// M k as a reduction over the key's channels of row r of M, the error
// e_r = (M k)_r - v_r, the gradient row e_r k^T scaled by lr (inside the sum
// with lr_placement = per_token, at the apply with per_chunk) into the
// accumulator, the apply M - acc behind active & fire, the read after the
// write, the factor 2 of l2 = full, per-head gates, precond = delta, and a
// chunked level's running sum, stored gates and flush. The memory is 3 x 4
// (rows != cols) so that every loop bound says which side it walks. The
// chunk-parallel form (UT transform) is in nl-to-loops-chunk-form.mlir.

// A per-token level: the accumulator holds this token's step only (written,
// never read before the write, not cleared by the apply).
// CHECK-LABEL: func.func @delta_step_impl(
// CHECK-SAME:    %[[M:[^:]+]]: memref<3x4xf32>, %[[ACC:[^:]+]]: memref<3x4xf32> {nl.token_scratch},
// CHECK-SAME:    %[[X:[^:]+]]: memref<4xf32>, %[[Y:[^:]+]]: memref<3xf32>,
// CHECK-SAME:    %[[ACTIVE:[^:]+]]: i64, %[[FIRE:[^:]+]]: i64)
// CHECK-DAG:     %[[C3:.+]] = arith.constant 3 : index
// CHECK-DAG:     %[[C4:.+]] = arith.constant 4 : index
// CHECK-DAG:     %[[HALF:.+]] = arith.constant 5.000000e-01 : f32
// The value v = x[0:3], and the lr gate.
// CHECK:         scf.parallel (%[[I:.+]]) = (%{{.+}}) to (%[[C3]])
// CHECK-NEXT:      %[[XI:.+]] = memref.load %[[X]][%[[I]]]
// CHECK-NEXT:      memref.store %[[XI]], %[[V:.+]][%[[I]]] : memref<3xf32>
// CHECK:         memref.store %[[HALF]], %[[LR:.+]][] : memref<f32>
// The level's bits: bit 0 of active and of fire.
// CHECK-DAG:     %[[A0:.+]] = arith.andi %[[ACTIVE]], %c1_i64
// CHECK-DAG:     %[[ON:.+]] = arith.cmpi ne, %[[A0]], %c0_i64
// CHECK-DAG:     %[[F0:.+]] = arith.andi %[[FIRE]], %c1_i64
// CHECK-DAG:     %[[FIRES:.+]] = arith.cmpi ne, %[[F0]], %c0_i64
// The contribution, rows in parallel: e_r = sum_c M[r, c] k[c] - v[r].
// CHECK:         scf.if %[[ON]] {
// CHECK-NEXT:      scf.parallel (%[[R:.+]]) = (%{{.+}}) to (%[[C3]])
// CHECK-NEXT:        %[[PRED:.+]] = scf.for %[[C:.+]] = %{{.+}} to %[[C4]] step %{{.+}} iter_args(%[[S:.+]] = %{{.+}}) -> (f32) {
// CHECK-NEXT:          %[[MRC:.+]] = memref.load %[[M]][%[[R]], %[[C]]]
// CHECK-NEXT:          %[[KC:.+]] = memref.load %[[X]][%[[C]]]
// CHECK-NEXT:          %[[P:.+]] = arith.mulf %[[MRC]], %[[KC]]
// CHECK-NEXT:          %[[S1:.+]] = arith.addf %[[S]], %[[P]]
// CHECK-NEXT:          scf.yield %[[S1]]
// CHECK-NEXT:        }
// CHECK-NEXT:        %[[VR:.+]] = memref.load %[[V]][%[[R]]]
// CHECK-NEXT:        %[[E:.+]] = arith.subf %[[PRED]], %[[VR]]
// The gradient row e_r k^T, times lr, into the accumulator.
// CHECK-NEXT:        scf.parallel (%[[J:.+]]) = (%{{.+}}) to (%[[C4]])
// CHECK-NEXT:          %[[KJ:.+]] = memref.load %[[X]][%[[J]]]
// CHECK-NEXT:          %[[G:.+]] = arith.mulf %[[E]], %[[KJ]]
// CHECK-NEXT:          %[[L:.+]] = memref.load %[[LR]][]
// CHECK-NEXT:          %[[LG:.+]] = arith.mulf %[[G]], %[[L]]
// CHECK-NEXT:          memref.store %[[LG]], %[[ACC]][%[[R]], %[[J]]]
// The apply behind active & fire: M = M - acc, element by element.
// CHECK:         %[[APPLY:.+]] = arith.andi %[[ON]], %[[FIRES]] : i1
// CHECK-NEXT:    scf.if %[[APPLY]] {
// CHECK-NEXT:      scf.parallel (%[[AR:.+]], %[[AC:.+]]) = (%{{.+}}, %{{.+}}) to (%[[C3]], %[[C4]])
// CHECK-NEXT:        %[[A:.+]] = memref.load %[[ACC]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        %[[OLD:.+]] = memref.load %[[M]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        %[[NEW:.+]] = arith.subf %[[OLD]], %[[A]]
// CHECK-NEXT:        memref.store %[[NEW]], %[[M]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        scf.reduce
// The read after the write: y = M q from the new state, into the output.
// CHECK:         scf.parallel (%[[QR:.+]]) = (%{{.+}}) to (%[[C3]])
// CHECK-NEXT:      scf.for
// CHECK-NEXT:        memref.load %[[M]][%[[QR]], %{{.+}}]
// CHECK-NEXT:        memref.load %[[X]][
// CHECK:           memref.store %{{.+}}, %[[OUT:.+]][%[[QR]]] : memref<3xf32>
// CHECK:         memref.load %[[OUT]][
// CHECK-NEXT:    memref.store %{{.+}}, %[[Y]][
// CHECK:         return
// A per-token level has nothing pending at the end of a call.
// CHECK-LABEL: func.func @delta_flush_impl(
// CHECK-NEXT:    return
nl.model @delta attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2> {
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

// l2 = full: L = ||M k - v||^2, so the row factor is 2 e_r.
// CHECK-LABEL: func.func @full_step_impl(
// CHECK:         %[[TWO:.+]] = arith.constant 2.000000e+00 : f32
// CHECK:         %[[E:.+]] = arith.subf
// CHECK-NEXT:    %[[E2:.+]] = arith.mulf %[[E]], %[[TWO]]
// CHECK-NEXT:    scf.parallel
// CHECK-NEXT:      %[[K:.+]] = memref.load
// CHECK-NEXT:      arith.mulf %[[E2]], %[[K]]
nl.model @full attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2, l2 = full> {
    nl.state @M : !nl.matrix<3x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %v = tensor.extract_slice %x[0] [3] [1] : tensor<4xf32> to tensor<3xf32>
    %lr = arith.constant dense<0.5> : tensor<f32>
    nl.update @L key(%x : tensor<4xf32>) value(%v : tensor<3xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

// Two heads of 3 x 4: every loop runs over (head, row), the key, value and
// state are indexed by the head, and the per-head lr gate (tensor<2xf32>)
// is read at the head, not at the key channel.
// CHECK-LABEL: func.func @heads_step_impl(
// CHECK-SAME:    %[[M:[^:]+]]: memref<2x3x4xf32>, %[[ACC:[^:]+]]: memref<2x3x4xf32> {nl.token_scratch},
// CHECK:         scf.if
// CHECK-NEXT:      scf.parallel (%[[H:.+]], %[[R:.+]]) = (%{{.+}}, %{{.+}}) to (%c2, %c3)
// CHECK-NEXT:        scf.for %[[C:.+]] = %{{.+}} to %c4
// CHECK-NEXT:          memref.load %[[M]][%[[H]], %[[R]], %[[C]]]
// CHECK-NEXT:          memref.load %[[K:.+]][%[[H]], %[[C]]] : memref<2x4xf32>
// CHECK:             memref.load %[[V:.+]][%[[H]], %[[R]]] : memref<2x3xf32>
// CHECK:             scf.parallel (%[[J:.+]]) =
// CHECK-NEXT:          memref.load %[[K]][%[[H]], %[[J]]]
// CHECK-NEXT:          arith.mulf
// CHECK-NEXT:          %[[L:.+]] = memref.load %[[LR:.+]][%[[H]]] : memref<2xf32>
// CHECK-NEXT:          %[[LG:.+]] = arith.mulf %{{.+}}, %[[L]]
// CHECK-NEXT:          memref.store %[[LG]], %[[ACC]][%[[H]], %[[R]], %[[J]]]
// CHECK:         scf.if
// CHECK-NEXT:      scf.parallel (%[[AH:.+]], %[[AR:.+]], %[[AC:.+]]) = ({{.+}}) to (%c2, %c3, %c4)
// CHECK-NEXT:        memref.load %[[ACC]][%[[AH]], %[[AR]], %[[AC]]]
// CHECK-NEXT:        memref.load %[[M]][%[[AH]], %[[AR]], %[[AC]]]
// CHECK-NEXT:        arith.subf
// CHECK-NEXT:        memref.store %{{.+}}, %[[M]][%[[AH]], %[[AR]], %[[AC]]]
nl.model @heads attributes {dim = 8} {
  nl.level @L period 1 rule <objective = l2> {
    nl.state @M : !nl.matrix<3x4xf32, heads = 2> = #nl.zeros
  }
  nl.step(%x : tensor<8xf32>) {
    %k = tensor.expand_shape %x [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
    %v = tensor.extract_slice %k[0, 0] [2, 3] [1, 1] : tensor<2x4xf32> to tensor<2x3xf32>
    %lr = arith.constant dense<0.5> : tensor<2xf32>
    nl.update @L key(%k : tensor<2x4xf32>) value(%v : tensor<2x3xf32>) lr(%lr : tensor<2xf32>)
    nl.yield
  }
}

// -----

// precond = delta (Hope Eq 88): M (I - lr k k^T) - lr grad, i.e. the row
// factor gains (M k)_r at the old state: a second reduction over row r of
// M, added to the error.
// CHECK-LABEL: func.func @precond_step_impl(
// CHECK-SAME:    %[[M:[^:]+]]: memref<3x4xf32>,
// CHECK:         scf.parallel (%[[R:.+]]) =
// CHECK:           %[[E:.+]] = arith.subf
// CHECK-NEXT:      %[[MK:.+]] = scf.for %[[C:.+]] = {{.+}} iter_args
// CHECK:             memref.load %[[M]][%[[R]], %[[C]]]
// CHECK:             scf.yield
// CHECK-NEXT:      }
// CHECK-NEXT:      %[[COEF:.+]] = arith.addf %[[E]], %[[MK]]
// CHECK-NEXT:      scf.parallel
// CHECK-NEXT:        %[[K:.+]] = memref.load
// CHECK-NEXT:        arith.mulf %[[COEF]], %[[K]]
nl.model @precond attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2, precond = delta> {
    nl.state @M : !nl.matrix<3x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %v = tensor.extract_slice %x[0] [3] [1] : tensor<4xf32> to tensor<3xf32>
    %lr = arith.constant dense<0.5> : tensor<f32>
    nl.update @L key(%x : tensor<4xf32>) value(%v : tensor<3xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

// A period-4 level sums its tokens' steps: the contribution reads the
// accumulator and adds to it, the lr gate is kept in its state for the
// flush, and the apply clears the accumulator after M = M - acc. The flush
// applies the same behind the fire bit alone.
// CHECK-LABEL: func.func @chunked_step_impl(
// CHECK-SAME:    %[[M:[^:]+]]: memref<3x4xf32>, %[[ACC:[^:]+]]: memref<3x4xf32>, %[[GLR:[^:]+]]: memref<f32>,
// CHECK-SAME:    %[[ACTIVE:[^:]+]]: i64, %[[FIRE:[^:]+]]: i64)
// CHECK:         memref.store %{{.+}}, %[[LR:.+]][] : memref<f32>
// CHECK:         scf.if %[[ON:.+]] {
// CHECK-NEXT:      scf.parallel (%[[R:.+]]) =
// CHECK:             scf.parallel (%[[J:.+]]) =
// CHECK:               %[[L:.+]] = memref.load %[[LR]][]
// CHECK-NEXT:          %[[LG:.+]] = arith.mulf %{{.+}}, %[[L]]
// CHECK-NEXT:          %[[SUM:.+]] = memref.load %[[ACC]][%[[R]], %[[J]]]
// CHECK-NEXT:          %[[NEXT:.+]] = arith.addf %[[SUM]], %[[LG]]
// CHECK-NEXT:          memref.store %[[NEXT]], %[[ACC]][%[[R]], %[[J]]]
// CHECK:           %[[KEEP:.+]] = memref.load %[[LR]][]
// CHECK-NEXT:      memref.store %[[KEEP]], %[[GLR]][]
// CHECK-NEXT:    }
// CHECK:         %[[APPLY:.+]] = arith.andi %[[ON]], %{{.+}} : i1
// CHECK-NEXT:    scf.if %[[APPLY]] {
// CHECK-NEXT:      scf.parallel (%[[AR:.+]], %[[AC:.+]]) =
// CHECK-NEXT:        %[[A:.+]] = memref.load %[[ACC]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        %[[OLD:.+]] = memref.load %[[M]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        %[[NEW:.+]] = arith.subf %[[OLD]], %[[A]]
// CHECK-NEXT:        memref.store %[[NEW]], %[[M]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        memref.store %[[ZERO:.+]], %[[ACC]][%[[AR]], %[[AC]]]
// CHECK-LABEL: func.func @chunked_flush_impl(
// CHECK-SAME:    %[[FM:[^:]+]]: memref<3x4xf32>, %[[FACC:[^:]+]]: memref<3x4xf32>, %{{[^:]+}}: memref<f32>, %[[FFIRE:[^:]+]]: i64)
// CHECK:         %[[F0:.+]] = arith.andi %[[FFIRE]], %c1_i64
// CHECK-NEXT:    %[[GO:.+]] = arith.cmpi ne, %[[F0]], %c0_i64
// CHECK-NEXT:    scf.if %[[GO]] {
// CHECK-NEXT:      scf.parallel (%[[FR:.+]], %[[FC:.+]]) =
// CHECK-NEXT:        %[[FA:.+]] = memref.load %[[FACC]][%[[FR]], %[[FC]]]
// CHECK-NEXT:        %[[FOLD:.+]] = memref.load %[[FM]][%[[FR]], %[[FC]]]
// CHECK-NEXT:        %[[FNEW:.+]] = arith.subf %[[FOLD]], %[[FA]]
// CHECK-NEXT:        memref.store %[[FNEW]], %[[FM]][%[[FR]], %[[FC]]]
// CHECK-NEXT:        memref.store %{{.+}}, %[[FACC]][%[[FR]], %[[FC]]]
nl.model @chunked attributes {dim = 4} {
  nl.level @L period 4 rule <objective = l2> {
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

// lr_placement = per_chunk: the sum is of unscaled gradients, and the lr
// multiplies the sum at the apply: the live gate in the step, the gate of
// the chunk's last token (its state) in the flush.
// CHECK-LABEL: func.func @per_chunk_step_impl(
// CHECK-SAME:    %[[M:[^:]+]]: memref<3x4xf32>, %[[ACC:[^:]+]]: memref<3x4xf32>, %[[GLR:[^:]+]]: memref<f32>,
// CHECK:         memref.store %{{.+}}, %[[LR:.+]][] : memref<f32>
// CHECK:         scf.if
// CHECK:             scf.parallel (%{{.+}}) = (%{{.+}}) to (%c4)
// CHECK-NEXT:          %[[K:.+]] = memref.load
// CHECK-NEXT:          %[[G:.+]] = arith.mulf %{{.+}}, %[[K]]
// CHECK-NEXT:          %[[SUM:.+]] = memref.load %[[ACC]][
// CHECK-NEXT:          arith.addf %[[SUM]], %[[G]]
// CHECK:         scf.if
// CHECK-NEXT:      scf.parallel
// CHECK-NEXT:        %[[A:.+]] = memref.load %[[ACC]][
// CHECK-NEXT:        %[[L:.+]] = memref.load %[[LR]][]
// CHECK-NEXT:        %[[LA:.+]] = arith.mulf %[[A]], %[[L]]
// CHECK-NEXT:        %[[OLD:.+]] = memref.load %[[M]][
// CHECK-NEXT:        arith.subf %[[OLD]], %[[LA]]
// CHECK-LABEL: func.func @per_chunk_flush_impl(
// CHECK-SAME:    %[[FM:[^:]+]]: memref<3x4xf32>, %[[FACC:[^:]+]]: memref<3x4xf32>, %[[FGLR:[^:]+]]: memref<f32>,
// CHECK:           %[[FA:.+]] = memref.load %[[FACC]][
// CHECK-NEXT:      %[[FL:.+]] = memref.load %[[FGLR]][]
// CHECK-NEXT:      %[[FLA:.+]] = arith.mulf %[[FA]], %[[FL]]
// CHECK-NEXT:      %[[FOLD:.+]] = memref.load %[[FM]][
// CHECK-NEXT:      arith.subf %[[FOLD]], %[[FLA]]
nl.model @per_chunk attributes {dim = 4} {
  nl.level @L period 4 rule <objective = l2, lr_placement = per_chunk> {
    nl.state @M : !nl.matrix<3x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %v = tensor.extract_slice %x[0] [3] [1] : tensor<4xf32> to tensor<3xf32>
    %lr = arith.constant dense<0.5> : tensor<f32>
    nl.update @L key(%x : tensor<4xf32>) value(%v : tensor<3xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

// read = before_write: the read of the old state comes before the
// contribution and the apply.
// CHECK-LABEL: func.func @before_step_impl(
// CHECK-SAME:    %[[M:[^:]+]]: memref<3x4xf32>,
// CHECK-SAME:    %[[Y:[^:]+]]: memref<3xf32>, %{{[^:]+}}: i64, %{{[^:]+}}: i64)
// CHECK:         scf.parallel (%{{.+}}) = (%{{.+}}) to (%c3)
// CHECK-NEXT:      memref.load
// CHECK-NEXT:      memref.store
// CHECK:         scf.parallel (%{{.+}}) = (%{{.+}}) to (%c3)
// CHECK-NEXT:      scf.for
// CHECK-NEXT:        memref.load %[[M]][
// CHECK:           memref.store %{{.+}}, %[[OUT:.+]][%{{.+}}] : memref<3xf32>
// CHECK:         scf.if
// CHECK:         scf.if
// CHECK:           memref.store %{{.+}}, %[[M]][
// CHECK:         memref.load %[[OUT]][
// CHECK-NEXT:    memref.store %{{.+}}, %[[Y]][
nl.model @before attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2, read = before_write> {
    nl.state @M : !nl.matrix<3x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<3xf32> {
    %v = tensor.extract_slice %x[0] [3] [1] : tensor<4xf32> to tensor<3xf32>
    %lr = arith.constant dense<0.5> : tensor<f32>
    %y = nl.read @L(%x) : tensor<4xf32> -> tensor<3xf32>
    nl.update @L key(%x : tensor<4xf32>) value(%v : tensor<3xf32>) lr(%lr : tensor<f32>)
    nl.yield %y : tensor<3xf32>
  }
}
