#!/usr/bin/python3
"""End to end check of `torch_grads.py --grad-out` through files.

  torch-grad-out.py NL_RUN MODEL.nl WORK [-D name=value ...] [--T 8] [--B 2]
                    [--write stop_grad|differentiable] [--warmup T0]
                    [--fd-h 2e-6] [--cache-dir DIR]

With nl-run: --info (the names), --params-out and --state-out of a call on
no tokens (the seed's parameters and initial state; with --warmup, the
--state-out of a further call on T0 tokens: pending chunks, accumulators,
deferred rows, conv histories). Then torch_grads.py on x ([B, T, dim],
seeded) from that state, three times: F64 with --cotangent-out, F32 with
that --cotangent, per-stream state gradients. torch_grads.py runs in this
process (its main(argv): the command line's parser; torch starts once).
Left in WORK: p.safetensors, s0.safetensors (s1.safetensors with
--warmup), x.npy, dy.npy, y.npy, g64/g32/gps.safetensors.
Checks, one PASS/FAIL line each:
  keys      the F64 file's keys are exactly nl-run --info's parameter
            names and initial_state.<name> of its f32 state tensors
  shapes    each as --info declares it (state gradients without B;
            per-stream ones [B, ...])
  dtypes    every tensor F64 in the one file, F32 in the other
  loss      the metadata's nlc.grad.L is sum(dy * y) of --output (rel 1e-12)
  f32       compare_grads.py F64 F32 --rtol 1e-6 passes (exit 0)
  streams   the per-stream state gradients summed over B are the summed
            ones (rel 1e-12)
  fd        in one random direction over every parameter and every f32
            state of every stream (written as perturbed --params and
            --state-in files), central differences of L over
            torch_grads.py --output (float64; Romberg: h = --fd-h, h/2, h/4)
            agree with the files' gradients (rel 1e-6). Only where every
            write is differentiable (the file's modes or --write
            differentiable, which every run gets; the forward is the same
            in either mode): a stop_grad write's values are constants to
            the gradient but not to a difference of outputs, so the check
            is skipped there (torch-reference-selftest.test replays them).
"""
import argparse
import json
import os
import struct
import subprocess
import sys

import numpy as np

REF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "reference")
sys.path.insert(0, REF)
import nlio  # noqa: E402
import torch_grads  # noqa: E402

PY = sys.executable


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    return r.stdout


