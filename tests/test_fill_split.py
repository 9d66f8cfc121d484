"""A structure's compiled splitter is exactly as strict as the structure key, and the answer
key rendered by structure is the key as it was.

Oracles: Jinja rendering each context directly (``render``), the generic walk
(:func:`fill._split`: the splitter must accept exactly the contexts it gives the traced key,
with the same hole values), and the answer-key template as it was before its rows became a
macro (kept here, rendered as a user template by plain Jinja).
"""

from __future__ import annotations

import copy
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.problems.base import FAMILIES, get_family
from chainrule.problems.spec import build_set, spec_from_options
from chainrule.render import fill
from chainrule.render.environment import render, render_pieces
from chainrule.render.problemset import problem_context


@pytest.fixture(autouse=True)
def fresh_traces():
    fill.forget()
    yield
    fill.forget()


HOLES = fill.Holes(keys={"value", "text"}, under={"drawing"})


def base() -> dict:
    shared = {"name": "w", "value": 0.5}
    return {
        "title": "T", "count": 3, "flag": True, "none": None, "ratio": 0.25,
        "steps": [{"name": "a", "value": 1.5, "text": "1.5", "n": 1},
                  {"name": "b", "value": -2.0, "text": "-2", "n": 2}],
        "pair": (1, "x"),
        "drawing": {"label": "z", "on": False, "at": [0.1, 0.2]},
        "left": shared, "right": shared,
        "apart": [{"k": 1}, {"k": 1}],
        "empty": [], "nothing": {},
    }


def _leaves(item, path=()):
    """Paths to every leaf (not container) of ``item``."""
    if type(item) is dict:
        for k, v in item.items():
            yield from _leaves(v, (*path, k))
    elif type(item) in (list, tuple):
        for i, v in enumerate(item):
            yield from _leaves(v, (*path, i))
    else:
        yield path


def _at(item, path):
    for p in path:
        item = item[p]
    return item


