"""The gd_step family against an independent restatement of the notes' formulas.

For linear regression yhat = w*x + b with L = (y - yhat)^2 (the notes' MSE), dL/dw = -2(y -
yhat)*x and dL/db = -2(y - yhat); for logistic regression yhat = sigmoid(w*x + b) with BCE,
dL/dw = (yhat - y)*x and dL/db = yhat - y. The cost J is the mean over the points a step
uses: all of them (batch GD), one (SGD) or a mini-batch; then w := w - eta*dJ/dw.
"""

import re
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal, localcontext

import numpy as np
import pytest

from chainrule.errors import ChainruleError
from chainrule.problems.base import get_family, make_problem, make_problems, problem_from_id
from chainrule.render.environment import tex_escape
from chainrule.render.problemset import render_set

N_VARIANTS = 1200
H = 1e-6


def _requests(count, seed=2024):
    """Random options for ``count`` variants, drawn from a fixed seed."""
    family = get_family("gd_step")
    rng = np.random.default_rng(seed)
    requests = []
    for k in range(count):
        raw = {
            "model": str(rng.choice(["linear", "logistic"])),
            "method": str(rng.choice(["batch", "sgd", "minibatch"])),
            "points": int(rng.integers(3, 7)),
        }
        if raw["method"] == "minibatch" and rng.random() < 0.5:
            raw["batch_size"] = int(rng.integers(2, raw["points"]))
        if rng.random() < 0.3:
            raw["eta"] = float(rng.choice([0.05, 0.3, 1.5]))
        decimals = int(rng.choice([2, 3, 3, 4]))
        requests.append((family, 10_000 + 7 * k, family.parse_options(raw), decimals, None))
    return requests


@pytest.fixture(scope="module")
def problems():
    return make_problems(_requests(N_VARIANTS))


# -- the independent oracle -----------------------------------------------------------------
def dataset(p):
    n = p.options["points"]
    xs = np.array([p.givens[f"x{i}"] for i in range(1, n + 1)])
    ys = np.array([p.givens[f"y{i}"] for i in range(1, n + 1)])
    return xs, ys


def used_points(p):
    """The points the trace works on, read from its step names."""
    return sorted(int(name[4:]) for name in p.asked if re.fullmatch(r"yhat\d+", name))


def predict(model, w, b, x):
    z = w * x + b
    return 1.0 / (1.0 + np.exp(-z)) if model == "logistic" else z


def cost(model, w, b, x, y):
    yhat = predict(model, w, b, x)
    if model == "logistic":
        return np.mean(-(y * np.log(yhat) + (1 - y) * np.log(1 - yhat)))
    return np.mean((y - yhat) ** 2)


def oracle(p):
    """Every step's exact value, restated from the notes with NumPy."""
    model = p.options["model"]
    xs, ys = dataset(p)
    w, b, eta = p.givens["w"], p.givens["b"], p.givens["eta"]
    values = {}
    gw, gb = [], []
    for i in used_points(p):
        x, y = xs[i - 1], ys[i - 1]
        if model == "logistic":
            values[f"z{i}"] = w * x + b
        yhat = predict(model, w, b, x)
        values[f"yhat{i}"] = yhat
        values[f"e{i}"] = yhat - y
        if model == "logistic":
            dw, db = (yhat - y) * x, yhat - y
        else:
            dw, db = -2 * (y - yhat) * x, -2 * (y - yhat)
        values[f"dL_dw_{i}"], values[f"dL_db_{i}"] = dw, db
        gw.append(dw)
        gb.append(db)
    values["dJ_dw"], values["dJ_db"] = np.mean(gw), np.mean(gb)
    values["w_new"] = w - eta * values["dJ_dw"]
    values["b_new"] = b - eta * values["dJ_db"]
    return values


def rounded_oracle(p):
    """The student's chain: each step from rounded earlier values, rounded half up."""
    model = p.options["model"]
    quantum = Decimal(1).scaleb(-p.decimals)

    def r(value):
        return value.quantize(quantum, rounding=ROUND_HALF_UP)

    def given(name):
        return Decimal(repr(p.givens[name]))

    values = {}
    with localcontext() as ctx:
        ctx.prec = 50
        w, b, eta = given("w"), given("b"), given("eta")
        gw, gb = [], []
        for i in used_points(p):
            x, y = given(f"x{i}"), given(f"y{i}")
            if model == "logistic":
                z = values[f"z{i}"] = r(w * x + b)
                yhat = values[f"yhat{i}"] = r(1 / (1 + (-z).exp()))
            else:
                yhat = values[f"yhat{i}"] = r(w * x + b)
            e = values[f"e{i}"] = r(yhat - y)
            scale = 1 if model == "logistic" else 2
            values[f"dL_dw_{i}"] = r(scale * e * x)
            values[f"dL_db_{i}"] = r(scale * e)
            gw.append(values[f"dL_dw_{i}"])
            gb.append(values[f"dL_db_{i}"])
        dw = values["dJ_dw"] = r(sum(gw) / len(gw))
        db = values["dJ_db"] = r(sum(gb) / len(gb))
        values["w_new"] = r(w - eta * dw)
        values["b_new"] = r(b - eta * db)
    return values


# -- the tests --------------------------------------------------------------------------------
def test_variants_cover_every_option(problems):
    seen = Counter((p.options["model"], p.options["method"]) for p in problems)
    assert len(seen) == 6 and min(seen.values()) > 100
    assert {p.options["points"] for p in problems} == {3, 4, 5, 6}
    assert {p.decimals for p in problems} == {2, 3, 4}
    assert len({p.id for p in problems}) == len(problems)


