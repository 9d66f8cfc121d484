"""Layer (matrix) kernels for a network: the same derivation, vectorized over a batch.

The scalar trace names every weight; for training and for large batches the same chain rule
runs layer by layer with matrices. Each elementwise piece is printed from the symbolic layer
(the activation, its derivative in identity form, the loss term and its derivative, or the
combined output delta), and the chain rule through deltas is written with matrix products::

    Z_l = A_{l-1} W_l + b_l,   A_l = f_l(Z_l)
    D_L = dJ/dZ_L               (yhat - y where the loss and output combine), / batch size
    D_l = (D_{l+1} W_{l+1}^T) * f_l'(Z_l)
    dW_l = A_{l-1}^T D_l,      db_l = sum of D_l over the batch

``W_l[i, j]`` is the weight from unit i of layer l-1 into unit j of layer l, so a network's
scalar parameter ``w13`` of a 2-2-1 net is ``W_2[0, 0]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from chainrule.numeric.printer import NAMESPACE, to_code
from chainrule.symbolic.network import Network
from chainrule.symbolic.trace import sym

__all__ = ["LayerKernel", "compile_layers", "pack", "unpack"]

_CACHE: dict[tuple[Any, ...], LayerKernel] = {}


@dataclass
class LayerKernel:
    """``loss_and_gradients(X, Y, params)`` and ``predict(X, params)`` for one network."""

    network: Network
    source: str
    _loss_and_gradients: Any
    _predict: Any

    def loss_and_gradients(
        self, X: np.ndarray, Y: np.ndarray, params: Sequence[np.ndarray]
    ) -> tuple[float, list[np.ndarray]]:
        """Mean loss over the batch and its gradient for [W1, b1, W2, b2, ...]."""
        with np.errstate(all="ignore"):
            loss, grads = self._loss_and_gradients(X, Y, *params)
        return float(loss), grads

    def losses(self, X: np.ndarray, Y: np.ndarray, params: Sequence[np.ndarray]) -> np.ndarray:
        """The loss of every example of the batch."""
        with np.errstate(all="ignore"):
            return self._loss_and_gradients(X, Y, *params, only_loss=True)

    def predict(self, X: np.ndarray, params: Sequence[np.ndarray]) -> np.ndarray:
        """Network outputs for a batch of inputs (rows)."""
        with np.errstate(all="ignore"):
            return self._predict(X, *params)


@lru_cache(maxsize=32)
def _ones(size: int) -> np.ndarray:
    """A read-only vector of ones (sums over a batch as matrix products)."""
    ones = np.ones(size)
    ones.flags.writeable = False
    return ones


def _cache_key(net: Network) -> tuple[Any, ...]:
    return (net.layers, tuple(a.key for a in net.hidden), net.output.key, net.loss.key,
            tuple(sorted(net.loss.params.items())))


def compile_layers(net: Network) -> LayerKernel:
    """Generate and compile the layer kernel of ``net`` (cached per structure)."""
    key = _cache_key(net)
    if key in _CACHE:
        return _CACHE[key]
    n = len(net.layers) - 1
    k = net.n_outputs
    a, z, t, p = sym("_a"), sym("_z"), sym("_t"), sym("_p")
    params = ", ".join(f"W{l}, b{l}" for l in range(1, n + 1))
    fwd = ["    A0 = X"]
    for l in range(1, n + 1):
        # The bias is added in place; sums over a batch are products with a ones vector,
        # which NumPy does far faster than a reduction down narrow columns.
        fwd.append(f"    Z{l} = A{l - 1} @ W{l}")
        fwd.append(f"    Z{l} += b{l}")
        act = net.activation_of(l)
        width = net.layers[l]
        if act.vector:
            fwd.append(f"    M{l} = Z{l}[:, 0:1].copy()")
            for c in range(1, width):
                fwd.append(f"    numpy.maximum(M{l}, Z{l}[:, {c}:{c + 1}], out=M{l})")
            fwd.append(f"    E{l} = numpy.exp(Z{l} - M{l})")
            fwd.append(f"    A{l} = E{l} / (E{l} @ _ones({width}))[:, None]")
        else:
            fwd.append(f"    A{l} = {to_code(act.forward(z), {z: f'Z{l}'})}")
    term = net.loss.term(t, p, k)
    loss_term = to_code(net.loss.numeric(term) or term, {t: "Y", p: f"A{n}"})
    body = list(fwd)
    body.append(f"    T = {loss_term}")
    body.append("    if only_loss:\n        return T.sum(axis=1)")
    body.append("    m = X.shape[0]")
    body.append("    ones = _ones(m)")
    out = net.output
    combined = net.loss.combined_term(out.key, t, p, k)
    if combined is not None:
        body.append(f"    D{n} = ({to_code(combined, {t: 'Y', p: f'A{n}'})}) / m")
    else:
        grad = to_code(net.loss.term_derivative(t, p, k), {t: "Y", p: f"A{n}"})
        body.append(f"    G = {grad}")
        if out.vector:
            body.append(f"    D{n} = A{n} * (G - ((G * A{n}) @ _ones({k}))[:, None]) / m")
        else:
            prime = to_code(out.derivative(p, z), {p: f"A{n}", z: f"Z{n}"})
            body.append(f"    D{n} = G * ({prime}) / m")
    for l in range(n, 0, -1):
        body.append(f"    dW{l} = A{l - 1}.T @ D{l}")
        body.append(f"    db{l} = ones @ D{l}")
        if l > 1:
            act = net.activation_of(l - 1)
            # With one unit in layer l, D W^T is an outer product: a broadcast is cheaper.
            back = f"D{l} * W{l}.T" if net.layers[l] == 1 else f"D{l} @ W{l}.T"
            if act.derivative_is_one:
                body.append(f"    D{l - 1} = {back}")
            else:
                prime = to_code(act.derivative(a, z), {a: f"A{l - 1}", z: f"Z{l - 1}"})
                body.append(f"    D{l - 1} = ({back}) * ({prime})")
    grads = ", ".join(f"dW{l}, db{l}" for l in range(1, n + 1))
    body.append(f"    return T.sum() / m, [{grads}]")
    source = (
        f"def loss_and_gradients(X, Y, {params}, only_loss=False):\n" + "\n".join(body) + "\n\n"
        f"def predict(X, {params}):\n" + "\n".join(fwd) + f"\n    return A{n}\n"
    )
    namespace = {**NAMESPACE, "_ones": _ones}
    exec(compile(source, f"<chainrule layer kernel {net.spec}>", "exec"), namespace)
    kernel = LayerKernel(net, source, namespace["loss_and_gradients"], namespace["predict"])
    _CACHE[key] = kernel
    return kernel


def pack(net: Network, values: Mapping[str, float]) -> list[np.ndarray]:
    """Scalar parameter values (w11, b1, ...) as layer arrays [W1, b1, W2, b2, ...]."""
    arrays: list[np.ndarray] = []
    for layer in range(1, len(net.layers)):
        ids = net.neurons[layer]
        W = np.empty((net.layers[layer - 1], net.layers[layer]))
        for j_pos, j in enumerate(ids):
            for i_pos, w in enumerate(net.weights_into(j)):
                W[i_pos, j_pos] = values[w.name]
        b = np.array([values[f"b{j}"] for j in ids], dtype=np.float64)
        arrays += [W, b]
    return arrays


def unpack(net: Network, arrays: Sequence[np.ndarray]) -> dict[str, float]:
    """Layer arrays [W1, b1, ...] (or their gradients) as scalar values by parameter name."""
    values: dict[str, float] = {}
    for layer in range(1, len(net.layers)):
        W, b = arrays[2 * (layer - 1)], arrays[2 * (layer - 1) + 1]
        for j_pos, j in enumerate(net.neurons[layer]):
            for i_pos, w in enumerate(net.weights_into(j)):
                values[w.name] = float(W[i_pos, j_pos])
            values[f"b{j}"] = float(b[j_pos])
    return values
