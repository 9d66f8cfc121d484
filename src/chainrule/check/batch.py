"""A class's answers in one CSV: an id column, then one column per step.

A ``problem`` column (as the web app's export writes) lets one file span problems: each row
is then checked against the problem it names.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from chainrule.check.answers import (
    Answer,
    AnswerSheet,
    canonical_name,
    read_answer,
    suggestion,
    vocabulary,
)
from chainrule.errors import InputError
from chainrule.io.inputs import read_csv

__all__ = ["PROBLEM_COLUMN", "ClassSheets", "class_problems", "read_class", "unknown_columns"]

PROBLEM_COLUMN = "problem"

#: The last class CSV read, by (path, inode, size, modification time): ``check --batch`` asks
#: for its problems, its sheets and its unknown columns; the file is read once.
_LAST: dict[tuple[Any, ...], tuple[list[str], list[tuple[int, list[str]]]]] = {}


def _table(path: str | Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    try:
        st = os.stat(path)
        key: tuple[Any, ...] | None = (str(path), st.st_ino, st.st_size, st.st_mtime_ns)
    except OSError:
        key = None
    if key is not None and key in _LAST:
        return _LAST[key]
    table = _read_table(path)
    _LAST.clear()
    if key is not None:
        _LAST[key] = table
    return table


def _read_table(path: str | Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
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
) -> tuple[list[str | None], list[str]]:
    """The step each column gives (None: not a step), and one line for each column that
    names no step; two columns giving the same step are an error."""
    index = _problem_index(header)
    known: list[str | None] = [None] * len(header)
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
            known[i] = step
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
) -> ClassSheets:
    """One sheet per row; the first column names the student. With a ``problem`` column,
    only the rows naming ``problem`` are read. A cell that is not a number is an error of its
    student's sheet; columns that name no step are left to :func:`unknown_columns`. A cell may
    hold a formula (quoted where it holds commas); a bad cell is an error of that cell only.

    The sheets are read column by column: plain numbers as arrays (what the class judge
    reads), every other cell as :func:`~chainrule.check.answers.parse_answers` reads it."""
    name = str(path)
    header, body = _table(path)
    index = _problem_index(header)
    known, _ = _columns(path, header, valid, output_neurons)
    rows: list[tuple[int, list[str]]] = []
    students: list[str] = []
    seen: set[str] = set()
    for line_no, row in body:
        if index is not None and problem is not None and row[index].strip() != problem:
            continue
        student = row[0].strip()
        if student in seen:
            raise InputError(f"student '{student}' appears twice", file=name, line=line_no)
        seen.add(student)
        rows.append((line_no, row))
        students.append(student)
    vocab = vocabulary(valid, output_neurons, tex_names)
    errors: list[list[str]] = [[] for _ in rows]
    table = _Table(len(rows), [line for line, _ in rows])
    for j, step in enumerate(known):
        if step is None:
            continue
        cells = [row[j].strip() for _, row in rows]
        values, plain = _plain_numbers(cells)
        others: dict[int, Answer] = {}
        read: dict[str, Answer | str] = {}  # a column's formulas are often the same text
        for i in np.flatnonzero(~plain).tolist():
            cell = rows[i][1][j]
            if not cell.strip():
                continue
            line = rows[i][0]
            answer = read.get(cell)
            if answer is None:
                try:
                    answer = read[cell] = read_answer(step, cell, line, vocab)
                except ValueError as exc:
                    answer = read[cell] = str(exc)
            if isinstance(answer, str):
                errors[i].append(f"{name}: line {line}: {step}: {answer}")
            else:
                others[i] = replace(answer, line=line)
        table.add(step, values, plain, cells, others)
    sheets = ClassSheets(AnswerSheet(_RowAnswers(table, i), errors[i], students[i])
                         for i in range(len(rows)))
    sheets.columns = table
    return sheets


def _plain_numbers(cells: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's number where it is a plain finite decimal (what ``float`` reads and the
    number reader reads alike), and where that is so."""
    n = len(cells)
    values = np.full(n, np.nan)
    try:
        values[:] = np.array(cells, dtype=np.float64)
    except ValueError:  # blanks, formulas, fractions...: cell by cell
        for i, cell in enumerate(cells):
            with contextlib.suppress(ValueError):
                values[i] = float(cell)
    plain = np.isfinite(values)
    if "_" in "".join(cells) or max(map(len, cells), default=0) > 64:
        plain &= np.array(["_" not in c and len(c) <= 64 for c in cells], dtype=bool)
    return values, plain


class _Table:
    """A class's answers column by column: plain numbers as arrays, other answers as read."""

    def __init__(self, n: int, lines: list[int]) -> None:
        self.n = n
        self.lines = lines
        self.values: dict[str, np.ndarray] = {}
        self.plain: dict[str, np.ndarray] = {}
        self.texts: dict[str, list[str]] = {}
        self.others: dict[str, dict[int, Answer]] = {}
        self.order: list[str] = []

    def add(self, step: str, values: np.ndarray, plain: np.ndarray, texts: list[str],
            others: dict[int, Answer]) -> None:
        self.order.append(step)
        self.values[step], self.plain[step] = values, plain
        self.texts[step], self.others[step] = texts, others

    def answer(self, i: int, step: str) -> Answer | None:
        plain = self.plain.get(step)
        if plain is None:
            return None
        if plain[i]:
            return Answer(step, float(self.values[step][i]), self.texts[step][i],
                          self.lines[i], None, True)
        return self.others[step].get(i)

    def step(self, name: str, wants_formula: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """As :meth:`chainrule.check.judge._Columns.step`: where a plain number was given,
        where anything else was, and the numbers."""
        n = self.n
        if name not in self.plain:
            return np.zeros(n, dtype=bool), np.ones(n, dtype=bool), np.zeros(n)
        plain = self.plain[name]
        has = plain & (not wants_formula)
        number = ~plain if wants_formula else np.ones(n, dtype=bool)
        v = np.where(has, self.values[name], 0.0)
        for i, answer in self.others[name].items():
            value = answer.value
            if (isinstance(value, float) and math.isfinite(value) and answer.formula is None
                    and not wants_formula):
                has[i], v[i] = True, value
            else:
                number[i] = False
        return has, number, v


class _RowAnswers(Mapping[str, Answer]):
    """One student's answers, read from the class's columns when asked for."""

    def __init__(self, table: _Table, i: int) -> None:
        self._table, self._i = table, i

    def __getitem__(self, step: str) -> Answer:
        answer = self._table.answer(self._i, step)
        if answer is None:
            raise KeyError(step)
        return answer

    def __iter__(self) -> Iterator[str]:
        return (s for s in self._table.order if self._table.answer(self._i, s) is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class ClassSheets(list[AnswerSheet]):
    """A class's sheets, one per row, with the columns they were read from."""

    columns: _Table
