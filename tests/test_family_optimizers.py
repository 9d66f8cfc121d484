"""optimizer_steps and lr_schedule families against plain restatements of the textbook formulas.

The oracles below use no chainrule code: each optimizer's update and each schedule is written
out again in plain Python and run step by step, exactly in floats and rounded as a student
goes in Decimal arithmetic (sums and products exact, half away from zero), so ties such as
0.7145 round as on paper. Where torch is installed, torch.optim and its schedulers check the
exact chains too.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext

import pytest

from chainrule.errors import ChainruleError
from chainrule.problems.base import get_family, make_problem, make_problems, problem_from_id
from chainrule.problems.families.optimizers import optimizer_run_trace
from chainrule.render.environment import tex_escape
from chainrule.render.problemset import render_set
from chainrule.symbolic.optimizers import optimizer_steps

OPTIMIZER_VARIANTS = [
    {"optimizer": "gd"},
    {"optimizer": "momentum"},
    {"optimizer": "momentum", "convention": "torch"},
    {"optimizer": "nag"},
    {"optimizer": "nag", "convention": "torch"},
    {"optimizer": "adagrad"},
    {"optimizer": "adagrad", "eps_placement": "inside"},
    {"optimizer": "rmsprop"},
    {"optimizer": "rmsprop", "eps_placement": "inside"},
    {"optimizer": "adam"},
    {"optimizer": "adam", "eps_placement": "inside"},
]
SCHEDULES = ["step", "exponential", "inverse_time", "cosine_restarts"]
MIN_DECIMALS = {"gd": 3, "momentum": 3, "nag": 3, "adagrad": 4, "rmsprop": 4, "adam": 5}


def _optimizer_requests(count):
    """``count`` requests cycling through every optimizer variant, model, step count,
    asked decimals (3, or 6: more than any minimum) and, now and then, a chosen eta."""
    family = get_family("optimizer_steps")
    requests = []
    for i in range(count):
        raw = dict(OPTIMIZER_VARIANTS[i % len(OPTIMIZER_VARIANTS)])
        raw["model"] = ("quadratic1d", "bowl2d")[i // len(OPTIMIZER_VARIANTS) % 2]
        raw["steps"] = (2, 3)[i // (2 * len(OPTIMIZER_VARIANTS)) % 2]
        if i % 13 == 0 and raw["optimizer"] in ("gd", "momentum", "nag"):
            raw["eta"] = 0.15
        decimals = 6 if i % 5 == 0 else 3
        requests.append((family, 1000 + i, family.parse_options(raw), decimals, None))
    return requests


def _schedule_requests(count):
    family = get_family("lr_schedule")
    requests = []
    for i in range(count):
        raw = {"schedule": SCHEDULES[i % 4], "epochs": (None, 3, 4)[i // 4 % 3]}
        decimals = 5 if i % 7 == 0 else 3
        requests.append((family, 5000 + i, family.parse_options(raw), decimals, None))
    return requests


@pytest.fixture(scope="module")
def optimizer_problems():
    return make_problems(_optimizer_requests(1320))


@pytest.fixture(scope="module")
def schedule_problems():
    return make_problems(_schedule_requests(1000))


# -- plain restatements ----------------------------------------------------------------------
def D(x):
    return x if isinstance(x, Decimal) else Decimal(repr(float(x)))


def rnd(x, d):
    """Round half away from zero (a value within 1e-35 of a tie is the tie it stands for)."""
    snapped = Context(prec=35).plus(D(x))
    return snapped.quantize(Decimal(1).scaleb(-d), rounding=ROUND_HALF_UP)


def run_optimizer(opt, convention, inside, a, c, theta0, h, steps, d):
    """One parameter's run by the textbook rules: {suffix_t: value} (suffix-free names).

    With d=None everything is float and nothing is rounded; with d every value is a Decimal
    rounded to d places as it is written down.
    """
    if d is None:
        num, r, sqrt = float, (lambda x: x), math.sqrt
    else:
        num, r, sqrt = D, (lambda x: rnd(x, d)), (lambda x: x.sqrt())
    a, c, theta = num(a), num(c), num(theta0)
    h = {k: num(v) for k, v in h.items()}
    eta = h["eta"]
    one = num(1)
    v = m = big_g = s = num(0)
    out = {}

    def grad(at):
        return r(2 * a * (at - c))

    def root(x):
        return sqrt(x + h["eps"]) if inside else sqrt(x) + h["eps"]

    for t in range(1, steps + 1):
        if opt == "gd":
            g = out[f"g_{t}"] = grad(theta)
            theta = r(theta - eta * g)
        elif opt == "momentum" and convention == "notes":
            g = out[f"g_{t}"] = grad(theta)
            v = out[f"v_{t}"] = r(h["beta"] * v + eta * g)
            theta = r(theta - v)
        elif opt == "momentum":
            g = out[f"g_{t}"] = grad(theta)
            v = out[f"v_{t}"] = r(h["beta"] * v + g)
            theta = r(theta - eta * v)
        elif opt == "nag" and convention == "notes":
            ahead = out[f"theta_ahead_{t}"] = r(theta - h["beta"] * v)
            g = out[f"g_ahead_{t}"] = grad(ahead)
            v = out[f"v_{t}"] = r(h["beta"] * v + eta * g)
            theta = r(theta - v)
        elif opt == "nag":
            g = out[f"g_{t}"] = grad(theta)
            v = out[f"v_{t}"] = r(h["beta"] * v + g)
            theta = r(theta - eta * (g + h["beta"] * v))
        elif opt == "adagrad":
            g = out[f"g_{t}"] = grad(theta)
            big_g = out[f"G_{t}"] = r(big_g + g * g)
            theta = r(theta - eta * g / root(big_g))
        elif opt == "rmsprop":
            g = out[f"g_{t}"] = grad(theta)
            s = out[f"s_{t}"] = r(h["rho"] * s + (one - h["rho"]) * g * g)
            theta = r(theta - eta * g / root(s))
        else:
            b1, b2 = h["beta1"], h["beta2"]
            g = out[f"g_{t}"] = grad(theta)
            m = out[f"m_{t}"] = r(b1 * m + (one - b1) * g)
            v = out[f"v_{t}"] = r(b2 * v + (one - b2) * g * g)
            mhat = out[f"mhat_{t}"] = r(m / (one - b1**t))
            vhat = out[f"vhat_{t}"] = r(v / (one - b2**t))
            theta = r(theta - eta * mhat / root(vhat))
        out[f"theta_{t}"] = theta
    return out


def optimizer_oracle(p, d):
    """Every step of problem ``p`` by the textbook rules, under the family's step names."""
    o = p.options
    hyper = {k: p.givens[k] for k in ("eta", "beta", "rho", "beta1", "beta2", "eps")
             if k in p.givens}
    params = [""] if o["model"] == "quadratic1d" else ["1", "2"]
    result = {}
    with localcontext() as ctx:
        ctx.prec = 60
        for i in params:
            run = run_optimizer(o["optimizer"], o["convention"], o["eps_placement"] == "inside",
                                p.givens[f"a{i}"], p.givens[f"c{i}"], p.givens[f"theta{i}_0"],
                                hyper, o["steps"], d)
            for name, value in run.items():
                stem, t = name.rsplit("_", 1)
                result[f"{stem}{i}_{t}"] = float(value) + 0.0
    return result


