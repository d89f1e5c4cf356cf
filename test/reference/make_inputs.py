#!/usr/bin/python3
"""Write deterministic inputs for a reference model.

  make_inputs.py MODEL --seed N --T 512 [--B B] --out DIR

DIR/params.safetensors: each `param` of test/Runtime/models/MODEL.nl, F32, drawn
N(0, std) with the declared std, in declaration order; `zeros`, `ones` and
`fill(v)` params get that constant (no draw). A model named ex_NAME reads
examples/NAME.nl with "_" spelled "-" (ex_gated_deltanet -> gated-deltanet.nl).
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
EXAMPLES_DIR = os.path.join(HERE, "..", "..", "examples")
PARAM_RE = re.compile(r"^param\s+(\w+)\s*:\s*\[([\d,\s]+)\]\s*=\s*"
                      r"(?:normal\(\s*std\s*=\s*([0-9.eE+-]+)\s*\)|(zeros|ones|fill\(\s*[0-9.eE+-]+\s*\)))", re.M)
DIM_RE = re.compile(r"^model\s+\w+\s*\(\s*dim\s*=\s*(\d+)\s*[,)]", re.M)


def nl_path(model, nl_dir=NL_DIR):
    """The .nl file of MODEL: examples/NAME.nl for ex_NAME, else nl_dir/MODEL.nl."""
    if model.startswith("ex_"):
        return os.path.join(EXAMPLES_DIR, model[3:].replace("_", "-") + ".nl")
    return os.path.join(nl_dir, model + ".nl")


def _const(init):  # "zeros" / "ones" / "fill(v)" -> v
    return {"zeros": 0.0, "ones": 1.0}[init] if init in ("zeros", "ones") else float(init[len("fill("):-1])


def parse_nl(path):
    """-> (dim, [(name, shape, std)]) from a .nl file's `model` and `param` lines.
    std is a float for normal(std = s), else the initializer text ("zeros", "ones",
    "fill(v)" without spaces). Shapes must be integer literals."""
    text = open(path).read()
    dim = int(DIM_RE.search(text).group(1))
    params = [(n, tuple(int(d) for d in s.split(",")), float(std) if std else re.sub(r"\s", "", c))
              for n, s, std, c in PARAM_RE.findall(text)]
    n_decl = len(re.findall(r"^param\s", text, re.M))
    if len(params) != n_decl:
        raise ValueError(f"{path}: {n_decl - len(params)} param(s) with an unsupported shape or initializer")
    return dim, params


def make(model, seed, T, B=None, nl_dir=NL_DIR):
    dim, specs = parse_nl(nl_path(model, nl_dir))
    rng = np.random.default_rng(seed)
    params = {n: (rng.standard_normal(shape) * std if isinstance(std, float) else np.full(shape, _const(std)))
              .astype(np.float32) for n, shape, std in specs}
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
