"""``chainrule check``: judge a student's hand calculation step by step."""

from __future__ import annotations

import sys
from typing import Any

import click

from chainrule.commands.common import reports_errors
from chainrule.errors import ChainruleError

__all__ = ["check"]


@click.command()
@click.argument("problem_source", metavar="PROBLEM")
@click.argument("answers", required=False, type=click.Path(dir_okay=False))
@click.option("--problem", "problem_id", default=None,
              help="With a key.json (or its set folder): the ID or the students' short code "
                   "of the problem to check.")
@click.option("--format", "fmt", type=click.Choice(["text", "md", "json"]), default="text",
              show_default=True)
@click.option("--batch", is_flag=True,
              help="ANSWERS is a class CSV: id column, step columns (and a problem column to "
                   "check each row against the problem it names).")
@click.option("--interactive", is_flag=True, help="Ask for each step in order and judge it.")
@click.option("--carried-credit", type=click.FloatRange(0, 1), default=1.0, show_default=True,
              help="Points for a step that follows from the student's own earlier values.")
@click.option("--decimals-credit", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Share of a step's points for a right value written with too few decimals.")
@click.option("--plot", "plot_path", default=None, type=click.Path(dir_okay=False),
              help="With --batch: write the error rate of every step as a PNG bar chart.")
@click.option("--force", is_flag=True, help="With --plot: replace a plot chainrule wrote.")
@reports_errors
def check(
    problem_source: str, answers: str | None, problem_id: str | None, fmt: str, batch: bool,
    interactive: bool, carried_credit: float, decimals_credit: float, plot_path: str | None,
    force: bool,
) -> None:
    """Check a hand calculation: where it first went wrong, what followed, what the slip was.

    PROBLEM is a problem JSON (from walkthrough or generate), a key.json (or the set's folder)
    with --problem ID or the short code printed on the sheet, a givens YAML file, or a problem
    ID. ANSWERS is YAML, JSON, CSV, or 'name = value' lines; a value may be a formula
    ('delta1 = w13*delta3*a1*(1-a1)'), or both ('delta1 = w13*delta3*fprime1 = -0.046';
    {formula: ..., value: ...} in YAML/JSON).

    \b
    Examples:
      chainrule check examples/notes-2-2-1.yaml examples/notes-answers.txt
      chainrule check output/exam/key.json answers.yaml --problem bp-MA9G83FA
      chainrule check output/exam answers.yaml --problem A-D8AW-JM0A
      chainrule check bp-00000C1S class.csv --batch --format md
      chainrule check output/exam attempts.csv --batch
      chainrule check bp-00000C1S class.csv --batch --plot errors.png

    With --batch, a 'problem' column names each row's problem: looked up in PROBLEM when it
    is a key.json or a set folder, otherwise regenerated from its ID; an empty cell means
    PROBLEM itself.
    """
    from chainrule import api

    if plot_path and not batch:
        raise ChainruleError("--plot needs --batch (it draws the class's error rate per step)")
    if plot_path:
        from chainrule.io.outputs import check_file

        check_file(plot_path, force=force)  # before any work
    credits: dict[str, Any] = {"carried_credit": carried_credit,
                               "decimals_credit": decimals_credit}
    if batch and answers is not None:
        from chainrule.check.batch import class_problems

        named = class_problems(answers)
        if named is not None:
            _batch_by_problem(problem_source, problem_id, answers, named, credits, fmt,
                              plot_path, force)
            return
    problem = api.load_problem(problem_source, problem_id)
    if interactive:
        _interactive(problem, credits, fmt)
        return
    if answers is None:
        raise ChainruleError("give an ANSWERS file (or --interactive)")
    if batch:
        from chainrule.check.report import render_class

        summary = problem.check_class(answers, **credits)
        _plot(plot_path, [summary], force)
        click.echo(render_class(summary, fmt), nl=False)
        return
    report = problem.check(answers, **credits)
    colour = sys.stdout.isatty() and fmt == "text"
    click.echo(report.render(fmt, colour=colour), nl=False)


def _plot(path: str | None, summaries: list[dict[str, Any]], force: bool) -> None:
    """The class's error rate per step as a PNG, through the one writer."""
    if path:
        from chainrule.check.report import error_rate_plot
        from chainrule.io.outputs import write_file

        write_file(path, error_rate_plot(summaries), force=force)


def _interactive(problem: Any, credits: dict[str, Any], fmt: str) -> None:
    answers: dict[str, str] = {}
    click.echo(f"Problem {problem.id}: enter each value (empty to skip, q to stop).")
    for name in problem.asked:
        while True:  # ask again until the entry reads, is empty (skip) or q (stop)
            text = click.prompt(f"{name} =", default="", show_default=False,
                                prompt_suffix=" ").strip()
            if text.lower() == "q" or not text:
                break
            try:
                report = problem.check({**answers, name: text}, **credits)
            except ChainruleError as exc:
                click.echo(f"  {exc}; try again (empty to skip, q to stop)")
                continue
            if not report.input_errors:
                break
            click.echo(f"  {report.input_errors[0]}; try again (empty to skip, q to stop)")
        if text.lower() == "q":
            break
        if not text:
            continue
        answers[name] = text
        step = next(s for s in report.steps if s.name == name)
        if step.formula is not None:
            click.echo(f"  read as: {step.formula.reading.text}")
            for note in step.formula.reading.notes:
                click.echo(f"  note: {note}")
        click.echo(f"  {step.status}" + (f": {step.message}" if step.status != "correct"
                                         else ""))
        if step.status in ("wrong", "too_few_decimals") and step.hint:
            click.echo(f"  {step.hint}")
    click.echo(problem.check(answers, **credits).render(fmt), nl=False)


def _batch_by_problem(source: str, problem_id: str | None, path: str, named: list[str],
                      credits: dict[str, Any], fmt: str, plot_path: str | None,
                      force: bool) -> None:
    """A class CSV with a problem column: each problem's rows judged against it."""
    import json
    from pathlib import Path

    from chainrule import api
    from chainrule.check.report import render_class

    folder = Path(source)
    key = folder / "key.json" if folder.is_dir() else folder
    summaries = []
    for name in named:
        if not name:
            problem = api.load_problem(str(key), problem_id)
        elif key.suffix.lower() == ".json":
            problem = api.load_problem(str(key), name)
        else:
            problem = api.load_problem(name)
        summaries.append(problem.check_class(path, rows=name, **credits))
    _plot(plot_path, summaries, force)
    if fmt == "json":
        click.echo(json.dumps({"problems": summaries}, indent=2, ensure_ascii=False))
        return
    click.echo("\n".join(render_class(s, fmt) for s in summaries), nl=False)
