"""Pieces every command shares: one-line errors with exit code 2, NAME=VALUE options."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

import click

from chainrule.errors import ChainruleError

__all__ = ["FORMATS", "OneLineGroup", "UserError", "end_program", "no_cycle_collection",
           "no_teardown", "one_line", "one_shot", "parse_params", "reports_errors"]

F = TypeVar("F", bound=Callable[..., Any])

FORMATS = ("text", "md", "tex", "json")


def one_line(text: str) -> str:
    """``text`` with every line break and control character escaped (``\\n``, ``\\x1e``),
    so an error quoting what a user typed stays one line."""
    return "".join(c if c.isprintable() or c == " " else c.encode("unicode_escape").decode()
                   for c in text)


class UserError(click.ClickException):
    """A ChainruleError at the command line: one line on stderr, exit code 2."""

    exit_code = 2

    def __init__(self, message: str, *, lines: bool = False) -> None:
        # ``lines``: a message with deliberate lines (LaTeX's log excerpt)
        super().__init__(message if lines else one_line(message))

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)


_EXAMPLES = {"--option": "net=2-3-1", "--hyper": "beta=0.9", "--schedule-param": "gamma=0.5"}


class OneLineGroup(click.Group):
    """The top-level group: a usage error (unknown option, bad value) is one line too."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[call-overload]
        try:
            result = super().main(  # type: ignore[call-overload]
                *args, standalone_mode=False, **kwargs)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else "chainrule"
            message = one_line(exc.format_message().rstrip("."))
            click.echo(f"Error: {message}; see '{where} --help'", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused for a one-shot command that builds large acyclic
    SymPy trees (``derive``): it frees nothing there, but its passes over the growing heap
    cost a tenth of importing SymPy and a fifth of deriving a large network.

    In a process that runs one command and exits (the ``chainrule`` program, see
    :func:`one_shot`),
    everything the command made is frozen (``gc.freeze``) on the way out before collection
    resumes: otherwise the first allocation after it resumes, and the interpreter's exit,
    each pass over that whole heap once more (a sixth of ``derive --net 16-32-10``'s CPU).
    Frozen objects are still freed when nothing refers to them; only cycles among them would
    stay, so a process that calls the command and goes on (a notebook, click's test runner)
    is left to collect them.
    """
    from chainrule.collect import paused

    with paused():
        try:
            yield
        finally:
            if _ONE_SHOT:
                gc.freeze()


#: Whether this process runs one command and exits (set by :func:`run`).
_ONE_SHOT = False


def one_shot() -> None:
    """Mark this process as one that runs one command and exits."""
    global _ONE_SHOT
    _ONE_SHOT = True


def no_teardown() -> None:
    """Say that what the command made needs no freeing at exit: :func:`end_program` then
    ends the ``chainrule`` program without the interpreter's teardown, which frees every
    object one by one (a tenth of ``derive --net 64-64-64-64-64-64-64-64 --eta 0.1``'s
    time). A command says so only once it has succeeded, and only if it leaves nothing
    (no temporary file, no thread) for the interpreter's exit to finish."""
    global _NO_TEARDOWN
    _NO_TEARDOWN = True


_NO_TEARDOWN = False


def end_program(code: Any) -> None:
    """End the ``chainrule`` program with exit status ``code`` (a ``SystemExit`` code):
    after a command that said :func:`no_teardown` and succeeded, its output flushed and
    the process ended at once; otherwise, or under a profiler or tracer (cProfile, coverage:
    they write their results at exit), nothing is done here (the exit goes on)."""
    if (_NO_TEARDOWN and code in (None, 0) and sys.getprofile() is None
            and sys.gettrace() is None):
        try:
            for stream in (sys.stdout, sys.stderr):
                if stream is not None:  # None: the program was started with it closed
                    stream.flush()
        except (OSError, ValueError):  # a closed pipe: the usual exit deals with it
            return
        os._exit(0)


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
