"""A class judged step by step for all students at once: the same reports as one by one.

Oracle: :func:`judge` on each sheet (its own 50-digit step-by-step loop). The sheets are
simulated students, read through the checker's own reader from the cells a class CSV holds:
right answers, slips carried forward, skipped steps, too few decimals, trivial values, the
exact chain, sign slips, catalogued (named) mistakes, inputs rounded too early, values a hair
from a tolerance edge and rounding ties, unreadable cells, formulas, stray long decimals.
"""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

from chainrule import api
from chainrule.check.answers import AnswerSheet, parse_answers
from chainrule.check.batch import read_class
from chainrule.check.judge import _round, class_verdicts, judge, judge_class
from chainrule.check.mistakes import class_mistakes, mistake_values, step_value
from chainrule.check.report import class_summary
from chainrule.formulas import Vocabulary
from chainrule.problems.base import get_family, make_problem
from chainrule.symbolic.printing import format_rounded
from chainrule.symbolic.trace import round_half_up

KINDS = 16


def _json(reports) -> list[str]:
    """Reports as strict JSON text (a value the student's numbers leave undefined is null)."""
    return [json.dumps(r.as_json(), sort_keys=True, allow_nan=False) for r in reports]


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
    cells = student_cells(problem, rng, index)
    trace = problem.trace
    valid = [*trace.givens, *trace.names]
    outputs = api.load_problem(problem.id).answer_names()[1]
    sheet = parse_answers([c for c in cells if c[1]], valid, outputs, "class.csv",
                          trace.tex_names)
    sheet.student = f"s{index}"
    return sheet


def student_cells(problem, rng: np.random.Generator, index: int) -> list[tuple[str, str, int]]:
    """One simulated student's cells: (step, text, line)."""
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
    return cells


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
    verdicts = class_verdicts(problem, sheets, carried_credit=0.5, decimals_credit=0.25)
    slow = [judge(problem, s, carried_credit=0.5, decimals_credit=0.25) for s in sheets]
    assert _json(verdicts.reports()) == _json(slow)
    assert json.dumps(class_summary(verdicts), sort_keys=True) == json.dumps(
        class_summary(slow), sort_keys=True)
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
    strict = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    [theta] = [s for s in strict["steps"] if s["name"] == "theta1_1"]
    assert theta["expected_from_your_values"] is None
    assert steps["theta2_1"].status == "wrong"
    sheet = parse_answers([(n, repr(v), None) for n, v in answers.items()],
                          [*inner.trace.givens, *names], {}, "answers")
    assert _json(judge_class(inner, [sheet] * 3)) == _json([judge(inner, sheet)] * 3)


ODD_CELLS = [" 0.5 ", "1_000", "\u22120.5", "1/2", "-3/4", "1e3", "1E-2", "1e999", "nan", "inf",
             "-0", "+.5", "5.", "1" * 70, "0.1234567890123456789", "x", "w13*a1, b3", "1/0",
             "0x10", "\u0661\u0662", "1 2", "=", "0.5 = 0.5"]


