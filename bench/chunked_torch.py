#!/usr/bin/python3
"""W2 (DeltaNet) and W3 (TTT-Linear mini-batch) on the CPU: nlc vs PyTorch.

Both on H = 8 heads of width d, T = 2048, every input given per token.
nlc compiles bench/models/w2.nl and w3.nl as it does by default (its cost
model picks the form): W3 runs in nlc's chunk-parallel form (nl-chunk) at
both widths, W2 per token at d = 64 and in the chunk form (the UT
transform) at d = 128; where the chunk form is picked, the per-token form is
timed too ("nlc_per_token"). PyTorch runs the same recurrence per token, and the
chunked algorithm the issue names as the peer:
  W2: DeltaNet S <- S - beta (S k - v) k^T, o = S q, in fla's chunked WY
      form (the naive chunk_delta_rule: per chunk of C tokens, the UT
      transform (I + tril(diag(beta) K K^T, -1))^-1 by forward
      substitution, then three matmuls per chunk);
  W3: TTT-Linear, mini-batch C = 16 with gradients at the mini-batch start,
      outputs at the in-mini-batch state, in TTT's dual form (causal-masked
      matmuls per mini-batch).
Every PyTorch output is checked against nlc's (max relative error <= 1e-3)
before it is timed; medians of RUNS runs, 1 and 2 threads.

  chunked_torch.py DIR RESULTS.jsonl [W2|W3 ...]    (nlc, nl-run on PATH)
"""
import json
import os
import sys

import numpy as np
import torch

from benchlib import median_of, nlc_rows, timed

H, T, RUNS = 8, 2048, 5
HERE = os.path.dirname(os.path.abspath(__file__))


def make_x(d, seed=0):
    rng = np.random.default_rng(seed)
    hd = H * d
    x = np.zeros((T, 3 * hd + H), np.float32)
    kq = rng.standard_normal((T, 2, H, d))
    kq /= np.linalg.norm(kq, axis=-1, keepdims=True)
    x[:, 0:hd] = kq[:, 0].reshape(T, hd)
    x[:, hd:2 * hd] = 0.5 * rng.standard_normal((T, hd))
    x[:, 2 * hd:3 * hd] = kq[:, 1].reshape(T, hd)
    x[:, 3 * hd:] = 0.1 + 0.8 * rng.random((T, H))
    return x


def split(xs, d):
    hd = H * d
    k = xs[:, 0:hd].reshape(T, H, d).transpose(0, 1)  # [H, T, d]
    v = xs[:, hd:2 * hd].reshape(T, H, d).transpose(0, 1)
    q = xs[:, 2 * hd:3 * hd].reshape(T, H, d).transpose(0, 1)
    beta = xs[:, 3 * hd:].T  # [H, T]
    return k, v, q, beta


def merge(o):  # [H, T, d] -> [T, H*d]
    return o.transpose(0, 1).reshape(T, -1)


def delta_per_token(xs, d):
    k, v, q, beta = split(xs, d)
    S = torch.zeros(H, d, d)  # y = S k
    out = torch.empty(H, T, d)
    for t in range(T):
        kt = k[:, t]
        e = torch.bmm(S, kt.unsqueeze(-1)).squeeze(-1) - v[:, t]
        S = S - beta[:, t, None, None] * e.unsqueeze(-1) * kt.unsqueeze(-2)
        out[:, t] = torch.bmm(S, q[:, t].unsqueeze(-1)).squeeze(-1)
    return merge(out)


def delta_chunked(xs, d, C=64):
    """fla's naive chunk_delta_rule (state S' = S^T: o = S'^T q)."""
    k, v, q, beta = split(xs, d)
    n = T // C
    k, v, q, beta = (a.reshape(H, n, C, *a.shape[2:]) for a in (k, v, q, beta))
    kb, vb = k * beta[..., None], v * beta[..., None]
    upper = torch.triu(torch.ones(C, C, dtype=torch.bool))
    attn = -(kb @ k.transpose(-1, -2)).masked_fill(upper, 0)
    for i in range(1, C):  # forward substitution: (I + A)^-1
        attn[..., i, :i] = attn[..., i, :i] + (attn[..., i, :i, None] * attn[..., :i, :i]).sum(-2)
    attn = attn + torch.eye(C)
    w, u = attn @ kb, attn @ vb
    S = torch.zeros(H, d, d)
    out = torch.empty(H, n, C, d)
    strict = torch.triu(torch.ones(C, C, dtype=torch.bool), diagonal=1)
    for i in range(n):
        qi, ki = q[:, i], k[:, i]
        ui = u[:, i] - w[:, i] @ S
        local = (qi @ ki.transpose(-1, -2)).masked_fill(strict, 0)
        out[:, i] = qi @ S + local @ ui
        S = S + ki.transpose(-1, -2) @ ui
    return merge(out.reshape(H, T, d))