def header(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(n))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("nl_run")
    ap.add_argument("model")
    ap.add_argument("work")
    ap.add_argument("-D", dest="defines", action="append", default=[])
    ap.add_argument("--T", type=int, default=8)
    ap.add_argument("--B", type=int, default=2)
    ap.add_argument("--write", choices=["stop_grad", "differentiable"])
    ap.add_argument("--warmup", type=int, default=0)
    ap.add_argument("--cache-dir", help="nl-run's (default WORK/cache)")
    ap.add_argument("--fd-h", type=float, default=2e-6,
                    help="small where L's third derivatives are large, larger where y is mostly x (roundoff)")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    w = lambda n: os.path.join(a.work, n)  # noqa: E731
    dflags = sum((["-D", d] for d in a.defines), [])
    cache = ["--cache-dir", a.cache_dir or w("cache")]
    nlrun = lambda *args: run([a.nl_run, a.model] + dflags + cache + list(args))  # noqa: E731
    wflags = ["--write", a.write] if a.write else []

    def tg_in(*args):  # torch_grads.py's main in this process (no torch start-up)
        try:
            rc = torch_grads.main([a.model] + dflags + wflags + list(args))
        except SystemExit as e:
            rc = e.code
        if rc:
            sys.exit(f"torch_grads.py {' '.join(args)} failed: {rc}")
    label = os.path.basename(a.model)
    ok = True

    def report(name, good, detail=""):
        nonlocal ok
        ok &= bool(good)
        print(f"{label}: {name}: {'PASS' if good else 'FAIL'} {detail}")

    info = json.loads(nlrun("--info"))
    pshape = {p["name"]: tuple(p["shape"]) for p in info["params"]}
    sshape = {"initial_state." + t["name"]: tuple(t["shape"]) for t in info["state"] if t["dtype"] == "f32"}
    rng = np.random.default_rng(3)
    s0 = w("s0.safetensors")
    p = w("p.safetensors")
    dim = info["dim"]
    nlio.save_npy(w("x0.npy"), np.zeros((a.B, 0, dim), np.float32))
    nlrun("--input", w("x0.npy"), "--params-out", p, "--state-out", s0)
    if a.warmup:
        nlio.save_npy(w("xw.npy"), rng.standard_normal((a.B, a.warmup, dim)).astype(np.float32))
        nlrun("--params", p, "--input", w("xw.npy"), "--state-in", s0, "--state-out", w("s1.safetensors"))
        s0 = w("s1.safetensors")
    x = rng.standard_normal((a.B, a.T, dim)).astype(np.float32)
    nlio.save_npy(w("x.npy"), x)
    common = ["--input", w("x.npy")]
    tg_in("--params", p, "--state-in", s0, *common, "--output", w("y.npy"), "--cotangent-out", w("dy.npy"),
       "--grad-out", w("g64.safetensors"))
    tg_in("--params", p, "--state-in", s0, *common, "--cotangent", w("dy.npy"), "--grad-out", w("g32.safetensors"),
       "--grad-dtype", "F32")
    tg_in("--params", p, "--state-in", s0, *common, "--cotangent", w("dy.npy"), "--grad-out", w("gps.safetensors"),
       "--state-grads", "per-stream")
    g64 = nlio.load_safetensors(w("g64.safetensors"))
    gps = nlio.load_safetensors(w("gps.safetensors"))
    want = set(pshape) | set(sshape)
    report("keys", set(g64) == want,
           f"{len(pshape)} params + {len(sshape)} initial_state.*" +
           ("" if set(g64) == want else f"; missing {sorted(want - set(g64))}, extra {sorted(set(g64) - want)}"))
    bad = [k for k in want & set(g64) if tuple(g64[k].shape) != {**pshape, **sshape}[k]]
    bad += [k for k in sshape if k in gps and tuple(gps[k].shape) != (a.B,) + sshape[k]]
    report("shapes", not bad, f"differ: {sorted(bad)}" if bad else "")
    h64, h32 = header(w("g64.safetensors")), header(w("g32.safetensors"))
    d64 = {v["dtype"] for k, v in h64.items() if k != "__metadata__"}
    d32 = {v["dtype"] for k, v in h32.items() if k != "__metadata__"}
    report("dtypes", d64 == {"F64"} and d32 == {"F32"}, f"{sorted(d64)} / {sorted(d32)}")
    y, dy = np.load(w("y.npy")), np.load(w("dy.npy"))
    L = float(np.sum(dy * y))
    Lm = float(h64["__metadata__"]["nlc.grad.L"])
    report("loss", abs(L - Lm) <= 1e-12 * abs(L), f"L = {L:.10e}, metadata {h64['__metadata__']['nlc.grad.loss']}")
    r = subprocess.run([PY, os.path.join(REF, "compare_grads.py"), w("g64.safetensors"), w("g32.safetensors"),
                        "--rtol", "1e-6", "--quiet"], capture_output=True, text=True)
    report("f32", r.returncode == 0, r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr)
    errs = [float(np.max(np.abs(gps[k].sum(0) - g64[k])) / max(float(np.max(np.abs(g64[k]))), 1e-300))
            for k in sshape]
    report("streams", max(errs, default=0.0) <= 1e-12, f"max rel {max(errs, default=0.0):.1e}")

    # a directional derivative of L through perturbed input files
    modes = h64["__metadata__"]["nlc.grad.write"]
    if "stop_grad" in modes:
        print(f"{label}: fd: SKIP (write modes {modes})")
        print(f"{label}: OVERALL: {'PASS' if ok else 'FAIL'}")
        return 0 if ok else 1
    P = {k: np.asarray(v, np.float64) for k, v in nlio.load_safetensors(p).items()}
    S, meta = nlio.load_safetensors_with_metadata(s0)
    dP = {k: rng.standard_normal(v.shape) * max(float(np.sqrt(np.mean(v * v))), 0.1) for k, v in P.items()}
    fs = [t["name"] for t in info["state"] if t["dtype"] == "f32"]
    dS = {k: rng.standard_normal(S[k].shape) * max(float(np.sqrt(np.mean(S[k].astype(np.float64) ** 2))), 0.1)
          for k in fs}
    ad = sum(float(np.sum(g64[k] * dP[k])) for k in P) + sum(float(np.sum(gps["initial_state." + k] * dS[k]))
                                                             for k in fs)
    # central differences at h, h/2, h/4 and two Richardson steps (Romberg,
    # truncation O(h^6)): the seed's zero biases under a layer norm of a
    # near-constant MLP output make L's third derivatives large (TTT-MLP)
    h = a.fd_h
    D = []
    for step in (h, h / 2, h / 4):
        Ls = []
        for sign in (1, -1):
            nlio.save_safetensors(w("pp.safetensors"), {k: P[k] + sign * step * dP[k] for k in P}, "F64")
            st = {k: (S[k].astype(np.float64) + sign * step * dS[k]) if k in dS else S[k] for k in S}
            nlio.save_tensors(w("sp.safetensors"), st, meta)
            tg_in("--params", w("pp.safetensors"), "--state-in", w("sp.safetensors"), *common,
                  "--output", w("yp.npy"))
            Ls.append(float(np.sum(dy * np.load(w("yp.npy")))))
        D.append((Ls[0] - Ls[1]) / (2 * step))
    R1 = [(4 * D[1] - D[0]) / 3, (4 * D[2] - D[1]) / 3]
    fd = (16 * R1[1] - R1[0]) / 15
    err = abs(fd - ad) / max(abs(fd), abs(ad), 1e-300)
    report("fd", err <= 1e-6, f"write modes {modes}, h {h:g}: files {ad:+.10e} central difference {fd:+.10e} rel err {err:.1e}")
    print(f"{label}: OVERALL: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
