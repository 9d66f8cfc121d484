"""A class's answers in one CSV: an id column, then one column per step."""

from __future__ import annotations

from pathlib import Path

from chainrule.check.answers import AnswerSheet, parse_answers
from chainrule.errors import InputError
from chainrule.io.inputs import read_csv

__all__ = ["read_class"]


def read_class(
    path: str | Path, valid: list[str], output_neurons: dict[str, str]
) -> list[AnswerSheet]:
    """One sheet per row; the first column names the student."""
    name = str(path)
    rows = read_csv(path, "class CSV file").rows
    if len(rows) < 2 or len(rows[0][1]) < 2:
        raise InputError("expected a header (id, step names...) and one row per student",
                         file=name, line=1)
    header = rows[0][1]
    sheets = []
    seen: set[str] = set()
    for line_no, row in rows[1:]:
        if len(row) != len(header):
            raise InputError(f"has {len(row)} cells, the header has {len(header)}", file=name,
                             line=line_no)
        student = row[0].strip()
        if student in seen:
            raise InputError(f"student '{student}' appears twice", file=name, line=line_no)
        seen.add(student)
        cells = [(h, c, line_no) for h, c in zip(header[1:], row[1:], strict=True)
                 if c.strip()]
        sheet = parse_answers(cells, valid, output_neurons, name)
        sheet.student = student
        sheets.append(sheet)
    return sheets
