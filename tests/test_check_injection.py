"""Every catalogued mistake injected at every step it applies to, in every family: the checker
names the step and the mistake and marks the steps after it carried or correct.

The injected value is the mistake's formula on the right earlier values; the sheet's other
steps are recomputed from the student's own values, all in plain float arithmetic with
Decimal rounding (tests/checkoracle.py), not with the checker's own evaluation.
"""

import math

import pytest

from chainrule.check.judge import judge
from chainrule.check.mistakes import MISTAKES, mistake_formulas
from chainrule.problems.base import make_problem
from checkoracle import chain, rnd, sheet_of, value

LOSSES = ["mse", "mae", "huber", "bce", "cce", "hinge", "kl", "lsce"]
QUICK = [
    ("backprop", 1, {}),
    ("backprop", 3, {"net": "2-2-3", "loss": "cce"}),
    ("optimizer_steps", 1, {"optimizer": "adam", "steps": 2}),
    ("optimizer_steps", 2, {"optimizer": "nag", "steps": 2}),
    ("gd_step", 1, {"model": "logistic", "method": "minibatch"}),
    ("loss_value", 1, {"loss": ["lsce"]}),
    ("lr_schedule", 1, {"schedule": "step"}),
    ("cost", 2, {"loss": ["mse"]}),
]
FULL = [
    *[("loss_value", s, {"loss": [loss]}) for loss in LOSSES for s in (1, 2)],
    ("loss_value", 3, {"loss": ["mse"], "mse_half": True}),
    ("loss_value", 3, {"loss": ["hinge"], "hinge_labels": "01"}),
    ("loss_value", 3, {"loss": ["kl"], "kl_direction": "reverse"}),
    *[("loss_derivative", s, {"loss": [loss]}) for loss in LOSSES for s in (1, 2)],
    *[("cost", s, {"loss": [loss]}) for loss in LOSSES[:6] for s in (1, 2)],
    ("forward", 1, {}),
    ("forward", 2, {"net": "2-3-1", "hidden": "tanh", "loss": "mse"}),
    ("forward", 3, {"net": "2-2-3", "loss": "cce"}),
    ("backprop", 1, {}),
    ("backprop", 2, {"net": "2-3-1", "hidden": "tanh"}),
    ("backprop", 3, {"net": "2-2-3", "loss": "cce"}),
    ("backprop", 4, {"net": "2-2-1", "hidden": "relu", "output": "linear", "loss": "mse"}),
    ("backprop", 5, {"net": "2-2-2-1", "loss": "bce"}),
    ("backprop", 6, {"net": "2-2-3", "loss": "lsce"}),
    *[("gd_step", s, {"model": model, "method": method})
      for s, (model, method) in enumerate(
          [("linear", "batch"), ("linear", "sgd"), ("logistic", "batch"),
           ("logistic", "minibatch")], start=1)],
    *[("optimizer_steps", s, {"optimizer": opt, "steps": 2})
      for opt in ("gd", "momentum", "nag", "adagrad", "rmsprop", "adam") for s in (1, 2)],
    ("optimizer_steps", 3, {"optimizer": "momentum", "steps": 2, "convention": "torch"}),
    ("optimizer_steps", 3, {"optimizer": "nag", "steps": 2, "convention": "torch"}),
    ("optimizer_steps", 3, {"optimizer": "adam", "steps": 2, "eps_placement": "inside"}),
    ("optimizer_steps", 4, {"optimizer": "rmsprop", "steps": 2, "model": "bowl2d"}),
    *[("lr_schedule", s, {"schedule": sch}) for sch in
      ("step", "exponential", "inverse_time", "cosine_restarts") for s in (1, 2)],
]


def injections(problem):
    """(step, mistake id, wrong value) for every applicable mistake at every asked step."""
    trace, d = problem.trace, problem.decimals
    right = chain(trace, problem.givens, d)
    for name in problem.asked:
        step = trace[name]
        for mistake, alt in mistake_formulas(trace, name):
            yield name, mistake.id, rnd(value(alt, right), d) if math.isfinite(
                value(alt, right)) else math.nan
        deps = [n for n in step.dependencies if n not in trace.givens]
        if deps and d > 1:
            coarse = {**right, **{n: rnd(right[n], d - 1) for n in deps}}
            if any(coarse[n] != right[n] for n in deps):
                yield name, "rounded_too_early", rnd(value(step.formula, coarse), d)


def run(problem, counts):
    trace, d = problem.trace, problem.decimals
    u = 10.0**-d
    right = chain(trace, problem.givens, d)
    order = list(problem.asked)
    for name, mistake_id, wrong in injections(problem):
        counts["applicable"] += 1
        raw = value(trace[name].formula, right)  # the right chain's step before rounding
        targets = (right[name], rnd(problem.exact[name], d), raw)
        if not math.isfinite(wrong) or any(abs(wrong - t) <= u / 2 + 1e-12 for t in targets):
            counts["invisible"] += 1  # this slip gives the right number with these givens
            continue
        values = chain(trace, problem.givens, d, {name: wrong})
        sheet = {n: values[n] for n in order}
        if not all(math.isfinite(v) and abs(v) < 1e12 for v in sheet.values()):
            counts["invisible"] += 1
            continue
        report = judge(problem, sheet_of(sheet, d))
        by_name = {s.name: s for s in report.steps}
        step = by_name[name]
        where = (problem.id, name, mistake_id, wrong, step.status, step.mistakes)
        assert report.first_error == name, where
        assert step.status == "wrong", where
        if mistake_id in step.mistakes:
            counts["named"] += 1
            if len(step.mistakes) > 1:
                counts["named_with_others"] += 1
        else:
            # Only rounding too early may be outranked, by a formula mistake that gives the
            # same number (the stated rule); anything else is a failure.
            assert mistake_id == "rounded_too_early" and step.mistakes, where
            counts["outranked"] += 1
        index = order.index(name)
        assert all(by_name[n].status == "correct" for n in order[:index]), where
        assert all(by_name[n].status in ("correct", "carried") for n in order[index + 1:]), (
            where, [(n, by_name[n].status) for n in order[index + 1:]])
        counts["tested"] += 1
        counts["mistakes"].add(mistake_id)
        counts["steps"].add((problem.id, name))


def new_counts():
    return {"applicable": 0, "invisible": 0, "tested": 0, "named": 0, "named_with_others": 0,
            "outranked": 0, "mistakes": set(), "steps": set()}


@pytest.mark.parametrize(("family", "seed", "options"), QUICK)
def test_injected_mistakes_quick(family, seed, options):
    counts = new_counts()
    run(make_problem(family, seed, options), counts)
    assert counts["tested"] >= 3, counts


@pytest.mark.slow
def test_injected_mistakes_every_family():
    counts = new_counts()
    families = set()
    for family, seed, options in FULL:
        problem = make_problem(family, seed, options)
        families.add(family)
        run(problem, counts)
    summary = {k: (len(v) if isinstance(v, set) else v) for k, v in counts.items()}
    print("injection test:", len(FULL), "problems,", summary)
    assert families >= {"loss_value", "cost", "loss_derivative", "forward", "backprop",
                        "gd_step", "optimizer_steps", "lr_schedule"}
    # every catalogued mistake is exercised somewhere (eps placement cannot show: eps=1e-8)
    missing = set(MISTAKES) - counts["mistakes"] - {"eps_placement"}
    assert not missing, missing
