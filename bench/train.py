"""Benchmark: one training step (forward + backward + Adam update) with chainrule's kernels.

For fully connected nets 2-2-1, 16-32-10 and 64-64-10 (sigmoid hidden layers; sigmoid + BCE
for one output, softmax + CCE for more) at batch sizes 1, 8, 32, 128, 1,000, 4,000 and 10,000
it times one step of

* chainrule: ``chainrule.training.Stepper``, the step ``chainrule train`` runs: the layer
  kernel generated from the derivation (``compile_layers``) for the loss and gradients, then
  Adam's update trace compiled by ``update_kernel`` on the flat parameter vector;
* numpy: the same step written by hand and tuned (``bench/handnumpy.py``): forward and
  backward pass into buffers made once per batch size (``out=``), then Adam's formulas in
  place on a flat parameter vector (the same layout, so the two differ only in who wrote the
  code);
* torch: autograd forward/backward and ``torch.optim.Adam`` on CPU, float64, with as many
  threads as NumPy's BLAS (when torch imports).

Before timing, one step of each from the same weights is checked to give the same loss and
the same new weights. Each figure is the median (min–max) over repeated blocks of steps (a
block lasts about 2 ms or one step), the ratio the median of ratios of blocks side by side,
with the minor page faults per step (``ru_minflt``, after a first step that makes buffers).
Nothing pre-warms the allocator. chainrule and numpy take turns block by block, so that other work
on the machine slows them alike; torch is timed in a second phase, after every NumPy
measurement, because its OpenMP threads keep spinning for a while after each parallel
region and take a core from OpenBLAS's threads (whatever ran right after a torch block was
measured up to 4x slower). Targets: chainrule within 1.1x of the hand-written NumPy at every
batch, and faster than torch at every size.

Then whole runs: ``chainrule.train()`` (what ``chainrule train`` calls) against a
hand-written loop that logs the full-dataset loss and accuracy after every epoch, taking
turns; target within 1.1x. Run by hand::

    python3 bench/train.py [--budget SECONDS] [--repeat R] [--no-steps] [--no-runs] [--no-torch]
                           [--cpu]
"""

from __future__ import annotations

import argparse
import itertools
import os
import time

import numpy as np
from benchstats import machine, median
from handnumpy import ADAM, TunedStep, paired_blocks, use_cpu_clock

from chainrule.numeric.layers import compile_layers
from chainrule.numeric.optimizers import update_kernel
from chainrule.symbolic.network import Network
from chainrule.training import Dataset, Stepper, TrainConfig, train

try:
    import torch
except ImportError:
    torch = None

NETS = ["2-2-1", "16-32-10", "64-64-10"]
BATCHES = [1, 8, 32, 128, 1000, 4000, 10_000]


def make_net(spec: str) -> Network:
    return Network(spec, hidden="sigmoid", loss="bce" if spec.endswith("-1") else "cce")


# -- the hand-written step -------------------------------------------------------------------
class NumpyStep(TunedStep):
    """The tuned hand-written step (:mod:`handnumpy`) for a network's parameters."""

    def __init__(self, params: list[np.ndarray]) -> None:
        super().__init__([params[0].shape[0], *(p.shape[0] for p in params[1::2])], params)


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
def ratios(a: list[float], b: list[float]) -> list[float]:
    """Ratios of blocks taken side by side."""
    return [x / y for x, y in zip(a, b, strict=False)]


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
                budget: float) -> dict[str, list[float]]:
    """chainrule's step and the hand-written one, taking turns."""
    update = update_kernel("adam")
    ours = Stepper(compile_layers(net), update, params, update.hyper(ADAM))
    hand = NumpyStep(params)
    eta = ADAM["eta"]
    times, faults = paired_blocks({"chainrule": lambda: ours.step(X, Y, eta),
                                   "numpy": lambda: hand.step(X, Y)}, budget)
    return times | {f"faults {name}": [f] for name, f in faults.items()}


