"""The verdict rule of `chainrule check` on the issue's cases, every expected number computed
here in Decimal or plain float (never taken from the notes or from the checker)."""

import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.api import load_problem as api_load_problem
from chainrule.check.answers import AnswerSheet, canonical_name, parse_answers
from chainrule.check.judge import judge, written_decimals
from chainrule.check.mistakes import mistake_formulas, mistake_values
from chainrule.check.notation import tex_to_text
from chainrule.cli import main
from chainrule.problems.base import make_problem
from checkoracle import chain, rnd, sheet_of

ROOT = Path(__file__).resolve().parents[1]


def load_problem(source):
    return api_load_problem(source).core

NOTES = ROOT / "examples" / "notes-2-2-1.yaml"
D = Decimal


def q(x, d=3):
    return float(D(x).quantize(D(1).scaleb(-d), rounding=ROUND_HALF_UP))


def sig(x):
    return float(1 / (1 + D(-x).exp()))


@pytest.fixture(scope="module")
def notes():
    """The notes' problem and its rounded-as-you-go chain, restated by hand in Decimal."""
    p = load_problem(str(NOTES))
    c = {}
    c["z1"] = q(D("0.2") * 1 + D("0.4") * 0 + D("0.1"))
    c["a1"] = q(sig(D(str(c["z1"]))))
    c["z2"] = q(D("0.3") * 1 + D("0.1") * 0 + D("0.2"))
    c["a2"] = q(sig(D(str(c["z2"]))))
    c["z3"] = q(D("0.7") * D(str(c["a1"])) + D("0.5") * D(str(c["a2"])) + D("0.3"))
    c["yhat"] = q(sig(D(str(c["z3"]))))
    c["L"] = q(-D(str(c["yhat"])).ln())
    c["delta3"] = q(D(str(c["yhat"])) - 1)
    c["dL_dw13"] = q(D(str(c["delta3"])) * D(str(c["a1"])))
    c["fprime1"] = q(D(str(c["a1"])) * (1 - D(str(c["a1"]))))
    return p, c


def sheet(values):
    return sheet_of(values, 3)


def upto(p, c, name):
    """The right values of every asked step before ``name`` (from the independent chain)."""
    full = chain(p.trace, p.givens, 3)
    for k, v in c.items():
        assert full[k] == v, k  # the two restatements agree
    return {n: full[n] for n in p.asked[: p.asked.index(name)]}


def steps(p, values, **kw):
    return {s.name: s for s in judge(p, sheet(values), **kw).steps}


def test_same_number_same_verdict(notes):
    """δ1 from the updated w13: δ1 wrong (named), ∂L/∂w11 and ∂L/∂b1 copying it carried."""
    p, c = notes
    w13_new = q(D("0.7") - D("0.1") * D(str(c["dL_dw13"])))
    delta1 = q(D(str(w13_new)) * D(str(c["delta3"])) * D(str(c["fprime1"])))
    assert delta1 == -0.047
    values = upto(p, c, "delta1") | {"delta1": delta1, "dL_dw11": delta1, "dL_db1": delta1}
    s = steps(p, values)
    assert s["delta1"].status == "wrong"
    assert s["delta1"].mistake == "updated_weight_in_backward"
    assert "rounded_too_early" not in s["delta1"].mistakes
    assert s["dL_dw11"].status == s["dL_db1"].status == "carried"


def test_skipped_step_is_recomputed_and_named(notes):
    p, c = notes
    delta3 = -c["delta3"]  # the sign slip
    implied = q(D(str(delta3)) * D(str(c["a1"])))
    w13_new = q(D("0.7") - D("0.1") * D(str(implied)))
    values = upto(p, c, "delta3") | {"delta3": delta3, "w13_new": w13_new}
    s = steps(p, values)
    assert s["delta3"].mistake == "error_sign"
    assert s["dL_dw13"].status == "missing"
    assert s["dL_dw13"].expected_from_your_values == implied
    assert s["w13_new"].status == "carried" and s["w13_new"].mistake is None
    assert s["w13_new"].implied == {"dL_dw13": implied}
    assert f"∂L/∂w13 = {implied}" in s["w13_new"].message
    from chainrule.check.report import render_report

    text = render_report(judge(p, sheet(values)), "text")
    assert f"from your values it would be {implied:.3f}" in text


def test_does_not_follow_shows_the_computation_in_the_notes_notation(notes):
    p, c = notes
    values = upto(p, c, "z3") | {"z3": 1.086}
    s = steps(p, values)["z3"]
    right = q(D("0.7") * D(str(c["a1"])) + D("0.5") * D(str(c["a2"])) + D("0.3"))
    assert s.status == "wrong" and s.mistakes == []
    assert s.message.startswith("does not follow")
    assert s.hint == (f"z3 = w13 a1 + w23 a2 + b3 = (0.7)({c['a1']}) + (0.5)({c['a2']}) + 0.3"
                      f" = {right:.3f}")
    assert s.hint == "z3 = w13 a1 + w23 a2 + b3 = (0.7)(0.574) + (0.5)(0.622) + 0.3 = 1.013"


