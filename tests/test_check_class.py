"""A class judged step by step for all students at once: the same reports as one by one.

Oracle: :func:`judge` on each sheet (its own 50-digit step-by-step loop). The sheets are
simulated students: right answers, slips carried forward, skipped steps, too few decimals,
trivial values, the exact chain, sign slips.
"""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.check.answers import Answer, AnswerSheet
from chainrule.check.judge import judge, judge_class
from chainrule.problems.base import get_family, make_problem
from chainrule.symbolic.printing import format_rounded


def student(problem, rng: np.random.Generator, index: int) -> AnswerSheet:
    trace = problem.trace
    d = problem.decimals
    own = {g: float(v) for g, v in problem.givens.items()}
    answers = {}
    kind = index % 6  # 0: all right; others slip somewhere
    slip_at = int(rng.integers(len(trace.names)))
    for k, name in enumerate(trace.names):
        value = float(trace.evaluate_step(name, own))
        text = format_rounded(round(value, d), d) if np.isfinite(value) else "0"
        if kind and k == slip_at:
            choice = int(rng.integers(7))
            if choice == 0:
                off = rng.choice([-1, 1]) * 10.0**-d * rng.integers(1, 40)
                text = format_rounded(float(text) + off, d)
            elif choice == 1:
                text = None  # skipped
            elif choice == 2 and d > 1:
                text = f"{float(text):.{d - 1}f}"  # too few decimals
            elif choice == 3:
                text = rng.choice(["0", "1"])
            elif choice == 4:
                text = format_rounded(-float(text), d)
            elif choice == 5:
                exact = problem.exact[name]
                text = format_rounded(exact, d) if np.isfinite(exact) else text
            else:
                text = format_rounded(float(text) + 10.0**-d, d)  # one unit off
        elif kind == 5 and rng.random() < 0.15:
            text = None
        if text is None or name not in problem.asked:
            own[name] = round(value, d) if text is None else float(text)
            continue
        own[name] = float(text)
        answers[name] = Answer(name, float(text), text, k + 2)
    return AnswerSheet(answers, [], f"s{index}")


CASES = [
    ("backprop", {"net": "2-2-1"}, 3),
    ("backprop", {"net": "2-3-2", "hidden": "tanh", "loss": "cce"}, 2),
    ("forward", {}, 3),
    ("gd_step", {}, 4),
    ("optimizer_steps", {}, 3),
    ("loss_derivative", {}, 3),
]


@pytest.mark.parametrize(("family", "options", "decimals"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
@pytest.mark.parametrize("seed", [1, 2])
def test_class_verdicts_equal_one_by_one(family, options, decimals, seed):
    fam = get_family(family)
    problem = make_problem(fam, seed, options, decimals)
    assert problem.trace is not None
    rng = np.random.default_rng(seed)
    sheets = [student(problem, rng, i) for i in range(60)]
    fast = judge_class(problem, sheets, carried_credit=0.5, decimals_credit=0.25)
    slow = [judge(problem, s, carried_credit=0.5, decimals_credit=0.25) for s in sheets]
    assert [r.as_json() for r in fast] == [r.as_json() for r in slow]
    statuses = {st.status for r in slow for st in r.steps}
    assert {"correct", "wrong"} <= statuses  # the sheets exercise more than the fast track
