"""Network parameters for training: seeded initialisation and one flat vector.

The layer kernels take ``[W1, b1, W2, b2, ...]`` with ``W_l`` of shape (n_{l-1}, n_l). The
optimizers update every element by the same rule, so training keeps all parameters in one
flat float64 vector and hands the kernels reshaped views of it: one update-kernel call per
step, whatever the number of layers.

Initialisation (biases start at 0):

* ``glorot`` (default; Glorot & Bengio 2010, "Xavier uniform"): W ~ U(-r, r) with
  r = sqrt(6 / (n_in + n_out)); suits sigmoid and tanh units.
* ``he`` (He et al. 2015): W ~ N(0, 2 / n_in); suits ReLU units.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from chainrule.errors import ChainruleError

__all__ = ["INITS", "Layout", "init_params"]

INITS = ("glorot", "he")


def init_params(
    layers: Sequence[int], rng: np.random.Generator, scheme: str = "glorot"
) -> list[np.ndarray]:
    """``[W1, b1, W2, b2, ...]`` for layer sizes ``layers``, drawn from ``rng``."""
    if scheme not in INITS:
        raise ChainruleError(f"unknown initialisation '{scheme}'; valid: {', '.join(INITS)}")
    params: list[np.ndarray] = []
    for n_in, n_out in itertools.pairwise(layers):
        if scheme == "glorot":
            r = np.sqrt(6.0 / (n_in + n_out))
            W = rng.uniform(-r, r, size=(n_in, n_out))
        else:
            W = rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out))
        params += [W, np.zeros(n_out)]
    return params


class Layout:
    """Where each parameter array lives in the flat vector."""

    def __init__(self, shapes: Sequence[tuple[int, ...]]) -> None:
        self.shapes = [tuple(s) for s in shapes]
        sizes = [int(np.prod(s)) for s in self.shapes]
        ends = list(itertools.accumulate(sizes))
        self.slices = [slice(end - size, end) for size, end in zip(sizes, ends, strict=True)]
        self.size = ends[-1] if ends else 0

    @classmethod
    def of(cls, arrays: Sequence[np.ndarray]) -> Layout:
        """The layout of a list of arrays."""
        return cls([np.shape(a) for a in arrays])

    def flatten(self, arrays: Sequence[np.ndarray]) -> np.ndarray:
        """One new flat float64 vector holding ``arrays`` in order."""
        if [np.shape(a) for a in arrays] != self.shapes:
            raise ValueError(f"arrays of shapes {[np.shape(a) for a in arrays]}, "
                             f"expected {self.shapes}")
        return np.concatenate([np.asarray(a, dtype=np.float64) for a in arrays], axis=None)

    def views(self, flat: np.ndarray) -> list[np.ndarray]:
        """The arrays as views into ``flat`` (no copy)."""
        return [flat[s].reshape(shape) for s, shape in zip(self.slices, self.shapes,
                                                            strict=True)]
