"""Benchmark: deriving, compiling and evaluating a network's gradient with chainrule.

For fully connected nets 2-2-1, 4-8-1, 8-16-4 and 16-32-10 (sigmoid hidden layers; sigmoid
+ BCE for one output, softmax + CCE for more) it measures

* build trace: ``Network(...)`` then ``.gradient_trace``, fresh objects each time;
* compile scalar / compile layer: ``compile_trace(trace)`` and ``compile_layers(net)``, with
  chainrule's kernel caches (and SymPy's cache) cleared before every run;
* the gradient of the mean loss over a batch of 10,000 examples, with the loss itself, by
  the layer kernel, by the scalar trace kernel (per-example gradients of every weight, then
  averaged), by a hand-written NumPy backprop, and by torch CPU autograd (float64, as many
  threads as NumPy's BLAS) when torch imports.

The four gradients are checked to agree before anything is timed. Each figure is the best
of N runs, N chosen so that a measurement takes about 0.2-1 s. Run by hand, not in the
test suite::

    python3 bench/derive.py
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable

import numpy as np
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
BUDGET = 0.5  # seconds of runs per measurement (at least 3 runs)


def best(fn: Callable[[], object], setup: Callable[[], object] = lambda: None) -> float:
    """Best time in ms of N runs of ``fn`` (``setup`` runs untimed before each)."""
    setup()
    start = time.perf_counter()
    fn()
    first = time.perf_counter() - start
    times = [first]
    for _ in range(max(2, min(1000, int(BUDGET / max(first, 1e-9))))):
        setup()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * min(times)


def clear_caches() -> None:
    kernels._CACHE.clear()
    layers._CACHE.clear()
    clear_cache()


def make_net(spec: str) -> Network:
    return Network(spec, hidden="sigmoid", loss="bce" if spec.endswith("-1") else "cce")


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


def scalar_gradients(kernel, givens: dict, names: list[str]) -> dict[str, float]:
    """Per-example gradients of every parameter from the trace kernel, averaged."""
    out = kernel(givens)
    return {p: out[f"dL_d{p}"].mean() for p in names}


def torch_step(X: np.ndarray, Y: np.ndarray, params: list[np.ndarray]):
    """A closure: torch forward + mean loss + backward, returning the gradients."""
    F = torch.nn.functional
    tX, tY = torch.from_numpy(X), torch.from_numpy(Y)
    tp = [torch.tensor(p, requires_grad=True) for p in params]

    def step() -> list[np.ndarray]:
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
        return [p.grad for p in tp]

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
    return max(
        float(np.max(np.abs(np.asarray(x) - np.asarray(y)))) for x, y in zip(a, b, strict=True)
    )


def bench(spec: str, rng: np.random.Generator) -> dict[str, float]:
    net = make_net(spec)
    trace = net.gradient_trace
    row = {
        "build": best(lambda: make_net(spec).gradient_trace, clear_cache),
        "c_scalar": best(lambda: kernels.compile_trace(trace), clear_caches),
        "c_layer": best(lambda: compile_layers(net), clear_caches),
    }
    sizes = net.layers
    X = rng.normal(size=(BATCH, sizes[0]))
    Y = (
        np.eye(sizes[-1])[rng.integers(sizes[-1], size=BATCH)]
        if sizes[-1] > 1
        else (rng.integers(2, size=(BATCH, 1)).astype(float))
    )
    params = []
    for n_in, n_out in itertools.pairwise(sizes):
        params += [rng.normal(size=(n_in, n_out)) / np.sqrt(n_in), 0.1 * rng.normal(size=n_out)]
    values = unpack(net, params)
    givens = {x: X[:, i].copy() for i, x in enumerate(net.inputs)}
    givens |= {y: Y[:, k].copy() for k, y in enumerate(net.targets)}
    givens |= values
    layer = compile_layers(net)
    scalar = kernels.compile_trace(trace)

    ref_loss, ref = numpy_backprop(X, Y, params)
    loss, grads = layer.loss_and_gradients(X, Y, params)
    diffs = {
        "layer": max_diff(grads, ref),
        "scalar": max_diff(pack(net, scalar_gradients(scalar, givens, net.parameters)), ref),
    }
    if torch is not None:
        step = torch_step(X, Y, params)
        diffs["torch"] = max_diff([g.numpy() for g in step()], ref)
    print(
        f"{spec}: max |grad - numpy grad|: "
        + ", ".join(f"{k} {v:.1e}" for k, v in diffs.items())
        + f"; |loss diff| "
        f"{abs(loss - ref_loss):.1e}"
    )
    assert max(diffs.values()) < 1e-10 and abs(loss - ref_loss) < 1e-10, "gradients disagree"

    row["layer"] = best(lambda: layer.loss_and_gradients(X, Y, params))
    row["scalar"] = best(lambda: scalar_gradients(scalar, givens, net.parameters))
    row["numpy"] = best(lambda: numpy_backprop(X, Y, params))
    row["torch"] = best(step) if torch is not None else float("nan")
    return row


def main() -> None:
    threads, blas = blas_threads()
    print(f"numpy {np.__version__}, BLAS: {blas}")
    print(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    if torch is None:
        print("torch: not installed, column skipped")
    else:
        torch.set_num_threads(threads)
        print(f"torch {torch.__version__}: set_num_threads({threads}), float64")
    print(f"batch {BATCH}; times in ms, best of N runs (~{BUDGET} s per measurement)\n")
    rng = np.random.default_rng(0)
    rows = {spec: bench(spec, rng) for spec in NETS}

    head = [
        "net",
        "build trace",
        "compile scalar",
        "compile layer",
        "eval layer",
        "eval scalar",
        "numpy",
        "torch",
        "layer/numpy",
        "scalar/numpy",
        "layer/torch",
    ]
    print("\n" + " | ".join(head))
    for spec, r in rows.items():
        cells = [
            r["build"],
            r["c_scalar"],
            r["c_layer"],
            r["layer"],
            r["scalar"],
            r["numpy"],
            r["torch"],
        ]
        ratios = [r["layer"] / r["numpy"], r["scalar"] / r["numpy"], r["layer"] / r["torch"]]
        print(
            " | ".join(
                [spec.rjust(len(head[0]))]
                + [f"{c:{len(h)}.2f}" for c, h in zip(cells, head[1:], strict=False)]
                + [f"{c:{len(h)}.2f}" for c, h in zip(ratios, head[8:], strict=True)]
            )
        )

    big = rows["16-32-10"]
    derive = big["build"] + big["c_scalar"] + big["c_layer"]
    worst = max(r["layer"] / r["numpy"] for r in rows.values())
    print(
        f"\ntarget: derive+lambdify 16-32-10 < 1000 ms: {derive:.0f} ms "
        f"{'met' if derive < 1000 else 'MISSED'}"
    )
    print(
        f"target: layer kernel <= 1.5x hand-written numpy at every size: worst {worst:.2f}x "
        f"{'met' if worst <= 1.5 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