# -- whole runs: train() against a hand-written loop ---------------------------------------
RUNS = [  # net, examples, batching, batch size, epochs
    ("2-4-1", 200, "full", 32, 300),
    ("16-32-10", 4000, "mini", 32, 4),
    ("16-32-10", 4000, "full", 32, 60),
    ("16-32-10", 10_000, "mini", 1000, 20),
]


def dataset(net: Network, n: int, rng: np.random.Generator) -> Dataset:
    """Gaussian classes: one per output (two for a single output)."""
    k = max(2, net.layers[-1])
    labels = np.arange(n) % k
    centres = rng.normal(size=(k, net.layers[0]))
    X = centres[labels] + rng.normal(size=(n, net.layers[0]))
    Y = labels[:, None].astype(np.float64) if k == 2 else np.eye(k)[labels]
    task = "binary" if k == 2 else "multiclass"
    return Dataset("bench", X, Y, task, [f"x{i + 1}" for i in range(X.shape[1])],
                   [str(c) for c in range(k)])


def hand_loop(data: Dataset, params: list[np.ndarray], batching: str, batch_size: int,
              epochs: int, seed: int) -> list[tuple[float, float]]:
    """The same run written by hand: Adam on shuffled batches, then the full-dataset loss
    and accuracy at the end-of-epoch weights (one forward pass), every epoch."""
    X, Y = data.X, data.Y
    labels = data.labels()
    step = NumpyStep(params)
    rng = np.random.default_rng(seed)
    n = len(X)
    log = []
    for _ in range(epochs):
        if batching == "full":
            step.step(X, Y)
        else:
            order = rng.permutation(n)
            Xs, Ys = X[order], Y[order]
            for start in range(0, n, batch_size):
                step.step(Xs[start:start + batch_size], Ys[start:start + batch_size])
        Ws, bs = step.params[0::2], step.params[1::2]
        A = X
        for W, b in zip(Ws[:-1], bs[:-1], strict=True):
            A = 1.0 / (1.0 + np.exp(-(A @ W + b)))
        Z = A @ Ws[-1] + bs[-1]
        if Z.shape[1] == 1:
            P = 1.0 / (1.0 + np.exp(-Z))
            loss = -(Y * np.log(P) + (1 - Y) * np.log(1 - P)).mean()
            decided = (P[:, 0] > 0.5).astype(np.int64)
        else:
            E = np.exp(Z - Z.max(axis=1, keepdims=True))
            P = E / E.sum(axis=1, keepdims=True)
            loss = -(Y * np.log(P)).sum(axis=1).mean()
            decided = Z.argmax(axis=1)
        log.append((float(loss), float(np.mean(decided == labels))))
    return log


def bench_runs(repeat: int) -> None:
    """``chainrule.train()`` against ``hand_loop``, taking turns; ratios per pair."""
    print("\nwhole runs: chainrule.train() vs a hand-written loop that logs the full-dataset "
          "loss and accuracy every epoch (Adam)")
    print(f"{'net':>9} | {'examples':>8} | {'batching':>9} | {'epochs':>6} | "
          f"{'train() ms':>22} | {'hand ms':>22} | ratio median (min–max)")
    rng = np.random.default_rng(1)
    worst = 0.0
    for spec, n, batching, size, epochs in RUNS:
        net = make_net(spec)
        data = dataset(net, n, rng)
        params = initial(net, rng)
        config = TrainConfig(optimizer="adam", hyper={"eta": ADAM["eta"]}, batching=batching,
                             batch_size=size, epochs=epochs)
        ours_t, hand_t = [], []
        with np.errstate(all="ignore"):
            train(net, data, config, params=params)  # compile the kernels once
            for _ in range(repeat):
                t0 = time.perf_counter()
                train(net, data, config, params=params)
                t1 = time.perf_counter()
                hand_loop(data, params, batching, size, epochs, 0)
                t2 = time.perf_counter()
                ours_t.append(1e3 * (t1 - t0))
                hand_t.append(1e3 * (t2 - t1))
        r = ratios(ours_t, hand_t)
        worst = max(worst, median(r))
        print(f"{spec:>9} | {n:>8} | {batching + ('' if batching == 'full' else f' {size}'):>9}"
              f" | {epochs:>6} | {cell(ours_t):>22} | {cell(hand_t):>22} | {cell(r, 2)}")
    print(f"target: train() within 1.1x of the hand-written loop: worst median "
          f"{worst:.2f}x, " + ("met" if worst <= 1.1 else "MISSED"))


