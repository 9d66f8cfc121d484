"""Which examples each update averages its gradient over (the notes, sections 6-8).

* ``full`` (batch GD): one update per epoch on every example, in order.
* ``sgd``: one update per example, the examples shuffled each epoch.
* ``mini``: updates on batches of ``batch_size`` examples, shuffled each epoch; the last
  batch of an epoch holds what is left (like PyTorch's DataLoader without drop_last).

Shuffles come from the ``numpy.random.Generator`` passed in, so a seed fixes them.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from chainrule.errors import ChainruleError
from chainrule.symbolic.registry import lookup

__all__ = ["BATCHINGS", "batch_indices", "epoch_batches", "get_batching", "steps_per_epoch"]

BATCHINGS = {"full": "full batch", "sgd": "one example per step", "mini": "mini-batches"}

_ALIASES = {"batch": "full", "full_batch": "full", "gd": "full", "stochastic": "sgd",
            "minibatch": "mini", "mini_batch": "mini"}


def get_batching(name: str) -> str:
    """The batching strategy called ``name``: full, sgd or mini."""
    return lookup("batching", name, {k: k for k in BATCHINGS}, _ALIASES)


def _size(strategy: str, n: int, batch_size: int | None) -> int:
    if strategy == "full":
        return n
    if strategy == "sgd":
        return 1
    if batch_size is None or batch_size < 1:
        raise ChainruleError("mini-batches need a batch size of at least 1")
    return min(batch_size, n)


def steps_per_epoch(strategy: str, n: int, batch_size: int | None = None) -> int:
    """Updates in one epoch over ``n`` examples."""
    return -(-n // _size(get_batching(strategy), n, batch_size))


def batch_indices(
    strategy: str, n: int, rng: np.random.Generator, batch_size: int | None = None
) -> Iterator[np.ndarray | None]:
    """The batches of one epoch as index arrays; ``None`` means every example, in order."""
    strategy = get_batching(strategy)
    size = _size(strategy, n, batch_size)
    if strategy == "full":
        yield None
        return
    order = rng.permutation(n)
    for start in range(0, n, size):
        yield order[start:start + size]


def epoch_batches(
    strategy: str, X: np.ndarray, Y: np.ndarray, rng: np.random.Generator,
    batch_size: int | None = None, into: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (X, Y) batches of one epoch: the rows of :func:`batch_indices`, gathered once.

    ``into`` (two arrays shaped like X and Y) receives the shuffled rows instead of new
    arrays, so that a loop over epochs gathers into the same memory every time; the
    batches are then views into it, valid until the next epoch's gathering.
    """
    n = X.shape[0]
    strategy = get_batching(strategy)
    size = _size(strategy, n, batch_size)
    if strategy == "full":
        return [(X, Y)]
    order = rng.permutation(n)
    if into is None:
        Xs, Ys = X[order], Y[order]
    else:  # mode="clip": the indices are valid, and "raise" would gather into a temporary
        Xs, Ys = into
        np.take(X, order, axis=0, out=Xs, mode="clip")
        np.take(Y, order, axis=0, out=Ys, mode="clip")
    return [(Xs[start:start + size], Ys[start:start + size]) for start in range(0, n, size)]
