"""Streamed problem sets: the same files, byte for byte, as the set rendered in memory.

Oracle: ``set_files`` (every problem drawn, then every document rendered whole), for every
family, several versions, chunks smaller than a version, and a user's template folder.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.errors import ChainruleError
from chainrule.problems.base import FAMILIES, get_family
from chainrule.problems.spec import build_set, spec_from_options
from chainrule.render.environment import MarkdownMath, builtin_templates, github_math
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
    "{{ problems[0].id }} of {{ problems | length }}\n"
    "{% for p in problems %}{{ p.id }}{% endfor %}",
])
def test_a_document_that_uses_its_problems_otherwise_is_rendered_whole(tmp_path, body):
    user = tmp_path / "templates"
    (user / "md").mkdir(parents=True)
    (user / "md" / "questions.md.j2").write_text(body, encoding="utf-8")
    spec = spec_from_options(["forward"], 5, 0, 3, 1, "Twice", {})
    expected = set_files(spec, build_set(spec), str(user))
    stream_set(spec, tmp_path / "set", templates_dir=str(user), chunk=2)
    assert_same_files(tmp_path / "set", expected)


def test_exam_spec_streamed_through_the_command_equals_the_in_memory_set(tmp_path):
    from click.testing import CliRunner

    from chainrule.cli import main
    from chainrule.problems.spec import load_spec

    exam = Path(__file__).resolve().parents[1] / "examples" / "exam.yaml"

    spec = load_spec(exam)
    assert spec.versions == 2
    expected = set_files(spec, build_set(spec))
    result = CliRunner().invoke(main, ["generate", str(exam), "--out", str(tmp_path / "set")])
    assert result.exit_code == 0, result.output
    assert_same_files(tmp_path / "set", expected)


_PIECES = st.lists(st.sampled_from(["$", "$$", "\n", "\n\n", "```", "```math\n", "`", "|",
                                    " ", "x", "a_{1}", "\\$", "\\\\", "| $a|b$ |", "\n$$\n"]),
                   max_size=60)


@settings(max_examples=300, deadline=None)
@given(_PIECES, st.integers(1, 40))
def test_markdown_math_piece_by_piece_is_github_math_of_the_whole(pieces, hold):
    """Oracle: github_math of the whole text (what render() does)."""
    math = MarkdownMath(hold=hold)
    streamed = "".join(math.feed(piece) for piece in pieces) + math.finish()
    assert streamed == github_math("".join(pieces))


def test_markdown_math_settles_text_as_it_comes():
    math = MarkdownMath(hold=100)
    line = "A line with $a_{1} = 2$ and more.\n"
    out = [math.feed(line) for _ in range(100)]
    assert sum(len(o) for o in out) > 0.9 * len(line) * 100 - 200
    assert "".join(out) + math.finish() == github_math(line * 100)


def test_markdown_math_holds_a_bounded_part_of_a_long_document():
    """A solutions-like document of 3,000 problems: what is held back never grows."""
    block = ("## Problem {i}\n\nA network; given $x_1 = 0.5$:\n\n1. compute $L$;\n"
             "2. compute $\\delta_j$.\n\n**Forward pass.**\n\n"
             + "$$\nz_{1} = w_{11} x_{1} = (0.2)(0.5) = 0.1\n\n$$\n\n" * 40)
    math = MarkdownMath()
    fed = emitted = held = 0
    pieces = []
    for i in range(3000):
        text = block.replace("{i}", str(i))
        fed += len(text)
        out = math.feed(text)
        emitted += len(out)
        pieces.append(out)
        held = max(held, fed - emitted)
    assert held < 300_000  # the whole document is 3000 * 2 KB
    whole = "".join(block.replace("{i}", str(i)) for i in range(3000))
    assert "".join(pieces) + math.finish() == github_math(whole)
