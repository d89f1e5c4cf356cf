// RUN: nl-opt %s --split-input-file --nl-schedule-pipeline --nl-materialize-abi --nl-to-loops --canonicalize --cse | FileCheck %s

// Optimizers as levels in the kernel form: a weight level updated with a
// given gradient (objective = linear) whose algorithm keeps its memories in
// `via` levels. Pins down, per element:
//   adam: m1 = b1 m1 + c1 g, m2 = b2 m2 + c2 g*g (both stored), then
//         W = W - lr m1 / (sqrt(m2) + eps), from the new moments;
//   muon: S = mu S - g, then NS_k(S): the Frobenius normalization
//         1 / (||S|| + 1e-7), ns_steps iterations (an scf.for of that trip
//         count) of the three quintic products A = X X^T,
//         B = -4.7750 A + 2.0315 A A, X = 3.4445 X + B X, then
//         W = W + lr NS(S); a memory with more rows than columns is
//         orthogonalized transposed (read and written at [j, i]);
//   m3:   M1 += b1 g, V += b2 g*g, pending += g, then
//         W = W - lr (NS(M1) + slow_weight O2) / (sqrt(V) + eps), and behind
//         the slow level's fire bit M2 += b3 pending, pending = 0, O2 = NS(M2).
// All three run behind the weight level's active & fire bits (level 2, 1
// and 3: the optimizer levels come first). On a level of period above 1
// they are refused (nl-to-loops-errors.mlir).

