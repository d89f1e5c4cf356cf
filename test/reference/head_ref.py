#!/usr/bin/python3
"""Float64 reference of W1 (bench/models/w1.nl, test/Runtime/Inputs/w1-heads.nl):
the exact per-token Titans-linear recurrence on H heads of width D, written
from the equations (bench/w1.cpp `fused`), token by token and head by head.

  head_ref.py inputs H D T SEED X [B]
  head_ref.py run H D X Y STATE

`inputs` writes X (float32 .npy, [T, 3 H D + 3 H], or [B, T, ...] with B) as
bench/w1.cpp draws them: k, v, q standard normal with each head's key of unit
norm, theta in [0, 0.1), eta in [0.5, 1), keep in [0.9, 1).

`run` reads X ([T, 3 H D + 3 H]: k, v, q ([H*D] each), then theta, eta,
keep ([H] each)) and computes, per token t and head h, from M = S = 0:
  pred = M k; S = eta S - theta (pred - v) k^T; M = keep M + S; y = M q
It writes y ([T, H*D], .npy) and the final state (safetensors, F64):
momentum.S and memory.M, each [1, H, D, D] (one stream).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nlio  # noqa: E402


def inputs(H, D, T, seed, B=None):
    r = np.random.default_rng(seed)
    HD = 3 * H * D
    x = np.zeros(((B or 1) * T, HD + 3 * H))
    x[:, :HD] = r.standard_normal((x.shape[0], HD))
    k = x[:, :H * D].reshape(-1, H, D)
    x[:, :H * D] = (k / np.linalg.norm(k, axis=2, keepdims=True)).reshape(-1, H * D)
    x[:, HD:HD + H] = 0.1 * r.random((x.shape[0], H))
    x[:, HD + H:HD + 2 * H] = 0.5 + 0.5 * r.random((x.shape[0], H))
    x[:, HD + 2 * H:] = 0.9 + 0.1 * r.random((x.shape[0], H))
    x = x.astype(np.float32)
    return x.reshape(B, T, -1) if B else x


def run(H, D, x):
    HD = H * D
    M = np.zeros((H, D, D))
    S = np.zeros((H, D, D))
    y = np.zeros((x.shape[0], HD))
    for t in range(x.shape[0]):
        row = x[t]
        for h in range(H):
            k = row[h * D:(h + 1) * D]
            v = row[HD + h * D:HD + (h + 1) * D]
            q = row[2 * HD + h * D:2 * HD + (h + 1) * D]
            theta = row[3 * HD + h]
            eta = row[3 * HD + H + h]
            keep = row[3 * HD + 2 * H + h]
            pred = M[h] @ k
            S[h] = eta * S[h] - theta * np.outer(pred - v, k)
            M[h] = keep * M[h] + S[h]
            y[t, h * D:(h + 1) * D] = M[h] @ q
    return y, M, S


def main():
    args = sys.argv[1:]
    if len(args) in (6, 7) and args[0] == "inputs":
        H, D, T, seed = (int(a) for a in args[1:5])
        B = int(args[6]) if len(args) == 7 else None
        np.save(args[5], inputs(H, D, T, seed, B))
        return
    if len(args) != 6 or args[0] != "run":
        sys.exit(__doc__)
    H, D = int(args[1]), int(args[2])
    x = nlio.load_npy(args[3]).astype(np.float64)
    if x.ndim != 2 or x.shape[1] != 3 * H * D + 3 * H:
        sys.exit(f"head_ref: expected tokens of width {3 * H * D + 3 * H}, got shape {x.shape}")
    y, M, S = run(H, D, x)
    nlio.save_npy(args[4], y)
    nlio.save_safetensors(args[5], {"momentum.S": S[None], "memory.M": M[None]})


if __name__ == "__main__":
    main()
