"""Rendering by structure then numbers gives the same bytes as rendering each problem.

Oracle: the plain renderer (``render`` / ``set_files``: every problem through its template,
as before), for every family and document, and for user templates that branch on numbers
in every way a template can (the fill follows them or falls back to the plain render).
"""

from __future__ import annotations

import random

import pytest

from chainrule.problems.base import FAMILIES, get_family
from chainrule.problems.spec import build_set, spec_from_options
from chainrule.render import fill
from chainrule.render.environment import builtin_templates, render
from chainrule.render.stream import stream_set
from chainrule.render.writer import set_files


def written(folder):
    return {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir()
            if not p.name.startswith(".")}


def counts(templates_dir=None):
    """(filled, traced, plain) summed over the Markdown and LaTeX fill environments."""
    total = [0, 0, 0]
    for fmt in ("md", "tex"):
        found = fill.filler_of(fill.fill_environment(fmt, templates_dir))
        for i, n in enumerate((found.filled, found.traced, found.plain)):
            total[i] += n
    return tuple(total)


@pytest.fixture(autouse=True)
def fresh_traces():
    fill.forget()
    yield
    fill.forget()


@pytest.mark.parametrize("seed", [3, 4])
def test_every_family_every_document_filled_equals_rendered(tmp_path, seed):
    get_family("backprop")
    families = sorted(FAMILIES)
    spec = spec_from_options(families, 5, 0, 3, 2, "Filled", {})
    spec.seed = seed
    expected = set_files(spec, build_set(spec))
    stream_set(spec, tmp_path / "set", chunk=7)
    assert written(tmp_path / "set") == expected
    filled, traced, plain = counts()
    assert filled > traced  # most problems filled from a trace, not rendered
    assert plain == 0


def test_many_backprop_problems_are_filled_from_few_traces(tmp_path):
    spec = spec_from_options(["backprop"], 60, 0, 3, 1, "Many", {})
    spec.seed = 8
    expected = set_files(spec, build_set(spec))
    stream_set(spec, tmp_path / "set")
    assert written(tmp_path / "set") == expected
    filled, traced, plain = counts()
    # md, tex: question twice, solution once; the key's row once
    assert (filled + traced, plain) == (2 * 3 * 60 + 60, 0)
    assert traced <= 12
    # About 60% of these problems write some step with "≈" and others with "=": both filled.
    solutions = expected["solutions.md"]
    assert "\\approx" in solutions and " = " in solutions


# A family template that uses its numbers in every way a template can.
BRANCHING = (
    '{% macro question(p) -%}\n'
    'Q {{ p.code }} {{ p.givens | map(attribute="value") | join(", ") }}\n'
    '{% for g in p.givens %}{% if g.value.startswith("-") %}minus {{ g.name }} {% endif %}'
    '{% endfor %}\n'
    '{%- endmacro %}\n'
    '{% macro solution(p) -%}\n'
    '{% set ns = namespace(total=0, longest="") %}\n'
    '{% for s in p.steps %}\n'
    '{% set ns.total = ns.total + s.value %}\n'
    '{% if s.rounded_text | length > ns.longest | length %}'
    '{% set ns.longest = s.rounded_text %}{% endif %}\n'
    '{% set boxed %}[{{ s.rounded_text }}]{% endset %}\n'
    '{{ s.name }}: {{ s.rounded_text }}{{ " (neg)" if s.value < 0 else "" }}'
    '{% if boxed | length > 7 %} long{% endif %}\n'
    ' {{ "%.2f" | format(s.value) }} {{ (s.value * 2) | round(1) }} {{ -s.rounded }} '
    '{{ s.rounded_text ~ "!" }}\n'
    '{% if s.rounded_text in ["0", "1", "0.5"] %} round{% endif %}'
    '{% if s.approx and s.value > 0.1 %} approx-positive{% endif %}\n'
    '{% if s.rounded_text[0] == "0" %} leading-zero{% endif %} '
    '{{ s.rounded_text | replace("0", "o") }}\n'
    '{% endfor %}\n'
    'total {{ "%.4f" | format(ns.total) }} longest {{ ns.longest }}\n'
    '{%- endmacro %}\n'
)

# Uses that a trace cannot follow: the whole macro is rendered as before.
OPAQUE = (
    '{% macro question(p) -%}\n'
    '{% for c in p.steps[0].rounded_text %}{{ c }}|{% endfor %} '
    '{{ {"0.5": "half"}.get(p.steps[0].rounded_text, "other") }}\n'
    '{%- endmacro %}\n'
    '{% macro solution(p) -%}\n'
    '{% for s in p.steps %}{{ s.rounded_text }} {% endfor %}\n'
    '{%- endmacro %}\n'
)


