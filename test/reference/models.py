"""Float64 NumPy references for the runtime models in test/Runtime/models/*.nl
and (named ex_NAME) for examples/NAME.nl, "_" spelled "-" in the file name.

Each model is a plain per-token loop written from the equations in the .nl
header comments; it is never derived from nlc.

    y, states = MODEL(params, x, state=None)

params: {name: array} (the .nl `param`s); x: [T, dim] or [B, T, dim].
y: [T, out] or [B, T, out] (float64).  states: {"<level>.<state>": [B, ...]}.
`state` (optional) is a states dict from an earlier call to continue from.
Names starting with "_" are private carry (the pending partial chunk of a
chunked level); they are not part of the compiled model's state.

Conventions: memory M is [d_out, d_in], read y = M k (read after write);
l2 objective grad = (M k - v) k^T, dot objective grad = -v k^T;
gd step: M <- retain * M - lr * grad.

MLP memories (class Mlp): a state `mlp[w0, .., wn]` is the tensors
"<level>.<state>.w<i>" ([heads?, w_{i+1}, w_i]) and ".b<i>", initialized from
params "key.w<i>" / "key.b<i>" (MLP_INIT) or zeros; gradients of the objective
are written out by hand (chain rule through the activation, layer norm and
residual; selftest checks them against finite differences). A level of period C
sums lr_t * grad_t at its stored (chunk-start) weights into "_<level>.G.<name>"
and applies the sum after every C-th token ("_<level>.count").
"""
import math

import numpy as np

SPECS = {  # model -> (dim, [(param, shape, std)])  (as declared in the .nl files)
    "la": (16, [("W_q", (16, 16), 0.3), ("W_k", (16, 16), 0.3), ("W_v", (16, 16), 0.3)]),
    "deltanet": (16, [("W_q", (16, 16), 0.3), ("W_k", (16, 16), 0.3), ("W_v", (16, 16), 0.3),
                      ("W_b", (2, 16), 0.3)]),
    "titans": (16, [("W_q", (16, 16), 0.3), ("W_k", (16, 16), 0.3), ("W_v", (16, 16), 0.3),
                    ("w_lr", (1, 16), 0.3), ("w_m", (1, 16), 0.3), ("w_r", (1, 16), 0.3)]),
    "cms2": (16, [("W_t", (16, 16), 0.3)]),
    "gdn": (16, [("C", (3, 16), 0.5), ("W_q", (16, 16), 0.3), ("W_k", (16, 16), 0.3),
                 ("W_v", (16, 16), 0.3), ("W_a", (2, 16), 0.3), ("W_b", (2, 16), 0.3),
                 ("W_g", (16, 16), 0.3), ("g", (16,), 0.3)]),
    "mlpmem": (8, [("W_q", (8, 8), 0.5), ("W_k", (8, 8), 0.5), ("W_v", (8, 8), 0.5),
                   ("w_lr", (1, 8), 0.3), ("w_r", (1, 8), 0.3)]),
    "mlpchunk": (8, [("W_q", (8, 8), 0.5), ("W_k", (8, 8), 0.5), ("W_v", (8, 8), 0.5),
                     ("w_lr", (1, 8), 0.3), ("w_m", (1, 8), 0.3), ("w_r", (1, 8), 0.3)]),
    "tttmlp": (16, [("W_q", (16, 16), 0.3), ("W_k", (16, 16), 0.3), ("W_v", (16, 16), 0.3), ("W_lr", (2, 16), 0.3)]),
    "cmsseq": (8, [("W_t", (8, 8), 0.1)]),
    "cmsrate": (8, [("W_t", (8, 8), 0.1)]),
    "cmslong": (8, [("W_t", (8, 8), 0.1)]),
    "cmsind": (8, [("W_t", (8, 8), 0.5), ("a0", (1,), 1.0), ("a1", (1,), 1.0), ("a2", (1,), 1.0)]),
    "cmsnest": (8, [("W_t", (8, 8), 0.5)]),
    "selfmod": (8, [("W_q", (8, 8), 0.5)]),
    "hope": (8, [("W_q", (8, 8), 0.5), ("W_t", (8, 8), 0.5)]),
    "hopeattn": (8, [("W_q", (8, 8), 0.5), ("W_k", (8, 8), 0.5), ("W_v", (8, 8), 0.5),
                     ("W_o", (8, 8), 0.2), ("W_t", (8, 8), 0.2)]),
    # examples/*.nl; a non-float std is the constant initializer as written
    "ex_linear_attention": (64, [("W_q", (64, 64), 0.02), ("W_k", (64, 64), 0.02), ("W_v", (64, 64), 0.02),
                                 ("W_o", (64, 64), 0.02)]),
    "ex_deltanet": (64, [("W_q", (64, 64), 0.02), ("W_k", (64, 64), 0.02), ("W_v", (64, 64), 0.02),
                         ("conv_q", (4, 64), 0.1), ("conv_k", (4, 64), 0.1), ("conv_v", (4, 64), 0.1),
                         ("W_beta", (4, 64), 0.02), ("g_out", (16,), "ones"), ("W_o", (64, 64), 0.02)]),
    "ex_gated_deltanet": (64, [("W_q", (64, 64), 0.02), ("W_k", (64, 64), 0.02), ("W_v", (128, 64), 0.02),
                               ("conv_q", (4, 64), 0.1), ("conv_k", (4, 64), 0.1), ("conv_v", (4, 128), 0.1),
                               ("W_a", (2, 64), 0.02), ("A_log", (2,), "zeros"), ("dt_bias", (2,), "fill(-4.6)"),
                               ("W_b", (2, 64), 0.02), ("W_g", (128, 64), 0.02), ("g_norm", (64,), "ones"),
                               ("W_o", (64, 128), 0.02)]),
    "ex_titans_linear": (64, [("W_q", (64, 64), 0.02), ("W_k", (64, 64), 0.02), ("W_v", (64, 64), 0.02),
                              ("conv_q", (4, 64), 0.1), ("conv_k", (4, 64), 0.1), ("conv_v", (4, 64), 0.1),
                              ("w_lr", (1, 64), 0.02), ("w_forget", (1, 64), 0.02), ("w_mom", (1, 64), 0.02),
                              ("g_out", (64,), "ones"), ("W_gate", (64, 64), 0.02), ("W_o", (64, 64), 0.02)]),
}


