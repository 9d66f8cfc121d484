"""YAML files a person writes, read safely, with the line of every key for error messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from chainrule.errors import InputError
from chainrule.files import read_text

__all__ = ["YamlFile", "read_yaml"]

MAX_BYTES = 5_000_000

Path_ = tuple[str | int, ...]


@dataclass
class YamlFile:
    """Parsed data and the line of each mapping key and sequence item, by path."""

    path: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)

    def error(self, where: Path_, message: str) -> InputError:
        """An error naming the file, the line of ``where`` (or its nearest parent) and field."""
        line = None
        probe = where
        while probe and line is None:
            line = self.lines.get(probe)
            probe = probe[:-1]
        return InputError(message, file=self.path, line=line, field=field_name(where) or None)


def field_name(where: Path_) -> str:
    """``('problems', 2, 'family')`` -> ``problems[2].family`` (1-based items)."""
    text = ""
    for part in where:
        if isinstance(part, int):
            text += f"[{part + 1}]"
        else:
            text += ("." if text else "") + part
    return text


def _index(node: yaml.Node, where: Path_, lines: dict[Path_, int], file: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            path = (*where, key)
            if key in seen:
                raise InputError("appears twice", file=file, line=key_node.start_mark.line + 1,
                                 field=field_name(path))
            seen.add(key)
            lines[path] = key_node.start_mark.line + 1
            _index(value_node, path, lines, file)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*where, i)] = item.start_mark.line + 1
            _index(item, (*where, i), lines, file)


def read_yaml(path: str | Path, what: str = "file") -> YamlFile:
    """Read a YAML file; a missing, unreadable, oversized or invalid file is an InputError."""
    name = str(path)
    text = read_text(path, what, MAX_BYTES)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"not valid YAML: {problem}", file=name,
                         line=mark.line + 1 if mark else None) from None
    lines: dict[Path_, int] = {}
    if node is not None:
        _index(node, (), lines, name)
    return YamlFile(name, data, lines)