# Templates that change things as they go: lists, namespaces, joiners, inline ifs.
MUTATING = (
    '{% macro add(ns, v) %}{% set ns.total = ns.total + v %}{% endmacro %}\n'
    '{% macro question(p) -%}\n'
    '{% set xs = [] %}{% set ns = namespace(total=0) %}\n'
    '{% for s in p.steps %}{% set _ = xs.append(s.value) %}{{ add(ns, s.value) }}'
    '{{ s.name }} {% endfor %}\n'
    '{{ xs | length }} {{ "%.3f" | format(xs | sum) }} {{ "%.3f" | format(ns.total) }}\n'
    '{%- endmacro %}\n'
    '{% macro solution(p) -%}\n'
    '{% set xs = [] %}{% set j = joiner(", ") %}{% set s = p.steps[0] %}\n'
    '{{ xs.append(1) if s.value > 100 else "" }}{{ j() if s.rounded_text > "z" else "" }}'
    '{{ xs | length }}{{ j() }}\n'
    '{%- endmacro %}\n'
)


def user_templates(tmp_path, body):
    user = tmp_path / "templates"
    (user / "md" / "families").mkdir(parents=True)
    (user / "md" / "families" / "forward.md.j2").write_text(body, encoding="utf-8")
    return str(user)


@pytest.mark.parametrize("body", [BRANCHING, OPAQUE, MUTATING],
                         ids=["branching", "opaque", "mutating"])
def test_user_templates_that_branch_on_numbers(tmp_path, body):
    user = user_templates(tmp_path, body)
    spec = spec_from_options(["forward", "backprop"], 30, 0, 3, 1, "Mine", {})
    spec.seed = 21
    expected = set_files(spec, build_set(spec), user)
    stream_set(spec, tmp_path / "set", templates_dir=user, chunk=9)
    assert written(tmp_path / "set") == expected
    filled, _, plain = counts(fill_dir(user))
    assert filled > 0
    if body is OPAQUE:
        assert plain > 0  # the fallback taken
    if body is BRANCHING:
        text = expected["solutions.md"]
        assert " (neg)" in text and " long" in text and "minus " in expected["questions.md"]


def fill_dir(user):
    from pathlib import Path

    return str(Path(user).resolve())


WALK = r"""# {{ title }}
{% for s in steps %}
{{ loop.index }}. ${{ s.tex }} = {{ s.text }}${{ " (exact)" if s.exact else "" }}
{%- if s.value > 1 %} big{% elif s.value < -1 %} small{% endif %}
{% endfor %}
{% if steps | selectattr("exact") | list | length > 1 %}several exact{% endif %}
"""


def test_render_filled_equals_render_for_random_numbers(tmp_path):
    user = tmp_path / "templates"
    (user / "md").mkdir(parents=True)
    (user / "md" / "walk.md.j2").write_text(WALK, encoding="utf-8")
    rng = random.Random(5)
    filler = fill.Filler()
    for _ in range(200):
        steps = []
        for j in range(2):
            value = rng.choice([rng.uniform(-3, 3), round(rng.uniform(-3, 3), 1), 0.0])
            steps.append({"tex": f"x_{j}", "value": value, "text": f"{value:.3f}",
                          "exact": value == round(value, 1)})
        context = {"title": "Walk", "steps": steps}
        holes = fill.Holes(keys={"text", "exact"}, under=set())
        got = fill.render_filled("md/walk.md.j2", context, filler, user, holes=holes)
        assert got == render("md/walk.md.j2", context, user)
    # 3 x 3 ways past the ifs on value, 2 x 2 on exact: at most 36 traces.
    assert filler.traced <= 36 and filler.filled >= 164 and filler.plain == 0


def test_builtin_templates_are_what_the_plain_environment_renders():
    """The fill environment without stand-ins renders every built-in template the same."""
    names = [p.relative_to(builtin_templates()).as_posix()
             for p in builtin_templates().rglob("*.j2")
             if p.parts[-2] in ("md", "tex") and not p.name.startswith("_")]
    assert len(names) >= 10
    spec = spec_from_options(["backprop", "concept"], 2, 0, 3, 1, "Plain", {})
    contexts = [fill.ProblemContext(c) for c in _contexts(spec)]
    for kind in ("questions", "solutions"):
        for fmt in ("md", "tex"):
            name = f"{fmt}/{kind}.{fmt}.j2"
            data = {"title": "T", "version": None, "instructions": "", "meta": {},
                    "problems": contexts}
            from chainrule.render.environment import render_pieces

            assert "".join(render_pieces(name, data, fill=True)) == \
                "".join(render_pieces(name, data))


def _contexts(spec):
    from chainrule.render.problemset import problem_context

    return [problem_context(p) for ps in build_set(spec).values() for p in ps]
