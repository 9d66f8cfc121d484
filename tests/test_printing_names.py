"""Printing looks up only the names a formula uses: output as with the whole name table."""

from __future__ import annotations

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.symbolic import printing
from chainrule.symbolic.network import Network
from chainrule.symbolic.printing import OrderedLatexPrinter, SubstitutionPrinter, latex, plain
from chainrule.symbolic.trace import sym


def whole_table(tex_names):
    """The table every printer was given before: every name of the trace."""
    return {sym(name): tex for name, tex in tex_names.items()}


class WholeTableSubstitution(SubstitutionPrinter):
    def __init__(self, names, tex_names):
        super().__init__(names, tex_names, sp.S.Zero)
        self._settings["symbol_names"] = whole_table(tex_names)


@pytest.mark.parametrize(("spec", "kwargs"), [
    ("2-2-1", {}),
    ("3-12-2", {"hidden": "tanh", "loss": "cce"}),
    ("2-3-3-1", {"hidden": "relu", "loss": "mse", "output": "linear"}),
])
def test_every_step_prints_as_with_the_whole_table(spec, kwargs):
    trace = Network(spec, **kwargs).gradient_trace
    table = whole_table(trace.tex_names)
    for step in trace.steps:
        expected = OrderedLatexPrinter({"symbol_names": table}).doprint(step.formula)
        assert latex(step.formula, trace.tex_names) == expected
        assert trace.formula_tex(step.name) == expected
        names = list(step.dependencies)
        old = WholeTableSubstitution(names, trace.tex_names).doprint(step.formula)
        new = SubstitutionPrinter(names, trace.tex_names, step.formula).doprint(step.formula)
        assert new == old


def test_a_symbol_of_the_same_name_but_other_assumptions_keeps_its_plain_name():
    plain_w = sp.Symbol("w13")  # not the real step symbol sym("w13")
    expr = sp.Add(plain_w, sym("w13"), evaluate=False)
    tex = latex(expr, {"w13": r"\omega"})
    assert tex == r"w_{13} + \omega"


def print_all(trace):
    out = []
    for step in trace.steps:
        out.append(latex(step.formula, trace.tex_names))
        out.append(plain(step.formula))
        out.append(trace.formula_tex(step.name))
        out.append(trace.formula_text(step.name))
        printer = SubstitutionPrinter(list(step.dependencies), trace.tex_names, step.formula)
        out.append(printer.doprint(step.formula))
    return out


@pytest.mark.parametrize(("spec", "kwargs"), [
    ("2-2-1", {}),
    ("3-12-2", {"hidden": "tanh", "loss": "cce"}),
    ("2-3-3-1", {"hidden": "relu", "loss": "mse", "output": "linear"}),
    ("3-4-4-2", {"hidden": "linear", "loss": "mae", "output": "linear"}),
    ("12-3-11-2", {"hidden": ["sigmoid", "linear"], "loss": "lsce"}),
])
def test_sums_and_products_of_symbols_print_as_sympys_general_path(spec, kwargs,
                                                                   monkeypatch):
    fast = print_all(Network(spec, **kwargs).trace)
    monkeypatch.setattr(printing, "FAST_PATHS", False)
    assert fast == print_all(Network(spec, **kwargs).trace)  # a fresh trace: nothing cached


def test_products_whose_factors_print_as_numbers_keep_sympys_separator(monkeypatch):
    names = {"p1": "3", "p2": "2", "p3": r"\beta_{2}", "p4": "x"}
    exprs = [sp.Mul(sym(a), sym(b), evaluate=False) for a in names for b in names if a != b]
    exprs.append(sp.Mul(sym("p1"), sym("p2"), sym("p3"), sym("p4"), evaluate=False))
    exprs.append(sp.Mul(sp.Add(sym("p1"), sym("p2"), evaluate=False), sym("p2"),
                        evaluate=False))
    fast = [(latex(e, names), plain(e)) for e in exprs]
    assert r"3 \cdot 2" in [f for f, _ in fast]  # SymPy's rule between two numbers
    monkeypatch.setattr(printing, "FAST_PATHS", False)
    assert fast == [(latex(e, names), plain(e)) for e in exprs]


_NAMES = ["w13", "delta3", "x1", "a12", "3", "-q", "alpha", "y_2", "yhat", "w1_12"]


@st.composite
def plain_shapes(draw):
    """Sums of symbols and products of symbols, and products of symbols and such sums,
    over names that print oddly (digits, a leading minus, Greek, subscripts)."""
    symbol = st.sampled_from(_NAMES).map(sym)
    product = st.lists(symbol, min_size=2, max_size=4).map(
        lambda f: sp.Mul(*f, evaluate=False))
    term = st.one_of(symbol, product)
    total = st.lists(term, min_size=2, max_size=4).map(lambda t: sp.Add(*t, evaluate=False))
    outer = st.lists(st.one_of(symbol, total), min_size=2, max_size=3).map(
        lambda f: sp.Mul(*f, evaluate=False))
    return draw(st.one_of(product, total, outer))


@settings(max_examples=150, deadline=None)
@given(expr=plain_shapes(), tex=st.sampled_from([{}, {"w13": "3", "x1": "x_{1}",
                                                     "-q": r"\theta", "alpha": "2"}]),
       numbers=st.lists(st.sampled_from(_NAMES), max_size=3))
def test_plain_shapes_print_as_sympys_general_path(expr, tex, numbers):
    def all_forms():
        return (latex(expr, tex), plain(expr),
                SubstitutionPrinter(numbers, tex, expr).doprint(expr))

    fast = all_forms()
    printing.FAST_PATHS = False
    try:
        assert fast == all_forms()
    finally:
        printing.FAST_PATHS = True
