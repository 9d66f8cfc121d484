"""Judging a student's sheet: correct, carried (error carried forward), wrong or missing.

Tolerance comes from the problem's decimals d, with u = 10^-d. A value is right for a step
when it lies in the range the step's formula takes over the rounding intervals (+-u/2) of
its inputs, widened by u/2 — around the right chain's rounded inputs, or within u/2 of the
exact chain. A wrong value that lies in that range around the student's *own* earlier values
is ``carried``: the slip happened before. Otherwise it is ``wrong``, and the catalogue of
known mistakes is tried on the student's own values to name the slip.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from chainrule.check.answers import AnswerSheet
from chainrule.check.mistakes import ROUNDED_TOO_EARLY, Mistake, alternatives
from chainrule.numeric.printer import NAMESPACE, to_code
from chainrule.problems.base import Problem
from chainrule.symbolic.printing import format_number, format_rounded, prepare_numbers
from chainrule.symbolic.trace import Trace, round_half_up

__all__ = ["CARRIED", "CORRECT", "MISSING", "WRONG", "Report", "StepResult", "judge"]

CORRECT, CARRIED, WRONG, MISSING = "correct", "carried", "wrong", "missing"
_MAX_CORNERS = 9  # up to 2^9 corners; wider steps use their centre and axis extremes


@dataclass
class StepResult:
    name: str
    status: str
    given: float | None
    expected: float
    exact: float
    expected_from_your_values: float | None = None
    substituted_tex: str | None = None
    mistake: str | None = None
    message: str = ""
    points: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "given": self.given,
            "expected": self.expected,
            "exact": self.exact,
            "expected_from_your_values": self.expected_from_your_values,
            "mistake": self.mistake,
            "message": self.message,
        }


@dataclass
class Report:
    problem_id: str
    decimals: int
    steps: list[StepResult]
    errors: list[str] = field(default_factory=list)
    student: str | None = None

    @property
    def first_error(self) -> str | None:
        return next((s.name for s in self.steps if s.status == WRONG), None)

    @property
    def score(self) -> dict[str, Any]:
        counts = {k: sum(s.status == k for s in self.steps)
                  for k in (CORRECT, CARRIED, WRONG, MISSING)}
        points = sum(s.points for s in self.steps)
        total = len(self.steps)
        return {"points": points, "max": total,
                "percent": round(100 * points / total, 1) if total else 0.0, **counts}

    def as_json(self) -> dict[str, Any]:
        return {
            "problem": self.problem_id,
            "student": self.student,
            "decimals": self.decimals,
            "first_error": self.first_error,
            "score": self.score,
            "steps": [s.as_json() for s in self.steps],
            "input_errors": list(self.errors),
        }


def _function(trace: Trace, key: str, expr: sp.Expr, names: Sequence[str]) -> Any:
    cache_key = f"check:{key}"
    fn = trace.cache.get(cache_key)
    if fn is None:
        source = f"def _f({', '.join(names)}):\n    return {to_code(expr)}\n"
        namespace = dict(NAMESPACE)
        exec(compile(source, f"<chainrule check {key}>", "exec"), namespace)
        fn = trace.cache[cache_key] = namespace["_f"]
    return fn


def _names(expr: sp.Expr) -> list[str]:
    return sorted(s.name for s in expr.free_symbols)


def value_range(
    trace: Trace, key: str, expr: sp.Expr, values: Mapping[str, float], half_width: float
) -> tuple[float, float, float]:
    """(low, centre, high) of ``expr`` over the box: each step input +-half_width, givens
    exact. The extremes are taken over the box's corners (its axes, for wide boxes)."""
    names = _names(expr)
    fn = _function(trace, key, expr, names)
    givens = set(trace.givens)
    free = [n for n in names if n not in givens]
    centre = np.array([float(values[n]) for n in names])
    points = [centre]
    if len(free) <= _MAX_CORNERS:
        for signs in itertools.product((-1.0, 1.0), repeat=len(free)):
            point = centre.copy()
            for n, sgn in zip(free, signs, strict=True):
                point[names.index(n)] += sgn * half_width
            points.append(point)
    else:
        for n in free:
            for sgn in (-1.0, 1.0):
                point = centre.copy()
                point[names.index(n)] += sgn * half_width
                points.append(point)
    grid = np.array(points).T
    with np.errstate(all="ignore"):
        out = np.broadcast_to(np.asarray(fn(*grid), dtype=np.float64), (grid.shape[1],))
    finite = out[np.isfinite(out)]
    if finite.size == 0:
        return (float("nan"),) * 3
    return float(finite.min()), float(out[0]), float(finite.max())


