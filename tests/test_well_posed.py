"""Questions a teacher prints unchanged: every convention stated, only well-posed problems,
drawn numbers safe to round by hand, parallel versions, marks, short codes for students.

The hazard oracle restates the notes' 2-2-1 sigmoid/BCE backpropagation in plain Decimal
arithmetic (rounded as a student goes, half away from zero) and measures each value's
distance to a rounding tie itself.
"""

from __future__ import annotations

import json
import math
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from chainrule.cli import main
from chainrule.errors import ChainruleError
from chainrule.problems.base import (
    FAMILIES,
    TIE_MARGIN,
    _load_families,
    get_family,
    make_problem,
    make_problems,
)
from chainrule.problems.spec import build_set, load_spec
from chainrule.render.problemset import render_set

ROOT = Path(__file__).resolve().parents[1]


def question(family: str, options: dict, seed: int = 1) -> str:
    return render_set([make_problem(family, seed, options)], "questions", "md", title="t")


# -- 1. every convention the key depends on is in the question -------------------------------
NETWORK_CASES = [
    # (options, fragments every such question must contain)
    ({"loss": "mse", "output": "linear"}, [r"L = (y - \hat{y})^{2}", "no factor"]),
    ({"loss": "mse", "mse_half": True, "output": "linear"},
     [r"\frac{1}{2}(y - \hat{y})^{2}"]),
    ({"loss": "mae", "output": "tanh"}, [r"|y - \hat{y}|"]),
    ({"loss": "huber", "huber_delta": 0.5, "output": "linear"},
     [r"\delta = 0.5", r"\frac{1}{2}\delta^{2}"]),
    ({"loss": "huber", "huber_half": False, "output": "linear"},
     [r"\delta = 1", "no factors", r"2\delta"]),
    ({"loss": "bce"}, [r"y \in \lbrace 0, 1 \rbrace", "natural logarithm"]),
    ({"loss": "hinge", "output": "linear"}, [r"y \in \lbrace -1, 1 \rbrace",
                                             "the notes do not fix one"]),
    ({"loss": "hinge", "hinge_labels": "01", "output": "tanh"}, ["2y - 1"]),
    ({"net": "2-2-2", "loss": "cce"}, ["one-hot", "natural logarithm"]),
    ({"net": "2-2-2", "loss": "kl"}, [r"D_{KL}(y \parallel \hat{y})", "natural logarithm"]),
    ({"net": "2-2-2", "loss": "kl", "kl_direction": "reverse"},
     [r"D_{KL}(\hat{y} \parallel y)"]),
    ({"net": "2-2-2", "loss": "lsce"}, [r"\varepsilon = 0.1", "natural logarithm"]),
    ({"net": "2-2-2", "loss": "lsce", "lsce_epsilon": 0.2}, [r"\varepsilon = 0.2"]),
    ({"net": "2-2-2", "loss": "mse", "output": "sigmoid"},
     ["sum of the outputs' losses", r"L = L_{1} + \dots + L_{2}"]),
]


@pytest.mark.parametrize("family", ["forward", "backprop"])
@pytest.mark.parametrize(("options", "fragments"), NETWORK_CASES)
def test_network_questions_state_the_loss_conventions(family, options, fragments):
    text = question(family, options)
    for fragment in fragments:
        assert fragment in text, (options, fragment)
    assert "rounded away from zero" in text
    assert (r"\delta_{j} = \partial L / \partial z_{j}" in text) == (family == "backprop")


@pytest.mark.parametrize("family", ["forward", "backprop"])
def test_network_questions_say_the_numbering_for_the_drawn_net(family):
    # In 2-3-1, w13 runs from input 1 to hidden neuron 3; in 2-2-1 from neuron 1 to 3.
    text = question(family, {"net": "2-3-1", "loss": "mse"})
    assert r"$`w_{13}`$ joins input $`x_{1}`$ to neuron 3" in text
    assert r"$`w_{14}`$ joins neuron 1 to neuron 4" in text
    assert "hidden neurons 1, 2 and 3; output neuron 4" in text
    text = question(family, {"net": "2-2-1"})
    assert r"$`w_{12}`$ joins input $`x_{1}`$ to neuron 2" in text
    assert r"$`w_{13}`$ joins neuron 1 to neuron 3" in text


LOSS_FAMILY_CASES = [
    ({"loss": "mse", "mse_half": True}, [r"\frac{1}{2}(y - \hat{y})^{2}"]),
    ({"loss": "huber", "huber_delta": 1.5}, [r"\delta = 1.5"]),
    ({"loss": "hinge", "hinge_labels": "01"}, ["2y - 1"]),
    ({"loss": "kl", "kl_direction": "reverse"}, [r"D_{KL}(\hat{y} \parallel y)"]),
    ({"loss": "lsce", "lsce_epsilon": 0.2}, [r"\varepsilon = 0.2", "natural logarithm"]),
    ({"loss": "bce"}, ["natural logarithm"]),
]


