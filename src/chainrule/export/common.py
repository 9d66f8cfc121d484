"""What both LMS exports share: the checked problem set, the graded answers, safe writing.

A problem-set folder (from ``chainrule generate``) is read through its ``key.json``; every
record is regenerated from its ID (or, for a givens-file problem, from its structure and
givens) and must give the key's own values, and every problem must appear in its version's
questions file. So the LMS file grades exactly what the handouts ask.

Tolerance
---------
A problem asks for values rounded to d decimals (u = 10^-d). Each graded value accepts two
centres: the student's rounded-as-you-go chain (the key's ``rounded``) and the exact chain
rounded to d decimals (the key's ``value``, half away from zero), the two results this
project's checker accepts. Around each centre the absolute tolerance is

    tol = 0.501 u        (0.000501 for 3 decimals)

* Half a unit is the checker's own rule: a longer answer is right when it rounds to a key
  value, whichever way its tie goes (0.5125 with 0.512 and 0.513 both admissible).
* The extra 0.001 u is a hair for the LMS's binary floating point (Moodle compares PHP
  floats, Canvas Ruby floats: 0.512 + 0.0005 is not exactly 0.5125), far too small to reach
  the neighbouring d-decimal value, which is a whole unit away.
* So an answer written with d decimals is right exactly when it is a key value; one unit
  off in the last decimal is wrong, as is anything beyond ``key ± (u + tol)``.

Moodle's cloze tolerance is absolute (``{1:NUMERICAL:=value:tolerance}``), as is Canvas's
numeric range; a relative tolerance would let large values drift and be too strict near 0.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

from chainrule.errors import ChainruleError, InputError
from chainrule.export.mistakes import DEFAULT_MISTAKES, MistakeAnswer, step_mistakes
from chainrule.io.inputs import read_json, read_text
from chainrule.io.outputs import write_file
from chainrule.problems.base import Problem

__all__ = [
    "TOLERANCE_UNITS",
    "Answer",
    "ProblemSet",
    "SetProblem",
    "answers",
    "decimal_text",
    "formula_key",
    "load_set",
    "question_kind",
    "shorten",
    "stable_id",
    "tolerance",
    "write_output",
    "xml_safe",
]

#: The tolerance in units of the last decimal (see the module docstring).
TOLERANCE_UNITS = Decimal("0.501")
#: Longest question or category name Moodle and Canvas store.
NAME_LIMIT = 255

_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass
class SetProblem:
    """One problem of the set: the regenerated problem, where it stands, its key title and
    its marks (the spec's ``marks:``, else one per asked value)."""

    problem: Problem
    position: int
    version: str | None
    title: str
    marks: Decimal | None = None

    @property
    def points(self) -> Decimal:
        """The problem's marks: as the key (or the problem) gives them, else one per asked
        value."""
        if self.marks is not None:
            return self.marks
        given = getattr(self.problem, "marks", None)
        if isinstance(given, int) and not isinstance(given, bool) and given > 0:
            return Decimal(given)
        return Decimal(1 if self.problem.choices is not None else max(len(self.problem.asked), 1))

    @property
    def label(self) -> str:
        """Position and version, like "02B" ("02" when the set has one version)."""
        return f"{self.position:02d}{self.version or ''}"

    @property
    def shown_code(self) -> str:
        """What students may see of the problem: its short code from key.json (opaque without
        the set's key), else its label; never the ID, which regenerates the worked key."""
        code = getattr(self.problem, "code", None)
        return code if isinstance(code, str) and code else self.label

    @property
    def name(self) -> str:
        """The question's name: label, title and short code, within the LMS's 255 characters
        (a long title is shortened; the code is always whole)."""
        code = self.shown_code
        title = shorten(self.title, NAME_LIMIT - len(self.label) - len(code) - 4)
        return f"{self.label} {title} ({code})"


@dataclass
class ProblemSet:
    """A checked problem-set folder: its title and seed, and every problem of every version."""

    folder: Path
    title: str
    seed: Any
    versions: list[str]
    problems: list[SetProblem]

    def groups(self) -> list[tuple[int, str, list[SetProblem]]]:
        """(position, family, problems): one group per position and family, all versions."""
        found: dict[tuple[int, str], list[SetProblem]] = {}
        for entry in self.problems:
            found.setdefault((entry.position, entry.problem.family), []).append(entry)
        return [(pos, family, items) for (pos, family), items in sorted(found.items())]


@dataclass(frozen=True)
class Answer:
    """A graded value: its step, the accepted key values (text, d decimals), tolerance, and
    the values named mistakes give there (0% credit, their message as feedback).

    A step whose key is a formula (``formula_tex`` set) is graded by hand: it has no
    accepted values; the LMS shows the key formula as feedback."""

    name: str
    lhs_tex: str
    accepted: tuple[str, ...]
    decimals: int
    tolerance: Decimal
    record: dict[str, Any]
    mistakes: tuple[MistakeAnswer, ...] = ()
    formula_tex: str | None = None

    @property
    def manual(self) -> bool:
        """Whether a teacher grades this step (its key is a formula)."""
        return self.formula_tex is not None


def tolerance(decimals: int) -> Decimal:
    """The absolute tolerance of a value asked to ``decimals`` places: 0.501 units."""
    return TOLERANCE_UNITS.scaleb(-decimals)


def shorten(text: str, limit: int = NAME_LIMIT) -> str:
    """``text`` cut to ``limit`` characters (ending in an ellipsis when cut)."""
    limit = max(limit, 1)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def decimal_text(value: Decimal) -> str:
    """A Decimal in plain positional notation ("0.000501", never "5.01E-4")."""
    return format(value, "f")


def formula_key(problem: Problem, name: str) -> str | None:
    """The key formula (LaTeX) of an asked step whose answer is a formula, else None.

    A derivation problem asks for formulas only (the context's ``derivation``): the LMS
    cannot grade them, a teacher does. A step of another problem whose key also holds a
    formula is still graded by its number (its feedback shows the formula)."""
    if not problem.derivation:
        return None
    entry = problem.formula_key.get(name)
    if entry is None:
        return None
    return str(entry.get("formula_tex") or entry.get("formula") or "")


def answers(
    problem: Problem, records: Iterable[dict[str, Any]], mistakes: int = DEFAULT_MISTAKES
) -> list[Answer]:
    """The graded values of a problem, one per asked step, from its step records, each
    with up to ``mistakes`` named-mistake values."""
    from chainrule.symbolic.printing import format_rounded
    from chainrule.symbolic.trace import round_half_up

    d = problem.decimals
    by_name = {r["name"]: r for r in records}
    result = []
    for name in problem.asked:
        record = by_name[name]
        formula = formula_key(problem, name)
        if formula is not None:
            result.append(Answer(name, record["lhs_tex"], (), d, tolerance(d), record,
                                 formula_tex=formula))
            continue
        rounded = format_rounded(problem.rounded[name], d)
        exact = format_rounded(float(round_half_up(problem.exact[name], d)), d)
        accepted = tuple(dict.fromkeys((rounded, exact)))
        wrong = tuple(step_mistakes(problem, name, accepted, mistakes))
        result.append(Answer(name, record["lhs_tex"], accepted, d, tolerance(d), record,
                             wrong))
    return result


def question_kind(problem: Problem) -> str:
    """multichoice (choices), essay (a step's answer is a formula: the LMS cannot grade
    it, a teacher grades the whole problem), numerical (one asked value) or cloze (several)."""
    if problem.choices is not None:
        if problem.answer is None or not 0 <= problem.answer < len(problem.choices):
            raise ChainruleError(f"problem {problem.id}: its choices have no correct answer")
        return "multichoice"
    if not problem.asked:
        raise ChainruleError(f"problem {problem.id}: nothing to answer")
    if any(formula_key(problem, name) is not None for name in problem.asked):
        return "essay"
    return "numerical" if len(problem.asked) == 1 else "cloze"


def stable_id(*parts: object, prefix: str = "cr") -> str:
    """A deterministic XML identifier from content (a hash of ``parts``)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()
    return f"{prefix}{digest[:24]}"


def xml_safe(text: Any) -> str:
    """``text`` without the characters XML 1.0 cannot hold (each becomes U+FFFD)."""
    return _XML_INVALID.sub("\ufffd", str(text))


# --- reading and checking a problem-set folder ---------------------------------------------


def load_set(folder: str | Path) -> ProblemSet:
    """Read a problem-set folder and check that its key regenerates and matches its files."""
    path = Path(folder)
    if not path.is_dir():
        raise InputError("not a folder (give the folder chainrule generate wrote)", file=str(path))
    key_path = path / "key.json"
    where = str(key_path)
    if not key_path.is_file():
        raise InputError("not a problem set: it has no key.json (make one with chainrule "
                         "generate)", file=str(path))
    data = read_json(key_path, "problem-set key").data
    if not isinstance(data, dict) or not isinstance(data.get("problems"), list):
        raise InputError("not a problem-set key: expected 'title' and a list of 'problems'",
                         file=where)
    title = data.get("title", "Problem set")
    versions = data.get("versions") or []
    if not isinstance(title, str):
        raise InputError("expected text", file=where, field="title")
    if not isinstance(versions, list) or not all(isinstance(v, str) for v in versions):
        raise InputError("expected a list of version letters", file=where, field="versions")
    if not data["problems"]:
        raise InputError("the set has no problems", file=where, field="problems")
    problems = _regenerate(data["problems"], versions, where)
    _match_files(path, problems, versions, where)
    return ProblemSet(path, title, data.get("seed"), list(versions), problems)


def _regenerate(
    records: list[Any], versions: list[str], where: str
) -> list[SetProblem]:
    from chainrule.check.load import problem_from_record

    positions: dict[str | None, int] = {}
    seen: dict[tuple[Any, Any], str] = {}
    result = []
    for i, record in enumerate(records):
        field = f"problems[{i + 1}]"
        if not isinstance(record, dict):
            raise InputError("expected a problem record", file=where, field=field)
        ident = (str(record.get("id")), str(record.get("version")))
        if ident in seen:
            raise InputError(f"problem {ident[0]} appears twice (also {seen[ident]})",
                             file=where, field=field)
        seen[ident] = field
        version = record.get("version")
        if versions and version not in versions:
            raise InputError(f"version {version!r} is not one of the set's {versions}",
                             file=where, field=f"{field}.version")
        if not versions and version is not None:
            raise InputError(f"version {version!r}, but the set lists no versions",
                             file=where, field=f"{field}.version")
        try:
            problem = problem_from_record(record, f"{where}: {field}")
        except InputError:
            raise
        except ChainruleError as exc:
            raise InputError(f"does not regenerate: {exc}", file=where, field=field) from None
        problem.version = version
        code, marks = record.get("code"), record.get("marks")
        problem.code = code if isinstance(code, str) else None
        if isinstance(marks, int) and not isinstance(marks, bool) and marks > 0:
            problem.marks = marks
        _compare(record, problem, where, field)
        positions[version] = positions.get(version, 0) + 1
        title = record.get("title")
        result.append(SetProblem(problem, positions[version], version,
                                 title if isinstance(title, str) else problem.title,
                                 _marks(record, problem, where, f"{field}.marks")))
    return result


#: The most marks one problem may carry.
MAX_MARKS = Decimal(1000)


def _marks(record: dict[str, Any], problem: Problem, where: str, field: str) -> Decimal | None:
    """A problem's marks from its key record (or the problem), None when not given."""
    raw = record.get("marks", getattr(problem, "marks", None))
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise InputError("expected a number of marks", file=where, field=field)
    try:
        marks = Decimal(str(raw).strip())
    except ArithmeticError:
        raise InputError(f"expected a number of marks, not {str(raw)[:40]!r}", file=where,
                         field=field) from None
    if not marks.is_finite() or not 0 < marks <= MAX_MARKS:
        raise InputError(f"marks must be more than 0 and at most {MAX_MARKS}", file=where,
                         field=field)
    return Decimal(int(marks)) if marks == marks.to_integral_value() else marks


def _compare(record: dict[str, Any], problem: Problem, where: str, field: str) -> None:
    """The record's answers must be the regenerated problem's (same steps, same values)."""
    from chainrule.symbolic.printing import format_rounded

    key = problem.key()
    pid = problem.id

    def fail(what: str) -> NoReturn:
        raise InputError(f"problem {pid}: {what} does not match the problem its ID "
                         "regenerates", file=where, field=field)

    if record.get("family", key["family"]) != key["family"]:
        fail("the family")
    steps = record.get("steps", [])
    if not isinstance(steps, list) or [s.get("name") if isinstance(s, dict) else None
                                       for s in steps] != [s["name"] for s in key["steps"]]:
        fail("the list of steps")
    d = problem.decimals
    for mine, theirs in zip(key["steps"], steps, strict=True):
        try:
            value, rounded = float(theirs["value"]), float(theirs["rounded"])
        except (KeyError, TypeError, ValueError):
            fail(f"step {mine['name']}")
        if abs(value - mine["value"]) > 1e-9 * max(1.0, abs(mine["value"])) or (
            format_rounded(rounded, d) != format_rounded(mine["rounded"], d)
        ):
            fail(f"step {mine['name']}")
    if record.get("choices") != key.get("choices") or record.get("answer") != key.get("answer"):
        fail("the choices or answer")


def _match_files(
    folder: Path, problems: list[SetProblem], versions: list[str], where: str
) -> None:
    """Each version's questions file must exist and name every problem of that version."""
    from chainrule.render.environment import tex_escape

    expected: list[str | None] = [*versions] or [None]
    present = {m.group(1) or None for f in folder.glob("questions*.*")
               if (m := re.fullmatch(r"questions(?:-([A-Z]))?\.(?:md|tex)", f.name))}
    extra = sorted(v or "(no version)" for v in present - set(expected))
    if extra:
        raise InputError(f"does not match the folder: it has questions for version {extra[0]}, "
                         "which the key does not list", file=where, field="versions")
    for version in expected:
        suffix = f"-{version}" if version else ""
        file = next((f for f in (folder / f"questions{suffix}.md",
                                 folder / f"questions{suffix}.tex") if f.is_file()), None)
        if file is None:
            raise InputError(f"does not match the folder: questions{suffix}.md is missing",
                             file=where)
        text = read_text(file, "questions file")
        for entry in problems:
            pid = entry.problem.id
            code = entry.problem.code
            if entry.version == version and pid not in text and tex_escape(pid) not in text \
                    and (code is None or code not in text):
                raise InputError(f"does not match {file.name}: it has no problem {pid}",
                                 file=where)


# --- writing ----------------------------------------------------------------------------


def write_output(path: str | Path, data: bytes, force: bool = False) -> None:
    """Write ``data`` to ``path`` whole; never replace unless ``force``."""
    write_file(path, data, force=force)
