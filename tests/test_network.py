"""Network traces: gradients against an independent NumPy forward pass, SymPy and torch.

The oracle here is a forward pass written from the notes (z = sum_i w_ij a_i + b_j, a = f(z),
the loss of the notes) with finite differences; names follow DESIGN.md (neurons numbered
globally in layer order, w{i}{j} into neuron j, w{i}_{j} when an index has two digits).
"""

import math
from dataclasses import dataclass

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainrule.errors import ChainruleError
from chainrule.numeric.kernels import compile_trace
from chainrule.numeric.layers import compile_layers, pack, unpack
from chainrule.symbolic.functions import relu as sym_relu
from chainrule.symbolic.functions import sigmoid as sym_sigmoid
from chainrule.symbolic.network import Network

H = 1e-6
KINK = 1e-3


# -- the independent reference ------------------------------------------------------------
def weight_name(i, j):
    return f"w{i}{j}" if i < 10 and j < 10 else f"w{i}_{j}"


def neuron_ids(sizes):
    """Layer 0 is the inputs 1..n; later layers number their neurons globally from 1."""
    ids, start = [list(range(1, sizes[0] + 1))], 1
    for size in sizes[1:]:
        ids.append(list(range(start, start + size)))
        start += size
    return ids


def parameter_names(sizes):
    ids = neuron_ids(sizes)
    names = []
    for layer in range(1, len(sizes)):
        for j in ids[layer]:
            names += [weight_name(i, j) for i in ids[layer - 1]] + [f"b{j}"]
    return names


def activate(name, z):
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "linear":
        return z
    if name == "softmax":
        e = np.exp(z - z.max())
        return e / e.sum()
    raise AssertionError(name)


def forward(sizes, hidden, output, values, x):
    """All pre-activations (per layer) and the network output for one input vector."""
    ids = neuron_ids(sizes)
    a = np.asarray(x, dtype=np.float64)
    zs = []
    for layer in range(1, len(sizes)):
        w = np.array([[values[weight_name(i, j)] for j in ids[layer]] for i in ids[layer - 1]])
        b = np.array([values[f"b{j}"] for j in ids[layer]])
        z = a @ w + b
        zs.append(z)
        a = activate(hidden[layer - 1] if layer < len(sizes) - 1 else output, z)
    return zs, a


def loss_value(key, params, y, p):
    y, p = np.asarray(y, dtype=np.float64), np.asarray(p, dtype=np.float64)
    if key == "mse":
        return (0.5 if params.get("half") else 1.0) * np.sum((y - p) ** 2)
    if key == "mae":
        return np.sum(np.abs(y - p))
    if key == "huber":
        d, r = params.get("delta", 1.0), np.abs(y - p)
        pieces = np.where(r < d, 0.5 * r**2, d * r - 0.5 * d**2)
        return np.sum(pieces) * (1 if params.get("half", True) else 2)
    if key == "bce":
        return -np.sum(y * np.log(p) + (1 - y) * np.log(1 - p))
    if key == "cce":
        return -np.sum(y * np.log(p))
    if key == "hinge":
        label = 2 * y - 1 if params.get("labels") == "01" else y
        return np.sum(np.maximum(0.0, 1 - label * p))
    if key == "kl":
        if params.get("direction") == "reverse":
            return np.sum(p * np.log(p / y))
        return sum(t * math.log(t / q) for t, q in zip(y, p, strict=True) if t != 0)
    if key == "lsce":
        eps = params.get("epsilon", 0.1)
        return -np.sum(((1 - eps) * y + eps / len(y)) * np.log(p))
    raise AssertionError(key)


def unsuitable(case, x, y, values):
    """Near a kink (finite differences would straddle it), or BCE on a saturated sigmoid.

    BCE is computed from yhat as the notes write it, so 1 - yhat loses digits once |z| is
    large; beyond |z| ~ 10 no float64 oracle written that way is tight to 1e-10.
    """
    zs, p = forward(case.sizes, case.hidden, case.output, values, x)
    for z, act in zip(zs[:-1], case.hidden, strict=True):
        if act == "relu" and np.min(np.abs(z)) < KINK:
            return True
    if case.loss == "bce" and np.max(np.abs(zs[-1])) > 10:
        return True
    r = np.abs(np.asarray(y) - p)
    if case.loss == "mae":
        return bool(np.min(r) < KINK)
    if case.loss == "huber":
        return bool(np.min(np.abs(r - case.params.get("delta", 1.0))) < KINK)
    if case.loss == "hinge":
        label = 2 * np.asarray(y) - 1 if case.params.get("labels") == "01" else np.asarray(y)
        return bool(np.min(np.abs(1 - label * p)) < KINK)
    return False


