"""Learning-rate schedules: eta_t as a one-step trace in the epoch (or step) t, from t = 0.

* ``constant``: eta = eta0.
* ``step``: eta = eta0 * gamma^floor(t / step_size) (PyTorch's StepLR).
* ``exponential``: eta = eta0 * exp(-k t) by default (``form="exp"``, the textbook form);
  ``form="gamma"`` writes eta0 * gamma^t (PyTorch's ExponentialLR). They agree for
  gamma = e^{-k}.
* ``inverse_time`` (1/t decay): eta = eta0 / (1 + k t).
* ``cosine_restarts`` (SGDR, Loshchilov & Hutter): eta = eta_min + 1/2 (eta_max - eta_min)
  (1 + cos(pi T_cur / T_i)). The first cycle lasts T_0 epochs, each next one T_mult times
  longer; T_cur (epochs since the last restart) and T_i (length of this cycle) are integer
  bookkeeping done in Python (:func:`sgdr_position`) and enter the trace as givens.

Every schedule prints as LaTeX and plain text, evaluates rounded-as-you-go through its trace,
and evaluates fast over a NumPy array of t (the same formula, lambdified).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from chainrule.errors import ChainruleError
from chainrule.symbolic.printing import latex, plain
from chainrule.symbolic.registry import lookup
from chainrule.symbolic.trace import Step, Trace, TraceValues, sym
from chainrule.symbolic.written import add as _add
from chainrule.symbolic.written import mul as _mul
from chainrule.symbolic.written import over as _over

__all__ = [
    "SCHEDULES",
    "TEX_NAMES",
    "Schedule",
    "ScheduleForm",
    "ScheduleInfo",
    "get_schedule",
    "sgdr_position",
]

#: LaTeX for the names schedule traces use.
TEX_NAMES: dict[str, str] = {
    "eta": r"\eta_{t}", "eta0": r"\eta_{0}", "t": "t", "gamma": r"\gamma", "k": "k",
    "step_size": "s", "eta_min": r"\eta_{\min}", "eta_max": r"\eta_{\max}",
    "T_cur": r"T_{\mathrm{cur}}", "T_i": r"T_{i}", "T_0": r"T_{0}",
    "T_mult": r"T_{\mathrm{mult}}",
}





def _cosine() -> sp.Expr:
    lo, hi = sym("eta_min"), sym("eta_max")
    cycle = sp.cos(_mul(sp.pi, sym("T_cur"), sp.Pow(sym("T_i"), -1, evaluate=False)))
    return _add(lo, _mul(sp.S.Half, _add(hi, _mul(sp.S.NegativeOne, lo)), _add(sp.S.One, cycle)))


@dataclass(frozen=True)
class ScheduleForm:
    """One way to write a schedule: its formula for eta and its parameters' defaults."""

    formula: Callable[[], sp.Expr]
    defaults: Mapping[str, float]


@dataclass(frozen=True)
class ScheduleInfo:
    """A schedule and the forms it can be written in (the first is the default)."""

    key: str
    title: str
    forms: Mapping[str, ScheduleForm]


_t, _eta0, _k, _gamma = sym("t"), sym("eta0"), sym("k"), sym("gamma")

SCHEDULES: dict[str, ScheduleInfo] = {
    info.key: info
    for info in [
        ScheduleInfo("constant", "Constant learning rate", {
            "constant": ScheduleForm(lambda: _eta0, {"eta0": 0.1})}),
        ScheduleInfo("step", "Step decay", {
            "step": ScheduleForm(
                lambda: _mul(_eta0, sp.Pow(_gamma, sp.floor(_over(_t, sym("step_size"))),
                                           evaluate=False)),
                {"eta0": 0.1, "gamma": 0.1, "step_size": 10})}),
        ScheduleInfo("exponential", "Exponential decay", {
            "exp": ScheduleForm(lambda: _mul(_eta0, sp.exp(_mul(sp.S.NegativeOne, _k, _t))),
                                {"eta0": 0.1, "k": 0.1}),
            "gamma": ScheduleForm(lambda: _mul(_eta0, sp.Pow(_gamma, _t, evaluate=False)),
                                  {"eta0": 0.1, "gamma": 0.95})}),
        ScheduleInfo("inverse_time", "1/t decay", {
            "inverse_time": ScheduleForm(lambda: _over(_eta0, _add(sp.S.One, _mul(_k, _t))),
                                         {"eta0": 0.1, "k": 0.1})}),
        ScheduleInfo("cosine_restarts", "Cosine annealing with warm restarts (SGDR)", {
            "sgdr": ScheduleForm(_cosine, {"eta_max": 0.1, "eta_min": 0.0, "T_0": 10,
                                           "T_mult": 1})}),
    ]
}

_ALIASES = {
    "step_decay": "step", "steplr": "step", "exp": "exponential", "exponential_decay":
    "exponential", "exponentiallr": "exponential", "1/t": "inverse_time", "one_over_t":
    "inverse_time", "time_based": "inverse_time", "inverse": "inverse_time", "sgdr":
    "cosine_restarts", "cosine": "cosine_restarts", "warm_restarts": "cosine_restarts",
}


