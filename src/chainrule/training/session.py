"""A training session as ``chainrule train`` runs it: check, train, write the output folder.

Everything is checked before the first file is written (dataset, network, optimizers,
schedule, the folder). The folder ``output/<name>/`` then gets

* ``history.csv``: written epoch by epoch while training (see ``chainrule.training.history``);
* ``loss.png``: loss (and accuracy) per epoch, every run on one figure;
* ``trajectory.png``: with ``trajectory``, each run's path over the loss contours;
* ``summary.json``: the settings and each run's final figures (what ``--format json``
  prints).

The folder is written through :class:`chainrule.io.outputs.Output`: an existing folder that
is not empty is an error unless ``force``; then only the files chainrule wrote there (and
the user has not changed) are replaced, and nothing is written unless the run completes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from chainrule.errors import ChainruleError
from chainrule.io.outputs import Output, check_output
from chainrule.symbolic.network import Network
from chainrule.symbolic.optimizers import OPTIMIZERS, get_optimizer
from chainrule.training.datasets import Dataset, load_data
from chainrule.training.history import HistoryWriter
from chainrule.training.loop import (
    TrainConfig,
    TrainResult,
    compare,
    encode_targets,
    make_schedule,
    resolve_optimizer,
)

__all__ = ["FILES", "Session", "SessionSpec", "plan", "prepare", "run_session", "write_files"]

#: Files a session writes (and, with force, replaces).
FILES = ("history.csv", "loss.png", "trajectory.png", "summary.json")

_DEFAULT_LOSS = {"binary": "bce", "multiclass": "cce", "regression": "mse"}


@dataclass
class SessionSpec:
    """What to train, how, and where to write: the options of ``chainrule train``."""

    data: str = "xor"
    label: str | None = None
    samples: int | None = None
    noise: float | None = None
    net: str | None = None
    hidden: str = "sigmoid"
    output: str | None = None
    loss: str | None = None
    loss_params: Mapping[str, Any] = field(default_factory=dict)
    #: One optimizer trains once; several are compared from the same initial weights.
    optimizers: tuple[str, ...] = ("adam",)
    hyper: Mapping[str, float] = field(default_factory=dict)
    options: Mapping[str, str] = field(default_factory=dict)
    schedule: str | None = None
    schedule_params: Mapping[str, Any] = field(default_factory=dict)
    batching: str = "full"
    batch_size: int = 32
    epochs: int = 1000
    seed: int = 0
    init: str = "glorot"
    trajectory: bool = False
    name: str | None = None
    folder: str | None = None
    force: bool = False


@dataclass
class Session:
    """A checked session, ready to train."""

    spec: SessionSpec
    data: Dataset
    net: Network
    configs: dict[str, TrainConfig]
    folder: Path
    results: list[TrainResult] = field(default_factory=list)
    #: The files written, in the order of FILES.
    files: list[str] = field(default_factory=list)

    @property
    def compare(self) -> bool:
        return len(self.configs) > 1

    def summary(self) -> dict[str, Any]:
        """Settings and each run's final figures, JSON-ready."""
        net, data, spec = self.net, self.data, self.spec
        return {
            "dataset": {"name": data.name, "examples": data.n_examples,
                        "features": data.n_features, "task": data.task,
                        "classes": data.classes},
            "net": {"spec": net.spec, "hidden": [a.key for a in net.hidden],
                    "output": net.output.key, "loss": net.loss.key,
                    "loss_params": dict(net.loss.params)},
            "batching": spec.batching,
            "batch_size": spec.batch_size if spec.batching == "mini" else None,
            "epochs": spec.epochs,
            "seed": spec.seed,
            "init": spec.init,
            "runs": [r.summary() for r in self.results],
            "folder": str(self.folder),
            "files": self.files,
        }


def _split_hidden(hidden: str) -> str | list[str]:
    parts = [h.strip() for h in hidden.split(",") if h.strip()]
    return parts[0] if len(parts) == 1 else parts


def _network(spec: SessionSpec, data: Dataset) -> Network:
    loss = spec.loss or _DEFAULT_LOSS[data.task]
    layers = spec.net or f"{data.n_features}-4-{data.n_targets}"
    return Network(layers, hidden=_split_hidden(spec.hidden), output=spec.output, loss=loss,
                   **spec.loss_params)