def finite_difference_gradient(case, x, y, values):
    def loss_at(vals):
        return loss_value(case.loss, case.params, y,
                          forward(case.sizes, case.hidden, case.output, vals, x)[1])

    grads = {}
    for name in parameter_names(case.sizes):
        up, down = dict(values), dict(values)
        up[name] += H
        down[name] -= H
        grads[name] = (loss_at(up) - loss_at(down)) / (2 * H)
    return grads


# -- cases ------------------------------------------------------------------------------------
PAIRS = [
    ("sigmoid", "bce", {}),
    ("softmax", "cce", {}),
    ("linear", "mse", {}),
    ("linear", "mse", {"half": True}),
    ("sigmoid", "mse", {}),
    ("softmax", "mse", {}),
    ("linear", "huber", {}),
    ("linear", "huber", {"delta": 0.5, "half": False}),
    ("linear", "mae", {}),
    ("linear", "hinge", {}),
    ("linear", "hinge", {"labels": "01"}),
    ("softmax", "kl", {}),
    ("softmax", "kl", {"direction": "reverse"}),
    ("softmax", "lsce", {}),
    ("softmax", "lsce", {"epsilon": 0.3}),
    ("tanh", "mse", {}),
]
HIDDEN = ["sigmoid", "tanh", "relu", "linear"]


@dataclass(frozen=True)
class Case:
    sizes: tuple
    hidden: tuple
    output: str
    loss: str
    param_items: tuple  # the loss parameters as sorted items (hashable)
    seed: int

    @property
    def params(self):
        return dict(self.param_items)

    def network(self):
        return Network(list(self.sizes), hidden=list(self.hidden), output=self.output,
                       loss=self.loss, **self.params)

    def targets(self, rng, k):
        out, key, prm = self.output, self.loss, self.params
        if key == "bce":
            return rng.integers(0, 2, k).astype(float) if rng.random() < 0.5 else rng.random(k)
        if key == "hinge":
            labels = [0.0, 1.0] if prm.get("labels") == "01" else [-1.0, 1.0]
            return rng.choice(labels, k)
        if out == "softmax":
            if key == "kl" and prm.get("direction") == "reverse":
                return 0.8 * rng.dirichlet(np.ones(k)) + 0.2 / k
            if rng.random() < 0.5:
                return np.eye(k)[rng.integers(0, k)]
            return rng.dirichlet(np.ones(k))
        if out == "sigmoid":
            return rng.random(k)
        if out == "tanh":
            return rng.uniform(-1, 1, k)
        return rng.normal(0, 1, k)

    def draw(self, rng):
        """Inputs, targets and parameters away from every kink."""
        for _ in range(200):
            x = rng.normal(0, 1, self.sizes[0])
            y = self.targets(rng, self.sizes[-1])
            values = {}
            for name in parameter_names(self.sizes):
                values[name] = float(rng.normal(0, 0.5 if name.startswith("b") else 1.0))
            if not unsuitable(self, x, y, values):
                return x, y, values
        raise AssertionError("no kink-free sample")  # pragma: no cover

    def givens(self, x, y, values):
        net = self.network()
        result = dict(zip(net.inputs, map(float, x), strict=True))
        result.update(zip(net.targets, map(float, y), strict=True))
        result.update(values)
        return result


@st.composite
def cases(draw, max_hidden=2):
    n_hidden = draw(st.integers(0, max_hidden))
    n_in = draw(st.integers(1, 3))
    widths = tuple(draw(st.integers(1, 4)) for _ in range(n_hidden))
    hidden = tuple(draw(st.sampled_from(HIDDEN)) for _ in range(n_hidden))
    output, loss, params = draw(st.sampled_from(PAIRS))
    n_out = draw(st.integers(2, 4) if output == "softmax" else st.integers(1, 4))
    seed = draw(st.integers(0, 2**32 - 1))
    return Case((n_in, *widths, n_out), hidden, output, loss, tuple(sorted(params.items())),
                seed)


