"""Runs an exported PrairieLearn question's server.py as PrairieLearn does and checks it.

Usage: python3 check_server.py QUESTION_DIR EXPECT_JSON

- generate(data) is called with the platform's data dict (params, correct_answers,
  variant_seed; Python's random seeded with the variant seed, as PrairieLearn seeds it),
  for 40 seeds;
- every answers-name of question.html gets a correct answer, and nothing else does; every
  {{params.X}} of question.html is set;
- pl-number-input answers are finite numbers; PrairieLearn's relabs rule
  (|submitted - true| <= atol + rtol |true|) accepts the true answer and rejects one just
  outside the tolerance;
- pl-symbolic-input answers are formulas in the declared variables only;
- EXPECT_JSON is {"constants": {name: number}, "answers": {answers-name: python expr}}:
  each expression, evaluated with the constants and the variant's params (as numbers),
  is the answer (numbers: relative 1e-9; formulas: compared at the variables = 0, 1, 2, 3).

Prints the variants seen as JSON on stdout; exits non-zero (AssertionError) on a failure.
"""

import html.parser
import importlib.util
import json
import math
import random
import re
import sys

qdir, expect_path = sys.argv[1], sys.argv[2]
expect = json.load(open(expect_path))


class Inputs(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.number = {}
        self.symbolic = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "pl-number-input":
            assert a.get("comparison", "relabs") == "relabs", a
            self.number[a["answers-name"]] = (float(a["rtol"]), float(a["atol"]))
        elif tag == "pl-symbolic-input":
            names = [v.strip() for v in a.get("variables", "").split(",") if v.strip()]
            self.symbolic[a["answers-name"]] = names


question = open(f"{qdir}/question.html").read()
inputs = Inputs()
inputs.feed(question)
names = set(inputs.number) | set(inputs.symbolic)
assert names, "question.html has no input"
placeholders = set(re.findall(r"\{\{\s*params\.([A-Za-z0-9_]+)\s*\}\}", question))

spec = importlib.util.spec_from_file_location("server", f"{qdir}/server.py")
server = importlib.util.module_from_spec(spec)
spec.loader.exec_module(server)
assert not hasattr(server, "grade"), "the export relies on the platform's grading"

FUNCTIONS = {
    "exp": math.exp,
    "log": math.log,
    "ln": math.log,
    "sqrt": math.sqrt,
    "abs": abs,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "sinh": math.sinh,
    "cosh": math.cosh,
    "tanh": math.tanh,
    "pi": math.pi,
}


def relabs(sub, tru, rtol, atol):
    return abs(sub - tru) <= atol + rtol * abs(tru)


seen = {}
for seed in range(40):
    random.seed(seed)
    data = {
        "params": {},
        "correct_answers": {},
        "submitted_answers": {},
        "variant_seed": seed,
        "options": {},
    }
    server.generate(data)
    params, correct = data["params"], data["correct_answers"]
    assert set(correct) == names, (sorted(correct), sorted(names))
    missing = placeholders - set(params)
    assert not missing, f"question.html uses params {missing} that generate() does not set"
    json.dumps(data)  # PrairieLearn stores data as JSON
    env = dict(expect.get("constants", {}))
    for k, v in params.items():
        if k != "tq_variant":
            env[k] = float(v)
    for name, (rtol, atol) in inputs.number.items():
        tru = correct[name]
        assert isinstance(tru, (int, float)) and math.isfinite(tru), (name, tru)
        assert relabs(tru, tru, rtol, atol)
        step = 1.5 * (atol + rtol * abs(tru))
        assert not relabs(tru + step, tru, rtol, atol)
        if name in expect["answers"]:
            want = eval(expect["answers"][name], {"__builtins__": {}}, {**FUNCTIONS, **env})
            assert math.isclose(tru, want, rel_tol=1e-9, abs_tol=1e-12), (name, tru, want, params)
    for name, variables in inputs.symbolic.items():
        formula = correct[name]
        assert isinstance(formula, str), (name, formula)
        used = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", formula)) - set(FUNCTIONS)
        assert used <= set(variables), (name, formula, variables)
        for x in range(4):
            point = {v: float(x) for v in variables}
            got = eval(formula, {"__builtins__": {}}, {**FUNCTIONS, **point})
            assert math.isfinite(got), (name, formula, point)
            if name in expect["answers"]:
                want = eval(
                    expect["answers"][name], {"__builtins__": {}}, {**FUNCTIONS, **env, **point}
                )
                assert math.isclose(got, want, rel_tol=1e-9), (name, formula, point, got, want)
    seen[json.dumps(params, sort_keys=True)] = correct

print(json.dumps({"variants_seen": len(seen), "answers": sorted(names)}))
