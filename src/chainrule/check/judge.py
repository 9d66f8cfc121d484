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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import partial
from typing import Any

import numpy as np

from chainrule.check.answers import Answer, AnswerSheet
from chainrule.check.formula import FormulaVerdict, judge_formula
from chainrule.check.mistakes import (
    MistakeValue,
    equation_text,
    mistake_values,
    step_value,
    symbol_text,
)
from chainrule.check.notation import tex_to_text
from chainrule.io.numbers import parse_number
from chainrule.problems.base import Problem
from chainrule.symbolic.printing import format_number, format_rounded
from chainrule.symbolic.trace import Trace

__all__ = [
    "CARRIED",
    "CARRIED_MEANING",
    "CORRECT",
    "MISSING",
    "STATUSES",
    "TOO_FEW_DECIMALS",
    "WRONG",
    "ClassVerdicts",
    "Report",
    "StepResult",
    "class_verdicts",
    "judge",
    "judge_class",
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
            "expected_from_your_values": _json_number(self.expected_from_your_values),
            "mistake": self.mistake,
            "mistakes": list(self.mistakes),
            "message": self.message,
            "hint": self.hint,
            "points": self.points,
            "implied": {k: _json_number(v) for k, v in self.implied.items()},
            "degenerate_from": self.degenerate_from,
            "mistake_formula": self.mistake_formula,
            **extra,
        }


def _json_number(value: float | None) -> float | None:
    """A number as JSON allows it: a value the student's numbers leave undefined is null."""
    return value if value is None or math.isfinite(value) else None


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


_PLACES = [Decimal(1).scaleb(-k) for k in range(32)]


def _round(value: float, d: int) -> float:
    """``value`` rounded half up to d places (left as it is when not a sensible number):
    :func:`round_half_up` of a float, which reads it as the decimal it prints as."""
    if not math.isfinite(value) or abs(value) > 1e15:
        return value
    rounded = Decimal(repr(float(value))).quantize(_PLACES[d], rounding=ROUND_HALF_UP)
    return float(rounded) if rounded else 0.0


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
    return _judge_from(problem, sheet, _State.start(problem), 0, carried_credit,
                       decimals_credit)


@dataclass
class _State:
    """What judging has worked out before a step: the student's own values and their text,
    which values are right ones, degenerate chain starts, implied skipped values, results."""

    own: dict[str, float]
    texts: dict[str, str]
    ok: dict[str, bool]
    taint: dict[str, str | None]
    implied: dict[str, float]
    results: dict[str, StepResult]

    @classmethod
    def start(cls, problem: Problem) -> _State:
        trace = problem.trace
        assert trace is not None
        own = {g: float(problem.givens[g]) for g in trace.givens}
        return cls(own, _Texts({g: format_number(v) for g, v in own.items()}),
                   dict.fromkeys(trace.givens, True), dict.fromkeys(trace.givens), {}, {})

    def copy(self) -> _State:
        """A fresh state as this one (a start) is."""
        return _State(dict(self.own), _Texts(self.texts), dict(self.ok), dict(self.taint),
                      dict(self.implied), dict(self.results))


