#!/usr/bin/python3
"""Float64 PyTorch reference of an nlc model's forward and of the gradients
of L = sum(dy * y) (autograd), independent of nlc (torch_models.py).

  torch_grads.py MODEL.nl --params p.safetensors --input x.npy
                 [--cotangent dy.npy | --cotangent-out dy.npy]
                 [--state-in s.safetensors] [--output y.npy]
                 [--grad-out g.safetensors] [--grad-dtype F64|F32]
                 [-D name=value ...] [--write=stop_grad|differentiable]
                 [--state-grads=sum|per-stream]
  torch_grads.py MODEL.nl --selftest [--params ... --input ... --state-in ...]
                 [--directions N] [--per-tensor] [--T 12] [--B 2] [--seed 0]
  torch_grads.py MODEL.nl --info [-D ...]

MODEL.nl: a model with a reference (deltanet, titans_linear, ttt_mlp, cms,
cms2_task; chosen by the file's model name, its step must be the
reference's). -D overrides hyper-parameters as nl-run's -D does.
--params: every parameter, keys as `nl-run MODEL --info` names them
(F32/F64). x: float32 or float64 [T, dim] or [B, T, dim]: B independent
streams, each from the initial state: the states' initializers (zeros,
ones, identity, fill, param, file; a state drawn from the seed, such as an
MLP memory's `normal`, needs --state-in), or --state-in, a file of
`nl-run --state-out` (every state tensor of nl-run --info, [B, ...], and
the level clock nlc.clock, so a partial chunk continues).
--output: y, float64 [B, T, out] ([T, out] for a [T, dim] input).
--cotangent: dy, y's shape (default: a fixed seeded N(0, 1) draw, which
--cotangent-out writes as float64 .npy, to give nl-run the same dy).
--grad-out: safetensors (--grad-dtype, default F64) of dL/d(parameter)
under the parameter's name (every key of `nl-run --info`'s "params", the
file("key") tensors of states included) and dL/d(state at the start of the
call) under `initial_state.<state name>` for every f32 state tensor of
nl-run --info's "state" (dead ones, such as a per-token level's
accumulator, get zeros; the int32 counters have none), summed over
streams (--state-grads=per-stream keeps [B, ...]). Its __metadata__:
nlc.grad.loss = "sum(dy * y)", nlc.grad.L (the loss, %.17g),
nlc.grad.state_grads, nlc.grad.write (each level's write mode),
nlc.grad.source = "torch_grads.py". The models declare no task loss (the
language cannot write one), so L is always the cotangent's.
--write forces every level's write mode (A24; default: each level's rule,
an optimizer level taking the mode of the level it serves).
--selftest: float64 central finite differences (Romberg: h, h/2, h/4) of L
in N random directions over all parameters and initial states (and, with
--per-tensor, one direction per tensor), against the autograd gradient,
in the file's write modes and in both forced modes; stop_grad writes are
replayed as the constants the first forward stored. Passes below a
relative error of 1e-6. Without --params/--input it draws them (and a
random initial state with random pending chunks) itself.
--info: the parameters, state tensors and levels the reference expects (JSON).
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import nlio  # noqa: E402
import torch_models as tm  # noqa: E402
from nlparse import NLError, parse_defines  # noqa: E402

DT = tm.DT
COTANGENT_SEED = 20240607
FD_TOL = 1e-6


def fail(msg):
    sys.exit(f"torch_grads: error: {msg}")


# ---- inputs ---------------------------------------------------------------------
def expected_params(spec):
    """{key: shape}: every param, and the file("key") tensors of states."""
    want = {n: p.shape for n, p in spec.model.params.items()}
    for t in spec.state:
        if t.init is not None and t.init.kind == "file" and t.role == "state":
            key = t.init.args["_0"] + ("." + t.name.rsplit(".", 1)[1] if t.name.count(".") >= 2 else "")
            want[key] = t.shape
    return want


def load_params(spec, path):
    raw = nlio.load_safetensors(path)
    want = expected_params(spec)
    errs = [f"missing '{k}' {list(s)}" for k, s in want.items() if k not in raw]
    errs += [f"unknown '{k}'" for k in raw if k not in want]
    errs += [f"'{k}': shape {list(raw[k].shape)}, declared {list(s)}"
             for k, s in want.items() if k in raw and tuple(raw[k].shape) != tuple(s)]
    if errs:
        fail(f"{path}: " + "; ".join(errs))
    return {k: np.asarray(raw[k], np.float64) for k in want}


def parse_clock(spec, meta, path):
    text = meta.get("nlc.clock")
    if text is None:
        fail(f"{path}: no level clock (nlc.clock)")
    words = [int(w) for w in text.strip(",").split(",")]
    n = len(spec.levels)
    if len(words) != 5 + 4 * n + 1 or words[2] != n:
        fail(f"{path}: the clock has {words[2] if len(words) > 2 else '?'} levels, the model {n}")
    pending = {}
    for i, lv in enumerate(spec.levels):
        period, count, _updates, frozen = words[5 + 4 * i:9 + 4 * i]
        if isinstance(lv.period, int) and period != lv.period:
            fail(f"{path}: level {lv.name}: period {period} in the clock, {lv.period} in the model")
        if frozen:
            fail(f"{path}: level {lv.name} is frozen; the references do not run frozen levels")
        pending[lv.name] = count if isinstance(lv.period, int) else 0
    return pending


def load_state(spec, path, B):
    tensors, meta = nlio.load_safetensors_with_metadata(path)
    errs = []
    for t in spec.state:
        if t.name not in tensors:
            errs.append(f"missing '{t.name}'")
        elif tuple(tensors[t.name].shape) != (B,) + t.shape:
            errs.append(f"'{t.name}': shape {list(tensors[t.name].shape)}, expected {[B] + list(t.shape)}")
    names = {t.name for t in spec.state}
    errs += [f"unknown '{k}'" for k in tensors if k not in names]
    if errs:
        fail(f"{path}: " + "; ".join(errs))
    floats = {t.name: np.asarray(tensors[t.name], np.float64) for t in spec.state if t.dtype == "f32"}
    ints = {t.name: np.asarray(tensors[t.name]) for t in spec.state if t.dtype != "f32"}
    return floats, ints, parse_clock(spec, meta, path)


def load_input(spec, path):
    x = np.asarray(nlio.load_npy(path), np.float64)
    if x.ndim not in (2, 3) or x.shape[-1] != spec.model.dim:
        fail(f"{path}: shape {list(x.shape)} is not [T, {spec.model.dim}] or [B, T, {spec.model.dim}]")
    return x


# ---- the computation ---------------------------------------------------------------
class Problem:
    """Leaves (parameters and initial states) and the forward over them."""

    def __init__(self, spec, params, x, state=None, ints=None, pending=None):
        self.spec = spec
        self.squeeze = x.ndim == 2
        xb = x[None] if self.squeeze else x
        self.B = xb.shape[0]
        self.x = torch.tensor(xb, dtype=DT)
        self.params = {k: torch.tensor(v, dtype=DT, requires_grad=True) for k, v in params.items()}
        self.ints = ints or {t.name: np.zeros((self.B,) + t.shape, np.int32)
                             for t in spec.state if t.dtype != "f32"}
        self.pending = pending or {lv.name: 0 for lv in spec.levels}
        self.state_leaves = {}   # initial states that are leaves
        self.derived = {}        # initial states computed from parameters (param(P), file("key"))
        for t in spec.f32_state:
            if state is not None:
                self.state_leaves[t.name] = torch.tensor(state[t.name], dtype=DT, requires_grad=True)
                continue
            v = tm.initial_value(t, self.params, self.B)
            if v is None:
                fail(f"state '{t.name}' starts from a random draw ({t.init.kind}); pass --state-in (e.g. "
                     f"`nl-run MODEL --params p.safetensors --input x0.npy --state-out s0.safetensors` "
                     f"with a [B, 0, dim] x0.npy writes the initial state)")
            if v.requires_grad:
                self.derived[t.name] = v
            else:
                self.state_leaves[t.name] = v.clone().requires_grad_(True)

    def leaves(self):
        return {**self.params, **{"initial_state." + k: v for k, v in self.state_leaves.items()}}

    def forward(self, leaves=None, tape=None):
        leaves = leaves or self.leaves()
        params = {k: leaves[k] for k in self.params}
        state = {}
        for t in self.spec.f32_state:
            if t.name in self.state_leaves:
                state[t.name] = leaves["initial_state." + t.name]
            else:  # recomputed from the (possibly perturbed) parameters
                state[t.name] = tm.initial_value(t, params, self.B)
        return tm.run(self.spec, params, state, self.ints, self.x, self.pending, tape)

    def gradients(self, y, dy, per_stream=False):
        """{key: gradient} of L = sum(dy * y) for every parameter and f32 initial state."""
        L = (dy * y).sum()
        inputs = {**self.params}
        for t in self.spec.f32_state:
            inputs["initial_state." + t.name] = (self.state_leaves[t.name] if t.name in self.state_leaves
                                                 else self.derived[t.name])
        keys = list(inputs)
        need = [k for k in keys if inputs[k].requires_grad]
        if not L.requires_grad:  # nothing the outputs depend on is differentiated (stop_grad everywhere)
            need = []
        gs = torch.autograd.grad(L, [inputs[k] for k in need], allow_unused=True) if need else []
        got = dict(zip(need, gs))
        out = {}
        for k in keys:
            g = got.get(k)
            g = torch.zeros_like(inputs[k]) if g is None else g
            if k.startswith("initial_state.") and not per_stream:
                g = g.sum(0)
            out[k] = g.detach().numpy()
        return out


def cotangent(y_shape, path):
    if path:
        dy = np.asarray(nlio.load_npy(path), np.float64)
        if tuple(dy.shape) != tuple(y_shape):
            fail(f"{path}: cotangent shape {list(dy.shape)}, the outputs are {list(y_shape)}")
        return dy
    return np.random.default_rng(COTANGENT_SEED).standard_normal(y_shape)


# ---- self-test ---------------------------------------------------------------------
def random_problem(spec, T, B, seed):
    """Params from the file's initializers (normal/uniform drawn here, ones/
    zeros/fill as declared, then jittered so no gradient vanishes by
    symmetry), x ~ N(0, 1), every f32 state random, random pending chunks."""
    rng = np.random.default_rng(seed)
    params = {}
    for key, shape in expected_params(spec).items():
        p = spec.model.params.get(key)
        init = p.init if p else None
        if init is not None and init.kind == "normal":
            v = rng.standard_normal(shape) * float(init.args.get("std", 1.0)) + float(init.args.get("mean", 0.0))
        elif init is not None and init.kind in ("ones", "fill", "zeros"):
            c = {"ones": 1.0, "zeros": 0.0}.get(init.kind) if init.kind != "fill" else float(init.args["_0"])
            v = c + 0.1 * rng.standard_normal(shape)
        else:
            v = 0.3 * rng.standard_normal(shape)
        params[key] = v
    x = rng.standard_normal((B, T, spec.model.dim))
    pending = {lv.name: int(rng.integers(0, lv.period)) if lv.learns and lv.chunked and not lv.optimizer_of else 0
               for lv in spec.levels}
    state, ints = {}, {}
    for t in spec.state:
        lv = spec.by_name.get(t.level) if t.level else None
        if t.dtype != "f32":
            rows = min(lv.period, tm.RING_ROWS)
            ints[t.name] = np.array([[int(rng.integers(0, min(pending[lv.name], rows) + 1))] for _ in range(B)],
                                    np.int32)
            continue
        scale = 0.1
        if t.role == "state" and t.init is not None and t.init.kind == "normal":
            scale = float(t.init.args.get("std", 0.1)) * 2
        if t.role == "accumulator":
            scale = 0.01
        state[t.name] = scale * rng.standard_normal((B,) + t.shape)
    return params, x, state, ints, pending


def fd_check(prob, modes_label, directions, per_tensor, seed, out=print):
    """Compares the autograd directional derivative with central differences."""
    tape = tm.Tape()
    leaves = prob.leaves()
    y = prob.forward(leaves, tape)
    dy = torch.tensor(cotangent(tuple(y.shape), None), dtype=DT)
    grads = prob.gradients(y, dy, per_stream=True)
    base = {k: v.detach() for k, v in leaves.items()}
    rng = np.random.default_rng(seed)

    def L_at(dirs, h):
        tape.replay, tape.pos = True, 0
        with torch.no_grad():
            pert = {k: base[k] + h * dirs[k] if k in dirs else base[k] for k in base}
            return float((dy * prob.forward(pert, tape)).sum())

    def check(label, keys):
        dirs = {}
        for k in keys:
            v = base[k]
            rms = float(torch.sqrt(torch.mean(v * v))) if v.numel() else 0.0
            dirs[k] = torch.tensor(rng.standard_normal(tuple(v.shape)), dtype=DT) * (rms if rms > 1e-3 else 0.1)
        ad = sum(float(np.sum(grads[k] * dirs[k].numpy())) for k in keys)
        # Central differences at h, h/2, h/4 and two Richardson steps (Romberg):
        # truncation O(h^6), roundoff ~ 4 eps |L| / h.
        h = 2e-3
        D = [(L_at(dirs, s) - L_at(dirs, -s)) / (2 * s) for s in (h, h / 2, h / 4)]
        R1 = [(4 * D[1] - D[0]) / 3, (4 * D[2] - D[1]) / 3]
        fd = (16 * R1[1] - R1[0]) / 15
        denom = max(abs(fd), abs(ad))
        err = abs(fd - ad) / denom if denom > 1e-300 else 0.0
        ok = err < FD_TOL
        out(f"{'PASS' if ok else 'FAIL'}  {modes_label}: {label}: autograd {ad:+.10e} fd {fd:+.10e} rel err {err:.1e}")
        return ok

    ok = True
    keys = list(base)
    for i in range(directions):
        ok &= check(f"direction {i} (all {len(keys)} tensors)", keys)
    if per_tensor:
        for k in keys:
            ok &= check(k, [k])
    return ok


def selftest(a, path, defines):
    ok = True
    modes = [None, "stop_grad", "differentiable"]
    for write in modes:
        spec = tm.load_spec(path, defines, write)
        label = "write=" + (write or "file(" + ",".join(f"{lv.name}:{lv.mode}" for lv in spec.levels) + ")")
        if a.params and a.input:
            x = load_input(spec, a.input)
            state = ints = pending = None
            if a.state_in:
                B = 1 if x.ndim == 2 else x.shape[0]
                state, ints, pending = load_state(spec, a.state_in, B)
            prob = Problem(spec, load_params(spec, a.params), x, state, ints, pending)
        else:
            params, x, state, ints, pending = random_problem(spec, a.T, a.B, a.seed)
            prob = Problem(spec, params, x, state, ints, pending)
        ok &= fd_check(prob, label, a.directions, a.per_tensor, a.seed)
    print("SELFTEST:", "PASS" if ok else "FAIL", f"(relative error < {FD_TOL:g})")
    return ok


# ---- main ------------------------------------------------------------------------
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--params")
    ap.add_argument("--input")
    ap.add_argument("--cotangent")
    ap.add_argument("--state-in")
    ap.add_argument("--output")
    ap.add_argument("--grad-out")
    ap.add_argument("--grad-dtype", choices=["F64", "F32"], default="F64")
    ap.add_argument("--cotangent-out")
    ap.add_argument("-D", dest="defines", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--write", choices=["stop_grad", "differentiable"])
    ap.add_argument("--state-grads", choices=["sum", "per-stream"], default="sum")
    ap.add_argument("--selftest", action="store_true")
    ap.add_argument("--directions", type=int, default=3)
    ap.add_argument("--per-tensor", action="store_true")
    ap.add_argument("--T", type=int, default=12)
    ap.add_argument("--B", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--info", action="store_true")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    try:
        defines = parse_defines(a.defines)
        spec = tm.load_spec(a.model, defines, a.write)
        if a.info:
            print(json.dumps({
                "model": spec.model.name, "dim": spec.model.dim,
                "hypers": spec.model.hypers,
                "params": [{"name": k, "shape": list(s)} for k, s in expected_params(spec).items()],
                "state": [{"name": t.name, "role": t.role, "dtype": t.dtype, "shape": list(t.shape)}
                          for t in spec.state],
                "levels": [{"name": lv.name, "period": lv.period, "write": lv.mode,
                            "optimizer_of": lv.optimizer_of} for lv in spec.levels]}, indent=1))
            return 0
        if a.selftest:
            return 0 if selftest(a, a.model, defines) else 1
        if not a.params or not a.input:
            fail("--params and --input are required")
        x = load_input(spec, a.input)
        B = 1 if x.ndim == 2 else x.shape[0]
        state = ints = pending = None
        if a.state_in:
            state, ints, pending = load_state(spec, a.state_in, B)
        prob = Problem(spec, load_params(spec, a.params), x, state, ints, pending)
        y = prob.forward()
        y_np = y.detach().numpy()
        if a.output:
            nlio.save_npy(a.output, y_np[0] if prob.squeeze else y_np)
        if a.cotangent and a.cotangent_out:
            fail("--cotangent and --cotangent-out exclude each other")
        if a.grad_out or a.cotangent or a.cotangent_out:
            shape = y_np.shape[1:] if prob.squeeze else y_np.shape
            dy = cotangent(shape, a.cotangent)
            if a.cotangent_out:
                nlio.save_npy(a.cotangent_out, dy)
            dy_t = torch.tensor(dy[None] if prob.squeeze else dy, dtype=DT)
            grads = prob.gradients(y, dy_t, per_stream=a.state_grads == "per-stream")
            if a.grad_out:
                meta = {"nlc.grad.loss": "sum(dy * y)",
                        "nlc.grad.L": "%.17g" % float((dy_t * y.detach()).sum()),
                        "nlc.grad.state_grads": a.state_grads,
                        "nlc.grad.write": ",".join(f"{lv.name}:{lv.mode}" for lv in spec.levels),
                        "nlc.grad.source": "torch_grads.py"}
                nlio.save_safetensors(a.grad_out, grads, a.grad_dtype, meta)
    except NLError as e:
        fail(str(e))
    return 0


if __name__ == "__main__":
    sys.exit(main())
