"""``chainrule train`` through click's CliRunner: output, files, folders, errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from chainrule.commands.train import train as train_command
from chainrule.training.history import read_history


def run(*args, cwd=None):
    return CliRunner().invoke(train_command, [str(a) for a in args])


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_issue_example_trains_xor_and_writes_its_folder(in_tmp):
    result = run("--net", "2-2-1", "--loss", "bce", "--optimizer", "adam", "--data", "xor",
                 "--epochs", "2000", "--seed", "0", "--lr", "0.1")
    assert result.exit_code == 0, result.output
    assert "accuracy 100.0% (4/4)" in result.output
    folder = in_tmp / "output" / "xor-2-2-1-adam"
    assert f"wrote {folder.relative_to(in_tmp)}/" in result.output
    assert sorted(p.name for p in folder.iterdir()) == [".chainrule-manifest.json",
                                                      "history.csv", "loss.png",
                                                      "summary.json"]
    history = read_history(folder / "history.csv")["adam"]
    assert history["epoch"] == list(range(2001))
    summary = json.loads((folder / "summary.json").read_text())
    run_ = summary["runs"][0]
    assert run_["final_loss"] == history["loss"][-1] and run_["final_accuracy"] == 1.0
    assert f"final loss {run_['final_loss']:.6g}" in result.output
    assert (folder / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_json_format_is_the_summary_and_is_reproducible(in_tmp):
    args = ["--data", "blobs", "--net", "2-3-1", "--epochs", "20", "--format", "json",
            "--batch-size", "16", "--seed", "3"]
    first = run(*args, "--name", "a")
    second = run(*args, "--name", "b")
    assert first.exit_code == second.exit_code == 0
    one, two = json.loads(first.output), json.loads(second.output)
    assert one["folder"] == "output/a" and two["folder"] == "output/b"
    one.pop("folder"), two.pop("folder")
    assert one == two
    assert one["batching"] == "mini" and one["batch_size"] == 16
    assert one["runs"][0]["steps"] == 20 * 13  # 200 examples in batches of 16
    assert one["net"] == {"spec": "2-3-1", "hidden": ["sigmoid"], "output": "sigmoid",
                          "loss": "bce", "loss_params": {}}
    csv_a = (in_tmp / "output/a/history.csv").read_bytes()
    assert csv_a == (in_tmp / "output/b/history.csv").read_bytes()


def test_compare_trains_each_optimizer_on_one_history_and_figure(in_tmp):
    result = run("--data", "moons", "--net", "2-4-1", "--epochs", "30",
                 "--compare", "sgd,momentum,nag,adagrad,rmsprop,adam", "--format", "json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    names = [r["optimizer"] for r in summary["runs"]]
    assert names == ["sgd", "momentum", "nag", "adagrad", "rmsprop", "adam"]
    assert [r["hyper"]["eta"] for r in summary["runs"]] == [0.1, 0.1, 0.1, 0.01, 0.01, 0.001]
    assert len({r["initial_loss"] for r in summary["runs"]}) == 1  # the same start
    history = read_history(in_tmp / "output/moons-2-4-1-compare/history.csv")
    assert list(history) == names
    text = run("--data", "moons", "--net", "2-4-1", "--epochs", "5", "--compare", "gd,adam",
               "--name", "t")
    assert "optimizer" in text.output and "\ngd " in text.output and "\nadam " in text.output


def test_trajectory_for_a_two_parameter_model(in_tmp):
    result = run("--data", "linear", "--net", "1-1", "--compare", "sgd,momentum,adam", "--lr",
                 "0.05", "--epochs", "40", "--trajectory")
    assert result.exit_code == 0, result.output
    folder = in_tmp / "output/linear-1-1-compare"
    assert (folder / "trajectory.png").stat().st_size > 10_000
    assert "trajectory.png" in result.output


def test_trajectory_needs_two_parameters(in_tmp):
    result = run("--data", "xor", "--net", "2-2-1", "--trajectory")
    assert result.exit_code == 2
    assert "two parameters" in result.output and "has 9" in result.output
    assert not (in_tmp / "output").exists()


def test_existing_folder_needs_force(in_tmp):
    args = ["--data", "and", "--net", "2-1", "--epochs", "5", "--name", "gate"]
    assert run(*args).exit_code == 0
    folder = in_tmp / "output/gate"
    (folder / "notes.txt").write_text("mine")
    before = (folder / "history.csv").read_bytes()
    again = run(*args, "--lr", "0.5")
    assert again.exit_code == 2 and "use --force" in again.output
    assert (folder / "history.csv").read_bytes() == before
    forced = run(*args, "--lr", "0.5", "--force")
    assert forced.exit_code == 0
    assert (folder / "history.csv").read_bytes() != before
    assert (folder / "notes.txt").read_text() == "mine"


def test_a_diverging_run_exits_2_naming_the_epoch_and_keeps_its_history(in_tmp):
    result = run("--data", "linear", "--net", "1-1", "--optimizer", "gd", "--lr", "0.35",
                 "--epochs", "100")
    assert result.exit_code == 2
    message = result.output.strip().splitlines()[-1]
    assert message.startswith("Error: gd diverged in epoch 5 ")
    assert "epochs 0-4 are in output/linear-1-1-gd/history.csv" in message
    history = read_history(in_tmp / "output/linear-1-1-gd/history.csv")["gd"]
    assert history["epoch"] == [0, 1, 2, 3, 4]
    assert (in_tmp / "output/linear-1-1-gd/loss.png").exists()


def test_compare_goes_on_past_a_diverging_run(in_tmp):
    result = run("--data", "linear", "--net", "1-1", "--compare", "gd,adagrad", "--lr", "0.35",
                 "--epochs", "30", "--format", "json")
    assert result.exit_code == 0
    summary = json.loads(result.output[:result.output.rindex("}") + 1])
    gd, adagrad = summary["runs"]
    assert gd["diverged_at"] == 5 and adagrad["diverged_at"] is None
    assert "note: gd diverged in epoch 5" in result.output


def test_csv_data_and_hyper_options(in_tmp):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    labels = np.where(X.sum(axis=1) > 0, "yes", "no")
    lines = ["a,b,c,answer"] + [f"{r[0]},{r[1]},{r[2]},{k}" for r, k in zip(X, labels,
                                                                          strict=True)]
    (in_tmp / "points.csv").write_text("\n".join(lines) + "\n")
    result = run("--data", "points.csv", "--net", "3-1", "--optimizer", "momentum",
                 "--hyper", "beta=0.5", "--convention", "torch", "--epochs", "300",
                 "--format", "json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["dataset"]["classes"] == ["no", "yes"]
    run_ = summary["runs"][0]
    assert run_["hyper"] == {"eta": 0.1, "beta": 0.5}
    assert run_["options"] == {"convention": "torch"}
    assert run_["final_accuracy"] >= 0.95


def test_schedule_options_reach_the_run(in_tmp):
    result = run("--data", "and", "--net", "2-1", "--optimizer", "gd", "--lr", "0.4",
                 "--epochs", "6", "--schedule", "exponential", "--schedule-param", "form=gamma",
                 "--schedule-param", "gamma=0.5")
    assert result.exit_code == 0, result.output
    assert "learning rate in epoch t (from 0): eta = eta0*gamma**t" in result.output
    history = read_history(in_tmp / "output/and-2-1-gd/history.csv")["gd"]
    assert history["lr"][1:] == [0.4 * 0.5**t for t in range(6)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "xorr"], "unknown dataset 'xorr' (did you mean 'xor'?)"),
        (["--net", "3-2-1"], "has 2 feature(s) but net 3-2-1 has 3 input(s)"),
        (["--optimizer", "adamw"], "unknown optimizer 'adamw'"),
        (["--compare", "sgd,sgd"], "listed twice"),
        (["--hyper", "beta=0.9"], "no optimizer here has hyper-parameter 'beta'"),
        (["--hyper", "beta1=fast"], "must be a number"),
        (["--convention", "torch"], "option 'convention' applies to momentum, nag"),
        (["--schedule", "step", "--schedule-param", "gamma=x"], "must be a number"),
        (["--schedule", "step", "--schedule-param", "delta=1"], "has no parameter 'delta'"),
        (["--data", "missing.csv"], "missing.csv: no such file"),
        (["--name", "../up"], "letters, digits"),
        (["--loss", "mse", "--data", "three", "--net", "2-3-1"], "3 classes"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(in_tmp, args, message):
    result = run(*args, "--epochs", "2")
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (in_tmp / "output").exists()


def test_help_has_examples():
    result = run("--help")
    assert result.exit_code == 0
    assert "Examples:" in result.output and "chainrule train --net 2-2-1" in result.output
    assert "--compare" in result.output and "--trajectory" in result.output


def test_importing_the_command_imports_nothing_heavy():
    code = ("import sys, chainrule.commands.train\n"
            "print([m for m in ('numpy', 'sympy', 'matplotlib') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