def naive_sgdr_position(t, t0, t_mult):
    """Walk the cycles one by one: subtract each finished cycle from t."""
    t_i = t0
    while t >= t_i:
        t -= t_i
        t_i *= t_mult
    return t, t_i


def decimal_pi():
    """pi to the context's precision (the decimal module's documented recipe)."""
    with localcontext() as ctx:
        ctx.prec += 2
        three = Decimal(3)
        lasts, t, s, n, na, d, da = 0, three, 3, 1, 0, 0, 24
        while s != lasts:
            lasts = s
            n, na = n + na, na + 8
            d, da = d + da, da + 32
            t = (t * n) / d
            s += t
    return +s


def decimal_cos(x):
    """cos(x) by its Taylor series (the decimal module's documented recipe)."""
    with localcontext() as ctx:
        ctx.prec += 2
        i, lasts, s, fact, num, sign = 0, 0, 1, 1, 1, 1
        while s != lasts:
            lasts = s
            i += 2
            fact *= i * (i - 1)
            num *= x * x
            sign *= -1
            s += num / fact * sign
    return +s


def schedule_value(schedule, g, t, exact):
    """eta at epoch t by the schedule's formula: a float, or an exact-ish Decimal."""
    if exact:
        if schedule == "step":
            return g["eta0"] * g["gamma"] ** math.floor(t / g["step_size"])
        if schedule == "exponential":
            return g["eta0"] * math.exp(-g["k"] * t)
        if schedule == "inverse_time":
            return g["eta0"] / (1 + g["k"] * t)
        t_cur, t_i = naive_sgdr_position(t, g["T_0"], g["T_mult"])
        lo, hi = g["eta_min"], g["eta_max"]
        return lo + 0.5 * (hi - lo) * (1 + math.cos(math.pi * t_cur / t_i))
    g = {k: D(v) for k, v in g.items()}
    t = Decimal(t)
    if schedule == "step":
        return g["eta0"] * g["gamma"] ** int(t // g["step_size"])
    if schedule == "exponential":
        return g["eta0"] * (-g["k"] * t).exp()
    if schedule == "inverse_time":
        return g["eta0"] / (1 + g["k"] * t)
    t_cur, t_i = naive_sgdr_position(t, g["T_0"], g["T_mult"])
    lo, hi = g["eta_min"], g["eta_max"]
    return lo + (hi - lo) * (1 + decimal_cos(decimal_pi() * t_cur / t_i)) / 2


# -- every key value against the restatements ------------------------------------------------
def test_optimizer_variants_agree_with_the_textbook_rules(optimizer_problems):
    assert len(optimizer_problems) >= 1000
    seen = set()
    for p in optimizer_problems:
        exact, rounded = optimizer_oracle(p, None), optimizer_oracle(p, p.decimals)
        assert set(p.asked) == set(exact), p.id
        for name in p.asked:
            assert p.rounded[name] == rounded[name], (p.id, name)
            assert p.exact[name] == pytest.approx(exact[name], rel=1e-9, abs=1e-12), (p.id, name)
        seen.add((p.options["optimizer"], p.options["convention"], p.options["eps_placement"],
                  p.options["model"], p.options["steps"], p.decimals))
    assert len(seen) == 88  # 11 variants x 2 models x 2 step counts x 2 decimals


def test_schedule_variants_agree_with_the_formulas(schedule_problems):
    assert len(schedule_problems) >= 1000
    for p in schedule_problems:
        schedule, g = p.options["schedule"], p.givens
        epochs = [int(n.split("_")[1]) for n in p.asked if n.startswith("eta_")]
        if schedule == "cosine_restarts":
            # T_i and T_cur are asked: steps of the key, not givens.
            assert set(p.asked) == {f"{s}_{t}" for t in epochs for s in ("eta", "T_i", "T_cur")}
        else:
            assert len(p.asked) == len(epochs)
        assert len(epochs) in (3, 4) and epochs == sorted(set(epochs)), p.id
        with localcontext() as ctx:
            ctx.prec = 60
            for t in epochs:
                assert g[f"t_{t}"] == t
                if schedule == "cosine_restarts":
                    t_cur, t_i = naive_sgdr_position(t, g["T_0"], g["T_mult"])
                    assert (p.exact[f"T_cur_{t}"], p.exact[f"T_i_{t}"]) == (t_cur, t_i), (p.id, t)
                    assert (p.rounded[f"T_cur_{t}"], p.rounded[f"T_i_{t}"]) == (t_cur, t_i)
                    assert f"T_cur_{t}" not in g and f"T_i_{t}" not in g
                name = f"eta_{t}"
                expected = float(rnd(schedule_value(schedule, g, t, False), p.decimals))
                assert p.rounded[name] == expected, (p.id, name)
                assert p.exact[name] == pytest.approx(
                    schedule_value(schedule, g, t, True), rel=1e-9, abs=1e-12), (p.id, name)


# -- and against PyTorch ---------------------------------------------------------------------
def _torch_optimizer(torch, p, param):
    o, g = p.options, p.givens
    name, eta = o["optimizer"], g["eta"]
    if name == "gd":
        return torch.optim.SGD([param], lr=eta)
    if name in ("momentum", "nag"):
        return torch.optim.SGD([param], lr=eta, momentum=g["beta"], nesterov=name == "nag")
    if name == "adagrad":
        return torch.optim.Adagrad([param], lr=eta, eps=g["eps"])
    if name == "rmsprop":
        return torch.optim.RMSprop([param], lr=eta, alpha=g["rho"], eps=g["eps"])
    return torch.optim.Adam([param], lr=eta, betas=(g["beta1"], g["beta2"]), eps=g["eps"])


def test_exact_chains_agree_with_torch_optim(torch, optimizer_problems):
    checked = 0
    for p in optimizer_problems:
        if p.options["eps_placement"] == "inside":
            continue  # torch adds eps outside the root
        suffixes = [""] if p.options["model"] == "quadratic1d" else ["1", "2"]
        a = torch.tensor([p.givens[f"a{i}"] for i in suffixes])
        c = torch.tensor([p.givens[f"c{i}"] for i in suffixes])
        param = torch.tensor([p.givens[f"theta{i}_0"] for i in suffixes], requires_grad=True)
        optimizer = _torch_optimizer(torch, p, param)
        name, convention = p.options["optimizer"], p.options["convention"]
        beta = p.givens.get("beta", 0.0)
        for t in range(1, p.options["steps"] + 1):
            optimizer.zero_grad()
            (a * (param - c) ** 2).sum().backward()
            optimizer.step()
            state = optimizer.state[param]
            for k, i in enumerate(suffixes):
                value = float(param.detach()[k])
                theta, v = p.exact[f"theta{i}_{t}"], p.exact.get(f"v{i}_{t}")
                if name == "nag" and convention == "notes":
                    # torch keeps the look-ahead point theta - beta*v; its buffer is v/eta.
                    assert value == pytest.approx(theta - beta * v, rel=1e-9, abs=1e-12)
                else:
                    assert value == pytest.approx(theta, rel=1e-9, abs=1e-12), (p.id, t)
                expected_state = {
                    "momentum": ("momentum_buffer", v), "nag": ("momentum_buffer", v),
                    "adagrad": ("sum", p.exact.get(f"G{i}_{t}")),
                    "rmsprop": ("square_avg", p.exact.get(f"s{i}_{t}")),
                    "adam": ("exp_avg_sq", v),
                }.get(name)
                if expected_state is not None:
                    key, want = expected_state
                    if name in ("momentum", "nag") and convention == "notes":
                        want = want / p.givens["eta"]
                    assert float(state[key][k]) == pytest.approx(want, rel=1e-9, abs=1e-12)
                if name == "adam":
                    assert float(state["exp_avg"][k]) == pytest.approx(
                        p.exact[f"m{i}_{t}"], rel=1e-9, abs=1e-12)
        checked += 1
        if checked >= 160:
            break
    assert checked == 160


def test_schedules_agree_with_torch_schedulers(torch, schedule_problems):
    sched = torch.optim.lr_scheduler
    checked = 0
    for p in schedule_problems[:80]:
        g, schedule = p.givens, p.options["schedule"]
        epochs = [int(n.split("_")[1]) for n in p.asked if n.startswith("eta_")]
        if schedule == "cosine_restarts":
            # T_i and T_cur are asked: steps of the key, not givens.
            assert set(p.asked) == {f"{s}_{t}" for t in epochs for s in ("eta", "T_i", "T_cur")}
        else:
            assert len(p.asked) == len(epochs)
        first = g.get("eta0", g.get("eta_max"))
        optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=first)
        if schedule == "step":
            scheduler = sched.StepLR(optimizer, step_size=int(g["step_size"]), gamma=g["gamma"])
        elif schedule == "exponential":
            scheduler = sched.ExponentialLR(optimizer, gamma=math.exp(-g["k"]))
        elif schedule == "inverse_time":
            scheduler = sched.LambdaLR(optimizer, lambda t, k=g["k"]: 1 / (1 + k * t))
        else:
            scheduler = sched.CosineAnnealingWarmRestarts(
                optimizer, T_0=int(g["T_0"]), T_mult=int(g["T_mult"]), eta_min=g["eta_min"])
        rates = []
        for _ in range(max(epochs) + 1):
            rates.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            scheduler.step()
        for t in epochs:
            assert rates[t] == pytest.approx(p.exact[f"eta_{t}"], rel=1e-9, abs=1e-12), p.id
        checked += 1
    assert checked == 80


