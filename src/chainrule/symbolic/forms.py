"""The few formulas ``derive`` writes for every unit, built as SymPy's evaluation leaves them.

For the step symbols of a trace, ``1 - a``, ``a*(1 - a)`` (the sigmoid's derivative),
``yhat - y`` and binary cross-entropy's ``y*log(yhat)`` and ``(1 - y)*log(1 - yhat)`` come
out of SymPy's evaluation as fixed trees: evaluating them only sorts their arguments by
class, and asks the assumptions of each log's argument to find nothing to simplify. Here
they are built as those trees directly, the same objects by ``==``. That evaluation was a
tenth of ``derive --net 16-32-10`` (its first sum also loads ``sympy.tensor.tensor``, which
``Add.flatten`` imports) and it grows with the outputs. Anything but step symbols, or the
same symbol twice in a difference, goes through SymPy's own arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sympy as sp

from chainrule.symbolic.trace import is_step_symbol

__all__ = ["bce_terms", "difference", "one_minus", "per_output", "renamed",
           "times_one_minus"]


def _negated(x: sp.Symbol) -> sp.Expr:
    return sp.Mul._from_args((sp.S.NegativeOne, x))


def one_minus(x: sp.Expr) -> sp.Expr:
    """``1 - x``."""
    if is_step_symbol(x):
        return sp.Add._from_args((sp.S.One, _negated(x)))
    return 1 - x


def times_one_minus(a: sp.Expr) -> sp.Expr:
    """``a*(1 - a)``: the sigmoid's derivative in terms of its value."""
    if is_step_symbol(a):
        return sp.Mul._from_args((a, one_minus(a)))
    return a * (1 - a)


def difference(p: sp.Expr, t: sp.Expr) -> sp.Expr:
    """``p - t`` (``yhat - y``)."""
    if is_step_symbol(p) and is_step_symbol(t) and p is not t:
        return sp.Add._from_args((p, _negated(t)))
    return p - t


def bce_terms(t: sp.Expr, p: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """``t*log(p)`` and ``(1 - t)*log(1 - p)``: the two terms of binary cross-entropy."""
    if is_step_symbol(t) and is_step_symbol(p):
        return (sp.Mul._from_args((t, sp.log(p, evaluate=False))),
                sp.Mul._from_args((one_minus(t), sp.log(one_minus(p), evaluate=False))))
    return t * sp.log(p), (1 - t) * sp.log(1 - p)


def renamed(expr: sp.Basic, names: dict[sp.Basic, sp.Basic]) -> sp.Basic:
    """``expr`` with the symbols of ``names`` replaced and every node rebuilt as it stands,
    nothing evaluated (unlike ``xreplace``, which evaluates each node it rebuilds)."""
    found = names.get(expr)
    if found is not None:
        return found
    if not expr.args:
        return expr
    args = tuple(renamed(arg, names) for arg in expr.args)
    if all(new is old for new, old in zip(args, expr.args, strict=True)):
        return expr
    if type(expr) is sp.Add or type(expr) is sp.Mul:
        return expr._from_args(args, expr.is_commutative)
    try:
        return expr.func(*args, evaluate=False)
    except TypeError:  # a node whose constructor takes no evaluate (ExprCondPair)
        return expr.func(*args)


def per_output(make: Callable[[sp.Expr, sp.Expr], sp.Expr], targets: Sequence[sp.Expr],
               outputs: Sequence[sp.Expr]) -> list[sp.Expr]:
    """``make(t, p)`` for each target and output: made once, for the first pair, and
    renamed for the others, when every one is a distinct step symbol.

    A loss's term and its derivative are the same formula for every output, only its names
    change; SymPy's evaluation orders a formula's parts by their kind and, between the two
    names, the same way for every output (``y1`` before ``yhat1``, ``y10`` before
    ``yhat10``), so the renamed formula is the one SymPy would make for those names, without
    asking every assumption again (64 outputs of Huber's loss took most of a second)."""
    pairs = list(zip(targets, outputs, strict=True))
    symbols = [s for pair in pairs for s in pair]
    if len(pairs) < 2 or not all(map(is_step_symbol, symbols)) or len(set(symbols)) < len(
            symbols):
        return [make(t, p) for t, p in pairs]
    (t1, p1), first = pairs[0], make(*pairs[0])
    return [first] + [renamed(first, {t1: t, p1: p}) for t, p in pairs[1:]]
