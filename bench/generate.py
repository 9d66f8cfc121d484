"""Benchmark: throughput of worked examples (``chainrule walkthrough`` variants).

For 1,000 variants of the 2-2-1 sigmoid/BCE walkthrough (full solution and answer key,
Markdown), it times the whole pipeline (draw and evaluate the problems vectorized, build the
template contexts, render) next to the floor: the same template rendered from contexts
already computed. Run by hand: ``python3 bench/generate.py [--variants N] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import time

from chainrule.problems.base import get_family, make_problems
from chainrule.render.environment import render
from chainrule.render.walkthrough import walkthrough_context

TEMPLATE = "md/walkthrough.md.j2"


def pipeline(count: int, offset: int) -> tuple[float, float, float, list[dict]]:
    family = get_family("backprop")
    options = family.parse_options({"net": "2-2-1"})
    t0 = time.perf_counter()
    problems = make_problems([(family, offset + s, options, 3, None) for s in range(count)])
    t1 = time.perf_counter()
    contexts = [walkthrough_context(p) for p in problems]
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
    pipeline(20, 10**9)  # warm up: derive, compile and print the formulas once
    best: tuple[float, float, float] | None = None
    best_floor = float("inf")
    for r in range(args.repeat):
        draw, context, rendered, contexts = pipeline(args.variants, r * args.variants)
        if best is None or sum((draw, context, rendered)) < sum(best):
            best = (draw, context, rendered)
        best_floor = min(best_floor, floor(contexts))
    assert best is not None
    total = sum(best)
    n = args.variants
    print(f"{n} walkthrough variants (2-2-1, sigmoid/BCE, Markdown), best of {args.repeat}")
    print(f"  draw + evaluate   {best[0] * 1e3:8.1f} ms")
    print(f"  contexts          {best[1] * 1e3:8.1f} ms")
    print(f"  render            {best[2] * 1e3:8.1f} ms")
    print(f"  total             {total * 1e3:8.1f} ms   {n / total:8.0f} variants/s"
          "   (target >= 2000/s)")
    print(f"  render floor      {best_floor * 1e3:8.1f} ms   {n / best_floor:8.0f} variants/s")
    print(f"  total / floor     {total / best_floor:8.2f}x   (target <= 1.5x)")


if __name__ == "__main__":
    main()
