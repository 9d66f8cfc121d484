"""Every loss against a plain-Python restatement of its formula, finite differences and torch.

The restatements below are written from the course notes and the documented conventions
(MSE with or without 1/2, Huber's delta and 1/2, hinge labels in {-1, 1} or {0, 1}, KL in both
directions, label smoothing (1 - eps) y + eps / K); nothing here reads a value from chainrule.
"""

import math

import numpy as np
import pytest
import sympy as sp

from chainrule.errors import ChainruleError
from chainrule.symbolic.losses import get_loss
from chainrule.symbolic.trace import sym

T = sp.symbols("t1:5", real=True)
P = sp.symbols("p1:5", real=True)
H = 1e-6  # finite-difference step
KINK = 1e-3  # keep this far from a kink so x +- H stays on one side


# -- plain restatements -------------------------------------------------------------------
def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def softmax(zs):
    m = max(zs)
    e = [math.exp(z - m) for z in zs]
    return [v / sum(e) for v in e]


def xlogy_ratio(a, b):
    """a * log(a / b) with 0 log 0 = 0."""
    return 0.0 if a == 0 else a * math.log(a / b)


def ref_loss(key, params, y, p):
    """The per-point loss, summed over the outputs, as the notes define it."""
    k = len(y)
    if key == "mse":
        c = 0.5 if params.get("half", False) else 1.0
        return sum(c * (t - q) ** 2 for t, q in zip(y, p, strict=True))
    if key == "mae":
        return sum(abs(t - q) for t, q in zip(y, p, strict=True))
    if key == "huber":
        d, half = params.get("delta", 1.0), params.get("half", True)
        total = 0.0
        for t, q in zip(y, p, strict=True):
            r = abs(t - q)
            piece = 0.5 * r * r if r < d else d * r - 0.5 * d * d
            total += piece if half else 2 * piece
        return total
    if key == "bce":
        pairs = zip(y, p, strict=True)
        return sum(-(t * math.log(q) + (1 - t) * math.log(1 - q)) for t, q in pairs)
    if key == "cce":
        return -sum(t * math.log(q) for t, q in zip(y, p, strict=True))
    if key == "hinge":
        labels = [2 * t - 1 for t in y] if params.get("labels") == "01" else y
        return sum(max(0.0, 1 - t * q) for t, q in zip(labels, p, strict=True))
    if key == "kl":
        if params.get("direction") == "reverse":
            return sum(xlogy_ratio(q, t) for t, q in zip(y, p, strict=True))
        return sum(xlogy_ratio(t, q) for t, q in zip(y, p, strict=True))
    if key == "lsce":
        eps = params.get("epsilon", 0.1)
        return -sum(((1 - eps) * t + eps / k) * math.log(q) for t, q in zip(y, p, strict=True))
    raise AssertionError(key)


def near_kink(key, params, y, p):
    if key == "mae":
        return any(abs(t - q) < KINK for t, q in zip(y, p, strict=True))
    if key == "huber":
        d = params.get("delta", 1.0)
        return any(abs(abs(t - q) - d) < KINK for t, q in zip(y, p, strict=True))
    if key == "hinge":
        labels = [2 * t - 1 for t in y] if params.get("labels") == "01" else y
        return any(abs(1 - t * q) < KINK for t, q in zip(labels, p, strict=True))
    return False


def fd(f, xs, i, h=H):
    up, down = list(xs), list(xs)
    up[i] += h
    down[i] -= h
    return (f(up) - f(down)) / (2 * h)


def value(expr, y, p):
    subs = {T[i]: sp.Float(v, 30) for i, v in enumerate(y)}
    subs.update({P[i]: sp.Float(v, 30) for i, v in enumerate(p)})
    return float(expr.xreplace(subs))


