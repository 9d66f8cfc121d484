"""One step of batch, stochastic or mini-batch gradient descent on a one-feature regression.

The model is linear regression, yhat = w*x + b with the notes' MSE loss L = (y - yhat)^2, or
logistic regression, yhat = sigmoid(w*x + b) with binary cross-entropy. The cost J is the
mean of the point losses over the points a step uses: all N points (batch GD), one point
(SGD) or a mini-batch of m points (mini-batch GD); which ones is drawn from the seed.

Step names, for each point i used (in increasing order of i):

* ``z{i}`` = w*x{i} + b (logistic only), ``yhat{i}`` = w*x{i} + b or sigmoid(z{i});
* ``e{i}`` = yhat{i} - y{i}, the error;
* ``dL_dw_{i}``, ``dL_db_{i}``: the point's gradient, 2*e{i}*x{i} and 2*e{i} for MSE
  (dL/dyhat = -2(y - yhat)), e{i}*x{i} and e{i} for sigmoid + BCE (dL/dz = yhat - y);

then ``dJ_dw``, ``dJ_db`` (the mean over the points used: (1/n)*(sum)) and ``w_new``,
``b_new`` (w - eta*dJ_dw, b - eta*dJ_db). Givens are ``x1, y1, ..., xN, yN, w, b, eta``.

Variants are drawn to be good by hand: x with one decimal in [-2, 2] (distinct, never 0), y
with one decimal near a random line (linear) or labels of both classes (logistic), w and b
with one decimal in [-1, 1] (never 0); every error used at least 0.05, the mean gradient at
least 0.05 in w and in b, probabilities in [0.05, 0.95]; at least 2 decimals.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np
import sympy as sp

from chainrule.errors import ChainruleError
from chainrule.problems.base import Draft, Family, Option, register
from chainrule.symbolic.functions import sigmoid
from chainrule.symbolic.losses import LOSSES
from chainrule.symbolic.trace import Step, Trace, sym

__all__ = ["GD_OPTIONS", "GdStepFamily", "regression_trace"]

_ETAS = {"linear": (0.05, 0.1, 0.2), "logistic": (0.1, 0.2, 0.5)}
_LOSS_OF = {"linear": "mse", "logistic": "bce"}
_METHOD_TITLES = {
    "batch": "batch gradient descent",
    "sgd": "stochastic gradient descent (SGD)",
    "minibatch": "mini-batch gradient descent",
}
_MODEL_TITLES = {"linear": "linear regression", "logistic": "logistic regression"}

GD_OPTIONS: dict[str, Option] = {
    "model": Option("linear", "choice", "linear (MSE) or logistic (BCE) regression",
                    ("linear", "logistic")),
    "method": Option("batch", "choice", "batch GD, SGD (one point) or mini-batch GD",
                     ("batch", "sgd", "minibatch")),
    "points": Option(4, "int", "points in the dataset", low=3, high=6),
    "batch_size": Option(None, "int", "mini-batch size m (default: drawn, 2..points-1)",
                         low=2, high=5),
    "eta": Option(None, "rate", "learning rate (default: drawn)", low=0.0, high=10.0),
}

#: Smallest mean gradient and point error a hand-worked variant may have.
_MIN_GRADIENT = 0.05
_MIN_ERROR = 0.05


def _add(*terms: sp.Expr) -> sp.Expr:
    return sp.Add(*terms, evaluate=False)


def _mul(*factors: sp.Expr) -> sp.Expr:
    return sp.Mul(*factors, evaluate=False)


def _tex_names(points: int, used: tuple[int, ...]) -> dict[str, str]:
    tex = {
        "w": "w", "b": "b", "eta": r"\eta",
        "dJ_dw": r"\frac{\partial J}{\partial w}", "dJ_db": r"\frac{\partial J}{\partial b}",
        "w_new": r"w^{\text{new}}", "b_new": r"b^{\text{new}}",
    }
    for i in range(1, points + 1):
        tex[f"x{i}"] = f"x_{{{i}}}"
        tex[f"y{i}"] = f"y_{{{i}}}"
    for i in used:
        tex[f"z{i}"] = f"z_{{{i}}}"
        tex[f"yhat{i}"] = rf"\hat{{y}}_{{{i}}}"
        tex[f"e{i}"] = f"e_{{{i}}}"
        tex[f"dL_dw_{i}"] = rf"\frac{{\partial L_{{{i}}}}}{{\partial w}}"
        tex[f"dL_db_{i}"] = rf"\frac{{\partial L_{{{i}}}}}{{\partial b}}"
    return tex


def _point_steps(model: str, i: int) -> list[Step]:
    w, b, x, y = sym("w"), sym("b"), sym(f"x{i}"), sym(f"y{i}")
    linear = _add(_mul(w, x), b)
    steps = []
    if model == "logistic":
        steps.append(Step(f"z{i}", linear, "forward", f"point {i}: weighted sum"))
        steps.append(Step(f"yhat{i}", sigmoid(sym(f"z{i}")), "forward",
                          f"point {i}: predicted probability"))
    else:
        steps.append(Step(f"yhat{i}", linear, "forward", f"point {i}: prediction"))
    e = sym(f"e{i}")
    steps.append(Step(f"e{i}", _add(sym(f"yhat{i}"), _mul(sp.S.NegativeOne, y)), "error",
                      f"point {i}: error yhat - y"))
    if model == "logistic":
        dw, db = _mul(e, x), e
    else:
        dw, db = _mul(sp.Integer(2), e, x), _mul(sp.Integer(2), e)
    steps.append(Step(f"dL_dw_{i}", dw, "gradient", f"point {i}: gradient of its loss in w"))
    steps.append(Step(f"dL_db_{i}", db, "gradient", f"point {i}: gradient of its loss in b"))
    return steps


def _mean_step(name: str, terms: list[str], description: str) -> Step:
    """``name`` = (sum of ``terms``)/n, evaluated as the exact (1/n)*(sum)."""
    if len(terms) == 1:
        return Step(name, sym(terms[0]), "mean", description)
    total = _add(*[sym(t) for t in terms])
    shown = _mul(total, sp.Pow(sp.Integer(len(terms)), -1, evaluate=False))
    return Step(name, shown, "mean", description, numeric=_mul(sp.Rational(1, len(terms)), total))


@lru_cache(maxsize=512)
def regression_trace(model: str, points: int, used: tuple[int, ...]) -> Trace:
    """The trace of one gradient-descent step on ``points`` points using points ``used``."""
    if model not in _LOSS_OF:
        raise ChainruleError(f"unknown model '{model}'; valid: linear, logistic")
    if not used or sorted(set(used)) != list(used) or used[0] < 1 or used[-1] > points:
        raise ChainruleError(f"points used {used} must be distinct and within 1..{points}")
    steps: list[Step] = []
    for i in used:
        steps += _point_steps(model, i)
    n = len(used)
    for p in ("w", "b"):
        steps.append(_mean_step(f"dJ_d{p}", [f"dL_d{p}_{i}" for i in used],
                                f"mean gradient in {p} over the {n} points used" if n > 1
                                else f"gradient in {p} of the one point used"))
    for p in ("w", "b"):
        steps.append(Step(
            f"{p}_new", _add(sym(p), _mul(sp.S.NegativeOne, sym("eta"), sym(f"dJ_d{p}"))),
            "update", f"gradient descent update of {p}"))
    givens = [name for i in range(1, points + 1) for name in (f"x{i}", f"y{i}")]
    givens += ["w", "b", "eta"]
    return Trace(
        givens=tuple(givens), steps=tuple(steps), tex_names=_tex_names(points, used),
        title=f"{_MODEL_TITLES[model]}, {points} points, using {', '.join(map(str, used))}",
        meta={"model": model, "points": points, "used": used},
    )


def _tenths(rng: np.random.Generator, low: int, high: int, size: int) -> np.ndarray:
    """``size`` distinct non-zero multiples of 0.1 in [low/10, high/10]."""
    pool = np.array([k for k in range(low, high + 1) if k != 0])
    return rng.choice(pool, size=size, replace=False) / 10


def _derivation(model: str) -> list[str]:
    """The per-point gradient in general, LaTeX lines."""
    if model == "logistic":
        return [
            r"L_{i} = -\left[y_{i} \log \hat{y}_{i} + (1 - y_{i}) \log(1 - \hat{y}_{i})\right],"
            r" \quad \hat{y}_{i} = \sigma(z_{i}), \quad z_{i} = w x_{i} + b",
            r"\frac{\partial L_{i}}{\partial z_{i}} = \hat{y}_{i} - y_{i} = e_{i}"
            r" \quad \text{(sigmoid + BCE)}",
            r"\frac{\partial L_{i}}{\partial w} = \frac{\partial L_{i}}{\partial z_{i}}"
            r" \frac{\partial z_{i}}{\partial w} = e_{i} x_{i}, \quad "
            r"\frac{\partial L_{i}}{\partial b} = e_{i}",
        ]
    return [
        r"L_{i} = (y_{i} - \hat{y}_{i})^{2}, \quad \hat{y}_{i} = w x_{i} + b",
        r"\frac{\partial L_{i}}{\partial \hat{y}_{i}} = -2(y_{i} - \hat{y}_{i})"
        r" = 2(\hat{y}_{i} - y_{i}) = 2 e_{i}",
        r"\frac{\partial L_{i}}{\partial w} = \frac{\partial L_{i}}{\partial \hat{y}_{i}}"
        r" \frac{\partial \hat{y}_{i}}{\partial w} = 2 e_{i} x_{i}, \quad "
        r"\frac{\partial L_{i}}{\partial b} = 2 e_{i}",
    ]


def _rule(method: str, points: int, used: tuple[int, ...]) -> dict[str, str]:
    """The notes' update rule for the method and the cost it averages, in LaTeX."""
    n = len(used)
    theta = r"\theta := \theta - \eta \nabla_{\theta} "
    if method == "batch":
        return {"rule": theta + r"J(\theta)",
                "cost": rf"J = \frac{{1}}{{{n}}} \sum_{{i=1}}^{{{n}}} L_{{i}}"}
    if method == "sgd":
        i = used[0]
        return {"rule": theta + rf"J(\theta; x^{{({i})}}, y^{{({i})}})", "cost": f"J = L_{{{i}}}"}
    batch = ", ".join(map(str, used))
    return {"rule": theta + r"J(\theta; x^{(B)}, y^{(B)})",
            "cost": rf"J = \frac{{1}}{{{n}}} \sum_{{i \in B}} L_{{i}}, \quad B = \{{{batch}\}}"}


