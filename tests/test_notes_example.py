"""The notes' worked 2-2-1 example (section 10): the exact chain and the rounded chain.

The expected values are computed here from the notes' givens with math.exp / math.log and
decimal.Decimal (ROUND_HALF_UP), never copied from the notes, whose arithmetic has slips.
"""

import math
from decimal import ROUND_HALF_UP, Decimal

import pytest

from chainrule.symbolic.network import Network
from chainrule.symbolic.trace import round_half_up

D = Decimal


def notes_trace():
    return Network("2-2-1", hidden="sigmoid", output="sigmoid", loss="bce").trace


def q(value, places=3):
    """Round a Decimal half away from zero, as a calculator does."""
    return value.quantize(D(1).scaleb(-places), rounding=ROUND_HALF_UP)


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def float_chain(g):
    """The notes' chain in plain floats, nothing rounded."""
    v = {k: float(x) for k, x in g.items()}
    v["z1"] = v["w11"] * v["x1"] + v["w21"] * v["x2"] + v["b1"]
    v["a1"] = sigmoid(v["z1"])
    v["z2"] = v["w12"] * v["x1"] + v["w22"] * v["x2"] + v["b2"]
    v["a2"] = sigmoid(v["z2"])
    v["z3"] = v["w13"] * v["a1"] + v["w23"] * v["a2"] + v["b3"]
    v["yhat"] = sigmoid(v["z3"])
    v["L"] = -(v["y"] * math.log(v["yhat"]) + (1 - v["y"]) * math.log(1 - v["yhat"]))
    v["delta3"] = v["yhat"] - v["y"]
    v["fprime1"] = v["a1"] * (1 - v["a1"])
    v["fprime2"] = v["a2"] * (1 - v["a2"])
    v["delta1"] = v["w13"] * v["delta3"] * v["fprime1"]
    v["delta2"] = v["w23"] * v["delta3"] * v["fprime2"]
    grads = {"w13": v["delta3"] * v["a1"], "w23": v["delta3"] * v["a2"], "b3": v["delta3"],
             "w11": v["delta1"] * v["x1"], "w21": v["delta1"] * v["x2"], "b1": v["delta1"],
             "w12": v["delta2"] * v["x1"], "w22": v["delta2"] * v["x2"], "b2": v["delta2"]}
    for p, grad in grads.items():
        v[f"dL_d{p}"] = grad
        v[f"{p}_new"] = v[p] - v["eta"] * grad
    return v


def rounded_chain(g, places=3):
    """A student's calculator chain: each step from rounded values, then rounded."""
    v = {k: D(repr(x)) for k, x in g.items()}

    def r(x):
        return q(x, places)

    def r_float(x):  # a transcendental value: take the float's decimal, then round
        return q(D(repr(x)), places)

    v["z1"] = r(v["w11"] * v["x1"] + v["w21"] * v["x2"] + v["b1"])
    v["a1"] = r_float(sigmoid(float(v["z1"])))
    v["z2"] = r(v["w12"] * v["x1"] + v["w22"] * v["x2"] + v["b2"])
    v["a2"] = r_float(sigmoid(float(v["z2"])))
    v["z3"] = r(v["w13"] * v["a1"] + v["w23"] * v["a2"] + v["b3"])
    v["yhat"] = r_float(sigmoid(float(v["z3"])))
    y, yhat = float(v["y"]), float(v["yhat"])
    v["L"] = r_float(-(y * math.log(yhat) + (1 - y) * math.log(1 - yhat)))
    v["delta3"] = r(v["yhat"] - v["y"])
    v["dL_dw13"] = r(v["delta3"] * v["a1"])
    v["dL_dw23"] = r(v["delta3"] * v["a2"])
    v["dL_db3"] = r(v["delta3"])
    v["fprime1"] = r(v["a1"] * (1 - v["a1"]))
    v["delta1"] = r(v["w13"] * v["delta3"] * v["fprime1"])
    v["fprime2"] = r(v["a2"] * (1 - v["a2"]))
    v["delta2"] = r(v["w23"] * v["delta3"] * v["fprime2"])
    for i, j in [("w11", "x1"), ("w21", "x2"), ("w12", "x1"), ("w22", "x2")]:
        v[f"dL_d{i}"] = r(v[f"delta{i[2]}"] * v[j])
    v["dL_db1"], v["dL_db2"] = r(v["delta1"]), r(v["delta2"])
    for p in ["w11", "w21", "b1", "w12", "w22", "b2", "w13", "w23", "b3"]:
        v[f"{p}_new"] = r(v[p] - v["eta"] * v[f"dL_d{p}"])
    return v


