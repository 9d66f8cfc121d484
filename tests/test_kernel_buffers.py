"""Layer kernels and training steps: the numbers of a plain NumPy restatement, no allocation.

The generated kernels write every intermediate into buffers made once per batch size, and
the training step updates theta and the optimizer state in vectors made once. These tests
hold them to (1) the network's formulas restated by hand in NumPy, at several batch sizes,
and (2) no memory allocated per call once those buffers exist (``tracemalloc`` sees NumPy's
array data).
"""

from __future__ import annotations

import itertools
import tracemalloc

import numpy as np
import pytest

from chainrule.numeric.layers import compile_layers
from chainrule.numeric.optimizers import compile_inplace, update_kernel
from chainrule.symbolic.network import Network
from chainrule.training import Stepper, Targets, epoch_batches

EPS = 1e-15  # chainrule clips a log's argument below here


def _hidden(name: str, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An activation and its derivative, restated."""
    if name == "sigmoid":
        a = 1.0 / (1.0 + np.exp(-z))
        return a, a * (1.0 - a)
    if name == "tanh":
        a = np.tanh(z)
        return a, 1.0 - a * a
    if name == "relu":
        return np.maximum(z, 0.0), (z > 0).astype(float)
    return z, np.ones_like(z)


def plain(net_kind: str, hidden: str, X: np.ndarray, Y: np.ndarray, params: list[np.ndarray]
          ) -> tuple[float, list[np.ndarray], np.ndarray]:
    """Mean loss, gradients and outputs of the network, written out with new arrays."""
    Ws, bs = params[0::2], params[1::2]
    acts, primes = [X], []
    for W, b in zip(Ws[:-1], bs[:-1], strict=True):
        a, d = _hidden(hidden, acts[-1] @ W + b)
        acts.append(a)
        primes.append(d)
    Z = acts[-1] @ Ws[-1] + bs[-1]
    m = len(X)
    if net_kind == "sigmoid-bce":
        P = 1.0 / (1.0 + np.exp(-Z))
        loss = -(Y * np.log(np.maximum(P, EPS))
                 + (1 - Y) * np.log(np.maximum(1 - P, EPS))).sum() / m
        D = (P - Y) / m
    elif net_kind == "softmax-cce":
        E = np.exp(Z - Z.max(axis=1, keepdims=True))
        P = E / E.sum(axis=1, keepdims=True)
        loss = -(Y * np.log(np.maximum(P, EPS))).sum() / m
        D = (P - Y) / m
    elif net_kind == "linear-mse":
        P = Z
        loss = ((Y - P) ** 2).sum() / m
        D = 2 * (P - Y) / m
    else:  # softmax-mse: D = J^T g row by row, J the softmax Jacobian
        E = np.exp(Z - Z.max(axis=1, keepdims=True))
        P = E / E.sum(axis=1, keepdims=True)
        loss = ((Y - P) ** 2).sum() / m
        G = 2 * (P - Y)
        D = P * (G - (G * P).sum(axis=1, keepdims=True)) / m
    grads: list[np.ndarray] = []
    for i in range(len(Ws) - 1, -1, -1):
        grads[:0] = [acts[i].T @ D, D.sum(axis=0)]
        if i:
            D = (D @ Ws[i].T) * primes[i - 1]
    return float(loss), grads, P


NETS = [
    ("2-2-1", "sigmoid", "sigmoid-bce", {"hidden": "sigmoid", "loss": "bce"}),
    ("4-8-3", "sigmoid", "softmax-cce", {"hidden": "sigmoid", "loss": "cce"}),
    ("3-5-4-2", "tanh", "linear-mse", {"hidden": "tanh", "output": "linear", "loss": "mse"}),
    ("3-6-3", "relu", "softmax-mse", {"hidden": "relu", "output": "softmax", "loss": "mse"}),
    ("2-4-1", "linear", "sigmoid-bce", {"hidden": "linear", "loss": "bce"}),
]


def _problem(net: Network, m: int, rng: np.random.Generator
             ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    k = net.layers[-1]
    X = rng.normal(size=(m, net.layers[0]))
    Y = np.eye(k)[rng.integers(k, size=m)] if k > 1 else rng.integers(2, size=(m, 1)) * 1.0
    params = []
    for n_in, n_out in itertools.pairwise(net.layers):
        params += [rng.normal(size=(n_in, n_out)), 0.5 * rng.normal(size=n_out)]
    return X, Y, params


@pytest.mark.parametrize(("spec", "hidden", "kind", "kwargs"), NETS)
def test_kernel_equals_a_plain_numpy_restatement_at_every_batch_size(spec, hidden, kind,
                                                                    kwargs):
    net = Network(spec, **kwargs)
    kernel = compile_layers(net)
    rng = np.random.default_rng(7)
    out = None
    # Sizes in an order that comes back to earlier ones: buffers are reused, not stale.
    for m in (1, 7, 64, 1000, 7, 3, 1):
        X, Y, params = _problem(net, m, rng)
        want_loss, want_grads, want_outputs = plain(kind, hidden, X, Y, params)
        if out is None or m == 64:
            out = [np.full(np.shape(p), np.nan) for p in params]
        loss, grads = kernel.loss_and_gradients(X, Y, params, out=out)
        assert loss == pytest.approx(want_loss, rel=1e-12, abs=1e-14)
        for got, want in zip(grads, want_grads, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13)
        both_loss, outputs = kernel.loss_and_outputs(X, Y, params)
        assert both_loss == pytest.approx(want_loss, rel=1e-12, abs=1e-14)
        np.testing.assert_allclose(outputs, want_outputs, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(kernel.predict(X, params), want_outputs, rtol=1e-12,
                                   atol=1e-15)
        bound = kernel.bind(params, out)
        with np.errstate(all="ignore"):
            again = bound(X, Y)
        assert again == loss
        for got, want in zip(out, want_grads, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13)


def _growth(call, times: int) -> tuple[int, int]:
    """Peak and lasting growth of traced memory (bytes) over ``times`` calls."""
    tracemalloc.start()
    try:
        for _ in range(20):  # what first calls under tracing settle (Python's free lists)
            call()
        start, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        for _ in range(times):
            call()
        now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - start, now - start


#: NumPy's iterator takes buffers for a ufunc that broadcasts (a bias over rows, a row's sum
#: over columns): at most 8,192 elements per operand, whatever the batch (from 4,096 rows of
#: 2 columns up). Anything in proportion to the batch shows as growth between a batch of
#: 5,000 and one of 40,000 (where one temporary column is 320,000 bytes).
NUMPY_BUFFERS = 140_000


@pytest.mark.parametrize(("spec", "hidden", "kind", "kwargs"), NETS)
def test_repeated_kernel_calls_allocate_nothing_in_proportion_to_the_batch(spec, hidden,
                                                                         kind, kwargs):
    net = Network(spec, **kwargs)
    kernel = compile_layers(net)
    peaks = []
    for m in (5000, 40000):
        X, Y, params = _problem(net, m, np.random.default_rng(1))
        out = [np.empty(np.shape(p)) for p in params]
        kernel.loss_and_gradients(X, Y, params, out=out)  # buffers for this batch size
        call = lambda: kernel.loss_and_gradients(X, Y, params, out=out)  # noqa: B023, E731
        peak, kept = _growth(call, 20)
        assert peak < NUMPY_BUFFERS and kept < 1000, (m, peak, kept)
        bound = kernel.bind(params, out)
        with np.errstate(all="ignore"):
            bound_peak, kept = _growth(lambda: bound(X, Y), 20)  # noqa: B023
        assert bound_peak <= peak and kept < 1000, (m, bound_peak, kept)
        peaks.append(peak)
    assert peaks[1] < peaks[0] + 4000, peaks


def test_a_temporary_would_be_seen():
    """The measures above can fail: one batch-sized temporary per call is over their bounds."""
    peaks = []
    for m in (5000, 40000):
        X = np.ones((m, 1))
        peak, kept = _growth(lambda: (X * 2.0).sum(), 20)  # noqa: B023
        peaks.append(peak)
        assert peak >= 8 * m and kept < 1000
    assert peaks[1] >= peaks[0] + 4000


OPTIMIZERS = [("gd", {}), ("momentum", {}), ("momentum", {"convention": "torch"}),
              ("nag", {}), ("nag", {"convention": "torch"}), ("adagrad", {}),
              ("rmsprop", {}), ("adam", {}), ("adam", {"eps_placement": "inside"})]


@pytest.mark.parametrize(("name", "options"), OPTIMIZERS)
def test_training_steps_allocate_nothing_and_match_the_update_kernel(name, options):
    net = Network("32-64-4", hidden="sigmoid", loss="cce")
    X, Y, params = _problem(net, 2000, np.random.default_rng(2))
    update = update_kernel(name, **options)
    hyper = update.hyper({"eta": 0.05})
    stepper = Stepper(compile_layers(net), update, params, hyper)
    kernel = compile_layers(net)
    # The same steps by the array update kernel (new arrays each call), gradient by gradient.
    theta = [p.copy() for p in params]
    state = update.init_state(theta)
    with np.errstate(all="ignore"):
        for t in range(1, 4):
            at = update.lookahead(theta, state, hyper)
            want_loss, grads = kernel.loss_and_gradients(X, Y, at)
            theta, state = update(theta, grads, state, hyper, t)
            loss = stepper.step(X, Y, hyper["eta"])
            assert loss == pytest.approx(want_loss, rel=1e-12)
            for got, want in zip(stepper.params, theta, strict=True):
                np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
            for s in update.state_names:
                np.testing.assert_allclose(stepper.state[s], np.concatenate(
                    [x.ravel() for x in state[s]]), rtol=1e-12, atol=1e-15)
            assert np.shares_memory(stepper.views[0], stepper.theta)
        peak, kept = _growth(lambda: stepper.step(X, Y, hyper["eta"]), 20)
        kernel_peak, _ = _growth(lambda: kernel.loss_and_gradients(X, Y, stepper.params,
                                                                   out=grads), 20)
    # The update allocates nothing: 2,372 parameters, so one parameter-sized temporary
    # would be 18,976 bytes over the layer kernel's own peak (NumPy's iterator buffers).
    assert peak < kernel_peak + 2000 and kept < 1000, (peak, kernel_peak, kept)
    assert stepper.t == 3 + 20 + 20  # checked steps, settling steps, measured steps


def test_inplace_update_works_numbers_out_once_and_refuses_unknown_results():
    update = update_kernel("adam")
    code = update.inplace()
    assert code.array_givens == ("theta", "g", "m", "v")
    assert code.results == ("theta_new", "m_new", "v_new")
    assert code.number_givens == ("eta", "beta1", "beta2", "eps", "t")
    assert "1 - beta1**t" in code.source  # a number, not an array of them
    size = 5
    rng = np.random.default_rng(3)
    theta, g, m, v = (rng.normal(size=size) for _ in range(4))
    v = np.abs(v)
    outs = [np.empty(size) for _ in code.results]
    scratch = [np.empty(size) for _ in range(code.n_scratch)]
    code.function(theta, g, m, v, *outs, *scratch, 0.1, 0.9, 0.999, 1e-8, 3)
    m_new = 0.9 * m + 0.1 * g
    v_new = 0.999 * v + 0.001 * g * g
    want = theta - 0.1 * (m_new / (1 - 0.9**3)) / (np.sqrt(v_new / (1 - 0.999**3)) + 1e-8)
    np.testing.assert_allclose(outs[0], want, rtol=1e-13)
    np.testing.assert_allclose(outs[1], m_new, rtol=1e-14)
    np.testing.assert_allclose(outs[2], v_new, rtol=1e-14)
    with pytest.raises(ValueError, match="not array steps"):
        compile_inplace(update.trace, ("theta", "g", "m", "v"), ("nonsense",))


def test_epoch_batches_gather_into_given_arrays_the_same_rows():
    rng = np.random.default_rng(5)
    X, Y = rng.normal(size=(23, 3)), rng.normal(size=(23, 2))
    into = (np.empty_like(X), np.empty_like(Y))
    for strategy, size in (("mini", 5), ("sgd", None)):
        fresh = epoch_batches(strategy, X, Y, np.random.default_rng(9), size)
        kept = epoch_batches(strategy, X, Y, np.random.default_rng(9), size, into)
        assert len(fresh) == len(kept)
        for (fx, fy), (kx, ky) in zip(fresh, kept, strict=True):
            np.testing.assert_array_equal(fx, kx)
            np.testing.assert_array_equal(fy, ky)
            assert np.shares_memory(kx, into[0]) and np.shares_memory(ky, into[1])
    assert epoch_batches("full", X, Y, rng, None, into)[0][0] is X


@pytest.mark.parametrize("threshold", [None, 0.5, 0.0])
def test_accuracy_with_reused_work_arrays_equals_the_plain_count(threshold):
    rng = np.random.default_rng(6)
    for n in (10, 3, 10, 1):
        k = 1 if threshold is not None else 4
        outputs = rng.normal(size=(n, k))
        labels = rng.integers(2 if k == 1 else k, size=n)
        targets = Targets(np.zeros((n, 1)), np.zeros((n, k)), labels, threshold)
        if threshold is None:
            want = sum(int(np.argmax(row)) == c for row, c in zip(outputs, labels, strict=True))
        else:
            want = sum(int(row[0] > threshold) == c for row, c in zip(outputs, labels,
                                                                      strict=True))
        assert targets.accuracy(outputs) == want / n
        assert targets.accuracy(outputs) == want / n  # again, from the kept work arrays