class _Texts(dict[str, str]):
    """Values as the student wrote them, some worked out only when a message needs them."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.later: dict[str, Callable[[], str]] = {}

    def __missing__(self, key: str) -> str:
        text = self[key] = self.later.pop(key)()
        return text


def _judge_from(
    problem: Problem, sheet: AnswerSheet, state: _State, start: int, carried_credit: float,
    decimals_credit: float,
) -> Report:
    """:func:`judge` from step number ``start`` on, with ``state`` as the steps before left it."""
    trace = problem.trace
    assert trace is not None
    rules = _Rules.of(problem, carried_credit, decimals_credit)
    for name in trace.names[start:]:
        _judge_step(problem, sheet, state, name, rules)
    return _report(problem, sheet, state)


def _report(problem: Problem, sheet: AnswerSheet, state: _State) -> Report:
    steps = [state.results[n] for n in problem.asked if n in state.results]
    return Report(problem.id, problem.decimals, steps, list(sheet.errors), sheet.student)


@dataclass
class _Rules:
    """What every step of one problem is judged with."""

    d: int
    u: float
    asked: frozenset[str]
    trivial: frozenset[float]
    carried_credit: float
    decimals_credit: float

    @classmethod
    def of(cls, problem: Problem, carried_credit: float, decimals_credit: float) -> _Rules:
        trace = problem.trace
        assert trace is not None
        trivial = frozenset({0.0, 1.0, *(float(problem.givens[g]) for g in trace.givens)})
        return cls(problem.decimals, 10.0**-problem.decimals, frozenset(problem.asked),
                   trivial, carried_credit, decimals_credit)


def _judge_step(
    problem: Problem, sheet: AnswerSheet, state: _State, name: str, rules: _Rules,
    found: list[MistakeValue] | None = None,
) -> None:
    """Judge step ``name`` of ``sheet`` and record it in ``state``; ``found``: the catalogued
    mistakes that reproduce the student's number, when worked out already."""
    trace = problem.trace
    assert trace is not None
    d, u, asked, trivial = rules.d, rules.u, rules.asked, rules.trivial
    carried_credit, decimals_credit = rules.carried_credit, rules.decimals_credit
    own, texts, ok, taint = state.own, state.texts, state.ok, state.taint
    implied, results = state.implied, state.results
    step = trace[name]
    deps = step.dependencies
    fresh = step_value(trace, name, own)
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
        return
    verdict = None
    if answer.formula is None and problem.derivation and name in problem.formula_key:
        result = StepResult(name, WRONG, answer.value, right, problem.exact[name],
                            expected_from_your_values=fresh_rounded, implied=used,
                            message="This step asks for a formula, not a number.")
        own[name], ok[name] = fresh_rounded, False
        texts[name] = format_rounded(fresh_rounded, d)
        taint[name] = inherited
        results[name] = result
        return
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
            return
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
    if result.status != CORRECT:
        computation = _computation(trace, name, own, texts, d, fresh)
        if result.status == WRONG:
            _diagnose(result, trace, name, v, own, d, u, used, computation, found)
        else:
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
    found: list[MistakeValue] | None = None,
) -> None:
    """Name every catalogued mistake that reproduces ``v`` from the student's own values
    (``found``, when worked out already)."""
    if found is None:
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


def judge_class(
    problem: Problem, sheets: Sequence[AnswerSheet], *, carried_credit: float = 1.0,
    decimals_credit: float = 0.5,
) -> list[Report]:
    """:func:`judge` of every sheet, the same reports, each step judged for the whole class
    at once wherever that is certain (see :func:`class_verdicts`)."""
    return class_verdicts(problem, sheets, carried_credit=carried_credit,
                          decimals_credit=decimals_credit).reports()


@dataclass
class ClassVerdicts:
    """A class's verdicts, step by step: a code and points per student for every asked step;
    the steps judged one by one keep their whole :class:`StepResult`."""

    problem: Problem
    sheets: Sequence[AnswerSheet]
    #: Per asked step: index into STATUSES for every student.
    status: dict[str, np.ndarray]
    points: dict[str, np.ndarray]
    #: Per asked step: the step from each student's own earlier values, rounded.
    fresh: dict[str, np.ndarray]
    #: Per asked step: each student's number (where it was judged plainly correct).
    given: dict[str, np.ndarray]
    #: (student, step) judged one by one.
    results: dict[tuple[int, str], StepResult]

    def result(self, i: int, name: str) -> StepResult:
        """Student ``i``'s verdict on step ``name``."""
        found = self.results.get((i, name))
        if found is not None:
            return found
        problem = self.problem
        fresh = float(self.fresh[name][i])
        if self.status[name][i] == _CODE[CORRECT]:
            return StepResult(name, CORRECT, float(self.given[name][i]), problem.rounded[name],
                              problem.exact[name], expected_from_your_values=fresh,
                              points=1.0, message="correct")
        return StepResult(name, MISSING, None, problem.rounded[name], problem.exact[name],
                          expected_from_your_values=fresh, message="not answered")

    def reports(self) -> list[Report]:
        """Every student's report, as :func:`judge` writes it."""
        problem = self.problem
        asked = [n for n in problem.asked if n in self.status]
        return [Report(problem.id, problem.decimals, [self.result(i, n) for n in asked],
                       list(sheet.errors), sheet.student)
                for i, sheet in enumerate(self.sheets)]