# MLP states initialized from the params file (`state S : mlp[widths](...) =
# file("key")`): model -> [(key, widths, heads, bias)] as declared in the .nl;
# the params file holds "key.w<i>" ([heads?, w_{i+1}, w_i]) and "key.b<i>".
_SMALL = [8, 16, 8]
MLP_INIT = {
    "mlpmem": [("M0", _SMALL, 1, False)],
    "mlpchunk": [("M0", [8, 12, 12, 8], 1, True)],
    "tttmlp": [("W0", [8, 16, 8], 2, True)],
    "cmsseq": [("F", _SMALL, 1, False), ("D", _SMALL, 1, False), ("S", _SMALL, 1, False)],
    "cmsrate": [("D", _SMALL, 1, False), ("E", _SMALL, 1, False), ("S", _SMALL, 1, False)],
    "cmslong": [("D", _SMALL, 1, False), ("E", _SMALL, 1, False), ("S", _SMALL, 1, False)],
    "cmsind": [("F", _SMALL, 1, False), ("D", _SMALL, 1, False), ("S", _SMALL, 1, False)],
    "cmsnest": [("F", _SMALL, 1, False), ("S", _SMALL, 1, False)],
    "selfmod": [("K", _SMALL, 1, False), ("V", _SMALL, 1, False), ("L", [8, 8, 1], 1, False),
                ("A", [8, 8, 1], 1, False), ("M", _SMALL, 1, False)],
    "hope": [("K", _SMALL, 1, False), ("V", _SMALL, 1, False), ("L", [8, 8, 1], 1, False),
             ("A", [8, 8, 1], 1, False), ("M", _SMALL, 1, False), ("C1", _SMALL, 1, False),
             ("C2", _SMALL, 1, False)],
    "hopeattn": [("C1", _SMALL, 1, False), ("C2", _SMALL, 1, False)],
}


# ---- primitives -------------------------------------------------------------
def sigmoid(z):
    e = np.exp(-np.abs(z))  # stable: exact 0 / 1 at large |z|, no overflow
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def l2norm(x, eps=1e-6):
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), eps)


def split_heads(v, H):
    return v.reshape(H, -1)


def merge_heads(v):
    return v.reshape(-1)


def read(M, q):  # y = M q, per head if M is [H, d_out, d_in]
    return np.einsum("...oi,...i->...o", M, q)


def outer(a, b):
    return np.einsum("...o,...i->...oi", a, b)


def grad_l2(M, k, v):  # d/dM 1/2 ||M k - v||^2
    return outer(read(M, k) - v, k)


def silu(z):
    return z * sigmoid(z)


def softplus(z):  # log(1 + e^z), stable
    return np.logaddexp(0.0, z)


def rmsnorm(x, scale, eps=1e-6):  # over the last dim
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * scale


def causal_conv(st, name, u, W):
    """sum_{i<w} W[i] * u_{t-i}, zeros before the stream; st[name] holds u_{t-1..t-w+1}."""
    hist = st[name]
    y = W[0] * u + np.sum(W[1:] * hist, axis=0)
    st[name] = np.concatenate([u[None], hist[:-1]])
    return y


def grad_dot(M, k, v):  # d/dM -<M k, v>
    return -outer(v, k)


# ---- driver -------------------------------------------------------------------
def _run(step, init, params, x, state):
    """Run step(p, x_t, st) -> y_t over [B, T, dim] streams; st is one stream's dict."""
    p = {k: np.asarray(v, np.float64) for k, v in params.items()}
    x = np.asarray(x, np.float64)
    squeeze = x.ndim == 2
    xb = x[None] if squeeze else x
    ys, finals = [], []
    for b in range(xb.shape[0]):
        st = {k: np.array(v[b], np.float64) for k, v in state.items()} if state else init()
        ys.append(np.stack([step(p, xt, st) for xt in xb[b]]))  # needs T >= 1
        finals.append(st)
    y = np.stack(ys)
    states = {k: np.stack([f[k] for f in finals]) for k in finals[0]}
    return (y[0] if squeeze else y), states


# ---- models -------------------------------------------------------------------
def la(params, x, state=None):
    """S_t = S_{t-1} + v_t k_t^T (dot, lr 1); y_t = S_t q_t."""
    def step(p, x, st):
        q, k, v = p["W_q"] @ x, p["W_k"] @ x, p["W_v"] @ x
        st["S.S"] = st["S.S"] - 1.0 * grad_dot(st["S.S"], k, v)
        return read(st["S.S"], q)
    return _run(step, lambda: {"S.S": np.zeros((16, 16))}, params, x, state)


