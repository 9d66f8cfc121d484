"""Benchmark: throughput of worked examples (``chainrule walkthrough`` variants).

For 1,000 variants of the 2-2-1 sigmoid/BCE walkthrough (full solution and answer key,
Markdown), it times the whole pipeline a batch of walkthroughs takes (draw and evaluate the
problems vectorized, then ``render_walkthroughs``: each variant's numbers written as texts
and filled into the template traced once per structure) next to the floor: the same
template rendered by Jinja from contexts already computed, one variant at a time. For
reference it also times the way through full contexts (``walkthrough_contexts``, then
``fill_walkthroughs``, which walks each context for its numbers). The texts of all three are
compared (byte-identical) on every run. Run by hand:
``python3 bench/generate.py [--variants N] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from benchstats import machine, median, spread

from chainrule.problems.base import get_family, make_problems
from chainrule.render.environment import render
from chainrule.render.walkthrough import (
    fill_walkthroughs,
    render_walkthroughs,
    walkthrough_contexts,
)

TEMPLATE = "md/walkthrough.md.j2"


def pipeline(count: int, offset: int) -> tuple[float, float, list[Any], list[str]]:
    family = get_family("backprop")
    options = family.parse_options({"net": "2-2-1"})
    t0 = time.perf_counter()
    problems = make_problems([(family, offset + s, options, 3, None) for s in range(count)])
    t1 = time.perf_counter()
    texts = render_walkthroughs(problems, "md")
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, problems, texts


def by_contexts(problems: list[Any]) -> tuple[float, list[dict], list[str]]:
    t0 = time.perf_counter()
    contexts = walkthrough_contexts(problems)
    texts = fill_walkthroughs(contexts, "md")
    return time.perf_counter() - t0, contexts, texts


def floor(contexts: list[dict]) -> tuple[float, list[str]]:
    t0 = time.perf_counter()
    texts = [render(TEMPLATE, context) for context in contexts]
    return time.perf_counter() - t0, texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(machine())
    pipeline(20, 10**9)  # warm up: derive, compile and print the formulas once
    runs: list[tuple[float, float]] = []
    floors: list[float] = []
    through: list[float] = []
    for r in range(args.repeat):
        draw, rendered, problems, texts = pipeline(args.variants, r * args.variants)
        runs.append((draw, rendered))
        took, contexts, by_context = by_contexts(problems)
        through.append(took)
        took, expected = floor(contexts)
        floors.append(took)
        if texts != expected or by_context != expected:
            raise SystemExit("the texts rendered by structure differ from Jinja's")
    n = args.variants
    totals = [sum(run) for run in runs]
    print(f"{n} walkthrough variants (2-2-1, sigmoid/BCE, Markdown), median (min–max) of "
          f"{args.repeat}; texts byte-identical to the floor's")
    print(f"  draw + evaluate   {spread([r[0] for r in runs])}")
    print(f"  texts + fill      {spread([r[1] for r in runs])}   (render_walkthroughs)")
    print(f"  total             {spread(totals)}   "
          f"{n / median(totals):.0f} variants/s   (target >= 5000/s)")
    print(f"  render floor      {spread(floors)}   {n / median(floors):.0f} variants/s "
          f"(Jinja per context, from contexts already computed)")
    ratio = [t / f for t, f in zip(totals, floors, strict=True)]
    print(f"  total / floor     {spread(ratio, 'x', 1.0)}   (target <= 1.3x)")
    print(f"  for reference: contexts, then fill_walkthroughs  {spread(through)}")


if __name__ == "__main__":
    main()
