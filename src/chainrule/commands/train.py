"""``chainrule train``: train a small network on generated kernels and plot how it went."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import click

from chainrule.commands.common import parse_params, reports_errors
from chainrule.errors import ChainruleError

__all__ = ["train"]


def _numbers(items: tuple[str, ...], what: str) -> dict[str, float]:
    values = parse_params(items, what)
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ChainruleError(f"{what} {key}={value}: the value must be a number")
    return values


def _schedule_params(items: tuple[str, ...]) -> dict[str, Any]:
    """Schedule parameters are numbers, except ``form`` (e.g. form=gamma)."""
    form = [i for i in items if i.partition("=")[0].strip() == "form"]
    values: dict[str, Any] = _numbers(tuple(i for i in items if i not in form),
                                      "--schedule-param")
    if form:
        values["form"] = form[-1].partition("=")[2].strip()
    return values


class _Progress:
    """A progress bar per run on stderr (a terminal only), showing the current loss."""

    def __init__(self, epochs: int) -> None:
        self.epochs = epochs
        self.bar: Any = None
        self.label: str | None = None
        self.loss = float("nan")
        self.shown = 0.0

    def __call__(self, label: str, epoch: int, loss: float) -> None:
        self.loss = loss
        if label != self.label:
            self.close()
            self.label = label
            self.bar = click.progressbar(
                length=self.epochs, label=f"{label:>9}", file=sys.stderr, width=30,
                item_show_func=lambda _: f"loss {self.loss:.4g}",
            ).__enter__()
        now = time.monotonic()
        if now - self.shown > 0.1 or epoch == self.epochs:
            self.shown = now
            self.bar.update(epoch - self.bar.pos)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _percent(accuracy: float | None) -> str:
    return "-" if accuracy is None else f"{100 * accuracy:.1f}%"


def _text_report(session: Any) -> str:
    from chainrule.training.plots import describe_net

    spec, data = session.spec, session.data
    batching = {"full": "full batch", "sgd": "SGD (one example per step)",
                "mini": f"mini-batches of {spec.batch_size}"}[spec.batching]
    lines = [data.summary(),
             f"{describe_net(session.net)}; {batching}, {spec.epochs} epochs, seed {spec.seed}"]
    schedule = session.results[0].schedule
    if schedule.key != "constant":
        start = "eta_max" if "eta_max" in schedule.params else "eta0"
        given = [f"{k}={v:g}" for k, v in schedule.params.items()
                 if k != start or k in spec.schedule_params]
        if start not in spec.schedule_params:
            given.append(f"{start} = the optimizer's eta")
        lines.append(f"learning rate in epoch t (from 0): {schedule.text()}; "
                     + ", ".join(given))
    if not session.compare:
        result = session.results[0]
        hyper = ", ".join(f"{k}={v:g}" for k, v in result.hyper.items())
        lines.append(f"{result.label} ({hyper})")
        line = f"final loss {result.final_loss:.6g}"
        if result.diverged_at is not None:
            line = (f"loss {result.final_loss:.6g} at epoch {result.epochs_run}, the last before "
                    "it diverged")
        if result.final_accuracy is not None:
            right = round(result.final_accuracy * data.n_examples)
            line += f", accuracy {_percent(result.final_accuracy)} ({right}/{data.n_examples})"
        lines.append(line)
    else:
        lines.append("")
        lines.append(f"{'optimizer':<10} {'eta':>8} {'first loss':>11} {'final loss':>11} "
                     f"{'accuracy':>9}  epochs")
        for r in session.results:
            status = str(r.epochs_run) if r.diverged_at is None else (
                f"diverged in epoch {r.diverged_at}")
            lines.append(f"{r.label:<10} {r.hyper['eta']:>8g} {r.history['loss'][0]:>11.5g} "
                         f"{r.final_loss:>11.5g} {_percent(r.final_accuracy):>9}  {status}")
    lines.append(f"wrote {session.folder}/: {', '.join(session.files)}")
    return "\n".join(lines) + "\n"


@click.command()
@click.option("--data", default="xor", show_default=True,
              help="Built-in dataset (xor, and, or, blobs, moons, circles, linear, three) or a "
                   "CSV file of feature columns and a label column.")
@click.option("--label", default=None, help="CSV: the label column (default: the last).")
@click.option("--samples", type=click.IntRange(2, 1_000_000), default=None,
              help="Examples to draw for a generated dataset (default: its own).")
@click.option("--noise", type=click.FloatRange(0), default=None,
              help="Noise (standard deviation) of a generated dataset.")
@click.option("--net", default=None,
              help="Layer sizes such as 2-2-1 (default: features-4-outputs).")
@click.option("--hidden", default="sigmoid", show_default=True,
              help="Hidden activation, or one per hidden layer: relu,tanh.")
@click.option("--output", "output_act", default=None,
              help="Output activation (default: the loss's usual one).")
@click.option("--loss", default=None,
              help="Loss (default: bce for 2 classes, cce for more, mse for regression).")
@click.option("--param", "loss_params", multiple=True, metavar="NAME=VALUE",
              help="Loss parameter, e.g. delta=1.5 (repeatable).")
@click.option("--optimizer", default="adam", show_default=True,
              help="gd (alias sgd), momentum, nag, adagrad, rmsprop or adam.")
@click.option("--compare", default=None, metavar="LIST",
              help="Comma-separated optimizers to train from the same initial weights, "
                   "e.g. sgd,momentum,nag,adagrad,rmsprop,adam.")
@click.option("--lr", type=float, default=None,
              help="Learning rate eta (default: each optimizer's, e.g. 0.1 for gd, 0.001 for "
                   "adam).")
@click.option("--hyper", multiple=True, metavar="NAME=VALUE",
              help="Other hyper-parameter, e.g. beta=0.95 or beta2=0.99 (repeatable).")
@click.option("--convention", type=click.Choice(["notes", "torch"]), default=None,
              help="Momentum/NAG form: the notes' v = beta*v + eta*g, or PyTorch's "
                   "v = beta*v + g (default notes).")
@click.option("--eps-placement", type=click.Choice(["outside", "inside"]), default=None,
              help="AdaGrad/RMSprop/Adam: eps added outside the square root (default) or "
                   "inside.")
@click.option("--schedule", default=None,
              help="Learning-rate schedule per epoch: constant, step, exponential, "
                   "inverse_time, cosine_restarts.")
@click.option("--schedule-param", "schedule_params", multiple=True, metavar="NAME=VALUE",
              help="Schedule parameter, e.g. gamma=0.5 or T_0=100 (repeatable).")
@click.option("--batch", "batching", type=click.Choice(["full", "sgd", "mini"]), default=None,
              help="full batch, sgd (one example per step) or mini-batches [default: full, "
                   "or mini with --batch-size].")
@click.option("--batch-size", type=click.IntRange(1), default=None,
              help="Mini-batch size (default 32).")
@click.option("--epochs", type=click.IntRange(1, 10_000_000), default=1000, show_default=True,
              help="Passes over the training set.")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True,
              help="Seed of the data, the initial weights and the shuffles.")
@click.option("--init", type=click.Choice(["glorot", "he"]), default="glorot",
              show_default=True, help="Weight initialisation (biases start at 0).")
@click.option("--trajectory", is_flag=True,
              help="For a two-parameter model (--net 1-1): plot each optimizer's path over "
                   "the loss contours.")
@click.option("--name", default=None, help="Output folder output/NAME/ (default from the run).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Output folder (instead of output/NAME/).")
@click.option("--force", is_flag=True, help="Replace the training files of an existing folder.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json: the settings and final figures, for scripts.")
@reports_errors
def train(
    data: str, label: str | None, samples: int | None, noise: float | None, net: str | None,
    hidden: str, output_act: str | None, loss: str | None, loss_params: tuple[str, ...],
    optimizer: str, compare: str | None, lr: float | None, hyper: tuple[str, ...],
    convention: str | None, eps_placement: str | None, schedule: str | None,
    schedule_params: tuple[str, ...], batching: str | None, batch_size: int | None,
    epochs: int, seed: int, init: str, trajectory: bool, name: str | None,
    out_dir: str | None, force: bool, fmt: str,
) -> None:
    """Train a small network with the gradient and update kernels of the derivations.

    Shows a progress bar, prints the final loss and accuracy, and writes history.csv,
    loss.png and summary.json (and trajectory.png) into output/NAME/.

    \b
    Examples:
      chainrule train --net 2-2-1 --loss bce --optimizer adam --data xor --epochs 2000 --seed 0
      chainrule train --data moons --net 2-8-1 --compare sgd,momentum,nag,adagrad,rmsprop,adam
      chainrule train --data three --net 2-8-3 --batch mini --batch-size 16 --lr 0.01
      chainrule train --data linear --net 1-1 --compare sgd,momentum,adam --lr 0.05 \\
          --epochs 100 --trajectory
      chainrule train --data points.csv --label class --format json
    """
    from chainrule import api

    progress = _Progress(epochs) if sys.stderr.isatty() else None
    try:
        run = api.train(
            data, label=label, samples=samples, noise=noise, net=net, hidden=hidden,
            output=output_act, loss=loss, loss_params=parse_params(loss_params),
            optimizer=optimizer, compare=compare, lr=lr, hyper=_numbers(hyper, "--hyper"),
            convention=convention, eps_placement=eps_placement, schedule=schedule,
            schedule_params=_schedule_params(schedule_params), batching=batching,
            batch_size=batch_size, epochs=epochs, seed=seed, init=init, trajectory=trajectory,
            name=name, out=out_dir, force=force, write=True, on_epoch=progress,
        )
    finally:
        if progress is not None:
            progress.close()
    session = run.session
    diverged = [r for r in session.results if r.diverged_at is not None]
    if fmt == "json":
        click.echo(json.dumps(session.summary(), indent=2))
    else:
        click.echo(_text_report(session), nl=False)
    for result in diverged:
        kept = f"; epochs 0-{result.epochs_run} are in {session.folder}/history.csv"
        if not session.compare:
            raise ChainruleError(f"{result.message}{kept}")
        click.echo(f"note: {result.message}{kept}", err=True)
