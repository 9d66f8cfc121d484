"""Problem-set specs: what ``chainrule generate`` builds, from YAML or from options.

A spec names a title, a seed, the decimals, how many versions, and a list of entries, each
a family with a count and options::

    title: Practice set 3
    seed: 2026
    decimals: 3
    versions: 2            # versions A and B: same families and order, other numbers
    problems:
      - family: backprop
        count: 2
        marks: 10           # per problem (default: one per value asked)
        options: {net: 2-2-1, loss: bce}
      - family: forward

Every problem's own seed comes from the set's seed, its version and its position, so the
same spec gives byte-identical files. Pools (``loss: bce,cce``, a size left to chance) are
decided once per position from the set's seed, so every version asks the same thing there
with other numbers. Students see a short code per problem; key.json maps it to the ID that
regenerates the problem.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chainrule.errors import ChainruleError, InputError
from chainrule.io.inputs import YamlFile, read_yaml
from chainrule.io.numbers import MAX_DECIMALS
from chainrule.problems.base import Family, Problem, get_family, make_problems
from chainrule.problems.ids import SEED_BITS, seed_for, short_code

__all__ = [
    "Entry",
    "SetSpec",
    "build_set",
    "finish_problems",
    "load_spec",
    "override",
    "set_requests",
    "spec_from_data",
    "spec_from_options",
    "spec_from_yaml",
]

MAX_PROBLEMS = 10_000
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_TOP_KEYS = ("title", "name", "course", "instructor", "date", "instructions", "seed",
             "decimals", "versions", "problems")
_ENTRY_KEYS = ("family", "count", "options", "decimals", "marks")
MAX_MARKS = 1000


@dataclass
class Entry:
    family: Family
    count: int
    options: dict[str, Any]
    decimals: int
    marks: int | None = None


@dataclass
class SetSpec:
    title: str
    seed: int
    versions: int
    entries: list[Entry]
    name: str = ""
    decimals: int = 3
    meta: dict[str, str] = field(default_factory=dict)
    #: The spec file it was read from, if any (for errors about its text).
    source: YamlFile | None = None

    def user_text(self) -> dict[str, str]:
        """The free text a person wrote, by field: title, course, instructor, date,
        instructions (printed literally in documents)."""
        return {"title": self.title, **self.meta}

    def text_error(self, key: str, message: str) -> InputError:
        """An error about the text of field ``key``, naming the spec's file and line."""
        if self.source is not None:
            return self.source.error((key,), message)
        return InputError(message, field=key)

    @property
    def total(self) -> int:
        return sum(e.count for e in self.entries) * self.versions

    @property
    def folder_name(self) -> str:
        return self.name or slug(self.title)


def slug(text: str) -> str:
    """A folder name from a title: lower-case letters, digits and dashes."""
    value = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return value[:60] or "problem-set"


