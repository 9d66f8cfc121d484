"""``chainrule export``: a problem set as an LMS quiz that grades itself (Moodle XML, GIFT,
Canvas QTI 1.2, QTI 2.1)."""

from __future__ import annotations

from typing import Any

import click

__all__ = ["export"]

_SET_DIR = click.Path()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def export() -> None:
    """Export a problem set (a folder from chainrule generate) as an LMS quiz.

    Every version of a problem lands in one category (Moodle) or question group (Canvas,
    QTI 2.1), so a quiz draws one variant per student; answers are graded with a tolerance
    from the problem's decimals, the values of common named mistakes get their own feedback,
    and the worked solution is the general feedback.

    \b
    Examples:
      chainrule export moodle output/exam
      chainrule export canvas output/exam --out exam-canvas.zip
      chainrule export gift output/exam --mistakes 5
      chainrule export qti21 output/exam
    """


#: target -> (default file name, what a group is called: one, several)
_TARGETS = {
    "moodle": ("moodle.xml", ("category", "categories")),
    "gift": ("gift.txt", ("category", "categories")),
    "canvas": ("canvas.zip", ("question group", "question groups")),
    "qti21": ("qti21.zip", ("section", "sections")),
}


def _run(kind: str, set_dir: str, out: str | None, force: bool,
         templates_dir: str | None, mistakes: int) -> None:
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
        default, groups_name = _TARGETS[kind]
        target = Path(out) if out else problem_set.folder / default
        problem_set.to_lms(kind, target, force=force, templates=templates_dir,
                           mistakes=mistakes)
    except ChainruleError as exc:
        raise UserError(str(exc)) from None
    groups = len(problem_set.groups)
    problems = len(problem_set.problems)
    click.echo(f"wrote {problems} problem{'' if problems == 1 else 's'} in {groups} "
               f"{groups_name[groups != 1]} to {target}", err=True)
    for note in problem_set.lms_notes(kind):
        click.echo(f"note: {note}", err=True)


_OUT_HELP = "Output file (default: {} in SET_DIR)."
_FORCE_HELP = "Replace the output file if it exists."
_TEMPLATES_HELP = "Folder of templates that override the built-in ones (html/*.md.j2)."
_MISTAKES_HELP = ("Named-mistake answers per value (0 to 20): the values common mistakes give, "
                  "graded 0 with the mistake explained.")


def _command(kind: str, summary: str, where: str, example: str) -> None:
    default = _TARGETS[kind][0]

    def command(set_dir: str, out: str | None, force: bool, templates_dir: str | None,
                mistakes: int) -> None:
        _run(kind, set_dir, out, force, templates_dir, mistakes)

    command.__doc__ = f"""{summary}

    {where}

    \b
    Example:
      {example}
    """
    decorated: Any = command
    for decorator in reversed((
        export.command(name=kind),
        click.argument("set_dir", metavar="SET_DIR", type=_SET_DIR),
        click.option("--out", type=click.Path(dir_okay=False), default=None,
                     help=_OUT_HELP.format(default)),
        click.option("--force", is_flag=True, help=_FORCE_HELP),
        click.option("--mistakes", type=click.IntRange(0, 20), default=3, show_default=True,
                     metavar="N", help=_MISTAKES_HELP),
        click.option("--templates", "templates_dir", type=click.Path(file_okay=False),
                     default=None, help=_TEMPLATES_HELP),
    )):
        decorated = decorator(decorated)


_command("moodle", "Write Moodle XML: cloze, numerical, multiple-choice and essay questions, "
         "a category each.",
         "Import it in Moodle under Question bank > Import > Moodle XML format.",
         "chainrule export moodle output/exam --out exam-moodle.xml")
_command("gift", "Write Moodle GIFT text: a problem of several values becomes one numerical "
         "question per value, in a category per problem and version.",
         "Import it in Moodle under Question bank > Import > GIFT format; add each "
         "problem's questions to the quiz as fixed questions (not random ones).",
         "chainrule export gift output/exam --out exam-gift.txt")
_command("canvas", "Write a Canvas QTI 1.2 .zip: a question group per problem, drawing one "
         "version each.",
         "Import it in Canvas under Settings > Import Course Content > QTI .zip file.",
         "chainrule export canvas output/exam --out exam-canvas.zip")
_command("qti21", "Write a QTI 2.1 .zip (Blackboard, D2L Brightspace, Canvas New Quizzes): "
         "a section per problem, drawing one version each.",
         "Import it as a QTI 2.1 package in the LMS's question or test import.",
         "chainrule export qti21 output/exam --out exam-qti21.zip")
