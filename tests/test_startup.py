"""``chainrule derive`` loads only what it uses: no YAML reader, NumPy, plotting, web or
parser libraries unless the command needs them (start-up is most of a small derive)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

_LOADED = """
import contextlib, io, json, sys
from chainrule.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main(sys.argv[1:])
    except SystemExit as exc:
        assert not exc.code, exc.code
print(json.dumps(sorted(sys.modules)))
"""

UNUSED = {"yaml", "numpy", "matplotlib", "starlette", "uvicorn", "lark", "latex2mathml",
          "cmarkgfm", "httpx", "psycopg", "torch", "secrets", "html"}


def loaded_modules(*args: str) -> set[str]:
    """Every module loaded by ``chainrule ARGS`` in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", _LOADED, *args], cwd=ROOT, check=True,
                         capture_output=True, text=True,
                         env={"PYTHONPATH": str(ROOT / "src"), "OPENBLAS_NUM_THREADS": "1"})
    return set(json.loads(out.stdout))


def loaded(*args: str) -> set[str]:
    """Top-level packages loaded by ``chainrule ARGS`` in a fresh interpreter."""
    return {m.split(".")[0] for m in loaded_modules(*args)}


@pytest.mark.parametrize("args", [
    ["derive", "--net", "2-2-1"],
    ["derive", "--net", "3-4-2", "--loss", "cce", "--format", "json"],
    ["derive", "huber", "--param", "delta=2", "--format", "md"],
])
def test_derive_loads_only_what_it_uses(args):
    modules = loaded(*args)
    assert {"sympy", "click"} <= modules
    assert ("jinja2" in modules) == ("json" not in args)  # JSON needs no template
    assert not modules & UNUSED


def test_a_givens_file_loads_the_yaml_reader():
    modules = loaded_modules("derive", "--at", "examples/notes-2-2-1.yaml")
    assert {"yaml", "chainrule.io.givens"} <= modules


def test_the_default_network_loads_no_givens_reader_and_no_tensor_algebra():
    """Without --at, derive reads no givens; the default network (sigmoid, BCE) builds its
    formulas without evaluating a sum, which would load sympy.tensor.tensor."""
    modules = loaded_modules("derive", "--net", "16-32-10")
    assert "chainrule.symbolic.network" in modules
    assert not modules & {"chainrule.io.givens", "sympy.tensor.tensor", "sympy.combinatorics"}


def test_derive_leaves_the_cycle_collector_as_it_found_it():
    import gc

    from click.testing import CliRunner

    from chainrule.cli import main

    assert gc.isenabled()
    assert CliRunner().invoke(main, ["derive", "--net", "2-2-1"]).exit_code == 0
    assert gc.isenabled()
    gc.disable()
    try:
        assert CliRunner().invoke(main, ["derive", "bce"]).exit_code == 0
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_derive_hides_what_it_made_from_the_cycle_collector(monkeypatch):
    """In the ``chainrule`` program (one command, then exit) the heap derive leaves is frozen
    (gc.freeze) before collection resumes, so neither the next collection nor the
    interpreter's exit passes over it again; a process that goes on is left to collect it."""
    import gc

    from click.testing import CliRunner

    from chainrule.cli import main
    from chainrule.commands import common

    before = gc.get_freeze_count()
    assert CliRunner().invoke(main, ["derive", "--net", "3-4-2"]).exit_code == 0
    assert gc.get_freeze_count() == before
    assert gc.isenabled()
    monkeypatch.setattr(common, "_ONE_SHOT", True)
    try:
        assert CliRunner().invoke(main, ["derive", "--net", "3-4-2"]).exit_code == 0
        assert gc.get_freeze_count() > before
        assert gc.isenabled()
    finally:
        gc.unfreeze()


def test_the_program_runs_one_command_as_one_shot():
    import subprocess
    import sys

    code = ("import sys, gc; sys.argv = ['chainrule', 'derive', 'bce']\n"
            "from chainrule import cli\n"
            "try:\n    cli.run()\nexcept SystemExit:\n    pass\n"
            "print(gc.get_freeze_count() > 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.strip().endswith("True")
