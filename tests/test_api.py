"""The public Python API (chainrule.api): objects a teacher holds in a notebook.

Oracles: plain restatements of the notes' formulas (math), SymPy differentiation done here,
and the command line's own output for the same inputs (the CLI and the API must agree).
"""

import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

import chainrule
import chainrule.api
from chainrule.cli import main

ROOT = Path(__file__).resolve().parents[1]
NOTES = ROOT / "examples" / "notes-2-2-1.yaml"
NOTES_ANSWERS = ROOT / "examples" / "notes-answers.txt"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


# --- derive ---------------------------------------------------------------------------------


def test_derive_bce_through_the_sigmoid_is_yhat_minus_y():
    import sympy as sp

    d = chainrule.derive("bce")
    assert d.kind == "loss" and d.dL_dz == "yhat - y"
    # Independent oracle: differentiate BCE(sigmoid(z)) here and compare with yhat - y.
    z, y = sp.symbols("z y")
    yhat = 1 / (1 + sp.exp(-z))
    loss = -(y * sp.log(yhat) + (1 - y) * sp.log(1 - yhat))
    claimed = sp.sympify(d.dL_dz, locals={"yhat": yhat, "y": y})
    assert sp.simplify(sp.diff(loss, z) - claimed) == 0
    latex = d._repr_latex_()
    assert latex.startswith("$$") and r"\hat{y} - y" in latex


def test_derive_agrees_with_the_cli_json():
    for args, call in [
        (("derive", "huber", "--param", "delta=2"), lambda: chainrule.derive("huber", delta=2)),
        (("derive", "--net", "2-2-1", "--at", NOTES, "--chain", "w11"),
         lambda: chainrule.derive("2-2-1", at=NOTES, chain=["w11"])),
    ]:
        out = run(*args, "--format", "json")
        assert out.exit_code == 0, out.output
        assert json.loads(out.output) == json.loads(json.dumps(call().to_dict()))


def test_derive_network_values_follow_the_notes_formulas(notes_givens):
    d = chainrule.derive("2-2-1", at=notes_givens).to_dict()
    values = {s["name"]: s["value"] for s in d["steps"]}
    z1 = 0.2 * 1 + 0.4 * 0 + 0.1
    z2 = 0.3 * 1 + 0.1 * 0 + 0.2
    a1, a2 = sigmoid(z1), sigmoid(z2)
    yhat = sigmoid(0.7 * a1 + 0.5 * a2 + 0.3)
    assert values["z1"] == pytest.approx(z1) and values["yhat"] == pytest.approx(yhat)
    assert values["delta3"] == pytest.approx(yhat - 1)
    assert values["dL_dw13"] == pytest.approx((yhat - 1) * a1)


def test_derive_errors_are_input_errors_with_the_cli_message():
    with pytest.raises(chainrule.InputError) as caught:
        chainrule.derive("nope")
    out = run("derive", "nope")
    assert out.exit_code == 2 and out.output.strip() == f"Error: {caught.value}"
    with pytest.raises(chainrule.InputError, match="not a parameter"):
        chainrule.derive("2-2-1", chain=["w99"])


# --- problems -------------------------------------------------------------------------------


def test_problem_regenerates_from_its_id_and_its_steps_follow_the_formulas():
    p = chainrule.problem("backprop", seed=7, net="2-2-1")
    assert p.family == "backprop" and p.id.startswith("bp-")
    assert chainrule.problem_from_id(p.id) == p
    g = p.givens
    steps = {s.name: s for s in p.steps}
    z1 = g["w11"] * g["x1"] + g["w21"] * g["x2"] + g["b1"]
    assert steps["z1"].exact == pytest.approx(z1)
    assert steps["z1"].formula == "w11*x1 + w21*x2 + b1"  # the notes' written order
    assert steps["z3"].formula == "w13*a1 + w23*a2 + b3"
    a1 = sigmoid(z1)
    assert steps["a1"].exact == pytest.approx(a1)
    # the rounded chain: a1 from z1 rounded to 3 decimals, then rounded itself
    assert steps["a1"].rounded == pytest.approx(round(sigmoid(round(z1, 3)), 3), abs=1e-12)
    assert set(p.answers) == set(p.asked) and all(s.asked for s in p.steps if s.name in p.asked)


