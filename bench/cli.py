"""Benchmark: the command line as a user meets it, whole processes with start-up and memory.

Each row runs ``python3 -m chainrule ...`` as a fresh process (a source tree first on
PYTHONPATH, ``OPENBLAS_NUM_THREADS=1``) and reports the wall time (median and min–max over
repeats), its CPU time (user + system: on a busy machine the fairer figure), and the
process's peak resident memory (``ru_maxrss`` from ``os.wait4``, largest over repeats).
Each tree's modules are byte-compiled first, as an installed package's are (a process that
compiles chainrule from source on every start, as under ``PYTHONDONTWRITEBYTECODE``, pays
some 30 ms more). Rows:

* the floors: processes that only import SymPy, and SymPy and NumPy (``derive`` pays the
  first, most other commands the second);
* ``derive --net 16-32-10`` / ``64-64-10`` / ``64-64-64-10`` (equations printed as text) and
  the largest network the limits accept (8 layers of 64, "64x8" in the row names), also with
  its heaviest options: a loss differentiated output by output (Huber, linear output), a
  softmax through its Jacobian with BCE in Markdown, and the update steps in JSON (twice the
  steps, every formula printed both ways);
* ``walkthrough --seed 5`` (one 2-2-1 worked example, Markdown);
* ``check --batch`` of a class CSV with 1,000 and 10,000 numeric sheets (a third of the
  students slip in one step; the file is written once per run of this script);
* ``generate`` of 1,000 backprop problems (``--family backprop --count 1000``) and of 10,000
  (a spec with ``count: 10000``), into a temporary folder.

With ``--baseline DIR`` (another chainrule source tree, e.g. ``git worktree add /tmp/main
main``) every row also runs on that tree, the two in turn, and the ratio this/baseline of
each pair's CPU and wall time is reported (median and min–max): it holds when the machine's
speed drifts.

Run by hand: ``python3 bench/cli.py [--repeat R] [--only TEXT ...] [--skip TEXT ...]
[--baseline DIR]``.
"""

from __future__ import annotations

import argparse
import compileall
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchstats import machine, spread

ROOT = Path(__file__).resolve().parent.parent
CHECK_ID = "bp-00000005"


def run(args: list[str], cwd: Path, tree: Path = ROOT) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MiB) of one ``chainrule``
    process (or ``-c`` code) running the sources of ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree / "src"), "OPENBLAS_NUM_THREADS": "1"}
    argv = [sys.executable, *args] if args[0] == "-c" else [sys.executable, "-m", "chainrule",
                                                             *args]
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"chainrule {' '.join(args)} failed ({proc.returncode}): "
                         + err.decode(errors="replace")[-500:])
    return took, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def class_csv(path: Path, students: int) -> None:
    """A class CSV for problem CHECK_ID: right answers, a third with one slip."""
    sys.path.insert(0, str(ROOT / "src"))
    import numpy as np

    from chainrule.problems.base import problem_from_id

    problem = problem_from_id(CHECK_ID)
    names = list(problem.trace.names)
    rng = np.random.default_rng(0)
    lines = ["id," + ",".join(names)]
    for s in range(students):
        values = [problem.rounded[n] for n in names]
        if s % 3 == 0:
            k = int(rng.integers(len(names)))
            values[k] += float(rng.choice([-1, 1])) * 0.05 * (1 + abs(values[k]))
        lines.append(f"s{s}," + ",".join(f"{v:.{problem.decimals}f}" for v in values))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def rows(work: Path) -> dict[str, list[str]]:
    spec = work / "ten-thousand.yaml"
    spec.write_text("title: Ten thousand\nseed: 1\nproblems:\n"
                    "  - family: backprop\n    count: 10000\n", encoding="utf-8")
    return {
        "floor: python3 -c 'import sympy'": ["-c", "import sympy"],
        "floor: python3 -c 'import sympy, numpy'": ["-c", "import sympy, numpy"],
        "derive --net 16-32-10": ["derive", "--net", "16-32-10"],
        "derive --net 64-64-10": ["derive", "--net", "64-64-10"],
        "derive --net 64-64-64-10": ["derive", "--net", "64-64-64-10"],
        "derive --net 64-64-64-64-64-64-64-64": ["derive", "--net", "-".join(["64"] * 8)],
        "derive --net 64x8 --loss huber --output linear": [
            "derive", "--net", "-".join(["64"] * 8), "--loss", "huber", "--output", "linear"],
        "derive --net 64x8 --output softmax --loss bce --format md": [
            "derive", "--net", "-".join(["64"] * 8), "--output", "softmax", "--loss", "bce",
            "--format", "md"],
        **{f"derive --net 64x8 --eta 0.1 --format {fmt}": [
            "derive", "--net", "-".join(["64"] * 8), "--eta", "0.1", "--format", fmt]
           for fmt in ("text", "md", "tex")},
        "derive --net 64x8 --eta 0.1 --format json": [
            "derive", "--net", "-".join(["64"] * 8), "--eta", "0.1", "--format", "json"],
        "walkthrough --seed 5": ["walkthrough", "--seed", "5"],
        "check --batch (1,000 students)": ["check", CHECK_ID, str(work / "class-1000.csv"),
                                           "--batch"],
        "check --batch (10,000 students)": ["check", CHECK_ID, str(work / "class-10000.csv"),
                                            "--batch"],
        "generate backprop x 1,000": ["generate", "--family", "backprop", "--count", "1000",
                                      "--seed", "1", "--out", str(work / "g1"), "--force"],
        "generate backprop x 10,000": ["generate", str(spec), "--out", str(work / "g10"),
                                       "--force"],
    }