def test_points_used_follow_the_method(problems):
    for p in problems:
        n, used = p.options["points"], used_points(p)
        assert used == p.context["used"]
        method = p.options["method"]
        if method == "batch":
            assert used == list(range(1, n + 1))
        elif method == "sgd":
            assert len(used) == 1
        else:
            size = p.options["batch_size"]
            assert len(used) == size if size is not None else 2 <= len(used) < n
        assert set(used) <= set(range(1, n + 1))


def test_steps_and_key(problems):
    for p in problems:
        used = used_points(p)
        pieces = ["z", "yhat", "e"] if p.options["model"] == "logistic" else ["yhat", "e"]
        names = [f"{s}{i}" for i in used for s in (*pieces, "dL_dw_", "dL_db_")]
        assert list(p.asked) == [*names, "dJ_dw", "dJ_db", "w_new", "b_new"]
        assert [s["name"] for s in p.key()["steps"]] == list(p.asked)


def test_exact_values_match_numpy(problems):
    for p in problems:
        expected = oracle(p)
        assert set(expected) == set(p.asked)
        for name, value in expected.items():
            assert p.exact[name] == pytest.approx(value, rel=1e-12, abs=1e-12), (p.id, name)


def test_cost_gradient_matches_finite_differences(problems):
    for p in problems:
        model = p.options["model"]
        xs, ys = dataset(p)
        idx = np.array(used_points(p)) - 1
        x, y, w, b = xs[idx], ys[idx], p.givens["w"], p.givens["b"]
        dw = (cost(model, w + H, b, x, y) - cost(model, w - H, b, x, y)) / (2 * H)
        db = (cost(model, w, b + H, x, y) - cost(model, w, b - H, x, y)) / (2 * H)
        assert p.exact["dJ_dw"] == pytest.approx(dw, abs=1e-6), p.id
        assert p.exact["dJ_db"] == pytest.approx(db, abs=1e-6), p.id


def test_rounded_chain_matches_decimal_half_up(problems):
    for p in problems:
        expected = rounded_oracle(p)
        for name in p.asked:
            assert p.rounded[name] == float(expected[name]), (p.id, name, p.decimals)


def test_variants_are_good_by_hand(problems):
    for p in problems:
        assert all(p.givens[f"x{i}"] != 0 for i in range(1, p.options["points"] + 1))
        assert abs(p.exact["dJ_dw"]) >= 0.05 and abs(p.exact["dJ_db"]) >= 0.05
        if p.options["model"] == "logistic":
            labels = {p.givens[f"y{i}"] for i in range(1, p.options["points"] + 1)}
            assert labels == {0.0, 1.0}
            assert all(0.05 <= p.exact[f"yhat{i}"] <= 0.95 for i in used_points(p))


def test_same_seed_same_problems():
    requests = _requests(40, seed=7)
    first, second = make_problems(requests), make_problems(requests)
    assert [p.key() for p in first] == [p.key() for p in second]
    assert [p.context for p in first] == [p.context for p in second]
    assert render_set(first, "solutions", "md", title="T") == render_set(
        second, "solutions", "md", title="T"
    )


def test_id_regenerates_the_problem(problems):
    for p in problems[:60]:
        again = problem_from_id(p.id, decimals=p.decimals)
        assert again.key() == p.key()
        assert again.context == p.context


def test_default_options():
    p = make_problem("gd_step", 1)
    assert p.id == "gd-00000001"
    assert p.options == {"model": "linear", "method": "batch", "points": 4,
                         "batch_size": None, "eta": None}
    assert used_points(p) == [1, 2, 3, 4]
    assert p.givens["eta"] in (0.05, 0.1, 0.2)


@pytest.mark.parametrize("fmt", ["md", "tex"])
def test_rendering(fmt):
    problems = [
        make_problem("gd_step", 3, {"model": model, "method": method})
        for model in ("linear", "logistic") for method in ("batch", "sgd", "minibatch")
    ]
    questions = render_set(problems, "questions", fmt, title="Practice")
    solutions = render_set(problems, "solutions", fmt, title="Practice")
    for p in problems:
        assert (p.id if fmt == "md" else tex_escape(p.id)) in questions
        used = p.context["used"]
        if p.options["method"] == "minibatch":
            text = ", ".join(map(str, used[:-1])) + " and " + str(used[-1])
            assert f"The mini-batch is points {text}." in questions
        elif p.options["method"] == "sgd":
            assert f"is point {used[0]}." in questions
        for name in p.asked:
            assert p.step_records([name])[0]["rounded_text"] in solutions
    assert "{{" not in solutions and "<<" not in solutions and "<%" not in solutions


@pytest.mark.parametrize(
    "options",
    [
        {"model": "quadratic"},
        {"method": "adam"},
        {"points": 2},
        {"points": 7},
        {"points": 3.5},
        {"batch_size": 2},
        {"method": "sgd", "batch_size": 2},
        {"method": "minibatch", "points": 3, "batch_size": 3},
        {"method": "minibatch", "batch_size": 1},
        {"eta": 0},
        {"eta": -0.1},
        {"eta": "fast"},
        {"learning_rate": 0.1},
    ],
)
def test_bad_options_are_errors(options):
    with pytest.raises(ChainruleError):
        make_problem("gd_step", 1, options)


def test_bad_id_options_are_errors():
    with pytest.raises(ChainruleError):
        problem_from_id("gd-00000001~points:9")
