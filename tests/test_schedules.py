"""Learning-rate schedules against plain restatements of their formulas and PyTorch."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.errors import ChainruleError
from chainrule.symbolic.schedules import SCHEDULES, get_schedule, sgdr_position


# -- the formulas, written out plainly for one t ------------------------------------------------
def naive_sgdr_position(t, t0, t_mult):
    """Walk the cycles one by one: subtract each finished cycle from t."""
    t_i = t0
    while t >= t_i:
        t -= t_i
        t_i *= t_mult
    return t, t_i


def restated(key, form, p, t):
    if key == "constant":
        return p["eta0"]
    if key == "step":
        return p["eta0"] * p["gamma"] ** math.floor(t / p["step_size"])
    if key == "exponential":
        return p["eta0"] * (math.exp(-p["k"] * t) if form == "exp" else p["gamma"] ** t)
    if key == "inverse_time":
        return p["eta0"] / (1 + p["k"] * t)
    t_cur, t_i = naive_sgdr_position(t, p["T_0"], p["T_mult"])
    lo, hi = p["eta_min"], p["eta_max"]
    return lo + 0.5 * (hi - lo) * (1 + math.cos(math.pi * t_cur / t_i))


FORMS = [(key, form) for key, info in SCHEDULES.items() for form in info.forms]


def _params(key, form, draw):
    """Random parameters for a schedule from hypothesis' ``draw``."""
    rate = st.floats(1e-4, 1.0)
    table = {
        "eta0": rate, "gamma": st.floats(0.05, 1.0), "k": st.floats(0.0, 2.0),
        "step_size": st.integers(1, 20), "eta_max": rate, "eta_min": st.floats(0.0, 1e-4),
        "T_0": st.integers(1, 12), "T_mult": st.integers(1, 3),
    }
    return {name: draw(table[name]) for name in SCHEDULES[key].forms[form].defaults}


# -- printing ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "form", "tex", "text"),
    [
        ("constant", None, r"\eta_{t} = \eta_{0}", "eta = eta0"),
        ("step", None, r"\eta_{t} = \eta_{0} \gamma^{\left\lfloor{\frac{t}{s}}\right\rfloor}",
         "eta = eta0*gamma**floor(t/step_size)"),
        ("exponential", None, r"\eta_{t} = \eta_{0} e^{- k t}", "eta = eta0*exp(-k*t)"),
        ("exponential", "gamma", r"\eta_{t} = \eta_{0} \gamma^{t}", "eta = eta0*gamma**t"),
        ("1/t", None, r"\eta_{t} = \frac{\eta_{0}}{1 + k t}", "eta = eta0/(1 + k*t)"),
        ("sgdr", None,
         r"\eta_{t} = \eta_{\min} + \frac{\left(\eta_{\max} - \eta_{\min}\right) "
         r"\left(1 + \cos{\left(\frac{\pi T_{\mathrm{cur}}}{T_{i}} \right)}\right)}{2}",
         "eta = eta_min + (eta_max - eta_min)*(1 + cos(pi*T_cur/T_i))/2"),
    ],
)
def test_tex_and_text(name, form, tex, text):
    schedule = get_schedule(name, form=form)
    assert schedule.tex() == tex
    assert schedule.text() == text


def test_sgdr_trace_shows_its_bookkeeping():
    schedule = get_schedule("cosine_restarts", T_0=3, T_mult=2, eta_min=0.01)
    assert schedule.trace.givens == ("eta_max", "eta_min", "t", "T_cur", "T_i")
    # t = 5: the first cycle (3 epochs) is over; 2 epochs into the second (6 epochs)
    assert schedule.givens_at(5) == {"eta_max": 0.1, "eta_min": 0.01, "t": 5.0,
                                     "T_cur": 2.0, "T_i": 6.0}
    values = schedule.evaluate(5, decimals=4)
    assert values["eta"] == 0.0775  # 0.01 + 0.045 (1 + cos(pi/3)) = 0.0775
    assert schedule.trace.substituted_tex("eta", values) == (
        r"0.01 + \frac{1}{2}\left(0.1 - 0.01\right)"
        r"\left(1 + \cos{\left(\frac{\pi \cdot 2}{6} \right)}\right)"
    )


