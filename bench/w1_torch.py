#!/usr/bin/python3
"""W1: nlc's compiled code vs PyTorch eager (and torch.compile on the GPU).

W1 is Titans-linear per token (bench/models/w1.nl): per stream and head,
  e = theta (M k - v);  S = eta S - e k^T;  M = keep M + S;  o = M q.
For each (d, B) it makes the tokens, runs nlc (nl-run; the time nl-run
measures around the call), checks PyTorch's output against nlc's (max
relative error <= 1e-3) and then times PyTorch in the same run, medians of
RUNS runs after a warm-up.

  w1_torch.py cuda DIR RESULTS.jsonl   DIR/models/w1_d{d}_b{128,512}.ptx, DIR/nl-run
  w1_torch.py cpu DIR RESULTS.jsonl    DIR/w1_d{d}.so (1 thread) and
                                       DIR/w1_d{d}_omp.so (2 threads), nl-run on PATH
"""
import json
import os
import sys

import numpy as np
import torch

import benchlib
from benchlib import nl_run

H, T, RUNS = 8, 2048, 5
DEVICE = "cuda"


def make_x(B, d, seed=0):
    rng = np.random.default_rng(seed)
    hd = H * d
    x = np.zeros((B, T, 3 * hd + 3 * H), np.float32)
    kq = rng.standard_normal((B, T, 2, H, d))
    kq /= np.linalg.norm(kq, axis=-1, keepdims=True)
    x[..., 0:hd] = kq[:, :, 0].reshape(B, T, hd)
    x[..., hd:2 * hd] = 0.5 * rng.standard_normal((B, T, hd))
    x[..., 2 * hd:3 * hd] = kq[:, :, 1].reshape(B, T, hd)
    x[..., 3 * hd:3 * hd + H] = 0.1 * rng.random((B, T, H))
    x[..., 3 * hd + H:3 * hd + 2 * H] = 0.5 + 0.5 * rng.random((B, T, H))
    x[..., 3 * hd + 2 * H:] = 0.9 + 0.1 * rng.random((B, T, H))
    return x


def step(M, S, k, v, q, theta, eta, keep):
    pred = torch.matmul(M, k.unsqueeze(-1)).squeeze(-1)
    e = theta.unsqueeze(-1) * (pred - v)
    S = eta[..., None, None] * S - e.unsqueeze(-1) * k.unsqueeze(-2)
    M = keep[..., None, None] * M + S
    return M, S, torch.matmul(M, q.unsqueeze(-1)).squeeze(-1)


def run_torch(fn, xs, B, d):
    hd = H * d
    M = torch.zeros(B, H, d, d, device=DEVICE)
    S = torch.zeros_like(M)
    k = xs[..., 0:hd].reshape(B, T, H, d)
    v = xs[..., hd:2 * hd].reshape(B, T, H, d)
    q = xs[..., 2 * hd:3 * hd].reshape(B, T, H, d)
    g = xs[..., 3 * hd:]
    out = torch.empty(B, T, H, d, device=DEVICE)
    for t in range(T):
        M, S, o = fn(M, S, k[:, t], v[:, t], q[:, t], g[:, t, 0:H],
                     g[:, t, H:2 * H], g[:, t, 2 * H:])
        out[:, t] = o
    return out.reshape(B, T, hd)


def sync():
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def timed(f):
    return benchlib.timed(f, sync)


def nlc_impls(where, d, B, x_path):
    """(name, median, min, max, threads) of nlc's builds; writes their outputs."""
    if DEVICE == "cuda":
        builds = [(f"nlc_cuda_b{bs}", f"{where}/models/w1_d{d}_b{bs}.ptx",
                   ["--device=cuda"], 0) for bs in (128, 512)]
        tool = f"{where}/nl-run"
    else:
        builds = [("nlc", f"{where}/w1_d{d}.so", ["--num-threads", "1"], 1),
                  ("nlc_omp", f"{where}/w1_d{d}_omp.so", ["--num-threads", "2"], 2)]
        tool = "nl-run"
    impls, outputs = [], []
    for name, model, flags, threads in builds:
        y_path = f"{where}/w1_y_{name}.npy"
        cmd = [tool, model, "--input", x_path, "--output", y_path] + flags
        impls.append((name,) + benchlib.median_of(RUNS, lambda: nl_run(cmd)) + (threads,))
        outputs.append(np.load(y_path))
    for other in outputs[1:]:
        agree = float(np.abs(other - outputs[0]).max() / np.abs(outputs[0]).max())
        if not agree <= 1e-3:
            print(f"W1 d={d} B={B}: nlc's builds disagree: rel {agree:.2e}")
            sys.exit(1)
    return impls, outputs[0]


def main():
    global DEVICE
    DEVICE, where, results = sys.argv[1], sys.argv[2], sys.argv[3]
    if DEVICE == "cuda":
        cases = [(64, 1), (64, 64), (128, 1), (128, 64)]
        peers = [("torch_eager", step, 0), ("torch_compile", torch.compile(step, dynamic=False), 0)]
    else:
        cases = [(d, 1) for d in (64, 128, 256) if os.path.exists(f"{where}/w1_d{d}.so")]
        peers = [("torch_eager", step, 1), ("torch_eager", step, 2)]
    rows = []
    for d, B in cases:
        x = make_x(B, d)
        x_path = f"{where}/w1_x.npy"
        np.save(x_path, x)
        impls, y = nlc_impls(where, d, B, x_path)
        xs = torch.from_numpy(x).to(DEVICE)
        for name, fn, threads in peers:
            if name == "torch_compile" and d != 64:
                continue  # one compiled shape family keeps the device time short
            if threads:
                torch.set_num_threads(threads)
            _, ref = timed(lambda: run_torch(fn, xs, B, d))  # warm-up (compiles)
            err = float((ref.cpu().double() - torch.from_numpy(y).double()).abs().max()
                        / torch.from_numpy(y).double().abs().max())
            if not err <= 1e-3:
                print(f"W1 d={d} B={B}: {name} and nlc disagree: rel {err:.2e}")
                sys.exit(1)
            impls.append((name,) + benchlib.median_of(RUNS, lambda: timed(lambda: run_torch(fn, xs, B, d))[0])
                         + (threads, err))
        base = min(i[1] for i in impls if i[0].startswith("nlc"))  # nlc's best build
        for imp in impls:
            name, med, lo, hi, threads = imp[:5]
            th = B * T * H
            row = {"case": "W1", "device": DEVICE if DEVICE == "cpu" else torch.cuda.get_device_name(),
                   "d": d, "B": B, "T": T, "H": H, "impl": name, "threads": threads,
                   "median_s": med, "min_s": lo, "max_s": hi, "tokens_per_s": B * T / med,
                   "token_heads_per_s": th / med, "gflops": 9.0 * d * d * th / med / 1e9,
                   "nlc_speedup": med / base}
            if len(imp) > 5:
                row["max_rel_err_vs_nlc"] = imp[5]
            # On the CPU, bench/w1.cpp records nlc's rows (timed in process).
            if DEVICE == "cuda" or not name.startswith("nlc"):
                rows.append(row)
            print(f"W1 d={d:<4} B={B:<3} {name:<14} {threads or '-'} thr  median {med * 1e3:9.2f} ms "
                  f"[{lo * 1e3:.2f}, {hi * 1e3:.2f}]  {th / med:12.0f} token-heads/s  "
                  f"{row['gflops']:7.2f} GFLOP/s  nlc(best) is {med / base:6.2f}x faster")
    with open(results, "a") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
