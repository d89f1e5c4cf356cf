#!/usr/bin/python3
"""The torch reference's forward (torch_grads.py) against the compiled model.

  torch_forward_check.py NL_RUN MODEL.nl --work DIR [--cache-dir DIR]
                         [-D name=value ...] [--T 40] [--B 2] [--seed 1]
                         [--rtol 1e-4] [--label NAME]

With nl-run (NL_RUN, compiling MODEL.nl with the same -D):
  1. the state tensors and params of `nl-run --info` are the ones the
     reference names (names, shapes, dtypes);
  2. `--params-out` of a run on no tokens gives the seed's parameters and
     `--state-out` the initial state (the draws of `normal` states);
  3. the outputs of a call on x1 ([B, T, dim], N(0, 1), seeded) from the
     initial state (the reference starts from its initializers, or from
     the T = 0 state when a state is drawn from the seed), and of a second
     call on x2 from the first call's --state-out (partial chunks,
     accumulators, deferred rows and conv histories continue), each
     against the reference within rel_max = max|a - b| / max|b| <= rtol
     (with --residual also y - x, for a model whose y is x plus a little);
     then a call on x1 from an all-zero state and one on x2 from call 1's
     state with every f32 tensor perturbed (accumulators, deferred rows,
     stashed gates, conv histories: the reference reads each as nlc does);
  4. the gradients of the second call are finite.
Prints one PASS/FAIL line per check and OVERALL; exit status 1 on a failure.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import nlio  # noqa: E402
import torch_grads as tg  # noqa: E402
import torch_models as tm  # noqa: E402
from nlparse import parse_defines  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("nl_run")
    ap.add_argument("model")
    ap.add_argument("--work", required=True)
    ap.add_argument("--cache-dir")
    ap.add_argument("-D", dest="defines", action="append", default=[])
    ap.add_argument("--T", type=int, default=40)
    ap.add_argument("--B", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--label")
    ap.add_argument("--residual", action="store_true", help="also compare y - x (models whose output is x + ...)")
    a = ap.parse_args()
    import torch
    torch.set_num_threads(1)
    os.makedirs(a.work, exist_ok=True)
    label = a.label or os.path.basename(a.model)
    w = lambda name: os.path.join(a.work, name)  # noqa: E731
    dflags = sum((["-D", d] for d in a.defines), [])
    if a.cache_dir:
        dflags += ["--cache-dir", a.cache_dir]

    def nlrun(*args):
        cmd = [a.nl_run, a.model] + dflags + list(args)
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed:\n{r.stderr}")
        return r.stdout

    spec = tm.load_spec(a.model, parse_defines(a.defines))
    ok = True

    def report(name, good, detail):
        nonlocal ok
        ok &= bool(good)
        print(f"{label}: {name}: {'PASS' if good else 'FAIL'} {detail}")

    # 1. the layout
    info = json.loads(nlrun("--info"))
    ours = {(t.name, tuple(t.shape), t.dtype) for t in spec.state}
    theirs = {(t["name"], tuple(t["shape"]), t["dtype"]) for t in info["state"]}
    report("state layout", ours == theirs,
           f"{len(ours)} tensors" + ("" if ours == theirs else f" differ: {sorted(ours ^ theirs)}"))
    pours = {(k, tuple(s)) for k, s in tg.expected_params(spec).items()}
    ptheirs = {(p["name"], tuple(p["shape"])) for p in info["params"]}
    report("params layout", pours == ptheirs,
           f"{len(pours)} params" + ("" if pours == ptheirs else f" differ: {sorted(pours ^ ptheirs)}"))

    # 2. parameters and the initial state
    rng = np.random.default_rng(a.seed)
    dim = spec.model.dim
    x1 = rng.standard_normal((a.B, a.T, dim)).astype(np.float32)
    x2 = rng.standard_normal((a.B, a.T, dim)).astype(np.float32)
    for name, arr in (("x0.npy", np.zeros((a.B, 0, dim), np.float32)), ("x1.npy", x1), ("x2.npy", x2)):
        nlio.save_npy(w(name), arr)
    nlrun("--input", w("x0.npy"), "--params-out", w("p.safetensors"), "--state-out", w("s0.safetensors"))
    nlrun("--params", w("p.safetensors"), "--input", w("x1.npy"), "--output", w("y1.npy"),
          "--state-out", w("s1.safetensors"))
    nlrun("--params", w("p.safetensors"), "--input", w("x2.npy"), "--state-in", w("s1.safetensors"),
          "--output", w("y2.npy"))
    params = tg.load_params(spec, w("p.safetensors"))

    def compare(name, y, ref):
        y = np.asarray(y, np.float64)
        if y.shape != ref.shape:
            return report(name, False, f"shape {list(y.shape)} != {list(ref.shape)}")
        err = float(np.max(np.abs(y - ref))) / max(float(np.max(np.abs(ref))), 1e-30)
        report(name, np.isfinite(err) and err <= a.rtol,
               f"rel_max={err:.3e} (rtol {a.rtol:g}) max|y|={float(np.max(np.abs(ref))):.3e} shape={list(ref.shape)}")

    # 3. the forwards
    drawn = any(tm.initial_value(t, {k: torch.tensor(v) for k, v in params.items()}, 1) is None
                for t in spec.f32_state)
    if drawn:
        s0, i0, p0 = tg.load_state(spec, w("s0.safetensors"), a.B)
        prob = tg.Problem(spec, params, x1.astype(np.float64), s0, i0, p0)
        start = "the T = 0 state (drawn states)"
    else:
        prob = tg.Problem(spec, params, x1.astype(np.float64))
        start = "the initializers"
    y1 = prob.forward().detach().numpy()
    compare(f"call 1 from {start}", nlio.load_npy(w("y1.npy")), y1)
    if a.residual:  # the part of y beyond the input (a residual model's y is mostly x)
        compare(f"call 1 from {start}, y - x", nlio.load_npy(w("y1.npy")) - x1, y1 - x1)
    s1, i1, p1 = tg.load_state(spec, w("s1.safetensors"), a.B)
    prob2 = tg.Problem(spec, params, x2.astype(np.float64), s1, i1, p1)
    y2 = prob2.forward()
    compare(f"call 2 from call 1's --state-out (pending {p1})", nlio.load_npy(w("y2.npy")), y2.detach().numpy())
    if a.residual:
        compare("call 2, y - x", nlio.load_npy(w("y2.npy")) - x2, y2.detach().numpy() - x2)

    # 3b. from an all-zero state, and from call 1's state with every f32
    # tensor perturbed (the accumulators, deferred rows, stashed gates and conv
    # histories as nlc reads them, live or dead)
    tensors, meta = nlio.load_safetensors_with_metadata(w("s1.safetensors"))
    zero = {k: np.zeros_like(v) for k, v in tensors.items()}
    _, meta0 = nlio.load_safetensors_with_metadata(w("s0.safetensors"))
    prng = np.random.default_rng(a.seed + 1)
    noisy = {k: (v + 0.1 * max(float(np.max(np.abs(v))), 0.01) * prng.standard_normal(v.shape)).astype(v.dtype)
             if v.dtype == np.float32 else v for k, v in tensors.items()}
    for name, st, md, xin in (("zero", zero, meta0, "x1"), ("noisy", noisy, meta, "x2")):
        nlio.save_tensors(w(f"s_{name}.safetensors"), st, md)
        nlrun("--params", w("p.safetensors"), "--input", w(f"{xin}.npy"), "--state-in", w(f"s_{name}.safetensors"),
              "--output", w(f"y_{name}.npy"))
        s, i, pend = tg.load_state(spec, w(f"s_{name}.safetensors"), a.B)
        xs = (x1 if xin == "x1" else x2).astype(np.float64)
        yr = tg.Problem(spec, params, xs, s, i, pend).forward().detach().numpy()
        what = ("an all-zero state" if name == "zero" else
                "call 1's state with every f32 tensor perturbed")
        compare(f"call from {what}", nlio.load_npy(w(f"y_{name}.npy")), yr)
        if a.residual:
            compare(f"call from {what}, y - x", nlio.load_npy(w(f"y_{name}.npy")) - xs, yr - xs)

    # 4. gradients
    g = prob2.gradients(y2, torch.tensor(tg.cotangent(tuple(y2.shape), None), dtype=tm.DT))
    finite = all(np.all(np.isfinite(v)) for v in g.values())
    nonzero = sum(1 for v in g.values() if np.any(v != 0))
    report("gradients", finite, f"{len(g)} tensors, {nonzero} nonzero, all finite: {finite}")
    print(f"{label}: OVERALL: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
