#!/usr/bin/python3
"""Check nl-run's gradients of one reference model end to end.

  grad_suite.py MODEL --nl-run BIN --out DIR [--T 24] [--B 2] [--seed 1]
                [--write differentiable|stop_grad|as-declared]
                [--checkpoint K] [--truncate H] [--tol T]

Draws the model's inputs (make_inputs.py), a cotangent dy ~ N(0, 1) shaped
like its output, and runs `nl-run --cotangent dy --grad-out g` on the model's
.nl (test/Runtime/models/MODEL.nl, or examples/NAME.nl for ex_NAME); then
gradcheck.py compares every gradient with central differences of the
float64 reference (models.py). The references differentiate through every
update (full meta-learning), so by default the .nl is copied with
`write = differentiable` in every rule; `--write stop_grad` keeps the
gradients of the default mode for a caller that compares them itself (no
finite differences: it only writes DIR/g.safetensors).
"""
import argparse
import os
import re
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gradcheck  # noqa: E402
import make_inputs  # noqa: E402
import models  # noqa: E402
import nlio  # noqa: E402


def with_write(text, mode):
    """Every `rule { ... }` of `text` with write = mode (replacing one given)."""
    def fix(m):
        body = re.sub(r",?\s*write\s*=\s*\w+", "", m.group(1)).strip().strip(",")
        return "rule { " + (body + ", " if body else "") + f"write = {mode} }}"
    return re.sub(r"rule\s*\{([^}]*)\}", fix, text)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--nl-run", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--T", type=int, default=24)
    ap.add_argument("--B", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--write", default="differentiable", choices=["differentiable", "stop_grad", "as-declared"])
    ap.add_argument("--checkpoint", type=int)
    ap.add_argument("--truncate", type=int)
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--cache-dir")
    a = ap.parse_args(argv)

    os.makedirs(a.out, exist_ok=True)
    src = make_inputs.nl_path(a.model)
    text = open(src).read()
    if a.write != "as-declared":
        text = with_write(text, a.write)
    nl = os.path.join(a.out, a.model + ".nl")
    with open(nl, "w") as f:
        f.write(text)
    subprocess.run([sys.executable, os.path.join(HERE, "make_inputs.py"), a.model, "--seed", str(a.seed),
                    "--T", str(a.T), "--B", str(a.B), "--out", a.out], check=True, stdout=subprocess.DEVNULL)
    x = np.load(os.path.join(a.out, "x.npy"))
    np.save(os.path.join(a.out, "x0.npy"), x[:, :0])
    cache = a.cache_dir or os.path.join(a.out, "cache")
    base = [a.nl_run, nl, "--cache-dir", cache, "--params", os.path.join(a.out, "params.safetensors")]
    # Every call asks for a gradient (here the input's), so that one
    # compiled model (nlc --backward) serves them all.
    scratch = ["--input-grad-out", os.path.join(a.out, "dx_scratch.npy")]
    subprocess.run(base + scratch + ["--input", os.path.join(a.out, "x.npy"),
                                     "--output", os.path.join(a.out, "y.npy")], check=True)
    y = np.load(os.path.join(a.out, "y.npy"))
    # The backward's forward is the model: the float64 reference's outputs.
    params = {k: v.astype(np.float64) for k, v in nlio.load_safetensors(
        os.path.join(a.out, "params.safetensors")).items()}
    if a.model in models.MODELS and a.write != "stop_grad":
        y_ref, _ = models.MODELS[a.model](params, x)
        diff = float(np.max(np.abs(y - y_ref))) / max(float(np.max(np.abs(y_ref))), 1e-30)
        print(f"forward: {'PASS' if diff <= 1e-4 else 'FAIL'} rel={diff:.2e}")
        if not diff <= 1e-4:
            return 1
    dy = np.random.default_rng(a.seed + 1000).standard_normal(y.shape).astype(np.float32)
    np.save(os.path.join(a.out, "dy.npy"), dy)
    backward = ["--input", os.path.join(a.out, "x.npy"), "--cotangent", os.path.join(a.out, "dy.npy"),
                "--grad-out", os.path.join(a.out, "g.safetensors")]
    if a.checkpoint:
        backward += ["--bptt-checkpoint", str(a.checkpoint)]
    if a.truncate is not None:
        backward += ["--bptt-truncate", str(a.truncate)]
    subprocess.run(base + backward, check=True)
    if a.write == "stop_grad":
        print("wrote " + os.path.join(a.out, "g.safetensors"))
        return 0
    subprocess.run(base + scratch + ["--input", os.path.join(a.out, "x0.npy"),
                                     "--state-out", os.path.join(a.out, "s0.safetensors")], check=True)
    model = a.model
    return gradcheck.main([model, "--params", os.path.join(a.out, "params.safetensors"),
                           "--input", os.path.join(a.out, "x.npy"), "--cotangent", os.path.join(a.out, "dy.npy"),
                           "--grads", os.path.join(a.out, "g.safetensors"),
                           "--state0", os.path.join(a.out, "s0.safetensors"), "--tol", str(a.tol)])


if __name__ == "__main__":
    sys.exit(main())
