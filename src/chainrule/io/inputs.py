"""Bounded readers for every file a user or a student gives chainrule.

Each reader bounds what it reads (bytes, nesting, nodes, rows, cells) before it builds
anything, and every problem is an :class:`~chainrule.errors.InputError` naming the file, the
line and the field: one line, never a traceback.

* :func:`read_text`: a UTF-8 text file (size-limited);
* :func:`read_yaml`: YAML with the line of every key; aliases refused (``aliases=False``, for
  givens and answers) or allowed with a bound on the expanded node count (specs); nesting
  bounded, self-referencing anchors refused;
* :func:`read_json`: JSON, size- and depth-limited, duplicate keys refused;
* :func:`read_csv`: CSV rows with their line numbers, bounded rows and cells;
* :func:`read_answer_rows`: a student's answers as (name, value, line) rows from YAML, JSON,
  CSV or ``name = value`` lines;
* :class:`TemplateLoader`: Jinja templates read from folders, size-limited.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from chainrule.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import yaml  # imported where YAML is read: a command that reads none never loads it

__all__ = [
    "MAX_INPUT_BYTES",
    "CsvRows",
    "JsonFile",
    "TemplateLoader",
    "YamlFile",
    "field_name",
    "read_answer_rows",
    "read_csv",
    "read_json",
    "read_text",
    "read_yaml",
]

#: The largest input file chainrule reads (a givens file, a spec, answers, a class CSV).
MAX_INPUT_BYTES = 10_000_000
#: The largest YAML file (givens, specs, YAML answers).
MAX_YAML_BYTES = 5_000_000
#: The deepest nesting of lists and mappings in a YAML or JSON file.
MAX_DEPTH = 32
#: The most nodes a YAML file may have once its aliases are expanded.
MAX_YAML_NODES = 200_000
#: The most rows and columns of a CSV file.
MAX_CSV_ROWS = 1_000_000
MAX_CSV_COLUMNS = 10_000
#: The largest template file.
MAX_TEMPLATE_BYTES = 1_000_000

Where = tuple[str | int, ...]


def read_text(path: str | Path, what: str = "file", max_bytes: int = MAX_INPUT_BYTES) -> str:
    """A UTF-8 text file a person gave; missing, unreadable, binary or huge is an InputError
    naming the file."""
    path = Path(path)
    name = str(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError("no such file", file=name) from None
    except IsADirectoryError:
        raise InputError(f"is a folder, not {_a(what)}", file=name) from None
    except NotADirectoryError:
        raise InputError("no such file (a part of the path is a file)", file=name) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=name) from None
    if len(data) > max_bytes:
        raise InputError(f"is larger than {_size(max_bytes)}: not {_a(what)}", file=name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError("is not UTF-8 text", file=name, line=line) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise InputError(f"holds a NUL byte: not {_a(what)}", file=name, line=line)
    return text


def _a(what: str) -> str:
    """``a file``, ``an answers file``."""
    return f"{'an' if what[:1].lower() in 'aeiou' else 'a'} {what}"


def _size(n: int) -> str:
    return f"{n // 1_000_000} MB" if n >= 1_000_000 else f"{n // 1000} kB"


def field_name(where: Where) -> str:
    """``('problems', 2, 'family')`` -> ``problems[3].family`` (1-based items)."""
    text = ""
    for part in where:
        if isinstance(part, int):
            text += f"[{part + 1}]"
        else:
            text += ("." if text else "") + part
    return text


# --- YAML -----------------------------------------------------------------------------------


@dataclass
class YamlFile:
    """Parsed data and the line of each mapping key and sequence item, by path."""

    path: str
    data: Any
    lines: dict[Where, int] = field(default_factory=dict)

    def line(self, where: Where) -> int | None:
        """The line of ``where`` or of its nearest parent that has one."""
        probe = where
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return None

    def error(self, where: Where, message: str) -> InputError:
        """An error naming the file, the line of ``where`` (or its nearest parent) and field."""
        return InputError(message, file=self.path, line=self.line(where),
                          field=field_name(where) or None)


def _yaml_error(exc: yaml.YAMLError, name: str) -> InputError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return InputError(f"not valid YAML: {problem}", file=name,
                      line=mark.line + 1 if mark else None)



def _mark_line(event: yaml.Event) -> int | None:
    """The 1-based line where a YAML event starts, when the parser knows it."""
    mark = event.start_mark
    return mark.line + 1 if mark is not None else None

def _scan_events(text: str, name: str, aliases: bool) -> None:
    """Bound nesting and refuse aliases before anything is built (the parser is not
    recursive, so this is safe for any input)."""
    import yaml

    depth = 0
    for events, event in enumerate(yaml.parse(text, Loader=yaml.SafeLoader)):
        if events > MAX_YAML_NODES * 2:
            raise InputError(f"has more than {MAX_YAML_NODES} values", file=name)
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise InputError(f"is nested more than {MAX_DEPTH} levels deep", file=name,
                                 line=_mark_line(event))
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1
        elif isinstance(event, yaml.AliasEvent) and not aliases:
            raise InputError(f"uses the YAML alias *{event.anchor}: aliases are not allowed in "
                             "this file; write the values out", file=name,
                             line=_mark_line(event))


def _count_nodes(root: yaml.Node, name: str) -> None:
    """Count nodes with aliases expanded (bounded), and refuse an anchor inside itself."""
    import yaml

    count = 0
    # (node, leaving) pairs; ``path`` holds the collections being walked.
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    path: set[int] = set()
    while stack:
        node, leaving = stack.pop()
        if leaving:
            path.discard(id(node))
            continue
        count += 1
        if count > MAX_YAML_NODES:
            raise InputError(f"expands to more than {MAX_YAML_NODES} values (check its "
                             "aliases)", file=name, line=node.start_mark.line + 1)
        if isinstance(node, (yaml.SequenceNode, yaml.MappingNode)):
            if id(node) in path:
                raise InputError("an alias refers to a value that contains it", file=name,
                                 line=node.start_mark.line + 1)
            path.add(id(node))
            stack.append((node, True))
            if isinstance(node, yaml.SequenceNode):
                stack.extend((item, False) for item in reversed(node.value))
            else:
                for key, value in reversed(node.value):
                    stack.append((value, False))
                    stack.append((key, False))


def _index(node: yaml.Node, where: Where, lines: dict[Where, int], name: str,
           depth: int = 0) -> None:
    import yaml

    if depth > MAX_DEPTH:  # only reachable through aliases; their size is already bounded
        return
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag.endswith(":merge"):
                continue
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            path = (*where, key)
            if key in seen:
                raise InputError("appears twice", file=name, line=key_node.start_mark.line + 1,
                                 field=field_name(path))
            seen.add(key)
            lines[path] = key_node.start_mark.line + 1
            _index(value_node, path, lines, name, depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*where, i)] = item.start_mark.line + 1
            _index(item, (*where, i), lines, name, depth + 1)


def parse_yaml(text: str, name: str, *, aliases: bool = False) -> YamlFile:
    """YAML ``text`` (from file ``name``) parsed with bounds; see :func:`read_yaml`."""
    import yaml

    loader = None
    try:
        _scan_events(text, name, aliases)
        loader = yaml.SafeLoader(text)
        node = loader.get_single_node()
        if node is None:
            return YamlFile(name, None, {})
        _count_nodes(node, name)
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, name) from None
    except (RecursionError, TypeError, ValueError, OverflowError) as exc:
        # a key that cannot be a key ({[1]: 2}), a bad timestamp, a deep merge...
        raise InputError(f"not valid YAML: {type(exc).__name__.lower()}: {exc}"[:200],
                         file=name) from None
    finally:
        if loader is not None:
            loader.dispose()
    lines: dict[Where, int] = {}
    _index(node, (), lines, name)
    return YamlFile(name, data, lines)


def read_yaml(path: str | Path, what: str = "file", *, aliases: bool = False) -> YamlFile:
    """Read a YAML file; a missing, unreadable, oversized, too deep or invalid file is an
    InputError. Aliases (``*name``) are refused unless ``aliases``; then the file may expand
    to at most :data:`MAX_YAML_NODES` values."""
    text = read_text(path, what, MAX_YAML_BYTES)
    return parse_yaml(text, str(path), aliases=aliases)


# --- JSON -----------------------------------------------------------------------------------


@dataclass
class JsonFile:
    """Parsed JSON data of a file."""

    path: str
    data: Any

    def error(self, where: Where, message: str) -> InputError:
        return InputError(message, file=self.path, field=field_name(where) or None)


def _no_duplicates(name: str) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    def build(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise InputError("appears twice", file=name, field=key)
            result[key] = value
        return result

    return build


def _reject_constant(text: str) -> float:
    raise ValueError(f"{text} is not a number JSON allows")


def _depth(data: Any) -> int:
    deepest = 0
    stack = [(data, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                return deepest
            values = item.values() if isinstance(item, dict) else item
            stack.extend((v, depth + 1) for v in values)
    return deepest


def parse_json(text: str, name: str) -> JsonFile:
    """JSON ``text`` (from file ``name``): duplicate keys, NaN/Infinity and deep nesting are
    errors."""
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates(name),
                          parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg}", file=name, line=exc.lineno) from None
    except RecursionError:
        raise InputError(f"is nested more than {MAX_DEPTH} levels deep", file=name) from None
    except ValueError as exc:  # NaN, or an integer longer than Python converts
        message = str(exc) if "JSON allows" in str(exc) else "a number has too many digits"
        raise InputError(f"not valid JSON: {message}", file=name) from None
    if _depth(data) > MAX_DEPTH:
        raise InputError(f"is nested more than {MAX_DEPTH} levels deep", file=name)
    return JsonFile(name, data)


def read_json(path: str | Path, what: str = "JSON file",
              max_bytes: int = MAX_INPUT_BYTES) -> JsonFile:
    """Read a JSON file, bounded (see :func:`parse_json`)."""
    return parse_json(read_text(path, what, max_bytes), str(path))


# --- CSV ------------------------------------------------------------------------------------


@dataclass
class CsvRows:
    """The non-blank rows of a CSV file, each with its line number, cells stripped."""

    path: str
    rows: list[tuple[int, list[str]]]

    def error(self, line: int | None, message: str, field: str | None = None) -> InputError:
        return InputError(message, file=self.path, line=line, field=field)


def parse_csv(text: str, name: str) -> CsvRows:
    """CSV ``text`` as rows with line numbers; blank rows skipped; bounded rows and columns."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, list[str]]] = []
    try:
        for row in reader:
            if len(row) > MAX_CSV_COLUMNS:
                raise InputError(f"has more than {MAX_CSV_COLUMNS} columns", file=name,
                                 line=reader.line_num)
            if any(cell.strip() for cell in row):
                rows.append((reader.line_num, [cell.strip() for cell in row]))
                if len(rows) > MAX_CSV_ROWS:
                    raise InputError(f"has more than {MAX_CSV_ROWS} rows", file=name,
                                     line=reader.line_num)
    except csv.Error as exc:
        raise InputError(f"not valid CSV: {exc}", file=name, line=reader.line_num) from None
    return CsvRows(name, rows)


