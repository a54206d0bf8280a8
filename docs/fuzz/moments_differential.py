#!/usr/bin/env python3
"""Differential check of the moments engine (docs/moments.md, "Differential check"):
random layered models; every forward moment line `tq derive` marks exact or closed form,
against an independent NumPy Monte Carlo of the same model (400,000 draws).
usage: moments_differential.py SEED COUNT OUTDIR [TQ]   (prints each disagreement beyond 6 standard errors)"""
import sys, os, json, random, subprocess, re
import numpy as np
import sympy as sp
from fractions import Fraction as F

def frac(r):
    return f"{r.numerator}/{r.denominator}" if r.denominator != 1 else f"{r.numerator}"

# The term kinds of a layer's right side (docs/moments.md, "Differential check").
TERMS = {
    "self": "h_l[b',j]", "W": "W_{l+1}[j,J'] h_l[b',J']", "reluW": "relu(W_{l+1}[j,J'] h_l[b',J'])",
    "absW": "abs(W_{l+1}[j,J'] h_l[b',J'])", "bias": "b[j]", "shared_x": "x[b',j]",
    "Wx": "W_{l+1}[j,J'] x[b',J']", "start": "h_0[b',j]", "tied": "U[j,J'] h_l[b',J']",
    "mask": "m_{l+1}[b',j] h_l[b',j]", "prodx": "h_l[b',j] x[b',j]", "sqself": "h_l[b',j]^2",
    "absself": "abs(h_l[b',j])", "Wsq": "W_{l+1}[j,J']^2 h_l[b',J']", "maskx": "m_{l+1}[b',j] x[b',j]",
    "Wstart": "W_{l+1}[j,J'] h_0[b',J']", "sq": "(W_{l+1}[j,J'] h_l[b',J'])^2",
}

def need_x(decl, v):
    """Declares the shared input x (variance v) unless the model has it; True when added."""
    if any(d.startswith("input x[") for d in decl):
        return False
    decl.append(f"input x[B, J] ~ normal(0, {frac(v)})")
    return True

def need_mask(decl, extra, q):
    """Declares the mask family m_l ~ bernoulli(q) unless the model has it."""
    if "m" not in extra:
        extra["m"] = q
        decl.append(f"input m_l[B, J] ~ bernoulli({frac(q)}) for l in 1..L")