def _set(item, path, value):
    """``item`` with ``value`` at ``path`` (tuples rebuilt, everything else in place)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if type(item) is tuple:
        items = list(item)
        items[head] = _set(item[head], rest, value)
        return tuple(items)
    item[head] = _set(item[head], rest, value)
    return item


# Each way to change one thing; the structure key decides whether it still matches.
OTHERS = [0, 1, 2, -1, 1.0, 0.0, 2.5, True, False, None, "1", "a", "", "x", (1,), [0], {}]


def mutations():
    """(label, context) for every single change of :func:`base` this test makes."""
    made = [("same", base())]
    for path in _leaves(base()):
        for other in OTHERS:
            context = base()
            made.append((f"{path}={other!r}", _set(context, path, copy.deepcopy(other))))
    for key in list(base()):  # a top-level key moved last
        context = base()
        context[key] = context.pop(key)
        made.append((f"move {key}", context))
    context = base()
    step = context["steps"][0]
    context["steps"][0] = {k: step[k] for k in reversed(list(step))}
    made.append(("key order in a step", context))
    context = base()
    context["steps"].append(dict(context["steps"][1]))
    made.append(("a longer list", context))
    context = base()
    context["steps"].pop()
    made.append(("a shorter list", context))
    context = base()
    context["right"] = dict(context["left"])
    made.append(("shared made apart", context))
    context = base()
    context["apart"][1] = context["apart"][0]
    made.append(("apart made shared", context))
    context = base()
    context["steps"][1] = context["left"]
    made.append(("a step is the shared dict", context))
    context = base()
    context["pair"] = list(context["pair"])
    made.append(("tuple made list", context))
    context = base()
    context["nothing"] = []
    made.append(("empty dict made list", context))
    context = base()
    context[1] = "int key"
    made.append(("an int key", context))
    return made


def _agree(split, traced, context):
    """The splitter's answer for ``context`` is the generic walk's."""
    try:
        key, values = fill._split(context, HOLES)
    except fill._Hollow:
        assert split(context) is None
        return
    assert split(context) == (values if key == traced else None)


@pytest.mark.parametrize(("label", "context"), mutations(), ids=lambda x: x
                         if isinstance(x, str) else "")
def test_splitter_accepts_exactly_the_contexts_of_its_structure(label, context):
    traced, values = fill._split(base(), HOLES)
    split = fill._splitter(traced, HOLES, values)
    _agree(split, traced, context)


def test_the_mutations_cover_both_outcomes():
    traced, values = fill._split(base(), HOLES)
    split = fill._splitter(traced, HOLES, values)
    outcomes = [split(c) is not None for _, c in mutations()]
    assert sum(outcomes) >= 10 and len(outcomes) - sum(outcomes) >= 100


# A template that writes everything it is given (types show: 1, 1.0, True, '1'), in order,
# and changes one list it is given before it writes another (sharing shows).
DUMP = r"""{% macro dump(x) %}{% if x is mapping %}{{ "{" }}{% for k, v in x.items() -%}
{{ k }}={{ dump(v) }},{% endfor %}{{ "}" }}{% elif x is string %}'{{ x }}'
{%- elif x is sequence %}[{% for v in x %}{{ dump(v) }};{% endfor %}]{% else %}{{ x }}
{%- endif %}{% endmacro -%}
{% if left is mapping and left.extra is defined %}{% set _ = left.extra.append(7) %}{% endif -%}
{{ right.extra | length if right is mapping and right.extra is defined else "-" }}
{% for k in keys %}{{ k }}: {{ dump(ctx[k]) }}
{% endfor %}"""


def _dump_dir(tmp_path):
    user = tmp_path / "templates"
    (user / "md").mkdir(parents=True, exist_ok=True)
    (user / "md" / "dump.md.j2").write_text(DUMP, encoding="utf-8")
    return str(user)


def _by_jinja_and_by_structure(context, filler, user):
    data = {"keys": list(context), "ctx": context, "left": context.get("left"),
            "right": context.get("right")}
    expected = render("md/dump.md.j2", copy.deepcopy(data), user)
    got = fill.render_filled("md/dump.md.j2", copy.deepcopy(data), filler, user, holes=HOLES)
    return got, expected


def test_filled_texts_equal_jinja_for_every_single_change(tmp_path):
    user = _dump_dir(tmp_path)
    filler = fill.Filler()
    for _ in range(2):  # traced, then met again: its splitter is made
        got, expected = _by_jinja_and_by_structure(base(), filler, user)
        assert got == expected
    assert fill._SPLITTERS.get(HOLES)
    for label, context in mutations():
        got, expected = _by_jinja_and_by_structure(context, filler, user)
        assert got == expected, label
    assert filler.filled >= 10


def test_sharing_shows_in_the_text_and_is_part_of_the_structure(tmp_path):
    user = _dump_dir(tmp_path)
    filler = fill.Filler()
    together = base()
    together["left"]["extra"] = []
    apart = base()
    apart["left"]["extra"] = []
    apart["right"] = copy.deepcopy(apart["left"])
    texts = set()
    # each met twice (its splitter made), then each against the other's splitter
    for context in (together, together, apart, apart, together, apart, together):
        got, expected = _by_jinja_and_by_structure(context, filler, user)
        assert got == expected
        texts.add(got.split("\n", 1)[0])
    assert texts == {"1", "0"}  # the change to one list shows in the other only when shared


leaf = st.one_of(st.integers(-3, 3), st.floats(allow_nan=False, width=32), st.booleans(),
                 st.none(), st.sampled_from(["", "a", "1.5", "x"]))
names = st.sampled_from(["value", "text", "name", "n", "drawing", "a"])
tree = st.recursive(leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.lists(inner, max_size=2).map(tuple),
    st.dictionaries(names, inner, max_size=4)), max_leaves=12)
contexts = st.dictionaries(names, tree, min_size=1, max_size=4)


@settings(max_examples=150, deadline=None)
@given(contexts, st.randoms(use_true_random=False))
def test_random_contexts_and_changes_agree_with_the_walk(context, rng):
    traced, values = fill._split(context, HOLES)
    split = fill._splitter(traced, HOLES, values)
    assert split(context) == fill._split(context, HOLES)[1]
    for _ in range(8):
        changed = copy.deepcopy(context)
        paths = list(_leaves(changed))
        if rng.random() < 0.7 and paths and paths != [()]:
            path = rng.choice(paths)
            changed = _set(changed, path, copy.deepcopy(rng.choice(OTHERS)))
        elif len(changed) > 1:
            key = rng.choice(list(changed))
            changed[key] = changed.pop(key)
        _agree(split, traced, changed)


@settings(max_examples=60, deadline=None)
@given(st.lists(contexts, min_size=1, max_size=4), st.randoms(use_true_random=False))
def test_random_contexts_by_structure_equal_jinja(tmp_path_factory, batch, rng):
    user = _dump_dir(tmp_path_factory.mktemp("dump"))
    filler = fill.Filler()
    fill.forget()
    for context in batch:
        for version in (context, copy.deepcopy(context), _renumbered(context, rng)):
            got, expected = _by_jinja_and_by_structure(version, filler, user)
            assert got == expected


def _renumbered(item, rng):
    """``item`` with other numbers in its floats (its holes)."""
    if type(item) is dict:
        return {k: _renumbered(v, rng) for k, v in item.items()}
    if type(item) is list:
        return [_renumbered(v, rng) for v in item]
    if type(item) is tuple:
        return tuple(_renumbered(v, rng) for v in item)
    if type(item) is float:
        return rng.choice([0.5, -1.25, 3.0, 1e-7])
    return item


def _old_key(tmp_path):
    """A templates folder with the answer key's template as it was before its rows became
    tex/_key.tex.j2's macro (tests/data/key-before-rows.tex.j2)."""
    old = (Path(__file__).parent / "data" / "key-before-rows.tex.j2").read_text(
        encoding="utf-8")
    user = tmp_path / "old"
    (user / "tex").mkdir(parents=True)
    (user / "tex" / "key.tex.j2").write_text(old, encoding="utf-8")
    return str(user)


