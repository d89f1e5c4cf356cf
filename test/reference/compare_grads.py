#!/usr/bin/python3
"""Compares two gradient files (safetensors, F32 or F64 tensors).

  compare_grads.py A.safetensors B.safetensors [--rtol 1e-4] [--atol 0]
                   [--allow-missing] [--quiet]

For a gradient of `torch_grads.py --grad-out` against one of
`nl-run --grad-out` (or any two such files): tensors are matched by name
(parameter names as `nl-run --info` gives them, `initial_state.<state>`
for the gradients of the initial state); the header's __metadata__ is
ignored. Per tensor it prints

  max_abs = max |a - b|
  max_rel = max_abs / max(max |a|, max |b|)   (0 when both are all zeros)

and the tensor matches when both are finite, the shapes agree and
max_abs <= atol + rtol * max(max |a|, max |b|). Keys in one file only are
listed ("missing in B", "extra in B") and are a mismatch unless
--allow-missing. F32 and F64 compare with each other (both read as
float64).

Exit status: 0 when everything matches, 1 on a mismatch (the last line
says which tensors and why), 2 when a file cannot be read (not
safetensors, a dtype other than F32/F64, offsets outside the file).
Standard library and NumPy only.
"""
import argparse
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8")}


class FormatError(Exception):
    pass


def read(path):
    """{name: float64 array} of a safetensors file of F32/F64 tensors."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise FormatError(f"{path}: {e.strerror}")
    if len(data) < 8:
        raise FormatError(f"{path}: {len(data)} bytes, shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise FormatError(f"{path}: header length {n} exceeds the file ({len(data)} bytes)")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise FormatError(f"{path}: the header is not JSON ({e})")
    if not isinstance(header, dict):
        raise FormatError(f"{path}: the header is not a JSON object")
    buf = memoryview(data)[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= set(info):
            raise FormatError(f"{path}: '{name}': needs dtype, shape and data_offsets")
        if info["dtype"] not in DTYPES:
            raise FormatError(f"{path}: '{name}': dtype {info['dtype']}, gradients are F32 or F64")
        shape = info["shape"]
        if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise FormatError(f"{path}: '{name}': bad shape {shape!r}")
        offs = info["data_offsets"]
        if (not isinstance(offs, list) or len(offs) != 2 or not all(isinstance(o, int) for o in offs)
                or not 0 <= offs[0] <= offs[1] <= len(buf)):
            raise FormatError(f"{path}: '{name}': data_offsets {offs!r} outside the {len(buf)}-byte buffer")
        dt = DTYPES[info["dtype"]]
        count = int(np.prod(shape, dtype=np.int64))
        if offs[1] - offs[0] != count * dt.itemsize:
            raise FormatError(f"{path}: '{name}': data_offsets {offs} hold {offs[1] - offs[0]} bytes, "
                              f"shape {shape} {info['dtype']} needs {count * dt.itemsize}")
        out[name] = np.frombuffer(buf[offs[0]:offs[1]], dtype=dt).reshape(shape).astype(np.float64)
    return out


def compare(a, b, rtol, atol):
    """(ok, line, reason) for one tensor pair."""
    if a.shape != b.shape:
        return False, f"shape {list(a.shape)} vs {list(b.shape)}", "shape"
    fa, fb = bool(np.all(np.isfinite(a))), bool(np.all(np.isfinite(b)))
    if not (fa and fb):
        where = " and ".join(w for w, f in (("A", fa), ("B", fb)) if not f)
        return False, f"shape {list(a.shape)} non-finite values in {where}", "non-finite"
    if a.size == 0:
        return True, f"shape {list(a.shape)} (empty)", ""
    scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(b))))
    max_abs = float(np.max(np.abs(a - b)))
    max_rel = max_abs / scale if scale > 0 else 0.0
    ok = max_abs <= atol + rtol * scale
    line = (f"shape {list(a.shape)} max_abs={max_abs:.3e} max_rel={max_rel:.3e} "
            f"max|A|={float(np.max(np.abs(a))):.3e} max|B|={float(np.max(np.abs(b))):.3e}")
    return ok, line, "" if ok else f"max_abs {max_abs:.3e} > atol + rtol * {scale:.3e}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a", metavar="A.safetensors")
    ap.add_argument("b", metavar="B.safetensors")
    ap.add_argument("--rtol", type=float, default=1e-4,
                    help="relative to the tensor's max magnitude (default 1e-4)")
    ap.add_argument("--atol", type=float, default=0.0, help="absolute (default 0)")
    ap.add_argument("--allow-missing", action="store_true",
                    help="keys in one file only are listed but are not a mismatch")
    ap.add_argument("--quiet", action="store_true", help="print only mismatches and the verdict")
    args = ap.parse_args(argv)
    try:
        A, B = read(args.a), read(args.b)
    except FormatError as e:
        print(f"compare_grads: error: {e}", file=sys.stderr)
        return 2
    bad = []
    for name in sorted(set(A) & set(B)):
        ok, line, why = compare(A[name], B[name], args.rtol, args.atol)
        if not ok:
            bad.append(f"{name} ({why})")
        if not ok or not args.quiet:
            print(f"{'ok  ' if ok else 'DIFF'} {name}: {line}")
    missing = sorted(set(A) - set(B))
    extra = sorted(set(B) - set(A))
    if missing:
        print(f"missing in B ({args.b}): {', '.join(missing)}")
    if extra:
        print(f"extra in B ({args.b}): {', '.join(extra)}")
    n = len(set(A) & set(B))
    tol = f"rtol {args.rtol:g}, atol {args.atol:g}"
    keys_bad = (missing or extra) and not args.allow_missing
    if not bad and not keys_bad:
        note = f"; {len(missing)} missing, {len(extra)} extra (allowed)" if missing or extra else ""
        print(f"compare_grads: PASS: {n} tensors match ({tol}){note}")
        return 0
    parts = []
    if bad:
        parts.append(f"{len(bad)} of {n} tensors differ: {'; '.join(bad)}")
    if keys_bad:
        parts.append(f"{len(missing)} keys missing in B, {len(extra)} extra in B")
    print(f"compare_grads: FAIL ({tol}): {'; '.join(parts)}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