def gen(rng):
    J = rng.choice([2, 3, 4]); B = 1; L = rng.choice([2, 3, 4])
    mu0 = rng.choice([F(0), F(0), F(1), F(-1, 2)]); v0 = rng.choice([F(1), F(1, 2), F(2)])
    s = rng.choice([F(1), F(1, 2), F(2), F(3, 2)])
    decl = [f"size B, J, L", f"input h_0[B, J] ~ normal({frac(mu0)}, {frac(v0)})",
            f"param W_l[J, J] ~ normal(0, {frac(s)}/J) for l in 1..L"]
    leaves = {"h0": ("normal", mu0, v0)}
    pool = ["self", "W", "reluW", "bias", "shared_x", "start", "tied", "mask", "Wx", "sq", "absW",
            "prodx", "sqself", "absself", "Wsq", "maskx", "Wstart"]
    mw = rng.choice([F(0), F(0), F(0), F(1), F(-1, 2)])
    if mw != 0:
        decl[2] = f"param W_l[J, J] ~ normal({frac(mw)}/J, {frac(s)}/J) for l in 1..L"
    n = rng.choice([1, 2, 2, 3])
    picks = rng.sample(pool, n)
    terms = []; tqterms = []
    extra = {}
    for p in picks:
        c = rng.choice([F(1), F(1), F(1, 2), F(2), F(-1)])
        cs = "" if c == 1 else f"({frac(c)}) "
        if p == "bias":
            vb = rng.choice([F(1, 4), F(1)]); mb = rng.choice([F(0), F(0), F(1)])
            extra["b"] = (mb, vb); decl.append(f"param b[J] ~ normal({frac(mb)}, {frac(vb)})")
        elif p in ("shared_x", "Wx"):
            need_x(decl, rng.choice([F(1, 2), F(1)]))
        elif p == "prodx":
            need_x(decl, F(1))
        elif p == "tied":
            su = rng.choice([F(1, 2), F(1)])
            extra["U"] = su; decl.append(f"param U[J, J] ~ normal(0, {frac(su)}/J)")
        elif p in ("mask", "maskx"):
            need_mask(decl, extra, rng.choice([F(1, 2), F(3, 4)]))
            if p == "maskx":
                need_x(decl, F(1))
        tqterms.append(cs + TERMS[p])
        terms.append((p, c))
    body = " + ".join(tqterms)
    src = "\n".join(decl) + "\nfor l in 0..L-1:\n  h_{l+1}[b',j] = " + body + "\n"
    post = rng.choice([None, "hL+h0", "hL*x", "hL^2", "relu(hL)", "abs(hL)", "(hL+x)^2", "hL*hL1", "W hL + hL"])
    if post:
        if post in ("hL*x", "(hL+x)^2") and need_x(decl, F(1)):
            src = "\n".join(decl) + "\nfor l in 0..L-1:\n  h_{l+1}[b',j] = " + body + "\n"
        text = {"hL+h0": "h_L[b',j] + h_0[b',j]", "hL*x": "h_L[b',j] x[b',j]", "hL^2": "h_L[b',j]^2",
                "relu(hL)": "relu(h_L[b',j])", "abs(hL)": "abs(h_L[b',j])", "(hL+x)^2": "(h_L[b',j] + x[b',j])^2",
                "hL*hL1": "h_L[b',j] h_{L-1}[b',j]", "W hL + hL": "W_L[j,J'] h_L[b',J'] + h_L[b',j]"}[post]
        src += f"y[b',j] = {text}\n"
    src += "claim Var(h_l) == 12345\n"   # forces the moments section
    if post:
        src += "claim Var(y) == 12345\nclaim E(y) == 12345\n"
    src += f"sample B = {B}, J = {J}, L = {L}\n"
    xs = [d for d in decl if d.startswith("input x[")]
    if xs:
        extra["x"] = F(re.search(r"normal\(0, ([^)]*)\)", xs[0]).group(1))
    model = dict(J=J, B=B, L=L, mu0=mu0, v0=v0, s=s, mw=mw, terms=terms, extra=extra, post=post)
    return src, model


def simulate(model, N, nprng):
    J, L = model["J"], model["L"]
    s = float(model["s"]); ex = model["extra"]
    h0 = float(model["mu0"]) + np.sqrt(float(model["v0"])) * nprng.standard_normal((N, J))
    b = None; x = None; U = None
    if "b" in ex:
        mb, vb = ex["b"]; b = float(mb) + np.sqrt(float(vb)) * nprng.standard_normal((N, J))
    if "x" in ex:
        x = np.sqrt(float(ex["x"])) * nprng.standard_normal((N, J))
    if "U" in ex:
        U = np.sqrt(float(ex["U"]) / J) * nprng.standard_normal((N, J, J))
    hs = [h0]; h = h0
    for l in range(L):
        W = float(model["mw"]) / J + np.sqrt(s / J) * nprng.standard_normal((N, J, J))
        Wh = np.einsum("njk,nk->nj", W, h)
        m = None
        if "m" in ex:
            m = (nprng.random((N, J)) < float(ex["m"])).astype(float)
        new = np.zeros((N, J))
        for p, c in model["terms"]:
            c = float(c)
            if p == "self": t = h
            elif p == "W": t = Wh
            elif p == "reluW": t = np.maximum(Wh, 0)
            elif p == "absW": t = np.abs(Wh)
            elif p == "bias": t = b
            elif p == "shared_x": t = x
            elif p == "Wx": t = np.einsum("njk,nk->nj", W, x)
            elif p == "start": t = h0
            elif p == "tied": t = np.einsum("njk,nk->nj", U, h)
            elif p == "mask": t = m * h
            elif p == "sq": t = Wh ** 2
            elif p == "prodx": t = h * x
            elif p == "sqself": t = h ** 2
            elif p == "absself": t = np.abs(h)
            elif p == "Wsq": t = np.einsum("njk,nk->nj", W ** 2, h)
            elif p == "maskx": t = m * x
            elif p == "Wstart": t = np.einsum("njk,nk->nj", W, h0)
            new = new + c * t
        h = new; hs.append(h)
    post = model.get("post"); y = None
    if post:
        hL = hs[-1]; hL1 = hs[-2]
        if x is None: x = np.zeros((N, J))
        y = {"hL+h0": lambda: hL + h0, "hL*x": lambda: hL * x, "hL^2": lambda: hL ** 2, "relu(hL)": lambda: np.maximum(hL, 0),
             "abs(hL)": lambda: np.abs(hL), "(hL+x)^2": lambda: (hL + x) ** 2, "hL*hL1": lambda: hL * hL1,
             "W hL + hL": lambda: np.einsum("njk,nk->nj", W, hL) + hL}[post]()
    return hs, y

