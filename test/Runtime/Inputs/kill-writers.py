"""Kills writers at random moments and checks the files they were writing.

  kill-writers.py NLC NL_RUN WORK ROUNDS

Every file nlc and nl-run write goes to <path>.tmp.<pid> and is renamed
into place, so after a kill -9 at any moment the file on disk is a complete
old or new one. Rounds of: nl-run writing a 26 MB state (--state-out), a
.npy output (--output) and a params file (--params-out) over earlier
copies, and nlc writing a compiled model (-o m.so and its m.json) over an
earlier build; each killed after a random delay (a seeded draw over the
writer's measured run time). After each kill, the state must load with
--state-in, the output and the params must read back, and the model must
load; the next complete write leaves no temporary file of the dead writers.
"""
import glob
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np

nlc, nl_run, work, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
os.makedirs(work, exist_ok=True)
src = os.path.join(os.path.dirname(__file__), "..", "..", "..", "examples",
                   "sliding-window-attention.nl")
lib = os.path.join(work, "swa.so")
subprocess.run([nlc, src, "-D", "window=50000", "--emit=lib", "-o", lib],
               check=True)
x = os.path.join(work, "x.npy")
np.save(x, np.random.default_rng(0).standard_normal((400, 64)).astype(np.float32))
state, out, params = (os.path.join(work, n) for n in
                      ("s.safetensors", "y.npy", "p.safetensors"))
run = [nl_run, lib, "--input", x, "--state-out", state, "--output", out,
       "--params-out", params]
compile_cmd = [nlc, src, "-D", "window=50000", "--emit=lib", "-o", lib]


def timed(cmd):
    t = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - t


def check(what, cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        print(f"FAIL: {what}: {p.stderr.strip()[:300]}")
        return False
    return True


durations = {"nl-run": timed(run), "nlc": timed(compile_cmd)}
rng = random.Random(17)
ok = True
killed = {"nl-run": 0, "nlc": 0}
for r in range(rounds):
    for name, cmd in (("nl-run", run), ("nlc", compile_cmd)):
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.0, durations[name]))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            killed[name] += 1
        p.wait()
        ok &= check(f"round {r} {name}: the state loads",
                    [nl_run, lib, "--input", x, "--state-in", state])
        ok &= check(f"round {r} {name}: the output reads",
                    [sys.executable, "-c", f"import numpy; numpy.load('{out}')"])
        ok &= check(f"round {r} {name}: the params load",
                    [nl_run, lib, "--input", x, "--params", params])
        ok &= check(f"round {r} {name}: the model loads",
                    [nl_run, lib, "--info"])
# A complete write removes what the killed writers left.
subprocess.run(run, check=True, stdout=subprocess.DEVNULL)
subprocess.run(compile_cmd, check=True)
left = glob.glob(os.path.join(work, "*.tmp.*"))
if left:
    print("FAIL: temporary files left:", left)
    ok = False
print(f"kill-writers: {rounds} rounds, nl-run killed {killed['nl-run']} times, "
      f"nlc {killed['nlc']} times: {'PASS' if ok else 'FAIL'}")
sys.exit(0 if ok else 1)