def test_chained_trace_is_the_one_step_trace_run_repeatedly():
    """The library's own step-by-step runner gives the same rounded chain."""
    for k, raw in enumerate(OPTIMIZER_VARIANTS):
        p = make_problem("optimizer_steps", 77 + k, raw)
        o = p.options
        variant = {key: o[key] for key in ("convention", "eps_placement")
                   if key in raw}
        hyper = {n: p.givens[n] for n in p.trace.meta["hyper"]}
        a, c = p.givens["a"], p.givens["c"]
        history = optimizer_steps(o["optimizer"], lambda th, a=a, c=c: 2 * a * (th - c),
                                  p.givens["theta_0"], o["steps"], hyper,
                                  decimals=p.decimals, **variant)
        for t, (row,) in enumerate(history, 1):
            assert row["theta_new"] == p.rounded[f"theta_{t}"], (p.id, t)


# -- structure and names ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("optimizer", "variant", "model", "texts"),
    [
        ("momentum", (("convention", "notes"),), "quadratic1d",
         {"g_2": "2*a*(theta_1 - c)", "v_2": "beta*v_1 + eta*g_2", "theta_2": "theta_1 - v_2"}),
        ("nag", (("convention", "notes"),), "quadratic1d",
         {"theta_ahead_2": "theta_1 - beta*v_1", "g_ahead_2": "2*a*(theta_ahead_2 - c)",
          "v_2": "beta*v_1 + eta*g_ahead_2"}),
        ("nag", (("convention", "torch"),), "bowl2d",
         {"v2_1": "beta*v2_0 + g2_1", "theta2_1": "theta2_0 - eta*(g2_1 + beta*v2_1)"}),
        ("adam", (("eps_placement", "outside"),), "quadratic1d",
         {"mhat_2": "m_2/(1 - beta1**2)", "vhat_1": "v_1/(1 - beta2**1)",
          "theta_3": "theta_2 - eta*mhat_3/(sqrt(vhat_3) + eps)"}),
        ("rmsprop", (("eps_placement", "inside"),), "bowl2d",
         {"s1_2": "rho*s1_1 + (1 - rho)*g1_2**2",
          "theta1_2": "theta1_1 - eta*g1_2/(sqrt(s1_2 + eps))"}),
    ],
)
def test_chained_formulas(optimizer, variant, model, texts):
    trace = optimizer_run_trace(optimizer, 3, model, variant)
    for name, text in texts.items():
        assert trace.formula_text(name) == text