def parse_expr(e):
    e = e.replace("^", "**")
    return sp.sympify(e, locals={"l": sp.Symbol("l"), "J": sp.Symbol("J"), "L": sp.Symbol("L"), "B": sp.Symbol("B")})

def main():
    seed, count, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    tq = sys.argv[4] if len(sys.argv) > 4 else "target/release/tq"
    os.makedirs(out, exist_ok=True)
    rng = random.Random(seed)
    findings = 0; compared = 0; withlines = 0; parsefail = 0
    for k in range(count):
        src, model = gen(rng)
        path = os.path.join(out, f"m{seed}_{k:03d}.tq")
        open(path, "w").write(src)
        env = dict(os.environ, TQ_NO_CACHE="1")
        try:
            r = subprocess.run(["nice", "-n", "5", tq, "derive", path, "--format", "json"], capture_output=True, text=True, timeout=120, env=env)
        except subprocess.TimeoutExpired:
            print(f"{path}: TIMEOUT"); findings += 1; continue
        if r.returncode == 1 and '"diagnostics":[]' not in r.stdout.replace(" ", "") and '"severity":"error"' in r.stdout.replace(" ", ""):
            print(f"{path}: tq error {r.stdout[:200]}")
        if r.returncode not in (0, 1):
            print(f"{path}: rc={r.returncode} {r.stderr[:300]}"); findings += 1; continue
        try:
            d = json.loads(r.stdout)
        except Exception:
            print(f"{path}: bad json"); continue
        lines = [m for m in d.get("moments", []) if m.get("section") == "forward"
                 and ("exact" in m.get("note", "") or "closed form" in m.get("note", ""))
                 and "approx" not in m.get("note", "") and "bound" not in m.get("note", "")]
        if not lines:
            continue
        withlines += 1
        nprng = np.random.default_rng(seed * 1000 + k)
        N = 400000
        hs, yv = simulate(model, N, nprng)
        for m in lines:
            name = m["name"]
            my = re.fullmatch(r"(E|Var)\(y\)", name)
            mm = re.fullmatch(r"(E|Var)\(h_(l|\d+)\)", name)
            if my and yv is not None:
                kind, member = my.group(1), "y"
            elif mm:
                kind, member = mm.groups()
            else:
                continue
            try:
                ex = parse_expr(m["expr"])
            except Exception:
                parsefail += 1; print(f'{path}: cannot parse {m["expr"]}'); continue
            members = range(0, model["L"] + 1) if member == "l" else ([-1] if member == "y" else [int(member)])
            for l in members:
                val = ex.subs({sp.Symbol("l"): l, sp.Symbol("J"): model["J"], sp.Symbol("L"): model["L"], sp.Symbol("B"): 1})
                try:
                    val = float(val)
                except Exception:
                    continue
                h = (yv if l == -1 else hs[l])[:, 0]; compared += 1
                if kind == "E":
                    est = h.mean(); se = h.std() / np.sqrt(N)
                else:
                    est = h.var(); se = np.sqrt(np.mean((h - h.mean()) ** 4) - est ** 2) / np.sqrt(N)
                z = (est - val) / max(se, 1e-12)
                if abs(z) > 6 and abs(est - val) > 0.01 * max(1.0, abs(val)):
                    print(f"{path}: {name} [{m['note']}] = {m['expr']} at l={l}: tq {val:.5g}, MC {est:.5g} (se {se:.2g}, z {z:.1f}) terms={[(p, str(c)) for p, c in model['terms']]}")
                    findings += 1
                    break
    print(f"done: {count} models, {withlines} with exact lines, {compared} comparisons, {parsefail} unparsed, {findings} findings")

main()
