#!/usr/bin/python3
"""Float64 references for small runtime tests, written from the equations.

  small.py conv PARAMS X Y            causal depthwise conv, width = C.shape[0]
  small.py sgdm PARAMS X STATE        momentum: m = b m - lr g; W = W + m
  small.py dmom PARAMS X STATE        delta momentum (NL Eqs 48-49): m = m (0.9 I - 0.05 g g^T)
                                      - 0.05 g; W = W + m
  small.py adam PARAMS X STATE        m1 = b1 m1 + (1-b1) g; m2 = b2 m2 + (1-b2) g^2;
                                      W = W - lr m1 / (sqrt(m2) + eps)
  small.py dgd-STEP PARAMS X Y        delta gradient descent, lr 0.5, STEP in
                                      sherman_morrison (lr' = lr/(1+lr|k|^2)),
                                      unit_norm (lr' = lr/(1+lr)), undamped
                                      (M (I - k k^T) - lr (M k - v) k^T; k = l2norm(W_k x))
  small.py lp-P PARAMS X Y            Lp bias (Moneta), retention decay: e = M k - v,
                                      M = 0.95 M - 0.1 p sign(e)|e|^(p-1) k^T, k = l2norm(W_k x)
  small.py huber-D PARAMS X Y         Huber (Yaad), delta D: the l2 gradient e k^T when
                                      ||e|| <= D, else D sign(e) k^T; prints whether both
                                      branches were taken
  small.py yaad PARAMS X Y            huber-3.0 with delta_t = 3 * 2 sigmoid(w_d x_t)
  (lp-P:C, huber-D:C: a level of period C: gradients at the chunk-start state, summed,
   applied at the chunk's last token)
  small.py oja[:C] PARAMS X Y         OjaNet (Inputs/oja.nl): k, v = l2norm(W_k x), l2norm(W_v x);
                                      every gradient 0.5 v (M^T v - k)^T at the chunk-start M,
                                      summed, applied as M = 0.95 M - sum on the chunk's last
                                      token (C = 1: every token); y_t = M_t (W_q x)
  small.py precond PARAMS X Y         precond = delta (Hope Eq 88) on the l2 objective:
                                      M = M (0.95 I - 0.1 k k^T) - 0.1 (M k - v) k^T
  small.py omega-C PARAMS X Y         Omega rule, window C: M = 0.95 M - sum over the last C
                                      tokens i of lr_i (M k_i - v_i) k_i^T (at the old M),
                                      lr_i = 0.2 sigmoid(w_lr x_i), k = l2norm(W_k x)
  small.py muon PARAMS X Y            S = 0.9 S - 0.1 (M k - v) k^T; M = M + 0.1 NS5(S), NS5
                                      the quintic Newton-Schulz (3.4445, -4.7750, 2.0315)
                                      on S / (|S|_F + 1e-7), transposed if rows > cols
  small.py m3 PARAMS X STATE          M3, Algorithm 1 (see models/m3.nl): NS3 with the quintic
                                      coefficients; the slow momentum's O2 is used from the
                                      token after its chunk ends
  small.py ttt-linear PARAMS X Y      TTT-Linear (no layer norm), mini-batch 4: every gradient
                                      0.1 (M k - v) k^T at the mini-batch-start M, summed in G;
                                      y_t = (M - G) q_t (G holds this token's step; the
                                      mini-batch's last token: G applied, M = M - G, G = 0)
  small.py titans-MODE-C PARAMS X Y   Titans with momentum and decay on a level of period C
                                      (Inputs/titans-minibatch.nl), every gradient
                                      g_t = (M0 k - v) k^T at the chunk-start M0, k = l2norm(W_k x):
                                      MODE paper (Titans 3.2): S = 0.9 S - 0.1 g_t,
                                      M = 0.95 M + S every token; MODE end (titans-pytorch):
                                      S = 0.9 S - 0.1 sum_t g_t, M = 0.95 M + S on the
                                      chunk's last token; y_t = M_t (W_q x)
  small.py swa PARAMS X Y             sliding-window attention, window 5, 2 heads:
                                      y_h = sum_i softmax_i(q_h . k_hi) v_hi over the
                                      last 5 tokens, the current one included
Writes the output (.npy) or the final state (safetensors, F64, leading [1]).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nlio  # noqa: E402


def matrix_memory(p, x, step, unit_keys=True):
    """An 8x8 matrix memory read after its write: k = W_k x (l2-normalized
    when unit_keys), v = W_v x, M = step(M, k, v, t), y_t = M (W_q x)."""
    M = np.zeros((8, 8))
    y = np.zeros_like(x)
    for t in range(x.shape[0]):
        k, v, q = p["W_k"] @ x[t], p["W_v"] @ x[t], p["W_q"] @ x[t]
        if unit_keys:
            k = k / max(np.linalg.norm(k), 1e-6)
        M = step(M, k, v, t)
        y[t] = M @ q
    return y


def main():
    kind, params, x, out = sys.argv[1:5]
    p = {k: v.astype(np.float64) for k, v in nlio.load_safetensors(params).items()}
    x = nlio.load_npy(x).astype(np.float64)
    if kind == "conv":
        C = p["C"]
        y = np.zeros_like(x)
        for t in range(x.shape[0]):
            for i in range(C.shape[0]):
                if t - i >= 0:
                    y[t] += C[i] * x[t - i]
        nlio.save_npy(out, y)
        return
    if kind.startswith("dgd-"):
        step = kind[4:]

        def dgd(M, k, v, t):
            if step == "undamped":
                return M - np.outer(M @ k, k) - 0.5 * np.outer(M @ k - v, k)
            lr = 0.5 / (1 + 0.5 * (k @ k)) if step == "sherman_morrison" else 0.5 / 1.5
            return M - lr * np.outer(M @ k - v, k)
        nlio.save_npy(out, matrix_memory(p, x, dgd, unit_keys=step == "undamped"))
        return
    if kind.startswith("omega-"):
        c = int(kind[6:])
        ring = []

        def omega(M, k, v, t):
            nonlocal ring
            lr = 0.2 / (1 + np.exp(-(p["w_lr"] @ x[t])[0]))
            ring = (ring + [(k, v, lr)])[-c:]
            return 0.95 * M - sum(l * np.outer(M @ ki - vi, ki) for ki, vi, l in ring)
        nlio.save_npy(out, matrix_memory(p, x, omega))
        return
    if kind == "oja" or kind.startswith("oja:"):
        period = int(kind.partition(":")[2] or 1)
        M, acc = np.zeros((8, 8)), np.zeros((8, 8))
        y = np.zeros_like(x)
        for t in range(x.shape[0]):
            k, v, q = p["W_k"] @ x[t], p["W_v"] @ x[t], p["W_q"] @ x[t]
            k, v = k / max(np.linalg.norm(k), 1e-6), v / max(np.linalg.norm(v), 1e-6)
            acc += 0.5 * np.outer(v, M.T @ v - k)
            if (t + 1) % period == 0:
                M, acc = 0.95 * M - acc, np.zeros((8, 8))
            y[t] = M @ q
        nlio.save_npy(out, y)
        return
    if kind == "precond":
        def precond(M, k, v, t):
            return M @ (0.95 * np.eye(8) - 0.1 * np.outer(k, k)) - 0.1 * np.outer(M @ k - v, k)
        nlio.save_npy(out, matrix_memory(p, x, precond))
        return
    if kind == "yaad" or kind.startswith("lp-") or kind.startswith("huber-"):
        # KIND[:C]: a level of period C takes every token's gradient at the
        # chunk-start state and applies the chunk's sum at its last token.
        kind, _, period = kind.partition(":")
        period = int(period or 1)
        acc = np.zeros((8, 8))
        inside = 0

        def robust(M, k, v, t):
            nonlocal acc, inside
            e = M @ k - v
            if kind.startswith("lp-"):
                pw = float(kind[3:])
                g = pw * np.sign(e) * np.abs(e) ** (pw - 1)
            else:
                delta = (3.0 * 2.0 / (1 + np.exp(-(p["w_d"] @ x[t])[0])) if kind == "yaad"
                         else float(kind[6:]))
                small = np.linalg.norm(e) <= delta
                inside += small
                g = e if small else delta * np.sign(e)
            acc = acc + 0.1 * np.outer(g, k)
            if (t + 1) % period:
                return M
            M, acc = 0.95 * M - acc, np.zeros((8, 8))
            return M
        y = matrix_memory(p, x, robust)
        if kind == "yaad":
            print(f"yaad: {inside} of {x.shape[0]} tokens inside the ball")
        elif kind.startswith("huber-"):
            both = 0 < inside < x.shape[0]
            print(f"huber: {inside} of {x.shape[0]} tokens inside the ball; both branches: {'yes' if both else 'no'}")
        nlio.save_npy(out, y)
        return
    if kind == "m3":
        def ns(G, steps=3):
            X = G / (np.linalg.norm(G) + 1e-7)
            t = X.shape[0] > X.shape[1]
            if t:
                X = X.T
            for _ in range(steps):
                A = X @ X.T
                X = 3.4445 * X + (-4.7750 * A + 2.0315 * A @ A) @ X
            return X.T if t else X
        W = p["W"].copy()
        M1, V, M2, O2, pend = (np.zeros((8, 6)) for _ in range(5))
        for i, gt in enumerate(x):
            g = gt.reshape(8, 6)
            M1 = M1 + 0.9 * g
            V = V + 0.999 * g * g
            pend = pend + g
            W = W - 0.02 * (ns(M1) + 1.0 * O2) / (np.sqrt(V) + 1e-8)
            if (i + 1) % 4 == 0:
                M2 = M2 + 0.9 * pend
                pend = np.zeros((8, 6))
                O2 = ns(M2)
        nlio.save_safetensors(out, {"W.W": W[None], "fast.M1": M1[None],
                                    "second.V": V[None], "slow.M2": M2[None]})
        return
    if kind == "muon":
        def ns5(G):
            X = G / (np.linalg.norm(G) + 1e-7)
            t = X.shape[0] > X.shape[1]
            if t:
                X = X.T
            for _ in range(5):
                A = X @ X.T
                X = 3.4445 * X + (-4.7750 * A + 2.0315 * A @ A) @ X
            return X.T if t else X
        M, S = np.zeros((8, 6)), np.zeros((8, 6))
        y = np.zeros((x.shape[0], 8))
        for t in range(x.shape[0]):
            k, v, q = p["W_k"] @ x[t], p["W_v"] @ x[t], p["W_q"] @ x[t]
            S = 0.9 * S - 0.1 * np.outer(M @ k - v, k)
            M = M + 0.1 * ns5(S)
            y[t] = M @ q
        nlio.save_npy(out, y)
        return
    if kind.startswith("titans-"):
        mode, C = kind.split("-")[1], int(kind.split("-")[2])
        M, S, G = np.zeros((8, 8)), np.zeros((8, 8)), np.zeros((8, 8))
        M0 = M.copy()
        y = np.zeros_like(x)
        for t in range(x.shape[0]):
            k, v, q = p["W_k"] @ x[t], p["W_v"] @ x[t], p["W_q"] @ x[t]
            k = k / max(np.linalg.norm(k), 1e-6)
            g = np.outer(M0 @ k - v, k)
            if mode == "paper":
                S = 0.9 * S - 0.1 * g
                M = 0.95 * M + S
            else:
                G = G + 0.1 * g
            if (t + 1) % C == 0:
                if mode != "paper":
                    S = 0.9 * S - G
                    M = 0.95 * M + S
                    G = np.zeros((8, 8))
                M0 = M.copy()
            y[t] = M @ q
        nlio.save_npy(out, y)
        return
    if kind == "ttt-linear":
        M, G = np.zeros((8, 8)), np.zeros((8, 8))
        y = np.zeros_like(x)
        for t in range(x.shape[0]):
            k, v, q = p["W_k"] @ x[t], p["W_v"] @ x[t], p["W_q"] @ x[t]
            k = k / max(np.linalg.norm(k), 1e-6)
            G = G + 0.1 * np.outer(M @ k - v, k)
            if (t + 1) % 4 == 0:
                M, G = M - G, np.zeros((8, 8))
            y[t] = (M - G) @ q
        nlio.save_npy(out, y)
        return
    if kind == "swa":
        y = np.zeros_like(x)
        for t in range(x.shape[0]):
            q = (p["W_q"] @ x[t]).reshape(2, 4)
            lo = max(0, t - 4)
            ks = np.stack([(p["W_k"] @ x[s]).reshape(2, 4) for s in range(lo, t + 1)])
            vs = np.stack([(p["W_v"] @ x[s]).reshape(2, 4) for s in range(lo, t + 1)])
            for h in range(2):
                sc = ks[:, h] @ q[h]
                w = np.exp(sc - sc.max())
                y[t, 4 * h:4 * h + 4] = (w / w.sum()) @ vs[:, h]
        nlio.save_npy(out, y)
        return
    # The optimizer examples start their weights from the parameter W0; the
    # test models read them from a params file's W.
    W = (p["W0"] if "W0" in p else p["W"]).copy()
    if kind == "sgdm":
        m = np.zeros_like(W)
        for g in x:
            m = 0.9 * m - 0.01 * g
            W = W + m
        nlio.save_safetensors(out, {"W.W": W[None], "m.m": m[None]})
    elif kind == "dmom":
        m = np.zeros_like(W)
        for g in x:
            m = 0.9 * m - 0.05 * (m @ g) * g - 0.05 * g
            W = W + m
        nlio.save_safetensors(out, {"W.W": W[None], "m.m": m[None]})
    elif kind == "adam":
        m1, m2 = np.zeros_like(W), np.zeros_like(W)
        for g in x:
            m1 = 0.9 * m1 + (1 - 0.9) * g
            m2 = 0.999 * m2 + (1 - 0.999) * g * g
            W = W - 0.001 * m1 / (np.sqrt(m2) + 1e-8)
        nlio.save_safetensors(out, {"W.W": W[None], "m1.m": m1[None], "m2.v": m2[None]})


if __name__ == "__main__":
    main()
