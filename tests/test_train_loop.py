"""The training loop against plain NumPy restatements and torch, end to end and step by step."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.errors import ChainruleError
from chainrule.numeric.optimizers import update_kernel
from chainrule.symbolic.network import Network
from chainrule.training import (
    Stepper,
    TrainConfig,
    batch_indices,
    compare,
    encode_targets,
    epoch_batches,
    initial_params,
    make_dataset,
    train,
)
from chainrule.training.history import HistoryWriter, read_history
from chainrule.training.loop import DIVERGENCE_FACTOR, GROWTH_FACTOR


# -- oracles: backprop and the update rules written out by hand --------------------------
def act(name, z):
    return {"sigmoid": lambda: 1 / (1 + np.exp(-z)), "tanh": lambda: np.tanh(z),
            "relu": lambda: np.maximum(z, 0), "linear": lambda: z}[name]()


def act_prime(name, z):
    a = act(name, z)
    return {"sigmoid": lambda: a * (1 - a), "tanh": lambda: 1 - a**2,
            "relu": lambda: (z > 0) * 1.0, "linear": lambda: np.ones_like(z)}[name]()


def backprop(params, X, Y, hidden, output):
    """Mean loss and gradients: hidden activations, then sigmoid+BCE, softmax+CCE or MSE."""
    Ws, bs = params[0::2], params[1::2]
    A, Zs, As = X, [], [X]
    for W, b in zip(Ws[:-1], bs[:-1], strict=True):
        Z = A @ W + b
        A = act(hidden, Z)
        Zs.append(Z)
        As.append(A)
    Z = A @ Ws[-1] + bs[-1]
    m = len(X)
    if output == "sigmoid":
        P = 1 / (1 + np.exp(-Z))
        loss = np.mean(-(Y * np.log(P) + (1 - Y) * np.log(1 - P)))
        D = (P - Y) / m
    elif output == "softmax":
        E = np.exp(Z - Z.max(axis=1, keepdims=True))
        P = E / E.sum(axis=1, keepdims=True)
        loss = np.mean(-(Y * np.log(P)).sum(axis=1))
        D = (P - Y) / m
    else:  # linear output, MSE without the 1/2
        loss = np.mean(((Z - Y) ** 2).sum(axis=1))
        D = 2 * (Z - Y) / m
    grads = []
    for i in range(len(Ws) - 1, -1, -1):
        grads[:0] = [As[i].T @ D, D.sum(axis=0)]
        if i:
            D = (D @ Ws[i].T) * act_prime(hidden, Zs[i - 1])
    return loss, grads


def textbook_step(name, theta, g, state, h, t, options):
    """One update of one array, as a textbook writes it."""
    inside = options.get("eps_placement") == "inside"
    torch_form = options.get("convention") == "torch"

    def root(x):
        return np.sqrt(x + h["eps"]) if inside else np.sqrt(x) + h["eps"]

    if name == "gd":
        return theta - h["eta"] * g, {}
    if name in ("momentum", "nag"):
        v = h["beta"] * state["v"] + (g if torch_form else h["eta"] * g)
        if name == "nag" and torch_form:
            return theta - h["eta"] * (g + h["beta"] * v), {"v": v}
        return theta - (h["eta"] * v if torch_form else v), {"v": v}
    if name == "adagrad":
        G = state["G"] + g**2
        return theta - h["eta"] * g / root(G), {"G": G}
    if name == "rmsprop":
        s = h["rho"] * state["s"] + (1 - h["rho"]) * g**2
        return theta - h["eta"] * g / root(s), {"s": s}
    m = h["beta1"] * state["m"] + (1 - h["beta1"]) * g
    v = h["beta2"] * state["v"] + (1 - h["beta2"]) * g**2
    mhat, vhat = m / (1 - h["beta1"] ** t), v / (1 - h["beta2"] ** t)
    return theta - h["eta"] * mhat / root(vhat), {"m": m, "v": v}


STATE = {"gd": (), "momentum": ("v",), "nag": ("v",), "adagrad": ("G",), "rmsprop": ("s",),
         "adam": ("m", "v")}


def oracle_train(params, X, Y, name, hyper, options, epochs, batching, batch_size, seed,
                 hidden, output, etas=None):
    """Plain training loop: the same batches (the documented shuffle stream), textbook rules."""
    params = [p.copy() for p in params]
    state = {s: [np.zeros_like(p) for p in params] for s in STATE[name]}
    shuffle = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[1])
    t = 0
    losses = [backprop(params, X, Y, hidden, output)[0]]
    notes_nag = name == "nag" and options.get("convention", "notes") == "notes"
    for epoch in range(epochs):
        h = dict(hyper, eta=hyper["eta"] if etas is None else etas[epoch])
        for idx in batch_indices(batching, len(X), shuffle, batch_size):
            Xb, Yb = (X, Y) if idx is None else (X[idx], Y[idx])
            at = ([p - h["beta"] * v for p, v in zip(params, state["v"], strict=True)]
                  if notes_nag else params)
            _, grads = backprop(at, Xb, Yb, hidden, output)
            t += 1
            new = [textbook_step(name, p, g, {s: state[s][i] for s in state}, h, t, options)
                   for i, (p, g) in enumerate(zip(params, grads, strict=True))]
            params = [p for p, _ in new]
            state = {s: [st_[s] for _, st_ in new] for s in state}
        losses.append(backprop(params, X, Y, hidden, output)[0])
    return params, np.array(losses)


VARIANTS = [
    ("gd", {"eta": 0.5}, {}),
    ("momentum", {"eta": 0.1, "beta": 0.9}, {}),
    ("momentum", {"eta": 0.1, "beta": 0.8}, {"convention": "torch"}),
    ("nag", {"eta": 0.1, "beta": 0.9}, {}),
    ("nag", {"eta": 0.1, "beta": 0.9}, {"convention": "torch"}),
    ("adagrad", {"eta": 0.1, "eps": 1e-8}, {}),
    ("adagrad", {"eta": 0.1, "eps": 1e-3}, {"eps_placement": "inside"}),
    ("rmsprop", {"eta": 0.01, "rho": 0.9, "eps": 1e-8}, {}),
    ("adam", {"eta": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}, {}),
    ("adam", {"eta": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-4},
     {"eps_placement": "inside"}),
]


@pytest.fixture(scope="module")
def blobs():
    return make_dataset("blobs", n=20, seed=1)


@pytest.mark.parametrize(("name", "hyper", "options"), VARIANTS)
@pytest.mark.parametrize(("batching", "batch_size"), [("full", None), ("mini", 7)])
def test_training_matches_plain_numpy(blobs, name, hyper, options, batching, batch_size):
    net = Network("2-3-1", hidden="tanh", loss="bce")
    config = TrainConfig(optimizer=name, hyper=hyper, options=options, epochs=6, seed=5,
                         batching=batching, batch_size=batch_size or 32)
    result = train(net, blobs, config)
    start = initial_params(net, seed=5)
    expected, losses = oracle_train(start, blobs.X, blobs.Y, name, hyper, options, 6,
                                    batching, batch_size, 5, "tanh", "sigmoid")
    for got, want in zip(result.params, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(result.history["loss"], losses, rtol=1e-12)
    assert not np.allclose(result.params[0], start[0])  # it did move


def test_sgd_softmax_and_step_schedule_match_plain_numpy():
    data = make_dataset("three", n=30, seed=2)
    net = Network("2-4-3", hidden="sigmoid", loss="cce")
    config = TrainConfig(optimizer="momentum", hyper={"eta": 0.2}, batching="sgd", epochs=5,
                         seed=9, schedule="step", schedule_params={"step_size": 2,
                                                                   "gamma": 0.5})
    result = train(net, data, config)
    etas = [0.2 * 0.5 ** (t // 2) for t in range(5)]
    assert result.history["lr"][1:].tolist() == etas
    assert result.history["steps"].tolist() == [0, 30, 60, 90, 120, 150]
    expected, losses = oracle_train(initial_params(net, 9), data.X, data.Y, "momentum",
                                    {"eta": 0.2, "beta": 0.9}, {}, 5, "sgd", None, 9,
                                    "sigmoid", "softmax", etas)
    for got, want in zip(result.params, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(result.history["loss"], losses, rtol=1e-12)


def test_regression_with_relu_matches_plain_numpy():
    data = make_dataset("linear", n=25, seed=0)
    net = Network("1-5-1", hidden="relu", loss="mse")
    config = TrainConfig(optimizer="rmsprop", hyper={"eta": 0.01}, batching="mini",
                         batch_size=10, epochs=4, seed=2, init="he")
    result = train(net, data, config)
    start = initial_params(net, 2, "he")
    expected, _ = oracle_train(start, data.X, data.Y, "rmsprop",
                               {"eta": 0.01, "rho": 0.9, "eps": 1e-8}, {}, 4, "mini", 10, 2,
                               "relu", "linear")
    for got, want in zip(result.params, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-13)
    assert result.final_accuracy is None


# -- the Stepper's update path over random arrays ------------------------------------------
class FixedGradients:
    """A stand-in layer kernel that hands out prepared gradients."""

    def __init__(self, grads):
        self.grads = list(grads)
        self.seen = []

    def loss_and_gradients(self, X, Y, params, out=None):
        self.seen.append([np.array(p) for p in params])
        grads = self.grads.pop(0)
        if out is None:
            return 0.0, grads
        for o, g in zip(out, grads, strict=True):
            o[...] = g
        return 0.0, list(out)


@settings(max_examples=25, deadline=None)
@given(variant=st.sampled_from(range(len(VARIANTS))), seed=st.integers(0, 2**32 - 1),
       shapes=st.lists(st.tuples(st.integers(1, 4), st.integers(1, 4)), min_size=1,
                       max_size=3))
def test_stepper_updates_match_textbook_over_random_arrays(variant, seed, shapes):
    name, hyper, options = VARIANTS[variant]
    rng = np.random.default_rng(seed)
    params = [rng.normal(size=s) for s in shapes]
    steps = [[rng.normal(size=s) for s in shapes] for _ in range(4)]
    update = update_kernel(name, **options)
    kernel = FixedGradients(steps)
    stepper = Stepper(kernel, update, params, update.hyper(hyper))
    expected = [p.copy() for p in params]
    state = {s: [np.zeros(sh) for sh in shapes] for s in STATE[name]}
    etas = rng.uniform(0.01, 0.5, size=4)
    notes_nag = name == "nag" and "convention" not in options
    for t, (grads, eta) in enumerate(zip(steps, etas, strict=True), start=1):
        stepper.step(None, None, float(eta))
        h = dict(update.hyper(hyper), eta=eta)
        if notes_nag:  # the gradient was asked for at theta - beta*v
            ahead = [p - h["beta"] * v for p, v in zip(expected, state["v"], strict=True)]
            for got, want in zip(kernel.seen[-1], ahead, strict=True):
                np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)
        new = [textbook_step(name, p, g, {s: state[s][i] for s in state}, h, t, options)
               for i, (p, g) in enumerate(zip(expected, grads, strict=True))]
        expected = [p for p, _ in new]
        state = {s: [x[s] for _, x in new] for s in state}
        for got, want in zip(stepper.params, expected, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    assert stepper.t == 4


# -- against torch -------------------------------------------------------------------------
TORCH_CASES = [
    ("SGD", {}, "gd", {"eta": 0.3}, {}),
    ("SGD", {"momentum": 0.9}, "momentum", {"eta": 0.1, "beta": 0.9}, {"convention": "torch"}),
    ("SGD", {"momentum": 0.9}, "momentum", {"eta": 0.1, "beta": 0.9}, {}),
    ("SGD", {"momentum": 0.8, "nesterov": True}, "nag", {"eta": 0.1, "beta": 0.8},
     {"convention": "torch"}),
    ("Adagrad", {"eps": 1e-10}, "adagrad", {"eta": 0.1, "eps": 1e-10}, {}),
    ("RMSprop", {"alpha": 0.9, "eps": 1e-8}, "rmsprop", {"eta": 0.01, "rho": 0.9, "eps": 1e-8},
     {}),
    ("Adam", {"betas": (0.9, 0.999), "eps": 1e-8}, "adam", {"eta": 0.01}, {}),
]


def torch_train(torch, start, data, net_kind, optimizer, kwargs, lr, epochs, batching,
                batch_size, seed):
    params = [torch.tensor(p, requires_grad=True) for p in start]
    opt = getattr(torch.optim, optimizer)(params, lr=lr, **kwargs)
    X, Y = torch.from_numpy(data.X), torch.from_numpy(data.Y)
    shuffle = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[1])
    for _ in range(epochs):
        for idx in batch_indices(batching, len(data.X), shuffle, batch_size):
            Xb, Yb = (X, Y) if idx is None else (X[torch.from_numpy(idx)],
                                                 Y[torch.from_numpy(idx)])
            opt.zero_grad()
            h = torch.tanh(Xb @ params[0] + params[1])
            z = h @ params[2] + params[3]
            if net_kind == "bce":
                loss = torch.nn.functional.binary_cross_entropy_with_logits(z, Yb)
            else:
                loss = torch.nn.functional.cross_entropy(z, Yb.argmax(dim=1))
            loss.backward()
            opt.step()
    return [p.detach().numpy() for p in params]


@pytest.mark.parametrize(("torch_name", "torch_kwargs", "name", "hyper", "options"),
                         TORCH_CASES)
def test_training_matches_torch_step_for_step(torch, blobs, torch_name, torch_kwargs, name,
                                              hyper, options):
    net = Network("2-3-1", hidden="tanh", loss="bce")
    config = TrainConfig(optimizer=name, hyper=hyper, options=options, epochs=4, seed=3,
                         batching="mini", batch_size=6)
    result = train(net, blobs, config)
    expected = torch_train(torch, initial_params(net, 3), blobs, "bce", torch_name,
                           torch_kwargs, hyper["eta"], 4, "mini", 6, 3)
    for got, want in zip(result.params, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11)


def test_softmax_adam_matches_torch(torch):
    data = make_dataset("three", n=24, seed=4)
    net = Network("2-5-3", hidden="tanh", loss="cce")
    config = TrainConfig(optimizer="adam", hyper={"eta": 0.05}, epochs=10, seed=1,
                         batching="sgd")
    result = train(net, data, config)
    expected = torch_train(torch, initial_params(net, 1), data, "cce", "Adam", {}, 0.05, 10,
                           "sgd", None, 1)
    for got, want in zip(result.params, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11)


def test_notes_nag_parameters_are_torch_nesterov_shifted_by_the_velocity(torch, blobs):
    """torch's Nesterov parameter is the notes' look-ahead point theta - beta*v."""
    net = Network("2-3-1", hidden="tanh", loss="bce")
    targets = encode_targets(blobs, net)
    start = initial_params(net, 0)
    update = update_kernel("nag")
    from chainrule.numeric.layers import compile_layers

    stepper = Stepper(compile_layers(net), update, start, update.hyper({"eta": 0.1}))
    with np.errstate(all="ignore"):
        for _ in range(12):
            stepper.step(targets.X, targets.Y, 0.1)
    params = [torch.tensor(p, requires_grad=True) for p in start]
    opt = torch.optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True)
    X, Y = torch.from_numpy(targets.X), torch.from_numpy(targets.Y)
    for _ in range(12):
        opt.zero_grad()
        z = torch.tanh(X @ params[0] + params[1]) @ params[2] + params[3]
        torch.nn.functional.binary_cross_entropy_with_logits(z, Y).backward()
        opt.step()
    shifted = stepper.theta - 0.9 * stepper.state["v"]
    torch_flat = np.concatenate([p.detach().numpy().ravel() for p in params])
    np.testing.assert_allclose(shifted, torch_flat, rtol=1e-10, atol=1e-12)
    assert not np.allclose(stepper.theta, torch_flat)


# -- end to end ----------------------------------------------------------------------------
def test_xor_with_2_2_1_reaches_full_accuracy():
    net = Network("2-2-1", hidden="sigmoid", loss="bce")
    result = train(net, make_dataset("xor"), TrainConfig(optimizer="adam", hyper={"eta": 0.1},
                                                         epochs=2000, seed=0))
    assert result.final_accuracy == 1.0 and result.final_loss < 0.01
    W1, b1, W2, b2 = result.params
    hidden = 1 / (1 + np.exp(-(make_dataset("xor").X @ W1 + b1)))
    yhat = 1 / (1 + np.exp(-(hidden @ W2 + b2)))
    assert ((yhat[:, 0] > 0.5) == np.array([0, 1, 1, 0], bool)).all()


SUITABLE = [
    ("xor", "2-3-1", "sigmoid", "adam", 0.05, "full", 400),
    ("and", "2-1", "sigmoid", "gd", 0.5, "full", 60),
    ("or", "2-1", "sigmoid", "momentum", 0.1, "sgd", 60),
    ("blobs", "2-4-1", "tanh", "rmsprop", 0.01, "mini", 60),
    ("moons", "2-8-1", "tanh", "adam", 0.02, "mini", 60),
    ("circles", "2-8-1", "tanh", "adam", 0.02, "mini", 60),
    ("linear", "1-1", "sigmoid", "gd", 0.05, "full", 60),
    ("three", "2-6-3", "relu", "nag", 0.05, "mini", 60),
]


@pytest.mark.parametrize(
    ("data_name", "spec", "hidden", "optimizer", "eta", "batching", "epochs"), SUITABLE
)
def test_loss_decreases_on_every_builtin_dataset(data_name, spec, hidden, optimizer, eta,
                                                 batching, epochs):
    data = make_dataset(data_name)
    loss = {"binary": "bce", "multiclass": "cce", "regression": "mse"}[data.task]
    net = Network(spec, hidden=hidden, loss=loss)
    config = TrainConfig(optimizer=optimizer, hyper={"eta": eta}, epochs=epochs, seed=0,
                         batching=batching, batch_size=16)
    result = train(net, data, config)
    losses = result.history["loss"]
    assert result.diverged_at is None
    assert losses[-1] < 0.7 * losses[0], (losses[0], losses[-1])
    if data.task != "regression":
        assert result.final_accuracy >= 0.75


def test_same_seed_same_run_other_seed_other_run():
    data = make_dataset("moons", n=40)
    net = Network("2-4-1", hidden="tanh", loss="bce")
    config = TrainConfig(optimizer="adam", hyper={"eta": 0.05}, epochs=15, batching="mini",
                         batch_size=8, seed=11)
    a, b = train(net, data, config), train(net, data, config)
    for column in a.history:
        assert np.array_equal(a.history[column], b.history[column], equal_nan=True)
    assert all(np.array_equal(x, y) for x, y in zip(a.params, b.params, strict=True))
    c = train(net, data, TrainConfig(**{**config.__dict__, "seed": 12}))
    assert not np.array_equal(a.history["loss"], c.history["loss"])


def test_compare_starts_every_run_from_the_same_weights():
    data = make_dataset("blobs", n=30)
    net = Network("2-3-1", loss="bce")
    configs = {n: TrainConfig(optimizer=n, epochs=3, seed=4) for n in ("gd", "adam", "nag")}
    results = compare(net, data, configs)
    start = initial_params(net, 4)
    for result in results:
        for got, want in zip(result.initial_params, start, strict=True):
            assert np.array_equal(got, want)
    assert len({r.final_loss for r in results}) == 3
    assert [r.label for r in results] == ["gd", "adam", "nag"]


def test_batches_cover_every_example_once_per_epoch():
    rng = np.random.default_rng(0)
    X, Y = np.arange(23.0)[:, None], np.arange(23.0)[:, None]
    orders = []
    for _ in range(2):
        batches = epoch_batches("mini", X, Y, rng, 5)
        assert [len(b[0]) for b in batches] == [5, 5, 5, 5, 3]
        rows = np.concatenate([b[0][:, 0] for b in batches])
        assert sorted(rows) == list(range(23))
        assert all(np.array_equal(bx, by) for bx, by in batches)
        orders.append(rows)
    assert not np.array_equal(*orders)  # reshuffled each epoch
    assert len(epoch_batches("sgd", X, Y, rng)) == 23
    full = epoch_batches("full", X, Y, rng)
    assert len(full) == 1 and full[0][0] is X


@pytest.mark.parametrize(
    ("schedule", "params", "formula"),
    [
        ("exponential", {"k": 0.2}, lambda t: 0.3 * math.exp(-0.2 * t)),
        ("inverse_time", {"k": 0.5}, lambda t: 0.3 / (1 + 0.5 * t)),
        ("cosine_restarts", {"T_0": 3},
         lambda t: 0.5 * 0.3 * (1 + math.cos(math.pi * (t % 3) / 3))),
        ("exponential", {"form": "gamma", "gamma": 0.9}, lambda t: 0.3 * 0.9**t),
        ("step", {"eta0": 0.7, "step_size": 4}, lambda t: 0.7 * 0.1 ** (t // 4)),
    ],
)
def test_schedules_set_each_epochs_rate(schedule, params, formula):
    net = Network("2-1", loss="bce")
    config = TrainConfig(optimizer="gd", hyper={"eta": 0.3}, schedule=schedule,
                         schedule_params=params, epochs=8)
    result = train(net, make_dataset("and"), config)
    np.testing.assert_allclose(result.history["lr"][1:], [formula(t) for t in range(8)],
                               rtol=1e-14)


def test_hinge_targets_are_plus_minus_one_and_decide_at_zero():
    net = Network("2-1", loss="hinge")
    targets = encode_targets(make_dataset("and"), net)
    assert targets.Y[:, 0].tolist() == [-1, -1, -1, 1] and targets.threshold == 0.0
    assert targets.accuracy(np.array([[-0.1], [-2.0], [0.3], [0.2]])) == 0.75
    net01 = Network("2-1", loss="hinge", labels="01")
    assert encode_targets(make_dataset("and"), net01).Y[:, 0].tolist() == [0, 0, 0, 1]


@pytest.mark.parametrize(
    ("data", "spec", "loss", "message"),
    [
        ("xor", "3-2-1", "bce", "2 feature"),
        ("three", "2-2-1", "bce", "3 classes: the net needs 3 outputs"),
        ("three", "2-2-4", "cce", "3 classes but net 2-2-4 has 4 outputs"),
        ("linear", "1-2-1", "bce", "regression task"),
        ("linear", "1-2-2", "mse", "1 target"),
    ],
)
def test_targets_that_do_not_fit_the_net(data, spec, loss, message):
    with pytest.raises(ChainruleError, match=message):
        encode_targets(make_dataset(data), Network(spec, loss=loss))


def test_config_errors():
    net, data = Network("2-1", loss="bce"), make_dataset("and")
    with pytest.raises(ChainruleError, match="no hyper-parameter 'beta'"):
        train(net, data, TrainConfig(optimizer="adam", hyper={"beta": 0.9}))
    with pytest.raises(ChainruleError, match="finite number"):
        train(net, data, TrainConfig(optimizer="gd", hyper={"eta": math.inf}))
    with pytest.raises(ChainruleError, match="unknown batching"):
        train(net, data, TrainConfig(batching="tiny"))
    with pytest.raises(ChainruleError, match="epochs"):
        train(net, data, TrainConfig(epochs=0))
    with pytest.raises(ChainruleError, match="unknown schedule"):
        train(net, data, TrainConfig(schedule="zigzag"))
    with pytest.raises(ChainruleError, match=r"net 2-1 needs \[\(2, 1\), \(1,\)\]"):
        train(net, data, TrainConfig(), params=[np.zeros((1, 2)), np.zeros(2)])
    alias = train(net, data, TrainConfig(batching="minibatch", batch_size=3, epochs=1))
    assert alias.config.batching == "mini" and alias.summary()["batch_size"] == 3


# -- numerical safety and divergence -------------------------------------------------------
@pytest.mark.parametrize(
    ("data_name", "spec", "hidden", "loss"),
    [("xor", "2-3-1", "sigmoid", "bce"), ("three", "2-3-3", "tanh", "cce"),
     ("blobs", "2-3-2", "relu", "kl"), ("moons", "2-3-1", "tanh", "bce")],
)
@pytest.mark.parametrize("magnitude", [1e3, 1e6])
def test_saturated_units_train_without_nan_or_warnings(data_name, spec, hidden, loss,
                                                       magnitude):
    data = make_dataset(data_name)
    net = Network(spec, hidden=hidden, loss=loss)
    start = [magnitude * np.sign(p + 0.01) for p in initial_params(net, 0)]
    result = train(net, data, TrainConfig(optimizer="adam", hyper={"eta": 0.01}, epochs=5),
                   params=start)
    assert result.diverged_at is None
    assert np.isfinite(result.history["loss"]).all()
    assert all(np.isfinite(p).all() for p in result.params)


def divergence_epoch(lr):
    """Plain GD on y = w x + b with MSE, and the loop's stopping rule restated."""
    data = make_dataset("linear")
    x, y = data.X[:, 0], data.Y[:, 0]
    w, b = (p.item() for p in initial_params(Network("1-1", loss="mse"), 0))
    first = np.mean((w * x + b - y) ** 2)
    for epoch in range(1, 1000):
        r = w * x + b - y
        w, b = w - lr * np.mean(2 * r * x), b - lr * np.mean(2 * r)
        loss = np.mean((w * x + b - y) ** 2)
        if not loss <= DIVERGENCE_FACTOR * max(1.0, first) or (
            loss > GROWTH_FACTOR * first and loss > first + 1
        ):
            return epoch
    return None


