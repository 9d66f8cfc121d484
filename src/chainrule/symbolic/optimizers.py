"""Optimizer update rules as derivation traces: one parameter, one step t.

Each trace's givens are the parameter ``theta``, its gradient ``g``, the state left by the
previous step and the hyper-parameters; its steps are the new state and ``theta_new``. The
same trace is printed step by step in worked problems, evaluated rounded-as-you-go for keys,
and compiled (``chainrule.numeric.optimizers``) into an update that works elementwise on
whole parameter arrays. Conventions, with the notes' first:

* ``gd``: theta_new = theta - eta*g. SGD and mini-batch GD are the same rule; they differ
  only in which examples the gradient g is averaged over.
* ``momentum``, ``convention="notes"``: v_new = beta*v + eta*g, theta_new = theta - v_new.
  ``"torch"`` (torch.optim.SGD): v_new = beta*v + g, theta_new = theta - eta*v_new. With a
  constant eta both give the same trajectory, with v_notes = eta*v_torch.
* ``nag``, ``"notes"`` (Sutskever et al. 2013): look ahead along the velocity,
  theta_ahead = theta - beta*v, and take the gradient *there*: it is the given ``g_ahead``
  (worked examples compute it from theta_ahead first); then v_new = beta*v + eta*g_ahead,
  theta_new = theta - v_new. ``"torch"`` (SGD with nesterov=True), gradient g at theta:
  v_new = beta*v + g, theta_new = theta - eta*(g + beta*v_new). The two agree: torch's
  parameter is the notes' look-ahead point theta - beta*v, and v_notes = eta*v_torch.
* ``adagrad``: G_new = G + g^2, theta_new = theta - eta*g/(sqrt(G_new) + eps).
* ``rmsprop``: s_new = rho*s + (1 - rho)*g^2, theta_new = theta - eta*g/(sqrt(s_new) + eps).
* ``adam`` (Kingma & Ba), t counts steps from 1: m_new = beta1*m + (1 - beta1)*g,
  v_new = beta2*v + (1 - beta2)*g^2, mhat = m_new/(1 - beta1^t), vhat = v_new/(1 - beta2^t),
  theta_new = theta - eta*mhat/(sqrt(vhat) + eps).

``eps_placement="outside"`` (the default, as in PyTorch and the Adam paper) adds eps to the
square root; ``"inside"`` writes sqrt(G_new + eps) as some textbooks do. State starts at 0.
Rounded to 3 decimals, a squared-gradient average is often 0.000: use more decimals for the
adaptive optimizers in worked problems.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import sympy as sp

from chainrule.errors import ChainruleError
from chainrule.symbolic.registry import lookup
from chainrule.symbolic.trace import Step, Trace, TraceValues, round_half_up, sym
from chainrule.symbolic.written import add as _add
from chainrule.symbolic.written import minus as _minus
from chainrule.symbolic.written import mul as _mul
from chainrule.symbolic.written import over as _over

__all__ = [
    "OPTIMIZERS",
    "TEX_NAMES",
    "OptimizerInfo",
    "default_hyper",
    "get_optimizer",
    "optimizer_steps",
    "optimizer_trace",
]

#: LaTeX for every name an optimizer trace uses (time-indexed: v is v_{t-1}, v_new is v_t).
TEX_NAMES: dict[str, str] = {
    "theta": r"\theta_{t-1}", "theta_new": r"\theta_{t}", "g": r"g_{t}",
    "theta_ahead": r"\tilde{\theta}_{t}", "g_ahead": r"\tilde{g}_{t}",
    "eta": r"\eta", "beta": r"\beta", "rho": r"\rho", "eps": r"\epsilon", "t": "t",
    "beta1": r"\beta_{1}", "beta2": r"\beta_{2}",
    "v": r"v_{t-1}", "v_new": r"v_{t}", "G": r"G_{t-1}", "G_new": r"G_{t}",
    "s": r"s_{t-1}", "s_new": r"s_{t}", "m": r"m_{t-1}", "m_new": r"m_{t}",
    "mhat": r"\hat{m}_{t}", "vhat": r"\hat{v}_{t}",
}


def _square(x: sp.Expr) -> sp.Expr:
    return sp.Pow(x, 2, evaluate=False)


def _average(decay: sp.Expr, old: sp.Expr, new: sp.Expr) -> sp.Expr:
    """decay*old + (1 - decay)*new: an exponential moving average."""
    return _add(_mul(decay, old), _mul(_minus(sp.S.One, decay), new))


def _scaled_step(numerator: sp.Expr, second: sp.Expr, placement: str) -> sp.Expr:
    """theta - eta*numerator/(sqrt(second) + eps), or sqrt(second + eps) for "inside"."""
    eps = sym("eps")
    root = sp.sqrt(_add(second, eps)) if placement == "inside" else _add(sp.sqrt(second), eps)
    return _minus(sym("theta"), _over(_mul(sym("eta"), numerator), root))


# -- the rules --------------------------------------------------------------------------
def _gd(opts: Mapping[str, str]) -> list[Step]:
    return [Step("theta_new", _minus(sym("theta"), _mul(sym("eta"), sym("g"))), "update",
                 "step against the gradient")]


def _momentum(opts: Mapping[str, str]) -> list[Step]:
    theta, v, beta, eta, g = (sym(n) for n in ("theta", "v", "beta", "eta", "g"))
    if opts["convention"] == "torch":
        return [
            Step("v_new", _add(_mul(beta, v), g), "state", "velocity: decayed sum of gradients"),
            Step("theta_new", _minus(theta, _mul(eta, sym("v_new"))), "update",
                 "step against the velocity, scaled by eta"),
        ]
    return [
        Step("v_new", _add(_mul(beta, v), _mul(eta, g)), "state",
             "velocity: a fraction of the last update plus this step"),
        Step("theta_new", _minus(theta, sym("v_new")), "update", "step against the velocity"),
    ]


def _nag(opts: Mapping[str, str]) -> list[Step]:
    theta, v, beta, eta = (sym(n) for n in ("theta", "v", "beta", "eta"))
    if opts["convention"] == "torch":
        g = sym("g")
        return [
            Step("v_new", _add(_mul(beta, v), g), "state", "velocity: decayed sum of gradients"),
            Step("theta_new", _minus(theta, _mul(eta, _add(g, _mul(beta, sym("v_new"))))),
                 "update", "Nesterov step: the gradient plus the look-ahead velocity"),
        ]
    return [
        Step("theta_ahead", _minus(theta, _mul(beta, v)), "lookahead",
             "look ahead along the velocity; the gradient g_ahead is taken here"),
        Step("v_new", _add(_mul(beta, v), _mul(eta, sym("g_ahead"))), "state",
             "velocity with the look-ahead gradient"),
        Step("theta_new", _minus(theta, sym("v_new")), "update", "step against the velocity"),
    ]


def _adagrad(opts: Mapping[str, str]) -> list[Step]:
    g = sym("g")
    return [
        Step("G_new", _add(sym("G"), _square(g)), "state", "sum of squared gradients so far"),
        Step("theta_new", _scaled_step(g, sym("G_new"), opts["eps_placement"]), "update",
             "step scaled down by the root of the accumulated squares"),
    ]


def _rmsprop(opts: Mapping[str, str]) -> list[Step]:
    g = sym("g")
    return [
        Step("s_new", _average(sym("rho"), sym("s"), _square(g)), "state",
             "moving average of squared gradients"),
        Step("theta_new", _scaled_step(g, sym("s_new"), opts["eps_placement"]), "update",
             "step scaled down by the root of the average square"),
    ]


def _adam(opts: Mapping[str, str]) -> list[Step]:
    g, t = sym("g"), sym("t")
    b1, b2 = sym("beta1"), sym("beta2")

    def corrected(name: str, beta: sp.Symbol) -> sp.Expr:
        return _over(sym(name), _minus(sp.S.One, sp.Pow(beta, t, evaluate=False)))

    return [
        Step("m_new", _average(b1, sym("m"), g), "state", "first moment: average gradient"),
        Step("v_new", _average(b2, sym("v"), _square(g)), "state",
             "second moment: average squared gradient"),
        Step("mhat", corrected("m_new", b1), "correction", "bias-corrected first moment"),
        Step("vhat", corrected("v_new", b2), "correction", "bias-corrected second moment"),
        Step("theta_new", _scaled_step(sym("mhat"), sym("vhat"), opts["eps_placement"]),
             "update", "step along the average gradient, scaled by its typical size"),
    ]


# -- the registry -----------------------------------------------------------------------
_CONVENTION = ("notes", "torch")
_EPS_PLACEMENT = ("outside", "inside")


@dataclass(frozen=True)
class OptimizerInfo:
    """An update rule: its hyper-parameters with defaults, options, and state."""

    key: str
    title: str
    build: Callable[[Mapping[str, str]], list[Step]]
    #: Hyper-parameter names and default values (``t`` is not one: it is the step count).
    defaults: Mapping[str, float]
    #: Previous-state given -> the step that holds its new value.
    state: Mapping[str, str] = field(default_factory=dict)
    #: Option -> its choices, the default first.
    options: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    uses_step_count: bool = False


OPTIMIZERS: dict[str, OptimizerInfo] = {
    info.key: info
    for info in [
        OptimizerInfo("gd", "Gradient descent (batch, stochastic or mini-batch)", _gd,
                      {"eta": 0.1}),
        OptimizerInfo("momentum", "Gradient descent with momentum", _momentum,
                      {"eta": 0.1, "beta": 0.9}, {"v": "v_new"}, {"convention": _CONVENTION}),
        OptimizerInfo("nag", "Nesterov accelerated gradient", _nag,
                      {"eta": 0.1, "beta": 0.9}, {"v": "v_new"}, {"convention": _CONVENTION}),
        OptimizerInfo("adagrad", "AdaGrad", _adagrad, {"eta": 0.01, "eps": 1e-8},
                      {"G": "G_new"}, {"eps_placement": _EPS_PLACEMENT}),
        OptimizerInfo("rmsprop", "RMSprop", _rmsprop, {"eta": 0.01, "rho": 0.9, "eps": 1e-8},
                      {"s": "s_new"}, {"eps_placement": _EPS_PLACEMENT}),
        OptimizerInfo("adam", "Adam", _adam,
                      {"eta": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
                      {"m": "m_new", "v": "v_new"}, {"eps_placement": _EPS_PLACEMENT},
                      uses_step_count=True),
    ]
}

_ALIASES = {
    "sgd": "gd", "batch_gd": "gd", "mini_batch": "gd", "minibatch": "gd",
    "gradient_descent": "gd", "nesterov": "nag", "rms_prop": "rmsprop",
}


def get_optimizer(name: str) -> OptimizerInfo:
    """The optimizer called ``name`` (``sgd`` and ``mini-batch`` are ``gd``)."""
    return lookup("optimizer", name, OPTIMIZERS, _ALIASES)


def default_hyper(name: str) -> dict[str, float]:
    """The default hyper-parameters of an optimizer, e.g. {"eta": 0.001, "beta1": 0.9, ...}."""
    return dict(get_optimizer(name).defaults)


def _options(info: OptimizerInfo, options: Mapping[str, str]) -> dict[str, str]:
    unknown = sorted(set(options) - set(info.options))
    if unknown:
        valid = ", ".join(info.options) or "none"
        raise ChainruleError(f"optimizer '{info.key}' has no option '{unknown[0]}'; valid: {valid}")
    chosen = {k: choices[0] for k, choices in info.options.items()}
    for k, value in options.items():
        if value not in info.options[k]:
            raise ChainruleError(
                f"optimizer '{info.key}': {k} must be one of {', '.join(info.options[k])}"
            )
        chosen[k] = value
    return chosen


def optimizer_trace(name: str, **options: str) -> Trace:
    """The update of one parameter at one step t: ``optimizer_trace("nag", convention="torch")``.

    ``trace.meta`` names the roles: ``gradient`` (``g``, or ``g_ahead`` for the notes' NAG),
    ``state`` (old -> new), ``hyper`` and ``result`` (``theta_new``).
    """
    info = get_optimizer(name)
    return _build(info.key, tuple(sorted(_options(info, options).items())))


@cache
def _build(key: str, options: tuple[tuple[str, str], ...]) -> Trace:
    info = OPTIMIZERS[key]
    steps = info.build(dict(options))
    gradient = "g_ahead" if any(s.name == "theta_ahead" for s in steps) else "g"
    hyper = tuple(info.defaults)
    givens = ("theta", gradient, *info.state, *hyper) + (("t",) if info.uses_step_count else ())
    names = set(givens) | {s.name for s in steps}
    variant = ", ".join(f"{k}={v}" for k, v in options)
    return Trace(
        givens=givens,
        steps=tuple(steps),
        tex_names={k: v for k, v in TEX_NAMES.items() if k in names},
        title=info.title + (f" ({variant})" if variant else ""),
        meta={"optimizer": key, "options": dict(options), "parameter": "theta",
              "gradient": gradient, "state": dict(info.state), "hyper": hyper,
              "result": "theta_new"},
    )


# -- a few steps by hand ----------------------------------------------------------------
def _rounded(value: float, decimals: int | None) -> float:
    return float(value) if decimals is None else float(round_half_up(value, decimals))


def optimizer_steps(
    name: str,
    grad_fn: Callable[[Any], Any],
    theta0: float | Sequence[float],
    steps: int,
    hyper: Mapping[str, float] | None = None,
    *,
    decimals: int | None = None,
    **options: str,
) -> list[list[TraceValues]]:
    """Run ``steps`` updates from ``theta0``, as a worked example does.

    ``grad_fn`` maps the parameters (a float, or a tuple for several) to the gradient (a
    float, or one per parameter); for the notes' NAG it is called at the look-ahead point.
    ``result[k][i]`` holds every value of step t = k + 1 for parameter i. With ``decimals``
    each value, gradients included, is rounded as it is written down.
    """
    trace = optimizer_trace(name, **options)
    meta = trace.meta
    values = default_hyper(name)
    unknown = sorted(set(hyper or {}) - set(values))
    if unknown:
        raise ChainruleError(f"optimizer '{name}' has no hyper-parameter '{unknown[0]}'")
    values.update(hyper or {})
    scalar = not isinstance(theta0, Iterable)
    thetas = [float(x) for x in theta0] if isinstance(theta0, Iterable) else [float(theta0)]
    states = [dict.fromkeys(meta["state"], 0.0) for _ in thetas]

    def gradient(at: list[float]) -> list[float]:
        result = grad_fn(at[0] if scalar else tuple(at))
        return [_rounded(x, decimals) for x in ([result] if scalar else result)]

    history: list[list[TraceValues]] = []
    for t in range(1, steps + 1):
        base = [{"theta": th, **st, **values, "t": t} for th, st in zip(thetas, states,
                                                                         strict=True)]
        if "theta_ahead" in trace:
            at = [_rounded(trace.evaluate_step("theta_ahead", b), decimals) for b in base]
        else:
            at = thetas
        for b, g in zip(base, gradient(at), strict=True):
            b[meta["gradient"]] = g
        row = [trace.evaluate(b, decimals) for b in base]
        thetas = [r["theta_new"] for r in row]
        states = [{old: r[new] for old, new in meta["state"].items()} for r in row]
        history.append(row)
    return history
