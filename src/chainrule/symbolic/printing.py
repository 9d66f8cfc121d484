"""Printing formulas the way the notes write them: LaTeX, plain text, and numbers put in.

Formulas are built unevaluated where order matters (``w11*x1 + w21*x2 + b1``), and printed
with ``order='none'`` so they read as a student writes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import sympy as sp
from sympy.printing.latex import LatexPrinter

__all__ = ["OrderedLatexPrinter", "SubstitutionPrinter", "format_number", "latex", "plain"]


def _symbol_names(tex_names: Mapping[str, str]) -> dict[sp.Symbol, str]:
    from chainrule.symbolic.trace import sym

    return {sym(name): tex for name, tex in tex_names.items()}


class OrderedLatexPrinter(LatexPrinter):
    """LaTeX in the order the formula was written, ``w - eta*g`` kept as written."""

    def __init__(self, settings: dict[str, Any]) -> None:
        super().__init__({"order": "none", **settings})

    def _print_Add(self, expr: sp.Add, order: str | None = None) -> str:
        tex = ""
        for i, term in enumerate(expr.args):
            if i and term.is_Mul and term.args[0] == sp.S.NegativeOne:
                tex += " - "
                term = sp.Mul(*term.args[1:], evaluate=False)
            elif i and term.could_extract_minus_sign():
                tex += " - "
                term = -term
            elif i:
                tex += " + "
            term_tex = self._print(term)
            if self._needs_add_brackets(term):
                term_tex = rf"\left({term_tex}\right)"
            tex += term_tex
        return tex


    def _print_Mul(self, expr: sp.Mul) -> str:
        args = expr.args
        if len(args) == 2 and args[0] == sp.S.NegativeOne and args[1].is_Add:
            return r"-\left[" + self._print(args[1]) + r"\right]"
        return str(super()._print_Mul(expr))


def latex(expr: sp.Expr, tex_names: Mapping[str, str] | None = None) -> str:
    """LaTeX of ``expr`` in the order it was written, with step names typeset."""
    settings: dict[str, Any] = {}
    if tex_names:
        settings["symbol_names"] = _symbol_names(tex_names)
    return str(OrderedLatexPrinter(settings).doprint(expr))


def plain(expr: sp.Expr) -> str:
    """Plain-text form of ``expr`` (``w13*delta3*fprime1``)."""
    return str(sp.sstr(expr, order="none"))


def format_number(value: Any, decimals: int | None = None) -> str:
    """A number as a student writes it.

    With ``decimals`` it is rounded half away from zero to that many places ("0.574");
    without, it is the shortest text that reads back as the same value ("0.7", "1").
    """
    from chainrule.symbolic.trace import round_half_up

    if decimals is not None:
        return str(round_half_up(value, decimals))
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
    elif isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        text = str(int(value))
    elif isinstance(value, float):
        text = repr(value)
    else:
        text = str(round_half_up(value, 12).normalize())
    return "0" if text in ("-0", "-0.0") else text


class SubstitutionPrinter(OrderedLatexPrinter):
    """LaTeX of a formula with numbers in place of its names: ``(0.7)(-0.252)(0.244)``."""

    def __init__(self, numbers: Mapping[sp.Symbol, str], tex_names: Mapping[str, str]) -> None:
        super().__init__({"mul_symbol": "dot", "symbol_names": _symbol_names(tex_names)})
        self._numbers = dict(numbers)

    def _print_Symbol(self, expr: sp.Symbol, style: str = "plain") -> str:
        text = self._numbers.get(expr)
        if text is None:
            return str(super()._print_Symbol(expr, style=style))
        return rf"\left({text}\right)" if text.startswith("-") else text

    def _print_Mul(self, expr: sp.Mul) -> str:
        factors = list(expr.args)
        if any(f.is_Pow and f.exp.is_negative for f in factors):
            return str(super()._print_Mul(expr))
        sign = ""
        if factors and factors[0] == sp.S.NegativeOne:
            sign, factors = "-", factors[1:]
        parts = []
        for i, factor in enumerate(factors):
            if factor in self._numbers:
                parts.append(f"({self._numbers[factor]})")
            elif factor.is_Number and i == 0:
                parts.append(self._print(factor))
            elif factor.is_Number or factor.is_Add:
                parts.append(r"\left(" + self._print(factor) + r"\right)")
            else:
                parts.append(self._print(factor))
        return sign + "".join(parts)
