"""Loss problems: the loss of one point, the cost over a small dataset, and dL/dyhat.

Every formula comes from :mod:`chainrule.symbolic.losses` with the conventions the options
set, and every problem states them. Givens are drawn to be good to work by hand:

* regression (MSE, MAE, Huber): y and yhat with one decimal in [-2, 2], never equal (no
  kink of MAE), and for Huber never exactly delta apart (no switch between the pieces);
* BCE: y in {0, 1} and yhat with two decimals in [0.05, 0.95] (not saturated);
* CCE and label smoothing: one-hot y, and yhat a distribution with two decimals, each
  class at least 0.05, summing to 1;
* KL: y a distribution with one decimal (each at least 0.1), yhat one with two decimals
  (each at least 0.05), and D_KL at least 0.01;
* hinge: y in {-1, 1} (or {0, 1}), yhat a score with one decimal in [-2, 2], never on
  the margin (1 - y yhat = 0).

Huber is written as the piece that applies (the quadratic one where |y - yhat| < delta, the
linear one otherwise), the way a student writes it; the problem's context says which.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

import numpy as np
import sympy as sp

from chainrule.errors import ChainruleError
from chainrule.problems.base import Draft, Family, Option, register
from chainrule.symbolic.losses import TEX_NAMES, Loss, get_loss
from chainrule.symbolic.printing import format_number, latex
from chainrule.symbolic.trace import Step, Trace, sym

__all__ = [
    "CONVENTION_OPTIONS",
    "COST_LOSSES",
    "VALUE_LOSSES",
    "CostFamily",
    "LossDerivativeFamily",
    "LossValueFamily",
    "LossesOption",
    "convention",
    "cost_trace",
    "derivative_trace",
    "loss_for",
    "loss_label",
    "loss_params",
    "value_trace",
]

#: Every loss of the notes (sections 2 and 3), in the notes' order.
VALUE_LOSSES: tuple[str, ...] = ("mse", "mae", "huber", "bce", "cce", "hinge", "kl", "lsce")
#: The regression and classification losses of the notes' Quick Comparison table (KL is for
#: probabilistic models; label smoothing is not in the table, and smooths every class of every
#: point, too long a calculation for a dataset by hand).
COST_LOSSES: tuple[str, ...] = ("mse", "mae", "huber", "bce", "cce", "hinge")

_REGRESSION = frozenset({"mse", "mae", "huber"})
#: Cap on the redraws of one point's numbers (from the variant's own generator).
_MAX_DATA_TRIES = 200

Params = tuple[tuple[str, Any], ...]


# -- options ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class LossesOption(Option):
    """A list of losses (names or aliases such as ``cross_entropy``) to draw each problem's
    loss from; the order is kept and repeats are dropped."""

    def parse(self, value: Any, where: str) -> Any:
        """The loss keys named by ``value``; ChainruleError naming any unknown or unused one."""
        if value is None:
            return None
        items = value if isinstance(value, (list, tuple)) else str(value).split(",")
        valid = ", ".join(self.choices)
        result: list[str] = []
        for item in items:
            text = str(item).strip()
            if not text:
                continue
            try:
                key = get_loss(text).key
            except ChainruleError as exc:
                raise ChainruleError(f"{where}: {exc}") from None
            if key not in self.choices:
                raise ChainruleError(f"{where}: loss '{key}' is not one of this family's: {valid}")
            if key not in result:
                result.append(key)
        if not result:
            raise ChainruleError(f"{where}: name at least one loss of {valid}")
        return result


#: Each loss's convention options: (option name, loss parameter, Option).
_CONVENTIONS: dict[str, tuple[tuple[str, str, Option], ...]] = {
    "mse": (("mse_half", "half", Option(
        False, "bool", "MSE as 1/2 (y - yhat)^2 (default: (y - yhat)^2, as in the notes)")),),
    "huber": (
        ("huber_delta", "delta", Option(
            1.0, "float", "Huber threshold delta between the pieces", low=0.1, high=5.0)),
        ("huber_half", "half", Option(
            True, "bool", "Huber with 1/2 (y - yhat)^2 inside |y - yhat| < delta, as in the "
            "notes; false doubles both pieces")),
    ),
    "hinge": (("hinge_labels", "labels", Option(
        "pm1", "choice", "hinge labels: pm1 is {-1, 1} (the notes), 01 is {0, 1} mapped to "
        "2y - 1", ("pm1", "01"))),),
    "kl": (("kl_direction", "direction", Option(
        "forward", "choice", "KL direction: forward is D_KL(y || yhat), the true distribution "
        "first; reverse is D_KL(yhat || y)", ("forward", "reverse"))),),
    "lsce": (("lsce_epsilon", "epsilon", Option(
        0.1, "float", "label smoothing epsilon: targets (1 - epsilon) y + epsilon / K",
        low=0.0, high=0.5)),),
}


#: Every loss convention option (for families whose loss may be any of the notes').
CONVENTION_OPTIONS: dict[str, Option] = {
    name: option for conventions in _CONVENTIONS.values() for name, _, option in conventions
}


def _options(losses: tuple[str, ...], *, points: bool = False) -> dict[str, Option]:
    """The ``loss`` option, the dataset and class sizes, and the losses' conventions."""
    options: dict[str, Option] = {
        "loss": LossesOption(
            list(losses), "list",
            "the loss, or several to draw each problem's loss from (mse or mse,bce; "
            f"default: any of {','.join(losses)})",
            choices=losses,
        ),
    }
    if points:
        options["points"] = Option(None, "int", "points in the dataset (default: drawn, 3 to 6)",
                                   low=3, high=6)
    classes = [k for k in losses if get_loss(k).info.distribution]
    options["classes"] = Option(3, "int", f"classes K of {', '.join(classes)} problems",
                                low=2, high=6)
    for key in losses:
        options.update({name: option for name, _, option in _CONVENTIONS.get(key, ())})
    return options


