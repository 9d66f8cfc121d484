"""A class judged step by step for all students at once: the same reports as one by one.

Oracle: :func:`judge` on each sheet (its own 50-digit step-by-step loop). The sheets are
simulated students, read through the checker's own reader from the cells a class CSV holds:
right answers, slips carried forward, skipped steps, too few decimals, trivial values, the
exact chain, sign slips, catalogued (named) mistakes, inputs rounded too early, values a hair
from a tolerance edge and rounding ties, unreadable cells, formulas, stray long decimals.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from chainrule import api
from chainrule.check.answers import AnswerSheet, parse_answers
from chainrule.check.judge import judge, judge_class
from chainrule.check.mistakes import mistake_values, step_value
from chainrule.problems.base import get_family, make_problem
from chainrule.symbolic.printing import format_rounded
from chainrule.symbolic.trace import round_half_up

KINDS = 16


def _json(reports) -> list[str]:
    """Reports as JSON text (NaN, where a student's numbers leave a step undefined, compares
    equal to itself there)."""
    return [json.dumps(r.as_json(), sort_keys=True) for r in reports]


def _text(value: float, d: int) -> str:
    return format_rounded(float(round_half_up(value, d)), d) if math.isfinite(value) else "0"


def _slip(problem, name: str, own: dict[str, float], right: float, rng) -> str | None:
    """A wrong (or odd) entry for step ``name``; None skips it."""
    trace, d = problem.trace, problem.decimals
    u = 10.0**-d
    choice = int(rng.integers(14))
    if choice == 0:
        return _text(right + float(rng.choice([-1, 1])) * u * int(rng.integers(1, 40)), d)
    if choice == 1:
        return None
    if choice == 2:
        return _text(right, max(d - 1, 0))  # too few decimals
    if choice == 3:
        return str(rng.choice(["0", "1", format_rounded(next(iter(problem.givens.values())),
                                                         d)]))
    if choice == 4:
        return _text(-right, d)  # a sign slip
    if choice == 5:
        return _text(problem.exact[name], d)  # the exact chain
    if choice == 6:  # a catalogued mistake on the student's own values
        found = mistake_values(trace, name, own, d)
        if found:
            return _text(found[int(rng.integers(len(found)))].value, d)
        return _text(right + u, d)
    if choice == 7:  # inputs rounded too early
        coarse = {k: (float(round_half_up(v, max(d - 1, 0))) if k in trace.names else v)
                  for k, v in own.items()}
        return _text(step_value(trace, name, coarse), d)
    if choice == 8:  # half a unit off: a tolerance edge, and a rounding tie further on
        if rng.random() < 0.5:  # on the checker's tolerance edge, from either side
            target = right if rng.random() < 0.5 else problem.rounded[name]
            edge = u / 2 + 1e-9 * max(1.0, abs(target))
            return repr(target + float(rng.choice([-1, 1])) * edge * (
                1 + float(rng.choice([-1e-15, 0.0, 1e-15, 1e-12]))))
        base = math.floor(right * 10**d) / 10**d
        return format_rounded(base, d) + "5" if d else f"{math.floor(right)}.5"
    if choice == 9:
        return str(rng.choice(["abc", "1.2.3", "--0.5", "1/0", "1e999", "", "nan"]))
    if choice == 10:  # long decimals, exactly the value
        return repr(step_value(trace, name, own))
    if choice == 11:  # a formula: the step's own, or with a factor dropped
        formula = trace[name].formula
        if formula.is_Mul and len(formula.args) > 1 and rng.random() < 0.5:
            formula = formula.func(*formula.args[1:])
        return str(formula)
    if choice == 12:  # a formula and a number
        return f"{trace[name].formula} = {_text(right, d)}"
    return format_rounded(round(right, d), d) + "0"  # more decimals than asked, right


def student(problem, rng: np.random.Generator, index: int) -> AnswerSheet:
    """One simulated student's sheet, read as the class reader reads a CSV row."""
    trace = problem.trace
    d = problem.decimals
    own = {g: float(v) for g, v in problem.givens.items()}
    kind = index % KINDS  # 0: all right; others slip somewhere
    slips = set(rng.integers(len(trace.names), size=1 + int(kind > 8))) if kind else set()
    carry = kind % 2 == 1  # after a slip: continue from own values, or back to the key
    cells = []
    for k, name in enumerate(trace.names):
        value = step_value(trace, name, own if carry else {
            **own, **{n: problem.rounded[n] for n in trace.names[:k]}})
        text: str | None = _text(value, d)
        if k in slips:
            text = _slip(problem, name, own, value, rng)
        elif kind == 15 and rng.random() < 0.2:
            text = None
        elif kind == 14 and rng.random() < 0.3:
            text = format_rounded(float(round_half_up(value, d + 2)), d + 2)
        wants_formula = problem.derivation and name in problem.formula_key
        if text is not None and wants_formula and (k not in slips or rng.random() < 0.5):
            text = problem.formula_key[name]["formula"]  # a derivation asks for formulas
        if text is None or name not in problem.asked:
            own[name] = float(round_half_up(value, d)) if math.isfinite(value) else value
            continue
        cells.append((name, text, k + 2))
        try:
            own[name] = float(text)
        except ValueError:
            own[name] = float(round_half_up(value, d)) if math.isfinite(value) else value
    valid = [*trace.givens, *trace.names]
    outputs = api.load_problem(problem.id).answer_names()[1]
    sheet = parse_answers([c for c in cells if c[1]], valid, outputs, "class.csv",
                          trace.tex_names)
    sheet.student = f"s{index}"
    return sheet


