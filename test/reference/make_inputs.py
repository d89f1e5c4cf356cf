#!/usr/bin/python3
"""Write deterministic inputs for a reference model.

  make_inputs.py MODEL --seed N --T 512 [--B B] --out DIR

DIR/params.safetensors: each `param` of test/Runtime/models/MODEL.nl, F32, drawn
N(0, std) with the declared std, in declaration order.
DIR/x.npy: float32 N(0, 1), shape [T, dim] (no --B) or [B, T, dim] (--B given).
Both come from one numpy.random.default_rng(seed) stream: params first, then x.
"""
import argparse
import os
import re
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import nlio  # noqa: E402

NL_DIR = os.path.join(HERE, "..", "Runtime", "models")
PARAM_RE = re.compile(r"^param\s+(\w+)\s*:\s*\[([\d,\s]+)\]\s*=\s*normal\(\s*std\s*=\s*([0-9.eE+-]+)\s*\)", re.M)
DIM_RE = re.compile(r"^model\s+\w+\s*\(\s*dim\s*=\s*(\d+)\s*\)", re.M)


def parse_nl(path):
    """-> (dim, [(name, shape, std)]) from a .nl file's `model` and `param` lines."""
    text = open(path).read()
    dim = int(DIM_RE.search(text).group(1))
    params = [(n, tuple(int(d) for d in s.split(",")), float(std)) for n, s, std in PARAM_RE.findall(text)]
    return dim, params


def make(model, seed, T, B=None, nl_dir=NL_DIR):
    dim, specs = parse_nl(os.path.join(nl_dir, model + ".nl"))
    rng = np.random.default_rng(seed)
    params = {n: (rng.standard_normal(shape) * std).astype(np.float32) for n, shape, std in specs}
    shape = (T, dim) if B is None else (B, T, dim)
    x = rng.standard_normal(shape).astype(np.float32)
    return params, x


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--T", type=int, default=512)
    ap.add_argument("--B", type=int, default=None)
    ap.add_argument("--out", required=True)
    ap.add_argument("--nl-dir", default=NL_DIR)
    a = ap.parse_args()
    params, x = make(a.model, a.seed, a.T, a.B, a.nl_dir)
    os.makedirs(a.out, exist_ok=True)
    nlio.save_safetensors(os.path.join(a.out, "params.safetensors"), params, "F32")
    nlio.save_npy(os.path.join(a.out, "x.npy"), x)


if __name__ == "__main__":
    main()
