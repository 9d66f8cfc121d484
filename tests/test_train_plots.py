"""Figures: what a reader sees (titles, labels, legends) and the loss surface behind paths."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.errors import ChainruleError
from chainrule.symbolic.network import Network
from chainrule.training import Dataset, TrainConfig, compare, make_dataset, train
from chainrule.training.plots import (
    loss_figure,
    loss_surface,
    plot_loss,
    plot_trajectory,
    trajectory_figure,
)

pytest.importorskip("matplotlib")


def legend_texts(legend):
    return [t.get_text() for t in legend.get_texts()]


@pytest.fixture(scope="module")
def moons_runs():
    data = make_dataset("moons", n=60)
    net = Network("2-4-1", hidden="tanh", loss="bce")
    configs = {"sgd": TrainConfig(optimizer="gd", epochs=20),
               "adam": TrainConfig(optimizer="adam", hyper={"eta": 0.05}, epochs=20)}
    return net, data, compare(net, data, configs)


def test_loss_figure_explains_itself(moons_runs):
    net, data, results = moons_runs
    figure = loss_figure(results, net, data)
    loss_ax, acc_ax = figure.axes
    assert loss_ax.get_title() == "Training loss" and acc_ax.get_title() == "Training accuracy"
    assert loss_ax.get_xlabel().startswith("epoch")
    assert loss_ax.get_ylabel() == "loss J: mean BCE over 60 examples"
    assert acc_ax.get_ylabel() == "accuracy on the training set (%)"
    assert legend_texts(loss_ax.get_legend()) == ["sgd (η=0.1)", "adam (η=0.05)"]
    title = figure.get_suptitle()
    assert "2-4-1 net (tanh hidden, sigmoid output), BCE loss" in title
    assert "moons (60 examples)" in title and "full batch" in title and "seed 0" in title
    line = loss_ax.get_lines()[1]
    np.testing.assert_array_equal(line.get_ydata(), results[1].history["loss"])
    np.testing.assert_array_equal(acc_ax.get_lines()[0].get_ydata(),
                                  100 * results[0].history["accuracy"])


def test_regression_has_no_accuracy_panel_and_log_scale_for_wide_ranges(tmp_path):
    data = make_dataset("linear")
    net = Network("1-1", loss="mse")
    results = [train(net, data, TrainConfig(optimizer="gd", hyper={"eta": 0.35}, epochs=40),
                     label="too fast"),
               train(net, data, TrainConfig(optimizer="gd", hyper={"eta": 0.01}, epochs=40),
                     label="slow")]
    figure = loss_figure(results, net, data)
    assert len(figure.axes) == 1
    ax = figure.axes[0]
    assert ax.get_yscale() == "log" and ax.get_ylabel().endswith("(log scale)")
    labels = legend_texts(ax.get_legend())
    assert labels[0] == "too fast (η=0.35): diverged in epoch 5 (× last finite epoch)"
    assert labels[1] == "slow (η=0.01)"
    path = plot_loss(results, net, data, tmp_path / "loss.png")
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_trajectory_figure(tmp_path):
    data = make_dataset("linear")
    net = Network("1-1", loss="mse")
    configs = {n: TrainConfig(optimizer=n, hyper={"eta": 0.05}, epochs=30)
               for n in ("gd", "momentum")}
    results = compare(net, data, configs, record_path=True)
    figure = trajectory_figure(results, net, data)
    ax, bar = figure.axes
    assert ax.get_xlabel() == "weight w11" and ax.get_ylabel() == "bias b1"
    assert ax.get_title().startswith("Optimizer paths over the loss surface J(w11, b1)")
    assert bar.get_ylabel().startswith("loss J (mean MSE)")
    assert legend_texts(figure.legends[0]) == [
        "lowest J on this grid", "gd (η=0.05)", "momentum (η=0.05)", "start (all runs)"]
    path_line = ax.get_lines()[1]
    np.testing.assert_array_equal(path_line.get_xdata(), results[0].path[:, 0])
    lo, hi = ax.get_xlim()
    assert lo < results[0].path[:, 0].min() and hi > results[0].path[:, 0].max()
    assert plot_trajectory(results, net, data, tmp_path / "t.png").stat().st_size > 10_000
    with pytest.raises(ChainruleError, match="record_path"):
        trajectory_figure([train(net, data, TrainConfig(epochs=2))], net, data)


def test_loss_surface_is_the_mean_loss_written_out():
    data = make_dataset("linear", n=30)
    net = Network("1-1", loss="mse")
    ws, bs, J = loss_surface(net, data, (-2, 1), (0, 4), n=7)
    x, y = data.X[:, 0], data.Y[:, 0]
    for i, b in enumerate(bs):
        for j, w in enumerate(ws):
            assert J[i, j] == pytest.approx(np.mean((w * x + b - y) ** 2), rel=1e-12)
    X = np.array([[-1.0], [0.5], [2.0]])
    binary = Dataset("tiny", X, np.array([[0.0], [1.0], [1.0]]), "binary", ["x"], ["0", "1"])
    logistic = Network("1-1", loss="bce")
    ws, bs, J = loss_surface(logistic, binary, (-3, 3), (-1, 1), n=5)
    p = 1 / (1 + np.exp(-(ws[4] * X[:, 0] + bs[1])))
    yv = binary.Y[:, 0]
    assert J[1, 4] == pytest.approx(np.mean(-(yv * np.log(p) + (1 - yv) * np.log(1 - p))))
    with pytest.raises(ChainruleError, match="two parameters"):
        loss_surface(Network("1-2-1", loss="mse"), data, (0, 1), (0, 1))
