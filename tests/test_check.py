"""`chainrule check`: judgement, carried errors, named mistakes, input handling."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from chainrule.api import load_problem
from chainrule.check.answers import AnswerSheet, canonical_name, parse_answers
from chainrule.check.judge import judge
from chainrule.check.mistakes import CATALOGUE, MISTAKES
from chainrule.cli import main
from chainrule.problems.base import make_problem
from chainrule.symbolic.trace import round_half_up

ROOT = Path(__file__).resolve().parents[1]
NOTES = ROOT / "examples" / "notes-2-2-1.yaml"


def sheet_of(values):
    return AnswerSheet({n: _answer(n, v) for n, v in values.items()}, [])


def _answer(name, value):
    from chainrule.check.answers import Answer

    return Answer(name, float(value), str(value), None)


PROBLEMS = [
    ("backprop", 1, {}),
    ("backprop", 2, {"net": "2-3-1", "hidden": "tanh"}),
    ("backprop", 3, {"net": "2-2-3", "loss": "cce"}),
    ("backprop", 4, {"net": "2-2-1", "loss": "mse", "output": "sigmoid"}),
    ("backprop", 5, {"net": "3-2-1", "loss": "mse"}),
    ("forward", 6, {"net": "2-3-1"}),
]


@pytest.mark.parametrize(("family", "seed", "options"), PROBLEMS)
def test_a_correct_sheet_gets_no_flag(family, seed, options):
    p = make_problem(family, seed, options)
    report = judge(p, sheet_of({n: p.rounded[n] for n in p.asked}))
    assert report.first_error is None
    assert all(s.status == "correct" and s.mistake is None for s in report.steps)
    exact = {n: float(round_half_up(p.exact[n], p.decimals)) for n in p.asked}
    assert judge(p, sheet_of(exact)).first_error is None


def test_every_required_mistake_is_catalogued_with_a_message():
    required = {
        "missing_activation_derivative", "activation_instead_of_derivative", "update_sign",
        "missing_learning_rate", "log10_instead_of_ln", "missing_minus_sign", "sigmoid_sign",
        "error_sign", "preactivation_instead_of_activation", "missing_bias",
        "rounded_too_early", "missing_square", "missing_mean", "adam_no_bias_correction",
        "momentum_sign",
        # the list
        "updated_weight_in_backward", "transposed_weights", "wrong_neuron",
        "sigmoid_derivative_mixed", "derivative_at_z", "missing_sum", "log2_instead_of_ln",
        "softmax_not_normalized", "momentum_convention", "nag_gradient_at_theta",
        "adam_t_off_by_one", "eps_placement", "missing_square_root", "learning_rate_twice",
    }
    assert required <= set(MISTAKES)
    assert len(MISTAKES) >= 30
    assert len({m.id for m in CATALOGUE}) == len(CATALOGUE)
    for m in MISTAKES.values():
        assert len(m.message) > 20 and len(m.hint) > 5, m.id
        assert "*" not in m.message + m.hint, m.id  # notation, not code


def test_named_mistakes_on_the_notes_network():
    p = load_problem(str(NOTES)).core
    r = p.rounded

    def check_one(name, value):
        sheet = {n: r[n] for n in p.asked[: p.asked.index(name)]}
        sheet[name] = value
        return next(s for s in judge(p, sheet_of(sheet)).steps if s.name == name)

    assert check_one("delta3", 1 - r["yhat"]).mistake == "error_sign"
    assert check_one("delta1", r["w13"] * r["delta3"]).mistake == \
        "missing_activation_derivative"
    assert check_one("delta1", round(r["w13"] * r["delta3"] * r["a1"], 3)).mistake == \
        "activation_instead_of_derivative"
    assert check_one("z1", 0.2).mistake == "missing_bias"
    assert check_one("a1", 0.426).mistake == "sigmoid_sign"
    assert check_one("L", round(-__import__("math").log10(r["yhat"]), 3)).mistake == \
        "log10_instead_of_ln"
    new = r["w13"] + r["eta"] * r["dL_dw13"]
    assert check_one("w13_new", round(new, 3)).mistake == "update_sign"
    assert check_one("w13_new", round(r["w13"] - r["dL_dw13"], 3)).mistake == \
        "missing_learning_rate"
    assert check_one("dL_dw13", round(r["delta3"] * r["z1"], 3)).mistake == \
        "preactivation_instead_of_activation"


def test_rounded_too_early():
    p = load_problem(str(NOTES)).core
    r = p.rounded
    sheet = {n: r[n] for n in p.asked[: p.asked.index("z3")]}
    sheet["z3"] = 0.7 * 0.57 + 0.5 * 0.62 + 0.3  # a1, a2 rounded to 2 decimals
    step = next(s for s in judge(p, sheet_of(sheet)).steps if s.name == "z3")
    assert step.status == "wrong" and step.mistake == "rounded_too_early"


def test_the_notes_own_numbers():
    result = CliRunner().invoke(main, ["check", str(NOTES),
                                       str(ROOT / "examples" / "notes-answers.txt"),
                                       "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["first_error"] == "z3"
    status = {s["name"]: s for s in data["steps"]}
    assert status["yhat"]["status"] == "carried" and status["delta3"]["status"] == "carried"
    assert status["L"]["status"] == "wrong"  # -ln(0.748) is 0.290, not 0.289
    # same number, same verdict: the notes' delta2 = -0.03 and dL/db2 = -0.03 (= delta2)
    assert status["delta2"]["given"] == status["dL_db2"]["given"] == -0.03
    assert status["delta2"]["status"] == status["dL_db2"]["status"] == "carried"
    assert status["delta1"]["status"] == status["dL_db1"]["status"] == "carried"
    assert status["w11_new"]["status"] == "missing"
    assert data["score"]["wrong"] == 2


@pytest.mark.parametrize(
    ("raw", "name"),
    [("w_{13}", "w13"), ("w_13", "w13"), ("dL/dw13", "dL_dw13"), ("a3", "yhat"),
     ("sigma'(z1)", "fprime1"), ("\\delta_1", "delta1"), ("δ3", "delta3"), ("ŷ", "yhat"),
     ("w13_new", "w13_new"), ("w_{13}^{new}", "w13_new"), ("dL/db_3", "dL_db3"),
     ("y_hat", "yhat"), ("z_1", "z1")],
)
def test_aliases(raw, name):
    p = load_problem(str(NOTES)).core
    valid = [*p.trace.givens, *p.trace.names]
    assert canonical_name(raw, valid, {"a3": "yhat"}) == name


def test_numbers_and_input_errors_are_reported_per_line():
    p = load_problem(str(NOTES)).core
    valid = [*p.trace.givens, *p.trace.names]
    rows = [("z1", "0.3", 1), ("a1", "−0.574", 2), ("z2", "1/2", 3), ("a2", "abc", 4),
            ("w99", "1", 5), ("z3", "nan", 7), ("yhat", "1e308", 8),
            ("delta3", "__import__('os')", 9)]
    sheet = parse_answers(rows, valid, {}, "s.txt")
    assert sheet.answers["a1"].value == -0.574 and sheet.answers["z2"].value == 0.5
    assert sheet.answers["yhat"].value == 1e308
    joined = "\n".join(sheet.errors)
    assert "s.txt: line 4: a2: 'abc' is not a number" in joined
    assert "line 5: unknown step 'w99'" in joined
    assert "line 7" in joined and "line 9" in joined
    report = judge(p, sheet)
    assert next(s for s in report.steps if s.name == "yhat").status == "wrong"


def run_check(*args, input=None):
    return CliRunner().invoke(main, ["check", *[str(a) for a in args]], input=input)


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [("", ".txt", "has no answers"),
     ("foo = 1\nbar = 2\n", ".txt", "unknown step 'foo'"),
     ("{not json", ".json", "not valid JSON"),
     ("z1 0.3\n", ".txt", "expected 'name = value'"),
     ("- 1\n", ".yaml", "expected a mapping")],
)
def test_bad_answer_files(tmp_path, content, suffix, message):
    path = tmp_path / f"answers{suffix}"
    path.write_text(content)
    result = run_check(NOTES, path)
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_huge_answer_file(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("z1 = 0.3\n" * 1_200_000)
    result = run_check(NOTES, path)
    assert result.exit_code == 2 and "larger than" in result.output


def test_formats_yaml_json_csv(tmp_path):
    (tmp_path / "a.yaml").write_text("z1: 0.3\na1: 0.574\n")
    (tmp_path / "a.json").write_text('{"z1": 0.3, "a1": 0.574}')
    (tmp_path / "a.csv").write_text("name,value\nz1,0.3\na1,0.574\n")
    for name in ("a.yaml", "a.json", "a.csv"):
        data = json.loads(run_check(NOTES, tmp_path / name, "--format", "json").output)
        assert data["score"]["correct"] == 2 and data["score"]["missing"] == 28
    md = run_check(NOTES, tmp_path / "a.yaml", "--format", "md").output
    assert md.startswith("# Check of problem") and "| `z1` |" in md


def test_batch_mode(tmp_path):
    p = load_problem(str(NOTES)).core
    r = p.rounded
    header = "id," + ",".join(p.asked)
    good = "ann," + ",".join(str(r[n]) for n in p.asked)
    slip = dict(r)
    slip["delta3"] = -slip["delta3"]
    bad = "bob," + ",".join(str(slip[n]) for n in p.asked)
    (tmp_path / "class.csv").write_text("\n".join([header, good, bad]) + "\n")
    data = json.loads(run_check(NOTES, tmp_path / "class.csv", "--batch", "--format",
                                "json").output)
    by_student = {s["student"]: s for s in data["students"]}
    assert by_student["ann"]["first_error"] is None
    assert by_student["bob"]["first_error"] == "delta3"
    assert data["mistakes"][0] == {"mistake": "error_sign", "students": 1,
                                   "steps": [["delta3", 1]]}
    text = run_check(NOTES, tmp_path / "class.csv", "--batch").output
    assert "Mistakes (students, at which steps)" in text and "error_sign: delta3 (1)" in text


def test_problem_json_key_json_and_id(tmp_path):
    walk = CliRunner().invoke(main, ["walkthrough", "--seed", "9", "--format", "json"])
    (tmp_path / "p.json").write_text(walk.output)
    data = json.loads(walk.output)
    answers = tmp_path / "a.txt"
    answers.write_text("\n".join(f"{s['name']} = {s['rounded']}" for s in data["steps"]))
    for source in (tmp_path / "p.json", data["id"]):
        out = json.loads(run_check(source, answers, "--format", "json").output)
        assert out["first_error"] is None and out["score"]["correct"] == len(data["steps"])
    spec = tmp_path / "s.yaml"
    spec.write_text("title: t\nseed: 3\nproblems:\n  - family: backprop\n    count: 2\n")
    CliRunner().invoke(main, ["generate", str(spec), "--out", str(tmp_path / "set")])
    key = json.loads((tmp_path / "set" / "key.json").read_text())
    second = key["problems"][1]
    answers.write_text("\n".join(f"{s['name']} = {s['rounded']}" for s in second["steps"]))
    result = run_check(tmp_path / "set" / "key.json", answers, "--problem", second["id"],
                       "--format", "json")
    assert json.loads(result.output)["first_error"] is None
    result = run_check(tmp_path / "set" / "key.json", answers)
    assert result.exit_code == 2 and "--problem" in result.output
    tampered = dict(data)
    tampered["givens"] = {**data["givens"], "w11": 0.123}
    (tmp_path / "t.json").write_text(json.dumps(tampered))
    result = run_check(tmp_path / "t.json", answers)
    assert result.exit_code == 2 and "do not match" in result.output


def test_interactive():
    p = load_problem(str(NOTES)).core
    r = p.rounded
    lines = [str(r["z1"]), str(r["a1"]), "0.9", "q"]
    result = run_check(NOTES, "--interactive", input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    assert "correct" in result.output and "wrong" in result.output
    assert "First error: z2" in result.output