def read_csv(path: str | Path, what: str = "CSV file",
             max_bytes: int = MAX_INPUT_BYTES) -> CsvRows:
    """Read a CSV file, bounded (see :func:`parse_csv`)."""
    return parse_csv(read_text(path, what, max_bytes), str(path))


# --- answers --------------------------------------------------------------------------------

Row = tuple[str, object, int | None]


def _as_written(value: object, line: str) -> object:
    """A YAML number as the text it was written as (``0.570``, not ``0.57``), so that the
    checker sees how many decimals a student wrote."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and ":" in line:
        written = line.split(":", 1)[1].split("#", 1)[0].strip()
        try:
            from chainrule.io.numbers import parse_number

            if parse_number(written) == value:
                return written
        except ValueError:
            pass
    return value


def answer_rows(text: str, name: str) -> tuple[list[Row], str]:
    """(name, value, line) rows of an answers text, and its kind (yaml, json, csv, lines).

    The kind comes from the file's suffix (``.json``, ``.yaml``/``.yml``, ``.csv``); other
    files holding a JSON object are JSON, anything else ``name = value`` lines.
    """
    suffix = Path(name).suffix.lower()
    stripped = text.lstrip()
    if suffix == ".json" or (suffix not in (".yaml", ".yml", ".csv") and stripped[:1] == "{"):
        data = parse_json(text, name).data
        if not isinstance(data, dict):
            raise InputError("expected a JSON object of step names to values", file=name)
        written = json.loads(text, parse_float=str, parse_int=str)  # "0.570" as written
        return [(str(k), written[k], None) for k in data], "json"
    if suffix in (".yaml", ".yml"):
        yf = parse_yaml(text, name, aliases=False)
        if yf.data is None:
            return [], "yaml"
        if not isinstance(yf.data, dict):
            raise InputError("expected a mapping of step names to values", file=name)
        source = text.splitlines()
        rows_: list[Row] = []
        for k, v in yf.data.items():
            key_line = yf.lines.get((str(k),))
            rows_.append((str(k), _as_written(v, source[key_line - 1] if key_line else ""),
                          key_line))
        return rows_, "yaml"
    if suffix == ".csv":
        rows: list[Row] = []
        for line_no, row in parse_csv(text, name).rows:
            if len(row) != 2:
                raise InputError("expected two columns: name, value", file=name, line=line_no)
            if not rows and row[0].lower() in ("name", "step"):
                continue
            rows.append((row[0], row[1], line_no))
        return rows, "csv"
    lines: list[Row] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        for sep in ("=", ":", "\t"):
            if sep in content:
                key, value = content.split(sep, 1)
                break
        else:
            raise InputError("expected 'name = value'", file=name, line=line_no)
        lines.append((key.strip(), value.strip(), line_no))
    return lines, "lines"


def read_answer_rows(path: str | Path, max_bytes: int = 2_000_000) -> tuple[list[Row], str]:
    """A student's answers file as rows (see :func:`answer_rows`); duplicate names in JSON and
    YAML are errors, as in every format."""
    return answer_rows(read_text(path, "answers file", max_bytes), str(path))


# --- templates ------------------------------------------------------------------------------


class TemplateLoader(jinja2.FileSystemLoader):
    """Jinja's folder loader with a size bound and UTF-8 checked, errors naming the file."""

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        pieces = jinja2.loaders.split_template_path(template)  # no '..' out of the folder
        for folder in self.searchpath:
            path = Path(folder).joinpath(*pieces)
            if path.is_file():
                source = read_text(path, "template", MAX_TEMPLATE_BYTES)
                mtime = path.stat().st_mtime

                def uptodate(path: Path = path, mtime: float = mtime) -> bool:
                    try:
                        return path.stat().st_mtime == mtime
                    except OSError:
                        return False

                return source, str(path), uptodate
        raise jinja2.TemplateNotFound(template)
