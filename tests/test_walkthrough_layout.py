"""Walkthroughs filled from a plan's layout (hole values taken straight from a variant's
numbers, no context walked) are the same as walking each context: the same hole values in
the same order, a structure key that decides the walk's, and the same texts as Jinja."""

from __future__ import annotations

from typing import Any

import pytest

from chainrule.problems.base import get_family, make_problems
from chainrule.render import fill
from chainrule.render import walkthrough as wt
from chainrule.render.environment import render
from chainrule.render.walkthrough import render_walkthrough, render_walkthroughs

NETS = [
    ("2-2-1", {}), ("2-3-1", {"hidden": "tanh"}), ("3-2-2", {}),
    ("2-2-1", {"loss": "huber", "output": "linear"}), ("2-2-1", {"hidden": "relu"}),
    ("2-2-2", {"loss": "cce", "output": "softmax"}), ("2-3-2-1", {}),
    ("2-2-1", {"loss": "mse", "output": "linear"}),
]


def _problems(net: str, options: dict[str, Any], seeds: range, decimals: int = 3) -> list[Any]:
    family = get_family("backprop")
    parsed = family.parse_options({"net": net, **options})
    return make_problems([(family, s, parsed, decimals, None) for s in seeds])


def _laid_out(problems: list[Any], read: frozenset[str], iterations: int = 1,
              ) -> list[tuple[Any, list[Any], dict[str, Any]]]:
    """Per problem: the layout's key and holes, and the context the plan builds."""
    holes = wt._holes()
    found = []
    for problem, after in zip(problems, wt._after_rows(problems), strict=True):
        plan = wt._plan(problem)
        args = plan.arguments(problem, after, iterations, "chains" in read)
        if "p" in read:
            args = (args[0], dict(args[1]), *args[2:])
        layout = plan.layout(read, holes, iterations)
        key, values = layout.split(*args)
        context = {k: v for k, v in plan.build(*args).items() if k in read}
        found.append(((layout, key), values, context))
    return found


@pytest.mark.parametrize("net, options", NETS)
@pytest.mark.parametrize("decimals", [2, 4])
def test_layout_holes_are_the_walks_and_its_key_decides_the_walks(net, options, decimals):
    read = wt._names_read("md/walkthrough.md.j2", "md", None)
    assert read is not None
    by_key: dict[Any, Any] = {}
    for key, values, context in _laid_out(_problems(net, options, range(20), decimals), read):
        walked_key, walked = fill._split(context, wt._holes())
        assert [type(v) for v in values] == [type(v) for v in walked]
        assert values == walked
        # equal layout keys, equal walked keys (the converse need not hold)
        assert by_key.setdefault(key, walked_key) == walked_key


def test_every_name_a_template_may_read_is_laid_out_as_walked():
    problems = _problems("2-3-1", {}, range(8))
    every = frozenset(wt.walkthrough_context(problems[0])) - {"problem"}
    for iterations in (1, 3):
        for _key, values, context in _laid_out(problems, every, iterations):
            assert fill._split(context, wt._holes())[1] == values
            assert "p" in context and "chains" in context


@pytest.mark.parametrize("net, options", NETS)
def test_rendered_from_layouts_equals_jinja(net, options):
    problems = _problems(net, options, range(25))
    for fmt in ("md", "tex"):
        expected = [render(f"{fmt}/walkthrough.{fmt}.j2", wt.walkthrough_context(p))
                    for p in problems]
        assert render_walkthroughs(problems, fmt) == expected


def test_iterations_and_templates_reading_other_names(tmp_path):
    problems = _problems("2-2-1", {}, range(25))
    assert render_walkthroughs(problems, "md", iterations=3) == [
        render_walkthrough(p, "md", iterations=3) for p in problems]
    (tmp_path / "md").mkdir()
    folder = str(tmp_path)
    for text in [
        "{{ title }} {{ decimals }} {{ id }} {{ p.code }} {{ after_down }}\n",
        "{% for c in chains %}{{ c.product }}={{ c.key }};{% endfor %} {{ eta }}\n",
        "{{ after | tojson }} {{ conventions | length }} {{ iterations }}\n",
        "{% for r in records %}{{ r.value }} {{ r.approx }} {{ r.asked }}|{% endfor %}\n",
    ]:
        (tmp_path / "md" / "walkthrough.md.j2").write_text(text)
        expected = [render_walkthrough(p, "md", templates_dir=folder) for p in problems]
        assert render_walkthroughs(problems, "md", templates_dir=folder) == expected