def test_too_high_a_learning_rate_stops_and_names_the_epoch(tmp_path):
    net = Network("1-1", loss="mse")
    path = tmp_path / "history.csv"
    with HistoryWriter(path) as history:
        result = train(net, make_dataset("linear"),
                       TrainConfig(optimizer="gd", hyper={"eta": 0.35}, epochs=500),
                       history=history)
    expected = divergence_epoch(0.35)
    assert expected is not None and result.diverged_at == expected
    assert f"diverged in epoch {expected} " in result.message
    assert "smaller learning rate" in result.message
    assert result.history["epoch"].tolist() == list(range(expected))
    kept = read_history(path)["gd"]
    assert kept["epoch"] == list(range(expected))
    np.testing.assert_array_equal(kept["loss"], result.history["loss"])


def test_overflow_is_divergence_not_a_warning():
    net = Network("1-1", loss="mse")
    # w = b = 1e150: the loss (about 1e300) is finite, one step of eta = 1e6 overflows it
    start = [np.full((1, 1), 1e150), np.full((1,), 1e150)]
    result = train(net, make_dataset("linear"),
                   TrainConfig(optimizer="gd", hyper={"eta": 1e6}, epochs=50), params=start)
    assert result.diverged_at == 1
    assert "the loss became inf" in result.message
    assert result.history["epoch"].tolist() == [0]


