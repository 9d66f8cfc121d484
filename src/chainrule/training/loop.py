"""The training loop: layer kernels for the gradients, update kernels for the steps.

Both kinds of kernel are generated from the symbolic derivations (``compile_layers`` for the
chain rule through the deltas, ``update_kernel`` for the optimizer's update trace), so the
numbers a run produces follow the same formulas a worked example prints. One update:

1. the batch's mean loss and its gradient for [W1, b1, ...] from the layer kernel (for the
   notes' NAG at the look-ahead point theta - beta*v, from the update trace's own step);
2. the optimizer's update trace on the whole flat parameter vector at once, with this
   epoch's learning rate (a schedule, evaluated per epoch from t = 0) and the step count t
   (from 1, for Adam's bias correction).

After every epoch the loss J (the mean over all examples) and the accuracy are measured, at
the end-of-epoch weights from one forward pass over the dataset, and handed to the history.
A run *diverges* when J or a parameter stops being a finite number,
J exceeds 1e6 times max(1, J at epoch 0) or both 10 times and 1 more than J at
epoch 0 (a clipped loss saturates there), or a parameter grows past 1e6 times
max(1, the largest initial parameter) (the outputs saturate: a clipped loss such as BCE then
stays finite however wrong the model is); it then stops and reports the epoch.
Hyper-parameters are checked before training: a learning rate is finite and > 0, momentum
and decay rates (beta, beta1, beta2, rho) lie in [0, 1), eps in (0, 1).
Randomness: the initial weights and the shuffles come from two streams spawned from
``numpy.random.SeedSequence(seed)``, so runs that share a seed share both.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np

from chainrule.errors import ChainruleError
from chainrule.numeric.layers import LayerKernel, compile_layers
from chainrule.numeric.optimizers import UpdateKernel, update_kernel
from chainrule.symbolic.network import Network
from chainrule.symbolic.optimizers import get_optimizer
from chainrule.symbolic.schedules import Schedule, get_schedule
from chainrule.training.batching import epoch_batches, get_batching
from chainrule.training.datasets import Dataset
from chainrule.training.params import Layout, init_params

__all__ = [
    "DIVERGENCE_FACTOR",
    "GROWTH_FACTOR",
    "Stepper",
    "Targets",
    "TrainConfig",
    "TrainResult",
    "check_hyper",
    "compare",
    "encode_targets",
    "initial_params",
    "make_schedule",
    "resolve_optimizer",
    "train",
]

#: J above this many times max(1, initial J) counts as divergence.
DIVERGENCE_FACTOR = 1e6
#: J above this many times its start (and at least 1 above it) counts as divergence too: a
#: clipped loss (BCE, CCE) saturates far above its start instead of overflowing.
GROWTH_FACTOR = 10.0

#: Losses whose targets are probabilities or class labels, not regression values.
_CLASS_LOSSES = frozenset({"bce", "cce", "kl", "lsce", "hinge"})


@dataclass(frozen=True)
class TrainConfig:
    """How to train: optimizer, its hyper-parameters and options, schedule, batching, epochs.

    ``hyper`` overrides the optimizer's defaults (``lr`` is another name for ``eta``);
    ``options`` are the optimizer's conventions (``convention``, ``eps_placement``). A
    schedule's ``eta0`` (``eta_max`` for SGDR) defaults to the optimizer's eta;
    ``schedule_params`` may name its ``form`` (e.g. ``gamma`` for exponential decay).
    """

    optimizer: str = "adam"
    hyper: Mapping[str, float] = field(default_factory=dict)
    options: Mapping[str, str] = field(default_factory=dict)
    schedule: str | None = None
    schedule_params: Mapping[str, Any] = field(default_factory=dict)
    batching: str = "full"
    batch_size: int = 32
    epochs: int = 100
    seed: int = 0
    init: str = "glorot"


@dataclass
class Targets:
    """Inputs and targets encoded for one network, and how to read off its decisions."""

    X: np.ndarray
    Y: np.ndarray
    #: Class code of each example (None for regression).
    labels: np.ndarray | None
    #: With one output: class 1 when the output exceeds this (None: argmax over outputs).
    threshold: float | None

    #: Work arrays of :meth:`accuracy` per number of examples (made once, reused).
    _work: dict[int, tuple[np.ndarray, np.ndarray]] = field(
        default_factory=dict, init=False, repr=False, compare=False)

    def accuracy(self, outputs: np.ndarray) -> float | None:
        """Fraction of examples whose decided class is their label (None for regression)."""
        if self.labels is None:
            return None
        n = len(outputs)
        work = self._work.get(n)
        if work is None:
            work = self._work[n] = (np.empty(n, dtype=np.int64), np.empty(n, dtype=bool))
        decided, hit = work
        if self.threshold is not None:
            np.greater(outputs[:, 0], self.threshold, out=hit)
            np.equal(hit, self.labels, out=hit)
        else:
            np.argmax(outputs, axis=1, out=decided)
            np.equal(decided, self.labels, out=hit)
        return np.count_nonzero(hit) / n if n else float("nan")


def encode_targets(data: Dataset, net: Network) -> Targets:
    """The dataset's targets in the form the network's output and loss expect."""
    if data.n_features != net.layers[0]:
        raise ChainruleError(
            f"dataset '{data.name}' has {data.n_features} feature(s) but net {net.spec} has "
            f"{net.layers[0]} input(s): use --net {data.n_features}-...-{data.n_targets}"
        )
    k = net.n_outputs
    loss = net.loss.key
    if data.task == "regression":
        if loss in _CLASS_LOSSES:
            raise ChainruleError(f"loss '{loss}' is for classes; dataset '{data.name}' is a "
                                 "regression task: use mse, mae or huber")
        if k != data.n_targets:
            raise ChainruleError(f"dataset '{data.name}' has {data.n_targets} target(s) but "
                                 f"net {net.spec} has {k} output(s)")
        return Targets(data.X, data.Y, None, None)
    labels = data.labels()
    n_classes = max(len(data.classes), int(labels.max()) + 1)
    if k == 1:
        if n_classes > 2:
            raise ChainruleError(f"dataset '{data.name}' has {n_classes} classes: the net "
                                 f"needs {n_classes} outputs (and softmax with cce)")
        Y = labels[:, None].astype(np.float64)
        if loss == "hinge":  # a margin score: class 1 when it is positive
            pm1 = net.loss.params.get("labels", "pm1") == "pm1"
            return Targets(data.X, 2.0 * Y - 1.0 if pm1 else Y, labels, 0.0)
        return Targets(data.X, Y, labels, 0.5)
    if k != n_classes:
        raise ChainruleError(f"dataset '{data.name}' has {n_classes} classes but net "
                             f"{net.spec} has {k} outputs")
    return Targets(data.X, np.eye(k)[labels], labels, None)


def make_schedule(config: TrainConfig, eta: float) -> Schedule:
    """The config's schedule (constant by default), its initial rate defaulting to ``eta``."""
    name = config.schedule or "constant"
    params: dict[str, Any] = dict(config.schedule_params)
    form = params.pop("form", None)
    schedule = get_schedule(name, form, **params)
    start = "eta_max" if "eta_max" in schedule.params else "eta0"
    if start not in params:
        schedule = get_schedule(name, form, **{**params, start: eta})
    return schedule


