"""Small datasets for training demos: generated from a seed with NumPy, or read from CSV.

Every built-in dataset is drawn from ``numpy.random.default_rng(seed)`` (nothing is
downloaded) and is small enough to train on in a second:

=============  =========  ==========================================================
name           task       what it is
=============  =========  ==========================================================
``xor``        binary     the four corners of the unit square, y = x1 XOR x2
``and``        binary     the same corners, y = x1 AND x2
``or``         binary     the same corners, y = x1 OR x2
``blobs``      binary     two Gaussian clouds (centres (-1, -1) and (1, 1), sd 0.8)
``moons``      binary     two interleaving half circles with Gaussian noise
``circles``    binary     a small circle inside a larger one, with Gaussian noise
``linear``     regression y = 3 - 1.5 x + noise, x uniform on [-1, 3] (one feature)
``three``      multiclass three Gaussian clouds at 120 degrees from each other
=============  =========  ==========================================================

A CSV file has feature columns and one label column (the last, unless named). Labels that
are not numbers, or whole numbers with at most 20 distinct values, are classes; other
numbers make a regression target. Classes are sorted; two classes become y in {0, 1}, more
become one-hot rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from chainrule.errors import ChainruleError, InputError
from chainrule.io.inputs import read_csv
from chainrule.symbolic.registry import lookup

__all__ = ["DATASETS", "Dataset", "DatasetInfo", "load_csv", "load_data", "make_dataset"]

TASKS = ("binary", "multiclass", "regression")
MAX_CLASSES = 20
# Features and regression targets: the range of a given in a hand calculation (io.numbers).
MAX_DATA = 1e6

#: Training data may be large; other inputs are capped lower.
MAX_CSV_BYTES = 1_000_000_000


@dataclass
class Dataset:
    """Examples as rows: features ``X`` (n, d) and targets ``Y`` (n, k), both float64.

    Binary targets are one column of 0/1; multiclass targets are one-hot rows; regression
    targets are the values. ``classes`` names the classes in the order of their codes.
    """

    name: str
    X: np.ndarray
    Y: np.ndarray
    task: str
    feature_names: list[str]
    classes: list[str] = field(default_factory=list)
    description: str = ""

    @property
    def n_examples(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_targets(self) -> int:
        """Columns a network's output needs: 1 for binary and regression, K for K classes."""
        return int(self.Y.shape[1])

    def labels(self) -> np.ndarray:
        """Class codes 0..K-1 of every example (classification only)."""
        if self.task == "regression":
            raise ChainruleError(f"dataset '{self.name}' is a regression task: it has no classes")
        if self.task == "binary":
            return self.Y[:, 0].astype(np.int64)
        return self.Y.argmax(axis=1)

    def summary(self) -> str:
        """One line: name, size and task."""
        kind = {"binary": "2 classes", "multiclass": f"{len(self.classes)} classes",
                "regression": "regression"}[self.task]
        return (f"{self.name}: {self.n_examples} examples, {self.n_features} feature"
                f"{'s' if self.n_features != 1 else ''}, {kind}")


# -- generators: (n, noise, rng) -> (X, labels or targets) --------------------------------
_CORNERS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])


