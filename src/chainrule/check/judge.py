"""Judging a student's sheet step by step: correct, carried, too few decimals, wrong, missing.

The rule, with d the problem's decimals, u = 10^-d and a tolerance of u/2 plus float noise:

- **correct**: the value matches the step on the rounded-as-you-go chain (as the key shows
  it) or the exact value rounded to d; or every input of the step is right and the value
  follows from them.
- **carried**: not correct, but it matches the step recomputed from the student's own
  earlier values (as they wrote them): the slip happened before, and was carried forward.
- **too_few_decimals**: written with fewer decimals than asked, and it is a correct or a
  carried value rounded to what was written.
- **wrong**: none of these. Catalogued mistakes whose formula, on the student's own values,
  reproduces the value are named: all of them, the first in catalogue order (simplest and
  commonest first) as the headline. Rounding too early is named only when no formula mistake
  reproduces the value. If nothing does, the step "does not follow", and the right
  computation is shown with the student's numbers.
- **missing**: not answered. A skipped step takes the value recomputed from the student's
  own earlier values (the correct value only when nothing before it was answered), and a
  later step is judged against that; the skipped value it implies is named.

A carried chain that starts from a degenerate value (a wrong value equal to 0, 1 or a given,
where the right value is not, and that no catalogued mistake explains) is flagged and earns
no carried credit.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from chainrule.check.answers import Answer, AnswerSheet
from chainrule.check.formula import FormulaVerdict, judge_formula
from chainrule.check.mistakes import equation_text, mistake_values, symbol_text
from chainrule.check.notation import tex_to_text
from chainrule.io.numbers import parse_number
from chainrule.problems.base import Problem
from chainrule.symbolic.printing import format_number, format_rounded
from chainrule.symbolic.trace import Trace, round_half_up

__all__ = [
    "CARRIED",
    "CARRIED_MEANING",
    "CORRECT",
    "MISSING",
    "STATUSES",
    "TOO_FEW_DECIMALS",
    "WRONG",
    "Report",
    "StepResult",
    "judge",
    "written_decimals",
]

CORRECT, CARRIED, TOO_FEW_DECIMALS, WRONG, MISSING = (
    "correct", "carried", "too_few_decimals", "wrong", "missing")
STATUSES = (CORRECT, CARRIED, TOO_FEW_DECIMALS, WRONG, MISSING)

#: What "carried" means, said once in every report.
CARRIED_MEANING = (
    "carried: the number is not the right one, but it follows correctly from your own "
    "earlier numbers. The slip happened in an earlier step; this step's working is right."
)


@dataclass
class StepResult:
    """The verdict on one step, with what the student needs to see."""

    name: str
    status: str
    given: float | None
    expected: float
    exact: float
    expected_from_your_values: float | None = None
    mistake: str | None = None
    mistakes: list[str] = field(default_factory=list)
    message: str = ""
    hint: str = ""
    points: float = 0.0
    implied: dict[str, float] = field(default_factory=dict)
    degenerate_from: str | None = None
    #: The wrong formula of the headline mistake (``z3 = w13 a1 + w23 a2``), no numbers.
    mistake_formula: str = ""
    formula: FormulaVerdict | None = None

    def as_json(self) -> dict[str, Any]:
        extra = {"formula": self.formula.as_json()} if self.formula is not None else {}
        return {
            "name": self.name,
            "status": self.status,
            "given": self.given,
            "expected": self.expected,
            "exact": self.exact,
            "expected_from_your_values": self.expected_from_your_values,
            "mistake": self.mistake,
            "mistakes": list(self.mistakes),
            "message": self.message,
            "hint": self.hint,
            "points": self.points,
            "implied": dict(self.implied),
            "degenerate_from": self.degenerate_from,
            "mistake_formula": self.mistake_formula,
            **extra,
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
        return next((s.name for s in self.steps if s.status in (WRONG, TOO_FEW_DECIMALS)),
                    None)

    @property
    def score(self) -> dict[str, Any]:
        counts = {k: sum(s.status == k for s in self.steps) for k in STATUSES}
        points = round(sum(s.points for s in self.steps), 10)
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
            "carried_means": CARRIED_MEANING,
            "steps": [s.as_json() for s in self.steps],
            "input_errors": list(self.errors),
        }


def written_decimals(text: str) -> int | None:
    """How many decimals a number was written with (``0.570`` -> 3), None for a fraction."""
    cleaned = text.strip().replace("\u2212", "-")
    if "/" in cleaned:
        return None
    try:
        exponent = Decimal(cleaned).as_tuple().exponent
    except InvalidOperation:
        try:
            exponent = Decimal(repr(parse_number(cleaned))).as_tuple().exponent
        except ValueError:
            return None
    return max(0, -exponent) if isinstance(exponent, int) else None


def _round(value: float, d: int) -> float:
    """``value`` rounded half up to d places (left as it is when not a sensible number)."""
    if not math.isfinite(value) or abs(value) > 1e15:
        return value
    return float(round_half_up(value, d))


def _as_written(answer: Answer) -> str:
    """A student's number as they wrote it (``0.570``), when it is a plain decimal."""
    text = answer.text.strip().replace("\u2212", "-")
    if answer.typed and re.fullmatch(r"-?\d+(\.\d+)?", text):
        return text.lstrip("-") if float(text) == 0 else text
    return format_number(answer.value)


