"""Benchmark: every case of the hostile corpus (tests/hostile) in its own interpreter, with
the suite's 2 GB address-space limit: exit codes, wall time and peak memory per case.

Run by hand: ``python3 bench/hostile.py [--only KIND]``; prints the number of cases, the
median, the slowest cases and the largest peak resident memory.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from hostile_cases import cases, make_set, run_isolated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=None, help="Only cases of this folder (givens, ...)")
    args = parser.parse_args()
    selected = [c for c in cases() if args.only is None or c.kind == args.only]
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp:
        root = Path(tmp)
        problem_set = make_set(root)
        for i, case in enumerate(selected):
            work = root / f"case-{i}"
            work.mkdir()
            run = run_isolated(case.args(work, problem_set), work)
            bad = "Traceback" in run.out + run.err or run.code not in (0, 2, 3)
            runs.append((case, run, bad))
            print(f"{run.code:3d} {run.seconds:6.2f} s {run.peak_rss / 2**20:7.1f} MB  "
                  f"{case.name}{'  <-- BAD' if bad else ''}", flush=True)
    seconds = [r.seconds for _, r, _ in runs]
    print(f"\n{len(runs)} cases; exit codes: "
          + ", ".join(f"{code}: {sum(r.code == code for _, r, _ in runs)}"
                      for code in sorted({r.code for _, r, _ in runs}))
          + f"; bad: {sum(b for *_, b in runs)}")
    print(f"wall time per case: median {statistics.median(seconds):.2f} s, "
          f"min {min(seconds):.2f} s, max {max(seconds):.2f} s")
    for case, run, _ in sorted(runs, key=lambda x: -x[1].seconds)[:3]:
        print(f"  slowest: {run.seconds:.2f} s  {case.name}")
    for case, run, _ in sorted(runs, key=lambda x: -x[1].peak_rss)[:3]:
        print(f"  largest: {run.peak_rss / 2**20:.0f} MB  {case.name}")


if __name__ == "__main__":
    main()
