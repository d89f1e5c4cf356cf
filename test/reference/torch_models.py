"""PyTorch float64 references of nlc models, forward and autograd.

Written from the `.nl` files, docs/language.md, docs/ambiguities.md and
docs/architecture.md ("Time semantics"), never derived from nlc's code. Each
model's step is written by hand (MODELS below) and must match the step of
the file it is run on token for token (hyper-parameter names included), so a
file whose step differs is refused rather than silently run as another model.
Everything else -- dimensions, hyper-parameters (-D), periods, rule fields,
state types -- is read from the file (nlparse.py).

Time semantics (per token, in the step's execution order):
  * a learning level adds lr * grad (the gradient of its objective at its
    stored state, which is the chunk-start state of a chunked level) to its
    pending sum; after every `period` tokens (the level clock, continued
    from a state file's nlc.clock) it applies the sum with the gates of
    that token: gd `M = retain M - G`; momentum via level S:
    `S = retain_S S - G` (G scaled by S's lr), `M = retain M + lr S`;
  * reads: after_write sees this token's apply, before_write the state
    before the update, chunk_prefix the stored state minus the pending sum
    (this token's included);
  * a per-token level's accumulator holds one token's contribution (written,
    not added to: a value loaded from a state file is dead), a chunked
    level's accumulator keeps the pending sum across calls; an MLP level's
    deferred ring (`__defer.<part>.dy/x`, `__defer_n` rows) is part of that
    sum: pending = acc + sum_{r < n} dy_r x_r^T. The stashed gates of a
    chunked level (`__gate.*`) are read only by `tail flush` and
    `lr_placement = per_chunk`, which these references refuse, so they are
    dead (their gradients are zero).

Write modes (A24), per level:
  * differentiable: the stored results of every write (the memory, the
    optimizer level's buffer, the accumulator) are kept in the graph: the
    outer gradient flows through the update into the key, value, gates and
    the previous state, second-order terms of an MLP memory's inner
    gradient included (torch.autograd.grad(create_graph=True));
  * stop_grad: every stored result of a write is detached, so no gradient
    reaches the write's key, value, gates or the state before it through the
    write; reads still pass gradients to their queries and to the state they
    read (a constant once the level has written it).
  An optimizer level named in another level's `via` is part of that level's
  update: it takes the served level's write mode (its own rule may not say
  otherwise).

State tensors are named as nlc's manifest names them (nl-run --info):
`<level>.<state>`, `<level>.<state>.w<i>/.b<i>`, `<level>.__acc[.<part>]`,
`<level>.__defer.<part>.dy/.x`, `<level>.__defer_n` (i32),
`<level>.__gate.<level>.<gate>`, `__conv<N>` (row j = x_{t-1-j}).
"""
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nlparse  # noqa: E402
from nlparse import NLError  # noqa: E402

DT = torch.float64
RING_ROWS = 64  # the most tokens an MLP level's deferred ring holds (nlc's ABI)
EPS = 1e-6      # default eps of l2norm, layernorm, rmsnorm and an MLP memory's norm


# ---- elementwise and norms (over the last dimension) -------------------------
def sigmoid(z):
    return torch.sigmoid(z)


def silu(z):
    return z * torch.sigmoid(z)


def gelu(z):  # exact (erf) form
    return 0.5 * z * (1.0 + torch.erf(z / math.sqrt(2.0)))


def gelu_tanh(z):
    return 0.5 * z * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (z + 0.044715 * z ** 3)))


ACTS = {"identity": lambda z: z, "relu": torch.relu, "silu": silu, "gelu": gelu, "gelu_tanh": gelu_tanh,
        "sigmoid": torch.sigmoid, "tanh": torch.tanh, "softplus": torch.nn.functional.softplus,
        "exp": torch.exp}


def l2norm(x, eps=EPS):
    return x / torch.clamp(torch.linalg.vector_norm(x, dim=-1, keepdim=True), min=eps)


def rmsnorm(x, scale=None, eps=EPS):
    y = x / torch.sqrt(torch.mean(x * x, dim=-1, keepdim=True) + eps)
    return y if scale is None else y * scale


def layernorm(x, scale=None, shift=None, eps=EPS):
    mu = torch.mean(x, dim=-1, keepdim=True)
    var = torch.mean((x - mu) ** 2, dim=-1, keepdim=True)
    y = (x - mu) / torch.sqrt(var + eps)
    if scale is not None:
        y = y * scale
    if shift is not None:
        y = y + shift
    return y