@pytest.mark.parametrize(
    ("optimizer", "hyper", "message"),
    [("gd", {"eta": -1.0}, "eta = -1 is out of range"),
     ("gd", {"eta": 1e10}, "eta = 1e+10 is out of range"),
     ("momentum", {"beta": 2.0}, "beta = 2 is out of range: it must lie in [0, 1)"),
     ("adam", {"beta2": 1.0}, "beta2 = 1 is out of range"),
     ("rmsprop", {"rho": -0.1}, "rho = -0.1 is out of range"),
     ("adagrad", {"eps": 0.0}, "eps = 0 is out of range: it must lie in (0, 1)")],
)
def test_hyper_parameters_out_of_range_are_refused_before_training(optimizer, hyper, message):
    net = Network("2-2-1")
    with pytest.raises(ChainruleError, match=re.escape(message)):
        train(net, make_dataset("xor"), TrainConfig(optimizer=optimizer, hyper=hyper, epochs=3))


def test_a_loss_that_saturates_far_above_its_start_is_divergence():
    """A clipped BCE cannot overflow: a huge step pins the outputs and the loss stays near
    -ln(1e-15)/2 = 17.27 for ever, which is divergence, named with its epoch."""
    net = Network("2-2-1")
    result = train(net, make_dataset("xor"),
                   TrainConfig(optimizer="gd", hyper={"eta": 1e5}, epochs=50))
    first = result.history["loss"][0]
    assert result.diverged_at == 1 and "diverged in epoch 1" in result.message
    assert first == pytest.approx(np.log(2), abs=0.1)
    assert "over" in result.message


