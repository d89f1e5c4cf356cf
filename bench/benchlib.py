"""Helpers the PyTorch-side benchmarks share: run nl-run and read the time it
measured, time a callable, take medians."""
import re
import statistics
import subprocess
import sys
import time

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
