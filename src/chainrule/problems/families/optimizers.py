"""Optimizers and learning-rate schedules worked by hand, over a few steps or epochs.

``optimizer_steps`` (code ``op``): two or three steps of gradient descent, momentum, NAG,
AdaGrad, RMSprop or Adam on a quadratic whose gradient a student computes by hand,
f(theta) = a*(theta - c)^2 (``quadratic1d``) or f = a1*(theta1 - c1)^2 + a2*(theta2 - c2)^2
(``bowl2d``). The whole run is one trace: the one-step trace of
:func:`chainrule.symbolic.optimizers.optimizer_trace` chained t = 1..T, its names given the
step number, with the gradient a step of its own computed from the current parameter. Names
(one parameter; with two, the parameter's number goes before the underscore, ``theta2_1``):

* givens ``a``, ``c``, the start ``theta_0``, the optimizer state ``v_0``/``G_0``/``s_0``/
  ``m_0`` (all 0) and the hyper-parameters (``eta``, ``beta``, ``rho``, ``beta1``, ...);
* per step t: ``g_t`` = 2*a*(theta_{t-1} - c) (the notes' NAG: ``theta_ahead_t`` first,
  then ``g_ahead_t`` at it), the new state ``v_t``/``G_t``/``s_t``/``m_t``, Adam's
  ``mhat_t`` and ``vhat_t``, and ``theta_t``.

``lr_schedule`` (code ``ls``): the learning rate of step decay, exponential decay, 1/t decay
or SGDR at three or four epochs. One trace with a step ``eta_<t>`` per epoch asked, each the
formula of :mod:`chainrule.symbolic.schedules`; the epoch is a given ``t_<t>`` (printed t),
and for SGDR ``T_i_<t>`` and ``T_cur_<t>`` are steps before it (from the restarts so far,
``k_<t>``, worked out from t, T_0 and T_mult).

Numbers are drawn to be good by hand: one-decimal starts and centres, first gradients of
size 0.5 to 3, textbook betas, rho and eps, and every value big enough to keep its
significant digits at the decimals the family needs (``min_decimals``: 3 for GD, momentum
and NAG, 4 for AdaGrad and RMSprop, 5 for Adam; 4 for the schedules).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import numpy as np
import sympy as sp

from chainrule.errors import ChainruleError
from chainrule.problems.base import Draft, Family, Option, register
from chainrule.symbolic.optimizers import OPTIMIZERS, get_optimizer, optimizer_trace
from chainrule.symbolic.printing import format_number, latex
from chainrule.symbolic.schedules import get_schedule
from chainrule.symbolic.trace import Step, Trace, sym
from chainrule.symbolic.written import minus as _minus
from chainrule.symbolic.written import mul as _mul

__all__ = [
    "LrScheduleFamily",
    "OptimizerStepsFamily",
    "optimizer_run_trace",
    "rename",
    "schedule_epochs_trace",
]


def rename(expr: sp.Expr, mapping: Mapping[sp.Basic, sp.Expr]) -> sp.Expr:
    """``expr`` with names replaced, keeping its written (unevaluated) form and order.

    ``xreplace`` would re-evaluate sums and products and so reorder them.
    """
    found = mapping.get(expr)
    if found is not None:
        return found
    if not expr.args:
        return expr
    args = [rename(a, mapping) for a in expr.args]
    if isinstance(expr, (sp.Add, sp.Mul, sp.Pow)):
        return expr.func(*args, evaluate=False)
    return expr.func(*args)





# == optimizer_steps ==========================================================================
OPTIMIZER_KEYS = ("gd", "momentum", "nag", "adagrad", "rmsprop", "adam")
MODELS = ("quadratic1d", "bowl2d")
_MODEL_TITLES = {"quadratic1d": "a one-parameter quadratic",
                 "bowl2d": "a two-parameter quadratic bowl"}
_STEP_WORDS = {2: "two", 3: "three"}

#: Hyper-parameters drawn. Textbook betas, rho and eps; learning rates big enough that a
#: few steps move the parameter visibly (Adam and RMSprop step by about eta and 3*eta).
_HYPER_CHOICES: dict[str, dict[str, tuple[float, ...]]] = {
    "gd": {"eta": (0.05, 0.1, 0.2)},
    "momentum": {"eta": (0.05, 0.1), "beta": (0.5, 0.8, 0.9)},
    "nag": {"eta": (0.05, 0.1), "beta": (0.5, 0.8, 0.9)},
    "adagrad": {"eta": (0.1, 0.2, 0.5), "eps": (1e-8,)},
    "rmsprop": {"eta": (0.01, 0.05, 0.1), "rho": (0.9,), "eps": (1e-8,)},
    "adam": {"eta": (0.05, 0.1, 0.2), "beta1": (0.9,), "beta2": (0.999,), "eps": (1e-8,)},
}

#: (decimals, significant digits) a hand calculation needs, measured over 800 variants
#: each: the decimals at which the rounded-as-you-go chain stays within about 1% of each
#: update (95th percentile) with at most ~5% of the draws rejected for a value with fewer
#: significant digits than asked. GD, momentum and NAG work to the notes' 3 (values down
#: to ~0.02); AdaGrad's and RMSprop's steps are quotients of roots and need 4 (with 3,
#: RMSprop's theta is off by 7% of a step); Adam's second moment is 0.001*g^2 + ... and is
#: then divided by 1 - 0.999^t: with 4 decimals it keeps one digit and theta is off by 14%
#: of a step, with 5 (and first gradients of at least 1) it keeps three.
_PRECISION = {"gd": (3, 2), "momentum": (3, 2), "nag": (3, 2), "adagrad": (4, 3),
              "rmsprop": (4, 3), "adam": (5, 3)}
#: The smallest move of a parameter in one step, in units of the last decimal.
_MIN_MOVE_UNITS = 50

_A_VALUES = (0.5, 1.0, 1.5, 2.0)
#: Sizes of the first gradient, |2a(theta_0 - c)| (Adam's at least 1, so v_1 >= 0.001).
_FIRST_GRADIENT = {"adam": (1.0, 3.0)}
_DEFAULT_FIRST_GRADIENT = (0.5, 3.0)
_MAX_GRADIENT = 4.0
_MAX_THETA = 5.0


def _stem_tex(tex: str) -> tuple[str, str]:
    """``v_{t-1}`` -> (``v``, ``t-1``): a time-indexed LaTeX name and its index."""
    cut = tex.rfind("_{")
    return tex[:cut], tex[cut + 2:-1]


def _indexed_tex(stem: str, param: int | None, t: int) -> str:
    if param is None:
        return f"{stem}_{{{t}}}"
    return f"{stem}_{{{param}}}^{{({t})}}"


def _indexed(root: str, param: int | None, t: int) -> str:
    """The name of ``root`` for parameter ``param`` (None: the only one) after step t."""
    return f"{root}_{t}" if param is None else f"{root}{param}_{t}"


def _variant(optimizer: str, options: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """The optimizer_trace options (convention, eps_placement) that apply to ``optimizer``."""
    return tuple(sorted((k, str(options[k])) for k in OPTIMIZERS[optimizer].options))


@cache
def optimizer_run_trace(
    optimizer: str, steps: int, model: str = "quadratic1d",
    variant: tuple[tuple[str, str], ...] = (),
) -> Trace:
    """``steps`` updates of ``optimizer`` on ``model`` as one trace (see the module docstring).

    Every update is the one-step trace of ``optimizer_trace(optimizer, **dict(variant))``
    with its names indexed by the step; the gradient is a step computed from the parameter.
    """
    if model not in MODELS:
        raise ChainruleError(f"unknown model '{model}'; valid: {', '.join(MODELS)}")
    base = optimizer_trace(optimizer, **dict(variant))
    meta = base.meta
    old_state: dict[str, str] = dict(meta["state"])
    new_state = {new: old for old, new in old_state.items()}
    gradient, hyper = meta["gradient"], tuple(meta["hyper"])
    params: tuple[int | None, ...] = (None,) if model == "quadratic1d" else (1, 2)

    def root(name: str) -> str:
        if name in (meta["parameter"], meta["result"]):
            return "theta"
        return new_state.get(name, name)

    def lags(name: str) -> bool:
        return name == meta["parameter"] or name in old_state

    def name_at(name: str, param: int | None, t: int) -> str:
        return _indexed(root(name), param, t - 1 if lags(name) else t)

    def tex_at(name: str, param: int | None, t: int) -> str:
        stem, _ = _stem_tex(base.tex(name))
        return _indexed_tex(stem, param, t - 1 if lags(name) else t)

    def suffix(param: int | None) -> str:
        return "" if param is None else str(param)

    tex_names: dict[str, str] = {h: base.tex(h) for h in hyper}
    givens: list[str] = []
    for p in params:
        givens += [f"a{suffix(p)}", f"c{suffix(p)}"]
        tex_names[f"a{suffix(p)}"] = "a" if p is None else f"a_{{{p}}}"
        tex_names[f"c{suffix(p)}"] = "c" if p is None else f"c_{{{p}}}"
    for name in (meta["parameter"], *old_state):
        for p in params:
            givens.append(name_at(name, p, 1))
            tex_names[name_at(name, p, 1)] = tex_at(name, p, 1)
    givens += hyper

    chained: list[Step] = []
    groups: list[dict[str, Any]] = []
    for t in range(1, steps + 1):
        first = len(chained)
        for base_name in _ordered(base, gradient):
            for p in params:
                new_name = name_at(base_name, p, t)
                tex_names[new_name] = tex_at(base_name, p, t)
                if base_name == gradient:
                    chained.append(_gradient_step(base, new_name, p, t, name_at))
                    continue
                step = base[base_name]
                mapping: dict[sp.Basic, sp.Expr] = {
                    sym(n): sym(name_at(n, p, t))
                    for n in (*base.givens, *base.names) if n not in hyper and n != "t"
                }
                mapping[sym("t")] = sp.Integer(t)
                where = "" if p is None else f"parameter {p}: "
                chained.append(Step(new_name, rename(step.formula, mapping), step.kind,
                                    where + step.description))
        groups.append({"t": t, "names": [s.name for s in chained[first:]]})
    info = OPTIMIZERS[optimizer]
    return Trace(
        givens=tuple(givens),
        steps=tuple(chained),
        tex_names=tex_names,
        title=f"{base.title}: {steps} steps on {_MODEL_TITLES[model]}",
        meta={"optimizer": optimizer, "optimizer_title": info.title, "variant": dict(variant),
              "model": model, "steps": steps, "params": params, "groups": groups,
              "gradient": gradient, "hyper": hyper, "state": old_state, "base": base},
    )


def _gradient_step(base: Trace, name: str, param: int | None, t: int, name_at: Any) -> Step:
    """``g_t = 2*a*(theta_{t-1} - c)`` (at the look-ahead point for the notes' NAG)."""
    suffix = "" if param is None else str(param)
    point_name = "theta_ahead" if "theta_ahead" in base else "theta"
    point = sym(name_at(point_name, param, t))
    formula = _mul(sp.Integer(2), sym(f"a{suffix}"), _minus(point, sym(f"c{suffix}")))
    where = "look-ahead point" if point_name == "theta_ahead" else "current parameter"
    prefix = "" if param is None else f"parameter {param}: "
    return Step(name, formula, "gradient", f"{prefix}gradient 2a(theta - c) at the {where}")


def _ordered(base: Trace, gradient: str) -> list[str]:
    """The base trace's names in working order, the gradient in its place."""
    names = list(base.names)
    if gradient in names:
        return names
    first = next(i for i, n in enumerate(names) if gradient in base[n].dependencies)
    return [*names[:first], gradient, *names[first:]]


def _tenths(low: float, high: float) -> np.ndarray:
    return np.round(np.arange(round(low * 10), round(high * 10) + 1) / 10, 1)


def _draw_coordinate(
    rng: np.random.Generator, a: float, sizes: tuple[float, float]
) -> tuple[float, float]:
    """A centre c and a start theta_0 (one decimal) with a first gradient
    |2a(theta_0 - c)| in ``sizes``."""
    c = float(rng.choice(_tenths(-1.0, 1.0)))
    starts = _tenths(-2.5, 2.5)
    size = np.abs(2 * a * (starts - c))
    ok = starts[(size >= sizes[0] - 1e-9) & (size <= sizes[1] + 1e-9)]
    return c, float(rng.choice(ok))


_OPTIMIZER_OPTIONS: dict[str, Option] = {
    "optimizer": Option("momentum", "choice", "the update rule (sgd means gd, nesterov nag)",
                        OPTIMIZER_KEYS),
    "steps": Option(3, "int", "how many steps to take", low=2, high=3),
    "model": Option("quadratic1d", "choice",
                    "quadratic1d: f = a(theta - c)^2; bowl2d: a1(theta1 - c1)^2 + "
                    "a2(theta2 - c2)^2", MODELS),
    "convention": Option("notes", "choice",
                         "momentum and NAG: the notes' v = beta*v + eta*g, theta -= v, or "
                         "PyTorch's v = beta*v + g, theta -= eta*v", ("notes", "torch")),
    "eps_placement": Option("outside", "choice",
                            "AdaGrad, RMSprop and Adam: eps added to the square root "
                            "(outside) or under it (inside)", ("outside", "inside")),
    "eta": Option(None, "rate", "learning rate (default: drawn)", low=0.0, high=10.0),
}


@register
class OptimizerStepsFamily(Family):
    """Two or three steps of an optimizer on a quadratic, with its state at every step."""

    name = "optimizer_steps"
    code = "op"
    title = "Optimizer steps"
    options = _OPTIMIZER_OPTIONS

    def parse_options(self, raw: Mapping[str, Any], where: str = "") -> dict[str, Any]:
        """Options with defaults filled in; aliases (sgd, nesterov) and combinations checked."""
        prefix = f"{where}: " if where else ""
        raw = dict(raw)
        if raw.get("optimizer") is not None:
            try:
                raw["optimizer"] = get_optimizer(str(raw["optimizer"])).key
            except ChainruleError as exc:
                raise ChainruleError(f"{prefix}option 'optimizer': {exc}") from None
        options = super().parse_options(raw, where)
        info = OPTIMIZERS[options["optimizer"]]
        for name in ("convention", "eps_placement"):
            if options[name] != self.options[name].default and name not in info.options:
                applies = [k for k in OPTIMIZER_KEYS if name in OPTIMIZERS[k].options]
                raise ChainruleError(
                    f"{prefix}option '{name}' applies to {_and_list(applies)} only "
                    f"(optimizer is {info.key})"
                )
        if options["eta"] is not None and options["eta"] <= 0:
            raise ChainruleError(f"{prefix}option 'eta': must be positive")
        return options

    def min_decimals(self, options: Mapping[str, Any]) -> int:
        """3 for GD, momentum and NAG; 4 for AdaGrad and RMSprop; 5 for Adam (its second
        moment is about 0.001*g^2)."""
        return _PRECISION[options["optimizer"]][0]

    def draw(self, rng: np.random.Generator, options: Mapping[str, Any]) -> Draft:
        """Draw the quadratic, the start and the hyper-parameters."""
        optimizer, model, steps = options["optimizer"], options["model"], options["steps"]
        trace = optimizer_run_trace(optimizer, steps, model, _variant(optimizer, options))
        params = trace.meta["params"]
        a_values = rng.choice(_A_VALUES, size=len(params), replace=False)
        givens: dict[str, float] = {}
        starts: dict[str, float] = {}
        for p, a in zip(params, a_values, strict=True):
            suffix = "" if p is None else str(p)
            sizes = _FIRST_GRADIENT.get(optimizer, _DEFAULT_FIRST_GRADIENT)
            c, theta0 = _draw_coordinate(rng, float(a), sizes)
            givens[f"a{suffix}"], givens[f"c{suffix}"] = float(a), c
            starts[_indexed("theta", p, 0)] = theta0
        givens.update(starts)
        for old in trace.meta["state"]:
            for p in params:
                givens[_indexed(old, p, 0)] = 0.0
        for name, choices in _HYPER_CHOICES[optimizer].items():
            givens[name] = float(choices[int(rng.integers(len(choices)))])
        if options["eta"] is not None:
            givens["eta"] = float(options["eta"])
        givens = {g: givens[g] + 0.0 for g in trace.givens}
        context = _optimizer_context(trace, givens)
        title = (f"{self.title}: {_STEP_WORDS[steps]} steps of "
                 f"{context['optimizer_title']} on {_MODEL_TITLES[model]}")
        return Draft(trace, givens, trace.names, title, context)

    def accept(self, draft: Draft, exact: Mapping[str, float]) -> bool:
        """Good by hand: every value keeps its significant digits at the family's decimals,
        every step moves each parameter visibly, and nothing runs away."""
        if not super().accept(draft, exact):
            return False
        trace = draft.trace
        assert trace is not None
        decimals, digits = _PRECISION[trace.meta["optimizer"]]
        smallest = 10.0 ** (digits - 1 - decimals)
        for step in trace.steps:
            value = abs(exact[step.name])
            if value < smallest:
                return False
            if step.kind == "gradient" and value > _MAX_GRADIENT:
                return False
            if step.kind == "update" and value > _MAX_THETA:
                return False
        move = _MIN_MOVE_UNITS * 10.0**-decimals
        for p in trace.meta["params"]:
            thetas = [exact[_indexed("theta", p, t)] for t in range(trace.meta["steps"] + 1)]
            if min(np.abs(np.diff(thetas))) < move:
                return False
        return True


def _optimizer_context(trace: Trace, givens: Mapping[str, float]) -> dict[str, Any]:
    """What the templates need: the function, the rules in general form, the step groups."""
    meta = trace.meta
    base: Trace = meta["base"]
    params = meta["params"]
    optimizer, variant = meta["optimizer"], meta["variant"]
    gradient = meta["gradient"]
    two = len(params) == 2
    convention = variant.get("convention")
    title = OPTIMIZERS[optimizer].title
    if optimizer == "gd":
        title = "gradient descent"
    elif optimizer == "momentum":
        title = "gradient descent with momentum"
    if convention == "torch":
        title += " (PyTorch's convention)"
    # The function, in general and with numbers.
    if two:
        function_tex = (r"f(\theta_{1}, \theta_{2}) = a_{1}\left(\theta_{1} - c_{1}\right)^{2}"
                        r" + a_{2}\left(\theta_{2} - c_{2}\right)^{2}")
        gradient_tex = (r"\frac{\partial f}{\partial \theta_{i}} = "
                        r"2 a_{i}\left(\theta_{i} - c_{i}\right)")
        numbers_tex = "f(\\theta_{1}, \\theta_{2}) = " + " + ".join(
            _term_tex(givens[f"a{p}"], givens[f"c{p}"], rf"\theta_{{{p}}}") for p in params)
    else:
        function_tex = r"f(\theta) = a\left(\theta - c\right)^{2}"
        gradient_tex = r"f'(\theta) = 2a\left(\theta - c\right)"
        numbers_tex = r"f(\theta) = " + _term_tex(givens["a"], givens["c"], r"\theta")
    point = r"\tilde{\theta}_{t}" if gradient == "g_ahead" else r"\theta_{t-1}"
    gradient_lhs = base.tex(gradient)
    if two:
        stem, index = _stem_tex(gradient_lhs)
        point_stem, point_index = _stem_tex(point)
        gradient_rule = (rf"{stem}_{{i}}^{{({index})}} = 2 a_{{i}}\left({point_stem}_{{i}}"
                         rf"^{{({point_index})}} - c_{{i}}\right)")
    else:
        gradient_rule = rf"{gradient_lhs} = 2a\left({point} - c\right)"
    rules = [base.equation_tex(n) for n in base.names]
    asks = []
    for name in _ordered(base, gradient):
        stem, index = _stem_tex(base.tex(name))
        asks.append(f"{stem}_{{i}}^{{({index})}}" if two else base.tex(name))
    eps = givens.get("eps")
    return {
        "optimizer": optimizer,
        "optimizer_title": title,
        "convention": convention,
        "eps_placement": variant.get("eps_placement"),
        "model": meta["model"],
        "two": two,
        "steps": meta["steps"],
        "function_tex": function_tex,
        "gradient_tex": gradient_tex,
        "numbers_tex": numbers_tex,
        "gradient_rule": gradient_rule,
        "rules": rules,
        "asks": asks,
        "groups": meta["groups"],
        "model_names": [f"{x}{p or ''}" for p in params for x in "ac"],
        "start_names": [g for g in trace.givens if g.endswith("_0")],
        "hyper_names": list(meta["hyper"]),
        "eps_text": format_number(eps) if eps is not None else "",
        "eps_tex": _power_of_ten_tex(eps) if eps is not None else "",
    }


def _term_tex(a: float, c: float, theta: str) -> str:
    """``1.5\\left(\\theta - 0.4\\right)^{2}`` (``+ 0.4`` for a negative c, no c when 0)."""
    factor = "" if a == 1 else format_number(a)
    if c == 0:
        return rf"{factor}{theta}^{{2}}"
    inner = f"{theta} - {format_number(c)}" if c > 0 else f"{theta} + {format_number(-c)}"
    return rf"{factor}\left({inner}\right)^{{2}}"


def _power_of_ten_tex(value: float) -> str:
    exponent = round(float(np.log10(value)))
    if float(f"1e{exponent}") == value:
        return f"10^{{{exponent}}}"
    return latex(sp.Float(value))


# == lr_schedule ==============================================================================
SCHEDULE_KEYS = ("step", "exponential", "inverse_time", "cosine_restarts")

#: Parameter values drawn per schedule, and epochs a question may ask about.
_SCHEDULE_PARAMS: dict[str, dict[str, tuple[float, ...]]] = {
    "step": {"eta0": (0.1, 0.2, 0.5), "gamma": (0.5, 0.1), "step_size": (5, 10)},
    "exponential": {"eta0": (0.1, 0.2, 0.5), "k": (0.05, 0.1, 0.2)},
    "inverse_time": {"eta0": (0.1, 0.2, 0.5), "k": (0.1, 0.2, 0.5)},
    "cosine_restarts": {"eta_max": (0.1, 0.05, 0.2), "eta_min": (0.0, 0.001),
                        "T_0": (5, 10), "T_mult": (1, 2)},
}
_EXP_EPOCHS = (1, 2, 5, 10, 15, 20, 30)
_INVERSE_EPOCHS = (1, 2, 4, 5, 8, 10, 20)
_SCHEDULE_MIN_DECIMALS = 4
_SCHEDULE_TITLES = {
    "step": "step decay",
    "exponential": "exponential decay",
    "inverse_time": "1/t decay",
    "cosine_restarts": "cosine annealing with warm restarts (SGDR)",
}


def _candidate_epochs(schedule: str, params: Mapping[str, float]) -> list[int]:
    """Epochs worth asking about: before and at the drops, restarts, mid-cycle points."""
    if schedule == "step":
        s = int(params["step_size"])
        return [s // 2, s - 1, s, s + 2, 2 * s - 1, 2 * s, 2 * s + s // 2, 3 * s]
    if schedule == "exponential":
        return [t for t in _EXP_EPOCHS if params["k"] * t <= 3]
    if schedule == "inverse_time":
        return list(_INVERSE_EPOCHS)
    t0, mult = int(params["T_0"]), int(params["T_mult"])
    lengths = [t0 * mult**i for i in range(3)]
    starts = [sum(lengths[:i]) for i in range(3)]
    result = set()
    for start, length in zip(starts, lengths, strict=True):
        result |= {start, start + length // 4, start + length // 2, start + length - 1}
    return sorted(t for t in result if 0 < t <= 4 * t0)


def _sgdr_steps(t: int, mult: int) -> list[Step]:
    """T_i and T_cur at epoch t as steps: the restarts so far ``k``, this cycle's length and
    the epochs since its start, from t, T_0 and T_mult (whole numbers, so exact)."""
    tt, t0, m = sym(f"t_{t}"), sym("T_0"), sym("T_mult")
    k = sym(f"k_{t}")
    if mult == 1:
        count = sp.floor(_mul(tt, sp.Pow(t0, -1, evaluate=False)))
        numeric = sp.floor(tt / t0 + sp.Rational(1, 10**9))
        length = t0
        start = _mul(k, t0)
    else:
        inner = sp.Add(1, _mul(_minus(m, sp.Integer(1)), tt, sp.Pow(t0, -1, evaluate=False)),
                       evaluate=False)
        count = sp.floor(sp.log(inner, m))
        numeric = sp.floor(sp.log(1 + (m - 1) * tt / t0) / sp.log(m) + sp.Rational(1, 10**9))
        length = _mul(t0, sp.Pow(m, k, evaluate=False))
        start = _mul(t0, sp.Mul(_minus(sp.Pow(m, k, evaluate=False), sp.Integer(1)),
                                sp.Pow(_minus(m, sp.Integer(1)), -1, evaluate=False),
                                evaluate=False))
    return [
        Step(f"k_{t}", count, "cycle", f"restarts before epoch {t}", numeric=numeric),
        Step(f"T_i_{t}", length, "cycle", f"length of the cycle at epoch {t}"),
        Step(f"T_cur_{t}", _minus(tt, start), "cycle", f"epochs since the restart at epoch {t}"),
    ]


@cache
def schedule_epochs_trace(schedule: str, epochs: tuple[int, ...], mult: int = 1) -> Trace:
    """One step ``eta_<t>`` per epoch of ``epochs``: the schedule's formula at that epoch.

    For SGDR (whose cycles grow by ``mult``) T_cur and T_i are steps before each rate.
    """
    info = get_schedule(schedule)
    base = info.trace
    formula = base["eta"].formula
    cycle = schedule == "cosine_restarts"
    per_epoch = ["t", *(n for n in ("T_cur", "T_i") if n in base.givens)]
    params = [g for g in base.givens if g not in per_epoch]
    if cycle:
        params += ["T_0", "T_mult"]
    tex_names = {**base.tex_names}
    tex_names.setdefault("T_0", r"T_{0}")
    tex_names.setdefault("T_mult", r"T_{\mathrm{mult}}")
    givens = list(params)
    steps = []
    for t in epochs:
        mapping: dict[sp.Basic, sp.Expr] = {}
        for name in per_epoch:
            mapping[sym(name)] = sym(f"{name}_{t}")
            if name == "t" or not cycle:
                givens.append(f"{name}_{t}")
                tex_names[f"{name}_{t}"] = base.tex(name)
        if cycle:
            tex_names[f"k_{t}"] = f"k^{{({t})}}"
            tex_names[f"T_i_{t}"] = f"T_{{i}}^{{({t})}}"
            tex_names[f"T_cur_{t}"] = rf"T_{{\mathrm{{cur}}}}^{{({t})}}"
            steps += _sgdr_steps(t, mult)
        tex_names[f"eta_{t}"] = rf"\eta_{{{t}}}"
        steps.append(Step(f"eta_{t}", rename(formula, mapping), "schedule",
                          f"learning rate at epoch {t}"))
    return Trace(
        givens=tuple(givens), steps=tuple(steps), tex_names=tex_names,
        title=f"{info.info.title} at epochs {', '.join(map(str, epochs))}",
        meta={"schedule": info.key, "epochs": epochs, "base": base, "mult": mult},
    )


_SCHEDULE_OPTIONS: dict[str, Option] = {
    "schedule": Option("step", "choice",
                       "step, exponential, inverse_time (1/t) or cosine_restarts (sgdr)",
                       SCHEDULE_KEYS),
    "epochs": Option(None, "int", "how many epochs t to ask about (default: drawn, 3 or 4)",
                     low=3, high=4),
}


@register
class LrScheduleFamily(Family):
    """The learning rate of a decay schedule or SGDR at three or four epochs."""

    name = "lr_schedule"
    code = "ls"
    title = "Learning-rate schedule"
    options = _SCHEDULE_OPTIONS

    def parse_options(self, raw: Mapping[str, Any], where: str = "") -> dict[str, Any]:
        """Options with defaults filled in; schedule aliases (sgdr, 1/t) accepted."""
        prefix = f"{where}: " if where else ""
        raw = dict(raw)
        if raw.get("schedule") is not None:
            try:
                key = get_schedule(str(raw["schedule"])).key
            except ChainruleError as exc:
                raise ChainruleError(f"{prefix}option 'schedule': {exc}") from None
            if key not in SCHEDULE_KEYS:
                raise ChainruleError(f"{prefix}option 'schedule': expected one of "
                                     f"{', '.join(SCHEDULE_KEYS)}")
            raw["schedule"] = key
        return super().parse_options(raw, where)

    def settle(self, rng: np.random.Generator, options: Mapping[str, Any]) -> dict[str, Any]:
        """How many epochs are asked, when left to chance, once per position of a set."""
        settled = dict(options)
        if settled["epochs"] is None:
            settled["epochs"] = int(rng.integers(3, 5))
        return settled

    def min_decimals(self, options: Mapping[str, Any]) -> int:
        """Four: learning rates of 0.001 to 0.5 keep two significant digits."""
        return _SCHEDULE_MIN_DECIMALS

    def draw(self, rng: np.random.Generator, options: Mapping[str, Any]) -> Draft:
        """Draw the schedule's parameters and the epochs asked."""
        schedule = options["schedule"]
        params = {name: float(choices[int(rng.integers(len(choices)))])
                  for name, choices in _SCHEDULE_PARAMS[schedule].items()}
        count = options["epochs"] or int(rng.integers(3, 5))
        candidates = _candidate_epochs(schedule, params)
        epochs = tuple(sorted(int(t) for t in rng.choice(candidates, count, replace=False)))
        mult = int(params["T_mult"]) if schedule == "cosine_restarts" else 1
        trace = schedule_epochs_trace(schedule, epochs, mult)
        givens: dict[str, float] = {}
        bookkeeping = []
        for t in epochs:
            givens[f"t_{t}"] = float(t)
            if schedule == "cosine_restarts":
                bookkeeping.append(_sgdr_record(t, params["T_0"], mult))
        givens.update(params)
        givens = {g: givens[g] + 0.0 for g in trace.givens}
        base = trace.meta["base"]
        context = {
            "schedule": schedule,
            "schedule_title": _SCHEDULE_TITLES[schedule],
            "rule": base.equation_tex("eta"),
            "epochs": list(epochs),
            "epochs_text": _and_list(epochs),
            "param_names": list(params),
            "bookkeeping": bookkeeping,
            "drops": [int(t // params["step_size"]) for t in epochs] if schedule == "step" else [],
            "step_size": format_number(params.get("step_size", 0)),
        }
        title = f"{self.title}: {_SCHEDULE_TITLES[schedule]} at {count} epochs"
        asked = tuple(n for n in trace.names if not n.startswith("k_"))
        return Draft(trace, givens, asked, title, context)

    def accept(self, draft: Draft, exact: Mapping[str, float]) -> bool:
        """Every rate has two significant digits at four decimals; step decay drops at least
        once among the epochs asked; SGDR shows a restart."""
        if not super().accept(draft, exact):
            return False
        trace = draft.trace
        assert trace is not None
        schedule, epochs = trace.meta["schedule"], trace.meta["epochs"]
        if any(abs(exact[f"eta_{t}"]) < 10.0 ** (1 - _SCHEDULE_MIN_DECIMALS) for t in epochs):
            return False
        if schedule == "step":
            size = draft.givens["step_size"]
            return len({t // size for t in epochs}) >= 2
        if schedule == "cosine_restarts":
            cycles = {t - exact[f"T_cur_{t}"] for t in epochs}
            return len(cycles) >= 2
        return True


def _sgdr_record(t: int, t0: float, mult: int) -> dict[str, Any]:
    """How T_cur and T_i follow from t: the cycles before t, and where t falls."""
    cycles = []
    start, length = 0, int(t0)
    while t >= start + length:
        cycles.append({"start": start, "length": length, "end": start + length - 1})
        start, length = start + length, length * mult
    return {"t": t, "before": cycles, "start": start, "length": length,
            "T_cur": t - start, "T_i": length}


def _and_list(items: Sequence[object]) -> str:
    """``(2, 4, 5)`` -> "2, 4 and 5"."""
    words = [str(i) for i in items]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
