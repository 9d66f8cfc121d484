"""A trace's printer writes sums and products of symbols (update steps ``w - eta*g``,
gradients, weighted sums) as SymPy's own printers do, byte for byte."""

from __future__ import annotations

import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy.printing.str import StrPrinter

from chainrule.symbolic import printing
from chainrule.symbolic.printing import TracePrinter, latex
from chainrule.symbolic.trace import LazyTable, sym

_NAMES = ["w13", "delta3", "x1", "3", "-q", "alpha", "y_2", "eta", "dL_dw11", "a*-b",
          "w1_12", "b2"]


def _twin(name: str) -> sp.Symbol:
    """Equal to the step symbol of ``name`` but another object."""
    return sp.Symbol.__xnew__(sp.Symbol, name, real=True)


_symbol = st.one_of(
    st.sampled_from(_NAMES).map(sym),  # mostly step symbols
    st.sampled_from(_NAMES).map(sym),
    st.sampled_from(_NAMES).map(sp.Symbol),  # the same names, other assumptions
    st.sampled_from(_NAMES).map(_twin),
)
_product = st.lists(_symbol, min_size=2, max_size=4).map(lambda f: sp.Mul(*f, evaluate=False))
_negated = st.lists(_symbol, min_size=1, max_size=3).map(
    lambda f: sp.Mul(sp.S.NegativeOne, *f, evaluate=False))
_sum = st.lists(st.one_of(_symbol, _product, _negated), min_size=2, max_size=4).map(
    lambda t: sp.Add(*t, evaluate=False))
_outer = st.lists(st.one_of(_symbol, _sum), min_size=2, max_size=3).map(
    lambda f: sp.Mul(*f, evaluate=False))
_update = st.tuples(_symbol, _symbol, _symbol).map(  # w - eta*g as the network writes it
    lambda s: sp.Add(s[0], sp.Mul(sp.S.NegativeOne, s[1], s[2], evaluate=False),
                     evaluate=False))
expressions = st.one_of(_symbol, _product, _negated, _sum, _outer, _update)

_TABLES = [{}, {"w13": "3", "x1": "x_{1}", "-q": r"\theta", "alpha": "2", "eta": r"\eta",
                "dL_dw11": r"\frac{\partial L}{\partial w_{11}}", "b2": "b_{2} 4"}]


def sympys(expr: sp.Expr, tex: dict[str, str]) -> tuple[str, str]:
    """SymPy's general printing paths (no fast path) of ``expr``: the oracle."""
    printing.FAST_PATHS = False
    try:
        return latex(expr, tex), str(StrPrinter({"order": "none"}).doprint(expr))
    finally:
        printing.FAST_PATHS = True


@settings(max_examples=300, deadline=None)
@given(exprs=st.lists(expressions, min_size=1, max_size=8), which=st.sampled_from([0, 1]),
       lazy=st.booleans())
def test_one_printer_prints_many_formulas_as_sympy_does(exprs, which, lazy):
    tex = _TABLES[which]
    printer = TracePrinter(LazyTable(lambda: dict(tex)) if lazy else tex)
    for expr in exprs:  # one printer for them all: what it remembers is used again
        assert (printer.latex(expr), printer.plain(expr)) == sympys(expr, tex)


def test_the_examples_include_each_case():
    tex = _TABLES[1]
    printer = TracePrinter(tex)
    w, eta, g = sym("w13"), sym("eta"), sym("dL_dw11")
    update = sp.Add(w, sp.Mul(sp.S.NegativeOne, eta, g, evaluate=False), evaluate=False)
    assert printer.latex(update) == r"3 - \eta \frac{\partial L}{\partial w_{11}}"
    assert printer.plain(update) == "w13 - eta*dL_dw11"
    assert (printer.latex(update), printer.plain(update)) == sympys(update, tex)
    minus = sp.Mul(sym("a*-b"), sym("x1"), evaluate=False)
    assert printer.plain(minus) == sympys(minus, tex)[1]
    numbers = sp.Mul(sym("b2"), sym("w13"), evaluate=False)  # "b_{2} 4" then "3"
    assert printer.latex(numbers) == sympys(numbers, tex)[0] == r"b_{2} 4 \cdot 3"


def test_a_power_of_an_activation_prints_in_brackets():
    from chainrule.symbolic.functions import relu, sigmoid, step

    z = sym("z1")
    names = {"z1": "z_{1}"}
    for f, tex in [(sigmoid, r"\sigma\left(z_{1}\right)"),
                   (relu, r"\operatorname{ReLU}\left(z_{1}\right)"),
                   (step, r"\mathbb{1}\left[z_{1} > 0\right]")]:
        assert latex(f(z), names) == tex
        square = sp.Pow(f(z), 2, evaluate=False)
        assert latex(sp.Mul(2, square, evaluate=False), names) == (
            rf"2 \left({tex}\right)^{{2}}")