def loss_params(key: str, options: Mapping[str, Any]) -> Params:
    """The convention parameters of loss ``key`` that ``options`` set, hashable."""
    params = {}
    for name, parameter, option in _CONVENTIONS.get(key, ()):
        value = options.get(name, option.default)
        params[parameter] = float(value) if option.kind == "float" else value
    return tuple(sorted(params.items()))


@lru_cache(maxsize=64)
def loss_for(key: str, params: Params) -> Loss:
    """The loss ``key`` with its conventions set (one object per key and conventions)."""
    return get_loss(key, **dict(params))


def _params_of(loss: Loss) -> Params:
    return tuple(sorted(loss.params.items()))


# -- names and formulas ----------------------------------------------------------------------
def _tex_names() -> dict[str, str]:
    return {
        "y": "y", "yhat": r"\hat{y}", "huber_delta": r"\delta", "epsilon": r"\varepsilon",
        "K": "K", "L": "L", "J": "J", "dL_dyhat": r"\frac{\partial L}{\partial \hat{y}}",
    }


def _positive_first(expr: sp.Expr) -> sp.Expr:
    """A sum written with its subtracted terms last (delta|r| - delta^2/2, yhat - y)."""
    if isinstance(expr, sp.Add):
        terms = sorted(expr.args, key=lambda t: bool(t.could_extract_minus_sign()))
        return sp.Add(*terms, evaluate=False)
    return expr


def _huber_piece(expr: sp.Expr, piece: int) -> sp.Expr:
    """Piece 0 (|y - yhat| < delta) or 1 (otherwise) of a Huber Piecewise."""
    if not isinstance(expr, sp.Piecewise):  # pragma: no cover - the loss module changed
        raise AssertionError("Huber is expected as a Piecewise")
    return _positive_first(expr.args[piece][0])


