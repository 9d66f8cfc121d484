"""A student's answers: read from YAML, JSON, CSV or ``name = value`` lines, safely.

Names are matched to the problem's step names, accepting common spellings (``w_{13}``,
``w_13``, ``dL/dw13``, ``a3`` for ``yhat``, ``sigma'(z1)`` for ``fprime1``). Numbers are read
by :func:`chainrule.io.numbers.parse_number` (never eval); a right-hand side that is not a
number is a formula, read by :func:`chainrule.formulas.read_formula` over the same names. A step
may carry both: ``delta1 = w13*delta3*fprime1 = -0.046`` or ``{formula: ..., value: ...}``.
Every problem is reported with its file, line and name; unknown names get the closest valid
name.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from chainrule.errors import InputError
from chainrule.formulas import FormulaError, Reading, Vocabulary, read_formula
from chainrule.io.inputs import read_answer_rows
from chainrule.io.numbers import parse_number

__all__ = [
    "Answer",
    "AnswerSheet",
    "canonical_name",
    "parse_answers",
    "read_answer",
    "read_answers",
    "read_value",
    "suggestion",
    "vocabulary",
]

MAX_BYTES = 2_000_000


@dataclass(frozen=True)
class Answer:
    """One step's answer: a number, a formula (as read), or both."""

    name: str
    value: float | None
    text: str
    line: int | None
    formula: Reading | None = None
    #: Whether ``text`` is what was typed (a number given as a float has no written decimals).
    typed: bool = True


@dataclass
class AnswerSheet:
    """Answers by step name, with the problems found while reading them."""

    answers: Mapping[str, Answer]
    errors: list[str]
    student: str | None = None


_GREEK = {"δ": "delta", "η": "eta", "σ": "sigma", "θ": "theta", "ŷ": "yhat", "∂": "d"}


def _squash(text: str) -> str:
    """A spelling reduced to letters, digits and a few marks: ``w_{13}`` -> ``w13``."""
    t = text.strip()
    for greek, latin in _GREEK.items():
        t = t.replace(greek, latin)
    t = t.replace("\\", "").replace("^", "").replace("{", "").replace("}", "")
    t = t.replace(" ", "").replace("$", "")
    return t


def canonical_name(raw: str, valid: Sequence[str], output_neurons: dict[str, str]) -> str | None:
    """The step or given name ``raw`` means, or None.

    ``output_neurons`` maps ``a{j}`` of output neurons to their ``yhat`` names.
    """
    valid_set = set(valid)
    t = _squash(raw)
    candidates = [t, t.lower()]
    m = re.fullmatch(r"(?i)(?:partial)?d?L/(?:partial)?d(.+)", t)
    if m:
        candidates.append("dL_d" + _strip_index(m.group(1)))
    m = re.fullmatch(r"(?i)(?:sigma|f|tanh|relu)'\(?z_?(\d+)\)?", t)
    if m:
        candidates.append(f"fprime{m.group(1)}")
    m = re.fullmatch(r"(?i)(?:sigma|f|tanh|relu)_?prime_?(\d+)", t)
    if m:
        candidates.append(f"fprime{m.group(1)}")
    m = re.fullmatch(r"(?i)(y_?hat|hat_?y|haty|a)_?(\d*)", t)
    if m and m.group(1).lower() != "a":
        candidates.append("yhat" + m.group(2))
    m = re.fullmatch(r"(.+?)[_ ]?(?:new|\(new\)|')$", t)
    if m and not t.endswith("_new"):
        candidates.append(_strip_index(m.group(1)) + "_new")
    candidates.append(_strip_index(t))
    if t.endswith("_new"):
        candidates.append(_strip_index(t[:-4]) + "_new")
    for c in candidates:
        if c in valid_set:
            return c
        if c in output_neurons:
            return output_neurons[c]
    return None


def _strip_index(t: str) -> str:
    """``w_13`` -> ``w13``, ``w_1,12`` -> ``w1_12``, ``delta_3`` -> ``delta3``."""
    m = re.fullmatch(r"([A-Za-z]+)_?(\d+)[,_](\d+)", t)
    if m:
        a, b = m.group(2), m.group(3)
        return f"{m.group(1)}{a}{b}" if len(a) == 1 and len(b) == 1 else f"{m.group(1)}{a}_{b}"
    m = re.fullmatch(r"([A-Za-z]+)_(\d+)", t)
    if m:
        return f"{m.group(1)}{m.group(2)}"
    return t


def vocabulary(
    valid: Sequence[str], output_neurons: dict[str, str],
    tex_names: Mapping[str, str] | None = None,
) -> Vocabulary:
    """The names a formula answer may use, spelled as numbers' names may be."""
    return Vocabulary.of(valid, tex_names,
                         lambda raw: canonical_name(raw, valid, output_neurons))


