"""``chainrule check``: judge a student's hand calculation step by step."""

from __future__ import annotations

import sys

import click

from chainrule.commands.common import UserError, reports_errors
from chainrule.errors import ChainruleError

__all__ = ["check"]


@click.command()
@click.argument("problem_source", metavar="PROBLEM")
@click.argument("answers", required=False, type=click.Path(dir_okay=False))
@click.option("--problem", "problem_id", default=None,
              help="With a key.json: the ID of the problem to check.")
@click.option("--format", "fmt", type=click.Choice(["text", "md", "json"]), default="text",
              show_default=True)
@click.option("--batch", is_flag=True,
              help="ANSWERS is a class CSV: id column, step columns (and a problem column to "
                   "check each row against the problem it names).")
@click.option("--interactive", is_flag=True, help="Ask for each step in order and judge it.")
@click.option("--carried-credit", type=click.FloatRange(0, 1), default=1.0, show_default=True,
              help="Points for a step that follows from the student's own earlier values.")
@reports_errors
def check(
    problem_source: str, answers: str | None, problem_id: str | None, fmt: str, batch: bool,
    interactive: bool, carried_credit: float,
) -> None:
    """Check a hand calculation: where it first went wrong, what followed, what the slip was.

    PROBLEM is a problem JSON (from walkthrough or generate), a key.json with --problem ID, a
    givens YAML file, or a problem ID. ANSWERS is YAML, JSON, CSV, or 'name = value' lines.

    \b
    Examples:
      chainrule check examples/notes-2-2-1.yaml examples/notes-answers.txt
      chainrule check output/exam/key.json answers.yaml --problem bp-MA9G83FA
      chainrule check bp-00000C1S class.csv --batch --format md
      chainrule check output/exam attempts.csv --batch

    With --batch, a 'problem' column names each row's problem: looked up in PROBLEM when it
    is a key.json or a set folder, otherwise regenerated from its ID; an empty cell means
    PROBLEM itself.
    """
    from chainrule.check.answers import read_answers
    from chainrule.check.judge import judge
    from chainrule.check.load import load_problem
    from chainrule.check.report import class_summary, render_class, render_report

    if batch and answers is not None:
        from chainrule.check.batch import class_problems

        named = class_problems(answers)
        if named is not None:
            _batch_by_problem(problem_source, problem_id, answers, named, carried_credit, fmt)
            return
    problem = load_problem(problem_source, problem_id)
    valid, output_neurons = _step_names(problem)
    if interactive:
        _interactive(problem, valid, output_neurons, carried_credit, fmt)
        return
    if answers is None:
        raise ChainruleError("give an ANSWERS file (or --interactive)")
    colour = sys.stdout.isatty() and fmt == "text"
    if batch:
        from chainrule.check.batch import read_class

        sheets = read_class(answers, valid, output_neurons)
        reports = [judge(problem, s, carried_credit=carried_credit) for s in sheets]
        click.echo(render_class(class_summary(reports), fmt), nl=False)
        return
    sheet = read_answers(answers, valid, output_neurons)
    if not sheet.answers:
        raise UserError("; ".join(sheet.errors[:3]) or f"{answers}: no answers")
    report = judge(problem, sheet, carried_credit=carried_credit)
    click.echo(render_report(report, fmt, colour), nl=False)


def _interactive(problem, valid, output_neurons, carried_credit, fmt):  # type: ignore[no-untyped-def]
    from chainrule.check.answers import AnswerSheet, parse_answers
    from chainrule.check.judge import judge
    from chainrule.check.report import render_report

    sheet = AnswerSheet({}, [])
    click.echo(f"Problem {problem.id}: enter each value (empty to skip, q to stop).")
    for name in problem.asked:
        text = click.prompt(f"{name} =", default="", show_default=False).strip()
        if text.lower() == "q":
            break
        if not text:
            continue
        parsed = parse_answers([(name, text, None)], valid, output_neurons, "input")
        if parsed.errors:
            click.echo(f"  {parsed.errors[0]}")
            continue
        sheet.answers.update(parsed.answers)
        step = next(s for s in judge(problem, sheet, carried_credit=carried_credit).steps
                    if s.name == name)
        click.echo(f"  {step.status}" + (f": {step.message}" if step.status == "wrong" else ""))
    click.echo(render_report(judge(problem, sheet, carried_credit=carried_credit), fmt), nl=False)


def _step_names(problem):  # type: ignore[no-untyped-def]
    """Names an answer may use, and the output neurons' yhat names."""
    trace = problem.trace
    if trace is None:
        raise ChainruleError(f"problem {problem.id} has no steps to check (multiple choice)")
    valid = [*trace.givens, *trace.names]
    network = trace.meta.get("network")
    output_neurons = {}
    if network is not None:
        last = network.neurons[-1]
        output_neurons = {f"a{j}": o for j, o in zip(last, network.outputs, strict=True)}
    return valid, output_neurons


def _batch_by_problem(source, problem_id, path, named, carried_credit, fmt):  # type: ignore[no-untyped-def]
    """A class CSV with a problem column: each problem's rows judged against it."""
    import json
    from pathlib import Path

    from chainrule.check.batch import read_class
    from chainrule.check.judge import judge
    from chainrule.check.load import load_problem
    from chainrule.check.report import class_summary, render_class

    folder = Path(source)
    key = folder / "key.json" if folder.is_dir() else folder
    summaries = []
    for name in named:
        if not name:
            problem = load_problem(str(key), problem_id)
        elif key.suffix.lower() == ".json":
            problem = load_problem(str(key), name)
        else:
            problem = load_problem(name)
        valid, output_neurons = _step_names(problem)
        sheets = read_class(path, valid, output_neurons, problem=name)
        reports = [judge(problem, s, carried_credit=carried_credit) for s in sheets]
        summaries.append(class_summary(reports))
    if fmt == "json":
        click.echo(json.dumps({"problems": summaries}, indent=2, ensure_ascii=False))
        return
    click.echo("\n".join(render_class(s, fmt) for s in summaries), nl=False)
