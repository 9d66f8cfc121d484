"""Pieces every command shares: one-line errors with exit code 2, NAME=VALUE options."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from chainrule.errors import ChainruleError

__all__ = ["FORMATS", "UserError", "parse_params", "reports_errors"]

F = TypeVar("F", bound=Callable[..., Any])

FORMATS = ("text", "md", "tex", "json")


class UserError(click.ClickException):
    """A ChainruleError at the command line: one line on stderr, exit code 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)


_EXAMPLES = {"--option": "net=2-3-1", "--hyper": "beta=0.9", "--schedule-param": "gamma=0.5"}


def reports_errors(fn: F) -> F:
    """Turn library errors into :class:`UserError`."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ChainruleError as exc:
            raise UserError(str(exc)) from None

    return wrapper  # type: ignore[return-value]


def parse_params(items: tuple[str, ...], option: str = "--param") -> dict[str, Any]:
    """``NAME=VALUE`` options as a dict: numbers, true/false, or text."""
    from chainrule.io.numbers import parse_number

    params: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ChainruleError(f"{option} '{item}': write NAME=VALUE, like "
                                 f"{_EXAMPLES.get(option, 'delta=1.5')}")
        text = raw.strip()
        value: Any
        if text.lower() in ("true", "false"):
            value = text.lower() == "true"
        else:
            try:
                value = parse_number(text)
            except ValueError:
                value = text
        params[key.strip()] = value
    return params
