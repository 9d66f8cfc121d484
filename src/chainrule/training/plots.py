"""Figures of training runs: loss curves (loss.png) and optimizer paths (trajectory.png).

matplotlib is imported when a figure is drawn, and only its object-oriented API with the
Agg canvas is used: no pyplot, no global backend switch, no display needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from chainrule.errors import ChainruleError
from chainrule.numeric.layers import compile_layers
from chainrule.symbolic.network import Network
from chainrule.training.datasets import Dataset
from chainrule.training.loop import TrainResult, encode_targets

__all__ = [
    "describe_net",
    "loss_figure",
    "loss_surface",
    "plot_loss",
    "plot_trajectory",
    "run_label",
    "trajectory_figure",
]

_GREEK = {"eta": "η", "beta": "β", "beta1": "β1", "beta2": "β2", "rho": "ρ", "eps": "ε"}


def _figure(width: float, height: float) -> Any:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ChainruleError("plots need matplotlib: pip install matplotlib") from None

    figure = Figure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _save(figure: Any, path: str | Path) -> None:
    figure.savefig(path, dpi=110, metadata={"Software": None})


def describe_net(net: Network) -> str:
    """``2-2-1 net (sigmoid hidden, sigmoid output), BCE loss``."""
    hidden = ",".join(sorted({a.key for a in net.hidden}, key=[a.key for a in net.hidden].index))
    units = f"{hidden} hidden, " if hidden else ""
    return f"{net.spec} net ({units}{net.output.key} output), {net.loss.key.upper()} loss"


def run_label(result: TrainResult, cross: bool = False) -> str:
    """The legend entry of a run: name, learning rate, schedule, and divergence.

    ``cross``: the figure marks a diverged run's last finite epoch with a cross.
    """
    eta = result.hyper.get("eta")
    text = f"{result.label} (η={eta:g}"
    if result.schedule.key != "constant":
        text += f", {result.schedule.key} schedule"
    text += ")"
    if result.diverged_at is not None:
        text += f": diverged in epoch {result.diverged_at}"
        text += " (× last finite epoch)" if cross else ""
    return text


def _batching_text(result: TrainResult) -> str:
    config = result.config
    if config.batching == "mini":
        return f"mini-batches of {config.batch_size}"
    return {"full": "full batch", "sgd": "one example per step (SGD)"}[config.batching]


def plot_loss(
    results: Sequence[TrainResult], net: Network, data: Dataset, path: str | Path
) -> Path:
    """Write :func:`loss_figure` to ``path`` (PNG)."""
    _save(loss_figure(results, net, data), path)
    return Path(path)


def loss_figure(results: Sequence[TrainResult], net: Network, data: Dataset) -> Any:
    """Loss J per epoch for every run (and accuracy, for classification) on one figure."""
    if not results:
        raise ChainruleError("no runs to plot")
    classify = data.task != "regression"
    figure = _figure(11.0 if classify else 7.5, 4.8)
    axes = figure.subplots(1, 2 if classify else 1, squeeze=False)[0]
    losses = np.concatenate([r.history["loss"] for r in results])
    positive = losses[losses > 0]
    log_scale = positive.size == losses.size and positive.max() / positive.min() > 30
    ax = axes[0]
    for result in results:
        epochs, loss = result.history["epoch"], result.history["loss"]
        (line,) = ax.plot(epochs, loss, label=run_label(result, cross=True), linewidth=1.6)
        if result.diverged_at is not None:
            ax.plot(epochs[-1:], loss[-1:], "x", color=line.get_color(), markersize=9,
                    markeredgewidth=2)
    if log_scale:
        ax.set_yscale("log")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch (passes over the training set)")
    ax.set_ylabel(f"loss J: mean {net.loss.key.upper()} over {data.n_examples} examples"
                  + (" (log scale)" if log_scale else ""))
    ax.set_title("Training loss")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    if classify:
        ax2 = axes[1]
        for result in results:
            ax2.plot(result.history["epoch"], 100 * result.history["accuracy"],
                     label=run_label(result), linewidth=1.6)
        ax2.set_ylim(-2, 102)
        ax2.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax2.set_xlabel("epoch (passes over the training set)")
        ax2.set_ylabel("accuracy on the training set (%)")
        ax2.set_title("Training accuracy")
        ax2.grid(True, alpha=0.3)
        ax2.legend(fontsize=8, loc="lower right")
    first = results[0]
    figure.suptitle(
        f"{describe_net(net)} on {data.name} ({data.n_examples} examples), "
        f"{_batching_text(first)}, seed {first.config.seed}", fontsize=11,
    )
    return figure


def _two_parameter_net(net: Network) -> None:
    if len(net.parameters) != 2:
        raise ChainruleError(
            f"--trajectory needs a model with two parameters (a 1-1 net: one weight and one "
            f"bias); net {net.spec} has {len(net.parameters)}"
        )


def loss_surface(
    net: Network, data: Dataset, w_range: tuple[float, float], b_range: tuple[float, float],
    n: int = 81,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """J(w, b) on an n x n grid for a 1-1 net: (w grid, b grid, J), J[i, j] at (w[j], b[i])."""
    _two_parameter_net(net)
    targets = encode_targets(data, net)
    kernel = compile_layers(net)
    ws = np.linspace(*w_range, n)
    bs = np.linspace(*b_range, n)
    J = np.empty((n, n))
    W, b = np.empty((1, 1)), np.empty(1)
    with np.errstate(all="ignore"):
        for i, bv in enumerate(bs):
            b[0] = bv
            for j, wv in enumerate(ws):
                W[0, 0] = wv
                J[i, j] = kernel.losses(targets.X, targets.Y, [W, b]).mean()
    return ws, bs, J


def _path_box(results: Sequence[TrainResult]) -> tuple[tuple[float, float], tuple[float, float]]:
    """A box around every run's path (the runs that diverged only where they were finite)."""
    kept = [r.path for r in results if r.path is not None and r.diverged_at is None]
    if not kept:
        kept = [r.path[np.isfinite(r.path).all(axis=1)] for r in results if r.path is not None]
    points = np.vstack(kept)
    lo, hi = points.min(axis=0), points.max(axis=0)
    span = np.maximum(hi - lo, 1.0)
    lo, hi = lo - 0.15 * span, hi + 0.15 * span
    return (float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1]))


