"""chainrule: derive, train, generate and check the mathematics of training neural networks.

The library API (``derive``, ``problem``, ``problem_set``, ``train`` and the objects they
return) lives in :mod:`chainrule.api`. Importing the package is cheap: the public names
below load their modules (and SymPy) on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "derive": "chainrule.api",
    "problem": "chainrule.api",
    "problem_from_id": "chainrule.api",
    "problem_from_givens": "chainrule.api",
    "problem_set": "chainrule.api",
    "train": "chainrule.api",
    "walkthroughs": "chainrule.api",
    "Derivation": "chainrule.api",
    "Problem": "chainrule.api",
    "ProblemStep": "chainrule.api",
    "ProblemSet": "chainrule.api",
    "CheckReport": "chainrule.api",
    "TrainingRun": "chainrule.api",
    "ChainruleError": "chainrule.errors",
    "InputError": "chainrule.errors",
    "Step": "chainrule.symbolic.trace",
    "Trace": "chainrule.symbolic.trace",
    "round_half_up": "chainrule.symbolic.trace",
    "get_loss": "chainrule.symbolic.losses",
    "LOSSES": "chainrule.symbolic.losses",
    "get_activation": "chainrule.symbolic.activations",
    "ACTIVATIONS": "chainrule.symbolic.activations",
    "Network": "chainrule.symbolic.network",
    "parse_spec": "chainrule.symbolic.network",
    "compile_trace": "chainrule.numeric.kernels",
    "evaluate_batch": "chainrule.numeric.kernels",
    "compile_layers": "chainrule.numeric.layers",
    "load_givens": "chainrule.io.givens",
}

__all__ = ["__version__", *sorted(_EXPORTS)]

if TYPE_CHECKING:  # pragma: no cover
    from chainrule.api import (
        CheckReport,
        Derivation,
        Problem,
        ProblemSet,
        ProblemStep,
        TrainingRun,
        derive,
        problem,
        problem_from_givens,
        problem_from_id,
        problem_set,
        train,
        walkthroughs,
    )
    from chainrule.errors import ChainruleError, InputError
    from chainrule.io.givens import load_givens
    from chainrule.numeric.kernels import compile_trace, evaluate_batch
    from chainrule.numeric.layers import compile_layers
    from chainrule.symbolic.activations import ACTIVATIONS, get_activation
    from chainrule.symbolic.losses import LOSSES, get_loss
    from chainrule.symbolic.network import Network, parse_spec
    from chainrule.symbolic.trace import Step, Trace, round_half_up


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'chainrule' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value