def _is_number(text: str) -> bool:
    try:
        parse_number(text)
    except ValueError:
        return False
    return True


def read_value(
    value: object, vocab: Vocabulary
) -> tuple[float | None, Reading | None]:
    """A right-hand side as (number, formula): ``0.3``, ``w13*a1``, ``w13*a1 = 0.3`` (work
    between = signs is skipped), or a mapping ``{formula: ..., value: ...}``."""
    if isinstance(value, dict):
        unknown = set(map(str, value)) - {"formula", "value"}
        if unknown or not value:
            raise ValueError("expected {formula: ..., value: ...}")
        formula = value.get("formula")
        number = parse_number(value["value"]) if value.get("value") is not None else None
        if formula is None:
            return number, None
        if not isinstance(formula, str):
            raise ValueError("the formula must be text")
        return number, _formula(formula, vocab)
    if not isinstance(value, str):
        return parse_number(value), None
    parts = [p.strip() for p in value.split("=")]
    if len(parts) == 1:
        if _is_number(parts[0]):
            return parse_number(parts[0]), None
        reading = _formula(parts[0], vocab)
        if reading.expr.free_symbols:
            return None, reading
        return _arithmetic(reading), None
    number = parse_number(parts[-1])
    if _is_number(parts[0]):
        return number, None
    reading = _formula(parts[0], vocab)
    return number, (reading if reading.expr.free_symbols else None)


def _formula(text: str, vocab: Vocabulary) -> Reading:
    try:
        return read_formula(text, vocab)
    except FormulaError as exc:
        raise ValueError(f"'{_clip(text)}' is not a number or a formula: {exc}") from None


def _clip(text: str) -> str:
    text = text.strip()
    return text if len(text) <= 40 else text[:37] + "..."


def _arithmetic(reading: Reading) -> float:
    """A formula without names (``0.2*1 + 0.1``) is the number it works out to."""
    try:
        value = float(reading.expr.evalf(30))
    except (TypeError, ValueError):
        raise ValueError(f"'{reading.source}' is not a number") from None
    return parse_number(value)


def parse_answers(
    rows: Iterable[tuple[str, object, int | None]],
    valid: Sequence[str],
    output_neurons: dict[str, str],
    path: str,
    tex_names: Mapping[str, str] | None = None,
) -> AnswerSheet:
    """Match names and read numbers and formulas; problems are collected, one line each."""
    answers: dict[str, Answer] = {}
    errors: list[str] = []
    vocab = vocabulary(valid, output_neurons, tex_names)
    for raw, value, line in rows:
        where = f"{path}: line {line}: " if line else f"{path}: "
        name = canonical_name(str(raw), valid, output_neurons)
        if name is None:
            hint = suggestion(str(raw), valid)
            errors.append(f"{where}unknown step '{raw}'{hint}")
            continue
        try:
            answer = read_answer(name, value, line, vocab)
        except ValueError as exc:
            errors.append(f"{where}{name}: {exc}")
            continue
        if name in answers:
            first = answers[name].line
            also = f" (also on line {first})" if first else ""
            raise InputError(f"{name} is given twice{also}", file=path, line=line, field=str(raw))
        answers[name] = answer
    return AnswerSheet(answers, errors)


def read_answer(name: str, value: object, line: int | None, vocab: Vocabulary) -> Answer:
    """Step ``name``'s answer from what was written (ValueError when it cannot be read)."""
    number, formula = read_value(value, vocab)
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return Answer(name, number, str(text).strip(), line, formula, isinstance(value, str))


def suggestion(raw: str, valid: Sequence[str]) -> str:
    """A close valid name of the same kind: a derivative is never matched to a weight."""
    squashed = _squash(raw)
    derivative = "/" in squashed or squashed.lower().startswith(("dl_d", "dj_d"))
    pool = [v for v in valid if v.startswith(("dL_d", "dJ_d")) == derivative]
    if derivative and not pool:
        return " (this problem asks for no derivatives)"
    close = difflib.get_close_matches(squashed, pool, n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""


def read_answers(
    path: str | Path, valid: Sequence[str], output_neurons: dict[str, str],
    tex_names: Mapping[str, str] | None = None,
) -> AnswerSheet:
    """Read a student's answers file (YAML, JSON, CSV or name = value lines)."""
    name = str(path)
    rows, _ = read_answer_rows(path, MAX_BYTES)
    if not rows:
        raise InputError("has no answers", file=name)
    return parse_answers(rows, valid, output_neurons, name, tex_names)