def _mean(names: Sequence[str]) -> sp.Expr:
    total = sp.Add(*[sym(n) for n in names], evaluate=False)
    return sp.Mul(total, sp.Pow(sp.Integer(len(names)), -1, evaluate=False), evaluate=False)


def _class_names(classes: int, suffix: str = "") -> tuple[list[str], list[str]]:
    ks = range(1, classes + 1)
    return [f"y{suffix}{k}" for k in ks], [f"yhat{suffix}{k}" for k in ks]


def _param_givens(loss: Loss) -> tuple[str, ...]:
    if loss.key == "huber":
        return ("huber_delta",)
    if loss.key == "lsce":
        return ("epsilon", "K")
    return ()


def _meta(loss: Loss, **extra: Any) -> dict[str, Any]:
    return {"loss": loss.key, "loss_params": dict(loss.params), **extra}


@lru_cache(maxsize=128)
def value_trace(key: str, params: Params, classes: int, piece: int = 0) -> Trace:
    """L of one point: a step per class term (and smoothed target) for class losses, then L.

    ``piece`` picks Huber's piece (0 quadratic, 1 linear).
    """
    loss = loss_for(key, params)
    tex = _tex_names()
    steps: list[Step] = []
    if not loss.info.distribution:
        y, yhat = sym("y"), sym("yhat")
        if key == "huber":
            formula = _huber_piece(loss.point([y], [yhat], symbolic=True), piece)
        else:
            formula = loss.point([y], [yhat])
        steps.append(Step("L", formula, "loss", f"{loss.info.title} loss"))
        givens: tuple[str, ...] = ("y", "yhat", *_param_givens(loss))
    else:
        ys, ps = _class_names(classes)
        for k, (y, p) in enumerate(zip(ys, ps, strict=True), 1):
            tex.update({y: f"y_{{{k}}}", p: rf"\hat{{y}}_{{{k}}}",
                        f"term{k}": rf"\ell_{{{k}}}", f"ytilde{k}": rf"\tilde{{y}}_{{{k}}}"})
        if key == "lsce":
            eps = sym("epsilon")
            for k, y in enumerate(ys, 1):
                smoothed = sp.Add(
                    sp.Mul(sp.Add(1, sp.Mul(-1, eps, evaluate=False), evaluate=False), sym(y),
                           evaluate=False),
                    sp.Mul(eps, sp.Pow(sym("K"), -1, evaluate=False), evaluate=False),
                    evaluate=False,
                )
                steps.append(Step(f"ytilde{k}", smoothed, "target", f"smoothed target {k}"))
            cce = get_loss("cce")
            for k, p in enumerate(ps, 1):
                steps.append(Step(f"term{k}", cce.term(sym(f"ytilde{k}"), sym(p), classes),
                                  "term", f"term of class {k}"))
        else:
            for k, (y, p) in enumerate(zip(ys, ps, strict=True), 1):
                steps.append(Step(f"term{k}", loss.term(sym(y), sym(p), classes), "term",
                                  f"term of class {k}"))
        total = sp.Add(*[sym(f"term{k}") for k in range(1, classes + 1)], evaluate=False)
        steps.append(Step("L", total, "loss", f"{loss.info.title} loss: the sum of the terms"))
        givens = (*ys, *ps, *_param_givens(loss))
    return Trace(givens, tuple(steps), tex, title=f"{loss.info.title} loss of one point",
                 meta=_meta(loss, classes=classes, piece=piece))