def ratios(these: list[float], others: list[float]) -> str:
    """Median (min–max) of the pairwise ratios this/baseline."""
    return spread([a / b for a, b in zip(these, others, strict=True)], "", 1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=[], help="rows whose name contains TEXT")
    parser.add_argument("--skip", nargs="*", default=[], help="rows whose name contains TEXT")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="another chainrule source tree to run each row on, in turn")
    args = parser.parse_args()
    trees = [ROOT] + ([args.baseline.resolve()] if args.baseline else [])
    for tree in trees:
        if not (tree / "src" / "chainrule").is_dir():
            raise SystemExit(f"{tree}: not a chainrule source tree (no src/chainrule)")
        compileall.compile_dir(tree / "src", quiet=1)
    print(machine())
    print(f"median (min–max) of {args.repeat} processes; peak RSS the largest"
          + (f"; baseline {trees[1]}, run in turn" if args.baseline else "") + "\n")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        table = rows(work)
        chosen = {name: argv for name, argv in table.items()
                  if (not args.only or any(o in name for o in args.only))
                  and not any(s in name for s in args.skip)}
        if any("check" in n for n in chosen):
            class_csv(work / "class-1000.csv", 1000)
            class_csv(work / "class-10000.csv", 10_000)
        width = max(map(len, chosen), default=10)
        header = (f"{'command'.ljust(width)} | {'wall time':>24} | {'CPU time':>24} | peak RSS "
                  "| CPU per item")
        if args.baseline:
            header += " | CPU this/baseline | wall this/baseline"
        print(header)
        for name, argv in chosen.items():
            runs: dict[Path, list[tuple[float, float, float]]] = {t: [] for t in trees}
            for _ in range(args.repeat):
                for tree in trees:
                    runs[tree].append(run(argv, work, tree))
            items = 10_000 if "10,000" in name else 1000 if "1,000" in name else 0
            for tree in trees:
                times = [r[0] for r in runs[tree]]
                cpus = [r[1] for r in runs[tree]]
                peak = max(r[2] for r in runs[tree])
                per = spread([t / items for t in cpus], "ms") if items else ""
                label = name if tree == ROOT else "  baseline"
                line = (f"{label.ljust(width)} | {spread(times, 's', 1.0):>24} | "
                        f"{spread(cpus, 's', 1.0):>24} | {peak:5.0f} MiB | {per}")
                if args.baseline and tree == ROOT:
                    base = runs[trees[1]]
                    line += (f" | {ratios(cpus, [r[1] for r in base])}"
                             f" | {ratios(times, [r[0] for r in base])}")
                print(line, flush=True)


if __name__ == "__main__":
    main()
