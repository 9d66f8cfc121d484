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

__all__ = ["StepRecord", "complete_report", "loss_report", "losses_report",
           "network_report", "trace_steps"]

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


_UNMADE: Any = object()


class StepRecord(dict[str, Any]):
    """One step's record (a plain dict) whose printed formulas are made when first read:
    a text document never needs the LaTeX, a LaTeX one never the plain text, and printing
    is most of the time a large network takes. :meth:`complete` gives the plain dict with
    every one, in the record's order (what ``to_dict()`` and JSON give)."""

    __slots__ = ("_printing",)
    _printing: _Printing
    #: Templates read a record's items without asking for attributes of those names first.
    _template_items = True

    def __missing__(self, key: str) -> Any:
        printing = self._printing
        if key not in printing.lazy:
            raise KeyError(key)
        printing.fill(key)  # every record's, in one pass: a template reads them all
        value = dict.get(self, key, _UNMADE)
        if value is _UNMADE:  # a record not among its printing's
            value = self[key] = getattr(printing, key)(self["name"])
        return value

    def complete(self) -> dict[str, Any]:
        """The record as a plain dict, every printed formula made, keys in order."""
        return self._printing.complete(self)


class _Printing:
    """How a record's printed formulas are made: from the trace and the student's rounded
    chain of values."""

    def __init__(self, trace: Trace, rounded: Mapping[str, float] | None,
                 decimals: int) -> None:
        self.trace, self.rounded, self.decimals = trace, rounded, decimals
        self.lazy = frozenset(("lhs_tex", "formula_tex", "formula_text")
                              + (("substituted_tex", "substituted_text") if rounded else ()))
        #: The records of the trace's steps, in order (see :meth:`fill`).
        self.records: list[StepRecord] = []
        self._filled: set[str] = set()

    def fill(self, key: str) -> None:
        """Print ``key`` (one of :attr:`lazy`) of every record at once, where not yet."""
        if key in self._filled or key not in self.lazy:
            return
        self._filled.add(key)
        records = self.records
        if key == "formula_tex":
            texts = self.trace.formulas_tex()
        elif key == "formula_text":
            texts = self.trace.formulas_text()
        elif key == "lhs_tex":
            names = self.trace.tex_names
            made = getattr(names, "made", None)  # a LazyTable: read its table directly
            get = (made() if made is not None else names).get
            texts = [get(name, name) for name in self.trace.names]
        else:
            make = getattr(self, key)
            texts = [make(record["name"]) for record in records]
        for record, text in zip(records, texts, strict=True):
            if key not in record:
                dict.__setitem__(record, key, text)

    def lhs_tex(self, name: str) -> str:
        return self.trace.tex(name)

    def formula_tex(self, name: str) -> str:
        return self.trace.formula_tex(name)

    def formula_text(self, name: str) -> str:
        return self.trace.formula_text(name)

    def substituted_tex(self, name: str) -> str:
        assert self.rounded is not None
        return self.trace.substituted_tex(name, self.rounded, self.decimals)

    def substituted_text(self, name: str) -> str:
        assert self.rounded is not None
        return self.trace.substituted_text(name, self.rounded, self.decimals)

    def complete(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """``fields`` (a step's record so far) with every printed formula, keys in order."""
        get = fields.get  # a plain lookup: makes nothing
        name = fields["name"]
        record = {"name": name, "kind": fields["kind"], "section": fields["section"],
                  "description": fields["description"],
                  "lhs_tex": get("lhs_tex") or self.lhs_tex(name),
                  "formula_tex": get("formula_tex") or self.formula_tex(name),
                  "formula_text": get("formula_text") or self.formula_text(name)}
        if self.rounded is not None:
            record["value"] = fields["value"]
            record["rounded"] = fields["rounded"]
            record["rounded_text"] = fields["rounded_text"]
            record["substituted_tex"] = get("substituted_tex") or self.substituted_tex(name)
            record["substituted_text"] = (get("substituted_text")
                                          or self.substituted_text(name))
        return record


def trace_steps(
    trace: Trace, givens: Mapping[str, float] | None = None, decimals: int = 3, *,
    lazy: bool = False,
) -> list[dict[str, Any]]:
    """Every step of a trace as a record; with givens, its values and substituted formula.

    ``value`` is the exact chain; ``rounded`` and ``substituted_tex`` follow the student's
    chain, each step computed from rounded earlier values. With ``lazy``, each record is a
    :class:`StepRecord` whose printed formulas are made when first read.
    """
    exact = trace.evaluate(givens) if givens is not None else None
    if exact is not None:
        check_steps(exact)
    rounded = trace.evaluate(givens, decimals) if givens is not None else None
    printing = _Printing(trace, rounded, decimals)
    records = printing.records
    for step in trace:
        record = StepRecord(name=step.name, kind=step.kind,
                            section=_SECTIONS.get(step.kind, step.kind),
                            description=step.description)
        record._printing = printing
        if exact is not None and rounded is not None:
            record["value"] = exact[step.name]
            record["rounded"] = rounded[step.name]
            record["rounded_text"] = format_rounded(rounded[step.name], decimals)
        records.append(record)
    if lazy:
        return list(records)
    for key in sorted(printing.lazy):
        printing.fill(key)
    return [printing.complete(record) for record in records]


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
    lazy: bool = False,
) -> dict[str, Any]:
    """The forward and backward equations of a network; with givens, every value too.

    ``chain`` names parameters whose gradient is also shown by the chain rule and expanded.
    With ``lazy`` the steps' printed formulas are made when first read (see
    :func:`complete_report`).
    """
    trace = net.trace if updates else net.gradient_trace
    steps = trace_steps(trace, givens, decimals, lazy=lazy)
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



def complete_report(report: dict[str, Any]) -> dict[str, Any]:
    """Make every printed formula of a lazy :func:`network_report` (in place: its steps,
    and the same records in its sections, become plain dicts); returns the report."""
    steps = report["steps"]
    if not steps or not isinstance(steps[0], StepRecord):
        return report
    for printing in {id(r._printing): r._printing for r in steps}.values():
        for key in sorted(printing.lazy):
            printing.fill(key)
    plain = {id(record): record.complete() for record in steps}
    report["steps"] = [plain[id(record)] for record in steps]
    for section in report["sections"]:
        section["steps"] = [plain[id(record)] for record in section["steps"]]
    return report