def test_rounded_evaluation():
    schedule = get_schedule("exponential", eta0=0.1, k=0.1)
    assert schedule.evaluate(5, decimals=3)["eta"] == 0.061  # 0.1 e^{-0.5} = 0.0607
    step = get_schedule("step", eta0=0.1, gamma=0.5, step_size=3)
    assert [step.evaluate(t, 4)["eta"] for t in (0, 2, 3, 7)] == [0.1, 0.1, 0.05, 0.025]
    assert get_schedule("1/t", eta0=0.5, k=0.2).evaluate(3, 3)["eta"] == 0.313  # 0.3125 up


# -- against the restatements ---------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(st.sampled_from(FORMS), st.data())
def test_vectorized_matches_restatement(key_form, data):
    key, form = key_form
    params = _params(key, form, data.draw)
    schedule = get_schedule(key, form=form, **params)
    ts = np.arange(0, 40)
    expected = [restated(key, form, params, int(t)) for t in ts]
    np.testing.assert_allclose(schedule(ts), expected, rtol=1e-12, atol=1e-15)
    t = data.draw(st.integers(0, 39))
    assert schedule.evaluate(t)["eta"] == pytest.approx(expected[t], rel=1e-12, abs=1e-15)
    assert float(schedule(t)) == pytest.approx(expected[t], rel=1e-12, abs=1e-15)


@given(st.integers(0, 500), st.integers(1, 12), st.integers(1, 4))
def test_sgdr_position_matches_walking_the_cycles(t, t0, t_mult):
    t_cur, t_i = sgdr_position(t, t0, t_mult)
    assert (float(t_cur), float(t_i)) == naive_sgdr_position(t, t0, t_mult)


def test_sgdr_position_is_vectorized():
    t_cur, t_i = sgdr_position(np.arange(10), 2, 2)
    assert t_cur.tolist() == [0, 1, 0, 1, 2, 3, 0, 1, 2, 3]
    assert t_i.tolist() == [2, 2, 4, 4, 4, 4, 8, 8, 8, 8]


def test_exponential_forms_agree():
    ts = np.linspace(0, 50, 101)
    exp_form = get_schedule("exponential", eta0=0.3, k=0.05)
    gamma_form = get_schedule("exponential", form="gamma", eta0=0.3, gamma=math.exp(-0.05))
    np.testing.assert_allclose(exp_form(ts), gamma_form(ts), rtol=1e-12)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: get_schedule("cosine_annealing"), "unknown schedule 'cosine_annealing'"),
        (lambda: get_schedule("step", lr=0.1), "has no parameter 'lr'"),
        (lambda: get_schedule("exponential", form="log"), "form must be one of exp, gamma"),
        (lambda: get_schedule("exponential", gamma=0.9), "has no parameter 'gamma'"),
        (lambda: get_schedule("sgdr", T_mult=1.5), "T_mult must be a whole number"),
        (lambda: get_schedule("step", step_size=0), "step_size must be > 0"),
        (lambda: get_schedule("constant", eta0="0.1"), "eta0 must be a number"),
        (lambda: get_schedule("sgdr")(np.array([-1.0])), "t must be >= 0"),
    ],
)
def test_errors(call, message):
    with pytest.raises(ChainruleError, match=re.escape(message)):
        call()


# -- PyTorch's schedulers -------------------------------------------------------------------
def _torch_rates(make, epochs, lr):
    torch = pytest.importorskip("torch")
    param = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=lr)
    scheduler = make(torch.optim.lr_scheduler, optimizer)
    rates = []
    for _ in range(epochs):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return np.array(rates)


@pytest.mark.parametrize(
    ("make", "name", "params"),
    [
        (lambda s, o: s.StepLR(o, step_size=4, gamma=0.5), "step",
         {"eta0": 0.2, "gamma": 0.5, "step_size": 4}),
        (lambda s, o: s.ExponentialLR(o, gamma=0.9), "exponential",
         {"form": "gamma", "eta0": 0.2, "gamma": 0.9}),
        (lambda s, o: s.ExponentialLR(o, gamma=0.9), "exponential",
         {"eta0": 0.2, "k": -math.log(0.9)}),
        (lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=5), "cosine_restarts",
         {"eta_max": 0.2, "T_0": 5}),
        (lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.01),
         "cosine_restarts", {"eta_max": 0.2, "T_0": 3, "T_mult": 2, "eta_min": 0.01}),
    ],
    ids=["StepLR", "ExponentialLR-gamma", "ExponentialLR-exp", "SGDR", "SGDR-mult2"],
)
def test_against_torch(make, name, params):
    expected = _torch_rates(make, 40, lr=0.2)
    np.testing.assert_allclose(get_schedule(name, **params)(np.arange(40)), expected,
                               rtol=1e-12, atol=1e-15)