def test_step_names_and_order():
    trace = optimizer_run_trace("nag", 2, "quadratic1d", (("convention", "notes"),))
    assert trace.givens == ("a", "c", "theta_0", "v_0", "eta", "beta")
    assert trace.names == ("theta_ahead_1", "g_ahead_1", "v_1", "theta_1",
                           "theta_ahead_2", "g_ahead_2", "v_2", "theta_2")
    assert trace.equation_tex("g_ahead_2") == (
        r"\tilde{g}_{2} = 2 a \left(\tilde{\theta}_{2} - c\right)")
    trace = optimizer_run_trace("adagrad", 2, "bowl2d", (("eps_placement", "outside"),))
    assert trace.names[:6] == ("g1_1", "g2_1", "G1_1", "G2_1", "theta1_1", "theta2_1")
    assert trace.equation_tex("G2_2") == r"G_{2}^{(2)} = G_{2}^{(1)} + \left(g_{2}^{(2)}\right)^{2}"
    p = make_problem("optimizer_steps", 3, {"optimizer": "adam", "steps": 2})
    assert p.asked == p.trace.names
    assert p.title == "Optimizer steps: two steps of Adam on a one-parameter quadratic"
    p = make_problem("lr_schedule", 3, {"schedule": "sgdr"})
    assert all(re.fullmatch(r"(eta|T_i|T_cur)_\d+", n) for n in p.asked)
    assert [n.split("_")[0] for n in p.asked[:3]] == ["T", "T", "eta"]
    assert p.title.startswith("Learning-rate schedule: cosine annealing with warm restarts")


