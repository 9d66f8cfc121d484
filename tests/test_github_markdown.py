"""Every Markdown file chainrule writes survives GitHub's parser (cmark-gfm): each display
equation comes out of it character for character as the LaTeX it was printed from."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

cmarkgfm = pytest.importorskip("cmarkgfm")

from chainrule.cli import main  # noqa: E402
from chainrule.render.environment import github_math  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
_FENCE = re.compile(r"^```math\n(.*?)\n```$", re.S | re.M)
_PRE = re.compile(r'<pre lang="math"><code>(.*?)</code></pre>', re.S)


def equations_survive(markdown: str) -> int:
    """How many display equations the text has; fails if cmark-gfm changes one."""
    assert "$$" not in markdown
    written = _FENCE.findall(markdown)
    parsed = [html.unescape(m).rstrip("\n") for m in _PRE.findall(
        cmarkgfm.github_flavored_markdown_to_html(markdown))]
    assert parsed == written
    return len(written)


def test_the_hazards_github_would_alter_are_fenced():
    text = github_math("a\n\n$$\n\\hat{y}_{i} + {y}_{k} \\\\ B = \\{1, 2\\}\n$$\n\nb $$x_{1}$$ c")
    assert equations_survive(text) == 2
    # unfenced, cmark-gfm reads }_{ as emphasis and \{ as an escaped brace
    raw = cmarkgfm.github_flavored_markdown_to_html("$$\n\\hat{y}_{i} + {y}_{k} \\{\n$$")
    assert "<em>" in raw and "\\{" not in raw


def test_every_markdown_output_keeps_its_equations(tmp_path):
    runner = CliRunner()
    out = tmp_path / "set"
    assert runner.invoke(main, ["generate", str(ROOT / "examples" / "exam.yaml"), "--out",
                                str(out)]).exit_code == 0
    total = 0
    for md in sorted(out.glob("*.md")):
        total += equations_survive(md.read_text(encoding="utf-8"))
    assert total >= 150
    for args in (["walkthrough", "--givens", str(ROOT / "examples" / "notes-2-2-1.yaml")],
                 ["walkthrough", "--seed", "3", "--net", "2-3-2", "--loss", "cce"],
                 ["derive", "huber", "--format", "md"],
                 ["derive", "--net", "2-2-1", "--chain", "w11", "--format", "md"],
                 ["losses", "--format", "md"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 0, (args, result.output)
        equations_survive(result.output)
