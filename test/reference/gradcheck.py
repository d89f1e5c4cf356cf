#!/usr/bin/python3
"""Check nlc's gradients against finite differences of a float64 reference.

  gradcheck.py MODEL --params p.safetensors --input x.npy --cotangent dy.npy
               --grads g.safetensors [--state0 s0.safetensors]
               [--directions N] [--tol T] [--seed S]

g.safetensors is what `nl-run --cotangent dy.npy --grad-out g` wrote: the
gradient of L = sum(dy * y) (y: the model's output over every stream and
token) with respect to every parameter (by its key) and every initial state
(`initial_state.<level>.<state>`, summed over the streams). The reference is
the float64 NumPy model of models.py (independent of nlc). For each tensor G
of g, along directions u (G itself, then N random normal ones), the
directional derivative <G, u> must match the central difference
of the reference (Richardson-extrapolated from h and h/2, h = 1e-4 /
rms(u)):

  err = |<G, u> - fd| / (|G| |u|)   (Cauchy-Schwarz scale)   <= --tol

A tensor whose gradient and differences are all zero passes as "zero". An
initial state needs --state0 (the state before the first token, as
`nl-run --input x0.npy --state-out` writes it for T = 0), and a reference
state of that name; accumulators (`__` names) have none and are skipped.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402
import nlio  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", choices=sorted(models.MODELS))
    ap.add_argument("--params", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--cotangent", required=True)
    ap.add_argument("--grads", required=True)
    ap.add_argument("--state0")
    ap.add_argument("--directions", type=int, default=2)
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)

    run = models.MODELS[a.model]
    params = {k: v.astype(np.float64) for k, v in nlio.load_safetensors(a.params).items()}
    x = nlio.load_npy(a.input).astype(np.float64)
    dy = nlio.load_npy(a.cotangent).astype(np.float64)
    grads = nlio.load_safetensors(a.grads)
    xb = x if x.ndim == 3 else x[None]
    B, dim = xb.shape[0], xb.shape[-1]

    state0 = None
    if a.state0:
        state0 = nlio.load_states(a.state0)
        _, fresh = run(params, np.zeros((B, 1, dim)))  # the reference's names and shapes
        for k, v in fresh.items():
            if k not in state0 and k.startswith("_"):
                state0[k] = np.zeros_like(v)  # a private carry: empty at the start
        state0 = {k: v for k, v in state0.items() if k in fresh}

    def loss(p, st):
        y, _ = run(p, x, st)
        if y.shape != dy.shape:
            sys.exit(f"the reference's output is {y.shape}, the cotangent {dy.shape}")
        return float(np.sum(dy * y))

    rng = np.random.default_rng(a.seed)
    ok = True
    for key in sorted(grads):
        G = grads[key].astype(np.float64)
        if key.startswith("initial_state."):
            name = key[len("initial_state."):]
            if state0 is None or name not in state0:
                why = "no --state0" if state0 is None else "no reference state of that name"
                print(f"{key}: SKIP ({why})")
                continue
            base = state0[name]
            if base.shape[1:] != G.shape:
                sys.exit(f"{key}: gradient {G.shape}, reference state {base.shape[1:]}")

            def at(u, h, name=name, base=base):
                st = dict(state0)
                st[name] = base + h * u[None]  # the same change in every stream
                return loss(params, st)
        else:
            if key not in params:
                print(f"{key}: FAIL (no such parameter in {a.params})")
                ok = False
                continue
            if params[key].shape != G.shape:
                sys.exit(f"{key}: gradient {G.shape}, parameter {params[key].shape}")

            def at(u, h, key=key):
                p = dict(params)
                p[key] = params[key] + h * u
                return loss(p, state0)

        dirs = [G] + [rng.standard_normal(G.shape) for _ in range(a.directions)]
        worst, all_zero = 0.0, True
        for u in dirs:
            rms = float(np.sqrt(np.mean(u * u))) if u.size else 0.0
            if rms == 0.0:
                continue
            # Central differences at h and h/2, Richardson-extrapolated
            # (error O(h^4)): some models bend sharply near their seed state.
            h = 1e-4 / rms
            d1 = (at(u, h) - at(u, -h)) / (2 * h)
            d2 = (at(u, h / 2) - at(u, -h / 2)) / h
            fd = (4 * d2 - d1) / 3
            an = float(np.sum(G * u))
            scale = float(np.linalg.norm(G) * np.linalg.norm(u))
            if scale == 0.0:
                # A zero gradient: the differences must vanish too.
                scale = float(np.linalg.norm(u)) * max(1.0, abs(fd))
                err = abs(fd) / scale
            else:
                all_zero = False
                err = abs(an - fd) / scale
            worst = max(worst, err)
        verdict = "PASS" if worst <= a.tol else "FAIL"
        ok &= verdict == "PASS"
        note = " zero" if all_zero else ""
        print(f"{key}: {verdict}{note} err={worst:.2e} |G|={np.linalg.norm(G):.4g}")
    print("OVERALL: " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
