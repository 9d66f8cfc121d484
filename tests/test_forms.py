"""The formulas derive builds directly are the trees SymPy's own evaluation makes."""

from __future__ import annotations

import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.symbolic import forms
from chainrule.symbolic.trace import sym


def same_tree(a: sp.Basic, b: sp.Basic) -> bool:
    """Equal, and built alike all the way down: the same classes, arguments in the same
    order (what the printers walk)."""
    if type(a) is not type(b) or a != b or len(a.args) != len(b.args):
        return False
    return all(same_tree(x, y) for x, y in zip(a.args, b.args, strict=True))


names = st.text(alphabet="abdexyzhatw_0123456789", min_size=1, max_size=8)


@settings(max_examples=150, deadline=None)
@given(names, names)
def test_each_form_is_sympys_evaluation(t_name, p_name):
    t, p = sym(t_name), sym(p_name)
    assert same_tree(forms.one_minus(t), 1 - t)
    assert same_tree(forms.times_one_minus(t), t * (1 - t))
    assert same_tree(forms.difference(p, t), p - t)
    first, second = forms.bce_terms(t, p)
    assert same_tree(first, t * sp.log(p))
    assert same_tree(second, (1 - t) * sp.log(1 - p))


def test_the_network_names_print_as_before():
    for k in (1, 2, 9, 10, 64):
        t, p, a = sym(f"y{k}"), sym(f"yhat{k}"), sym(f"a{k}")
        assert sp.latex(forms.difference(p, t), order="none") == sp.latex(p - t, order="none")
        assert same_tree(forms.times_one_minus(a), a * (1 - a))


def test_other_expressions_take_sympys_arithmetic():
    x = sp.Symbol("x", positive=True)  # not a step symbol: other assumptions
    assert same_tree(forms.one_minus(x), 1 - x)
    assert forms.difference(sym("y"), sym("y")) == 0
    two = sp.Integer(2)
    assert forms.times_one_minus(two) == -2
    first, second = forms.bce_terms(sp.S.One, sp.Rational(1, 2))
    assert first == sp.log(sp.Rational(1, 2)) and second == 0