def _int(yf: YamlFile | None, where: tuple[Any, ...], value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        message = f"expected a whole number from {low} to {high}"
        if yf is None:
            raise ChainruleError(f"{where[-1]}: {message}")
        raise yf.error(where, message)
    return value


def _text(yf: YamlFile, where: tuple[Any, ...], value: Any) -> str:
    if isinstance(value, (dict, list)) or value is None:
        raise yf.error(where, "expected text")
    return str(value)


def load_spec(path: str) -> SetSpec:
    """Read and check a spec file; every error names the file, line and field."""
    return spec_from_yaml(read_yaml(path, "problem-set spec", aliases=True))


def spec_from_data(data: Any, where: str = "spec") -> SetSpec:
    """A spec from a mapping (as a spec file holds); errors name ``where`` and the field."""
    return spec_from_yaml(YamlFile(where, data))


def spec_from_yaml(yf: YamlFile) -> SetSpec:
    """Check a parsed spec; every error names its file, line and field."""
    data = yf.data
    if not isinstance(data, dict):
        raise InputError("expected a mapping with title, seed and problems", file=yf.path)
    for key in data:
        if key not in _TOP_KEYS:
            import difflib

            close = difflib.get_close_matches(str(key), _TOP_KEYS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise yf.error((str(key),), f"unknown field{hint}; valid: {', '.join(_TOP_KEYS)}")
    title = _text(yf, ("title",), data.get("title", "Problem set"))
    seed = _int(yf, ("seed",), data.get("seed", 0), 0, 2**SEED_BITS - 1)
    decimals = _int(yf, ("decimals",), data.get("decimals", 3), 0, MAX_DECIMALS)
    versions = _int(yf, ("versions",), data.get("versions", 1), 1, len(LETTERS))
    problems = data.get("problems")
    if not isinstance(problems, list) or not problems:
        raise yf.error(("problems",), "expected a list of families, each with a count")
    entries = []
    for i, raw in enumerate(problems):
        where = ("problems", i)
        if isinstance(raw, str):
            raw = {"family": raw}
        if not isinstance(raw, dict):
            raise yf.error(where, "expected a mapping like {family: backprop, count: 2}")
        for key in raw:
            if key not in _ENTRY_KEYS:
                raise yf.error((*where, str(key)),
                               f"unknown field; valid: {', '.join(_ENTRY_KEYS)}")
        if "family" not in raw:
            raise yf.error(where, "missing field 'family'")
        try:
            family = get_family(_text(yf, (*where, "family"), raw["family"]))
        except InputError:
            raise
        except ChainruleError as exc:
            raise yf.error((*where, "family"), str(exc)) from None
        count = _int(yf, (*where, "count"), raw.get("count", 1), 1, MAX_PROBLEMS)
        options = raw.get("options") or {}
        if not isinstance(options, dict):
            raise yf.error((*where, "options"), "expected a mapping of option names to values")
        try:
            parsed = family.parse_options(options)
        except ChainruleError as exc:
            bad = next((k for k in options if k not in family.options), None)
            field_path = (*where, "options", bad) if bad else (*where, "options")
            raise yf.error(field_path, str(exc)) from None
        entry_decimals = _int(yf, (*where, "decimals"), raw.get("decimals", decimals), 0,
                              MAX_DECIMALS)
        marks = raw.get("marks")
        if marks is not None:
            marks = _int(yf, (*where, "marks"), marks, 1, MAX_MARKS)
        entries.append(Entry(family, count, parsed, entry_decimals, marks))
    spec = SetSpec(title, seed, versions, entries, decimals=decimals, source=yf)
    if data.get("name") is not None:
        spec.name = slug(_text(yf, ("name",), data["name"]))
    for key in ("course", "instructor", "date", "instructions"):
        if data.get(key) is not None:
            spec.meta[key] = _text(yf, (key,), data[key])
    if spec.total > MAX_PROBLEMS:
        raise yf.error(("problems",), f"{spec.total} problems: at most {MAX_PROBLEMS} in a set")
    return spec


def override(spec: SetSpec, *, seed: int | None = None, versions: int | None = None,
             decimals: int | None = None) -> SetSpec:
    """``spec`` with command-line overrides applied, its limits checked again after them."""
    if seed is not None:
        spec.seed = _int(None, ("--seed",), seed, 0, 2**SEED_BITS - 1)
    if versions is not None:
        spec.versions = _int(None, ("--versions",), versions, 1, len(LETTERS))
    if decimals is not None:
        _int(None, ("--decimals",), decimals, 0, MAX_DECIMALS)
        for entry in spec.entries:
            entry.decimals = decimals
    if spec.total > MAX_PROBLEMS:
        per = sum(e.count for e in spec.entries)
        raise ChainruleError(f"{per} problems x {spec.versions} versions = {spec.total} "
                             f"problems: at most {MAX_PROBLEMS} in a set")
    return spec


def spec_from_options(
    families: list[str], count: int, seed: int, decimals: int, versions: int, title: str,
    options: dict[str, Any],
) -> SetSpec:
    """A spec from command-line options: each family ``count`` times with the same options."""
    entries = []
    for name in families:
        family = get_family(name)
        own = {k: v for k, v in options.items() if k in family.options}
        entries.append(Entry(family, count, family.parse_options(own), decimals))
    unused = set(options) - {k for e in entries for k in e.family.options}
    if unused:
        raise ChainruleError(f"option '{sorted(unused)[0]}' belongs to none of the families")
    return SetSpec(title, seed, versions, entries, decimals=decimals)


#: The first element of the seed path of a position's settled options (versions use 0..25).
_SETTLE = 1000


Request = tuple[Family, int, dict[str, Any], int, str | None]


def set_requests(spec: SetSpec) -> tuple[list[Request], list[Any]]:
    """(family, seed, options, decimals, version) of every problem, versions in order, and
    each one's marks.

    Each position's options are settled once (pools drawn from the set's seed and the
    position), so the versions are parallel; then each version draws its own numbers.
    """
    import numpy as np

    settled: list[tuple[Entry, dict[str, Any]]] = []
    position = 0
    for entry in spec.entries:
        for _ in range(entry.count):
            rng = np.random.default_rng(seed_for(spec.seed, _SETTLE, position))
            settled.append((entry, entry.family.settle(rng, entry.options)))
            position += 1
    _distinct_items(spec, settled)
    requests: list[Request] = []
    marks = []
    for v in range(spec.versions):
        version = LETTERS[v] if spec.versions > 1 else None
        for position, (entry, options) in enumerate(settled):
            seed = seed_for(spec.seed, v, position)
            own = entry.family.version_options(options, v)
            requests.append((entry.family, seed, own, entry.decimals, version))
            marks.append(entry.marks)
    return requests, marks


def finish_problems(spec: SetSpec, problems: list[Problem], marks: list[Any]) -> None:
    """Give the set's problems their marks and their short codes for students."""
    secret = f"{spec.seed}:{spec.title}"
    for problem, given in zip(problems, marks, strict=True):
        problem.marks = given
        problem.code = short_code(secret, problem.id, problem.version)


def build_set(
    spec: SetSpec, progress: Callable[[int], None] | None = None
) -> dict[str | None, list[Problem]]:
    """Every version's problems, in spec order: ``{"A": [...], "B": [...]}`` (None if one).

    See :func:`set_requests`.
    """
    requests, marks = set_requests(spec)
    problems = make_problems(requests, progress)
    finish_problems(spec, problems, marks)
    result: dict[str | None, list[Problem]] = {}
    for problem in problems:
        result.setdefault(problem.version, []).append(problem)
    return result


def _distinct_items(spec: SetSpec, settled: list[tuple[Entry, dict[str, Any]]]) -> None:
    """Give families that draw from a bank (concept questions) distinct items at every
    position and version: no question repeats within a set."""
    import numpy as np

    by_family: dict[str, list[int]] = {}
    for index, (entry, _) in enumerate(settled):
        if hasattr(entry.family, "assign_items"):
            by_family.setdefault(entry.family.name, []).append(index)
    for indexes in by_family.values():
        family = settled[indexes[0]][0].family
        rng = np.random.default_rng(seed_for(spec.seed, _SETTLE + 1, indexes[0]))
        wanted = [settled[i][1] for i in indexes]
        for i, options in zip(indexes, family.assign_items(  # type: ignore[attr-defined]
                rng, wanted, spec.versions), strict=True):
            settled[i] = (settled[i][0], options)
