"""Is a student's formula the step's formula? By simplify of the difference, or at 8 random
in-domain points evaluated to 50 digits; the result says which test decided.

Both formulas may use any earlier step names and givens: the points are whole consistent
evaluations of the trace, so a student may write delta3 as yhat - y or a1 as sigma(z1).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import mpmath
import numpy as np
import sympy as sp

from chainrule.symbolic.trace import Trace, sym

__all__ = ["POINTS", "Equivalence", "FormulaInternalError", "equivalent", "expand_steps"]

POINTS = 8
TOLERANCE = mpmath.mpf("1e-30")
#: Differences with more operations than this are judged by the points alone.
MAX_SIMPLIFY_OPS = 30
_MAX_DRAWS = 200
_DPS = 50


class FormulaInternalError(RuntimeError):
    """simplify says two formulas are equal while a point says they differ."""


@dataclass(frozen=True)
class Equivalence:
    """The verdict: ``equal``; ``method`` is ``simplify`` or ``points``; ``with_numbers`` when
    it holds only with the problem's numbers put in for givens."""

    equal: bool
    method: str
    with_numbers: bool = False
    detail: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"equal": self.equal, "decided_by": self.method,
                "with_numbers": self.with_numbers}


def _small(expr: sp.Expr) -> bool:
    """Small enough for simplify to finish quickly: few operations, low powers."""
    if sp.count_ops(expr) > MAX_SIMPLIFY_OPS:
        return False
    return all(not (p.exp.is_Number and abs(p.exp) > 8) for p in expr.atoms(sp.Pow))


def _is_zero(diff: sp.Expr) -> bool:
    """simplify(diff) == 0, for differences small enough to simplify quickly (else False:
    the points decide)."""
    if diff == 0:
        return True
    if not _small(diff):
        return False
    try:
        return bool(sp.expand(diff) == 0 or sp.simplify(diff) == 0)
    except (RecursionError, TypeError, ValueError, ZeroDivisionError):
        return False


def expand_steps(expr: sp.Expr, trace: Trace) -> sp.Expr:
    """``expr`` with every step name replaced by its formula: in givens alone."""
    for step in reversed(trace.steps):
        if step.symbol in expr.free_symbols:
            expr = expr.xreplace({step.symbol: step.formula})
    return expr


def _mp_step(x: Any) -> Any:
    return mpmath.mpf(1) if x > 0 else mpmath.mpf(0)


_NAMESPACE: dict[str, Callable[..., Any]] = {
    "sigmoid": lambda x: 1 / (1 + mpmath.exp(-x)),
    "step": _mp_step,
    "relu": lambda x: x if x > 0 else mpmath.mpf(0),
    "Heaviside": lambda x, h0=0: mpmath.mpf(1) if x > 0 else mpmath.mpf(h0 if x == 0 else 0),
}
_FLOAT_NAMESPACE: dict[str, Callable[..., Any]] = {
    "sigmoid": lambda x: 1 / (1 + math.exp(-x)) if x > -700 else 0.0,
    "step": lambda x: 1.0 if x > 0 else 0.0,
    "relu": lambda x: x if x > 0 else 0.0,
    "Heaviside": lambda x, h0=0: 1.0 if x > 0 else float(h0 if x == 0 else 0),
    "log": lambda x: math.log(x) if x > 0 else float("nan"),
    "sqrt": lambda x: math.sqrt(x) if x >= 0 else float("nan"),
}


@lru_cache(maxsize=4096)
def _compiled(expr: sp.Expr, names: tuple[str, ...]) -> tuple[Callable[..., Any], ...]:
    args = [sym(n) for n in names]
    fast = sp.lambdify(args, expr, modules=[_FLOAT_NAMESPACE, "math"])
    exact = sp.lambdify(args, expr, modules=[_NAMESPACE, "mpmath"])
    return fast, exact


def _value(expr: sp.Expr, values: Mapping[str, Any]) -> Any:
    """``expr`` at ``values`` to 50 digits; None where it is undefined, complex or huge."""
    names = tuple(sorted(s.name for s in expr.free_symbols))
    try:
        fast, exact = _compiled(expr, names)
        with np.errstate(all="ignore"):
            rough = fast(*[float(values[n]) for n in names])
        if isinstance(rough, complex) or not math.isfinite(float(rough)):
            return None
        if abs(float(rough)) > 1e100:
            return None
        with mpmath.workdps(_DPS):
            result = exact(*[values[n] for n in names])
            if isinstance(result, mpmath.mpc):
                if result.imag != 0:
                    return None
                result = result.real
            result = mpmath.mpf(result)
            return result if mpmath.isfinite(result) else None
    except (OverflowError, ValueError, ZeroDivisionError, TypeError, RecursionError,
            KeyError):  # KeyError: a value SymPy's printers cannot write (1/0 as zoo)
        return None


def _label_groups(givens: Mapping[str, float]) -> list[list[str]]:
    """Givens that form a probability vector (y1..yK one-hot, or yhat1..yhatK)."""
    import re

    by_stem: dict[str, list[str]] = {}
    for name in givens:
        m = re.fullmatch(r"([A-Za-z]+)\d+", name)
        if m:
            by_stem.setdefault(m.group(1), []).append(name)
    groups = []
    for members in by_stem.values():
        values = [givens[n] for n in members]
        if len(members) >= 2 and all(0 <= v <= 1 for v in values) and abs(sum(values) - 1) < 1e-9:
            groups.append(members)
    return groups


