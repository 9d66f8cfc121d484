"""Reports of a check: text for people (colour on a terminal), Markdown, JSON; class summaries
and a plot of the class's error rate per step."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

from chainrule.check.judge import (
    CARRIED,
    CARRIED_MEANING,
    CORRECT,
    MISSING,
    STATUSES,
    TOO_FEW_DECIMALS,
    WRONG,
    ClassVerdicts,
    Report,
    StepResult,
)
from chainrule.symbolic.printing import format_number

__all__ = ["class_summary", "error_rate_plot", "plural", "render_class", "render_report"]

_MARKS = {CORRECT: "✓", CARRIED: "→", TOO_FEW_DECIMALS: "≈", WRONG: "✗", MISSING: "·"}
_COLOURS = {CORRECT: "green", CARRIED: "yellow", TOO_FEW_DECIMALS: "yellow", WRONG: "red",
            MISSING: "bright_black"}


def plural(count: int, noun: str) -> str:
    """``1 student``, ``2 students``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _note(status: str, mistakes: Sequence[str]) -> str:
    if status == WRONG:
        return " or ".join(mistakes) if mistakes else "does not follow"
    return status.replace("_", " ")


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
        if s.given is None and s.formula is not None:
            given = "formula"
        expected = format_number(s.expected, report.decimals)
        lines.append(f"  {s.name.ljust(width)}  {mark} {given:>10} {expected:>10}  "
                     f"{_note(s.status, s.mistakes)}")
        if s.formula is not None:
            lines.append(f"  {'':{width}}      as read: {s.formula.reading.text}")
            lines.extend(f"  {'':{width}}      note: {n}" for n in s.formula.reading.notes)
        if s.status != CORRECT and s.message and s.message not in ("not answered",):
            lines.append(f"  {'':{width}}      {s.message}")
        if s.mistake_formula:
            lines.append(f"  {'':{width}}      You computed {s.mistake_formula}.")
        if s.status == MISSING and s.expected_from_your_values not in (None, s.expected):
            if math.isfinite(s.expected_from_your_values):
                shown = format_number(s.expected_from_your_values, report.decimals)
                lines.append(f"  {'':{width}}      from your values it would be {shown}")
            else:
                lines.append(f"  {'':{width}}      from your values it has no real value")
        if s.status in (WRONG, TOO_FEW_DECIMALS) and s.hint:
            lines.append(f"  {'':{width}}      {s.hint}")
    score = report.score
    lines.append(
        f"Score {format_number(score['points'])}/{score['max']} ({score['percent']}%): "
        f"{score['correct']} correct, {score['carried']} carried, "
        f"{score['too_few_decimals']} with too few decimals, {score['wrong']} wrong, "
        f"{score['missing']} missing. First error: {report.first_error or 'none'}."
    )
    if score["carried"]:
        lines.append(CARRIED_MEANING[0].upper() + CARRIED_MEANING[1:])
    return "\n".join(lines) + "\n"


def render_report(report: Report, fmt: str, colour: bool = False) -> str:
    """One student's report as text, md or json."""
    if fmt == "json":
        return json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n"
    if fmt == "md":
        from chainrule.render.environment import render

        return render("md/check.md.j2", {"report": report, "score": report.score,
                                         "marks": _MARKS, "carried_means": CARRIED_MEANING,
                                         "note": _note})
    return _text(report, colour)


def _kinds(step: StepResult) -> list[str]:
    """What went wrong at a step, for the class report: its headline mistake, too few
    decimals, or "does_not_follow" for a wrong value no catalogued mistake explains."""
    if step.status == TOO_FEW_DECIMALS:
        return [TOO_FEW_DECIMALS]
    if step.status == WRONG:
        return [step.mistake or "does_not_follow"]
    return []


def class_summary(reports: Sequence[Report] | ClassVerdicts,
                  unknown_columns: Sequence[str] = ()) -> dict[str, Any]:
    """Per-student scores; per mistake, how many students made it and at which steps; the
    steps most often wrong; each step's counts of every verdict. The columns that name no
    step and each student's cells that could not be read are reported too."""
    if isinstance(reports, ClassVerdicts):
        return _verdicts_summary(reports, unknown_columns)
    first: Counter[str] = Counter()
    per_mistake: dict[str, dict[str, Any]] = {}
    per_step: dict[str, Counter[str]] = {}
    students = []
    for r in reports:
        for s in r.steps:
            per_step.setdefault(s.name, Counter())[s.status] += 1
            for m in _kinds(s):
                entry = per_mistake.setdefault(m, {"students": set(), "steps": Counter()})
                entry["students"].add(r.student)
                entry["steps"][s.name] += 1
        if r.first_error:
            first[r.first_error] += 1
        students.append({"student": r.student, "score": r.score, "first_error": r.first_error,
                         "mistakes": sorted({m for s in r.steps for m in _kinds(s)}),
                         "input_errors": list(r.errors)})
    return _summary(reports[0].problem_id if reports else None, students, per_mistake,
                    per_step, first, len(reports), unknown_columns,
                    sum(len(r.errors) for r in reports))


