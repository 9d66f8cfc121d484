"""The benchmarks' tuned NumPy baseline: a network's loss, gradient and Adam step by hand.

Written as a careful NumPy programmer would for a training loop: every intermediate array
(Z, A, deltas, scratch) is a buffer made once per batch size and written in place (``out=``),
the weight and gradient views into flat vectors are made once, the loss is reduced with
dot products, and Adam updates its flat vectors in place. Sigmoid hidden layers; sigmoid +
BCE for one output, softmax + CCE for more; logs clipped below at 1e-15 as chainrule's are,
so both compute the same numbers.

:func:`faults_per_call` counts minor page faults (``ru_minflt``) per call of a function.
"""

from __future__ import annotations

import itertools
import resource
import time
from collections.abc import Callable, Sequence

import numpy as np

EPS = 1e-15
ADAM = {"eta": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}


class TunedKernel:
    """``loss_and_gradients(X, Y, params, grads)`` for layer sizes ``layers``, in place."""

    def __init__(self, layers: Sequence[int]) -> None:
        self.layers = tuple(layers)
        self._spaces: dict[int, tuple] = {}

    def _space(self, m: int) -> tuple:
        space = self._spaces.get(m)
        if space is None:
            sizes = self.layers[1:]
            k = sizes[-1]
            space = self._spaces[m] = (
                [np.empty((m, n)) for n in sizes],  # Z, then A in place for each layer
                [np.empty((m, n)) for n in sizes],  # deltas
                [np.empty((m, n)) for n in sizes],  # scratch
                np.empty((m, 1)), np.empty((m, k)),
            )
        return space

    def loss_and_gradients(self, X: np.ndarray, Y: np.ndarray, params: Sequence[np.ndarray],
                           grads: Sequence[np.ndarray]) -> float:
        """The batch's mean loss; its gradient is written into ``grads``."""
        m = X.shape[0]
        As, Ds, Ss, M, S = self._space(m)
        n = len(As)
        A = X
        for i in range(n):
            W, b, Z = params[2 * i], params[2 * i + 1], As[i]
            np.matmul(A, W, out=Z)
            Z += b
            if i < n - 1 or Z.shape[1] == 1:  # sigmoid in place
                np.negative(Z, out=Z)
                np.exp(Z, out=Z)
                Z += 1.0
                np.reciprocal(Z, out=Z)
            else:  # softmax, shifted by each row's largest z
                np.max(Z, axis=1, keepdims=True, out=M)
                Z -= M
                np.exp(Z, out=Z)
                np.sum(Z, axis=1, keepdims=True, out=M)
                Z /= M
            A = Z
        P, D = As[-1], Ds[-1]
        np.maximum(P, EPS, out=S)
        np.log(S, out=S)
        total = np.vdot(Y, S)
        if P.shape[1] == 1:  # BCE: -(y log p + (1 - y) log(1 - p))
            np.subtract(1.0, P, out=S)
            np.maximum(S, EPS, out=S)
            np.log(S, out=S)
            total += S.sum() - np.vdot(Y, S)
        np.subtract(P, Y, out=D)
        D /= m
        for i in range(n - 1, -1, -1):
            prev = As[i - 1] if i else X
            np.matmul(prev.T, Ds[i], out=grads[2 * i])
            np.sum(Ds[i], axis=0, out=grads[2 * i + 1])
            if i:
                back, scratch = Ds[i - 1], Ss[i - 1]
                np.matmul(Ds[i], params[2 * i].T, out=back)
                np.subtract(1.0, prev, out=scratch)  # sigmoid': a (1 - a)
                scratch *= prev
                back *= scratch
        return -float(total) / m


class TunedStep:
    """Forward, backward (:class:`TunedKernel`) and Adam in place, on a flat vector."""

    def __init__(self, layers: Sequence[int], params: Sequence[np.ndarray]) -> None:
        shapes = [np.shape(p) for p in params]
        sizes = [int(np.prod(s)) for s in shapes]
        ends = list(itertools.accumulate(sizes))
        self.theta = np.concatenate([np.ravel(p) for p in params]).astype(np.float64)
        self.grad, self.m, self.v, self.scratch = (np.zeros_like(self.theta) for _ in range(4))

        def views(flat: np.ndarray) -> list[np.ndarray]:
            return [flat[e - s:e].reshape(shape) for s, e, shape in zip(sizes, ends, shapes,
                                                                        strict=True)]

        self.params, self.grads = views(self.theta), views(self.grad)
        self.kernel = TunedKernel(layers)
        self.t = 0

    def step(self, X: np.ndarray, Y: np.ndarray) -> float:
        loss = self.kernel.loss_and_gradients(X, Y, self.params, self.grads)
        g, m, v, s = self.grad, self.m, self.v, self.scratch
        self.t += 1
        b1, b2 = ADAM["beta1"], ADAM["beta2"]
        m *= b1
        np.multiply(g, 1 - b1, out=s)
        m += s
        v *= b2
        np.multiply(g, g, out=s)
        s *= 1 - b2
        v += s
        # theta -= eta * mhat / (sqrt(vhat) + eps), mhat = m / (1 - b1^t), vhat likewise
        np.divide(v, 1 - b2**self.t, out=s)
        np.sqrt(s, out=s)
        s += ADAM["eps"]
        np.divide(m, s, out=s)
        s *= ADAM["eta"] / (1 - b1**self.t)
        self.theta -= s
        return loss


def faults_per_call(fn: Callable[[], object], calls: int) -> float:
    """Minor page faults per call over ``calls`` calls of ``fn`` (after the ones before)."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(calls):
        fn()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / calls


#: The clock :func:`paired_blocks` reads: wall time, or with ``use_cpu_clock()`` the CPU
#: time of the process (all its threads), which leaves out the time other processes on a
#: shared machine take the core away (its cache and memory bandwidth they still share).
CLOCK: list[Callable[[], float]] = []


def use_cpu_clock(cpu: bool) -> str:
    """Time blocks by CPU time (``cpu``) or wall time; a phrase naming the clock."""
    CLOCK[:] = [time.process_time if cpu else time.perf_counter]
    return "process CPU time" if cpu else "wall time"


def paired_blocks(fns: dict[str, Callable[[], object]], budget: float
                  ) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Times per call in microseconds (one per block of calls) and page faults per call.

    Each function is called once first (it may make its buffers then: counted apart), then
    blocks of about 2 ms take turns until each has run ``budget`` seconds (at least 5 blocks).
    """
    clock = CLOCK[0] if CLOCK else time.perf_counter
    blocks = {}
    for name, fn in fns.items():
        start = time.perf_counter()
        fn()
        blocks[name] = max(1, int(0.002 / max(time.perf_counter() - start, 1e-7)))
    times: dict[str, list[float]] = {name: [] for name in fns}
    faults = dict.fromkeys(fns, 0)
    calls = dict.fromkeys(fns, 0)
    spent = dict.fromkeys(fns, 0.0)
    rounds = 0
    while rounds < 5 or min(spent.values()) < budget:
        for name, fn in fns.items():
            n = blocks[name]
            f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            start = clock()
            for _ in range(n):
                fn()
            took = clock() - start
            faults[name] += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0
            calls[name] += n
            spent[name] += took
            times[name].append(1e6 * took / n)
        rounds += 1
    return times, {name: faults[name] / calls[name] for name in fns}
