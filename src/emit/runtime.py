
# ---- runtime: tq's reference semantics (docs/numeric.md) on NumPy arrays ----------
# Every tensor member (`L_{3}`, `W^{h,R}`, `h`) and its gradient is one array with an
# offset per dimension; it grows to cover what is written. An element never written
# reads as 0. A shifted read (`x+dx`) outside `0..size` on a size dimension wraps
# (circular) or reads 0 (zero, valid); a shifted write there wraps or is dropped.

LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def ax(k, lo, hi, ndim):
    """The values lo..hi of an index along axis k of an ndim-dimensional statement."""
    shape = [1] * ndim
    shape[k] = hi - lo + 1
    return np.arange(lo, hi + 1, dtype=np.int64).reshape(shape)


def rng_of(name):
    """The range (both ends included) of a lower-case index."""
    size, centered = INDEX[name]
    n = int(C[size])
    lo = -((n - 1) // 2) if centered else 0
    return lo, lo + n - 1


def mem(key, parts):
    return "%s_{%s}" % (key, ",".join(str(p) for p in parts))


class Store:
    def __init__(self):
        self.t = {}
        self.given = set()  # what set_elements wrote (--inputs): not sampled again
        for (member, grad), ext in EXTENTS.items():
            shape = [hi - lo + 1 for lo, hi in ext]
            self.t[(member, grad)] = ([lo for lo, _ in ext], np.zeros(shape))

    def array(self, member, grad=False):
        """The array of a tensor (or of its gradient), allocated at its extent."""
        return self.t[(member, grad)][1]

    def family(self, key, grad=False):
        """A family's members by subscript: L[3] is L_{3}, W[1, "left"] is W_{1,left}."""
        out = {}
        for (member, g), (off, a) in self.t.items():
            if g == grad and member.startswith(key + "_{") and member.endswith("}"):
                parts = [int(p) if p.lstrip("-").isdigit() else p
                         for p in member[len(key) + 2:-1].split(",")]
                out[parts[0] if len(parts) == 1 else tuple(parts)] = a
        return out

    def _extent(self, key, k):
        dims = DIMS.get(key)
        if dims is None or k >= len(dims) or dims[k] is None:
            return None
        return int(C[dims[k]])

    def _place(self, key, idx, shifted):
        """Positions after the boundary rule, and the mask of those that exist."""
        out, keep = [], True
        for k, (i, s) in enumerate(zip(idx, shifted)):
            i = np.asarray(i, dtype=np.int64)
            n = self._extent(key, k) if s else None
            if n is not None:
                inside = (i >= 0) & (i < n)
                if BOUNDARY == "circular" and n > 0:
                    i = np.mod(i, n)
                else:
                    keep = keep & inside
            out.append(i)
        return out, keep

    def read(self, member, grad, key, idx, shifted):
        idx, keep = self._place(key, idx, shifted)
        shape = np.broadcast_shapes(*[np.shape(i) for i in idx], np.shape(keep))
        entry = self.t.get((member, grad))
        if entry is None:
            return np.zeros(shape)
        off, a = entry
        if a.ndim != len(idx):
            raise ValueError("%s is read with %d indices, has %d" % (member, len(idx), a.ndim))
        if a.ndim == 0:
            return np.broadcast_to(a, shape).astype(float) * keep
        pos, ok = [], keep
        for i, o, n in zip(idx, off, a.shape):
            p = i - o
            ok = ok & (p >= 0) & (p < n)
            pos.append(p)
        pos = [np.clip(np.broadcast_to(p, shape), 0, max(n - 1, 0)) for p, n in zip(pos, a.shape)]
        return np.where(np.broadcast_to(ok, shape), a[tuple(pos)], 0.0)

    def _grow(self, member, grad, lo, hi):
        entry = self.t.get((member, grad))
        if entry is None:
            a = np.zeros([h - l + 1 for l, h in zip(lo, hi)])
            self.t[(member, grad)] = (list(lo), a)
            return
        off, a = entry
        nlo = [min(l, o) for l, o in zip(lo, off)]
        nhi = [max(h, o + n - 1) for h, o, n in zip(hi, off, a.shape)]
        if nlo == off and all(h == o + n - 1 for h, o, n in zip(nhi, off, a.shape)):
            return
        b = np.zeros([h - l + 1 for l, h in zip(nlo, nhi)])
        sl = tuple(slice(o - l, o - l + n) for o, l, n in zip(off, nlo, a.shape))
        b[sl] = a
        self.t[(member, grad)] = (nlo, b)

    def write(self, member, grad, key, idx, shifted, val, op):
        idx, keep = self._place(key, idx, shifted)
        val = np.asarray(val, dtype=float)
        shape = np.broadcast_shapes(*[np.shape(i) for i in idx], np.shape(keep), val.shape)
        keep = np.broadcast_to(keep, shape).ravel()
        val = np.broadcast_to(val, shape).ravel()[keep]
        idx = [np.broadcast_to(i, shape).ravel()[keep] for i in idx]
        if len(idx) == 0:
            self._grow(member, grad, [], [])
            off, a = self.t[(member, grad)]
            v = val[-1] if val.size else 0.0
            new = v if op == "=" else (a + v if op == "+=" else a - v)
            a[...] = new  # in place: the readable code holds this array
            return
        if val.size == 0:
            return
        self._grow(member, grad, [int(i.min()) for i in idx], [int(i.max()) for i in idx])
        off, a = self.t[(member, grad)]
        pos = tuple(i - o for i, o in zip(idx, off))
        if op == "=":
            a[pos] = val
        elif op == "+=":
            np.add.at(a, pos, val)
        else:
            np.subtract.at(a, pos, val)

    def set_elements(self, member, grad, positions, values):
        self.given.add((member, grad))
        positions = np.asarray(positions, dtype=np.int64).reshape(len(values), -1)
        idx = [positions[:, k] for k in range(positions.shape[1])]
        self.write(member, grad, None, idx, [False] * len(idx), np.asarray(values, dtype=float), "=")


def total(x, axes, ndim):
    """Sums a term over its summed capitals' axes, keeping the dimensions."""
    x = np.asarray(x, dtype=float)
    x = x.reshape((1,) * (ndim - x.ndim) + x.shape)
    return np.sum(x, axis=tuple(axes), keepdims=True)


def contract(factors, axes, ndim):
    """A product of factors summed over `axes`, as one np.einsum (dimensions kept)."""
    ops, subs = [], []
    for f in factors:
        f = np.asarray(f, dtype=float)
        f = f.reshape((1,) * (ndim - f.ndim) + f.shape)
        keep = [k for k in range(ndim) if f.shape[k] != 1]
        ops.append(f.reshape([f.shape[k] for k in keep]))
        subs.append("".join(LETTERS[k] for k in keep))
    present = sorted(set("".join(subs)), key=LETTERS.index)
    missing = [k for k in axes if LETTERS[k] not in present]
    out = [c for c in present if LETTERS.index(c) not in axes]
    r = np.einsum(",".join(subs) + "->" + "".join(out), *ops)
    shape = [1] * ndim
    for c, n in zip(out, np.shape(r)):
        shape[LETTERS.index(c)] = n
    r = np.reshape(r, shape)
    if missing:
        raise ValueError("a summed index that no factor reads")
    return r


def softmax(x, axis):
    """softmax along one axis."""
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def softmax_grid(x, k, n, ndim):
    x = np.asarray(x, dtype=float)
    x = x.reshape((1,) * (ndim - x.ndim) + x.shape)
    shape = list(x.shape)
    shape[k] = n
    x = np.broadcast_to(x, shape)
    e = np.exp(x - np.max(x, axis=k, keepdims=True))
    return e / np.sum(e, axis=k, keepdims=True)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def relu(x):
    return np.maximum(x, 0.0)


def step(x):
    return np.where(np.asarray(x) > 0, 1.0, 0.0)


def erf(x):
    import math

    return np.vectorize(math.erf, otypes=[float])(x)


def gelu(x):
    import math

    x = np.asarray(x, dtype=float)
    return x * 0.5 * np.vectorize(math.erfc, otypes=[float])(-x / math.sqrt(2.0))


def softplus(x):
    return np.logaddexp(0.0, x)


def draw(rnd, dist, args, n):
    if dist == "value":
        return np.full(n, args[0])
    if dist in ("normal", "moments", "symmetric"):
        if dist == "normal":
            m, v = args
        elif dist == "moments":
            m, v = args[0], args[1] - args[0] ** 2
        else:
            m, v = 0.0, args[0]
        return m + np.sqrt(max(v, 0.0)) * rnd.standard_normal(n)
    if dist == "uniform":
        return rnd.uniform(args[0], args[1], n)
    if dist == "bernoulli":
        return (rnd.random(n) < args[0]).astype(float)
    if dist == "categorical":
        return rnd.integers(0, int(args[0]), n).astype(float)
    raise ValueError("cannot sample from " + dist)


def draw_each(rnd, dist, args):
    """One draw per element, each from its own parameters (arrays of one shape)."""
    args = [np.asarray(a, dtype=float) for a in args]
    shape = args[0].shape
    if dist == "normal":
        return args[0] + np.sqrt(np.maximum(args[1], 0.0)) * rnd.standard_normal(shape)
    if dist == "uniform":
        return args[0] + (args[1] - args[0]) * rnd.random(shape)
    if dist == "bernoulli":
        return (rnd.random(shape) < args[0]).astype(float)
    raise ValueError("cannot sample element by element from " + dist)


def grid(ranges):
    axes = [np.arange(lo, hi + 1) for lo, hi in ranges]
    if not axes:
        return np.zeros((1, 0), dtype=np.int64)
    return np.stack([g.ravel() for g in np.meshgrid(*axes, indexing="ij")], axis=1)


def sample_inputs(seed, st=None):
    """Random leaves and incoming gradients from the declared distributions, for those
    that `st` (the values of --inputs) does not already hold. An input without a
    distribution, or a symbol without a `sample` value, must come from --inputs."""
    rnd = np.random.default_rng(seed)
    st = st if st is not None else Store()
    missing = [name for name in FREE if (name, False) not in st.given]
    if missing:
        raise SystemExit(
            "error: the file leaves %s free (no distribution or `sample` value): give %s in --inputs"
            % (", ".join(missing), "them" if len(missing) > 1 else "it"))
    for member, ranges, dist, args in LEAVES:
        if (member, False) not in st.given:
            pos = grid(ranges)
            st.set_elements(member, False, pos, draw(rnd, dist, args, len(pos)))
    for name, value in AT.items():
        if (name, False) not in st.given:
            st.set_elements(name, False, np.zeros((1, 0)), [value])
    sample_dependent(st, rnd)
    for member, ranges, dist, args in GRAD_SEEDS:
        if (member, True) not in st.given:
            pos = grid(ranges)
            st.set_elements(member, True, pos, draw(rnd, dist, args, len(pos)))
    return st


def read_json(path):
    with open(path) as f:
        return json.load(f)


def load_inputs(doc):
    st = Store()
    for e in doc.get("values", []):
        st.set_elements(e["member"], e["grad"], e["positions"], e["values"])
    return st


def dump(st):
    out = []
    for (member, grad), (off, a) in sorted(st.t.items()):
        out.append({"member": member, "grad": grad, "offset": list(off),
                    "shape": list(a.shape), "data": a.ravel().tolist()})
    return {"values": out}


def main(argv):
    import argparse
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--inputs", help="a JSON file of leaves and incoming gradients (tq's format)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random inputs")
    p.add_argument("--json", action="store_true", help="print every value and gradient as JSON")
    p.add_argument("--steps", type=int, default=20, help="steps of each update rule")
    a = p.parse_args(argv)
    doc = read_json(a.inputs) if a.inputs else {}
    st = sample_inputs(a.seed, load_inputs(doc) if a.inputs else None)
    forward(st)
    backward(st)
    rules, skipped = run_rules(a.seed, doc, a.steps)
    if a.json:
        out = dump(st)
        if RULES:
            out["rules"] = {r: {s: list(map(float, x)) for s, x in seqs.items()} for r, seqs in rules.items()}
            out["rules_not_run"] = skipped
        json.dump(out, sys.stdout)
        print()
    else:
        for (member, grad), (off, arr) in sorted(st.t.items()):
            name = member + (".grad" if grad else "")
            print("%-24s shape %-18s norm %.6g" % (name, tuple(arr.shape), float(np.sqrt(np.sum(arr * arr)))))
        for r, seqs in rules.items():
            for s, x in seqs.items():
                print("%-24s steps %-6d last %.6g" % (r + "." + s, len(x) - 1, float(x[-1])))
        for r, why in skipped.items():
            print("rule %s not run: %s" % (r, why))


def run_rules(seed, doc, steps):
    """Runs every update rule for `steps` steps. The input sequences (`"sequences":
    {"g": [...]}`), the starts (`"starts": {"A.v": 0.0}`) and symbols without a `sample`
    value (`"symbols": {"mu'": 0.89}`) come from --inputs; sequences and starts it does
    not hold are drawn from a standard normal (seeded; one draw of each input sequence,
    shared by every rule that reads it). A rule whose symbols have no value is not run."""
    rnd = np.random.default_rng([seed, 1])
    P.update(doc.get("symbols", {}))
    seqs = dict(doc.get("sequences", {}))
    starts = doc.get("starts", {})
    done, skipped = {}, {}
    for name, (f, states, inputs, symbols) in RULES.items():
        missing = [s for s in symbols if s not in P]
        if missing:
            skipped[name] = "no value for " + ", ".join(missing) + " (give them in --inputs under \"symbols\")"
            continue
        for g in inputs:
            if g not in seqs:
                seqs[g] = rnd.standard_normal(steps).tolist()
            if len(seqs[g]) < steps:
                raise SystemExit("input sequence %s has %d entries; %d steps need %d" % (g, len(seqs[g]), steps, steps))
        start = {}
        for s in states:
            key = name + "." + s
            start[s] = float(starts[key]) if key in starts else float(rnd.standard_normal())
        done[name] = f(steps, {g: seqs[g] for g in inputs}, start)
    return done, skipped


if __name__ == "__main__":
    main(sys.argv[1:])
