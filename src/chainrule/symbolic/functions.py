"""SymPy functions the notes use that SymPy does not have in the form students write.

``sigmoid`` differentiates to ``sigmoid*(1 - sigmoid)`` and ``relu`` to a unit step, so
derivatives stay in the identity form of the notes and stay small.
"""

from __future__ import annotations

import sympy as sp

__all__ = ["relu", "sigmoid", "step"]


class sigmoid(sp.Function):
    """The logistic function 1 / (1 + e^{-x})."""

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return self * (1 - self)

    @classmethod
    def eval(cls, x: sp.Expr) -> sp.Expr | None:
        if x.is_zero:
            return sp.Rational(1, 2)
        return None

    def _eval_rewrite_as_exp(self, x: sp.Expr, **kwargs: object) -> sp.Expr:
        return 1 / (1 + sp.exp(-x))

    def _eval_is_real(self) -> bool | None:
        return self.args[0].is_real

    def _eval_evalf(self, prec: int) -> sp.Expr:
        return (1 / (1 + sp.exp(-self.args[0])))._eval_evalf(prec)

    def _latex(self, printer: sp.printing.latex.LatexPrinter, exp: str | None = None) -> str:
        return _power(r"\sigma\left(" + printer._print(self.args[0]) + r"\right)", exp)


class step(sp.Function):
    """Unit step: 1 for x > 0, else 0 (the derivative of ReLU; 0 at the kink, as in PyTorch)."""

    nargs = 1

    @classmethod
    def eval(cls, x: sp.Expr) -> sp.Expr | None:
        if x.is_positive:
            return sp.S.One
        if x.is_nonpositive:
            return sp.S.Zero
        return None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sp.S.Zero

    def _eval_rewrite_as_Heaviside(self, x: sp.Expr, **kwargs: object) -> sp.Expr:
        return sp.Heaviside(x, 0)

    def _latex(self, printer: sp.printing.latex.LatexPrinter, exp: str | None = None) -> str:
        return _power(r"\mathbb{1}\left[" + printer._print(self.args[0]) + r" > 0\right]", exp)


class relu(sp.Function):
    """Rectified linear unit max(0, x)."""

    nargs = 1

    @classmethod
    def eval(cls, x: sp.Expr) -> sp.Expr | None:
        if x.is_nonnegative:
            return x
        if x.is_nonpositive:
            return sp.S.Zero
        return None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return step(self.args[0])

    def _eval_rewrite_as_Max(self, x: sp.Expr, **kwargs: object) -> sp.Expr:
        return sp.Max(0, x)

    def _latex(self, printer: sp.printing.latex.LatexPrinter, exp: str | None = None) -> str:
        return _power(r"\operatorname{ReLU}\left(" + printer._print(self.args[0]) + r"\right)", exp)


def _power(tex: str, exp: str | None) -> str:
    """``tex`` raised to ``exp`` where SymPy's printer asks for a power of the function."""
    return tex if exp is None else r"\left(" + tex + r"\right)^{" + exp + "}"