def deltanet(params, x, state=None, H=2):
    """Per head h: S_h <- S_h - beta_h (S_h k_h - v_h) k_h^T; y = concat_h S_h q_h."""
    def step(p, x, st):
        q = split_heads(p["W_q"] @ x, H)
        k = l2norm(split_heads(p["W_k"] @ x, H))
        v = split_heads(p["W_v"] @ x, H)
        beta = sigmoid(p["W_b"] @ x)  # [H], one gate per head
        st["S.S"] = st["S.S"] - beta[:, None, None] * grad_l2(st["S.S"], k, v)
        return merge_heads(read(st["S.S"], q))
    return _run(step, lambda: {"S.S": np.zeros((H, 8, 8))}, params, x, state)


def titans(params, x, state=None):
    """theta = 0.1 sig(w_lr.x), eta = sig(w_m.x), a = sig(w_r.x), k = l2norm(W_k x)
    S_t = eta S_{t-1} - theta (M_{t-1} k - v) k^T;  M_t = a M_{t-1} + 1.0 S_t;  y = M_t q."""
    def step(p, x, st):
        q, k, v = p["W_q"] @ x, l2norm(p["W_k"] @ x), p["W_v"] @ x
        theta = 0.1 * sigmoid(p["w_lr"] @ x)[0]
        eta = sigmoid(p["w_m"] @ x)[0]
        a = sigmoid(p["w_r"] @ x)[0]
        M, S = st["memory.M"], st["momentum.S"]
        S = eta * S - theta * grad_l2(M, k, v)  # gradient at M_{t-1}
        M = a * M + 1.0 * S
        st["momentum.S"], st["memory.M"] = S, M
        return read(M, q)
    init = lambda: {"momentum.S": np.zeros((16, 16)), "memory.M": np.zeros((16, 16))}
    return _run(step, init, params, x, state)


def cms2(params, x, state=None, slow_period=8, lr=0.01):
    """t = W_t x; fast (period 1): F <- F - lr (F x - t) x^T; h = F x;
    slow (period C): pending += lr (L_c h - t) h^T with L_c the chunk-start state;
    at the chunk's last token L <- L - pending; y = L h (sees the applied state).
    A partial chunk at the end is carried (kept in _slow.L.pending / _slow.count)."""
    def step(p, x, st):
        t = p["W_t"] @ x
        st["fast.F"] = st["fast.F"] - lr * grad_l2(st["fast.F"], x, t)
        h = read(st["fast.F"], x)
        st["_slow.L.pending"] = st["_slow.L.pending"] + lr * grad_l2(st["slow.L"], h, t)
        st["_slow.count"] = st["_slow.count"] + 1
        if st["_slow.count"] == slow_period:
            st["slow.L"] = st["slow.L"] - st["_slow.L.pending"]
            st["_slow.L.pending"] = np.zeros((16, 16))
            st["_slow.count"] = np.array(0.0)
        return read(st["slow.L"], h)
    init = lambda: {"fast.F": np.eye(16), "slow.L": np.eye(16),
                    "_slow.L.pending": np.zeros((16, 16)), "_slow.count": np.array(0.0)}
    return _run(step, init, params, x, state)


def gdn(params, x, state=None, H=2):
    """Gated DeltaNet (spec 5.4) with decay before the delta step:
    xc = causal conv of width 3; k = l2norm(silu(W_k xc)) per head; q, v = W xc;
    alpha = exp(-softplus(W_a x)), beta = sigmoid(W_b x) per head;
    S_h <- alpha S_h - beta (alpha S_h k - v) k^T;
    y = rmsnorm(concat_h S_h q_h) * g * gelu(W_g x) (gelu with erf, eps 1e-6)."""
    erf = np.vectorize(math.erf)

    def step(p, x, st):
        C = p["C"]
        xc = C[0] * x + C[1] * st["_conv.hist"][0] + C[2] * st["_conv.hist"][1]
        st["_conv.hist"] = np.stack([x, st["_conv.hist"][0]])
        q = split_heads(p["W_q"] @ xc, H)
        z = p["W_k"] @ xc
        k = l2norm(split_heads(z * sigmoid(z), H))
        v = split_heads(p["W_v"] @ xc, H)
        alpha = np.exp(-np.logaddexp(0.0, p["W_a"] @ x))
        beta = sigmoid(p["W_b"] @ x)
        S = alpha[:, None, None] * st["S.S"]  # decay first
        S = S - beta[:, None, None] * grad_l2(S, k, v)
        st["S.S"] = S
        o = merge_heads(read(S, q))
        o = o / np.sqrt(np.mean(o * o) + 1e-6) * p["g"]
        u = p["W_g"] @ x
        return o * (0.5 * u * (1.0 + erf(u / math.sqrt(2.0))))
    init = lambda: {"S.S": np.zeros((H, 8, 8)), "_conv.hist": np.zeros((2, 16))}
    return _run(step, init, params, x, state)


# ---- MLP memories -------------------------------------------------------------
SQRT2 = math.sqrt(2.0)
GELU_TANH_C = 0.7978845608028654  # sqrt(2 / pi)
_erf = np.vectorize(math.erf, otypes=[np.float64])


def gelu(z):  # exact (erf) form
    return 0.5 * z * (1.0 + _erf(z / SQRT2))


def gelu_tanh(z):
    return 0.5 * z * (1.0 + np.tanh(GELU_TANH_C * (z + 0.044715 * z ** 3)))


# activation -> (f, f')
ACTS = {
    "silu": (silu, lambda z: sigmoid(z) * (1.0 + z * (1.0 - sigmoid(z)))),
    "gelu": (gelu, lambda z: 0.5 * (1.0 + _erf(z / SQRT2)) + z * np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)),
    "gelu_tanh": (gelu_tanh, lambda z: 0.5 * (1.0 + np.tanh(GELU_TANH_C * (z + 0.044715 * z ** 3)))
                  + 0.5 * z * (1.0 - np.tanh(GELU_TANH_C * (z + 0.044715 * z ** 3)) ** 2)
                  * GELU_TANH_C * (1.0 + 3.0 * 0.044715 * z * z)),
    "sigmoid": (sigmoid, lambda z: sigmoid(z) * (1.0 - sigmoid(z))),
    "softplus": (softplus, sigmoid),
}