def sgdr_position(t: Any, T_0: float, T_mult: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(T_cur, T_i) at epoch(s) t: epochs since the last restart, and this cycle's length."""
    t = np.asarray(t, dtype=np.float64)
    if np.any(t < 0):
        raise ChainruleError("SGDR: t must be >= 0")
    if T_mult == 1:
        return np.mod(t, T_0), np.full_like(t, float(T_0))
    t_cur, t_i = t.copy(), np.full_like(t, float(T_0))
    while np.any(over := t_cur >= t_i):
        t_cur = np.where(over, t_cur - t_i, t_cur)
        t_i = np.where(over, t_i * T_mult, t_i)
    return t_cur, t_i


class Schedule:
    """A schedule with its parameters set. Build with :func:`get_schedule`; call on t."""

    def __init__(self, info: ScheduleInfo, form: str, params: Mapping[str, float]) -> None:
        self.info, self.form = info, form
        self.params = dict(params)
        formula = info.forms[form].formula()
        uses = sorted(s.name for s in formula.free_symbols)
        givens = [p for p in self.params if p in uses] + ["t"]
        givens += [n for n in ("T_cur", "T_i") if n in uses]
        names = set(givens) | {"eta"} | set(self.params)
        self.trace = Trace(
            givens=tuple(givens),
            steps=(Step("eta", formula, "schedule", f"learning rate at t: {info.title}"),),
            tex_names={k: v for k, v in TEX_NAMES.items() if k in names},
            title=info.title,
            meta={"schedule": info.key, "form": form, "params": dict(self.params)},
        )
        self._formula = formula

    @functools.cached_property
    def _function(self) -> Any:
        """The formula compiled for arrays of t (compiled on first use: it takes ~0.1 s)."""
        return sp.lambdify([sym(g) for g in self.trace.givens], self._formula, modules="numpy")

    @property
    def key(self) -> str:
        return self.info.key

    def __repr__(self) -> str:
        extra = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"Schedule({self.key}, form={self.form}, {extra})"

    def _arrays(self, t: Any) -> dict[str, Any]:
        t = np.asarray(t, dtype=np.float64)
        values: dict[str, Any] = {**self.params, "t": t}
        if "T_cur" in self.trace.givens:
            values["T_cur"], values["T_i"] = sgdr_position(t, self.params["T_0"],
                                                           int(self.params["T_mult"]))
        return values

    def givens_at(self, t: float) -> dict[str, float]:
        """Every given of the trace at epoch t (T_cur and T_i worked out for SGDR)."""
        values = self._arrays(t)
        return {g: float(values[g]) for g in self.trace.givens}

    def __call__(self, t: Any) -> np.ndarray:
        """eta at every t of an array (or at one t), in float64."""
        values = self._arrays(t)
        if self._formula.is_Symbol:  # eta = eta0: nothing to compile
            result = values[self._formula.name]
        else:
            result = self._function(*[values[g] for g in self.trace.givens])
        return np.asarray(result, dtype=np.float64) + np.zeros_like(values["t"])

    def evaluate(self, t: float, decimals: int | None = None) -> TraceValues:
        """The trace at epoch t, exact or rounded to ``decimals`` as a student works."""
        return self.trace.evaluate(self.givens_at(t), decimals)

    def tex(self) -> str:
        """``\\eta_{t} = ...`` in LaTeX."""
        return self.trace.equation_tex("eta")

    def text(self) -> str:
        """``eta = ...`` in plain text."""
        return f"eta = {plain(self.trace['eta'].formula)}"

    def formula_tex(self) -> str:
        """The right-hand side in LaTeX."""
        return latex(self.trace["eta"].formula, self.trace.tex_names)


def _check(key: str, name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ChainruleError(f"schedule '{key}': {name} must be a number")
    if not math.isfinite(value):
        raise ChainruleError(f"schedule '{key}': {name} must be finite")
    if name in ("step_size", "T_0", "eta0", "eta_max") and not value > 0:
        raise ChainruleError(f"schedule '{key}': {name} must be > 0, not {value:g}")
    if name in ("k", "eta_min") and value < 0:
        raise ChainruleError(f"schedule '{key}': {name} must be >= 0, not {value:g}")
    if name == "gamma" and not 0 < value <= 1:
        raise ChainruleError(f"schedule '{key}': gamma must lie in (0, 1] (a decay), "
                             f"not {value:g}")
    if name == "T_mult" and (int(value) != value or value < 1):
        raise ChainruleError(f"schedule '{key}': T_mult must be a whole number >= 1")


def get_schedule(name: str, form: str | None = None, **params: float) -> Schedule:
    """The schedule ``name`` with its parameters: ``get_schedule("step", gamma=0.5)``."""
    info = lookup("schedule", name, SCHEDULES, _ALIASES)
    form = form or next(iter(info.forms))
    if form not in info.forms:
        raise ChainruleError(
            f"schedule '{info.key}': form must be one of {', '.join(info.forms)}"
        )
    defaults = info.forms[form].defaults
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise ChainruleError(
            f"schedule '{info.key}' has no parameter '{unknown[0]}'; valid: {', '.join(defaults)}"
        )
    values = {**defaults, **params}
    for key, value in values.items():
        _check(info.key, key, value)
    return Schedule(info, form, values)
