"""The command line: formats, exit codes, one-line errors, help with examples."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from chainrule.cli import main

ROOT = Path(__file__).resolve().parents[1]
NOTES = ROOT / "examples" / "notes-2-2-1.yaml"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_every_command_has_help_with_an_example():
    for name, command in main.commands.items():
        result = run(name, "--help")
        assert result.exit_code == 0, name
        assert "Example" in result.output and f"chainrule {name}" in result.output, name
        assert command.help


def test_losses_table_matches_the_notes_rows():
    result = run("losses", "--format", "json")
    assert result.exit_code == 0
    rows = json.loads(result.output)["rows"]
    names = [r["loss"] for r in rows]
    assert names[0].startswith("Mean Squared Error") and "KL Divergence" in names
    bce = next(r for r in rows if r["key"] == "bce")
    assert bce["output_activation"] == "Sigmoid" and bce["typical_use"] == "Binary classification"
    assert len(rows) == 7
    assert len(json.loads(run("losses", "--all", "--format", "json").output)["rows"]) == 8


@pytest.mark.parametrize("fmt", ["text", "md", "tex"])
def test_losses_formats(fmt):
    result = run("losses", "--format", fmt)
    assert result.exit_code == 0 and "Huber" in result.output


@pytest.mark.parametrize("loss", ["mse", "mae", "huber", "bce", "cce", "hinge", "kl", "lsce"])
def test_derive_every_loss_in_every_format(loss):
    for fmt in ("text", "md", "tex"):
        result = run("derive", loss, "--format", fmt)
        assert result.exit_code == 0, result.output
    data = json.loads(run("derive", loss, "--format", "json").output)
    assert data["loss"] == loss and data["point"]["tex"].startswith("L = ")


def test_derive_bce_shows_the_simplification():
    data = json.loads(run("derive", "bce", "--format", "json").output)
    assert data["combined"]["activation"] == "sigmoid"
    assert data["combined"]["lines"][-1]["tex"].endswith(r"\hat{y} - y")


def test_derive_loss_params():
    data = json.loads(run("derive", "huber", "--param", "delta=2.5", "--format", "json").output)
    assert data["params"]["delta"] == 2.5
    result = run("derive", "huber", "--param", "gamma=1")
    assert result.exit_code == 2 and "no parameter 'gamma'" in result.output


def test_derive_net_json_has_one_entry_per_step():
    result = run("derive", "--net", "2-2-1", "--at", NOTES, "--format", "json")
    assert result.exit_code == 0, result.output
    steps = json.loads(result.output)["steps"]
    names = [s["name"] for s in steps]
    assert names[:7] == ["z1", "a1", "z2", "a2", "z3", "yhat", "L"]
    assert names[-1] == "b3_new" and len(names) == len(set(names))
    for step in steps:
        assert {"name", "value", "formula_tex"} <= step.keys()
    z1 = next(s for s in steps if s["name"] == "z1")
    assert z1["value"] == pytest.approx(0.2 * 1 + 0.4 * 0 + 0.1)


def test_derive_net_without_values_lists_equations():
    result = run("derive", "--net", "3-4-4-2", "--hidden", "relu,tanh", "--output", "softmax",
                 "--loss", "cce")
    assert result.exit_code == 0, result.output
    assert "delta1 = (w1_5*delta5" in result.output or "delta1 =" in result.output
    assert "yhat1 = exp(z9)/(exp(z9) + exp(z10))" in result.output


def test_derive_net_md_and_tex():
    md = run("derive", "--at", NOTES, "--format", "md").output
    assert r"\delta_{1} = w_{13} \delta_{3}" in md
    tex = run("derive", "--at", NOTES, "--format", "tex").output
    assert tex.startswith(r"\documentclass") and r"\end{document}" in tex


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["derive", "bcee"], "did you mean 'bce'"),
        (["derive", "--net", "2-0-1"], "at least 1 neuron"),
        (["derive", "--net", "2-x-1"], "bad network spec"),
        (["derive", "--net", "2-2-1", "--hidden", "sigmod"], "did you mean 'sigmoid'"),
        (["derive", "--net", "2-2-1", "--output", "softmax"], "softmax output needs"),
        (["derive", "--net", "2-2-1", "--loss", "cce"], "at least 2 neurons"),
        (["derive", "--net", "2-2-1", "--at", "missing.yaml"], "missing.yaml: no such file"),
        (["derive"], "name a loss"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_missing_weight_in_file(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text(NOTES.read_text().replace("w23: 0.5\n", ""))
    result = run("derive", "--at", path)
    assert result.exit_code == 2 and "w23" in result.output and str(path) in result.output


def test_python_m_and_startup_imports_nothing_heavy():
    code = (
        "import sys, runpy; sys.argv = ['chainrule', '--help']\n"
        "try:\n    runpy.run_module('chainrule', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "heavy = [m for m in ('sympy', 'numpy', 'matplotlib', 'mpmath') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Usage:" in out.stdout
    assert "HEAVY []" in out.stdout


def test_import_chainrule_is_lazy():
    code = "import sys, chainrule; print('sympy' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
    code = "import chainrule; print(chainrule.Network('2-2-1').spec)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "2-2-1"
