#!/usr/bin/python3
"""Self-checks of the float64 references; each one can fail. Exit 1 on failure."""
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_inputs  # noqa: E402
import models as m  # noqa: E402
import nlio  # noqa: E402

FAILED = []


def check(name, ok, detail=""):
    print(f"{'PASS' if ok else 'FAIL'}  {name}{'  ' + detail if detail else ''}")
    if not ok:
        FAILED.append(name)


def close(name, a, b, tol=1e-12):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return check(name, False, f"shape {a.shape} != {b.shape}")
    err = float(np.max(np.abs(a - b))) / max(float(np.max(np.abs(b))), 1e-30)
    check(name, err <= tol, f"rel err {err:.2e} (tol {tol:g})")


def rand_params(model, seed):
    return make_inputs.make(model, seed, 1)[0]


def test_la():  # (a) y_t = sum_{s<=t} v_s (k_s . q_t)
    rng = np.random.default_rng(1)
    p, x = rand_params("la", 1), rng.standard_normal((64, 16))
    Q, K, V = (x @ np.float64(p[n]).T for n in ("W_q", "W_k", "W_v"))
    y, st = m.la(p, x)
    close("(a) la: y_t = sum_{s<=t} v_s (k_s.q_t)", y, np.tril(Q @ K.T) @ V)
    close("(a) la: S_T = sum_s v_s k_s^T", st["S.S"][0], V.T @ K)


def test_deltanet_exact_recall():  # (b)
    rng = np.random.default_rng(2)
    R = np.linalg.qr(rng.standard_normal((16, 16)))[0]  # orthogonal
    P = np.eye(8)[rng.permutation(8)]
    Wk = np.block([[np.eye(8), np.zeros((8, 8))], [P, np.zeros((8, 8))]]) @ R.T
    p = {"W_q": Wk, "W_k": Wk, "W_v": rng.standard_normal((16, 16)), "W_b": 50.0 * np.ones((2, 16)) @ R.T}
    x = R[:, :8].T  # x_t = R e_t -> head keys e_t and e_{perm(t)}: orthonormal over t
    check("(b) deltanet: beta = sigmoid(50) == 1 exactly", float(m.sigmoid(np.array(50.0))) == 1.0)
    S0 = rng.standard_normal((1, 2, 8, 8))  # arbitrary start: beta = 1 overwrites it
    y, st = m.deltanet(p, x, {"S.S": S0})
    K = m.l2norm((x @ Wk.T).reshape(8, 2, 8))
    V = (x @ p["W_v"].T).reshape(8, 2, 8)
    recalled = np.einsum("hoi,thi->tho", st["S.S"][0], K)
    close("(b) deltanet: final S_h k_{h,t} == v_{h,t} for all t", recalled, V)
    close("(b) deltanet: y_t == v_t (read after write)", y, x @ p["W_v"].T)


def test_titans_delta():  # (c) eta = 0, a = 1 -> delta rule with lr theta
    rng = np.random.default_rng(3)
    p = {k: np.float64(v) for k, v in rand_params("titans", 3).items()}
    x = rng.standard_normal((80, 16))
    x[:, 0] = 1.0
    p["w_m"] = np.zeros((1, 16)); p["w_m"][0, 0] = -1000.0  # eta = sigmoid(-1000) = 0
    p["w_r"] = np.zeros((1, 16)); p["w_r"][0, 0] = 1000.0   # a = sigmoid(1000) = 1
    y, st = m.titans(p, x)
    M, ys = np.zeros((16, 16)), []
    for xt in x:
        k, v, q = m.l2norm(p["W_k"] @ xt), p["W_v"] @ xt, p["W_q"] @ xt
        theta = 0.1 / (1 + np.exp(-(p["w_lr"] @ xt)[0]))
        M = M - theta * np.outer(M @ k - v, k)
        ys.append(M @ q)
    close("(c) titans eta=0,a=1: y == delta rule (lr theta)", y, np.array(ys))
    close("(c) titans eta=0,a=1: M == delta rule state", st["memory.M"][0], M)


def inline_fast(W_t, x):  # fast level of cms2: per-token delta rule; returns h_t, t_t
    F, hs = np.eye(16), []
    for xt in x:
        F = F - 0.01 * np.outer(F @ xt - W_t @ xt, xt)
        hs.append(F @ xt)
    return F, np.array(hs), x @ W_t.T


