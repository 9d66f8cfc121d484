"""Layer (matrix) kernels for a network: the same derivation, vectorized over a batch.

The scalar trace names every weight; for training and for large batches the same chain rule
runs layer by layer with matrices. Each elementwise piece is printed from the symbolic layer
(the activation, its derivative in identity form, the loss term and its derivative, or the
combined output delta), and the chain rule through deltas is written with matrix products::

    Z_l = A_{l-1} W_l + b_l,   A_l = f_l(Z_l)
    D_L = dJ/dZ_L               (yhat - y where the loss and output combine), / batch size
    D_l = (D_{l+1} W_{l+1}^T) * f_l'(Z_l)
    dW_l = A_{l-1}^T D_l,      db_l = sum of D_l over the batch

Every step writes into a buffer made once per batch size (``out=``), the elementwise
formulas as ufunc calls (:mod:`chainrule.numeric.inplace`), so a step allocates no array in
proportion to the batch; softmax is shifted by each row's largest z (``max(axis=1)``).

``W_l[i, j]`` is the weight from unit i of layer l-1 into unit j of layer l, so a network's
scalar parameter ``w13`` of a 2-2-1 net is ``W_2[0, 0]``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import sympy as sp

from chainrule.numeric.inplace import InplaceWriter
from chainrule.numeric.printer import NAMESPACE
from chainrule.symbolic.network import Network
from chainrule.symbolic.trace import sym

__all__ = ["LayerKernel", "compile_layers", "pack", "unpack"]

_CACHE: dict[tuple[Any, ...], LayerKernel] = {}


@dataclass
class LayerKernel:
    """``loss_and_gradients(X, Y, params)`` and ``predict(X, params)`` for one network.

    The generated code writes every intermediate array (Z, A, deltas, the loss terms) into
    buffers made once per batch size and thread, so a training step allocates nothing in
    proportion to the batch. What the methods return is the caller's own: fresh arrays, or
    the ``out`` arrays given.
    """

    network: Network
    source: str
    _loss_and_gradients: Any
    _forward: Any
    _widths: dict[str, tuple[int, ...]]
    _local: threading.local = field(default_factory=threading.local, repr=False)

    def _buffers(self, m: int) -> tuple[np.ndarray, ...]:
        """This thread's buffers for batches of ``m`` rows (the last few sizes are kept)."""
        spaces = getattr(self._local, "spaces", None)
        if spaces is None:
            spaces = self._local.spaces = {}
        found = spaces.get(m)
        if found is None:
            if len(spaces) >= _SIZES_KEPT:
                del spaces[next(iter(spaces))]
            found = spaces[m] = tuple(np.empty((m, *w)) for w in self._widths.values())
        return found

    def loss_and_gradients(
        self, X: np.ndarray, Y: np.ndarray, params: Sequence[np.ndarray],
        out: Sequence[np.ndarray] | None = None,
    ) -> tuple[float, list[np.ndarray]]:
        """Mean loss over the batch and its gradient for [W1, b1, W2, b2, ...].

        With ``out`` (arrays shaped like ``params``) the gradient is written there and
        ``out`` is returned; otherwise new arrays are.
        """
        if out is None:
            out = [np.empty(np.shape(p)) for p in params]
        with np.errstate(all="ignore"):
            loss = self._loss_and_gradients(X, Y, *params, *out,
                                             *self._buffers(X.shape[0]))
        return float(loss), list(out)

    def bind(
        self, params: Sequence[np.ndarray], out: Sequence[np.ndarray]
    ) -> Callable[[np.ndarray, np.ndarray], float]:
        """``f(X, Y)``: the batch's mean loss, its gradient written into ``out``.

        For a loop that calls the kernel many times on the same arrays: the arguments are
        packed once, and no floating-point error state is set (call it inside
        ``numpy.errstate(all="ignore")`` when a run may overflow, as training does).
        """
        function, buffers, head = self._loss_and_gradients, self._buffers, (*params, *out)

        def loss_and_gradients(X: np.ndarray, Y: np.ndarray) -> float:
            return function(X, Y, *head, *buffers(X.shape[0]))  # type: ignore[no-any-return]

        return loss_and_gradients

    def loss_and_outputs(
        self, X: np.ndarray, Y: np.ndarray, params: Sequence[np.ndarray], copy: bool = True
    ) -> tuple[float, np.ndarray]:
        """Mean loss over the batch and the network's outputs, from one forward pass.

        With ``copy=False`` the outputs are the kernel's own buffer: read them before the
        kernel runs again on a batch of this size in this thread.
        """
        with np.errstate(all="ignore"):
            T, outputs = self._forward(X, Y, *params, *self._buffers(X.shape[0]))
            return float(T.sum() / X.shape[0]), outputs.copy() if copy else outputs

    def losses(self, X: np.ndarray, Y: np.ndarray, params: Sequence[np.ndarray]) -> np.ndarray:
        """The loss of every example of the batch."""
        with np.errstate(all="ignore"):
            T, _ = self._forward(X, Y, *params, *self._buffers(X.shape[0]))
            return T.sum(axis=1)

    def predict(self, X: np.ndarray, params: Sequence[np.ndarray]) -> np.ndarray:
        """Network outputs for a batch of inputs (rows)."""
        with np.errstate(all="ignore"):
            _, outputs = self._forward(X, None, *params, *self._buffers(X.shape[0]))
            return outputs.copy()


