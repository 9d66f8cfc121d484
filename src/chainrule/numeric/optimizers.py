"""Optimizer updates for whole parameter arrays, compiled from the symbolic update traces.

The trace of ``chainrule.symbolic.optimizers`` updates one scalar parameter; compiled with
:func:`~chainrule.numeric.kernels.compile_trace` the same formulas broadcast over arrays, so
one kernel call updates every element of a weight matrix. Training keeps the state (``v``,
``G``, ``s``, ``m`` ...) as one array per parameter array, starting at zero.

For a training loop, :func:`compile_inplace` prints the same trace as ufunc calls that write
into buffers the caller made once (``out=``): what depends only on numbers (``1 - beta1**t``,
``-eta``) is worked out once per call as a number, and a step allocates no array.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from chainrule.errors import ChainruleError
from chainrule.numeric.inplace import InplaceWriter
from chainrule.numeric.kernels import TraceKernel, compile_trace, structure_key
from chainrule.numeric.printer import NAMESPACE, to_code
from chainrule.symbolic.optimizers import default_hyper, optimizer_trace
from chainrule.symbolic.trace import Trace, sym

__all__ = ["InplaceUpdate", "State", "UpdateKernel", "compile_inplace", "update_kernel"]

#: State name (``v``, ``m`` ...) -> one array per parameter array.
State = dict[str, list[np.ndarray]]


@dataclass
class UpdateKernel:
    """``kernel(params, grads, state, hyper, t) -> (new_params, new_state)`` for one optimizer.

    ``hyper`` overrides the optimizer's defaults; ``t`` counts steps from 1 (Adam uses it).
    For the notes' NAG the gradients must be taken at :meth:`lookahead` points.
    """

    trace: Trace
    kernel: TraceKernel
    lookahead_kernel: TraceKernel | None
    defaults: dict[str, float]

    @property
    def state_names(self) -> tuple[str, ...]:
        return tuple(self.trace.meta["state"])

    def inplace(self) -> InplaceUpdate:
        """The update as code into buffers: theta, the gradient and the state in, then
        theta_new and each new state (in :attr:`state_names` order) out."""
        meta = self.trace.meta
        return compile_inplace(self.trace, ("theta", meta["gradient"], *self.state_names),
                               ("theta_new", *(meta["state"][s] for s in self.state_names)))

    def inplace_lookahead(self) -> InplaceUpdate | None:
        """The look-ahead point theta - beta*v as code into a buffer (None without one)."""
        if self.lookahead_kernel is None:
            return None
        return compile_inplace(self.trace, ("theta", "v"), ("theta_ahead",))

    def init_state(self, params: Sequence[np.ndarray]) -> State:
        """Zero state for every parameter array."""
        return {s: [np.zeros(np.shape(p)) for p in params] for s in self.state_names}

    def hyper(self, hyper: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The defaults updated by ``hyper``; an unknown name is an error (``lr`` is ``eta``)."""
        unknown = sorted(set(hyper or {}) - set(self.defaults))
        if unknown:
            raise ChainruleError(
                f"optimizer '{self.trace.meta['optimizer']}' has no hyper-parameter "
                f"'{unknown[0]}'; valid: {', '.join(self.defaults)}"
            )
        return {**self.defaults, **(hyper or {})}

    def lookahead(
        self,
        params: Sequence[np.ndarray],
        state: State | None = None,
        hyper: Mapping[str, Any] | None = None,
    ) -> list[np.ndarray]:
        """Where the notes' NAG takes its gradients: theta - beta*v (theta itself otherwise)."""
        if self.lookahead_kernel is None:
            return [np.array(p, dtype=np.float64) for p in params]
        state = state if state is not None else self.init_state(params)
        values = self.hyper(hyper)
        return [
            np.array(self.lookahead_kernel({"theta": p, "v": v, "beta": values["beta"]})
                     ["theta_ahead"])
            for p, v in zip(params, state["v"], strict=True)
        ]

    def __call__(
        self,
        params: Sequence[np.ndarray],
        grads: Sequence[np.ndarray],
        state: State | None = None,
        hyper: Mapping[str, Any] | None = None,
        t: int = 1,
    ) -> tuple[list[np.ndarray], State]:
        """One step for every parameter array: the new arrays and the new state."""
        if len(params) != len(grads):
            raise ValueError(f"{len(params)} parameter arrays but {len(grads)} gradients")
        state = state if state is not None else self.init_state(params)
        meta = self.trace.meta
        common = {**self.hyper(hyper), "t": t}
        new_params: list[np.ndarray] = []
        new_state: State = {s: [] for s in self.state_names}
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            if np.shape(p) != np.shape(g):
                raise ValueError(f"parameter {i} has shape {np.shape(p)}, its gradient "
                                 f"{np.shape(g)}")
            givens = {"theta": p, meta["gradient"]: g, **common}
            givens.update({s: state[s][i] for s in self.state_names})
            out = self.kernel(givens)
            new_params.append(np.array(out["theta_new"]))
            for old, new in meta["state"].items():
                new_state[old].append(np.array(out[new]))
        return new_params, new_state


