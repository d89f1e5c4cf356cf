#!/usr/bin/python3
"""W4 and W5 (MLP memories) on the CPU: nlc's compiled code vs PyTorch eager.

W4 is TTT-MLP (bench/models/w4.nl): f(u) = u + LN(W1 gelu(W0 u + b0) + b1),
d = 64, hidden 4d, mini-batch 16, gradients at the mini-batch start, outputs
at the in-mini-batch weights. PyTorch runs its fastest formulation, TTT's
dual form: per mini-batch, every token's gradient at the start weights in
one batched backward, and the outputs through causal-masked matmuls.

W5 is a sequential CMS (bench/models/w5.nl): four residual GELU MLP levels
(d -> 4d -> d) chained, at periods 1, 16, 256 and 4096, each learning
1/2 ||M(h) - t||^2 toward t = the token's target, gradients at the chunk
start, lr 0.001 per token. PyTorch runs it per token (the levels are chained
through the per-token level, so there is no chunk-parallel form), with the
gradients written by hand: as written (each token's outer products summed
into the chunk's gradient) and in its fastest form (the outer products
deferred to two GEMMs per level at the chunk's end).

For each workload it makes the inputs, runs nlc (nl-run, the time nl-run
measures around the call, one thread), checks PyTorch's output against
nlc's (max relative error <= 1e-3), then times PyTorch in the same run with
one and two threads: medians of RUNS runs.

  mlp_torch.py DIR RESULTS.jsonl [W4|W5 ...]     nl-run and nlc on PATH
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

RUNS = 5
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "test", "reference"))
import nlio  # noqa: E402
from benchlib import median_of, nlc_rows, timed  # noqa: E402


def layer_norm(z, eps=1e-6):
    mu = z.mean(-1, keepdim=True)
    sig = torch.sqrt(((z - mu) ** 2).mean(-1, keepdim=True) + eps)
    return (z - mu) / sig, sig


def ln_backward(dy, zhat, sig):
    """The input gradient of layer_norm (no affine), rows of the last dim."""
    return (dy - dy.mean(-1, keepdim=True) - zhat * (dy * zhat).mean(-1, keepdim=True)) / sig


def gelu_grad(z):
    return 0.5 * (1.0 + torch.erf(z / math.sqrt(2.0))) + z * torch.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


# ---- W4: TTT-MLP ---------------------------------------------------------------
W4_D, W4_H, W4_C, W4_T = 64, 256, 16, 2048


def w4_inputs(seed=0):
    rng = np.random.default_rng(seed)
    d, h = W4_D, W4_H
    kq = rng.standard_normal((W4_T, 2, d))
    kq /= np.linalg.norm(kq, axis=-1, keepdims=True)
    x = np.zeros((W4_T, 3 * d + 1), np.float32)
    x[:, 0:d] = kq[:, 0]
    x[:, d:2 * d] = 0.5 * rng.standard_normal((W4_T, d))
    x[:, 2 * d:3 * d] = kq[:, 1]
    x[:, 3 * d] = 0.05 + 0.05 * rng.random(W4_T)
    params = {"W.w0": rng.standard_normal((h, d)) / math.sqrt(d), "W.b0": 0.1 * rng.standard_normal(h),
              "W.w1": rng.standard_normal((d, h)) / math.sqrt(h), "W.b1": 0.1 * rng.standard_normal(d)}
    return x, {k: v.astype(np.float32) for k, v in params.items()}


def w4_dual(x, p):
    """TTT-MLP's dual form, one mini-batch of C tokens at a time."""
    d, C = W4_D, W4_C
    W0, b0, W1, b1 = (p[n].clone() for n in ("W.w0", "W.b0", "W.w1", "W.b1"))
    out = torch.empty(x.shape[0], d)
    mask = torch.tril(torch.ones(C, C))
    for s in range(0, x.shape[0], C):
        X, V, Q, eta = x[s:s + C, 0:d], x[s:s + C, d:2 * d], x[s:s + C, 2 * d:3 * d], x[s:s + C, 3 * d]
        # Every token's gradient at the mini-batch start, in one pass.
        Z1 = X @ W0.T + b0
        A = F.gelu(Z1)
        Z2 = A @ W1.T + b1
        N, sig = layer_norm(Z2)
        dZ2 = ln_backward(X + N - V, N, sig)
        dZ1 = (dZ2 @ W1) * gelu_grad(Z1)
        # Outputs at W - sum_{s <= t} eta_s g_s: causal-masked matmuls,
        # E[t, s] = eta_s (input_t . input_s + 1) for s <= t (weight and bias).
        Z1q = Q @ W0.T + b0 - ((Q @ X.T + 1.0) * eta[None, :] * mask) @ dZ1
        Aq = F.gelu(Z1q)
        Z2q = Aq @ W1.T + b1 - ((Aq @ A.T + 1.0) * eta[None, :] * mask) @ dZ2
        out[s:s + C] = Q + layer_norm(Z2q)[0]
        # The mini-batch's update.
        W0 -= (eta[:, None] * dZ1).T @ X
        b0 -= (eta[:, None] * dZ1).sum(0)
        W1 -= (eta[:, None] * dZ2).T @ A
        b1 -= (eta[:, None] * dZ2).sum(0)
    return out


