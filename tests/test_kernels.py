"""NumPy kernels: numerical safety at saturation and at probabilities 0 and 1, agreement
with the exact (50-digit) evaluation, and caching by structure.

pytest turns every warning into an error here, so "no NaN/inf" also means "no RuntimeWarning".
"""

import math

import numpy as np
import pytest

from chainrule.numeric.kernels import compile_trace
from chainrule.numeric.layers import compile_layers, pack, unpack
from chainrule.symbolic.losses import get_loss
from chainrule.symbolic.network import Network
from chainrule.symbolic.trace import Step, Trace, sym

#: The documented clip: a probability is read as at least 1e-15 inside a log (README).
CLIPPED = -math.log(1e-15)

OUTPUTS = [
    ("sigmoid", "bce", {}),
    ("sigmoid", "mse", {}),
    ("softmax", "cce", {}),
    ("softmax", "lsce", {}),
    ("softmax", "mse", {}),
    ("softmax", "kl", {}),
    ("softmax", "kl", {"direction": "reverse"}),
    ("linear", "mse", {}),
    ("linear", "huber", {}),
    ("linear", "mae", {}),
    ("linear", "hinge", {}),
    ("tanh", "mse", {}),
]
OUTPUT_IDS = ["-".join([o, k, *map(str, p.values())]) for o, k, p in OUTPUTS]


def saturating_givens(net, magnitude, targets):
    """Weights of +-magnitude: hidden units saturate in opposite directions, and each output
    unit sees their difference, so output units saturate too (biases 0, inputs 1, 1/2, ...)."""
    givens = {x: 1.0 / (i + 1) for i, x in enumerate(net.inputs)}
    for layer in range(1, len(net.layers)):
        for j_pos, j in enumerate(net.neurons[layer]):
            givens[f"b{j}"] = 0.0
            for i_pos, w in enumerate(net.weights_into(j)):
                parity = j_pos if layer == 1 else i_pos + j_pos
                givens[w.name] = magnitude * (1 if parity % 2 == 0 else -1)
    givens.update(zip(net.targets, targets, strict=True))
    return givens


def target_sets(output, loss, params, k):
    if loss == "kl" and params.get("direction") == "reverse":
        return [[0.25, 0.75][:k] if k == 2 else [1 / k] * k]
    if output == "softmax":
        return [list(np.eye(k)[0]), list(np.eye(k)[-1])]
    if loss == "hinge":
        return [[1.0] * k, [-1.0] * k]
    return [[1.0] * k, [0.0] * k]


def assert_all_finite(values, what):
    bad = {name: v for name, v in values.items() if not np.all(np.isfinite(v))}
    assert not bad, f"{what}: not finite: {bad}"


SATURATED = [
    pytest.param(hidden, output, loss, params, magnitude, id=f"{hidden}-{oid}-{magnitude:g}")
    for hidden in ["sigmoid", "tanh", "relu", "linear"]
    for (output, loss, params), oid in zip(OUTPUTS, OUTPUT_IDS, strict=True)
    for magnitude in [50.0, 800.0, -800.0]
    if (loss, params) != ("kl", {})  # forward KL: see test_saturated_forward_kl_is_finite
]


@pytest.mark.parametrize(("hidden", "output", "loss", "params", "magnitude"), SATURATED)
def test_saturated_units_give_finite_values(hidden, output, loss, params, magnitude):
    check_saturated(hidden, output, loss, params, magnitude)


def check_saturated(hidden, output, loss, params, magnitude):
    k = 2 if output == "softmax" else 1
    net = Network([2, 2, k], hidden=hidden, output=output, loss=loss, **params)
    layers = compile_layers(net)
    for targets in target_sets(output, loss, params, k):
        givens = saturating_givens(net, magnitude, targets)
        values = compile_trace(net.gradient_trace)(givens)
        outputs = [f"z{j}" for j in net.neurons[-1]]
        assert min(abs(float(values[z])) for z in outputs) >= 40  # the precondition
        assert_all_finite(values, "trace kernel")
        x = np.array([[givens[name] for name in net.inputs]])
        y = np.array([targets])
        mean_loss, grads = layers.loss_and_gradients(x, y, pack(net, givens))
        assert_all_finite({"L": mean_loss, **unpack(net, grads)}, "layer kernel")
        assert_all_finite(dict(net.gradient_trace.evaluate(givens)), "evaluate")


