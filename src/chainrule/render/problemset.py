"""Problem sets as documents: questions and worked solutions, Markdown and LaTeX.

Each family has a template per format (``md/families/<family>.md.j2``) with two macros,
``question(p)`` and ``solution(p)``; the set documents call them for each problem. ``p`` is
:func:`problem_context`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from chainrule.problems.base import Problem
from chainrule.problems.conventions import for_problem
from chainrule.render.environment import render

__all__ = ["network_drawing", "problem_context", "render_document", "render_set"]

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def network_drawing(problem: Problem) -> dict[str, Any] | None:
    """Where a network problem's drawing puts its units and weight labels (None otherwise)."""
    net = problem.context.get("network")
    if not isinstance(net, Mapping):
        return None
    from chainrule.render.drawing import layout

    units = [list(net["inputs"])] + [[f"n{j}" for j in ids] for ids in net["neurons"][1:]]
    edges = [(w["name"], w["source"] if w["layer"] == 1 else f"n{w['source'][1:]}",
              f"n{w['target']}", w["layer"]) for w in net["weights"]]
    values = problem.number_texts()
    layers = net["layers"]
    # Gaps of more than six edges show values only (the question names every weight).
    named = {w["name"]: layers[w["layer"] - 1] * layers[w["layer"]] <= 6 for w in net["weights"]}
    lengths = {w["name"]: (len(w["name"]) + 3 if named[w["name"]] else 0)
               + len(values.get(w["name"], "?")) for w in net["weights"]}
    found = layout(net["layers"], units, edges, lengths)
    return {
        "xs": [f"{x:.2f}" for x in found.xs],
        "units": {n: (f"{x:.2f}", f"{y:.3f}") for n, (x, y) in found.units.items()},
        "labels": {w: {"pos": f"{v['pos']:.2f}", "side": v["side"], "named": named[w]}
                   for w, v in found.labels.items()},
        "top": f"{max(y for _, y in found.units.values()) + 1.0:.3f}",
    }


def problem_context(problem: Problem) -> dict[str, Any]:
    """What a family template sees of a problem."""
    steps = problem.step_records()
    asked = set(problem.asked)
    for record in steps:
        key = problem.formula_key.get(record["name"])
        if key is not None:
            record["key_formula"], record["key_formula_tex"] = key["formula"], key["formula_tex"]
    context: dict[str, Any] = {
        "id": problem.id,
        "code": problem.code or problem.id,
        "marks": problem.total_marks,
        "conventions": for_problem(problem.family, problem.context, problem.decimals),
        "family": problem.family,
        "title": problem.title,
        "version": problem.version,
        "decimals": problem.decimals,
        "givens": problem.givens_records(),
        "steps": steps,
        "asked": [s for s in steps if s["name"] in asked],
        "context": problem.context,
        "choices": problem.choices,
        "answer": problem.answer,
        "answer_letter": None if problem.answer is None else _LETTERS[problem.answer],
        "derivation": problem.derivation,
        "drawing": network_drawing(problem),
    }
    return context


def render_set(
    problems: Sequence[Problem],
    kind: str,
    fmt: str,
    *,
    title: str,
    version: str | None = None,
    instructions: str = "",
    meta: Mapping[str, str] | None = None,
    templates_dir: str | Path | None = None,
) -> str:
    """``kind`` is questions or solutions; ``fmt`` is md or tex."""
    return render_document([problem_context(p) for p in problems], kind, fmt, title=title,
                           version=version, instructions=instructions, meta=meta,
                           templates_dir=templates_dir)


def render_document(
    contexts: Sequence[Mapping[str, Any]],
    kind: str,
    fmt: str,
    *,
    title: str,
    version: str | None = None,
    instructions: str = "",
    meta: Mapping[str, str] | None = None,
    templates_dir: str | Path | None = None,
) -> str:
    """:func:`render_set` from problem contexts already made (to render several documents)."""
    ext = {"md": "md", "tex": "tex"}[fmt]
    data = {
        "title": title,
        "version": version,
        "instructions": instructions,
        "meta": dict(meta or {}),
        "problems": list(contexts),
    }
    return render(f"{fmt}/{kind}.{ext}.j2", data, templates_dir)
