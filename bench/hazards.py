"""Rejection rate and cost of drawing hand-safe network variants.

Usage: python3 bench/hazards.py [NET] [COUNT] [option=value ...]

Prints how many variants were drawn per accepted one (every draw counts: a variant may be
rejected for a saturated unit, a value within 0.01 units of a rounding tie on either chain,
or a delta or gradient short of two significant digits) and the time to make COUNT problems.
"""

from __future__ import annotations

import sys
import time

from chainrule.problems import base
from chainrule.problems.base import get_family, make_problems


def main() -> None:
    net = sys.argv[1] if len(sys.argv) > 1 else "2-2-1"
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    extra = dict(a.split("=", 1) for a in sys.argv[3:])
    family = get_family("backprop")
    options = family.parse_options({"net": net, **extra})
    times = []
    for _ in range(3):
        base.DRAW_COUNTS.clear()
        start = time.perf_counter()
        make_problems([(family, s, options, 3, None) for s in range(count)])
        times.append(time.perf_counter() - start)
    drawn, accepted = base.DRAW_COUNTS["backprop"]
    times.sort()
    print(f"{net} {extra}: {drawn} draws for {accepted} problems "
          f"(acceptance {accepted / drawn:.1%}, {drawn / accepted:.1f} draws each); "
          f"median {times[1]:.2f} s (min {times[0]:.2f}, max {times[2]:.2f}) for {count}")


if __name__ == "__main__":
    main()