def _gate(table: Sequence[int]) -> Callable[[int, float, np.random.Generator], tuple]:
    def make(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return _CORNERS.copy(), np.array(table, dtype=np.float64)

    return make


def _split(n: int, k: int) -> list[int]:
    """n examples over k classes as evenly as possible."""
    return [n // k + (1 if i < n % k else 0) for i in range(k)]


def _blobs(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    n0, n1 = _split(n, 2)
    X = np.vstack([rng.normal([-1.0, -1.0], noise, size=(n0, 2)),
                   rng.normal([1.0, 1.0], noise, size=(n1, 2))])
    return X, np.repeat([0.0, 1.0], [n0, n1])


def _moons(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    n0, n1 = _split(n, 2)
    a0, a1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n1)
    upper = np.column_stack([np.cos(a0), np.sin(a0)])
    lower = np.column_stack([1 - np.cos(a1), 0.5 - np.sin(a1)])
    X = np.vstack([upper, lower]) + rng.normal(0.0, noise, size=(n0 + n1, 2))
    return X, np.repeat([0.0, 1.0], [n0, n1])


def _circles(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    n0, n1 = _split(n, 2)
    a0 = np.linspace(0, 2 * np.pi, n0, endpoint=False)
    a1 = np.linspace(0, 2 * np.pi, n1, endpoint=False)
    outer = np.column_stack([np.cos(a0), np.sin(a0)])
    inner = 0.5 * np.column_stack([np.cos(a1), np.sin(a1)])
    X = np.vstack([outer, inner]) + rng.normal(0.0, noise, size=(n0 + n1, 2))
    return X, np.repeat([0.0, 1.0], [n0, n1])


def _linear(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(-1.0, 3.0, size=n)
    return x[:, None], 3.0 - 1.5 * x + rng.normal(0.0, noise, size=n)


def _three(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    sizes = _split(n, 3)
    angles = np.pi / 2 + 2 * np.pi / 3 * np.arange(3)
    centres = 1.5 * np.column_stack([np.cos(angles), np.sin(angles)])
    X = np.vstack([rng.normal(c, noise, size=(m, 2)) for c, m in zip(centres, sizes,
                                                                      strict=True)])
    return X, np.repeat(np.arange(3.0), sizes)


@dataclass(frozen=True)
class DatasetInfo:
    """A built-in dataset: how to draw it, its task and its default size and noise."""

    key: str
    task: str
    make: Callable[[int, float, np.random.Generator], tuple[np.ndarray, np.ndarray]]
    n: int
    noise: float
    description: str
    classes: tuple[str, ...] = ()
    fixed_size: bool = False


DATASETS: dict[str, DatasetInfo] = {
    info.key: info
    for info in [
        DatasetInfo("xor", "binary", _gate([0, 1, 1, 0]), 4, 0.0,
                    "XOR truth table: y = 1 when exactly one input is 1", ("0", "1"), True),
        DatasetInfo("and", "binary", _gate([0, 0, 0, 1]), 4, 0.0,
                    "AND truth table: y = 1 when both inputs are 1", ("0", "1"), True),
        DatasetInfo("or", "binary", _gate([0, 1, 1, 1]), 4, 0.0,
                    "OR truth table: y = 1 when either input is 1", ("0", "1"), True),
        DatasetInfo("blobs", "binary", _blobs, 200, 0.8,
                    "two Gaussian clouds around (-1, -1) and (1, 1)", ("0", "1")),
        DatasetInfo("moons", "binary", _moons, 200, 0.1,
                    "two interleaving half circles", ("0", "1")),
        DatasetInfo("circles", "binary", _circles, 200, 0.05,
                    "a circle of radius 0.5 (class 1) inside one of radius 1 (class 0)",
                    ("0", "1")),
        DatasetInfo("linear", "regression", _linear, 100, 0.3,
                    "noisy line y = 3 - 1.5 x, x uniform on [-1, 3]"),
        DatasetInfo("three", "multiclass", _three, 150, 0.6,
                    "three Gaussian clouds at 120 degrees, radius 1.5", ("0", "1", "2")),
    ]
}

_ALIASES = {
    "xor_gate": "xor", "and_gate": "and", "or_gate": "or", "blob": "blobs", "moon": "moons",
    "circle": "circles", "regression": "linear", "line": "linear", "3class": "three",
    "three_class": "three", "three_blobs": "three",
}


def make_dataset(
    name: str, n: int | None = None, noise: float | None = None, seed: int = 0
) -> Dataset:
    """The built-in dataset ``name``, drawn from ``default_rng(seed)``.

    ``n`` (examples) and ``noise`` (a standard deviation) default to the table in the
    module docstring; the logic-gate datasets always have their four rows.
    """
    info = lookup("dataset", name, DATASETS, _ALIASES)
    if n is not None and info.fixed_size and n != info.n:
        raise ChainruleError(f"dataset '{info.key}' is a truth table with exactly 4 examples")
    least = max(len(info.classes), 2)
    if n is not None and n < least:
        raise ChainruleError(f"dataset '{info.key}' needs at least {least} examples")
    if noise is not None and info.fixed_size:
        raise ChainruleError(f"dataset '{info.key}' is a truth table: it has no noise")
    if noise is not None and (not math.isfinite(noise) or noise < 0):
        raise ChainruleError("noise must be a number >= 0")
    rng = np.random.default_rng(seed)
    X, target = info.make(info.n if n is None else n, info.noise if noise is None else noise,
                          rng)
    X = np.ascontiguousarray(X, dtype=np.float64)
    if info.task == "multiclass":
        Y = np.eye(len(info.classes))[target.astype(np.int64)]
    else:
        Y = np.asarray(target, dtype=np.float64)[:, None]
    names = [f"x{i + 1}" for i in range(X.shape[1])]
    return Dataset(info.key, X, Y, info.task, names, list(info.classes), info.description)


# -- CSV ------------------------------------------------------------------------------------
def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value


def _read_rows(path: Path) -> list[tuple[int, list[str]]]:
    """Non-blank rows of a CSV file with their line numbers (1-based)."""
    return read_csv(path, "CSV file", max_bytes=MAX_CSV_BYTES).rows


def _label_kind(values: list[str], task: str) -> str:
    numbers = [_number(v) for v in values]
    numeric = all(x is not None and math.isfinite(x) for x in numbers)
    if task != "auto":
        return task
    if not numeric:
        return "classes"
    whole = all(float(x).is_integer() for x in numbers)  # type: ignore[arg-type]
    return "classes" if whole and len(set(numbers)) <= MAX_CLASSES else "regression"


def load_csv(path: str | Path, label: str | None = None, task: str = "auto") -> Dataset:
    """Read a CSV of feature columns and a label column (the last unless ``label`` names one).

    The first row holds column names unless every cell of it is a number (then columns are
    x1..xd and the label is y). ``task`` is ``auto`` (see the module docstring), ``binary``,
    ``multiclass`` or ``regression``. Errors name the file, line and column.
    """
    path = Path(path)
    file = str(path)
    if task not in ("auto", *TASKS):
        raise ChainruleError(f"task must be auto, {', '.join(TASKS)}; not '{task}'")
    rows = _read_rows(path)
    if not rows:
        raise InputError("is empty: expected a header and rows of numbers", file=file)
    first_line, first = rows[0]
    has_header = not all(_number(c) is not None for c in first)
    if has_header:
        header, body = first, rows[1:]
        for i, name in enumerate(header):
            if not name:
                raise InputError(f"column {i + 1} has no name", file=file, line=first_line)
        duplicates = sorted({n for n in header if header.count(n) > 1})
        if duplicates:
            raise InputError(f"column '{duplicates[0]}' appears twice", file=file,
                             line=first_line)
    else:
        header = [f"x{i + 1}" for i in range(len(first) - 1)] + ["y"]
        body = rows
    if len(header) < 2:
        raise InputError("needs at least two columns: features and a label", file=file,
                         line=first_line)
    if not body:
        raise InputError("has a header but no rows of data", file=file)
    if label is None:
        label_col = len(header) - 1
    elif label in header:
        label_col = header.index(label)
    else:
        raise InputError(f"no column '{label}'; columns: {', '.join(header)}", file=file,
                         field=label)
    features = [i for i in range(len(header)) if i != label_col]
    X = np.empty((len(body), len(features)))
    labels: list[str] = []
    for r, (line, row) in enumerate(body):
        if len(row) != len(header):
            raise InputError(f"has {len(row)} fields, the header has {len(header)}",
                             file=file, line=line)
        for c, col in enumerate(features):
            value = _number(row[col])
            if value is None or not math.isfinite(value):
                shown = repr(row[col]) if row[col] else "an empty cell"
                raise InputError(f"{shown} is not a finite number", file=file, line=line,
                                 field=header[col])
            if abs(value) > MAX_DATA:
                raise InputError(f"{row[col]!r} is outside the range of a feature "
                                 f"(|value| <= {MAX_DATA:g})", file=file, line=line,
                                 field=header[col])
            X[r, c] = value
        if not row[label_col]:
            raise InputError("the label is empty", file=file, line=line,
                             field=header[label_col])
        labels.append(row[label_col])
    kind = _label_kind(labels, task)
    name = path.stem
    feature_names = [header[i] for i in features]
    if kind == "regression":
        values = [_number(v) for v in labels]
        for (line, _), value, text in zip(body, values, labels, strict=True):
            if value is None or not math.isfinite(value):
                raise InputError(f"{text!r} is not a finite number (regression target)",
                                 file=file, line=line, field=header[label_col])
            if abs(value) > MAX_DATA:
                raise InputError(f"{text!r} is outside the range of a regression target "
                                 f"(|value| <= {MAX_DATA:g})", file=file, line=line,
                                 field=header[label_col])
        Y = np.array(values, dtype=np.float64)[:, None]
        return Dataset(name, X, Y, "regression", feature_names, [], f"CSV file {file}")
    classes = _sorted_classes(labels)
    if len(classes) < 2:
        raise InputError(f"the label column has one class only ('{classes[0]}'): nothing to "
                         "learn", file=file, field=header[label_col])
    if kind == "binary" and len(classes) != 2:
        raise InputError(f"task binary needs 2 classes, the labels have {len(classes)}",
                         file=file, field=header[label_col])
    code = {c: i for i, c in enumerate(classes)}
    codes = np.array([code[v] for v in labels], dtype=np.int64)
    if len(classes) == 2 and kind != "multiclass":
        return Dataset(name, X, codes[:, None].astype(np.float64), "binary", feature_names,
                       classes, f"CSV file {file}")
    Y = np.eye(len(classes))[codes]
    return Dataset(name, X, Y, "multiclass", feature_names, classes, f"CSV file {file}")


def _sorted_classes(labels: list[str]) -> list[str]:
    """Distinct labels, numerically sorted when they are all numbers (-1 before 1)."""
    distinct = set(labels)
    if all(_number(v) is not None for v in distinct):
        return sorted(distinct, key=lambda v: (float(v), v))
    return sorted(distinct)


def load_data(
    source: str, *, n: int | None = None, noise: float | None = None, seed: int = 0,
    label: str | None = None, task: str = "auto",
) -> Dataset:
    """A built-in dataset by name, or a CSV file when ``source`` ends in .csv or is a file."""
    if source.lower().endswith(".csv") or Path(source).is_file():
        if n is not None or noise is not None:
            raise ChainruleError("samples and noise apply to built-in datasets, not CSV files")
        return load_csv(source, label=label, task=task)
    if label is not None:
        raise ChainruleError("a label column applies to CSV files, not built-in datasets")
    return make_dataset(source, n=n, noise=noise, seed=seed)
