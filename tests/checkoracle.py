"""An independent restatement of a student's chain for checker tests: each step's formula in
plain float arithmetic (math, not the trace's mpmath), rounded half up with Decimal."""

import math
from decimal import ROUND_HALF_UP, Decimal

import sympy as sp

from chainrule.check.answers import Answer, AnswerSheet


def rnd(x: float, d: int) -> float:
    """x rounded half away from zero to d places, float noise cut at 12 significant digits."""
    q = Decimal(f"{x:.12g}").quantize(Decimal(1).scaleb(-d), rounding=ROUND_HALF_UP)
    return float(q) + 0.0


def _sigmoid(x):
    return 1 / (1 + math.exp(-x)) if x > -700 else 0.0


NAMESPACE = {
    "sigmoid": _sigmoid,
    "step": lambda x: 1.0 if x > 0 else 0.0,
    "relu": lambda x: x if x > 0 else 0.0,
    "Heaviside": lambda x, h0=0: 1.0 if x > 0 else (float(h0) if x == 0 else 0.0),
    "log": lambda x: math.log(max(x, 1e-15)),  # the documented clip of log's argument
}

_CACHE: dict = {}


def plain(expr: sp.Expr):
    """A float function of the expression's free symbols (sorted by name)."""
    key = expr
    found = _CACHE.get(key)
    if found is None:
        names = sorted(s.name for s in expr.free_symbols)
        fn = sp.lambdify([sp.Symbol(n, real=True) for n in names], expr,
                         modules=[NAMESPACE, "math"])
        found = _CACHE[key] = (names, fn)
    return found


def value(expr: sp.Expr, values: dict) -> float:
    names, fn = plain(expr)
    try:
        out = fn(*[values[n] for n in names])
        return float(out)
    except (ZeroDivisionError, OverflowError, ValueError, TypeError):
        return float("nan")


def chain(trace, givens: dict, d: int, forced: dict | None = None) -> dict:
    """Givens and every step rounded to d as a student goes, ``forced`` steps as given."""
    forced = forced or {}
    values = dict(givens)
    for s in trace.steps:
        values[s.name] = forced[s.name] if s.name in forced else rnd(
            value(s.formula, values), d)
    return values


def sheet_of(values: dict, d: int | None = None) -> AnswerSheet:
    """A sheet of numbers, each written with d decimals (or as Python prints it)."""
    answers = {}
    for n, v in values.items():
        text = f"{v:.{d}f}" if d is not None else str(v)
        answers[n] = Answer(n, float(text), text, None)
    return AnswerSheet(answers, [])
