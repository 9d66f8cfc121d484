"""Derivation problems: the student writes formulas, not numbers.

For a drawn network the question asks for the output delta (dL/dz through the output
activation), the delta of a hidden neuron, and dL/dw for a first-layer weight written out in
the givens alone (the expanded chain rule ``derive --chain`` prints). The key holds the
formulas; the checker judges answers by equivalence, and refuses numbers put in for givens
("write it in terms of ..."). Givens are still drawn (as for ``backprop``) so every formula
can be evaluated at a good point.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from chainrule.errors import ChainruleError
from chainrule.problems.base import Draft, Option, register
from chainrule.problems.families.network import NETWORK_OPTIONS, NetworkFamily, _described
from chainrule.symbolic.network import Network
from chainrule.symbolic.printing import latex, plain

__all__ = ["DerivationFamily", "formula_key"]


def formula_key(trace: Any, name: str, expanded: bool = False) -> dict[str, str]:
    """A formula step's key entry: the formula as text and LaTeX (in givens alone if
    ``expanded``)."""
    if expanded:
        expr = trace.expanded(name)
        return {"formula": plain(expr), "formula_tex": latex(expr, trace.tex_names)}
    return {"formula": trace.formula_text(name), "formula_tex": trace.formula_tex(name)}


@register
class DerivationFamily(NetworkFamily):
    """Formulas of backpropagation: the output delta, a hidden delta, a gradient in givens."""

    name = "derivation"
    code = "dv"
    title = "Derivation"
    options: ClassVar[dict[str, Option]] = {
        **{k: v for k, v in NETWORK_OPTIONS.items() if k != "eta"},
        "weight": Option("", "str", "the first-layer weight whose gradient is asked in the "
                         "givens alone (default: the first one, w11)"),
    }

    def trace_of(self, net: Network) -> Any:
        trace = net.gradient_trace
        trace.meta["network"] = net
        return trace

    def draft_for(self, net: Network, trace: Any, givens: dict[str, float],
                  options: Mapping[str, Any]) -> Draft:
        """The draft of drawn ``givens``: the formulas asked and their key."""
        weight = options.get("weight") or net.weights[0].name
        first_layer = [w.name for w in net.weights if w.layer == 1]
        if weight not in first_layer:
            raise ChainruleError(f"family 'derivation': option 'weight' must be a first-layer "
                                 f"weight ({', '.join(first_layer)}), not '{weight}'")
        outputs = [f"delta{j}" for j in net.neurons[-1]]
        hidden = [f"delta{net.neurons[1][0]}"] if len(net.layers) > 2 else []
        gradient = f"dL_d{weight}"
        asked = (*outputs, *hidden, gradient)
        givens_only = [g for g in trace.givens]
        key = {n: formula_key(trace, n) for n in (*outputs, *hidden)}
        key[gradient] = formula_key(trace, gradient, expanded=True)
        context = {
            "network": _described(net),
            "formulas_only": True,
            "formula_steps": list(asked),
            "formula_names": {gradient: givens_only},
            "formula_key": key,
            "output_deltas": outputs,
            "hidden_deltas": hidden,
            "gradient": gradient,
            "weight": weight,
            "chain_tex": net.chain_rule_tex(weight),
        }
        return Draft(trace, givens, asked, f"{self.title}: {net.spec} network", context)