def test_rounded_too_early_only_when_nothing_else_explains(notes):
    p, c = notes
    z3 = q(D("0.7") * D("0.57") + D("0.5") * D("0.62") + D("0.3"))
    s = steps(p, upto(p, c, "z3") | {"z3": z3})["z3"]
    assert s.mistakes == ["rounded_too_early"]
    assert "fewer decimals" in s.message


@pytest.mark.parametrize("trivial", [0, 1])
def test_degenerate_chain_earns_no_carried_credit(notes, trivial):
    p, c = notes
    values = upto(p, c, "a1") | {"a1": trivial}
    a1 = D(trivial)
    values["z2"], values["a2"] = c["z2"], c["a2"]
    values["z3"] = q(D("0.7") * a1 + D("0.5") * D(str(c["a2"])) + D("0.3"))
    values["yhat"] = q(sig(D(str(values["z3"]))))
    s = steps(p, values)
    assert s["a1"].status == "wrong" and "trivial" in s["a1"].message
    for name in ("z3", "yhat"):
        assert s[name].status == "carried" and s[name].points == 0.0
        assert s[name].degenerate_from == "a1"
    # the same chain from a wrong but not trivial a1 keeps its carried credit
    values["a1"] = 0.6
    values["z3"] = q(D("0.7") * D("0.6") + D("0.5") * D(str(c["a2"])) + D("0.3"))
    values["yhat"] = q(sig(D(str(values["z3"]))))
    s = steps(p, values, carried_credit=0.75)
    assert s["z3"].status == "carried" and s["z3"].points == 0.75
    assert s["z3"].degenerate_from is None


def test_a_named_mistake_that_lands_on_a_given_is_not_gaming(notes):
    """z1 without its bias is w11 x1 = 0.2 = w11, a given: an honest, named slip."""
    p, _ = notes
    z1 = q(D("0.2") * 1 + D("0.4") * 0)
    values = chain(p.trace, p.givens, 3, {"z1": z1})
    s = steps(p, {n: values[n] for n in p.asked})
    assert s["z1"].mistake == "missing_bias" and s["z1"].status == "wrong"
    assert s["a1"].status == "carried" and s["a1"].points == 1.0
    assert s["a1"].degenerate_from is None


def test_yhat_one_flags_the_loss(notes):
    p, c = notes
    values = upto(p, c, "yhat") | {"yhat": 1, "L": 0}
    s = steps(p, values)
    assert s["yhat"].status == "wrong" and s["L"].status == "carried"
    assert s["L"].points == 0.0 and s["L"].degenerate_from == "yhat"


def test_too_few_decimals_is_its_own_verdict(notes, tmp_path):
    p, c = notes
    a1_short = q(D(str(c["a1"])), 2)
    answers = AnswerSheet({}, [])
    answers.answers.update(sheet({"z1": c["z1"]}).answers)
    answers.answers.update(
        parse_answers([("a1", str(a1_short), 1)], ["a1"], {}, "s.txt").answers)
    report = judge(p, answers, decimals_credit=0.25)
    a1 = next(s for s in report.steps if s.name == "a1")
    assert a1.status == "too_few_decimals" and a1.points == 0.25
    assert "2 decimals" in a1.message and a1.mistake is None
    path = tmp_path / "a.yaml"
    path.write_text(f"z1: 0.300\na1: {a1_short}\n")
    out = CliRunner().invoke(main, ["check", str(NOTES), str(path), "--format", "json",
                                    "--decimals-credit", "0.4"])
    data = json.loads(out.output)
    assert data["steps"][0]["status"] == "correct"  # 0.300 written as 0.300
    assert data["steps"][1]["status"] == "too_few_decimals"
    assert data["score"]["points"] == 1.4


def test_a_float_has_no_written_decimals(notes):
    """A mapping of floats (the API) says nothing about decimals: 0.57 is simply wrong."""
    p, c = notes
    sheet_ = parse_answers([("z1", c["z1"], None), ("a1", 0.57, None)], ["z1", "a1"], {}, "m")
    a1 = next(s for s in judge(p, sheet_).steps if s.name == "a1")
    assert a1.status == "wrong"


def test_written_decimals():
    assert [written_decimals(t) for t in ("0.570", "0.57", "1", "-0.5", "5.7e-1", "1/2")] == [
        3, 2, 0, 1, 2, None]