def test_given_holes_that_are_not_the_walks_are_never_filled():
    """A caller's wrong hole values are caught where the structure is traced: the text is
    rendered from the context, and that structure is not filled again."""
    env = fill.fill_environment("md")
    template = env.from_string("{{ value }} and {{ code }}")
    filler = fill.Filler()

    def plain(ctx: dict[str, Any]) -> str:
        return template.render(**ctx)

    context = {"value": "1.5", "code": "2.5", "x": 0.5}
    assert fill._split(context, fill.NUMBER_HOLES)[1] == ["1.5", "2.5", 0.5]
    wrong = [0.5, "1.5", "2.5"]
    assert filler.render_split(plain, lambda: context, "key", wrong) == "1.5 and 2.5"
    assert filler.traced == 0 and filler.plain == 1
    other = {"value": "7", "code": "8", "x": 0.5}
    assert filler.render_split(plain, lambda: other, "key", ["7", "8", 0.5]) == "7 and 8"
    assert filler.filled == 0 and filler.plain == 2
    right = fill.Filler()
    assert right.render_split(plain, lambda: context, "key", ["1.5", "2.5", 0.5]) == \
        "1.5 and 2.5"
    assert right.render_split(plain, lambda: other, "key", ["7", "8", 0.5]) == "7 and 8"
    assert right.traced == 1 and right.filled == 1


def test_a_layout_rejects_what_it_cannot_lay_out():
    holes = fill.Holes()
    with pytest.raises(ValueError):  # a container part below the top level
        fill.Layout({"a": {"b": fill.Part("x", None)}}, holes, ["x"])
    with pytest.raises(fill._Hollow):
        fill.Layout({"a": object()}, holes, [])
    layout = fill.Layout({"a": {"value": fill.Part("x", float), "tex": "t"},
                          "n": fill.Part("n", int), "c": 0.25}, holes, ["x", "n"])
    assert layout.split(1.5, 3) == ((3,), [1.5, 0.25])
    assert fill._split({"a": {"value": 1.5, "tex": "t"}, "n": 3, "c": 0.25}, holes)[1] == \
        [1.5, 0.25]


def test_a_list_of_texts_is_structure_where_texts_are_not_holes():
    holes = fill.Holes(under={"after"})
    layout = fill.Layout({"notes": fill.Part("n", list), "value": fill.Part("v", str)},
                         holes, ["n", "v"])
    assert layout.split(["a", "b"], "1.5") == ((("a", "b"),), ["1.5"])
    assert fill._split({"notes": ["a", "b"], "value": "1.5"}, holes)[1] == ["1.5"]
    with pytest.raises(fill._Hollow):  # a number in it would be a hole
        layout.split(["a", 0.5], "1.5")
    for where in ("after", "value"):
        with pytest.raises(ValueError):
            fill.Layout({where: fill.Part("n", list)}, holes, ["n"])


def test_the_problem_context_under_p_holds_its_holes_as_a_set_documents_does():
    from chainrule.render.problemset import problem_context

    problems = _problems("2-3-1", {}, range(6))
    inner = fill.Holes(keys=fill.NUMBER_KEYS, under={"drawing"})
    outer = fill.Holes(keys=fill.NUMBER_KEYS, under={"drawing"}, roots={"p"})
    keys = set()
    for problem in problems * 2:  # met twice: the second time through a splitter
        context = dict(problem_context(problem))
        key, values = fill._split_fast({"p": context, "n": 2}, outer)
        assert values == fill._split(context, inner)[1]
        assert any(isinstance(v, str) and "=" in v for v in values)  # the drawing's labels
        keys.add(key)
        assert fill._split({"p": context}, fill.Holes(under={"drawing"}))[1] != values
    assert len(keys) == 1


def test_latex_walkthroughs_are_filled_not_traced_one_by_one(fillers):
    made = fillers
    problems = _problems("2-2-1", {}, range(40))
    expected = [render("tex/walkthrough.tex.j2", wt.walkthrough_context(p)) for p in problems]
    assert render_walkthroughs(problems, "tex") == expected
    assert made[-1].traced <= 2 and made[-1].filled >= 38 and made[-1].plain == 0
