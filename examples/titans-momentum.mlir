// Titans (Behrouz et al. 2025, arXiv:2501.00663, Eqs. 8-14) with a linear
// memory, momentum and weight decay, written the Nested Learning way: the
// momentum S is its own level, a memory over the gradients of M (NL Eq 33-34).
//
//   S_t = momentum_decay_t * S_{t-1} - lr_t * grad ||M_{t-1} k_t - v_t||^2 / 2
//   M_t = retain_t * M_{t-1} + S_t
//   y_t = M_t q_t
//
// The gates are data-dependent scalars: lr = sigmoid(w_lr . x),
// retain = sigmoid(w_r . x) (Titans' 1 - alpha), momentum_decay =
// sigmoid(w_m . x) (Titans' eta). q and k are L2-normalized.
nl.model @titans_momentum attributes {dim = 64} {
  nl.param @W_q : tensor<64x64xf32> = #nl.normal<std = 2.0e-02>
  nl.param @W_k : tensor<64x64xf32> = #nl.normal<std = 2.0e-02>
  nl.param @W_v : tensor<64x64xf32> = #nl.normal<std = 2.0e-02>
  nl.param @w_lr : tensor<1x64xf32> = #nl.normal<std = 2.0e-02>
  nl.param @w_retain : tensor<1x64xf32> = #nl.normal<std = 2.0e-02>
  nl.param @w_decay : tensor<1x64xf32> = #nl.normal<std = 2.0e-02>

  // The optimizer level: a memory over the gradients of @memory.
  nl.level @momentum period 1 rule <objective = linear, retention = decay> {
    nl.state @S : !nl.matrix<64x64xf32> = #nl.zeros
  }

  // The architecture level: the long-term memory, updated through @momentum.
  nl.level @memory period 1 rule <objective = l2, retention = decay, algorithm = momentum, via = [@momentum]> {
    nl.state @M : !nl.matrix<64x64xf32> = #nl.zeros
  }

  nl.step(%x : tensor<64xf32>) -> tensor<64xf32> {
    %Wq = nl.get_param @W_q : tensor<64x64xf32>
    %Wk = nl.get_param @W_k : tensor<64x64xf32>
    %Wv = nl.get_param @W_v : tensor<64x64xf32>
    %q0 = nl.linear %x, %Wq : (tensor<64xf32>, tensor<64x64xf32>) -> tensor<64xf32>
    %k0 = nl.linear %x, %Wk : (tensor<64xf32>, tensor<64x64xf32>) -> tensor<64xf32>
    %v = nl.linear %x, %Wv : (tensor<64xf32>, tensor<64x64xf32>) -> tensor<64xf32>
    %q = nl.norm l2 %q0 : (tensor<64xf32>) -> tensor<64xf32>
    %k = nl.norm l2 %k0 : (tensor<64xf32>) -> tensor<64xf32>

    %wlr = nl.get_param @w_lr : tensor<1x64xf32>
    %wr = nl.get_param @w_retain : tensor<1x64xf32>
    %wm = nl.get_param @w_decay : tensor<1x64xf32>
    %zlr = nl.linear %x, %wlr : (tensor<64xf32>, tensor<1x64xf32>) -> tensor<1xf32>
    %zr = nl.linear %x, %wr : (tensor<64xf32>, tensor<1x64xf32>) -> tensor<1xf32>
    %zm = nl.linear %x, %wm : (tensor<64xf32>, tensor<1x64xf32>) -> tensor<1xf32>
    %lr = nl.act sigmoid %zlr : tensor<1xf32>
    %retain = nl.act sigmoid %zr : tensor<1xf32>
    %decay = nl.act sigmoid %zm : tensor<1xf32>

    nl.update @momentum lr(%lr : tensor<1xf32>) retain(%decay : tensor<1xf32>)
    %one = arith.constant dense<1.0> : tensor<f32>
    nl.update @memory key(%k : tensor<64xf32>) value(%v : tensor<64xf32>) lr(%one : tensor<f32>) retain(%retain : tensor<1xf32>)
    %y = nl.read @memory(%q) : tensor<64xf32> -> tensor<64xf32>
    nl.yield %y : tensor<64xf32>
  }
}