def assert_gradients(actual, expected, what, rtol=1e-6, atol=1e-8):
    for name, value in expected.items():
        got = float(actual[name])
        assert abs(got - value) <= atol + rtol * abs(value), (what, name, got, value)


# -- gradients against finite differences -------------------------------------------------
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_trace_gradients_match_finite_differences(case):
    net = case.network()
    assert net.parameters == parameter_names(case.sizes)
    x, y, values = case.draw(np.random.default_rng(case.seed))
    givens = case.givens(x, y, values)
    expected = finite_difference_gradient(case, x, y, values)
    expected_loss = loss_value(case.loss, case.params, y,
                               forward(case.sizes, case.hidden, case.output, values, x)[1])
    trace = net.gradient_trace

    exact = trace.evaluate(givens)
    assert exact["L"] == pytest.approx(expected_loss, rel=1e-10, abs=1e-12)
    assert_gradients({p: exact[f"dL_d{p}"] for p in net.parameters}, expected, "evaluate")

    kernel = compile_trace(trace)(givens)
    assert float(kernel["L"]) == pytest.approx(expected_loss, rel=1e-10, abs=1e-12)
    assert_gradients({p: kernel[f"dL_d{p}"] for p in net.parameters}, expected, "kernel")

    layers = compile_layers(net)
    mean_loss, grads = layers.loss_and_gradients(x[None, :], np.asarray(y)[None, :],
                                                 pack(net, values))
    assert mean_loss == pytest.approx(expected_loss, rel=1e-10, abs=1e-12)
    assert_gradients(unpack(net, grads), expected, "layers")


@settings(max_examples=15, deadline=None)
@given(case=cases(), batch=st.integers(1, 5))
def test_layer_kernel_is_mean_of_per_row_trace_kernel(case, batch):
    net = case.network()
    rng = np.random.default_rng(case.seed)
    rows = [case.draw(rng) for _ in range(batch)]
    values = rows[0][2]
    X = np.array([r[0] for r in rows])
    Y = np.array([r[1] for r in rows], dtype=np.float64)
    givens = dict(values)
    givens.update({name: X[:, i] for i, name in enumerate(net.inputs)})
    givens.update({name: Y[:, k] for k, name in enumerate(net.targets)})
    per_row = compile_trace(net.gradient_trace)(givens)
    layers = compile_layers(net)
    params = pack(net, values)
    mean_loss, grads = layers.loss_and_gradients(X, Y, params)
    assert mean_loss == pytest.approx(float(np.mean(per_row["L"])), rel=1e-12, abs=1e-14)
    np.testing.assert_allclose(layers.losses(X, Y, params), per_row["L"], rtol=1e-12,
                               atol=1e-14)
    predicted = layers.predict(X, params)
    for k, name in enumerate(net.outputs):
        np.testing.assert_allclose(predicted[:, k], per_row[name], rtol=1e-12, atol=1e-15)
    mean_grads = {p: float(np.mean(per_row[f"dL_d{p}"])) for p in net.parameters}
    assert_gradients(unpack(net, grads), mean_grads, "layers-batch", rtol=1e-10, atol=1e-13)
    # and directly: the gradient of the mean loss over the rows, by finite differences
    mean_fd = {}
    for x, y, _ in rows:
        for name, g in finite_difference_gradient(case, x, y, values).items():
            mean_fd[name] = mean_fd.get(name, 0.0) + g / batch
    assert_gradients(unpack(net, grads), mean_fd, "layers-batch-fd")


def test_pack_and_unpack_follow_the_documented_layout():
    """W_l[i, j] is the weight from unit i of layer l-1 into unit j of layer l."""
    net = Network("2-3-2", output="softmax", loss="cce")
    values = {name: float(n) for n, name in enumerate(parameter_names((2, 3, 2)), start=1)}
    w1, b1, w2, b2 = pack(net, values)
    assert w1.shape == (2, 3) and w2.shape == (3, 2)
    assert w1[1, 2] == values["w23"]  # from input 2 into neuron 3
    assert w2[0, 1] == values["w15"]  # from neuron 1 into neuron 5 (output unit 2)
    assert w2[2, 0] == values["w34"]
    assert list(b1) == [values["b1"], values["b2"], values["b3"]]
    assert list(b2) == [values["b4"], values["b5"]]
    assert unpack(net, [w1, b1, w2, b2]) == values