def test_problem_from_givens_file_and_mapping_are_the_notes_example(notes_givens):
    from_file = chainrule.problem_from_givens(NOTES)
    from_mapping = chainrule.problem_from_givens({**notes_givens, "net": "2-2-1"})
    assert from_file.id == from_mapping.id and from_file == from_mapping
    steps = {s.name: s for s in from_file.steps}
    a1 = sigmoid(0.3)
    assert steps["a1"].exact == pytest.approx(a1)
    assert steps["a1"].rounded == pytest.approx(0.574)
    yhat = sigmoid(0.7 * sigmoid(0.3) + 0.5 * sigmoid(0.5) + 0.3)
    assert steps["w13_new"].exact == pytest.approx(0.7 - 0.1 * (yhat - 1) * a1)
    without_eta = chainrule.problem_from_givens({k: v for k, v in notes_givens.items()
                                                 if k != "eta"} | {"net": "2-2-1"})
    assert "w13_new" not in without_eta.asked and "dL_dw13" in without_eta.asked


def test_problem_from_givens_errors_name_the_field(notes_givens):
    bad = {**notes_givens, "net": "2-2-1", "w11": "abc"}
    with pytest.raises(chainrule.InputError) as caught:
        chainrule.problem_from_givens(bad)
    assert caught.value.field == "w11" and "w11" in str(caught.value)
    with pytest.raises(chainrule.InputError, match="missing given"):
        chainrule.problem_from_givens({"net": "2-2-1", "x": [1, 0]})


def test_problem_errors_match_the_cli():
    with pytest.raises(chainrule.InputError) as caught:
        chainrule.problem("backprop", seed=1, hiden="tanh")
    assert "did you mean 'hidden'" in str(caught.value)
    with pytest.raises(chainrule.InputError) as caught:
        chainrule.problem_from_id("not-an-id")
    out = run("walkthrough", "--id", "not-an-id")
    assert out.exit_code == 2 and out.output.strip() == f"Error: {caught.value}"
    with pytest.raises(chainrule.InputError):
        chainrule.problem("forward", seed=-1)


def test_question_and_solution_are_the_handout_texts():
    s = chainrule.problem_set({"title": "T", "seed": 3, "problems": [
        {"family": "backprop"}, {"family": "loss_value"}]})
    files = s.files()
    from chainrule.render.environment import github_math

    for p in s.problems:
        # Markdown files fence their display math for GitHub; the API gives $$ for notebooks.
        assert github_math(p.question("md")).strip() in files["questions.md"]
        assert github_math(p.solution("md")).strip() in files["solutions.md"]
        assert p.question("tex").strip() in files["questions.tex"]
    with pytest.raises(chainrule.InputError, match="expected md or tex"):
        s.problems[0].question("html")


def test_problem_displays_in_a_notebook():
    p = chainrule.problem_from_givens(NOTES)
    html = p._repr_html_()
    assert "<svg" in html and p.id in html and "<details>" in html
    md = p._repr_markdown_()
    assert p.question("md").strip() in md and "Solution" in md
    latex = p._repr_latex_()
    assert latex.startswith("$$\\begin{aligned}") and "0.574" in latex


def test_network_svg_is_valid_and_shows_the_givens():
    p = chainrule.problem_from_givens(NOTES)
    svg = p.network_svg()
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert len(root.findall(f"{ns}circle")) == 2 + 2 + 1
    assert len(root.findall(f"{ns}line")) == 6
    text = "".join(root.itertext())
    assert "= 0.7" in text and "= 0.3" in text  # w13 and b3 (and w12)
    assert chainrule.problem("concept", seed=1).network_svg() is None


# --- checking -------------------------------------------------------------------------------


def test_check_report_to_dict_is_the_cli_json():
    p = chainrule.problem_from_givens(NOTES)
    report = p.check(NOTES_ANSWERS)
    out = run("check", NOTES, NOTES_ANSWERS, "--format", "json")
    assert out.exit_code == 0
    assert report.to_dict() == json.loads(out.output)


