// RUN: nl-opt %s --split-input-file --pass-pipeline='builtin.module(nl-schedule-pipeline,nl.model(nl-materialize-abi,nl-chunk{size=4 required}),nl-to-loops,canonicalize,cse)' | FileCheck %s

// The chunk entry (nl-chunk, then nl-to-loops' lowering of nl.chunk_step)
// of the delta rule and of the gated delta rule, 4 tokens of a 3 x 4
// memory. Pins down the UT transform in loops: the chunk's predictions
// P = M0 K^T, G = lr (P - V^T); the strictly lower part of K K^T
// (cmpi ult) scaled by lr; T = (I + A)^-1 by forward substitution (rows in
// order, T[i, j] = -sum_{j <= k < i} A[i, k] T[k, j] below the diagonal,
// 1 on it, 0 above); G' = G T^T; the reads Y^T = P - G' tril(Q K^T)^T with
// the diagonal included (cmpi ule); and the new state M0 - G' K computed
// last, straight into M. For the gated rule: the decay mask
// D[t, s] = D[t-1, s] a[t] built row by row, K K^T and the reads weighted by
// it, the predictions by the cumulative decay of the chunk so far, and the
// state retain_C M0 - (G' D[C-1, :]) K. The per-token step and flush of
// these models are in nl-to-loops-delta.mlir and -gated-delta.mlir.

