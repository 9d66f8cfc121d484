"""Network families against an independent, plain-Python forward and backward pass.

The oracle below is written from the notes' formulas alone (layer loops, math.exp, Decimal
arithmetic and rounding): it does not use chainrule's traces, printers or kernels. Sums and
products are exact decimals, as on paper; exp, log and tanh are floats read back as decimals.
"""

import decimal
import math
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pytest

from chainrule.problems.base import get_family, make_problem, make_problems, problem_from_id

decimal.getcontext().prec = 60


def D(x):
    return x if isinstance(x, Decimal) else Decimal(repr(float(x)))


def rnd(x, d):
    """Round half away from zero."""
    return D(x).quantize(Decimal(1).scaleb(-d), rounding=ROUND_HALF_UP)


def F(fn):
    """A float function applied to a decimal, its result read back as a decimal."""
    return lambda x: D(fn(float(x)))


def oracle(layers, hidden, output, loss, g, d):
    """Rounded-as-you-go forward, loss, deltas, gradients and updates, by the book.

    Returns {name: value}. With d=None nothing is rounded (the exact chain).
    """
    r = (lambda x: x) if d is None else (lambda x: rnd(x, d))
    act = {"sigmoid": F(lambda z: 1 / (1 + math.exp(-z))), "tanh": F(math.tanh)}
    der = {"sigmoid": lambda a: a * (1 - a), "tanh": lambda a: 1 - a * a}
    g = {k: D(v) for k, v in g.items()}
    log = F(math.log)
    out = {}
    ids, start = [], 1
    for size in layers[1:]:
        ids.append(list(range(start, start + size)))
        start += size
    k = layers[-1]
    outs = ["yhat"] if k == 1 else [f"yhat{i + 1}" for i in range(k)]
    tgts = ["y"] if k == 1 else [f"y{i + 1}" for i in range(k)]

    def wname(i, j):
        return f"w{i}{j}" if i < 10 and j < 10 else f"w{i}_{j}"

    src = [(f"x{i + 1}", i + 1) for i in range(layers[0])]
    sources = []
    for li, layer in enumerate(ids):
        sources.append(src)
        last = li == len(ids) - 1
        zs = []
        for j in layer:
            z = sum(g[wname(num, j)] * (g[n] if n in g else out[n]) for n, num in src) + g[f"b{j}"]
            out[f"z{j}"] = r(z)
            zs.append(out[f"z{j}"])
            if not last:
                out[f"a{j}"] = r(act[hidden](out[f"z{j}"]))
        if last:
            if output == "softmax":
                e = [D(math.exp(z)) for z in zs]
                for name, v in zip(outs, e, strict=False):
                    out[name] = r(v / sum(e))
            elif output == "linear":
                for name, z in zip(outs, zs, strict=False):
                    out[name] = r(z)
            else:
                for name, z in zip(outs, zs, strict=False):
                    out[name] = r(act[output](z))
        src = [(f"a{j}", j) for j in layer]
    ys = [g[t] for t in tgts]
    ps = [out[o] for o in outs]
    if loss == "bce":
        out["L"] = r(-(ys[0] * log(ps[0]) + (1 - ys[0]) * log(1 - ps[0])))
    elif loss == "cce":
        out["L"] = r(-sum(y * log(p) for y, p in zip(ys, ps, strict=False)))
    elif loss == "mse":
        out["L"] = r(sum((y - p) ** 2 for y, p in zip(ys, ps, strict=False)))
    for j, y, p in zip(ids[-1], ys, ps, strict=False):
        out[f"delta{j}"] = r(2 * (p - y)) if loss == "mse" else r(p - y)
    for li in range(len(ids) - 1, -1, -1):
        if li < len(ids) - 1:
            for j in ids[li]:
                out[f"fprime{j}"] = r(der[hidden](out[f"a{j}"]))
                back = sum(g[wname(j, kk)] * out[f"delta{kk}"] for kk in ids[li + 1])
                out[f"delta{j}"] = r(back * out[f"fprime{j}"])
        for j in ids[li]:
            for n, num in sources[li]:
                value = g[n] if n in g else out[n]
                out[f"dL_d{wname(num, j)}"] = r(out[f"delta{j}"] * value)
            out[f"dL_db{j}"] = out[f"delta{j}"]
    for name in list(g):
        if name.startswith(("w", "b")) and f"dL_d{name}" in out:
            out[f"{name}_new"] = r(g[name] - g["eta"] * out[f"dL_d{name}"])
    return {k: float(v) + 0.0 for k, v in out.items()}


CASES = [
    ({"net": "2-2-1"}, (2, 2, 1), "sigmoid", "sigmoid", "bce", 1000),
    ({"net": "2-3-2", "loss": "cce"}, (2, 3, 2), "sigmoid", "softmax", "cce", 300),
    ({"net": "3-2-1", "loss": "mse", "hidden": "tanh"}, (3, 2, 1), "tanh", "linear", "mse", 300),
    ({"net": "2-2-2-1"}, (2, 2, 2, 1), "sigmoid", "sigmoid", "bce", 200),
]