def test_check_a_mapping_finds_the_first_error():
    p = chainrule.problem_from_givens(NOTES)
    right = dict(p.answers)
    report = p.check(right)
    assert report.first_error is None and report.score["percent"] == 100.0
    assert set(report.verdicts.values()) == {"correct"}
    sheet = dict(right)
    sheet["delta3"] = round(1 - right["yhat"], 3)  # the sign slip
    sheet["z1"] = str(right["z1"])  # strings are read as numbers
    report = p.check(sheet, student="ada")
    assert report.first_error == "delta3" and report.verdicts["delta3"] == "wrong"
    assert report.verdicts["z1"] == "correct"
    assert next(s for s in report.steps if s.name == "delta3").mistake == "error_sign"
    html = report._repr_html_()
    assert "#f9d0d0" in html and "#d9f2d9" in html and "ada" in html
    partial = p.check({"z1": right["z1"]})
    assert partial.score["missing"] == len(p.asked) - 1


def test_check_bad_answers():
    p = chainrule.problem_from_givens(NOTES)
    with pytest.raises(chainrule.InputError, match="unknown step"):
        p.check({"zz9": 1})
    report = p.check({"z1": 0.3, "zz9": 1})
    assert report.input_errors and "zz9" in report.input_errors[0]
    with pytest.raises(chainrule.InputError, match="multiple choice"):
        chainrule.problem("concept", seed=1).check({"x": 1})


# --- problem sets ---------------------------------------------------------------------------

SPEC = {"title": "Quiz", "seed": 5, "versions": 2,
        "problems": [{"family": "forward", "options": {"net": "2-2-1"}}, "loss_value"]}