@lru_cache(maxsize=512)
def cost_trace(key: str, params: Params, points: int, classes: int,
               pieces: tuple[int, ...] = ()) -> Trace:
    """J over ``points`` points: the loss L_i of each point, then their mean J.

    ``pieces`` picks Huber's piece per point (0 quadratic, 1 linear).
    """
    loss = loss_for(key, params)
    tex = _tex_names()
    steps: list[Step] = []
    givens: list[str] = []
    for i in range(1, points + 1):
        tex[f"L{i}"] = f"L_{{{i}}}"
        if loss.info.distribution:
            ys, ps = _class_names(classes, str(i))
            for k, (y, p) in enumerate(zip(ys, ps, strict=True), 1):
                tex.update({y: f"y_{{{i},{k}}}", p: rf"\hat{{y}}_{{{i},{k}}}"})
            givens += [*ys, *ps]
            formula = loss.point([sym(y) for y in ys], [sym(p) for p in ps], symbolic=True)
        else:
            y, p = f"y{i}", f"yhat{i}"
            tex.update({y: f"y_{{{i}}}", p: rf"\hat{{y}}_{{{i}}}"})
            givens += [y, p]
            formula = loss.point([sym(y)], [sym(p)], symbolic=True)
            if key == "huber":
                formula = _huber_piece(formula, pieces[i - 1])
        steps.append(Step(f"L{i}", formula, "loss", f"loss of point {i}"))
    names = [f"L{i}" for i in range(1, points + 1)]
    steps.append(Step("J", _mean(names), "cost", "cost: the mean of the point losses"))
    givens += _param_givens(loss)
    return Trace(tuple(givens), tuple(steps), tex,
                 title=f"{loss.info.title} cost over {points} points",
                 meta=_meta(loss, points=points, classes=classes, pieces=pieces))


@lru_cache(maxsize=128)
def derivative_trace(key: str, params: Params, classes: int, piece: int = 0) -> Trace:
    """dL/dyhat (one step, or one per class ``dL_dyhat{k}``) as SymPy differentiates L."""
    loss = loss_for(key, params)
    tex = _tex_names()
    steps: list[Step] = []
    if not loss.info.distribution:
        derivative = loss.derivative([sym("y")], [sym("yhat")], symbolic=True)[0]
        if key == "huber":
            derivative = _huber_piece(derivative, piece)
        steps.append(Step("dL_dyhat", derivative, "derivative", "derivative of L by yhat"))
        givens: tuple[str, ...] = ("y", "yhat", *_param_givens(loss))
    else:
        ys, ps = _class_names(classes)
        derivatives = loss.derivative([sym(y) for y in ys], [sym(p) for p in ps], symbolic=True)
        for k, (y, p, d) in enumerate(zip(ys, ps, derivatives, strict=True), 1):
            tex.update({y: f"y_{{{k}}}", p: rf"\hat{{y}}_{{{k}}}",
                        f"dL_dyhat{k}": rf"\frac{{\partial L}}{{\partial \hat{{y}}_{{{k}}}}}"})
            steps.append(Step(f"dL_dyhat{k}", d, "derivative", f"derivative of L by yhat{k}"))
        givens = (*ys, *ps, *_param_givens(loss))
    return Trace(givens, tuple(steps), tex, title=f"derivative of the {loss.info.title} loss",
                 meta=_meta(loss, classes=classes, piece=piece))


# -- drawing numbers -------------------------------------------------------------------------
def _tenths(rng: np.random.Generator, low: int = -20, high: int = 20) -> float:
    """A number with one decimal in [low/10, high/10]."""
    return int(rng.integers(low, high + 1)) / 10


def _distribution(rng: np.random.Generator, classes: int, total: int, least: int) -> list[int]:
    """``classes`` whole numbers, each at least ``least``, summing to ``total``."""
    spare = total - least * classes
    cuts = np.sort(rng.integers(0, spare + 1, size=classes - 1))
    parts = np.diff(np.concatenate([[0], cuts, [spare]])) + least
    return [int(v) for v in parts]


def _abs_diff(y: float, p: float) -> Decimal:
    return abs(Decimal(repr(y)) - Decimal(repr(p)))


@dataclass
class _Point:
    """One point's targets and predictions (one each for a scalar loss, else one per class)."""

    y: list[float]
    yhat: list[float]