class Mlp:
    """mlp[w0, .., wn](act, bias, residual, norm = layer): h = u; z_i = W_i h (+ b_i),
    h = act(z_i) except after the last layer; then h = (h - mean) / sqrt(var + 1e-6)
    (norm, population variance over the last dim, no affine); out = u + h (residual).
    Weights P = {"w<i>": [heads?, w_{i+1}, w_i], "b<i>": [heads?, w_{i+1}]}, u: [heads?, w_0]."""

    def __init__(self, act, layers, bias=False, residual=False, norm=False):
        self.act, self.n, self.bias, self.residual, self.norm = act, layers, bias, residual, norm
        self.names = [f"w{i}" for i in range(layers)] + ([f"b{i}" for i in range(layers)] if bias else [])

    def forward(self, P, u):
        f = ACTS[self.act][0]
        hs, zs, h = [u], [], u  # hs[i]: the input of layer i
        for i in range(self.n):
            z = read(P[f"w{i}"], h) + (P[f"b{i}"] if self.bias else 0.0)
            zs.append(z)
            h = f(z) if i < self.n - 1 else z
            hs.append(h)
        cache = {"hs": hs, "zs": zs}
        if self.norm:
            mu = np.mean(h, axis=-1, keepdims=True)
            sig = np.sqrt(np.mean((h - mu) ** 2, axis=-1, keepdims=True) + 1e-6)
            h = (h - mu) / sig
            cache["hn"], cache["sig"] = h, sig
        return (u + h if self.residual else h), cache

    def __call__(self, P, u):
        return self.forward(P, u)[0]

    def grad(self, P, k, v, scale=0.5):
        """{name: dL/d name} of L = scale ||M(k) - v||^2 (summed over heads), by hand."""
        out, c = self.forward(P, k)
        d = 2.0 * scale * (out - v)  # dL/dout = dL/dh (the residual adds k, constant in P)
        if self.norm:  # h_n = (h - mu) / sig
            hn = c["hn"]
            d = (d - np.mean(d, axis=-1, keepdims=True) - hn * np.mean(d * hn, axis=-1, keepdims=True)) / c["sig"]
        g = {}
        for i in reversed(range(self.n)):
            if i < self.n - 1:
                d = d * ACTS[self.act][1](c["zs"][i])  # dL/dz_i
            g[f"w{i}"] = outer(d, c["hs"][i])
            if self.bias:
                g[f"b{i}"] = d
            d = np.einsum("...oi,...o->...i", P[f"w{i}"], d)  # dL/d(input of layer i)
        return g

    def get(self, st, prefix):  # the stored tensors "<prefix>.<name>"
        return {nm: st[f"{prefix}.{nm}"] for nm in self.names}

    def from_file(self, params, prefix, key):  # initial state "<prefix>.<name>" = params "key.<name>"
        return {f"{prefix}.{nm}": np.array(params[f"{key}.{nm}"], np.float64) for nm in self.names}

    def zeros(self, params, prefix, key):  # a zero state shaped like params "key.*"
        return {f"{prefix}.{nm}": np.zeros(np.shape(params[f"{key}.{nm}"])) for nm in self.names}

    def pending(self, params, level, key):  # the level's empty chunk sums and token count
        out = {f"_{level}.G.{nm}": np.zeros(np.shape(params[f"{key}.{nm}"])) for nm in self.names}
        out[f"_{level}.count"] = np.array(0.0)
        return out


def _per_head(lr, g):  # lr: a scalar, or one value per head (the leading dim of g)
    lr = np.asarray(lr, np.float64)
    return lr.reshape(lr.shape + (1,) * (g.ndim - lr.ndim))


def learn(st, level, g, lr, period, apply):
    """Pending sums G += lr g (g at the level's stored, i.e. chunk-start, weights);
    after the level's period-th token since its last apply: apply(G), then G <- 0.
    Returns True when the level applied at this token."""
    for nm, gi in g.items():
        st[f"_{level}.G.{nm}"] = st[f"_{level}.G.{nm}"] + _per_head(lr, gi) * gi
    st[f"_{level}.count"] = st[f"_{level}.count"] + 1
    if st[f"_{level}.count"] < period:
        return False
    apply({nm: st[f"_{level}.G.{nm}"] for nm in g})
    for nm in g:
        st[f"_{level}.G.{nm}"] = np.zeros_like(st[f"_{level}.G.{nm}"])
    st[f"_{level}.count"] = np.array(0.0)
    return True


def gd_apply(st, prefix, a=1.0):  # W_i <- a W_i - G_i
    def apply(G):
        for nm, Gi in G.items():
            st[f"{prefix}.{nm}"] = a * st[f"{prefix}.{nm}"] - Gi
    return apply


def momentum_apply(st, prefix, mom, a, eta):  # S_i <- eta S_i - G_i;  W_i <- a W_i + S_i
    def apply(G):
        for nm, Gi in G.items():
            st[f"{mom}.{nm}"] = eta * st[f"{mom}.{nm}"] - Gi
            st[f"{prefix}.{nm}"] = a * st[f"{prefix}.{nm}"] + st[f"{mom}.{nm}"]
    return apply


