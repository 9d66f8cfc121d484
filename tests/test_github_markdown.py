"""Every Markdown file chainrule writes survives GitHub's parser (cmark-gfm): each display
and inline equation comes out of it character for character as the LaTeX it was printed
from."""

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
_INLINE = re.compile(r"\$`([^`\n]+)`\$")
_INLINE_HTML = re.compile(r"\$<code>(.*?)</code>\$", re.S)
_GFM = cmarkgfm.cmark.Options.CMARK_OPT_UNSAFE


def _inline_written(markdown: str) -> list[str]:
    """The inline math of ``markdown`` as GitHub will read it (a table row's ``\\|`` is |)."""
    spans = []
    for line in markdown.split("\n"):
        table = line.lstrip().startswith("|")
        spans += [m.replace("\\|", "|") if table else m for m in _INLINE.findall(line)]
    return spans


def equations_survive(markdown: str) -> int:
    """How many display and inline equations the text has; fails if cmark-gfm changes one."""
    assert "$$" not in markdown
    page = cmarkgfm.github_flavored_markdown_to_html(markdown, options=_GFM)
    written = _FENCE.findall(markdown)
    parsed = [html.unescape(m).rstrip("\n") for m in _PRE.findall(page)]
    assert parsed == written
    inline = _inline_written(re.sub(r"^```.*?^```$", "", markdown, flags=re.S | re.M))
    assert [html.unescape(m) for m in _INLINE_HTML.findall(page)] == inline
    # no math is left outside a code span, where emphasis or escapes could reach it
    prose = re.sub(r"<pre.*?</pre>|\$<code>.*?</code>\$|<code>.*?</code>", "", page, flags=re.S)
    assert "$" not in prose, prose[max(prose.find("$") - 80, 0):prose.find("$") + 80]
    return len(written) + len(inline)


def test_the_hazards_github_would_alter_are_fenced():
    text = github_math("a\n\n$$\n\\hat{y}_{i} + {y}_{k} \\\\ B = \\{1, 2\\}\n$$\n\nb $$x_{1}$$ c")
    assert equations_survive(text) == 2
    # unfenced, cmark-gfm reads }_{ as emphasis and \{ as an escaped brace
    raw = cmarkgfm.github_flavored_markdown_to_html("$$\n\\hat{y}_{i} + {y}_{k} \\{\n$$")
    assert "<em>" in raw and "\\{" not in raw


def test_inline_math_is_a_code_span_github_leaves_alone():
    raw = ("Here $\\hat{y}_{1}$ and $w_{1}$, $\\{a\\}$, $a \\\\ b$, $x*y*z$.\n\n"
           "| $|x|$ | `$k$` |\n|---|---|\n")
    text = github_math(raw)
    assert equations_survive(text) == 6
    assert "`$k$`" in text  # code is not math
    written = [m.replace("\\|", "|") for m in _INLINE.findall(text)]
    assert written == ["\\hat{y}_{1}", "w_{1}", "\\{a\\}", "a \\\\ b", "x*y*z", "|x|"]
    # left as $...$, cmark-gfm changes them: emphasis, lost backslashes
    page = cmarkgfm.github_flavored_markdown_to_html(raw)
    assert "<em>" in page and "\\{a" not in page


def test_every_markdown_output_keeps_its_equations(tmp_path):
    runner = CliRunner()
    out = tmp_path / "set"
    assert runner.invoke(main, ["generate", str(ROOT / "examples" / "exam.yaml"), "--out",
                                str(out)]).exit_code == 0
    total = 0
    files = sorted(out.glob("*.md"))
    # questions and solutions of both versions, every family of the notes in each
    assert {f.name for f in files} >= {"questions-A.md", "questions-B.md", "solutions-A.md",
                                       "solutions-B.md"}
    for md in files:
        text = md.read_text(encoding="utf-8")
        total += equations_survive(text)
    assert total >= 400
    solutions = (out / "solutions-A.md").read_text(encoding="utf-8")
    assert len(_INLINE.findall(solutions)) >= 100
    (tmp_path / "class.csv").write_text("id,z1,a1,yhat\ns1,0.3,0.574,0.748\ns2,0.3,0.5,0.73\n",
                                        encoding="utf-8")
    notes = str(ROOT / "examples" / "notes-2-2-1.yaml")
    for args in (["walkthrough", "--givens", str(ROOT / "examples" / "notes-2-2-1.yaml")],
                 ["walkthrough", "--seed", "3", "--net", "2-3-2", "--loss", "cce"],
                 ["derive", "huber", "--format", "md"],
                 ["derive", "--net", "2-2-1", "--chain", "w11", "--format", "md"],
                 ["losses", "--format", "md"],
                 ["walkthrough", "--seed", "5", "--net", "2-2-1", "--loss", "mse",
                  "--format", "md"],
                 ["check", notes, str(ROOT / "examples" / "notes-answers.txt"), "--format", "md"],
                 ["check", notes, str(tmp_path / "class.csv"), "--batch", "--format", "md"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 0, (args, result.output)
        equations_survive(result.output)
