"""The one exception family of chainrule.

Library code raises :class:`ChainruleError` (or a subclass); the command line turns it into
a one-line message and exit code 2.
"""

from __future__ import annotations

__all__ = ["ChainruleError", "InputError"]


class ChainruleError(Exception):
    """Any error chainrule reports to a user: one line, no traceback."""


class InputError(ChainruleError):
    """Bad user input, located as precisely as we can: file, line and field."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.detail = message
        parts = []
        if file:
            parts.append(str(file))
        if line is not None:
            parts.append(f"line {line}")
        if field:
            parts.append(f"field '{field}'")
        prefix = ": ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)
