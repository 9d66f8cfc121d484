"""Every loss of the notes as SymPy: the per-point loss, the cost, and their derivatives.

Conventions where textbooks and libraries differ are explicit parameters whose defaults
match the notes:

* ``mse``: ``half=False`` gives (y - yhat)^2 as in the notes; ``half=True`` gives
  1/2 (y - yhat)^2, whose derivative is yhat - y.
* ``huber``: ``half=True`` (the notes, and PyTorch's HuberLoss) gives 1/2 r^2 inside
  |r| < delta and delta |r| - 1/2 delta^2 outside; ``half=False`` doubles both pieces.
* ``hinge``: labels in {-1, 1} (``labels="pm1"``); ``labels="01"`` maps y to 2y - 1 first.
* ``kl``: ``direction="forward"`` is D_KL(y || yhat) = sum y log(y / yhat), the true
  distribution first (PyTorch's KLDivLoss); ``"reverse"`` is D_KL(yhat || y).
* ``lsce``: the smoothed target is (1 - epsilon) y + epsilon / K over K classes.

A point with K outputs sums the loss over the outputs; the cost is the mean over N points.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from chainrule.errors import ChainruleError
from chainrule.symbolic.forms import bce_terms, difference, per_output
from chainrule.symbolic.functions import step
from chainrule.symbolic.printing import latex, plain
from chainrule.symbolic.registry import lookup
from chainrule.symbolic.trace import sym

__all__ = [
    "LOSSES",
    "Derivation",
    "Loss",
    "LossInfo",
    "comparison_rows",
    "get_loss",
]

Vector = Sequence[sp.Expr]
Params = Mapping[str, sp.Expr]


def _neg(expr: sp.Expr) -> sp.Expr:
    """-(expr) kept as written, not distributed."""
    return sp.Mul(sp.S.NegativeOne, expr, evaluate=False)


def _scaled(c: sp.Expr, term: sp.Expr) -> sp.Expr:
    return term if c == 1 else sp.Mul(c, term, evaluate=False)

#: LaTeX for the names losses use.
TEX_NAMES: dict[str, str] = {
    "y": "y",
    "yhat": r"\hat{y}",
    "z": "z",
    "N": "N",
    "K": "K",
    "huber_delta": r"\delta",
    "epsilon": r"\varepsilon",
}


@dataclass(frozen=True)
class LossInfo:
    """What the notes' Quick Comparison table says of a loss, and how to set it up."""

    key: str
    title: str
    typical_use: str
    output_activation: str
    notes: str
    #: The activation a network uses at its output with this loss by default.
    default_output: str
    #: Losses over class probabilities need K >= 2 outputs that sum to one.
    distribution: bool = False
    #: In the notes' Quick Comparison table (MAE, Huber, ... are; label smoothing is not).
    in_notes_table: bool = True
    parameters: Mapping[str, tuple[Any, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Derivation:
    """A short chain of equalities with a reason for each line (LaTeX)."""

    #: (LaTeX, plain text, reason) for each line.
    lines: tuple[tuple[str, str, str], ...]
    result: list[sp.Expr]


def _diff(t: sp.Expr, p: sp.Expr) -> sp.Expr:
    return sp.Add(t, -p, evaluate=False)


def _mse(self: Loss, t: sp.Expr, p: sp.Expr, prm: Params) -> sp.Expr:
    return _scaled(sp.Rational(1, 2) if self.params["half"] else sp.S.One, _diff(t, p) ** 2)


def _mae(self: Loss, t: sp.Expr, p: sp.Expr, prm: Params) -> sp.Expr:
    return sp.Abs(_diff(t, p))


def _huber(self: Loss, t: sp.Expr, p: sp.Expr, prm: Params) -> sp.Expr:
    d, half, r = prm["delta"], sp.Rational(1, 2), _diff(t, p)
    if self.params["half"]:
        inside, outside = half * r**2, d * sp.Abs(r) - half * d**2
    else:
        inside, outside = r**2, 2 * d * sp.Abs(r) - d**2
    return sp.Piecewise((inside, sp.Abs(r) < d), (outside, True))


def _bce(self: Loss, t: sp.Expr, p: sp.Expr, prm: Params) -> sp.Expr:
    return _neg(sp.Add(*bce_terms(t, p), evaluate=False))


def _hinge(self: Loss, t: sp.Expr, p: sp.Expr, prm: Params) -> sp.Expr:
    label = 2 * t - 1 if self.params["labels"] == "01" else t
    return sp.Max(0, 1 - label * p)


def _kl(self: Loss, t: sp.Expr, p: sp.Expr, prm: Params) -> sp.Expr:
    if self.params["direction"] == "reverse":
        return p * sp.log(p / t)
    return t * sp.log(t / p)


# Cross-entropies are written -(sum of terms): these give the term inside the sum.
def _cce_inner(self: Loss, t: sp.Expr, p: sp.Expr, prm: Params) -> sp.Expr:
    return t * sp.log(p)


def _lsce_inner(self: Loss, t: sp.Expr, p: sp.Expr, prm: Params) -> sp.Expr:
    eps = prm["epsilon"]
    return ((1 - eps) * t + eps / prm["K"]) * sp.log(p)


_INFO = [
    LossInfo(
        "mse", "Mean Squared Error (MSE)", "Regression", "Linear",
        "Sensitive to outliers", "linear",
        parameters={"half": (False, "use 1/2 (y - yhat)^2")},
    ),
    LossInfo(
        "mae", "Mean Absolute Error (MAE)", "Regression", "Linear",
        "More robust than MSE", "linear",
    ),
    LossInfo(
        "huber", "Huber", "Regression", "Linear", "Balance between MSE & MAE", "linear",
        parameters={
            "delta": (1.0, "threshold between the quadratic and linear pieces"),
            "half": (True, "1/2 r^2 inside |r| < delta (the notes); False doubles the loss"),
        },
    ),
    LossInfo(
        "bce", "Binary Cross-Entropy", "Binary classification", "Sigmoid",
        "Penalizes wrong confident predictions", "sigmoid",
    ),
    LossInfo(
        "cce", "Categorical Cross-Entropy", "Multiclass classification", "Softmax",
        "Standard for classification", "softmax", distribution=True,
    ),
    LossInfo(
        "hinge", "Hinge Loss", "Classification (SVM)", "Linear", "Margin-based", "linear",
        parameters={"labels": ("pm1", "label set: 'pm1' for {-1, 1}, '01' for {0, 1}")},
    ),
    LossInfo(
        "kl", "KL Divergence", "Probabilistic models", "Softmax/Prob dists",
        "Used in VAEs, NLP, etc.", "softmax", distribution=True,
        parameters={
            "direction": ("forward", "'forward' is D_KL(y || yhat); 'reverse' D_KL(yhat || y)"),
        },
    ),
    LossInfo(
        "lsce", "Cross-Entropy with Label Smoothing", "Multiclass classification", "Softmax",
        "Prevents overconfidence", "softmax", distribution=True, in_notes_table=False,
        parameters={"epsilon": (0.1, "smoothing: target (1 - epsilon) y + epsilon / K")},
    ),
]

_TERM: dict[str, Callable[[Loss, sp.Expr, sp.Expr, Params], sp.Expr]] = {
    "mse": _mse, "mae": _mae, "huber": _huber, "bce": _bce, "cce": _cce_inner,
    "hinge": _hinge, "kl": _kl, "lsce": _lsce_inner,
}
#: Losses displayed as -(sum over classes), with _TERM giving the summand inside.
_NEGATED = frozenset({"cce", "lsce"})

_CHOICES = {"labels": ("pm1", "01"), "direction": ("forward", "reverse")}


class Loss:
    """A loss with its parameters fixed. Build with :func:`get_loss`."""

    def __init__(self, info: LossInfo, **params: Any) -> None:
        self.info = info
        unknown = set(params) - set(info.parameters)
        if unknown:
            valid = ", ".join(info.parameters) or "none"
            raise ChainruleError(
                f"loss '{info.key}' has no parameter {sorted(unknown)[0]!r}; valid: {valid}"
            )
        self.params: dict[str, Any] = {k: v[0] for k, v in info.parameters.items()}
        self.params.update(params)
        for name, value in self.params.items():
            if name in _CHOICES and value not in _CHOICES[name]:
                raise ChainruleError(
                    f"loss '{info.key}': {name} must be one of {', '.join(_CHOICES[name])}"
                )
            if name in ("delta", "epsilon"):
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ChainruleError(f"loss '{info.key}': {name} must be a number")
                low_ok = value > 0 if name == "delta" else 0 <= value < 1
                if not low_ok:
                    rule = "> 0" if name == "delta" else "in [0, 1)"
                    raise ChainruleError(f"loss '{info.key}': {name} must be {rule}")

    @property
    def key(self) -> str:
        return self.info.key

    def __repr__(self) -> str:
        extra = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"Loss({self.key}{', ' + extra if extra else ''})"

    def parameter(self, name: str) -> sp.Expr:
        """A numeric parameter as an exact SymPy number (0.1 is 1/10)."""
        return sp.Rational(str(self.params[name]))

    # -- the per-point loss and its derivative -----------------------------------------
    def symbols(self) -> dict[str, sp.Expr]:
        """The loss's numeric parameters as symbols (delta, epsilon), for general forms."""
        names = {"delta": "huber_delta", "epsilon": "epsilon"}
        return {k: sym(names[k]) for k in self.params if k in names}

    def numbers(self) -> dict[str, sp.Expr]:
        """The loss's numeric parameters as exact SymPy numbers."""
        return {k: self.parameter(k) for k in self.symbols()}

    def point(self, y: Vector, yhat: Vector, *, symbolic: bool = False) -> sp.Expr:
        """L for one point with targets ``y`` and predictions ``yhat`` (one per output).

        With ``symbolic=True`` parameters stay symbols (delta, epsilon, K) for display.
        """
        if len(y) != len(yhat) or not y:
            raise ValueError("y and yhat must have the same, non-zero length")
        if self.info.distribution and len(y) < 2:
            raise ChainruleError(f"loss '{self.key}' needs at least 2 outputs (classes)")
        prm = self._prm(len(y), symbolic)
        terms = per_output(lambda t, p: _TERM[self.key](self, t, p, prm), y, yhat)
        total = sp.Add(*terms, evaluate=False) if len(terms) > 1 else terms[0]
        return _neg(total) if self.key in _NEGATED else total

    def _prm(self, classes: int, symbolic: bool) -> dict[str, sp.Expr]:
        prm: dict[str, sp.Expr] = self.symbols() if symbolic else self.numbers()
        prm["K"] = sym("K") if symbolic else sp.Integer(classes)
        return prm

    def term(self, t: sp.Expr, p: sp.Expr, classes: int = 1) -> sp.Expr:
        """The loss of one output (the point loss is the sum of these over the outputs)."""
        value = _TERM[self.key](self, t, p, self._prm(classes, False))
        return -value if self.key in _NEGATED else value

    def numeric(self, expr: sp.Expr) -> sp.Expr | None:
        """An equal form of a point loss or term that is safe to evaluate, where the displayed
        one is not: KL's log(y / yhat) becomes log(y) - log(yhat), so each probability is
        clipped inside its own log (0 log 0 = 0, as for cross-entropy). None if not needed."""
        if self.key != "kl":
            return None
        return sp.expand_log(expr, force=True)

    def term_derivative(self, t: sp.Expr, p: sp.Expr, classes: int = 1) -> sp.Expr:
        """dL/dyhat_k of one output: it involves that output's target and prediction only."""
        return self._per_output(self.derivative, t, p, classes)

    def combined_term(
        self, activation: str, t: sp.Expr, p: sp.Expr, classes: int = 1
    ) -> sp.Expr | None:
        """dL/dz_k of one output where :meth:`combined` has a simple form, else None."""
        if self.combined(activation, *self._padded(t, p, classes)) is None:
            return None
        return self._per_output(lambda y, q: self.combined(activation, y, q) or [], t, p,
                                classes)

    def _padded(self, t: sp.Expr, p: sp.Expr, classes: int) -> tuple[list[sp.Expr], ...]:
        k = max(classes, 2 if self.info.distribution else 1)
        ys = [t] + [sp.Dummy(f"y{i}", real=True) for i in range(2, k + 1)]
        ps = [p] + [sp.Dummy(f"p{i}", real=True) for i in range(2, k + 1)]
        return ys, ps

    def _per_output(self, fn: Callable[..., list[sp.Expr]], t: sp.Expr, p: sp.Expr,
                    classes: int) -> sp.Expr:
        ys, ps = self._padded(t, p, classes)
        result = fn(ys, ps)[0]
        if result.free_symbols & (set(ys[1:]) | set(ps[1:])):  # pragma: no cover
            raise AssertionError(f"loss {self.key} couples its outputs")
        return result

    def derivative(self, y: Vector, yhat: Vector, *, symbolic: bool = False) -> list[sp.Expr]:
        """dL/dyhat_k for each output k, as SymPy differentiates the point loss.

        At a kink (MAE at 0, hinge at the margin) the derivative is the subgradient 0 for the
        step and sign(0) = 0.
        """
        loss = self.point(y, yhat, symbolic=symbolic)

        def derivative(t: sp.Expr, p: sp.Expr) -> sp.Expr:
            d = sp.diff(_terms_with(loss, p), p)
            return _tidy(d.replace(sp.Heaviside, lambda *a: step(a[0])))

        return per_output(derivative, y, yhat)

    def combined(self, activation: str, y: Vector, yhat: Vector) -> list[sp.Expr] | None:
        """dL/dz_k through the output activation where the notes rely on a simple form.

        sigmoid + BCE and softmax + CCE (and softmax + KL, softmax + label smoothing) give
        yhat - target; linear output gives dL/dyhat itself. None where there is no such form.
        """
        key = self.key
        if activation == "linear":
            return self.derivative(y, yhat)
        if activation == "sigmoid" and key == "bce":
            return [difference(p, t) for t, p in zip(y, yhat, strict=True)]
        if activation == "softmax" and (
            key == "cce" or (key == "kl" and self.params["direction"] == "forward")
        ):
            return [difference(p, t) for t, p in zip(y, yhat, strict=True)]
        if activation == "softmax" and key == "lsce":
            return [p - s for s, p in zip(self.smoothed(y), yhat, strict=True)]
        return None

    def smoothed(self, y: Vector) -> list[sp.Expr]:
        """Label-smoothed targets (1 - epsilon) y + epsilon / K."""
        eps = self.parameter("epsilon")
        return [(1 - eps) * t + eps / len(y) for t in y]

    # -- general forms for display -------------------------------------------------------
    @property
    def classes(self) -> int:
        """How many outputs the general form shows (K symbolic for class losses)."""
        return 3 if self.info.distribution else 1

    def _vectors(self) -> tuple[list[sp.Symbol], list[sp.Symbol]]:
        if not self.info.distribution:
            return [sym("y")], [sym("yhat")]
        k = self.classes
        return [sym(f"y{i}") for i in range(1, k + 1)], [sym(f"yhat{i}") for i in range(1, k + 1)]

    def general(self) -> dict[str, sp.Expr]:
        """The point loss, the cost and dL/dyhat in general (indexed) form, for display.

        Class losses are written with an index k over K classes, scalar losses in y and yhat;
        the cost averages over N points indexed by i.
        """
        y, yhat = self._vectors()
        loss = self.point(y, yhat, symbolic=True)
        derivative = self.derivative(y, yhat, symbolic=True)[0]
        i, k = sp.Symbol("i", integer=True), sp.Symbol("k", integer=True)
        n, big_k = sym("N"), sym("K")
        yb, pb = sp.IndexedBase(sym("y")), sp.IndexedBase(sym("yhat"))
        if self.info.distribution:
            point = self._class_sum(yb[k], pb[k], k, big_k)
            # dL/dyhat_1 on K = 3 involves class 1 only: read it with a general index k.
            others = (set(y[1:]) | set(yhat[1:])) & derivative.free_symbols
            if others:  # pragma: no cover - would mean a loss that couples classes
                raise AssertionError(f"derivative of {self.key} couples classes")
            deriv = derivative.xreplace({y[0]: yb[k], yhat[0]: pb[k]})
            cost_point = self._class_sum(yb[i, k], pb[i, k], k, big_k)
        else:
            point = loss
            deriv = derivative
            cost_point = self.point([yb[i]], [pb[i]], symbolic=True)
        cost = sp.Mul(1 / n, sp.Sum(cost_point, (i, 1, n)), evaluate=False)
        return {"point": point, "cost": cost, "derivative": deriv}

    def _class_sum(self, t: sp.Expr, p: sp.Expr, k: sp.Symbol, big_k: sp.Expr) -> sp.Expr:
        """A class loss written as a sum over classes k = 1..K."""
        if self.key == "cce":
            return -sp.Sum(t * sp.log(p), (k, 1, big_k))
        if self.key == "lsce":
            eps = sym("epsilon")
            return -sp.Sum(((1 - eps) * t + eps / big_k) * sp.log(p), (k, 1, big_k))
        if self.params["direction"] == "reverse":
            return sp.Sum(p * sp.log(p / t), (k, 1, big_k))
        return sp.Sum(t * sp.log(t / p), (k, 1, big_k))

    def tex(self) -> dict[str, str]:
        """LaTeX of the general point loss, cost and derivative."""
        general = self.general()
        result = {k: latex(v, TEX_NAMES) for k, v in general.items()}
        cost_sum = general["cost"].args[1]
        result["cost"] = r"\frac{1}{N} " + latex(cost_sum, TEX_NAMES)
        return result

    def text(self) -> dict[str, str]:
        """Plain text of the general point loss, cost and derivative."""
        general = self.general()
        result = {k: plain(v) for k, v in general.items()}
        result["cost"] = "(1/N)*" + plain(general["cost"].args[1])
        return result

    def derivative_lhs_tex(self) -> str:
        return (
            r"\frac{\partial L}{\partial \hat{y}_{k}}"
            if self.info.distribution
            else r"\frac{\partial L}{\partial \hat{y}}"
        )

    def combined_derivation(self, activation: str | None = None) -> Derivation | None:
        """How dL/dz simplifies through the output activation, line by line, checked by SymPy."""
        activation = activation or self.info.default_output
        if activation == "sigmoid" and self.key == "bce":
            return _sigmoid_bce(self)
        if activation == "softmax" and self.combined("softmax", *self._vectors()) is not None:
            return _softmax_derivation(self)
        if activation == "linear":
            y, yhat = self._vectors()
            d = self.derivative(y, yhat)[0]
            lines = (
                (r"\hat{y} = z, \quad \frac{\partial \hat{y}}{\partial z} = 1",
                 "yhat = z, dyhat/dz = 1", "linear output"),
                (r"\frac{\partial L}{\partial z} = \frac{\partial L}{\partial \hat{y}} = "
                 + latex(d, TEX_NAMES), f"dL/dz = dL/dyhat = {plain(d)}", "chain rule"),
            )
            return Derivation(lines, [d])
        return None


def _terms_with(expr: sp.Expr, p: sp.Symbol) -> sp.Expr:
    """The one term of a sum that holds ``p`` (else ``expr``): what differentiating the sum
    by ``p`` gives the same derivative as. SymPy differentiates a sum term by term, every
    other term gives exactly 0, and a sum of one term and zeros is that term's derivative
    as it is; so the other terms need no differentiating (a network's point loss has a
    term per output: 64 outputs made 64² derivatives, most of a large derive's time)."""
    if type(expr) is not sp.Add:
        return expr
    having = [term for term in expr.args if p in term.free_symbols]
    return having[0] if len(having) == 1 else expr


def _tidy(expr: sp.Expr) -> sp.Expr:
    """A derivative in a short, readable form (without changing its value)."""
    candidates = [expr, sp.factor_terms(expr), -sp.factor_terms(-expr)]
    return min(candidates, key=lambda e: (sp.count_ops(e), len(str(e))))


def _sigmoid_bce(loss: Loss) -> Derivation:
    y, p = sym("y"), sym("yhat")
    dl = loss.derivative([y], [p])[0]
    product = sp.Mul(dl, p * (1 - p), evaluate=False)
    result = sp.simplify(dl * p * (1 - p))
    if sp.simplify(result - (p - y)) != 0:  # pragma: no cover - a SymPy regression
        raise AssertionError("sigmoid + BCE did not simplify to yhat - y")
    t = TEX_NAMES
    lines = (
        (r"\frac{\partial L}{\partial \hat{y}} = " + latex(dl, t), f"dL/dyhat = {plain(dl)}",
         "differentiate the loss"),
        (r"\frac{\partial \hat{y}}{\partial z} = \sigma'(z) = \hat{y}\left(1 - \hat{y}\right)",
         "dyhat/dz = sigmoid'(z) = yhat*(1 - yhat)", "sigmoid identity"),
        (r"\frac{\partial L}{\partial z} = \frac{\partial L}{\partial \hat{y}}"
         r"\frac{\partial \hat{y}}{\partial z} = " + latex(product, t),
         f"dL/dz = dL/dyhat * dyhat/dz = {plain(product)}", "chain rule"),
        (r"= -y\left(1 - \hat{y}\right) + \left(1 - y\right)\hat{y} = \hat{y} - y",
         "= -y*(1 - yhat) + (1 - y)*yhat = yhat - y", "simplify"),
    )
    return Derivation(lines, [p - y])


def _softmax_derivation(loss: Loss) -> Derivation:
    k = 3
    ys = [sym(f"y{i}") for i in range(1, k + 1)]
    ps = [sym(f"yhat{i}") for i in range(1, k + 1)]
    zs = [sym(f"z{i}") for i in range(1, k + 1)]
    target = loss.smoothed(ys) if loss.key == "lsce" else ys
    # Check the claim with SymPy on K = 3: differentiate through a real softmax.
    soft = [sp.exp(zi) / sum(sp.exp(zj) for zj in zs) for zi in zs]
    expr = loss.point(ys, soft)
    grad = sp.diff(expr, zs[0])
    claimed = soft[0] - target[0]
    check = (grad - claimed).xreplace({ys[2]: 1 - ys[0] - ys[1]})
    check = check.subs({zs[0]: sp.Rational(3, 10), zs[1]: sp.Rational(-1, 2), zs[2]: 1})
    check = check.subs({ys[0]: sp.Rational(1, 5), ys[1]: sp.Rational(1, 3)})
    if abs(sp.N(check, 30)) > 1e-25:  # pragma: no cover - a SymPy regression
        raise AssertionError(f"softmax + {loss.key} did not reduce to yhat - target")
    deriv_text = {
        "cce": "-y_k/yhat_k", "kl": "-y_k/yhat_k",
        "lsce": "-t_k/yhat_k, t_k = (1 - epsilon)*y_k + epsilon/K",
    }[loss.key]
    deriv_tex = {
        "cce": r"-\frac{y_{k}}{\hat{y}_{k}}",
        "kl": r"-\frac{y_{k}}{\hat{y}_{k}}",
        "lsce": r"-\frac{\tilde{y}_{k}}{\hat{y}_{k}}, \quad "
        r"\tilde{y}_{k} = (1 - \varepsilon) y_{k} + \frac{\varepsilon}{K}",
    }[loss.key]
    tgt = r"\tilde{y}" if loss.key == "lsce" else "y"
    tt = "t" if loss.key == "lsce" else "y"
    lines: tuple[tuple[str, str, str], ...] = (
        (r"\frac{\partial L}{\partial \hat{y}_{k}} = " + deriv_tex,
         f"dL/dyhat_k = {deriv_text}", "differentiate the loss"),
        (r"\frac{\partial \hat{y}_{k}}{\partial z_{j}} = \hat{y}_{k}\left(\delta_{kj} - "
         r"\hat{y}_{j}\right)", "dyhat_k/dz_j = yhat_k*([k = j] - yhat_j)", "softmax Jacobian"),
        (rf"\frac{{\partial L}}{{\partial z_{{j}}}} = \sum_{{k}} -\frac{{{tgt}_{{k}}}}"
         rf"{{\hat{{y}}_{{k}}}}\hat{{y}}_{{k}}\left(\delta_{{kj}} - \hat{{y}}_{{j}}\right) = "
         rf"-{tgt}_{{j}} + \hat{{y}}_{{j}}\sum_{{k}} {tgt}_{{k}}",
         f"dL/dz_j = sum_k -({tt}_k/yhat_k)*yhat_k*([k = j] - yhat_j) = "
         f"-{tt}_j + yhat_j*sum_k {tt}_k", "chain rule over all k"),
        (rf"= \hat{{y}}_{{j}} - {tgt}_{{j}}", f"= yhat_j - {tt}_j",
         "the targets sum to 1 (SymPy needs this identity stated)"),
    )
    if loss.key == "kl":
        lines = (
            (r"D_{KL} = \sum_k y_k \log y_k - \sum_k y_k \log \hat{y}_k",
             "D_KL = sum_k y_k*log(y_k) - sum_k y_k*log(yhat_k)",
             "the first sum does not depend on z"),
            *lines,
        )
    return Derivation(lines, [p - t for t, p in zip(target, ps, strict=True)])


LOSSES: dict[str, LossInfo] = {info.key: info for info in _INFO}

_ALIASES = {
    "mean_squared_error": "mse", "l2": "mse", "mean_absolute_error": "mae", "l1": "mae",
    "binary_cross_entropy": "bce", "log_loss": "bce", "logloss": "bce",
    "categorical_cross_entropy": "cce", "cross_entropy": "cce", "ce": "cce",
    "kl_divergence": "kl", "kld": "kl", "label_smoothing": "lsce",
    "smooth_ce": "lsce", "smoothed_cross_entropy": "lsce", "smooth_l1": "huber",
}


def get_loss(name: str, **params: Any) -> Loss:
    """The loss called ``name`` with its conventions set (see the module docstring)."""
    return Loss(lookup("loss", name, LOSSES, _ALIASES), **params)


def comparison_rows(include_all: bool = False) -> list[dict[str, str]]:
    """The notes' Quick Comparison table, from the losses' metadata."""
    rows = []
    for info in LOSSES.values():
        if info.in_notes_table or include_all:
            rows.append(
                {
                    "loss": info.title,
                    "typical_use": info.typical_use,
                    "output_activation": info.output_activation,
                    "notes": info.notes,
                }
            )
    return rows