#: Batch sizes whose buffers a kernel keeps per thread (full batch, mini-batch, remainder).
_SIZES_KEPT = 4


@lru_cache(maxsize=32)
def _ones(size: int) -> np.ndarray:
    """A read-only vector of ones (sums over a batch as matrix products)."""
    ones = np.ones(size)
    ones.flags.writeable = False
    return ones


def _cache_key(net: Network) -> tuple[Any, ...]:
    return (net.layers, tuple(a.key for a in net.hidden), net.output.key, net.loss.key,
            tuple(sorted(net.loss.params.items())))


class _Buffers:
    """The buffers a kernel's code names, each with its shape after the batch dimension."""

    def __init__(self) -> None:
        self.widths: dict[str, tuple[int, ...]] = {}

    def add(self, name: str, *shape: int) -> str:
        self.widths[name] = shape
        return name

    def writer(self, names: Mapping[sp.Symbol, str], width: int) -> InplaceWriter:
        """A formula writer whose scratch buffers have ``width`` columns."""
        return InplaceWriter(names, lambda i: self.add(f"S{width}_{i}", width))


def compile_layers(net: Network) -> LayerKernel:
    """Generate and compile the layer kernel of ``net`` (cached per structure)."""
    key = _cache_key(net)
    if key in _CACHE:
        return _CACHE[key]
    n = len(net.layers) - 1
    k = net.n_outputs
    a, z, t, p = sym("_a"), sym("_z"), sym("_t"), sym("_p")
    buf = _Buffers()
    params = ", ".join(f"W{l}, b{l}" for l in range(1, n + 1))
    grads = ", ".join(f"dW{l}, db{l}" for l in range(1, n + 1))
    out = net.output
    combined = net.loss.combined_term(out.key, t, p, k)
    # Z_l is kept apart from A_l only where a derivative reads it; elsewhere the activation
    # overwrites it (one buffer fewer per layer, less memory to stream at large batches).
    keeps_z = {l for l in range(1, n) if net.activation_of(l).derivative(a, z).has(z)}
    if combined is None and not out.vector and out.derivative(p, z).has(z):
        keeps_z.add(n)
    fwd = ["    A0 = X"]
    for l in range(1, n + 1):
        width = net.layers[l]
        act = net.activation_of(l)
        in_place = l not in keeps_z and (
            act.vector or buf.writer({z: f"A{l}"}, width).overwrites_safely(act.forward(z),
                                                                          f"A{l}"))
        Z = buf.add(f"A{l}" if in_place else f"Z{l}", width)
        fwd.append(f"    numpy.matmul(A{l - 1}, W{l}, out={Z})")
        fwd.append(f"    numpy.add({Z}, b{l}, out={Z})")
        if act.vector:  # softmax, shifted by each row's largest z
            A, M, R = buf.add(f"A{l}", width), buf.add(f"M{l}", 1), buf.add(f"R{l}")
            fwd.append(f"    numpy.max({Z}, axis=1, keepdims=True, out={M})")
            fwd.append(f"    numpy.subtract({Z}, {M}, out={A})")
            fwd.append(f"    numpy.exp({A}, out={A})")
            fwd.append(f"    numpy.matmul({A}, _ones({width}), out={R})")
            fwd.append(f"    numpy.divide({A}, {R}[:, None], out={A})")
        elif act.forward(z) == z:
            fwd.append(f"    A{l} = {Z}")
        else:
            A = buf.add(f"A{l}", width)
            fwd += _indent(buf.writer({z: Z}, width).write(act.forward(z), A,
                                                           in_place=in_place))
    term = net.loss.term(t, p, k)
    loss_term = buf.writer({t: "Y", p: f"A{n}"}, k).write(net.loss.numeric(term) or term,
                                                          buf.add("T", k))
    body = [*fwd, *_indent(loss_term), "    m = X.shape[0]", "    ones = _ones(m)"]
    D = buf.add(f"D{n}", k)
    if combined is not None:
        body += _indent(buf.writer({t: "Y", p: f"A{n}"}, k).write(combined, D))
    else:
        G = buf.add("G", k)
        body += _indent(buf.writer({t: "Y", p: f"A{n}"}, k).write(
            net.loss.term_derivative(t, p, k), G))
        if out.vector:  # D = A * (G - rowsum(G * A))
            GA, R = buf.add("GA", k), buf.add("RG")
            body += [f"    numpy.multiply({G}, A{n}, out={GA})",
                     f"    numpy.matmul({GA}, _ones({k}), out={R})",
                     f"    numpy.subtract({G}, {R}[:, None], out={G})",
                     f"    numpy.multiply(A{n}, {G}, out={D})"]
        else:
            prime = buf.add("P", k)
            body += _indent(buf.writer({p: f"A{n}", z: f"Z{n}"}, k).write(
                out.derivative(p, z), prime))
            body.append(f"    numpy.multiply({G}, {prime}, out={D})")
    body.append(f"    numpy.divide({D}, m, out={D})")
    for l in range(n, 0, -1):
        body.append(f"    numpy.matmul(A{l - 1}.T, D{l}, out=dW{l})")
        body.append(f"    numpy.matmul(ones, D{l}, out=db{l})")
        if l > 1:
            width = net.layers[l - 1]
            back = buf.add(f"D{l - 1}", width)
            # With one unit in layer l, D W^T is an outer product: a broadcast is cheaper
            # into a wide layer, a matrix product (no iterator buffers) into a narrow one.
            op = "multiply" if net.layers[l] == 1 and width >= 16 else "matmul"
            body.append(f"    numpy.{op}(D{l}, W{l}.T, out={back})")
            act = net.activation_of(l - 1)
            if not act.derivative_is_one:
                prime = f"P{width}"
                buf.add(prime, width)
                body += _indent(buf.writer({a: f"A{l - 1}", z: f"Z{l - 1}"}, width).write(
                    act.derivative(a, z), prime))
                body.append(f"    numpy.multiply({back}, {prime}, out={back})")
    body.append("    return T.sum() / m")
    names = ", ".join(buf.widths)
    source = (
        f"def loss_and_gradients(X, Y, {params}, {grads}, {names}):\n" + "\n".join(body)
        + f"\n\n\ndef forward(X, Y, {params}, {names}):\n" + "\n".join(fwd)
        + "\n    if Y is None:\n" + f"        return None, A{n}\n"
        + "\n".join(_indent(loss_term)) + f"\n    return T, A{n}\n"
    )
    namespace = {**NAMESPACE, "_ones": _ones}
    exec(compile(source, f"<chainrule layer kernel {net.spec}>", "exec"), namespace)
    kernel = LayerKernel(net, source, namespace["loss_and_gradients"], namespace["forward"],
                         dict(buf.widths))
    _CACHE[key] = kernel
    return kernel


def _indent(lines: list[str]) -> list[str]:
    return [f"    {line}" for line in lines]


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
