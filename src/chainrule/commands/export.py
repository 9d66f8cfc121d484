"""``chainrule export``: a problem set as a Moodle or Canvas quiz that grades itself."""

from __future__ import annotations

import click

__all__ = ["export"]

_SET_DIR = click.Path()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def export() -> None:
    """Export a problem set (a folder from chainrule generate) as an LMS quiz.

    Every version of a problem lands in one category (Moodle) or question group (Canvas),
    so a quiz draws one variant per student; answers are graded with a tolerance from the
    problem's decimals, and the worked solution is the feedback.

    \b
    Examples:
      chainrule export moodle output/exam
      chainrule export canvas output/exam --out exam-canvas.zip
    """


def _run(kind: str, set_dir: str, out: str | None, force: bool,
         templates_dir: str | None) -> None:
    from pathlib import Path

    from chainrule import api
    from chainrule.commands.common import UserError
    from chainrule.errors import ChainruleError, InputError

    try:
        if not Path(set_dir).is_dir():
            raise InputError("not a folder (give the folder chainrule generate wrote)",
                             file=set_dir)
        problem_set = api.problem_set(set_dir)
        assert problem_set.folder is not None
        default = "moodle.xml" if kind == "moodle" else "canvas.zip"
        target = Path(out) if out else problem_set.folder / default
        write = problem_set.to_moodle if kind == "moodle" else problem_set.to_canvas
        write(target, force=force, templates=templates_dir)
    except ChainruleError as exc:
        raise UserError(str(exc)) from None
    groups = len(problem_set.groups)
    questions = len(problem_set.problems)
    group = {("moodle", True): "category", ("moodle", False): "categories",
             ("canvas", True): "question group", ("canvas", False): "question groups"}
    click.echo(f"wrote {questions} question{'' if questions == 1 else 's'} in {groups} "
               f"{group[kind, groups == 1]} to {target}", err=True)
    essays = sum(1 for p in problem_set.problems if p.core.derivation)
    if essays:
        click.echo(f"{essays} of them ask for formulas: exported as essay questions, graded by "
                   "hand (the feedback holds the key formulas)", err=True)


_OUT_HELP = "Output file (default: {} in SET_DIR)."
_FORCE_HELP = "Replace the output file if it exists."
_TEMPLATES_HELP = "Folder of templates that override the built-in ones (html/*.md.j2)."


@export.command()
@click.argument("set_dir", metavar="SET_DIR", type=_SET_DIR)
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help=_OUT_HELP.format("moodle.xml"))
@click.option("--force", is_flag=True, help=_FORCE_HELP)
@click.option("--templates", "templates_dir", type=click.Path(file_okay=False), default=None,
              help=_TEMPLATES_HELP)
def moodle(set_dir: str, out: str | None, force: bool, templates_dir: str | None) -> None:
    """Write Moodle XML: cloze, numerical and multiple-choice questions, a category each.

    Import it in Moodle under Question bank > Import > Moodle XML format.

    \b
    Example:
      chainrule export moodle output/exam --out exam-moodle.xml
    """
    _run("moodle", set_dir, out, force, templates_dir)


@export.command()
@click.argument("set_dir", metavar="SET_DIR", type=_SET_DIR)
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help=_OUT_HELP.format("canvas.zip"))
@click.option("--force", is_flag=True, help=_FORCE_HELP)
@click.option("--templates", "templates_dir", type=click.Path(file_okay=False), default=None,
              help=_TEMPLATES_HELP)
def canvas(set_dir: str, out: str | None, force: bool, templates_dir: str | None) -> None:
    """Write a Canvas QTI 1.2 .zip: a question group per problem, drawing one version each.

    Import it in Canvas under Settings > Import Course Content > QTI .zip file.

    \b
    Example:
      chainrule export canvas output/exam --out exam-canvas.zip
    """
    _run("canvas", set_dir, out, force, templates_dir)