# -- the layered gradient against sympy.diff of the whole loss ----------------------------
def independent(expr):
    """Rewrite chainrule's own functions so SymPy differentiates them from scratch."""
    expr = expr.replace(sym_sigmoid, lambda z: 1 / (1 + sp.exp(-z)))
    return expr.replace(sym_relu, lambda z: sp.Max(0, z))


SMALL = [
    ("2-2-1", "sigmoid", "sigmoid", "bce", {}),
    ("2-2-1", "tanh", "linear", "mse", {}),
    ("2-2-1", "relu", "linear", "huber", {"delta": 0.5}),
    ("2-2-1", "sigmoid", "sigmoid", "mse", {"half": True}),
    ("2-3-2", "sigmoid", "softmax", "cce", {}),
    ("2-3-2", "tanh", "softmax", "lsce", {"epsilon": 0.2}),
    ("2-3-2", "relu", "softmax", "kl", {}),
    ("2-3-2", "sigmoid", "softmax", "mse", {}),
    ("2-3-2", "linear", "tanh", "mse", {}),
]


@pytest.mark.parametrize(("spec", "hidden", "output", "loss", "params"), SMALL)
def test_layered_gradient_equals_sympy_diff_of_expanded_loss(spec, hidden, output, loss,
                                                             params):
    net = Network(spec, hidden=hidden, output=output, loss=loss, **params)
    sizes = tuple(int(s) for s in spec.split("-"))
    case = Case(sizes, (hidden,), output, loss, tuple(sorted(params.items())), 0)
    x, y, values = case.draw(np.random.default_rng(17))
    if loss in ("cce", "kl", "lsce"):
        y = np.array([0.3, 0.7])  # a distribution with no zero (SymPy has no 0 log 0 = 0)
    givens = case.givens(x, y, values)
    numbers = {name: sp.Float(v, 40) for name, v in givens.items()}
    expanded = independent(net.expanded_loss())
    assert {s.name for s in expanded.free_symbols} <= set(givens)
    by_name = {s.name: s for s in expanded.free_symbols}
    exact = net.gradient_trace.evaluate(givens)
    point = {s: numbers[s.name] for s in expanded.free_symbols}
    assert float(expanded.xreplace(point)) == pytest.approx(exact["L"], rel=1e-12)
    for p in net.parameters:
        derivative = sp.diff(expanded, by_name[p]).xreplace(point)
        assert float(derivative.evalf(30)) == pytest.approx(exact[f"dL_d{p}"], rel=1e-10,
                                                           abs=1e-14), p


def test_expanded_gradient_is_in_the_givens_and_equals_the_chain():
    net = Network("2-2-1")
    givens = {"x1": 0.5, "x2": -1.0, "y": 1.0, **{p: 0.1 * (i - 4)
                                                   for i, p in enumerate(net.parameters)}}
    exact = net.gradient_trace.evaluate(givens)
    for p in net.parameters:
        expr = independent(net.expanded_gradient(p))
        assert {s.name for s in expr.free_symbols} <= set(givens)
        point = {s: sp.Float(givens[s.name], 30) for s in expr.free_symbols}
        assert float(expr.xreplace(point)) == pytest.approx(exact[f"dL_d{p}"], rel=1e-12)


# -- torch autograd -------------------------------------------------------------------------
def torch_loss(torch, case, z_out, y):
    f = torch.nn.functional
    key, prm, out = case.loss, case.params, case.output
    if key == "bce":
        return f.binary_cross_entropy_with_logits(z_out, y, reduction="sum")
    if key == "cce":
        return f.cross_entropy(z_out[None], y[None], reduction="sum")
    if key == "lsce":
        return f.cross_entropy(z_out[None], y[None], label_smoothing=prm.get("epsilon", 0.1),
                               reduction="sum")
    if key == "kl":
        log_p = f.log_softmax(z_out, dim=0)
        if prm.get("direction") == "reverse":
            return f.kl_div(torch.log(y), log_p, reduction="sum", log_target=True)
        return f.kl_div(log_p, y, reduction="sum")
    yhat = {"linear": z_out, "sigmoid": torch.sigmoid(z_out), "tanh": torch.tanh(z_out),
            "softmax": torch.softmax(z_out, dim=0)}[out]
    if key == "mse":
        return f.mse_loss(yhat, y, reduction="sum") * (0.5 if prm.get("half") else 1.0)
    if key == "mae":
        return f.l1_loss(yhat, y, reduction="sum")
    if key == "huber":
        loss = f.huber_loss(yhat, y, delta=prm.get("delta", 1.0), reduction="sum")
        return loss if prm.get("half", True) else 2 * loss
    if key == "hinge":
        label = 2 * y - 1 if prm.get("labels") == "01" else y
        return f.relu(1 - label * yhat).sum()
    raise AssertionError(key)


