"""Benchmark: one training step (forward + backward + Adam update) with chainrule's kernels.

For fully connected nets 2-2-1, 4-8-1, 8-16-4 and 16-32-10 (sigmoid hidden layers; sigmoid
+ BCE for one output, softmax + CCE for more) at batch sizes 1, 32, 1024 and 10,000 it times
one step of

* chainrule: ``chainrule.training.Stepper``, the step ``chainrule train`` runs: the layer
  kernel generated from the derivation (``compile_layers``) for the loss and gradients, then
  Adam's update trace compiled by ``update_kernel`` on the flat parameter vector;
* numpy: the same step written by hand: forward and backward pass with NumPy, then Adam's
  formulas on a flat parameter vector (the same layout, so the two differ only in who wrote
  the code);
* torch: autograd forward/backward and ``torch.optim.Adam`` on CPU, float64, with as many
  threads as NumPy's BLAS (when torch imports).

Before timing, one step of each from the same weights is checked to give the same loss and
the same new weights. Each figure is the best over repeated blocks of steps (a block lasts
about 2 ms or one step). chainrule and numpy take turns block by block, so that other work
on the machine slows them alike; torch is timed in a second phase, after every NumPy
measurement, because its OpenMP threads keep spinning for a while after each parallel
region and take a core from OpenBLAS's threads (whatever ran right after a torch block was
measured up to 4x slower). Targets: chainrule within 1.3x of the hand-written NumPy at batch
32 and above, and faster than torch at every size. Run by hand::

    python3 bench/train.py [--budget SECONDS]
"""

from __future__ import annotations

import argparse
import itertools
import os
import time
from collections.abc import Callable

import numpy as np

from chainrule.numeric.layers import compile_layers
from chainrule.numeric.optimizers import update_kernel
from chainrule.symbolic.network import Network
from chainrule.training import Stepper

try:
    import torch
except ImportError:
    torch = None

NETS = ["2-2-1", "4-8-1", "8-16-4", "16-32-10"]
BATCHES = [1, 32, 1024, 10_000]
ADAM = {"eta": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}


def make_net(spec: str) -> Network:
    return Network(spec, hidden="sigmoid", loss="bce" if spec.endswith("-1") else "cce")


# -- the hand-written step -------------------------------------------------------------------
class NumpyStep:
    """Forward, backward and Adam written out in NumPy, on a flat parameter vector."""

    def __init__(self, params: list[np.ndarray]) -> None:
        self.shapes = [p.shape for p in params]
        self.theta = np.concatenate([p.ravel() for p in params])
        self.m = np.zeros_like(self.theta)
        self.v = np.zeros_like(self.theta)
        self.t = 0
        self.params = self._views(self.theta)

    def _views(self, flat: np.ndarray) -> list[np.ndarray]:
        views, start = [], 0
        for shape in self.shapes:
            size = int(np.prod(shape))
            views.append(flat[start:start + size].reshape(shape))
            start += size
        return views

    def step(self, X: np.ndarray, Y: np.ndarray) -> float:
        Ws, bs = self.params[0::2], self.params[1::2]
        acts = [X]
        for W, b in zip(Ws[:-1], bs[:-1], strict=True):
            acts.append(1.0 / (1.0 + np.exp(-(acts[-1] @ W + b))))
        Z = acts[-1] @ Ws[-1] + bs[-1]
        if Z.shape[1] == 1:
            P = 1.0 / (1.0 + np.exp(-Z))
            loss = -(Y * np.log(P) + (1 - Y) * np.log(1 - P)).mean()
        else:
            E = np.exp(Z - Z.max(axis=1, keepdims=True))
            P = E / E.sum(axis=1, keepdims=True)
            loss = -(Y * np.log(P)).sum(axis=1).mean()
        D = (P - Y) / len(X)
        grads: list[np.ndarray] = []
        for i in range(len(Ws) - 1, -1, -1):
            grads[:0] = [acts[i].T @ D, D.sum(axis=0)]
            if i:
                D = (D @ Ws[i].T) * (acts[i] * (1 - acts[i]))
        g = np.concatenate([x.ravel() for x in grads])
        self.t += 1
        b1, b2 = ADAM["beta1"], ADAM["beta2"]
        self.m = b1 * self.m + (1 - b1) * g
        self.v = b2 * self.v + (1 - b2) * g * g
        mhat = self.m / (1 - b1**self.t)
        vhat = self.v / (1 - b2**self.t)
        self.theta = self.theta - ADAM["eta"] * mhat / (np.sqrt(vhat) + ADAM["eps"])
        self.params = self._views(self.theta)
        return float(loss)