@register
class GdStepFamily(Family):
    """One step of batch GD, SGD or mini-batch GD on linear or logistic regression."""

    name = "gd_step"
    code = "gd"
    title = "Gradient descent step"
    options = GD_OPTIONS

    def parse_options(self, raw: Mapping[str, Any], where: str = "") -> dict[str, Any]:
        """Options with defaults filled in; also checks options that depend on each other."""
        options = super().parse_options(raw, where)
        prefix = f"{where}: " if where else ""
        size = options["batch_size"]
        if size is not None and options["method"] != "minibatch":
            raise ChainruleError(f"{prefix}option 'batch_size' applies to method minibatch only")
        if size is not None and size >= options["points"]:
            raise ChainruleError(
                f"{prefix}option 'batch_size': a mini-batch of {size} needs more than "
                f"{size} points (points is {options['points']})"
            )
        if options["eta"] is not None and options["eta"] <= 0:
            raise ChainruleError(f"{prefix}option 'eta': must be positive")
        return options

    def settle(self, rng: np.random.Generator, options: Mapping[str, Any]) -> dict[str, Any]:
        """The mini-batch size, when left to chance, once per position of a set."""
        settled = dict(options)
        if settled["method"] == "minibatch" and settled["batch_size"] is None:
            settled["batch_size"] = int(rng.integers(2, settled["points"]))
        return settled

    def min_decimals(self, options: Mapping[str, Any]) -> int:
        """Two: with fewer, errors and gradients of 0.05 round away."""
        return 2

    def draw(self, rng: np.random.Generator, options: Mapping[str, Any]) -> Draft:
        """Draw the dataset, the points used, the parameters and the learning rate."""
        model, method, n_points = options["model"], options["method"], options["points"]
        if method == "batch":
            used = tuple(range(1, n_points + 1))
        else:
            size = 1 if method == "sgd" else options["batch_size"]
            if size is None:
                size = int(rng.integers(2, n_points))
            used = tuple(sorted(int(i) + 1 for i in rng.choice(n_points, size, replace=False)))
        xs = _tenths(rng, -20, 20, n_points)
        if model == "logistic":
            ys = rng.integers(0, 2, size=n_points).astype(float)
        else:
            slope, intercept = _tenths(rng, -15, 15, 2)
            noise = rng.normal(0.0, 0.3, size=n_points)
            ys = np.clip(np.round((slope * xs + intercept + noise) * 10) / 10, -4.0, 4.0)
        w, b = _tenths(rng, -10, 10, 2)
        eta = options["eta"] if options["eta"] is not None else rng.choice(_ETAS[model])
        givens: dict[str, float] = {}
        for i in range(n_points):
            givens[f"x{i + 1}"] = float(xs[i])
            givens[f"y{i + 1}"] = float(ys[i]) + 0.0
        givens.update(w=float(w), b=float(b), eta=float(eta))
        trace = regression_trace(model, n_points, used)
        loss = LOSSES[_LOSS_OF[model]]
        context = {
            "model": model,
            "model_title": _MODEL_TITLES[model],
            "method": method,
            "method_title": _METHOD_TITLES[method],
            "loss": loss.key,
            "loss_title": loss.title,
            "points": n_points,
            "used": list(used),
            "used_text": _and_list(used),
            "n_used": len(used),
            "data": [{"i": i, "x": givens[f"x{i}"], "y": givens[f"y{i}"], "used": i in used}
                     for i in range(1, n_points + 1)],
            "point_steps": {str(i): [s.name for s in trace.steps if _point_of(s.name) == i]
                            for i in used},
            "derivation": _derivation(model),
            **_rule(method, n_points, used),
        }
        title = f"{self.title}: {_METHOD_TITLES[method]}, {_MODEL_TITLES[model]}"
        return Draft(trace, givens, trace.names, title, context)

    def accept(self, draft: Draft, exact: Mapping[str, float]) -> bool:
        """Good by hand: clear errors and gradients, probabilities away from 0 and 1."""
        if not super().accept(draft, exact):
            return False
        trace = draft.trace
        assert trace is not None
        ys = [draft.givens[f"y{i}"] for i in range(1, trace.meta["points"] + 1)]
        if trace.meta["model"] == "logistic" and len(set(ys)) < 2:
            return False
        for i in trace.meta["used"]:
            if abs(exact[f"e{i}"]) < _MIN_ERROR:
                return False
            if trace.meta["model"] == "logistic" and not 0.05 <= exact[f"yhat{i}"] <= 0.95:
                return False
        return abs(exact["dJ_dw"]) >= _MIN_GRADIENT and abs(exact["dJ_db"]) >= _MIN_GRADIENT


def _and_list(items: tuple[int, ...]) -> str:
    """``(2, 4, 5)`` -> "2, 4 and 5"."""
    words = [str(i) for i in items]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _point_of(name: str) -> int | None:
    """The point a per-point step belongs to (``dL_dw_3`` -> 3, ``yhat3`` -> 3)."""
    for stem in ("dL_dw_", "dL_db_", "yhat", "z", "e"):
        rest = name[len(stem):]
        if name.startswith(stem) and rest.isdigit():
            return int(rest)
    return None