// States: m1.m, m2.v, W.W, W.__acc; the gates c1 = 0.125, b1 = 0.875,
// c2 = 0.0625, b2 = 0.9375, lr = 0.5, eps = 0.25.
// CHECK-LABEL: func.func @adam_step_impl(
// CHECK-SAME:    %[[M1:[^:]+]]: memref<4xf32>, %[[M2:[^:]+]]: memref<4xf32>, %[[W:[^:]+]]: memref<4xf32>, %[[ACC:[^:]+]]: memref<4xf32> {nl.token_scratch},
// CHECK-SAME:    %[[G:[^:]+]]: memref<4xf32>, %[[ACTIVE:[^:]+]]: i64, %[[FIRE:[^:]+]]: i64)
// CHECK-DAG:     %[[EPS:.+]] = arith.constant 2.500000e-01 : f32
// CHECK-DAG:     %[[C1V:.+]] = arith.constant 1.250000e-01 : f32
// CHECK-DAG:     %[[B1V:.+]] = arith.constant 8.750000e-01 : f32
// CHECK-DAG:     %[[C2V:.+]] = arith.constant 6.250000e-02 : f32
// CHECK-DAG:     %[[B2V:.+]] = arith.constant 9.375000e-01 : f32
// CHECK-DAG:     %[[LRV:.+]] = arith.constant 5.000000e-01 : f32
// CHECK-DAG:     memref.store %[[C1V]], %[[C1:.+]][] : memref<f32>
// CHECK-DAG:     memref.store %[[B1V]], %[[B1:.+]][] : memref<f32>
// CHECK-DAG:     memref.store %[[C2V]], %[[C2:.+]][] : memref<f32>
// CHECK-DAG:     memref.store %[[B2V]], %[[B2:.+]][] : memref<f32>
// CHECK-DAG:     memref.store %[[LRV]], %[[LR:.+]][] : memref<f32>
// CHECK-DAG:     %[[A1:.+]] = arith.shrui %[[ACTIVE]], %c2_i64
// CHECK-DAG:     %[[F1:.+]] = arith.shrui %[[FIRE]], %c2_i64
// CHECK-DAG:     %[[WV:.+]] = memref.expand_shape %[[W]] {{.+}} into memref<1x4xf32>
// CHECK-DAG:     %[[ACCV:.+]] = memref.expand_shape %[[ACC]] {{.+}} into memref<1x4xf32>
// The token's gradient is the accumulator (objective linear, lr applied by
// adam itself).
// CHECK:         scf.if
// CHECK-NEXT:      %[[GV:.+]] = memref.expand_shape %[[G]]
// CHECK-NEXT:      scf.parallel (%[[I:.+]]) =
// CHECK-NEXT:        %[[GI:.+]] = memref.load %[[GV]][%{{.+}}, %[[I]]]
// CHECK-NEXT:        memref.store %[[GI]], %[[ACCV]][%{{.+}}, %[[I]]]
// CHECK:         scf.if
// CHECK-NEXT:      %[[M1V:.+]] = memref.expand_shape %[[M1]]
// CHECK-NEXT:      %[[M2V:.+]] = memref.expand_shape %[[M2]]
// CHECK-NEXT:      scf.parallel (%[[J:.+]]) = (%{{.+}}) to (%c4)
// CHECK-NEXT:        %[[GJ:.+]] = memref.load %[[ACCV]][%{{.+}}, %[[J]]]
// CHECK-NEXT:        %[[WJ:.+]] = memref.load %[[WV]][%{{.+}}, %[[J]]]
// CHECK-NEXT:        %[[M1J:.+]] = memref.load %[[M1V]][%{{.+}}, %[[J]]]
// CHECK-NEXT:        %[[M2J:.+]] = memref.load %[[M2V]][%{{.+}}, %[[J]]]
// CHECK-NEXT:        %[[B1G:.+]] = memref.load %[[B1]][]
// CHECK-NEXT:        %[[C1G:.+]] = memref.load %[[C1]][]
// CHECK-NEXT:        %[[T1:.+]] = arith.mulf %[[C1G]], %[[GJ]]
// CHECK-NEXT:        %[[K1:.+]] = arith.mulf %[[B1G]], %[[M1J]]
// CHECK-NEXT:        %[[M1N:.+]] = arith.addf %[[K1]], %[[T1]]
// CHECK-NEXT:        %[[GG:.+]] = arith.mulf %[[GJ]], %[[GJ]]
// CHECK-NEXT:        %[[B2G:.+]] = memref.load %[[B2]][]
// CHECK-NEXT:        %[[C2G:.+]] = memref.load %[[C2]][]
// CHECK-NEXT:        %[[T2:.+]] = arith.mulf %[[C2G]], %[[GG]]
// CHECK-NEXT:        %[[K2:.+]] = arith.mulf %[[B2G]], %[[M2J]]
// CHECK-NEXT:        %[[M2N:.+]] = arith.addf %[[K2]], %[[T2]]
// CHECK-NEXT:        memref.store %[[M1N]], %[[M1V]][%{{.+}}, %[[J]]]
// CHECK-NEXT:        memref.store %[[M2N]], %[[M2V]][%{{.+}}, %[[J]]]
// CHECK-NEXT:        %[[SQ:.+]] = math.sqrt %[[M2N]]
// CHECK-NEXT:        %[[DEN:.+]] = arith.addf %[[SQ]], %[[EPS]]
// CHECK-NEXT:        %[[Q:.+]] = arith.divf %[[M1N]], %[[DEN]]
// CHECK-NEXT:        %[[L:.+]] = memref.load %[[LR]][]
// CHECK-NEXT:        %[[STEP:.+]] = arith.mulf %[[L]], %[[Q]]
// CHECK-NEXT:        %[[NEW:.+]] = arith.subf %[[WJ]], %[[STEP]]
// CHECK-NEXT:        memref.store %[[NEW]], %[[WV]][%{{.+}}, %[[J]]]
// CHECK-NEXT:        scf.reduce
nl.model @adam attributes {dim = 4} {
  nl.level @m1 period 1 rule <objective = linear, retention = decay> {
    nl.state @m : tensor<4xf32> = #nl.zeros
  }
  nl.level @m2 period 1 rule <objective = linear, retention = decay> {
    nl.state @v : tensor<4xf32> = #nl.zeros
  }
  nl.level @W period 1 rule <objective = linear, algorithm = adam, via = [@m1, @m2], eps = 0.25> {
    nl.state @W : tensor<4xf32> = #nl.zeros
  }
  nl.step(%g : tensor<4xf32>) {
    %c1 = arith.constant dense<0.125> : tensor<f32>
    %b1 = arith.constant dense<0.875> : tensor<f32>
    %c2 = arith.constant dense<0.0625> : tensor<f32>
    %b2 = arith.constant dense<0.9375> : tensor<f32>
    %lr = arith.constant dense<0.5> : tensor<f32>
    nl.update @m1 lr(%c1 : tensor<f32>) retain(%b1 : tensor<f32>)
    nl.update @m2 lr(%c2 : tensor<f32>) retain(%b2 : tensor<f32>)
    nl.update @W grad(%g : tensor<4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

// Muon via a momentum level @B (lr 1, retain mu = 0.875) on a 2 x 4 weight
// with lr 0.25 and ns_steps = 3. States: B.B, W.W, W.__acc.
// CHECK-LABEL: func.func @muon_step_impl(
// CHECK-SAME:    %[[B:[^:]+]]: memref<2x4xf32>, %[[W:[^:]+]]: memref<2x4xf32>, %[[ACC:[^:]+]]: memref<2x4xf32>,
// CHECK-DAG:     %[[CA:.+]] = arith.constant 3.444500e+00 : f32
// CHECK-DAG:     %[[CB:.+]] = arith.constant -4.775000e+00 : f32
// CHECK-DAG:     %[[CC:.+]] = arith.constant 2.031500e+00 : f32
// CHECK-DAG:     %[[TINY:.+]] = arith.constant 1.000000e-07 : f32
// CHECK-DAG:     %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG:     %[[MUV:.+]] = arith.constant 8.750000e-01 : f32
// CHECK-DAG:     %[[LRV:.+]] = arith.constant 2.500000e-01 : f32
// CHECK-DAG:     memref.store %[[MUV]], %[[MU:.+]][] : memref<f32>
// CHECK-DAG:     memref.store %[[LRV]], %[[LR:.+]][] : memref<f32>
// CHECK-DAG:     %[[A1:.+]] = arith.shrui %{{.+}}, %c1_i64
// CHECK:         scf.if
// CHECK:         scf.if
// The momentum: S = mu S - acc, and the accumulator cleared.
// CHECK-NEXT:      scf.parallel (%[[R:.+]], %[[C:.+]]) = (%{{.+}}, %{{.+}}) to (%c2, %c4)
// CHECK-NEXT:        %[[A:.+]] = memref.load %[[ACC]][%[[R]], %[[C]]]
// CHECK-NEXT:        %[[MUG:.+]] = memref.load %[[MU]][]
// CHECK-NEXT:        %[[BOLD:.+]] = memref.load %[[B]][%[[R]], %[[C]]]
// CHECK-NEXT:        %[[BDEC:.+]] = arith.mulf %[[MUG]], %[[BOLD]]
// CHECK-NEXT:        %[[BNEW:.+]] = arith.subf %[[BDEC]], %[[A]]
// CHECK-NEXT:        memref.store %[[BNEW]], %[[B]][%[[R]], %[[C]]]
// CHECK-NEXT:        memref.store %{{.+}}, %[[ACC]][%[[R]], %[[C]]]
// NS: 1 / (||S||_F + 1e-7), X = S / ||S||.
// CHECK:         %[[SQ:.+]] = scf.for
// CHECK-NEXT:      scf.for
// CHECK-NEXT:        %[[BI:.+]] = memref.load %[[B]]
// CHECK-NEXT:        arith.mulf %[[BI]], %[[BI]]
// CHECK:         %[[NORM:.+]] = math.sqrt %[[SQ]]
// CHECK-NEXT:    %[[DEN:.+]] = arith.addf %[[NORM]], %[[TINY]]
// CHECK-NEXT:    %[[INV:.+]] = arith.divf %[[ONE]], %[[DEN]]
// CHECK-NEXT:    scf.parallel (%[[XR:.+]], %[[XC:.+]]) = (%{{.+}}, %{{.+}}) to (%c2, %c4)
// CHECK-NEXT:      %[[BX:.+]] = memref.load %[[B]][%[[XR]], %[[XC]]]
// CHECK-NEXT:      %[[XS:.+]] = arith.mulf %[[BX]], %[[INV]]
// CHECK-NEXT:      memref.store %[[XS]], %[[X:.+]][%[[XR]], %[[XC]]] : memref<2x4xf32>
// Three iterations, each three products (a reduction per element).
// CHECK:         scf.for %{{.+}} = %{{.+}} to %c3 step %c1 {
// A = X X^T (2 x 2, over the 4 columns).
// CHECK-NEXT:      scf.parallel (%[[I:.+]], %[[K:.+]]) = (%{{.+}}, %{{.+}}) to (%c2, %c2)
// CHECK-NEXT:        %[[XXT:.+]] = scf.for %[[N:.+]] = %{{.+}} to %c4 step
// CHECK-NEXT:          %[[XK:.+]] = memref.load %[[X]][%[[K]], %[[N]]]
// CHECK-NEXT:          %[[XI:.+]] = memref.load %[[X]][%[[I]], %[[N]]]
// CHECK-NEXT:          arith.mulf %[[XI]], %[[XK]]
// CHECK:             memref.store %[[XXT]], %[[AM:.+]][%[[I]], %[[K]]] : memref<2x2xf32>
// B = -4.7750 A + 2.0315 A A.
// CHECK:           scf.parallel
// CHECK-NEXT:        %[[AA:.+]] = scf.for %{{.+}} = %{{.+}} to %c2 step
// CHECK:             %[[AA2:.+]] = arith.mulf %[[AA]], %[[CC]]
// CHECK-NEXT:        %[[AIJ:.+]] = memref.load %[[AM]]
// CHECK-NEXT:        %[[AB:.+]] = arith.mulf %[[AIJ]], %[[CB]]
// CHECK-NEXT:        %[[BM:.+]] = arith.addf %[[AB]], %[[AA2]]
// CHECK-NEXT:        memref.store %[[BM]], %[[BMAT:.+]][%{{.+}}] : memref<2x2xf32>
// X' = 3.4445 X + B X, then copied back into X.
// CHECK:           scf.parallel
// CHECK-NEXT:        %[[BX2:.+]] = scf.for %{{.+}} = %{{.+}} to %c2 step
// CHECK-NEXT:          memref.load %[[X]]
// CHECK-NEXT:          memref.load %[[BMAT]]
// CHECK:             %[[XIJ:.+]] = memref.load %[[X]]
// CHECK-NEXT:        %[[AX:.+]] = arith.mulf %[[XIJ]], %[[CA]]
// CHECK-NEXT:        %[[XN:.+]] = arith.addf %[[AX]], %[[BX2]]
// CHECK-NEXT:        memref.store %[[XN]], %[[T:.+]][%{{.+}}] : memref<2x4xf32>
// CHECK:           scf.parallel
// CHECK-NEXT:        %[[TV:.+]] = memref.load %[[T]]
// CHECK-NEXT:        memref.store %[[TV]], %[[X]]
// CHECK:           }
// CHECK-NEXT:    }
// The result out of the loop, then W = W + lr NS(S).
// CHECK-NEXT:    scf.parallel
// CHECK-NEXT:      %[[XF:.+]] = memref.load %[[X]]
// CHECK-NEXT:      memref.store %[[XF]], %[[O:.+]][%{{.+}}] : memref<2x4xf32>
// CHECK:         scf.parallel (%[[WR:.+]], %[[WC:.+]]) =
// CHECK-NEXT:      %[[WOLD:.+]] = memref.load %[[W]][%[[WR]], %[[WC]]]
// CHECK-NEXT:      %[[OV:.+]] = memref.load %[[O]][%[[WR]], %[[WC]]]
// CHECK-NEXT:      %[[L:.+]] = memref.load %[[LR]][]
// CHECK-NEXT:      %[[STEP:.+]] = arith.mulf %[[OV]], %[[L]]
// CHECK-NEXT:      %[[WNEW:.+]] = arith.addf %[[WOLD]], %[[STEP]]
// CHECK-NEXT:      memref.store %[[WNEW]], %[[W]][%[[WR]], %[[WC]]]
nl.model @muon attributes {dim = 8} {
  nl.level @B period 1 rule <objective = linear, retention = decay> {
    nl.state @B : !nl.matrix<2x4xf32> = #nl.zeros
  }
  nl.level @W period 1 rule <objective = linear, algorithm = muon, ns_steps = 3, via = [@B]> {
    nl.state @W : !nl.matrix<2x4xf32> = #nl.zeros
  }
  nl.step(%g : tensor<8xf32>) {
    %G = tensor.expand_shape %g [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
    %one = arith.constant dense<1.0> : tensor<f32>
    %mu = arith.constant dense<0.875> : tensor<f32>
    %lr = arith.constant dense<0.25> : tensor<f32>
    nl.update @B lr(%one : tensor<f32>) retain(%mu : tensor<f32>)
    nl.update @W grad(%G : tensor<2x4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

// A fused muon on a 4 x 2 memory (more rows than columns): NS works on the
// 2 x 4 transpose, reading S[j, i] and writing the result back at [j, i];
// each of the two iterations (ns_steps = 2) has the three products.
// CHECK-LABEL: func.func @tall_step_impl(
// CHECK-SAME:    %[[W:[^:]+]]: memref<4x2xf32>, %[[S:[^:]+]]: memref<4x2xf32>, %[[ACC:[^:]+]]: memref<4x2xf32>,
// CHECK:         scf.if
// CHECK:         scf.if
// CHECK:           memref.store %{{.+}}, %[[S]][
// CHECK:         scf.for
// CHECK-NEXT:      scf.for
// CHECK-NEXT:        memref.load %[[S]]
// CHECK:         scf.parallel (%[[I:.+]], %[[J:.+]]) = (%{{.+}}, %{{.+}}) to (%c2, %c4)
// CHECK-NEXT:      memref.load %[[S]][%[[J]], %[[I]]]
// CHECK:           memref.store %{{.+}}, %[[X:.+]][%[[I]], %[[J]]] : memref<2x4xf32>
// CHECK:         scf.for %{{.+}} = %{{.+}} to %c2 step %c1 {
// CHECK-COUNT-3:   iter_args
// CHECK-NOT:       iter_args
// CHECK:           memref.store %{{.+}}, %[[X]][
// CHECK:         scf.parallel (%[[OI:.+]], %[[OJ:.+]]) = (%{{.+}}, %{{.+}}) to (%c2, %c4)
// CHECK-NEXT:      %[[XV:.+]] = memref.load %[[X]][%[[OI]], %[[OJ]]]
// CHECK-NEXT:      memref.store %[[XV]], %[[O:.+]][%[[OJ]], %[[OI]]] : memref<4x2xf32>
// CHECK:         scf.parallel
// CHECK-NEXT:      %[[WOLD:.+]] = memref.load %[[W]]
// CHECK-NEXT:      %[[OV:.+]] = memref.load %[[O]]
// CHECK-NEXT:      arith.addf %[[WOLD]], %[[OV]]
nl.model @tall attributes {dim = 8} {
  nl.level @W period 1 rule <objective = linear, algorithm = muon, ns_steps = 2> {
    nl.state @W : !nl.matrix<4x2xf32> = #nl.zeros
    nl.state @B : !nl.matrix<4x2xf32> = #nl.zeros
  }
  nl.step(%g : tensor<8xf32>) {
    %G = tensor.expand_shape %g [[0, 1]] output_shape [4, 2] : tensor<8xf32> into tensor<4x2xf32>
    %lr = arith.constant dense<0.25> : tensor<f32>
    %mu = arith.constant dense<0.875> : tensor<f32>
    nl.update @W grad(%G : tensor<4x2xf32>) lr(%lr : tensor<f32>) momentum_decay(%mu : tensor<f32>)
    nl.yield
  }
}

// -----

// M3 via [@fast, @second, @slow] (lr b1 = 0.875, b2 = 0.9375, b3 = 0.625;
// @slow of period 4, level 2), weight lr 0.125, eps 0.25, slow_weight 0.5.
// States: fast.M1, second.V, slow.M2, W.W, W.__acc, W.__m3_pending,
// W.__m3_o2.
// CHECK-LABEL: func.func @m3_step_impl(
// CHECK-SAME:    %[[M1:[^:]+]]: memref<2x4xf32>, %[[V:[^:]+]]: memref<2x4xf32>, %[[M2:[^:]+]]: memref<2x4xf32>,
// CHECK-SAME:    %[[W:[^:]+]]: memref<2x4xf32>, %[[ACC:[^:]+]]: memref<2x4xf32>, %[[PEND:[^:]+]]: memref<2x4xf32>, %[[O2:[^:]+]]: memref<2x4xf32>,
// CHECK-SAME:    %{{[^:]+}}: memref<8xf32>, %{{[^:]+}}: i64, %[[FIRE:[^:]+]]: i64)
// CHECK-DAG:     %[[EPS:.+]] = arith.constant 2.500000e-01 : f32
// CHECK-DAG:     %[[ALPHA:.+]] = arith.constant 5.000000e-01 : f32
// CHECK-DAG:     %[[B1V:.+]] = arith.constant 8.750000e-01 : f32
// CHECK-DAG:     %[[B2V:.+]] = arith.constant 9.375000e-01 : f32
// CHECK-DAG:     %[[B3V:.+]] = arith.constant 6.250000e-01 : f32
// CHECK-DAG:     %[[LRV:.+]] = arith.constant 1.250000e-01 : f32
// CHECK-DAG:     memref.store %[[B1V]], %[[B1:.+]][] : memref<f32>
// CHECK-DAG:     memref.store %[[B2V]], %[[B2:.+]][] : memref<f32>
// CHECK-DAG:     memref.store %[[B3V]], %[[B3:.+]][] : memref<f32>
// CHECK-DAG:     memref.store %[[LRV]], %[[LR:.+]][] : memref<f32>
// CHECK:         scf.if
// CHECK:         scf.if
// The moments of this token's gradient, and the slow level's pending sum.
// CHECK-NEXT:      scf.parallel (%[[R:.+]], %[[C:.+]]) =
// CHECK-NEXT:        %[[G:.+]] = memref.load %[[ACC]][%[[R]], %[[C]]]
// CHECK-NEXT:        %[[M1O:.+]] = memref.load %[[M1]][%[[R]], %[[C]]]
// CHECK-NEXT:        %[[L1:.+]] = memref.load %[[B1]][]
// CHECK-NEXT:        %[[T1:.+]] = arith.mulf %[[L1]], %[[G]]
// CHECK-NEXT:        %[[M1N:.+]] = arith.addf %[[M1O]], %[[T1]]
// CHECK-NEXT:        memref.store %[[M1N]], %[[M1]][%[[R]], %[[C]]]
// CHECK-NEXT:        %[[GG:.+]] = arith.mulf %[[G]], %[[G]]
// CHECK-NEXT:        %[[VO:.+]] = memref.load %[[V]][%[[R]], %[[C]]]
// CHECK-NEXT:        %[[L2:.+]] = memref.load %[[B2]][]
// CHECK-NEXT:        %[[T2:.+]] = arith.mulf %[[L2]], %[[GG]]
// CHECK-NEXT:        %[[VN:.+]] = arith.addf %[[VO]], %[[T2]]
// CHECK-NEXT:        memref.store %[[VN]], %[[V]][%[[R]], %[[C]]]
// CHECK-NEXT:        %[[PO:.+]] = memref.load %[[PEND]][%[[R]], %[[C]]]
// CHECK-NEXT:        %[[PN:.+]] = arith.addf %[[PO]], %[[G]]
// CHECK-NEXT:        memref.store %[[PN]], %[[PEND]][%[[R]], %[[C]]]
// CHECK-NEXT:        memref.store %{{.+}}, %[[ACC]][%[[R]], %[[C]]]
// NS(M1): normalized from M1, three iterations.
// CHECK:             memref.load %[[M1]]
// CHECK:         math.sqrt
// CHECK:         scf.parallel
// CHECK-NEXT:      memref.load %[[M1]]
// CHECK-NEXT:      arith.mulf
// CHECK-NEXT:      memref.store %{{.+}}, %[[X1:.+]][%{{.+}}] : memref<2x4xf32>
// CHECK:         scf.for %{{.+}} = %{{.+}} to %c3 step %c1 {
// CHECK-COUNT-3:   iter_args
// CHECK-NOT:       iter_args
// CHECK:           memref.store %{{.+}}, %[[X1]][
// CHECK:         scf.parallel
// CHECK-NEXT:      %[[XF:.+]] = memref.load %[[X1]][
// CHECK-NEXT:      memref.store %[[XF]], %[[O1:.+]][%{{.+}}] : memref<2x4xf32>
// W = W - lr (O1 + 0.5 O2) / (sqrt(V) + eps).
// CHECK:         scf.parallel (%[[WR:.+]], %[[WC:.+]]) =
// CHECK-NEXT:      %[[O2V:.+]] = memref.load %[[O2]][%[[WR]], %[[WC]]]
// CHECK-NEXT:      %[[O2S:.+]] = arith.mulf %[[O2V]], %[[ALPHA]]
// CHECK-NEXT:      %[[O1V:.+]] = memref.load %[[O1]][%[[WR]], %[[WC]]]
// CHECK-NEXT:      %[[NUM:.+]] = arith.addf %[[O1V]], %[[O2S]]
// CHECK-NEXT:      %[[VV:.+]] = memref.load %[[V]][%[[WR]], %[[WC]]]
// CHECK-NEXT:      %[[SQ:.+]] = math.sqrt %[[VV]]
// CHECK-NEXT:      %[[DEN:.+]] = arith.addf %[[SQ]], %[[EPS]]
// CHECK-NEXT:      %[[Q:.+]] = arith.divf %[[NUM]], %[[DEN]]
// CHECK-NEXT:      %[[L:.+]] = memref.load %[[LR]][]
// CHECK-NEXT:      %[[STEP:.+]] = arith.mulf %[[L]], %[[Q]]
// CHECK-NEXT:      %[[WOLD:.+]] = memref.load %[[W]][%[[WR]], %[[WC]]]
// CHECK-NEXT:      %[[WNEW:.+]] = arith.subf %[[WOLD]], %[[STEP]]
// CHECK-NEXT:      memref.store %[[WNEW]], %[[W]][%[[WR]], %[[WC]]]
// Behind bit 2 of fire (@slow): M2 += b3 pending, pending = 0, O2 = NS(M2).
// CHECK:         %[[S1:.+]] = arith.shrui %[[FIRE]], %c2_i64
// CHECK-NEXT:    %[[S2:.+]] = arith.andi %[[S1]], %c1_i64
// CHECK-NEXT:    %[[SLOW:.+]] = arith.cmpi ne, %[[S2]], %c0_i64
// CHECK-NEXT:    scf.if %[[SLOW]] {
// CHECK-NEXT:      scf.parallel (%[[SR:.+]], %[[SC:.+]]) =
// CHECK-NEXT:        %[[P:.+]] = memref.load %[[PEND]][%[[SR]], %[[SC]]]
// CHECK-NEXT:        %[[M2O:.+]] = memref.load %[[M2]][%[[SR]], %[[SC]]]
// CHECK-NEXT:        %[[L3:.+]] = memref.load %[[B3]][]
// CHECK-NEXT:        %[[T3:.+]] = arith.mulf %[[L3]], %[[P]]
// CHECK-NEXT:        %[[M2N:.+]] = arith.addf %[[M2O]], %[[T3]]
// CHECK-NEXT:        memref.store %[[M2N]], %[[M2]][%[[SR]], %[[SC]]]
// CHECK-NEXT:        memref.store %{{.+}}, %[[PEND]][%[[SR]], %[[SC]]]
// CHECK:               memref.load %[[M2]]
// CHECK:           scf.parallel
// CHECK-NEXT:        memref.load %[[M2]]
// CHECK-NEXT:        arith.mulf
// CHECK-NEXT:        memref.store %{{.+}}, %[[X2:.+]][%{{.+}}] : memref<2x4xf32>
// CHECK:           scf.for %{{.+}} = %{{.+}} to %c3 step %c1 {
// CHECK-COUNT-3:     iter_args
// CHECK-NOT:         iter_args
// CHECK:             memref.store %{{.+}}, %[[X2]][
// CHECK:           scf.parallel
// CHECK-NEXT:        %[[XV:.+]] = memref.load %[[X2]][
// CHECK-NEXT:        memref.store %[[XV]], %[[FRESH:.+]][
// CHECK:           scf.parallel
// CHECK-NEXT:        %[[NV:.+]] = memref.load %[[FRESH]][
// CHECK-NEXT:        memref.store %[[NV]], %[[O2]][
// CHECK-NEXT:        scf.reduce
// CHECK-NEXT:      }
// CHECK-NEXT:    }
nl.model @m3 attributes {dim = 8} {
  nl.level @fast period 1 rule <objective = linear> {
    nl.state @M1 : !nl.matrix<2x4xf32> = #nl.zeros
  }
  nl.level @second period 1 rule <objective = linear> {
    nl.state @V : !nl.matrix<2x4xf32> = #nl.zeros
  }
  nl.level @slow period 4 rule <objective = linear> {
    nl.state @M2 : !nl.matrix<2x4xf32> = #nl.zeros
  }
  nl.level @W period 1 rule <objective = linear, algorithm = m3, via = [@fast, @second, @slow], ns_steps = 3, eps = 0.25, slow_weight = 0.5> {
    nl.state @W : !nl.matrix<2x4xf32> = #nl.zeros
  }
  nl.step(%g : tensor<8xf32>) {
    %G = tensor.expand_shape %g [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
    %b1 = arith.constant dense<0.875> : tensor<f32>
    %b2 = arith.constant dense<0.9375> : tensor<f32>
    %b3 = arith.constant dense<0.625> : tensor<f32>
    %lr = arith.constant dense<0.125> : tensor<f32>
    nl.update @fast lr(%b1 : tensor<f32>)
    nl.update @second lr(%b2 : tensor<f32>)
    nl.update @slow lr(%b3 : tensor<f32>)
    nl.update @W grad(%G : tensor<2x4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}