def test_cms2():  # (d)
    rng = np.random.default_rng(4)
    p, x = rand_params("cms2", 4), rng.standard_normal((100, 16))
    W_t = np.float64(p["W_t"])
    F, H, Tt = inline_fast(W_t, x)
    # period 1: the slow level is a per-token delta rule too
    y1, st1 = m.cms2(p, x, slow_period=1)
    L, ys = np.eye(16), []
    for h, t in zip(H, Tt):
        L = L - 0.01 * np.outer(L @ h - t, h)
        ys.append(L @ h)
    close("(d) cms2 period 1: y == per-token delta rule", y1, np.array(ys))
    close("(d) cms2 period 1: slow.L, fast.F", np.concatenate([st1["slow.L"][0], st1["fast.F"][0]]),
          np.concatenate([L, F]))
    # period 8, matrix form per chunk: L' = L_c - 0.01 (L_c H^T - T^T) H; 100 = 12*8 + 4
    y8, st8 = m.cms2(p, x)
    L, ys = np.eye(16), []
    for c in range(0, 96, 8):
        Hc, Tc = H[c:c + 8], Tt[c:c + 8]
        Ln = L - 0.01 * (L @ Hc.T - Tc.T) @ Hc
        ys += [L @ h for h in Hc[:7]] + [Ln @ Hc[7]]
        L = Ln
    ys += [L @ h for h in H[96:]]
    pend = 0.01 * (L @ H[96:].T - Tt[96:].T) @ H[96:]
    close("(d) cms2 period 8: y == chunked matrix form", y8, np.array(ys))
    close("(d) cms2 period 8: slow.L excludes the 4-token tail", st8["slow.L"][0], L)
    close("(d) cms2 period 8: tail carried as pending", st8["_slow.L.pending"][0], pend)
    check("(d) cms2 period 8: pending count == 4", float(st8["_slow.count"][0]) == 4.0)


def test_deltanet_wy():  # (g) spec 5.3 chunkwise WY/UT form == per-token loop
    rng = np.random.default_rng(5)
    p, x = rand_params("deltanet", 5), rng.standard_normal((48, 16))
    S0 = rng.standard_normal((1, 2, 8, 8)) * 0.3
    y, st = m.deltanet(p, x, {"S.S": S0})
    Q = (x @ np.float64(p["W_q"]).T).reshape(48, 2, 8)
    K = m.l2norm((x @ np.float64(p["W_k"]).T).reshape(48, 2, 8))
    V = (x @ np.float64(p["W_v"]).T).reshape(48, 2, 8)
    beta = m.sigmoid(x @ np.float64(p["W_b"]).T)
    out = np.zeros((48, 2, 8))
    for h in range(2):
        S = S0[0, h].T  # FLA orientation: S in R^{d_k x d_v}, o = q^T S
        for c in range(0, 48, 16):
            Kc, Vc, Qc, b = K[c:c + 16, h], V[c:c + 16, h], Q[c:c + 16, h], beta[c:c + 16, h]
            T = np.linalg.solve(np.eye(16) + np.tril(np.diag(b) @ Kc @ Kc.T, -1), np.diag(b))
            W, U = T @ Kc, T @ Vc
            out[c:c + 16, h] = Qc @ S + np.tril(Qc @ Kc.T) @ (U - W @ S)
            S = S + Kc.T @ (U - W @ S)
        close(f"(g) deltanet head {h}: final state == WY chunk form", st["S.S"][0, h], S.T, 1e-10)
    close("(g) deltanet: y == WY chunk form", y, out.reshape(48, 16), 1e-10)


def test_streaming():  # (e) split at 100 == whole run; batch streams are independent
    for name, fn in m.MODELS.items():
        p, x = make_inputs.make(name, 6, 256, B=2)
        try:
            y, st = fn(p, x)
        except FloatingPointError as e:  # the model diverges on these inputs
            check(f"(e) {name}: finite over 256 tokens", False, str(e))
            continue
        ya, sa = fn(p, x[:, :100])
        yb, sb = fn(p, x[:, 100:], sa)
        close(f"(e) {name}: streamed y == whole y", np.concatenate([ya, yb], 1), y, 0.0)
        close(f"(e) {name}: streamed states == whole states",
              np.concatenate([sb[k].ravel() for k in sorted(st)]), np.concatenate([st[k].ravel() for k in sorted(st)]), 0.0)
        y1, s1 = fn(p, x[1])
        close(f"(e) {name}: stream 1 alone == batch stream 1",
              np.concatenate([y1.ravel()] + [s1[k].ravel() for k in sorted(st)]),
              np.concatenate([y[1].ravel()] + [st[k][1:].ravel() for k in sorted(st)]), 0.0)


