"""Parses every pl-symbolic-input answer of an exported question as PrairieLearn does.

Usage: python3 parse_symbolic.py QUESTION_DIR

PrairieLearn's pl-symbolic-input (prairielearn.sympy_utils, `convert_string_to_sympy`)
checks the element's `variables` against its built-in names (a conflict is a "question
configuration error"), puts each variable into SymPy's local names as a Symbol, and parses
the text with SymPy's standard transformations and implicit multiplication, `^` read as
`**`; Python parses the code SymPy writes. This script does the same for each variant's
correct answer (from server.py's VARIANTS) and checks that the parsed expression's symbols
are exactly the declared variables it reads. Prints {"parsed": N} on success; raises on a
failure.
"""

import html.parser
import importlib.util
import json
import sys

import sympy
from sympy.parsing import sympy_parser

qdir = sys.argv[1]

# prairielearn.sympy_utils: _Constants (variables, hidden, complex; functions, trig
# functions, helpers) and the set functions and operators.
BUILTINS = {
    "pi", "e", "infty", "_Exp1", "i", "j", "_ImaginaryUnit",
    "exp", "log", "ln", "sqrt", "factorial", "abs", "sgn", "max", "min", "sign", "Abs",
    "Max", "Min", "Number", "_Integer",
    "cos", "sin", "tan", "sec", "cot", "csc", "cosh", "sinh", "tanh", "arccos", "arcsin",
    "arctan", "acos", "asin", "atan", "arctan2", "atan2", "atanh", "acosh", "asinh",
    "Interval", "FiniteSet", "Union", "Intersection", "U", "cup", "cap",
}


class Inputs(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.symbolic = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "pl-symbolic-input":
            names = [v.strip() for v in a.get("variables", "").split(",") if v.strip()]
            self.symbolic[a["answers-name"]] = names


def parse(text, variables):
    conflicts = [v for v in variables if v in BUILTINS]
    assert not conflicts, f"variables {conflicts} conflict with PrairieLearn's built-in names"
    local = {"pi": sympy.pi, "e": sympy.E, "infty": sympy.oo}
    for v in variables:
        local[v] = sympy.Symbol(v)
    funcs = {
        "exp": sympy.exp, "log": sympy.log, "ln": sympy.log, "sqrt": sympy.sqrt,
        "abs": sympy.Abs, "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan,
        "sinh": sympy.sinh, "cosh": sympy.cosh, "tanh": sympy.tanh,
    }
    local.update(funcs)
    glob = {}
    exec("from sympy import *", glob)
    transformations = (
        *sympy_parser.standard_transformations,
        sympy_parser.implicit_multiplication_application,
    )
    code = sympy_parser.stringify_expr(text.replace("^", "**"), local, glob, transformations)
    return sympy_parser.eval_expr(code, local, glob)


inputs = Inputs()
inputs.feed(open(f"{qdir}/question.html").read())
spec = importlib.util.spec_from_file_location("server", f"{qdir}/server.py")
server = importlib.util.module_from_spec(spec)
spec.loader.exec_module(server)
n = 0
for variant in server.VARIANTS:
    for name, variables in inputs.symbolic.items():
        text = variant["correct_answers"][name]
        expr = parse(text, variables)
        symbols = {str(s) for s in expr.free_symbols}
        assert symbols <= set(variables), (name, text, symbols, variables)
        # Each variable the text names is read as that variable (not as a constant or a
        # function of SymPy's): the symbols are those of the text's own words.
        words = set(__import__("re").findall(r"[A-Za-z_][A-Za-z0-9_]*", text))
        assert words & set(variables) <= symbols, (name, text, symbols)
        n += 1
print(json.dumps({"parsed": n}))
