"""Formula answers in ``chainrule check``: a corpus of answers judged as a teacher expects,
every answer format, mixed sheets, consistency of formula and number, per-cell errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from chainrule.api import load_problem
from chainrule.check.answers import parse_answers
from chainrule.check.judge import CORRECT, MISSING, WRONG, judge
from chainrule.cli import main
from chainrule.problems.base import make_problem

ROOT = Path(__file__).resolve().parents[1]
NOTES = ROOT / "examples" / "notes-2-2-1.yaml"
CORPUS = yaml.safe_load((ROOT / "tests" / "data" / "formula_corpus.yaml").read_text("utf-8"))
SPECIAL = {
    "DEEP_PARENS": "(" * 10_000 + "delta3" + ")" * 10_000,
    "ONE_MEGABYTE": "delta3 + " * 120_000 + "delta3",
    "LONG_SUM": "+".join(["delta3"] * 400),
}
_PROBLEMS: dict[str, object] = {}


def problem_of(spec):
    key = json.dumps(spec, sort_keys=True)
    if key not in _PROBLEMS:
        if isinstance(spec, str):
            _PROBLEMS[key] = load_problem(str(ROOT / spec)).core
        else:
            _PROBLEMS[key] = make_problem(spec["family"], spec["seed"], spec["options"])
    return _PROBLEMS[key]


def sheet_for(problem, rows):
    trace = problem.trace
    valid = [*trace.givens, *trace.names]
    network = trace.meta.get("network")
    outputs = {}
    if network is not None:
        outputs = {f"a{j}": o for j, o in zip(network.neurons[-1], network.outputs, strict=True)}
    return parse_answers(rows, valid, outputs, "answers.txt", trace.tex_names)


CASES = [(entry["problem"], *answer) for entry in CORPUS for answer in entry["answers"]]


def test_the_corpus_is_large_and_varied() -> None:
    assert len(CASES) >= 200
    kinds = {expected.split("+")[0] for *_, expected in CASES}
    assert {"ok", "num", "wrong", "error"} <= kinds
    assert len(kinds - {"ok", "num", "wrong", "error"}) >= 12  # named mistakes


@pytest.mark.parametrize(("spec", "step", "text", "expected"), CASES,
                         ids=[f"{i}-{c[1]}" for i, c in enumerate(CASES)])
def test_corpus_answer_is_judged_as_expected(spec, step: str, text: str, expected: str) -> None:
    problem = problem_of(spec)
    text = SPECIAL.get(text, text)
    sheet = sheet_for(problem, [(step, text, 1)])
    if expected == "error":
        assert step not in sheet.answers
        assert len(sheet.errors) == 1 and sheet.errors[0].startswith(f"answers.txt: line 1: {step}")
        result = next(s for s in judge(problem, sheet).steps if s.name == step)
        assert result.status == MISSING
        return
    assert not sheet.errors, sheet.errors
    result = next(s for s in judge(problem, sheet).steps if s.name == step)
    verdict = result.formula
    assert verdict is not None
    kind, _, flag = expected.partition("+")
    if flag == "note":
        assert verdict.reading.notes
    if kind in ("ok", "num"):
        assert result.status == CORRECT, result.message
        assert verdict.correct and verdict.with_numbers == (kind == "num")
        assert verdict.decided_by in ("simplify", "points")
    else:
        assert result.status == WRONG
        assert not verdict.correct
        if kind != "wrong":
            assert verdict.mistake == kind, verdict.message
        assert verdict.expected_text in verdict.message or verdict.mistake is None
    json.dumps(result.as_json())


def test_json_carries_the_reading_and_notes() -> None:
    problem = problem_of("examples/notes-2-2-1.yaml")
    sheet = sheet_for(problem, [("delta1", "w13*delta3*a1(1-a1)", 3)])
    step = next(s for s in judge(problem, sheet).as_json()["steps"] if s["name"] == "delta1")
    formula = step["formula"]
    assert formula["read_as_tex"] == r"w_{13} \delta_{3} a_{1} \left(1 - a_{1}\right)"
    assert formula["read_as"] == "w13 δ3 a1 (1 − a1)"
    assert formula["notes"] == [
        "'a1(1-a1)' is read as the product a1 · (1 − a1): a1 is not a function"]
    assert formula["correct"] and formula["decided_by"] == "simplify"
    assert formula["expected"] == "w13 δ3 f′(z1)"


def test_formula_and_number_on_one_line_are_judged_consistently() -> None:
    problem = problem_of("examples/notes-2-2-1.yaml")
    right = problem.rounded
    # right formula, right number
    sheet = sheet_for(problem, [("delta1", f"w13*delta3*fprime1 = {right['delta1']}", 1)])
    step = next(s for s in judge(problem, sheet).steps if s.name == "delta1")
    assert step.status == CORRECT and step.formula.correct and step.given == right["delta1"]
    # right formula, a number that follows from the student's own (wrong) delta3: carried
    rows = [("delta3", "0.266", 1), ("fprime1", str(right["fprime1"]), 2),
            ("delta1", "w13 delta3 fprime1 = "
             f"{round(0.7 * 0.266 * right['fprime1'], 3)}", 3)]
    steps = {s.name: s for s in judge(problem, sheet_for(problem, rows)).steps}
    assert steps["delta3"].status == WRONG and steps["delta1"].status == "carried"
    # wrong formula with the right number: the step is wrong, and says why
    sheet = sheet_for(problem, [("delta1", f"w13*delta3 = {right['delta1']}", 1)])
    step = next(s for s in judge(problem, sheet).steps if s.name == "delta1")
    assert step.status == WRONG and step.mistake == "missing_activation_derivative"
    # a formula alone carries its own value forward
    rows = [("delta3", "y - yhat", 1), ("dL_db3", "0.266", 2)]
    steps = {s.name: s for s in judge(problem, sheet_for(problem, rows)).steps}
    assert steps["delta3"].status == WRONG and steps["dL_db3"].status == "carried"


def test_work_between_equals_signs_is_skipped() -> None:
    problem = problem_of("examples/notes-2-2-1.yaml")
    sheet = sheet_for(problem, [("z1", "0.2*1 + 0.4*0 + 0.1 = 0.3", 1),
                                ("z2", "w12 x1 + w22 x2 + b2 = 0.3*1 + 0.1*0 + 0.2 = 0.5", 2),
                                ("a1", "0.2*1 + 0.1", 3)])
    assert sheet.answers["z1"].formula is None and sheet.answers["z1"].value == 0.3
    assert sheet.answers["z2"].formula is not None and sheet.answers["z2"].value == 0.5
    assert sheet.answers["a1"].formula is None and sheet.answers["a1"].value == pytest.approx(0.3)


def run_check(*args):
    return CliRunner().invoke(main, ["check", *[str(a) for a in args]])


def test_every_answer_format_takes_formulas(tmp_path: Path) -> None:
    lines = tmp_path / "a.txt"
    lines.write_text("delta3 = yhat - y\ndelta1 = w13*delta3*fprime1 = -0.046\n"
                     "L = -(y ln(yhat\n", encoding="utf-8")
    yml = tmp_path / "a.yaml"
    yml.write_text("delta3: yhat - y\ndelta1: {formula: w13*delta3*fprime1, value: -0.046}\n"
                   "L: '-(y ln(yhat'\n", encoding="utf-8")
    js = tmp_path / "a.json"
    js.write_text(json.dumps({"delta3": "yhat - y",
                              "delta1": {"formula": "w13*delta3*fprime1", "value": -0.046},
                              "L": "-(y ln(yhat"}), encoding="utf-8")
    csv = tmp_path / "a.csv"
    csv.write_text('name,value\ndelta3,yhat - y\ndelta1,"w13*delta3*fprime1 = -0.046"\n'
                   'L,"-(y ln(yhat"\n', encoding="utf-8")
    for path in (lines, yml, js, csv):
        result = run_check(NOTES, path, "--format", "json")
        assert result.exit_code == 0, (path, result.output)
        report = json.loads(result.output)
        steps = {s["name"]: s for s in report["steps"]}
        assert steps["delta3"]["status"] == "correct", path
        assert steps["delta3"]["formula"]["read_as"] == "ŷ − y"
        assert steps["delta1"]["status"] == "correct" and steps["delta1"]["given"] == -0.046
        assert steps["L"]["status"] == "missing"
        assert len(report["input_errors"]) == 1 and "L:" in report["input_errors"][0], path
        assert "ends too early" in report["input_errors"][0]


def test_a_sheet_of_only_bad_formulas_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("delta3 = yhat -\nL = foo(y)\n", encoding="utf-8")
    result = run_check(NOTES, path)
    assert result.exit_code == 2
    assert "line 1" in result.output and "delta3" in result.output


def test_text_report_echoes_the_reading(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("delta1 = w13 delta3 a1\nz3 = w13a1 + w23a2 + b3\n", encoding="utf-8")
    result = run_check(NOTES, path)
    assert result.exit_code == 0
    assert "as read: w13 δ3 a1" in result.output
    assert "activation_instead_of_derivative" in result.output
    assert "note: 'w13a1' is read as w13 · a1 (names run together)" in result.output
    md = run_check(NOTES, path, "--format", "md")
    assert r"$`w_{13} \delta_{3} a_{1}`$" in md.output


def test_class_csv_takes_formula_cells_with_errors_per_cell(tmp_path: Path) -> None:
    path = tmp_path / "class.csv"
    path.write_text(
        "id,delta3,delta1,dL_dw11\n"
        'ann,yhat - y,"w13*delta3*fprime1 = -0.046",delta1*x1\n'
        "bob,y - yhat,w13*delta3,(delta1\n"
        "cy,0.734 - 1,w13 delta3 a1 (1 - a1),delta1 x2\n", encoding="utf-8")
    result = run_check(NOTES, path, "--batch", "--format", "json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    students = {s["student"]: s for s in summary["students"]}
    assert students["ann"]["score"]["correct"] == 3
    assert set(students["bob"]["mistakes"]) == {"error_sign", "missing_activation_derivative"}
    assert students["cy"]["score"]["correct"] == 2 and students["cy"]["score"]["wrong"] == 1
    from chainrule.check.batch import read_class

    problem = problem_of("examples/notes-2-2-1.yaml")
    sheets = read_class(path, [*problem.trace.givens, *problem.trace.names], {"a3": "yhat"},
                        tex_names=problem.trace.tex_names)
    bob = next(s for s in sheets if s.student == "bob")
    assert bob.errors == [f"{path}: line 3: dL_dw11: '(delta1' is not a number or a formula: "
                          "column 7: the formula ends too early"]
    assert set(bob.answers) == {"delta3", "delta1"}