def ttt_per_token(xs, d, C=16):
    k, v, q, lr = split(xs, d)
    M = torch.zeros(H, d, d)
    G = torch.zeros(H, d, d)
    out = torch.empty(H, T, d)
    for t in range(T):
        kt = k[:, t]
        e = torch.bmm(M, kt.unsqueeze(-1)).squeeze(-1) - v[:, t]
        G = G + lr[:, t, None, None] * e.unsqueeze(-1) * kt.unsqueeze(-2)
        if (t + 1) % C == 0:
            M, G = M - G, torch.zeros_like(G)
        out[:, t] = torch.bmm(M - G, q[:, t].unsqueeze(-1)).squeeze(-1)
    return merge(out)


def ttt_dual(xs, d, C=16):
    k, v, q, lr = split(xs, d)
    M = torch.zeros(H, d, d)
    out = torch.empty(H, T, d)
    mask = torch.tril(torch.ones(C, C))
    for s in range(0, T, C):
        K, V, Q, L = k[:, s:s + C], v[:, s:s + C], q[:, s:s + C], lr[:, s:s + C]
        E = K @ M.transpose(-1, -2) - V  # every gradient at the mini-batch start
        A = (Q @ K.transpose(-1, -2)) * mask * L[:, None, :]
        out[:, s:s + C] = Q @ M.transpose(-1, -2) - A @ E
        M = M - (L[..., None] * E).transpose(-1, -2) @ K
    return merge(out)


WORKLOADS = {
    "W2": ("w2.nl", [("torch_eager", delta_per_token), ("torch_eager_chunk64", delta_chunked)],
           lambda d: 6.0 * d * d),  # the anchors' per-token flop model (DeltaNet)
    "W3": ("w3.nl", [("torch_eager", ttt_per_token), ("torch_eager_dual", ttt_dual)],
           lambda d: 10.0 * d * d + 4 * 16 * d),  # Titans mini-batch flop model
}


def main():
    where, results = sys.argv[1], sys.argv[2]
    cases = sys.argv[3:] or list(WORKLOADS)
    for case in cases:
        model, peers, flops = WORKLOADS[case]
        for d in (64, 128):
            hd = H * d
            x = make_x(d)
            x_path, y_path, lib = (f"{where}/{case.lower()}_{n}" for n in ("x.npy", "y.npy", f"d{d}.so"))
            np.save(x_path, x)
            defs = ["-D", f"d={d}", "-D", f"HD={hd}", "-D", f"OV={hd}", "-D", f"OQ={2 * hd}",
                    "-D", f"OB={3 * hd}", "-D", f"DIM={3 * hd + H}"]
            rows = nlc_rows(os.path.join(HERE, "models", model), lib, defs, ["--input", x_path], y_path, RUNS)
            y = torch.from_numpy(np.load(y_path)).double()
            xs = torch.from_numpy(x)
            for name, fn in peers:
                for threads in (1, 2):
                    torch.set_num_threads(threads)
                    _, ref = timed(lambda: fn(xs, d))
                    err = float((ref.double() - y).abs().max() / y.abs().max())
                    if not err <= 1e-3:
                        print(f"{case} d={d}: {name} and nlc disagree: rel {err:.2e}")
                        sys.exit(1)
                    rows.append((name, *median_of(RUNS, lambda: timed(lambda: fn(xs, d))[0]), threads, err))
            base = min(r[1] for r in rows if r[0].startswith("nlc"))
            with open(results, "a") as f:
                for name, med, lo, hi, threads, err in rows:
                    th = T * H
                    row = {"case": case, "d": d, "T": T, "H": H, "impl": name, "threads": threads,
                           "median_s": med, "min_s": lo, "max_s": hi, "tokens_per_s": T / med,
                           "token_heads_per_s": th / med, "gflops": flops(d) * th / med / 1e9,
                           "nlc_speedup": med / base, "max_rel_err_vs_nlc": err}
                    f.write(json.dumps(row) + "\n")
                    print(f"{case} d={d:<4} {name:<20} {threads} thr  median {med * 1e3:9.2f} ms "
                          f"[{lo * 1e3:.2f}, {hi * 1e3:.2f}]  {th / med:11.0f} token-heads/s  "
                          f"{row['gflops']:6.2f} GFLOP/s  nlc is {med / base:6.2f}x faster"
                          + (f"  (rel err {err:.1e})" if err else ""))


if __name__ == "__main__":
    main()
