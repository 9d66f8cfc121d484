"""Cases of ``chainrule derive`` whose output is pinned byte for byte.

The pinned outputs in ``tests/data/derive-golden`` were written by main at commit 07e2759,
before ``derive`` was made faster, with ``PYTHONPATH=<that tree>/src python3
tests/derive_cases.py --write``. Outputs up to ``FULL_BYTES`` are kept whole (a failing test
shows the difference); every output's SHA-256 and length are in ``digests.json``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "data" / "derive-golden"
NOTES = "examples/notes-2-2-1.yaml"
SOFTMAX = "tests/data/derive-golden/givens-3-2-2.yaml"
REGRESSION = "tests/data/derive-golden/givens-2-3-3-1.yaml"
FULL_BYTES = 24_000

_FORMATS = ("text", "md", "tex", "json")

#: name -> arguments after ``chainrule derive`` (paths relative to the repository root).
CASES: dict[str, list[str]] = {
    "loss-bce": ["bce"],
    "loss-huber-md": ["huber", "--param", "delta=2", "--format", "md"],
    "loss-kl-tex": ["kl", "--format", "tex"],
    "loss-lsce-json": ["lsce", "--param", "epsilon=0.2", "--format", "json"],
    **{f"2-2-1-{f}": ["--net", "2-2-1", "--format", f] for f in _FORMATS},
    **{f"notes-{f}": ["--net", "2-2-1", "--at", NOTES, "--format", f] for f in _FORMATS},
    "notes-eta-decimals": ["--at", NOTES, "--eta", "0.5", "--decimals", "4"],
    "2-2-1-chain-md": ["--net", "2-2-1", "--chain", "w11", "--format", "md"],
    "2-2-1-chains-text": ["--net", "2-2-1", "--chain", "w11", "--chain", "b3"],
    "2-2-1-mae": ["--net", "2-2-1", "--loss", "mae", "--output", "linear"],
    "2-2-1-hinge-tex": ["--net", "2-2-1", "--loss", "hinge", "--output", "linear",
                        "--format", "tex"],
    "3-4-2-tanh-cce": ["--net", "3-4-2", "--hidden", "tanh", "--loss", "cce"],
    "3-4-2-tanh-cce-tex": ["--net", "3-4-2", "--hidden", "tanh", "--loss", "cce",
                           "--format", "tex"],
    "3-4-2-relu-mse-half": ["--net", "3-4-2", "--hidden", "relu", "--output", "linear",
                            "--loss", "mse", "--param", "half=true", "--format", "md"],
    "3-4-2-kl": ["--net", "3-4-2", "--loss", "kl", "--param", "direction=reverse"],
    "3-2-3-lsce-eta": ["--net", "3-2-3", "--loss", "lsce", "--param", "epsilon=0.1",
                       "--eta", "0.1", "--format", "md"],
    "2-3-3-1-mixed-huber": ["--net", "2-3-3-1", "--hidden", "relu,tanh", "--output", "linear",
                            "--loss", "huber", "--param", "delta=1.5", "--format", "tex"],
    "2-3-3-1-chain-json": ["--net", "2-3-3-1", "--hidden", "linear", "--output", "tanh",
                           "--loss", "mse", "--chain", "w11", "--format", "json"],
    **{f"softmax-at-{f}": ["--at", SOFTMAX, "--format", f] for f in _FORMATS},
    "softmax-at-eta": ["--at", SOFTMAX, "--eta", "0.2", "--decimals", "2"],
    "regression-at-md": ["--at", REGRESSION, "--format", "md"],
    "regression-at-chain": ["--at", REGRESSION, "--chain", "w14", "--chain", "b7"],
    **{f"16-32-10-{f}": ["--net", "16-32-10", "--format", f] for f in _FORMATS},
    "16-32-10-tanh-cce-eta": ["--net", "16-32-10", "--hidden", "tanh", "--output", "softmax",
                              "--loss", "cce", "--eta", "0.1"],
    "16-32-10-relu-mse-md": ["--net", "16-32-10", "--hidden", "relu", "--output", "linear",
                             "--loss", "mse", "--format", "md"],
    "8-8-8-8-3-mixed-tex": ["--net", "8-8-8-8-3", "--hidden", "relu,tanh,sigmoid",
                            "--output", "softmax", "--loss", "lsce", "--format", "tex"],
    "64-64-10": ["--net", "64-64-10"],
}

#: Cases that take more than a second or two on main: run with the slow tests.
SLOW = {"64-64-10"}


def digest(text: str) -> dict[str, object]:
    """SHA-256 and length (bytes, UTF-8) of one output."""
    data = text.encode("utf-8")
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def run(args: list[str]) -> tuple[int, str]:
    """Exit code and standard output of ``chainrule derive ARGS`` (in this process)."""
    from click.testing import CliRunner

    from chainrule.cli import main

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = CliRunner().invoke(main, ["derive", *args])
    finally:
        os.chdir(cwd)
    return result.exit_code, result.output


def write() -> None:
    """Write every case's output (whole where small) and ``digests.json``."""
    digests = {}
    for name, args in CASES.items():
        code, out = run(args)
        if code != 0:
            raise SystemExit(f"derive {' '.join(args)} failed: {out}")
        digests[name] = digest(out)
        if len(out.encode("utf-8")) <= FULL_BYTES:
            (GOLDEN / f"{name}.out").write_text(out, encoding="utf-8")
        print(name, digests[name]["bytes"], flush=True)
    (GOLDEN / "digests.json").write_text(json.dumps(digests, indent=1) + "\n",
                                         encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        raise SystemExit("usage: python3 tests/derive_cases.py --write")
    write()