@settings(max_examples=25, deadline=None)
@given(case=cases())
def test_gradients_match_torch_autograd(torch, case):
    net = case.network()
    x, y, values = case.draw(np.random.default_rng(case.seed))
    kernel = compile_trace(net.gradient_trace)(case.givens(x, y, values))
    params = {name: torch.tensor(v, requires_grad=True) for name, v in values.items()}
    ids = neuron_ids(case.sizes)
    a = torch.tensor(x)
    acts = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
            "linear": lambda v: v}
    for layer in range(1, len(case.sizes)):
        w = torch.stack([torch.stack([params[weight_name(i, j)] for j in ids[layer]])
                         for i in ids[layer - 1]])
        b = torch.stack([params[f"b{j}"] for j in ids[layer]])
        z = a @ w + b
        if layer < len(case.sizes) - 1:
            a = acts[case.hidden[layer - 1]](z)
    loss = torch_loss(torch, case, z, torch.tensor(y))
    loss.backward()
    assert float(kernel["L"]) == pytest.approx(loss.item(), rel=1e-10, abs=1e-12)
    expected = {name: float(t.grad) for name, t in params.items()}
    assert_gradients({p: kernel[f"dL_d{p}"] for p in net.parameters}, expected, "torch",
                     rtol=1e-9, atol=1e-12)


# -- the trace as students write it (the notes' 2-2-1 sigmoid/BCE example) ---------------
NOTES_FORMULAS = [
    ("z1", "w11*x1 + w21*x2 + b1"),
    ("a1", "sigmoid(z1)"),
    ("z2", "w12*x1 + w22*x2 + b2"),
    ("a2", "sigmoid(z2)"),
    ("z3", "w13*a1 + w23*a2 + b3"),
    ("yhat", "sigmoid(z3)"),
    ("L", "-(y*log(yhat) + (1 - y)*log(1 - yhat))"),
    ("delta3", "yhat - y"),
    ("dL_dw13", "delta3*a1"),
    ("dL_dw23", "delta3*a2"),
    ("dL_db3", "delta3"),
    ("fprime1", "a1*(1 - a1)"),
    ("delta1", "w13*delta3*fprime1"),
    ("fprime2", "a2*(1 - a2)"),
    ("delta2", "w23*delta3*fprime2"),
    ("dL_dw11", "delta1*x1"),
    ("dL_dw21", "delta1*x2"),
    ("dL_db1", "delta1"),
    ("dL_dw22", "delta2*x2"),
    ("w11_new", "w11 - eta*dL_dw11"),
    ("w13_new", "w13 - eta*dL_dw13"),
    ("b3_new", "b3 - eta*dL_db3"),
]


@pytest.mark.parametrize(("name", "text"), NOTES_FORMULAS)
def test_notes_trace_formula_text(name, text):
    assert Network("2-2-1", hidden="sigmoid", output="sigmoid", loss="bce").trace.formula_text(
        name) == text


NOTES_TEX = [
    ("z1", r"w_{11} x_{1} + w_{21} x_{2} + b_{1}"),
    ("a1", r"\sigma\left(z_{1}\right)"),
    ("yhat", r"\sigma\left(z_{3}\right)"),
    ("L", r"-\left[y \log{\left(\hat{y} \right)} + \left(1 - y\right) "
          r"\log{\left(1 - \hat{y} \right)}\right]"),
    ("delta3", r"\hat{y} - y"),
    ("dL_dw13", r"\delta_{3} a_{1}"),
    ("fprime1", r"a_{1} \left(1 - a_{1}\right)"),
    ("delta1", r"w_{13} \delta_{3} \sigma'\left(z_{1}\right)"),
    ("w13_new", r"w_{13} - \eta \frac{\partial L}{\partial w_{13}}"),
]


@pytest.mark.parametrize(("name", "tex"), NOTES_TEX)
def test_notes_trace_formula_tex(name, tex):
    assert Network("2-2-1").trace.formula_tex(name) == tex


