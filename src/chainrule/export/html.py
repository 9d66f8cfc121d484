"""Question text, worked solution and answer feedback as HTML, for the LMS exports.

The texts come from the same family templates as the handouts: ``templates/html/*.md.j2``
call each family's Markdown macros (``question(p)``, ``solution(p)``) and add the answer
blanks; the Markdown is then turned into HTML here. The Markdown the templates write is a
small, known subset (paragraphs, ``**bold**``, `` `code` ``, lists, pipe tables, ``$...$``
and ``$$...$$`` math), so a small converter serves and no dependency is needed.

Math becomes MathJax's ``\\( \\)`` (inline) and ``\\[ \\]`` (display), which Moodle's and
Canvas's MathJax both typeset. Every text and math character is HTML-escaped, so nothing a
title or a template holds can become markup.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chainrule.errors import ChainruleError
from chainrule.export.common import Answer
from chainrule.problems.base import Problem

__all__ = [
    "ProblemHtml",
    "key_lines_html",
    "markdown_html",
    "markdown_inline",
    "mistakes_html",
    "problem_html",
    "slot",
    "typing_hint",
]

_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE = re.compile(r"(?<![\\$])\$(?!\$)(.+?)(?<![\\$])\$(?!\$)", re.S)
_MATH = re.compile("\x00([0-9]+)\x00")
_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)
_ITALIC = re.compile(r"(?<![*\w])\*(?![\s*])(.+?)(?<![\s*])\*(?![*\w])", re.S)
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*[0-9]+[.)]\s+(.*)$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_RULE_ROW = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def typing_hint(decimals: int) -> str:
    """What to type for a value asked to ``decimals`` places (stated in every question)."""
    if decimals == 0:
        return "Type each number as a whole number, like 12 or -3."
    examples = f"{0.72:.{decimals}f} or {-1.5:.{decimals}f}"
    return (f"Type each number with {decimals} decimal{'s' if decimals != 1 else ''}, "
            f"like {examples}.")


def slot(index: int) -> str:
    """The marker a template writes where answer blank ``index`` goes (replaced later)."""
    return f"\x02{index}\x03"


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


MathWriter = Callable[[str, bool], str]


def _mathjax(tex: str, display: bool) -> str:
    tex = _escape(tex)
    return f"\\[{tex}\\]" if display else f"\\({tex}\\)"


def _protect_math(text: str, maths: list[str], math: MathWriter | None = None) -> str:
    write = math or _mathjax

    def keep(display: bool) -> Any:
        def sub(match: re.Match[str]) -> str:
            maths.append(write(match.group(1).strip(), display))
            return f"\x00{len(maths) - 1}\x00"
        return sub

    text = text.replace("\\$", "\x01")  # a literal dollar
    text = _DISPLAY.sub(keep(True), text)
    return _INLINE.sub(keep(False), text)


def _inline(text: str) -> str:
    """Inline Markdown (math already protected) as HTML."""
    codes: list[str] = []

    def code(match: re.Match[str]) -> str:
        codes.append(f"<code>{_escape(match.group(1))}</code>")
        return f"\x04{len(codes) - 1}\x04"

    text = _CODE.sub(code, text)
    text = _escape(text)
    text = _BOLD.sub(r"<strong>\1</strong>", text)
    text = _ITALIC.sub(r"<em>\1</em>", text)
    text = re.sub("\x04([0-9]+)\x04", lambda m: codes[int(m.group(1))], text)
    return text.replace("\x01", "$")


def _restore(text: str, maths: list[str]) -> str:
    return _MATH.sub(lambda m: maths[int(m.group(1))], text)


def markdown_inline(text: str, math: MathWriter | None = None) -> str:
    """One line of Markdown (a choice, a feedback line) as inline HTML.

    ``math(tex, display)`` writes each formula as HTML (default: MathJax delimiters)."""
    maths: list[str] = []
    return _restore(_inline(_protect_math(text, maths, math)).strip(), maths)


def markdown_html(text: str, math: MathWriter | None = None) -> str:
    """The Markdown subset chainrule's templates write, as HTML (see the module docstring).

    ``math(tex, display)`` writes each formula as HTML (default: MathJax delimiters)."""
    maths: list[str] = []
    lines = _protect_math(text, maths, math).split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        heading = _HEADING.match(line)
        if heading:
            level = min(len(heading.group(1)) + 2, 6)
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
            i += 1
            continue
        if line.lstrip().startswith("|"):
            rows = []
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                rows.append(lines[i])
                i += 1
            out.append(_table(rows))
            continue
        for pattern, tag in ((_BULLET, "ul"), (_NUMBERED, "ol")):
            if pattern.match(line):
                items: list[str] = []
                while i < len(lines) and lines[i].strip():
                    item = pattern.match(lines[i])
                    if item:
                        items.append(item.group(1))
                    elif items and not lines[i].lstrip().startswith("|"):
                        items[-1] += "\n" + lines[i].strip()
                    else:
                        break
                    i += 1
                body = "".join(f"<li>{_inline(item)}</li>" for item in items)
                out.append(f"<{tag}>{body}</{tag}>")
                break
        else:
            para = []
            while i < len(lines) and lines[i].strip() and not (
                lines[i].lstrip().startswith("|") or _BULLET.match(lines[i])
                or _NUMBERED.match(lines[i]) or _HEADING.match(lines[i])
            ):
                para.append(lines[i].strip())
                i += 1
            out.append(f"<p>{_inline(chr(10).join(para))}</p>")
    return _restore("\n".join(out), maths)


def _cells(row: str) -> list[str]:
    row = row.strip()
    if row.startswith("|"):
        row = row[1:]
    if row.endswith("|"):
        row = row[:-1]
    return [cell.strip() for cell in row.split("|")]


def _table(rows: list[str]) -> str:
    head: list[str] | None = None
    body = []
    for n, row in enumerate(rows):
        if _RULE_ROW.match(row):
            continue
        if n == 0 and len(rows) > 1 and _RULE_ROW.match(rows[1]):
            head = _cells(row)
        else:
            body.append(_cells(row))
    parts = ["<table>"]
    if head is not None:
        parts.append("<thead><tr>" + "".join(f"<th>{_inline(c)}</th>" for c in head)
                     + "</tr></thead>")
    parts.append("<tbody>" + "".join(
        "<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>" for row in body
    ) + "</tbody>")
    parts.append("</table>")
    return "".join(parts)


def mistakes_html(graded: Sequence[Answer]) -> str:
    """The named mistakes of every value as an HTML list ("" when there are none): where an
    LMS cannot attach feedback to a wrong value, it goes in the general feedback."""
    items = [f"<li>\\({_escape(a.lhs_tex)}\\) = {_escape(m.value)}: {_escape(m.message)}</li>"
             for a in graded for m in a.mistakes]
    if not items:
        return ""
    return ("<p><strong>Common mistakes</strong> and the value each gives (no credit):</p>"
            f"<ul>{''.join(items)}</ul>")


def key_lines_html(feedback: Sequence[str]) -> str:
    """Every asked step's key (formula or worked value) as an HTML list, for the teacher who
    grades a problem by hand."""
    items = "".join(f"<li>{line}</li>" for line in feedback)
    return f"<p><strong>Key</strong>:</p><ul>{items}</ul>" if items else ""


@dataclass
class ProblemHtml:
    """A problem as the LMS shows it; ``question`` holds :func:`slot` markers for blanks."""

    question: str
    solution: str
    feedback: list[str]
    choices: list[str]


def problem_html(
    problem: Problem,
    context: dict[str, Any],
    graded: Sequence[Answer],
    *,
    blanks: bool,
    templates_dir: str | Path | None = None,
) -> ProblemHtml:
    """Render a problem's question (with blank slots when ``blanks``), solution and the
    feedback line of each graded value, through ``templates/html/``."""
    import jinja2

    from chainrule.render.environment import environment, render

    if templates_dir is not None:
        templates_dir = str(Path(templates_dir).resolve())
    rows = [{"name": a.name, "lhs_tex": a.lhs_tex, "slot": slot(i), "record": a.record,
             "manual": a.manual} for i, a in enumerate(graded)]
    data = {
        # The LMS lists the choices itself: the question text leaves them out.
        "p": {**context, "choices": []} if problem.choices is not None else context,
        "blanks": rows if blanks else [],
        "single": rows[0] if rows and not blanks else None,
        "typing": typing_hint(problem.decimals),
    }
    question = markdown_html(render("html/question.md.j2", data, templates_dir))
    if blanks:
        for i in range(len(rows)):
            if question.count(slot(i)) != 1:
                raise ChainruleError("template html/question.md.j2 must place each answer "
                                     "blank ({{ b.slot }}) exactly once")
    solution = markdown_html(render("html/solution.md.j2", {"p": context}, templates_dir))
    try:
        macros = environment("html", templates_dir).get_template("html/_answer.md.j2").module
        line = getattr(macros, "feedback")  # noqa: B009  (a template macro)
        feedback = [markdown_inline(str(line(a.record))) if not a.manual
                    else markdown_inline(f"Key: ${a.lhs_tex} = {a.formula_tex}$")
                    for a in graded]
    except jinja2.TemplateError as exc:
        raise ChainruleError(f"template html/_answer.md.j2: {exc}") from None
    choices = [markdown_inline(c) for c in problem.choices or []]
    return ProblemHtml(question, solution, feedback, choices)
