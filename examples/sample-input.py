#!/usr/bin/python3
"""Writes the bundled sample input of `make run`: float32 tokens N(0, 1),
deterministic by seed.

  sample-input.py OUT.npy [--T 2048] [--B 2] [--dim 64] [--seed 0]
"""
import argparse

import numpy as np

ap = argparse.ArgumentParser(description=__doc__)
ap.add_argument("out")
ap.add_argument("--T", type=int, default=2048)
ap.add_argument("--B", type=int, default=2)
ap.add_argument("--dim", type=int, default=64)
ap.add_argument("--seed", type=int, default=0)
a = ap.parse_args()
x = np.random.default_rng(a.seed).standard_normal((a.B, a.T, a.dim))
np.save(a.out, x.astype(np.float32))