# ---- W5: sequential CMS --------------------------------------------------------
W5_D, W5_PERIODS, W5_LR = 256, (1, 16, 256, 4096), 0.001
# The levels (parameter prefix, period) of W5 and of its slow levels alone
# (bench/models/w5-slow.nl), where the target is a share of the sgemm peak.
W5_LEVELS = [(f"L{i}", period) for i, period in enumerate(W5_PERIODS)]
W5_SLOW_LEVELS = W5_LEVELS[1:]


def w5_inputs(T, seed=0):
    rng = np.random.default_rng(seed)
    d, h = W5_D, 4 * W5_D
    x = np.zeros((T, 2 * d), np.float32)
    x[:, 0:d] = rng.standard_normal((T, d)) / math.sqrt(d) * 4.0
    x[:, d:] = 0.5 * rng.standard_normal((T, d))
    params = {}
    for i in range(len(W5_PERIODS)):
        params[f"L{i}.w0"] = rng.standard_normal((h, d)) / math.sqrt(d)
        params[f"L{i}.w1"] = rng.standard_normal((d, h)) / math.sqrt(h) * 0.1
    return x, {k: v.astype(np.float32) for k, v in params.items()}


def w5_gradient_factors(W0, W1, h, target):
    """The factors of a level's gradient at its stored weights:
    dL/dW0 = dz h^T, dL/dW1 = e a^T for L = 1/2 ||h + W1 gelu(W0 h) - t||^2."""
    z = W0 @ h
    a = F.gelu(z)
    e = h + W1 @ a - target
    return (W1.T @ e) * gelu_grad(z), a, e


def w5_eager(x, p, levels=W5_LEVELS):
    """Per token: each level's gradient at its stored weights, summed into its
    pending chunk and applied at the chunk's end, then the (after-write) read."""
    d = W5_D
    Ws = [[p[f"{name}.w0"].clone(), p[f"{name}.w1"].clone()] for name, _ in levels]
    G = [[torch.zeros_like(w) for w in pair] for pair in Ws]
    out = torch.empty(x.shape[0], d)
    for t in range(x.shape[0]):
        h, target = x[t, 0:d], x[t, d:]
        for i, (_, period) in enumerate(levels):
            W0, W1 = Ws[i]
            dz, a, e = w5_gradient_factors(W0, W1, h, target)
            G[i][0] += W5_LR * torch.outer(dz, h)
            G[i][1] += W5_LR * torch.outer(e, a)
            if (t + 1) % period == 0:
                W0 -= G[i][0]
                W1 -= G[i][1]
                G[i][0].zero_()
                G[i][1].zero_()
            h = h + W1 @ F.gelu(W0 @ h)
        out[t] = h
    return out


def w5_deferred(x, p, levels=W5_LEVELS):
    """The same algorithm in its fastest eager form: a level's gradients are
    all taken at its chunk-start weights, so the per-token outer products
    are deferred and summed by two GEMMs when the chunk ends."""
    d = W5_D
    Ws = [[p[f"{name}.w0"].clone(), p[f"{name}.w1"].clone()] for name, _ in levels]
    pending = [[] for _ in levels]  # per level: (dz, h, e, a) of the chunk
    out = torch.empty(x.shape[0], d)
    for t in range(x.shape[0]):
        h, target = x[t, 0:d], x[t, d:]
        for i, (_, period) in enumerate(levels):
            W0, W1 = Ws[i]
            dz, a, e = w5_gradient_factors(W0, W1, h, target)
            pending[i].append((dz, h, e, a))
            if (t + 1) % period == 0:
                DZ, Hs, E, A = (torch.stack(c) for c in zip(*pending[i]))
                W0 -= W5_LR * (DZ.T @ Hs)
                W1 -= W5_LR * (E.T @ A)
                pending[i].clear()
            h = h + W1 @ F.gelu(W0 @ h)
        out[t] = h
    return out