@pytest.mark.parametrize("family", ["loss_value", "loss_derivative", "cost"])
@pytest.mark.parametrize(("options", "fragments"), LOSS_FAMILY_CASES)
def test_loss_questions_state_the_conventions(family, options, fragments):
    if family == "cost" and options["loss"] in ("kl", "lsce"):
        pytest.skip("not a cost loss")
    text = question(family, options)
    for fragment in fragments:
        assert fragment in text, (family, options, fragment)


def test_every_family_states_how_to_round():
    _load_families()
    for name in FAMILIES:
        text = question(name, {})
        if name == "derivation":  # formulas only: nothing to round, the numbering stated
            assert "numbered in layer order" in text and "away from zero" not in text
            continue
        if name == "concept":
            continue
        p = make_problem(name, 1, {})
        assert f"Round every value to {p.decimals} decimals" in text, name
        assert "rounded away from zero" in text, name


# -- 2. ill-posed pairs are refused; probabilities never round to 0 or 1 ----------------------
@pytest.mark.parametrize(("loss", "output"), [
    ("bce", "linear"), ("bce", "tanh"), ("cce", "sigmoid"), ("kl", "linear"),
    ("lsce", "tanh"), ("cce", "linear")])
def test_undefined_loss_and_output_pairs_are_refused(loss, output):
    for family in ("forward", "backprop"):
        with pytest.raises(ChainruleError, match=f"loss '{loss}' needs"):
            get_family(family).parse_options({"net": "2-2-2", "loss": loss, "output": output})


@pytest.mark.parametrize(("loss", "output"), [
    ("mse", "linear"), ("mse", "sigmoid"), ("mse", "tanh"), ("mae", "tanh"),
    ("huber", "sigmoid"), ("hinge", "linear"), ("hinge", "tanh")])
def test_defined_pairs_are_allowed(loss, output):
    p = make_problem("backprop", 3, {"loss": loss, "output": output})
    assert all(math.isfinite(v) for v in p.exact.values())


