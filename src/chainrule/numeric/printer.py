"""Printing SymPy formulas as NumPy code, with the numerically safe forms chainrule uses.

``log`` of a probability is clipped below at PROB_EPS (the only place a formula would be
undefined); the sigmoid is 1 / (1 + e^{-z}) with overflow of e^{-z} to inf allowed (it gives
the right limit 0); the ReLU step is 0 at 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from chainrule.symbolic.trace import PROB_EPS

__all__ = ["NAMESPACE", "KernelPrinter", "to_code"]


def _safe_log(x: Any) -> Any:
    return np.log(np.maximum(x, PROB_EPS))


def _sigmoid(x: Any) -> Any:
    if isinstance(x, np.ndarray) and x.ndim and x.dtype == np.float64:
        out = np.negative(x)  # one buffer, updated in place: no temporaries
        np.exp(out, out=out)
        out += 1.0
        return np.reciprocal(out, out=out)
    return 1.0 / (1.0 + np.exp(-x))


def _step(x: Any) -> Any:
    return np.greater(x, 0).astype(np.float64) if isinstance(x, np.ndarray) else float(x > 0)


def _relu(x: Any) -> Any:
    return np.maximum(x, 0.0)


#: Names the generated code refers to.
NAMESPACE: dict[str, Any] = {
    "numpy": np,
    "np": np,
    "_safe_log": _safe_log,
    "_sigmoid": _sigmoid,
    "_step": _step,
    "_relu": _relu,
}


class KernelPrinter(NumPyPrinter):
    """NumPy code for chainrule's formulas, with symbol names mapped to variable names."""

    def __init__(self, names: Mapping[sp.Symbol, str] | None = None) -> None:
        super().__init__({"fully_qualified_modules": True, "inline": True})
        self._names = dict(names or {})

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        return self._names.get(expr, expr.name)

    def _print_Dummy(self, expr: sp.Dummy) -> str:
        return self._names.get(expr, f"_d{expr.dummy_index}")

    def _print_log(self, expr: sp.log) -> str:
        return f"_safe_log({self._print(expr.args[0])})"

    def _print_sigmoid(self, expr: sp.Function) -> str:
        return f"_sigmoid({self._print(expr.args[0])})"

    def _print_step(self, expr: sp.Function) -> str:
        return f"_step({self._print(expr.args[0])})"

    def _print_relu(self, expr: sp.Function) -> str:
        return f"_relu({self._print(expr.args[0])})"

    def _print_Heaviside(self, expr: sp.Heaviside) -> str:
        return f"_step({self._print(expr.args[0])})"

    def _print_Max(self, expr: sp.Max) -> str:
        args = [self._print(a) for a in expr.args]
        code = args[0]
        for a in args[1:]:
            code = f"numpy.maximum({code}, {a})"
        return code

    def _print_Min(self, expr: sp.Min) -> str:
        args = [self._print(a) for a in expr.args]
        code = args[0]
        for a in args[1:]:
            code = f"numpy.minimum({code}, {a})"
        return code


def to_code(expr: sp.Expr, names: Mapping[sp.Symbol, str] | None = None) -> str:
    """NumPy code for ``expr``, elementwise over arrays."""
    return str(KernelPrinter(names).doprint(expr))
