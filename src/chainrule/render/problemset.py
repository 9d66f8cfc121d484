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
    """Where a network problem's drawing puts its units and weight labels, and the tables of
    the gaps too dense to label (None when the problem has no network)."""
    net = problem.context.get("network")
    if not isinstance(net, Mapping):
        return None
    from chainrule.render.drawing import network_drawing as drawing_of

    texs = {g["name"]: g["tex"] for g in problem.givens_records()}
    return drawing_of(net, problem.number_texts(), texs)


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