@pytest.mark.parametrize("magnitude", [800.0, -800.0])
@pytest.mark.parametrize("hidden", ["sigmoid", "tanh", "relu", "linear"])
def test_saturated_forward_kl_is_finite(hidden, magnitude):
    check_saturated(hidden, "softmax", "kl", {}, magnitude)


def test_saturated_layer_kernel_batch_is_finite():
    net = Network("3-4-4-3", hidden=["sigmoid", "tanh"], output="softmax", loss="cce")
    rng = np.random.default_rng(0)
    params = [800 * np.sign(rng.normal(size=a.shape)) for a in
              pack(net, {p: 0.0 for p in net.parameters})]
    x = rng.normal(size=(16, 3)) * 50
    y = np.eye(3)[rng.integers(0, 3, 16)]
    mean_loss, grads = compile_layers(net).loss_and_gradients(x, y, params)
    assert np.isfinite(mean_loss) and all(np.all(np.isfinite(g)) for g in grads)


# -- predictions at exactly 0 or 1 -------------------------------------------------------
@pytest.mark.parametrize(("y", "expected"), [(1.0, 0.0), (0.0, CLIPPED)])
def test_sigmoid_bce_at_a_prediction_of_exactly_one(y, expected):
    net = Network("1-1", output="sigmoid", loss="bce")
    givens = {"x1": 1.0, "w11": 800.0, "b1": 0.0, "y": y}
    values = compile_trace(net.gradient_trace)(givens)
    assert float(values["yhat"]) == 1.0  # the precondition: exactly 1 in float64
    assert float(values["L"]) == pytest.approx(expected, abs=1e-12)
    assert float(values["dL_dw11"]) == 1.0 - y  # delta = yhat - y, times x1 = 1
    mean_loss, grads = compile_layers(net).loss_and_gradients(
        np.array([[1.0]]), np.array([[y]]), pack(net, givens))
    assert mean_loss == pytest.approx(expected, abs=1e-12)
    assert unpack(net, grads)["w11"] == 1.0 - y


@pytest.mark.parametrize(("y", "expected"), [(0.0, 0.0), (1.0, CLIPPED)])
def test_sigmoid_bce_at_a_prediction_of_exactly_zero(y, expected):
    net = Network("1-1", output="sigmoid", loss="bce")
    givens = {"x1": 1.0, "w11": -800.0, "b1": 0.0, "y": y}
    values = compile_trace(net.gradient_trace)(givens)
    assert float(values["yhat"]) == 0.0
    assert float(values["L"]) == pytest.approx(expected, abs=1e-12)
    assert float(values["dL_db1"]) == -y


@pytest.mark.parametrize(("y", "expected"), [([1.0, 0.0], 0.0), ([0.0, 1.0], CLIPPED)])
def test_softmax_cce_at_predictions_of_exactly_zero_and_one(y, expected):
    net = Network("1-2", output="softmax", loss="cce")
    givens = {"x1": 1.0, "w11": 800.0, "b1": 0.0, "w12": -800.0, "b2": 0.0,
              "y1": y[0], "y2": y[1]}
    values = compile_trace(net.gradient_trace)(givens)
    assert (float(values["yhat1"]), float(values["yhat2"])) == (1.0, 0.0)
    assert float(values["L"]) == pytest.approx(expected, abs=1e-12)
    assert float(values["delta1"]) == 1.0 - y[0]
    mean_loss, _ = compile_layers(net).loss_and_gradients(
        np.array([[1.0]]), np.array([y]), pack(net, givens))
    assert mean_loss == pytest.approx(expected, abs=1e-12)


def loss_trace(key, k, **params):
    """A trace of just the loss and its derivative, in givens y.. and yhat.."""
    ys = ["y"] if k == 1 else [f"y{i}" for i in range(1, k + 1)]
    ps = ["yhat"] if k == 1 else [f"yhat{i}" for i in range(1, k + 1)]
    loss = get_loss(key, **params)
    point = loss.point([sym(n) for n in ys], [sym(n) for n in ps])
    return Trace(givens=(*ys, *ps), steps=(Step("L", point, "loss"),)), ys, ps