def _key_data(contexts, versions):
    per = len(contexts) // versions
    return {"title": "Key", "meta": {"course": "C"}, "versions": [
        {"letter": "AB"[i] if versions > 1 else None,
         "problems": contexts[i * per:(i + 1) * per]} for i in range(versions)]}


@pytest.mark.parametrize(("families", "options", "versions"), [
    (None, {}, 2), (["backprop"], {"net": "2-4-2"}, 1), (["backprop"], {}, 1)])
def test_the_key_by_structure_is_the_key_as_it_was(tmp_path, families, options, versions):
    get_family("backprop")
    spec = spec_from_options(families or sorted(FAMILIES), 4, 0, 3, versions, "Key", options)
    spec.seed = 11
    problems = [p for ps in build_set(spec).values() for p in ps]
    contexts = [fill.ProblemContext(problem_context(p)) for p in problems]
    data = _key_data(contexts, versions)
    old = render("tex/key.tex.j2", data, _old_key(tmp_path))
    assert render("tex/key.tex.j2", data) == old
    assert "".join(render_pieces("tex/key.tex.j2", data, fill=True)) == old
    assert "".join(render_pieces("tex/key.tex.j2", data, fill=True)) == old  # filled again
    if options:
        assert "(cont.)" in old  # more than 36 answers: rows go on
    found = fill.filler_of(fill.fill_environment("tex"))
    assert found.filled >= len(contexts) and found.plain == 0


def test_random_set_key_equals_the_old_key(tmp_path):
    get_family("backprop")
    spec = spec_from_options(["backprop", "forward", "gd_step"], 5, 0, 3, 1, "Key", {})
    user = _old_key(tmp_path)
    rng = random.Random(3)
    for _ in range(3):
        spec.seed = rng.randrange(10**6)
        problems = [p for ps in build_set(spec).values() for p in ps]
        data = _key_data([fill.ProblemContext(problem_context(p)) for p in problems], 1)
        assert "".join(render_pieces("tex/key.tex.j2", data, fill=True)) == \
            render("tex/key.tex.j2", data, user)


# A user's questions document whose per-problem text is a macro of another template given the
# problem and then texts, integers and truth values: each of those is part of the structure.
QUESTIONS = """{% import "md/_mine.md.j2" as mine %}# {{ title }}
{% for p in problems %}
{{ mine.line(p, "Q" ~ (loop.index % 2), loop.index % 3, loop.first, none) }}
{% endfor %}
"""
MINE = """{% macro line(p, label, third, first, nothing) -%}
{{ label }}{{ " (first)" if first }} [{{ third }}] {{ p.code }}: {% for s in p.steps -%}
{{ s.rounded_text }}{{ "*" if third == 1 and s.value > 0 else "" }} {% endfor %}
{%- if nothing is none %}.{% endif %}
{%- endmacro %}
"""


def test_a_macro_given_a_problem_and_plain_values_is_filled_by_all_of_them(tmp_path):
    user = tmp_path / "templates"
    (user / "md").mkdir(parents=True)
    (user / "md" / "questions.md.j2").write_text(QUESTIONS, encoding="utf-8")
    (user / "md" / "_mine.md.j2").write_text(MINE, encoding="utf-8")
    spec = spec_from_options(["forward"], 12, 0, 3, 1, "Mine", {})
    spec.seed = 4
    contexts = [fill.ProblemContext(problem_context(p))
                for ps in build_set(spec).values() for p in ps]
    data = {"title": "Mine", "version": None, "instructions": "", "meta": {},
            "problems": contexts}
    expected = render("md/questions.md.j2", data, str(user))
    got = "".join(render_pieces("md/questions.md.j2", data, str(user), fill=True))
    assert got == expected
    assert "Q1 (first) [1]" in expected and "Q1 [0]" in expected and "Q0 [2]" in expected
    found = fill.filler_of(fill.fill_environment("md", str(user.resolve())))
    assert found.filled + found.traced == len(contexts) and found.plain == 0
    assert found.filled >= 4  # problems 7-12 met (label, third, first) as problems 1-6 did
