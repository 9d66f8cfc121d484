"""Reports for ``chainrule derive`` and ``chainrule losses``: data first, then a template.

Each function returns a plain dict (the JSON output), which the Markdown, LaTeX and text
templates render.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chainrule.io.numbers import check_steps
from chainrule.symbolic.losses import LOSSES, Loss, comparison_rows
from chainrule.symbolic.network import Network
from chainrule.symbolic.printing import format_number, format_rounded
from chainrule.symbolic.trace import Trace

__all__ = ["loss_report", "losses_report", "network_report", "trace_steps"]

_SECTIONS = {
    "forward": "Forward pass",
    "loss": "Loss",
    "backward": "Backward pass",
    "gradient": "Backward pass",
    "update": "Gradient-descent update",
}


def losses_report(include_all: bool = False) -> dict[str, Any]:
    """The notes' Quick Comparison table, regenerated from the losses' metadata."""
    rows = comparison_rows(include_all)
    for row, info in zip(rows, [i for i in LOSSES.values() if i.in_notes_table or include_all],
                         strict=True):
        row["key"] = info.key
    return {"title": "Quick Comparison", "rows": rows}


def loss_report(loss: Loss) -> dict[str, Any]:
    """A loss, its cost and its derivative (and the simplification through its activation)."""
    tex, text = loss.tex(), loss.text()
    derivation = loss.combined_derivation()
    info = loss.info
    return {
        "loss": info.key,
        "title": info.title,
        "typical_use": info.typical_use,
        "output_activation": info.output_activation,
        "notes": info.notes,
        "params": dict(loss.params),
        "conventions": {k: doc for k, (_, doc) in info.parameters.items()},
        "point": {"tex": f"L = {tex['point']}", "text": f"L = {text['point']}"},
        "cost": {"tex": f"J = {tex['cost']}", "text": f"J = {text['cost']}"},
        "derivative": {
            "tex": f"{loss.derivative_lhs_tex()} = {tex['derivative']}",
            "text": f"dL/d{'yhat_k' if info.distribution else 'yhat'} = {text['derivative']}",
        },
        "combined": None if derivation is None else {
            "activation": info.default_output,
            "lines": [{"tex": tex_line, "text": text_line, "why": why}
                      for tex_line, text_line, why in derivation.lines],
        },
    }


def trace_steps(
    trace: Trace, givens: Mapping[str, float] | None = None, decimals: int = 3
) -> list[dict[str, Any]]:
    """Every step of a trace as a record; with givens, its values and substituted formula.

    ``value`` is the exact chain; ``rounded`` and ``substituted_tex`` follow the student's
    chain, each step computed from rounded earlier values.
    """
    exact = trace.evaluate(givens) if givens is not None else None
    if exact is not None:
        check_steps(exact)
    rounded = trace.evaluate(givens, decimals) if givens is not None else None
    records = []
    for step in trace:
        record: dict[str, Any] = {
            "name": step.name,
            "kind": step.kind,
            "section": _SECTIONS.get(step.kind, step.kind),
            "description": step.description,
            "lhs_tex": trace.tex(step.name),
            "formula_tex": trace.formula_tex(step.name),
            "formula_text": trace.formula_text(step.name),
        }
        if exact is not None and rounded is not None:
            record["value"] = exact[step.name]
            record["rounded"] = rounded[step.name]
            record["rounded_text"] = format_rounded(rounded[step.name], decimals)
            record["substituted_tex"] = trace.substituted_tex(step.name, rounded, decimals)
            record["substituted_text"] = trace.substituted_text(step.name, rounded, decimals)
        records.append(record)
    return records


def chain_report(net: Network, parameter: str) -> dict[str, Any]:
    """dL/d(parameter) by the chain rule through the deltas, and written out in full."""
    from chainrule.symbolic.printing import latex, plain

    expanded = net.expanded_gradient(parameter)
    return {
        "parameter": parameter,
        "lines_tex": net.chain_rule_tex(parameter),
        "expanded_tex": latex(expanded, net.tex_names),
        "expanded_text": plain(expanded),
    }


def network_report(
    net: Network,
    givens: Mapping[str, float] | None = None,
    *,
    updates: bool = False,
    decimals: int = 3,
    chain: Sequence[str] = (),
) -> dict[str, Any]:
    """The forward and backward equations of a network; with givens, every value too.

    ``chain`` names parameters whose gradient is also shown by the chain rule and expanded.
    """
    trace = net.trace if updates else net.gradient_trace
    steps = trace_steps(trace, givens, decimals)
    sections: list[dict[str, Any]] = []
    for record in steps:
        if not sections or sections[-1]["title"] != record["section"]:
            sections.append({"title": record["section"], "steps": []})
        sections[-1]["steps"].append(record)
    return {
        "title": trace.title,
        "net": net.spec,
        "hidden": [a.key for a in net.hidden],
        "output": net.output.key,
        "loss": net.loss.key,
        "loss_params": dict(net.loss.params),
        "decimals": decimals if givens is not None else None,
        "givens": None if givens is None else {
            g: givens[g] for g in trace.givens
        },
        "givens_tex": [{"tex": trace.tex(g), "value": format_number(givens[g])}
                       for g in trace.givens] if givens is not None else [],
        "chain_rule": [chain_report(net, p) for p in chain],
        "steps": steps,
        "sections": sections,
    }

