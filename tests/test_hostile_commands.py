"""Each defect of the hostile-input review, at the command line: reproduced, now refused in
one line with exit code 2 (or handled), nothing lost and nothing left behind."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from chainrule.cli import main
from chainrule.io import MANIFEST

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NOTES = EXAMPLES / "notes-2-2-1.yaml"
ANSWERS = EXAMPLES / "notes-answers.txt"


def run(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def one_line_error(result, *expected):
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b""
            for p in sorted(folder.rglob("*"))}


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile.txt").write_text("mine")
    spec = tmp_path / "spec.yaml"
    spec.write_text("title: T\nseed: 1\nproblems: [forward]\n")
    return tmp_path


# --- 2. impossible output paths ----------------------------------------------------------------

COMMANDS = {
    "walkthrough": ["walkthrough", "--seed", "1", "--out"],
    "generate": ["generate", "spec.yaml", "--out"],
    "handout": ["handout", "spec.yaml", "--out"],
    "train": ["train", "--epochs", "2", "--out"],
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("target", ["/proc/x", "afile.txt/sub", ".", ".."])
@pytest.mark.parametrize("force", [False, True])
def test_impossible_output_paths_are_one_line_and_leave_nothing(work, command, target, force):
    before = tree(work.parent)
    result = run(*COMMANDS[command], target, *(["--force"] if force else []))
    one_line_error(result)
    assert tree(work.parent) == before


def test_export_to_impossible_paths(work):
    assert run("generate", "spec.yaml", "--out", "set").exit_code == 0
    before = tree(work)
    for target in ("/proc/x", "afile.txt/sub", ".", ".."):
        one_line_error(run("export", "moodle", "set", "--out", target))
        assert tree(work) == before


# --- 3. --force never deletes a user's files ---------------------------------------------------


def test_force_keeps_the_users_files_and_refuses_edited_ones(work):
    assert run("generate", "spec.yaml", "--out", "course").exit_code == 0
    (work / "course" / "notes.txt").write_text("my notes")
    assert run("generate", "spec.yaml", "--out", "course", "--force", "--seed", 2).exit_code == 0
    assert (work / "course" / "notes.txt").read_text() == "my notes"
    manifest = json.loads((work / "course" / MANIFEST).read_text())
    assert "notes.txt" not in manifest["files"] and "key.json" in manifest["files"]
    (work / "course" / "questions.md").write_text("edited by hand")
    before = tree(work)
    one_line_error(run("generate", "spec.yaml", "--out", "course", "--force"),
                   "questions.md: changed since chainrule wrote it")
    assert tree(work) == before


def test_a_folder_without_manifest_is_refused_even_with_force(work):
    (work / "course").mkdir()
    (work / "course" / "notes.txt").write_text("my notes")
    for command in (COMMANDS["generate"], COMMANDS["train"]):
        one_line_error(run(*command, "course", "--force"), "no chainrule manifest")
    assert tree(work / "course") == {"notes.txt": b"my notes"}


def test_a_single_file_chainrule_did_not_write_is_refused(work):
    one_line_error(run("walkthrough", "--seed", 1, "--out", "afile.txt", "--force"),
                   "chainrule did not write this file")
    assert (work / "afile.txt").read_text() == "mine"


# --- 4. big and non-finite numbers -------------------------------------------------------------


@pytest.mark.parametrize("eta", ["1e30", "inf", "nan", "-1", "0"])
def test_a_learning_rate_is_finite_and_positive_everywhere(eta):
    one_line_error(run("derive", "--net", "2-2-1", "--at", NOTES, "--eta", eta))
    one_line_error(run("walkthrough", "--eta", eta))
    one_line_error(run("generate", "--family", "backprop", "--option", f"eta={eta}"))


def test_a_step_that_overflows_is_named_never_printed_as_inf(tmp_path):
    givens = tmp_path / "g.yaml"
    weights = "".join(f"w{i}{j}: 1000000\n" for i, j in
                      [(1, 1), (2, 1), (1, 2), (2, 2), (1, 3), (2, 3), (1, 4), (2, 4), (3, 5),
                       (4, 5)])
    givens.write_text("net: 2-2-2-1\nhidden: linear\noutput: linear\nloss: mse\n"
                      "x: [1000000, 1000000]\ny: 1\n" + weights
                      + "".join(f"b{j}: 0\n" for j in range(1, 6)))
    # z3 = w13 a1 + w23 a2 = 2 * 1e6 * (2 * 1e12) = 4e18, past 1e15
    line = one_line_error(run("derive", "--at", givens), "step z3 = 4e+18")
    assert "inf" not in line and "nan" not in line


# --- 5. walkthrough --id for every family ------------------------------------------------------


def test_every_id_in_a_key_regenerates_its_worked_solution(work):
    families = ["backprop", "forward", "concept", "loss_value", "cost", "loss_derivative",
                "gd_step", "optimizer_steps", "lr_schedule"]
    args = [a for f in families for a in ("--family", f)]
    assert run("generate", *args, "--seed", 11, "--out", "all").exit_code == 0
    key = json.loads((work / "all" / "key.json").read_text())
    assert sorted({p["id"][:2] for p in key["problems"]}) == sorted(
        ["bp", "fw", "cq", "lv", "co", "ld", "gd", "op", "ls"])
    for record in key["problems"]:
        shown = run("walkthrough", "--id", record["id"])
        assert shown.exit_code == 0, (record["id"], shown.output)
        assert record["id"] in shown.output
        data = json.loads(run("walkthrough", "--id", record["id"], "--format", "json").output)
        values = {s["name"]: s["value"] for s in data.get("steps", [])}
        for step in record.get("steps", []):
            assert values[step["name"]] == pytest.approx(step["value"], rel=1e-12, abs=1e-12)


def test_a_givens_file_id_says_how_it_regenerates():
    one_line_error(run("walkthrough", "--id", "bp-file-7CA4AFEF"), "from a givens file",
                   "--givens FILE")


# --- 6. check --batch reports what it could not read --------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "md", "json"])
def test_batch_reports_unknown_columns_and_unreadable_cells(tmp_path, fmt):
    path = tmp_path / "class.csv"
    path.write_text("id,z1,a1,banana_col,z2\nann,0.3,banana,1,1/0\nbob,0.3,0.574,x,0.5\n")
    result = run("check", NOTES, path, "--batch", "--format", fmt)
    assert result.exit_code == 0, result.output
    for text in ("banana_col", "a1: 'banana' is not a number", "z2: '1/0' is not a number"):
        assert text in result.output, (fmt, text)
    if fmt == "json":
        data = json.loads(result.output)
        assert data["unreadable_cells"] == 2 and len(data["unknown_columns"]) == 1
        ann = next(s for s in data["students"] if s["student"] == "ann")
        assert len(ann["input_errors"]) == 2


def test_duplicate_answers_are_refused_in_json(tmp_path):
    path = tmp_path / "a.json"
    path.write_text('{"z1": 0.3, "z1": 0.4}')
    one_line_error(run("check", NOTES, path), "field 'z1': appears twice")


# --- 7. training that blows up ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [(["--lr", "-1"], "eta = -1 is out of range"),
     (["--optimizer", "momentum", "--hyper", "beta=2"], "beta = 2 is out of range"),
     (["--schedule", "step", "--schedule-param", "gamma=-1"], "gamma must lie in (0, 1]"),
     (["--optimizer", "sgd", "--lr", "1e10"], "eta = 1e+10 is out of range")],
)
def test_bad_hyper_parameters_are_refused(work, args, expected):
    one_line_error(run("train", "--data", "xor", "--epochs", 5, *args), expected)
    assert not (work / "output").exists()


def test_a_run_that_saturates_stops_naming_the_epoch(work):
    line = one_line_error(run("train", "--data", "xor", "--optimizer", "sgd", "--lr", "1e5",
                              "--epochs", 50))
    assert "sgd diverged in epoch 1 " in line and "history.csv" in line


# --- 8. unbounded work -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [["walkthrough", "--net", "64-64-64"], ["walkthrough", "--net", "2-2-2-2-1"],
     ["derive", "--net", "2-4-4-4-4-4-1", "--chain", "w11"],
     ["derive", "--net", "2-2-2-2-2-2-2-2-2-2-2-2-2-1"],
     ["generate", "--family", "backprop", "--option", "net=8-64-64-8"]],
)
def test_work_beyond_a_limit_is_refused_at_once_naming_it(args):
    start = time.perf_counter()
    line = one_line_error(run(*args))
    assert time.perf_counter() - start < 10
    assert any(word in line for word in ("at most", "too large"))


def test_a_spec_with_a_large_net_names_file_line_and_field(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("title: T\nproblems:\n  - {family: backprop, options: {net: 8-64-64-8}}\n")
    one_line_error(run("generate", spec, "--out", tmp_path / "o"), f"{spec}: line 3",
                   "problems[1].options", "too large to work by hand")


@pytest.mark.slow
def test_derive_and_train_still_take_64_64_64_10(work):
    assert run("derive", "--net", "64-64-64-10", "--format", "json").exit_code == 0
    result = run("train", "--data", "three", "--net", "2-64-64-3", "--epochs", 2)
    assert result.exit_code == 0, result.output


# --- 10. messages -------------------------------------------------------------------------------


def test_bare_chainrule_prints_its_help():
    result = run()
    assert result.exit_code == 0 and "Usage:" in result.output and "walkthrough" in result.output


@pytest.mark.parametrize("args", [["--bogus"], ["walkthrough", "--bogus"],
                                  ["walkthrough", "--decimals", "x"], ["export", "moodle"]])
def test_usage_errors_are_one_line(args):
    one_line_error(run(*args), "--help")


def test_messages_name_the_option_and_count_right(work):
    one_line_error(run("generate", "--family", "backprop", "--option", "net"), "--option 'net'")
    one_line = run("generate", "--family", "forward", "--out", "one")
    assert "wrote 1 problem to" in one_line.output
    (work / "nul.txt").write_bytes(b"z1 = 0.3\n\x00")
    one_line_error(run("check", NOTES, "nul.txt"), "holds a NUL byte: not an answers file")


def test_a_givens_file_without_net_is_the_notes_2_2_1(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text(NOTES.read_text().replace("net: 2-2-1\n", ""))
    assert run("walkthrough", "--givens", path).output == run("walkthrough", "--givens",
                                                             NOTES).output


def test_givens_errors_name_line_and_field(tmp_path):
    for old, new, field in [("hidden: sigmoid", "hidden: sigmod", "hidden"),
                            ("loss: bce", "loss: bec", "loss"), ("net: 2-2-1", "net: 2-x", "net")]:
        path = tmp_path / "g.yaml"
        text = NOTES.read_text()
        path.write_text(text.replace(old, new))
        line = text.splitlines().index(old) + 1
        one_line_error(run("walkthrough", "--givens", path), f"line {line}: field '{field}'")


def test_interactive_check_asks_again_after_a_bad_entry():
    result = run("check", NOTES, "--interactive", input="0.3\nbanana\n0.574\nq\n")
    assert result.exit_code == 0, result.output
    assert "'banana' is not a number" in result.output and "; try again" in result.output
    assert result.output.count("a1 =") == 2 and result.output.count("correct") >= 2


# --- 11. one range per quantity, checked after every override ----------------------------------


@pytest.mark.parametrize(
    "args",
    [["walkthrough", "--decimals", 9], ["derive", "--net", "2-2-1", "--at", NOTES,
                                        "--decimals", 9],
     ["generate", "--family", "forward", "--decimals", 9]],
)
def test_decimals_are_0_to_8_everywhere(args):
    one_line_error(run(*args), "0<=x<=8")


def test_the_set_cap_is_checked_after_the_overrides(tmp_path):
    one_line_error(run("generate", "--family", "concept", "--count", 1000, "--versions", 26,
                       "--out", tmp_path / "o"), "26000 problems: at most 10000")
    spec = tmp_path / "s.yaml"
    spec.write_text("title: T\nproblems:\n  - {family: concept, count: 1000}\n")
    one_line_error(run("generate", spec, "--versions", 26, "--out", tmp_path / "o"),
                   "at most 10000")
    assert not (tmp_path / "o").exists()


def test_problem_json_decimals_and_a_duplicated_key_problem_are_refused(work):
    problem = work / "p.json"
    problem.write_text(json.dumps({"id": "fw-00000005", "givens": {}, "decimals": 99}))
    one_line_error(run("check", problem, ANSWERS), "field 'decimals'", "from 0 to 8")
    assert run("generate", "spec.yaml", "--out", "set").exit_code == 0
    key = json.loads((work / "set" / "key.json").read_text())
    key["problems"].append(key["problems"][0])
    (work / "set" / "key.json").write_text(json.dumps(key))
    one_line_error(run("export", "moodle", "set"), "appears twice", "problems[2]")
