"""Step symbols made without SymPy's deduction of their facts are the symbols SymPy's own
``Symbol.__xnew__(Symbol, name, real=True)`` makes: every attribute, every answer."""

from __future__ import annotations

import pickle

import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy.core.assumptions import _assume_defined

from chainrule.symbolic import trace
from chainrule.symbolic.trace import _real_symbol

_names = st.text(alphabet="abwxyz_0123456789-*{}\\ ", min_size=1, max_size=12)


def sympys(name: str) -> sp.Symbol:
    """SymPy's own constructor: the oracle."""
    return sp.Symbol.__xnew__(sp.Symbol, name, real=True)


def _slots(symbol: sp.Symbol) -> dict[str, object]:
    names = {n for k in type(symbol).__mro__ for n in getattr(k, "__slots__", ())}
    return {n: getattr(symbol, n) for n in sorted(names) if hasattr(symbol, n)}


@settings(max_examples=200, deadline=None)
@given(name=_names, asked=st.lists(st.sampled_from(sorted(_assume_defined)), max_size=6))
def test_a_fast_symbol_is_sympys_symbol(name, asked):
    fast, slow = _real_symbol(name), sympys(name)
    assert type(fast) is type(slow) is sp.Symbol
    assert _slots(fast) == _slots(slow)
    assert type(fast._assumptions) is type(slow._assumptions)
    assert fast._assumptions.rules is slow._assumptions.rules
    assert fast._assumptions.generator == slow._assumptions.generator
    assert fast == slow and hash(fast) == hash(slow) and sp.srepr(fast) == sp.srepr(slow)
    assert pickle.loads(pickle.dumps(fast)) == slow
    for fact in asked:  # asking adds to a symbol's facts: the same answers, the same facts
        assert getattr(fast, f"is_{fact}") == getattr(slow, f"is_{fact}")
    assert dict(fast._assumptions) == dict(slow._assumptions)
    # nothing asked of one symbol is seen by the next one made
    assert dict(_real_symbol(name)._assumptions) == dict(sympys(name)._assumptions)
    assert (fast + slow) == 2 * slow and sp.diff(fast * slow, slow) == 2 * slow


def test_every_fact_of_a_fresh_symbol():
    fast, slow = _real_symbol("w11"), sympys("w11")
    assert {f: getattr(fast, f"is_{f}") for f in sorted(_assume_defined)} == {
        f: getattr(slow, f"is_{f}") for f in sorted(_assume_defined)}
    assert fast.is_real is True and fast.is_positive is None


def test_the_switch_gives_sympys_constructor(monkeypatch):
    monkeypatch.setattr(trace, "FAST_SYMBOLS", False)
    made = _real_symbol("q7")
    assert _slots(made) == _slots(sympys("q7"))
