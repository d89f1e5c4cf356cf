"""Every example runs as it is, with nothing but tokens.

  examples-run.py NL_RUN CACHE WORK EXAMPLE.nl [...]

Runs each example on 5 random tokens with --seed 5 and no params file,
writing the parameters it drew (--params-out); then runs it again with
those parameters (--params), which must load (strict) and give the same
final state bit for bit: under --seed 9 when no state is drawn from the
seed, else under --seed 5 (a warning says so when the seed differs).
Prints "<name> ok" or "<name> FAIL: <why>".
"""
import json
import os
import subprocess
import sys

import numpy as np

nl_run, cache, work = sys.argv[1:4]
print(len(sys.argv[4:]), "examples")
for ex in sys.argv[4:]:
    name = os.path.basename(ex)
    run = lambda *args: subprocess.run([nl_run, ex, "--cache-dir", cache, *args],
                                       capture_output=True, text=True)
    dim = json.loads(run("--info").stdout)["dim"]
    x, p = (os.path.join(work, name + s) for s in (".x.npy", ".p.safetensors"))
    y1, y2 = (os.path.join(work, name + s) for s in (".y1.npy", ".y2.npy"))
    np.save(x, np.random.default_rng(0).standard_normal((5, dim)).astype(np.float32))
    first = run("--input", x, "--seed", "5", "--params-out", p,
                "--state-out", y1 + ".s")
    info = json.loads(run("--info").stdout)
    seeded = any(t["init"]["kind"] in ("normal", "uniform")
                 for t in info["state"])
    second = run("--input", x, "--seed", "5" if seeded else "9", "--params", p,
                 "--state-out", y2 + ".s")
    if seeded and "seed" not in run("--input", x, "--seed", "9", "--params",
                                   p).stderr:
        print(f"{name} FAIL: no warning about the seed")
        continue
    why = (first.stderr or second.stderr).strip()[:300]
    if first.returncode or second.returncode:
        print(f"{name} FAIL: {why}")
    elif open(y1 + ".s", "rb").read() != open(y2 + ".s", "rb").read():
        print(f"{name} FAIL: --params-out did not reproduce the run")
    else:
        print(f"{name} ok")
