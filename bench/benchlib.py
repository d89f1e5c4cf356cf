"""Helpers the PyTorch-side benchmarks share: run nl-run and read the time it
measured, time a callable, take medians."""
import json
import re
import statistics
import subprocess
import sys
import time

import numpy as np
import torch


# The benchmarks time the compiled model, as its peers (which check nothing):
# nl-run's NaN/Inf scans of the inputs and states (one more pass over the
# data; +60% on W6's 256 MB of gradients) are turned off.
NO_CHECKS = ["--check-inputs=off", "--check-state=off"]


def nl_run(cmd):
    """Runs nl-run (cmd) with --stats and without the value checks; returns
    the seconds it measured around the call."""
    r = subprocess.run(cmd + ["--stats"] + NO_CHECKS, capture_output=True,
                       text=True)
    if r.returncode:
        print(r.stdout, r.stderr)
        sys.exit(1)
    return float(re.search(r"tokens in ([0-9.]+) s", r.stdout).group(1))


def median_of(runs, f):
    """(median, min, max) of `runs` calls of f, which returns seconds."""
    ts = [f() for _ in range(runs)]
    return statistics.median(ts), min(ts), max(ts)


def timed(f, sync=lambda: None):
    """(seconds, result) of f() without autograd; `sync` waits for a device."""
    sync()
    a = time.perf_counter()
    with torch.no_grad():
        r = f()
    sync()
    return time.perf_counter() - a, r


def nlc_rows(model, lib, defs, run_args, y_path, runs):
    """Compiles `model` as nlc does by default and with --cpu-parallel, and
    times each with nl-run (1 and 2 threads). When the default build has the
    chunk-parallel form (nl-chunk), the per-token form (--chunk-form=never)
    is timed too, as "nlc_per_token"; when it has the step of one head
    (nl-split-heads), it is timed on 2 threads too, as "nlc_heads" (a
    stream's heads on threads of their own). Every build must give the default
    one's outputs (max relative difference 1e-3); those stay in y_path.
    Returns [(impl, median, min, max, threads, 0.0)]."""
    rows, outputs = [], []
    variants = [("nlc", [], 1), ("nlc_omp", ["--cpu-parallel"], 2)]
    for name, flags, threads in variants:
        suffix = "" if name == "nlc" else name[3:]
        path = lib.replace(".so", f"{suffix}.so")
        out = y_path.replace(".npy", f"{suffix}.npy")
        subprocess.run(["nlc", model, "--emit=lib", "-O3", "-o", path] + flags + defs, check=True)
        if name == "nlc":
            with open(path.replace(".so", ".json")) as f:
                manifest = json.load(f)
            if "chunk_size" in manifest:
                variants.append(("nlc_per_token", ["--chunk-form=never"], 1))
            if "head_split" in manifest:
                variants.append(("nlc_heads", [], 2))
        cmd = ["nl-run", path] + run_args + ["--output", out, "--num-threads", str(threads)]
        rows.append((name, *median_of(runs, lambda: nl_run(cmd)), threads, 0.0))
        outputs.append(np.load(out))
        rel = float(np.abs(outputs[-1] - outputs[0]).max() / np.abs(outputs[0]).max())
        if not rel <= 1e-3:
            print(f"{model}: the {name} build disagrees with the default one: rel {rel:.2e}")
            sys.exit(1)
    return rows
