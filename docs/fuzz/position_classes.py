#!/usr/bin/env python3
"""Position classes: random convolutions whose elements differ by position (session 33).

Each model is y[b,t] = relu(sum_dt W[dt] x[b, S t + G dt + O]) (1-D) or its 2-D form
y[b,i,j] = relu(sum W[di,dj] x[b, S i + G di + O, S j + G dj + O]), with random stride S,
dilation G, offset O (centred, causal or forward), kernel D, sizes and boundary rule
(zero or circular), x ~ normal(0, v), W ~ normal(0, s). The independent side is exact:
u is a sum of independent symmetric terms, so E(relu(u)^2) = E(u^2) / 2 = taps s v / 2,
where taps is the number of reads that fall inside (zero padding) or D (circular, the
window shorter than the input), counted here position by position.

For each model the script states, for every element `E(y[b,t]^2)`:
  - true:  `<= max s v / 2`, `>= min s v / 2 - s v / 10` (min, max over the positions);
  - false: `== max s v / 2` where min < max (fails at the positions with fewer taps),
           `== (max + 1) s v / 2`, `<= (max - 1/2) s v / 2` (fails at the positions with the
           most taps);
and checks that tq never refutes a true claim and never proves or confirms a false one
(an undecided verdict is allowed either way). Every claim fixes the sizes with `given`.

Usage: python3 docs/fuzz/position_classes.py [--count N] [--seed S] [--tq PATH]
Exit 1 on a disagreement (the file is kept in /tmp/tq_position_classes/).
"""

import argparse
import itertools
import json
import os
import random
import subprocess
import sys

OUT = "/tmp/tq_position_classes"


def taps_1d(pos, d, s, g, o, n_in, circular):
    if circular:
        return d
    return sum(1 for k in range(d) if 0 <= s * pos + g * k + o < n_in)


def model(rng):
    two_d = rng.random() < 0.35
    d = rng.choice([2, 3] if two_d else [2, 3, 4])
    stride = rng.choice([1, 1, 2])
    dil = rng.choice([1, 2, 3])
    circular = rng.random() < 0.3
    kind = rng.choice(["centred", "causal", "forward"])
    span = dil * (d - 1)
    offset = {"centred": -(span // 2), "causal": -span, "forward": 0}[kind]
    n_out = rng.randint(3, 5) if two_d else rng.randint(4, 8)
    n_in = stride * n_out
    if circular and span >= n_in:
        circular = False
    taps = []
    for p in itertools.product(range(n_out), repeat=2 if two_d else 1):
        t = 1
        for q in p:
            t *= taps_1d(q, d, stride, dil, offset, n_in, circular)
        taps.append(t)
    return dict(two_d=two_d, d=d, stride=stride, dil=dil, offset=offset, n_out=n_out,
                n_in=n_in, circular=circular, taps=taps)


def affine(var, m):
    s = f"{m['stride']}{var}" if m["stride"] > 1 else var
    g = f"{m['dil']} D{var.upper()}" if m["dil"] > 1 else f"D{var.upper()}"
    o = m["offset"]
    return f"{s} + {g}" + (f" - {-o}" if o < 0 else (f" + {o}" if o > 0 else ""))


def source(m, claims):
    lines = []
    if m["two_d"]:
        lines += ["size B, I, D", f"size X = {m['stride']} I" if m["stride"] > 1 else "size X = I",
                  "index j : I", "index di, dj : D", "symbol s, v",
                  f"boundary {'circular' if m['circular'] else 'zero'}",
                  "input x[B, X, X] ~ normal(0, v)", "param W[D, D] ~ normal(0, s)",
                  f"u[b, i, j] = W[DI, DJ] x[b, {affine('i', m)}, {affine('j', m)}]",
                  "y[b, i, j] = relu(u[b, i, j])"]
        el, given = "y[b,i,j]", f"given D = {m['d']}, I = {m['n_out']}"
        sample = f"sample B = 3, I = {m['n_out']}, D = {m['d']}, s = 1, v = 1"
    else:
        lines += ["size B, T, D", f"size X = {m['stride']} T" if m["stride"] > 1 else "size X = T",
                  "index dt : D", "symbol s, v",
                  f"boundary {'circular' if m['circular'] else 'zero'}",
                  "input x[B, X] ~ normal(0, v)", "param W[D] ~ normal(0, s)",
                  f"u[b, t] = W[DT] x[b, {affine('t', m)}]", "y[b, t] = relu(u[b, t])"]
        el, given = "y[b,t]", f"given D = {m['d']}, T = {m['n_out']}"
        sample = f"sample B = 4, T = {m['n_out']}, D = {m['d']}, s = 1, v = 1"
    for text, _ in claims:
        lines.append(f"claim E({el}^2) {text} {given}")
    lines.append(sample)
    return "\n".join(lines) + "\n"


def claims_of(m):
    lo, hi = min(m["taps"]), max(m["taps"])
    out = [(f"<= {hi} s v / 2", True), (f">= {lo} s v / 2 - s v / 10", True),
           (f"== {hi + 1} s v / 2", False), (f"<= {2 * hi - 1} s v / 4", False)]
    if lo < hi:
        out.append((f"== {hi} s v / 2", False))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=6)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tq", default="target/release/tq")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    os.makedirs(OUT, exist_ok=True)
    bad, seen = 0, {"proved": 0, "confirmed": 0, "refuted": 0, "undecided": 0}
    for n in range(a.count):
        m = model(rng)
        claims = claims_of(m)
        path = os.path.join(OUT, f"model_{a.seed}_{n}.tq")
        with open(path, "w") as f:
            f.write(source(m, claims))
        env = dict(os.environ, TQ_NO_CACHE="1")
        r = subprocess.run([a.tq, "check", path, "--format", "json"], capture_output=True,
                           text=True, env=env)
        try:
            rep = json.loads(r.stdout)
        except json.JSONDecodeError:
            print(f"{path}: no JSON report ({r.stderr.strip()[:200]})")
            bad += 1
            continue
        files = rep.get("files", [rep]) if isinstance(rep, dict) else rep
        got = [c["verdict"] for f in files for c in f.get("claims", [])]
        if len(got) != len(claims):
            print(f"{path}: {len(got)} verdicts for {len(claims)} claims")
            bad += 1
            continue
        for (text, truth), v in zip(claims, got):
            seen[v] = seen.get(v, 0) + 1
            wrong = (truth and v == "refuted") or (not truth and v in ("proved", "confirmed"))
            if wrong:
                bad += 1
                print(f"DISAGREE {path}: E(y^2) {text} is {'true' if truth else 'false'}, tq: {v}")
    print(f"{a.count} models, verdicts {seen}, disagreements {bad}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