# -- sampling -----------------------------------------------------------------------------
CASES = [
    ("mse", "mse", {}, "real"),
    ("mse-half", "mse", {"half": True}, "real"),
    ("mae", "mae", {}, "real"),
    ("huber", "huber", {}, "real"),
    ("huber-delta0.5", "huber", {"delta": 0.5}, "real"),
    ("huber-delta2-full", "huber", {"delta": 2, "half": False}, "real"),
    ("huber-delta1.5-full", "huber", {"delta": 1.5, "half": False}, "real"),
    ("bce", "bce", {}, "prob"),
    ("cce", "cce", {}, "dist"),
    ("hinge-pm1", "hinge", {}, "pm1"),
    ("hinge-pm1-explicit", "hinge", {"labels": "pm1"}, "pm1"),
    ("hinge-01", "hinge", {"labels": "01"}, "01"),
    ("kl-forward", "kl", {}, "dist"),
    ("kl-forward-explicit", "kl", {"direction": "forward"}, "dist"),
    ("kl-reverse", "kl", {"direction": "reverse"}, "dist"),
    ("lsce", "lsce", {}, "dist"),
    ("lsce-0.3", "lsce", {"epsilon": 0.3}, "dist"),
    ("lsce-0", "lsce", {"epsilon": 0.0}, "dist"),
]
CASE_IDS = [c[0] for c in CASES]


def positive_distribution(rng, k):
    """A distribution with every entry >= 0.1 / k (derivatives stay tame for FD)."""
    return list(0.9 * rng.dirichlet(2 * np.ones(k)) + 0.1 / k)


def sample(kind, k, rng):
    if kind == "real":
        return list(rng.normal(0, 1.5, k)), list(rng.normal(0, 1.5, k))
    if kind == "prob":
        y = [float(rng.integers(0, 2)) if rng.random() < 0.5 else rng.random() for _ in range(k)]
        return y, list(rng.uniform(0.02, 0.98, k))
    if kind == "dist":
        return positive_distribution(rng, k), positive_distribution(rng, k)
    if kind == "pm1":
        return list(rng.choice([-1.0, 1.0], k)), list(rng.normal(0, 1.5, k))
    if kind == "01":
        return list(rng.choice([0.0, 1.0], k)), list(rng.normal(0, 1.5, k))
    raise AssertionError(kind)


def points(key, params, kind, k, n, seed, avoid_kinks=False):
    rng = np.random.default_rng(seed)
    found = []
    while len(found) < n:
        y, p = sample(kind, k, rng)
        if not (avoid_kinks and near_kink(key, params, y, p)):
            found.append((y, p))
    return found


def sizes(kind):
    return (2, 3, 4) if kind == "dist" else (1, 2, 3)


CASES_K = [
    pytest.param(key, params, kind, k, id=f"{name}-K{k}")
    for name, key, params, kind in CASES
    for k in sizes(kind)
]


# -- the point loss, its terms and its derivative -----------------------------------------
@pytest.mark.parametrize(("key", "params", "kind", "k"), CASES_K)
def test_point_loss_matches_restatement(key, params, kind, k):
    loss = get_loss(key, **params)
    expr = loss.point(list(T[:k]), list(P[:k]))
    for y, p in points(key, params, kind, k, 12, seed=k):
        assert value(expr, y, p) == pytest.approx(ref_loss(key, params, y, p), rel=1e-12,
                                                   abs=1e-14)


@pytest.mark.parametrize(("key", "params", "kind", "k"), CASES_K)
def test_point_loss_is_sum_of_terms(key, params, kind, k):
    loss = get_loss(key, **params)
    terms = [loss.term(T[i], P[i], k) for i in range(k)]
    for y, p in points(key, params, kind, k, 6, seed=10 + k):
        total = sum(value(t, y, p) for t in terms)
        assert total == pytest.approx(ref_loss(key, params, y, p), rel=1e-12, abs=1e-14)