def test_notes_trace_equation_tex():
    trace = Network("2-2-1").trace
    assert trace.equation_tex("delta1") == (
        r"\delta_{1} = w_{13} \delta_{3} \sigma'\left(z_{1}\right)")
    assert trace.equation_tex("dL_dw13") == r"\frac{\partial L}{\partial w_{13}} = \delta_{3} a_{1}"


def test_notes_trace_order():
    forward = ["z1", "a1", "z2", "a2", "z3", "yhat"]
    output = ["delta3", "dL_dw13", "dL_dw23", "dL_db3"]
    hidden = ["fprime1", "delta1", "fprime2", "delta2",
              "dL_dw11", "dL_dw21", "dL_db1", "dL_dw12", "dL_dw22", "dL_db2"]
    params = ["w11", "w21", "b1", "w12", "w22", "b2", "w13", "w23", "b3"]
    net = Network("2-2-1")
    assert net.parameters == params
    updates = [f"{p}_new" for p in params]
    assert list(net.trace.names) == [*forward, "L", *output, *hidden, *updates]
    assert list(net.gradient_trace.names) == [*forward, "L", *output, *hidden]
    assert list(net.trace.givens) == ["x1", "x2", "y", *params, "eta"]
    assert list(net.gradient_trace.givens) == ["x1", "x2", "y", *params]


def test_notes_trace_step_kinds():
    trace = Network("2-2-1").trace
    kinds = {name: trace[name].kind for name in trace.names}
    assert {kinds[n] for n in ["z1", "a1", "z3", "yhat"]} == {"forward"}
    assert kinds["L"] == "loss"
    assert {kinds[n] for n in ["delta3", "fprime1", "delta1"]} == {"backward"}
    assert {kinds[n] for n in ["dL_dw13", "dL_db1"]} == {"gradient"}
    assert {kinds[n] for n in ["w11_new", "b3_new"]} == {"update"}


def test_notes_chain_rule_tex():
    assert Network("2-2-1").chain_rule_tex("w11") == [
        r"\frac{\partial L}{\partial w_{11}} = \delta_{1} x_{1}",
        r"\delta_{1} = \frac{\partial L}{\partial z_{1}} = w_{13} \delta_{3} "
        r"\sigma'\left(z_{1}\right)",
        r"\delta_{3} = \frac{\partial L}{\partial z_{3}} = \hat{y} - y",
    ]


@pytest.mark.parametrize(
    ("kwargs", "name", "text"),
    [
        ({"hidden": "tanh"}, "fprime1", "1 - a1**2"),
        ({"hidden": "tanh"}, "delta1", "w13*delta3*fprime1"),
        ({"hidden": "relu"}, "fprime2", "step(z2)"),
        ({"hidden": "relu"}, "a1", "relu(z1)"),
        ({"hidden": "linear"}, "delta1", "w13*delta3"),
        ({"output": "sigmoid", "loss": "mse"}, "dL_dyhat", "2*(yhat - y)"),
        ({"output": "sigmoid", "loss": "mse"}, "fprime3", "yhat*(1 - yhat)"),
        ({"output": "sigmoid", "loss": "mse"}, "delta3", "dL_dyhat*fprime3"),
        ({"output": "linear", "loss": "mse", "half": True}, "delta3", "yhat - y"),
        ({"output": "linear", "loss": "mse", "half": True}, "L", "(y - yhat)**2/2"),
        ({"output": "tanh", "loss": "mse"}, "fprime3", "1 - yhat**2"),
    ],
)
def test_activation_and_output_formulas(kwargs, name, text):
    assert Network("2-2-1", **kwargs).trace.formula_text(name) == text


def test_linear_hidden_has_no_fprime_step():
    names = Network("2-2-1", hidden="linear").trace.names
    assert "fprime1" not in names and "delta1" in names


def test_hidden_delta_sums_over_every_downstream_neuron():
    trace = Network("2-2-2", output="softmax", loss="cce").trace
    assert trace.formula_text("delta1") == "(w13*delta3 + w14*delta4)*fprime1"
    assert trace.formula_text("delta3") == "yhat1 - y1"
    assert trace.formula_text("delta4") == "yhat2 - y2"
    assert Network("2-2-2", hidden="linear", output="softmax", loss="cce").trace.formula_text(
        "delta2") == "w23*delta3 + w24*delta4"