def test_yaml_and_json_keep_trailing_zeros(tmp_path):
    p = load_problem(str(NOTES))
    valid = [*p.trace.givens, *p.trace.names]
    from chainrule.check.answers import read_answers

    (tmp_path / "a.yaml").write_text("z1: 0.300\na1: 0.57  # short\n")
    (tmp_path / "a.json").write_text('{"z1": 0.300, "a1": 0.57}')
    for name in ("a.yaml", "a.json"):
        sheet_ = read_answers(tmp_path / name, valid, {})
        assert sheet_.answers["z1"].text == "0.300" and sheet_.answers["a1"].text == "0.57"
        assert sheet_.answers["z1"].value == 0.3


IDENTITY_PROBLEMS = [
    ("notes", 0, {}),
    ("backprop", 1, {}),
    ("backprop", 2, {"net": "2-3-1", "hidden": "tanh"}),
    ("backprop", 7, {"net": "2-2-1", "loss": "mse"}),
    ("backprop", 3, {"net": "2-2-3", "loss": "cce"}),
    ("gd_step", 1, {"model": "logistic", "method": "minibatch"}),
]


def _problem(family, seed, options):
    return load_problem(str(NOTES)) if family == "notes" else make_problem(family, seed,
                                                                             options)


def identity_steps(p):
    """(step, source) pairs: the step's formula is the source, or the source times givens
    that equal 1 in this problem."""
    import sympy as sp

    pairs = []
    for name in p.asked:
        f = p.trace[name].formula
        factors = f.args if isinstance(f, sp.Mul) else (f,)
        steps_ = [a for a in factors if a.is_Symbol and a.name in p.trace]
        ones = [a for a in factors if a.is_Symbol and p.givens.get(a.name) == 1.0]
        if len(steps_) == 1 and len(steps_) + len(ones) == len(factors) and steps_[0].name in \
                p.asked:
            pairs.append((name, steps_[0].name))
    return pairs


@settings(max_examples=60, deadline=None)
@given(which=st.sampled_from(IDENTITY_PROBLEMS), units=st.integers(-6, 6),
       pick=st.integers(0, 50))
def test_identity_step_copies_its_source(which, units, pick):
    """An identity step (∂L/∂b_j = δ_j, ∂L/∂b = e, a step times a given equal to 1) that
    copies its source is correct exactly when the source is correct, carried otherwise."""
    p = _problem(*which)
    d = p.decimals
    right = chain(p.trace, p.givens, d)
    pairs = identity_steps(p)
    assert pairs
    target, source = pairs[pick % len(pairs)]
    value_ = rnd(right[source] + units * 10.0**-d, d)
    values = {n: right[n] for n in p.asked[: p.asked.index(source)]}
    values[source] = value_
    values[target] = value_
    s = {r.name: r for r in judge(p, sheet_of(values, d)).steps}
    verdict_source, verdict_copy = s[source].status, s[target].status
    assert (verdict_copy == "correct") == (verdict_source == "correct"), (
        p.id, target, source, units, verdict_source, verdict_copy)
    if verdict_source != "correct":
        assert verdict_copy == "carried"


def test_identity_steps_include_weights_times_one():
    p = load_problem(str(NOTES))  # x1 = 1: dL/dw11 = δ1 x1 is an identity here
    assert ("dL_dw11", "delta1") in identity_steps(p) and ("dL_db1", "delta1") in \
        identity_steps(p)


def test_a_right_input_never_leaves_a_consistent_value_wrong_or_carried(notes):
    """With every input right, a value that follows from them is correct."""
    p, c = notes
    values = upto(p, c, "L") | {"L": float(-D(str(c["yhat"])).ln())}  # unrounded
    assert steps(p, values)["L"].status == "correct"


def test_mistake_values_public_interface(notes):
    p, c = notes
    found = {mv.id: mv for mv in mistake_values(p.trace, "z3", p.rounded, 3)}
    assert found["missing_bias"].value == q(D("0.7") * D(str(c["a1"]))
                                            + D("0.5") * D(str(c["a2"])))
    assert found["missing_bias"].formula_text == "z3 = w13 a1 + w23 a2"
    assert found["missing_bias"].hint == "Add the bias: z3 = w13 a1 + w23 a2 + b3."
    assert set(found["missing_bias"].as_json()) == {"id", "step", "value", "formula",
                                                   "message", "hint"}
    ids = [m.id for m, _ in mistake_formulas(p.trace, "delta1")]
    assert "updated_weight_in_backward" in ids and "missing_activation_derivative" in ids


def test_messages_follow_the_momentum_convention():
    p = make_problem("optimizer_steps", 1, {"optimizer": "momentum", "steps": 2})
    right = chain(p.trace, p.givens, p.decimals)
    v1 = right["v_1"]
    wrong = rnd(right["theta_0"] + v1, 3)
    values = {n: right[n] for n in p.asked[: p.asked.index("theta_1")]} | {"theta_1": wrong}
    s = next(r for r in judge(p, sheet_of(values, 3)).steps if r.name == "theta_1")
    assert s.mistake == "update_sign"
    assert s.hint.startswith("Gradient descent subtracts: θ1 = θ0 - v1 = ")
    assert "η" not in s.hint


