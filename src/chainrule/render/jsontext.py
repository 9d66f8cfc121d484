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
from dataclasses import dataclass
from itertools import accumulate, chain, repeat
from operator import is_
from typing import Any

__all__ = ["dumps"]

_PLAIN = frozenset((str, int, float, bool, type(None)))
_TEXT = frozenset((str,))
_DICT = frozenset((dict,))
_INDENT = 2


def dumps(value: Any, end: str = "") -> str:
    """``json.dumps(value, indent=2, ensure_ascii=False) + end``, byte for byte (joined
    once: a large derivation's text is tens of megabytes)."""
    parts: list[str] = []
    _encode(value, 0, parts, _Memo())
    parts.append(end)
    return "".join(parts)


#: Per call of :func:`dumps`: by the id of each record encoded in a list of records, where
#: its text is: the list's number in ``written`` and the record's index there (the records
#: are held by the value while it is written).
_Seen = dict[int, tuple[int, int]]


@dataclass
class _Written:
    """A list of records encoded at ``level``: its records, the text between its brackets'
    newlines (``head + body + tail``), and where each record's text starts and ends in
    ``body`` (the first record's start is in ``head``, the last one's end in ``tail``)."""

    level: int
    records: list[Any] | tuple[Any, ...]
    head: str
    body: str
    tail: str
    starts: list[int]
    ends: list[int]

    def text(self, first: int, until: int) -> str:
        """The texts of records ``first`` to ``until - 1``, as they stand together."""
        text = self.body[self.starts[first]:self.ends[until - 1]]
        if first == 0:
            text = self.head + text
        if until == len(self.records):
            text += self.tail
        return text


class _Memo:
    """What one call of :func:`dumps` has written (see :func:`_records`)."""

    def __init__(self) -> None:
        self.seen: _Seen = {}
        self.written: list[_Written] = []


def _encode(value: Any, level: int, out: list[str], memo: _Memo) -> None:
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
                _encode(item, level + 1, out, memo)
            out.append("\n" + " " * (_INDENT * level) + "}")
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
        elif _PLAIN.issuperset(map(type, value)):
            out.append(_flat(value, level, "[", "]"))
        elif (again := _again(value, level, memo)) is not None:
            out += again
        elif _plain_records(value):
            out += _records(value, level, memo)
        else:
            inner = "\n" + " " * (_INDENT * (level + 1))
            out.append("[")
            for i, item in enumerate(value):
                out.append(("," if i else "") + inner)
                _encode(item, level + 1, out, memo)
            out.append("\n" + " " * (_INDENT * level) + "]")
    else:
        out.append(json.dumps(value, ensure_ascii=False))


def _plain_records(items: list[Any] | tuple[Any, ...]) -> bool:
    """Non-empty dicts only, with text keys and plain values (checked by type in C: a
    derivation has tens of thousands)."""
    return (_DICT.issuperset(map(type, items)) and all(items)
            and _TEXT.issuperset(map(type, chain.from_iterable(items)))
            and _PLAIN.issuperset(map(type, chain.from_iterable(map(dict.values, items)))))


def _records(records: list[Any] | tuple[Any, ...], level: int, memo: _Memo) -> list[str]:
    """A list of non-empty dicts of plain values (a derivation's steps), in pieces: one call
    of the C encoder for the whole list, whose item separator puts in the records' own
    newline and indentation, then the list's put in between records.

    An encoded text holds no newline (it writes ``\\n``), so the separator occurs only
    between items: before a key (``"``) inside a record, before ``{`` between records."""
    outer, item, field = ("\n" + " " * (_INDENT * n) for n in (level, level + 1, level + 2))
    text = json.dumps(records, ensure_ascii=False, separators=("," + field, ": "))
    body = text[2:-2]  # without the first "[{" and the last "}]"
    del text
    body = body.replace("}," + field + "{", item + "}," + item + "{" + field)
    # The list's text is head + body + tail: records are joined by "," + item, each one's
    # text starting with "{" (its first after head). Cut at "," + item + "{" (inside a
    # record, "," + field comes before a key, and field is item and more spaces), body's
    # pieces are each record's text but its "{" (and the first's head, the last's tail).
    head, tail = "{" + field, item + "}"
    between = "," + item + "{"
    sizes = list(map(len, body.split(between)))
    after = list(accumulate([size + len(between) for size in sizes[:-1]], initial=0))
    starts = [start - 1 for start in after]  # each record's "{"
    starts[0] = 0  # the first record's "{" is in head
    ends = [start + size for start, size in zip(after, sizes, strict=True)]
    number = len(memo.written)
    memo.written.append(_Written(level, records, head, body, tail, starts, ends))
    memo.seen.update(zip(map(id, records), zip(repeat(number), range(len(records)),
                                                 strict=False), strict=True))
    return ["[" + item + head, body, item + "}" + outer + "]"]


def _again(records: list[Any] | tuple[Any, ...], level: int,
           memo: _Memo) -> list[str] | None:
    """A list of records each already written in a list at one level not deeper than
    ``level`` (a derivation's sections hold its steps again), in pieces: their texts joined
    and indented further (a slice of that list's text where they stand together in it);
    None otherwise."""
    seen = memo.seen
    first = seen.get(id(records[0])) if records else None
    if first is None:
        return None
    written = memo.written[first[0]]
    at, until = first[1], first[1] + len(records)
    if until <= len(written.records) and all(map(is_, records, written.records[at:until])):
        body = written.text(at, until)
        was = written.level
    else:
        found = [seen.get(id(record)) for record in records]
        if None in found:
            return None
        places = [(memo.written[n], i) for n, i in found]  # type: ignore[misc]
        was = places[0][0].level
        if any(w.level != was for w, _ in places):
            return None
        item = "\n" + " " * (_INDENT * (was + 1))
        body = ("," + item).join([w.text(i, i + 1) for w, i in places])
    if was > level:
        return None
    if level != was:  # every newline of the texts is followed by their indentation
        body = body.replace("\n", "\n" + " " * (_INDENT * (level - was)))
    return ["[\n" + " " * (_INDENT * (level + 1)), body,
            "\n" + " " * (_INDENT * level) + "]"]


def _flat(value: dict[str, Any] | list[Any] | tuple[Any, ...], level: int, opening: str,
          closing: str) -> str:
    """A container of plain values: one call of the C encoder (no indent), whose item
    separator is the comma, newline and indentation the indented form puts between items."""
    inner = "\n" + " " * (_INDENT * (level + 1))
    text = json.dumps(value, ensure_ascii=False, separators=("," + inner, ": "))
    return opening + inner + text[1:-1] + "\n" + " " * (_INDENT * level) + closing