@pytest.mark.parametrize(("options", "layers", "hidden", "output", "loss", "count"), CASES)
def test_backprop_variants_agree_with_an_independent_oracle(
    options, layers, hidden, output, loss, count
):
    family = get_family("backprop")
    parsed = family.parse_options(options)
    problems = make_problems([(family, seed, parsed, 3, None) for seed in range(count)])
    for p in problems:
        # Three decimals, raised to four for two hidden layers (two significant digits).
        assert p.decimals == (3 if len(layers) == 3 else 4)
        rounded = oracle(layers, hidden, output, loss, p.givens, p.decimals)
        exact = oracle(layers, hidden, output, loss, p.givens, None)
        for name in p.asked:
            assert p.rounded[name] == rounded[name], (p.id, name)
            assert p.exact[name] == pytest.approx(exact[name], rel=1e-9, abs=1e-12), (p.id, name)
        assert set(p.asked) == set(rounded), p.id


def test_forward_family_asks_the_forward_pass_and_loss():
    p = make_problem("forward", 11, {"net": "2-3-1"})
    assert p.asked[-1] == "L" and p.asked[0] == "z1"
    assert not any(n.startswith(("delta", "dL_")) for n in p.asked)
    expected = oracle((2, 3, 1), "sigmoid", "sigmoid", "bce", {**p.givens, "eta": 0.1}, 3)
    for name in p.asked:
        assert p.rounded[name] == expected[name]


def test_drawn_givens_are_good_to_work_by_hand():
    family = get_family("backprop")
    options = family.parse_options({})
    for p in make_problems([(family, s, options, 3, None) for s in range(300)]):
        params = [v for k, v in p.givens.items() if k.startswith(("w", "b"))]
        assert all(v != 0 and abs(v) <= 1 and round(v, 1) == v for v in params)
        assert all(p.givens[x] != 0 for x in ("x1", "x2"))  # no zero input unless asked
        for name in ("a1", "a2", "yhat"):
            assert 0.02 <= p.exact[name] <= 0.98
        assert all(abs(p.rounded[n]) > 0 for n in p.asked if n.startswith("delta"))
        assert p.givens["eta"] in (0.1, 0.2, 0.4)


def test_same_seed_same_problem_and_ids_regenerate():
    a = make_problem("backprop", 99, {"net": "2-3-2", "loss": "cce", "hidden": "tanh"})
    b = make_problem("backprop", 99, {"net": "2-3-2", "loss": "cce", "hidden": "tanh"})
    assert a.givens == b.givens and a.rounded == b.rounded and a.id == b.id
    c = problem_from_id(a.id)
    assert c.givens == a.givens and c.rounded == a.rounded and c.family == "backprop"
    d = make_problem("backprop", 99, decimals=4)
    assert "decimals:4" in d.id and problem_from_id(d.id).decimals == 4
    assert make_problem("backprop", 100).givens != a.givens


def test_variants_differ():
    family = get_family("backprop")
    options = family.parse_options({})
    problems = make_problems([(family, s, options, 3, None) for s in range(50)])
    assert len({tuple(p.givens.values()) for p in problems}) == 50


def test_softmax_outputs_not_all_equal():
    family = get_family("backprop")
    options = family.parse_options({"net": "2-2-3", "loss": "cce"})
    for p in make_problems([(family, s, options, 3, None) for s in range(100)]):
        outs = [p.exact[f"yhat{k}"] for k in (1, 2, 3)]
        assert max(outs) - min(outs) >= 0.05


def test_relu_units_away_from_the_kink():
    family = get_family("backprop")
    options = family.parse_options({"net": "2-3-1", "hidden": "relu"})
    for p in make_problems([(family, s, options, 3, None) for s in range(100)]):
        zs = [p.exact[f"z{j}"] for j in (1, 2, 3)]
        assert all(abs(z) >= 0.05 for z in zs) and max(zs) > 0


def test_unknown_option_is_an_error():
    from chainrule.errors import ChainruleError

    with pytest.raises(ChainruleError, match="no option 'layers'"):
        make_problem("backprop", 1, {"layers": "2-2-1"})
    with pytest.raises(ChainruleError, match="option 'hidden'"):
        make_problem("backprop", 1, {"hidden": "swish"})
    with pytest.raises(ChainruleError, match="unknown problem family"):
        make_problem("backprob", 1)


def test_vectorized_rounded_chain_equals_the_trace_chain():
    from chainrule.numeric.evaluate import evaluate_rounded

    p = make_problem("backprop", 5)
    rng = np.random.default_rng(3)
    batch = {g: np.round(rng.uniform(-1, 1, 400), 2) for g in p.trace.givens}
    batch["y"] = rng.integers(0, 2, 400).astype(float)
    values = evaluate_rounded(p.trace, batch, 3)
    for i in range(0, 400, 7):
        row = p.trace.evaluate({g: float(batch[g][i]) for g in p.trace.givens}, 3)
        for name in p.trace.names:
            assert values[name][i] == row[name], (i, name)