def test_decimals_are_raised_to_what_the_optimizer_needs(optimizer_problems):
    requests = _optimizer_requests(len(optimizer_problems))
    for request, p in zip(requests, optimizer_problems, strict=True):
        assert p.decimals == max(request[3], MIN_DECIMALS[p.options["optimizer"]]), p.id
    assert make_problem("lr_schedule", 1).decimals == 4
    assert make_problem("lr_schedule", 1, decimals=6).decimals == 6


def test_drawn_numbers_are_good_by_hand(optimizer_problems, schedule_problems):
    for p in optimizer_problems:
        for i in ([""] if p.options["model"] == "quadratic1d" else ["1", "2"]):
            a, c, theta0 = p.givens[f"a{i}"], p.givens[f"c{i}"], p.givens[f"theta{i}_0"]
            assert a in (0.5, 1, 1.5, 2) and round(c, 1) == c and round(theta0, 1) == theta0
            low = 1.0 if p.options["optimizer"] == "adam" else 0.5
            assert low - 1e-9 <= abs(2 * a * (theta0 - c)) <= 3 + 1e-9
        smallest = 10.0 ** (1 - MIN_DECIMALS[p.options["optimizer"]])  # two digits at least
        assert all(abs(p.exact[n]) >= smallest for n in p.asked), p.id
    for p in schedule_problems:
        assert all(0.001 <= p.exact[n] <= 0.5 for n in p.asked if n.startswith("eta_")), p.id


