#!/usr/bin/python3
"""Lies to nl-run: mutated state files, and what the runtime makes of them.

  probe-state.py NL_RUN MODEL [MODEL ...] [--work DIR] [--tokens T]
                 [--cache-dir DIR] [--table]

For every MODEL (a .nl/.mlir source or a compiled .so), runs nl-run once to
save a state, then loads hundreds of mutated copies of it with --state-in:
counts (ring positions and fills, deferred-token counts) set to -1, just
past their range, 40, 1e7, 2^31 - 1, stored as F32 or I64; rings that
contradict their fill; NaN and Inf in every value tensor; wrong shapes and
dtypes; missing and extra tensors; a tampered clock, model hash, format tag
or layout; flipped data bytes and truncations. Every mutation but the byte
flips and truncations rewrites the file's checksums, so that each check
behind the checksum is exercised too. A few mutations make a state that is
still valid (a count moved to another valid value), and must load.

Each case has an expected outcome: `refuse` (exit status 1 and a message
"nl-run: error: <path>..."), `warn` (exit status 0 and "nl-run: warning:"),
or `accept` (exit status 0). The outcome is a crash when nl-run dies of a
signal or exits with any other status, and a silent wrong answer when an
invalid state is accepted without a word. Prints the table of categories x
(cases, clean errors, warnings, accepted valid, crashes, silent wrong) and
exits 1 if there is any crash, silent wrong answer or unexpected refusal.
"""
import argparse
import collections
import json
import os
import shutil
import struct
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "test", "reference"))
import nlio  # noqa: E402


