"""A class's answers in one CSV: an id column, then one column per step.

A ``problem`` column (as the web app's export writes) lets one file span problems: each row
is then checked against the problem it names.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from chainrule.check.answers import AnswerSheet, canonical_name, parse_answers, suggestion
from chainrule.errors import InputError
from chainrule.io.inputs import read_csv

__all__ = ["PROBLEM_COLUMN", "class_problems", "read_class", "unknown_columns"]

PROBLEM_COLUMN = "problem"


def _table(path: str | Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    name = str(path)
    rows = read_csv(path, "class CSV file").rows
    if len(rows) < 2 or len(rows[0][1]) < 2:
        raise InputError("expected a header (id, step names...) and one row per student",
                         file=name, line=1)
    header = rows[0][1]
    body = []
    for line_no, row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise InputError(f"has {len(row)} cells, the header has {len(header)}", file=name,
                             line=line_no)
        body.append((line_no, row))
    return header, body


def _problem_index(header: list[str]) -> int | None:
    found = [i for i, h in enumerate(header) if h.strip().lower() == PROBLEM_COLUMN]
    return found[0] if found and found[0] > 0 else None


def class_problems(path: str | Path) -> list[str] | None:
    """The problems a class CSV's ``problem`` column names, in order of first appearance
    (an empty cell is ""), or None when it has no such column."""
    header, body = _table(path)
    index = _problem_index(header)
    if index is None:
        return None
    names: list[str] = []
    for _, row in body:
        cell = row[index].strip()
        if cell not in names:
            names.append(cell)
    return names


def _columns(
    path: str | Path, header: list[str], valid: list[str], output_neurons: dict[str, str]
) -> tuple[list[bool], list[str]]:
    """Which columns give a step, and one line for each column that names no step; two
    columns giving the same step are an error."""
    index = _problem_index(header)
    known = [False] * len(header)
    unknown: list[str] = []
    steps: dict[str, str] = {}
    for i, column in enumerate(header):
        if i in (0, index):
            continue
        step = canonical_name(column, valid, output_neurons)
        if step is None:
            hint = suggestion(column, valid)
            unknown.append(f"{path}: line 1: column '{column}' names no step{hint}")
        elif step in steps:
            raise InputError(f"columns '{steps[step]}' and '{column}' both give {step}",
                             file=str(path), line=1, field=column)
        else:
            steps[step] = column
            known[i] = True
    return known, unknown


def unknown_columns(
    path: str | Path, valid: list[str], output_neurons: dict[str, str]
) -> list[str]:
    """The columns of a class CSV that name no step, one line each (reported, not dropped)."""
    header, _ = _table(path)
    return _columns(path, header, valid, output_neurons)[1]


def read_class(
    path: str | Path, valid: list[str], output_neurons: dict[str, str],
    problem: str | None = None, tex_names: Mapping[str, str] | None = None,
) -> list[AnswerSheet]:
    """One sheet per row; the first column names the student. With a ``problem`` column,
    only the rows naming ``problem`` are read. A cell that is not a number is an error of its
    student's sheet; columns that name no step are left to :func:`unknown_columns`. A cell may
    hold a formula (quoted where it holds commas); a bad cell is an error of that cell only."""
    name = str(path)
    header, body = _table(path)
    index = _problem_index(header)
    known, _ = _columns(path, header, valid, output_neurons)
    sheets = []
    seen: set[str] = set()
    for line_no, row in body:
        if index is not None and problem is not None and row[index].strip() != problem:
            continue
        student = row[0].strip()
        if student in seen:
            raise InputError(f"student '{student}' appears twice", file=name, line=line_no)
        seen.add(student)
        cells = [(h, c, line_no) for h, c, ok in zip(header, row, known, strict=True)
                 if ok and c.strip()]
        sheet = parse_answers(cells, valid, output_neurons, name, tex_names)
        sheet.student = student
        sheets.append(sheet)
    return sheets
