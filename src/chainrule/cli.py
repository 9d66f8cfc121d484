"""The ``chainrule`` command line: a thin skin over the library.

Commands parse their options, call one library function and print. Heavy modules (SymPy,
NumPy, matplotlib) are imported inside the commands, so ``chainrule --help`` starts fast.
Library errors become a one-line message and exit code 2.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from chainrule.commands.common import (
    FORMATS,
    OneLineGroup,
    end_program,
    no_cycle_collection,
    no_teardown,
    one_shot,
    parse_params,
    reports_errors,
)
from chainrule.errors import ChainruleError


def _emit(data: dict[str, Any], fmt: str, template: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    from chainrule.render.environment import render

    ext = {"md": "md", "tex": "tex", "text": "txt"}[fmt]
    click.echo(render(f"{fmt}/{template}.{ext}.j2", data), nl=False)


@click.group(cls=OneLineGroup, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="chainrule")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Derive, train, generate and check the mathematics of training neural networks.

    \b
    Examples:
      chainrule losses
      chainrule derive bce
      chainrule derive --net 2-2-1 --at examples/notes-2-2-1.yaml
    """
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


@main.command()
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--all", "include_all", is_flag=True, help="Include losses the notes' table omits.")
@reports_errors
def losses(fmt: str, include_all: bool) -> None:
    """Print the notes' Quick Comparison table of loss functions.

    \b
    Example:
      chainrule losses --format md
    """
    from chainrule.render.derive import losses_report

    _emit(losses_report(include_all), fmt, "losses")


@main.command()
@click.argument("loss_name", metavar="LOSS", required=False)
@click.option("--net", help="Network spec such as 2-2-1 or 3-4-4-2.")
@click.option("--hidden", default=None, help="Hidden activation, or one per layer: relu,tanh.")
@click.option("--output", "output_act", default=None, help="Output activation.")
@click.option("--loss", "loss_opt", default=None, help="Loss of the network (default bce).")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Loss parameter, e.g. delta=1.5 or half=true (repeatable).")
@click.option("--at", "at", type=click.Path(dir_okay=False), default=None,
              help="Givens YAML: evaluate every step at these numbers.")
@click.option("--eta", type=float, default=None, help="Learning rate: add the update steps.")
@click.option("--decimals", type=click.IntRange(0, 8), default=None,
              help="Decimals a student rounds to (default 3, or the givens file's).")
