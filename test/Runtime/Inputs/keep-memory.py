"""Every example keeps a memory (issue 17): after 2,100 tokens of random
input, each learning level's state (its memory weights, KV cache, momentum)
is finite and not gone (L2 norm >= 1e-3), and the output of the last 100
tokens is at least a tenth as large (RMS) as that of tokens 100-200.

  keep-memory.py NL_RUN CACHE WORK EXAMPLE.nl [...]
"""
import json
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "reference"))
import nlio  # noqa: E402

nl_run, cache, work = sys.argv[1:4]
T = 2100
failed = False
for ex in sys.argv[4:]:
    name = os.path.splitext(os.path.basename(ex))[0]
    m = json.loads(subprocess.run([nl_run, ex, "--cache-dir", cache, "--info"],
                                  capture_output=True, text=True,
                                  check=True).stdout)
    if not m["outputs"]:
        continue
    x = os.path.join(work, name + ".x.npy")
    y = os.path.join(work, name + ".y.npy")
    s = os.path.join(work, name + ".s.safetensors")
    np.save(x, np.random.default_rng(0).standard_normal(
        (T, m["dim"])).astype(np.float32))
    subprocess.run([nl_run, ex, "--cache-dir", cache, "--input", x,
                    "--output", y, "--state-out", s], check=True)
    out = np.load(y).reshape(T, -1).astype(np.float64)
    early = np.sqrt((out[100:200] ** 2).mean())
    late = np.sqrt((out[T - 100:] ** 2).mean())
    state = nlio.load_safetensors(s)
    learning = {i for i, l in enumerate(m["levels"]) if l["period"] > 0}
    worst = None
    for t in m["state"]:
        if t["role"] != "state" or t.get("dtype") != "f32" or \
                t.get("level", -1) not in learning:
            continue
        norm = float(np.linalg.norm(state[t["name"]].astype(np.float64)))
        if worst is None or not norm >= worst[1]:
            worst = (t["name"], norm)
    ok = late >= 0.1 * early and np.isfinite(late) and \
        (worst is None or worst[1] >= 1e-3)
    failed |= not ok
    print(f"{name}: {'PASS' if ok else 'FAIL'} output rms {early:.3g} -> "
          f"{late:.3g}; smallest state {worst[0] if worst else '-'} = "
          f"{worst[1] if worst else 0:.3g}")
sys.exit(1 if failed else 0)