_CODE = {status: code for code, status in enumerate(STATUSES)}


def class_verdicts(
    problem: Problem, sheets: Sequence[AnswerSheet], *, carried_credit: float = 1.0,
    decimals_credit: float = 0.5,
) -> ClassVerdicts:
    """The verdicts of :func:`judge` on every sheet, each step judged for the whole class at
    once wherever that is certain.

    Step by step, the step's value from every student's own earlier values is computed in
    float64 over the class. Where the verdict is plain (a right answer, or a skipped step, on
    inputs that imply nothing skipped and start no degenerate chain) and float64 settles it
    for certain (not within a hair of a rounding tie, a tolerance edge or a jump of a step
    function, finite, a plain number), it is recorded from the arrays. Every other (student,
    step) is judged by :func:`judge`'s own step, in 50 digits, with everything worked out
    before it; the catalogued mistakes of a wrong number are tried for all such students of a
    step at once, in float64 where that settles them.
    """
    from chainrule.check.mistakes import class_mistakes, near_jump
    from chainrule.numeric.evaluate import _step_function, round_array

    trace = problem.trace
    if trace is None:
        raise TypeError("only problems with a trace can be checked step by step")
    rules = _Rules.of(problem, carried_credit, decimals_credit)
    n, d, u = len(sheets), rules.d, rules.u
    names = trace.names
    columns = _Columns.of(sheets)
    own = {g: np.full(n, float(problem.givens[g])) for g in trace.givens}
    ok = {g: np.ones(n, dtype=bool) for g in trace.givens}
    plain_chain = {g: np.ones(n, dtype=bool) for g in trace.givens}  # no taint, not implied
    states: list[_State | None] = [None] * n
    synced = [0] * n
    history = _History(names, n)
    start = _State.start(problem)
    verdicts = ClassVerdicts(problem, sheets, {}, {}, {}, {}, {})
    with np.errstate(all="ignore"):
        for k, name in enumerate(names):
            step = trace[name]
            deps = step.dependencies
            fresh = np.broadcast_to(np.asarray(
                _step_function(trace, name)(*[own[dep] for dep in deps]), dtype=np.float64),
                (n,))
            fresh_rounded, near_tie = round_array(fresh, d)
            asked = name in rules.asked
            wants_formula = bool(problem.derivation) and name in problem.formula_key
            if asked:
                has, number, v = columns.step(name, wants_formula)
            else:
                has, number, v = np.zeros(n, dtype=bool), np.ones(n, dtype=bool), np.zeros(n)
            targets = (problem.rounded[name], _round(problem.exact[name], d))
            near_target = np.zeros(n, dtype=bool)
            fr_near_target = np.zeros(n, dtype=bool)
            for t in targets:
                if math.isfinite(t):
                    near_target |= np.abs(v - t) <= _tol(u, t)
                    fr_near_target |= np.abs(fresh_rounded - t) <= _tol(u, t)
            inputs_ok = np.ones(n, dtype=bool)
            inputs_plain = np.ones(n, dtype=bool)
            scale = np.maximum(np.maximum(1.0, np.abs(fresh)), np.abs(v))
            for dep in deps:
                inputs_ok &= ok[dep]
                inputs_plain &= plain_chain[dep]
                scale = np.maximum(scale, np.square(own[dep]))  # a few ulps of these
            tol = u / 2 + 1e-9 * np.maximum(1.0, np.abs(fresh))
            gap = np.abs(v - fresh)
            consistent = gap <= tol
            sure = np.isfinite(fresh) & (np.abs(fresh) <= 1e15) & ~near_tie & number
            sure &= ~has | (np.abs(gap - tol) > 1e-7 * u + 1e-12 * scale)
            sure &= ~near_jump(trace, name, step.evaluation_formula, own, scale)
            correct = has & (near_target | (inputs_ok & consistent))
            fast = sure & inputs_plain & (correct | ~has)
            step_ok = np.where(has, True, inputs_ok | fr_near_target)
            new_own = np.where(has, v, fresh_rounded)
            slow = np.flatnonzero(~fast)
            found: dict[int, list[Any]] = {}
            if len(slow) and asked:
                tried = slow[has[slow] & number[slow] & ~correct[slow]]
                if len(tried):
                    found = class_mistakes(trace, name, own, v, tried, d, u)
            status = np.where(has, _CODE[CORRECT], _CODE[MISSING]).astype(np.int8)
            points = np.where(has, 1.0, 0.0)
            plain_now = fast & step_ok | (fast & ~step_ok & has)
            for i in slow.tolist():
                state = states[i]
                if state is None:
                    state = states[i] = start.copy()
                _replay(sheets[i], state, history, synced[i], k, i, d)
                _judge_step(problem, sheets[i], state, name, rules, found.get(i))
                synced[i] = k + 1
                new_own[i] = state.own[name]
                step_ok[i] = state.ok[name]
                plain_now[i] = state.taint.get(name) is None and name not in state.implied
                if asked:
                    result = state.results.pop(name)
                    verdicts.results[(i, name)] = result
                    status[i], points[i] = _CODE[result.status], result.points
            own[name], ok[name], plain_chain[name] = new_own, step_ok, plain_now
            history.add(k, has & fast, new_own, fresh_rounded, step_ok)
            if asked:
                verdicts.status[name], verdicts.points[name] = status, points
                verdicts.fresh[name], verdicts.given[name] = fresh_rounded, v
    return verdicts


