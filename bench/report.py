#!/usr/bin/python3
"""The report of a benchmark run (results.jsonl):
  * fills in `pct_roofline` where a row has GFLOP/s but no roofline yet: the
    % of the sgemm peak measured in the same run with as many threads
    (bench/peaks.py); W6 rows already carry their % of stream bandwidth;
  * prints one table: workload, size, implementation, threads, median,
    tokens/s, GFLOP/s, % of roofline, and how many times faster nlc's best
    build is;
  * draws OUT.png: for every workload and size, peer time / nlc time (bars
    above 1 are nlc wins). Needs python3-matplotlib (scripts/setup.sh --bench).

  report.py RESULTS.jsonl OUT.png
"""
import json
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def add_roofline(rows):
    peak = {r["threads"]: r["gflops"] for r in rows if r["case"] == "peak"}
    for r in rows:
        if "pct_roofline" not in r and "gflops" in r and r["case"] != "peak" and r.get("threads") in peak:
            r["pct_roofline"] = 100.0 * r["gflops"] / peak[r["threads"]]


def print_table(rows):
    print(f"{'case':<5} {'size':<10} {'impl':<22} {'thr':>3} {'median ms':>10} {'tokens/s':>11} "
          f"{'GFLOP/s':>8} {'%roof':>6} {'nlc x':>6}")
    best = {}
    for r in rows:
        key = (r["case"], r.get("d", r.get("n")), r.get("B", 1), r.get("variant", ""))
        if r["impl"].startswith("nlc") and "median_s" in r:
            best[key] = min(best.get(key, float("inf")), r["median_s"])
    for r in rows:
        if r["case"] == "stream":
            print(f"{'peak':<5} {'':<10} {'stream triad':<22} {r['threads']:>3} {'':>10} {'':>11} "
                  f"{r['gbytes_per_s']:>8.1f} GB/s")
            continue
        if r["case"] == "peak":
            print(f"{'peak':<5} {'n=' + str(r['n']):<10} {'sgemm (BLAS)':<22} {r['threads']:>3} "
                  f"{r['median_s'] * 1e3:>10.2f} {'':>11} {r['gflops']:>8.1f}")
            continue
        key = (r["case"], r.get("d", r.get("n")), r.get("B", 1), r.get("variant", ""))
        size = f"d={key[1]}" + (f" B={key[2]}" if key[2] != 1 else "") + (f" {key[3]}" if key[3] else "")
        ratio = r["median_s"] / best[key] if key in best and "median_s" in r else float("nan")
        print(f"{r['case']:<5} {size:<10} {r['impl']:<22} {r.get('threads', 0):>3} "
              f"{r.get('median_s', float('nan')) * 1e3:>10.2f} {r.get('tokens_per_s', float('nan')):>11.0f} "
              f"{r.get('gflops', float('nan')):>8.2f} {r.get('pct_roofline', float('nan')):>6.1f} {ratio:>6.2f}")


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    add_roofline(rows)
    with open(sys.argv[1], "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    print_table(rows)
    groups = defaultdict(list)
    for r in rows:
        if r["case"] in ("peak", "stream") or "median_s" not in r:
            continue
        key = (r["case"], r.get("d", r.get("n", "")), r.get("B", 1))
        groups[key].append(r)
    labels, bars = [], defaultdict(dict)
    def order(k):
        return (k[0], k[1] if isinstance(k[1], (int, float)) else 0, k[2])

    for key in sorted(groups, key=order):
        rs = groups[key]
        nlc = [r for r in rs if r["impl"].startswith("nlc")]
        if not nlc:
            continue
        best = min(r["median_s"] for r in nlc)
        label = f"{key[0]} d={key[1]}" + (f" B={key[2]}" if key[2] != 1 else "")
        labels.append(label)
        for r in rs:
            if r["impl"].startswith("nlc"):
                continue
            bars[f"{r['impl']} ({r.get('threads', '?')} thr)"][label] = r["median_s"] / best
    peers = sorted(bars)
    fig, ax = plt.subplots(figsize=(max(8, 1.2 * len(labels)), 5))
    width = 0.8 / max(1, len(peers))
    for i, peer in enumerate(peers):
        xs = [j + i * width for j, lab in enumerate(labels) if lab in bars[peer]]
        ys = [bars[peer][lab] for lab in labels if lab in bars[peer]]
        ax.bar(xs, ys, width, label=peer)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(labels))])
    ax.set_xticklabels(labels, rotation=30, ha="right")
    ax.set_ylabel("peer time / nlc time (medians, same run)")
    ax.set_title("nlc vs peers on this machine (above 1: nlc is faster)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=110)
    print(f"chart: {sys.argv[2]}")


if __name__ == "__main__":
    main()
