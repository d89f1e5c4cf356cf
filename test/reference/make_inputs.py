#!/usr/bin/python3
"""Write deterministic inputs for a reference model.

  make_inputs.py MODEL --seed N --T 512 [--B B] --out DIR

DIR/params.safetensors: each `param` of test/Runtime/models/MODEL.nl, F32, drawn
N(0, std) with the declared std, in declaration order; `zeros`, `ones` and
`fill(v)` params get that constant (no draw). A model named ex_NAME reads
examples/NAME.nl with "_" spelled "-" (ex_gated_deltanet -> gated-deltanet.nl).
Each MLP state initialized from the params file (`state S : mlp[w0, .., wn](...)
= file("key")`) gets tensors "key.w<i>" ([heads?, w_{i+1}, w_i], drawn
N(0, 1/w_i), i.e. std 1/sqrt(fan_in)) and, with `bias`, "key.b<i>" ([heads?,
w_{i+1}], N(0, 0.1^2)), layer by layer, after the params.
DIR/x.npy: float32 N(0, 1), shape [T, dim] (no --B) or [B, T, dim] (--B given).
All come from one numpy.random.default_rng(seed) stream: params, MLP states, x.
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
MLP_RE = re.compile(r"^\s*state\s+\w+\s*:\s*mlp\[([\d,\s]+)\]\s*(?:\(([^)]*)\))?\s*=\s*file\(\s*\"([\w.]+)\"\s*\)", re.M)
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


def parse_mlp_states(path):
    """-> [(key, widths, heads, bias)] for the MLP states initialized from the params file."""
    out = []
    for widths, opts, key in MLP_RE.findall(open(path).read()):
        opts = opts or ""
        heads = re.search(r"heads\s*=\s*(\d+)", opts)
        out.append((key, [int(w) for w in widths.split(",")], int(heads.group(1)) if heads else 1,
                    re.search(r"\bbias\b", opts) is not None))
    return out


def make(model, seed, T, B=None, nl_dir=NL_DIR):
    path = nl_path(model, nl_dir)
    dim, specs = parse_nl(path)
    rng = np.random.default_rng(seed)
    params = {n: (rng.standard_normal(shape) * std if isinstance(std, float) else np.full(shape, _const(std)))
              .astype(np.float32) for n, shape, std in specs}
    for key, widths, heads, bias in parse_mlp_states(path):
        lead = (heads,) if heads != 1 else ()
        for i in range(len(widths) - 1):
            shape = lead + (widths[i + 1], widths[i])
            params[f"{key}.w{i}"] = (rng.standard_normal(shape) / np.sqrt(widths[i])).astype(np.float32)
            if bias:
                params[f"{key}.b{i}"] = (0.1 * rng.standard_normal(lead + (widths[i + 1],))).astype(np.float32)
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
