"""``chainrule handout``: printable PDFs of a problem set (questions, solutions, answer key)."""

from __future__ import annotations

from typing import Any

import click

__all__ = ["NO_TEX_EXIT_CODE", "handout"]

#: Exit code when no TeX is installed (the .tex files are written all the same).
NO_TEX_EXIT_CODE = 3


class NoTexExit(click.ClickException):
    """No TeX installed: one line on stderr, exit code 3."""

    exit_code = NO_TEX_EXIT_CODE

    def show(self, file: object = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)


@click.command()
@click.argument("spec_path", metavar="SPEC.yaml", type=click.Path(dir_okay=False))
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Output folder (default output/<name>/).")
@click.option("--force", is_flag=True, help="Replace the output folder if it exists.")
@click.option("--versions", type=click.IntRange(1, 26), default=None,
              help="Versions A, B, ... with the same families and other numbers.")
@click.option("--templates", "templates_dir", type=click.Path(file_okay=False), default=None,
              help="Folder of templates that override the built-in ones.")
@click.option("--timeout", type=click.FloatRange(1, 3600), default=120.0, show_default=True,
              help="Seconds LaTeX may take per document.")
def handout(
    spec_path: str, out_dir: str | None, force: bool, versions: int | None,
    templates_dir: str | None, timeout: float,
) -> None:
    """Typeset a problem set as PDFs: questions, worked solutions and an answer key.

    Writes questions.pdf and solutions.pdf (one of each per version, with the version letter
    and problem IDs on every page), key.pdf for all versions, their .tex sources and
    key.json into output/<name>/ or --out. Needs TeX Live (latexmk or pdflatex); without it
    the .tex files are still written and the exit code is 3.

    \b
    Examples:
      chainrule handout examples/exam.yaml
      chainrule handout examples/exam.yaml --versions 3 --out exam-pdf --force
    """
    from pathlib import Path

    from chainrule import api
    from chainrule.commands.common import UserError
    from chainrule.errors import ChainruleError
    from chainrule.io.outputs import check_output

    try:
        spec = api.set_spec(spec_path, versions=versions)
        folder = Path(out_dir) if out_dir else Path("output") / spec.folder_name
        check_output(folder, force=force)
        pdfs = compile_set(api.problem_set(spec), folder, force=force,
                           templates_dir=templates_dir, timeout=timeout)
    except ChainruleError as exc:
        raise UserError(str(exc)) from None
    click.echo(f"wrote {len(pdfs)} PDFs to {folder}/ ({', '.join(p.name for p in pdfs)})",
               err=True)


def compile_set(problem_set: Any, folder: Any, *, force: bool,
                templates_dir: str | None, timeout: float = 120.0) -> list[Any]:
    """Write a set with its PDFs; no TeX exits 3 (the .tex written), a LaTeX error exits 2."""
    from chainrule.commands.common import UserError
    from chainrule.render.pdf import LatexError, TexNotFoundError

    try:
        pdfs: list[Any] = problem_set.to_pdf(folder, force=force, templates=templates_dir,
                                             timeout=timeout)
    except TexNotFoundError as exc:
        raise NoTexExit(f"{exc}; wrote the .tex files to {folder}/") from None
    except LatexError as exc:
        raise UserError(f"{exc}\nThe .tex files are kept in {folder}/", lines=True) from None
    return pdfs
