"""Compiling LaTeX documents to PDF, safely.

Each document is compiled in a temporary folder of its own with ``pdflatex`` (``lualatex``
when its first lines say ``% !TEX program = lualatex``: user text in Greek, Cyrillic or CJK,
see :mod:`chainrule.render.fonts`), run until its
``.aux`` file stops changing (page "n of N" needs two runs), or with ``latexmk -pdf`` when asked
(``engine="latexmk"``; under load it was seen to skip the second run, so it is not the
default), shell escape off, TeX's file access
limited to that folder (kpathsea's ``openin_any``/``openout_any`` set to paranoid, so
``\\input{/etc/passwd}`` reads nothing), and a time limit. Only the PDF comes back. A failure
raises :class:`LatexError` with the log lines that matter; no TeX at all raises
:class:`TexNotFoundError`, so a command can still keep the ``.tex`` and say so.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from chainrule.errors import ChainruleError

__all__ = [
    "DEFAULT_TIMEOUT",
    "LatexError",
    "TexNotFoundError",
    "compile_pdf",
    "find_tex",
    "log_excerpt",
    "tex_environment",
    "write_pdfs",
]

#: Seconds one document may take to compile, all runs together.
DEFAULT_TIMEOUT = 120.0
MAX_PDFLATEX_RUNS = 4
_FLAGS = ("-interaction=nonstopmode", "-halt-on-error", "-file-line-error", "-no-shell-escape")
# Help text TeX prints after an error, not worth repeating.
_NOISE = ("Type  H <return>", "Type X to quit", "or enter new name", "See the LaTeX manual",
          "<read *>", "Try typing", "You're in trouble")
# Debian packages that hold files a document may miss.
_PACKAGES = {
    "CJKutf8.sty": "latex-cjk-common",
    "c70gbsn.fd": "latex-cjk-chinese-arphic-gbsn00lp",
    "fontspec.sty": "texlive-latex-recommended",
    "luaotfload.sty": "texlive-luatex",
    "tikz.sty": "texlive-pictures",
    "booktabs.sty": "texlive-latex-recommended",
    "lmodern.sty": "lmodern",
}


class TexNotFoundError(ChainruleError):
    """Neither latexmk nor pdflatex is installed."""


class LatexError(ChainruleError):
    """LaTeX failed (or ran out of time) on a document; ``lines`` are the log lines that say why."""

    def __init__(self, document: str, lines: Sequence[str], log: Path | None = None,
                 reason: str = "LaTeX failed") -> None:
        self.document = document
        self.lines = list(lines)
        self.log = log
        where = f" (full log: {log})" if log is not None else ""
        detail = "".join(f"\n  {line}" for line in self.lines)
        super().__init__(f"{document}: {reason}{where}{detail}")


def find_tex(engine: str | None = None) -> list[str]:
    """The compiler command (``pdflatex``, or ``engine``: pdflatex, lualatex or latexmk) with
    its flags."""
    name = engine or "pdflatex"
    if name not in ("pdflatex", "lualatex", "latexmk"):
        raise ChainruleError(f"unknown TeX engine '{name}': use pdflatex, lualatex or latexmk")
    path = shutil.which(name)
    if path is None or shutil.which("pdflatex") is None:
        package = "texlive-luatex fonts-noto-core fonts-noto-cjk" if name == "lualatex" else (
            "texlive-latex-recommended texlive-pictures lmodern")
        raise TexNotFoundError(
            f"no TeX installation found ({name} is not on PATH); install TeX Live, e.g. "
            f"apt-get install {package}"
        )
    if name == "latexmk":
        return [path, "-norc", "-pdf", "-quiet", *_FLAGS]
    return [path, *_FLAGS]


def document_engine(tex_path: str | Path) -> str:
    """The engine a document asks for with ``% !TEX program = ...`` (default pdflatex)."""
    with open(tex_path, encoding="utf-8", errors="replace") as handle:
        head = handle.read(2000)
    match = re.search(r"^% !TEX program = (\w+)", head, re.M)
    return match.group(1) if match and match.group(1) in ("pdflatex", "lualatex") else "pdflatex"


def tex_environment() -> dict[str, str]:
    """The environment TeX runs in: shell escape off, file access paranoid, long log lines."""
    env = dict(os.environ)
    env.update({
        "openin_any": "p",   # read only below the working folder (no /etc/passwd, no ../)
        "openout_any": "p",  # write only there too
        "shell_escape": "f",  # \write18 never runs a command, whatever texmf.cnf says
        "max_print_line": "10000",  # one log line per message, so excerpts stay whole
    })
    env.pop("TEXMFOUTPUT", None)
    return env


def log_excerpt(log: str, limit: int = 12) -> list[str]:
    """The lines of a LaTeX log that explain an error: each error and its ``l.NN`` context."""
    lines = log.splitlines()
    picked: list[str] = []
    for i, line in enumerate(lines):
        if line.startswith("!") or re.match(r"^[^\s:]+\.(tex|sty|cls|fd|def|cfg):\d+: ", line):
            for follow in lines[i : i + 4]:
                text = follow.rstrip()
                if text and text not in picked and not text.lstrip().startswith(_NOISE):
                    picked.append(text)
                if follow.startswith("l.") and follow is not line:
                    break
        if len(picked) >= limit:
            break
    for name, package in _PACKAGES.items():
        if f"`{name}' not found" in log:
            picked.append(f"hint: {name} is missing; on Debian/Ubuntu: apt-get install {package}")
    if not picked:
        picked = [line for line in lines[-limit:] if line.strip()]
    return picked[:limit + 1]


def _run(command: list[str], cwd: Path, deadline: float) -> int:
    """Run ``command`` in its own process group; kill the whole group at ``deadline``."""
    process = subprocess.Popen(
        command, cwd=cwd, env=tex_environment(), stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        return process.wait(timeout=max(deadline - time.monotonic(), 0.01))
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""


def compile_pdf(
    tex_path: str | Path,
    out_dir: str | Path | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    engine: str | None = None,
) -> Path:
    """Compile ``tex_path`` in a temporary folder; the PDF goes to ``out_dir`` (default: beside it).

    On failure the log is kept beside the ``.tex`` (``name.log``) and :class:`LatexError`
    carries its telling lines.
    """
    source = Path(tex_path)
    target_dir = Path(out_dir) if out_dir is not None else source.parent
    command = find_tex(engine or document_engine(source))
    stem = source.stem
    with tempfile.TemporaryDirectory(prefix="chainrule-tex-") as tmp:
        work = Path(tmp)
        shutil.copyfile(source, work / f"{stem}.tex")
        deadline = time.monotonic() + timeout
        try:
            code = 0
            if Path(command[0]).name == "latexmk":
                code = _run([*command, f"{stem}.tex"], work, deadline)
            else:
                aux = work / f"{stem}.aux"
                for _ in range(MAX_PDFLATEX_RUNS):
                    before = _digest(aux)
                    code = _run([*command, f"{stem}.tex"], work, deadline)
                    if code != 0 or _digest(aux) == before:
                        break
        except subprocess.TimeoutExpired:
            raise _failure(source, work, f"LaTeX took longer than {timeout:g} s; stopped") from None
        pdf = work / f"{stem}.pdf"
        if code != 0 or not pdf.exists():
            raise _failure(source, work, "LaTeX failed")
        target_dir.mkdir(parents=True, exist_ok=True)
        result = target_dir / f"{stem}.pdf"
        partial = target_dir / f".{stem}.pdf.part"
        shutil.copyfile(pdf, partial)
        os.replace(partial, result)
        return result


def _failure(source: Path, work: Path, reason: str) -> LatexError:
    log_path = work / f"{source.stem}.log"
    log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
    kept: Path | None = None
    if log:
        kept = source.with_suffix(".log")
        shutil.copyfile(log_path, kept)
    return LatexError(source.name, log_excerpt(log) if log else [], kept, reason)


def write_pdfs(
    folder: str | Path,
    names: Iterable[str] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    engine: str | None = None,
    jobs: int | None = None,
) -> list[Path]:
    """Compile the ``.tex`` files of ``folder`` (all, or ``names``) to PDFs beside them.

    Documents compile in parallel (``jobs``, default: one per CPU). Raises
    :class:`TexNotFoundError` before compiling anything when there is no TeX, and the first
    :class:`LatexError` once every document has been tried (the others' PDFs are written).
    """
    folder = Path(folder)
    find_tex(engine)
    if engine is None and names is not None:
        for name in names:  # a document that needs LuaLaTeX: fail before compiling any
            if (folder / name).is_file() and document_engine(folder / name) == "lualatex":
                find_tex("lualatex")
    sources = ([folder / n for n in names] if names is not None
               else sorted(folder.glob("*.tex")))
    missing = [s.name for s in sources if not s.is_file()]
    if missing:
        raise ChainruleError(f"{folder}: no such document: {', '.join(missing)}")
    workers = max(1, min(len(sources), jobs or os.cpu_count() or 1))
    results: list[Path] = []
    errors: list[LatexError] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(compile_pdf, s, timeout=timeout, engine=engine) for s in sources]
        for future in futures:
            try:
                results.append(future.result())
            except LatexError as exc:
                errors.append(exc)
    if errors:
        if len(errors) > 1:
            others = ", ".join(e.document for e in errors[1:])
            errors[0].args = (f"{errors[0].args[0]}\n  (also failed: {others})",)
        raise errors[0]
    return results
