"""Evaluating a trace for many sets of givens at once, exactly and rounded as a student goes.

The exact chain is the compiled trace kernel in float64. The rounded chain computes each step
from the rounded values of earlier steps and rounds half away from zero; it runs in float64
over the whole batch, and any value within a hair of a rounding tie (0.71449999... for the
exact 0.7145) is recomputed in 50-digit arithmetic by the trace itself, so ties break as they
do on paper. The result equals :meth:`Trace.evaluate` element for element.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import numpy as np
import sympy as sp

from chainrule.numeric.kernels import compile_trace
from chainrule.numeric.printer import NAMESPACE, to_code
from chainrule.symbolic.trace import Trace, round_half_up

__all__ = ["evaluate_exact", "evaluate_rounded", "round_array"]

_TIE_TOLERANCE = 1e-9


def evaluate_exact(trace: Trace, givens: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Every step for a batch of givens, unrounded (float64)."""
    return compile_trace(trace)(givens)


def round_array(values: np.ndarray, decimals: int) -> tuple[np.ndarray, np.ndarray]:
    """Round half away from zero; also return where a value sits within a hair of a tie."""
    scale = 10.0**decimals
    scaled = np.abs(values) * scale
    floor = np.floor(scaled)
    frac = scaled - floor
    near_tie = np.abs(frac - 0.5) <= _TIE_TOLERANCE * np.maximum(1.0, scaled)
    rounded = np.sign(values) * np.floor(scaled + 0.5) / scale + 0.0
    return rounded, near_tie


def _step_function(trace: Trace, name: str) -> Callable[..., Any]:
    # Cached on the trace itself: a cache keyed by id(trace) hands a new trace that reuses a
    # freed trace's id the old trace's functions.
    key = f"evaluate:{name}"
    fn = trace.cache.get(key)
    if fn is None:
        step = trace[name]
        args = ", ".join(step.dependencies)
        source = f"def _f({args}):\n    return {to_code(step.evaluation_formula)}\n"
        namespace = dict(NAMESPACE)
        exec(compile(source, f"<chainrule step {name}>", "exec"), namespace)
        fn = trace.cache[key] = namespace["_f"]
    return fn  # type: ignore[no-any-return]


def _is_rational(trace: Trace, name: str) -> bool:
    """Whether a step is built from + - * / and whole powers only (exact on decimals)."""
    key = f"rational:{name}"
    found = trace.cache.get(key)
    if found is None:
        expr = trace[name].evaluation_formula
        found = not expr.atoms(sp.Function) and all(
            p.exp.is_Integer for p in expr.atoms(sp.Pow)
        ) and not expr.has(sp.Piecewise)
        trace.cache[key] = found
    return bool(found)


def evaluate_rounded(
    trace: Trace,
    givens: Mapping[str, Any],
    decimals: int,
    unrounded: dict[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Every step for a batch of givens, each computed from rounded earlier values, rounded.

    If ``unrounded`` is a dict, it receives each step's value before its own rounding.
    """
    arrays = {g: np.asarray(givens[g], dtype=np.float64) for g in trace.givens}
    shape = np.broadcast_shapes(*(a.shape for a in arrays.values())) if arrays else ()
    current: dict[str, np.ndarray] = {g: np.broadcast_to(a, shape) for g, a in arrays.items()}
    with np.errstate(over="ignore", divide="ignore", invalid="ignore", under="ignore"):
        for step in trace.steps:
            fn = _step_function(trace, step.name)
            raw = np.broadcast_to(
                np.asarray(fn(*[current[d] for d in step.dependencies]), dtype=np.float64), shape
            )
            rounded, near_tie = round_array(raw, decimals)
            rounded = np.array(rounded, dtype=np.float64, copy=True)
            rational = _is_rational(trace, step.name)
            for index in zip(*np.nonzero(near_tie), strict=True):
                exact: Any = None
                if rational:
                    # Sums, products and quotients of decimals: exact in decimal arithmetic.
                    args = [Decimal(repr(float(current[d][index]))) for d in step.dependencies]
                    try:
                        exact = fn(*args)
                    except TypeError:  # a float constant in the code (1/2): use mpmath
                        exact = None
                if exact is None:
                    values = {d: float(current[d][index]) for d in step.dependencies}
                    exact = trace._evaluate_step_mp(step.name, values)
                rounded[index] = float(round_half_up(exact, decimals))
            current[step.name] = rounded
            if unrounded is not None:
                unrounded[step.name] = raw
    return current
