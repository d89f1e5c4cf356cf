#!/usr/bin/python3
"""Run a float64 reference model.

  run_reference.py MODEL --params p.safetensors --input x.npy --output y.npy
                   [--state-out s.safetensors|s.npz] [--state-in s0] [--with-pending]

x: float32 [T, dim] or [B, T, dim]; y: float64 with the same leading dims.
States are written as F64 with names "<level>.<state>" and a leading [B] dim.
--state-in continues from an earlier --state-out (use --with-pending there so a
partial chunk of a chunked level is carried too; otherwise it starts empty).
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
    ap.add_argument("--output", required=True)
    ap.add_argument("--state-out")
    ap.add_argument("--state-in")
    ap.add_argument("--with-pending", action="store_true", help="also write private '_' carry entries")
    a = ap.parse_args(argv)

    params = nlio.load_safetensors(a.params)
    models.check_params(a.model, params)
    x = nlio.load_npy(a.input)
    dim = models.SPECS[a.model][0]
    if x.ndim not in (2, 3) or x.shape[-1] != dim or x.shape[-2] < 1:
        sys.exit(f"input shape {x.shape} is not [T, {dim}] or [B, T, {dim}] with T >= 1")
    state = None
    if a.state_in:
        state = nlio.load_states(a.state_in)
        B = 1 if x.ndim == 2 else x.shape[0]
        _, fresh = models.MODELS[a.model](params, np.zeros((B, 1, dim)))  # for names/shapes
        for k, v in fresh.items():
            if k not in state:
                if not k.startswith("_"):
                    sys.exit(f"--state-in lacks {k}")
                state[k] = np.zeros_like(v)  # no pending chunk recorded: start empty
            elif state[k].shape != v.shape:
                sys.exit(f"--state-in {k}: shape {state[k].shape}, expected {v.shape}")
    y, states = models.MODELS[a.model](params, x, state)
    nlio.save_npy(a.output, y.astype(np.float64))
    if a.state_out:
        nlio.save_states(a.state_out, {k: v for k, v in states.items()
                                       if a.with_pending or not k.startswith("_")})


if __name__ == "__main__":
    main()