class _Columns:
    """Each step's answers of a class: numbers as an array, where each is a plain number."""

    def __init__(self, sheets: Sequence[AnswerSheet]) -> None:
        self.sheets = sheets
        self.n = len(sheets)

    @classmethod
    def of(cls, sheets: Sequence[AnswerSheet]) -> Any:
        """The columns a class reader kept with the sheets, else these."""
        table = getattr(sheets, "columns", None)
        return table if table is not None and table.n == len(sheets) else cls(sheets)

    def step(self, name: str, wants_formula: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Where a student gave a plain number, where the answer is anything but a number
        (a formula, or a number where a formula is asked), and the numbers."""
        n = self.n
        has = np.zeros(n, dtype=bool)
        number = np.ones(n, dtype=bool)
        v = np.zeros(n)
        for i, sheet in enumerate(self.sheets):
            answer = sheet.answers.get(name)
            if answer is not None:
                value = answer.value
                if (isinstance(value, float) and math.isfinite(value)
                        and answer.formula is None and not wants_formula):
                    has[i], v[i] = True, value
                else:
                    number[i] = False
        return has, number, v


class _History:
    """What every student's steps settled plainly in float64 left: whether the student's
    answer was taken, their own value, the step from their values rounded, whether it is a
    right value (one row per student, one column per step)."""

    def __init__(self, names: Sequence[str], n: int) -> None:
        self.names = list(names)
        shape = (n, len(names))
        self.has = np.zeros(shape, dtype=bool)
        self.own = np.zeros(shape)
        self.fresh = np.zeros(shape)
        self.ok = np.zeros(shape, dtype=bool)

    def add(self, k: int, has: np.ndarray, own: np.ndarray, fresh: np.ndarray,
            ok: np.ndarray) -> None:
        self.has[:, k], self.own[:, k], self.fresh[:, k], self.ok[:, k] = has, own, fresh, ok


def _replay(sheet: AnswerSheet, state: _State, history: _History, start: int, stop: int,
            i: int, d: int) -> None:
    """Bring student ``i``'s ``state`` from step ``start`` to ``stop`` of ``history``, all
    settled plainly in float64 (a right answer, or a skipped step)."""
    if start >= stop:
        return
    texts = state.texts
    assert isinstance(texts, _Texts)
    span = slice(start, stop)
    for name, has, own, fresh, ok in zip(
            history.names[span], history.has[i, span].tolist(), history.own[i, span].tolist(),
            history.fresh[i, span].tolist(), history.ok[i, span].tolist(), strict=True):
        state.own[name] = own
        state.ok[name], state.taint[name] = ok, None
        if has:
            texts.later[name] = partial(_written_answer, sheet, name)
        else:
            texts.later[name] = partial(format_rounded, fresh, d)
            if not ok:
                state.implied[name] = fresh


def _written_answer(sheet: AnswerSheet, name: str) -> str:
    return _as_written(sheet.answers[name])