CASES = [
    ("backprop", {"net": "2-2-1"}, 3),
    ("backprop", {"net": "2-3-2", "hidden": "tanh", "loss": "cce"}, 2),
    ("backprop", {"net": "2-2-1", "hidden": "relu", "loss": "mse"}, 3),
    ("backprop", {"net": "2-2-1", "loss": "huber"}, 4),
    ("forward", {}, 3),
    ("gd_step", {}, 4),
    ("gd_step", {"model": "logistic", "method": "minibatch"}, 3),
    ("optimizer_steps", {}, 3),
    ("optimizer_steps", {"optimizer": "adam", "model": "bowl2d"}, 4),
    ("optimizer_steps", {"optimizer": "rmsprop"}, 3),
    ("loss_derivative", {}, 3),
    ("loss_value", {"loss": "kl"}, 3),
    ("loss_value", {}, 2),
    ("cost", {}, 3),
    ("cost", {"loss": "hinge"}, 3),
    ("lr_schedule", {"schedule": "cosine_restarts"}, 4),
    ("lr_schedule", {}, 3),
    ("derivation", {}, 3),
]


@pytest.mark.parametrize(("family", "options", "decimals"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
@pytest.mark.parametrize("seed", [1, 2])
def test_class_verdicts_equal_one_by_one(family, options, decimals, seed):
    fam = get_family(family)
    problem = make_problem(fam, seed, options, decimals)
    assert problem.trace is not None
    rng = np.random.default_rng(seed)
    sheets = [student(problem, rng, i) for i in range(64)]
    fast = judge_class(problem, sheets, carried_credit=0.5, decimals_credit=0.25)
    slow = [judge(problem, s, carried_credit=0.5, decimals_credit=0.25) for s in sheets]
    assert _json(fast) == _json(slow)
    statuses = {st.status for r in slow for st in r.steps}
    assert "correct" in statuses
    if len(problem.asked) > 2:
        assert {"wrong", "missing"} <= statuses  # the sheets exercise more than the fast track


def test_sheets_exercise_every_verdict_and_mistakes():
    """The simulated class holds every verdict, named mistakes and unreadable cells."""
    problem = make_problem(get_family("backprop"), 3, {"net": "2-2-1"}, 3)
    rng = np.random.default_rng(3)
    sheets = [student(problem, rng, i) for i in range(200)]
    reports = [judge(problem, s) for s in sheets]
    statuses = {st.status for r in reports for st in r.steps}
    assert statuses == {"correct", "carried", "too_few_decimals", "wrong", "missing"}
    assert any(st.mistake for r in reports for st in r.steps)
    assert any(st.formula is not None for r in reports for st in r.steps)
    assert any(s.errors for s in sheets)
    assert _json(judge_class(problem, sheets)) == _json(reports)


def test_a_step_left_undefined_by_the_students_numbers_is_judged():
    """Adam with a negative second moment: the next square root is undefined on the
    student's numbers; the sheet is judged (no failure), one by one and as a class."""
    problem = api.load_problem("op-00000001~decimals:5~model:bowl2d~optimizer:adam")
    inner = problem._problem
    names = inner.trace.names
    answers = {n: inner.rounded[n] for n in names[:names.index("theta2_1") + 1]}
    answers["v1_1"] = -answers["v1_1"]
    answers["vhat1_1"] = -answers["vhat1_1"]  # follows from v1_1: carried
    answers["theta2_1"] += 0.5
    assert answers["vhat1_1"] < 0  # so sqrt(vhat1_1) has no real value
    report = problem.check(answers)
    steps = {s.name: s for s in report.steps}
    assert steps["v1_1"].status == "wrong"
    assert steps["vhat1_1"].status == "carried"
    assert steps["theta1_1"].status == "correct"  # the key's value
    assert math.isnan(steps["theta1_1"].expected_from_your_values)
    assert steps["theta2_1"].status == "wrong"
    sheet = parse_answers([(n, repr(v), None) for n, v in answers.items()],
                          [*inner.trace.givens, *names], {}, "answers")
    assert _json(judge_class(inner, [sheet] * 3)) == _json([judge(inner, sheet)] * 3)
