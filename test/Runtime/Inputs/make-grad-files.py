#!/usr/bin/python3
"""Hand-made gradient files for compare-grads.test, written byte by byte
here (struct + json + NumPy; independent of test/reference/nlio.py):

  ref.safetensors       F64: W [3, 4], b [4], initial_state.M [2, 2] = 0,
                        s [] (a 0-d tensor), with __metadata__
  f32.safetensors       the same values as F32 (rounding: rel < 1e-7),
                        keys in another order, no metadata
  off.safetensors       W[1, 2] += 1e-3 * max|W|: max_rel = 1e-3
  tiny.safetensors      initial_state.M = 1e-9 where ref has exact zeros
  missing.safetensors   no b
  extra.safetensors     also initial_state.extra
  shape.safetensors     b is [1, 4]
  nan.safetensors       W[0, 0] = NaN
  i32.safetensors       b stored as I32 (not a gradient dtype)
  short.safetensors     the header length points past the end of the file
  offsets.safetensors   W's data_offsets run past the buffer

  make-grad-files.py DIR
"""
import json
import os
import struct
import sys

import numpy as np

CODES = {np.dtype("<f8"): "F64", np.dtype("<f4"): "F32", np.dtype("<i4"): "I32"}


def write(path, tensors, metadata=None, order=None, patch=None):
    header, chunks, off = {}, [], 0
    for name in order or list(tensors):
        a = np.asarray(tensors[name], order="C")  # keeps 0-d shapes
        raw = a.tobytes()
        header[name] = {"dtype": CODES[a.dtype], "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        chunks.append(raw)
        off += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    if patch:
        patch(header)
    h = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(chunks))


def main():
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    p = lambda n: os.path.join(d, n + ".safetensors")  # noqa: E731
    rng = np.random.default_rng(7)
    ref = {"W": rng.standard_normal((3, 4)), "b": rng.standard_normal(4),
           "initial_state.M": np.zeros((2, 2)), "s": np.array(2.5)}
    write(p("ref"), ref, {"loss": "sum(dy * y)"})
    write(p("f32"), {k: v.astype("<f4") for k, v in ref.items()}, order=sorted(ref, reverse=True))
    off = dict(ref, W=ref["W"].copy())
    off["W"][1, 2] += 1e-3 * np.max(np.abs(ref["W"]))
    write(p("off"), off)
    write(p("tiny"), dict(ref, **{"initial_state.M": np.full((2, 2), 1e-9)}))
    write(p("missing"), {k: v for k, v in ref.items() if k != "b"})
    write(p("extra"), dict(ref, **{"initial_state.extra": np.ones(3)}))
    write(p("shape"), dict(ref, b=ref["b"].reshape(1, 4)))
    nan = dict(ref, W=ref["W"].copy())
    nan["W"][0, 0] = np.nan
    write(p("nan"), nan)
    write(p("i32"), dict(ref, b=np.arange(4, dtype="<i4")))
    write(p("offsets"), ref, patch=lambda h: h["W"].update(data_offsets=[0, 10 ** 6]))
    with open(p("ref"), "rb") as f:
        data = f.read()
    with open(p("short"), "wb") as f:
        f.write(struct.pack("<Q", len(data) * 2) + data[8:])


if __name__ == "__main__":
    main()
