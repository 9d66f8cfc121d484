"""Derivation problems (formulas asked, formulas in the key) and the general dL/dyhat of
loss_derivative as a formula step."""

from __future__ import annotations

import pytest

from chainrule.check.answers import parse_answers
from chainrule.check.judge import CORRECT, WRONG, judge
from chainrule.problems.base import make_problem, problem_from_id
from chainrule.render.problemset import render_set


def sheet(problem, rows):
    trace = problem.trace
    return parse_answers([(n, t, i) for i, (n, t) in enumerate(rows, 1)],
                         [*trace.givens, *trace.names], {}, "a.txt", trace.tex_names)


def steps_of(problem, rows):
    return {s.name: s for s in judge(problem, sheet(problem, rows)).steps}


@pytest.fixture(scope="module")
def derivation():
    return make_problem("derivation", 3, {})


def test_asks_output_delta_hidden_delta_and_a_gradient_in_givens(derivation) -> None:
    assert derivation.asked == ("delta3", "delta1", "dL_dw11")
    key = {s["name"]: s for s in derivation.key()["steps"]}
    assert key["delta3"]["formula"] == "yhat - y"
    assert key["delta1"]["formula"] == "w13*delta3*fprime1"
    names = {t for t in key["dL_dw11"]["formula"].replace("(", " ").replace(")", " ")
             .replace("*", " ").replace("+", " ").replace("-", " ").split() if t[0].isalpha()}
    assert names <= {*derivation.trace.givens, "sigmoid"}
    assert problem_from_id(derivation.id).asked == derivation.asked


def test_renders_formulas_in_questions_solutions_and_key(derivation) -> None:
    question = render_set([derivation], "questions", "md", title="T")
    assert r"$`\delta_{3}`$" in question and "givens alone" in question
    assert r"\hat{y} - y" not in question
    solution = render_set([derivation], "solutions", "md", title="T")
    assert r"\delta_{3} = \hat{y} - y" in solution
    assert r"\frac{\partial L}{\partial w_{11}} = \delta_{1} x_{1}" in solution
    tex = render_set([derivation], "solutions", "tex", title="T")
    assert r"\displaystyle \delta_{1} = w_{13} \delta_{3}" in tex


def test_checker_accepts_equivalent_formulas(derivation) -> None:
    key = {s["name"]: s for s in derivation.key()["steps"]}
    steps = steps_of(derivation, [
        ("delta3", "sigma(z3) - y"),
        ("delta1", "w13 (yhat - y) a1 (1 - a1)"),
        ("dL_dw11", key["dL_dw11"]["formula"]),
    ])
    assert all(s.status == CORRECT for s in steps.values()), [s.message for s in steps.values()]


def test_checker_wants_formulas_in_the_asked_terms(derivation) -> None:
    w13 = derivation.givens["w13"]
    steps = steps_of(derivation, [
        ("delta3", "-0.457"),
        ("delta1", f"{w13} delta3 a1 (1 - a1)"),
        ("dL_dw11", "delta1 x1"),
    ])
    assert steps["delta3"].status == WRONG and "asks for a formula" in steps["delta3"].message
    assert steps["delta1"].status == WRONG and "write it in terms of" in steps["delta1"].message
    assert "w13" in steps["delta1"].message
    assert steps["dL_dw11"].status == WRONG
    assert "in terms of" in steps["dL_dw11"].message and "delta1" in steps["dL_dw11"].message


def test_a_bad_weight_option_is_refused() -> None:
    from chainrule.errors import ChainruleError

    with pytest.raises(ChainruleError, match="first-layer weight"):
        make_problem("derivation", 1, {"weight": "w13"})


@pytest.mark.parametrize("loss", ["mse", "bce", "cce", "hinge", "kl", "lsce", "mae", "huber"])
def test_loss_derivative_key_holds_the_general_formula(loss: str) -> None:
    problem = make_problem("loss_derivative", 2, {"loss": [loss]})
    for entry in problem.key()["steps"]:
        assert entry["formula"] == problem.trace.formula_text(entry["name"])
        assert entry["formula_tex"] == problem.trace.formula_tex(entry["name"])
    name = problem.asked[0]
    steps = steps_of(problem, [(name, problem.trace.formula_text(name))])
    assert steps[name].status == CORRECT and steps[name].formula.correct