def lin(W, x, b=None):  # W @ x over the last dim: W [out, in], x [..., in]
    y = torch.einsum("oi,...i->...o", W, x)
    return y if b is None else y + b


def split_heads(x, H):  # [B, d] -> [B, H, d / H]
    return x.reshape(x.shape[:-1] + (H, x.shape[-1] // H))


def merge_heads(x):  # [B, H, d] -> [B, H d]
    return x.reshape(x.shape[:-2] + (x.shape[-2] * x.shape[-1],))


def mat_read(M, q):  # y = M q, M [B, (H,) rows, cols], q [B, (H,) cols]
    return torch.einsum("...oi,...i->...o", M, q)


def outer(a, b):
    return torch.einsum("...o,...i->...oi", a, b)


# ---- the model's layout -----------------------------------------------------
class StateTensor:
    def __init__(self, name, shape, dtype="f32", role="state", init=None, level=None):
        self.name, self.shape, self.dtype, self.role, self.init, self.level = name, tuple(shape), dtype, role, init, level


class LevelSpec:
    """A level as the references run it."""

    def __init__(self, model, lv, index):
        self.name, self.index, self.period, self.lv = lv.name, index, lv.period, lv
        self.rule = dict(lv.rule)
        self.optimizer_of = None     # the level this one serves (named in its `via`)
        via = self.rule.get("via", [])
        self.via = list(via) if isinstance(via, list) else [via]
        self.memory = lv.states[0] if lv.states else None
        self.mode = None             # effective write mode, set by Spec

    @property
    def chunked(self):
        return isinstance(self.period, int) and self.period > 1

    @property
    def learns(self):
        return self.lv.phase == "online" and self.period not in ("inf", "frozen") and bool(self.rule)

    def get(self, field, default=None):
        return self.rule.get(field, default)


_SUPPORTED = {  # rule field -> values these references implement
    "objective": {"l2", "linear"}, "l2": {"half", "full"}, "retention": {"none", "decay"},
    "decay_order": {"decoupled"}, "algorithm": {"gd", "momentum"}, "grad_at": {"token", "chunk_start"},
    "read": {"after_write", "before_write", "chunk_prefix"}, "precond": {"none"}, "window": {1},
    "write": {"stop_grad", "differentiable"}, "grad_source": {"local"}, "lr_placement": {"per_token"},
    "chunk_apply": {"at_end"},
}


class Spec:
    """The parsed model, its levels with their effective write modes, and the
    state tensors in nlc's naming."""

    def __init__(self, model, impl, write=None):
        self.model, self.impl = model, impl
        self.levels = [LevelSpec(model, lv, i) for i, lv in enumerate(model.levels)]
        self.by_name = {lv.name: lv for lv in self.levels}
        for kind, a, b, reset in model.transfers:
            if reset:
                raise NLError(f"transfer {kind} {a} -> {b} reset is not implemented by these references")
        for lv in self.levels:
            for f, v in lv.rule.items():
                if f in ("via", "p", "huber_delta", "dgd_step", "ns_steps", "eps", "slow_weight",
                         "precond_target"):
                    continue
                if f not in _SUPPORTED or v not in _SUPPORTED[f]:
                    raise NLError(f"level {lv.name}: rule field {f} = {v} is not implemented by these references")
            if lv.learns and lv.lv.tail != "carry":
                raise NLError(f"level {lv.name}: tail {lv.lv.tail} is not implemented (only carry)")
            for v in lv.via:
                if v not in self.by_name:
                    raise NLError(f"level {lv.name}: via names no level '{v}'")
                self.by_name[v].optimizer_of = lv.name
        for lv in self.levels:
            if lv.optimizer_of:
                served = self.by_name[lv.optimizer_of]
                mode = write or served.get("write", "stop_grad")
                if write is None and "write" in lv.lv.explicit and lv.rule["write"] != mode:
                    raise NLError(f"level {lv.name} serves {served.name} (via) but its rule says write = "
                                  f"{lv.rule['write']} and {served.name}'s {mode}: an optimizer level takes "
                                  f"the write mode of the level it serves")
                lv.mode = mode
            else:
                lv.mode = write or lv.get("write", "stop_grad")
        self.state = self._layout()

    def _layout(self):
        m, out = self.model, []
        gate_shapes = self.impl.gate_shapes(m)
        for lv in self.levels:
            for s in lv.lv.states:
                if s.kind == "matrix":
                    if s.opts.get("layout", "out_in") != "out_in":
                        raise NLError(f"state {lv.name}.{s.name}: layout {s.opts['layout']} is not implemented")
                    H = s.opts.get("heads", 1)
                    out.append(StateTensor(f"{lv.name}.{s.name}", ((H,) if H > 1 else ()) + tuple(s.dims),
                                           init=s.init, level=lv.name))
                elif s.kind == "mlp":
                    for part, shape in mlp_parts(s):
                        out.append(StateTensor(f"{lv.name}.{s.name}.{part}", shape,
                                               init=None if part.startswith("b") and not _is_file(s.init)
                                               else s.init, level=lv.name))
                elif s.kind == "buffer":
                    out.append(StateTensor(f"{lv.name}.{s.name}", s.dims, init=s.init, level=lv.name))
                else:
                    raise NLError(f"state {lv.name}.{s.name}: {s.kind} is not implemented by these references")
            if not lv.learns or lv.optimizer_of:
                continue
            mem = lv.memory
            if mem.kind == "mlp":
                parts = mlp_parts(mem)
                for part, shape in parts:
                    out.append(StateTensor(f"{lv.name}.__acc.{part}", shape, role="accumulator", level=lv.name))
                if lv.chunked and lv.get("read", "after_write") != "chunk_prefix":
                    rows = min(lv.period, RING_ROWS)
                    for part, shape in parts:
                        if part.startswith("b"):
                            continue
                        out.append(StateTensor(f"{lv.name}.__defer.{part}.dy", (rows,) + shape[:-1],
                                               role="accumulator", level=lv.name))
                        out.append(StateTensor(f"{lv.name}.__defer.{part}.x", (rows,) + shape[:-2] + shape[-1:],
                                               role="accumulator", level=lv.name))
                    out.append(StateTensor(f"{lv.name}.__defer_n", (1,), dtype="i32", role="accumulator",
                                           level=lv.name))
            else:
                out.append(StateTensor(f"{lv.name}.__acc", self.tensor(f"{lv.name}.{mem.name}", out).shape,
                                       role="accumulator", level=lv.name))
            if lv.chunked:
                for owner in [lv.name] + lv.via:
                    for gate, shape in gate_shapes.get(owner, {}).items():
                        out.append(StateTensor(f"{lv.name}.__gate.{owner}.{gate}", shape, role="gate",
                                               level=lv.name))
        for i, w in enumerate(self.impl.convs):
            shape = m.params[w].shape
            if shape[0] > 1:
                out.append(StateTensor(f"__conv{i}", (shape[0] - 1, shape[1]), role="history"))
        return out

    def tensor(self, name, within=None):
        for t in (within if within is not None else self.state):
            if t.name == name:
                return t
        raise KeyError(name)

    @property
    def f32_state(self):
        return [t for t in self.state if t.dtype == "f32"]


def _is_file(init):
    return init is not None and init.kind == "file"


def mlp_parts(s):
    """[(part, shape)] of an MLP state: w<i> [heads?, w_{i+1}, w_i], b<i> [heads?, w_{i+1}]."""
    H = s.opts.get("heads", 1)
    lead = (H,) if H > 1 else ()
    out = []
    for i in range(len(s.dims) - 1):
        out.append((f"w{i}", lead + (s.dims[i + 1], s.dims[i])))
        if s.opts.get("bias"):
            out.append((f"b{i}", lead + (s.dims[i + 1],)))
    return out


def initial_value(t, params, B):
    """The value of state tensor t at the start of a stream without a state
    file: its initializer (zeros for buffers); None for a random draw."""
    init = t.init
    if t.role != "state" or init is None or init.kind == "zeros":
        return torch.zeros((B,) + t.shape, dtype=DT)
    if init.kind in ("ones", "fill"):
        v = 1.0 if init.kind == "ones" else float(init.args["_0"])
        return torch.full((B,) + t.shape, v, dtype=DT)
    if init.kind == "identity":
        eye = torch.eye(t.shape[-2], t.shape[-1], dtype=DT)
        return eye.expand((B,) + t.shape).clone()
    if init.kind == "param":
        P = params[init.args["_0"]]
        return P.expand((B,) + t.shape)
    if init.kind == "file":
        part = t.name.rsplit(".", 1)[1]
        key = init.args["_0"] + ("." + part if t.name.count(".") >= 2 else "")
        return params[key].expand((B,) + t.shape)
    return None


# ---- one call over a batch of streams ------------------------------------------
class Tape:
    """The stored results of stop_grad writes: recorded by one forward, replayed
    as constants by another (the finite-difference check of stop_grad)."""

    def __init__(self):
        self.values, self.replay, self.pos = [], False, 0

    def put(self, v):
        if not self.replay:
            self.values.append(v.detach())
            return self.values[-1]
        out = self.values[self.pos]
        self.pos += 1
        return out


def gate(g, target, heads):
    """Broadcast gate g ([B], [B, 1], [B, H] or [B, (H,) cols]) against a
    memory tensor `target` [B, (H,) ...]: a scalar, one value per head, or one
    per key channel (the last dim)."""
    if not torch.is_tensor(g):
        return g
    B = target.shape[0]
    if g.dim() == 0:
        return g
    extra = target.dim() - 1
    gs = tuple(g.shape[1:])
    if gs in ((), (1,)):
        return g.reshape((B,) + (1,) * extra)
    if heads > 1 and gs == (heads,):
        return g.reshape((B, heads) + (1,) * (extra - 1))
    if gs == tuple(target.shape[-1:]) or gs == tuple(target.shape[1:2]) + tuple(target.shape[-1:]):
        return g.reshape((B,) + gs[:-1] + (1,) * (extra - len(gs)) + gs[-1:])
    raise NLError(f"a gate of shape {list(gs)} does not fit a memory of shape {list(target.shape[1:])}")


class Call:
    """The running state of one call: st holds every state tensor [B, ...]
    (for an MLP level the accumulator holds the whole pending sum, deferred
    rows included), pending the clock's count per level."""

    def __init__(self, spec, params, state, pending, tape=None):
        self.spec, self.p, self.st = spec, params, dict(state)
        self.pending = dict(pending)
        self.tape = tape
        self.updated = {}
        self.conv_i = 0
        self.levels = {lv.name: LEVEL_KINDS[self._kind(lv)](self, lv) for lv in spec.levels}

    @staticmethod
    def _kind(lv):
        if lv.optimizer_of:
            return "optimizer"
        if lv.memory is None:
            raise NLError(f"level {lv.name} has no state")
        return lv.memory.kind

    def __getitem__(self, name):  # a level
        return self.levels[name]

    def hyper(self, name):
        return float(self.spec.model.hypers[name])

    def store(self, lv, name, value):
        if lv.mode == "differentiable":
            self.st[name] = value
        elif self.tape is not None:
            self.st[name] = self.tape.put(value)
        else:
            self.st[name] = value.detach()

    def conv(self, u, W):
        """y_t = sum_j W[j] u_{t-j}; the history __conv<N> holds u_{t-1-j} in row j."""
        name = f"__conv{self.conv_i}"
        self.conv_i += 1
        y = W[0] * u
        if W.shape[0] > 1:
            hist = self.st[name]
            y = y + torch.einsum("jc,bjc->bc", W[1:], hist)
            self.st[name] = torch.cat([u[:, None], hist[:, :-1]], dim=1)
        return y

    def begin_token(self):
        self.conv_i = 0
        self.updated = {}
        for L in self.levels.values():
            L.begin_token()

    def end_token(self):
        for lv in self.spec.levels:
            if lv.learns and lv.name not in self.updated:
                raise NLError(f"the step did not update level {lv.name}")

    def tick(self, lv):
        """Counts this token on the level's clock; True when the level applies."""
        if lv.name in self.updated:
            raise NLError(f"level {lv.name} updated twice in one step")
        self.updated[lv.name] = True
        self.pending[lv.name] += 1
        if self.pending[lv.name] == lv.period:
            self.pending[lv.name] = 0
            return True
        return False


class _Level:
    def __init__(self, call, lv):
        self.c, self.lv = call, lv
        self.before = None

    def begin_token(self):
        self.before = None

    def _check_read(self):
        mode = self.lv.get("read", "after_write")
        done = self.lv.name in self.c.updated
        if mode == "before_write":
            return mode
        if not done:
            raise NLError(f"read of {self.lv.name} (read = {mode}) before its update in the step")
        return mode


class OptimizerLevel(_Level):
    """A level named in another's `via`: its update only gives the gates the
    served level's apply uses; its memory is the momentum buffer."""

    def update(self, lr, retain=None):
        self.gates = {"lr": lr, "retain": retain}
        if (retain is None) != (self.lv.get("retention", "none") != "decay"):
            raise NLError(f"level {self.lv.name}: retain is given iff retention = decay")
        self.c.updated[self.lv.name] = True
        self.c.pending[self.lv.name] = 0


class MatrixLevel(_Level):
    def __init__(self, call, lv):
        super().__init__(call, lv)
        s = lv.memory
        self.mem = f"{lv.name}.{s.name}"
        self.acc = f"{lv.name}.__acc"
        self.heads = s.opts.get("heads", 1)

    def update(self, key=None, value=None, lr=None, retain=None, grad=None):
        lv, c = self.lv, self.c
        if (retain is None) != (lv.get("retention", "none") != "decay"):
            raise NLError(f"level {lv.name}: retain is given iff retention = decay")
        M = c.st[self.mem]
        self.before = M
        obj = lv.get("objective", None)
        if obj == "l2":
            e = mat_read(M, key) - value
            g = (1.0 if lv.get("l2", "half") == "half" else 2.0) * outer(e, key)
        elif obj == "linear":
            g = grad
        else:
            raise NLError(f"level {lv.name}: objective {obj} is not implemented")
        via = lv.via
        if len(via) > 1 or (via and lv.get("algorithm", "gd") != "momentum"):
            raise NLError(f"level {lv.name}: via {via} with algorithm {lv.get('algorithm', 'gd')} is not implemented")
        opt = c[via[0]] if via else None
        if opt is not None and opt.lv.name not in c.updated:
            raise NLError(f"level {lv.name}: its optimizer level {via[0]} is updated after it in the step")
        if not via and lv.get("algorithm", "gd") != "gd":
            raise NLError(f"level {lv.name}: a fused algorithm = {lv.get('algorithm')} is not implemented")
        lr_acc = opt.gates["lr"] if opt else lr  # via: the optimizer's lr scales the gradient into it
        contrib = gate(lr_acc, M, self.heads) * g
        acc = c.st[self.acc] + contrib if lv.chunked else contrib
        c.store(lv, self.acc, acc)
        if c.tick(lv):
            acc = c.st[self.acc]
            kept = M if retain is None else gate(retain, M, self.heads) * M
            if opt:
                sname = f"{opt.lv.name}.{opt.lv.memory.name}"
                r = opt.gates["retain"]
                S = c.st[sname]
                S = (S if r is None else gate(r, S, self.heads) * S) - acc
                c.store(opt.lv, sname, S)
                c.store(lv, self.mem, kept + gate(lr, M, self.heads) * c.st[sname])
            else:
                c.store(lv, self.mem, kept - acc)
            if lv.chunked:
                c.store(lv, self.acc, torch.zeros_like(acc))

    def read(self, q):
        mode = self._check_read()
        c = self.c
        if mode == "before_write":
            M = self.before if self.before is not None else c.st[self.mem]
        elif mode == "chunk_prefix":
            if self.lv.via or self.lv.get("retention", "none") != "none":
                raise NLError(f"level {self.lv.name}: chunk_prefix needs gd without retention")
            M = c.st[self.mem] - (c.st[self.acc] if self.lv.chunked else 0.0)
        else:
            M = c.st[self.mem]
        return mat_read(M, q)


class MlpLevel(_Level):
    """mlp[w0, .., wn](act, bias, residual, norm, heads): h = act(W_i h + b_i)
    between layers, none after the last, the optional norm (no affine, eps
    1e-6), then the residual u + h."""

    def __init__(self, call, lv):
        super().__init__(call, lv)
        s = lv.memory
        self.s = s
        self.parts = [p for p, _ in mlp_parts(s)]
        self.names = {p: f"{lv.name}.{s.name}.{p}" for p in self.parts}
        self.accs = {p: f"{lv.name}.__acc.{p}" for p in self.parts}
        self.heads = s.opts.get("heads", 1)
        self.act = ACTS[s.opts.get("act", "silu")]
        self.n = len(s.dims) - 1
        if lv.via or lv.get("algorithm", "gd") != "gd":
            raise NLError(f"level {lv.name}: an MLP memory with algorithm {lv.get('algorithm', 'gd')} "
                          f"is not implemented (gd only)")

    def forward(self, W, u):
        h = u
        for i in range(self.n):
            z = mat_read(W[f"w{i}"], h)
            if f"b{i}" in W:
                z = z + W[f"b{i}"]
            h = self.act(z) if i < self.n - 1 else z
        norm = self.s.opts.get("norm")
        if norm == "layer":
            h = layernorm(h)
        elif norm == "rms":
            h = rmsnorm(h)
        elif norm == "l2":
            h = l2norm(h)
        elif norm is not None:
            raise NLError(f"norm = {norm}?")
        if self.s.opts.get("residual"):
            h = u + h
        return h

    def stored(self):
        return {p: self.c.st[n] for p, n in self.names.items()}

    def inner_grad(self, W, key, value, create_graph):
        """d/dW of the level's objective (summed over streams and heads: each
        stream's and head's weights get their own gradient)."""
        if self.lv.get("objective") != "l2":
            raise NLError(f"level {self.lv.name}: objective {self.lv.get('objective')} on an MLP is not implemented")
        scale = 0.5 if self.lv.get("l2", "half") == "half" else 1.0
        with torch.enable_grad():
            if create_graph:
                Wg = {p: (w if w.requires_grad else w.detach().requires_grad_(True)) for p, w in W.items()}
            else:
                Wg = {p: w.detach().requires_grad_(True) for p, w in W.items()}
                key, value = key.detach(), value.detach()
            loss = scale * ((self.forward(Wg, key) - value) ** 2).sum()
            grads = torch.autograd.grad(loss, [Wg[p] for p in self.parts], create_graph=create_graph)
        return dict(zip(self.parts, grads))

    def update(self, key, value, lr, retain=None):
        lv, c = self.lv, self.c
        if (retain is None) != (lv.get("retention", "none") != "decay"):
            raise NLError(f"level {lv.name}: retain is given iff retention = decay")
        W = self.stored()
        self.before = W
        g = self.inner_grad(W, key, value, create_graph=lv.mode == "differentiable")
        for p in self.parts:
            contrib = gate(lr, W[p], self.heads) * g[p]
            c.store(lv, self.accs[p], c.st[self.accs[p]] + contrib if lv.chunked else contrib)
        if c.tick(lv):
            for p in self.parts:
                kept = W[p] if retain is None else gate(retain, W[p], self.heads) * W[p]
                c.store(lv, self.names[p], kept - c.st[self.accs[p]])
                if lv.chunked:
                    c.store(lv, self.accs[p], torch.zeros_like(W[p]))

    def read(self, q):
        mode = self._check_read()
        if mode == "before_write":
            W = self.before if self.before is not None else self.stored()
        elif mode == "chunk_prefix":
            if self.lv.get("retention", "none") != "none":
                raise NLError(f"level {self.lv.name}: chunk_prefix needs gd without retention")
            W = {p: w - (self.c.st[self.accs[p]] if self.lv.chunked else 0.0) for p, w in self.stored().items()}
        else:
            W = self.stored()
        return self.forward(W, q)


LEVEL_KINDS = {"matrix": MatrixLevel, "mlp": MlpLevel, "optimizer": OptimizerLevel}


def pending_sums(spec, state, ints):
    """Folds each chunked MLP level's deferred rows into its accumulator:
    acc + sum_{r < n} dy_r x_r^T (n per stream). Returns the state the
    references run on (the accumulators hold the whole pending sums)."""
    st = dict(state)
    for lv in spec.levels:
        if not (lv.learns and not lv.optimizer_of and lv.memory.kind == "mlp" and lv.chunked):
            continue
        nkey = f"{lv.name}.__defer_n"
        if nkey not in ints:
            continue
        n = torch.as_tensor(np.asarray(ints[nkey]).reshape(-1))
        for part, shape in mlp_parts(lv.memory):
            dyk = f"{lv.name}.__defer.{part}.dy"
            if dyk not in st:
                continue
            dy, x = st[dyk], st[f"{lv.name}.__defer.{part}.x"]
            rows = dy.shape[1]
            mask = (torch.arange(rows)[None, :] < n[:, None]).to(DT)  # [B, rows]
            mask = mask.reshape(mask.shape + (1,) * (dy.dim() - 2))
            st[f"{lv.name}.__acc.{part}"] = st[f"{lv.name}.__acc.{part}"] + torch.einsum(
                "br...o,br...i->b...oi", dy * mask, x)
    return st


def run(spec, params, state, ints, x, pending, tape=None):
    """y [B, T, out] from x [B, T, dim] (torch, float64); state: {name: [B, ...]}
    for every f32 state tensor; ints: the i32 counts (numpy); pending: {level: count}."""
    call = Call(spec, params, pending_sums(spec, state, ints), pending, tape)
    ys = []
    for t in range(x.shape[1]):
        call.begin_token()
        ys.append(spec.impl.step(call, x[:, t]))
        call.end_token()
    if not ys:
        return torch.zeros((x.shape[0], 0, spec.impl.out_dim(spec.model)), dtype=DT)
    return torch.stack(ys, dim=1)


# ---- the models ------------------------------------------------------------------
class Impl:
    """A hand-written step. `step_source` must equal the file's step."""
    name = None
    step_source = None
    convs = ()

    def gate_shapes(self, m):  # {level: {gate: shape}} of the updates (for chunked levels' stashes)
        return {}

    def out_dim(self, m):
        return m.dim


class DeltaNet(Impl):
    """examples/deltanet.nl: per head S <- S - beta (S k - v) k^T (l2 half), o = S q after the write."""
    name = "deltanet"
    convs = ("conv_q", "conv_k", "conv_v")
    step_source = """
  q = l2norm(split_heads(silu(conv(W_q @ x, conv_q)), H)) * scale
  k = l2norm(split_heads(silu(conv(W_k @ x, conv_k)), H))
  v = split_heads(silu(conv(W_v @ x, conv_v)), H)
  beta = sigmoid(W_beta @ x)
  update S(key = k, value = v, lr = beta)
  o = rmsnorm(read(S, q), scale = g_out)
  return W_o @ merge_heads(o)
"""

    def gate_shapes(self, m):
        return {"S": {"lr": (m.params["W_beta"].shape[0],)}}

    def out_dim(self, m):
        return m.params["W_o"].shape[0]

    def step(self, c, x):
        p, H, scale = c.p, int(c.hyper("H")), c.hyper("scale")
        q = l2norm(split_heads(silu(c.conv(lin(p["W_q"], x), p["conv_q"])), H)) * scale
        k = l2norm(split_heads(silu(c.conv(lin(p["W_k"], x), p["conv_k"])), H))
        v = split_heads(silu(c.conv(lin(p["W_v"], x), p["conv_v"])), H)
        beta = sigmoid(lin(p["W_beta"], x))
        c["S"].update(key=k, value=v, lr=beta)
        o = rmsnorm(c["S"].read(q), scale=p["g_out"])
        return lin(p["W_o"], merge_heads(o))


class TitansLinear(Impl):
    """examples/titans-linear.nl: S = eta S - theta 2 (M k - v) k^T (via level, l2 full);
    M = (1 - alpha) M + 1.0 S; y = W_o (rmsnorm(M q) g_out * sigmoid(W_gate x))."""
    name = "titans_linear"
    convs = ("conv_q", "conv_k", "conv_v")
    step_source = """
  q = l2norm(silu(conv(W_q @ x, conv_q)))
  k = l2norm(silu(conv(W_k @ x, conv_k)))
  v = silu(conv(W_v @ x, conv_v))
  theta = sigmoid(w_lr @ x) * max_lr
  alpha = sigmoid(w_forget @ x + forget_bias)
  eta = sigmoid(w_mom @ x)
  update momentum(lr = theta, retain = eta)
  update memory(key = k, value = v, lr = 1.0, retain = 1 - alpha)
  o = read(memory, q)
  return W_o @ (rmsnorm(o, scale = g_out) * sigmoid(W_gate @ x))
"""

    def gate_shapes(self, m):
        return {"momentum": {"lr": (1,), "retain": (1,)}, "memory": {"lr": (), "retain": (1,)}}

    def out_dim(self, m):
        return m.params["W_o"].shape[0]

    def step(self, c, x):
        p = c.p
        q = l2norm(silu(c.conv(lin(p["W_q"], x), p["conv_q"])))
        k = l2norm(silu(c.conv(lin(p["W_k"], x), p["conv_k"])))
        v = silu(c.conv(lin(p["W_v"], x), p["conv_v"]))
        theta = sigmoid(lin(p["w_lr"], x)) * c.hyper("max_lr")
        alpha = sigmoid(lin(p["w_forget"], x) + c.hyper("forget_bias"))
        eta = sigmoid(lin(p["w_mom"], x))
        c["momentum"].update(lr=theta, retain=eta)
        c["memory"].update(key=k, value=v, lr=1.0, retain=1 - alpha)
        o = c["memory"].read(q)
        return lin(p["W_o"], rmsnorm(o, scale=p["g_out"]) * sigmoid(lin(p["W_gate"], x)))


class TttMlp(Impl):
    """examples/ttt-mlp.nl: per head f(u) = u + LN(W1 gelu_tanh(W0 u + b0) + b1);
    G += eta_h d/dW 1/2 ||f(k) - v||^2 at the mini-batch-start W; z = f(q) at W - G
    (chunk_prefix); y = W_o (layernorm(z) * gelu_tanh(W_g x))."""
    name = "ttt_mlp"
    step_source = """
  q = split_heads(W_q @ x, H)
  k = split_heads(W_k @ x, H)
  v = split_heads(W_v @ x, H)
  eta = sigmoid(linear(x, W_lr, b_lr)) * (base_lr / d_h)
  update ttt(key = k, value = v, lr = eta)
  z = merge_heads(read(ttt, q))
  return W_o @ (layernorm(z, scale = ln_g, shift = ln_b) * gelu_tanh(W_g @ x))
"""

    def gate_shapes(self, m):
        return {"ttt": {"lr": (m.params["W_lr"].shape[0],)}}

    def out_dim(self, m):
        return m.params["W_o"].shape[0]

    def step(self, c, x):
        p, H = c.p, int(c.hyper("H"))
        q, k, v = (split_heads(lin(p[n], x), H) for n in ("W_q", "W_k", "W_v"))
        eta = sigmoid(lin(p["W_lr"], x, p["b_lr"])) * (c.hyper("base_lr") / c.hyper("d_h"))
        c["ttt"].update(key=k, value=v, lr=eta)
        z = merge_heads(c["ttt"].read(q))
        return lin(p["W_o"], layernorm(z, scale=p["ln_g"], shift=p["ln_b"]) * gelu_tanh(lin(p["W_g"], x)))


class Cms(Impl):
    """examples/cms.nl: a sequential CMS of three residual GELU MLP levels
    (periods 1 / 16 / 256), each learning 1/2 ||M(key) - W_target x||^2 at
    its chunk-start weights, read after its write; each level's read keys
    the next level."""
    name = "cms"
    step_source = """
  target = W_target @ x
  h1 = read(mlp_fast, x)
  h2 = read(mlp_mid, h1)
  y = read(mlp_slow, h2)
  update mlp_fast(key = x, value = target, lr = lr)
  update mlp_mid(key = h1, value = target, lr = lr)
  update mlp_slow(key = h2, value = target, lr = lr)
  return y
"""

    def gate_shapes(self, m):
        return {n: {"lr": ()} for n in ("mlp_fast", "mlp_mid", "mlp_slow")}

    def step(self, c, x):  # in execution order: each read after its level's update
        lr = c.hyper("lr")
        target = lin(c.p["W_target"], x)
        c["mlp_fast"].update(key=x, value=target, lr=lr)
        h1 = c["mlp_fast"].read(x)
        c["mlp_mid"].update(key=h1, value=target, lr=lr)
        h2 = c["mlp_mid"].read(h1)
        c["mlp_slow"].update(key=h2, value=target, lr=lr)
        return c["mlp_slow"].read(h2)


class Cms2Task(Impl):
    """test/reference/models/cms2-task.nl: a two-level sequential CMS of
    residual GELU MLPs at periods 1 and C, both written differentiably;
    k = l2norm(W_k x), t = W_t x, eta = lr_max sigmoid(w_lr x);
    fast learns 1/2 ||F(k) - t||^2, h = F(k) after the write; slow learns
    1/2 ||S(h) - t||^2 at its chunk-start weights; y = W_o S(h) after the write."""
    name = "cms2_task"
    step_source = """
  k = l2norm(W_k @ x)
  t = W_t @ x
  eta = sigmoid(w_lr @ x) * lr_max
  update fast(key = k, value = t, lr = eta)
  h = read(fast, k)
  update slow(key = h, value = t, lr = eta)
  return W_o @ read(slow, h)
"""

    def gate_shapes(self, m):
        return {"fast": {"lr": (1,)}, "slow": {"lr": (1,)}}

    def out_dim(self, m):
        return m.params["W_o"].shape[0]

    def step(self, c, x):
        p = c.p
        k = l2norm(lin(p["W_k"], x))
        t = lin(p["W_t"], x)
        eta = sigmoid(lin(p["w_lr"], x)) * c.hyper("lr_max")
        c["fast"].update(key=k, value=t, lr=eta)
        h = c["fast"].read(k)
        c["slow"].update(key=h, value=t, lr=eta)
        return lin(p["W_o"], c["slow"].read(h))


MODELS = {impl.name: impl for impl in (DeltaNet(), TitansLinear(), TttMlp(), Cms(), Cms2Task())}


def load_spec(path, defines=None, write=None):
    """Parses PATH (with -D defines) and returns its Spec; refuses a model
    without a reference or whose step differs from the reference's."""
    model = nlparse.parse_file(path, defines)
    impl = MODELS.get(model.name)
    if impl is None:
        raise NLError(f"{path}: model '{model.name}' has no torch reference (known: {', '.join(sorted(MODELS))})")
    want = [t.text for t in nlparse.tokenize(impl.step_source)]
    if model.step_arg != "x" or model.step != want:
        raise NLError(f"{path}: the step of model '{model.name}' differs from the one the reference "
                      f"implements (torch_models.{type(impl).__name__}.step_source)")
    return Spec(model, impl, write)