def _within(value: float, low: float, high: float, u: float) -> bool:
    slack = u / 2 * (1 + 1e-9) + 1e-12
    return low - slack <= value <= high + slack


def judge(problem: Problem, sheet: AnswerSheet, *, carried_credit: float = 1.0) -> Report:
    """Judge every asked step of ``problem`` on the student's ``sheet``."""
    trace = problem.trace
    if trace is None:
        raise TypeError("only problems with a trace can be checked step by step")
    d = problem.decimals
    u = 10.0**-d
    right = problem.rounded
    own: dict[str, float] = {g: problem.givens[g] for g in trace.givens}
    results = []
    for name in problem.asked:
        step = trace[name]
        formula = step.evaluation_formula
        for dep in step.dependencies:
            if dep not in own:
                own[dep] = right[dep]
        answer = sheet.answers.get(name)
        expected, exact = right[name], problem.exact[name]
        if answer is None:
            results.append(StepResult(name, MISSING, None, expected, exact,
                                      message="not answered"))
            own[name] = right[name]
            continue
        v = answer.value
        own[name] = v
        low, _, high = value_range(trace, name, formula, right, u / 2)
        own_low, own_mid, own_high = value_range(trace, name, formula, own, u / 2)
        result = StepResult(name, WRONG, v, expected, exact, expected_from_your_values=own_mid)
        if _within(v, low, high, u) or abs(v - exact) <= u / 2 * (1 + 1e-9):
            result.status, result.points = CORRECT, 1.0
            result.message = "correct"
        elif _within(v, own_low, own_high, u):
            result.status, result.points = CARRIED, carried_credit
            result.message = "follows from your earlier values (error carried forward)"
        else:
            result.substituted_tex = _substituted(trace, name, own, d)
            mistake = _name_mistake(trace, name, v, own, d, u)
            result.mistake = mistake.id if mistake else None
            shown = format_rounded(float(round_half_up(own_mid, d)), d)
            result.message = (mistake.message + " " if mistake else "") + (
                f"From your values: {trace.formula_text(name)} = {shown}.")
        results.append(result)
    return Report(problem.id, d, results, list(sheet.errors), sheet.student)


def _substituted(trace: Trace, name: str, values: Mapping[str, float], d: int) -> str:
    """The step's formula with the student's own numbers put in (as they wrote them)."""
    texts = {dep: format_number(values[dep]) for dep in trace[name].dependencies}
    return trace.substitution(name).fill_prepared(prepare_numbers(texts, tex=True))


def _name_mistake(
    trace: Trace, name: str, v: float, own: Mapping[str, float], d: int, u: float
) -> Mistake | None:
    for index, (mistake, alt) in enumerate(alternatives(trace, name)):
        if any(n not in own for n in _names(alt)):
            continue
        needed = {n: own[n] for n in _names(alt)}
        low, _, high = value_range(trace, f"{name}:alt{index}", alt, needed, u / 2)
        if _within(v, low, high, u):
            return mistake
    formula = trace[name].evaluation_formula
    deps = [n for n in _names(formula) if n not in trace.givens]
    if deps:
        for fewer in range(d - 1, -1, -1):
            coarse = dict(own)
            for n in deps:
                coarse[n] = float(round_half_up(own[n], fewer))
            if all(coarse[n] == own[n] for n in deps):
                continue
            _, mid, _ = value_range(trace, name, formula, coarse, 0.0)
            if abs(v - mid) <= u / 2 * (1 + 1e-9) + 1e-12:
                return ROUNDED_TOO_EARLY
    return None
