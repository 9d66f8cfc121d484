"""Kernels: a trace compiled once into one NumPy function, evaluated over a batch of givens.

A trace is already a program without common subexpressions (each step names a value that
later steps reuse), so its kernel is straight-line code, one assignment per step, with
``sympy.cse`` applied across the steps' formulas for what they still share. Kernels are
cached per structure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from chainrule.numeric.printer import NAMESPACE, to_code
from chainrule.symbolic.trace import Trace

__all__ = ["TraceKernel", "compile_trace", "structure_key"]

_CACHE: dict[tuple[Any, ...], TraceKernel] = {}


def structure_key(trace: Trace) -> tuple[Any, ...]:
    """A key that is equal for traces of the same structure (same steps and formulas)."""
    return (trace.givens, tuple((s.name, s.evaluation_formula) for s in trace.steps))


@dataclass
class TraceKernel:
    """A compiled trace: call with arrays (or numbers) for the givens, get every step."""

    givens: tuple[str, ...]
    names: tuple[str, ...]
    source: str
    function: Any

    def __call__(self, givens: Mapping[str, Any]) -> dict[str, np.ndarray]:
        missing = [g for g in self.givens if g not in givens]
        if missing:
            raise KeyError(f"missing givens: {', '.join(missing)}")
        args = [np.asarray(givens[g], dtype=np.float64) for g in self.givens]
        shape = np.broadcast_shapes(*(a.shape for a in args)) if args else ()
        with np.errstate(over="ignore", divide="ignore", invalid="ignore", under="ignore"):
            values = self.function(*args)
        result: dict[str, np.ndarray] = {}
        for name, value in zip((*self.givens, *self.names), (*args, *values), strict=True):
            array = np.asarray(value, dtype=np.float64)
            result[name] = array if array.shape == shape else np.broadcast_to(array, shape)
        return result


def _identifier(name: str) -> str:
    return name if name.isidentifier() else "v_" + "".join(c if c.isalnum() else "_" for c in name)


def compile_trace(trace: Trace, *, cse: bool = True) -> TraceKernel:
    """Compile ``trace`` into a NumPy function over all of its givens (cached by structure)."""
    local = trace.cache.get(f"kernel:{cse}")
    if local is not None:
        return local  # type: ignore[no-any-return]
    key = (structure_key(trace), cse)
    cached = _CACHE.get(key)
    if cached is not None:
        trace.cache[f"kernel:{cse}"] = cached
        return cached
    names = {s.symbol: _identifier(s.name) for s in trace.steps}
    from chainrule.symbolic.trace import sym

    names.update({sym(g): _identifier(g) for g in trace.givens})
    formulas = [s.evaluation_formula for s in trace.steps]
    lines: list[str] = []
    pending: dict[sp.Symbol, sp.Expr] = {}
    if cse:
        # Steps already name the values later steps share; only formulas with functions
        # (a softmax's exponentials and maximum) repeat work worth factoring out.
        shared = [i for i, f in enumerate(formulas) if f.has(sp.exp, sp.log, sp.Max, sp.Min)]
        if shared:
            replacements, reduced = sp.cse([formulas[i] for i in shared],
                                           symbols=sp.numbered_symbols("_c"), order="none")
            pending = dict(replacements)
            for i, f in zip(shared, reduced, strict=True):
                formulas[i] = f

    def emit(expr: sp.Expr) -> None:
        # A shared subexpression is written just before the first step that uses it.
        for tmp in sorted(expr.free_symbols & pending.keys(), key=lambda s: int(s.name[2:])):
            if tmp in pending:
                sub = pending.pop(tmp)
                emit(sub)
                names[tmp] = tmp.name
                lines.append(f"    {tmp.name} = {to_code(sub, names)}")

    for step, expr in zip(trace.steps, formulas, strict=True):
        emit(expr)
        lines.append(f"    {names[step.symbol]} = {to_code(expr, names)}")
    args = ", ".join(_identifier(g) for g in trace.givens)
    result = ", ".join(names[s.symbol] for s in trace.steps)
    source = f"def trace_kernel({args}):\n" + "\n".join(lines) + f"\n    return ({result},)\n"
    namespace = dict(NAMESPACE)
    exec(compile(source, "<chainrule trace kernel>", "exec"), namespace)
    kernel = TraceKernel(tuple(trace.givens), trace.names, source, namespace["trace_kernel"])
    _CACHE[key] = trace.cache[f"kernel:{cse}"] = kernel
    return kernel


def evaluate_batch(trace: Trace, givens: Mapping[str, Sequence[float] | np.ndarray]) -> dict[
    str, np.ndarray
]:
    """Every step of ``trace`` for a batch of givens (one entry per example or variant)."""
    return compile_trace(trace)(givens)


__all__ += ["evaluate_batch"]
