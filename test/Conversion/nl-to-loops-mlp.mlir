// RUN: nl-opt %s --split-input-file --nl-schedule-pipeline --nl-kernel-pipeline | FileCheck %s

// MLP memories (a 2-layer !nl.mlp<[4, 3, 4], tanh>, objective l2) through
// nl-expand-mlp, nl-derive-gradients and nl-to-loops (the kernel pipeline).
// Pins down the derived gradient in loops: the forward z = W0 x, h = tanh z,
// y = W1 h; dy = y - v; dh = W1^T dy (rows of W1 accumulated, in order);
// the activation's derivative dz = dh (1 - tanh(z)^2); the weight gradients
// dz x^T and dy h^T scaled by lr into each layer's accumulator (computed
// from the two vectors, never stored as a matrix); the apply W_i -= acc_i.
// A chunked level defers the weight gradients: each token writes lr dy and
// x into row __defer_n of its layer's ring and counts it; the apply (and
// the flush) first folds the ring, acc[r, c] += sum_{s < n} dy[s, r] x[s, c],
// resets the count, then applies and clears the accumulators; a period
// longer than the ring (64 rows) folds a full ring before writing a token.

// Per token. States: w0 [3, 4], w1 [4, 3], acc.w0, acc.w1.
// CHECK-LABEL: func.func @mlp_step_impl(
// CHECK-SAME:    %[[W0:[^:]+]]: memref<3x4xf32>, %[[W1:[^:]+]]: memref<4x3xf32>, %[[A0:[^:]+]]: memref<3x4xf32>, %[[A1:[^:]+]]: memref<4x3xf32>,
// CHECK-SAME:    %[[X:[^:]+]]: memref<4xf32>, %[[Y:[^:]+]]: memref<4xf32>,
// CHECK-DAG:     %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG:     %[[LRV:.+]] = arith.constant 5.000000e-01 : f32
// CHECK:         memref.store %[[LRV]], %[[LR:.+]][] : memref<f32>
// z = W0 x, h = tanh z, y = W1 h.
// CHECK:         scf.parallel (%[[R0:.+]]) = (%{{.+}}) to (%c3)
// CHECK-NEXT:      scf.for
// CHECK-NEXT:        memref.load %[[W0]][%[[R0]],
// CHECK-NEXT:        memref.load %[[X]][
// CHECK:           memref.store %{{.+}}, %[[Z:.+]][%[[R0]]] : memref<3xf32>
// CHECK:         scf.parallel
// CHECK-NEXT:      %[[ZV:.+]] = memref.load %[[Z]][
// CHECK-NEXT:      %[[HV:.+]] = math.tanh %[[ZV]]
// CHECK-NEXT:      memref.store %[[HV]], %[[H:.+]][%{{.+}}] : memref<3xf32>
// CHECK:         scf.parallel (%[[R1:.+]]) = (%{{.+}}) to (%c4)
// CHECK-NEXT:      scf.for
// CHECK-NEXT:        memref.load %[[W1]][%[[R1]],
// CHECK-NEXT:        memref.load %[[H]][
// CHECK:           memref.store %{{.+}}, %[[YF:.+]][%[[R1]]] : memref<4xf32>
// The error and dL/dy (1/2 of the derivative of e.e, written 1/2 e + 1/2 e).
// CHECK:         scf.parallel
// CHECK-NEXT:      %[[YV:.+]] = memref.load %[[YF]][
// CHECK-NEXT:      %[[VV:.+]] = memref.load %[[X]][
// CHECK-NEXT:      %[[EV:.+]] = arith.subf %[[YV]], %[[VV]]
// CHECK-NEXT:      memref.store %[[EV]], %[[E:.+]][%{{.+}}] : memref<4xf32>
// CHECK:           %[[DYV:.+]] = arith.addf
// CHECK-NEXT:      memref.store %[[DYV]], %[[DY:.+]][%{{.+}}] : memref<4xf32>
// dh = W1^T dy: dh zeroed, then row o of W1 times dy[o] added, o in order.
// CHECK:         scf.parallel
// CHECK-NEXT:      memref.store %{{.+}}, %[[DH:.+]][%{{.+}}] : memref<3xf32>
// CHECK:         scf.for %[[O:.+]] = %{{.+}} to %c4 step %c1 {
// CHECK-NEXT:      %[[DYO:.+]] = memref.load %[[DY]][%[[O]]]
// CHECK-NEXT:      scf.parallel (%[[I:.+]]) = (%{{.+}}) to (%c3)
// CHECK-NEXT:        %[[WOI:.+]] = memref.load %[[W1]][%[[O]], %[[I]]]
// CHECK-NEXT:        %[[T:.+]] = arith.mulf %[[WOI]], %[[DYO]]
// CHECK-NEXT:        %[[DHI:.+]] = memref.load %[[DH]][%[[I]]]
// CHECK-NEXT:        %[[DHN:.+]] = arith.addf %[[DHI]], %[[T]]
// CHECK-NEXT:        memref.store %[[DHN]], %[[DH]][%[[I]]]
// dz = dh (1 - tanh(z)^2), at the pre-activation z.
// CHECK:         scf.parallel (%[[J:.+]]) = (%{{.+}}) to (%c3)
// CHECK-NEXT:      %[[ZJ:.+]] = memref.load %[[Z]][%[[J]]]
// CHECK-NEXT:      %[[GJ:.+]] = memref.load %[[DH]][%[[J]]]
// CHECK-NEXT:      %[[TJ:.+]] = math.tanh %[[ZJ]]
// CHECK-NEXT:      %[[TT:.+]] = arith.mulf %[[TJ]], %[[TJ]]
// CHECK-NEXT:      %[[D:.+]] = arith.subf %[[ONE]], %[[TT]]
// CHECK-NEXT:      %[[DZJ:.+]] = arith.mulf %[[GJ]], %[[D]]
// CHECK-NEXT:      memref.store %[[DZJ]], %[[DZ:.+]][%[[J]]] : memref<3xf32>
// The learn: acc.w0 = lr dz x^T, acc.w1 = lr dy h^T.
// CHECK:         scf.if
// CHECK-NEXT:      scf.parallel (%[[P:.+]], %[[Q:.+]]) = (%{{.+}}, %{{.+}}) to (%c3, %c4)
// CHECK-NEXT:        %[[XQ:.+]] = memref.load %[[X]][%[[Q]]]
// CHECK-NEXT:        %[[DZP:.+]] = memref.load %[[DZ]][%[[P]]]
// CHECK-NEXT:        %[[G0:.+]] = arith.mulf %[[DZP]], %[[XQ]]
// CHECK-NEXT:        %[[L0:.+]] = memref.load %[[LR]][]
// CHECK-NEXT:        %[[LG0:.+]] = arith.mulf %[[G0]], %[[L0]]
// CHECK-NEXT:        memref.store %[[LG0]], %[[A0]][%[[P]], %[[Q]]]
// CHECK:           scf.parallel (%[[P1:.+]], %[[Q1:.+]]) = (%{{.+}}, %{{.+}}) to (%c4, %c3)
// CHECK-NEXT:        %[[HQ:.+]] = memref.load %[[H]][%[[Q1]]]
// CHECK-NEXT:        %[[DYP:.+]] = memref.load %[[DY]][%[[P1]]]
// CHECK-NEXT:        %[[G1:.+]] = arith.mulf %[[DYP]], %[[HQ]]
// CHECK-NEXT:        %[[L1:.+]] = memref.load %[[LR]][]
// CHECK-NEXT:        %[[LG1:.+]] = arith.mulf %[[G1]], %[[L1]]
// CHECK-NEXT:        memref.store %[[LG1]], %[[A1]][%[[P1]], %[[Q1]]]
// The apply, layer by layer on flat views: W_i = W_i - acc_i.
// CHECK:         scf.if
// CHECK-NEXT:      scf.parallel (%[[K:.+]]) = (%{{.+}}) to (%c12)
// CHECK-NEXT:        %[[AV:.+]] = memref.load %[[A0V:.+]][%{{.+}}, %[[K]]] : memref<1x12xf32>
// CHECK-NEXT:        %[[WV:.+]] = memref.load %[[W0V:.+]][%{{.+}}, %[[K]]] : memref<1x12xf32>
// CHECK-NEXT:        %[[NEW:.+]] = arith.subf %[[WV]], %[[AV]]
// CHECK-NEXT:        memref.store %[[NEW]], %[[W0V]][%{{.+}}, %[[K]]]
// CHECK:           scf.parallel (%[[K1:.+]]) = (%{{.+}}) to (%c12)
// CHECK-NEXT:        %[[AV1:.+]] = memref.load %[[A1V:.+]][%{{.+}}, %[[K1]]] : memref<1x12xf32>
// CHECK-NEXT:        %[[WV1:.+]] = memref.load %[[W1V:.+]][%{{.+}}, %[[K1]]] : memref<1x12xf32>
// CHECK-NEXT:        %[[NEW1:.+]] = arith.subf %[[WV1]], %[[AV1]]
// CHECK-NEXT:        memref.store %[[NEW1]], %[[W1V]][%{{.+}}, %[[K1]]]
// The read after the write: the forward again, from the new W0.
// CHECK:         scf.parallel
// CHECK-NEXT:      scf.for
// CHECK-NEXT:        memref.load %[[W0]][
// CHECK:         memref.store %{{.+}}, %[[Y]][
// CHECK-LABEL: func.func @mlp_flush_impl(
// CHECK-NEXT:    return
nl.model @mlp attributes {dim = 4} {
  nl.level @L period 1 rule <objective = l2> {
    nl.state @M : !nl.mlp<[4, 3, 4], tanh> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.5> : tensor<f32>
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @L(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %y : tensor<4xf32>
  }
}

// -----

// Period 4: the ring has 4 rows. States: w0, w1, acc.w0, acc.w1,
// __defer.w0.dy [4, 3], __defer.w0.x [4, 4], __defer.w1.dy [4, 4],
// __defer.w1.x [4, 3], __defer_n, __gate.L.lr.
// CHECK-LABEL: func.func @chunked_step_impl(
// CHECK-SAME:    %[[W0:[^:]+]]: memref<3x4xf32>, %[[W1:[^:]+]]: memref<4x3xf32>, %[[A0:[^:]+]]: memref<3x4xf32>, %[[A1:[^:]+]]: memref<4x3xf32>,
// CHECK-SAME:    %[[DY0:[^:]+]]: memref<4x3xf32>, %[[X0:[^:]+]]: memref<4x4xf32>, %[[DY1:[^:]+]]: memref<4x4xf32>, %[[X1:[^:]+]]: memref<4x3xf32>,
// CHECK-SAME:    %[[N:[^:]+]]: memref<1xi32>, %[[GLR:[^:]+]]: memref<f32>,
// CHECK-SAME:    %[[X:[^:]+]]: memref<4xf32>,
// CHECK:         memref.store %{{.+}}, %[[LR:.+]][] : memref<f32>
// CHECK:         scf.if
// A full ring never happens at period 4: no fold in the learn.
// CHECK-NOT:       arith.cmpi uge
// CHECK:           %[[S32:.+]] = memref.load %[[N]][%{{.+}}]
// CHECK-NEXT:      %[[S:.+]] = arith.index_cast %[[S32]] : i32 to index
// lr dz and x into row s of layer 0's ring.
// CHECK-NEXT:      scf.parallel (%[[I:.+]]) = (%{{.+}}) to (%c3)
// CHECK-NEXT:        %[[DZI:.+]] = memref.load %[[DZ:.+]][%[[I]]] : memref<3xf32>
// CHECK-NEXT:        %[[L:.+]] = memref.load %[[LR]][]
// CHECK-NEXT:        %[[LDZ:.+]] = arith.mulf %[[DZI]], %[[L]]
// CHECK-NEXT:        memref.store %[[LDZ]], %[[DY0]][%[[S]], %[[I]]]
// CHECK:           scf.parallel (%[[J:.+]]) = (%{{.+}}) to (%c4)
// CHECK-NEXT:        %[[XJ:.+]] = memref.load %[[X]][%[[J]]]
// CHECK-NEXT:        memref.store %[[XJ]], %[[X0]][%[[S]], %[[J]]]
// lr dy and h into layer 1's.
// CHECK:           scf.parallel
// CHECK:             memref.store %{{.+}}, %[[DY1]][%[[S]],
// CHECK:           scf.parallel
// CHECK:             memref.store %{{.+}}, %[[X1]][%[[S]],
// __defer_n += 1; the lr gate kept.
// CHECK:           %[[C32:.+]] = memref.load %[[N]][
// CHECK-NEXT:      %[[C:.+]] = arith.index_cast %[[C32]] : i32 to index
// CHECK-NEXT:      %[[C1:.+]] = arith.addi %[[C]], %c1
// CHECK-NEXT:      %[[C132:.+]] = arith.index_cast %[[C1]] : index to i32
// CHECK-NEXT:      memref.store %[[C132]], %[[N]][
// CHECK-NEXT:      %[[LV:.+]] = memref.load %[[LR]][]
// CHECK-NEXT:      memref.store %[[LV]], %[[GLR]][]
// CHECK-NEXT:    }
// The apply: fold the ring of n tokens into the accumulators, row by row.
// CHECK:         scf.if
// CHECK-NEXT:      %[[F32:.+]] = memref.load %[[N]][
// CHECK-NEXT:      %[[F:.+]] = arith.index_cast %[[F32]] : i32 to index
// CHECK-NEXT:      scf.parallel (%[[R:.+]]) = (%{{.+}}) to (%c3)
// CHECK-NEXT:        scf.for %[[T:.+]] = %{{.+}} to %[[F]] step %c1 {
// CHECK-NEXT:          %[[DYTR:.+]] = memref.load %[[DY0]][%[[T]], %[[R]]]
// CHECK-NEXT:          scf.parallel (%[[Q:.+]]) = (%{{.+}}) to (%c4)
// CHECK-NEXT:            %[[XTQ:.+]] = memref.load %[[X0]][%[[T]], %[[Q]]]
// CHECK-NEXT:            %[[PR:.+]] = arith.mulf %[[DYTR]], %[[XTQ]]
// CHECK-NEXT:            %[[AO:.+]] = memref.load %[[A0]][%[[R]], %[[Q]]]
// CHECK-NEXT:            %[[AN:.+]] = arith.addf %[[AO]], %[[PR]]
// CHECK-NEXT:            memref.store %[[AN]], %[[A0]][%[[R]], %[[Q]]]
// CHECK:           scf.parallel (%[[R1:.+]]) = (%{{.+}}) to (%c4)
// CHECK-NEXT:        scf.for %[[T1:.+]] = %{{.+}} to %[[F]] step %c1 {
// CHECK-NEXT:          memref.load %[[DY1]][%[[T1]], %[[R1]]]
// CHECK:                 memref.load %[[X1]][%[[T1]],
// CHECK:                 memref.store %{{.+}}, %[[A1]][%[[R1]],
// The ring is empty again, then W_i -= acc_i and acc_i = 0.
// CHECK:           memref.store %c0_i32, %[[N]][
// CHECK-NEXT:      scf.parallel
// CHECK-NEXT:        %[[AV:.+]] = memref.load %[[A0V:.+]][
// CHECK-NEXT:        %[[WV:.+]] = memref.load %[[W0V:.+]][
// CHECK-NEXT:        %[[NEW:.+]] = arith.subf %[[WV]], %[[AV]]
// CHECK-NEXT:        memref.store %[[NEW]], %[[W0V]][
// CHECK-NEXT:        memref.store %{{.+}}, %[[A0V]][
// CHECK:           scf.parallel
// CHECK-NEXT:        %[[AV1:.+]] = memref.load %[[A1V:.+]][
// CHECK-NEXT:        %[[WV1:.+]] = memref.load %[[W1V:.+]][
// CHECK-NEXT:        %[[NEW1:.+]] = arith.subf %[[WV1]], %[[AV1]]
// CHECK-NEXT:        memref.store %[[NEW1]], %[[W1V]][
// CHECK-NEXT:        memref.store %{{.+}}, %[[A1V]][
// The flush: the same fold and apply behind its fire bit.
// CHECK-LABEL: func.func @chunked_flush_impl(
// CHECK-SAME:    %{{[^:]+}}: memref<3x4xf32>, %{{[^:]+}}: memref<4x3xf32>, %[[FA0:[^:]+]]: memref<3x4xf32>, %{{[^:]+}}: memref<4x3xf32>,
// CHECK-SAME:    %[[FDY0:[^:]+]]: memref<4x3xf32>, %[[FX0:[^:]+]]: memref<4x4xf32>, %{{[^:]+}}: memref<4x4xf32>, %{{[^:]+}}: memref<4x3xf32>,
// CHECK-SAME:    %[[FN:[^:]+]]: memref<1xi32>, %{{[^:]+}}: memref<f32>, %{{[^:]+}}: i64)
// CHECK:         scf.if
// CHECK-NEXT:      %[[FF32:.+]] = memref.load %[[FN]][
// CHECK-NEXT:      %[[FF:.+]] = arith.index_cast %[[FF32]]
// CHECK-NEXT:      scf.parallel (%[[FR:.+]]) =
// CHECK-NEXT:        scf.for %[[FT:.+]] = %{{.+}} to %[[FF]] step %c1 {
// CHECK-NEXT:          memref.load %[[FDY0]][%[[FT]], %[[FR]]]
// CHECK-NEXT:          scf.parallel (%[[FQ:.+]]) =
// CHECK-NEXT:            memref.load %[[FX0]][%[[FT]], %[[FQ]]]
// CHECK:                 memref.store %{{.+}}, %[[FA0]][%[[FR]], %[[FQ]]]
// CHECK:           memref.store %c0_i32, %[[FN]][
// CHECK-NEXT:      scf.parallel
// CHECK:             arith.subf
nl.model @chunked attributes {dim = 4} {
  nl.level @L period 4 rule <objective = l2> {
    nl.state @M : !nl.mlp<[4, 3, 4], tanh> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<4xf32> {
    %lr = arith.constant dense<0.5> : tensor<f32>
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    %y = nl.read @L(%x) : tensor<4xf32> -> tensor<4xf32>
    nl.yield %y : tensor<4xf32>
  }
}

// -----

// Period 128, longer than the 64-row ring: a token that finds the ring full
// (__defer_n >= 64) folds it into the accumulators and empties it before
// taking its slot.
// CHECK-LABEL: func.func @long_step_impl(
// CHECK-SAME:    %{{[^:]+}}: memref<3x4xf32>, %{{[^:]+}}: memref<4x3xf32>, %[[A0:[^:]+]]: memref<3x4xf32>, %{{[^:]+}}: memref<4x3xf32>,
// CHECK-SAME:    %[[DY0:[^:]+]]: memref<64x3xf32>, %[[X0:[^:]+]]: memref<64x4xf32>, %{{[^:]+}}: memref<64x4xf32>, %{{[^:]+}}: memref<64x3xf32>,
// CHECK-SAME:    %[[N:[^:]+]]: memref<1xi32>,
// CHECK:         scf.if
// CHECK-NEXT:      %[[N32:.+]] = memref.load %[[N]][
// CHECK-NEXT:      %[[NI:.+]] = arith.index_cast %[[N32]]
// CHECK-NEXT:      %[[FULL:.+]] = arith.cmpi uge, %[[NI]], %c64
// CHECK-NEXT:      scf.if %[[FULL]] {
// CHECK:             scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c1 {
// CHECK-NEXT:          memref.load %[[DY0]][
// CHECK:                 memref.load %[[X0]][
// CHECK:                 memref.store %{{.+}}, %[[A0]][
// CHECK:             memref.store %c0_i32, %[[N]][
// CHECK-NEXT:      }
// CHECK-NEXT:      %[[S32:.+]] = memref.load %[[N]][
// CHECK-NEXT:      %[[S:.+]] = arith.index_cast %[[S32]]
// CHECK-NEXT:      scf.parallel
// CHECK:             memref.store %{{.+}}, %[[DY0]][%[[S]],
nl.model @long attributes {dim = 4} {
  nl.level @L period 128 rule <objective = l2> {
    nl.state @M : !nl.mlp<[4, 3, 4], tanh> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %lr = arith.constant dense<0.5> : tensor<f32>
    nl.update @L key(%x : tensor<4xf32>) value(%x : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}