def _draw_point(rng: np.random.Generator, loss: Loss, classes: int) -> _Point:
    """Targets and predictions good to work by hand for ``loss`` (see the module docstring)."""
    key = loss.key
    for _ in range(_MAX_DATA_TRIES):
        if key in _REGRESSION:
            y, p = _tenths(rng), _tenths(rng)
            if y == p:
                continue
            if key == "huber" and _abs_diff(y, p) == Decimal(repr(float(loss.params["delta"]))):
                continue
            return _Point([y], [p])
        if key == "bce":
            return _Point([float(rng.integers(0, 2))], [int(rng.integers(5, 96)) / 100])
        if key == "hinge":
            label = float(rng.choice([-1.0, 1.0]))
            p = _tenths(rng)
            if label * p == 1:
                continue
            if loss.params["labels"] == "01":
                label = (label + 1) / 2
            return _Point([label], [p])
        probabilities = [v / 100 for v in _distribution(rng, classes, 100, 5)]
        if key == "kl":
            return _Point([v / 10 for v in _distribution(rng, classes, 10, 1)], probabilities)
        targets = [0.0] * classes
        targets[int(rng.integers(classes))] = 1.0
        return _Point(targets, probabilities)
    raise ChainruleError(f"loss '{key}': no good numbers in {_MAX_DATA_TRIES} draws")


@lru_cache(maxsize=8)
def _huber_condition(params: Params) -> sp.Basic:
    """The condition of Huber's quadratic piece, as the loss writes it (|y - yhat| < delta)."""
    formula = loss_for("huber", params).point([sym("y")], [sym("yhat")], symbolic=True)
    return formula.args[0][1]


def _huber_piece_of(loss: Loss, point: _Point) -> int:
    """Which Huber piece applies: the loss's own condition at the numbers."""
    condition = _huber_condition(_params_of(loss))
    values = {
        sym("y"): sp.Rational(repr(point.y[0])),
        sym("yhat"): sp.Rational(repr(point.yhat[0])),
        sym("huber_delta"): loss.parameter("delta"),
    }
    return 0 if bool(condition.xreplace(values)) else 1


# -- what the templates read -----------------------------------------------------------------
def _vector(values: Sequence[float]) -> str:
    return "(" + ", ".join(format_number(v) for v in values) + ")"


def convention(loss: Loss) -> str:
    """The loss's convention in one sentence (inline math in $...$; Markdown and LaTeX)."""
    key, prm = loss.key, loss.params
    if key == "mse":
        if prm["half"]:
            return (r"Here the squared error carries the factor $\frac{1}{2}$, so that "
                    r"$\frac{\partial L}{\partial \hat{y}} = \hat{y} - y$.")
        return r"The squared error of one point, without a factor $\frac{1}{2}$, as in the notes."
    if key == "mae":
        return "The absolute error of one point."
    if key == "huber":
        delta = format_number(float(prm["delta"]))
        if prm["half"]:
            return (rf"Here $\delta = {delta}$, with the factor $\frac{{1}}{{2}}$ on the quadratic "
                    "piece as in the notes (PyTorch's HuberLoss).")
        return (rf"Here $\delta = {delta}$, without the factors $\frac{{1}}{{2}}$: twice the "
                "notes' Huber loss.")
    if key == "bce":
        return r"The label is $y \in \lbrace 0, 1 \rbrace$ and $\log$ is the natural logarithm."
    if key == "cce":
        return r"The target $y$ is one-hot and $\log$ is the natural logarithm."
    if key == "hinge":
        if prm["labels"] == "01":
            return (r"Labels are $y \in \lbrace 0, 1 \rbrace$, mapped to $2y - 1 \in "
                    r"\lbrace -1, 1 \rbrace$ first; $\hat{y}$ is the model's raw score.")
        return (r"Labels are $y \in \lbrace -1, 1 \rbrace$ as in the notes; $\hat{y}$ is the "
                "model's raw score.")
    if key == "kl":
        if prm["direction"] == "reverse":
            return (r"This is the reverse direction $D_{KL}(\hat{y} \parallel y)$, the "
                    r"prediction first; $\log$ is the natural logarithm.")
        return (r"This is the forward direction $D_{KL}(y \parallel \hat{y})$, the true "
                r"distribution $y$ first; $\log$ is the natural logarithm.")
    eps = format_number(float(prm["epsilon"]))
    return (r"The one-hot target is smoothed to $\tilde{y}_{k} = (1 - \varepsilon) y_{k} + "
            rf"\frac{{\varepsilon}}{{K}}$ with $\varepsilon = {eps}$; $\log$ is the natural "
            "logarithm.")


