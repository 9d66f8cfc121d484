"""Benchmark: ``chainrule check --batch`` as a user runs it, whole processes, per student.

Each row runs ``python3 -m chainrule check PROBLEM CLASS.csv --batch`` as a fresh process
(this source tree first on PYTHONPATH, ``OPENBLAS_NUM_THREADS=1``) and reports, as median
(min–max) over repeats: the wall time and the CPU time (user + system, from ``os.wait4``),
per student both as the whole process divided by the class size and with the start-up (the
same command on a one-student class) subtracted first. Rows:

* numeric sheets (``bench/cli.py``'s class: right answers, a third slip in one step) of
  1,000 and 10,000 students, backprop problem bp-00000005;
* formula sheets: the same problem with every cell a formula in the step names (a third
  drop a factor somewhere), 200 students; and the derivation problem dv-00000005 (its asked
  steps want formulas: the right one, or a third with a factor dropped), 1,000 students.

Run by hand: ``python3 bench/check.py [--repeat R] [--only TEXT ...]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchstats import machine, median, spread
from cli import CHECK_ID, class_csv

ROOT = Path(__file__).resolve().parent.parent
DERIVATION_ID = "dv-00000005"


def run(args: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one ``chainrule`` process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OPENBLAS_NUM_THREADS": "1"}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "chainrule", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"chainrule {' '.join(args)} failed: " + err.decode()[-500:])
    return took, usage.ru_utime + usage.ru_stime


def formula_csv(path: Path, problem_id: str, students: int) -> None:
    """A class whose every asked cell is a formula (in the step names, or as the key writes
    a derivation's; quoted where it holds commas); every third student drops the first
    factor of one product."""
    sys.path.insert(0, str(ROOT / "src"))
    import csv

    import numpy as np

    from chainrule.problems.base import problem_from_id

    problem = problem_from_id(problem_id)
    trace = problem.trace
    names = list(problem.asked)
    rng = np.random.default_rng(0)
    rows = [["id", *names]]
    for s in range(students):
        cells = []
        slip = int(rng.integers(len(names))) if s % 3 == 0 else -1
        for k, name in enumerate(names):
            formula = trace[name].formula
            if k == slip and formula.is_Mul and len(formula.args) > 1:
                cells.append(str(formula.func(*formula.args[1:])))
            elif name in problem.formula_key:  # as the key writes it (derivations)
                cells.append(problem.formula_key[name]["formula"])
            else:
                cells.append(str(formula))
        rows.append([f"s{s}", *cells])
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", nargs="*", default=[], help="rows whose name contains TEXT")
    args = parser.parse_args()
    print(machine())
    print(f"median (min–max) of {args.repeat} processes; per student: whole process / "
          "students, and (process - start-up) / students\n")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rows: dict[str, tuple[str, Path, int]] = {}
        for n in (1, 1000, 10_000):
            class_csv(work / f"numeric-{n}.csv", n)
            rows[f"numeric, {n:,} students"] = (CHECK_ID, work / f"numeric-{n}.csv", n)
        for pid, n in ((CHECK_ID, 1), (CHECK_ID, 200), (DERIVATION_ID, 1),
                       (DERIVATION_ID, 1000)):
            path = work / f"formula-{pid}-{n}.csv"
            formula_csv(path, pid, n)
            rows[f"formulas {pid}, {n:,} students"] = (pid, path, n)
        chosen = {k: v for k, v in rows.items()
                  if not args.only or n_in(k, args.only) or v[2] == 1}
        starts: dict[str, tuple[float, float]] = {}
        width = max(map(len, chosen))
        print(f"{'class'.ljust(width)} | {'wall':>22} | {'cpu':>22} | wall/student "
              "(- start) | cpu/student (- start)")
        for name, (pid, path, n) in chosen.items():
            times = [run(["check", pid, str(path), "--batch"]) for _ in range(args.repeat)]
            walls, cpus = [t[0] for t in times], [t[1] for t in times]
            kind = name.split(",")[0]
            if n == 1:
                starts[kind] = (median(walls), median(cpus))
            w0, c0 = starts.get(kind, (0.0, 0.0))
            per = (f"{spread([w / n for w in walls], 'ms')} "
                   f"({spread([(w - w0) / n for w in walls], 'ms')}) | "
                   f"{spread([c / n for c in cpus], 'ms')} "
                   f"({spread([(c - c0) / n for c in cpus], 'ms')})") if n > 1 else ""
            print(f"{name.ljust(width)} | {spread(walls, 's', 1.0):>22} | "
                  f"{spread(cpus, 's', 1.0):>22} | {per}", flush=True)


def n_in(name: str, texts: list[str]) -> bool:
    return any(t in name for t in texts)


if __name__ == "__main__":
    main()
