"""Property: a random equivalent rewrite of any step formula of any family, typed as a student
would (plain text or LaTeX), is read and judged equal to the step.

Rewrites are SymPy identities applied to the step's own formula (expand, substituting the
definitions of earlier steps, sigmoid and tanh through exp, logs of products, multiplying
by (g^2 + 1)/(g^2 + 1), reordering terms); printing is SymPy's or chainrule's LaTeX printer,
so the oracle is independent of the parser under test.
"""

from __future__ import annotations

import random
from functools import cache
from typing import Any

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainrule.check.answers import vocabulary
from chainrule.formulas import FormulaError, read_formula
from chainrule.formulas.equivalence import equivalent
from chainrule.problems.base import make_problem
from chainrule.symbolic.functions import sigmoid
from chainrule.symbolic.printing import latex
from chainrule.symbolic.trace import sym

CONFIGS: list[tuple[str, dict[str, Any]]] = [
    *[("loss_value", {"loss": [k]}) for k in
      ("mse", "mae", "huber", "bce", "cce", "hinge", "kl", "lsce")],
    *[("loss_derivative", {"loss": [k]}) for k in
      ("mse", "mae", "huber", "bce", "cce", "hinge", "kl", "lsce")],
    *[("cost", {"loss": [k]}) for k in ("mse", "mae", "bce", "cce", "hinge")],
    ("forward", {"hidden": "tanh", "output": "linear", "loss": "mse"}),
    ("backprop", {"eta": 0.1}),
    ("backprop", {"hidden": "tanh", "output": "linear", "loss": "mse", "eta": 0.1}),
    ("backprop", {"hidden": "relu", "output": "linear", "loss": "mae", "eta": 0.1}),
    ("backprop", {"net": "2-2-3", "output": "softmax", "loss": "cce", "eta": 0.1}),
    ("derivation", {}),
    *[("optimizer_steps", {"optimizer": o}) for o in
      ("gd", "momentum", "nag", "adagrad", "rmsprop", "adam")],
    *[("lr_schedule", {"schedule": s}) for s in
      ("step", "exponential", "inverse_time", "cosine_restarts")],
    ("gd_step", {"model": "linear"}),
    ("gd_step", {"model": "logistic", "method": "minibatch", "batch_size": 2}),
]
_UNTYPABLE = (sp.Piecewise,)  # no grammar for cases: such steps are left out


@cache
def problem(index: int) -> Any:
    family, options = CONFIGS[index]
    return make_problem(family, 1, options)


def _pairs() -> list[tuple[int, str]]:
    """(config, step) for every step formula, each distinct formula once per family."""
    seen: set[tuple[str, str]] = set()
    pairs = []
    for i in range(len(CONFIGS)):
        trace = problem(i).trace
        for step in trace.steps:
            if step.formula.has(*_UNTYPABLE):
                continue
            key = (CONFIGS[i][0], sp.srepr(step.formula))
            if key not in seen:
                seen.add(key)
                pairs.append((i, step.name))
    return pairs


PAIRS = _pairs()


def rewrite(expr: sp.Expr, trace: Any, name: str, rng: random.Random) -> sp.Expr:
    """An expression equal to ``expr`` for every value of its names."""
    order = trace.names.index(name)
    steps = {s: trace[s.name].formula for s in expr.free_symbols
             if s.name in trace.names[:order]}
    givens = sorted((s for s in expr.free_symbols if s.name in trace.givens),
                    key=lambda s: s.name) or [sym(trace.givens[0])]
    moves = ["expand", "define", "sigmoid", "tanh", "log", "scale", "split", "reorder"]
    for move in rng.sample(moves, rng.randint(1, 3)):
        if move == "expand" and sp.count_ops(expr) < 40:
            expr = sp.expand(expr)
        elif move == "define" and steps:
            chosen = rng.sample(sorted(steps, key=lambda s: s.name),
                                rng.randint(1, len(steps)))
            expr = expr.xreplace({s: steps[s] for s in chosen})
        elif move == "sigmoid":
            expr = expr.replace(sigmoid, lambda x: 1 / (1 + sp.exp(-x)))
        elif move == "tanh":
            expr = expr.replace(sp.tanh, lambda x: (sp.exp(2 * x) - 1) / (sp.exp(2 * x) + 1))
        elif move == "log":
            expr = sp.expand_log(expr, force=True)
        elif move == "scale":
            g = rng.choice(givens)
            expr = sp.Mul(expr, g**2 + 1, sp.Pow(g**2 + 1, -1, evaluate=False),
                          evaluate=False)
        elif move == "split":
            g = rng.choice(givens)
            expr = sp.Add(sp.Mul(expr, 1 + g, evaluate=False), -expr * g, evaluate=False)
        elif move == "reorder" and expr.is_Add:
            args = list(expr.args)
            rng.shuffle(args)
            expr = sp.Add(*args, evaluate=False)
    return expr


def _reads_back(trace: Any, name: str) -> bool:
    """Whether the problem's LaTeX for ``name`` names it (lr_schedule prints t_10 as t)."""
    vocab = vocabulary([*trace.givens, *trace.names], {}, trace.tex_names)
    try:
        return read_formula(trace.tex(name), vocab).expr == sym(name)
    except FormulaError:
        return False


def typed(expr: sp.Expr, trace: Any, as_tex: bool) -> str:
    """What a student types: SymPy's plain text, or chainrule's LaTeX where it is typable."""
    if as_tex and all(_reads_back(trace, s.name) for s in expr.free_symbols):
        tex = latex(expr, trace.tex_names)
        # |x| right after another factor must be typed 2*|x| (the grammar's one limit here)
        untypable = (r"\mathbb", r"\lfloor", r"\begin", r"\operatorname", r"\left|")
        if not any(bad in tex for bad in untypable):
            return tex
    return sp.sstr(expr)


def check_pair(index: int, name: str, seed: int, as_tex: bool) -> None:
    p = problem(index)
    trace = p.trace
    rng = random.Random(seed)
    text = typed(rewrite(trace[name].formula, trace, name, rng), trace, as_tex)
    vocab = vocabulary([*trace.givens, *trace.names], {}, trace.tex_names)
    reading = read_formula(text, vocab)
    result = equivalent(reading.expr, trace[name].formula, trace, p.givens, step=name,
                        allow_numbers=False)
    assert result.equal, (p.id, name, text)
    assert result.method in ("simplify", "points")


def test_every_family_has_typable_step_formulas() -> None:
    families = {CONFIGS[i][0] for i, _ in PAIRS}
    assert families == {family for family, _ in CONFIGS}
    assert len(PAIRS) >= 150


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair=st.sampled_from(PAIRS), seed=st.integers(0, 10**6), as_tex=st.booleans())
def test_a_random_rewrite_of_a_step_formula_is_accepted(pair, seed, as_tex) -> None:
    check_pair(*pair, seed, as_tex)


@pytest.mark.slow
@pytest.mark.parametrize(("index", "name"), PAIRS, ids=[f"{CONFIGS[i][0]}-{n}" for i, n in PAIRS])
def test_every_step_formula_of_every_family(index: int, name: str) -> None:
    for seed, as_tex in ((index * 7919 + len(name), False), (index * 104729 + 1, True)):
        check_pair(index, name, seed, as_tex)
