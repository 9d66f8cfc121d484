"""The catalogue of known wrong formulas: each turns a step's right formula into the wrong
one a student writes, so a wrong value can be named.

Every mistake works on formulas, not on one problem: it applies wherever its pattern appears
(a ``fprime`` factor, a learning rate, a log, a loss step ...), in any family's trace.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from chainrule.symbolic.functions import sigmoid
from chainrule.symbolic.trace import Trace, sym

__all__ = ["CATALOGUE", "ROUNDED_TOO_EARLY", "Mistake", "alternatives", "stem"]


def stem(name: str) -> str:
    """A name without its neuron or step index: delta13 -> delta, v_new_2 -> v_new."""
    name = re.sub(r"(_\d+)+$", "", name)
    return re.sub(r"\d+(_\d+)?$", "", name) if not name.endswith("_new") else re.sub(
        r"\d+(_\d+)?_new$", "_new", name)


def _symbols(expr: sp.Expr, *stems: str) -> list[sp.Symbol]:
    return sorted((s for s in expr.free_symbols if stem(s.name) in stems), key=lambda s: s.name)


def _is_output(name: str) -> bool:
    return stem(name) == "yhat"


def _is_target(name: str) -> bool:
    return stem(name) == "y"


@dataclass(frozen=True)
class Mistake:
    """A catalogued mistake: its id, what to tell the student, and how to make it."""

    id: str
    message: str
    make: Callable[[Trace, str, sp.Expr], list[sp.Expr]]


def _missing_activation_derivative(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    primes = _symbols(f, "fprime")
    return [f.xreplace({p: 1 for p in primes})] if primes and stem(name) == "delta" else []


def _activation_of(trace: Trace, prime: str) -> sp.Symbol | None:
    if prime not in trace:
        return None
    acts = [d for d in trace[prime].dependencies if stem(d) in ("a", "yhat")]
    return sym(acts[0]) if len(acts) == 1 else None


def _activation_instead_of_derivative(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    if stem(name) == "fprime":
        act = _activation_of(trace, name)
        return [act] if act is not None else []
    swaps = {p: _activation_of(trace, p.name) for p in _symbols(f, "fprime")}
    if not swaps or any(v is None for v in swaps.values()):
        return []
    return [f.xreplace(swaps)]


def _flip_negative_terms(f: sp.Expr) -> sp.Expr | None:
    if not f.is_Add:
        return None
    terms = list(f.args)
    flipped = [-t if t.could_extract_minus_sign() else t for t in terms[1:]]
    if flipped == terms[1:]:
        return None
    return sp.Add(terms[0], *flipped)


def _update_sign(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    if trace[name].kind != "update" and not name.endswith("_new") and stem(name) != "theta":
        return []
    flipped = _flip_negative_terms(f)
    return [flipped] if flipped is not None else []


def _missing_learning_rate(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    etas = _symbols(f, "eta")
    return [f.xreplace({e: 1 for e in etas})] if etas else []


def _log10(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    if not f.has(sp.log):
        return []
    return [f.replace(sp.log, lambda x: sp.log(x) / sp.log(10))]


def _missing_minus_sign(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    return [-f] if trace[name].kind == "loss" and f.could_extract_minus_sign() else []


def _sigmoid_sign(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    if not f.has(sigmoid):
        return []
    return [f.replace(sigmoid, lambda x: sigmoid(-x))]


def _error_sign(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    names = {s.name for s in f.free_symbols}
    if trace[name].kind == "backward" and any(map(_is_output, names)) and any(
        map(_is_target, names)
    ):
        return [-f]
    return []


def _preactivation(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    swaps = {}
    for s in _symbols(f, "a"):
        z = "z" + s.name[1:]
        if z in trace:
            swaps[s] = sym(z)
    return [f.xreplace(swaps)] if swaps else []


def _missing_bias(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    biases = _symbols(f, "b")
    return [f.xreplace({b: 0 for b in biases})] if biases and stem(name) == "z" else []


def _mse_missing_square(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    if trace[name].kind != "loss" or not any(p.exp == 2 for p in f.atoms(sp.Pow)):
        return []
    return [f.replace(lambda e: e.is_Pow and e.exp == 2, lambda e: e.base),
            f.replace(lambda e: e.is_Pow and e.exp == 2, lambda e: sp.Abs(e.base))]


def _mse_missing_mean(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    coeff, _ = f.as_coeff_Mul()
    if coeff.is_Rational and coeff.p == 1 and coeff.q > 1:
        return [f * coeff.q]
    return []


def _adam_no_bias_correction(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    hats = _symbols(f, "mhat", "vhat")
    if hats:
        swaps = {}
        for h in hats:
            deps = trace[h.name].dependencies if h.name in trace else ()
            raw = [d for d in deps if stem(d) in ("m_new", "v_new", "m", "v")]
            if len(raw) != 1:
                return []
            swaps[h] = sym(raw[0])
        return [f.xreplace(swaps)]
    if stem(name) in ("mhat", "vhat"):
        raw = [d for d in trace[name].dependencies if stem(d) in ("m_new", "v_new", "m", "v")]
        return [sym(raw[0])] if len(raw) == 1 else []
    return []


def _momentum_sign(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    if stem(name) not in ("v_new", "v") or not f.is_Add or not _symbols(f, "beta"):
        return []
    terms = [(-t if _symbols(t, "eta", "g", "g_ahead") and not _symbols(t, "beta") else t)
             for t in f.args]
    return [sp.Add(*terms)] if terms != list(f.args) else []


CATALOGUE: tuple[Mistake, ...] = (
    Mistake("error_sign", "The output error is yhat - y, not y - yhat.", _error_sign),
    Mistake("missing_activation_derivative",
            "The delta needs the activation's derivative f'(z) as a factor.",
            _missing_activation_derivative),
    Mistake("activation_instead_of_derivative",
            "This uses the activation sigma(z) where its derivative sigma'(z) = a(1 - a) belongs.",
            _activation_instead_of_derivative),
    Mistake("preactivation_instead_of_activation",
            "This uses z (before the activation) where the activation a = f(z) belongs.",
            _preactivation),
    Mistake("missing_bias", "The weighted sum z also adds the bias b.", _missing_bias),
    Mistake("sigmoid_sign", "The sigmoid is 1 / (1 + e^(-z)): the exponent has a minus sign.",
            _sigmoid_sign),
    Mistake("log10_instead_of_ln", "log here is the natural log ln, not log base 10.", _log10),
    Mistake("missing_minus_sign", "The loss has a leading minus sign (it is positive).",
            _missing_minus_sign),
    Mistake("mse_missing_square", "The squared error squares the difference.",
            _mse_missing_square),
    Mistake("mse_missing_mean", "The cost is the mean over the points: divide the sum by N.",
            _mse_missing_mean),
    Mistake("adam_no_bias_correction",
            "Adam divides the moments by (1 - beta^t) before the update (bias correction).",
            _adam_no_bias_correction),
    Mistake("momentum_sign", "The velocity adds the gradient step: v = beta*v + eta*g.",
            _momentum_sign),
    Mistake("update_sign", "Gradient descent steps against the gradient: theta - eta*g.",
            _update_sign),
    Mistake("missing_learning_rate", "The step is scaled by the learning rate eta.",
            _missing_learning_rate),
)

ROUNDED_TOO_EARLY = Mistake(
    "rounded_too_early",
    "The numbers going into this step were rounded to fewer decimals than the problem asks.",
    lambda trace, name, f: [],
)

MISTAKES: dict[str, Mistake] = {m.id: m for m in (*CATALOGUE, ROUNDED_TOO_EARLY)}


def alternatives(trace: Trace, name: str) -> list[tuple[Mistake, sp.Expr]]:
    """Every catalogued wrong formula for step ``name``, in catalogue order (cached)."""
    key = f"mistakes:{name}"
    found = trace.cache.get(key)
    if found is None:
        formula = trace[name].evaluation_formula
        found = []
        for mistake in CATALOGUE:
            for alt in mistake.make(trace, name, formula):
                if sp.simplify(alt - formula) != 0:
                    found.append((mistake, alt))
        trace.cache[key] = found
    return found  # type: ignore[no-any-return]
