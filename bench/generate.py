"""Benchmark: throughput of worked examples (``chainrule walkthrough`` variants).

For 1,000 variants of the 2-2-1 sigmoid/BCE walkthrough (full solution and answer key,
Markdown), it times the whole pipeline (draw and evaluate the problems vectorized, build the
template contexts, render) next to the floor: the same template rendered from contexts
already computed. Run by hand: ``python3 bench/generate.py [--variants N] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import time

from benchstats import machine, median, spread

from chainrule.problems.base import get_family, make_problems
from chainrule.render.environment import render
from chainrule.render.walkthrough import walkthrough_contexts

TEMPLATE = "md/walkthrough.md.j2"


def pipeline(count: int, offset: int) -> tuple[float, float, float, list[dict]]:
    family = get_family("backprop")
    options = family.parse_options({"net": "2-2-1"})
    t0 = time.perf_counter()
    problems = make_problems([(family, offset + s, options, 3, None) for s in range(count)])
    t1 = time.perf_counter()
    contexts = walkthrough_contexts(problems)
    t2 = time.perf_counter()
    for context in contexts:
        render(TEMPLATE, context)
    t3 = time.perf_counter()
    return t1 - t0, t2 - t1, t3 - t2, contexts


def floor(contexts: list[dict]) -> float:
    t0 = time.perf_counter()
    for context in contexts:
        render(TEMPLATE, context)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(machine())
    pipeline(20, 10**9)  # warm up: derive, compile and print the formulas once
    runs: list[tuple[float, float, float]] = []
    floors: list[float] = []
    for r in range(args.repeat):
        draw, context, rendered, contexts = pipeline(args.variants, r * args.variants)
        runs.append((draw, context, rendered))
        floors.append(floor(contexts))
    n = args.variants
    totals = [sum(run) for run in runs]
    print(f"{n} walkthrough variants (2-2-1, sigmoid/BCE, Markdown), median (min–max) of "
          f"{args.repeat}")
    print(f"  draw + evaluate   {spread([r[0] for r in runs])}")
    print(f"  contexts          {spread([r[1] for r in runs])}")
    print(f"  render            {spread([r[2] for r in runs])}")
    print(f"  total             {spread(totals)}   "
          f"{n / median(totals):.0f} variants/s   (target >= 5000/s)")
    print(f"  render floor      {spread(floors)}   {n / median(floors):.0f} variants/s")
    ratio = [t / f for t, f in zip(totals, floors, strict=True)]
    print(f"  total / floor     {spread(ratio, 'x', 1.0)}   (target <= 1.3x)")


if __name__ == "__main__":
    main()
