"""history.csv: one row per run and epoch, written as training goes.

Columns: ``optimizer`` (the run's label), ``epoch`` (0 is before the first update),
``steps`` (updates so far), ``lr`` (the epoch's learning rate; empty at epoch 0), ``loss``
(J, the mean loss over all examples after the epoch), ``batch_loss`` (the mean of the
batch losses seen during the epoch, each at the weights before its update; empty at epoch
0) and ``accuracy`` (empty for regression). Numbers are written in full precision. Each row
is flushed as it is written, so a run that diverges or is interrupted keeps what it had.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import TextIO

from chainrule.training.loop import HISTORY_COLUMNS

__all__ = ["CSV_COLUMNS", "HistoryWriter", "read_history"]

CSV_COLUMNS = ("optimizer", *HISTORY_COLUMNS)


def _cell(value: float) -> str:
    return "" if math.isnan(value) else repr(value)


class HistoryWriter:
    """Append history rows to a CSV file (created with its header; open with ``with``)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._handle: TextIO | None = None

    def __enter__(self) -> HistoryWriter:
        self._handle = self.path.open("w", newline="", encoding="utf-8", buffering=1)
        self._writer = csv.writer(self._handle, lineterminator="\n")
        self._writer.writerow(CSV_COLUMNS)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def write(self, label: str, row: Mapping[str, float]) -> None:
        """One epoch of run ``label``."""
        if self._handle is None:
            raise RuntimeError("HistoryWriter is not open: use it in a with block")
        epoch, steps = int(row["epoch"]), int(row["steps"])
        rest = [_cell(float(row[c])) for c in HISTORY_COLUMNS[2:]]
        self._writer.writerow([label, epoch, steps, *rest])


def read_history(path: str | Path) -> dict[str, dict[str, list[float]]]:
    """history.csv back as optimizer -> column -> values (empty cells are nan)."""
    runs: dict[str, dict[str, list[float]]] = {}
    with Path(path).open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            run = runs.setdefault(row["optimizer"], {c: [] for c in HISTORY_COLUMNS})
            for column in HISTORY_COLUMNS:
                cell = row[column]
                run[column].append(float(cell) if cell else math.nan)
    return runs