@dataclass
class InplaceUpdate:
    """A trace printed as code that writes into buffers: no array is made per call.

    ``function(*arrays, *outputs, *scratch, *numbers)`` takes the arrays named
    ``array_givens``, then one buffer per name in ``results`` (each receives that step's
    value; none may be an input), ``n_scratch`` buffers of the same shape, and the numbers
    named ``number_givens``; it returns nothing.
    """

    source: str
    function: Any
    array_givens: tuple[str, ...]
    results: tuple[str, ...]
    n_scratch: int
    number_givens: tuple[str, ...]


_INPLACE: dict[tuple[Any, ...], InplaceUpdate] = {}


def compile_inplace(trace: Trace, arrays: Sequence[str], results: Sequence[str]
                    ) -> InplaceUpdate:
    """The steps of ``trace`` that ``results`` need, as ufunc calls into buffers (cached).

    ``arrays`` names the givens that are arrays (all of one shape); the other givens are
    numbers. A step that depends on numbers only is computed as a number; every other
    step is written into its result buffer or a scratch buffer.
    """
    key = (structure_key(trace), tuple(arrays), tuple(results))
    if key in _INPLACE:
        return _INPLACE[key]
    needed: set[str] = set()
    for step in reversed(trace.steps):
        if step.name in results or step.name in needed:
            needed.update(step.dependencies)
            needed.add(step.name)
    steps = [s for s in trace.steps if s.name in needed]
    numbers = tuple(g for g in trace.givens if g not in arrays and g in needed)
    names: dict[sp.Symbol, str] = {sym(g): g for g in trace.givens}
    scalar_symbols = {sym(g) for g in numbers}
    lines: list[str] = []
    kept: list[str] = []  # buffers holding steps that are not results
    scratch: list[str] = []
    writer = InplaceWriter(names, lambda i: _grow(scratch, f"S{i}", i))

    def number(expr: sp.Expr) -> sp.Symbol:
        k = sp.Symbol(f"_k{len(lines)}")
        lines.append(f"    {k.name} = {to_code(expr, names)}")
        names[k] = k.name
        return k

    def hoist(expr: sp.Expr) -> sp.Expr:
        """``expr`` with each largest part that depends on numbers only made one number."""
        if expr.is_Atom:
            return expr
        if expr.free_symbols <= scalar_symbols:
            return number(expr)
        if not (expr.is_Add or expr.is_Mul):
            return expr.func(*(hoist(a) for a in expr.args))
        plain = [a for a in expr.args if a.free_symbols <= scalar_symbols]
        rest = [hoist(a) for a in expr.args if a not in plain]
        if expr.is_Mul:  # number divisors stay divisors: m/(1 - b**t), not m*(1/(...))
            divisors = [a for a in plain if a.is_Pow and a.exp.is_Number and a.exp < 0]
            plain = [a for a in plain if a not in divisors]
            rest += [sp.Pow(a.base if a.base.is_Atom else number(a.base), a.exp)
                     for a in divisors]
        if len(plain) > 1 or (plain and not plain[0].is_Atom):
            plain = [number(expr.func(*plain))]
        return expr.func(*plain, *rest)

    for step in steps:
        expr = step.evaluation_formula
        target = step.name
        if expr.free_symbols <= scalar_symbols:
            lines.append(f"    {target} = {to_code(expr, names)}")
            scalar_symbols.add(step.symbol)
            names[step.symbol] = target
            continue
        if target not in results:
            kept.append(target)
        names[step.symbol] = target
        lines += [f"    {line}" for line in writer.write(hoist(expr), target)]
    missing = [r for r in results if r not in names.values() or sym(r) in scalar_symbols]
    if missing:
        raise ValueError(f"results {missing} are not array steps of the trace")
    buffers = [*arrays, *results, *kept, *scratch, *numbers]
    source = (f"def inplace_update({', '.join(buffers)}):\n" + "\n".join(lines)
              + "\n    return None\n")
    namespace = dict(NAMESPACE)
    exec(compile(source, "<chainrule in-place update>", "exec"), namespace)
    code = InplaceUpdate(source, namespace["inplace_update"], tuple(arrays), tuple(results),
                         len(kept) + len(scratch), numbers)
    _INPLACE[key] = code
    return code


def _grow(names: list[str], name: str, i: int) -> str:
    if i == len(names):
        names.append(name)
    return name


def update_kernel(name: str, **options: str) -> UpdateKernel:
    """The array update of optimizer ``name``: ``update_kernel("momentum", convention="torch")``."""
    trace = optimizer_trace(name, **options)
    ahead = None
    if "theta_ahead" in trace:
        step = trace["theta_ahead"]
        ahead = compile_trace(Trace(givens=step.dependencies, steps=(step,)))
    return UpdateKernel(trace, compile_trace(trace), ahead, default_hyper(name))