def _tol(u: float, target: float) -> float:
    return u / 2 + 1e-9 * max(1.0, abs(target))


def _near(value: float, target: float, u: float) -> bool:
    return math.isfinite(target) and abs(value - target) <= _tol(u, target)


def judge(
    problem: Problem, sheet: AnswerSheet, *, carried_credit: float = 1.0,
    decimals_credit: float = 0.5,
) -> Report:
    """Judge every asked step of ``problem`` on the student's ``sheet`` (see module doc)."""
    trace = problem.trace
    if trace is None:
        raise TypeError("only problems with a trace can be checked step by step")
    d = problem.decimals
    u = 10.0**-d
    asked = set(problem.asked)
    own: dict[str, float] = {g: float(problem.givens[g]) for g in trace.givens}
    texts = {g: format_number(v) for g, v in own.items()}
    ok = dict.fromkeys(trace.givens, True)  # the value is a right one
    taint: dict[str, str | None] = dict.fromkeys(trace.givens)  # degenerate chain start
    implied: dict[str, float] = {}  # skipped steps whose value differs from the right one
    trivial = {0.0, 1.0, *own.values()}
    results: dict[str, StepResult] = {}
    for name in trace.names:
        step = trace[name]
        deps = step.dependencies
        fresh = trace.evaluate_step(name, own)
        fresh_rounded = _round(fresh, d)
        right = problem.rounded[name]
        targets = (right, _round(problem.exact[name], d))
        answer = sheet.answers.get(name) if name in asked else None
        inputs_ok = all(ok[dep] for dep in deps)
        inherited = next((taint[dep] for dep in deps if taint[dep]), None)
        used = {dep: implied[dep] for dep in deps if dep in implied}
        if answer is None:
            own[name] = fresh_rounded
            texts[name] = format_rounded(fresh_rounded, d) if math.isfinite(fresh) else "nan"
            ok[name] = inputs_ok or any(_near(fresh_rounded, t, u) for t in targets)
            taint[name] = None if ok[name] else inherited
            if not ok[name]:
                implied[name] = fresh_rounded
            if name in asked:
                result = StepResult(name, MISSING, None, right, problem.exact[name],
                                    expected_from_your_values=fresh_rounded, implied=used)
                result.message = "not answered"
                results[name] = result
            continue
        verdict = None
        if answer.formula is None and problem.derivation and name in problem.formula_key:
            result = StepResult(name, WRONG, answer.value, right, problem.exact[name],
                                expected_from_your_values=fresh_rounded, implied=used,
                                message="This step asks for a formula, not a number.")
            own[name], ok[name] = fresh_rounded, False
            texts[name] = format_rounded(fresh_rounded, d)
            taint[name] = inherited
            results[name] = result
            continue
        if answer.formula is not None:
            verdict = judge_formula(problem, name, answer.formula, own)
            if answer.value is None:  # a formula alone: its value on the student's numbers
                mine = verdict.own_value
                value = _round(mine if mine is not None and math.isfinite(mine) else fresh, d)
                good = verdict.correct
                result = StepResult(name, CORRECT if good else WRONG, None, right,
                                    problem.exact[name], expected_from_your_values=value,
                                    mistake=verdict.mistake,
                                    mistakes=[verdict.mistake] if verdict.mistake else [],
                                    message=verdict.message, points=1.0 if good else 0.0,
                                    implied=used, formula=verdict)
                own[name], texts[name] = value, format_rounded(value, d)
                ok[name] = good and (inputs_ok or any(_near(value, t, u) for t in targets))
                taint[name] = None if ok[name] else inherited
                results[name] = result
                continue
        v = answer.value
        assert v is not None
        basis = None
        result = StepResult(name, WRONG, v, right, problem.exact[name],
                            expected_from_your_values=fresh_rounded, implied=used)
        consistent = _near(v, fresh, u)
        if any(_near(v, t, u) for t in targets) or (inputs_ok and consistent):
            result.status, result.points, result.message = CORRECT, 1.0, "correct"
        elif consistent:
            result.status = CARRIED
            result.points = carried_credit
            result.message = "follows from your earlier values" + _implied_note(trace, used)
        else:
            shown = written_decimals(answer.text) if answer.typed else None
            basis = _too_few(v, shown, d, targets, fresh)
            if basis is not None:
                result.status = TOO_FEW_DECIMALS
                result.points = decimals_credit * (1.0 if basis == CORRECT else carried_credit)
                result.message = (f"written with {shown} decimal{'s' * (shown != 1)}; the "
                                  f"problem asks for {d}")
        computation = _computation(trace, name, own, texts, d, fresh)
        if result.status == WRONG:
            _diagnose(result, trace, name, v, own, d, u, used, computation)
        elif result.status != CORRECT:
            result.hint = computation
        carried_basis = result.status == CARRIED or (
            result.status == TOO_FEW_DECIMALS and basis == CARRIED)
        if carried_basis and inherited:
            result.points = 0.0
            result.degenerate_from = inherited
            result.message += (f"; but it builds on {symbol_text(trace, inherited)} = "
                               f"{texts[inherited]}, a trivial value: no carried credit")
        if verdict is not None:  # a formula and a number: both must hold
            result.formula = verdict
            if not verdict.correct:
                result.status, result.points = WRONG, 0.0
                result.mistake = verdict.mistake or result.mistake
                if verdict.mistake and verdict.mistake not in result.mistakes:
                    result.mistakes = [verdict.mistake, *result.mistakes]
                result.message = f"Formula: {verdict.message} Number: {result.message}"
        own[name] = v
        texts[name] = _as_written(answer)
        ok[name] = result.status == CORRECT
        taint[name] = None if ok[name] else inherited
        if result.status in (WRONG, TOO_FEW_DECIMALS) and not result.mistakes and any(
            _near(v, t, u) and not _near(right, t, u) for t in trivial
        ):
            taint[name] = taint[name] or name
            result.message += (f"; {format_number(v)} is a trivial value (0, 1 or a given): "
                               "steps built on it earn no carried credit")
        results[name] = result
    steps = [results[n] for n in problem.asked if n in results]
    return Report(problem.id, d, steps, list(sheet.errors), sheet.student)


