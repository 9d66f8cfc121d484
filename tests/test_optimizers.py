"""Optimizer update traces against plain restatements of their textbook formulas and PyTorch."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.errors import ChainruleError
from chainrule.numeric.optimizers import update_kernel
from chainrule.symbolic.optimizers import (
    OPTIMIZERS,
    default_hyper,
    optimizer_steps,
    optimizer_trace,
)


# -- the textbook formulas, written out plainly: (theta, g, state, hyper, t) -> new values --
def gd(th, g, s, h, t):
    return {"theta_new": th - h["eta"] * g}


def momentum_notes(th, g, s, h, t):
    v = h["beta"] * s["v"] + h["eta"] * g
    return {"v_new": v, "theta_new": th - v}


def momentum_torch(th, g, s, h, t):
    v = h["beta"] * s["v"] + g
    return {"v_new": v, "theta_new": th - h["eta"] * v}


def nag_notes(th, g_ahead, s, h, t):  # g_ahead is the gradient at theta - beta*v
    v = h["beta"] * s["v"] + h["eta"] * g_ahead
    return {"theta_ahead": th - h["beta"] * s["v"], "v_new": v, "theta_new": th - v}


def nag_torch(th, g, s, h, t):
    v = h["beta"] * s["v"] + g
    return {"v_new": v, "theta_new": th - h["eta"] * (g + h["beta"] * v)}


def adagrad(th, g, s, h, t, inside=False):
    big_g = s["G"] + g**2
    root = np.sqrt(big_g + h["eps"]) if inside else np.sqrt(big_g) + h["eps"]
    return {"G_new": big_g, "theta_new": th - h["eta"] * g / root}


def rmsprop(th, g, s, h, t, inside=False):
    avg = h["rho"] * s["s"] + (1 - h["rho"]) * g**2
    root = np.sqrt(avg + h["eps"]) if inside else np.sqrt(avg) + h["eps"]
    return {"s_new": avg, "theta_new": th - h["eta"] * g / root}


def adam(th, g, s, h, t, inside=False):
    m = h["beta1"] * s["m"] + (1 - h["beta1"]) * g
    v = h["beta2"] * s["v"] + (1 - h["beta2"]) * g**2
    mhat, vhat = m / (1 - h["beta1"] ** t), v / (1 - h["beta2"] ** t)
    root = np.sqrt(vhat + h["eps"]) if inside else np.sqrt(vhat) + h["eps"]
    return {"m_new": m, "v_new": v, "mhat": mhat, "vhat": vhat,
            "theta_new": th - h["eta"] * mhat / root}


def _inside(rule):
    return lambda *args: rule(*args, inside=True)


VARIANTS = [
    ("gd", {}, gd),
    ("momentum", {}, momentum_notes),
    ("momentum", {"convention": "torch"}, momentum_torch),
    ("nag", {}, nag_notes),
    ("nag", {"convention": "torch"}, nag_torch),
    ("adagrad", {}, adagrad),
    ("adagrad", {"eps_placement": "inside"}, _inside(adagrad)),
    ("rmsprop", {}, rmsprop),
    ("rmsprop", {"eps_placement": "inside"}, _inside(rmsprop)),
    ("adam", {}, adam),
    ("adam", {"eps_placement": "inside"}, _inside(adam)),
]
IDS = [name + "".join(f"-{v}" for v in opts.values()) for name, opts, _ in VARIANTS]

#: Second-moment state is a sum or average of squares: never negative.
SQUARES = {"G", "s"}


def _random_problem(rng, name, shape):
    trace = optimizer_trace(name)
    hyper = {
        "eta": rng.uniform(1e-3, 1.0), "beta": rng.uniform(0.0, 0.99),
        "rho": rng.uniform(0.5, 0.999), "beta1": rng.uniform(0.5, 0.99),
        "beta2": rng.uniform(0.9, 0.9999), "eps": 10 ** rng.uniform(-10, -3),
    }
    hyper = {k: v for k, v in hyper.items() if k in OPTIMIZERS[name].defaults}
    state = {}
    for s in trace.meta["state"]:
        x = rng.normal(size=shape)
        state[s] = x**2 if s in SQUARES or (name == "adam" and s == "v") else x
    return rng.normal(size=shape), rng.normal(size=shape), state, hyper, int(rng.integers(1, 60))


# -- structure and printing ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "options", "equations"),
    [
        ("gd", {}, [r"\theta_{t} = \theta_{t-1} - \eta g_{t}"]),
        ("momentum", {}, [r"v_{t} = \beta v_{t-1} + \eta g_{t}",
                          r"\theta_{t} = \theta_{t-1} - v_{t}"]),
        ("momentum", {"convention": "torch"}, [r"v_{t} = \beta v_{t-1} + g_{t}",
                                               r"\theta_{t} = \theta_{t-1} - \eta v_{t}"]),
        ("nag", {}, [r"\tilde{\theta}_{t} = \theta_{t-1} - \beta v_{t-1}",
                     r"v_{t} = \beta v_{t-1} + \eta \tilde{g}_{t}",
                     r"\theta_{t} = \theta_{t-1} - v_{t}"]),
        ("adagrad", {}, [
            r"G_{t} = G_{t-1} + g_{t}^{2}",
            r"\theta_{t} = \theta_{t-1} - \frac{\eta g_{t}}{\sqrt{G_{t}} + \epsilon}"]),
        ("rmsprop", {"eps_placement": "inside"}, [
            r"s_{t} = \rho s_{t-1} + \left(1 - \rho\right) g_{t}^{2}",
            r"\theta_{t} = \theta_{t-1} - \frac{\eta g_{t}}{\sqrt{s_{t} + \epsilon}}"]),
        ("adam", {}, [
            r"m_{t} = \beta_{1} m_{t-1} + \left(1 - \beta_{1}\right) g_{t}",
            r"v_{t} = \beta_{2} v_{t-1} + \left(1 - \beta_{2}\right) g_{t}^{2}",
            r"\hat{m}_{t} = \frac{m_{t}}{1 - \beta_{1}^{t}}",
            r"\hat{v}_{t} = \frac{v_{t}}{1 - \beta_{2}^{t}}",
            r"\theta_{t} = \theta_{t-1} - \frac{\eta \hat{m}_{t}}{\sqrt{\hat{v}_{t}} + \epsilon}"]),
    ],
)
def test_equations_tex(name, options, equations):
    trace = optimizer_trace(name, **options)
    assert [trace.equation_tex(n) for n in trace.names] == equations


@pytest.mark.parametrize(
    ("name", "options", "givens", "texts"),
    [
        ("gd", {}, ("theta", "g", "eta"), {"theta_new": "theta - eta*g"}),
        ("nag", {}, ("theta", "g_ahead", "v", "eta", "beta"),
         {"theta_ahead": "theta - beta*v", "v_new": "beta*v + eta*g_ahead",
          "theta_new": "theta - v_new"}),
        ("nag", {"convention": "torch"}, ("theta", "g", "v", "eta", "beta"),
         {"v_new": "beta*v + g", "theta_new": "theta - eta*(g + beta*v_new)"}),
        ("rmsprop", {}, ("theta", "g", "s", "eta", "rho", "eps"),
         {"s_new": "rho*s + (1 - rho)*g**2", "theta_new": "theta - eta*g/(sqrt(s_new) + eps)"}),
        ("adam", {}, ("theta", "g", "m", "v", "eta", "beta1", "beta2", "eps", "t"),
         {"m_new": "beta1*m + (1 - beta1)*g", "v_new": "beta2*v + (1 - beta2)*g**2",
          "mhat": "m_new/(1 - beta1**t)", "vhat": "v_new/(1 - beta2**t)",
          "theta_new": "theta - eta*mhat/(sqrt(vhat) + eps)"}),
    ],
)
def test_givens_steps_and_text(name, options, givens, texts):
    trace = optimizer_trace(name, **options)
    assert trace.givens == givens
    assert {n: trace.formula_text(n) for n in trace.names} == texts
    assert trace.names[-1] == trace.meta["result"] == "theta_new"
    assert set(trace.tex_names) == set(trace.givens) | set(trace.names)


def test_defaults_and_aliases():
    assert default_hyper("adam") == {"eta": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
    assert default_hyper("momentum") == {"eta": 0.1, "beta": 0.9}
    assert default_hyper("rmsprop") == {"eta": 0.01, "rho": 0.9, "eps": 1e-8}
    for alias in ("SGD", "mini-batch", "batch_gd"):
        assert optimizer_trace(alias) is optimizer_trace("gd")
    assert optimizer_trace("nesterov").meta["gradient"] == "g_ahead"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: optimizer_trace("adamw"), "unknown optimizer 'adamw' (did you mean 'adam'?)"),
        (lambda: optimizer_trace("gd", convention="torch"), "has no option 'convention'"),
        (lambda: optimizer_trace("momentum", convention="keras"), "notes, torch"),
        (lambda: optimizer_trace("adagrad", eps_placement="under"), "outside, inside"),
        (lambda: optimizer_steps("gd", float, 1.0, 1, {"lr": 0.1}), "no hyper-parameter 'lr'"),
        (lambda: update_kernel("adam")([np.zeros(2)], [np.zeros(2)], hyper={"lr": 1}),
         "no hyper-parameter 'lr'"),
    ],
)
def test_errors(call, message):
    with pytest.raises(ChainruleError, match=re.escape(message)):
        call()


def test_kernel_checks_shapes():
    kernel = update_kernel("gd")
    with pytest.raises(ValueError, match="shape"):
        kernel([np.zeros((2, 3))], [np.zeros(3)])
    with pytest.raises(ValueError, match="gradients"):
        kernel([np.zeros(2)], [])


# -- every rule against its restatement ------------------------------------------------------
@settings(max_examples=150, deadline=None)
@given(st.sampled_from(range(len(VARIANTS))), st.integers(0, 2**32 - 1),
       st.lists(st.integers(1, 4), max_size=3))
def test_kernel_matches_textbook_over_arrays(index, seed, shape):
    name, options, rule = VARIANTS[index]
    rng = np.random.default_rng(seed)
    theta, g, state, hyper, t = _random_problem(rng, name, tuple(shape))
    kernel = update_kernel(name, **options)
    new_params, new_state = kernel([theta], [g], {k: [v] for k, v in state.items()}, hyper, t)
    expected = rule(theta, g, state, hyper, t)
    np.testing.assert_allclose(new_params[0], expected["theta_new"], rtol=1e-12, atol=1e-15)
    assert new_params[0].shape == tuple(shape)
    for old, new in kernel.trace.meta["state"].items():
        np.testing.assert_allclose(new_state[old][0], expected[new], rtol=1e-12, atol=1e-15)
    # every step of the trace, not only the results
    out = kernel.kernel({"theta": theta, kernel.trace.meta["gradient"]: g, **state, **hyper,
                         "t": t})
    for step, value in expected.items():
        np.testing.assert_allclose(out[step], value, rtol=1e-12, atol=1e-15)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(range(len(VARIANTS))), st.integers(0, 2**32 - 1))
def test_exact_trace_evaluation_matches_textbook(index, seed):
    name, options, rule = VARIANTS[index]
    theta, g, state, hyper, t = _random_problem(np.random.default_rng(seed), name, ())
    trace = optimizer_trace(name, **options)
    givens = {"theta": float(theta), trace.meta["gradient"]: float(g),
              **{k: float(v) for k, v in state.items()}, **hyper, "t": t}
    values = trace.evaluate(givens)
    for step, value in rule(float(theta), float(g), givens, hyper, t).items():
        assert values[step] == pytest.approx(value, rel=1e-12, abs=1e-15)


# -- rounded as you go ----------------------------------------------------------------------
def _q(x, decimals):
    return Decimal(x).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def test_notes_update_rounds_half_up():
    trace = optimizer_trace("gd")
    givens = {"theta": 0.7, "g": -0.145, "eta": 0.1}  # section 10, step 6: w13
    assert trace.evaluate(givens)["theta_new"] == pytest.approx(0.7145, abs=1e-15)
    assert trace.evaluate(givens, decimals=3)["theta_new"] == 0.715
    assert trace.substituted_tex("theta_new", givens, 3) == "0.7 - (0.1)(-0.145)"


def test_momentum_rounded_chain_on_a_parabola():
    # f(theta) = theta^2, g = 2 theta; a student rounds every number to 3 places.
    rows = optimizer_steps("momentum", lambda th: 2 * th, 0.777, 3,
                           {"eta": 0.13, "beta": 0.85}, decimals=3)
    theta, v = Decimal("0.777"), Decimal(0)
    for row in rows:
        g = _q(2 * theta, 3)
        v = _q(Decimal("0.85") * v + Decimal("0.13") * g, 3)
        theta = _q(theta - v, 3)
        (values,) = row
        assert [values["g"], values["v_new"], values["theta_new"]] == [
            float(g), float(v), float(theta)]
    assert [r[0]["theta_new"] for r in rows] == [0.575, 0.254, -0.085]


def test_adam_rounded_chain():
    rows = optimizer_steps("adam", lambda th: th**3 - 2 * th, 1.3, 2, {"eta": 0.1},
                           decimals=6)
    theta, m, v = Decimal("1.3"), Decimal(0), Decimal(0)
    b1, b2, eta, eps = Decimal("0.9"), Decimal("0.999"), Decimal("0.1"), Decimal("1e-8")
    for t, (values,) in enumerate(rows, start=1):
        g = _q(theta**3 - 2 * theta, 6)
        m = _q(b1 * m + (1 - b1) * g, 6)
        v = _q(b2 * v + (1 - b2) * g * g, 6)
        mhat, vhat = _q(m / (1 - b1**t), 6), _q(v / (1 - b2**t), 6)
        theta = _q(theta - eta * mhat / (vhat.sqrt() + eps), 6)
        got = [values[k] for k in ("g", "m_new", "v_new", "mhat", "vhat", "theta_new")]
        assert got == [float(x) for x in (g, m, v, mhat, vhat, theta)]


def test_nag_rounded_chain_takes_the_gradient_ahead():
    grad = lambda th: (2 * th[0], 6 * th[1])  # noqa: E731  f = x^2 + 3 y^2
    rows = optimizer_steps("nag", grad, (1.0, -0.5), 2, {"eta": 0.05, "beta": 0.9},
                           decimals=3)
    assert [r["theta_new"] for r in rows[0]] == [0.9, -0.35]
    second = rows[1]  # by hand: ahead = theta - 0.9 v, and the gradient there
    assert [r["theta_ahead"] for r in second] == [0.81, -0.215]
    assert [r["g_ahead"] for r in second] == [1.62, -1.29]
    assert [r["v_new"] for r in second] == [0.171, -0.2]  # -0.1995 rounds away from zero
    assert [r["theta_new"] for r in second] == [0.729, -0.15]
    # a tie in the look-ahead point (1.0005 is 1.000499... as a double) rounds up
    (tie,) = optimizer_steps("nag", lambda th: th, 1.0005, 1, decimals=3)[0]
    assert (tie["theta_ahead"], tie["g_ahead"]) == (1.001, 1.001)


@pytest.mark.parametrize(("name", "options", "rule"), VARIANTS, ids=IDS)
def test_worked_steps_match_array_kernel(name, options, rule):
    grad = lambda th: np.sin(3 * np.asarray(th)) + 0.5  # noqa: E731
    hyper = {"eta": 0.05}
    rows = optimizer_steps(name, lambda th: tuple(grad(th)), (0.4, -1.2), 4, hyper, **options)
    kernel = update_kernel(name, **options)
    params, state = [np.array([0.4, -1.2])], None
    for t, row in enumerate(rows, start=1):
        params, state = kernel(params, [grad(kernel.lookahead(params, state, hyper)[0])],
                               state, hyper, t)
        np.testing.assert_allclose(params[0], [r["theta_new"] for r in row], rtol=1e-13)


# -- two conventions, one trajectory -----------------------------------------------------------
def _trajectory(name, options, steps, grad, theta0, hyper):
    kernel = update_kernel(name, **options)
    params, state, path = [theta0.copy()], None, []
    for t in range(1, steps + 1):
        ahead = kernel.lookahead(params, state, hyper)
        params, state = kernel(params, [grad(ahead[0])], state, hyper, t)
        path.append((ahead[0], params[0], state["v"][0]))
    return path


def test_momentum_conventions_agree_for_constant_eta():
    rng = np.random.default_rng(7)
    theta0, hyper = rng.normal(size=6), {"eta": 0.07, "beta": 0.8}
    grad = lambda th: th**3 - th  # noqa: E731
    notes = _trajectory("momentum", {}, 12, grad, theta0, hyper)
    torch_form = _trajectory("momentum", {"convention": "torch"}, 12, grad, theta0, hyper)
    for (_, th_n, v_n), (_, th_t, v_t) in zip(notes, torch_form, strict=True):
        np.testing.assert_allclose(th_n, th_t, rtol=1e-12)
        np.testing.assert_allclose(v_n, hyper["eta"] * v_t, rtol=1e-12)


def test_nag_torch_parameters_are_the_notes_lookahead_points():
    rng = np.random.default_rng(8)
    theta0, hyper = rng.normal(size=6), {"eta": 0.07, "beta": 0.8}
    grad = lambda th: th**3 - th  # noqa: E731
    notes = _trajectory("nag", {}, 12, grad, theta0, hyper)
    torch_form = _trajectory("nag", {"convention": "torch"}, 12, grad, theta0, hyper)
    for k in range(11):
        # torch's parameter after step k is where the notes look ahead at step k + 1
        np.testing.assert_allclose(torch_form[k][1], notes[k + 1][0], rtol=1e-11)
        np.testing.assert_allclose(notes[k][2], hyper["eta"] * torch_form[k][2], rtol=1e-11)


def test_kernel_leaves_inputs_alone_and_returns_writable_arrays():
    kernel = update_kernel("adam")
    params, grads = [np.ones((2, 2)), np.ones(3)], [np.full((2, 2), 0.5), np.full(3, -1.0)]
    state = kernel.init_state(params)
    new_params, new_state = kernel(params, grads, state, t=1)
    assert np.all(params[0] == 1) and np.all(state["m"][0] == 0)
    new_params[0] += 1.0
    new_state["v"][1] *= 2.0
    assert [p.shape for p in new_params] == [(2, 2), (3,)]


# -- PyTorch, step for step -------------------------------------------------------------------
TORCH_CASES = [
    ("SGD", {"lr": 0.05}, "gd", {"eta": 0.05}, {}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}, "momentum", {"eta": 0.05, "beta": 0.9},
     {"convention": "torch"}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}, "nag",
     {"eta": 0.05, "beta": 0.9}, {"convention": "torch"}),
    ("Adagrad", {"lr": 0.1, "eps": 1e-6, "lr_decay": 0, "initial_accumulator_value": 0},
     "adagrad", {"eta": 0.1, "eps": 1e-6}, {}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-6}, "rmsprop",
     {"eta": 0.01, "rho": 0.9, "eps": 1e-6}, {}),
    ("Adam", {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6}, "adam",
     {"eta": 0.02, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6}, {}),
]


@pytest.mark.parametrize(("torch_name", "torch_kwargs", "name", "hyper", "options"),
                         TORCH_CASES, ids=[c[0] + "-" + c[2] for c in TORCH_CASES])
def test_against_torch(torch_name, torch_kwargs, name, hyper, options):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    start = [rng.normal(size=(3, 4)), rng.normal(size=5)]
    grads = [[rng.normal(size=p.shape) for p in start] for _ in range(6)]
    tensors = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in start]
    optimizer = getattr(torch.optim, torch_name)(tensors, **torch_kwargs)
    kernel = update_kernel(name, **options)
    params, state = [p.copy() for p in start], None
    for t, step_grads in enumerate(grads, start=1):
        for tensor, g in zip(tensors, step_grads, strict=True):
            tensor.grad = torch.tensor(g, dtype=torch.float64)
        optimizer.step()
        params, state = kernel(params, step_grads, state, hyper, t)
        for tensor, p in zip(tensors, params, strict=True):
            np.testing.assert_allclose(p, tensor.detach().numpy(), rtol=1e-12, atol=1e-14)
