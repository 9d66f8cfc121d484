"""Benchmark: a printable exam, ``chainrule handout``, split into generation and LaTeX.

A 10-problem exam (network forward and backprop problems with drawings, concepts, losses, a
cost, a gradient-descent step) in 3 versions: questions and solutions per version and one
answer key, 7 PDFs. Times drawing the problems, rendering the LaTeX (and key.json), writing
the folder, and compiling (pdflatex until the cross references settle, documents in parallel
on every CPU, and one at a time). The first round is "cold" (SymPy derives each network's
trace once per process); the figures are the best of the other rounds.
Run by hand: ``python3 bench/handout.py [--repeat R] [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from chainrule.io.outputs import Output
from chainrule.problems.base import get_family
from chainrule.problems.spec import Entry, SetSpec, build_set
from chainrule.render.pdf import write_pdfs
from chainrule.render.writer import set_files

EXAM = [
    ("forward", {"net": "2-3-1", "hidden": "tanh", "loss": "mse"}),
    ("backprop", {"net": "2-2-1"}),
    ("backprop", {"net": "2-3-2", "loss": "cce"}),
    ("forward", {"net": "3-4-2", "loss": "cce"}),
    ("concept", {}),
    ("concept", {}),
    ("loss_value", {}),
    ("loss_derivative", {}),
    ("cost", {}),
    ("gd_step", {}),
]


#: ``--script``: the course and instructor in another script (Greek and Cyrillic need
#: LuaLaTeX; see chainrule.render.fonts).
SCRIPTS = {
    "latin": ("CS 4780 Deep Learning", "Zoë Łukasiewicz"),
    "greek": ("Νευρωνικά δίκτυα", "Ζωή Παπαδοπούλου"),
    "cyrillic": ("Нейронные сети", "Зоя Лукашевич"),
    "cjk": ("神经网络", "李明"),
}
SCRIPT = "latin"


def exam_spec(seed: int) -> SetSpec:
    entries = []
    for name, options in EXAM:
        family = get_family(name)
        entries.append(Entry(family, 1, family.parse_options(options), 3))
    course, instructor = SCRIPTS[SCRIPT]
    meta = {"course": course, "instructor": instructor, "date": "2026-11-26"}
    return SetSpec("Training neural networks: midterm", seed, 3, entries, meta=meta)


def one_round(seed: int, root: Path) -> dict[str, float]:
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    spec = exam_spec(seed)
    versions = build_set(spec)
    t1 = time.perf_counter()
    files = set_files(spec, versions)
    t2 = time.perf_counter()
    folder = root / f"exam-{seed}"
    with Output(folder) as out:
        for name, text in files.items():
            out.write(name, text)
        out.commit()
    t3 = time.perf_counter()
    write_pdfs(folder)
    t4 = time.perf_counter()
    serial = root / f"serial-{seed}"
    shutil.copytree(folder, serial)
    t5 = time.perf_counter()
    write_pdfs(serial, jobs=1)
    t6 = time.perf_counter()
    times.update(draw=t1 - t0, render=t2 - t1, write=t3 - t2, latex=t4 - t3, serial=t6 - t5)
    return times


def pages(folder: Path) -> str:
    counts = []
    for pdf in sorted(folder.glob("*.pdf")):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
        found = [line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")]
        counts.append(f"{pdf.stem} {found[0] if found else '?'}")
    return ", ".join(counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None, help="Copy the last exam here.")
    parser.add_argument("--script", choices=sorted(SCRIPTS), default="latin",
                        help="Script of the course and instructor (latin: pdflatex; others "
                             "LuaLaTeX).")
    args = parser.parse_args()
    global SCRIPT
    SCRIPT = args.script
    with tempfile.TemporaryDirectory(prefix="bench-handout-") as tmp:
        root = Path(tmp)
        cold = one_round(1000, root)
        rounds = [one_round(1001 + r, root) for r in range(args.repeat)]
        last = root / f"exam-{1000 + args.repeat}"
        if args.keep is not None:
            shutil.copytree(last, args.keep, dirs_exist_ok=True)
        best = {k: min(r[k] for r in rounds) for k in rounds[0]}
        generation = best["draw"] + best["render"] + best["write"]
        print(f"10-problem exam, 3 versions, {SCRIPT} user text: 7 PDFs ({pages(last)})")
        print(f"best of {args.repeat} rounds; {os.cpu_count()} CPUs; "
              f"cold round (first in the process) in brackets")
        for key, label in [("draw", "draw + evaluate problems"), ("render", "render LaTeX + key"),
                           ("write", "write folder")]:
            print(f"  {label:28s} {best[key] * 1e3:8.1f} ms   ({cold[key] * 1e3:.1f} ms)")
        print(f"  {'generation total':28s} {generation * 1e3:8.1f} ms   "
              f"({(cold['draw'] + cold['render'] + cold['write']) * 1e3:.1f} ms)")
        print(f"  {'LaTeX, parallel':28s} {best['latex'] * 1e3:8.1f} ms   "
              f"({cold['latex'] * 1e3:.1f} ms)")
        print(f"  {'LaTeX, one at a time':28s} {best['serial'] * 1e3:8.1f} ms   "
              f"({best['serial'] / 7 * 1e3:.0f} ms per document)")
        print(f"  {'total (parallel)':28s} {(generation + best['latex']) * 1e3:8.1f} ms")


if __name__ == "__main__":
    main()
