"""Equivalence of a formula answer with a step's formula: which forms pass, which test
decided, and numbers in place of givens."""

from __future__ import annotations

import pytest

from chainrule.check.answers import canonical_name
from chainrule.formulas import Vocabulary, read_formula
from chainrule.formulas.equivalence import equivalent
from chainrule.problems.base import make_problem


@pytest.fixture(scope="module")
def backprop():
    problem = make_problem("backprop", 1, {"eta": 0.1})
    trace = problem.trace
    names = [*trace.givens, *trace.names]
    vocab = Vocabulary.of(names, trace.tex_names,
                          lambda raw: canonical_name(raw, names, {"a3": "yhat"}))
    return problem, vocab


def verdict(backprop, step: str, text: str, allow_numbers: bool = True):
    problem, vocab = backprop
    reading = read_formula(text, vocab)
    return equivalent(reading.expr, problem.trace[step].formula, problem.trace, problem.givens,
                      step=step, allow_numbers=allow_numbers)


@pytest.mark.parametrize(("step", "text"), [
    ("delta1", "w13*delta3*a1*(1-a1)"),
    ("delta1", "w13 δ3 σ(z1)(1 − σ(z1))"),
    ("delta1", "w13*(yhat - y)*fprime1"),
    ("delta1", "(a1 - a1^2) delta3 w13"),
    ("delta3", "yhat - y"),
    ("delta3", "sigma(z3) - y"),
    ("delta3", "1/(1 + exp(-z3)) - y"),
    ("L", "-(y ln(yhat) + (1-y) ln(1-yhat))"),
    ("L", "-ln(yhat^y (1-yhat)^(1-y))"),
    ("z3", "b3 + a2 w23 + a1 w13"),
    ("dL_dw11", "delta1*x1"),
    ("dL_dw11", "x1 w13 (ŷ − y) a1 (1 − a1)"),
    ("w13_new", "w13 - eta*a1*delta3"),
    ("a1", r"\frac{1}{1 + e^{-z_1}}"),
])
def test_equivalent_forms_are_accepted(backprop, step: str, text: str) -> None:
    result = verdict(backprop, step, text)
    assert result.equal and not result.with_numbers
    assert result.method in ("simplify", "points")


@pytest.mark.parametrize(("step", "text"), [
    ("delta1", "w13*delta3*a1"),
    ("delta1", "w13*delta3*a1*(1+a1)"),
    ("delta3", "y - yhat"),
    ("L", "-(y log10(yhat) + (1-y) log10(1-yhat))"),
    ("z3", "w13 a1 + w23 a2"),
    ("w13_new", "w13 + eta*a1*delta3"),
    ("a1", "1/(1 + e^{z_1})"),
])
def test_different_formulas_are_refused_by_points(backprop, step: str, text: str) -> None:
    result = verdict(backprop, step, text)
    assert not result.equal
    assert result.method == "points"


def test_numbers_in_place_of_givens(backprop) -> None:
    problem, _ = backprop
    w13 = problem.givens["w13"]
    text = f"{w13}*delta3*a1*(1-a1)"
    result = verdict(backprop, "delta1", text)
    assert result.equal and result.with_numbers
    assert not verdict(backprop, "delta1", text, allow_numbers=False).equal
    assert not verdict(backprop, "delta1", f"{w13 + 0.1}*delta3*a1*(1-a1)").equal


def test_a_sum_to_one_label_stays_a_probability_vector() -> None:
    # softmax + CCE: the unsimplified chain sum_i (-y_i/yhat_i) yhat_i([i=1] - yhat1) equals
    # yhat1 - y1 only when the labels sum to 1, so the points must keep them summing to 1
    problem = make_problem("backprop", 2, {"net": "2-2-3", "output": "softmax", "loss": "cce"})
    trace = problem.trace
    names = [*trace.givens, *trace.names]
    vocab = Vocabulary.of(names, trace.tex_names, lambda raw: canonical_name(raw, names, {}))
    chain = " + ".join(f"(-y{i}/yhat{i})*yhat{i}*({int(i == 1)} - yhat1)" for i in (1, 2, 3))
    reading = read_formula(chain, vocab)
    result = equivalent(reading.expr, trace["delta3"].formula, trace, problem.givens,
                        step="delta3")
    assert result.equal
    wrong = read_formula(chain.replace("yhat1)", "yhat2)", 1), vocab)
    assert not equivalent(wrong.expr, trace["delta3"].formula, trace, problem.givens,
                          step="delta3").equal


def test_simplify_zero_with_a_differing_point_is_an_internal_error(backprop, monkeypatch):
    from chainrule.formulas import equivalence

    problem, vocab = backprop
    reading = read_formula("yhat - y", vocab)
    monkeypatch.setattr(equivalence, "_differs", lambda student, target, point: True)
    with pytest.raises(equivalence.FormulaInternalError):
        equivalence.equivalent(reading.expr, problem.trace["delta3"].formula, problem.trace,
                               problem.givens, step="delta3")
