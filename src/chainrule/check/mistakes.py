"""The catalogue of mistakes students make: each turns a step's right formula into the wrong
formula a student writes, so that a wrong value can be named and explained.

A mistake works on formulas, not on one problem: it applies wherever its pattern appears (a
``fprime`` factor, a learning rate, a log, a bias, a square root ...), in any family's trace.
The catalogue is ordered from the simplest, most common slips to the rarer ones; when several
mistakes reproduce the same number, the checker names them all, this order first.

Public interface (also for the LMS exports and formula answers):

- :func:`mistake_formulas` — every applicable (mistake, wrong formula) of a step;
- :func:`mistake_values` — each applicable mistake's value at given numbers, with its message
  and hint in the notes' notation.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sympy as sp

from chainrule.check.notation import tex_to_text
from chainrule.symbolic.functions import relu, sigmoid
from chainrule.symbolic.printing import latex
from chainrule.symbolic.trace import Step, Trace, round_half_up, sym

__all__ = [
    "CATALOGUE",
    "MISTAKES",
    "ROUNDED_TOO_EARLY",
    "Mistake",
    "MistakeValue",
    "alternatives",
    "equation_text",
    "mistake_formulas",
    "mistake_values",
    "stem",
    "step_value",
    "symbol_text",
]

Maker = Callable[[Trace, str, sp.Expr], list[sp.Expr]]


def stem(name: str) -> str:
    """A name without its neuron or step index: delta13 -> delta, v_new_2 -> v_new."""
    name = re.sub(r"(_\d+)+$", "", name)
    return re.sub(r"\d+(_\d+)?$", "", name) if not name.endswith("_new") else re.sub(
        r"\d+(_\d+)?_new$", "_new", name)


def _index(name: str) -> str:
    m = re.search(r"(\d+(?:_\d+)?)$", name)
    return m.group(1) if m else ""


def _symbols(expr: sp.Expr, *stems: str) -> list[sp.Symbol]:
    return sorted((s for s in expr.free_symbols if stem(s.name) in stems), key=lambda s: s.name)


def symbol_text(trace: Trace, name: str) -> str:
    """A step or given name as the notes write it (``delta3`` -> ``δ3``)."""
    key = f"symbol_text:{name}"
    found = trace.cache.get(key)
    if found is None:
        found = trace.cache[key] = tex_to_text(trace.tex(name))
    return str(found)


def equation_text(trace: Trace, name: str, formula: sp.Expr | None = None) -> str:
    """``name = formula`` in the notes' notation (the step's own formula by default)."""
    key = f"equation_text:{name}"
    if formula is None and key in trace.cache:
        return str(trace.cache[key])
    rhs = trace.formula_tex(name) if formula is None else latex(formula, trace.tex_names)
    text = f"{symbol_text(trace, name)} = {tex_to_text(rhs)}"
    if formula is None:
        trace.cache[key] = text
    return text


@dataclass(frozen=True)
class Mistake:
    """A catalogued mistake: its id, what went wrong (``message``), what to do (``hint``),
    and how to make it (``make``: the wrong formulas of a step, none if it does not apply).

    Message and hint may use ``{step}`` (the step's name in the notes' notation) and
    ``{equation}`` (the right equation), filled by :meth:`describe`.
    """

    id: str
    message: str
    hint: str
    make: Maker

    def describe(
        self, trace: Trace, name: str, equation: str | None = None
    ) -> tuple[str, str]:
        """Message and hint for step ``name``, in the notes' notation; ``equation`` replaces
        the right equation (with numbers put in, say)."""
        fields = {"step": symbol_text(trace, name),
                  "equation": equation or equation_text(trace, name)}
        return self.message.format(**fields), self.hint.format(**fields)


@dataclass(frozen=True)
class MistakeValue:
    """One mistake's wrong formula for a step and the value it gives at some numbers."""

    mistake: Mistake
    step: str
    formula: sp.Expr | None
    formula_text: str
    value: float
    message: str
    hint: str

    @property
    def id(self) -> str:
        return self.mistake.id

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "step": self.step, "value": self.value,
                "formula": self.formula_text, "message": self.message, "hint": self.hint}


# -- helpers for the transformations -------------------------------------------------------

def _kind(trace: Trace, name: str) -> str:
    return trace[name].kind


def _replace_all(f: sp.Expr, swaps: Mapping[sp.Symbol, sp.Expr]) -> list[sp.Expr]:
    return [f.xreplace(dict(swaps))] if swaps else []


def _peers(trace: Trace) -> dict[str, list[str]]:
    """Activations (and inputs) of the same layer: those one weighted sum uses together."""
    found = trace.cache.get("mistakes:peers")
    if found is None:
        found = {}
        for step in trace.steps:
            for group_stem in ("a", "x"):
                group = [d for d in step.dependencies if stem(d) == group_stem]
                if len(group) > 1:
                    for n in group:
                        found.setdefault(n, [])
                        found[n] += [g for g in group if g != n and g not in found[n]]
        trace.cache["mistakes:peers"] = found
    return found  # type: ignore[no-any-return]


def _activation_of(trace: Trace, prime: str) -> sp.Symbol | None:
    if prime not in trace:
        return None
    acts = [d for d in trace[prime].dependencies if stem(d) in ("a", "yhat")]
    return sym(acts[0]) if len(acts) == 1 else None