def test_io():  # (f)
    rng = np.random.default_rng(7)
    t = {"a": rng.standard_normal((3, 4)), "b.c": rng.standard_normal((2, 1, 5)), "s": np.array(2.5)}
    with tempfile.TemporaryDirectory() as d:
        for dt, npdt in (("F64", np.float64), ("F32", np.float32)):
            f = os.path.join(d, f"t{dt}.safetensors")
            nlio.save_safetensors(f, t, dt)
            r = nlio.load_safetensors(f)
            check(f"(f) safetensors {dt} round-trip", sorted(r) == sorted(t) and all(
                r[k].dtype == npdt and r[k].shape == t[k].shape and np.array_equal(r[k], t[k].astype(npdt)) for k in t))
        # a hand-built file: unsorted header, metadata, no padding
        import json, struct
        a32, b64 = np.arange(6, dtype="<f4").reshape(2, 3), np.array([1.5, -2.0], "<f8")
        h = json.dumps({"__metadata__": {"format": "pt"}, "z": {"dtype": "F64", "shape": [2], "data_offsets": [24, 40]},
                        "y": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}}).encode()
        f = os.path.join(d, "hand.safetensors")
        open(f, "wb").write(struct.pack("<Q", len(h)) + h + a32.tobytes() + b64.tobytes())
        r = nlio.load_safetensors(f)
        check("(f) safetensors reads a hand-built file", np.array_equal(r["y"], a32) and np.array_equal(r["z"], b64))
        for ext in (".npz", ".safetensors"):
            f = os.path.join(d, "st" + ext)
            nlio.save_states(f, t)
            r = nlio.load_states(f)
            check(f"(f) states {ext} round-trip", all(np.array_equal(r[k], t[k]) for k in t) and len(r) == len(t))
        x = rng.standard_normal((2, 5, 16)).astype(np.float32)
        nlio.save_npy(os.path.join(d, "x.npy"), x)
        r = nlio.load_npy(os.path.join(d, "x.npy"))
        check("(f) npy round-trip", r.dtype == np.float32 and np.array_equal(r, x))
        test_cli(d)


def test_cli(d):  # end to end through the command-line tools
    py = sys.executable
    run = lambda *a: subprocess.run([py, *a], capture_output=True, text=True)
    J = lambda *a: os.path.join(d, *a)
    r = run(os.path.join(HERE, "make_inputs.py"), "cms2", "--seed", "3", "--T", "40", "--B", "2", "--out", J("in"))
    p, x = make_inputs.make("cms2", 3, 40, B=2)
    check("(f) make_inputs writes params/x deterministically", r.returncode == 0 and
          np.array_equal(nlio.load_npy(J("in", "x.npy")), x) and
          np.array_equal(nlio.load_safetensors(J("in", "params.safetensors"))["W_t"], p["W_t"]))
    rr = os.path.join(HERE, "run_reference.py")
    r = run(rr, "cms2", "--params", J("in", "params.safetensors"), "--input", J("in", "x.npy"),
            "--output", J("y.npy"), "--state-out", J("s.safetensors"))
    y, st = m.cms2(p, x)
    s = nlio.load_states(J("s.safetensors"))
    check("(f) run_reference output == models.cms2", r.returncode == 0 and np.array_equal(nlio.load_npy(J("y.npy")), y)
          and sorted(s) == ["fast.F", "slow.L"] and s["slow.L"].shape == (2, 16, 16) and np.array_equal(s["slow.L"], st["slow.L"]),
          r.stderr.strip())
    # streaming through the CLI: first 21 tokens (partial chunk carried), then the rest
    nlio.save_npy(J("xa.npy"), x[:, :21]); nlio.save_npy(J("xb.npy"), x[:, 21:])
    run(rr, "cms2", "--params", J("in", "params.safetensors"), "--input", J("xa.npy"), "--output", J("ya.npy"),
        "--state-out", J("sa.safetensors"), "--with-pending")
    r = run(rr, "cms2", "--params", J("in", "params.safetensors"), "--input", J("xb.npy"), "--output", J("yb.npy"),
            "--state-in", J("sa.safetensors"), "--state-out", J("sb.npz"))
    yab = np.concatenate([nlio.load_npy(J("ya.npy")), nlio.load_npy(J("yb.npy"))], 1)
    check("(f) run_reference --state-in continues exactly", r.returncode == 0 and np.array_equal(yab, y)
          and np.array_equal(nlio.load_states(J("sb.npz"))["slow.L"], st["slow.L"]), r.stderr.strip())
    cmp = os.path.join(HERE, "compare.py")
    ok = run(cmp, J("y.npy"), J("y.npy")).returncode == 0 and run(cmp, J("s.safetensors"), J("sb.npz")).returncode == 0
    nlio.save_npy(J("y_bad.npy"), y * (1 + 1e-3))
    st_bad = {k: v for k, v in s.items() if k != "fast.F"}
    nlio.save_states(J("s_bad.safetensors"), st_bad)
    nlio.save_npy(J("y_shape.npy"), y[0])
    bad = [run(cmp, J("y_bad.npy"), J("y.npy")).returncode, run(cmp, J("s_bad.safetensors"), J("s.safetensors")).returncode,
           run(cmp, J("y_shape.npy"), J("y.npy")).returncode]
    check("(f) compare passes equal files, fails perturbed/missing/misshaped", ok and bad == [1, 1, 1], str(bad))


