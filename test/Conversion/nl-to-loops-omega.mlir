// RUN: nl-opt %s --nl-schedule-pipeline --nl-materialize-abi --nl-to-loops --canonicalize --cse | FileCheck %s

// The Omega rule (Atlas; window = 3) on a 2 x 4 matrix memory with decay in
// the kernel form. Pins down the ring buffer of the last `window` tokens:
// the token's key, value and lr gate are written at slot pos (the i32 count
// __omega_pos), then pos = (pos + 1 >= window ? 0 : pos + 1) and
// fill = min(fill + 1, window) are stored back; the contribution loops over
// the filled slots (0 .. new fill), copies each slot's key, value and lr
// and adds that token's gradient at the current state, (M k_s - v_s) k_s^T
// lr_s, to the accumulator (the sum is not a per-token overwrite); the
// apply is retain M - acc and clears the accumulator. Window, key and value
// widths (3, 4, 2) differ so that every bound says which it is. The Omega
// rule on a level of period above 1, with another algorithm or with
// decay_order = before_grad is refused (nl-to-loops-errors.mlir).

// States: M, acc, keys [3, 4], values [3, 2], lrs [3], pos, fill.
// CHECK-LABEL: func.func @omega_step_impl(
// CHECK-SAME:    %[[M:[^:]+]]: memref<2x4xf32>, %[[ACC:[^:]+]]: memref<2x4xf32>,
// CHECK-SAME:    %[[KEYS:[^:]+]]: memref<3x4xf32>, %[[VALS:[^:]+]]: memref<3x2xf32>, %[[LRS:[^:]+]]: memref<3xf32>,
// CHECK-SAME:    %[[POS:[^:]+]]: memref<1xi32>, %[[FILL:[^:]+]]: memref<1xi32>,
// CHECK-SAME:    %[[X:[^:]+]]: memref<4xf32>,
// CHECK-DAG:     %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG:     %[[C1:.+]] = arith.constant 1 : index
// CHECK-DAG:     %[[W:.+]] = arith.constant 3 : index
// CHECK-DAG:     %[[RETV:.+]] = arith.constant 8.750000e-01 : f32
// CHECK-DAG:     %[[LRV:.+]] = arith.constant 5.000000e-01 : f32
// CHECK:         scf.parallel (%[[I:.+]]) = (%{{.+}}) to (%c2)
// CHECK-NEXT:      %[[XI:.+]] = memref.load %[[X]][%[[I]]]
// CHECK-NEXT:      memref.store %[[XI]], %[[V:.+]][%[[I]]] : memref<2xf32>
// CHECK-DAG:     memref.store %[[LRV]], %[[LR:.+]][] : memref<f32>
// CHECK-DAG:     memref.store %[[RETV]], %[[RET:.+]][] : memref<f32>
// The token enters the ring at slot pos.
// CHECK:         scf.if
// CHECK-NEXT:      %[[P32:.+]] = memref.load %[[POS]][%[[C0]]]
// CHECK-NEXT:      %[[P:.+]] = arith.index_cast %[[P32]] : i32 to index
// CHECK-NEXT:      scf.parallel (%[[KC:.+]]) = (%{{.+}}) to (%c4)
// CHECK-NEXT:        %[[KV:.+]] = memref.load %[[X]][%[[KC]]]
// CHECK-NEXT:        memref.store %[[KV]], %[[KEYS]][%[[P]], %[[KC]]]
// CHECK:           scf.parallel (%[[VC:.+]]) = (%{{.+}}) to (%c2)
// CHECK-NEXT:        %[[VV:.+]] = memref.load %[[V]][%[[VC]]]
// CHECK-NEXT:        memref.store %[[VV]], %[[VALS]][%[[P]], %[[VC]]]
// CHECK:           %[[LV:.+]] = memref.load %[[LR]][]
// CHECK-NEXT:      memref.store %[[LV]], %[[LRS]][%[[P]]]
// pos = pos + 1, wrapped at the window.
// CHECK-NEXT:      %[[NEXT:.+]] = arith.addi %[[P]], %[[C1]]
// CHECK-NEXT:      %[[END:.+]] = arith.cmpi uge, %[[NEXT]], %[[W]]
// CHECK-NEXT:      %[[WRAP:.+]] = arith.select %[[END]], %[[C0]], %[[NEXT]]
// CHECK-NEXT:      %[[WRAP32:.+]] = arith.index_cast %[[WRAP]] : index to i32
// CHECK-NEXT:      memref.store %[[WRAP32]], %[[POS]][%[[C0]]]
// fill = min(fill + 1, window).
// CHECK-NEXT:      %[[F32:.+]] = memref.load %[[FILL]][%[[C0]]]
// CHECK-NEXT:      %[[F:.+]] = arith.index_cast %[[F32]] : i32 to index
// CHECK-NEXT:      %[[F1:.+]] = arith.addi %[[F]], %[[C1]]
// CHECK-NEXT:      %[[N:.+]] = arith.minui %[[F1]], %[[W]]
// CHECK-NEXT:      %[[N32:.+]] = arith.index_cast %[[N]] : index to i32
// CHECK-NEXT:      memref.store %[[N32]], %[[FILL]][%[[C0]]]
// Every filled slot s: its key, value and lr, then its gradient.
// CHECK-NEXT:      scf.for %[[S:.+]] = %[[C0]] to %[[N]] step %[[C1]] {
// CHECK-NEXT:        scf.parallel (%[[SK:.+]]) = (%{{.+}}) to (%c4)
// CHECK-NEXT:          %[[KS:.+]] = memref.load %[[KEYS]][%[[S]], %[[SK]]]
// CHECK-NEXT:          memref.store %[[KS]], %[[K:.+]][%[[SK]]] : memref<4xf32>
// CHECK:             scf.parallel (%[[SV:.+]]) = (%{{.+}}) to (%c2)
// CHECK-NEXT:          %[[VS:.+]] = memref.load %[[VALS]][%[[S]], %[[SV]]]
// CHECK-NEXT:          memref.store %[[VS]], %[[VSLOT:.+]][%[[SV]]] : memref<2xf32>
// CHECK:             %[[LS:.+]] = memref.load %[[LRS]][%[[S]]]
// CHECK-NEXT:        memref.store %[[LS]], %[[LSLOT:.+]][] : memref<f32>
// CHECK-NEXT:        scf.parallel (%[[R:.+]]) = (%{{.+}}) to (%c2)
// CHECK-NEXT:          %[[PRED:.+]] = scf.for %[[C:.+]] = %{{.+}} to %c4
// CHECK-NEXT:            memref.load %[[M]][%[[R]], %[[C]]]
// CHECK-NEXT:            memref.load %[[K]][%[[C]]]
// CHECK:               %[[VR:.+]] = memref.load %[[VSLOT]][%[[R]]]
// CHECK-NEXT:          %[[E:.+]] = arith.subf %[[PRED]], %[[VR]]
// CHECK-NEXT:          scf.parallel (%[[J:.+]]) = (%{{.+}}) to (%c4)
// CHECK-NEXT:            %[[KJ:.+]] = memref.load %[[K]][%[[J]]]
// CHECK-NEXT:            %[[G:.+]] = arith.mulf %[[E]], %[[KJ]]
// CHECK-NEXT:            %[[L:.+]] = memref.load %[[LSLOT]][]
// CHECK-NEXT:            %[[LG:.+]] = arith.mulf %[[G]], %[[L]]
// CHECK-NEXT:            %[[SUM:.+]] = memref.load %[[ACC]][%[[R]], %[[J]]]
// CHECK-NEXT:            %[[NEW:.+]] = arith.addf %[[SUM]], %[[LG]]
// CHECK-NEXT:            memref.store %[[NEW]], %[[ACC]][%[[R]], %[[J]]]
// The apply: retain M - acc, acc cleared for the next token's window sum.
// CHECK:         scf.if
// CHECK-NEXT:      scf.parallel (%[[AR:.+]], %[[AC:.+]]) =
// CHECK-NEXT:        %[[A:.+]] = memref.load %[[ACC]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        %[[OLD:.+]] = memref.load %[[M]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        %[[RG:.+]] = memref.load %[[RET]][]
// CHECK-NEXT:        %[[KEPT:.+]] = arith.mulf %[[OLD]], %[[RG]]
// CHECK-NEXT:        %[[MN:.+]] = arith.subf %[[KEPT]], %[[A]]
// CHECK-NEXT:        memref.store %[[MN]], %[[M]][%[[AR]], %[[AC]]]
// CHECK-NEXT:        memref.store %{{.+}}, %[[ACC]][%[[AR]], %[[AC]]]
// CHECK-LABEL: func.func @omega_flush_impl(
// CHECK-NEXT:    return
nl.model @omega attributes {dim = 4} {
  nl.level @M period 1 rule <objective = l2, retention = decay, window = 3> {
    nl.state @M : !nl.matrix<2x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) -> tensor<2xf32> {
    %v = tensor.extract_slice %x[0] [2] [1] : tensor<4xf32> to tensor<2xf32>
    %lr = arith.constant dense<0.5> : tensor<f32>
    %a = arith.constant dense<0.875> : tensor<f32>
    nl.update @M key(%x : tensor<4xf32>) value(%v : tensor<2xf32>) lr(%lr : tensor<f32>) retain(%a : tensor<f32>)
    %y = nl.read @M(%x) : tensor<4xf32> -> tensor<2xf32>
    nl.yield %y : tensor<2xf32>
  }
}