def test_history_is_on_disk_as_each_epoch_ends(tmp_path):
    path = tmp_path / "h.csv"
    seen = []
    data, net = make_dataset("or"), Network("2-1", loss="bce")
    with HistoryWriter(path) as history:
        def look(epoch, loss):
            rows = path.read_text().splitlines()
            seen.append((epoch, rows[-1].split(",")[1], loss))

        result = train(net, data, TrainConfig(optimizer="gd", epochs=3), history=history,
                       on_epoch=look)
    assert [(e, int(c)) for e, c, _ in seen] == [(1, 1), (2, 2), (3, 3)]
    runs = read_history(path)
    assert list(runs) == ["gd"]
    assert runs["gd"]["loss"] == result.history["loss"].tolist()
    assert math.isnan(runs["gd"]["lr"][0]) and runs["gd"]["lr"][1:] == [0.1] * 3
    assert runs["gd"]["accuracy"] == result.history["accuracy"].tolist()


def test_path_records_every_step():
    data = make_dataset("linear", n=10)
    result = train(Network("1-1", loss="mse"), data,
                   TrainConfig(optimizer="gd", batching="mini", batch_size=4, epochs=3),
                   record_path=True)
    assert result.path.shape == (1 + 3 * 3, 2)
    assert result.path[-1].tolist() == [result.params[0].item(), result.params[1].item()]
