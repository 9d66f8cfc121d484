"""`chainrule generate`: specs, versions, determinism, files written whole or not at all."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from chainrule.cli import main

ROOT = Path(__file__).resolve().parents[1]

SPEC = """\
title: Practice set
seed: 2026
versions: 2
problems:
  - family: backprop
    count: 2
    options: {net: 2-2-1}
  - family: forward
    options: {net: 3-2-2, loss: cce, hidden: tanh}
"""


def run(*args):
    return CliRunner().invoke(main, ["generate", *[str(a) for a in args]])


def write(tmp_path, text, name="spec.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_writes_every_file_and_a_key(tmp_path):
    out = tmp_path / "set"
    result = run(write(tmp_path, SPEC), "--out", out)
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([".chainrule-manifest.json", "key.json", "key.tex"] + [
        f"{k}-{v}.{e}" for k in ("questions", "solutions") for v in "AB" for e in ("md", "tex")])
    key = json.loads((out / "key.json").read_text())
    assert key["title"] == "Practice set" and key["seed"] == 2026
    assert [p["version"] for p in key["problems"]] == ["A"] * 3 + ["B"] * 3
    assert [p["family"] for p in key["problems"][:3]] == ["backprop", "backprop", "forward"]
    for problem in key["problems"]:
        assert {"id", "family", "version", "givens", "decimals", "steps"} <= problem.keys()
        for step in problem["steps"]:
            assert {"name", "value", "rounded"} <= step.keys()
    a, b = key["problems"][0], key["problems"][3]
    assert a["givens"] != b["givens"]
    for problem in key["problems"]:
        # Students see a short code; the regenerating ID is only in the key.
        text = (out / f"questions-{problem['version']}.md").read_text()
        assert problem["code"] in text and problem["id"] not in text


def test_byte_identical_for_the_same_spec(tmp_path):
    spec = write(tmp_path, SPEC)
    run(spec, "--out", tmp_path / "a")
    run(spec, "--out", tmp_path / "b")
    for f in (tmp_path / "a").iterdir():
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes()
    run(spec, "--out", tmp_path / "c", "--seed", 1)
    assert (tmp_path / "c" / "key.json").read_text() != (tmp_path / "a" / "key.json").read_text()


def test_existing_folder_needs_force(tmp_path):
    spec = write(tmp_path, SPEC)
    out = tmp_path / "set"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    result = run(spec, "--out", out)
    assert result.exit_code == 2 and "--force" in result.output
    assert (out / "mine.txt").read_text() == "keep me"
    forced = run(spec, "--out", out, "--force")  # no manifest: nothing here is chainrule's
    assert forced.exit_code == 2 and "no chainrule manifest" in forced.output
    assert [p.name for p in out.iterdir()] == ["mine.txt"]
    (out / "mine.txt").unlink()
    assert run(spec, "--out", out).exit_code == 0  # an empty folder is fine
    (out / "mine.txt").write_text("keep me")
    assert run(spec, "--out", out, "--force", "--seed", 9).exit_code == 0
    assert (out / "mine.txt").read_text() == "keep me" and (out / "key.json").exists()


def test_from_options(tmp_path):
    result = run("--family", "backprop", "--family", "forward", "--count", 2, "--option",
                 "net=2-3-1", "--seed", 5, "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output
    key = json.loads((tmp_path / "o" / "key.json").read_text())
    assert len(key["problems"]) == 4 and all("net:2-3-1" in p["id"] for p in key["problems"])


def test_default_folder_is_output_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run(write(tmp_path, SPEC)).exit_code == 0
    assert (tmp_path / "output" / "practice-set" / "key.json").exists()


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (SPEC.replace("family: forward", "family: fowrard"), 8, "unknown problem family"),
        (SPEC.replace("count: 2", "count: two"), 6, "whole number"),
        (SPEC.replace("count: 2", "count: 0"), 6, "whole number from 1"),
        (SPEC.replace("{net: 2-2-1}", "{nett: 2-2-1}"), 7, "no option 'nett'"),
        (SPEC.replace("{net: 2-2-1}", "{net: 2-x-1}"), 7, "bad network spec"),
        (SPEC.replace("seed: 2026", "sed: 2026"), 2, "unknown field"),
        (SPEC.replace("versions: 2", "versions: 40"), 3, "whole number"),
        (SPEC + "  - 12\n", 10, "expected a mapping"),
        ("title: [unclosed\n", 2, "not valid YAML"),
    ],
)
def test_bad_spec_names_file_line_field_and_writes_nothing(tmp_path, text, line, message):
    spec = write(tmp_path, text)
    out = tmp_path / "set"
    result = run(spec, "--out", out)
    assert result.exit_code == 2, result.output
    assert message in result.output and f"line {line}" in result.output
    assert str(spec) in result.output and len(result.output.strip().splitlines()) == 1
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["spec.yaml"]


def test_unreadable_and_empty_spec(tmp_path):
    result = run(tmp_path / "missing.yaml", "--out", tmp_path / "o")
    assert result.exit_code == 2 and "no such file" in result.output
    result = run(write(tmp_path, ""), "--out", tmp_path / "o")
    assert result.exit_code == 2 and "expected a mapping" in result.output
    assert not (tmp_path / "o").exists()


def test_example_exam_spec_uses_every_family(tmp_path):
    from chainrule.problems.base import FAMILIES, _load_families
    from chainrule.problems.spec import load_spec

    _load_families()
    spec = load_spec(str(ROOT / "examples" / "exam.yaml"))
    assert {e.family.name for e in spec.entries} == set(FAMILIES)
    result = run(ROOT / "examples" / "exam.yaml", "--out", tmp_path / "exam")
    assert result.exit_code == 0, result.output
