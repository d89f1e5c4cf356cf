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


def ex_titans_linear(params, x, state=None, max_lr=0.1):
    """examples/titans-linear.nl: q, k = l2norm(silu(conv(W x))), v = silu(conv(W_v x));
    theta = max_lr sigmoid(w_lr.x), alpha = sigmoid(w_forget.x), eta = sigmoid(w_mom.x);
    S_t = eta S_{t-1} - theta 2 (M_{t-1} k - v) k^T (l2 full);  M_t = (1 - alpha) M_{t-1} + 1.0 S_t;
    y = W_o (rmsnorm(M_t q) * g_out * sigmoid(W_gate x))."""
    def step(p, x, st):
        q = l2norm(silu(causal_conv(st, "_conv_q", p["W_q"] @ x, p["conv_q"])))
        k = l2norm(silu(causal_conv(st, "_conv_k", p["W_k"] @ x, p["conv_k"])))
        v = silu(causal_conv(st, "_conv_v", p["W_v"] @ x, p["conv_v"]))
        theta = (sigmoid(p["w_lr"] @ x) * max_lr)[0]
        alpha = sigmoid(p["w_forget"] @ x)[0]
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
          "ex_gated_deltanet": ex_gated_deltanet, "ex_titans_linear": ex_titans_linear}


def check_params(model, params):
    """Raise if params do not have exactly the declared names and shapes."""
    want = {n: s for n, s, _ in SPECS[model][1]}
    got = {n: tuple(np.shape(v)) for n, v in params.items()}
    if got != want:
        raise ValueError(f"{model}: params {got} do not match the declared {want}")
