"""Layer kernels that write into buffers made once: same values as plain formulas.

Oracles: SymPy's own ``lambdify`` of each formula (not chainrule's printer), and the
kernel's results from fresh calls on other batches.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from chainrule.numeric.inplace import InplaceWriter
from chainrule.numeric.layers import compile_layers
from chainrule.numeric.printer import NAMESPACE
from chainrule.symbolic.activations import ACTIVATIONS
from chainrule.symbolic.losses import LOSSES, get_loss
from chainrule.symbolic.network import Network
from chainrule.symbolic.trace import sym

SHAPE = (7, 3)


def run_inplace(expr: sp.Expr, arrays: dict[str, np.ndarray]) -> np.ndarray:
    """``expr`` computed by the writer's code into a buffer."""
    symbols = {s: s.name for s in expr.free_symbols}
    scratch: list[str] = []

    def name(i: int) -> str:
        while len(scratch) <= i:
            scratch.append(f"S_{len(scratch)}")
        return scratch[i]

    lines = InplaceWriter(symbols, name).write(expr, "OUT")
    namespace = {**NAMESPACE, **arrays, "OUT": np.full(SHAPE, np.nan)}
    namespace |= {s: np.full(SHAPE, np.nan) for s in scratch}
    with np.errstate(all="ignore"):
        exec("\n".join(lines), namespace)
    return namespace["OUT"]


def oracle(expr: sp.Expr, arrays: dict[str, np.ndarray]) -> np.ndarray:
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    modules = [{"sigmoid": lambda x: 1 / (1 + np.exp(-x)), "relu": lambda x: np.maximum(x, 0),
                "step": lambda x: (x > 0).astype(float),
                "Heaviside": lambda x, *_: (x > 0).astype(float)}, "numpy"]
    fn = sp.lambdify(symbols, expr, modules=modules)
    return np.broadcast_to(fn(*[arrays[s.name] for s in symbols]), SHAPE)


# softmax mixes units: the layer kernel writes it out itself (checked by the network tests).
@pytest.mark.parametrize("key", sorted(k for k, a in ACTIVATIONS.items() if not a.vector))
def test_activation_and_derivative_match_lambdify(key):
    act = ACTIVATIONS[key]
    rng = np.random.default_rng(1)
    z = rng.uniform(-3, 3, size=SHAPE)
    z[np.abs(z) < 1e-3] = 0.5  # away from the ReLU kink
    a_sym, z_sym = sym("A"), sym("Z")
    forward = act.forward(z_sym)
    if forward == z_sym:
        return
    a = run_inplace(forward, {"Z": z})
    np.testing.assert_allclose(a, oracle(forward, {"Z": z}), rtol=1e-14)
    prime = act.derivative(a_sym, z_sym)
    got = run_inplace(prime, {"A": a, "Z": z})
    np.testing.assert_allclose(got, oracle(prime, {"A": a, "Z": z}), rtol=1e-14)


@pytest.mark.parametrize("key", sorted(LOSSES))
@pytest.mark.parametrize("classes", [1, 3])
def test_loss_terms_and_derivatives_match_lambdify(key, classes):
    loss = get_loss(key)
    rng = np.random.default_rng(2)
    values = {"T": rng.uniform(0.05, 0.95, size=SHAPE), "P": rng.uniform(0.05, 0.95, size=SHAPE)}
    t, p = sym("T"), sym("P")
    term = loss.term(t, p, classes)
    formulas = [loss.numeric(term) or term, loss.term_derivative(t, p, classes)]
    for output in ("sigmoid", "softmax", "linear"):
        combined = loss.combined_term(output, t, p, classes)
        if combined is not None:
            formulas.append(combined)
    for formula in formulas:
        np.testing.assert_allclose(run_inplace(formula, values), oracle(formula, values),
                                   rtol=1e-13, atol=1e-15, err_msg=str(formula))


def test_writer_refuses_a_target_that_is_also_an_input():
    x = sym("X")
    with pytest.raises(ValueError, match="input"):
        InplaceWriter({x: "X"}, lambda i: f"S{i}").write(x * (1 - x), "X")


@pytest.mark.parametrize(("spec", "kwargs"), [
    ("2-3-1", {"hidden": "sigmoid", "loss": "bce"}),
    ("4-5-3", {"hidden": "tanh", "loss": "cce"}),
    ("3-4-2", {"hidden": "relu", "output": "softmax", "loss": "mse"}),
    ("2-2-2-1", {"hidden": "linear", "output": "linear", "loss": "huber"}),
])
def test_buffers_are_never_what_a_caller_holds(spec, kwargs):
    net = Network(spec, **kwargs)
    kernel = compile_layers(net)
    rng = np.random.default_rng(3)
    params = [rng.normal(size=s) for a, b in zip(net.layers, net.layers[1:], strict=False)
              for s in ((a, b), (b,))]
    k = net.layers[-1]

    def batch(m):
        X = rng.normal(size=(m, net.layers[0]))
        Y = np.eye(k)[rng.integers(k, size=m)] if k > 1 else rng.integers(2, size=(m, 1)) * 1.0
        return X, Y

    X1, Y1 = batch(50)
    X2, Y2 = batch(9)
    loss1, grads1 = kernel.loss_and_gradients(X1, Y1, params)
    kept = [g.copy() for g in grads1]
    out1 = kernel.predict(X1, params)
    kept_out = out1.copy()
    # Other batch sizes and the same size again, in between: nothing held may change.
    kernel.loss_and_gradients(X2, Y2, params)
    kernel.loss_and_gradients(*batch(50), params)
    kernel.predict(X2, params)
    for g, before in zip(grads1, kept, strict=True):
        np.testing.assert_array_equal(g, before)
    np.testing.assert_array_equal(out1, kept_out)
    again, grads_again = kernel.loss_and_gradients(X1, Y1, params)
    assert again == loss1
    for g, before in zip(grads_again, kept, strict=True):
        np.testing.assert_array_equal(g, before)
    # Written into the caller's arrays when asked.
    out = [np.full(np.shape(p), np.nan) for p in params]
    _, returned = kernel.loss_and_gradients(X1, Y1, params, out=out)
    assert all(r is o for r, o in zip(returned, out, strict=True))
    for g, before in zip(out, kept, strict=True):
        np.testing.assert_array_equal(g, before)
    # One forward pass gives the mean loss and the outputs.
    mean, outputs = kernel.loss_and_outputs(X1, Y1, params)
    assert mean == pytest.approx(kernel.losses(X1, Y1, params).mean(), rel=1e-14)
    np.testing.assert_array_equal(outputs, kept_out)