def resolve_optimizer(config: TrainConfig) -> tuple[UpdateKernel, dict[str, Any]]:
    """The update kernel of the config's optimizer and its hyper-parameters, checked."""
    info = get_optimizer(config.optimizer)
    options = {k: v for k, v in config.options.items() if k in info.options}
    update = update_kernel(info.key, **options)
    hyper = dict(config.hyper)
    if "lr" in hyper:
        hyper["eta"] = hyper.pop("lr")
    for name, value in hyper.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(
            value
        ):
            raise ChainruleError(f"hyper-parameter {name} must be a finite number")
    resolved = update.hyper(hyper)
    for name, value in resolved.items():
        check_hyper(info.key, name, value)
    return update, resolved


#: The range of each hyper-parameter: (low, high, low included, high included).
HYPER_RANGES: dict[str, tuple[float, float, bool, bool]] = {
    "eta": (0.0, 1e6, False, True),
    "beta": (0.0, 1.0, True, False),
    "beta1": (0.0, 1.0, True, False),
    "beta2": (0.0, 1.0, True, False),
    "rho": (0.0, 1.0, True, False),
    "eps": (0.0, 1.0, False, False),
}


def check_hyper(optimizer: str, name: str, value: Any) -> None:
    """ChainruleError unless ``value`` lies in the range of hyper-parameter ``name``."""
    bounds = HYPER_RANGES.get(name)
    if bounds is None:
        return
    low, high, low_in, high_in = bounds
    number = float(value)
    ok = math.isfinite(number) and (number >= low if low_in else number > low) and (
        number <= high if high_in else number < high)
    if not ok:
        interval = f"{'[' if low_in else '('}{low:g}, {high:g}{']' if high_in else ')'}"
        raise ChainruleError(f"{optimizer}: {name} = {number:g} is out of range: it must lie in "
                             f"{interval}")