def loss_label(loss: Loss, classes: int = 1) -> str:
    """The loss's title with its conventions and classes, as plain text for titles."""
    prm, extra = loss.params, []
    if loss.key == "mse" and prm["half"]:
        extra.append("with 1/2")
    if loss.key == "huber":
        extra.append(f"delta = {format_number(float(prm['delta']))}")
        if not prm["half"]:
            extra.append("without 1/2")
    if loss.key == "hinge" and prm["labels"] == "01":
        extra.append("labels 0/1")
    if loss.key == "kl" and prm["direction"] == "reverse":
        extra.append("reverse")
    if loss.key == "lsce":
        extra.append(f"epsilon = {format_number(float(prm['epsilon']))}")
    if loss.info.distribution:
        extra.append(f"{classes} classes")
    return loss.info.title + (f" ({', '.join(extra)})" if extra else "")


def _readable(expr: sp.Expr) -> sp.Expr:
    """Huber's cases as the notes write them: |y - yhat| < delta, subtracted terms last."""
    if not isinstance(expr, sp.Piecewise):
        return expr
    pieces = []
    for value, condition in expr.args:
        if isinstance(condition, sp.StrictGreaterThan):
            condition = sp.StrictLessThan(condition.rhs, condition.lhs, evaluate=False)
        pieces.append((_positive_first(value), condition))
    return sp.Piecewise(*pieces, evaluate=False)


@lru_cache(maxsize=64)
def _general_tex(key: str, params: Params) -> dict[str, str]:
    """LaTeX of the general point loss, cost and derivative (SymPy; once per conventions)."""
    loss = loss_for(key, params)
    tex = loss.tex()
    if key == "huber":
        general = loss.general()
        cost_sum = general["cost"].args[1]
        readable_sum = sp.Sum(_readable(cost_sum.function), *cost_sum.limits)
        tex = {
            "point": latex(_readable(general["point"]), TEX_NAMES),
            "cost": r"\frac{1}{N} " + latex(readable_sum, TEX_NAMES),
            "derivative": latex(_readable(general["derivative"]), TEX_NAMES),
        }
    return {
        "point_tex": tex["point"],
        "cost_tex": tex["cost"],
        "derivative_tex": tex["derivative"],
        "derivative_lhs_tex": loss.derivative_lhs_tex(),
        "convention": convention(loss),
    }


def _loss_context(loss: Loss, classes: int) -> dict[str, Any]:
    return {
        "loss": loss.key,
        "loss_title": loss.info.title,
        "loss_name": loss.info.title.removesuffix(" Loss"),
        "loss_params": dict(loss.params),
        **_general_tex(loss.key, _params_of(loss)),
        "classes": classes if loss.info.distribution else None,
        "delta": format_number(float(loss.params["delta"])) if loss.key == "huber" else None,
        "pieces": [],
    }


def _piece_record(point: _Point, piece: int, index: int | None) -> dict[str, Any]:
    sub = "" if index is None else f"_{{{index}}}"
    return {
        "point": index,
        "abs_tex": rf"\left|y{sub} - \hat{{y}}{sub}\right|",
        "abs_value": format_number(_abs_diff(point.y[0], point.yhat[0])),
        "relation_tex": "<" if piece == 0 else r"\ge",
        "piece": "quadratic" if piece == 0 else "linear",
    }


