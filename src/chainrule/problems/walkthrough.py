"""The problem a walkthrough works: from options and a seed, an ID, or a givens file."""

from __future__ import annotations

import secrets
from typing import Any

from chainrule.errors import ChainruleError
from chainrule.problems.base import (
    Problem,
    get_family,
    make_problems,
    problem_from_id,
    problem_from_values,
)
from chainrule.problems.ids import SEED_BITS

__all__ = ["walkthrough_problem"]


def walkthrough_problem(
    *,
    net: str | None = None,
    hidden: str | None = None,
    output: str | None = None,
    loss: str | None = None,
    eta: float | None = None,
    decimals: int | None = None,
    seed: int | None = None,
    problem_id: str | None = None,
    givens_path: str | None = None,
) -> Problem:
    """A backpropagation problem: regenerated from an ID, read from givens, or drawn."""
    choices = {"net": net, "hidden": hidden, "output": output, "loss": loss, "eta": eta}
    if problem_id is not None:
        if givens_path or seed is not None or any(v is not None for v in choices.values()):
            raise ChainruleError("--id regenerates a problem: give no other problem options")
        return problem_from_id(problem_id, decimals)
    if givens_path is not None:
        if seed is not None:
            raise ChainruleError("--givens fixes every number: --seed has nothing to draw")
        from chainrule.problem import network_problem

        setup = network_problem(net=net, hidden=hidden, output=output, loss=loss,
                                givens_path=givens_path, eta=eta, decimals=decimals)
        if setup.givens is None or not setup.updates:
            raise ChainruleError(f"{givens_path}: field 'eta': a walkthrough needs a learning "
                                 "rate (eta in the file or --eta)")
        from chainrule.problems.families.network import describe

        trace = setup.network.trace
        trace.meta["network"] = setup.network
        return problem_from_values(
            "backprop", trace, setup.givens, setup.decimals,
            title=f"Backpropagation: {setup.network.spec} network",
            context={"network": describe(setup.network)},
        )
    family = get_family("backprop")
    raw: dict[str, Any] = {k: v for k, v in choices.items() if v is not None}
    options = family.parse_options(raw)
    if seed is None:
        seed = secrets.randbits(SEED_BITS)
    return make_problems([(family, seed, options, 3 if decimals is None else decimals, None)])[0]