@click.option("--chain", "chain", multiple=True, metavar="PARAM",
              help="Also show dL/dPARAM by the chain rule and written out in full (repeatable).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@reports_errors
def derive(
    loss_name: str | None,
    net: str | None,
    hidden: str | None,
    output_act: str | None,
    loss_opt: str | None,
    params: tuple[str, ...],
    at: str | None,
    eta: float | None,
    decimals: int | None,
    chain: tuple[str, ...],
    fmt: str,
) -> None:
    """Show a loss and its derivative, or a network's forward and backward equations.

    \b
    Examples:
      chainrule derive huber --param delta=2
      chainrule derive --net 2-2-1 --hidden sigmoid --output sigmoid --loss bce
      chainrule derive --net 2-2-1 --at examples/notes-2-2-1.yaml --format md
      chainrule derive --net 2-2-1 --chain w11 --format md
    """
    with no_cycle_collection():
        from chainrule import api

        derivation = api.derive(
            loss_name, net=net, hidden=hidden, output=output_act, loss=loss_opt, at=at,
            eta=eta, decimals=decimals, chain=chain, **parse_params(params),
        )
        click.echo(derivation.render(fmt), nl=False)
    no_teardown()  # a large derivation's objects need not be freed one by one at exit


@main.command()
@click.option("--net", default=None, help="Network spec (default 2-2-1).")
@click.option("--hidden", default=None,
              type=click.Choice(["sigmoid", "tanh", "relu", "linear"]), help="Hidden activation.")
@click.option("--output", "output_act", default=None,
              type=click.Choice(["sigmoid", "softmax", "linear", "tanh"]),
              help="Output activation (default: the loss's usual one).")
@click.option("--loss", default=None, help="Loss (default bce).")
@click.option("--eta", type=float, default=None, help="Learning rate (default: drawn).")
@click.option("--decimals", type=click.IntRange(0, 8), default=None,
              help="Decimals a student rounds to (default 3).")
@click.option("--seed", type=click.IntRange(0, 2**40 - 1), default=None,
              help="Seed of the random givens (default: a fresh one, shown in the ID).")
@click.option("--id", "problem_id", default=None, help="Regenerate the problem with this ID.")
@click.option("--givens", "givens_path", type=click.Path(dir_okay=False), default=None,
              help="Givens YAML: work this exact problem (e.g. the notes' example).")
@click.option("--iterations", type=click.IntRange(1, 100), default=1, show_default=True,
              help="Show this many gradient-descent iterations (the loss after each).")
@click.option("--format", "fmt", type=click.Choice(["md", "tex", "json"]), default="md",
              show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Write to this file instead of printing.")
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
@click.option("--templates", "templates_dir", type=click.Path(file_okay=False), default=None,
              help="Folder of templates that override the built-in ones.")
@reports_errors
def walkthrough(
    net: str | None, hidden: str | None, output_act: str | None, loss: str | None,
    eta: float | None, decimals: int | None, seed: int | None, problem_id: str | None,
    givens_path: str | None, iterations: int, fmt: str, out: str | None, force: bool,
    templates_dir: str | None,
) -> None:
    """Print a randomized, seeded worked backpropagation example, in the notes' style.

    \b
    Examples:
      chainrule walkthrough
      chainrule walkthrough --net 2-3-1 --hidden tanh --seed 7 --iterations 3
      chainrule walkthrough --givens examples/notes-2-2-1.yaml
      chainrule walkthrough --id bp-00000C1S --format json
    """
    from chainrule import api
    from chainrule.io.outputs import check_file, write_file

    if out is not None:
        check_file(out, force=force)
    problem = api.walkthrough_problem(
        net=net, hidden=hidden, output=output_act, loss=loss, eta=eta, decimals=decimals,
        seed=seed, problem_id=problem_id, givens_path=givens_path,
    )
    text = problem.walkthrough(fmt, iterations=iterations, templates=templates_dir)
    if out is None:
        click.echo(text, nl=False)
    else:
        from pathlib import Path

        write_file(Path(out), text, force=force)
        click.echo(f"wrote {out} ({problem.id})", err=True)


@main.command()
@click.argument("spec_path", metavar="SPEC.yaml", required=False,
                type=click.Path(dir_okay=False))
@click.option("--family", "families", multiple=True,
              help="Without a spec: a family to draw (repeatable), e.g. backprop.")
@click.option("--count", type=click.IntRange(1, 1000), default=1, show_default=True,
              help="Without a spec: problems of each family.")
@click.option("--option", "options", multiple=True, metavar="NAME=VALUE",
              help="Without a spec: a family option, e.g. net=2-3-1 (repeatable).")
@click.option("--seed", type=click.IntRange(0, 2**40 - 1), default=None,
              help="Seed of the set (overrides the spec's).")
@click.option("--decimals", type=click.IntRange(0, 8), default=None)
@click.option("--versions", type=click.IntRange(1, 26), default=None,
              help="Versions A, B, ... with the same families and other numbers.")
@click.option("--title", default=None, help="Without a spec: the set's title.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Output folder (default output/<name>/).")
@click.option("--force", is_flag=True, help="Replace the output folder if it exists.")
@click.option("--pdf", is_flag=True,
              help="Also compile questions, solutions and key PDFs (needs TeX Live).")
@click.option("--templates", "templates_dir", type=click.Path(file_okay=False), default=None,
              help="Folder of templates that override the built-in ones.")
@reports_errors
def generate(
    spec_path: str | None, families: tuple[str, ...], count: int, options: tuple[str, ...],
    seed: int | None, decimals: int | None, versions: int | None, title: str | None,
    out_dir: str | None, force: bool, pdf: bool, templates_dir: str | None,
) -> None:
    """Build a problem set (questions, solutions, answer key) from a spec or options.

    \b
    Writes questions.md, solutions.md, questions.tex, solutions.tex (one of each per
    version), key.tex and key.json into output/<name>/ or --out; with --pdf also the PDFs.
    \b
    Examples:
      chainrule generate examples/exam.yaml
      chainrule generate --family backprop --family forward --count 3 --seed 7
    """
    from pathlib import Path

    from chainrule import api
    from chainrule.io.outputs import check_output

    if spec_path is not None:
        if families or options or title:
            raise ChainruleError("give a spec file or --family/--option/--title, not both")
        source: Any = spec_path
    else:
        if not families:
            raise ChainruleError("give a spec file (chainrule generate exam.yaml) or --family")
        source = api.families_spec(families, count=count,
                                   options=parse_params(options, "--option"),
                                   title=title or "Problem set")
    spec = api.set_spec(source, seed=seed, versions=versions, decimals=decimals)
    folder = Path(out_dir) if out_dir else Path("output") / spec.folder_name
    check_output(folder, force=force)
    total = spec.total
    show = total >= 50 and sys.stderr.isatty()
    with click.progressbar(length=total, label="drawing problems", file=sys.stderr,
                           hidden=not show) as bar:
        done = [0]

        def advance(n: int) -> None:
            bar.update(n - done[0])
            done[0] = n

        progress = advance if show else None
        if pdf:
            from chainrule.commands.handout import compile_set

            compile_set(api.problem_set(spec, progress=progress), folder, force=force,
                        templates_dir=templates_dir)
        else:  # drawn and written as it goes: memory stays flat for large sets
            api.write_problem_set(spec, folder, force=force, templates=templates_dir,
                                  progress=progress)
    click.echo(f"wrote {total} problem{'' if total == 1 else 's'} to {folder}/", err=True)


def _register() -> None:
    from chainrule.commands.check import check
    from chainrule.commands.export import export
    from chainrule.commands.handout import handout
    from chainrule.commands.serve import serve
    from chainrule.commands.train import train

    main.add_command(check)
    main.add_command(export)
    main.add_command(handout)
    main.add_command(serve)
    main.add_command(train)


_register()


def run() -> None:
    """The ``chainrule`` program: one command, then the process exits."""
    one_shot()
    main()


def program() -> None:
    """:func:`run` as ``python -m chainrule`` runs it: a command that leaves nothing to free
    (derive) ends the process as soon as its output is flushed."""
    try:
        run()
    except SystemExit as exc:
        end_program(exc.code)
        raise


if __name__ == "__main__":  # pragma: no cover
    run()
    sys.exit(0)