class TorchStep:
    """torch autograd and torch.optim.Adam (float64, CPU)."""

    def __init__(self, params: list[np.ndarray], X: np.ndarray, Y: np.ndarray) -> None:
        self.params = [torch.tensor(p, requires_grad=True) for p in params]
        self.opt = torch.optim.Adam(self.params, lr=ADAM["eta"],
                                    betas=(ADAM["beta1"], ADAM["beta2"]), eps=ADAM["eps"])
        self.X = torch.from_numpy(X)
        self.Y = torch.from_numpy(Y) if Y.shape[1] == 1 else torch.from_numpy(Y.argmax(axis=1))

    def step(self) -> float:
        F = torch.nn.functional
        self.opt.zero_grad()
        h = self.X
        for W, b in zip(self.params[0:-2:2], self.params[1:-2:2], strict=True):
            h = torch.sigmoid(h @ W + b)
        z = h @ self.params[-2] + self.params[-1]
        if z.shape[1] == 1:
            loss = F.binary_cross_entropy_with_logits(z, self.Y)
        else:
            loss = F.cross_entropy(z, self.Y)
        loss.backward()
        self.opt.step()
        return loss.item()

    def flat(self) -> np.ndarray:
        return np.concatenate([p.detach().numpy().ravel() for p in self.params])


# -- timing ------------------------------------------------------------------------------------
def per_step(fns: dict[str, Callable[[], object]], budget: float) -> dict[str, float]:
    """Best time per call in microseconds, blocks of calls taking turns between contenders."""
    blocks = {}
    for name, fn in fns.items():  # warm up and size a block at about 2 ms
        start = time.perf_counter()
        fn()
        once = time.perf_counter() - start
        blocks[name] = max(1, int(0.002 / max(once, 1e-7)))
    best = dict.fromkeys(fns, float("inf"))
    spent = dict.fromkeys(fns, 0.0)
    rounds = 0
    while rounds < 5 or min(spent.values()) < budget:
        for name, fn in fns.items():
            n = blocks[name]
            start = time.perf_counter()
            for _ in range(n):
                fn()
            took = time.perf_counter() - start
            spent[name] += took
            best[name] = min(best[name], took / n)
        rounds += 1
    return {name: 1e6 * t for name, t in best.items()}


