"""JSON text as ``json.dumps(value, indent=2, ensure_ascii=False)`` writes it, faster.

With ``indent`` the standard library encodes in Python, value by value: a large
``derive --format json`` (8 layers of 64, 23 MB) spent a quarter of its time there. Here
each dict or list whose items are all plain values (text, numbers, booleans, null: a step's
record) is encoded by the library's C encoder in one call, its separators carrying the
newline and indentation; anything else is walked here, or, for a dict with keys that are not
text, handed to the library as it is.
"""

from __future__ import annotations

import json
from itertools import chain
from typing import Any

__all__ = ["dumps"]

_PLAIN = frozenset((str, int, float, bool, type(None)))
_TEXT = frozenset((str,))
_DICT = frozenset((dict,))
_INDENT = 2


def dumps(value: Any) -> str:
    """``json.dumps(value, indent=2, ensure_ascii=False)``, byte for byte."""
    parts: list[str] = []
    _encode(value, 0, parts, {})
    return "".join(parts)


#: Per call of :func:`dumps`: by the id of each record encoded in a list of records, its
#: text and the level of that list (the records are held by the value while it is written).
_Seen = dict[int, tuple[int, str]]


def _encode(value: Any, level: int, out: list[str], seen: _Seen) -> None:
    if isinstance(value, dict):
        if not value:
            out.append("{}")
        elif not _TEXT.issuperset(map(type, value)):
            text = json.dumps(value, indent=_INDENT, ensure_ascii=False)
            out.append(text.replace("\n", "\n" + " " * (_INDENT * level)))
        elif _PLAIN.issuperset(map(type, value.values())):
            out.append(_flat(value, level, "{", "}"))
        else:
            inner = "\n" + " " * (_INDENT * (level + 1))
            out.append("{")
            for i, (key, item) in enumerate(value.items()):
                out.append(("," if i else "") + inner + json.dumps(key, ensure_ascii=False)
                           + ": ")
                _encode(item, level + 1, out, seen)
            out.append("\n" + " " * (_INDENT * level) + "}")
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
        elif _PLAIN.issuperset(map(type, value)):
            out.append(_flat(value, level, "[", "]"))
        elif (again := _again(value, level, seen)) is not None:
            out.append(again)
        elif _plain_records(value):
            out.append(_records(value, level, seen))
        else:
            inner = "\n" + " " * (_INDENT * (level + 1))
            out.append("[")
            for i, item in enumerate(value):
                out.append(("," if i else "") + inner)
                _encode(item, level + 1, out, seen)
            out.append("\n" + " " * (_INDENT * level) + "]")
    else:
        out.append(json.dumps(value, ensure_ascii=False))


def _plain_records(items: list[Any] | tuple[Any, ...]) -> bool:
    """Non-empty dicts only, with text keys and plain values (checked by type in C: a
    derivation has tens of thousands)."""
    return (_DICT.issuperset(map(type, items)) and all(items)
            and _TEXT.issuperset(map(type, chain.from_iterable(items)))
            and _PLAIN.issuperset(map(type, chain.from_iterable(map(dict.values, items)))))


def _records(records: list[Any] | tuple[Any, ...], level: int, seen: _Seen) -> str:
    """A list of non-empty dicts of plain values (a derivation's steps): one call of the C
    encoder for the whole list, whose item separator puts in the records' own newline and
    indentation, then the list's put in between records.

    An encoded text holds no newline (it writes ``\\n``), so the separator occurs only
    between items: before a key (``"``) inside a record, before ``{`` between records."""
    outer, item, field = ("\n" + " " * (_INDENT * n) for n in (level, level + 1, level + 2))
    text = json.dumps(records, ensure_ascii=False, separators=("," + field, ": "))
    body = text[2:-2]  # without the first "[{" and the last "}]"
    body = body.replace("}," + field + "{", item + "}," + item + "{" + field)
    whole = "[" + item + "{" + field + body + item + "}" + outer + "]"
    # Each record's text: between records is "," + item + "{" (inside one, "," + field
    # before a key, and field is item and more spaces; an encoded text holds no newline).
    texts = whole[len(item) + 1:-len(outer) - 1].split("," + item + "{")
    for i, record in enumerate(records):
        seen[id(record)] = (level, texts[i] if i == 0 else "{" + texts[i])
    return whole


def _again(records: list[Any] | tuple[Any, ...], level: int, seen: _Seen) -> str | None:
    """A list of records each already written in a list at one level not deeper than
    ``level`` (a derivation's sections hold its steps again): their texts joined and
    indented further; None otherwise."""
    found = [seen.get(id(record)) for record in records]
    if not found or None in found:
        return None
    first = found[0][0]  # type: ignore[index]
    if first > level or any(was[0] != first for was in found):  # type: ignore[index]
        return None
    item = "\n" + " " * (_INDENT * (first + 1))
    body = ("," + item).join([was[1] for was in found])  # type: ignore[index]
    if level != first:  # every newline of the texts is followed by their indentation
        body = body.replace("\n", "\n" + " " * (_INDENT * (level - first)))
    return "[\n" + " " * (_INDENT * (level + 1)) + body + "\n" + " " * (_INDENT * level) + "]"


def _flat(value: dict[str, Any] | list[Any] | tuple[Any, ...], level: int, opening: str,
          closing: str) -> str:
    """A container of plain values: one call of the C encoder (no indent), whose item
    separator is the comma, newline and indentation the indented form puts between items."""
    inner = "\n" + " " * (_INDENT * (level + 1))
    text = json.dumps(value, ensure_ascii=False, separators=("," + inner, ": "))
    return opening + inner + text[1:-1] + "\n" + " " * (_INDENT * level) + closing
