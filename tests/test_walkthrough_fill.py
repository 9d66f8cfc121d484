"""Walkthroughs rendered by structure (the template traced once, numbers filled in) are the
same text, byte for byte, as Jinja rendering each context, Markdown and LaTeX."""

from __future__ import annotations

from typing import Any

import pytest

from chainrule.problems.base import get_family, make_problems
from chainrule.render.environment import render
from chainrule.render.walkthrough import (
    fill_walkthroughs,
    render_walkthrough,
    render_walkthroughs,
    walkthrough_contexts,
)


def _problems(net: str, options: dict[str, Any], seeds: range) -> list[Any]:
    family = get_family("backprop")
    parsed = family.parse_options({"net": net, **options})
    return make_problems([(family, s, parsed, 3, None) for s in seeds])


@pytest.mark.parametrize("net, options", [
    ("2-2-1", {}), ("2-3-1", {"hidden": "tanh"}), ("3-2-2", {}),
    ("2-2-1", {"loss": "huber", "output": "linear"}), ("2-2-1", {"hidden": "relu"}),
    ("2-2-2", {"loss": "cce", "output": "softmax"}),
])
def test_markdown_by_structure_equals_jinja_and_is_filled(net, options, fillers):
    contexts = walkthrough_contexts(_problems(net, options, range(40)))
    expected = [render("md/walkthrough.md.j2", c) for c in contexts]
    assert fill_walkthroughs(contexts, "md") == expected
    assert fillers[-1].filled >= 20 and fillers[-1].plain == 0


def test_latex_and_a_mixed_batch_equal_jinja():
    problems = [*_problems("2-2-1", {}, range(12)), *_problems("2-3-1", {}, range(6))]
    for fmt in ("md", "tex"):
        assert render_walkthroughs(problems, fmt) == [render_walkthrough(p, fmt)
                                                      for p in problems]


def test_a_template_reading_the_problem_or_branching_on_numbers(tmp_path, fillers):
    (tmp_path / "md").mkdir()
    (tmp_path / "md" / "walkthrough.md.j2").write_text(
        "{{ id }} {% if records[0].rounded_text.startswith('-') %}negative{% else %}"
        "positive{% endif %} {{ records[0].value | fixed(2) }} ${{ eta }}$\n"
        "{% for s in forward %}{{ s.rounded_text }}{% if s.approx %}~{% endif %} {% endfor %}\n")
    problems = _problems("2-2-1", {}, range(30))
    folder = str(tmp_path)
    expected = [render_walkthrough(p, "md", templates_dir=folder) for p in problems]
    assert render_walkthroughs(problems, "md", templates_dir=folder) == expected
    (tmp_path / "md" / "walkthrough.md.j2").write_text("{{ problem.id }} {{ p.code }}\n")
    expected = [render_walkthrough(p, "md", templates_dir=folder) for p in problems]
    assert render_walkthroughs(problems, "md", templates_dir=folder) == expected
