"""What the web app asks of the library (``chainrule.api``): problems by ID or set code,
checking, reveals, and how an answer was read.

:func:`redact` makes a report fit for a student: a step's expected, exact and recomputed
values go out only once the student has that step right or has revealed it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from chainrule import api
from chainrule.api import Problem
from chainrule.errors import ChainruleError, InputError
from chainrule.problems.base import FAMILIES, _load_families, get_family
from chainrule.problems.ids import SEED_BITS, decode_id, encode_id

__all__ = [
    "MAX_ANSWERS",
    "MAX_ANSWER_CHARS",
    "ProblemSet",
    "check",
    "families",
    "fresh_id",
    "load_set",
    "parse_text",
    "problem",
    "redact",
    "worked_step",
]

MAX_ANSWERS = 200
MAX_ANSWER_CHARS = 1000
# Withheld until a step is right or revealed. (``implied`` values of skipped steps are never
# their right ones; a hint is kept unless it shows the answer, see :func:`redact`.)
_REPLY_KEYS = ("expected", "exact", "expected_from_your_values")


@dataclass(frozen=True)
class SetProblem:
    code: str
    id: str
    title: str
    family: str
    version: str | None


@dataclass(frozen=True)
class ProblemSet:
    """A problem set a teacher offers (``serve --set DIR``): its key.json's problems."""

    folder: str
    title: str
    problems: tuple[SetProblem, ...]


def load_set(folder: str | Path) -> ProblemSet:
    """The problems of a set folder written by ``chainrule generate`` (its key.json)."""
    path = Path(folder)
    key = path / "key.json" if path.is_dir() else path
    from chainrule.io.inputs import read_json

    data = read_json(key, "key.json", 20_000_000).data
    records = data.get("problems") if isinstance(data, dict) else None
    if not isinstance(records, list):
        raise InputError("not a key.json: expected a list 'problems'", file=str(key))
    items = []
    for n, record in enumerate(records):
        if not isinstance(record, dict) or not isinstance(record.get("id"), str):
            raise InputError("expected an 'id'", file=str(key), field=f"problems[{n}]")
        code: str = record["code"] if isinstance(record.get("code"), str) else record["id"]
        items.append(SetProblem(code, record["id"], str(record.get("title", record["id"])),
                                str(record.get("family", "")), record.get("version")))
    return ProblemSet(str(path), str(data.get("title", path.name)), tuple(items))


def families() -> list[dict[str, str]]:
    """The families a student can practise (those checked step by step)."""
    _load_families()
    return [{"name": f.name, "title": f.title} for f in FAMILIES.values()
            if f.name != "concept"]


def fresh_id(family: str, like: Problem | None = None) -> str:
    """The ID of a fresh variant of ``family`` (with the options of problem ``like``)."""
    fam = get_family(family)
    options: dict[str, str] = {}
    if like is not None:
        code, _, options = decode_id(like.id)
        if code != fam.code:
            raise ChainruleError(f"not a {fam.name} problem")
    return encode_id(fam.code, secrets.randbelow(2**SEED_BITS), options)


def family_of(problem_id: str) -> str:
    from chainrule.problems.base import family_by_code

    return family_by_code(decode_id(problem_id)[0]).name


@lru_cache(maxsize=512)
def _regenerate(problem_id: str) -> Problem:
    return api.problem_from_id(problem_id)


_CODE = re.compile(r"^[A-Za-z0-9:~_.\-]{1,200}$")


def problem(code: str, sets: Sequence[ProblemSet] = ()) -> Problem:
    """The problem a full ID or a set's code names; ChainruleError if none."""
    code = code.strip()
    if not _CODE.match(code):
        raise ChainruleError("not a problem ID or code")
    for item in sets:
        for entry in item.problems:
            if code.upper() == entry.code.upper() or code == entry.id:
                return _regenerate(entry.id)
    found = _regenerate(code)
    if found.core.trace is None:
        raise ChainruleError(f"problem {code} is multiple choice: not offered here")
    return found


