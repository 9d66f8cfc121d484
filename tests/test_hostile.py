"""Hostile input, every reader and every command: exit 0 or 2 (3 for a PDF command without
TeX), never a traceback, errors in one line, bounded time and memory, and nothing changed
outside the output folder. The corpus lives in ``tests/hostile/``; see ``hostile_cases``."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

from chainrule.cli import main
from hostile_cases import Case, cases, corpus_files, make_set, run_isolated, snapshot

CASES = cases()
#: Seconds one in-process case may take (generous: the machine may be loaded).
TIME_LIMIT = 30.0


@pytest.fixture(scope="module")
def problem_set(tmp_path_factory):
    return make_set(tmp_path_factory.mktemp("set"))


def test_the_corpus_is_large_and_every_file_is_used():
    files = corpus_files()
    assert len(files) >= 60
    used = {c.file for c in CASES}
    assert all(f in used or f.parent.parent in used for f in files)


def check_result(case: Case, code: int, out: str, err: str) -> None:
    assert "Traceback" not in out + err, (case.name, out + err)
    assert code in (0, 2), (case.name, code, out + err)
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), (case.name, err)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_hostile_case_in_process(case, tmp_path, monkeypatch, problem_set):
    monkeypatch.chdir(tmp_path)
    args = case.args(tmp_path, problem_set)
    before = snapshot(tmp_path, case)
    start = time.perf_counter()
    result = CliRunner().invoke(main, args)
    elapsed = time.perf_counter() - start
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{case.name}: {type(result.exception).__name__}: "
                             f"{result.exception}") from result.exception
    check_result(case, result.exit_code, result.stdout, result.stderr)
    assert elapsed < TIME_LIMIT, (case.name, elapsed)
    assert snapshot(tmp_path, case) == before, case.name
    if result.exit_code == 2:
        assert not (tmp_path / "o").exists(), case.name


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_hostile_case_in_a_subprocess(case, tmp_path, problem_set):
    """The same, in a fresh interpreter with a 2 GB address-space limit and a time limit."""
    args = case.args(tmp_path, problem_set)
    before = snapshot(tmp_path, case)
    run = run_isolated(args, tmp_path)
    check_result(case, run.code, run.out, run.err)
    assert snapshot(tmp_path, case) == before, case.name