def mlpmem(params, x, state=None):
    """M(u) = u + W1 silu(W0 u); k = l2norm(W_k x), v = W_v x, theta = 0.5 sig(w_lr.x),
    a = 1 - 0.1 sig(w_r.x); W_i <- a W_i - theta dL/dW_i (L = 1/2 ||M(k) - v||^2 at the
    old weights), every token; y = M(W_q x) after the write."""
    M = Mlp("silu", 2, residual=True)

    def step(p, x, st):
        k, v = l2norm(p["W_k"] @ x), p["W_v"] @ x
        theta = 0.5 * sigmoid(p["w_lr"] @ x)[0]
        a = 1.0 - 0.1 * sigmoid(p["w_r"] @ x)[0]
        learn(st, "memory", M.grad(M.get(st, "memory.M"), k, v), theta, 1, gd_apply(st, "memory.M", a))
        return M(M.get(st, "memory.M"), p["W_q"] @ x)
    init = lambda: {**M.from_file(params, "memory.M", "M0"), **M.pending(params, "memory", "M0")}
    return _run(step, init, params, x, state)


def mlpchunk(params, x, state=None, C=4):
    """M(u) = W2 gelu_tanh(W1 gelu_tanh(W0 u + b0) + b1) + b2, L = ||M(k) - v||^2 (full);
    per token G_i += theta dL/dW_i at the chunk-start weights (theta = 0.05 sig(w_lr.x),
    k = l2norm(W_k x), v = W_v x); chunk end (last token's eta = sig(w_m.x), a = sig(w_r.x + 2)):
    S_i <- eta S_i - G_i, W_i <- a W_i + S_i; y = M(W_q x) before the write."""
    M = Mlp("gelu_tanh", 3, bias=True)

    def step(p, x, st):
        theta = 0.05 * sigmoid(p["w_lr"] @ x)[0]
        W = M.get(st, "memory.M")
        y = M(W, p["W_q"] @ x)
        g = M.grad(W, l2norm(p["W_k"] @ x), p["W_v"] @ x, scale=1.0)
        a, eta = sigmoid(p["w_r"] @ x + 2.0)[0], sigmoid(p["w_m"] @ x)[0]
        learn(st, "memory", g, theta, C, momentum_apply(st, "memory.M", "memory.S", a, eta))
        return y
    init = lambda: {**M.from_file(params, "memory.M", "M0"), **M.zeros(params, "memory.S", "M0"),
                    **M.pending(params, "memory", "M0")}
    return _run(step, init, params, x, state)


def tttmlp(params, x, state=None, H=2, C=4, lr_scale=0.5):
    """TTT-MLP per head: f(u) = u + LN(W1 gelu_tanh(W0 u + b0) + b1); q, k, v = split(W x);
    lr = lr_scale sig(W_lr x) (one per head, lr_scale 0.5); per token G_i += lr_h dL/dW_i (L = 1/2 ||f(k) - v||^2
    per head) at the mini-batch-start weights; mini-batch end W_i <- W_i - G_i;
    y = merge(f(q)) at TTT's in-mini-batch weights W_i - G_i (this token's step included;
    G = 0 right after the mini-batch is applied)."""
    M = Mlp("gelu_tanh", 2, bias=True, residual=True, norm=True)

    def step(p, x, st):
        q, k, v = (split_heads(p[n] @ x, H) for n in ("W_q", "W_k", "W_v"))
        lr = lr_scale * sigmoid(p["W_lr"] @ x)  # [H]
        learn(st, "ttt", M.grad(M.get(st, "ttt.W"), k, v), lr, C, gd_apply(st, "ttt.W"))
        W = {nm: w - st[f"_ttt.G.{nm}"] for nm, w in M.get(st, "ttt.W").items()}
        return merge_heads(M(W, q))
    init = lambda: {**M.from_file(params, "ttt.W", "W0"), **M.pending(params, "ttt", "W0")}
    return _run(step, init, params, x, state)


def cms_chain(M, st, h, t, lr, levels):
    """A sequential CMS over `levels` [(name, period)]: each level learns
    1/2 ||M(h) - t||^2 (gradient at its stored weights, plain gd at its chunk's
    end), is read after its write, and its output keys the next level."""
    for name, period in levels:
        learn(st, name, M.grad(M.get(st, f"{name}.W"), h, t), lr, period, gd_apply(st, f"{name}.W"))
        h = M(M.get(st, f"{name}.W"), h)
    return h


def cms_init(M, params, levels):
    """The initial state of CMS levels [(name, params key)]: weights from the
    params file, empty pending chunks."""
    return {k: v for name, key in levels
            for k, v in {**M.from_file(params, f"{name}.W", key), **M.pending(params, name, key)}.items()}


def cms_sequential(params, x, state, lr, levels):
    """A sequential CMS of residual GELU MLP levels [(name, period, params key)]:
    t = W_t x; each level learns 1/2 ||M(key) - t||^2 (cms_chain) and its read
    after the write keys the next level."""
    M = Mlp("gelu", 2, residual=True)

    def step(p, x, st):
        return cms_chain(M, st, x, p["W_t"] @ x, lr, [(name, period) for name, period, _ in levels])
    init = lambda: cms_init(M, params, [(name, key) for name, _, key in levels])
    return _run(step, init, params, x, state)


def cmsseq(params, x, state=None, lr=0.05):
    """Sequential CMS: M(u) = u + W1 gelu(W0 u) at periods 1 (fast), 4 (mid), 16 (slow);
    t = W_t x; each level: G += lr dL/dW (L = 1/2 ||M(key) - t||^2 at the chunk start),
    W <- W - G at the chunk end; h1 = fast(x), h2 = mid(h1), y = slow(h2), reads after
    the write, each level keyed by the previous level's output."""
    return cms_sequential(params, x, state, lr, [("fast", 1, "F"), ("mid", 4, "D"), ("slow", 16, "S")])