def _summary(problem: str | None, students: list[dict[str, Any]],
             per_mistake: dict[str, dict[str, Any]], per_step: dict[str, Counter[str]],
             first: Counter[str], n: int, unknown_columns: Sequence[str],
             unreadable: int) -> dict[str, Any]:
    mistakes = sorted(
        ({"mistake": m, "students": len(e["students"]), "steps": e["steps"].most_common()}
         for m, e in per_mistake.items()),
        key=lambda e: (-e["students"], e["mistake"]))
    steps: list[dict[str, Any]] = [
        {"step": name, **{k: c[k] for k in STATUSES},
         "error_rate": round((c[WRONG] + c[TOO_FEW_DECIMALS]) / n, 4) if n else 0.0}
        for name, c in per_step.items()]
    most_wrong = sorted((s for s in steps if s[WRONG] + s[TOO_FEW_DECIMALS]),
                        key=lambda s: -(s[WRONG] + s[TOO_FEW_DECIMALS]))[:10]
    return {
        "problem": problem,
        "students": students,
        "unknown_columns": list(unknown_columns),
        "unreadable_cells": unreadable,
        "mistakes": mistakes,
        "most_wrong_steps": [{"step": s["step"], "students": s[WRONG] + s[TOO_FEW_DECIMALS]}
                             for s in most_wrong],
        "common_first_errors": first.most_common(),
        "steps": steps,
    }


def _verdicts_summary(verdicts: ClassVerdicts,
                      unknown_columns: Sequence[str]) -> dict[str, Any]:
    """:func:`class_summary` of a class judged at once, from its arrays: the same summary."""
    import numpy as np

    problem = verdicts.problem
    sheets = verdicts.sheets
    n = len(sheets)
    asked = [name for name in problem.asked if name in verdicts.status]
    codes = {k: c for c, k in enumerate(STATUSES)}
    wrongish = (codes[WRONG], codes[TOO_FEW_DECIMALS])
    status = np.stack([verdicts.status[a] for a in asked], axis=1) if asked and n else (
        np.zeros((n, len(asked)), dtype=np.int8))
    total = np.zeros(n)
    for a in asked:  # in step order, as sum() adds a report's points
        total = total + verdicts.points[a]
    counts = {k: (status == codes[k]).sum(axis=1) for k in STATUSES}
    bad = (status == wrongish[0]) | (status == wrongish[1])
    first_at = (np.where(bad.any(axis=1), bad.argmax(axis=1), -1) if asked
                else np.full(n, -1))
    kinds: dict[int, list[tuple[str, str]]] = {}  # student -> (step, kind), in step order
    order = {a: k for k, a in enumerate(asked)}
    for (i, name), result in sorted(verdicts.results.items(),
                                    key=lambda item: (item[0][0], order.get(item[0][1], -1))):
        if name in order:
            kinds.setdefault(i, []).extend((name, m) for m in _kinds(result))
    first: Counter[str] = Counter()
    per_mistake: dict[str, dict[str, Any]] = {}
    students = []
    length = len(asked)
    for i, sheet in enumerate(sheets):
        found = kinds.get(i, [])
        for name, m in found:
            entry = per_mistake.setdefault(m, {"students": set(), "steps": Counter()})
            entry["students"].add(sheet.student)
            entry["steps"][name] += 1
        first_error = asked[first_at[i]] if first_at[i] >= 0 else None
        if first_error:
            first[first_error] += 1
        points = round(float(total[i]), 10)
        score = {"points": points, "max": length,
                 "percent": round(100 * points / length, 1) if length else 0.0,
                 **{k: int(counts[k][i]) for k in STATUSES}}
        students.append({"student": sheet.student, "score": score, "first_error": first_error,
                         "mistakes": sorted({m for _, m in found}),
                         "input_errors": list(sheet.errors)})
    per_step: dict[str, Counter[str]] = {}
    if n:
        for k, a in enumerate(asked):
            column = np.bincount(status[:, k], minlength=len(STATUSES))
            per_step[a] = Counter({s: int(column[c]) for s, c in codes.items() if column[c]})
    return _summary(problem.id if n else None, students, per_mistake, per_step, first, n,
                    unknown_columns, sum(len(s.errors) for s in sheets))


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
    lines.append("Mistakes (students, at which steps):")
    for m in summary["mistakes"] or [{"mistake": "none", "students": 0, "steps": []}]:
        where = ", ".join(f"{step} ({count})" for step, count in m["steps"])
        lines.append(f"  {m['students']:>4}  {m['mistake']}" + (f": {where}" if where else ""))
    lines.append("Steps most often wrong (students):")
    for s in summary["most_wrong_steps"] or [{"step": "none", "students": 0}]:
        lines.append(f"  {s['students']:>4}  {s['step']}")
    lines.append("Most common first errors:")
    for step, count in summary["common_first_errors"] or [("none", 0)]:
        lines.append(f"  {count:>4}  {step}")
    return "\n".join(lines) + "\n"


def error_rate_plot(summaries: Sequence[dict[str, Any]]) -> bytes:
    """A PNG bar chart per problem: for every step, in the problem's order, the share of
    students wrong, with too few decimals, carried and missing (stacked)."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    widest = max((len(s["steps"]) for s in summaries), default=1)
    fig = Figure(figsize=(max(6.0, 0.32 * widest + 2), 3.6 * max(len(summaries), 1) + 0.6),
                 dpi=110)
    axes = fig.subplots(max(len(summaries), 1), 1, squeeze=False)[:, 0]
    for ax, summary in zip(axes, summaries, strict=False):
        steps = summary["steps"]
        n = max(len(summary["students"]), 1)
        bottom = [0.0] * len(steps)
        for status, colour, label in ((WRONG, "#c0392b", "wrong"),
                                      (TOO_FEW_DECIMALS, "#e67e22", "too few decimals"),
                                      (CARRIED, "#f1c40f", "carried"),
                                      (MISSING, "#bdc3c7", "missing")):
            heights = [s[status] / n for s in steps]
            ax.bar(range(len(steps)), heights, bottom=bottom, color=colour, label=label)
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
        ax.set_xticks(range(len(steps)), [s["step"] for s in steps], rotation=60, ha="right",
                      fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_ylabel("share of students")
        count = plural(len(summary["students"]), "student")
        ax.set_title(f"Problem {summary['problem']}: {count}, error rate per step", fontsize=10)
        ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
