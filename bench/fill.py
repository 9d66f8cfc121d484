"""Benchmark: rendering a problem set's documents by structure then numbers, next to
rendering each problem through its template (the renderer before, still the reference).

The problems are drawn and their template contexts made before timing (drawing them is
not rendering); each repeat renders questions and solutions (Markdown, LaTeX) and the key
both ways, in alternating order, with no trace kept from one repeat to the next (each
structure is traced again, each problem's structure key worked out again), and checks the
texts are the same; wall-clock and CPU time (the process's own, steadier under load). Run by
hand:
``python3 bench/fill.py [--count 1000] [--families backprop] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import time

from benchstats import machine, median, spread

from chainrule.problems.spec import build_set, spec_from_options
from chainrule.render import fill
from chainrule.render.environment import github_math, render, render_pieces
from chainrule.render.problemset import problem_context

DOCUMENTS = [(f"{fmt}/{kind}.{fmt}.j2", fmt) for kind in ("questions", "solutions")
             for fmt in ("md", "tex")] + [("tex/key.tex.j2", "key")]


def data(name: str, fmt: str, contexts: list) -> dict:
    if fmt == "key":
        return {"title": "Bench", "meta": {}, "versions": [{"letter": None,
                                                            "problems": contexts}]}
    return {"title": "Bench", "version": None, "instructions": "", "meta": {},
            "problems": contexts}


def plain(contexts: list) -> tuple[float, float, list[str]]:
    t0, c0 = time.perf_counter(), time.process_time()
    texts = [render(name, data(name, fmt, contexts)) for name, fmt in DOCUMENTS]
    return time.perf_counter() - t0, time.process_time() - c0, texts


def filled(contexts: list) -> tuple[float, float, list[str]]:
    fill.forget()
    contexts = [fill.ProblemContext(c) for c in contexts]  # structure keys worked out anew
    t0, c0 = time.perf_counter(), time.process_time()
    texts = []
    for name, fmt in DOCUMENTS:
        text = "".join(render_pieces(name, data(name, fmt, contexts), fill=True))
        texts.append(github_math(text) if fmt == "md" else text)
    return time.perf_counter() - t0, time.process_time() - c0, texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--families", default="backprop")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    families = args.families.split(",")
    spec = spec_from_options(families, args.count, 0, 3, 1, "Bench", {})
    problems = [p for ps in build_set(spec).values() for p in ps]
    contexts = [fill.ProblemContext(problem_context(p)) for p in problems]
    before: list[float] = []
    after: list[float] = []
    cpu_before: list[float] = []
    cpu_after: list[float] = []
    for r in range(args.repeat):
        runs = (plain, filled) if r % 2 == 0 else (filled, plain)
        results = {run: run(contexts) for run in runs}
        assert results[plain][2] == results[filled][2], "filled text differs"
        before.append(results[plain][0])
        after.append(results[filled][0])
        cpu_before.append(results[plain][1])
        cpu_after.append(results[filled][1])
    counts = [0, 0, 0]
    for fmt in ("md", "tex"):
        found = fill.filler_of(fill.fill_environment(fmt))
        for i, n in enumerate((found.filled, found.traced, found.plain)):
            counts[i] += n
    print(f"# rendering {len(contexts)} problems ({', '.join(families)}): 4 documents and "
          f"the key, {args.repeat} repeats")
    print(f"# {machine()}")
    scale = 1e3 / len(contexts)
    print(f"per problem, each problem through its template: {spread(before, 'ms', scale)}")
    print(f"per problem, by structure then numbers:         {spread(after, 'ms', scale)}")
    for label, first, second in (("", before, after), ("CPU time ", cpu_before, cpu_after)):
        ratios = [b / a for b, a in zip(first, second, strict=True)]
        print(f"{label}speed-up (paired): median {median(ratios):.2f}x (min "
              f"{min(ratios):.2f}x, max {max(ratios):.2f}x); texts identical")
    print(f"CPU time per problem: {spread(cpu_before, 'ms', scale)} through templates, "
          f"{spread(cpu_after, 'ms', scale)} by structure")
    print(f"last repeat: {counts[0]} macro calls filled, {counts[1]} traced, "
          f"{counts[2]} rendered plainly")


if __name__ == "__main__":
    main()
