"""Benchmark: deriving, compiling and evaluating a network's gradient with chainrule.

For fully connected nets 2-2-1, 4-8-1, 8-16-4 and 16-32-10 (sigmoid hidden layers; sigmoid
+ BCE for one output, softmax + CCE for more) it measures

* build trace: ``Network(...)`` then ``.gradient_trace``, fresh objects and SymPy's cache
  cleared each time;
* compile scalar / compile layer: ``compile_trace(trace)`` and ``compile_layers(net)`` of a
  fresh network, with chainrule's kernel caches (and SymPy's) cleared before every run;
* the gradient of the mean loss over a batch of 10,000 examples, with the loss itself, by
  the layer kernel, by the scalar trace kernel (per-example gradients of every weight, then
  averaged), by a hand-written NumPy backprop, and by torch CPU autograd (float64, as many
  threads as NumPy's BLAS) when torch imports.

and by a tuned hand-written NumPy kernel (``bench/handnumpy.py``: buffers made once per batch
size, written in place).

Then the layer kernel against the tuned NumPy kernel by batch size: nets 2-2-1, 16-32-10
and 64-64-10 at batch 1, 8, 32, 128, 1,000, 4,000 and 10,000, time per call in microseconds
and minor page faults per call (``ru_minflt``, after a first call that makes the buffers,
whose faults are shown apart). Target: <= 1.1x at every batch size, no page faults per call.

The losses and gradients are checked to agree before anything is timed. Each figure is the
median of N runs (min–max beside it), N chosen so that a measurement takes about 0.5-1 s;
the layer kernel, NumPy and torch take turns, so that other work on the machine slows them
alike, and each ratio is the median of the ratios of turns taken side by side. Nothing
pre-warms the allocator: the figures are what a fresh process gets. Run by hand, not in the
test suite::

    python3 bench/derive.py [--sweep] [--cpu]

``--sweep``: only the batch-size table; ``--cpu``: time its blocks by the process's CPU time
(on a machine shared with other work: the time others take the core away is left out).
"""

from __future__ import annotations

import itertools
import os
import resource
import sys
import time
from collections.abc import Callable

import numpy as np
from benchstats import machine, median
from handnumpy import TunedKernel, paired_blocks, use_cpu_clock
from sympy.core.cache import clear_cache

from chainrule.numeric import kernels, layers
from chainrule.numeric.layers import compile_layers, pack, unpack
from chainrule.symbolic.network import Network

try:
    import torch
except ImportError:
    torch = None

NETS = ["2-2-1", "4-8-1", "8-16-4", "16-32-10"]
BATCH = 10_000
SWEEP_NETS = ["2-2-1", "16-32-10", "64-64-10"]
SWEEP_BATCHES = [1, 8, 32, 128, 1000, 4000, 10_000]
BUDGET = 0.5  # seconds of timed runs per measurement (at least 3 runs, at most 1000)


def best(fn: Callable[..., object], setup: Callable[[], object] | None = None) -> list[float]:
    """Times in ms of N runs of ``fn()``, or of ``fn(setup())`` with setup untimed."""
    return best_of({"": fn}, setup)[""]


def best_of(
    fns: dict[str, Callable[..., object]], setup: Callable[[], object] | None = None
) -> dict[str, list[float]]:
    """Times of several functions, run in turn so that they share the machine's moods."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    while min(map(len, times.values())) < 3 or (
        min(map(sum, times.values())) < BUDGET and max(map(len, times.values())) < 1000
    ):
        for name, fn in fns.items():
            args = () if setup is None else (setup(),)
            start = time.perf_counter()
            fn(*args)
            times[name].append(time.perf_counter() - start)
    return {name: [1e3 * x for x in t] for name, t in times.items()}


def make_net(spec: str) -> Network:
    return Network(spec, hidden="sigmoid", loss="bce" if spec.endswith("-1") else "cce")


def fresh_net(spec: str) -> Network:
    """A new network (its trace derived) with every kernel and SymPy cache cleared."""
    kernels._CACHE.clear()
    layers._CACHE.clear()
    clear_cache()
    net = make_net(spec)
    net.gradient_trace  # noqa: B018
    return net


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def numpy_backprop(X: np.ndarray, Y: np.ndarray, params: list[np.ndarray]):
    """Mean loss and [dW1, db1, ...] by hand: sigmoid hidden, sigmoid+BCE or softmax+CCE."""
    Ws, bs = params[0::2], params[1::2]
    with np.errstate(over="ignore", under="ignore"):
        acts = [X]
        for W, b in zip(Ws[:-1], bs[:-1], strict=True):
            acts.append(sigmoid(acts[-1] @ W + b))
        Z = acts[-1] @ Ws[-1] + bs[-1]
        if Z.shape[1] == 1:
            P = sigmoid(Z)
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
    return loss, grads


def scalar_gradients(kernel, givens: dict, names: list[str]) -> tuple[float, dict[str, float]]:
    """Mean loss and gradients from the trace kernel's per-example values, averaged."""
    out = kernel(givens)
    return out["L"].mean(), {p: out[f"dL_d{p}"].mean() for p in names}