def test_specs():  # (h) hard-coded SPECS == the .nl declarations
    for name in m.MODELS:
        path = make_inputs.nl_path(name)
        check(f"(h) {name}: SPECS match {os.path.basename(path)}", make_inputs.parse_nl(path) == m.SPECS[name])
        check(f"(h) {name}: MLP_INIT match {os.path.basename(path)}",
              make_inputs.parse_mlp_states(path) == m.MLP_INIT.get(name, []))


def test_mlp_grad():  # (i) the hand-written MLP backward == central finite differences
    rng = np.random.default_rng(8)
    cases = [(2, False, True, False, 1, [8, 16, 8]), (3, True, False, False, 1, [8, 12, 12, 8]),
             (2, True, True, True, 2, [4, 8, 4]), (2, False, False, False, 1, [8, 8, 1])]
    for act in ("silu", "gelu", "gelu_tanh", "sigmoid", "softplus"):
        for layers, bias, residual, norm, heads, widths in cases:
            M = m.Mlp(act, layers, bias, residual, norm)
            lead = (heads,) if heads != 1 else ()
            P = {f"w{i}": rng.standard_normal(lead + (widths[i + 1], widths[i])) / np.sqrt(widths[i]) for i in range(layers)}
            if bias:
                P.update({f"b{i}": 0.3 * rng.standard_normal(lead + (widths[i + 1],)) for i in range(layers)})
            k, v = rng.standard_normal(lead + (widths[0],)), rng.standard_normal(lead + (widths[-1],))
            for scale in (0.5, 1.0):
                g, worst = M.grad(P, k, v, scale), 0.0
                loss = lambda Q: scale * np.sum((M(Q, k) - v) ** 2)
                for nm in M.names:
                    fd = np.zeros_like(P[nm])
                    for idx in np.ndindex(P[nm].shape):
                        Qp = {a: b.copy() for a, b in P.items()}
                        Qm = {a: b.copy() for a, b in P.items()}
                        Qp[nm][idx] += 1e-6
                        Qm[nm][idx] -= 1e-6
                        fd[idx] = (loss(Qp) - loss(Qm)) / 2e-6
                    worst = max(worst, float(np.max(np.abs(fd - g[nm]))) / max(float(np.max(np.abs(fd))), 1e-12))
                desc = f"{act} {widths} bias={bias} residual={residual} norm={norm} heads={heads} scale={scale}"
                check(f"(i) Mlp.grad == finite differences: {desc}", worst <= 1e-6, f"rel err {worst:.1e}")


if __name__ == "__main__":
    np.seterr(over="raise", divide="raise", invalid="raise")  # underflow to 0 is intended
    for t in (test_specs, test_mlp_grad, test_la, test_deltanet_exact_recall, test_titans_delta, test_cms2, test_deltanet_wy,
              test_streaming, test_io):
        t()
    print(f"\n{'FAILED: ' + ', '.join(FAILED) if FAILED else 'ALL PASSED'}")
    sys.exit(1 if FAILED else 0)
