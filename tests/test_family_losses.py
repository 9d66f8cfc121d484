"""Loss problem families (loss_value, cost, loss_derivative) against an independent oracle.

The oracle restates every loss of the notes (sections 1-4) from scratch in ``decimal``
arithmetic (28 digits, natural logs with ``Decimal.ln``), reading the conventions from the
problem's options, never from chainrule's loss module. The exact chain is computed from the
givens; the rounded chain recomputes each step from the oracle's own rounded earlier values
and rounds it ROUND_HALF_UP to the problem's decimals, as a student with a calculator does.
Derivatives are also checked against central finite differences of the restated loss.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pytest

from chainrule.errors import ChainruleError
from chainrule.problems.base import get_family, make_problem, make_problems, problem_from_id
from chainrule.problems.families.losses import COST_LOSSES, VALUE_LOSSES, value_trace
from chainrule.render.environment import tex_escape
from chainrule.render.problemset import render_set

VARIANTS = 1200
FAMILIES = ("loss_value", "cost", "loss_derivative")
H = 1e-6

D = Decimal
Values = dict[str, Decimal]
StepFn = Callable[[Values], Decimal]


# -- drawing many variants with varied options ---------------------------------------------
def random_options(rng: np.random.Generator, family: str) -> tuple[dict[str, Any], int]:
    """Raw options (as text, the way a spec or an ID gives them) and decimals."""
    losses = COST_LOSSES if family == "cost" else VALUE_LOSSES
    raw: dict[str, Any] = {}
    roll = rng.random()
    if roll < 0.4:
        raw["loss"] = str(rng.choice(losses))
    elif roll < 0.6:
        raw["loss"] = ",".join(rng.choice(losses, size=3, replace=False))
    if rng.random() < 0.5:
        raw["classes"] = str(rng.integers(2, 6))
    if rng.random() < 0.3:
        raw["mse_half"] = "true"
    if rng.random() < 0.4:
        raw["huber_delta"] = str(rng.choice(["0.5", "1.5", "0.25", "2"]))
    if rng.random() < 0.3:
        raw["huber_half"] = "false"
    if rng.random() < 0.3:
        raw["hinge_labels"] = "01"
    if family != "cost":
        if rng.random() < 0.3:
            raw["kl_direction"] = "reverse"
        if rng.random() < 0.3:
            raw["lsce_epsilon"] = str(rng.choice(["0", "0.2", "0.15"]))
    if family == "cost" and rng.random() < 0.5:
        raw["points"] = str(rng.integers(3, 7))
    decimals = int(rng.choice([3, 3, 2, 4, 1]))
    return raw, decimals


def requests_for(family_name: str, count: int, seed: int):
    family = get_family(family_name)
    rng = np.random.default_rng(seed)
    requests = []
    for i in range(count):
        raw, decimals = random_options(rng, family_name)
        requests.append((family, 10_000 + i, family.parse_options(raw), decimals, None))
    return requests


@pytest.fixture(scope="module")
def variants() -> dict[str, list]:
    """VARIANTS problems of each family, each family generated in one batch."""
    return {name: make_problems(requests_for(name, VARIANTS, seed))
            for seed, name in enumerate(FAMILIES)}


# -- the oracle: the notes' losses restated ---------------------------------------------------
def dec(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def round_half_up(value: Decimal, decimals: int) -> Decimal:
    result = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return abs(result) if result.is_zero() else result


def sign(x: Decimal) -> Decimal:
    return D(1) if x > 0 else D(-1) if x < 0 else D(0)


def hinge_label(y: Decimal, options: dict[str, Any]) -> Decimal:
    return 2 * y - 1 if options["hinge_labels"] == "01" else y


def point_loss(key: str, options: dict[str, Any], y: list, p: list) -> Decimal:
    """L of one point (any number type with +, *, ln): the formulas of the notes."""
    if key == "mse":
        return (y[0] - p[0]) ** 2 * (D("0.5") if options["mse_half"] else 1)
    if key == "mae":
        return abs(y[0] - p[0])
    if key == "huber":
        r, delta = abs(y[0] - p[0]), dec(options["huber_delta"])
        scale = 1 if options["huber_half"] else 2
        return scale * (r**2 / 2 if r < delta else delta * r - delta**2 / 2)
    if key == "bce":
        return -(y[0] * p[0].ln() + (1 - y[0]) * (1 - p[0]).ln())
    if key == "hinge":
        return max(D(0), 1 - hinge_label(y[0], options) * p[0])
    return sum((class_term(key, options, t, q, len(y)) for t, q in zip(y, p, strict=True)), D(0))


def smoothed(options: dict[str, Any], t: Decimal, classes: int) -> Decimal:
    eps = dec(options["lsce_epsilon"])
    return (1 - eps) * t + eps / classes


def class_term(key: str, options: dict[str, Any], t: Decimal, q: Decimal, classes: int) -> Decimal:
    if key == "cce":
        return -t * q.ln()
    if key == "kl":
        if options["kl_direction"] == "reverse":
            return q * (q / t).ln()
        return t * (t / q).ln()
    if key == "lsce":
        return -smoothed(options, t, classes) * q.ln()
    raise AssertionError(key)


def point_derivative(key: str, options: dict[str, Any], y: list, p: list, k: int) -> Decimal:
    """dL/dyhat_k of one point, differentiated by hand."""
    t, q = y[k], p[k]
    if key == "mse":
        return (q - t) * (1 if options["mse_half"] else 2)
    if key == "mae":
        return sign(q - t)
    if key == "huber":
        delta, scale = dec(options["huber_delta"]), 1 if options["huber_half"] else 2
        return scale * ((q - t) if abs(q - t) < delta else delta * sign(q - t))
    if key == "bce":
        return -t / q + (1 - t) / (1 - q)
    if key == "hinge":
        label = hinge_label(t, options)
        return -label if 1 - label * q > 0 else D(0)
    if key == "cce":
        return -t / q
    if key == "kl":
        return (q / t).ln() + 1 if options["kl_direction"] == "reverse" else -t / q
    if key == "lsce":
        return -smoothed(options, t, len(y)) / q
    raise AssertionError(key)


def point_data(p, suffix: str = "") -> tuple[list[Decimal], list[Decimal]]:
    """Targets and predictions of a point from the givens (scalar y/yhat or per class)."""
    g = p.givens
    if f"y{suffix}" in g:
        return [dec(g[f"y{suffix}"])], [dec(g[f"yhat{suffix}"])]
    k, ys, ps = 1, [], []
    while f"y{suffix}{k}" in g:
        ys.append(dec(g[f"y{suffix}{k}"]))
        ps.append(dec(g[f"yhat{suffix}{k}"]))
        k += 1
    return ys, ps


def expected_steps(p) -> list[tuple[str, StepFn]]:
    """Each step the problem should ask for, as a function of the values so far."""
    key, options = p.context["loss"], p.options
    if p.family == "cost":
        steps: list[tuple[str, StepFn]] = []
        n = 1
        while f"y{n}" in p.givens or f"y{n}1" in p.givens:
            ys, ps = point_data(p, str(n))
            steps.append((f"L{n}", lambda v, ys=ys, ps=ps: point_loss(key, options, ys, ps)))
            n += 1
        names = [name for name, _ in steps]
        steps.append(("J", lambda v: sum((v[m] for m in names), D(0)) / len(names)))
        return steps
    ys, ps = point_data(p)
    if p.family == "loss_derivative":
        names = ["dL_dyhat"] if len(ys) == 1 else [f"dL_dyhat{k + 1}" for k in range(len(ys))]
        return [(name, lambda v, k=k: point_derivative(key, options, ys, ps, k))
                for k, name in enumerate(names)]
    if len(ys) == 1:
        return [("L", lambda v: point_loss(key, options, ys, ps))]
    classes = len(ys)
    steps = []
    if key == "lsce":
        eps = dec(options["lsce_epsilon"])
        for k in range(classes):
            steps.append((f"ytilde{k + 1}", lambda v, k=k: (1 - eps) * ys[k] + eps / classes))
        for k in range(classes):
            steps.append((f"term{k + 1}", lambda v, k=k: -v[f"ytilde{k + 1}"] * ps[k].ln()))
    else:
        for k in range(classes):
            steps.append((f"term{k + 1}",
                          lambda v, k=k: class_term(key, options, ys[k], ps[k], classes)))
    terms = [f"term{k + 1}" for k in range(classes)]
    steps.append(("L", lambda v: sum((v[t] for t in terms), D(0))))
    return steps


def oracle(p) -> tuple[Values, Values]:
    """(exact, rounded) values of every step the oracle expects."""
    exact: Values = {}
    rounded: Values = {}
    for name, fn in expected_steps(p):
        exact[name] = fn(exact)
        rounded[name] = round_half_up(fn(rounded), p.decimals)
    return exact, rounded


# -- key values ----------------------------------------------------------------------------
@pytest.mark.parametrize("family", FAMILIES)
def test_every_key_value_matches_the_oracle(variants, family):
    problems = variants[family]
    assert len(problems) >= 1000
    for p in problems:
        exact, rounded = oracle(p)
        assert list(p.asked) == list(exact), p.id
        for name in p.asked:
            assert math.isclose(p.exact[name], float(exact[name]), rel_tol=1e-9, abs_tol=1e-12), (
                p.id, name, p.exact[name], exact[name])
            assert p.rounded[name] == float(rounded[name]), (
                p.id, name, p.rounded[name], rounded[name])


@pytest.mark.parametrize("family", FAMILIES)
def test_variants_cover_every_loss_and_convention(variants, family):
    problems = variants[family]
    losses = {p.context["loss"] for p in problems}
    assert losses == set(COST_LOSSES if family == "cost" else VALUE_LOSSES)
    huber = [p for p in problems if p.context["loss"] == "huber"]
    pieces = {piece["piece"] for p in huber for piece in p.context["pieces"]}
    assert pieces == {"quadratic", "linear"}
    # One decimal is raised to the families' minimum of two; Huber with delta = 0.25 shows
    # its constant delta^2/2 = 0.03125 whole (five decimals).
    assert {p.decimals for p in problems} == {2, 3, 4, 5}
    for p in problems:
        if p.context["loss"] == "huber" and p.options["huber_delta"] == 0.25:
            assert p.decimals >= (5 if p.options["huber_half"] else 4)
    if family == "cost":
        assert {p.context["points"] for p in problems} == {3, 4, 5, 6}


def decimals_of(value: float) -> int:
    return max(0, -dec(value).normalize().as_tuple().exponent)


@pytest.mark.parametrize("family", FAMILIES)
def test_givens_are_good_to_work_by_hand(variants, family):
    for p in variants[family]:
        key = p.context["loss"]
        points = [""] if family != "cost" else [str(i) for i in range(1, p.context["points"] + 1)]
        for suffix in points:
            ys, ps = point_data(p, suffix)
            if key in ("mse", "mae", "huber"):
                assert all(decimals_of(v) <= 1 and abs(v) <= 2 for v in ys + ps)
                assert ys[0] != ps[0]
                if key == "huber":
                    assert abs(ys[0] - ps[0]) != dec(p.options["huber_delta"])
            elif key == "bce":
                assert ys[0] in (0, 1) and D("0.05") <= ps[0] <= D("0.95")
                assert decimals_of(ps[0]) <= 2
            elif key == "hinge":
                labels = (0, 1) if p.options["hinge_labels"] == "01" else (-1, 1)
                assert ys[0] in labels and decimals_of(ps[0]) <= 1
                assert 1 - hinge_label(ys[0], p.options) * ps[0] != 0
            else:
                assert len(ys) == p.options["classes"]
                assert sum(ps) == 1 and min(ps) >= D("0.05")
                assert all(decimals_of(v) <= 2 for v in ps)
                if key == "kl":
                    assert sum(ys) == 1 and min(ys) >= D("0.1")
                else:
                    assert sorted(ys) == [0] * (len(ys) - 1) + [1]


def loss_float(key: str, options: dict[str, Any], ys: list[float], ps: list[float]) -> float:
    """The restated loss in floats, for finite differences."""
    if key in ("cce", "kl", "lsce"):
        total = 0.0
        for t, q in zip(ys, ps, strict=True):
            if key == "cce":
                total -= t * math.log(q)
            elif key == "lsce":
                eps = float(options["lsce_epsilon"])
                total -= ((1 - eps) * t + eps / len(ys)) * math.log(q)
            elif options["kl_direction"] == "reverse":
                total += q * math.log(q / t)
            else:
                total += t * math.log(t / q)
        return total
    return float(point_loss(key, options, [dec(ys[0])], [D(repr(ps[0]))]))


def test_derivatives_match_central_finite_differences(variants):
    for p in variants["loss_derivative"]:
        key = p.context["loss"]
        ys, ps = (list(map(float, v)) for v in point_data(p))
        for k, name in enumerate(p.asked):
            up, down = list(ps), list(ps)
            up[k] += H
            down[k] -= H
            slope = (loss_float(key, p.options, ys, up)
                     - loss_float(key, p.options, ys, down)) / (2 * H)
            assert math.isclose(p.exact[name], slope, rel_tol=1e-6, abs_tol=1e-6), (
                p.id, name, p.exact[name], slope)


# -- the notes and exact formulas ------------------------------------------------------------
def test_squared_error_example_of_the_notes():
    # Section 1: predicted 0.8, actual 1.0, squared error (0.8 - 1.0)^2 = 0.04.
    trace = value_trace("mse", (("half", False),), 1)
    assert trace.evaluate({"y": 1.0, "yhat": 0.8}, 3)["L"] == pytest.approx(0.04)


@pytest.mark.parametrize(
    ("family", "options", "step", "formula"),
    [
        ("loss_value", {"loss": "cce"}, "term1", r"- y_{1} \log{\left(\hat{y}_{1} \right)}"),
        ("loss_value", {"loss": "cce"}, "L", r"\ell_{1} + \ell_{2} + \ell_{3}"),
        ("loss_value", {"loss": "lsce"}, "ytilde2",
         r"\left(1 - \varepsilon\right) y_{2} + \frac{\varepsilon}{K}"),
        ("loss_value", {"loss": "kl"}, "term3",
         r"y_{3} \log{\left(\frac{y_{3}}{\hat{y}_{3}} \right)}"),
        ("loss_value", {"loss": "bce"}, "L",
         r"-\left[y \log{\left(\hat{y} \right)} + \left(1 - y\right) "
         r"\log{\left(1 - \hat{y} \right)}\right]"),
        ("cost", {"loss": "mse", "points": 3}, "J", r"\frac{L_{1} + L_{2} + L_{3}}{3}"),
        ("cost", {"loss": "mae", "points": 4}, "L4", r"\left|{y_{4} - \hat{y}_{4}}\right|"),
        ("loss_derivative", {"loss": "bce"}, "dL_dyhat",
         r"\frac{1 - y}{1 - \hat{y}} - \frac{y}{\hat{y}}"),
        ("loss_derivative", {"loss": "kl", "kl_direction": "reverse"}, "dL_dyhat2",
         r"1 + \log{\left(\frac{\hat{y}_{2}}{y_{2}} \right)}"),
    ],
)
def test_step_formulas_read_like_the_notes(family, options, step, formula):
    p = make_problem(family, 5, options)
    assert p.trace.formula_tex(step) == formula


def test_huber_is_written_as_the_notes_write_it():
    for seed in range(40):
        p = make_problem("loss_value", seed, {"loss": "huber"})
        formula = p.trace.formula_tex("L")
        if p.context["pieces"][0]["piece"] == "linear":
            assert formula == (r"\delta \left|{y - \hat{y}}\right| - \frac{\delta^{2}}{2}")
        else:
            assert formula == r"\frac{\left(y - \hat{y}\right)^{2}}{2}"
    assert p.context["point_tex"].startswith(
        r"\begin{cases} \frac{\left(y - \hat{y}\right)^{2}}{2} & \text{for}\: "
        r"\left|{y - \hat{y}}\right| < \delta")


def test_general_derivative_is_shown_and_stated_in_the_solution():
    p = make_problem("loss_derivative", 3, {"loss": "bce"})
    assert p.context["derivative_tex"] == r"\frac{1 - y}{1 - \hat{y}} - \frac{y}{\hat{y}}"
    text = render_set([p], "solutions", "md", title="t")
    assert r"\frac{\partial L}{\partial \hat{y}} = \frac{1 - y}{1 - \hat{y}}" in text


# -- determinism and IDs ---------------------------------------------------------------------
def snapshot(p) -> tuple:
    return (p.id, p.title, p.decimals, p.givens, p.exact, p.rounded, p.asked, p.context)


@pytest.mark.parametrize("family", FAMILIES)
def test_same_seed_and_options_give_identical_problems(variants, family):
    again = make_problems(requests_for(family, 300, FAMILIES.index(family)))
    assert [snapshot(p) for p in again] == [snapshot(p) for p in variants[family][:300]]


@pytest.mark.parametrize("family", FAMILIES)
def test_ids_regenerate_the_problem_exactly(variants, family):
    problems = variants[family][:: VARIANTS // 60]
    for p in problems:
        assert snapshot(problem_from_id(p.id)) == snapshot(p), p.id
    assert any("~" in p.id for p in problems) and any("decimals" in p.id for p in problems)


def test_draws_use_only_the_seed():
    np.random.seed(1)
    first = make_problem("cost", 77, {"loss": "bce,huber"})
    np.random.seed(2)
    second = make_problem("cost", 77, {"loss": "bce,huber"})
    assert snapshot(first) == snapshot(second)
    assert snapshot(make_problem("cost", 78, {"loss": "bce,huber"})) != snapshot(first)


# -- rendering -------------------------------------------------------------------------------
def balanced(tex: str) -> bool:
    text = tex.replace(r"\{", "").replace(r"\}", "")
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


@pytest.mark.parametrize("family", FAMILIES)
def test_questions_and_solutions_render_for_every_loss(variants, family):
    chosen: dict[tuple, Any] = {}
    for p in variants[family]:
        chosen.setdefault((p.context["loss"], tuple(sorted(p.context["loss_params"].items())),
                           tuple(sorted({pc["piece"] for pc in p.context["pieces"]}))), p)
    problems = list(chosen.values())
    assert {p.context["loss"] for p in problems} == {p.context["loss"] for p in variants[family]}
    for fmt in ("md", "tex"):
        for kind in ("questions", "solutions"):
            text = render_set(problems, kind, fmt, title="Loss practice & more")
            for p in problems:
                assert (tex_escape(p.id) if fmt == "tex" else p.id) in text
                assert f"Round every value to {p.decimals} decimals" in text
            if kind == "solutions":
                for p in problems:
                    for name in p.asked:
                        assert p.step_records([name])[0]["rounded_text"] in text
            if fmt == "tex":
                assert balanced(text)
                assert r"\begin{document}" in text and r"\end{document}" in text
                assert "&" not in re.sub(r"\\begin\{(align\*|cases|tabular)\}.*?"
                                         r"\\end\{\1\}", "", text.replace(r"\&", ""),
                                         flags=re.S)
            else:
                assert text.count("$$") % 2 == 0


def test_cost_question_shows_the_dataset_as_a_table():
    p = make_problem("cost", 11, {"loss": "cce", "points": 4, "classes": 3})
    text = render_set([p], "questions", "md", title="t")
    assert "| $`i`$ | $`y_{i}`$ | $`\\hat{y}_{i}`$ |" in text
    assert len(re.findall(r"^\| \d \| ", text, flags=re.M)) == 4
    assert [s.name for s in p.trace.steps] == ["L1", "L2", "L3", "L4", "J"]


def test_decimals_are_at_least_two():
    p = make_problem("loss_value", 1, {"loss": "kl"}, decimals=0)
    assert p.decimals == 2 and p.id.endswith("~decimals:2~loss:kl")
    assert "Round every value to 2 decimals" in render_set([p], "questions", "md", title="t")


def test_titles_say_what_the_problem_is():
    assert make_problem("loss_value", 1, {"loss": "bce"}).title == (
        "Loss value: Binary Cross-Entropy")
    assert make_problem("cost", 1, {"loss": "huber", "points": 5}).title == (
        "Cost over 5 points: Huber (delta = 1)")
    assert make_problem("loss_derivative", 1, {"loss": "kl", "kl_direction": "reverse"}
                        ).title == "Derivative of a loss: KL Divergence (reverse, 3 classes)"


# -- bad options -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("family", "options", "message"),
    [
        ("loss_value", {"loss": "cross_entropyy"}, r"unknown loss 'cross_entropyy'.*valid"),
        ("loss_value", {"loss": "mse,foo"}, r"option 'loss': unknown loss 'foo'"),
        ("loss_value", {"loss": ""}, r"option 'loss': name at least one loss"),
        ("cost", {"loss": "kl"}, r"loss 'kl' is not one of this family's: mse, mae"),
        ("cost", {"kl_direction": "reverse"}, r"has no option 'kl_direction'"),
        ("loss_value", {"lose": "mse"}, r"has no option 'lose' \(did you mean 'loss'\?\)"),
        ("loss_derivative", {"hinge_labels": "pm2"}, r"option 'hinge_labels': expected one of"),
        ("loss_value", {"huber_delta": "0"}, r"option 'huber_delta': must be at least 0.1"),
        ("cost", {"points": "9"}, r"option 'points': must be at most 6"),
        ("loss_value", {"classes": "1"}, r"option 'classes': must be at least 2"),
    ],
)
def test_bad_options_raise_a_clear_error(family, options, message):
    with pytest.raises(ChainruleError, match=message):
        make_problem(family, 1, options)


def test_loss_aliases_and_repeats_are_accepted():
    options = get_family("loss_value").parse_options({"loss": "cross_entropy, l2,CCE"})
    assert options["loss"] == ["cce", "mse"]


def test_bad_id_options_raise_a_clear_error():
    with pytest.raises(ChainruleError, match=r"ID lv-00000007~loss:foo: option 'loss'"):
        problem_from_id("lv-00000007~loss:foo")