@pytest.mark.parametrize(("tex", "text"), [
    (r"\frac{\partial L}{\partial w_{13}}", "∂L/∂w13"),
    (r"w_{13} a_{1} + w_{23} a_{2} + b_{3}", "w13 a1 + w23 a2 + b3"),
    (r"w_{13} \delta_{3} \sigma'\left(z_{1}\right)", "w13 δ3 σ'(z1)"),
    (r"-\left[y \log{\left(\hat{y} \right)} + \left(1 - y\right) \log{\left(1 - \hat{y} \right)}"
     r"\right]", "-[y ln(ŷ) + (1 - y) ln(1 - ŷ)]"),
    (r"\theta_{0} - \frac{\eta \hat{m}_{1}}{\sqrt{\hat{v}_{1}} + \epsilon}",
     "θ0 - (η m̂1)/(√v̂1 + ε)"),
    (r"\frac{e^{z_{3}}}{e^{z_{3}} + e^{z_{4}}}", "e^z3/(e^z3 + e^z4)"),
    (r"\beta_{2} v_{0} + \left(1 - \beta_{2}\right) g_{1}^{2}", "β2 v0 + (1 - β2) g1²"),
    (r"w_{13}^{\text{new}}", "w13^new"),
])
def test_notation(tex, text):
    assert tex_to_text(tex) == text


def test_partial_derivative_names():
    p = load_problem(str(NOTES))
    valid = [*p.trace.givens, *p.trace.names]
    assert canonical_name("∂L/∂w13", valid, {}) == "dL_dw13"
    assert canonical_name("∂L/∂b_3", valid, {}) == "dL_db3"
    forward = make_problem("forward", 1)
    valid = [*forward.trace.givens, *forward.trace.names]
    result = parse_answers([("∂L/∂w13", "0.1", 3)], valid, {}, "s.txt")
    assert result.errors == ["s.txt: line 3: unknown step '∂L/∂w13' (this problem asks for "
                             "no derivatives)"]


def test_carried_is_explained_once(tmp_path):
    out = CliRunner().invoke(main, ["check", str(NOTES), str(ROOT / "examples" /
                                                               "notes-answers.txt")])
    assert out.output.count("follows correctly from your own earlier numbers") == 1
    md = CliRunner().invoke(main, ["check", str(NOTES), str(ROOT / "examples" /
                                                            "notes-answers.txt"),
                                   "--format", "md"]).output
    assert md.count("follows correctly from your own earlier numbers") == 1


def test_class_report_and_plot(tmp_path, notes):
    p, _ = notes
    right = chain(p.trace, p.givens, 3)
    header = "id," + ",".join(p.asked)
    rows = [header]
    for i in range(3):
        v = dict(right)
        if i:
            v = chain(p.trace, p.givens, 3, {"delta3": -right["delta3"]})
        if i == 2:
            v = chain(p.trace, p.givens, 3, {"delta3": -right["delta3"], "z1": 0.2})
        rows.append(f"s{i}," + ",".join(f"{v[n]:.3f}" for n in p.asked))
    (tmp_path / "class.csv").write_text("\n".join(rows) + "\n")
    plot = tmp_path / "rates.png"
    out = CliRunner().invoke(main, ["check", str(NOTES), str(tmp_path / "class.csv"),
                                    "--batch", "--format", "json", "--plot", str(plot)])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    by_id = {m["mistake"]: m for m in data["mistakes"]}
    assert by_id["missing_bias"] == {"mistake": "missing_bias", "students": 1,
                                     "steps": [["z1", 1]]}
    assert by_id["error_sign"]["students"] == 1  # s2's delta3 follows from its own z1
    assert {"step": "z1", "students": 1} in data["most_wrong_steps"]
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 5000
    again = CliRunner().invoke(main, ["check", str(NOTES), str(tmp_path / "class.csv"),
                                      "--batch", "--plot", str(plot)])
    assert again.exit_code == 2 and "exists" in again.output
    alone = CliRunner().invoke(main, ["check", str(NOTES), str(tmp_path / "class.csv"),
                                      "--plot", str(tmp_path / "x.png")])
    assert alone.exit_code == 2 and not (tmp_path / "x.png").exists()


def test_readme_lists_the_catalogue():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("The catalogue (`chainrule.check.mistakes`"):
                   text.index("`mistake_values(trace")]
    import re

    listed = re.findall(r"`([a-z0-9_]+)`", section)
    from chainrule.check.mistakes import MISTAKES

    assert sorted(listed) == sorted(MISTAKES)
