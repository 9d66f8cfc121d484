"""Elementwise formulas as NumPy code that writes into buffers made once (``out=``).

:func:`to_code` prints a formula as one NumPy expression, which allocates a new array for
every operation it performs. For the layer kernels, which run the same formulas on the same
batch shapes step after step, :class:`InplaceWriter` prints a formula as a sequence of ufunc
calls, each writing into the target buffer or a scratch buffer of the same shape: no array
is allocated per call. Functions it does not know are printed by :func:`to_code` and copied
into the target (correct, with that one temporary).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import sympy as sp

from chainrule.numeric.printer import to_code
from chainrule.symbolic.trace import PROB_EPS

__all__ = ["InplaceWriter"]

# One-argument functions and the ufunc calls that compute them from ``x`` into ``out``.
_UNARY: dict[str, Callable[[str, str], list[str]]] = {
    "exp": lambda x, o: [f"numpy.exp({x}, out={o})"],
    "tanh": lambda x, o: [f"numpy.tanh({x}, out={o})"],
    "Abs": lambda x, o: [f"numpy.absolute({x}, out={o})"],
    "sign": lambda x, o: [f"numpy.sign({x}, out={o})"],
    "log": lambda x, o: [f"numpy.maximum({x}, {PROB_EPS!r}, out={o})",
                         f"numpy.log({o}, out={o})"],
    "sigmoid": lambda x, o: [f"numpy.negative({x}, out={o})", f"numpy.exp({o}, out={o})",
                             f"numpy.add({o}, 1.0, out={o})",
                             f"numpy.reciprocal({o}, out={o})"],
    "relu": lambda x, o: [f"numpy.maximum({x}, 0.0, out={o})"],
    "step": lambda x, o: [f"numpy.greater({x}, 0.0, out={o})"],
    "Heaviside": lambda x, o: [f"numpy.greater({x}, 0.0, out={o})"],
}


class InplaceWriter:
    """Prints formulas over arrays of one shape as ufunc calls into named buffers.

    ``names`` maps symbols to the variables holding them; ``scratch(i)`` names the i-th
    scratch buffer (of the target's shape). After :meth:`write`, ``lines`` holds the code
    and ``scratch_used`` how many scratch buffers it needs.
    """

    def __init__(self, names: Mapping[sp.Symbol, str], scratch: Callable[[int], str]) -> None:
        self.names = dict(names)
        self.scratch = scratch
        self.lines: list[str] = []
        self.scratch_used = 0
        self._free: list[str] = []
        self._count = 0

    def write(self, expr: sp.Expr, target: str, in_place: bool = False) -> list[str]:
        """Code that leaves ``expr`` in the buffer ``target`` (not among its inputs).

        With ``in_place`` the target may be the one input of a one-argument function this
        writer knows (``sigmoid(z)`` into z's buffer): each of those reads its argument only
        in its first call, element by element, so overwriting it is safe.
        """
        self.lines = []
        if str(target) in {self.names.get(s) for s in expr.free_symbols} and not (
                in_place and self.overwrites_safely(expr, target)):
            raise ValueError(f"{target} is an input of the formula it would receive")
        self._emit(expr, target)
        return self.lines

    def overwrites_safely(self, expr: sp.Expr, target: str) -> bool:
        """Whether ``expr`` may be written over its input ``target`` (see :meth:`write`)."""
        return (isinstance(expr, sp.Function) and type(expr).__name__ in _UNARY
                and len(expr.args) == 1 and expr.args[0].is_Symbol
                and self.names.get(expr.args[0], expr.args[0].name) == str(target))

    # -- buffers ------------------------------------------------------------------------------
    def _take(self) -> str:
        if self._free:
            return self._free.pop()
        name = self.scratch(self._count)
        self._count += 1
        self.scratch_used = max(self.scratch_used, self._count)
        return name

    def _is_scratch(self, name: str) -> bool:
        return any(name == self.scratch(i) for i in range(self._count))

    # -- printing -----------------------------------------------------------------------------
    def _operand(self, expr: sp.Expr) -> str:
        """A name or literal holding ``expr``: symbols and numbers as they are, else scratch."""
        if expr.is_Symbol:
            return self.names.get(expr, expr.name)
        if expr.is_Number:
            return repr(float(expr))
        out = self._take()
        self._emit(expr, out)
        return out

    def _release(self, name: str) -> None:
        if self._is_scratch(name) and name not in self._free:
            self._free.append(name)

    def _emit(self, expr: sp.Expr, out: str) -> None:
        lines = self.lines
        if expr.is_Symbol or expr.is_Number:
            lines.append(f"numpy.copyto({out}, {self._operand(expr)})")
        elif expr.is_Add:
            self._chain(expr.args, out, "add", "subtract")
        elif expr.is_Mul:
            self._mul(expr, out)
        elif expr.is_Pow:
            self._pow(expr, out)
        elif isinstance(expr, sp.Function) and len(expr.args) == 1 and (
                type(expr).__name__ in _UNARY):
            x = self._operand(expr.args[0])
            lines.extend(_UNARY[type(expr).__name__](x, out))
            self._release(x)
        elif isinstance(expr, (sp.Max, sp.Min)):
            ufunc = "maximum" if isinstance(expr, sp.Max) else "minimum"
            self._chain(expr.args, out, ufunc, None)
        else:  # not known here: one temporary, copied in
            names = {s: self.names.get(s, s.name) for s in expr.free_symbols}
            lines.append(f"numpy.copyto({out}, {to_code(expr, names)})")

    def _chain(self, args: tuple[sp.Expr, ...], out: str, ufunc: str, inverse: str | None
               ) -> None:
        """``out = a0 (op) a1 (op) ...``; with ``inverse``, ``-x`` terms are subtracted."""
        terms = []
        for arg in args:
            negated = inverse is not None and arg.could_extract_minus_sign()
            terms.append((-arg if negated else arg, negated))
        # Start from a term that is not subtracted, so that every step is one call.
        first = next((i for i, (_, neg) in enumerate(terms) if not neg), None)
        if first is None:
            head, rest = terms[0][0], terms[1:]
            x = self._operand(head)
            self.lines.append(f"numpy.negative({x}, out={out})")
            self._release(x)
        else:
            head, rest = terms[first][0], terms[:first] + terms[first + 1:]
            if head.is_Symbol or head.is_Number:
                acc = self._operand(head)
            else:
                self._emit(head, out)
                acc = out
            if not rest:
                if acc != out:
                    self.lines.append(f"numpy.copyto({out}, {acc})")
                return
            term, neg = rest[0]
            if acc != out and not (term.is_Symbol or term.is_Number):
                # The head is a name: work the next term out in the target itself, then
                # combine in the same order (the same numbers, one scratch buffer fewer).
                self._emit(term, out)
                y = out
            else:
                y = self._operand(term)
            self.lines.append(f"numpy.{inverse if neg else ufunc}({acc}, {y}, out={out})")
            if y != out:
                self._release(y)
            rest = rest[1:]
        for term, neg in rest:
            y = self._operand(term)
            self.lines.append(f"numpy.{inverse if neg else ufunc}({out}, {y}, out={out})")
            self._release(y)

    def _mul(self, expr: sp.Mul, out: str) -> None:
        coeff, factors = expr.as_coeff_mul()
        numer = [f for f in factors if not (f.is_Pow and f.exp.is_Number and f.exp < 0)]
        denom = [sp.Pow(f.base, -f.exp) for f in factors if f not in numer]
        if not numer:
            numer = [sp.S.One]
        if denom and numer == [sp.S.One]:  # c / d: the number is the numerator
            numer, coeff = [coeff], sp.S.One
        # numerator product into out, then divide by each denominator factor
        if coeff == 1 and denom and len(numer) == 1 and (numer[0].is_Symbol
                                                         or numer[0].is_Number):
            # x / d: one division, d worked out in the target when it is a formula
            x, first = self._operand(numer[0]), denom[0]
            if first.is_Symbol or first.is_Number:
                y = self._operand(first)
            else:
                self._emit(first, out)
                y = out
            self.lines.append(f"numpy.divide({x}, {y}, out={out})")
            for d in denom[1:]:
                y = self._operand(d)
                self.lines.append(f"numpy.divide({out}, {y}, out={out})")
                self._release(y)
            return
        if coeff == -1:
            self._product(numer, out)
            self.lines.append(f"numpy.negative({out}, out={out})")
        else:
            self._product(numer, out)
            if coeff != 1:
                self.lines.append(f"numpy.multiply({out}, {float(coeff)!r}, out={out})")
        for d in denom:
            y = self._operand(d)
            self.lines.append(f"numpy.divide({out}, {y}, out={out})")
            self._release(y)

    def _product(self, factors: list[sp.Expr], out: str) -> None:
        if len(factors) == 1:
            f = factors[0]
            if f.is_Symbol or f.is_Number:
                self.lines.append(f"numpy.copyto({out}, {self._operand(f)})")
            else:
                self._emit(f, out)
            return
        self._chain(tuple(factors), out, "multiply", None)

    def _pow(self, expr: sp.Pow, out: str) -> None:
        base, exp = expr.base, expr.exp
        x = self._operand(base)
        if exp == 2:
            self.lines.append(f"numpy.square({x}, out={out})")
        elif exp == -1:
            self.lines.append(f"numpy.reciprocal({x}, out={out})")
        elif exp == sp.Rational(1, 2):
            self.lines.append(f"numpy.sqrt({x}, out={out})")
        else:
            e = self._operand(exp)
            self.lines.append(f"numpy.power({x}, {e}, out={out})")
            self._release(e)
        self._release(x)
