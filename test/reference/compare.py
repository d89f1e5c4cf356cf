#!/usr/bin/python3
"""Compare a result against a float64 reference (the second file).

  compare.py A.npy REF.npy [--rtol 1e-4] [--name y]
  compare.py A.safetensors REF.safetensors [--rtol 1e-4]     (or .npz; state mode)

Per tensor it prints:
  max_abs  = max|a - ref|
  rel_max  = max_abs / max(max|ref|, 1e-30)   relative to the reference's largest
             magnitude -- THIS GATES: fail if rel_max > rtol
  elem_rel = max |a - ref| / max(|ref|, floor), floor = --floor * max|ref|
             (informational only)
Shapes must match exactly, and a non-finite value fails. In state mode every
reference name must be present in A; names starting with "_" (private carry)
are skipped. Exit status 1 if any check fails.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nlio  # noqa: E402

TINY = 1e-30


def compare(name, a, ref, rtol, floor):
    a, ref = np.asarray(a, np.float64), np.asarray(ref, np.float64)
    if a.shape != ref.shape:
        print(f"{name}: FAIL shape {a.shape} != reference {ref.shape}")
        return False
    if not np.all(np.isfinite(a)) or not np.all(np.isfinite(ref)):
        print(f"{name}: FAIL non-finite values (a: {np.sum(~np.isfinite(a))}, ref: {np.sum(~np.isfinite(ref))})")
        return False
    if a.size == 0:
        print(f"{name}: PASS (empty)")
        return True
    err = np.abs(a - ref)
    scale = float(np.max(np.abs(ref)))
    max_abs = float(np.max(err))
    rel_max = max_abs / max(scale, TINY)
    elem_rel = float(np.max(err / np.maximum(np.abs(ref), max(floor * scale, TINY))))
    ok = rel_max <= rtol
    print(f"{name}: {'PASS' if ok else 'FAIL'} shape={list(ref.shape)} max_abs={max_abs:.3e} "
          f"max|ref|={scale:.3e} rel_max={rel_max:.3e} (gates, rtol={rtol:g}) "
          f"elem_rel={elem_rel:.3e} (info, floor={floor:g}*max|ref|)")
    return ok


def load(path):
    if path.endswith(".npy"):
        return nlio.load_npy(path)
    return nlio.load_states(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a")
    ap.add_argument("ref")
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--floor", type=float, default=1e-3)
    ap.add_argument("--name", default=None)
    ap.add_argument("--skip-buffers", action="store_true",
                    help="compare the levels' states only, not the compiler's buffers (`<level>.__*`: "
                         "pending sums, deferred rows, gates), which two forms of a model may hold differently")
    args = ap.parse_args()
    A, R = load(args.a), load(args.ref)
    if isinstance(A, dict) != isinstance(R, dict):
        sys.exit("compare: both files must be .npy, or both state files")
    if not isinstance(R, dict):
        ok = compare(args.name or "y", A, R, args.rtol, args.floor)
    else:
        ok = True
        for k in sorted(R):
            if k.startswith("_") or (args.skip_buffers and ".__" in k):
                continue
            if k not in A:
                print(f"{k}: FAIL missing from {args.a}")
                ok = False
            else:
                ok &= compare(k, A[k], R[k], args.rtol, args.floor)
        for k in sorted(set(A) - set(R)):
            print(f"{k}: note: only in {args.a}, not compared")
        if args.skip_buffers:
            print("buffers (<level>.__*): not compared")
    print("OVERALL:", "PASS" if ok else "FAIL", "(gate: rel_max = max|a-ref| / max|ref| <= rtol)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
