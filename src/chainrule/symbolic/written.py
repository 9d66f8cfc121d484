"""Building formulas in the order students write them (unevaluated SymPy operations).

SymPy sorts the terms of a sum and the factors of a product; these keep them as written,
so ``w - eta*g`` prints as ``w - eta*g`` and not ``-eta*g + w``.
"""

from __future__ import annotations

import sympy as sp

__all__ = ["add", "minus", "mul", "over"]


def add(*terms: sp.Expr) -> sp.Expr:
    """``a + b + ...`` as written."""
    return sp.Add(*terms, evaluate=False)


def mul(*factors: sp.Expr) -> sp.Expr:
    """``a * b * ...`` as written."""
    return sp.Mul(*factors, evaluate=False)


def minus(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """``a - b`` as written."""
    return add(a, mul(sp.S.NegativeOne, b))


def over(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """``a / b`` as written."""
    return mul(a, sp.Pow(b, -1, evaluate=False))