def manifest(nl_run, model, cache):
    out = subprocess.run([nl_run, model, "--cache-dir", cache, "--info"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def cases_for(man, tensors, meta):
    """Yields (category, name, expected, tensors, metadata, raw_edit)."""
    counters = [t for t in man["state"] if t.get("dtype") == "i32"]
    fills = {t["ring_fill"] for t in counters if "ring_fill" in t}
    values = [t for t in man["state"] if t.get("dtype", "f32") == "f32"]

    def edited(name, array):
        t = dict(tensors)
        t[name] = array
        return t

    for t in counters:
        name, hi = t["name"], t["range"][1]
        base = tensors[name]
        for v in [-1, hi + 1, 40, 10**7, 2**31 - 1, -2**31]:
            if 0 <= v <= hi:
                continue
            yield ("counts out of range", f"{name}={v}", "refuse",
                   edited(name, np.full_like(base, v)), meta, None)
        yield ("counts as other dtypes", f"{name} as F32 2.5", "refuse",
               edited(name, np.full(base.shape, 2.5, np.float32)), meta, None)
        yield ("counts as other dtypes", f"{name} as I64 2^31", "refuse",
               edited(name, np.full(base.shape, 2**31, np.int64)), meta, None)
        yield ("counts as other dtypes", f"{name} as I64 (in range)", "refuse",
               edited(name, base.astype(np.int64)), meta, None)
        if "ring_fill" in t:
            fill = t["ring_fill"]
            window = hi + 1
            for f, p in [(1, 0), (window - 1, 0), (0, 1)]:
                if f >= window or p == f:
                    continue
                t2 = edited(name, np.full_like(base, p))
                t2[fill] = np.full_like(tensors[fill], f)
                yield ("rings that contradict their fill",
                       f"{name}={p} {fill}={f}", "refuse", t2, meta, None)
            # Valid: a full ring writes anywhere.
            t2 = edited(name, np.full_like(base, hi))
            t2[fill] = np.full_like(tensors[fill], window)
            yield ("valid states", f"{name}={hi} {fill}={window} (full ring)",
                   "accept", t2, meta, None)
        elif hi > 0 and name not in fills:
            yield ("valid states", f"{name}=0 (in range)", "accept",
                   edited(name, np.zeros_like(base)), meta, None)
    for t in values:
        name = t["name"]
        base = tensors[name]
        if base.size == 0:
            continue
        for bad in [np.nan, np.inf, -np.inf]:
            a = base.copy()
            a.flat[base.size // 2] = bad
            yield ("NaN and Inf values", f"{name}[{base.size // 2}]={bad}",
                   "warn", edited(name, a), meta, None)
        yield ("wrong dtypes", f"{name} as F64", "refuse",
               edited(name, base.astype(np.float64)), meta, None)
        yield ("wrong dtypes", f"{name} as I32", "refuse",
               edited(name, base.astype(np.int32)), meta, None)
        yield ("wrong shapes", f"{name} with batch 2", "refuse",
               edited(name, np.concatenate([base, base])), meta, None)
        if base.ndim != 1:
            yield ("wrong shapes", f"{name} flattened", "refuse",
                   edited(name, base.reshape(-1)), meta, None)
        if base.ndim > 1 and base.shape[-1] > 1:
            yield ("wrong shapes", f"{name} one column short", "refuse",
                   edited(name, base[..., :-1]), meta, None)
    for t in man["state"][:8]:
        t2 = dict(tensors)
        del t2[t["name"]]
        yield ("missing and extra tensors", f"without {t['name']}", "refuse",
               t2, meta, None)
    t2 = dict(tensors)
    t2["extra.tensor"] = np.zeros((1, 4), np.float32)
    yield ("missing and extra tensors", "an extra tensor", "refuse", t2, meta,
           None)
    words = meta["nlc.clock"].rstrip(",").split(",")
    for i in range(len(words)):
        for new in [str(int(words[i]) + 1), "2.5", "", "x"]:
            w = list(words)
            w[i] = new
            yield ("tampered metadata", f"clock word {i}={new!r}", "refuse",
                   tensors, dict(meta, **{"nlc.clock": ",".join(w) + ","}),
                   None)
    yield ("tampered metadata", "clock missing", "refuse", tensors,
           {k: v for k, v in meta.items() if k != "nlc.clock"}, None)
    yield ("tampered metadata", "clock with an extra word", "refuse", tensors,
           dict(meta, **{"nlc.clock": meta["nlc.clock"] + "0,"}), None)
    yield ("tampered metadata", "another model hash", "refuse", tensors,
           dict(meta, **{"nlc.model_hash": "0123456789abcdef"}), None)
    yield ("tampered metadata", "no format tag", "refuse", tensors,
           {k: v for k, v in meta.items() if k != "nlc.format"}, None)
    yield ("tampered metadata", "format nlc-state/2", "refuse", tensors,
           dict(meta, **{"nlc.format": "nlc-state/2"}), None)
    yield ("tampered metadata", "no checksums", "refuse", tensors, meta,
           "no-checksums")
    # Raw damage, checksums left as they were.
    for k in range(16):
        yield ("damaged bytes", f"data byte flip {k}", "refuse", tensors, meta,
               ("flip", k))
    for frac in [0.0, 0.01, 0.5, 0.99]:
        yield ("damaged bytes", f"truncated at {frac:.0%}", "refuse", tensors,
               meta, ("truncate", frac))
    yield ("damaged bytes", "header size past the end", "refuse", tensors,
           meta, ("header", 0))


def write_case(path, tensors, meta, edit, original):
    if edit is None or edit == "no-checksums":
        nlio.save_tensors(path, tensors, meta, checksums=edit is None)
        return
    data = bytearray(open(original, "rb").read())
    (n,) = struct.unpack("<Q", data[:8])
    kind, arg = edit
    if kind == "flip":
        start = 8 + n
        span = len(data) - start
        if span > 0:
            at = start + (arg * 7919) % span
            data[at] ^= 1 << (arg % 8)
    elif kind == "truncate":
        data = data[:int(len(data) * arg)]
    elif kind == "header":
        data[:8] = struct.pack("<Q", len(data))
    open(path, "wb").write(bytes(data))


def run_case(nl_run, model, cache, x, path):
    p = subprocess.run([nl_run, model, "--cache-dir", cache, "--input", x,
                        "--state-in", path], capture_output=True, text=True)
    return p.returncode, p.stderr


def classify(expected, rc, err, path):
    if rc < 0 or rc not in (0, 1) or "Sanitizer" in err or "Assertion" in err:
        return "crash"
    if rc == 1:
        if "nl-run: error:" not in err:
            return "crash"
        return "error" if expected == "refuse" else "unexpected refusal"
    if expected == "refuse":
        return "silent wrong"
    if expected == "warn":
        return "warning" if "nl-run: warning:" in err else "silent wrong"
    return "accepted"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("nl_run")
    ap.add_argument("models", nargs="+")
    ap.add_argument("--work", default="probe-state")
    ap.add_argument("--cache-dir", default=None)
    ap.add_argument("--tokens", type=int, default=37)
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    cache = a.cache_dir or os.path.join(a.work, "cache")
    table = collections.OrderedDict()
    problems = []
    total = 0
    for model in a.models:
        man = manifest(a.nl_run, model, cache)
        stem = os.path.splitext(os.path.basename(model))[0]
        x = os.path.join(a.work, stem + "-x.npy")
        np.save(x, np.random.default_rng(1).standard_normal(
            (a.tokens, man["dim"])).astype(np.float32))
        good = os.path.join(a.work, stem + "-state.safetensors")
        subprocess.run([a.nl_run, model, "--cache-dir", cache, "--input", x,
                        "--state-out", good], check=True)
        tensors, meta = nlio.load_safetensors_with_metadata(good)
        case_path = os.path.join(a.work, stem + "-case.safetensors")
        for cat, name, expected, t, m, edit in cases_for(man, tensors, meta):
            write_case(case_path, t, m, edit, good)
            rc, err = run_case(a.nl_run, model, cache, x, case_path)
            outcome = classify(expected, rc, err, case_path)
            row = table.setdefault(cat, collections.Counter())
            row["cases"] += 1
            row[outcome] += 1
            total += 1
            if outcome in ("crash", "silent wrong", "unexpected refusal"):
                problems.append(f"{stem}: {cat}: {name}: {outcome} (rc {rc}) "
                                f"{err.strip()[:300]}")
            if a.verbose:
                print(f"{stem}: {name}: {outcome}: {err.strip()[:160]}")
    cols = ["cases", "error", "warning", "accepted", "crash", "silent wrong",
            "unexpected refusal"]
    heads = ["cases", "clean errors", "warnings", "valid accepted", "crashes",
             "silent wrong", "wrong refusals"]
    print("| input category | " + " | ".join(heads) + " |")
    print("|---|" + "---|" * len(heads))
    sums = collections.Counter()
    for cat, row in table.items():
        print(f"| {cat} | " + " | ".join(str(row[c]) for c in cols) + " |")
        sums.update(row)
    print("| **all** | " + " | ".join(str(sums[c]) for c in cols) + " |")
    for p in problems:
        print("PROBLEM: " + p)
    print(f"probe-state: {total} cases, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