def test_network_names_of_inputs_targets_outputs():
    net = Network("3-2-2", output="softmax", loss="cce")
    assert net.inputs == ["x1", "x2", "x3"]
    assert net.targets == ["y1", "y2"]
    assert net.outputs == ["yhat1", "yhat2"]
    assert net.givens(updates=False) == ["x1", "x2", "x3", "y1", "y2",
                                         *parameter_names((3, 2, 2))]
    assert [(w.name, w.source, w.target) for w in net.weights][:3] == [
        ("w11", "x1", 1), ("w21", "x2", 1), ("w31", "x3", 1)]
    assert ("w14", "a1", 4) in [(w.name, w.source, w.target) for w in net.weights]


# -- naming with two-digit indices (DESIGN.md: "separate with an underscore: w1_12") ----
@pytest.mark.parametrize("spec", [(12, 3, 1), (2, 12, 1), (2, 9, 2), (11, 1), (3, 4, 3, 2)])
def test_parameter_names_follow_the_design_rule(spec):
    net = Network(list(spec), output="linear", loss="mse")
    expected = parameter_names(spec)
    assert net.parameters == expected
    assert len(set(expected)) == len(expected)
    ids = neuron_ids(spec)
    trace = net.trace
    for layer in range(1, len(spec)):
        for j in ids[layer]:
            sources = [f"x{i}" if layer == 1 else f"a{i}" for i in ids[layer - 1]]
            pairs = zip(ids[layer - 1], sources, strict=True)
            terms = [f"{weight_name(i, j)}*{s}" for i, s in pairs]
            assert trace.formula_text(f"z{j}") == " + ".join([*terms, f"b{j}"])
    for p in expected:
        assert f"dL_d{p}" in trace and f"{p}_new" in trace
    tex = [trace.tex(p) for p in expected]
    assert len(set(tex)) == len(tex), "two parameters share a LaTeX name"


def test_two_digit_names_in_a_12_3_1_net():
    net = Network("12-3-1", output="linear", loss="mse")
    params = net.parameters
    assert "w12_1" in params  # from input 12 into neuron 1
    assert "w12" in params  # from input 1 into neuron 2
    assert "w14" in params and "b4" in params  # the output neuron is neuron 4
    assert not any(p in params for p in ["w1_12", "w121", "w1_13"])
    assert net.trace.formula_text("z4") == "w14*a1 + w24*a2 + w34*a3 + b4"


def test_two_digit_names_in_a_2_12_1_net():
    net = Network("2-12-1")
    trace = net.trace
    assert "w1_13" in net.parameters and "w12_13" in net.parameters
    assert trace.formula_text("delta1") == "w1_13*delta13*fprime1"
    assert trace.formula_text("dL_dw1_13") == "delta13*a1"
    assert trace.formula_text("w1_13_new") == "w1_13 - eta*dL_dw1_13"
    assert trace.formula_text("delta13") == "yhat - y"


@pytest.mark.parametrize(
    ("spec", "kwargs"),
    [
        ("2-1", {"output": "softmax", "loss": "mse"}),  # softmax needs 2 outputs
        ("2-1", {"loss": "cce"}),  # class losses need 2 outputs
        ("2-2-2", {"hidden": "softmax", "loss": "cce"}),  # softmax is output-only
        ("2-2-2-1", {"hidden": ["tanh"]}),  # one activation per hidden layer
        ("2", {}),
        ("2-0-1", {}),
        ("2-x-1", {}),
    ],
)
def test_invalid_networks_are_rejected(spec, kwargs):
    with pytest.raises(ChainruleError):
        Network(spec, **kwargs)


@pytest.mark.parametrize(("spec", "kwargs"), [
    ("2-2-1", {}), ("3-4-4-2", {"hidden": "linear", "loss": "cce"}),
    ("2-3-3-1", {"hidden": ["relu", "tanh"], "loss": "mse", "output": "linear"}),
    ("12-3-11-2", {"hidden": ["sigmoid", "linear"], "loss": "lsce"}),
    ("3-1-2", {"output": "softmax", "loss": "bce"})])
def test_each_steps_names_are_the_free_symbols_of_its_formulas(spec, kwargs):
    """The names a step's builder says it uses are exactly its formulas' free symbols."""
    for step in Network(spec, **kwargs).trace:
        names = {s.name for s in step.formula.free_symbols}
        if step.numeric is not None:
            names |= {s.name for s in step.numeric.free_symbols}
        assert step.dependencies == tuple(sorted(names)), step.name
