"""Shared figures for the benchmarks: medians with their min–max over repeats, machine notes."""

from __future__ import annotations

import os
import statistics
from collections.abc import Sequence


def spread(values: Sequence[float], unit: str = "ms", scale: float = 1e3) -> str:
    """``median (min–max) unit`` of ``values`` (seconds, shown times ``scale``)."""
    v = [x * scale for x in values]
    med = statistics.median(v)
    digits = 0 if med >= 100 else 1 if med >= 10 else 2
    return f"{med:.{digits}f} ({min(v):.{digits}f}–{max(v):.{digits}f}) {unit}".rstrip()


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def machine() -> str:
    """One line: CPUs and load, so a reader knows what the figures were measured under."""
    load = os.getloadavg()
    busy = " (other work is running: compare ratios, not absolute times)" if load[0] > 0.5 else ""
    return (f"{os.cpu_count()} cpus, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
            f"{busy}; no allocator pre-warm")