// CHECK-LABEL: func.func @delta_chunk_impl(
// CHECK-SAME:    %[[M:[^:]+]]: memref<3x4xf32>, %{{[^:]+}}: memref<3x4xf32>,
// CHECK-SAME:    %[[X:[^:]+]]: memref<4x4xf32>, %[[Y:[^:]+]]: memref<4x3xf32>, %{{[^:]+}}: i64, %{{[^:]+}}: i64)
// CHECK-SAME:    nl.entry_point = #nl.entry_point<"nl_delta_chunk", chunk, params = 0, state = 2, outputs = 1, tokens = 4>
// CHECK-SAME:    nl.serial
// CHECK-DAG:     %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG:     %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK:         memref.store %{{.+}}, %[[LR:.+]][] : memref<f32>
// P = M0 K^T (K^T a transposed copy of the chunk's keys).
// CHECK:         scf.parallel (%[[A:.+]], %[[B:.+]]) = ({{.+}}) to (%c4, %c4)
// CHECK-NEXT:      %[[XAB:.+]] = memref.load %[[X]][%[[A]], %[[B]]]
// CHECK-NEXT:      memref.store %[[XAB]], %[[KT:.+]][%[[B]], %[[A]]] : memref<4x4xf32>
// CHECK:         scf.parallel (%[[R:.+]], %[[T:.+]]) = ({{.+}}) to (%c3, %c4)
// CHECK-NEXT:      scf.for %[[K:.+]] = %{{.+}} to %c4
// CHECK-NEXT:        memref.load %[[KT]][%[[K]], %[[T]]]
// CHECK-NEXT:        memref.load %[[M]][%[[R]], %[[K]]]
// CHECK:           memref.store %{{.+}}, %[[P:.+]][%[[R]], %[[T]]] : memref<3x4xf32>
// G = lr (P - V^T).
// CHECK:         scf.parallel
// CHECK-NEXT:      %[[PV:.+]] = memref.load %[[P]][
// CHECK-NEXT:      %[[VT:.+]] = memref.load
// CHECK-NEXT:      %[[E:.+]] = arith.subf %[[PV]], %[[VT]]
// CHECK-NEXT:      memref.store %[[E]], %[[EB:.+]][
// CHECK:         scf.parallel
// CHECK-NEXT:      %[[EV:.+]] = memref.load %[[EB]][
// CHECK-NEXT:      %[[L:.+]] = memref.load %[[LR]][]
// CHECK-NEXT:      %[[GV:.+]] = arith.mulf %[[EV]], %[[L]]
// CHECK-NEXT:      memref.store %[[GV]], %[[G:.+]][
// K K^T, its strictly lower part, times lr.
// CHECK:         scf.parallel
// CHECK-NEXT:      scf.for
// CHECK-NEXT:        memref.load %[[KT]]
// CHECK-NEXT:        memref.load %[[X]]
// CHECK:           memref.store %{{.+}}, %[[KK:.+]][%{{.+}}] : memref<4x4xf32>
// CHECK:         scf.parallel (%[[I:.+]], %[[J:.+]]) =
// CHECK-NEXT:      %[[LOW:.+]] = arith.cmpi ult, %[[J]], %[[I]]
// CHECK-NEXT:      %[[KKV:.+]] = memref.load %[[KK]][%[[I]], %[[J]]]
// CHECK-NEXT:      %[[TRIL:.+]] = arith.select %[[LOW]], %[[KKV]], %[[ZERO]]
// CHECK-NEXT:      memref.store %[[TRIL]], %[[STRICT:.+]][%[[I]], %[[J]]]
// CHECK:         scf.parallel
// CHECK-NEXT:      %[[SV:.+]] = memref.load %[[STRICT]][
// CHECK-NEXT:      %[[L2:.+]] = memref.load %[[LR]][]
// CHECK-NEXT:      %[[AV:.+]] = arith.mulf %[[SV]], %[[L2]]
// CHECK-NEXT:      memref.store %[[AV]], %[[AM:.+]][
// T = (I + A)^-1, row i after rows < i.
// CHECK:         scf.for %[[TI:.+]] = %{{.+}} to %c4 step %c1 {
// CHECK-NEXT:      scf.parallel (%[[TJ:.+]]) = (%{{.+}}) to (%c4)
// CHECK-NEXT:        %[[BELOW:.+]] = arith.cmpi ult, %[[TJ]], %[[TI]]
// CHECK-NEXT:        %[[TV:.+]] = scf.if %[[BELOW]] -> (f32) {
// CHECK-NEXT:          %[[SUM:.+]] = scf.for %[[TK:.+]] = %[[TJ]] to %[[TI]] step %c1 iter_args
// CHECK-NEXT:            %[[TKJ:.+]] = memref.load %[[TINV:.+]][%[[TK]], %[[TJ]]]
// CHECK-NEXT:            %[[AIK:.+]] = memref.load %[[AM]][%[[TI]], %[[TK]]]
// CHECK-NEXT:            arith.mulf %[[AIK]], %[[TKJ]]
// CHECK:               %[[NEG:.+]] = arith.negf %[[SUM]]
// CHECK-NEXT:          scf.yield %[[NEG]]
// CHECK-NEXT:        } else {
// CHECK-NEXT:          %[[DIAG:.+]] = arith.cmpi eq, %[[TJ]], %[[TI]]
// CHECK-NEXT:          %[[UNIT:.+]] = arith.select %[[DIAG]], %[[ONE]], %[[ZERO]]
// CHECK-NEXT:          scf.yield %[[UNIT]]
// CHECK-NEXT:        }
// CHECK-NEXT:        memref.store %[[TV]], %[[TINV]][%[[TI]], %[[TJ]]]
// G' = G T^T.
// CHECK:         scf.parallel
// CHECK-NEXT:      %[[TT:.+]] = memref.load %[[TINV]][%[[P0:.+]], %[[P1:.+]]]
// CHECK-NEXT:      memref.store %[[TT]], %[[TINVT:.+]][%[[P1]], %[[P0]]]
// CHECK:         scf.parallel
// CHECK-NEXT:      scf.for
// CHECK-NEXT:        memref.load %[[TINVT]]
// CHECK-NEXT:        memref.load %[[G]]
// CHECK:           memref.store %{{.+}}, %[[GP:.+]][%{{.+}}] : memref<3x4xf32>
// The reads: the inclusive mask of Q K^T (here Q = K).
// CHECK:         scf.parallel (%[[I2:.+]], %[[J2:.+]]) =
// CHECK-NEXT:      %[[INCL:.+]] = arith.cmpi ule, %[[J2]], %[[I2]]
// CHECK-NEXT:      memref.load %[[KK]][%[[I2]], %[[J2]]]
// CHECK:           scf.for
// CHECK-NEXT:        memref.load
// CHECK-NEXT:        memref.load %[[GP]]
// CHECK:           memref.store %{{.+}}, %[[CORR:.+]][%{{.+}}] : memref<3x4xf32>
// CHECK:         scf.parallel
// CHECK-NEXT:      %[[PY:.+]] = memref.load %[[P]][
// CHECK-NEXT:      %[[CY:.+]] = memref.load %[[CORR]][
// CHECK-NEXT:      arith.subf %[[PY]], %[[CY]]
// CHECK:         memref.store %{{.+}}, %[[Y]][
// Last, the state: M[r, c] += sum_t -G'[r, t] K[t, c], in place.
// CHECK:         scf.parallel (%[[SR:.+]], %[[SC:.+]]) = ({{.+}}) to (%c3, %c4)
// CHECK-NEXT:      %[[UPD:.+]] = scf.for %[[ST:.+]] = %{{.+}} to %c4
// CHECK-NEXT:        %[[XTC:.+]] = memref.load %[[X]][%[[ST]], %[[SC]]]
// CHECK-NEXT:        %[[GRT:.+]] = memref.load %[[GP]][%[[SR]], %[[ST]]]
// CHECK-NEXT:        %[[NG:.+]] = arith.negf %[[GRT]]
// CHECK-NEXT:        arith.mulf %[[NG]], %[[XTC]]
// CHECK:           %[[M0:.+]] = memref.load %[[M]][%[[SR]], %[[SC]]]
// CHECK-NEXT:      %[[M1:.+]] = arith.addf %[[M0]], %[[UPD]]
// CHECK-NEXT:      memref.store %[[M1]], %[[M]][%[[SR]], %[[SC]]]
// CHECK-NEXT:      scf.reduce
// CHECK-NEXT:    }
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