def shown_code(p: Problem, sets: Sequence[ProblemSet] = ()) -> str:
    """What a student sees as the problem's name: its set code, or its ID."""
    for item in sets:
        for entry in item.problems:
            if entry.id == p.id:
                return entry.code
    return p.id


def read_answers(raw: Any) -> dict[str, str]:
    """A student's answers from a request: a mapping of step names to text or numbers."""
    if not isinstance(raw, Mapping):
        raise InputError("expected 'answers' to be an object of step names to values")
    if len(raw) > MAX_ANSWERS:
        raise InputError(f"more than {MAX_ANSWERS} answers")
    answers = {}
    for name, value in raw.items():
        if not isinstance(name, str) or len(name) > 100:
            raise InputError("a step name must be a short text")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise InputError(f"{name}: expected a number or a text")
        text = str(value).strip()
        if len(text) > MAX_ANSWER_CHARS:
            raise InputError(f"{name}: longer than {MAX_ANSWER_CHARS} characters")
        if text:
            answers[name] = text
    return answers


def check(p: Problem, answers: Mapping[str, str]) -> dict[str, Any]:
    """The full report of ``chainrule check --format json`` on these answers (unredacted)."""
    return p.check(dict(answers)).to_dict()


def redact(report: dict[str, Any], revealed: set[str] | frozenset[str],
           only: str | None = None, p: Problem | None = None) -> dict[str, Any]:
    """The report a student may see: values only for steps right or revealed.

    For a step not yet earned, the expected, exact and recomputed values go, and so does an
    expected formula. A message or hint that would show the answer (the computation from
    the student's values when those were right, or the formula a step asks for) becomes
    its numberless form: the mistake's advice, or the step's formula where that is not the
    answer.
    """
    out = dict(report)
    formula_key = p.core.formula_key if p is not None else {}
    steps = []
    for step in report["steps"]:
        if only is not None and step["name"] != only:
            continue
        if step["status"] == "correct" or step["name"] in revealed:
            steps.append(dict(step, revealed=step["name"] in revealed))
            continue
        shown = {k: v for k, v in step.items() if k not in _REPLY_KEYS}
        shown["revealed"] = False
        formula = dict(step["formula"]) if isinstance(step.get("formula"), dict) else None
        answers = _answer_texts(step, formula, formula_key.get(step["name"]),
                                report["decimals"])
        if step["name"] in formula_key and p is not None and p.core.trace is not None:
            from chainrule.check.mistakes import equation_text

            answers.append((equation_text(p.core.trace, step["name"]).split(" = ", 1)[1],
                            False))
        if formula is not None:
            for key in ("expected", "expected_tex"):
                formula.pop(key, None)
            shown["formula"] = formula
        texts = [str(step.get("message") or ""), str(step.get("hint") or ""),
                 str((formula or {}).get("message") or "")]
        if any(_shows(t, answers) for t in texts):
            message, hint = _numberless(step, p, formula_key)
            if _shows(message, answers):
                message = "This is not the step's formula." if formula_key.get(
                    step["name"]) else "This does not follow from your earlier values."
            shown["message"] = message
            shown["hint"] = "" if _shows(hint, answers) else hint
            if formula is not None:
                formula["message"] = shown["message"]
        steps.append(shown)
    out["steps"] = steps
    return out


def _answer_texts(step: dict[str, Any], formula: dict[str, Any] | None,
                  key: dict[str, str] | None, decimals: int) -> list[tuple[str, bool]]:
    """What would give a step's answer away: its value as written, and (for a step asked as
    a formula) its formula; each with whether it is a number."""
    from chainrule.symbolic.printing import format_number, format_rounded

    found: list[tuple[str, bool]] = []
    value = step.get("expected")
    if isinstance(value, (int, float)):
        found += [(format_rounded(value, decimals), True), (format_number(value), True)]
    if key is not None:
        found += [(str(formula.get(k)), False) for k in ("expected", "expected_tex")
                  if formula is not None and formula.get(k)]
        found += [(text, False) for text in key.values() if text]
    return found


