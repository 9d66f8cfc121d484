"""The input and output layer: bounded readers and the one safe writer."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from chainrule.errors import ChainruleError, InputError
from chainrule.io import (
    MANIFEST,
    Output,
    check_output,
    read_answer_rows,
    read_csv,
    read_json,
    read_text,
    read_yaml,
    write_file,
)
from chainrule.io.inputs import MAX_DEPTH, MAX_YAML_NODES

BOMB = "".join(
    [f"a: &a [{', '.join(['lol'] * 9)}]\n"]
    + [f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n"
       for p, c in zip("abcdefgh", "bcdefghi", strict=True)]
)


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# --- YAML -------------------------------------------------------------------------------------


def test_the_billion_laughs_file_is_as_small_as_reported():
    assert len(BOMB.splitlines()) == 9 and len(BOMB.encode()) < 400


@pytest.mark.parametrize("aliases", [False, True])
def test_an_alias_bomb_is_refused_within_a_second(tmp_path, aliases):
    path = write(tmp_path, "bomb.yaml", BOMB)
    start = time.perf_counter()
    with pytest.raises(InputError) as info:
        read_yaml(path, aliases=aliases)
    assert time.perf_counter() - start < 1.0
    message = str(info.value)
    assert message.startswith(f"{path}: line ") and "\n" not in message
    assert ("alias" in message) if not aliases else (str(MAX_YAML_NODES) in message)


@pytest.mark.parametrize("text", ["a: &a [*a]\n", "a: &a {b: *a}\n", "x: &x [1, [2, *x]]\n"])
def test_a_self_referencing_anchor_is_an_error_not_a_recursion(tmp_path, text):
    path = write(tmp_path, "self.yaml", text)
    for aliases in (False, True):
        with pytest.raises(InputError) as info:
            read_yaml(path, aliases=aliases)
        assert "line 1" in str(info.value)


def test_simple_aliases_are_kept_where_allowed(tmp_path):
    path = write(tmp_path, "spec.yaml", "base: &b {net: 2-2-1}\nproblems: [*b, *b]\n")
    data = read_yaml(path, aliases=True).data
    assert data["problems"] == [{"net": "2-2-1"}, {"net": "2-2-1"}]
    with pytest.raises(InputError, match="line 2: uses the YAML alias \\*b"):
        read_yaml(path)


def test_deep_nesting_is_refused_before_parsing(tmp_path):
    path = write(tmp_path, "deep.yaml", "a: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(InputError, match=f"nested more than {MAX_DEPTH} levels"):
        read_yaml(path)
    ok = write(tmp_path, "ok.yaml", "a: " + "[" * 10 + "1" + "]" * 10 + "\n")
    assert read_yaml(ok).data["a"] == [[[[[[[[[[1]]]]]]]]]]


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("a: 1\na: 2\n", "line 2: field 'a': appears twice"),
        ("a: !!python/object:os.system ls\n", "not valid YAML"),
        ("? [1, 2]\n: 3\n", "not valid YAML"),
        ("a: [1, 2\n", "not valid YAML"),
        ("a: 2026-13-45\n", "not valid YAML"),
    ],
)
def test_bad_yaml_is_one_line(tmp_path, text, expect):
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(InputError) as info:
        read_yaml(path)
    assert expect in str(info.value) and "\n" not in str(info.value)


# --- text, JSON, CSV ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expect"),
    [
        (b"\xff\xfe\x00a", "not UTF-8"),
        (b"a = 1\n\x00\n", "NUL byte"),
        (b"x" * 2001, "larger than 2 kB"),
    ],
)
def test_text_that_is_not_text(tmp_path, content, expect):
    path = write(tmp_path, "f.txt", content)
    with pytest.raises(InputError, match=expect):
        read_text(path, max_bytes=2000)


def test_missing_folder_and_file_in_the_way(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_text(tmp_path / "nope.txt")
    with pytest.raises(InputError, match="is a folder"):
        read_text(tmp_path)
    afile = write(tmp_path, "afile.txt", "x")
    with pytest.raises(InputError, match="no such file"):
        read_text(afile / "sub")


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ('{"z1": 1, "z1": 2}', "field 'z1': appears twice"),
        ('{"a": {"b": 1, "b": 1}}', "field 'b': appears twice"),
        ('{"a": NaN}', "NaN is not a number JSON allows"),
        ('{"a": -Infinity}', "Infinity is not a number JSON allows"),
        ("[" * 100_000 + "]" * 100_000, "nested more than"),
        ("[" * 40 + "]" * 40, "nested more than"),
        ('{"a": ' + "9" * 5000 + "}", "not valid JSON"),
        ('{"a": 1', "line 1: not valid JSON"),
    ],
)
def test_bad_json_is_one_line(tmp_path, text, expect):
    path = write(tmp_path, "f.json", text)
    with pytest.raises(InputError) as info:
        read_json(path)
    assert expect in str(info.value) and "\n" not in str(info.value)


def test_csv_rows_keep_their_lines_and_bad_csv_is_named(tmp_path):
    path = write(tmp_path, "c.csv", "a,b\n\n1, 2\n")
    assert read_csv(path).rows == [(1, ["a", "b"]), (3, ["1", "2"])]
    quote = write(tmp_path, "q.csv", 'a,b\n"1' + "x" * 200_000 + '",2\n')
    with pytest.raises(InputError, match="not valid CSV"):
        read_csv(quote)


@pytest.mark.parametrize("name", ["a.json", "a.yaml", "a.csv", "a.txt"])
def test_duplicate_answers_are_refused_in_every_format(tmp_path, name):
    text = {"a.json": '{"z1": 0.3, "z1": 0.4}', "a.yaml": "z1: 0.3\nz1: 0.4\n",
            "a.csv": "z1,0.3\nz1,0.4\n", "a.txt": "z1 = 0.3\nz1 = 0.4\n"}[name]
    path = write(tmp_path, name, text)
    rows, _ = read_answer_rows(path) if name in ("a.csv", "a.txt") else ([], "")
    if name in ("a.json", "a.yaml"):
        with pytest.raises(InputError, match="appears twice"):
            read_answer_rows(path)
        return
    from chainrule.check.answers import parse_answers

    with pytest.raises(InputError, match="line 2: field 'z1': z1 is given twice"):
        parse_answers(rows, ["z1"], {}, str(path))


def test_answer_files_refuse_aliases(tmp_path):
    path = write(tmp_path, "a.yaml", "z1: &v 0.3\nz2: *v\n")
    with pytest.raises(InputError, match="line 2: uses the YAML alias"):
        read_answer_rows(path)


# --- the writer -------------------------------------------------------------------------------


def listing(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def write_set(folder: Path, files: dict[str, str], force: bool = False) -> Output:
    with Output(folder, force=force) as out:
        for name, text in files.items():
            out.write(name, text)
        out.commit()
    return out


def test_a_new_folder_gets_its_files_and_a_manifest_of_their_hashes(tmp_path):
    import hashlib

    folder = tmp_path / "deep" / "set"
    write_set(folder, {"a.md": "A", "b.tex": "B"})
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["files"] == {n: hashlib.sha256(t.encode()).hexdigest()
                                 for n, t in (("a.md", "A"), ("b.tex", "B"))}
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(
        ["deep", "set", "a.md", "b.tex", MANIFEST])


def test_force_replaces_only_unchanged_files_chainrule_wrote(tmp_path):
    folder = tmp_path / "course"
    write_set(folder, {"questions.md": "v1", "old.md": "stale"})
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(ChainruleError, match="exists; use --force"):
        check_output(folder)
    out = write_set(folder, {"questions.md": "v2"}, force=True)
    assert listing(folder) == {"questions.md": b"v2", "notes.txt": b"mine",
                               MANIFEST: (folder / MANIFEST).read_bytes()}
    assert out.kept == ["notes.txt"]
    (folder / "questions.md").write_text("my edit")
    before = listing(folder)
    with pytest.raises(ChainruleError, match=r"questions\.md: changed since chainrule wrote"):
        write_set(folder, {"questions.md": "v3"}, force=True)
    assert listing(folder) == before


def test_force_never_replaces_a_foreign_file_of_the_same_name(tmp_path):
    folder = tmp_path / "course"
    write_set(folder, {"a.md": "1"})
    (folder / "b.md").write_text("mine")
    before = listing(folder)
    with pytest.raises(ChainruleError, match=r"b\.md: chainrule did not write this file"):
        write_set(folder, {"a.md": "2", "b.md": "2"}, force=True)
    assert listing(folder) == before


def test_force_refuses_a_folder_without_a_manifest(tmp_path):
    folder = tmp_path / "course"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(ChainruleError, match="no chainrule manifest"):
        check_output(folder, force=True)


@pytest.mark.parametrize("target", ["/proc/x", "afile.txt/sub", ".", ".."])
def test_impossible_or_foreign_output_folders_are_one_line_and_leave_nothing(
    tmp_path, monkeypatch, target
):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    (work / "afile.txt").write_text("x")
    before = listing(tmp_path)
    for force in (False, True):
        with pytest.raises(ChainruleError) as info:
            write_set(Path(target), {"a.md": "A"}, force=force)
        assert str(info.value).startswith(target) and "\n" not in str(info.value)
        assert listing(tmp_path) == before
        assert sorted(p.name for p in tmp_path.rglob("*")) == ["afile.txt", "work"]


def test_a_failure_while_staging_leaves_nothing(tmp_path):
    folder = tmp_path / "a" / "b"
    with pytest.raises(ZeroDivisionError), Output(folder) as out:
        out.write("x.md", "x")
        1 / 0  # noqa: B018
    assert list(tmp_path.iterdir()) == []


def test_write_file_records_the_file_and_refuses_foreign_or_edited_ones(tmp_path):
    target = tmp_path / "w.md"
    write_file(target, "one")
    with pytest.raises(ChainruleError, match="exists; use --force"):
        write_file(target, "two")
    write_file(target, "two", force=True)
    assert target.read_text() == "two"
    mine = tmp_path / "mine.md"
    mine.write_text("mine")
    with pytest.raises(ChainruleError, match="chainrule did not write this file"):
        write_file(mine, "x", force=True)
    target.write_text("edited")
    with pytest.raises(ChainruleError, match="changed since"):
        write_file(target, "three", force=True)
    assert mine.read_text() == "mine" and target.read_text() == "edited"
    for bad in (tmp_path, tmp_path / "mine.md" / "sub.md", Path("/proc/x/y.md")):
        with pytest.raises(ChainruleError) as info:
            write_file(bad, "x")
        assert "\n" not in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == [MANIFEST, "mine.md", "w.md"]