def test_read_class_reads_each_row_as_the_answer_reader_does(tmp_path):
    """The class reader (plain numbers as arrays) gives every sheet as the answer reader
    (:func:`parse_answers`) gives it from the row's cells: values, texts, lines, formulas,
    and the unreadable cells' messages in order."""
    problem = make_problem(get_family("backprop"), 4, {"net": "2-2-1"}, 3)
    trace = problem.trace
    rng = np.random.default_rng(4)
    names = list(trace.names)
    rows = []
    for i in range(150):
        cells = dict((n, t) for n, t, _ in student_cells(problem, rng, i))
        for _ in range(int(rng.integers(0, 3))):
            cells[names[int(rng.integers(len(names)))]] = str(rng.choice(ODD_CELLS))
        rows.append([f"s{i}", *(cells.get(n, "") for n in names)])
    path = tmp_path / "class.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([["id", *names], *rows])
    wrapped = api.load_problem(problem.id)
    valid, outputs = wrapped.answer_names()
    sheets = read_class(path, valid, outputs, tex_names=trace.tex_names)
    assert [s.student for s in sheets] == [r[0] for r in rows]

    def seen(sheet):
        return ({n: (a.value, a.text, a.line, a.typed,
                     None if a.formula is None else a.formula.text)
                 for n, a in sorted(sheet.answers.items())}, sheet.errors)

    for line, (row, sheet) in enumerate(zip(rows, sheets, strict=True), start=2):
        cells = [(n, c.strip(), line) for n, c in zip(names, row[1:], strict=True)
                 if c.strip()]
        expected = parse_answers(cells, valid, outputs, str(path), trace.tex_names)
        assert seen(sheet) == seen(expected)
    assert any(s.errors for s in sheets) and any(
        a.formula is not None for s in sheets for a in s.answers.values())
    assert _json(judge_class(problem, sheets)) == _json([judge(problem, s) for s in sheets])


def test_rounding_reads_a_float_as_the_decimal_it_prints_as():
    """The checker's rounding equals the trace's 50-digit round_half_up on floats: ties
    (0.0005 steps), negative values, large and tiny values, every decimals."""
    rng = np.random.default_rng(5)
    values = [*rng.normal(size=300), *(rng.integers(-10**6, 10**6, size=300) / 2000),
              *(rng.integers(-10**9, 10**9, size=100) * 10.0**rng.integers(-12, 6, size=100)),
              0.0, -0.0, 0.5, -0.5, 2.675, 1.005, -1.0005, 1e15, 123456789.125]
    for value in values:
        for d in range(0, 9):
            assert _round(float(value), d) == float(round_half_up(float(value), d)), (value, d)


def _oracle_found(trace, name, own, v, d):
    u = 10.0**-d
    return [(mv.id, mv.formula_text) for mv in mistake_values(trace, name, own, d)
            if abs(v - mv.value) <= u / 2 + 1e-9 * max(1.0, abs(mv.value))]


def _check_mistakes_for_a_class(trace, name, owns, vs, d):
    """class_mistakes on a class equals mistake_values (50 digits) student by student, for
    every student it settles; returns how many it settled."""
    names = sorted(owns[0])
    arrays = {k: np.array([o[k] for o in owns]) for k in names}
    settled = class_mistakes(trace, name, arrays, np.array(vs), np.arange(len(owns)), d,
                             10.0**-d)
    for i, found in settled.items():
        assert [(mv.id, mv.formula_text) for mv in found] == _oracle_found(
            trace, name, owns[i], vs[i], d), (i, owns[i], vs[i])
    return len(settled)


@pytest.mark.parametrize("step", ["z3", "delta1", "dL_dw13", "w13_new", "delta3"])
def test_class_mistakes_equal_mistake_values_at_ties(step):
    """The catalogue tried for a whole class in float64 names the same mistakes as
    :func:`mistake_values` in 50 digits, on numbers built to land on rounding ties: the
    student's earlier values are multiples of half a unit of one more place, and the number
    judged is a mistake's value rounded either way at its tie."""
    problem = make_problem(get_family("backprop"), 6, {"net": "2-2-1"}, 3)
    trace, d = problem.trace, 3
    rng = np.random.default_rng(6)
    k = trace.names.index(step)
    owns, vs = [], []
    for _ in range(150):
        own = {g: float(x) for g, x in problem.givens.items()}
        for n in trace.names[:k]:
            exact = float(round_half_up(problem.exact[n], d))
            own[n] = round(exact + float(rng.integers(-6, 7)) * 5 * 10.0**-(d + 1), d + 1) if (
                rng.random() < 0.7) else exact
        found = mistake_values(trace, step, own, d + 4)  # values before rounding to d
        if found and rng.random() < 0.8:
            raw = found[int(rng.integers(len(found)))].value
            v = math.floor(raw * 10**d + float(rng.choice([0.0, 0.5, 1.0]))) / 10**d
        else:
            v = float(round_half_up(problem.exact[step], d)) + float(rng.integers(-3, 4)) * 1e-3
        owns.append(own)
        vs.append(round(v, d))
    assert _check_mistakes_for_a_class(trace, step, owns, vs, d) >= 30  # many settled