def _too_few(
    v: float, shown: int | None, d: int, targets: tuple[float, float], fresh: float
) -> str | None:
    """CORRECT or CARRIED when ``v`` is such a value rounded to the ``shown`` decimals."""
    if shown is None or shown >= d:
        return None
    for basis, values in ((CORRECT, targets), (CARRIED, (fresh,))):
        for t in values:
            if math.isfinite(t) and abs(v - _round(t, shown)) <= 1e-9 * max(
                1.0, abs(t)
            ):
                return basis
    return None


def _implied_note(trace: Trace, used: Mapping[str, float]) -> str:
    if not used:
        return ""
    parts = [f"{symbol_text(trace, n)} = {format_number(v)}" for n, v in used.items()]
    return (f" (with the skipped {', '.join(parts)}, which your values imply)")


def _computation(
    trace: Trace, name: str, own: Mapping[str, float], texts: Mapping[str, str], d: int,
    value: float,
) -> str:
    """``z3 = w13 a1 + w23 a2 + b3 = (0.7)(0.574) + (0.5)(0.622) + 0.3 = 1.013``."""
    numbers = {dep: texts[dep] for dep in trace[name].dependencies}
    filled = tex_to_text(trace.substitution(name).fill(numbers))
    result = format_rounded(_round(value, d), d) if math.isfinite(value) else "nan"
    parts = [equation_text(trace, name)]
    if filled not in (result, parts[0].split(" = ", 1)[1]):
        parts.append(filled)
    parts.append(result)
    return " = ".join(parts)


def _diagnose(
    result: StepResult, trace: Trace, name: str, v: float, own: Mapping[str, float], d: int,
    u: float, used: Mapping[str, float], computation: str,
) -> None:
    """Name every catalogued mistake that reproduces ``v`` from the student's own values."""
    found = [mv for mv in mistake_values(trace, name, own, d) if _near(v, mv.value, u)]
    formulas = [mv for mv in found if mv.formula is not None]
    found = formulas or found  # rounding too early only when no formula mistake explains it
    ids = list(dict.fromkeys(mv.id for mv in found))
    result.mistakes = ids
    if not found:
        result.message = "does not follow from your earlier values" + _implied_note(trace, used)
        result.hint = computation
        return
    first = found[0]
    result.mistake = first.id
    result.message, result.hint = first.mistake.describe(trace, name, computation)
    others = [mv for mv in found if mv.id != first.id]
    if others:
        result.message += " (or: " + "; ".join(
            dict.fromkeys(mv.message for mv in others)) + ")"
    result.mistake_formula = first.formula_text if first.formula is not None else ""
