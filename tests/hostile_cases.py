"""The hostile corpus (``tests/hostile/``) and the commands each file is fed to.

Every case must end with exit code 0 or 2 (3 for a PDF command without TeX), never a
traceback, a usage error in one line, and nothing changed outside the output folder ``o``.
Used by ``tests/test_hostile.py`` (in process, and in subprocesses with a memory limit) and
``bench/hostile.py`` (time and memory per case).
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "hostile"
EXAMPLES = HERE.parent / "examples"
NOTES = EXAMPLES / "notes-2-2-1.yaml"
ANSWERS = EXAMPLES / "notes-answers.txt"

#: Folder of the corpus -> the commands its files are given to ({f}: the file, {o}: the
#: output folder, {notes}: the notes' givens, {answers}: their answers, {set}: a problem-set
#: folder whose key.json is the file).
COMMANDS: dict[str, list[str]] = {
    "givens": ["walkthrough --givens {f}", "derive --at {f}", "check {f} {answers}"],
    "specs": ["generate {f} --out {o}"],
    "answers": ["check {notes} {f}"],
    "class": ["check {notes} {f} --batch --format json"],
    "problems": ["check {f} {answers}"],
    "keys": ["export moodle {set}"],
    "train": ["train --data {f} --epochs 3 --out {o}"],
    "templates": ["walkthrough --seed 1 --templates {f}"],
}


@dataclass(frozen=True)
class Case:
    """One hostile file given to one command."""

    kind: str
    file: Path
    command: str

    @property
    def name(self) -> str:
        return f"{self.kind}/{self.file.name}: {self.command.split()[0]}"

    def args(self, work: Path, problem_set: Path | None = None) -> list[str]:
        """The command line, with the input copied into ``work`` (the folder it runs in);
        ``problem_set``: a generated set, copied to ``work/set`` for the key.json cases."""
        target = work / self.file.name
        if self.file.is_dir():
            shutil.copytree(self.file, target)
        else:
            shutil.copyfile(self.file, target)
        if "{set}" in self.command:
            assert problem_set is not None
            shutil.copytree(problem_set, work / "set")
            shutil.copyfile(self.file, work / "set" / "key.json")
        values = {"f": self.file.name, "o": "o", "notes": str(NOTES), "answers": str(ANSWERS),
                  "set": "set"}
        return [part.format(**values) for part in self.command.split()]


def cases() -> list[Case]:
    """Every (file, command) case of the corpus, in a stable order."""
    found = []
    for kind, commands in COMMANDS.items():
        folder = CORPUS / kind
        for path in sorted(folder.iterdir()):
            for command in commands:
                found.append(Case(kind, path, command))
    return found


def outputs(case: Case) -> tuple[str, ...]:
    """What a case may create or change in its folder (relative paths)."""
    if "{set}" in case.command:
        return ("set/moodle.xml", "set/.chainrule-manifest.json")
    return ("o",)


def snapshot(work: Path, case: Case) -> dict[str, bytes]:
    """Every file under ``work`` outside the case's outputs, with its bytes."""
    allowed = outputs(case)
    found = {}
    for path in sorted(work.rglob("*")):
        rel = path.relative_to(work).as_posix()
        if any(rel == a or rel.startswith(a + "/") for a in allowed):
            continue
        found[rel] = path.read_bytes() if path.is_file() else b"<dir>"
    return found


def make_set(folder: Path) -> Path:
    """A small generated problem set (the valid folder the key.json cases corrupt)."""
    from click.testing import CliRunner

    from chainrule.cli import main

    spec = folder / "spec.yaml"
    spec.write_text("title: Set\nseed: 1\nproblems: [forward, concept]\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["generate", str(spec), "--out", str(folder / "set")])
    assert result.exit_code == 0, result.output
    return folder / "set"


def corpus_files() -> list[Path]:
    """Every file of the corpus."""
    return sorted(p for p in CORPUS.rglob("*") if p.is_file())


#: Address space and seconds one subprocess case may use.
MEMORY_LIMIT = 2 * 1024**3
TIMEOUT = 120.0


@dataclass(frozen=True)
class Run:
    """How one case ended in its own interpreter."""

    code: int
    out: str
    err: str
    seconds: float
    peak_rss: int  # bytes


def run_isolated(args: list[str], work: Path) -> Run:
    """``python -m chainrule ARGS`` in ``work`` under the memory limit; its exit code,
    output, wall time and peak resident memory (from wait4)."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "chainrule", *args], cwd=work,
                                   env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                   preexec_fn=limit)
        timer = threading.Timer(TIMEOUT, process.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        return Run(process.returncode, out.read(), err.read(), seconds, usage.ru_maxrss * 1024)
