"""Streamed problem sets: the same files, byte for byte, as the set rendered in memory.

Oracle: ``set_files`` (every problem drawn, then every document rendered whole), for every
family, several versions, chunks smaller than a version, and a user's template folder.
"""

from __future__ import annotations

import json
import shutil

import pytest

from chainrule.errors import ChainruleError
from chainrule.problems.base import FAMILIES, get_family
from chainrule.problems.spec import build_set, spec_from_options
from chainrule.render.environment import builtin_templates
from chainrule.render.stream import stream_set
from chainrule.render.writer import key_data, set_files


def every_family_spec(count=2, versions=2, seed=11):
    get_family("backprop")  # loads every family
    assert len(FAMILIES) >= 9
    spec = spec_from_options(sorted(FAMILIES), count, 0, 3, versions, "Every family", {})
    spec.seed = seed
    spec.meta = {"course": "Course & co", "instructions": "Show 100% of the work_"}
    return spec


def assert_same_files(folder, expected):
    written = {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir()
               if not p.name.startswith(".")}
    assert sorted(written) == sorted(expected)
    for name, text in expected.items():
        assert written[name] == text, name


@pytest.mark.parametrize(("versions", "chunk"), [(1, 200), (2, 3), (3, 7)])
def test_streamed_files_equal_the_in_memory_set(tmp_path, versions, chunk):
    spec = every_family_spec(versions=versions)
    expected = set_files(spec, build_set(spec))
    stream_set(spec, tmp_path / "set", chunk=chunk)
    assert_same_files(tmp_path / "set", expected)


def test_key_json_streamed_entry_by_entry_is_json_dumps_of_the_whole(tmp_path):
    spec = every_family_spec(count=3, versions=2)
    stream_set(spec, tmp_path / "set", chunk=5)
    text = (tmp_path / "set" / "key.json").read_text(encoding="utf-8")
    whole = key_data(spec, build_set(spec))
    assert text == json.dumps(whole, indent=2, ensure_ascii=False) + "\n"


def test_user_templates_are_used_when_streaming(tmp_path):
    user = tmp_path / "templates"
    (user / "md" / "families").mkdir(parents=True)
    source = builtin_templates() / "md" / "families" / "forward.md.j2"
    text = source.read_text(encoding="utf-8")
    # A template that branches on the numbers it prints.
    text = text.replace("{% macro solution(p) -%}", "{% macro solution(p) -%}\n"
                        "{% for s in p.steps %}{% if s.rounded_text.startswith('-') %}"
                        "(negative {{ s.name }}) {% endif %}{% endfor %}\n", 1)
    (user / "md" / "families" / "forward.md.j2").write_text(text, encoding="utf-8")
    shutil.copy(builtin_templates() / "md" / "questions.md.j2", user / "md" / "questions.md.j2")
    spec = spec_from_options(["forward", "backprop"], 6, 0, 3, 1, "Mine", {})
    expected = set_files(spec, build_set(spec), str(user))
    assert "(negative " in expected["solutions.md"]
    stream_set(spec, tmp_path / "set", templates_dir=str(user), chunk=4)
    assert_same_files(tmp_path / "set", expected)


def test_a_template_error_leaves_no_folder(tmp_path):
    user = tmp_path / "templates"
    (user / "md").mkdir(parents=True)
    (user / "md" / "solutions.md.j2").write_text(
        "{% for p in problems %}{{ p.no_such_field }}{% endfor %}", encoding="utf-8")
    spec = spec_from_options(["forward"], 30, 0, 3, 1, "Broken", {})
    with pytest.raises(ChainruleError, match="no_such_field"):
        stream_set(spec, tmp_path / "set", templates_dir=str(user), chunk=4)
    assert not (tmp_path / "set").exists()
    assert list(tmp_path.iterdir()) == [user.parent / "templates"]


@pytest.mark.parametrize("body", [
    "{% for p in problems %}{{ p.id }}{% endfor %}{% for p in problems %}{{ p.code }}{% endfor %}",
    "{{ problems[0].id }} of {{ problems | length }}\n{% for p in problems %}{{ p.id }}{% endfor %}",
])
def test_a_document_that_uses_its_problems_otherwise_is_rendered_whole(tmp_path, body):
    user = tmp_path / "templates"
    (user / "md").mkdir(parents=True)
    (user / "md" / "questions.md.j2").write_text(body, encoding="utf-8")
    spec = spec_from_options(["forward"], 5, 0, 3, 1, "Twice", {})
    expected = set_files(spec, build_set(spec), str(user))
    stream_set(spec, tmp_path / "set", templates_dir=str(user), chunk=2)
    assert_same_files(tmp_path / "set", expected)