@pytest.mark.parametrize(
    ("key", "y", "p", "expected"),
    [
        ("bce", [1.0], [1.0], 0.0),
        ("bce", [0.0], [0.0], 0.0),
        ("bce", [1.0], [0.0], CLIPPED),
        ("bce", [0.0], [1.0], CLIPPED),
        ("cce", [1.0, 0.0], [1.0, 0.0], 0.0),
        ("cce", [0.0, 1.0], [1.0, 0.0], CLIPPED),
        ("lsce", [0.0, 1.0], [0.0, 1.0], 0.05 * CLIPPED),  # eps/K = 0.05 on the 0 class
    ],
)
def test_loss_at_probabilities_zero_and_one(key, y, p, expected):
    trace, ys, ps = loss_trace(key, len(y))
    givens = {**dict(zip(ys, y, strict=True)), **dict(zip(ps, p, strict=True))}
    assert float(compile_trace(trace)(givens)["L"]) == pytest.approx(expected, abs=1e-12)
    assert trace.evaluate(givens)["L"] == pytest.approx(expected, abs=1e-12)


def test_kl_of_a_confident_correct_prediction_is_zero():
    """0 log(0 / 0) is 0: a correct, saturated softmax has no divergence from its target."""
    net = Network("1-2", output="softmax", loss="kl")
    givens = {"x1": 1.0, "w11": 800.0, "b1": 0.0, "w12": -800.0, "b2": 0.0,
              "y1": 1.0, "y2": 0.0}
    assert net.gradient_trace.evaluate(givens)["L"] == 0.0
    values = compile_trace(net.gradient_trace)(givens)
    assert float(values["yhat2"]) == 0.0
    assert float(values["L"]) == 0.0
    mean_loss, _ = compile_layers(net).loss_and_gradients(
        np.array([[1.0]]), np.array([[1.0, 0.0]]), pack(net, givens))
    assert mean_loss == 0.0


def test_kl_of_a_confident_wrong_prediction_is_finite_like_cce():
    """Forward KL = CCE - H(y); with a one-hot y they are equal, clip included."""
    givens = {"x1": 1.0, "w11": 800.0, "b1": 0.0, "w12": -800.0, "b2": 0.0,
              "y1": 0.0, "y2": 1.0}
    kl = Network("1-2", output="softmax", loss="kl")
    cce = Network("1-2", output="softmax", loss="cce")
    expected = float(compile_trace(cce.gradient_trace)(givens)["L"])
    assert float(compile_trace(kl.gradient_trace)(givens)["L"]) == pytest.approx(expected)
    mean_loss, _ = compile_layers(kl).loss_and_gradients(
        np.array([[1.0]]), np.array([[0.0, 1.0]]), pack(kl, givens))
    assert mean_loss == pytest.approx(expected)


# -- ReLU at its kink ----------------------------------------------------------------------
def test_relu_derivative_is_zero_at_zero():
    net = Network("1-1-1", hidden="relu", output="linear", loss="mse")
    givens = {"x1": 1.0, "w11": 0.5, "b1": -0.5, "w12": 2.0, "b2": 0.0, "y": 1.0}
    values = compile_trace(net.gradient_trace)(givens)
    assert float(values["z1"]) == 0.0
    assert float(values["a1"]) == 0.0 and float(values["fprime1"]) == 0.0
    assert float(values["dL_dw11"]) == 0.0
    exact = net.gradient_trace.evaluate(givens)
    assert exact["fprime1"] == 0.0 and exact["dL_dw11"] == 0.0
    _, grads = compile_layers(net).loss_and_gradients(
        np.array([[1.0]]), np.array([[1.0]]), pack(net, givens))
    assert unpack(net, grads)["w11"] == 0.0


# -- kernels agree with the exact evaluation, step by step --------------------------------
NETS = [
    ("2-2-1", {}),
    ("2-3-2", {"hidden": "tanh", "output": "softmax", "loss": "cce"}),
    ("3-2-2-1", {"hidden": ["relu", "sigmoid"], "output": "linear", "loss": "huber",
                 "delta": 0.5}),
    ("2-2-3", {"hidden": "sigmoid", "output": "softmax", "loss": "lsce", "epsilon": 0.2}),
    ("1-3-2", {"hidden": "linear", "output": "linear", "loss": "hinge", "labels": "01"}),
]