def plot_trajectory(
    results: Sequence[TrainResult], net: Network, data: Dataset, path: str | Path
) -> Path:
    """Write :func:`trajectory_figure` to ``path`` (PNG)."""
    _save(trajectory_figure(results, net, data), path)
    return Path(path)


def trajectory_figure(results: Sequence[TrainResult], net: Network, data: Dataset) -> Any:
    """Each run's path in (weight, bias) over the contours of J, for a 1-1 net."""
    _two_parameter_net(net)
    if any(r.path is None for r in results):
        raise ChainruleError("train with record_path=True to plot trajectories")
    w_range, b_range = _path_box(results)
    ws, bs, J = loss_surface(net, data, w_range, b_range)
    w_name, b_name = net.parameters
    figure = _figure(7.5, 7.0)
    ax = figure.subplots()
    finite = J[np.isfinite(J)]
    lo, hi = max(finite.min(), 1e-12), finite.max()
    log_scale = hi / lo > 30
    if log_scale:
        from matplotlib.colors import LogNorm

        levels = np.geomspace(lo, hi, 25)
        filled = ax.contourf(ws, bs, J, levels=levels, norm=LogNorm(), cmap="viridis",
                             alpha=0.85)
    else:
        filled = ax.contourf(ws, bs, J, levels=25, cmap="viridis", alpha=0.85)
    ax.contour(ws, bs, J, levels=filled.levels, colors="white", linewidths=0.4, alpha=0.5)
    bar = figure.colorbar(filled, ax=ax, label=f"loss J (mean {net.loss.key.upper()})"
                          + (" (log scale)" if log_scale else ""))
    if log_scale:
        from matplotlib.ticker import FormatStrFormatter, LogLocator

        bar.locator = LogLocator(subs=(1.0, 2.0, 5.0))
        bar.formatter = FormatStrFormatter("%g")
        bar.update_ticks()
    i, j = np.unravel_index(np.nanargmin(J), J.shape)
    ax.plot(ws[j], bs[i], "*", color="white", markeredgecolor="black", markersize=15,
            label="lowest J on this grid", zorder=5)
    colours = ["tab:red", "darkorange", "magenta", "cyan", "black", "yellow", "tab:brown",
               "white"]
    paths = [np.asarray(r.path) for r in results]
    start = paths[0][0]
    for k, (result, visited) in enumerate(zip(results, paths, strict=True)):
        points = visited[np.isfinite(visited).all(axis=1)]
        colour = colours[k % len(colours)]
        # Earlier runs are drawn wider, so a path that another one covers still shows.
        width = 1.2 + 2.0 * (len(results) - 1 - k) / max(len(results) - 1, 1)
        ax.plot(points[:, 0], points[:, 1], "-", color=colour, linewidth=width,
                label=run_label(result))
        ax.plot(points[-1, 0], points[-1, 1], "o", color=colour, markeredgecolor="black",
                markersize=6)
    ax.plot(start[0], start[1], "s", color="black", markersize=8, label="start (all runs)")
    ax.set_xlim(w_range)
    ax.set_ylim(b_range)
    ax.set_xlabel(f"weight {w_name}")
    ax.set_ylabel(f"bias {b_name}")
    ax.set_title(f"Optimizer paths over the loss surface J({w_name}, {b_name})\n"
                 f"{describe_net(net)} on {data.name}; dots mark where each run ended",
                 fontsize=10)
    figure.legend(loc="outside lower center", ncols=3, fontsize=8)
    return figure
