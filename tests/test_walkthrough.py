"""`chainrule walkthrough`: the notes' example, determinism, IDs, formats, bad input."""

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from chainrule.cli import main

ROOT = Path(__file__).resolve().parents[1]
NOTES = ROOT / "examples" / "notes-2-2-1.yaml"


def run(*args):
    return CliRunner().invoke(main, ["walkthrough", *[str(a) for a in args]])


def test_notes_example_with_correct_numbers():
    result = run("--givens", NOTES, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    steps = {s["name"]: s for s in data["steps"]}
    assert data["decimals"] == 3 and data["givens"]["w13"] == 0.7
    # Computed here from the notes' givens, as a student does (3 decimals as they go).
    a1 = round(1 / (1 + math.exp(-0.3)), 3)
    a2 = round(1 / (1 + math.exp(-0.5)), 3)
    z3 = round(0.7 * a1 + 0.5 * a2 + 0.3, 3)
    yhat = round(1 / (1 + math.exp(-z3)), 3)
    assert (a1, a2) == (0.574, 0.622)
    assert steps["a1"]["rounded"] == a1 and steps["a2"]["rounded"] == a2
    assert steps["z3"]["rounded"] == z3 == 1.013  # the notes print 1.086: a slip
    assert steps["yhat"]["rounded"] == yhat
    assert steps["L"]["rounded"] == round(-math.log(yhat), 3)
    assert steps["delta3"]["rounded"] == round(yhat - 1, 3)
    assert steps["w13_new"]["rounded"] == round(0.7 - 0.1 * round((yhat - 1) * a1, 3), 3)
    exact_yhat = 1 / (1 + math.exp(-(0.7 / (1 + math.exp(-0.3)) + 0.5 / (1 + math.exp(-0.5))
                                      + 0.3)))
    assert steps["yhat"]["value"] == pytest.approx(exact_yhat, rel=1e-12)
    for step in data["steps"]:
        assert {"name", "value", "rounded", "formula_tex", "substituted_tex"} <= step.keys()


def test_markdown_has_every_section_and_every_update():
    result = run("--givens", NOTES)
    text = result.output
    for heading in ("Define the network", "The numbers", "Forward pass", "Loss",
                    "Backpropagation", "Output layer", "Hidden layer", "update", "Answer key"):
        assert heading in text
    for p in ("w11", "w21", "b1", "w12", "w22", "b2", "w13", "w23", "b3"):
        tex = f"w_{{{p[1:]}}}" if p.startswith("w") else f"b_{{{p[1:]}}}"
        assert f"{tex}^{{\\text{{new}}}} = " in text
    delta1 = r"\delta_{1} = w_{13} \delta_{3} \sigma'\left(z_{1}\right) = (0.7)(-0.266)(0.245)"
    assert delta1 in text


def test_same_seed_same_bytes_and_id_regenerates():
    a = run("--seed", 42, "--net", "2-3-1", "--hidden", "tanh")
    b = run("--seed", 42, "--net", "2-3-1", "--hidden", "tanh")
    assert a.exit_code == 0 and a.output == b.output
    problem_id = json.loads(run("--seed", 42, "--net", "2-3-1", "--hidden", "tanh",
                                "--format", "json").output)["id"]
    assert problem_id.startswith("bp-") and "hidden:tanh" in problem_id
    assert run("--id", problem_id).output == a.output
    assert run("--seed", 43, "--net", "2-3-1", "--hidden", "tanh").output != a.output


def test_default_is_random_but_reproducible_from_its_id():
    a = json.loads(run("--format", "json").output)
    b = json.loads(run("--id", a["id"], "--format", "json").output)
    assert a == b


def test_iterations_show_the_loss_falling():
    data = json.loads(run("--givens", NOTES, "--iterations", 5, "--format", "json").output)
    losses = [float(row["loss"]) for row in data["iterations"]]
    assert len(losses) == 6 and losses == sorted(losses, reverse=True)
    assert data["iterations"][0]["loss"] == "0.309"


def test_tex_is_a_document():
    text = run("--seed", 1, "--format", "tex", "--iterations", 2).output
    assert text.startswith(r"\documentclass") and text.rstrip().endswith(r"\end{document}")
    assert r"\begin{align*}" in text


def test_softmax_network():
    data = json.loads(run("--seed", 3, "--net", "2-2-3", "--loss", "cce", "--format",
                          "json").output)
    names = [s["name"] for s in data["steps"]]
    assert {"yhat1", "yhat2", "yhat3", "delta3", "delta4", "delta5"} <= set(names)
    total = sum(s["value"] for s in data["steps"] if s["name"].startswith("yhat"))
    assert total == pytest.approx(1.0)


def test_out_writes_a_file_and_never_overwrites(tmp_path):
    target = tmp_path / "w.md"
    assert run("--seed", 1, "--out", target).exit_code == 0
    first = target.read_text()
    result = run("--seed", 2, "--out", target)
    assert result.exit_code == 2 and "exists" in result.output
    assert target.read_text() == first
    assert run("--seed", 2, "--out", target, "--force").exit_code == 0
    assert target.read_text() != first
    target.write_text("my notes")  # edited by its owner: never replaced
    for extra in ([], ["--force"]):
        result = run("--seed", 1, "--out", target, *extra)
        assert result.exit_code == 2 and len(result.output.splitlines()) == 1
        assert target.read_text() == "my notes"


def test_templates_can_be_overridden(tmp_path):
    (tmp_path / "md").mkdir()
    (tmp_path / "md" / "walkthrough.md.j2").write_text("ID {{ id }} L={{ loss[0].rounded_text }}")
    result = run("--seed", 5, "--templates", tmp_path)
    assert result.exit_code == 0 and result.output.startswith("ID bp-")
    (tmp_path / "md" / "walkthrough.md.j2").write_text("{{ nothing_here }}")
    result = run("--seed", 5, "--templates", tmp_path)
    assert result.exit_code == 2 and "nothing_here" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--id", "xx-123"], "is not a problem ID"),
        (["--id", "zz-00000001"], "no problem family"),
        (["--id", "bp-00000001", "--seed", "3"], "give no other problem options"),
        (["--loss", "bcee"], "option 'loss'"),
        (["--net", "2-0-1"], "at least 1 neuron"),
        (["--givens", "nope.yaml"], "nope.yaml: no such file"),
        (["--givens", NOTES, "--seed", "1"], "nothing to draw"),
    ],
)
def test_bad_input(args, message):
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_givens_without_eta(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text(NOTES.read_text().replace("eta: 0.1\n", ""))
    result = run("--givens", path)
    assert result.exit_code == 2 and "eta" in result.output
    assert run("--givens", path, "--eta", "0.1").exit_code == 0