@pytest.mark.parametrize(("key", "params", "kind", "k"), CASES_K)
def test_derivative_matches_finite_differences(key, params, kind, k):
    loss = get_loss(key, **params)
    derivative = loss.derivative(list(T[:k]), list(P[:k]))
    per_output = [loss.term_derivative(T[i], P[i], k) for i in range(k)]
    assert len(derivative) == k
    for y, p in points(key, params, kind, k, 10, seed=20 + k, avoid_kinks=True):
        for i in range(k):
            expected = fd(lambda q, y=y: ref_loss(key, params, y, q), p, i)
            assert value(derivative[i], y, p) == pytest.approx(expected, rel=1e-6, abs=1e-8)
            assert value(per_output[i], y, p) == pytest.approx(expected, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize(
    ("key", "params", "y", "p"),
    [
        ("mae", {}, 0.5, 0.5),
        ("hinge", {}, 1.0, 1.0),
        ("hinge", {}, -1.0, -1.0),
        ("hinge", {"labels": "01"}, 0.0, -1.0),
    ],
)
def test_derivative_at_kink_is_the_documented_subgradient_zero(key, params, y, p):
    loss = get_loss(key, **params)
    assert value(loss.derivative([T[0]], [P[0]])[0], [y], [p]) == 0.0


def test_derivative_outside_the_margin_of_hinge_is_zero():
    loss = get_loss("hinge")
    d = loss.derivative([T[0]], [P[0]])[0]
    assert value(d, [1.0], [1.5]) == 0.0
    assert value(d, [1.0], [0.5]) == -1.0
    assert value(d, [-1.0], [0.5]) == 1.0


# -- derivative through the output activation ---------------------------------------------
def dist_or_onehot(rng, k, onehot):
    if onehot:
        y = [0.0] * k
        y[int(rng.integers(0, k))] = 1.0
        return y
    return list(rng.dirichlet(np.ones(k)))


@pytest.mark.parametrize("k", [1, 2, 3])
def test_combined_sigmoid_bce_is_derivative_through_sigmoid(k):
    loss = get_loss("bce")
    combined = loss.combined("sigmoid", list(T[:k]), list(P[:k]))
    rng = np.random.default_rng(k)
    for _ in range(10):
        y, z = list(rng.uniform(0, 1, k)), list(rng.normal(0, 2, k))
        p = [sigmoid(v) for v in z]
        for i in range(k):
            expected = fd(lambda zz, y=y: ref_loss("bce", {}, y, [sigmoid(v) for v in zz]), z, i)
            assert value(combined[i], y, p) == pytest.approx(expected, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize(
    ("key", "params"),
    [
        ("cce", {}),
        ("kl", {}),
        ("kl", {"direction": "forward"}),
        ("lsce", {}),
        ("lsce", {"epsilon": 0.3}),
    ],
)
@pytest.mark.parametrize("k", [2, 3, 4])
@pytest.mark.parametrize("onehot", [True, False], ids=["onehot", "soft"])
def test_combined_softmax_is_derivative_through_softmax(key, params, k, onehot):
    loss = get_loss(key, **params)
    combined = loss.combined("softmax", list(T[:k]), list(P[:k]))
    rng = np.random.default_rng(k + 7 * onehot)
    for _ in range(8):
        y, z = dist_or_onehot(rng, k, onehot), list(rng.normal(0, 1.5, k))
        p = softmax(z)
        for i in range(k):
            expected = fd(lambda zz, y=y: ref_loss(key, params, y, softmax(zz)), z, i)
            assert value(combined[i], y, p) == pytest.approx(expected, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize(
    ("activation", "key", "params"),
    [
        ("sigmoid", "mse", {}),
        ("sigmoid", "cce", {}),
        ("softmax", "mse", {}),
        ("softmax", "bce", {}),
        ("softmax", "kl", {"direction": "reverse"}),
        ("softmax", "hinge", {}),
        ("tanh", "mse", {}),
        ("tanh", "bce", {}),
        ("relu", "mse", {}),
    ],
)
def test_combined_is_none_without_a_simple_form(activation, key, params):
    assert get_loss(key, **params).combined(activation, list(T[:2]), list(P[:2])) is None


@pytest.mark.parametrize(("name", "key", "params", "kind"), CASES, ids=CASE_IDS)
def test_combined_linear_is_the_loss_derivative(name, key, params, kind):
    k = 2
    loss = get_loss(key, **params)
    combined = loss.combined("linear", list(T[:k]), list(P[:k]))
    for y, p in points(key, params, kind, k, 5, seed=30, avoid_kinks=True):
        for i in range(k):
            expected = fd(lambda q, y=y: ref_loss(key, params, y, q), p, i)
            assert value(combined[i], y, p) == pytest.approx(expected, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize(
    ("key", "params", "activation"),
    [("bce", {}, "sigmoid"), ("cce", {}, "softmax"), ("kl", {}, "softmax"),
     ("lsce", {"epsilon": 0.2}, "softmax"), ("mse", {"half": True}, "linear")],
)
def test_combined_derivation_result_matches_finite_differences(key, params, activation):
    derivation = get_loss(key, **params).combined_derivation(activation)
    assert derivation is not None and derivation.lines
    result = derivation.result
    symbols = sorted(set().union(*(r.free_symbols for r in result)), key=lambda s: s.name)
    targets = [s for s in symbols if not s.name.startswith("yhat")]
    preds = [s for s in symbols if s.name.startswith("yhat")]
    k = len(preds)
    rng = np.random.default_rng(5)
    y = dist_or_onehot(rng, k, False) if k > 1 else [0.3]
    z = list(rng.normal(0, 1, k))
    squash = softmax if activation == "softmax" else (
        (lambda zz: [sigmoid(v) for v in zz]) if activation == "sigmoid" else list)
    p = squash(z)
    subs = {**dict(zip(targets, y, strict=True)), **dict(zip(preds, p, strict=True))}
    for i in range(k):
        expected = fd(lambda zz: ref_loss(key, params, y, squash(zz)), z, i)
        assert float(result[i].xreplace(subs)) == pytest.approx(expected, rel=1e-6, abs=1e-9)


# -- the general (display) forms ----------------------------------------------------------
def eval_general(expr, arrays, scalars):
    """Evaluate a general form: numbers for plain symbols, arrays for indexed ones."""
    def number(v):
        return sp.Integer(v) if isinstance(v, int) else sp.Float(v, 30)

    expr = expr.xreplace({s: number(scalars[s.name]) for s in expr.free_symbols
                          if s.name in scalars and not isinstance(s, sp.Indexed)})
    expr = expr.doit()
    subs = {}
    for atom in expr.atoms(sp.Indexed):
        idx = [int(i) - 1 for i in atom.indices]
        subs[atom] = sp.Float(np.asarray(arrays[atom.base.label.name])[tuple(idx)], 30)
    return float(expr.xreplace(subs))


@pytest.mark.parametrize(("name", "key", "params", "kind"), CASES, ids=CASE_IDS)
def test_general_forms_match_restatement(name, key, params, kind):
    loss = get_loss(key, **params)
    general = loss.general()
    distribution = kind == "dist"
    k = 3 if distribution else 1
    n = 2
    rows = points(key, params, kind, k, n, seed=40, avoid_kinks=True)
    numbers = {"huber_delta": params.get("delta", 1.0), "epsilon": params.get("epsilon", 0.1),
               "K": k, "N": n}
    # the cost: mean over N points of the point loss
    arrays = {"y": [r[0] if distribution else r[0][0] for r in rows],
              "yhat": [r[1] if distribution else r[1][0] for r in rows]}
    expected_cost = sum(ref_loss(key, params, y, p) for y, p in rows) / n
    assert eval_general(general["cost"], arrays, numbers) == pytest.approx(expected_cost,
                                                                          rel=1e-12)
    y, p = rows[0]
    if distribution:
        one = {"y": y, "yhat": p}
        assert eval_general(general["point"], one, numbers) == pytest.approx(
            ref_loss(key, params, y, p), rel=1e-12)
        (k_symbol,) = [s for s in general["derivative"].free_symbols if s.name == "k"]
        for i in range(k):
            d = general["derivative"].xreplace({k_symbol: i + 1})
            expected = fd(lambda q: ref_loss(key, params, y, q), p, i)
            assert eval_general(d, one, numbers) == pytest.approx(expected, rel=1e-6)
    else:
        numbers.update({"y": y[0], "yhat": p[0]})
        assert eval_general(general["point"], {}, numbers) == pytest.approx(
            ref_loss(key, params, y, p), rel=1e-12)
        expected = fd(lambda q: ref_loss(key, params, y, q), p, 0)
        assert eval_general(general["derivative"], {}, numbers) == pytest.approx(
            expected, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize(
    ("key", "part", "text"),
    [
        ("mse", "point", "(y - yhat)**2"),
        ("mse", "derivative", "2*(yhat - y)"),
        ("bce", "point", "-(y*log(yhat) + (1 - y)*log(1 - yhat))"),
        ("bce", "derivative", "(1 - y)/(1 - yhat) - y/yhat"),
        ("hinge", "point", "Max(0, 1 - y*yhat)"),
        ("mae", "point", "Abs(y - yhat)"),
    ],
)
def test_general_text_reads_like_the_notes(key, part, text):
    assert get_loss(key).text()[part] == text


@pytest.mark.parametrize(
    ("key", "part", "tex"),
    [
        ("mse", "point", r"\left(y - \hat{y}\right)^{2}"),
        ("bce", "point",
         r"-\left[y \log{\left(\hat{y} \right)} + \left(1 - y\right) "
         r"\log{\left(1 - \hat{y} \right)}\right]"),
        ("cce", "point", r"- \sum_{k=1}^{K} {y}_{k} \log{\left({\hat{y}}_{k} \right)}"),
        ("mse", "cost", r"\frac{1}{N} \sum_{i=1}^{N} \left({y}_{i} - {\hat{y}}_{i}\right)^{2}"),
    ],
)
def test_general_tex(key, part, tex):
    assert get_loss(key).tex()[part] == tex


# -- torch ----------------------------------------------------------------------------------
def torch_loss(torch, key, params, y, p):
    """The same loss through torch.nn.functional (sum over outputs)."""
    f = torch.nn.functional
    if key == "mse":
        return f.mse_loss(p, y, reduction="sum") * (0.5 if params.get("half") else 1.0)
    if key == "mae":
        return f.l1_loss(p, y, reduction="sum")
    if key == "huber":
        loss = f.huber_loss(p, y, delta=float(params.get("delta", 1.0)), reduction="sum")
        return loss if params.get("half", True) else 2 * loss
    if key == "bce":
        return f.binary_cross_entropy(p, y, reduction="sum")
    if key == "cce":
        return -(y * torch.log(p)).sum()
    if key == "hinge":
        labels = 2 * y - 1 if params.get("labels") == "01" else y
        return f.relu(1 - labels * p).sum()
    if key == "kl":
        if params.get("direction") == "reverse":
            return f.kl_div(torch.log(y), p, reduction="sum")
        return f.kl_div(torch.log(p), y, reduction="sum")
    if key == "lsce":
        eps = params.get("epsilon", 0.1)
        return -(((1 - eps) * y + eps / len(y)) * torch.log(p)).sum()
    raise AssertionError(key)


@pytest.mark.parametrize(("key", "params", "kind", "k"), CASES_K)
def test_loss_and_derivative_match_torch(torch, key, params, kind, k):
    loss = get_loss(key, **params)
    expr = loss.point(list(T[:k]), list(P[:k]))
    derivative = loss.derivative(list(T[:k]), list(P[:k]))
    for y, p in points(key, params, kind, k, 6, seed=50 + k, avoid_kinks=True):
        ty = torch.tensor(y, requires_grad=True)
        tp = torch.tensor(p, requires_grad=True)
        value_t = torch_loss(torch, key, params, ty, tp)
        value_t.backward()
        assert value(expr, y, p) == pytest.approx(value_t.item(), rel=1e-12, abs=1e-14)
        for i in range(k):
            assert value(derivative[i], y, p) == pytest.approx(float(tp.grad[i]), rel=1e-10,
                                                              abs=1e-12)


@pytest.mark.parametrize("k", [2, 3, 4])
@pytest.mark.parametrize("onehot", [True, False], ids=["onehot", "soft"])
@pytest.mark.parametrize("epsilon", [None, 0.0, 0.1, 0.3])
def test_softmax_cross_entropy_matches_torch(torch, k, onehot, epsilon):
    """cce (epsilon None) and lsce against F.cross_entropy on logits, with label_smoothing."""
    loss = get_loss("cce") if epsilon is None else get_loss("lsce", epsilon=epsilon)
    expr = loss.point(list(T[:k]), list(P[:k]))
    combined = loss.combined("softmax", list(T[:k]), list(P[:k]))
    rng = np.random.default_rng(k)
    f = torch.nn.functional
    for _ in range(5):
        y = dist_or_onehot(rng, k, onehot)
        z = torch.tensor([list(rng.normal(0, 1.5, k))], requires_grad=True)
        target = torch.tensor([y])
        if onehot:  # class-index targets exercise torch's own smoothing path
            target = torch.tensor([int(np.argmax(y))])
        value_t = f.cross_entropy(z, target, label_smoothing=epsilon or 0.0, reduction="sum")
        value_t.backward()
        p = torch.softmax(z.detach(), dim=1)[0].tolist()
        assert value(expr, y, p) == pytest.approx(value_t.item(), rel=1e-12)
        for i in range(k):
            assert value(combined[i], y, p) == pytest.approx(float(z.grad[0, i]), rel=1e-10,
                                                            abs=1e-12)


@pytest.mark.parametrize("k", [1, 2])
def test_sigmoid_bce_matches_torch_with_logits(torch, k):
    loss = get_loss("bce")
    expr = loss.point(list(T[:k]), list(P[:k]))
    combined = loss.combined("sigmoid", list(T[:k]), list(P[:k]))
    rng = np.random.default_rng(3)
    for _ in range(5):
        y = list(rng.uniform(0, 1, k))
        z = torch.tensor(list(rng.normal(0, 2, k)), requires_grad=True)
        value_t = torch.nn.functional.binary_cross_entropy_with_logits(
            z, torch.tensor(y), reduction="sum")
        value_t.backward()
        p = torch.sigmoid(z.detach()).tolist()
        assert value(expr, y, p) == pytest.approx(value_t.item(), rel=1e-10)
        for i in range(k):
            assert value(combined[i], y, p) == pytest.approx(float(z.grad[i]), rel=1e-10,
                                                            abs=1e-12)


@pytest.mark.parametrize(
    ("key", "params", "reference"),
    [
        ("mse", {}, "mse_loss"),
        ("mae", {}, "l1_loss"),
        ("huber", {"delta": 0.7}, "huber_loss"),
        ("bce", {}, "binary_cross_entropy"),
    ],
)
def test_cost_is_the_mean_over_points_like_torch_mean_reduction(torch, key, params, reference):
    """The cost (1/N) sum_i L_i equals torch's default reduction='mean' for one output."""
    general = get_loss(key, **params).general()
    rng = np.random.default_rng(11)
    n = 4
    y = rng.uniform(0, 1, n) if key == "bce" else rng.normal(0, 1, n)
    p = rng.uniform(0.05, 0.95, n) if key == "bce" else rng.normal(0, 1, n)
    function = getattr(torch.nn.functional, reference)
    extra = {"delta": params["delta"]} if key == "huber" else {}
    expected = float(function(torch.tensor(p), torch.tensor(y), **extra))
    numbers = {"huber_delta": params.get("delta", 1.0), "N": n}
    arrays = {"y": list(y), "yhat": list(p)}
    assert eval_general(general["cost"], arrays, numbers) == pytest.approx(expected, rel=1e-12)


# -- conventions are validated ------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "params"),
    [
        ("huber", {"delta": 0}),
        ("huber", {"delta": -1.0}),
        ("huber", {"delta": "1"}),
        ("lsce", {"epsilon": 1.0}),
        ("lsce", {"epsilon": -0.1}),
        ("hinge", {"labels": "+-1"}),
        ("kl", {"direction": "backward"}),
        ("mse", {"delta": 1.0}),
    ],
)
def test_invalid_loss_parameters_are_rejected(key, params):
    with pytest.raises(ChainruleError):
        get_loss(key, **params)


@pytest.mark.parametrize("key", ["cce", "kl", "lsce"])
def test_class_losses_need_two_outputs(key):
    with pytest.raises(ChainruleError):
        get_loss(key).point([T[0]], [P[0]])


def same_tree(a, b):
    """Equal and built alike all the way down (classes, arguments in order)."""
    if type(a) is not type(b) or a != b or len(a.args) != len(b.args):
        return False
    return all(same_tree(x, y) for x, y in zip(a.args, b.args, strict=True))


def point_made_output_by_output(loss, ys, ps, symbolic):
    """The point loss with every output's term made by the loss's own formula (what
    ``Loss.point`` made before it renamed the first output's term for the others)."""
    from chainrule.symbolic import losses

    prm = loss._prm(len(ys), symbolic)
    terms = [losses._TERM[loss.key](loss, t, p, prm) for t, p in zip(ys, ps, strict=True)]
    total = sp.Add(*terms, evaluate=False) if len(terms) > 1 else terms[0]
    return losses._neg(total) if loss.key in losses._NEGATED else total


@pytest.mark.parametrize(("key", "params"), [
    ("mse", {}), ("mse", {"half": True}), ("mae", {}), ("huber", {"delta": 2}),
    ("huber", {"half": False}), ("bce", {}), ("hinge", {}), ("hinge", {"labels": "01"}),
    ("kl", {}), ("kl", {"direction": "reverse"}), ("cce", {}), ("lsce", {"epsilon": 0.2})])
@pytest.mark.parametrize("outputs", [1, 2, 3, 12])
@pytest.mark.parametrize("symbolic", [False, True])
def test_each_output_is_what_sympy_makes_for_its_own_names(key, params, outputs, symbolic):
    """The point loss and each output's derivative are the trees SymPy makes for that
    output's names (its term made by the loss's formula, the derivative SymPy's derivative
    of the whole point loss), though one output's are renamed for the others."""
    from chainrule.symbolic import losses

    loss = get_loss(key, **params)
    if loss.info.distribution and outputs < 2:
        return
    names = [("y", "yhat")] if outputs == 1 else [(f"y{k}", f"yhat{k}")
                                                  for k in range(1, outputs + 1)]
    ys, ps = [sym(t) for t, _ in names], [sym(p) for _, p in names]
    point = point_made_output_by_output(loss, ys, ps, symbolic)
    assert same_tree(loss.point(ys, ps, symbolic=symbolic), point)
    got = loss.derivative(ys, ps, symbolic=symbolic)
    for p, derivative in zip(ps, got, strict=True):
        whole = sp.diff(point, p).replace(sp.Heaviside, lambda *a: losses.step(a[0]))
        expected = losses._tidy(whole)
        assert same_tree(derivative, expected)
        assert str(derivative) == str(expected) and sp.latex(derivative) == sp.latex(expected)
