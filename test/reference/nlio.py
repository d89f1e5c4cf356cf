"""Minimal .npy and safetensors I/O (standard library + NumPy only).

safetensors layout: u64 little-endian header length N, N bytes of JSON
{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}},
then the byte buffer (offsets are relative to its start), little-endian, C order.
"""
import json
import struct

import numpy as np

_DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8"), "I32": np.dtype("<i4"), "I64": np.dtype("<i8")}
_NAMES = {v: k for k, v in _DTYPES.items()}


def load_npy(path):
    return np.load(path, allow_pickle=False)


def save_npy(path, array):
    np.save(path, np.asarray(array), allow_pickle=False)


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    buf = memoryview(data)[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] not in _DTYPES:
            raise ValueError(f"{path}: {name}: unsupported dtype {info['dtype']}")
        dt = _DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        shape = tuple(info["shape"])
        if end - begin != dt.itemsize * int(np.prod(shape, dtype=np.int64)):
            raise ValueError(f"{path}: {name}: data_offsets do not match shape")
        out[name] = np.frombuffer(buf[begin:end], dtype=dt).reshape(shape).astype(dt.newbyteorder("="))
    return out


def save_safetensors(path, tensors, dtype="F64", metadata=None):
    """tensors: {name: array}; all written as dtype ("F32" or "F64");
    metadata: {str: str}, the header's __metadata__."""
    dt = _DTYPES[dtype]
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        a = np.asarray(tensors[name], dtype=dt, order="C")  # keeps 0-d shapes
        raw = a.tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)  # pad so the buffer starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for raw in chunks:
            f.write(raw)


def load_states(path):
    """Load a state file (.safetensors or .npz) as {name: float64 array}."""
    if str(path).endswith(".npz"):
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k].astype(np.float64) for k in z.files}
    return {k: v.astype(np.float64) for k, v in load_safetensors(path).items()}


def save_states(path, states):
    if str(path).endswith(".npz"):
        np.savez(path, **{k: np.asarray(v, np.float64) for k, v in states.items()})
    else:
        save_safetensors(path, states, "F64")


_BY_NUMPY = {np.dtype("<f4"): "F32", np.dtype("<f8"): "F64",
             np.dtype("<i4"): "I32", np.dtype("<i8"): "I64"}


def load_safetensors_with_metadata(path):
    """(tensors as stored, metadata dict)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    return load_safetensors(path), header.get("__metadata__", {})


def save_tensors(path, tensors, metadata=None, checksums=True):
    """Writes each array with its own dtype (float32/float64/int32/int64) and,
    with `checksums`, the CRC-32 of every tensor as nlc records it
    ("nlc.crc32.<name>" in the metadata): a file the runtime's checksums
    accept, whatever its values say."""
    import zlib
    meta = dict(metadata or {})
    meta = {k: v for k, v in meta.items() if not k.startswith("nlc.crc32.")}
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        dt = a.dtype.newbyteorder("<")
        if dt not in _BY_NUMPY:
            raise ValueError(f"{name}: unsupported dtype {a.dtype}")
        raw = a.astype(dt).tobytes()
        header[name] = {"dtype": _BY_NUMPY[dt], "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        if checksums:
            meta["nlc.crc32." + name] = "%08x" % (zlib.crc32(raw) & 0xffffffff)
        chunks.append(raw)
        offset += len(raw)
    if meta:
        header["__metadata__"] = meta
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for raw in chunks:
            f.write(raw)
