"""Looking names up in a registry with an error that lists the valid ones and the closest."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import TypeVar

from chainrule.errors import ChainruleError

__all__ = ["lookup"]

T = TypeVar("T")


def lookup(kind: str, name: str, table: Mapping[str, T], aliases: Mapping[str, str] = {}) -> T:
    """``table[name]`` (case-insensitive, with aliases), or a ChainruleError naming the options."""
    key = str(name).strip().lower().replace("-", "_")
    key = aliases.get(key, key)
    if key in table:
        return table[key]
    choices = sorted(table)
    close = difflib.get_close_matches(key, choices + sorted(aliases), n=1, cutoff=0.5)
    hint = ""
    if close:
        hint = f" (did you mean '{aliases.get(close[0], close[0])}'?)"
    raise ChainruleError(f"unknown {kind} '{name}'{hint}; valid: {', '.join(choices)}")