def test_class_mistakes_leave_a_jump_at_its_edge_to_fifty_digits():
    """A step function of a sum that is 0 in decimals (0.1 + 0.2 - 0.3) but not in float64:
    the class judge does not settle it; 50 digits do."""
    from chainrule.symbolic.functions import step as step_fn
    from chainrule.symbolic.trace import Step, Trace, sym

    a, b, c = sym("a"), sym("b"), sym("c")
    trace = Trace(givens=("a", "b", "c"), steps=(Step("s", step_fn(a + b - c)),))
    owns = [{"a": 0.1, "b": 0.2, "c": 0.3}, {"a": 0.1, "b": 0.2, "c": 0.2}]
    vs = [float(trace.evaluate_step("s", owns[0])), 1.0]
    arrays = {k: np.array([o[k] for o in owns]) for k in owns[0]}
    settled = class_mistakes(trace, "s", arrays, np.array(vs), np.arange(2), 3, 1e-3)
    assert 0 not in settled and 1 in settled
    assert (0.1 + 0.2 - 0.3 > 0) and trace.evaluate_step("s", owns[0]) in (0.0, 1.0)


def test_a_formula_is_judged_once_per_problem_and_reads_as_judged_afresh():
    """A formula many students write is judged once per problem and step; each student's
    verdict equals judging it afresh (its own value from their numbers, its reading)."""
    from chainrule.check.formula import judge_formula
    from chainrule.check.mistakes import mistake_formulas
    from chainrule.formulas import read_formula

    for pid in ("bp-00000005", "dv-00000005"):
        problem = api.load_problem(pid)._problem
        trace = problem.trace
        vocab = Vocabulary.of([*trace.givens, *trace.names], trace.tex_names)
        for name in problem.asked[:8]:
            texts = [str(trace[name].formula), str(trace[name].formula).replace("*", " * ")]
            texts += [str(alt) for _, alt in mistake_formulas(trace, name)[:3]]
            for text in texts:
                reading = read_formula(text, vocab)
                owns = [dict(problem.rounded), {n: v + 0.01 for n, v in problem.rounded.items()}]
                for own in owns:
                    trace.cache.pop("formula-verdicts", None)
                    fresh = judge_formula(problem, name, reading, own)
                    judge_formula(problem, name, read_formula(text, vocab),
                                  {n: v - 0.02 for n, v in own.items()})
                    cached = judge_formula(problem, name, reading, own)
                    assert trace.cache["formula-verdicts"]
                    assert cached.as_json() == fresh.as_json()
                    assert (cached.own_value, cached.correct, cached.reading) == (
                        fresh.own_value, fresh.correct, fresh.reading)


def test_a_formula_that_becomes_one_over_zero_with_the_numbers_is_judged(tmp_path):
    """BCE with y = 1: the formula a1*w13 given for L is judged wrong (it was a failure);
    as a class too."""
    problem = api.load_problem("bp-00000007")
    assert problem._problem.givens["y"] == 1.0
    step = next(s for s in problem.check({"L": "a1*w13"}).steps if s.name == "L")
    assert step.status == "wrong" and step.formula is not None
    assert not step.formula.correct
    path = tmp_path / "class.csv"
    path.write_text("id,L,z1\ns1,a1*w13,0.5\ns2,,\n", encoding="utf-8")
    summary = problem.check_class(path)
    assert [s["score"]["wrong"] for s in summary["students"]] == [2, 0]