def test_spec_with_an_undefined_pair_names_the_line(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("title: T\nproblems:\n  - family: forward\n"
                    "    options: {loss: bce, output: linear}\n")
    result = CliRunner().invoke(main, ["generate", str(spec), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "line 4" in result.output and "needs" in result.output
    assert not (tmp_path / "o").exists()


def test_no_probability_rounds_to_0_or_1_even_at_one_decimal():
    family = get_family("backprop")
    for loss, net in (("bce", "2-2-1"), ("cce", "2-2-3")):
        options = family.parse_options({"net": net, "loss": loss})
        for p in make_problems([(family, s, options, 1, None) for s in range(200)]):
            assert p.decimals >= 2
            outs = p.trace.meta["network"].outputs
            for o in outs:
                assert 0 < p.rounded[o] < 1, (p.id, o)


# -- 3. drawn numbers safe to work by hand ----------------------------------------------------
def _round(x: Decimal, d: int) -> Decimal:
    return x.quantize(Decimal(1).scaleb(-d), rounding=ROUND_HALF_UP)


def _tie_distance(x: Decimal, d: int) -> Decimal:
    """Distance of x to the nearest rounding tie at d decimals, in units of the last one."""
    scaled = abs(x) * Decimal(10) ** d
    return abs(scaled - scaled.to_integral_value(rounding="ROUND_FLOOR") - Decimal("0.5"))


def _sigma(z: Decimal) -> Decimal:
    return 1 / (1 + (-z).exp())


def hand_chain(g: dict[str, float], d: int) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """The notes' 2-2-1 sigmoid/BCE walkthrough, each value before rounding (from rounded
    inputs) and the exact chain: returns (raw, exact)."""
    v = {k: Decimal(repr(x)) for k, x in g.items()}
    out: list[dict[str, Decimal]] = []
    for rounding in (True, False):
        r = (lambda x: _round(x, d)) if rounding else (lambda x: x)
        raw: dict[str, Decimal] = {}
        s: dict[str, Decimal] = {}

        def put(name: str, value: Decimal, s=s, raw=raw, r=r) -> Decimal:
            raw[name] = value
            s[name] = r(value)
            return s[name]

        for j in (1, 2):
            put(f"z{j}", v[f"w1{j}"] * v["x1"] + v[f"w2{j}"] * v["x2"] + v[f"b{j}"])
            put(f"a{j}", _sigma(s[f"z{j}"]))
        put("z3", v["w13"] * s["a1"] + v["w23"] * s["a2"] + v["b3"])
        put("yhat", _sigma(s["z3"]))
        y = v["y"]
        put("L", -(y * s["yhat"].ln() + (1 - y) * (1 - s["yhat"]).ln()))
        put("delta3", s["yhat"] - y)
        for j in (1, 2):
            put(f"fprime{j}", s[f"a{j}"] * (1 - s[f"a{j}"]))
            put(f"delta{j}", v[f"w{j}3"] * s["delta3"] * s[f"fprime{j}"])
        grads = {"w13": ("delta3", "a1"), "w23": ("delta3", "a2"), "b3": ("delta3", None)}
        for j in (1, 2):
            grads.update({f"w1{j}": (f"delta{j}", "x1"), f"w2{j}": (f"delta{j}", "x2"),
                          f"b{j}": (f"delta{j}", None)})
        for p, (delta, source) in grads.items():
            factor = Decimal(1) if source is None else s.get(source, v.get(source))
            put(f"dL_d{p}", s[delta] * factor)
        for p in grads:
            put(f"{p}_new", v[p] - v["eta"] * s[f"dL_d{p}"])
        out.append(raw if rounding else s)
    return out[0], out[1]


@pytest.mark.slow
def test_no_drawn_hazard_across_2000_walkthrough_seeds():
    family = get_family("backprop")
    options = family.parse_options({})
    problems = make_problems([(family, seed, options, 3, None) for seed in range(2000)])
    margin = Decimal(repr(TIE_MARGIN))
    with localcontext() as ctx:
        ctx.prec = 40
        for p in problems:
            assert p.givens["x1"] != 0 and p.givens["x2"] != 0, p.id
            raw, exact = hand_chain(p.givens, 3)
            for name in p.asked:
                assert _tie_distance(raw[name], 3) >= margin, (p.id, name, raw[name])
                assert _tie_distance(exact[name], 3) >= margin, (p.id, name, exact[name])
                assert float(_round(raw[name], 3)) == p.rounded[name], (p.id, name)
                if name.startswith(("delta", "dL_d")):
                    # two significant digits at three decimals
                    assert abs(_round(raw[name], 3)) >= Decimal("0.010"), (p.id, name)
                    assert abs(exact[name]) >= Decimal("0.010"), (p.id, name)


def test_zero_inputs_only_when_asked():
    family = get_family("backprop")
    plain = make_problems([(family, s, family.parse_options({}), 3, None) for s in range(300)])
    assert all(p.givens[x] != 0 for p in plain for x in ("x1", "x2"))
    asked = make_problems([(family, s, family.parse_options({"zero_input": True}), 3, None)
                           for s in range(300)])
    assert any(p.givens[x] == 0 for p in asked for x in ("x1", "x2"))


def test_relu_deltas_may_be_exactly_zero_but_never_tiny():
    family = get_family("backprop")
    options = family.parse_options({"hidden": "relu", "net": "2-3-1"})
    problems = make_problems([(family, s, options, 3, None) for s in range(150)])
    zero = 0
    for p in problems:
        for name in p.asked:
            if name.startswith(("delta", "dL_d")):
                value = p.rounded[name]
                assert value == 0 or abs(value) >= 0.01, (p.id, name, value)
                zero += value == 0
    assert zero > 0  # inactive ReLU units do occur


def test_networks_too_big_to_work_by_hand_are_refused():
    with pytest.raises(ChainruleError, match="too big to work by hand"):
        get_family("backprop").parse_options({"net": "5-5-5-5", "loss": "cce"})
    get_family("backprop").parse_options({"net": "2-3-3-2", "loss": "cce"})


# -- 4. parallel versions; 7. marks; 9. short codes -------------------------------------------
def test_versions_ask_the_same_thing_at_each_position(tmp_path):
    spec = load_spec(str(ROOT / "examples" / "exam.yaml"))
    spec.versions = 3
    sets = build_set(spec)
    a, b, c = sets["A"], sets["B"], sets["C"]
    for pa, pb, pc in zip(a, b, c, strict=True):
        assert pa.family == pb.family == pc.family
        # the same options at each position; a concept position asks a different question
        # of the bank in each version (no question repeats within a set)
        same = [{k: v for k, v in q.options.items() if k != "item"} for q in (pa, pb, pc)]
        assert same[0] == same[1] == same[2], (pa.id, pb.id)
        if pa.trace is not None:
            assert pa.givens != pb.givens
            assert len(pa.asked) == len(pb.asked) == len(pc.asked)
    # the loss pool of problem 6 (bce, cce, huber) is drawn once for the position
    losses = {p.context["loss"] for p in (a[5], b[5], c[5])}
    assert len(losses) == 1


def test_option_pools_still_vary_between_positions(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("title: T\nseed: 4\nversions: 2\nproblems:\n  - family: loss_value\n"
                    "    count: 12\n    options: {loss: 'mse,bce,cce,huber'}\n")
    sets = build_set(load_spec(str(spec)))
    assert len({p.context["loss"] for p in sets["A"]}) >= 3
    assert [p.context["loss"] for p in sets["A"]] == [p.context["loss"] for p in sets["B"]]


def test_marks_from_the_spec_or_one_per_asked_value(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("title: T\nseed: 4\nproblems:\n  - family: backprop\n    marks: 12\n"
                    "  - family: lr_schedule\n  - family: concept\n")
    result = CliRunner().invoke(main, ["generate", str(spec), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    key = json.loads((tmp_path / "o" / "key.json").read_text())
    marks = [p["marks"] for p in key["problems"]]
    assert marks[0] == 12
    assert marks[1] == len(key["problems"][1]["steps"]) and marks[2] == 1
    questions = (tmp_path / "o" / "questions.md").read_text()
    assert "(12 marks)" in questions and f"({marks[1]} marks)" in questions
    assert "(1 mark)" in questions
    assert "12~mark" in (tmp_path / "o" / "key.tex").read_text()
    spec.write_text("title: T\nproblems:\n  - family: forward\n    marks: 0\n")
    bad = CliRunner().invoke(main, ["generate", str(spec), "--out", str(tmp_path / "p")])
    assert bad.exit_code == 2 and "marks" in bad.output


def test_students_see_short_codes_and_check_resolves_them(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("title: T\nseed: 9\nversions: 2\nproblems:\n  - family: backprop\n"
                    "    options: {net: 2-3-1, hidden: tanh, loss: mse}\n  - family: gd_step\n"
                    "    options: {method: minibatch, points: 5}\n")
    out = tmp_path / "o"
    assert CliRunner().invoke(main, ["generate", str(spec), "--out", str(out)]).exit_code == 0
    key = json.loads((out / "key.json").read_text())
    for p in key["problems"]:
        for kind in ("questions", "solutions"):
            for ext in ("md", "tex"):
                text = (out / f"{kind}-{p['version']}.{ext}").read_text()
                assert p["code"] in text
                assert p["id"].split("~")[0] not in text, (kind, ext)
        assert len(p["code"]) <= 11
    first = key["problems"][0]
    answers = tmp_path / "a.txt"
    answers.write_text(f"z1 = {first['steps'][0]['rounded']}\n")
    for source in (out, out / "key.json"):
        result = CliRunner().invoke(main, ["check", str(source), str(answers), "--problem",
                                           first["code"].lower(), "--format", "json"])
        assert result.exit_code == 0, result.output
        assert first["id"] in result.output
    bare = CliRunner().invoke(main, ["check", first["code"], str(answers)])
    assert bare.exit_code == 2 and "key.json" in bare.output


def test_sgdr_asks_t_cur_and_t_i_as_steps_of_the_key():
    p = make_problem("lr_schedule", 5, {"schedule": "sgdr"})
    epochs = [int(n.split("_")[1]) for n in p.asked if n.startswith("eta_")]
    for t in epochs:
        assert f"T_cur_{t}" in p.asked and f"T_i_{t}" in p.asked
        # a plain restatement: walk the cycles
        t_cur, t_i, g = t, p.givens["T_0"], p.givens
        while t_cur >= t_i:
            t_cur -= t_i
            t_i *= g["T_mult"]
        assert (p.exact[f"T_cur_{t}"], p.exact[f"T_i_{t}"]) == (t_cur, t_i)
    names = [s["name"] for s in p.key()["steps"]]
    assert all(n in names for n in p.asked)


def test_every_asked_value_is_a_key_step():
    _load_families()
    for name in FAMILIES:
        p = make_problem(name, 2, {})
        steps = {s["name"] for s in p.key()["steps"]}
        assert steps == set(p.asked), name
        if p.trace is not None:
            assert set(p.asked) <= set(p.trace.names)
            assert not set(p.asked) & set(p.givens)


def test_rejection_is_measured():
    from chainrule.problems import base

    before = dict((k, list(v)) for k, v in base.DRAW_COUNTS.items())
    make_problems([(get_family("backprop"), s, get_family("backprop").parse_options({}), 3,
                    None) for s in range(50)])
    drawn, accepted = (np.array(base.DRAW_COUNTS["backprop"])
                       - np.array(before.get("backprop", [0, 0])))
    assert accepted == 50 and drawn >= accepted
