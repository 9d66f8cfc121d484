"""Optimizer updates for whole parameter arrays, compiled from the symbolic update traces.

The trace of ``chainrule.symbolic.optimizers`` updates one scalar parameter; compiled with
:func:`~chainrule.numeric.kernels.compile_trace` the same formulas broadcast over arrays, so
one kernel call updates every element of a weight matrix. Training keeps the state (``v``,
``G``, ``s``, ``m`` ...) as one array per parameter array, starting at zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from chainrule.errors import ChainruleError
from chainrule.numeric.kernels import TraceKernel, compile_trace
from chainrule.symbolic.optimizers import default_hyper, optimizer_trace
from chainrule.symbolic.trace import Trace

__all__ = ["State", "UpdateKernel", "update_kernel"]

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


def update_kernel(name: str, **options: str) -> UpdateKernel:
    """The array update of optimizer ``name``: ``update_kernel("momentum", convention="torch")``."""
    trace = optimizer_trace(name, **options)
    ahead = None
    if "theta_ahead" in trace:
        step = trace["theta_ahead"]
        ahead = compile_trace(Trace(givens=step.dependencies, steps=(step,)))
    return UpdateKernel(trace, compile_trace(trace), ahead, default_hyper(name))
