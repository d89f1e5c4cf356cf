#!/usr/bin/python3
"""Float64 reference of test/Runtime/Inputs/chunk-heads.nl, written from the
equations, token by token (the per-token semantics the chunk form must match).

  chunk_ref.py READ RETENTION PARAMS X Y STATE

READ is chunk_prefix or before_write, RETENTION none, decay or momentum (decay
and a fused momentum buffer, Inputs/chunk-momentum.nl). Per token t and
head h (2 heads of width 8, period 8, gradients at the chunk start M0):
  k = l2norm(W_k x)_h, v = (W_v x)_h, q = (W_q x)_h,
  lr = 0.5 sigmoid(W_lr x)_h, retain = sigmoid(W_r x)_h (decay only)
  acc += lr (M0 k - v) k^T
  y_t = (M0 - acc) q     (chunk_prefix: this token's step included)
  y_t = M0 q             (before_write)
  every 8th token: M0 = retain_t M0 - acc (retain_t: the chunk's last token's
  gate; 1 without retention), acc = 0; with momentum, eta = sigmoid(W_m x)_h
  and S = eta_t S - acc, M0 = retain_t M0 + S instead.
A partial chunk at the end stays pending (tail carry). Writes y ([T, 16],
.npy) and the final state (safetensors, F64): M.M = M0 and M.__acc = acc
(and M.S with momentum), each with a leading stream dimension [1].
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nlio  # noqa: E402

H, D, C = 2, 8, 8


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def run(read, retention, p, x):
    M0 = np.zeros((H, D, D))
    S = np.zeros((H, D, D))
    acc = np.zeros((H, D, D))
    y = np.zeros((x.shape[0], H * D))
    for t in range(x.shape[0]):
        k = (p["W_k"] @ x[t]).reshape(H, D)
        k = k / np.maximum(np.linalg.norm(k, axis=1, keepdims=True), 1e-6)
        v = (p["W_v"] @ x[t]).reshape(H, D)
        q = (p["W_q"] @ x[t]).reshape(H, D)
        lr = 0.5 * sigmoid(p["W_lr"] @ x[t])
        retain = sigmoid(p["W_r"] @ x[t]) if retention != "none" else np.ones(H)
        eta = sigmoid(p["W_m"] @ x[t]) if retention == "momentum" else None
        for h in range(H):
            acc[h] += lr[h] * np.outer(M0[h] @ k[h] - v[h], k[h])
            if read == "chunk_prefix":
                y[t, h * D:(h + 1) * D] = (M0[h] - acc[h]) @ q[h]
            elif read == "before_write":
                y[t, h * D:(h + 1) * D] = M0[h] @ q[h]
            else:
                sys.exit(f"chunk_ref: unknown read order {read}")
        if (t + 1) % C == 0:
            if eta is not None:
                S = eta[:, None, None] * S - acc
                M0 = retain[:, None, None] * M0 + S
            else:
                M0 = retain[:, None, None] * M0 - acc
            acc = np.zeros((H, D, D))
    return y, M0, acc, S


def main():
    if len(sys.argv) != 7 or sys.argv[2] not in ("none", "decay", "momentum"):
        sys.exit(__doc__)
    read, retention, params, x, out, state = sys.argv[1:7]
    p = {k: v.astype(np.float64) for k, v in nlio.load_safetensors(params).items()}
    x = nlio.load_npy(x).astype(np.float64)
    y, M, acc, S = run(read, retention, p, x)
    nlio.save_npy(out, y)
    tensors = {"M.M": M[None], "M.__acc": acc[None]}
    if retention == "momentum":
        tensors["M.S"] = S[None]
    nlio.save_safetensors(state, tensors)


if __name__ == "__main__":
    main()
