"""What a formula may name: the problem's givens and steps, the whitelisted functions, e and pi.

Names are matched the way numbers' step names are (``w_{13}``, ``δ3``, ``\\hat{y}``, ``a3``
for ``yhat``) through a ``resolve`` function the checker supplies; everything else is an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import sympy as sp

from chainrule.symbolic.functions import relu, sigmoid, step

__all__ = ["FUNCTIONS", "Function", "Vocabulary", "ascii_name", "name_tex", "name_text"]

GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "η": "eta",
    "θ": "theta", "λ": "lambda", "μ": "mu", "ρ": "rho", "σ": "sigma", "τ": "tau",
    "π": "pi", "ŷ": "yhat", "ϵ": "epsilon",
}
_TEX_WORDS = {"varepsilon": "epsilon", "vartheta": "theta", "varrho": "rho"}
_GREEK_WORDS = ("alpha", "beta", "gamma", "delta", "epsilon", "eta", "theta", "lambda", "mu",
                "rho", "sigma", "tau", "pi")
_TEXT_GREEK = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε",
               "eta": "η", "theta": "θ", "lambda": "λ", "mu": "μ", "rho": "ρ", "sigma": "σ",
               "tau": "τ", "pi": "π"}


def ascii_name(raw: str) -> str:
    """``δ3`` -> ``delta3``, ``ŷ`` -> ``yhat``, ``\\varepsilon`` -> ``epsilon``."""
    if raw.startswith("\\"):
        raw = raw[1:]
        return _TEX_WORDS.get(raw, raw)
    return "".join(GREEK.get(ch, ch) for ch in raw)


@dataclass(frozen=True)
class Function:
    """A whitelisted function: how to build it, and how the notes print it."""

    build: Callable[..., sp.Expr]
    text: str
    tex: str
    arity: tuple[int, int] = (1, 1)
    note: str | None = None


def _log10(x: sp.Expr) -> sp.Expr:
    return sp.log(x) / sp.log(10)


def _sigmoid_prime(x: sp.Expr) -> sp.Expr:
    return sigmoid(x) * (1 - sigmoid(x))


def _tanh_prime(x: sp.Expr) -> sp.Expr:
    return 1 - sp.tanh(x) ** 2


FUNCTIONS: dict[str, Function] = {
    "exp": Function(sp.exp, "exp", r"\exp"),
    "ln": Function(sp.log, "ln", r"\ln"),
    "log": Function(sp.log, "ln", r"\ln", note="log is read as the natural log ln"),
    "log10": Function(_log10, "log10", r"\log_{10}"),
    "sqrt": Function(sp.sqrt, "sqrt", r"\sqrt"),
    "sigma": Function(sigmoid, "σ", r"\sigma"),
    "sigmoid": Function(sigmoid, "σ", r"\sigma"),
    "tanh": Function(sp.tanh, "tanh", r"\tanh"),
    "relu": Function(relu, "ReLU", r"\operatorname{ReLU}"),
    "ReLU": Function(relu, "ReLU", r"\operatorname{ReLU}"),
    "max": Function(sp.Max, "max", r"\max", (2, 8)),
    "min": Function(sp.Min, "min", r"\min", (2, 8)),
    "abs": Function(sp.Abs, "abs", r"\operatorname{abs}"),
    "sign": Function(sp.sign, "sign", r"\operatorname{sign}"),
    "sgn": Function(sp.sign, "sign", r"\operatorname{sign}"),
    "step": Function(step, "step", r"\operatorname{step}"),
    "floor": Function(sp.floor, "floor", r"\operatorname{floor}"),
    "cos": Function(sp.cos, "cos", r"\cos"),
    "sin": Function(sp.sin, "sin", r"\sin"),
    "sigma'": Function(_sigmoid_prime, "σ′", r"\sigma'"),
    "sigmoid'": Function(_sigmoid_prime, "σ′", r"\sigma'"),
    "tanh'": Function(_tanh_prime, "tanh′", r"\tanh'"),
    "relu'": Function(step, "ReLU′", r"\operatorname{ReLU}'"),
}
#: Derivative functions whose value at z_j is the step fprime{j} when the problem has it.
PRIME_FUNCTIONS = ("sigma'", "sigmoid'", "tanh'", "relu'", "f'")
CONSTANTS: dict[str, tuple[sp.Expr, str, str]] = {
    "e": (sp.E, "e", "e"),
    "pi": (sp.pi, "π", r"\pi"),
}


#: Other spellings of given names: epsilon for eps, lr for eta.
_ALIASES = {"epsilon": "eps", "eps": "epsilon", "lr": "eta", "alpha": "eta"}


def _exact(raw: str, names: frozenset[str]) -> str | None:
    return raw if raw in names else None


@dataclass(frozen=True)
class Vocabulary:
    """The names a formula may use, how to match a spelling to one, and how to print them."""

    names: tuple[str, ...]
    tex_names: Mapping[str, str] = field(default_factory=dict)
    resolve: Callable[[str], str | None] | None = None

    def lookup(self, raw: str) -> str | None:
        """The problem name ``raw`` (already ASCII) spells, or None."""
        found = self._lookup(raw)
        if found is None and raw in _ALIASES:
            found = self._lookup(_ALIASES[raw])
        return found

    def _lookup(self, raw: str) -> str | None:
        if self.resolve is not None:
            return self.resolve(raw)
        return _exact(raw, frozenset(self.names))

    def tex(self, name: str) -> str:
        return self.tex_names.get(name) or name_tex(name)

    @classmethod
    def of(cls, names: Sequence[str], tex_names: Mapping[str, str] | None = None,
           resolve: Callable[[str], str | None] | None = None) -> Vocabulary:
        return cls(tuple(names), dict(tex_names or {}), resolve)


def name_tex(name: str) -> str:
    """A generic LaTeX form: ``delta3`` -> ``\\delta_{3}``, ``w1_12`` -> ``w_{1,12}``."""
    m = re.fullmatch(r"d([A-Z])_d(.+)", name)
    if m:
        return r"\frac{\partial " + m.group(1) + r"}{\partial " + name_tex(m.group(2)) + "}"
    m = re.fullmatch(r"fprime(\d+)", name)
    if m:
        return r"f'\left(z_{" + m.group(1) + r"}\right)"
    m = re.fullmatch(r"([A-Za-z]+?)(hat)?_?(\d+(?:_\d+)?)?", name)
    if not m:
        return r"\mathrm{" + name.replace("_", r"\_") + "}"
    base, hat, index = m.groups()
    base_tex = "\\" + base if base in _GREEK_WORDS else base
    if hat:
        base_tex = r"\hat{" + base_tex + "}"
    if index:
        base_tex += "_{" + index.replace("_", ",") + "}"
    return base_tex


def name_text(name: str) -> str:
    """The notes' plain notation: ``delta3`` -> ``δ3``, ``yhat`` -> ``ŷ``, ``dL_dw13`` ->
    ``∂L/∂w13``, ``fprime1`` -> ``f′(z1)``."""
    m = re.fullmatch(r"d([A-Z])_d(.+)", name)
    if m:
        return f"∂{m.group(1)}/∂{name_text(m.group(2))}"
    m = re.fullmatch(r"fprime(\d+)", name)
    if m:
        return f"f′(z{m.group(1)})"
    if name.startswith("yhat"):
        return "ŷ" + name[4:]
    for word in sorted(_TEXT_GREEK, key=len, reverse=True):
        if name.startswith(word) and (len(name) == len(word) or not name[len(word)].isalpha()):
            return _TEXT_GREEK[word] + name[len(word):]
    return name
