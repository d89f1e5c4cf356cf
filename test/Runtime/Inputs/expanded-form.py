"""Models compiled from the explicit-update form (nlc --update-form=expanded).

  expanded-form.py BIN REFERENCE_DIR MODELS_DIR WORK reference M [M ...]
  expanded-form.py BIN REFERENCE_DIR MODELS_DIR WORK fused EXAMPLE.nl [...]

`reference`: each model of MODELS_DIR (test/Runtime/models/M.nl) runs on
the inputs of make_inputs.py (seed 1, T = 256), compiled from the
explicit form, against the independent float64 reference
(run_reference.py): outputs and final states within rel_max 1e-4, the
tolerance of the fused build's reference tests.
`fused`: each example runs 300 tokens of random input, compiled both ways
with the same parameters (--params-out of the fused run); the outputs and
every state both builds hold agree within rel_max 1e-4.
Either way, the compiled IR must really be the explicit form: its
--emit=expanded text holds an nl.apply and no nl.update of a learning
level. Prints "<name> ok" or "<name> FAIL: <why>".
"""
import json
import os
import re
import subprocess
import sys

import numpy as np

bindir, refdir, modeldir, work, mode = sys.argv[1:6]
sys.path.insert(0, refdir)
import nlio  # noqa: E402

nlc, nl_run = (os.path.join(bindir, t) for t in ("nlc", "nl-run"))
py = sys.executable


def run(*args):
    return subprocess.run(list(args), capture_output=True, text=True)


def rel_max(a, ref):
    a, ref = np.asarray(a, np.float64), np.asarray(ref, np.float64)
    if a.shape != ref.shape or not np.all(np.isfinite(a)):
        return np.inf
    return np.abs(a - ref).max() / max(np.abs(ref).max(), 1e-30)


def expanded(src, out):
    """Compiles `src` from the explicit form into `out`; an error or None."""
    text = run(nlc, src, "--emit=expanded")
    if text.returncode:
        return text.stderr.strip()[:300]
    if "nl.apply" not in text.stdout:
        return "no nl.apply in --emit=expanded"
    # KV caches keep their update; no other level may.
    for level in re.findall(r"nl\.update @(\w+)", text.stdout):
        if not re.search(r"nl\.level @%s .*\{\s*nl\.state @\w+ : !nl\.kv_cache"
                         % level, text.stdout):
            return f"level @{level} keeps its nl.update"
    lib = run(nlc, src, "--update-form=expanded", "--emit=lib", "-o", out)
    return lib.stderr.strip()[:300] if lib.returncode else None


def fold_deferred(state):
    """The fused build keeps a chunked MLP level's weight gradients as a ring
    of factors (dy, x) beside its accumulator; the explicit form sums them
    at once. Folds the ring into the accumulator: acc += sum_s dy_s x_s^T."""
    for name in list(state):
        m = re.fullmatch(r"(.+)\.__defer\.(\w+)\.dy", name)
        if not m:
            continue
        level, part = m.groups()
        # Every tensor has the streams first: [B, ring, ...].
        counts = np.asarray(state[level + ".__defer_n"]).reshape(-1)
        acc = f"{level}.__acc.{part}"
        total = np.array(state[acc], np.float64)
        for b, n in enumerate(counts):
            dy = state[name][b, :n]
            x = state[f"{level}.__defer.{part}.x"][b, :n]
            total[b] += np.einsum("s...i,s...j->...ij", dy, x)
        state[acc] = total


def worst(a_path, b_path, skip=()):
    """The largest rel_max over the outputs or the states both files hold
    (but `skip`); 0 when a model has no output."""
    if a_path.endswith(".npy"):
        if not os.path.exists(b_path):
            return 0.0
        return rel_max(np.load(a_path), np.load(b_path))
    a, b = nlio.load_safetensors(a_path), nlio.load_safetensors(b_path)
    fold_deferred(b)
    names = [n for n in b if n in a and not n.startswith("_") and n not in skip]
    return max((rel_max(a[n], b[n]) for n in names), default=np.inf)


for item in sys.argv[6:]:
    name = os.path.basename(item)
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    f = lambda s: os.path.join(d, s)
    if mode == "reference":
        made = run(py, os.path.join(refdir, "make_inputs.py"), item, "--seed", "1",
                   "--T", "256", "--out", d)
        why = made.stderr.strip()[:300] if made.returncode else \
            expanded(os.path.join(modeldir, item + ".nl"), f("x.so"))
        if why:
            print(f"{name} FAIL: {why}")
            continue
        ours = run(nl_run, f("x.so"), "--params", f("params.safetensors"),
                   "--input", f("x.npy"), "--output", f("y.npy"),
                   "--state-out", f("s.safetensors"))
        ref = run(py, os.path.join(refdir, "run_reference.py"), item, "--params",
                  f("params.safetensors"), "--input", f("x.npy"), "--output",
                  f("y_ref.npy"), "--state-out", f("s_ref.safetensors"))
        skip = ()
    else:
        info = json.loads(run(nl_run, item, "--info").stdout)
        dim = info["dim"]
        # A per-token level's accumulator holds one token's contribution in
        # the explicit form and is scratch in the fused one: not state.
        per_token = {l["name"] for l in info["levels"] if l.get("period") == 1}
        skip = {t["name"] for t in info["state"]
                if t["name"].split(".")[0] in per_token and ".__acc" in t["name"]}
        out = ["--output", f("y_ref.npy")] if info["outputs"] else []
        np.save(f("x.npy"),
                np.random.default_rng(3).standard_normal((300, dim)).astype(np.float32))
        why = run(nlc, item, "--emit=lib", "-o", f("f.so")).stderr.strip()[:300] \
            or expanded(item, f("x.so"))
        if why:
            print(f"{name} FAIL: {why}")
            continue
        ref = run(nl_run, f("f.so"), "--input", f("x.npy"), "--seed", "2",
                  "--params-out", f("p.safetensors"), *out,
                  "--state-out", f("s_ref.safetensors"))
        ours = run(nl_run, f("x.so"), "--input", f("x.npy"), "--seed", "2",
                   "--params", f("p.safetensors"),
                   *[a.replace("y_ref", "y") for a in out],
                   "--state-out", f("s.safetensors"))
    if ours.returncode or ref.returncode:
        print(f"{name} FAIL: {(ours.stderr or ref.stderr).strip()[:300]}")
        continue
    errs = [worst(f("y.npy"), f("y_ref.npy")),
            worst(f("s.safetensors"), f("s_ref.safetensors"), skip)]
    status = "ok" if max(errs) <= 1e-4 else "FAIL: rel_max %.3g" % max(errs)
    print(f"{name} {status} (outputs {errs[0]:.2g}, states {errs[1]:.2g})")