def _point_givens(point: _Point, suffix: str = "") -> dict[str, float]:
    if len(point.y) == 1 and not suffix:
        return {"y": point.y[0], "yhat": point.yhat[0]}
    if len(point.y) == 1:
        return {f"y{suffix}": point.y[0], f"yhat{suffix}": point.yhat[0]}
    givens = {f"y{suffix}{k}": v for k, v in enumerate(point.y, 1)}
    givens.update({f"yhat{suffix}{k}": v for k, v in enumerate(point.yhat, 1)})
    return givens


def _param_values(loss: Loss, classes: int) -> dict[str, float]:
    if loss.key == "huber":
        return {"huber_delta": float(loss.params["delta"])}
    if loss.key == "lsce":
        return {"epsilon": float(loss.params["epsilon"]), "K": float(classes)}
    return {}


def _data_tex(loss: Loss, point: _Point, classes: int) -> list[str]:
    """The givens of one point as equations: scalars, or vectors for class losses."""
    if loss.info.distribution:
        data = [f"y = {_vector(point.y)}", rf"\hat{{y}} = {_vector(point.yhat)}"]
    else:
        data = [f"y = {format_number(point.y[0])}", rf"\hat{{y}} = {format_number(point.yhat[0])}"]
    return data + _param_tex(loss, classes)


def _param_tex(loss: Loss, classes: int) -> list[str]:
    """The loss's parameters that are givens, as equations."""
    if loss.key == "huber":
        return [rf"\delta = {format_number(float(loss.params['delta']))}"]
    if loss.key == "lsce":
        return [rf"\varepsilon = {format_number(float(loss.params['epsilon']))}", f"K = {classes}"]
    return []


# -- the families ----------------------------------------------------------------------------
class _LossFamily(Family):
    """Shared drawing: the loss from the ``loss`` option, its conventions from the others."""

    tie_exempt_kinds = ("target",)

    def settle(self, rng: np.random.Generator, options: Mapping[str, Any]) -> dict[str, Any]:
        """One loss from the pool (and, for a cost, the number of points) per position."""
        settled = dict(options)
        keys = settled["loss"]
        settled["loss"] = [keys[int(rng.integers(len(keys)))]]
        if "points" in self.options and settled.get("points") is None:
            settled["points"] = int(rng.integers(3, 7))
        return settled

    def _loss(self, rng: np.random.Generator, options: Mapping[str, Any]) -> Loss:
        keys = options["loss"]
        key = keys[int(rng.integers(len(keys)))]
        return loss_for(key, loss_params(key, options))

    def _classes(self, loss: Loss, options: Mapping[str, Any]) -> int:
        return int(options["classes"]) if loss.info.distribution else 1

    def min_decimals(self, options: Mapping[str, Any]) -> int:
        """Two: predictions have two decimals, and terms such as 0.045 must not round to 0.
        Three with a factor 1/2 on a squared error (Huber, MSE with 1/2): 0.5 r^2 has three
        decimals, and at two it would sit on a rounding tie every other time."""
        losses = options.get("loss") or ()
        needed = 2
        if "mse" in losses and options.get("mse_half"):
            needed = 3
        if "huber" in losses:
            # The linear piece subtracts delta^2/2 (delta^2 without the 1/2): shown whole.
            delta = Decimal(repr(float(options.get("huber_delta", 1.0))))
            half = options.get("huber_half", True)
            constant = delta * delta / 2 if half else delta * delta
            exponent = constant.normalize().as_tuple().exponent
            places = -exponent if isinstance(exponent, int) else 8
            needed = max(needed, 3 if half else 2, places)
        return min(needed, 8)

    def _point_draft(self, rng: np.random.Generator, options: Mapping[str, Any],
                     build: Callable[[str, Params, int, int], Trace]) -> Draft:
        """A one-point problem whose trace ``build`` makes (value_trace, derivative_trace)."""
        loss = self._loss(rng, options)
        classes = self._classes(loss, options)
        point = _draw_point(rng, loss, classes)
        piece = _huber_piece_of(loss, point) if loss.key == "huber" else 0
        trace = build(loss.key, _params_of(loss), classes, piece)
        givens = {**_point_givens(point), **_param_values(loss, classes)}
        context = _loss_context(loss, classes)
        context["data"] = _data_tex(loss, point, classes)
        if loss.key == "huber":
            context["pieces"] = [_piece_record(point, piece, None)]
        return Draft(trace, givens, trace.names, f"{self.title}: {loss_label(loss, classes)}",
                     context)


