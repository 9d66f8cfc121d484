"""Givens files: the numbers of one problem, as YAML a person writes.

A givens file maps given names to numbers: ``x: [1, 0]`` (or ``x1: 1``, ``x2: 0``), ``y: 1``
(a list for several outputs), every weight ``w{i}{j}`` and bias ``b{j}``, and optionally
``eta``. It may also say which problem it is: ``net: 2-2-1``, ``hidden``, ``output``, ``loss``,
``loss_params`` (a mapping such as ``{delta: 1.0}``) and ``decimals``. Every error names the
file, the line and the field.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chainrule.errors import InputError
from chainrule.io.inputs import read_yaml
from chainrule.io.numbers import check_given, check_rate, parse_number

__all__ = ["GivensFile", "load_givens", "resolve_givens"]

#: Keys that may hold a list: inputs and targets.
LIST_KEYS = ("x", "y")
#: Keys that describe the problem rather than give a number.
META_KEYS = ("net", "hidden", "output", "loss", "loss_params", "decimals", "id", "title")


@dataclass
class GivensFile:
    """A parsed givens file: raw values and the line of each key."""

    path: str
    values: dict[str, Any]
    lines: dict[str, int] = field(default_factory=dict)

    def meta(self, key: str) -> Any:
        return self.values.get(key)

    def error(self, key: str | None, message: str) -> InputError:
        line = self.lines.get(key) if key else None
        return InputError(message, file=self.path, line=line, field=key)


def load_givens(path: str | Path) -> GivensFile:
    """Read and check the shape of a givens YAML file (numbers are checked in resolve)."""
    yf = read_yaml(path, "givens file")
    if yf.data is None:
        raise InputError("is empty: expected a mapping of given names to numbers", file=yf.path)
    if not isinstance(yf.data, dict):
        raise InputError("expected a mapping of given names to numbers", file=yf.path, line=1)
    values: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for key, value in yf.data.items():
        if not isinstance(key, str):
            raise InputError(f"key {key!r} is not a name", file=yf.path)
        values[key] = value
        lines[key] = yf.lines.get((key,), 0)
    return GivensFile(yf.path, values, lines)


def _number(gf: GivensFile, key: str, value: Any) -> float:
    try:
        number = parse_number(value)
        return check_rate(number, "eta") if key == "eta" else check_given(number)
    except ValueError as exc:
        raise gf.error(key, str(exc)) from None


def resolve_givens(gf: GivensFile, expected: list[str]) -> dict[str, float]:
    """The numbers of ``gf`` for the given names ``expected`` (lists expanded: x -> x1, x2).

    Unknown keys, missing givens and values that are not numbers are errors naming the field.
    """
    result: dict[str, float] = {}
    expected_set = set(expected)
    for key, value in gf.values.items():
        if key in META_KEYS:
            continue
        if isinstance(value, list):
            if key not in LIST_KEYS:
                raise gf.error(key, "expected a number; only x and y take a list")
            members = [n for n in expected if n.startswith(key) and n[len(key):].isdigit()]
            if key in expected_set and len(value) == 1:
                members = [key]
            if len(value) != len(members):
                raise gf.error(key, f"has {len(value)} values, the network needs {len(members)}")
            for name, item in zip(members, value, strict=True):
                if name in result:
                    raise gf.error(key, f"gives {name} twice")
                result[name] = _number(gf, key, item)
        elif key in expected_set:
            if key in result:
                raise gf.error(key, f"gives {key} twice")
            if isinstance(value, dict):
                raise gf.error(key, "expected a number, got a mapping")
            result[key] = _number(gf, key, value)
        else:
            raise _unknown(gf, key, expected)
    missing = [n for n in expected if n not in result]
    if missing:
        shown = ", ".join(missing[:6]) + (", ..." if len(missing) > 6 else "")
        raise InputError(f"missing given{'s' if len(missing) > 1 else ''} {shown}",
                         file=gf.path, field=missing[0])
    return result


def _unknown(gf: GivensFile, key: str, expected: list[str]) -> InputError:
    close = difflib.get_close_matches(key, expected + list(META_KEYS), n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return gf.error(key, f"unknown given{hint}")