def test_problem_set_versions_key_and_folder_match_the_cli(tmp_path):
    s = chainrule.problem_set(SPEC)
    assert list(s.versions) == ["A", "B"] and all(len(v) == 2 for v in s.versions.values())
    assert s.versions["A"][0].id != s.versions["B"][0].id
    folder = s.write(tmp_path / "api")
    spec_file = tmp_path / "quiz.yaml"
    import yaml

    spec_file.write_text(yaml.safe_dump(SPEC), encoding="utf-8")
    out = run("generate", spec_file, "--out", tmp_path / "cli")
    assert out.exit_code == 0, out.output
    for name in sorted(p.name for p in (tmp_path / "cli").iterdir()):
        assert (folder / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name
    assert json.loads((folder / "key.json").read_text()) == s.key
    with pytest.raises(chainrule.InputError, match="exists"):
        s.write(folder)


def test_problem_set_exports_match_the_cli(tmp_path):
    s = chainrule.problem_set(SPEC)
    folder = s.write(tmp_path / "set")
    s.to_moodle(tmp_path / "api.xml")
    assert run("export", "moodle", folder, "--out", tmp_path / "cli.xml").exit_code == 0
    assert (tmp_path / "api.xml").read_bytes() == (tmp_path / "cli.xml").read_bytes()
    s.to_canvas(tmp_path / "api.zip")
    assert run("export", "canvas", folder, "--out", tmp_path / "cli.zip").exit_code == 0
    assert (tmp_path / "api.zip").read_bytes() == (tmp_path / "cli.zip").read_bytes()


def test_problem_set_errors():
    with pytest.raises(chainrule.InputError) as caught:
        chainrule.problem_set({"problems": [{"family": "backprop", "count": 0}]})
    assert caught.value.field == "problems[1].count"
    with pytest.raises(chainrule.InputError, match="versions"):
        chainrule.problem_set(SPEC, versions=30)
    with pytest.raises(chainrule.InputError, match=r"no such file|not found|does not exist"):
        chainrule.problem_set("no-such-spec.yaml")


# --- training -------------------------------------------------------------------------------


def test_train_history_arrays_and_plot_match_the_cli(tmp_path):
    from matplotlib.figure import Figure

    run_ = chainrule.train(data="xor", net="2-2-1", compare=["gd", "adam"], epochs=30,
                           lr=0.5, seed=1)
    assert run_.labels == ["gd", "adam"] and run_.folder is None
    history = run_.history
    assert len(history["gd"]["loss"]) == 31 and history["adam"]["epoch"][-1] == 30
    figure = run_.plot()
    assert isinstance(figure, Figure) and len(figure.axes[0].get_lines()) == 2
    out = run("train", "--data", "xor", "--net", "2-2-1", "--compare", "gd,adam",
              "--epochs", 30, "--lr", 0.5, "--seed", 1, "--out", tmp_path / "cli",
              "--format", "json")
    assert out.exit_code == 0, out.output
    from chainrule.training.history import read_history

    cli = read_history(tmp_path / "cli" / "history.csv")
    for label in ("gd", "adam"):
        assert cli[label]["loss"] == pytest.approx(list(history[label]["loss"]), rel=1e-15)
    summary = json.loads(out.output)
    mine = run_.to_dict()
    assert mine == {k: v for k, v in summary.items() if k not in ("folder", "files")}
    written = run_.write(tmp_path / "api")
    assert read_history(written / "history.csv") == cli
    assert (written / "loss.png").stat().st_size > 1000


def test_train_errors():
    with pytest.raises(chainrule.InputError, match="hyper-parameter"):
        chainrule.train(epochs=2, optimizer="gd", hyper={"beta2": 0.9})
    with pytest.raises(chainrule.InputError, match="trajectory"):
        chainrule.train(epochs=2, trajectory=True).plot_trajectory()


def test_public_names_have_docstrings_and_hints():
    import inspect

    for name in chainrule.api.__all__:
        obj = getattr(chainrule.api, name)
        assert obj.__doc__, name
        if inspect.isfunction(obj):
            assert "return" in obj.__annotations__, name
        if inspect.isclass(obj):
            for attr, value in vars(obj).items():
                if attr.startswith("_") or not (callable(value) or isinstance(value, property)):
                    continue
                function = value.fget if isinstance(value, property) else value
                assert function.__doc__, f"{name}.{attr}"
                assert "return" in function.__annotations__, f"{name}.{attr}"
    for name in ("derive", "problem", "problem_from_id", "problem_from_givens",
                 "problem_set", "train", "Problem", "ProblemSet", "CheckReport",
                 "TrainingRun"):
        assert getattr(chainrule, name) is getattr(chainrule.api, name)


def test_problem_set_reads_back_its_folder(tmp_path):
    built = chainrule.problem_set(SPEC)
    folder = built.write(tmp_path / "set")
    assert built.folder == folder
    loaded = chainrule.problem_set(folder)
    assert loaded.key == built.key and loaded.folder == folder
    assert [p.id for p in loaded.problems] == [p.id for p in built.problems]
    assert loaded.groups == [(1, "forward"), (2, "loss_value")]
    built.to_moodle(tmp_path / "built.xml")
    loaded.to_moodle(tmp_path / "loaded.xml")
    assert (tmp_path / "built.xml").read_bytes() == (tmp_path / "loaded.xml").read_bytes()
    key = json.loads((folder / "key.json").read_text())
    key["problems"][0]["steps"][0]["value"] += 1  # a key that no longer matches its ID
    (folder / "key.json").write_text(json.dumps(key))
    with pytest.raises(chainrule.InputError, match="does not match"):
        chainrule.problem_set(folder)
    with pytest.raises(chainrule.InputError, match="read as it is"):
        chainrule.problem_set(folder, seed=3)


ODD_CALLS = {
    "family not a name": lambda: chainrule.problem(5),
    "seed as text": lambda: chainrule.problem("backprop", seed="7"),
    "fractional decimals": lambda: chainrule.problem("backprop", decimals=2.5),
    "givens not a mapping": lambda: chainrule.problem_from_givens(42),
    "givens key not a name": lambda: chainrule.problem_from_givens({1: 2}),
    "givens value a mapping": lambda: chainrule.problem_from_givens({"y": {"a": 1}}),
    "ID not text": lambda: chainrule.problem_from_id(5),
    "derive a number": lambda: chainrule.derive(5),
    "loss parameter as text": lambda: chainrule.derive("huber", delta="x"),
    "spec not a mapping": lambda: chainrule.problem_set(5),
    "versions as text": lambda: chainrule.problem_set({"problems": ["forward"]}, versions="2"),
    "epochs as text": lambda: chainrule.train(epochs="5"),
    "compare a number": lambda: chainrule.train(compare=5, epochs=2),
    "dataset a number": lambda: chainrule.train(data=5, epochs=2),
    "answers a number": lambda: chainrule.problem_from_givens(NOTES).check(5),
    "answer a list": lambda: chainrule.problem_from_givens(NOTES).check({"z1": [1]}),
    "walkthrough format": lambda: chainrule.problem_from_givens(NOTES).walkthrough("html"),
}


@pytest.mark.parametrize("name", sorted(ODD_CALLS))
def test_odd_arguments_are_input_errors_in_one_line(name):
    with pytest.raises(chainrule.InputError) as caught:
        ODD_CALLS[name]()
    assert "\n" not in str(caught.value) and str(caught.value)


@pytest.mark.slow
def test_to_pdf_compiles_every_document(tmp_path):
    from chainrule.render.pdf import TexNotFoundError

    s = chainrule.problem_set(SPEC)
    try:
        pdfs = s.to_pdf(tmp_path / "pdf")
    except TexNotFoundError:
        pytest.skip("no TeX installed")
    assert sorted(p.name for p in pdfs) == ["key.pdf", "questions-A.pdf", "questions-B.pdf",
                                           "solutions-A.pdf", "solutions-B.pdf"]
    assert all(p.read_bytes()[:5] == b"%PDF-" for p in pdfs)
    assert s.folder == tmp_path / "pdf" and (s.folder / "key.json").is_file()


def test_check_report_html_escapes_what_it_shows():
    p = chainrule.problem_from_givens(NOTES)
    html = p.check({"z1": 0.3, "a1": 0.9}, student="<script>x</script>")._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert html.count("<tr") == len(p.asked) + 1


def test_importing_the_api_loads_no_heavy_module():
    import subprocess
    import sys

    code = ("import sys, chainrule, chainrule.api; "
            "print([m for m in ('sympy', 'numpy', 'matplotlib', 'jinja2') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_formula_answers_are_checked_as_formulas():
    p = chainrule.problem("derivation", seed=1)
    assert p.formulas["delta3"] == "yhat - y"
    right = p.check({"delta3": "yhat - y", "delta1": "w13*delta3*fprime1"})
    assert right.verdicts["delta3"] == "correct" and right.verdicts["delta1"] == "correct"
    swapped = p.check({"delta3": r"y - \hat{y}"})
    assert swapped.verdicts["delta3"] == "wrong" and swapped.first_error == "delta3"
    assert right.to_dict()["steps"][0]["status"] == "correct"


def test_marks_codes_and_conventions():
    s = chainrule.problem_set({"title": "Q", "seed": 1, "versions": 2, "problems": [
        {"family": "forward", "marks": 10}, {"family": "loss_value", "options": {"loss": "mse"}}]})
    forward, loss = s.versions["A"]
    assert forward.marks == 10 and loss.marks == len(loss.asked)
    codes = [p.code for p in s.problems]
    assert all(codes) and len(set(codes)) == len(codes)
    assert {r["code"] for r in s.key["problems"]} == set(codes)
    assert all(p.code in s.files()[f"questions-{p.version}.md"] for p in s.problems)
    assert chainrule.problem("forward", seed=1).code is None
    notes = chainrule.problem_from_givens(NOTES)
    assert notes.marks == len(notes.asked)
    assert any("natural logarithm" in c for c in notes.conventions)
    assert any("rounded away from zero" in c for c in notes.conventions)
    assert all(c.split("$")[0] in notes.question() for c in notes.conventions)


def test_walkthroughs_of_many_problems_are_each_problems_walkthrough():
    from chainrule import api

    problems = [api.problem("backprop", seed=s, net="2-2-1") for s in range(12)]
    problems += [api.problem("backprop", seed=s, net="2-3-1", hidden="tanh") for s in range(4)]
    for fmt in ("md", "tex", "json"):
        assert api.walkthroughs(problems, fmt) == [p.walkthrough(fmt) for p in problems]
    assert api.walkthroughs(problems[:3], iterations=2) == [
        p.walkthrough(iterations=2) for p in problems[:3]]
    mixed = [problems[0], api.problem("forward", seed=3)]
    assert api.walkthroughs(mixed) == [p.walkthrough() for p in mixed]
    assert api.walkthroughs([]) == []
    for bad, message in [({"format": "html"}, "format 'html'"),
                         ({"iterations": 0}, "iterations: expected"),
                         ({"iterations": True}, "iterations: expected")]:
        with pytest.raises(chainrule.api.InputError, match=message):
            api.walkthroughs(problems[:1], **bad)
    with pytest.raises(chainrule.api.InputError, match="expected chainrule problems"):
        api.walkthroughs(["bp-00000C1S"])
