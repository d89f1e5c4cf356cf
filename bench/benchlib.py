"""Helpers the PyTorch-side benchmarks share: run nl-run and read the time it
measured, time a callable, take medians."""
import re
import statistics
import subprocess
import sys
import time

import numpy as np
import torch


def nl_run(cmd):
    """Runs nl-run (cmd) with --stats; returns the seconds it measured around
    the call."""
    r = subprocess.run(cmd + ["--stats"], capture_output=True, text=True)
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
    """Compiles `model` as is and with --cpu-parallel, and times each with
    nl-run (1 and 2 threads). The parallel build must give the serial one's
    outputs (max relative difference 1e-3); the serial outputs stay in
    y_path. Returns [(impl, median, min, max, threads, 0.0)]."""
    rows, outputs = [], []
    for name, flags, threads in (("nlc", [], 1), ("nlc_omp", ["--cpu-parallel"], 2)):
        path = lib if not flags else lib.replace(".so", "_omp.so")
        out = y_path if not flags else y_path.replace(".npy", "_omp.npy")
        subprocess.run(["nlc", model, "--emit=lib", "-O3", "-o", path] + flags + defs, check=True)
        cmd = ["nl-run", path] + run_args + ["--output", out, "--num-threads", str(threads)]
        rows.append((name, *median_of(runs, lambda: nl_run(cmd)), threads, 0.0))
        outputs.append(np.load(out))
    rel = float(np.abs(outputs[1] - outputs[0]).max() / np.abs(outputs[0]).max())
    if not rel <= 1e-3:
        print(f"{model}: the --cpu-parallel build disagrees: rel {rel:.2e}")
        sys.exit(1)
    return rows