def _preactivation_of(trace: Trace, name: str) -> sp.Symbol | None:
    """z_j for an activation a_j (or an output yhat computed from one z)."""
    if stem(name) == "a" and f"z{_index(name)}" in trace:
        return sym(f"z{_index(name)}")
    if name in trace:
        zs = [d for d in trace[name].dependencies if stem(d) == "z"]
        if len(zs) == 1 and trace[name].formula.is_Function:
            return sym(zs[0])
    return None


_ACTIVATIONS = (sigmoid, sp.tanh, relu)


# -- forward pass ------------------------------------------------------------------------

def _missing_bias(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    if _kind(trace, name) != "forward":
        return []
    return _replace_all(f, {b: sp.S.Zero for b in _symbols(f, "b")})


def _missing_activation(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    if isinstance(f, _ACTIVATIONS):
        return [f.args[0]]
    return []


def _sigmoid_sign(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    return [f.replace(sigmoid, lambda x: sigmoid(-x))] if f.has(sigmoid) else []


def _wrong_activation(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    if f.has(sigmoid):
        return [f.replace(sigmoid, sp.tanh)]
    if f.has(sp.tanh):
        return [f.replace(sp.tanh, sigmoid)]
    return []


def _preactivation(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    if stem(name) == "fprime":
        return []  # see derivative_at_z
    swaps = {}
    for s in _symbols(f, "a", "yhat"):
        z = _preactivation_of(trace, s.name)
        if z is not None and z.name != name:
            swaps[s] = z
    return _replace_all(f, swaps)


def _transposed_weights(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    if _kind(trace, name) not in ("forward", "backward"):
        return []
    swaps = {}
    for w in _symbols(f, "w"):
        m = re.fullmatch(r"w(\d)(\d)", w.name) or re.fullmatch(r"w(\d+)_(\d+)", w.name)
        if not m:
            continue
        i, j = m.group(1), m.group(2)
        other = f"w{j}{i}" if len(i) == len(j) == 1 else f"w{j}_{i}"
        if i != j and other in trace.givens:
            swaps[w] = sym(other)
    return _replace_all(f, swaps)


def _wrong_neuron(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    peers = _peers(trace)
    alts = []
    for s in _symbols(f, "a", "x", "fprime"):
        if stem(s.name) == "fprime":
            act = _activation_of(trace, s.name)
            others = [f"fprime{_index(p)}" for p in peers.get(act.name, [])] if act else []
        else:
            others = peers.get(s.name, [])
        for other in others:
            if other in trace or other in trace.givens:
                alts.append(f.xreplace({s: sym(other)}))
    return alts


def _softmax_parts(f: sp.Expr) -> tuple[sp.Expr, sp.Expr] | None:
    """(numerator exp(z_k), denominator sum) of a softmax output, or None."""
    if not f.is_Mul:
        return None
    nums = [a for a in f.args if isinstance(a, sp.exp)]
    dens = [a for a in f.args if a.is_Pow and a.exp == -1 and a.base.is_Add
            and all(isinstance(t, sp.exp) for t in a.base.args)]
    if len(nums) == 1 and len(dens) == 1 and len(f.args) == 2:
        return nums[0], dens[0].base
    return None


def _softmax_not_normalized(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    parts = _softmax_parts(f)
    return [parts[0]] if parts else []


def _softmax_without_exp(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    parts = _softmax_parts(f)
    if not parts:
        return []
    return [parts[0].args[0] / sp.Add(*[t.args[0] for t in parts[1].args])]


# -- losses ---------------------------------------------------------------------------------

def _is_error_like(trace: Trace, name: str, f: sp.Expr) -> bool:
    names = {stem(s.name) for s in f.free_symbols}
    return _kind(trace, name) in ("backward", "error", "derivative") and "yhat" in names and (
        "y" in names or "ytilde" in names)


def _error_sign(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    return [-f] if _is_error_like(trace, name, f) else []


def _log_base(base: int) -> Maker:
    def make(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
        if not f.has(sp.log):
            return []
        return [f.replace(sp.log, lambda x: sp.log(x) / sp.log(base))]
    return make


def _missing_minus_sign(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    if _kind(trace, name) in ("loss", "term") and f.has(sp.log) and f.could_extract_minus_sign():
        return [-f]
    return []


def _missing_square(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    squares = [p for p in f.atoms(sp.Pow) if p.exp == 2]
    if not squares:
        return []
    return [f.replace(lambda e: e.is_Pow and e.exp == 2, lambda e: e.base)]


def _missing_abs(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    return [f.replace(sp.Abs, lambda x: x)] if f.has(sp.Abs) else []


def _mean_parts(f: sp.Expr) -> tuple[sp.Expr, sp.Expr] | None:
    """(1/N, the sum of N terms) of a mean, or None."""
    if not f.is_Mul:
        return None
    sums = [a for a in f.args if a.is_Add]
    rest = [a for a in f.args if not a.is_Add]
    if len(sums) != 1 or len(rest) != 1:
        return None
    scale = rest[0]
    n = len(sums[0].args)
    if scale == sp.Rational(1, n) or (scale.is_Pow and scale.exp == -1 and scale.base == n):
        return scale, sums[0]
    return None


def _missing_mean(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    parts = _mean_parts(f)
    return [parts[1]] if parts else []


def _summed_adds(f: sp.Expr) -> list[sp.Add]:
    """Sums over outputs (or points): each term has its own index of the same names."""
    found = []
    for add in f.atoms(sp.Add) | ({f} if f.is_Add else set()):
        if len(add.args) < 2:
            continue
        keys = []
        for term in add.args:
            idx = {_index(s.name) for s in term.free_symbols
                   if stem(s.name) in ("yhat", "y", "delta", "term", "L", "dL_dw_", "dL_db_",
                                       "dL_dw", "dL_db", "w")}
            keys.append(frozenset(idx))
        if all(keys) and len(set(keys)) == len(keys):
            found.append(add)
    return found


def _missing_sum(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    if _mean_parts(f):
        return []  # a mean over points: see missing_mean
    alts = []
    for add in _summed_adds(f):
        for term in add.args:
            alts.append(f.xreplace({add: term}))
    return alts


def _factor_two(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    halves = (2, -2, sp.Rational(1, 2), sp.Rational(-1, 2), sp.Pow(2, -1, evaluate=False))
    for factor in f.args if f.is_Mul else ():
        if factor in halves:
            return [f / abs(factor)]
    if _kind(trace, name) in ("loss", "term") and any(p.exp == 2 for p in f.atoms(sp.Pow)):
        return [f / 2]
    if _kind(trace, name) in ("backward", "derivative", "gradient", "error") and \
            _is_error_like(trace, name, f) and f.is_Add:
        return [2 * f]
    return []


def _bce_terms_swapped(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    logs = list(f.atoms(sp.log))
    for lg in logs:
        arg = lg.args[0]
        if arg.is_Symbol and stem(arg.name) == "yhat" and sp.log(1 - arg) in logs:
            return [f.xreplace({lg: sp.log(1 - arg), sp.log(1 - arg): lg})]
    return []


def _missing_max(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    maxes = [m for m in f.atoms(sp.Max) if 0 in m.args and len(m.args) == 2]
    return [f.xreplace({m: next(a for a in m.args if a != 0) for m in maxes})] if maxes else []


def _target_prediction_swapped(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    if _kind(trace, name) not in ("loss", "term"):
        return []
    swaps: dict[sp.Symbol, sp.Expr] = {}
    for s in _symbols(f, "yhat"):
        target = sym("y" + s.name[4:])
        if target in f.free_symbols:
            swaps[s], swaps[target] = target, s
    return _replace_all(f, swaps)


def _smoothing_missing_k(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    eps, k = sym("epsilon"), sym("K")
    if not (f.has(eps) and f.has(k)):
        return []
    return [f.xreplace({k: sp.S.One})]


# -- backward pass ------------------------------------------------------------------------

def _missing_activation_derivative(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    primes = _symbols(f, "fprime")
    return _replace_all(f, {p: sp.S.One for p in primes}) if stem(name) == "delta" else []


def _activation_instead_of_derivative(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    if stem(name) == "fprime":
        act = _activation_of(trace, name)
        return [act] if act is not None else []
    swaps = {p: _activation_of(trace, p.name) for p in _symbols(f, "fprime")}
    if not swaps or any(v is None for v in swaps.values()):
        return []
    return [f.xreplace(swaps)]


def _derivative_at_z(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    if stem(name) != "fprime":
        return []
    swaps = {}
    for a in _symbols(f, "a", "yhat"):
        z = _preactivation_of(trace, a.name)
        if z is not None:
            swaps[a] = z
    return _replace_all(f, swaps)


def _sigmoid_derivative_mixed(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    if stem(name) != "fprime" or not f.is_Mul:
        return []
    acts = _symbols(f, "a", "yhat")
    if len(acts) != 1:
        return []
    a = acts[0]
    z = _preactivation_of(trace, a.name)
    if z is None or (1 - a) not in f.args:
        return []
    return [f.xreplace({1 - a: 1 - z})]


def _updated_weight(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    if _kind(trace, name) != "backward":
        return []
    swaps = {w: sym(f"{w.name}_new") for w in _symbols(f, "w") if f"{w.name}_new" in trace}
    return _replace_all(f, swaps)


def _missing_input_factor(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    if _kind(trace, name) != "gradient" or not name.startswith("dL_dw") or not f.is_Mul:
        return []
    inputs = [a for a in f.args if a.is_Symbol and stem(a.name) in ("a", "x")]
    return [f.xreplace({a: sp.S.One}) for a in inputs]


# -- updates and optimizers ------------------------------------------------------------------

def _flip_negative_terms(f: sp.Expr) -> sp.Expr | None:
    if not f.is_Add:
        return None
    terms = list(f.args)
    flipped = [-t if t.could_extract_minus_sign() else t for t in terms[1:]]
    if flipped == terms[1:]:
        return None
    return sp.Add(terms[0], *flipped)


def _update_sign(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    if _kind(trace, name) != "update":
        return []
    flipped = _flip_negative_terms(f)
    return [flipped] if flipped is not None else []


def _is_momentum_state(trace: Trace, name: str, f: sp.Expr) -> bool:
    return _kind(trace, name) == "state" and stem(name) == "v" and bool(_symbols(f, "beta"))


def _missing_learning_rate(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    if _is_momentum_state(trace, name, f):
        return []  # see momentum_convention
    return _replace_all(f, {e: sp.S.One for e in _symbols(f, "eta", "eta0")})


def _learning_rate_twice(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    if _kind(trace, name) not in ("update", "state"):
        return []
    return _replace_all(f, {e: e**2 for e in _symbols(f, "eta")})


def _momentum_convention(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    eta = sym("eta")
    if _is_momentum_state(trace, name, f):
        if f.has(eta):
            return [f.xreplace({eta: sp.S.One})]
        grads = _symbols(f, "g", "g_ahead")
        return _replace_all(f, {g: eta * g for g in grads})
    if _kind(trace, name) == "update" and _symbols(f, "v") and "eta" in trace.givens:
        if f.has(eta):
            return [f.xreplace({eta: sp.S.One})]
        return _replace_all(f, {v: eta * v for v in _symbols(f, "v")})
    return []


def _momentum_sign(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    if not _is_momentum_state(trace, name, f) or not f.is_Add:
        return []
    terms = [(-t if _symbols(t, "g", "g_ahead") and not _symbols(t, "beta") else t)
             for t in f.args]
    return [sp.Add(*terms)] if terms != list(f.args) else []


def _nag_gradient_at_theta(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    swaps = {}
    for ahead in _symbols(f, "theta_ahead"):
        if ahead.name not in trace:
            continue
        base = [d for d in trace[ahead.name].dependencies if stem(d) == "theta"]
        if len(base) == 1:
            swaps[ahead] = sym(base[0])
    return _replace_all(f, swaps)


def _raw_moment(trace: Trace, hat: str) -> str | None:
    if hat not in trace:
        return None
    raw = [d for d in trace[hat].dependencies if stem(d) in ("m", "v")]
    return raw[0] if len(raw) == 1 else None


def _adam_no_bias_correction(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    if _kind(trace, name) == "correction":
        raw = _raw_moment(trace, name)
        return [sym(raw)] if raw else []
    swaps = {}
    for h in _symbols(f, "mhat", "vhat"):
        raw = _raw_moment(trace, h.name)
        if raw is None:
            return []
        swaps[h] = sym(raw)
    return _replace_all(f, swaps)


def _adam_t_off_by_one(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    if _kind(trace, name) != "correction":
        return []
    alts = []
    for shift in (1, -1):
        def move(p: sp.Pow, shift: int = shift) -> sp.Expr:
            return sp.Pow(p.base, p.exp + shift, evaluate=False)
        powers = [p for p in f.atoms(sp.Pow) if p.base.is_Symbol and p.exp.is_Integer
                  and stem(p.base.name) == "beta" and p.exp + shift >= 1]
        if powers:
            alts.append(f.xreplace({p: move(p) for p in powers}))
    return alts


def _eps_placement(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    eps = sym("eps")
    if not f.has(eps):
        return []
    for add in f.atoms(sp.Add):
        roots = [t for t in add.args if t.is_Pow and t.exp == sp.S.Half]
        if eps in add.args and len(roots) == 1 and len(add.args) == 2:
            return [f.xreplace({add: sp.sqrt(roots[0].base + eps)})]
    for root in f.atoms(sp.Pow):
        if root.exp == sp.S.Half and root.base.is_Add and eps in root.base.args:
            inner = sp.Add(*[t for t in root.base.args if t != eps])
            return [f.xreplace({root: sp.sqrt(inner) + eps})]
    return []


def _missing_square_root(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    roots = [p for p in f.atoms(sp.Pow) if p.exp == sp.S.Half]
    return [f.xreplace({r: r.base for r in roots})] if roots else []


def _decay_weights_swapped(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    if _kind(trace, name) != "state":
        return []
    swaps = {b: 1 - b for b in _symbols(f, "beta", "rho") if f.has(1 - b)}
    return _replace_all(f, swaps)


# -- schedules --------------------------------------------------------------------------------

def _missing_floor(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    return [f.replace(sp.floor, lambda x: x)] if f.has(sp.floor) else []


def _exponent_sign(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    if _kind(trace, name) != "schedule" or not f.has(sp.exp):
        return []
    return [f.replace(sp.exp, lambda x: sp.exp(-x))]


def _cosine_missing_half(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    if _kind(trace, name) != "schedule" or not f.has(sp.cos):
        return []
    return [f.replace(lambda e: e.is_Rational and e == sp.Rational(1, 2), lambda e: sp.S.One)]


def _no_transform(trace: Trace, name: str, f: sp.Expr) -> list[sp.Expr]:
    return []


M = Mistake
CATALOGUE: tuple[Mistake, ...] = (
    # the error term, signs and the learning rate: the commonest slips
    M("error_sign", "The error term has the wrong sign: y - ŷ where the notes use ŷ - y.",
      "Subtract the target from the prediction: {equation}.", _error_sign),
    M("update_sign", "The update moved with the gradient instead of against it.",
      "Gradient descent subtracts: {equation}.", _update_sign),
    M("missing_learning_rate", "The learning rate η is missing from this step.",
      "Scale the step by η: {equation}.", _missing_learning_rate),
    M("learning_rate_twice", "The learning rate η was applied twice.",
      "η multiplies the step once: {equation}.", _learning_rate_twice),
    # forward pass
    M("missing_bias", "The bias is missing from the weighted sum.",
      "Add the bias: {equation}.", _missing_bias),
    M("missing_activation", "The activation function was not applied: this is z, not f(z).",
      "Put the weighted sum through the activation: {equation}.", _missing_activation),
    M("preactivation_instead_of_activation",
      "This uses z (before the activation) where the activation a = f(z) belongs.",
      "Use the activation: {equation}.", _preactivation),
    M("transposed_weights",
      "The weight indices are swapped: w_ij is the weight from i into j, not from j into i.",
      "Read w_ij as 'from i to j': {equation}.", _transposed_weights),
    M("wrong_neuron", "This uses another neuron's value (a, x or f') where this neuron's "
      "belongs.", "Take each value from the neuron the weight or delta belongs to: "
      "{equation}.", _wrong_neuron),
    M("sigmoid_sign", "The sigmoid's exponent lost its minus sign: σ(z) = 1/(1 + e^(-z)).",
      "Use e^(-z) in the denominator: {equation}.", _sigmoid_sign),
    M("wrong_activation", "This uses the wrong activation function (sigmoid and tanh mixed "
      "up).", "Use the activation the problem states: {equation}.", _wrong_activation),
    M("softmax_not_normalized", "The softmax was not normalized: e^z without dividing by the "
      "sum over all outputs.", "Divide by the sum of e^z over every output: {equation}.",
      _softmax_not_normalized),
    M("softmax_without_exp", "The softmax divides the z's themselves, without "
      "exponentiating them.", "Exponentiate first: {equation}.", _softmax_without_exp),
    # losses
    M("log10_instead_of_ln", "log here is the natural log ln, not log base 10.",
      "Use ln (the calculator's ln key, not log): {equation}.", _log_base(10)),
    M("log2_instead_of_ln", "log here is the natural log ln, not log base 2.",
      "Use ln: {equation}.", _log_base(2)),
    M("missing_minus_sign", "The loss lost its leading minus sign (a log-loss is positive).",
      "Keep the minus in front: {equation}.", _missing_minus_sign),
    M("missing_square", "A square is missing: the value was used where its square belongs.",
      "Square the difference: {equation}.", _missing_square),
    M("missing_absolute_value", "The absolute value is missing.",
      "Take the absolute value: {equation}.", _missing_abs),
    M("missing_mean", "The sum was not divided by N: a cost is the mean over the points.",
      "Divide the sum by the number of terms: {equation}.", _missing_mean),
    M("missing_sum", "Only one term of the sum was kept: this step sums over every output "
      "(or point).", "Add up every term: {equation}.", _missing_sum),
    M("factor_two", "A factor 2 is wrong: the 1/2 of ½·MSE and the 2 from differentiating "
      "the square are mixed up.", "Check the problem's convention: {equation}.", _factor_two),
    M("bce_terms_swapped", "The two log terms of the binary cross-entropy are swapped.",
      "y goes with ln(ŷ), (1 - y) with ln(1 - ŷ): {equation}.", _bce_terms_swapped),
    M("missing_max", "The max(0, ·) of the hinge loss is missing.",
      "Clip at zero: {equation}.", _missing_max),
    M("target_prediction_swapped", "The target y and the prediction ŷ are swapped (for KL, "
      "the direction of the divergence).", "Keep them in place: {equation}.",
      _target_prediction_swapped),
    M("smoothing_missing_k", "Label smoothing spreads ε over the K classes: ε/K, not ε.",
      "Divide ε by K: {equation}.", _smoothing_missing_k),
    # backward pass
    M("missing_activation_derivative", "The delta needs the activation's derivative f'(z) "
      "as a factor.", "Multiply by f'(z): {equation}.", _missing_activation_derivative),
    M("activation_instead_of_derivative", "This uses the activation σ(z) where its "
      "derivative σ'(z) belongs.", "Use the derivative: {equation}.",
      _activation_instead_of_derivative),
    M("derivative_at_z", "The derivative was computed from z instead of the activation a.",
      "The derivative is written in a = f(z): {equation}.", _derivative_at_z),
    M("sigmoid_derivative_mixed", "σ'(z) was computed as σ(z)(1 - z): a and z mixed in one "
      "formula.", "Use a in both places: {equation}.", _sigmoid_derivative_mixed),
    M("updated_weight_in_backward", "The backward pass used an updated weight; it uses the "
      "weights of the forward pass.", "Use the old weight: {equation}.", _updated_weight),
    M("missing_input_factor", "The gradient of a weight needs the input it multiplies.",
      "Multiply the delta by the weight's input: {equation}.", _missing_input_factor),
    # optimizers
    M("momentum_convention", "The momentum convention is mixed up (v = βv + ηg with "
      "θ - v, or v = βv + g with θ - ηv).", "This problem uses {equation}.",
      _momentum_convention),
    M("momentum_sign", "The velocity adds the gradient step; here it was subtracted.",
      "Use {equation}.", _momentum_sign),
    M("nag_gradient_at_theta", "Nesterov's gradient is taken at the look-ahead point, not at "
      "θ.", "Evaluate the gradient at the look-ahead: {equation}.", _nag_gradient_at_theta),
    M("adam_no_bias_correction", "Adam divides the moments by (1 - β^t) before the update "
      "(bias correction); that was left out.", "Correct the moments: {equation}.",
      _adam_no_bias_correction),
    M("adam_t_off_by_one", "The bias correction used the wrong step number t (off by one).",
      "At step t use β^t: {equation}.", _adam_t_off_by_one),
    M("eps_placement", "ε is on the wrong side of the square root.", "Use {equation}.",
      _eps_placement),
    M("missing_square_root", "The square root of the accumulated squares is missing.",
      "Divide by the square root: {equation}.", _missing_square_root),
    M("decay_weights_swapped", "The decay weights are swapped: β goes with the old value, "
      "(1 - β) with the new one.", "Use {equation}.", _decay_weights_swapped),
    # schedules
    M("missing_floor", "The step schedule counts whole steps: the floor is missing.",
      "Round t/s down: {equation}.", _missing_floor),
    M("exponent_sign", "The exponent's sign is wrong: the learning rate decays.",
      "Use {equation}.", _exponent_sign),
    M("cosine_missing_half", "The cosine schedule's 1/2 is missing.", "Use {equation}.",
      _cosine_missing_half),
)

ROUNDED_TOO_EARLY = Mistake(
    "rounded_too_early",
    "The numbers going into {step} were rounded to fewer decimals than the problem asks.",
    "Keep every value to the asked decimals: {equation}.",
    _no_transform,
)

MISTAKES: dict[str, Mistake] = {m.id: m for m in (*CATALOGUE, ROUNDED_TOO_EARLY)}


def mistake_formulas(trace: Trace, name: str) -> list[tuple[Mistake, sp.Expr]]:
    """Every catalogued wrong formula of step ``name``, in catalogue order (cached per trace).

    A transformation that leaves the formula unchanged is left out.
    """
    key = f"mistakes:{name}"
    found = trace.cache.get(key)
    if found is None:
        formula = trace[name].formula
        found = []
        seen: set[sp.Expr] = {formula}
        for mistake in CATALOGUE:
            for alt in mistake.make(trace, name, formula):
                if alt in seen or alt.free_symbols - {sym(n) for n in _known(trace)}:
                    continue
                seen.add(alt)
                found.append((mistake, alt))
        trace.cache[key] = found
    return found  # type: ignore[no-any-return]


#: The former name of :func:`mistake_formulas`.
alternatives = mistake_formulas


def _known(trace: Trace) -> set[str]:
    return {*trace.givens, *trace.names}


def _function(trace: Trace, name: str, index: int, expr: sp.Expr) -> Step:
    key = f"mistakes:fn:{name}:{index}"
    step = trace.cache.get(key)
    if step is None:
        step = trace.cache[key] = Step(f"{name}__alt{index}", expr)
    return step  # type: ignore[no-any-return]


def evaluate_formula(step: Step, values: Mapping[str, Any]) -> float:
    """A (wrong) formula's value at ``values`` (50-digit arithmetic, like the trace)."""
    import mpmath

    from chainrule.symbolic.trace import _mp_input

    with mpmath.workdps(50):
        try:
            out = step._mp_function(*[_mp_input(values[d]) for d in step.dependencies])
            return float(out) if not isinstance(out, mpmath.mpc) else float("nan")
        except (ZeroDivisionError, ValueError, OverflowError, TypeError):
            return float("nan")


def step_value(trace: Trace, name: str, values: Mapping[str, Any]) -> float:
    """Step ``name`` at ``values`` (50 digits), NaN where a student's numbers leave it
    undefined (a square root of a negative, a division by zero, a complex logarithm)."""
    try:
        value = trace._evaluate_step_mp(name, values)
    except (ZeroDivisionError, ValueError, OverflowError):
        return math.nan
    try:
        return float(value)
    except TypeError:  # mpmath's complex result
        return math.nan


def resolve(
    trace: Trace, names: list[str], values: dict[str, float], decimals: int | None,
    before: str,
) -> bool:
    """Fill ``values`` with the named steps, computed (rounded to ``decimals``) from the
    values there. False when one of them needs step ``before`` (it cannot be known yet)."""
    for n in names:
        if n in values:
            continue
        if n not in trace or n == before:
            return False
        if not resolve(trace, list(trace[n].dependencies), values, decimals, before):
            return False
        value = step_value(trace, n, values)
        if not math.isfinite(value):
            return False
        values[n] = value if decimals is None else float(round_half_up(value, decimals))
    return True


def mistake_values(
    trace: Trace, name: str, values: Mapping[str, float], decimals: int | None = None,
    *, rounded_too_early: bool = True,
) -> list[MistakeValue]:
    """Each applicable mistake of step ``name`` with the value it gives at ``values``.

    ``values`` holds the givens and the earlier steps (a key's rounded chain, or a
    student's own numbers). A later step a wrong formula needs (an updated weight) is
    computed from them. With ``decimals`` the values are rounded to it, and
    ``rounded_too_early`` adds the step computed from its inputs rounded to fewer
    decimals. Values equal to the right one (at ``decimals``) are left out.
    """
    pool = dict(values)
    right = step_value(trace, name, pool)
    out: list[MistakeValue] = []
    seen: set[tuple[str, float]] = set()

    def add(mistake: Mistake, formula: sp.Expr | None, value: float, text: str) -> None:
        if not math.isfinite(value):
            return
        if decimals is not None:
            value = float(round_half_up(value, decimals))
            if math.isfinite(right) and value == float(round_half_up(right, decimals)):
                return
        elif math.isclose(value, right, rel_tol=1e-12, abs_tol=1e-12):
            return
        if (mistake.id, value) in seen:
            return
        seen.add((mistake.id, value))
        message, hint = _described(trace, mistake, name)
        out.append(MistakeValue(mistake, name, formula, text, value, message, hint))

    for index, (mistake, alt) in enumerate(mistake_formulas(trace, name)):
        needed = sorted(s.name for s in alt.free_symbols)
        if not resolve(trace, needed, pool, decimals, name):
            continue
        step = _function(trace, name, index, alt)
        add(mistake, alt, evaluate_formula(step, pool),
            _equation_cached(trace, name, index, alt))
    if rounded_too_early and decimals:
        deps = [d for d in trace[name].dependencies if d not in trace.givens]
        for fewer in range(decimals - 1, max(decimals - 3, 0), -1):
            coarse = dict(pool)
            for d in deps:
                coarse[d] = float(round_half_up(pool[d], fewer))
            if deps and any(coarse[d] != pool[d] for d in deps):
                add(ROUNDED_TOO_EARLY, None, step_value(trace, name, coarse),
                    equation_text(trace, name))
    return out


# -- a whole class at once -------------------------------------------------------------------

_JUMPS = ("step", "Heaviside", "sign", "floor", "ceiling", "frac")


def _jump_terms(expr: sp.Expr) -> list[tuple[sp.Expr, bool]]:
    """Arguments of the functions of ``expr`` that jump: (argument, whether the jumps are at
    every integer rather than at 0). A condition of a Piecewise jumps where its sides meet."""
    found: list[tuple[sp.Expr, bool]] = []
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Function) and type(node).__name__ in _JUMPS and node.args:
            found.append((node.args[0], type(node).__name__ in ("floor", "ceiling", "frac")))
        elif isinstance(node, sp.Piecewise):
            for _, cond in node.args:
                for rel in cond.atoms(sp.core.relational.Relational):
                    found.append((rel.lhs - rel.rhs, False))
    return found


def _compiled(key: str, trace: Trace, expr: sp.Expr) -> tuple[tuple[str, ...], Callable[..., Any]]:
    """``expr`` as a float64 function over arrays (names sorted), cached on the trace."""
    found = trace.cache.get(key)
    if found is None:
        from chainrule.numeric.printer import NAMESPACE, to_code

        names = tuple(sorted(s.name for s in expr.free_symbols))
        source = f"def _f({', '.join(names)}):\n    return {to_code(expr)}\n"
        namespace = dict(NAMESPACE)
        exec(compile(source, f"<chainrule {key}>", "exec"), namespace)
        found = trace.cache[key] = (names, namespace["_f"])
    return found  # type: ignore[no-any-return]


def _array(fn: tuple[tuple[str, ...], Callable[..., Any]], values: Mapping[str, Any],
           n: int) -> Any:
    import numpy as np

    names, f = fn
    return np.broadcast_to(np.asarray(f(*[values[m] for m in names]), dtype=np.float64), (n,))


def near_jump(trace: Trace, key: str, expr: sp.Expr, values: Mapping[str, Any],
              scale: Any) -> Any:
    """Where a function of ``expr`` that jumps (step, Heaviside, sign, floor, a Piecewise)
    has its argument, at ``values`` in float64, within a hair of a jump: there float64
    cannot tell which side 50 digits are on."""
    import numpy as np

    terms = trace.cache.get(f"jumps:{key}")
    if terms is None:
        terms = trace.cache[f"jumps:{key}"] = [
            (_compiled(f"jump:{key}:{j}", trace, arg), integer)
            for j, (arg, integer) in enumerate(_jump_terms(expr))]
    n = len(scale)
    near = np.zeros(n, dtype=bool)
    for fn, integer in terms:  # type: ignore[attr-defined]
        value = _array(fn, values, n)
        gap = np.abs(value - np.rint(value)) if integer else np.abs(value)
        near |= ~(gap > 1e-9 * np.maximum(scale, np.abs(value)))
    return near


def _decimal_round(x: Any, fewer: int, most: int) -> tuple[Any, Any]:
    """``x`` rounded half away from zero to ``fewer`` decimals as :func:`round_half_up` does
    (the float read as the decimal it prints as), worked in whole numbers; and where that is
    certain (``x`` is a decimal of at most ``most`` places)."""
    import numpy as np

    rounded = np.full(len(x), np.nan)
    sure = np.zeros(len(x), dtype=bool)
    finite = np.isfinite(x) & (np.abs(x) < 1e6)
    for places in range(0, most + 1):
        scale = 10.0**places
        whole = np.rint(np.where(finite, x, 0.0) * scale)
        exact = finite & ~sure & (whole / scale == x) & (np.abs(whole) < 2.0**52)
        if not exact.any():
            continue
        if places <= fewer:
            rounded[exact] = x[exact]
        else:
            q = 10**(places - fewer)
            k = whole[exact].astype(np.int64)
            r = np.sign(k) * ((np.abs(k) + q // 2) // q)
            rounded[exact] = r / 10.0**fewer
        sure |= exact
    return rounded + 0.0, sure


def class_mistakes(
    trace: Trace, name: str, own: Mapping[str, Any], v: Any, students: Any, decimals: int,
    u: float,
) -> dict[int, list[MistakeValue]]:
    """For each of ``students`` (indices into the class's arrays ``own`` and ``v``), the
    catalogued mistakes of step ``name`` whose value on the student's own numbers is within
    half a unit of their number ``v``: what :func:`mistake_values` with ``decimals`` and
    that filter give, worked in float64 for all at once. Students for whom float64 does
    not settle it (a value within a hair of a rounding tie or a jump, not finite, a number
    with more places than float64 keeps sure) are left out, for 50 digits to judge."""
    import numpy as np

    from chainrule.numeric.evaluate import round_array

    d = decimals
    idx = np.asarray(students)
    m = len(idx)
    pool: dict[str, Any] = {k: np.asarray(a)[idx] for k, a in own.items()}
    vv = np.asarray(v)[idx]
    scale = np.maximum(1.0, np.abs(vv))
    for a in pool.values():
        scale = np.maximum(scale, np.square(np.where(np.isfinite(a), a, 0.0)))
    unsure = np.zeros(m, dtype=bool)
    with np.errstate(all="ignore"):
        right = _array(_compiled(f"class:{name}", trace, trace[name].evaluation_formula),
                       pool, m)
        right_r, tie = round_array(right, d)
        unsure |= tie | ~np.isfinite(right)
        unsure |= near_jump(trace, name, trace[name].evaluation_formula, pool, scale)
        hits: list[tuple[MistakeValue, Any]] = []
        seen: dict[str, list[tuple[Any, Any]]] = {}

        def add(mistake: Mistake, formula: sp.Expr | None, value: Any, text: str,
                where: Any = True) -> None:
            nonlocal unsure
            rounded, near_tie = round_array(value, d)
            unsure |= where & (near_tie | ~np.isfinite(value) | (np.abs(value) > 1e12))
            added = np.isfinite(rounded) & (rounded != right_r) & where
            for earlier, was in seen.get(mistake.id, []):  # the same value again: once
                added &= ~(was & (earlier == rounded))
            seen.setdefault(mistake.id, []).append((rounded, added))
            keep = added & (
                np.abs(vv - rounded) <= u / 2 + 1e-9 * np.maximum(1.0, np.abs(rounded)))
            if keep.any():
                message, hint = _described(trace, mistake, name)
                mv = MistakeValue(mistake, name, formula, text, math.nan, message, hint)
                hits.append((mv, keep))

        def resolve_all(needed: list[str]) -> bool:
            nonlocal unsure
            for n_ in needed:
                if n_ in pool:
                    continue
                if n_ not in trace or n_ == name:
                    return False
                if not resolve_all(list(trace[n_].dependencies)):
                    return False
                value = _array(_compiled(f"class:{n_}", trace, trace[n_].evaluation_formula),
                               pool, m)
                rounded, near_tie = round_array(value, d)
                unsure |= near_tie | ~np.isfinite(value)
                unsure |= near_jump(trace, n_, trace[n_].evaluation_formula, pool, scale)
                pool[n_] = rounded
            return True

        for index, (mistake, alt) in enumerate(mistake_formulas(trace, name)):
            needed = sorted(s.name for s in alt.free_symbols)
            if not resolve_all(needed):
                continue
            key = f"{name}:alt{index}"
            value = _array(_compiled(f"class:{key}", trace, alt), pool, m)
            unsure |= near_jump(trace, key, alt, pool, scale)
            add(mistake, alt, value, _equation_cached(trace, name, index, alt))
        deps = [dep for dep in trace[name].dependencies if dep not in trace.givens]
        if d and deps:
            step_fn = _compiled(f"class:{name}", trace, trace[name].evaluation_formula)
            for fewer in range(d - 1, max(d - 3, 0), -1):
                coarse = dict(pool)
                changed = np.zeros(m, dtype=bool)
                for dep in deps:
                    coarse[dep], exact = _decimal_round(pool[dep], fewer, d + 6)
                    unsure |= ~exact
                    changed |= coarse[dep] != pool[dep]
                value = _array(step_fn, coarse, m)
                unsure |= changed & near_jump(trace, name, trace[name].evaluation_formula,
                                              coarse, scale)
                add(ROUNDED_TOO_EARLY, None, value, equation_text(trace, name), changed)
    out: dict[int, list[MistakeValue]] = {}
    for j in np.flatnonzero(~unsure):
        out[int(idx[j])] = [mv for mv, keep in hits if keep[j]]
    return out


def _described(trace: Trace, mistake: Mistake, name: str) -> tuple[str, str]:
    key = f"described:{mistake.id}:{name}"
    found = trace.cache.get(key)
    if found is None:
        found = trace.cache[key] = mistake.describe(trace, name)
    return found  # type: ignore[no-any-return]


def _equation_cached(trace: Trace, name: str, index: int, alt: sp.Expr) -> str:
    key = f"equation_text:{name}:alt{index}"
    found = trace.cache.get(key)
    if found is None:
        found = trace.cache[key] = equation_text(trace, name, alt)
    return str(found)