def _configs(spec: SessionSpec) -> dict[str, TrainConfig]:
    """One config per optimizer: each takes the hyper-parameters and options it has."""
    names = [n.strip() for n in spec.optimizers if n.strip()]
    if not names:
        raise ChainruleError("name at least one optimizer")
    if len(set(names)) != len(names):
        raise ChainruleError(f"optimizer listed twice: {', '.join(names)}")
    infos = [get_optimizer(n) for n in names]
    hyper = dict(spec.hyper)
    if "lr" in hyper:
        hyper["eta"] = hyper.pop("lr")
    for key in hyper:
        if not any(key in info.defaults for info in infos):
            valid = sorted({h for info in infos for h in info.defaults})
            raise ChainruleError(f"no optimizer here has hyper-parameter '{key}'; valid: "
                                 f"{', '.join(valid)}")
    for key in spec.options:
        if not any(key in info.options for info in infos):
            owners = sorted(i.key for i in OPTIMIZERS.values() if key in i.options)
            raise ChainruleError(f"option '{key}' applies to {', '.join(owners) or 'none'}")
    configs = {}
    for name, info in zip(names, infos, strict=True):
        configs[name] = TrainConfig(
            optimizer=info.key,
            hyper={k: v for k, v in hyper.items() if k in info.defaults},
            options={k: v for k, v in spec.options.items() if k in info.options},
            schedule=spec.schedule, schedule_params=dict(spec.schedule_params),
            batching=spec.batching, batch_size=spec.batch_size, epochs=spec.epochs,
            seed=spec.seed, init=spec.init,
        )
    return configs


def _folder(spec: SessionSpec, data: Dataset, net: Network) -> Path:
    if spec.folder is not None:
        return Path(spec.folder)
    run = spec.optimizers[0] if len(spec.optimizers) == 1 else "compare"
    name = spec.name or f"{data.name}-{net.spec}-{run}"
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
        raise ChainruleError(f"name '{name}': use letters, digits, '.', '_' and '-' only")
    return Path("output") / name


def prepare(spec: SessionSpec) -> Session:
    """Load the data, build the network and configs, and check the output folder."""
    spec, data, net, configs = plan(spec)
    folder = _folder(spec, data, net)
    check_output(folder, force=spec.force)
    return Session(spec, data, net, configs, folder)


def plan(spec: SessionSpec) -> tuple[SessionSpec, Dataset, Network, dict[str, TrainConfig]]:
    """Check a spec and load what it trains: (spec, data, network, config per run)."""
    from chainrule.training.batching import get_batching
    from chainrule.training.params import INITS

    if spec.epochs < 1:
        raise ChainruleError("epochs must be at least 1")
    if spec.init not in INITS:
        raise ChainruleError(f"unknown initialisation '{spec.init}'; valid: {', '.join(INITS)}")
    spec = replace(spec, batching=get_batching(spec.batching))
    data = load_data(spec.data, n=spec.samples, noise=spec.noise, seed=spec.seed,
                     label=spec.label)
    net = _network(spec, data)
    encode_targets(data, net)
    configs = _configs(spec)
    for config in configs.values():
        _, hyper = resolve_optimizer(config)
        make_schedule(config, float(hyper["eta"]))
    if spec.trajectory and len(net.parameters) != 2:
        raise ChainruleError(
            f"--trajectory needs a model with two parameters (a 1-1 net: one weight and one "
            f"bias, e.g. --net 1-1 --data linear); net {net.spec} has {len(net.parameters)}"
        )
    return spec, data, net, configs


def run_session(
    session: Session, on_epoch: Callable[[str, int, float], None] | None = None
) -> Session:
    """Train every run of ``session`` and write its folder; returns the session with results."""
    with Output(session.folder, force=session.spec.force) as out:
        with HistoryWriter(out.path / "history.csv") as history:
            session.results = compare(session.net, session.data, session.configs,
                                      history=history, on_epoch=on_epoch,
                                      record_path=session.spec.trajectory)
        _write_rest(session, out)
        out.commit()
    return session


def write_files(session: Session) -> Session:
    """Write the folder of a session trained in memory: history.csv from its runs' arrays,
    the plots and summary.json (the folder is checked as for a run; ``spec.force``)."""
    with Output(session.folder, force=session.spec.force) as out:
        with HistoryWriter(out.path / "history.csv") as history:
            for result in session.results:
                columns = result.history
                for row in range(len(columns["epoch"])):
                    history.write(result.label, {c: float(v[row]) for c, v in columns.items()})
        _write_rest(session, out)
        out.commit()
    return session


def _write_rest(session: Session, out: Output) -> None:
    import json

    from chainrule.training.plots import plot_loss, plot_trajectory

    folder, results = out.path, session.results
    plot_loss(results, session.net, session.data, folder / "loss.png")
    if session.spec.trajectory:
        plot_trajectory(results, session.net, session.data, folder / "trajectory.png")
    session.files = [f for f in FILES if f != "trajectory.png" or session.spec.trajectory]
    out.write("summary.json", json.dumps(session.summary(), indent=2) + "\n")
