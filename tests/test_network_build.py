"""A network's steps, built straight into their fields, are the steps SymPy's constructors
and the dataclass's own would make: the same formulas, names and dependencies."""

from __future__ import annotations

import pytest
import sympy as sp

from chainrule.symbolic.network import Network
from chainrule.symbolic.trace import Step, _free_names


def rebuilt(expr: sp.Basic) -> sp.Basic:
    """``expr`` made again node by node by SymPy's constructors, nothing evaluated."""
    if not expr.args:
        return expr
    args = [rebuilt(a) for a in expr.args]
    if isinstance(expr, (sp.Add, sp.Mul)):
        return type(expr)(*args, evaluate=False)
    try:
        return expr.func(*args, evaluate=False)
    except TypeError:
        return expr.func(*args)


@pytest.mark.parametrize(("spec", "options"), [
    ("2-2-1", {}),
    ("3-4-4-2", {"hidden": "relu", "loss": "mse", "output": "linear"}),
    ("12-11-3", {"hidden": "tanh", "loss": "cce"}),
    ("2-3-3-3-2", {"hidden": ["linear", "sigmoid", "relu"], "loss": "huber",
                   "output": "linear"}),
])
def test_every_step_is_what_the_constructors_make(spec, options):
    trace = Network(spec, **options).trace
    kinds = set()
    for step in trace:
        kinds.add(step.kind)
        made = Step(step.name, rebuilt(step.formula), step.kind, step.description,
                    None if step.numeric is None else rebuilt(step.numeric))
        assert made == step
        assert sp.srepr(made.formula) == sp.srepr(step.formula)
        assert made.formula.is_commutative == step.formula.is_commutative
        assert step.dependencies == made.dependencies == tuple(sorted(
            _free_names(step.formula) | (_free_names(step.numeric) if step.numeric else set())))
        assert hash(made.formula) == hash(step.formula)
    assert kinds == {"forward", "loss", "backward", "gradient", "update"}


def test_a_known_step_is_the_dataclasss_step():
    w, eta, g = sp.symbols("w eta g", real=True)
    formula = sp.Add(w, sp.Mul(-1, eta, g, evaluate=False), evaluate=False)
    known = Step.known("w_new", formula, "update", "an update", ("eta", "g", "w"))
    plain = Step("w_new", formula, "update", "an update")
    assert known == plain and hash(known) == hash(plain) and repr(known) == repr(plain)
    assert known.dependencies == plain.dependencies == ("eta", "g", "w")
    assert known.numeric is None and known.symbol == plain.symbol
    with pytest.raises(AttributeError):
        known.name = "other"  # type: ignore[misc]
