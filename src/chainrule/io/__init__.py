"""Inputs and outputs: the bounded readers of every file a user or a student gives, and the
one safe writer of every file chainrule writes."""

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