# -- round_half_up ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (0.7145, 3, "0.715"),
        (-0.0005, 3, "-0.001"),
        (0.0005, 3, "0.001"),
        (2.5, 0, "3"),
        (-2.5, 0, "-3"),
        (0.5, 0, "1"),
        (1.5, 0, "2"),
        (0.125, 2, "0.13"),
        (-0.125, 2, "-0.13"),
        (0.574442516811659, 3, "0.574"),
        (-0.2663268282072579, 3, "-0.266"),
        (0.0004, 3, "0.000"),
        (-0.0004, 3, "0.000"),  # no negative zero
        (7, 3, "7.000"),
    ],
)
def test_round_half_up(value, places, expected):
    result = round_half_up(value, places)
    assert isinstance(result, Decimal)
    assert str(result) == expected


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        # Each float prints as a decimal tie but is stored just below it in binary.
        (1.0005, 3, "1.001"),
        (2.675, 2, "2.68"),
        (1.005, 2, "1.01"),
        (0.1235, 3, "0.124"),
        (-1.0005, 3, "-1.001"),
    ],
)
def test_round_half_up_reads_a_float_as_the_decimal_it_prints_as(value, places, expected):
    """A calculator (and the trace module's own rule for inputs) reads 2.675 as 2.675."""
    assert str(round_half_up(value, places)) == expected


def test_round_half_up_accepts_a_decimal():
    assert str(round_half_up(D("0.7145"), 3)) == "0.715"


def test_rounded_chain_breaks_decimal_ties_away_from_zero():
    """z1 = 0.1235 exactly (a decimal tie) rounds to 0.124; -0.1235 to -0.124."""
    trace = notes_trace()
    base = {"x1": 1, "x2": 0, "y": 1, "w21": 0.4, "b1": 0.0, "w12": 0.3, "w22": 0.1,
            "b2": 0.2, "w13": 0.7, "w23": 0.5, "b3": 0.3, "eta": 0.1}
    assert trace.evaluate({**base, "w11": 0.1235}, decimals=3)["z1"] == 0.124
    assert trace.evaluate({**base, "w11": -0.1235}, decimals=3)["z1"] == -0.124
    assert trace.evaluate({**base, "w11": 0.12349}, decimals=3)["z1"] == 0.123


# -- the notes' chain -------------------------------------------------------------------------
def test_rounded_chain_matches_a_decimal_calculator_chain(notes_givens):
    values = notes_trace().evaluate(notes_givens, decimals=3)
    expected = rounded_chain(notes_givens)
    assert values.decimals == 3
    for name in notes_trace().names:
        assert values[name] == float(expected[name]), name


def test_rounded_chain_key_values(notes_givens):
    """A few steps of the calculator chain, spelled out (computed by rounded_chain above)."""
    chain = rounded_chain(notes_givens)
    values = notes_trace().evaluate(notes_givens, decimals=3)
    for name in ["a1", "a2", "z3", "yhat", "L", "delta3", "delta1", "w13_new"]:
        assert str(round_half_up(values[name], 3)) == str(chain[name]), name


def test_exact_chain_matches_float_chain(notes_givens):
    values = notes_trace().evaluate(notes_givens)
    expected = float_chain(notes_givens)
    assert values.decimals is None
    for name in notes_trace().names:
        assert values[name] == pytest.approx(expected[name], rel=1e-12, abs=1e-15), name


def test_the_notes_z3_is_not_what_the_givens_imply(notes_givens):
    """The notes print z3 = 1.086; the givens give about 1.013, exactly or rounded."""
    printed = 1.086
    exact = float_chain(notes_givens)["z3"]
    rounded = rounded_chain(notes_givens)["z3"]
    assert abs(exact - printed) > 0.05
    assert rounded != D("1.086")
    assert notes_trace().evaluate(notes_givens)["z3"] == pytest.approx(exact, rel=1e-12)
    assert notes_trace().evaluate(notes_givens, decimals=3)["z3"] == float(rounded)


