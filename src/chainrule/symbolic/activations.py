"""Activation functions, each with its derivative in the identity form students use.

sigma' = sigma(1 - sigma), tanh' = 1 - tanh^2, ReLU' = step, linear' = 1; softmax has the
Jacobian d a_k / d z_j = a_k (delta_kj - a_j).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sympy as sp

from chainrule.symbolic.forms import times_one_minus
from chainrule.symbolic.functions import relu, sigmoid, step
from chainrule.symbolic.registry import lookup

__all__ = ["ACTIVATIONS", "Activation", "get_activation"]


@dataclass(frozen=True)
class Activation:
    """An activation function f with f'(z) written in terms of a = f(z) where possible."""

    key: str
    title: str
    tex: str
    forward: Callable[[sp.Expr], sp.Expr]
    #: f'(z) from (a, z): the identity form, e.g. a*(1 - a) for the sigmoid.
    derivative: Callable[[sp.Expr, sp.Expr], sp.Expr]
    identity_tex: str
    #: softmax is the one activation that mixes the units of a layer.
    vector: bool = False

    @property
    def derivative_is_one(self) -> bool:
        return self.key == "linear"

    def prime_tex(self, argument_tex: str) -> str:
        """``\\sigma'(z_1)`` for this activation at an argument."""
        name = self.tex if self.key != "linear" else "f"
        return rf"{name}'\left({argument_tex}\right)"

    def softmax(self, zs: Sequence[sp.Expr]) -> list[sp.Expr]:
        """a_k = e^{z_k} / sum_j e^{z_j}, as displayed."""
        denominator = sp.Add(*[sp.exp(z) for z in zs], evaluate=False)
        return [sp.exp(z) / denominator for z in zs]

    def softmax_stable(self, zs: Sequence[sp.Expr]) -> list[sp.Expr]:
        """The same softmax shifted by max(z): equal, and free of overflow."""
        m = sp.Max(*zs, evaluate=False)  # distinct symbols: nothing to simplify
        denominator = sp.Add(*[sp.exp(z - m) for z in zs])
        return [sp.exp(z - m) / denominator for z in zs]


def _linear(z: sp.Expr) -> sp.Expr:
    return z


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation(
        "sigmoid",
        "Sigmoid",
        r"\sigma",
        sigmoid,
        lambda a, z: times_one_minus(a),
        r"\sigma'(z) = \sigma(z)\left(1 - \sigma(z)\right)",
    ),
    "tanh": Activation(
        "tanh",
        "Tanh",
        r"\tanh",
        sp.tanh,
        lambda a, z: 1 - a**2,
        r"\tanh'(z) = 1 - \tanh^{2}(z)",
    ),
    "relu": Activation(
        "relu",
        "ReLU",
        r"\operatorname{ReLU}",
        relu,
        lambda a, z: step(z),
        r"\operatorname{ReLU}'(z) = \mathbb{1}[z > 0]",
    ),
    "linear": Activation(
        "linear", "Linear", r"", _linear, lambda a, z: sp.S.One, r"f(z) = z,\quad f'(z) = 1"
    ),
    "softmax": Activation(
        "softmax",
        "Softmax",
        r"\operatorname{softmax}",
        _linear,  # not elementwise: see Activation.softmax
        lambda a, z: times_one_minus(a),  # diagonal of the Jacobian
        r"\frac{\partial a_k}{\partial z_j} = a_k\left(\delta_{kj} - a_j\right)",
        vector=True,
    ),
}

_ALIASES = {"logistic": "sigmoid", "identity": "linear", "none": "linear"}


def get_activation(name: str) -> Activation:
    """The activation called ``name`` (sigmoid, tanh, relu, linear, softmax)."""
    return lookup("activation", name, ACTIVATIONS, _ALIASES)