# -- IDs, determinism, rendering, bad options ------------------------------------------------
def test_same_requests_give_the_same_problems():
    first = make_problems(_optimizer_requests(60) + _schedule_requests(40))
    again = make_problems(_optimizer_requests(60) + _schedule_requests(40))
    for p, q in zip(first, again, strict=True):
        assert (p.id, p.title, p.givens, p.exact, p.rounded) == (
            q.id, q.title, q.givens, q.exact, q.rounded)
    assert render_set(first, "solutions", "md", title="x") == render_set(
        again, "solutions", "md", title="x")


def test_problem_from_id_regenerates_the_problem(optimizer_problems, schedule_problems):
    for p in [*optimizer_problems[:90], *schedule_problems[:60]]:
        q = problem_from_id(p.id)
        assert (q.id, q.title, q.decimals, q.givens, q.rounded, q.exact, q.asked) == (
            p.id, p.title, p.decimals, p.givens, p.rounded, p.exact, p.asked)
    p = make_problem("optimizer_steps", 9, {"optimizer": "nesterov", "eta": "0.05",
                                            "convention": "torch", "model": "bowl2d"})
    assert "~optimizer:nag" in p.id and "~eta:0.05" in p.id
    assert problem_from_id(p.id).rounded == p.rounded


@pytest.mark.parametrize("fmt", ["md", "tex"])
def test_every_optimizer_and_schedule_renders(fmt):
    problems = [make_problem("optimizer_steps", 21 + k, {**raw, "model": model})
                for k, raw in enumerate(OPTIMIZER_VARIANTS) for model in ("quadratic1d", "bowl2d")]
    problems += [make_problem("lr_schedule", 31 + k, {"schedule": s})
                 for k, s in enumerate(SCHEDULES)]
    questions = render_set(problems, "questions", fmt, title="Optimizers")
    solutions = render_set(problems, "solutions", fmt, title="Optimizers")
    for p in problems:
        assert (tex_escape(p.id) if fmt == "tex" else p.id) in solutions
        assert f"Rounding to {p.decimals} decimals" in questions or (
            f"Round every value to {p.decimals} decimals" in questions)
        last = p.step_records([p.asked[-1]])[0]
        assert last["rounded_text"] in solutions
    assert "1e-08" not in questions + solutions
    assert "10^{-8}" in questions and "PyTorch's convention" in questions
    assert "T_{\\mathrm{cur}} = " in solutions
    assert ", ," not in questions + solutions


