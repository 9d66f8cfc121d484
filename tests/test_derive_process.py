"""``chainrule derive`` run as its own process writes every byte of its output and exits 0,
though it ends without the interpreter's teardown; run inside another program it returns."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import chainrule
from chainrule.cli import main

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OPENBLAS_NUM_THREADS": "1"}


@pytest.mark.parametrize(("args", "fmt"), [
    (["--net", "3-4-2", "--eta", "0.1"], "json"),
    (["--net", "2-3-1", "--loss", "mse"], "md"),
    (["bce"], "text"),
])
def test_a_process_writes_what_the_library_renders(args, fmt, tmp_path):
    options = {"eta": 0.1} if "--eta" in args else {"loss": "mse"} if "mse" in args else {}
    spec = args[1] if args[0] == "--net" else args[0]
    expected = chainrule.derive(spec, **options).render(fmt)
    out = tmp_path / "out.txt"
    with out.open("wb") as file:  # a file: written through its buffer before the end
        done = subprocess.run([sys.executable, "-m", "chainrule", "derive", *args,
                               "--format", fmt], stdout=file, stderr=subprocess.PIPE,
                              env=ENV, cwd=ROOT, check=False)
    assert done.returncode == 0 and done.stderr == b""
    assert out.read_text(encoding="utf-8") == expected
    piped = subprocess.run([sys.executable, "-m", "chainrule", "derive", *args, "--format",
                            fmt], capture_output=True, env=ENV, cwd=ROOT, check=False)
    assert piped.returncode == 0 and piped.stdout.decode() == expected


def test_an_error_still_exits_2_with_one_line():
    done = subprocess.run([sys.executable, "-m", "chainrule", "derive", "--net", "2-x-1"],
                          capture_output=True, text=True, env=ENV, cwd=ROOT, check=False)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("Error: bad network spec") and done.stderr.count("\n") == 1


def test_inside_another_program_derive_returns():
    result = CliRunner().invoke(main, ["derive", "--net", "2-2-1"])
    assert result.exit_code == 0 and "z1 = w11*x1 + w21*x2 + b1" in result.output
    after = CliRunner().invoke(main, ["derive", "bce"])  # the same process goes on
    assert after.exit_code == 0 and after.output


def test_under_a_profiler_the_program_exits_as_usual(tmp_path):
    profile = tmp_path / "derive.prof"
    done = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(profile), "-m",
                           "chainrule", "derive", "--net", "2-2-1", "--format", "md"],
                          capture_output=True, text=True, env=ENV, cwd=ROOT, check=False)
    assert done.returncode == 0 and done.stdout == chainrule.derive("2-2-1").render("md")
    assert profile.stat().st_size > 0  # written at exit


def test_a_closed_output_or_pipe_ends_as_any_program_would():
    """Started with its output closed, or piped into a reader that stops early, derive
    ends without a traceback (the usual exit deals with the stream)."""
    command = [sys.executable, "-m", "chainrule", "derive", "--net", "3-4-2", "--eta", "0.1"]
    closed = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=ENV, timeout=120, text=True, pass_fds=(),
                            preexec_fn=lambda: os.close(1))
    assert closed.returncode == 0 and "Traceback" not in closed.stderr
    reader = subprocess.Popen(["head", "-c", "10"], stdin=subprocess.PIPE,
                              stdout=subprocess.DEVNULL)
    piped = subprocess.run(command, stdout=reader.stdin, stderr=subprocess.PIPE, env=ENV,
                           timeout=120, text=True)
    assert reader.stdin is not None
    reader.stdin.close()
    reader.wait(timeout=60)
    assert "Traceback" not in piped.stderr