def test_the_notes_other_slips_are_slips_of_their_own_arithmetic():
    """Given the notes' own rounded a1 = 0.574 and yhat = 0.748, sigma'(z1) and L differ."""
    fprime1 = q(D("0.574") * (1 - D("0.574")))
    loss = q(D(repr(-math.log(0.748))))
    assert fprime1 != D("0.244")
    assert loss != D("0.289")


# -- printing with numbers put in -------------------------------------------------------------
def test_substituted_tex_of_the_rounded_chain(notes_givens):
    trace = notes_trace()
    values = trace.evaluate(notes_givens, decimals=3)
    c = rounded_chain(notes_givens)
    assert trace.substituted_tex("z3", values, 3) == f"(0.7)({c['a1']}) + (0.5)({c['a2']}) + 0.3"
    assert trace.substituted_tex("delta1", values, 3) == (
        f"(0.7)({c['delta3']})({c['fprime1']})")
    assert trace.substituted_tex("w13_new", values, 3) == f"0.7 - (0.1)({c['dL_dw13']})"
    assert trace.substituted_tex("dL_dw13", values, 3) == f"({c['delta3']})({c['a1']})"
    assert trace.substituted_tex("z1", values, 3) == "(0.2)(1) + (0.4)(0) + 0.1"


# -- evaluate_step: one step on the student's own numbers ---------------------------------
@pytest.mark.parametrize(
    ("name", "values", "plain"),
    [
        ("delta1", {"w13": "0.7", "delta3": "-0.252", "fprime1": "0.244"},
         lambda v: v["w13"] * v["delta3"] * v["fprime1"]),
        ("z3", {"w13": "0.7", "a1": "0.574", "w23": "0.5", "a2": "0.622", "b3": "0.3"},
         lambda v: v["w13"] * v["a1"] + v["w23"] * v["a2"] + v["b3"]),
        ("dL_dw13", {"delta3": "-0.252", "a1": "0.574"}, lambda v: v["delta3"] * v["a1"]),
        ("fprime1", {"a1": "0.574"}, lambda v: v["a1"] * (1 - v["a1"])),
        ("delta3", {"yhat": "0.748", "y": "1"}, lambda v: v["yhat"] - v["y"]),
        ("w13_new", {"w13": "0.7", "eta": "0.1", "dL_dw13": "-0.145"},
         lambda v: v["w13"] - v["eta"] * v["dL_dw13"]),
    ],
)
def test_evaluate_step_uses_the_students_own_values(name, values, plain):
    trace = notes_trace()
    as_floats = {k: float(v) for k, v in values.items()}
    expected = float(plain({k: D(v) for k, v in values.items()}))  # exact decimal arithmetic
    assert trace.evaluate_step(name, as_floats) == expected
    assert trace.evaluate_step(name, {**as_floats, "x1": 123.0, "L": -5.0}) == expected


@pytest.mark.parametrize(
    ("name", "values", "plain"),
    [
        ("a1", {"z1": 0.3}, lambda v: sigmoid(v["z1"])),
        ("yhat", {"z3": 1.086}, lambda v: sigmoid(v["z3"])),
        ("L", {"y": 1.0, "yhat": 0.748}, lambda v: -math.log(v["yhat"])),
        ("L", {"y": 0.0, "yhat": 0.748}, lambda v: -math.log(1 - v["yhat"])),
    ],
)
def test_evaluate_step_transcendental(name, values, plain):
    assert notes_trace().evaluate_step(name, values) == pytest.approx(plain(values), rel=1e-14)


def test_evaluate_step_needs_every_dependency():
    with pytest.raises(KeyError):
        notes_trace().evaluate_step("delta1", {"w13": 0.7, "delta3": -0.252})


def test_evaluate_needs_every_given(notes_givens):
    del notes_givens["eta"]
    with pytest.raises(KeyError):
        notes_trace().evaluate(notes_givens)