@pytest.mark.parametrize(
    ("family", "options", "message"),
    [
        ("optimizer_steps", {"optimizer": "adamw"}, "unknown optimizer 'adamw'"),
        ("optimizer_steps", {"steps": 4}, "must be at most 3"),
        ("optimizer_steps", {"steps": 1}, "must be at least 2"),
        ("optimizer_steps", {"model": "bowl3d"}, "expected one of quadratic1d, bowl2d"),
        ("optimizer_steps", {"optimizer": "adam", "convention": "torch"},
         "option 'convention' applies to momentum and nag only"),
        ("optimizer_steps", {"optimizer": "momentum", "eps_placement": "inside"},
         "option 'eps_placement' applies to adagrad, rmsprop and adam only"),
        ("optimizer_steps", {"eta": 0},
         "option 'eta': the learning rate must be a finite number > 0"),
        ("optimizer_steps", {"eta": "fast"}, "is not a number"),
        ("optimizer_steps", {"lr": 0.1}, "has no option 'lr'"),
        ("lr_schedule", {"schedule": "constant"}, "expected one of step, exponential"),
        ("lr_schedule", {"schedule": "cosin"}, "unknown schedule 'cosin'"),
        ("lr_schedule", {"epochs": 5}, "must be at most 4"),
        ("lr_schedule", {"epochs": 2.5}, "whole number"),
    ],
)
def test_bad_options(family, options, message):
    with pytest.raises(ChainruleError, match=re.escape(message)):
        make_problem(family, 1, options)


def test_bad_ids_and_aliases():
    with pytest.raises(ChainruleError, match="option 'optimizer'"):
        problem_from_id("op-00000001~optimizer:adamw")
    with pytest.raises(ChainruleError, match="option 'schedule'"):
        problem_from_id("ls-00000001~schedule:cyclic")
    family = get_family("lr_schedule")
    assert family.parse_options({"schedule": "SGDR"})["schedule"] == "cosine_restarts"
    assert family.parse_options({"schedule": "1/t"})["schedule"] == "inverse_time"
    family = get_family("optimizer_steps")
    assert family.parse_options({"optimizer": "SGD"})["optimizer"] == "gd"


def test_rounded_chain_is_close_to_the_exact_one(optimizer_problems):
    """The decimals chosen keep the student's chain meaningful: each theta within 2% of a
    step of the exact one (measured: at most 1.3%)."""
    for p in optimizer_problems:
        trace = p.trace
        for group in trace.meta["groups"]:
            for name in group["names"]:
                if trace[name].kind == "update":
                    stem, t = name.rsplit("_", 1)
                    step = abs(p.exact[name] - p.exact[f"{stem}_{int(t) - 1}"])
                    assert abs(p.rounded[name] - p.exact[name]) <= 0.02 * step + 1e-12, (
                        p.id, name)


def test_numbers_in_solutions_are_the_students_chain():
    p = make_problem("optimizer_steps", 5, {"optimizer": "nag"})
    text = render_set([p], "solutions", "md", title="x")
    texts = {r["name"]: r["rounded_text"] for r in p.step_records()}
    a, c = p.givens["a"], p.givens["c"]
    c_text = f"{c:g}" if c >= 0 else rf"\left({c:g}\right)"
    theta = texts["theta_ahead_2"]
    theta = theta if not theta.startswith("-") else rf"\left({theta}\right)"
    assert f"2({a:g})\\left({theta} - {c_text}\\right)" in text