@pytest.mark.parametrize(("spec", "kwargs"), NETS, ids=[n[0] for n in NETS])
def test_trace_kernel_batch_equals_exact_evaluation(spec, kwargs):
    net = Network(spec, **kwargs)
    trace = net.trace
    rng = np.random.default_rng(1)
    batch = 6
    givens = {g: rng.normal(0, 1, batch) for g in trace.givens}
    for t in net.targets:
        givens[t] = rng.integers(0, 2, batch).astype(float)
    if kwargs.get("output") == "softmax":
        onehot = np.eye(len(net.targets))[rng.integers(0, len(net.targets), batch)]
        givens.update({t: onehot[:, k] for k, t in enumerate(net.targets)})
    givens["eta"] = np.full(batch, 0.1)
    values = compile_trace(trace)(givens)
    for row in range(batch):
        exact = trace.evaluate({g: float(v[row]) for g, v in givens.items()})
        for name in trace.names:
            assert values[name].shape == (batch,)
            assert float(values[name][row]) == pytest.approx(exact[name], rel=1e-11,
                                                             abs=1e-13), (row, name)


def test_trace_kernel_broadcasts_scalars_against_a_batch():
    net = Network("2-2-1")
    givens = {p: 0.1 * i for i, p in enumerate(net.parameters)}
    givens.update({"x1": np.array([0.0, 1.0, 2.0]), "x2": 1.0, "y": 1.0})
    values = compile_trace(net.gradient_trace)(givens)
    assert values["dL_dw11"].shape == (3,)
    singles = [compile_trace(net.gradient_trace)({**givens, "x1": x})["dL_dw11"]
               for x in (0.0, 1.0, 2.0)]
    np.testing.assert_array_equal(values["dL_dw11"], np.array(singles, dtype=float).ravel())


# -- caching by structure ---------------------------------------------------------------
def test_trace_kernels_are_cached_per_structure():
    first = compile_trace(Network("2-2-1").trace)
    assert compile_trace(Network("2-2-1").trace) is first
    assert compile_trace(Network("2-2-1", hidden="tanh").trace) is not first


@pytest.mark.parametrize(
    ("loss", "first", "second"),
    [
        ("huber", {"delta": 0.5}, {"delta": 2.0}),
        ("huber", {"half": True}, {"half": False}),
        ("mse", {"half": True}, {"half": False}),
        ("hinge", {"labels": "pm1"}, {"labels": "01"}),
    ],
)
def test_kernels_distinguish_loss_parameters(loss, first, second):
    """Two nets that differ only in a loss parameter must not share a cached kernel."""
    x, y = np.array([[0.3, -1.2]]), np.array([[1.0]])
    results = []
    for params in (first, second):
        net = Network("2-1", output="linear", loss=loss, **params)
        values = {"w11": 0.9, "w21": 0.8, "b1": 0.5}
        givens = {"x1": 0.3, "x2": -1.2, "y": 1.0, **values}
        mean_loss, _ = compile_layers(net).loss_and_gradients(x, y, pack(net, values))
        results.append((mean_loss, float(compile_trace(net.gradient_trace)(givens)["L"])))
    z = 0.9 * 0.3 + 0.8 * -1.2 + 0.5  # -0.19; residual r = y - z = 1.19
    r = 1.0 - z
    reference = {
        ("huber", "delta", 0.5): 0.5 * r - 0.125, ("huber", "delta", 2.0): 0.5 * r * r,
        ("huber", "half", True): r - 0.5, ("huber", "half", False): 2 * r - 1.0,
        ("mse", "half", True): 0.5 * r * r, ("mse", "half", False): r * r,
        ("hinge", "labels", "pm1"): max(0.0, 1 - z), ("hinge", "labels", "01"): max(0.0, 1 - z),
    }
    for params, (layer_loss, trace_loss) in zip((first, second), results, strict=True):
        ((name, value),) = params.items()
        expected = reference[(loss, name, value)]
        assert layer_loss == pytest.approx(expected, rel=1e-12)
        assert trace_loss == pytest.approx(expected, rel=1e-12)


def test_hinge_with_01_labels_maps_zero_to_minus_one():
    net = Network("1-1", output="linear", loss="hinge", labels="01")
    givens = {"x1": 1.0, "w11": -0.25, "b1": 0.0, "y": 0.0}  # yhat = -0.25, label -1
    values = compile_trace(net.gradient_trace)(givens)
    assert float(values["L"]) == pytest.approx(0.75)
    assert float(values["dL_dw11"]) == pytest.approx(1.0)  # -label * x1


def test_kernel_source_is_straight_line_code_per_step():
    kernel = compile_trace(Network("2-2-1").gradient_trace)
    for name in Network("2-2-1").gradient_trace.names:
        assert f"    {name} = " in kernel.source