# ---- driver --------------------------------------------------------------------
def run_case(case, where, results, model, defs, x, params, peers, flops_per_token, variant=""):
    stem = case.lower() + (f"_{variant}" if variant else "")
    x_path, p_path, y_path = (f"{where}/{stem}_{n}" for n in ("x.npy", "p.safetensors", "y.npy"))
    np.save(x_path, x)
    nlio.save_safetensors(p_path, params, "F32")
    lib = f"{where}/{stem}.so"
    rows = nlc_rows(model, lib, defs, ["--params", p_path, "--input", x_path], y_path, RUNS)
    y = torch.from_numpy(np.load(y_path)).double()
    xs = torch.from_numpy(x)
    ps = {k: torch.from_numpy(v) for k, v in params.items()}
    for name, fn in peers:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            _, ref = timed(lambda: fn(xs, ps))  # warm-up
            err = float((ref.double() - y).abs().max() / y.abs().max())
            if not err <= 1e-3:
                print(f"{case}: {name} and nlc disagree: rel {err:.2e}")
                sys.exit(1)
            rows.append((name,) + median_of(RUNS, lambda: timed(lambda: fn(xs, ps))[0]) + (threads, err))
    T = x.shape[0]
    base = min(r[1] for r in rows if r[0].startswith("nlc"))
    with open(results, "a") as f:
        for name, med, lo, hi, threads, err in rows:
            row = {"case": case, "d": params_d(case), "T": T, "impl": name, "threads": threads,
                   **({"variant": variant} if variant else {}),
                   "median_s": med, "min_s": lo, "max_s": hi, "tokens_per_s": T / med,
                   "gflops": flops_per_token * T / med / 1e9, "nlc_speedup": med / base,
                   "max_rel_err_vs_nlc": err}
            f.write(json.dumps(row) + "\n")
            print(f"{case} d={row['d']:<4} {variant:<5}{name:<16} {threads} thr  median {med * 1e3:9.2f} ms "
                  f"[{lo * 1e3:.2f}, {hi * 1e3:.2f}]  {T / med:10.0f} tokens/s  {row['gflops']:6.2f} GFLOP/s  "
                  f"nlc is {med / base:6.2f}x faster" + (f"  (rel err {err:.1e})" if err else ""))


def params_d(case):
    return W4_D if case == "W4" else W5_D


def main():
    where, results = sys.argv[1], sys.argv[2]
    cases = sys.argv[3:] or ["W4", "W5"]
    torch.manual_seed(0)
    if "W4" in cases:
        d, h = W4_D, W4_H
        x, p = w4_inputs()
        # Per token: reads of f at the start weights and at the prefix weights
        # (2 x 2dh), the backward (4dh), the prefix weights and the
        # accumulation (3 x 2dh): about 16 dh flops.
        run_case("W4", where, results, os.path.join(HERE, "models", "w4.nl"),
                 ["-D", f"d={d}", "-D", f"h={h}", "-D", f"OV={d}", "-D", f"OQ={2 * d}",
                  "-D", f"OE={3 * d}", "-D", f"DIM={3 * d + 1}"],
                 x, p, [("torch_eager_dual", w4_dual)], 16.0 * d * h)
    if "W5" in cases:
        T = int(os.environ.get("W5_T", "4096"))
        x, p = w5_inputs(T)
        d = W5_D
        # Per level and token: two forward passes (2 x 4 d 4d) and the
        # backward with the outer products (3 x 2 d 4d): 56 d^2 flops.
        run_case("W5", where, results, os.path.join(HERE, "models", "w5.nl"), [],
                 x, p, [("torch_eager", w5_eager), ("torch_eager_deferred", w5_deferred)],
                 4 * 56.0 * d * d)
        # The slow levels alone (periods 16, 256, 4096; the first keyed by the
        # token): the part the target measures against the sgemm peak.
        slow = {k: v for k, v in p.items() if not k.startswith("L0.")}
        run_case("W5", where, results, os.path.join(HERE, "models", "w5-slow.nl"), [],
                 x, slow,
                 [("torch_eager", lambda xs, ps: w5_eager(xs, ps, W5_SLOW_LEVELS)),
                  ("torch_eager_deferred", lambda xs, ps: w5_deferred(xs, ps, W5_SLOW_LEVELS))],
                 3 * 56.0 * d * d, variant="slow")


if __name__ == "__main__":
    main()
