// RUN: nl-opt %s --split-input-file --pass-pipeline='builtin.module(nl.model(nl-verify-schedule,nl-expand-updates))' | FileCheck %s

// Adam as three levels: the moments are the states of @m1 and @m2, fed the
// gradient and its square with their own lr and retain; the weight level's
// apply stores them and takes lr * m1 / (sqrt(m2) + eps).
// CHECK-LABEL: nl.model @adam
// CHECK:      nl.state @W : tensor<8xf32> = #nl.zeros
// CHECK-NEXT: nl.state @__acc : tensor<8xf32> = #nl.zeros role accumulator
// CHECK:      nl.step(%[[G:.*]]: tensor<8xf32>)
// CHECK:      %[[LR:.*]] = arith.constant dense<1.000000e-03>
// CHECK-NEXT: %[[B1:.*]] = arith.constant dense<0.899999976>
// CHECK-NEXT: %[[C1:.*]] = arith.constant dense<1.000000e-01>
// CHECK-NEXT: %[[B2:.*]] = arith.constant dense<9.990000e-01>
// CHECK-NEXT: %[[C2:.*]] = arith.constant dense<1.000000e-03>
// CHECK-NEXT: nl.learn @W {
// CHECK-NEXT:   nl.store @W::@__acc(%[[G]] : tensor<8xf32>)
// CHECK:      nl.apply @W {
// CHECK-NEXT:   %[[A:.*]] = nl.load @W::@__acc
// CHECK-NEXT:   %[[W:.*]] = nl.load @W::@W
// CHECK-NEXT:   %[[M:.*]] = nl.load @m1::@m
// CHECK-NEXT:   %[[T1:.*]] = nl.mul %[[A]], %[[C1]]
// CHECK-NEXT:   %[[D1:.*]] = nl.mul %[[M]], %[[B1]]
// CHECK-NEXT:   %[[M1:.*]] = nl.add %[[D1]], %[[T1]]
// CHECK-NEXT:   nl.store @m1::@m(%[[M1]]
// CHECK-NEXT:   %[[SQ:.*]] = nl.mul %[[A]], %[[A]]
// CHECK-NEXT:   %[[V:.*]] = nl.load @m2::@v
// CHECK-NEXT:   %[[T2:.*]] = nl.mul %[[SQ]], %[[C2]]
// CHECK-NEXT:   %[[D2:.*]] = nl.mul %[[V]], %[[B2]]
// CHECK-NEXT:   %[[V1:.*]] = nl.add %[[D2]], %[[T2]]
// CHECK-NEXT:   nl.store @m2::@v(%[[V1]]
// CHECK-NEXT:   %[[R:.*]] = math.sqrt %[[V1]] : tensor<8xf32>
// CHECK-NEXT:   %[[EPS:.*]] = arith.constant dense<9.99999993E-9>
// CHECK-NEXT:   %[[DEN:.*]] = nl.add %[[R]], %[[EPS]]
// CHECK-NEXT:   %[[Q:.*]] = nl.div %[[M1]], %[[DEN]]
// CHECK-NEXT:   %[[STEP:.*]] = nl.mul %[[Q]], %[[LR]]
// CHECK-NEXT:   %[[W1:.*]] = nl.sub %[[W]], %[[STEP]]
// CHECK-NEXT:   nl.store @W::@W(%[[W1]]
// CHECK-NOT:  nl.update
nl.model @adam attributes {dim = 8} {
  nl.level @m1 period 1 rule <objective = linear, retention = decay> {
    nl.state @m : tensor<8xf32> = #nl.zeros
  }
  nl.level @m2 period 1 rule <objective = linear, retention = decay> {
    nl.state @v : tensor<8xf32> = #nl.zeros
  }
  nl.level @W period 1 rule <objective = linear, algorithm = adam, via = [@m1, @m2], eps = 1.0e-08> {
    nl.state @W : tensor<8xf32> = #nl.zeros
  }
  nl.step(%g : tensor<8xf32>) {
    %lr = arith.constant dense<1.0e-3> : tensor<f32>
    %b1 = arith.constant dense<0.9> : tensor<f32>
    %c1 = arith.constant dense<0.1> : tensor<f32>
    %b2 = arith.constant dense<0.999> : tensor<f32>
    %c2 = arith.constant dense<1.0e-3> : tensor<f32>
    nl.update @m1 lr(%c1 : tensor<f32>) retain(%b1 : tensor<f32>)
    nl.update @m2 lr(%c2 : tensor<f32>) retain(%b2 : tensor<f32>)
    nl.update @W grad(%g : tensor<8xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

// SGD with momentum over a weight tensor: the same momentum level as
// Titans', fed a given gradient.
// CHECK-LABEL: nl.model @sgd_momentum
// CHECK:      nl.step(%[[X:.*]]: tensor<8xf32>)
// CHECK:      %[[G:.*]] = tensor.expand_shape %[[X]]
// CHECK:      %[[A:.*]] = nl.mul %[[G]], %{{.*}} : tensor<2x4xf32>, tensor<f32>
// CHECK:      nl.learn @W {
// CHECK-NEXT:   nl.store @W::@__acc(%[[A]]
// CHECK:      nl.apply @W {
// CHECK:        nl.load @m::@S
// CHECK:        nl.store @m::@S
// CHECK:        nl.store @W::@W
nl.model @sgd_momentum attributes {dim = 8} {
  nl.level @m period 1 rule <objective = linear, retention = decay> {
    nl.state @S : tensor<2x4xf32> = #nl.zeros
  }
  nl.level @W period 1 rule <objective = linear, algorithm = momentum, via = [@m]> {
    nl.state @W : tensor<2x4xf32> = #nl.zeros
  }
  nl.step(%x : tensor<8xf32>) {
    %g = tensor.expand_shape %x [[0, 1]] output_shape [2, 4] : tensor<8xf32> into tensor<2x4xf32>
    %lr = arith.constant dense<1.0> : tensor<f32>
    %mu = arith.constant dense<0.9> : tensor<f32>
    %eta = arith.constant dense<0.01> : tensor<f32>
    nl.update @m lr(%eta : tensor<f32>) retain(%mu : tensor<f32>)
    nl.update @W grad(%g : tensor<2x4xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

// Muon as two levels: the momentum @m keeps S = retain S - G, the weight
// level adds lr NS(S) (NL Eq 52), the Newton-Schulz iterations written as
// nl.matmul ops: X = S / (||S||_F + 1e-7), then ns_steps times A = X X^T,
// B = b A + c A A, X = a X + B X.
// CHECK-LABEL: nl.model @muon
// CHECK:      nl.apply @W {
// CHECK-NEXT:   %[[A:.*]] = nl.load @W::@__acc
// CHECK-NEXT:   %[[W:.*]] = nl.load @W::@W
// CHECK-NEXT:   %[[S0:.*]] = nl.load @m::@S
// CHECK-NEXT:   %[[D:.*]] = nl.mul %[[S0]], %[[RET:[^ ,]+]]
// CHECK-NEXT:   %[[S:.*]] = nl.sub %[[D]], %[[A]]
// CHECK-NEXT:   nl.store @m::@S(%[[S]]
// CHECK-NEXT:   %[[SQ:.*]] = nl.mul %[[S]], %[[S]]
// CHECK-NEXT:   %[[RS:.*]] = nl.sum %[[SQ]] : tensor<2x3xf32> -> tensor<2x1xf32>
// CHECK-NEXT:   %[[RT:.*]] = nl.transpose %[[RS]] {permutation = array<i64: 1, 0>}
// CHECK-NEXT:   %[[F2:.*]] = nl.sum %[[RT]] : tensor<1x2xf32> -> tensor<1x1xf32>
// CHECK-NEXT:   %[[F:.*]] = math.sqrt %[[F2]]
// CHECK-NEXT:   arith.constant dense<1.000000e-07>
// CHECK-NEXT:   %[[DEN:.*]] = nl.add %[[F]],
// CHECK-NEXT:   %[[X0:.*]] = nl.div %[[S]], %[[DEN]]
// CHECK-COUNT-2: nl.matmul %{{.*}}, %{{.*}} {transpose_rhs} : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x2xf32>
// CHECK:      %[[X:.*]] = nl.add %{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<2x3xf32> -> tensor<2x3xf32>
// CHECK-NEXT: %[[STEP:.*]] = nl.mul %[[X]], %[[LR:[^ ,]+]]
// CHECK-NEXT: %[[W1:.*]] = nl.add %{{.*}}, %[[STEP]]
// CHECK-NEXT: nl.store @W::@W(%[[W1]]
// CHECK-NOT:  nl.matmul
// CHECK-NOT:  nl.update
nl.model @muon attributes {dim = 6} {
  nl.level @m period 1 rule <objective = linear, retention = decay> {
    nl.state @S : !nl.matrix<2x3xf32> = #nl.zeros
  }
  nl.level @W period 1 rule <objective = linear, algorithm = muon, ns_steps = 2, via = [@m]> {
    nl.state @W : !nl.matrix<2x3xf32> = #nl.zeros
  }
  nl.step(%x : tensor<6xf32>) {
    %g = tensor.expand_shape %x [[0, 1]] output_shape [2, 3] : tensor<6xf32> into tensor<2x3xf32>
    %lr = arith.constant dense<0.1> : tensor<f32>
    %b = arith.constant dense<0.9> : tensor<f32>
    nl.update @m lr(%lr : tensor<f32>) retain(%b : tensor<f32>)
    nl.update @W grad(%g : tensor<2x3xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}

// -----

// Delta momentum (NL Eqs 48-49): the momentum level's inner objective keys
// on the gradient it is fed, m <- m (retain I - lr g g^T) - lr g: the apply
// subtracts lr (m . g) g, with m the momentum before this step.
// CHECK-LABEL: nl.model @delta_momentum
// CHECK:      nl.step(%[[G:.*]]: tensor<4xf32>)
// CHECK:      nl.apply @W {
// CHECK-NEXT:   %[[A:.*]] = nl.load @W::@__acc
// CHECK-NEXT:   %[[W:.*]] = nl.load @W::@W
// CHECK-NEXT:   %[[M:.*]] = nl.load @m::@S
// CHECK-NEXT:   %[[D:.*]] = nl.mul %[[M]], %[[RET:[^ ,]+]]
// CHECK-NEXT:   %[[S:.*]] = nl.sub %[[D]], %[[A]]
// CHECK-NEXT:   %[[MG:.*]] = nl.mul %[[M]], %[[G]]
// CHECK-NEXT:   %[[DOT:.*]] = nl.sum %[[MG]] : tensor<4xf32> -> tensor<1xf32>
// CHECK-NEXT:   %[[GD:.*]] = nl.mul %[[G]], %[[DOT]]
// CHECK-NEXT:   %[[KEYED:.*]] = nl.mul %[[GD]], %[[LR:[^ ,]+]]
// CHECK-NEXT:   %[[S1:.*]] = nl.sub %[[S]], %[[KEYED]]
// CHECK-NEXT:   nl.store @m::@S(%[[S1]]
// CHECK:        nl.store @W::@W(
nl.model @delta_momentum attributes {dim = 4} {
  nl.level @m period 1 rule <objective = linear, retention = decay, precond = delta> {
    nl.state @S : tensor<4xf32> = #nl.zeros
  }
  nl.level @W period 1 rule <objective = linear, algorithm = momentum, via = [@m]> {
    nl.state @W : tensor<4xf32> = #nl.zeros
  }
  nl.step(%g : tensor<4xf32>) {
    %lr = arith.constant dense<0.05> : tensor<f32>
    %b = arith.constant dense<0.9> : tensor<f32>
    %one = arith.constant dense<1.0> : tensor<f32>
    nl.update @m lr(%lr : tensor<f32>) retain(%b : tensor<f32>)
    nl.update @W grad(%g : tensor<4xf32>) lr(%one : tensor<f32>)
    nl.yield
  }
}

// -----

// M3 (NL Algorithm 1) as four levels: the weight's apply feeds g and g^2
// to the fast moments @f and @v, and steps by (NS(M1) + alpha O2) /
// (sqrt(V) + eps); the slow momentum @s is a level of its own: it sums the
// chunk's gradients into its accumulator (stashing its lr gate), and at
// its fire folds them into M2, clears the sum and keeps O2 = NS(M2).
// CHECK-LABEL: nl.model @m3
// CHECK:      nl.state @__m3_o2 : tensor<2x2xf32> = #nl.zeros role snapshot
// CHECK-NEXT: nl.state @__m3_pending : tensor<2x2xf32> = #nl.zeros role accumulator
// CHECK-NEXT: nl.state @__gate.s.lr : tensor<f32> = #nl.zeros role gate
// CHECK:      nl.step(%{{.*}}: tensor<4xf32>)
// CHECK-NEXT: %[[G:.*]] = tensor.expand_shape
// CHECK:      nl.apply @W {
// CHECK:        %[[M1:.*]] = nl.add
// CHECK-NEXT:   nl.store @f::@m1(%[[M1]]
// CHECK:        %[[V:.*]] = nl.add
// CHECK-NEXT:   nl.store @v::@m2(%[[V]]
// CHECK:        nl.div %[[M1]],
// CHECK-COUNT-3: nl.matmul
// CHECK:        %[[O1:.*]] = nl.add
// CHECK-NEXT:   %[[O2:.*]] = nl.load @s::@__m3_o2
// CHECK-NEXT:   %[[ALPHA:.*]] = arith.constant dense<5.000000e-01>
// CHECK-NEXT:   %[[AO2:.*]] = nl.mul %[[O2]], %[[ALPHA]]
// CHECK-NEXT:   %[[NUM:.*]] = nl.add %[[O1]], %[[AO2]]
// CHECK-NEXT:   %[[R:.*]] = math.sqrt %[[V]]
// CHECK:        %[[Q:.*]] = nl.div %[[NUM]],
// CHECK:        nl.store @W::@W(
// CHECK:      nl.learn @s {
// CHECK-NEXT:   %[[P:.*]] = nl.load @s::@__m3_pending
// CHECK-NEXT:   %[[P1:.*]] = nl.add %[[P]], %[[G]]
// CHECK-NEXT:   nl.store @s::@__m3_pending(%[[P1]]
// CHECK-NEXT:   nl.store @s::@__gate.s.lr(
// CHECK:      nl.apply @s {
// CHECK-NEXT:   %[[L:.*]] = nl.load @s::@__gate.s.lr
// CHECK-NEXT:   %[[M2:.*]] = nl.load @s::@m3
// CHECK-NEXT:   %[[SUM:.*]] = nl.load @s::@__m3_pending
// CHECK-NEXT:   %[[FED:.*]] = nl.mul %[[SUM]], %[[L]]
// CHECK-NEXT:   %[[M2N:.*]] = nl.add %[[M2]], %[[FED]]
// CHECK-NEXT:   nl.store @s::@m3(%[[M2N]]
// CHECK:        nl.store @s::@__m3_pending(
// CHECK-COUNT-3: nl.matmul
// CHECK:        nl.store @s::@__m3_o2(
// CHECK-NOT:  nl.update
nl.model @m3 attributes {dim = 4} {
  nl.level @f period 1 rule <objective = linear> {
    nl.state @m1 : !nl.matrix<2x2xf32> = #nl.zeros
  }
  nl.level @v period 1 rule <objective = linear> {
    nl.state @m2 : !nl.matrix<2x2xf32> = #nl.zeros
  }
  nl.level @s period 4 rule <objective = linear> {
    nl.state @m3 : !nl.matrix<2x2xf32> = #nl.zeros
  }
  nl.level @W period 1 rule <objective = linear, algorithm = m3, via = [@f, @v, @s], ns_steps = 1, slow_weight = 0.5> {
    nl.state @W : !nl.matrix<2x2xf32> = #nl.zeros
  }
  nl.step(%x : tensor<4xf32>) {
    %g = tensor.expand_shape %x [[0, 1]] output_shape [2, 2] : tensor<4xf32> into tensor<2x2xf32>
    %lr = arith.constant dense<0.02> : tensor<f32>
    %b1 = arith.constant dense<0.9> : tensor<f32>
    %b2 = arith.constant dense<0.999> : tensor<f32>
    %b3 = arith.constant dense<0.8> : tensor<f32>
    nl.update @f lr(%b1 : tensor<f32>)
    nl.update @v lr(%b2 : tensor<f32>)
    nl.update @s lr(%b3 : tensor<f32>)
    nl.update @W grad(%g : tensor<2x2xf32>) lr(%lr : tensor<f32>)
    nl.yield
  }
}