def torch_step(X: np.ndarray, Y: np.ndarray, params: list[np.ndarray]):
    """A closure: torch forward + mean loss + backward, returning the gradients."""
    F = torch.nn.functional
    tX, tY = torch.from_numpy(X), torch.from_numpy(Y)
    tp = [torch.tensor(p, requires_grad=True) for p in params]

    def step():
        for p in tp:
            p.grad = None
        h = tX
        for W, b in zip(tp[0:-2:2], tp[1:-2:2], strict=True):
            h = torch.sigmoid(h @ W + b)
        z = h @ tp[-2] + tp[-1]
        if z.shape[1] == 1:
            loss = F.binary_cross_entropy_with_logits(z, tY)
        else:
            loss = F.cross_entropy(z, tY)
        loss.backward()
        return loss.detach(), [p.grad for p in tp]

    return step


def blas_threads() -> tuple[int, str]:
    """NumPy's BLAS thread count and a one-line description of the BLAS."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        config = blas.get("openblas configuration", f"{blas['name']} {blas['version']}")
        env = os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")
        n = int(env) if env else len(os.sched_getaffinity(0))
        return n, f"{config}; threads {n} (assumed: no threadpoolctl)"
    info = next(i for i in threadpool_info() if i["user_api"] == "blas")
    return info["num_threads"], (
        f"{info['internal_api']} {info['version']} {info.get('architecture')}; "
        f"threads {info['num_threads']} (threadpoolctl)"
    )


def max_diff(a: list, b: list) -> float:
    return max(float(np.abs(np.asarray(x) - y).max()) for x, y in zip(a, b, strict=True))


def bench(spec: str, rng: np.random.Generator) -> dict[str, list[float]]:
    """One row of the table: times in ms and their ratios (every run, for median and range)."""
    net = make_net(spec)
    trace = net.gradient_trace
    row = {
        "build trace": best(lambda _: make_net(spec).gradient_trace, clear_cache),
        "compile scalar": best(
            lambda n: kernels.compile_trace(n.gradient_trace), lambda: fresh_net(spec)
        ),
        "compile layer": best(compile_layers, lambda: fresh_net(spec)),
    }
    sizes = net.layers
    X = rng.normal(size=(BATCH, sizes[0]))
    if sizes[-1] > 1:
        Y = np.eye(sizes[-1])[rng.integers(sizes[-1], size=BATCH)]
    else:
        Y = rng.integers(2, size=(BATCH, 1)).astype(float)
    params = []
    for n_in, n_out in itertools.pairwise(sizes):
        params += [rng.normal(size=(n_in, n_out)) / np.sqrt(n_in), 0.1 * rng.normal(size=n_out)]
    # The scalar kernel takes one array per input and target, and a number per parameter.
    givens = {x: X[:, i].copy() for i, x in enumerate(net.inputs)}
    givens |= {y: Y[:, k].copy() for k, y in enumerate(net.targets)}
    givens |= unpack(net, params)
    layer, scalar = compile_layers(net), kernels.compile_trace(trace)
    names = net.parameters
    tuned, tuned_grads = TunedKernel(sizes), [np.empty_like(p) for p in params]
    runs = {
        "eval layer": lambda: layer.loss_and_gradients(X, Y, params),
        "eval scalar": lambda: scalar_gradients(scalar, givens, names),
        "numpy": lambda: numpy_backprop(X, Y, params),
        "numpy tuned": lambda: (tuned.loss_and_gradients(X, Y, params, tuned_grads),
                                tuned_grads),
    }
    if torch is not None:
        runs["torch"] = torch_step(X, Y, params)

    ref_loss, ref = numpy_backprop(X, Y, params)
    report = []
    for name, run in [(k, v) for k, v in runs.items() if k != "numpy"]:
        loss, grads = run()
        grads = pack(net, grads) if isinstance(grads, dict) else grads
        diff = max(max_diff(grads, ref), abs(float(loss) - ref_loss))
        assert diff < 1e-10, f"{spec}: {name} disagrees with numpy by {diff}"
        report.append(f"{name.removeprefix('eval ')} {diff:.1e}")
    print(f"{spec}: max |loss or gradient - numpy's|: " + ", ".join(report))

    # The scalar kernel alone: interleaved, the others' blocks keep glibc from trimming its
    # ~80 MB of step arrays, which saves it page faults that it pays when run in a loop.
    scalar_ms = best(runs.pop("eval scalar"))
    times = best_of(runs)
    row |= {"eval layer": times.pop("eval layer"), "eval scalar": scalar_ms, **times}
    row["layer/numpy"] = ratios(row["eval layer"], row["numpy"])
    row["layer/tuned"] = ratios(row["eval layer"], row["numpy tuned"])
    row["scalar/numpy"] = [median(row["eval scalar"]) / median(row["numpy"])]
    if torch is not None:
        row["layer/torch"] = ratios(row["eval layer"], row["torch"])
    return row


def ratios(a: list[float], b: list[float]) -> list[float]:
    """Ratios of runs taken side by side."""
    return [x / y for x, y in zip(a, b, strict=False)]


def cell(values: list[float], digits: int = 2) -> str:
    return f"{median(values):.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def main() -> None:
    threads, blas = blas_threads()
    print(f"numpy {np.__version__}, BLAS: {blas}")
    print(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    load = os.getloadavg()[0]
    print(
        f"load average {load:.2f} on {os.cpu_count()} cpus"
        + (": other work is running; threaded BLAS timings may be far off" if load > 0.5 else "")
    )
    if torch is None:
        print("torch: not installed, column skipped")
    else:
        torch.set_num_threads(threads)
        print(f"torch {torch.__version__}: set_num_threads({threads}), float64")
    print(f"batch {BATCH}; times in ms, median (min–max) of N runs (~{BUDGET} s per "
          f"measurement); {machine()}\n")
    rng = np.random.default_rng(0)
    print(f"batch-size table timed by {use_cpu_clock('--cpu' in sys.argv[1:])}")
    if "--sweep" in sys.argv[1:]:
        sweep(rng)
        return
    rows = {spec: bench(spec, rng) for spec in NETS}

    for spec, row in rows.items():
        print(f"\n{spec}")
        for name, values in row.items():
            print(f"  {name:<15} {cell(values)}")

    big = rows["16-32-10"]
    derive = sum(median(big[k]) for k in ("build trace", "compile scalar", "compile layer"))
    print(
        f"\ntarget: derive+lambdify 16-32-10 < 1000 ms: {derive:.0f} ms, "
        + ("met" if derive < 1000 else "MISSED")
    )
    sweep(rng)


def sweep(rng: np.random.Generator) -> None:
    """The layer kernel against the tuned NumPy kernel at every batch size, page faults too."""
    print("\nlayer kernel (loss_and_gradients, out=) vs tuned numpy by batch size: us per call, "
          "median (min–max) of ~2 ms blocks taken in turns; pf = minor page faults per call "
          "(first call: buffers made)")
    print(f"{'net':>9} | {'batch':>6} | {'chainrule us':>22} | {'numpy tuned us':>22} | "
          f"{'ratio':>16} | pf cr | pf np | 1st-call pf cr/np")
    worst, worst_at, most_faults = 0.0, "", 0.0
    for spec in SWEEP_NETS:
        net = make_net(spec)
        layer, tuned = compile_layers(net), TunedKernel(net.layers)
        for batch in SWEEP_BATCHES:
            X, Y, params = data(net.layers, batch, rng)
            times, faults, first = sweep_cell(layer, tuned, X, Y, params, f"{spec} {batch}")
            r = ratios(times["cr"], times["np"])
            if median(r) > worst:
                worst, worst_at = median(r), f"{spec}, batch {batch}"
            most_faults = max(most_faults, faults["cr"])
            print(f"{spec:>9} | {batch:>6} | {cell(times['cr'], 1):>22} | "
                  f"{cell(times['np'], 1):>22} | {cell(r):>16} | {faults['cr']:5.2f} | "
                  f"{faults['np']:5.2f} | {first['cr']}/{first['np']}", flush=True)
    print(f"target: layer kernel <= 1.1x tuned numpy at every batch size (median ratio): worst "
          f"{worst:.2f}x ({worst_at}), " + ("met" if worst <= 1.1 else "MISSED"))
    print(f"target: no page faults per call: most {most_faults:.2f} per call, "
          + ("met" if most_faults < 1 else "MISSED"))


def sweep_cell(layer: layers.LayerKernel, tuned: TunedKernel, X: np.ndarray, Y: np.ndarray,
               params: list[np.ndarray], where: str
               ) -> tuple[dict[str, list[float]], dict[str, float], dict[str, int]]:
    """Times, page faults per call and page faults of the first call, checked to agree."""
    ours = [np.empty_like(p) for p in params]
    theirs = [np.empty_like(p) for p in params]
    fns = {"cr": lambda: layer.loss_and_gradients(X, Y, params, ours)[0],
           "np": lambda: tuned.loss_and_gradients(X, Y, params, theirs)}
    with np.errstate(all="ignore"):
        first, losses = {}, {}
        for name, fn in fns.items():
            f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            losses[name] = fn()
            first[name] = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0
        diff = max([abs(losses["cr"] - losses["np"])]
                   + [float(np.abs(a - b).max()) for a, b in zip(ours, theirs, strict=True)])
        assert diff < 1e-10, f"{where}: kernels disagree by {diff}"
        times, faults = paired_blocks(fns, BUDGET / 2)
    return times, faults, first


def data(sizes: tuple[int, ...], batch: int, rng: np.random.Generator
         ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """A batch of inputs and targets and random weights for layer sizes ``sizes``."""
    X = rng.normal(size=(batch, sizes[0]))
    if sizes[-1] > 1:
        Y = np.eye(sizes[-1])[rng.integers(sizes[-1], size=batch)]
    else:
        Y = rng.integers(2, size=(batch, 1)).astype(float)
    params = []
    for n_in, n_out in itertools.pairwise(sizes):
        params += [rng.normal(size=(n_in, n_out)) / np.sqrt(n_in), 0.1 * rng.normal(size=n_out)]
    return X, Y, params


if __name__ == "__main__":
    main()