def _rngs(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    init, shuffle = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(init), np.random.default_rng(shuffle)


def initial_params(net: Network, seed: int = 0, scheme: str = "glorot") -> list[np.ndarray]:
    """The initial weights a run with this seed starts from (biases 0)."""
    return init_params(net.layers, _rngs(seed)[0], scheme)


class Stepper:
    """One optimizer on one network: :meth:`step` is forward, backward and update.

    The parameters are one flat vector ``theta`` (``views`` are [W1, b1, ...] into it) and
    the state one flat vector per state name. Every array a step writes is made here, once:
    theta and each state have two vectors, a step writes the new values into the spare ones
    (the update compiled by :meth:`UpdateKernel.inplace`) and the two swap, so ``theta``,
    ``views`` and ``state`` name the current ones after each step. Call :meth:`step` inside
    ``numpy.errstate(all="ignore")`` when a run may overflow (``train`` does).
    """

    def __init__(
        self,
        kernel: LayerKernel,
        update: UpdateKernel,
        params: Sequence[np.ndarray],
        hyper: Mapping[str, Any],
    ) -> None:
        self.kernel, self.update = kernel, update
        self.layout = Layout.of(params)
        size = self.layout.size
        names = update.state_names
        thetas = (self.layout.flatten(params), np.empty(size))
        states = {s: (np.zeros(size), np.empty(size)) for s in names}
        # The layer kernel writes the gradient straight into one flat vector's views.
        self.grad = np.zeros(size)
        grad_views = self.layout.views(self.grad)
        self.t = 0
        code = update.inplace()
        scratch = [np.empty(size) for _ in range(code.n_scratch)]
        ahead_code = update.inplace_lookahead()
        ahead = np.empty(size) if ahead_code is not None else None
        # Per phase (which of the two vectors is current): the views, the state, and the
        # arguments of the update (and of the look-ahead), packed once.
        self._phases = []
        for now in (0, 1):
            views = self.layout.views(thetas[now])
            arrays = {"theta": thetas[now], update.trace.meta["gradient"]: self.grad,
                      **{s: states[s][now] for s in names}}
            args = [arrays[g] for g in code.array_givens] + [thetas[1 - now]] + [
                states[s][1 - now] for s in names] + scratch + [
                hyper.get(g) for g in code.number_givens]
            look = None
            if ahead_code is not None:
                look = [{"theta": thetas[now], "v": states["v"][now]}[g]
                        for g in ahead_code.array_givens] + [ahead] + [
                        np.empty(size) for _ in range(ahead_code.n_scratch)] + [
                        float(hyper[g]) for g in ahead_code.number_givens]
            at = views if ahead is None else self.layout.views(ahead)
            self._phases.append((thetas[now], views, {s: states[s][now] for s in names},
                                 self._gradient(kernel, at, grad_views), args, look))
        self._update = code.function
        self._ahead = None if ahead_code is None else ahead_code.function
        self._eta_at = len(args) - len(code.number_givens) + code.number_givens.index("eta")
        self._t_at = (len(args) - len(code.number_givens) + code.number_givens.index("t")
                      if "t" in code.number_givens else None)
        self._now = 0
        self.theta, self.views, self.state = self._phases[0][:3]

    @staticmethod
    def _gradient(kernel: LayerKernel, at: list[np.ndarray], out: list[np.ndarray]
                  ) -> Callable[[np.ndarray, np.ndarray], float]:
        """The kernel's loss and gradient at ``at`` into ``out``, its arguments bound."""
        bind = getattr(kernel, "bind", None)
        if bind is not None:
            return bind(at, out)  # type: ignore[no-any-return]
        return lambda X, Y: kernel.loss_and_gradients(X, Y, at, out=out)[0]

    @property
    def params(self) -> list[np.ndarray]:
        """The current [W1, b1, ...] (views into ``theta``)."""
        return self.views

    def step(self, X: np.ndarray, Y: np.ndarray, eta: float) -> float:
        """One update on the batch (X, Y) with learning rate ``eta``; the batch's mean loss."""
        _, _, _, gradient, args, look = self._phases[self._now]
        if look is not None:
            self._ahead(*look)  # type: ignore[misc]
        loss = gradient(X, Y)
        self.t += 1
        args[self._eta_at] = eta
        if self._t_at is not None:
            args[self._t_at] = self.t
        self._update(*args)
        self._now = now = 1 - self._now
        self.theta, self.views, self.state = self._phases[now][:3]
        return float(loss)


@dataclass
class TrainResult:
    """A finished (or diverged) run: its history, final parameters and figures."""

    label: str
    optimizer: str
    hyper: dict[str, Any]
    options: dict[str, str]
    config: TrainConfig
    schedule: Schedule
    initial_params: list[np.ndarray]
    params: list[np.ndarray]
    #: Columns epoch, steps, lr, loss, batch_loss, accuracy; one row per epoch from 0.
    history: dict[str, np.ndarray]
    diverged_at: int | None = None
    message: str | None = None
    #: Every parameter vector visited, one row per step from the start (when recorded).
    path: np.ndarray | None = None

    @property
    def final_loss(self) -> float:
        return float(self.history["loss"][-1])

    @property
    def final_accuracy(self) -> float | None:
        acc = float(self.history["accuracy"][-1])
        return None if math.isnan(acc) else acc

    @property
    def epochs_run(self) -> int:
        return int(self.history["epoch"][-1])

    def summary(self) -> dict[str, Any]:
        """The run's final figures, JSON-ready."""
        return {
            "optimizer": self.label,
            "rule": self.optimizer,
            "hyper": self.hyper,
            "options": self.options,
            "schedule": self.schedule.key,
            "schedule_params": self.schedule.params,
            "batching": self.config.batching,
            "batch_size": self.config.batch_size if self.config.batching == "mini" else None,
            "epochs": self.epochs_run,
            "steps": int(self.history["steps"][-1]),
            "initial_loss": float(self.history["loss"][0]),
            "final_loss": self.final_loss,
            "final_accuracy": self.final_accuracy,
            "diverged_at": self.diverged_at,
        }


class HistorySink(Protocol):
    """Where a run's rows go as it trains (e.g. a CSV file)."""

    def write(self, label: str, row: Mapping[str, float]) -> None: ...


HISTORY_COLUMNS = ("epoch", "steps", "lr", "loss", "batch_loss", "accuracy")


def _divergence(label: str, epoch: int, steps: int, loss: float, finite_params: bool,
                limit: float, largest: float = 0.0, theta_limit: float = math.inf) -> str:
    if not finite_params:
        what = "a parameter became inf or nan"
    elif not math.isfinite(loss):
        what = f"the loss became {loss}"
    elif loss > limit:
        what = f"the loss reached {loss:.3g}, over {limit:.3g}"
    else:
        what = (f"a parameter reached {largest:.3g}, over {theta_limit:.3g} (the outputs "
                f"saturate; the loss is {loss:.3g})")
    return (f"{label} diverged in epoch {epoch} (step {steps}): {what}; "
            "try a smaller learning rate")


def train(
    net: Network,
    data: Dataset,
    config: TrainConfig,
    *,
    label: str | None = None,
    params: Sequence[np.ndarray] | None = None,
    history: HistorySink | None = None,
    on_epoch: Callable[[int, float], None] | None = None,
    record_path: bool = False,
) -> TrainResult:
    """Train ``net`` on ``data``; stop early (``diverged_at`` set) if the run diverges.

    ``params`` are the initial [W1, b1, ...] (default: drawn from ``config.seed``).
    ``history`` receives a row per epoch as it finishes; ``on_epoch(epoch, loss)`` is
    called after it (for progress bars). ``record_path`` keeps every parameter vector.
    """
    if config.epochs < 1:
        raise ChainruleError("epochs must be at least 1")
    label = label or config.optimizer
    targets = encode_targets(data, net)
    X, Y = targets.X, targets.Y
    config = replace(config, batching=get_batching(config.batching))
    strategy = config.batching
    kernel = compile_layers(net)
    update, hyper = resolve_optimizer(config)
    schedule = make_schedule(config, float(hyper["eta"]))
    etas = schedule(np.arange(config.epochs))
    init_rng, shuffle_rng = _rngs(config.seed)
    if params is None:
        params = init_params(net.layers, init_rng, config.init)
    start = [np.array(p, dtype=np.float64) for p in params]
    shapes = [s for a, b in itertools.pairwise(net.layers) for s in ((a, b), (b,))]
    if [p.shape for p in start] != shapes:
        raise ChainruleError(f"initial parameters of shapes {[p.shape for p in start]}; "
                             f"net {net.spec} needs {shapes}")
    stepper = Stepper(kernel, update, start, hyper)
    # Each epoch's shuffled rows are gathered into the same two arrays.
    shuffled = None if strategy == "full" else (np.empty_like(X), np.empty_like(Y))
    rows: dict[str, list[float]] = {c: [] for c in HISTORY_COLUMNS}
    path: list[np.ndarray] = [stepper.theta.copy()] if record_path else []
    diverged_at, message = None, None

    def measure() -> tuple[float, float | None]:
        # One forward pass over the whole dataset gives both figures (the outputs are read
        # in the kernel's buffer: nothing the size of the dataset is made per epoch).
        loss, outputs = kernel.loss_and_outputs(X, Y, stepper.views, copy=False)
        return loss, targets.accuracy(outputs)

    def record(row: dict[str, float]) -> None:
        for column in HISTORY_COLUMNS:
            rows[column].append(row[column])
        if history is not None:
            history.write(label, row)

    with np.errstate(all="ignore"):
        loss0, acc0 = measure()
        if not math.isfinite(loss0):
            raise ChainruleError(f"{label}: the loss at the initial weights is {loss0}")
        limit = min(DIVERGENCE_FACTOR * max(1.0, loss0), max(GROWTH_FACTOR * loss0, loss0 + 1))
        theta_limit = DIVERGENCE_FACTOR * max(
            [1.0, *(float(np.abs(p).max()) for p in start if p.size)])
        nan = float("nan")
        record({"epoch": 0, "steps": 0, "lr": nan, "loss": loss0, "batch_loss": nan,
                "accuracy": nan if acc0 is None else acc0})
        for epoch in range(1, config.epochs + 1):
            eta = float(etas[epoch - 1])
            total = 0.0
            batches = epoch_batches(strategy, X, Y, shuffle_rng, config.batch_size, shuffled)
            for Xb, Yb in batches:
                total += stepper.step(Xb, Yb, eta) * len(Xb)
                if record_path:
                    path.append(stepper.theta.copy())
            loss, accuracy = measure()
            finite = bool(np.isfinite(stepper.theta).all())
            largest = float(np.abs(stepper.theta).max()) if finite and stepper.theta.size else 0.0
            if not (finite and math.isfinite(loss) and loss <= limit) or largest > theta_limit:
                diverged_at = epoch
                message = _divergence(label, epoch, stepper.t, loss, finite, limit,
                                      largest, theta_limit)
                break
            record({"epoch": epoch, "steps": stepper.t, "lr": eta, "loss": loss,
                    "batch_loss": total / len(X),
                    "accuracy": nan if accuracy is None else accuracy})
            if on_epoch is not None:
                on_epoch(epoch, loss)
    return TrainResult(
        label=label, optimizer=update.trace.meta["optimizer"], hyper=hyper,
        options=dict(update.trace.meta["options"]), config=config, schedule=schedule,
        initial_params=start, params=[p.copy() for p in stepper.views],
        history={c: np.array(v, dtype=np.float64) for c, v in rows.items()},
        diverged_at=diverged_at, message=message,
        path=np.array(path) if record_path else None,
    )


def compare(
    net: Network,
    data: Dataset,
    configs: Mapping[str, TrainConfig],
    *,
    history: HistorySink | None = None,
    on_epoch: Callable[[str, int, float], None] | None = None,
    record_path: bool = False,
) -> list[TrainResult]:
    """Train once per config (label -> config), every run from the same initial weights.

    The weights are drawn from the first config's seed and initialisation.
    """
    if not configs:
        raise ChainruleError("nothing to compare: name at least one optimizer")
    first = next(iter(configs.values()))
    start = initial_params(net, first.seed, first.init)
    results = []
    for label, config in configs.items():
        hook = None if on_epoch is None else (lambda e, j, _l=label: on_epoch(_l, e, j))
        results.append(train(net, data, config, label=label, params=start, history=history,
                             on_epoch=hook, record_path=record_path))
    return results
