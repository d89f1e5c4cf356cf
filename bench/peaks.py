#!/usr/bin/python3
"""The machine's sgemm peak (NumPy's BLAS, OpenBLAS on Debian), measured in
the same benchmark run: float32 n x n matmuls, median GFLOP/s of RUNS runs
after a warm-up, with the BLAS thread count the caller set
(OPENBLAS_NUM_THREADS). Appends {"case": "peak", "impl": "sgemm", ...}.

  peaks.py RESULTS.jsonl THREADS [n]
"""
import json
import statistics
import sys
import time

import numpy as np

RUNS = 7


def main():
    results, threads = sys.argv[1], int(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 1536
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(np.float32)
    b = rng.standard_normal((n, n)).astype(np.float32)
    a @ b  # warm-up
    ts = []
    for _ in range(RUNS):
        t = time.perf_counter()
        a @ b
        ts.append(time.perf_counter() - t)
    med = statistics.median(ts)
    gflops = 2.0 * n ** 3 / med / 1e9
    print(f"peak sgemm n={n} {threads} thr: median {med * 1e3:.1f} ms  {gflops:.1f} GFLOP/s "
          f"[{2.0 * n ** 3 / max(ts) / 1e9:.1f}, {2.0 * n ** 3 / min(ts) / 1e9:.1f}]")
    with open(results, "a") as f:
        f.write(json.dumps({"case": "peak", "impl": "sgemm", "threads": threads, "n": n,
                            "median_s": med, "gflops": gflops}) + "\n")


if __name__ == "__main__":
    main()