def _draw(rng: np.random.Generator, givens: Mapping[str, float]) -> dict[str, Any]:
    """One random point near the problem's givens, in their domain."""
    point: dict[str, Any] = {}
    grouped = _label_groups(givens)
    for members in grouped:
        with mpmath.workdps(_DPS):
            raw = [mpmath.mpf(float(r)) for r in rng.uniform(0.1, 1.0, len(members))]
            total = mpmath.fsum(raw)
            for n, r in zip(members, raw, strict=True):
                point[n] = r / total
    for name, v in givens.items():
        if name in point:
            continue
        if 0 <= v <= 1:
            new = rng.uniform(0.05, 0.95)
        elif v == -1:
            new = rng.uniform(-0.95, -0.05)
        elif float(v).is_integer() and abs(v) >= 2:
            new = v
        else:
            new = v * rng.uniform(0.6, 1.4) + rng.uniform(-0.2, 0.2) * max(abs(v), 0.1)
        point[name] = mpmath.mpf(float(new))
    return point


def _evaluate_trace(trace: Trace, point: Mapping[str, Any], until: str | None) -> dict[str, Any]:
    """Every step's value at ``point`` (unclipped logs), up to and including ``until``."""
    values = dict(point)
    for step in trace.steps:
        value = _value(step.formula, values)
        if value is None:
            raise ValueError(step.name)
        values[step.name] = value
        if step.name == until:
            break
    return values


def _points(trace: Trace, givens: Mapping[str, float], until: str | None,
            seed_text: str) -> list[dict[str, Any]]:
    key = f"formula-points:{until}:{sorted(givens.items())}"
    found = trace.cache.get(key)
    if found is not None:
        return found  # type: ignore[no-any-return]
    rng = np.random.default_rng(zlib.crc32(seed_text.encode()))
    points: list[dict[str, Any]] = []
    for _ in range(_MAX_DRAWS):
        if len(points) == POINTS:
            break
        try:
            points.append(_evaluate_trace(trace, _draw(rng, givens), until))
        except ValueError:
            continue
    trace.cache[key] = points
    return points


def _differs(student: sp.Expr, target: sp.Expr, point: Mapping[str, Any]) -> bool:
    want = _value(target, point)
    got = _value(student, point)
    if want is None:
        return False  # outside the target's domain: says nothing
    if got is None:
        return True
    with mpmath.workdps(_DPS):
        return bool(abs(got - want) > TOLERANCE * max(1, abs(want)))


def equivalent(
    student: sp.Expr,
    target: sp.Expr,
    trace: Trace,
    givens: Mapping[str, float],
    *,
    step: str | None = None,
    allow_numbers: bool = True,
) -> Equivalence:
    """Whether ``student`` equals ``target`` (both in names of ``trace``), see module doc.

    ``step`` is the step the formula answers (points evaluate the trace up to it);
    with ``allow_numbers`` a formula with the problem's numbers in place of givens counts.
    """
    points = _points(trace, givens, step, f"{trace.title}:{step}")
    if not points:
        return Equivalence(False, "points", detail="no point in the formula's domain")
    differing = next((p for p in points if _differs(student, target, p)), None)
    if differing is None:
        if _is_zero(student - target) or _is_zero(
                expand_steps(student, trace) - expand_steps(target, trace)):
            return Equivalence(True, "simplify")
        return Equivalence(True, "points")
    if _small(student - target) and sp.expand(student - target) == 0:
        raise FormulaInternalError(
            f"simplify finds {student} = {target}, but they differ at a point")
    if allow_numbers:
        with_numbers = _with_numbers(student, target, trace, givens)
        if with_numbers is not None:
            return with_numbers
    return Equivalence(False, "points")


def _same_basis(a: sp.Expr, b: sp.Expr, trace: Trace) -> tuple[sp.Expr, sp.Expr]:
    """Replace steps that only one side uses by their formulas, latest first."""
    order = {s.name: i for i, s in enumerate(trace.steps)}
    for _ in range(len(trace.steps)):
        names_a = {s.name for s in a.free_symbols if s.name in order}
        names_b = {s.name for s in b.free_symbols if s.name in order}
        only = names_a ^ names_b
        if not only:
            break
        latest = max(only, key=order.__getitem__)
        formula = {sym(latest): trace[latest].formula}
        a, b = a.xreplace(formula), b.xreplace(formula)
    return a, b


def _with_numbers(student: sp.Expr, target: sp.Expr, trace: Trace,
                  givens: Mapping[str, float]) -> Equivalence | None:
    """Equal once the problem's givens are put in, earlier steps left free?"""
    a, b = _same_basis(student, target, trace)
    own = {s.name for s in a.free_symbols}
    numbers = {sym(g): sp.Rational(repr(float(v))) for g, v in givens.items() if g not in own}
    a, b = a.xreplace(numbers), b.xreplace(numbers)
    free = sorted({s.name for s in (a.free_symbols | b.free_symbols)})
    rng = np.random.default_rng(zlib.crc32(str(target).encode()))
    exact = trace.evaluate(givens)
    checked = 0
    for _ in range(_MAX_DRAWS):
        if checked == POINTS:
            break
        point = {n: mpmath.mpf(float(exact[n]) * rng.uniform(0.9, 1.1) + rng.uniform(-0.01, 0.01))
                 for n in free}
        if _value(b, point) is None:
            continue
        if _differs(a, b, point):
            return None
        checked += 1
    if checked == 0:
        return None
    method = "simplify" if _is_zero(a - b) else "points"
    return Equivalence(True, method, with_numbers=True)