@register
class LossValueFamily(_LossFamily):
    """The loss of one point, for every loss of the notes."""

    name = "loss_value"
    code = "lv"
    title = "Loss value"
    options = _options(VALUE_LOSSES)

    def draw(self, rng: np.random.Generator, options: Mapping[str, Any]) -> Draft:
        """One point's numbers and the steps of its loss (terms of each class, then L)."""
        return self._point_draft(rng, options, value_trace)

    def accept(self, draft: Draft, exact: Mapping[str, float]) -> bool:
        """Finite values, and a KL divergence big enough to see (at least 0.01)."""
        if not super().accept(draft, exact):
            return False
        return draft.context["loss"] != "kl" or exact["L"] >= 0.01


@register
class CostFamily(_LossFamily):
    """The cost J, the mean loss over a small dataset, for the regression and classification
    losses."""

    name = "cost"
    code = "co"
    title = "Cost over a dataset"
    options = _options(COST_LOSSES, points=True)

    def draw(self, rng: np.random.Generator, options: Mapping[str, Any]) -> Draft:
        """A dataset of 3 to 6 points, the loss of each and their mean."""
        loss = self._loss(rng, options)
        classes = self._classes(loss, options)
        points = options["points"]
        count = int(points) if points is not None else int(rng.integers(3, 7))
        data = [_draw_point(rng, loss, classes) for _ in range(count)]
        pieces = tuple(_huber_piece_of(loss, pt) for pt in data) if loss.key == "huber" else ()
        trace = cost_trace(loss.key, _params_of(loss), count, classes, pieces)
        givens: dict[str, float] = {}
        for i, pt in enumerate(data, 1):
            givens.update(_point_givens(pt, str(i)))
        givens.update(_param_values(loss, classes))
        context = _loss_context(loss, classes)
        context["points"] = count
        distribution = loss.info.distribution
        context["rows"] = [
            {"i": i,
             "y": _vector(pt.y) if distribution else format_number(pt.y[0]),
             "yhat": _vector(pt.yhat) if distribution else format_number(pt.yhat[0])}
            for i, pt in enumerate(data, 1)
        ]
        if loss.key == "huber":
            context["pieces"] = [_piece_record(pt, pc, i)
                                 for i, (pt, pc) in enumerate(zip(data, pieces, strict=True), 1)]
        label = loss_label(loss, classes)
        return Draft(trace, givens, trace.names, f"Cost over {count} points: {label}", context)

    def accept(self, draft: Draft, exact: Mapping[str, float]) -> bool:
        """Finite values, and a cost that is not (nearly) zero."""
        return super().accept(draft, exact) and exact["J"] >= 0.01


@register
class LossDerivativeFamily(_LossFamily):
    """dL/dyhat of one point: the general derivative (SymPy) and its value at the numbers."""

    name = "loss_derivative"
    code = "ld"
    title = "Derivative of a loss"
    options = _options(VALUE_LOSSES)

    def draw(self, rng: np.random.Generator, options: Mapping[str, Any]) -> Draft:
        """One point's numbers and dL/dyhat (one step per class for class losses). The
        general derivative is a formula step: its key holds the formula."""
        from chainrule.problems.families.derivation import formula_key

        draft = self._point_draft(rng, options, derivative_trace)
        trace = draft.trace
        assert trace is not None
        draft.context = {**draft.context, "formula_steps": list(draft.asked),
                         "formula_key": {n: formula_key(trace, n) for n in draft.asked}}
        return draft