def cmsrate(params, x, state=None, lr=0.01):
    """Multi-rate sequential CMS: cmsseq's levels without the per-token one and
    without transfers, at periods 4 (mid), 8 (slower) and 16 (slow)."""
    return cms_sequential(params, x, state, lr, [("mid", 4, "D"), ("slower", 8, "E"), ("slow", 16, "S")])


def cmslong(params, x, state=None, lr=0.01):
    """cmsrate at periods 4, 16 and 128 (longer than the compiled code's ring of
    64 deferred tokens)."""
    return cms_sequential(params, x, state, lr, [("mid", 4, "D"), ("slower", 16, "E"), ("slow", 128, "S")])


def cmsind(params, x, state=None, lr=0.01):
    """Independent CMS: M(u) = u + W1 silu(W0 u) at periods 1, 4, 16, all keyed by x with
    value t = W_t x (gradients at the chunk start, W <- W - G at the chunk end);
    y = a0 fast(x) + a1 mid(x) + a2 slow(x), all read before this token's write."""
    M = Mlp("silu", 2, residual=True)
    levels = [("fast", 1, "F", "a0"), ("mid", 4, "D", "a1"), ("slow", 16, "S", "a2")]

    def step(p, x, st):
        t = p["W_t"] @ x
        y = sum(M(M.get(st, f"{name}.W"), x) * p[a][0] for name, _, _, a in levels)
        for name, period, _, _ in levels:
            learn(st, name, M.grad(M.get(st, f"{name}.W"), x, t), lr, period, gd_apply(st, f"{name}.W"))
        return y
    init = lambda: {k: v for name, _, key, _ in levels
                    for k, v in {**M.from_file(params, f"{name}.W", key), **M.pending(params, name, key)}.items()}
    return _run(step, init, params, x, state)


def cmsnest(params, x, state=None, lr=0.01):
    """Nested CMS: M(u) = u + W1 silu(W0 u); fast (period 4) and slow (period 16) both keyed by
    x with value t = W_t x (gradients at the chunk start, W <- W - G at the chunk end);
    y = fast(x) after the write; at a token where slow applies, after everything else
    (y included): fast.W <- slow.W and fast's pending chunk is emptied."""
    M = Mlp("silu", 2, residual=True)

    def step(p, x, st):
        t = p["W_t"] @ x
        learn(st, "fast", M.grad(M.get(st, "fast.W"), x, t), lr, 4, gd_apply(st, "fast.W"))
        fired = learn(st, "slow", M.grad(M.get(st, "slow.W"), x, t), lr, 16, gd_apply(st, "slow.W"))
        y = M(M.get(st, "fast.W"), x)
        if fired:  # transfer init slow -> fast reset
            for nm in M.names:
                st[f"fast.W.{nm}"] = st[f"slow.W.{nm}"].copy()
                st[f"_fast.G.{nm}"] = np.zeros_like(st[f"_fast.G.{nm}"])
            st["_fast.count"] = np.array(0.0)
        return y
    init = lambda: {**M.from_file(params, "fast.W", "F"), **M.pending(params, "fast", "F"),
                    **M.from_file(params, "slow.W", "S"), **M.pending(params, "slow", "S")}
    return _run(step, init, params, x, state)


_SELFMOD = [("M_k", "K", 4), ("M_v", "V", 4), ("M_lr", "L", 4), ("M_a", "A", 4), ("M_memory", "M", 2)]


def _selfmod_part(st, x, q, momentum=None, lr_scale=0.2):
    """The self-modifying Titans of selfmod/hope; every read sees this token's old state.
    k = l2norm(M_k(x)), v = M_v(x), lr = lr_scale softplus(M_lr(x)) (lr_scale 0.05 in selfmod, 0.02 in hope),
    a = sigmoid(M_a(x) + 2) (the bias keeps the memories alive);
    o = M_memory(q); each memory: L = 1/2 ||M(k) - M(v)||^2, G0 += lr (dL/dW0 + (W0 k) k^T),
    G1 += lr dL/dW1; chunk end W_i <- a W_i - G_i (M_memory with momentum: S_i <- m S_i - G_i,
    W_i <- a W_i + S_i). Returns o."""
    R, P = Mlp("silu", 2, residual=True), Mlp("silu", 2)
    spec = {"M_k": R, "M_v": R, "M_lr": P, "M_a": P, "M_memory": R}
    W = {name: spec[name].get(st, f"{name}.W") for name, _, _ in _SELFMOD}  # old state
    k = l2norm(R(W["M_k"], x))
    v = R(W["M_v"], x)
    lr = (softplus(P(W["M_lr"], x)) * lr_scale)[0]
    a = sigmoid(P(W["M_a"], x) + 2.0)[0]
    o = R(W["M_memory"], q)
    for name, _, period in _SELFMOD:
        M = spec[name]
        g = M.grad(W[name], k, M(W[name], v))
        g["w0"] = g["w0"] + outer(read(W[name]["w0"], k), k)  # precond = delta, first layer
        if name == "M_memory" and momentum is not None:
            apply = momentum_apply(st, f"{name}.W", f"{name}.S", a, momentum)
        else:
            apply = gd_apply(st, f"{name}.W", a)
        learn(st, name, g, lr, period, apply)
    return o


def _selfmod_init(params):
    R, P = Mlp("silu", 2, residual=True), Mlp("silu", 2)
    out = {}
    for name, key, _ in _SELFMOD:
        M = P if name in ("M_lr", "M_a") else R
        out.update(M.from_file(params, f"{name}.W", key))
        out.update(M.pending(params, name, key))
    return out