def _shows(text: str, answers: list[tuple[str, bool]]) -> bool:
    """Whether ``text`` holds one of the answer texts (a number as a whole number)."""
    plain = text.replace("\u2212", "-")
    for answer, is_number in answers:
        written = answer.replace("\u2212", "-")
        if not written:
            continue
        if is_number and re.search(rf"(?<![\d.]){re.escape(written)}(?!\d)", plain):
            return True
        if not is_number and written in plain:
            return True
    return False


def _numberless(step: dict[str, Any], p: Problem | None,
                formula_key: Mapping[str, Any]) -> tuple[str, str]:
    """A verdict's message and hint without numbers: the mistake's advice, and the step's
    formula when the step asks for a number."""
    fallback = "This does not follow from your earlier values."
    if p is None or p.core.trace is None:
        return fallback, ""
    from chainrule.check.mistakes import MISTAKES, equation_text

    trace, name = p.core.trace, step["name"]
    mistake = MISTAKES.get(str(step.get("mistake")))
    if mistake is not None:
        return mistake.describe(trace, name)
    if name in formula_key:
        return "This is not the step's formula.", ""
    message = str(step.get("message", "")) if step["status"] == "too_few_decimals" else fallback
    return message, f"The step's formula: {equation_text(trace, name)}."


def worked_step(p: Problem, name: str) -> dict[str, Any]:
    """One step worked out: formula, numbers put in and value (what "Show this step" shows)."""
    if name not in p.asked:
        raise ChainruleError(f"problem {p.id} does not ask for '{name}'")
    from chainrule.render.problemset import problem_context

    record = next(s for s in problem_context(p.core)["steps"] if s["name"] == name)
    tex = f"{record['lhs_tex']} = {record['formula_tex']} = {record['substituted_tex']}"
    if record["substituted_tex"] != record["rounded_text"]:
        relation = "\\approx" if record["approx"] else "="
        tex += f" {relation} {record['rounded_text']}"
    return {"name": name, "tex": tex, "value": record["rounded"],
            "value_text": record["rounded_text"], "exact": record["value"]}


def parse_text(text: str, p: Problem | None = None) -> dict[str, Any]:
    """How an answer was read: a number, or a formula over the problem's names (as LaTeX,
    with notes on any reading that was not the only one)."""
    from chainrule.io.numbers import parse_number

    text = text.strip()
    if len(text) > MAX_ANSWER_CHARS:
        return {"kind": "error", "message": f"longer than {MAX_ANSWER_CHARS} characters"}
    if not text:
        return {"kind": "empty", "message": ""}
    try:
        value = parse_number(text)
    except ValueError as exc:
        number_error = str(exc)
    else:
        from chainrule.symbolic.printing import format_number

        return {"kind": "number", "value": value, "tex": format_number(value), "notes": []}
    if p is None or not re.search(r"[^\d\s.,+\-/eE]", text):
        return {"kind": "error", "message": number_error}
    from chainrule.formulas import FormulaError, read_formula

    try:
        reading = read_formula(text, vocabulary(p))
    except FormulaError as exc:
        return {"kind": "error", "message": f"cannot read this formula: {exc}"}
    return {"kind": "formula", "tex": reading.tex, "read_as": reading.text,
            "notes": list(reading.notes)}


def vocabulary(p: Problem) -> Any:
    """The names a formula answer to ``p`` may use, spelled as answers may spell them."""
    found = p.__dict__.get("_vocabulary")
    if found is None:
        from chainrule.check.answers import canonical_name
        from chainrule.formulas import Vocabulary

        trace = p.core.trace
        assert trace is not None
        valid, outputs = p.answer_names()
        found = Vocabulary.of(valid, {n: trace.tex(n) for n in valid},
                              lambda raw: canonical_name(raw, valid, outputs))
        p.__dict__["_vocabulary"] = found
    return found
