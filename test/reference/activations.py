#!/usr/bin/python3
"""Compares the outputs of test/Runtime/Inputs/activation.nl with float64.

  activations.py ACT X Y TOL

ACT is the activation the model applied, X its input and Y its output
(.npy). Prints PASS or FAIL with the largest error, measured as
|y - ref| / max(1, |ref|): relative for large values, absolute near zero
(where gelu's 1 + erf cancels, a relative error means nothing).
"""
import math
import sys

import numpy as np

SQRT_2_PI = math.sqrt(2.0 / math.pi)


def reference(act, x):
    erf = np.vectorize(math.erf)
    return {
        "gelu": lambda: 0.5 * x * (1.0 + erf(x / math.sqrt(2.0))),
        "gelu_tanh": lambda: 0.5 * x * (1.0 + np.tanh(SQRT_2_PI * (x + 0.044715 * x ** 3))),
        "sigmoid": lambda: 1.0 / (1.0 + np.exp(-x)),
        "silu": lambda: x / (1.0 + np.exp(-x)),
        "tanh": lambda: np.tanh(x),
        "exp": lambda: np.exp(x),
        "softplus": lambda: np.log1p(np.exp(x)),
    }[act]()


def main():
    act, x_path, y_path, tol = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    x = np.load(x_path).astype(np.float64).ravel()
    y = np.load(y_path).astype(np.float64).ravel()
    ref = reference(act, x)
    err = float(np.max(np.abs(y - ref) / np.maximum(1.0, np.abs(ref))))
    ok = err <= tol
    print(f"{act}: {'PASS' if ok else 'FAIL'} err={err:.2e} tol={tol:.0e}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