def selfmod(params, x, state=None, lr_scale=0.05):
    """Self-modifying Titans (see _selfmod_part) with q = W_q x; y = M_memory(q) before the write;
    periods: M_k, M_v, M_lr, M_a 4, M_memory 2; retain a on every memory, plain gd."""
    def step(p, x, st):
        return _selfmod_part(st, x, p["W_q"] @ x, lr_scale=lr_scale)
    return _run(step, lambda: _selfmod_init(params), params, x, state)


def hope(params, x, state=None, lr=0.01, momentum=0.9, lr_scale=0.02):
    """Hope: o = self-modifying Titans (see _selfmod_part) with q = l2norm(W_q x) and a fused
    momentum (decay `momentum` = 0.9) on M_memory; then a sequential CMS C(u) = u + W1 gelu(W0 u):
    t = W_t x, C1 (period 4) keyed by o, h = C1(o), C2 (period 16) keyed by h, y = C2(h),
    reads after the write, gradients at the chunk start, lr (0.01) per token, plain gd;
    lr_scale 0.05 in the self-modifying part."""
    C = Mlp("gelu", 2, residual=True)

    def step(p, x, st):
        o = _selfmod_part(st, x, l2norm(p["W_q"] @ x), momentum, lr_scale)
        return cms_chain(C, st, o, p["W_t"] @ x, lr, [("C1", 4), ("C2", 16)])

    def init():
        R = Mlp("silu", 2, residual=True)
        return {**_selfmod_init(params), **R.zeros(params, "M_memory.S", "M"),
                **cms_init(C, params, [("C1", "C1"), ("C2", "C2")])}
    return _run(step, init, params, x, state)


def hopeattn(params, x, state=None, lr=0.05, H=2, window=8):
    """Hope-Attention: sliding-window softmax attention (2 heads of 4, window 8, the token
    itself included): the cache (a ring, slot = token index mod window) takes (k, v) first,
    then o = W_o merge_h(sum_i softmax_i(q_h . k_hi) v_hi), q = split(W_q x) * 0.5;
    then a sequential CMS C(u) = u + W1 gelu(W0 u): t = W_t x, C1 (period 2) keyed by o,
    h = C1(o), C2 (period 8) keyed by h, y = C2(h), reads after the write, gradients at the
    chunk start, lr 0.05 per token, plain gd."""
    C = Mlp("gelu", 2, residual=True)

    def step(p, x, st):
        slot = int(st["attention.cache.pos"][0])
        keys, values = st["attention.cache.keys"].copy(), st["attention.cache.values"].copy()
        keys[:, slot], values[:, slot] = split_heads(p["W_k"] @ x, H), split_heads(p["W_v"] @ x, H)
        fill = min(int(st["attention.cache.fill"][0]) + 1, window)
        st["attention.cache.keys"], st["attention.cache.values"] = keys, values
        st["attention.cache.pos"] = np.array([float((slot + 1) % window)])
        st["attention.cache.fill"] = np.array([float(fill)])
        q = split_heads(p["W_q"] @ x, H) * 0.5
        att = np.zeros((H, values.shape[-1]))
        for h in range(H):
            sc = keys[h, :fill] @ q[h]  # the filled slots are 0 .. fill-1
            w = np.exp(sc - sc.max())
            att[h] = (w / w.sum()) @ values[h, :fill]
        o = p["W_o"] @ merge_heads(att)
        return cms_chain(C, st, o, p["W_t"] @ x, lr, [("C1", 2), ("C2", 8)])

    def init():
        return {"attention.cache.keys": np.zeros((H, window, 4)), "attention.cache.values": np.zeros((H, window, 4)),
                "attention.cache.pos": np.zeros(1), "attention.cache.fill": np.zeros(1),
                **cms_init(C, params, [("C1", "C1"), ("C2", "C2")])}
    return _run(step, init, params, x, state)


# ---- examples/*.nl -----------------------------------------------------------
def ex_linear_attention(params, x, state=None, lr=1.0):
    """examples/linear-attention.nl: q, k, v = W x; S_t = S_{t-1} + lr v_t k_t^T (dot);
    y_t = W_o S_t q_t (read after write)."""
    def step(p, x, st):
        q, k, v = p["W_q"] @ x, p["W_k"] @ x, p["W_v"] @ x
        st["S.S"] = st["S.S"] - lr * grad_dot(st["S.S"], k, v)
        return p["W_o"] @ read(st["S.S"], q)
    return _run(step, lambda: {"S.S": np.zeros((64, 64))}, params, x, state)


def ex_deltanet(params, x, state=None, H=4, scale=0.25):
    """examples/deltanet.nl: q = l2norm(split(silu(conv(W_q x, conv_q)))) * scale,
    k = l2norm(split(silu(conv(W_k x, conv_k)))), v = split(silu(conv(W_v x, conv_v)));
    beta = sigmoid(W_beta x) per head; S_h <- S_h - beta_h (S_h k_h - v_h) k_h^T (l2 half);
    o_h = rmsnorm(S_h q_h) * g_out; y = W_o concat_h o_h."""
    def step(p, x, st):
        q = l2norm(split_heads(silu(causal_conv(st, "_conv_q", p["W_q"] @ x, p["conv_q"])), H)) * scale
        k = l2norm(split_heads(silu(causal_conv(st, "_conv_k", p["W_k"] @ x, p["conv_k"])), H))
        v = split_heads(silu(causal_conv(st, "_conv_v", p["W_v"] @ x, p["conv_v"])), H)
        beta = sigmoid(p["W_beta"] @ x)  # [H]
        st["S.S"] = st["S.S"] - beta[:, None, None] * grad_l2(st["S.S"], k, v)
        o = rmsnorm(read(st["S.S"], q), p["g_out"])
        return p["W_o"] @ merge_heads(o)
    init = lambda: {"S.S": np.zeros((H, 16, 16)), "_conv_q": np.zeros((3, 64)),
                    "_conv_k": np.zeros((3, 64)), "_conv_v": np.zeros((3, 64))}
    return _run(step, init, params, x, state)


