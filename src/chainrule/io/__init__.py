"""Inputs and outputs: the bounded readers of every file a user or a student gives, and the
one safe writer of every file chainrule writes.

The names below load their module on first use, so importing one submodule
(``chainrule.io.numbers``) does not import the YAML and Jinja readers.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "MAX_INPUT_BYTES": "inputs",
    "CsvRows": "inputs",
    "JsonFile": "inputs",
    "TemplateLoader": "inputs",
    "YamlFile": "inputs",
    "field_name": "inputs",
    "read_answer_rows": "inputs",
    "read_csv": "inputs",
    "read_json": "inputs",
    "read_text": "inputs",
    "read_yaml": "inputs",
    "MAX_GIVEN": "numbers",
    "check_given": "numbers",
    "check_rate": "numbers",
    "parse_number": "numbers",
    "MANIFEST": "outputs",
    "Output": "outputs",
    "check_file": "outputs",
    "check_output": "outputs",
    "write_file": "outputs",
}

__all__ = [
    "MANIFEST",
    "MAX_GIVEN",
    "MAX_INPUT_BYTES",
    "CsvRows",
    "JsonFile",
    "Output",
    "TemplateLoader",
    "YamlFile",
    "check_file",
    "check_given",
    "check_output",
    "check_rate",
    "field_name",
    "parse_number",
    "read_answer_rows",
    "read_csv",
    "read_json",
    "read_text",
    "read_yaml",
    "write_file",
]

if TYPE_CHECKING:  # pragma: no cover
    from chainrule.io.inputs import (
        MAX_INPUT_BYTES,
        CsvRows,
        JsonFile,
        TemplateLoader,
        YamlFile,
        field_name,
        read_answer_rows,
        read_csv,
        read_json,
        read_text,
        read_yaml,
    )
    from chainrule.io.numbers import MAX_GIVEN, check_given, check_rate, parse_number
    from chainrule.io.outputs import MANIFEST, Output, check_file, check_output, write_file


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'chainrule.io' has no attribute {name!r}")
    value = getattr(import_module(f"chainrule.io.{module}"), name)
    globals()[name] = value
    return value