def cell(values: list[float], digits: int = 1) -> str:
    return f"{median(values):.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


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
    parser.add_argument("--repeat", type=int, default=5, help="whole runs per row (default 5)")
    parser.add_argument("--no-steps", action="store_true", help="only the whole runs")
    parser.add_argument("--no-runs", action="store_true", help="only the steps")
    parser.add_argument("--no-torch", action="store_true", help="no torch column")
    parser.add_argument("--cpu", action="store_true",
                        help="time steps by the process's CPU time, not wall time (a machine "
                             "shared with other work)")
    args = parser.parse_args()
    threads = blas_threads()
    print(f"numpy {np.__version__}, BLAS threads {threads}; {machine()}")
    print(f"steps timed by {use_cpu_clock(args.cpu)}")
    if args.no_torch:
        global torch
        torch = None
    if not args.no_steps:
        bench_steps(args.budget)
    if not args.no_runs:
        bench_runs(args.repeat)


def bench_steps(budget: float) -> None:
    if torch is None:
        print("torch: not installed (or --no-torch), column skipped")
    else:
        torch.set_num_threads(blas_threads())
        print(f"torch {torch.__version__}: set_num_threads({blas_threads()}), float64")
    print("time per step (forward + backward + Adam) in microseconds, median (min–max) of "
          "blocks; ratios of blocks side by side; pf: minor page faults per step (ru_minflt)\n")
    rng = np.random.default_rng(0)
    cells = {(spec, batch): setup(spec, batch, rng) for spec in NETS for batch in BATCHES}
    with np.errstate(all="ignore"):
        rows = {key: bench_numpy(*cell_, budget) for key, cell_ in cells.items()}
        if torch is not None:
            for key, (_, X, Y, params) in cells.items():
                rows[key] |= paired_blocks({"torch": TorchStep(params, X, Y).step}, budget)[0]
    head = ["net", "batch", "chainrule", "numpy", "torch", "cr/numpy", "cr/torch"]
    if torch is None:
        head = head[:4] + head[5:6]
    print(" | ".join(f"{h:>20}" for h in head) + " | pf chainrule | pf numpy")
    for (spec, batch), row in rows.items():
        row["cr/numpy"] = ratios(row["chainrule"], row["numpy"])
        if torch is not None:
            row["cr/torch"] = [median(row["chainrule"]) / median(row["torch"])]
        cells_text = [f"{spec:>20}", f"{batch:>20}"] + [
            f"{cell(row[h], 2 if '/' in h else 1):>20}" for h in head[2:]]
        faults = [f"{row[f'faults {n}'][0]:>{w}.2f}" for n, w in (("chainrule", 12),
                                                                  ("numpy", 8))]
        print(" | ".join(cells_text + faults), flush=True)

    worst_key = max(rows, key=lambda k: median(rows[k]["cr/numpy"]))
    worst = median(rows[worst_key]["cr/numpy"])
    print(f"\ntarget: chainrule within 1.1x of hand-written numpy at every batch: worst "
          f"median {worst:.2f}x ({worst_key[0]}, batch {worst_key[1]}), "
          + ("met" if worst <= 1.1 else "MISSED"))
    if torch is not None:
        slow = {k: r["cr/torch"] for k, r in rows.items() if r["cr/torch"][0] >= 1.0}
        worst_key = max(rows, key=lambda k: rows[k]["cr/torch"][0])
        print(f"target: faster than torch CPU at every size: worst "
              f"{rows[worst_key]['cr/torch'][0]:.2f}x ({worst_key[0]}, batch {worst_key[1]}), "
              + ("met" if not slow else f"MISSED at {len(slow)} of {len(rows)} cells"))


if __name__ == "__main__":
    main()
