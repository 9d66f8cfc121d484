"""Python's cycle collector paused while a batch runs."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["paused"]


@contextmanager
def paused() -> Iterator[None]:
    """The cycle collector paused for a batch that makes many short-lived objects and few
    or no cycles (they are freed by reference counting as before): its passes, and the full
    pass over the heap (SymPy's trees) that the batch's new objects can set off, are put off
    until it is done. Cycles made meanwhile are collected after; the collector's state is
    restored (it stays off if it was off)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
