"""Reports of a check: text for people (colour on a terminal), Markdown, JSON; class summaries."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from chainrule.check.judge import CARRIED, CORRECT, MISSING, WRONG, Report
from chainrule.symbolic.printing import format_number

__all__ = ["class_summary", "plural", "render_class", "render_report"]

_MARKS = {CORRECT: "✓", CARRIED: "→", WRONG: "✗", MISSING: "·"}
_COLOURS = {CORRECT: "green", CARRIED: "yellow", WRONG: "red", MISSING: "bright_black"}


def plural(count: int, noun: str) -> str:
    """``1 student``, ``2 students``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _num(value: float | None, decimals: int) -> str:
    if value is None:
        return ""
    return format_number(value, decimals + 1) if value == value else "nan"


def _text(report: Report, colour: bool) -> str:
    import click

    lines = []
    title = f"Problem {report.problem_id}" + (f", student {report.student}" if report.student
                                              else "")
    lines.append(title)
    for error in report.errors:
        lines.append(f"  ! {error}")
    width = max((len(s.name) for s in report.steps), default=4)
    lines.append(f"  {'step'.ljust(width)}  {'':1} {'yours':>10} {'expected':>10}  note")
    for s in report.steps:
        mark = _MARKS[s.status]
        if colour:
            mark = click.style(mark, fg=_COLOURS[s.status], bold=s.status == WRONG)
        given = "" if s.given is None else format_number(s.given)
        note = s.status if s.status != WRONG else (s.mistake or "wrong")
        if s.status == WRONG and s.expected_from_your_values is not None:
            note += f" (from your values: {_num(s.expected_from_your_values, report.decimals)})"
        expected = format_number(s.expected, report.decimals)
        lines.append(f"  {s.name.ljust(width)}  {mark} {given:>10} {expected:>10}  {note}")
        if s.status == WRONG and s.message:
            lines.append(f"  {'':{width}}      {s.message}")
    score = report.score
    lines.append(
        f"Score {format_number(score['points'])}/{score['max']} ({score['percent']}%): "
        f"{score['correct']} correct, {score['carried']} carried, {score['wrong']} wrong, "
        f"{score['missing']} missing. First error: {report.first_error or 'none'}."
    )
    return "\n".join(lines) + "\n"


def render_report(report: Report, fmt: str, colour: bool = False) -> str:
    """One student's report as text, md or json."""
    if fmt == "json":
        return json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n"
    if fmt == "md":
        from chainrule.render.environment import render

        return render("md/check.md.j2", {"report": report, "score": report.score,
                                         "marks": _MARKS})
    return _text(report, colour)


def class_summary(reports: Sequence[Report],
                  unknown_columns: Sequence[str] = ()) -> dict[str, Any]:
    """Per-student scores and the class's most common mistakes and first errors; the columns
    that name no step and each student's cells that could not be read are reported too."""
    mistakes: Counter[str] = Counter()
    first: Counter[str] = Counter()
    wrong_steps: Counter[str] = Counter()
    students = []
    for r in reports:
        for s in r.steps:
            if s.status == WRONG:
                wrong_steps[s.name] += 1
                if s.mistake:
                    mistakes[s.mistake] += 1
        if r.first_error:
            first[r.first_error] += 1
        students.append({"student": r.student, "score": r.score, "first_error": r.first_error,
                         "mistakes": sorted({s.mistake for s in r.steps if s.mistake}),
                         "input_errors": list(r.errors)})
    return {
        "problem": reports[0].problem_id if reports else None,
        "students": students,
        "unknown_columns": list(unknown_columns),
        "unreadable_cells": sum(len(r.errors) for r in reports),
        "common_mistakes": mistakes.most_common(),
        "common_first_errors": first.most_common(),
        "most_missed_steps": wrong_steps.most_common(10),
    }


def render_class(summary: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(summary, indent=2, ensure_ascii=False) + "\n"
    if fmt == "md":
        from chainrule.render.environment import render

        return render("md/check_class.md.j2", summary)
    count = len(summary["students"])
    lines = [f"Problem {summary['problem']}: {plural(count, 'student')}"]
    for column in summary["unknown_columns"]:
        lines.append(f"  ! ignored: {column}")
    for s in summary["students"]:
        sc = s["score"]
        lines.append(f"  {s['student']!s:<16} {format_number(sc['points']):>6}/{sc['max']}"
                     f"  first error: {s['first_error'] or '-':<10} "
                     f"{', '.join(s['mistakes'])}")
        for error in s["input_errors"]:
            lines.append(f"    ! {error}")
    if summary["unreadable_cells"] or summary["unknown_columns"]:
        lines.append(f"Not read: {plural(len(summary['unknown_columns']), 'unknown column')}, "
                     f"{plural(summary['unreadable_cells'], 'unreadable cell')}.")
    lines.append("Most common mistakes:")
    for mistake, count in summary["common_mistakes"] or [("none", 0)]:
        lines.append(f"  {count:>4}  {mistake}")
    lines.append("Most common first errors:")
    for step, count in summary["common_first_errors"] or [("none", 0)]:
        lines.append(f"  {count:>4}  {step}")
    return "\n".join(lines) + "\n"