def ex_gated_deltanet(params, x, state=None, H=2, scale=0.1767767):
    """examples/gated-deltanet.nl: q, k (d_k 32), v (d_v 64) as in ex_deltanet;
    alpha = exp(-(exp(A_log) softplus(W_a x + dt_bias))), beta = sigmoid(W_b x) per head;
    S'_h = alpha_h S_h; S_h <- S'_h - beta_h (S'_h k_h - v_h) k_h^T (before_grad);
    y = W_o (concat_h rmsnorm(S_h q_h) * g_norm) * silu(W_g x)."""
    def step(p, x, st):
        q = l2norm(split_heads(silu(causal_conv(st, "_conv_q", p["W_q"] @ x, p["conv_q"])), H)) * scale
        k = l2norm(split_heads(silu(causal_conv(st, "_conv_k", p["W_k"] @ x, p["conv_k"])), H))
        v = split_heads(silu(causal_conv(st, "_conv_v", p["W_v"] @ x, p["conv_v"])), H)
        alpha = np.exp(-(np.exp(p["A_log"]) * softplus(p["W_a"] @ x + p["dt_bias"])))
        beta = sigmoid(p["W_b"] @ x)
        S = alpha[:, None, None] * st["S.S"]  # decay first
        st["S.S"] = S - beta[:, None, None] * grad_l2(S, k, v)
        o = rmsnorm(read(st["S.S"], q), p["g_norm"])
        return p["W_o"] @ (merge_heads(o) * silu(p["W_g"] @ x))
    init = lambda: {"S.S": np.zeros((H, 64, 32)), "_conv_q": np.zeros((3, 64)),
                    "_conv_k": np.zeros((3, 64)), "_conv_v": np.zeros((3, 128))}
    return _run(step, init, params, x, state)


def ex_titans_linear(params, x, state=None, max_lr=0.1, forget_bias=-4.0):
    """examples/titans-linear.nl: q, k = l2norm(silu(conv(W x))), v = silu(conv(W_v x));
    theta = max_lr sigmoid(w_lr.x), alpha = sigmoid(w_forget.x + forget_bias), eta = sigmoid(w_mom.x);
    S_t = eta S_{t-1} - theta 2 (M_{t-1} k - v) k^T (l2 full);  M_t = (1 - alpha) M_{t-1} + 1.0 S_t;
    y = W_o (rmsnorm(M_t q) * g_out * sigmoid(W_gate x))."""
    def step(p, x, st):
        q = l2norm(silu(causal_conv(st, "_conv_q", p["W_q"] @ x, p["conv_q"])))
        k = l2norm(silu(causal_conv(st, "_conv_k", p["W_k"] @ x, p["conv_k"])))
        v = silu(causal_conv(st, "_conv_v", p["W_v"] @ x, p["conv_v"]))
        theta = (sigmoid(p["w_lr"] @ x) * max_lr)[0]
        alpha = sigmoid(p["w_forget"] @ x + forget_bias)[0]
        eta = sigmoid(p["w_mom"] @ x)[0]
        M, S = st["memory.M"], st["momentum.S"]
        S = eta * S - theta * 2.0 * grad_l2(M, k, v)  # gradient at M_{t-1}
        M = (1.0 - alpha) * M + 1.0 * S
        st["momentum.S"], st["memory.M"] = S, M
        o = read(M, q)
        return p["W_o"] @ (rmsnorm(o, p["g_out"]) * sigmoid(p["W_gate"] @ x))
    init = lambda: {"momentum.S": np.zeros((64, 64)), "memory.M": np.zeros((64, 64)),
                    "_conv_q": np.zeros((3, 64)), "_conv_k": np.zeros((3, 64)), "_conv_v": np.zeros((3, 64))}
    return _run(step, init, params, x, state)


MODELS = {"la": la, "deltanet": deltanet, "titans": titans, "cms2": cms2, "gdn": gdn,
          "ex_linear_attention": ex_linear_attention, "ex_deltanet": ex_deltanet,
          "ex_gated_deltanet": ex_gated_deltanet, "ex_titans_linear": ex_titans_linear,
          "mlpmem": mlpmem, "mlpchunk": mlpchunk, "tttmlp": tttmlp, "cmsseq": cmsseq, "cmsrate": cmsrate, "cmslong": cmslong,
          "cmsind": cmsind,
          "cmsnest": cmsnest, "selfmod": selfmod, "hope": hope, "hopeattn": hopeattn}


def check_params(model, params):
    """Raise if params do not have exactly the declared names and shapes."""
    want = {n: s for n, s, _ in SPECS[model][1]}
    for key, widths, heads, bias in MLP_INIT.get(model, []):
        lead = (heads,) if heads != 1 else ()
        for i in range(len(widths) - 1):
            want[f"{key}.w{i}"] = lead + (widths[i + 1], widths[i])
            if bias:
                want[f"{key}.b{i}"] = lead + (widths[i + 1],)
    got = {n: tuple(np.shape(v)) for n, v in params.items()}
    if got != want:
        raise ValueError(f"{model}: params {got} do not match the declared {want}")
