"""One problem as every LMS export sees it: its kind, graded values and HTML, built once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from chainrule.export.common import Answer, SetProblem, answers, question_kind
from chainrule.export.html import ProblemHtml, key_lines_html, problem_html
from chainrule.export.mistakes import DEFAULT_MISTAKES

__all__ = ["LmsQuestion", "lms_question"]


@dataclass
class LmsQuestion:
    """A problem's kind (multichoice, essay, numerical, cloze), graded values and HTML."""

    entry: SetProblem
    kind: str
    graded: list[Answer]
    html: ProblemHtml

    @property
    def key_html(self) -> str:
        """Every step's key, for a problem graded by hand."""
        return key_lines_html(self.html.feedback)


def lms_question(
    entry: SetProblem, templates_dir: str | Path | None = None,
    mistakes: int = DEFAULT_MISTAKES,
) -> LmsQuestion:
    """Build a problem's question once: kind, graded values (with mistake values) and HTML."""
    from chainrule.render.problemset import problem_context

    problem = entry.problem
    kind = question_kind(problem)
    context = problem_context(problem)
    graded = answers(problem, context["asked"], mistakes)
    parts = problem_html(problem, context, graded, blanks=kind == "cloze",
                         templates_dir=templates_dir)
    return LmsQuestion(entry, kind, graded, parts)