def data(spec: Network, batch: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    sizes = spec.layers
    X = rng.normal(size=(batch, sizes[0]))
    if sizes[-1] > 1:
        Y = np.eye(sizes[-1])[rng.integers(sizes[-1], size=batch)]
    else:
        Y = rng.integers(2, size=(batch, 1)).astype(np.float64)
    return X, Y


def initial(net: Network, rng: np.random.Generator) -> list[np.ndarray]:
    params = []
    for n_in, n_out in itertools.pairwise(net.layers):
        params += [rng.normal(size=(n_in, n_out)) / np.sqrt(n_in), 0.1 * rng.normal(size=n_out)]
    return params


def check(net: Network, X: np.ndarray, Y: np.ndarray, params: list[np.ndarray]) -> float:
    """One step of each contender from the same weights: the largest disagreement."""
    update = update_kernel("adam")
    ours = Stepper(compile_layers(net), update, params, update.hyper(ADAM))
    hand = NumpyStep(params)
    loss_ours, loss_hand = ours.step(X, Y, ADAM["eta"]), hand.step(X, Y)
    diffs = [abs(loss_ours - loss_hand), float(np.abs(ours.theta - hand.theta).max())]
    if torch is not None:
        theirs = TorchStep(params, X, Y)
        diffs += [abs(loss_ours - theirs.step()),
                  float(np.abs(ours.theta - theirs.flat()).max())]
    return max(diffs)


def setup(spec: str, batch: int, rng: np.random.Generator) -> tuple:
    """The network, a batch and initial weights, checked to agree across contenders."""
    net = make_net(spec)
    X, Y = data(net, batch, rng)
    params = initial(net, rng)
    diff = check(net, X, Y, params)
    assert diff < 1e-10, f"{spec} batch {batch}: contenders disagree by {diff}"
    return net, X, Y, params


def bench_numpy(net: Network, X: np.ndarray, Y: np.ndarray, params: list[np.ndarray],
                budget: float) -> dict[str, float]:
    """chainrule's step and the hand-written one, taking turns."""
    update = update_kernel("adam")
    ours = Stepper(compile_layers(net), update, params, update.hyper(ADAM))
    hand = NumpyStep(params)
    eta = ADAM["eta"]
    return per_step({"chainrule": lambda: ours.step(X, Y, eta),
                     "numpy": lambda: hand.step(X, Y)}, budget)


def blas_threads() -> int:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        env = os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")
        return int(env) if env else len(os.sched_getaffinity(0))
    return next(i for i in threadpool_info() if i["user_api"] == "blas")["num_threads"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=0.3,
                        help="seconds of timed steps per contender and cell (default 0.3)")
    args = parser.parse_args()
    threads = blas_threads()
    load = os.getloadavg()[0]
    print(f"numpy {np.__version__}, BLAS threads {threads}; load average {load:.2f} on "
          f"{os.cpu_count()} cpus" + (" (other work is running)" if load > 0.5 else ""))
    if torch is None:
        print("torch: not installed, column skipped")
    else:
        torch.set_num_threads(threads)
        print(f"torch {torch.__version__}: set_num_threads({threads}), float64")
    print("time per step (forward + backward + Adam) in microseconds, best of blocks\n")
    np.ones(4_000_000).sum()  # see bench/derive.py: raise glibc's mmap threshold first
    rng = np.random.default_rng(0)
    cells = {(spec, batch): setup(spec, batch, rng) for spec in NETS for batch in BATCHES}
    with np.errstate(all="ignore"):
        rows = {key: bench_numpy(*cell, args.budget) for key, cell in cells.items()}
        if torch is not None:
            for key, (_, X, Y, params) in cells.items():
                rows[key] |= per_step({"torch": TorchStep(params, X, Y).step}, args.budget)
    head = ["net", "batch", "chainrule", "numpy", "torch", "cr/numpy", "cr/torch"]
    if torch is None:
        head = head[:4] + head[5:6]
    print(" | ".join(f"{h:>9}" for h in head))
    for (spec, batch), row in rows.items():
        row["cr/numpy"] = row["chainrule"] / row["numpy"]
        if torch is not None:
            row["cr/torch"] = row["chainrule"] / row["torch"]
        cells_text = [f"{spec:>9}", f"{batch:>9}"] + [
            f"{row[h]:>9.2f}" if "/" in h else f"{row[h]:>9.1f}" for h in head[2:]]
        print(" | ".join(cells_text))

    big = {k: r for k, r in rows.items() if k[1] >= 32}
    worst_key = max(big, key=lambda k: big[k]["cr/numpy"])
    worst = big[worst_key]["cr/numpy"]
    print(f"\ntarget: chainrule within 1.3x of hand-written numpy at batch >= 32: worst "
          f"{worst:.2f}x ({worst_key[0]}, batch {worst_key[1]}), "
          + ("met" if worst <= 1.3 else "MISSED"))
    if torch is not None:
        slow = {k: r["cr/torch"] for k, r in rows.items() if r["cr/torch"] >= 1.0}
        worst_key = max(rows, key=lambda k: rows[k]["cr/torch"])
        print(f"target: faster than torch CPU at every size up to 16-32-10: worst "
              f"{rows[worst_key]['cr/torch']:.2f}x ({worst_key[0]}, batch {worst_key[1]}), "
              + ("met" if not slow else f"MISSED at {len(slow)} of {len(rows)} cells"))


if __name__ == "__main__":
    main()