// The gated delta rule with a per-token retain a = sigmoid(x[3]).
// CHECK-LABEL: func.func @gdn_chunk_impl(
// CHECK-SAME:    %[[M:[^:]+]]: memref<3x4xf32>, %{{[^:]+}}: memref<3x4xf32>,
// CHECK-SAME:    %[[X:[^:]+]]: memref<4x4xf32>, %[[Y:[^:]+]]: memref<4x3xf32>,
// CHECK-DAG:     %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG:     %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// The decay mask, row t after row t - 1: D[t, s] = D[t-1, s] a[t] for
// s < t, 1 on the diagonal, 0 above.
// CHECK:         scf.for %[[T:.+]] = %{{.+}} to %c4 step %c1 {
// CHECK-NEXT:      scf.parallel (%[[S:.+]]) = (%{{.+}}) to (%c4)
// CHECK-NEXT:        %[[BELOW:.+]] = arith.cmpi ult, %[[S]], %[[T]]
// CHECK-NEXT:        %[[DV:.+]] = scf.if %[[BELOW]] -> (f32) {
// CHECK-NEXT:          %[[TM1:.+]] = arith.subi %[[T]], %c1
// CHECK-NEXT:          %[[ABOVE:.+]] = memref.load %[[D:.+]][%[[TM1]], %[[S]]] : memref<4x4xf32>
// CHECK-NEXT:          %[[AT:.+]] = memref.load %[[GATES:.+]][%[[T]]] : memref<4xf32>
// CHECK-NEXT:          %[[PROD:.+]] = arith.mulf %[[ABOVE]], %[[AT]]
// CHECK-NEXT:          scf.yield %[[PROD]]
// CHECK-NEXT:        } else {
// CHECK-NEXT:          %[[DIAG:.+]] = arith.cmpi eq, %[[S]], %[[T]]
// CHECK-NEXT:          %[[UNIT:.+]] = arith.select %[[DIAG]], %[[ONE]], %[[ZERO]]
// CHECK-NEXT:          scf.yield %[[UNIT]]
// CHECK-NEXT:        }
// CHECK-NEXT:        memref.store %[[DV]], %[[D]][%[[T]], %[[S]]]
// The last row D[3, :] and the chunk's total decay a_0 ... a_3.
// CHECK:           %[[DL:.+]] = memref.load %[[D]][%c3, %[[LS:[a-z0-9]+]]]
// CHECK-NEXT:      memref.store %[[DL]], %[[LAST:.+]][%{{.+}}, %[[LS]]] : memref<1x4xf32>
// CHECK:         memref.store %{{.+}}, %[[TOTAL:.+]][%{{.+}}, %{{.+}}] : memref<1x1xf32>
// P = M0 K^T weighted per token by its decay since the chunk start.
// CHECK:           scf.for
// CHECK-NEXT:        memref.load
// CHECK-NEXT:        memref.load %[[M]][
// CHECK:           memref.store %{{.+}}, %[[P:.+]][%{{.+}}] : memref<3x4xf32>
// CHECK:         scf.parallel (%{{.+}}, %[[PT:.+]]) =
// CHECK-NEXT:      %[[PV:.+]] = memref.load %[[P]][
// CHECK-NEXT:      %[[CUM:.+]] = memref.load %[[CUMB:.+]][%{{.+}}, %[[PT]]] : memref<1x4xf32>
// CHECK-NEXT:      arith.mulf %[[PV]], %[[CUM]]
// K K^T weighted by D, then its strictly lower part.
// CHECK:           %[[DKV:.+]] = memref.load %[[D]][
// CHECK-NEXT:      %[[W:.+]] = arith.mulf %{{.+}}, %[[DKV]]
// CHECK-NEXT:      memref.store %[[W]], %[[KKD:.+]][
// CHECK:         scf.parallel (%[[I:.+]], %[[J:.+]]) =
// CHECK-NEXT:      arith.cmpi ult, %[[J]], %[[I]]
// CHECK-NEXT:      memref.load %[[KKD]][%[[I]], %[[J]]]
// The UT transform's forward substitution, as for the delta rule.
// CHECK:         scf.for
// CHECK-NEXT:      scf.parallel
// CHECK-NEXT:        arith.cmpi ult
// CHECK-NEXT:        scf.if
// CHECK-NEXT:          scf.for
// The state: retain_C M0 and the corrections weighted by D[3, :].
// CHECK:           %[[MV:.+]] = memref.load %[[M]][
// CHECK-NEXT:      %[[TOT:.+]] = memref.load %[[TOTAL]][
// CHECK-NEXT:      %[[KEPT:.+]] = arith.mulf %[[MV]], %[[TOT]]
// CHECK-NEXT:      memref.store %[[KEPT]], %[[DECAYED:.+]][
// CHECK:           %[[LASTV:.+]] = memref.load %[[LAST]][
// CHECK-NEXT:      %[[GD:.+]] = arith.mulf %{{.+}}, %[[LASTV]]
// CHECK-NEXT:      memref.store %[[GD]], %[[GDB:.+]][
// CHECK:           scf.for
// CHECK-NEXT:        memref.load %[[X]][
// CHECK-NEXT:        memref.load %[[GDB]][
// CHECK:           memref.store %{{.+}}, %[[GK:.+]][
// The reads (inclusive mask on K K^T D) before the state is replaced.
// CHECK:         arith.cmpi ule
// CHECK:         memref.store %{{.+}}, %[[Y]][
// CHECK:         scf.parallel (%[[SR:.+]], %[[SC:.+]]) =
// CHECK-NEXT:      %[[DEC:.+]] = memref.load %[[DECAYED]][%[[SR]], %[[SC]]]
// CHECK-NEXT:      %[[CORR:.+]] = memref.load %[[GK]][%[[SR]], %[[SC]]]
// CHECK-NEXT:      %[[NEW:.+]] = arith.subf %[[DEC]], %[[CORR]]
// CHECK-NEXT:      memref.store %[[NEW]], %[[M]][%[[SR]], %[[SC]]]
// CHECK-NEXT:      scf.reduce
// CHECK-NEXT:    }
// CHECK-NEXT:    return
nl.model @gdn attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2, retention = decay, decay_order = before_grad> {
    nl.state @M : !nl.matrix<3x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<3xf32> {
    %v = tensor.extract_slice %x[0] [3] [1] : tensor<4xf32> to tensor<3xf32>
    %lr = arith.constant dense<0.5> : tensor<f32>
    %s = tensor.extract_slice %x[3] [1] [1] : tensor<4xf32> to tensor<1xf32>
    %a = nl.act sigmoid %s : tensor<1xf32>
    nl.update @L key(%x : tensor<4xf32>) value(%v : tensor<3xf32>) lr(%lr : tensor<f32>) retain(%a : tensor<1xf32>)
    %y = nl.read @L(%x) : tensor<4xf32> -> tensor<3xf32>
    nl.yield %y : tensor<3xf32>
  }
}
