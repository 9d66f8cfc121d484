"""Writing a problem set's folder: all files or none, and nothing replaced without --force."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from chainrule.io.outputs import Output
from chainrule.problems.base import Problem
from chainrule.problems.spec import SetSpec
from chainrule.render.problemset import problem_context, render_document

__all__ = ["check_printable", "key_data", "set_files", "write_set"]


def key_data(spec: SetSpec, versions: Mapping[str | None, Sequence[Problem]]) -> dict[str, Any]:
    """key.json: the set's title and seed, and every problem's givens and answers."""
    return {
        "title": spec.title,
        "seed": spec.seed,
        "versions": [v for v in versions if v is not None],
        "problems": [p.key() for problems in versions.values() for p in problems],
    }


def set_files(
    spec: SetSpec,
    versions: Mapping[str | None, Sequence[Problem]],
    templates_dir: str | None = None,
) -> dict[str, str]:
    """File name -> text for the whole set: questions and solutions (Markdown and LaTeX) per
    version, a LaTeX answer key for all versions, and key.json."""
    from chainrule.render.environment import render

    files: dict[str, str] = {}
    instructions = spec.meta.get("instructions", "")
    meta = {key: spec.meta.get(key, "") for key in ("course", "instructor", "date")}
    contexts = {v: [problem_context(p) for p in problems] for v, problems in versions.items()}
    for version, items in contexts.items():
        suffix = f"-{version}" if version else ""
        for kind in ("questions", "solutions"):
            for fmt in ("md", "tex"):
                files[f"{kind}{suffix}.{fmt}"] = render_document(
                    items, kind, fmt, title=spec.title, version=version,
                    instructions=instructions, meta=meta, templates_dir=templates_dir,
                )
    key = {"title": spec.title, "meta": meta,
           "versions": [{"letter": v, "problems": ps} for v, ps in contexts.items()]}
    files["key.tex"] = render("tex/key.tex.j2", key, templates_dir)
    files["key.json"] = json.dumps(key_data(spec, versions), indent=2, ensure_ascii=False) + "\n"
    return files


def check_printable(spec: SetSpec) -> None:
    """Every character of the set's user text can be printed in a PDF (see
    :mod:`chainrule.render.fonts`); else an InputError naming the field and the characters,
    before LaTeX runs."""
    from chainrule.render.fonts import describe_char, unprintable

    for key, text in spec.user_text().items():
        bad = unprintable(str(text))
        if bad:
            shown = ", ".join(describe_char(c) for c in bad[:3]) + (", ..." if len(bad) > 3
                                                                      else "")
            raise spec.text_error(key, f"no font of the PDF handouts prints {shown}; remove "
                                       "it (the .md files can hold it: generate without --pdf)")


def write_set(
    spec: SetSpec,
    versions: Mapping[str | None, Sequence[Problem]],
    folder: Path,
    *,
    force: bool = False,
    templates_dir: str | None = None,
    pdf: bool = False,
    timeout: float = 120.0,
) -> list[Path]:
    """Write the set's folder whole; with ``pdf``, then compile its LaTeX documents.

    Returns the PDFs. Raises :class:`~chainrule.render.pdf.TexNotFoundError` (the .tex files
    written) when TeX is missing, and LatexError when a document does not compile.
    """
    if pdf:
        check_printable(spec)
    files = set_files(spec, versions, templates_dir)
    with Output(folder, force=force) as out:
        for name, text in files.items():
            out.write(name, text)
        if not pdf:
            out.commit()
            return []
        from chainrule.render.pdf import LatexError, TexNotFoundError, write_pdfs

        try:
            pdfs = write_pdfs(out.path, [n for n in files if n.endswith(".tex")],
                              timeout=timeout)
        except TexNotFoundError:
            out.commit()  # the .tex files are kept for the user
            raise
        except LatexError as exc:
            staged = str(out.path)
            out.commit()  # the .tex files and LaTeX's log are kept for the user
            exc.args = (str(exc.args[0]).replace(staged, str(folder)),)
            raise
        out.commit()
    return [folder / p.name for p in pdfs]
