"""If statements on numbers, filled by structure: the same bytes as Jinja renders.

Oracle: Jinja itself (``template.render`` with the same context, through the same
environment, then the same Markdown rewrite where one is given); an error is the same
error. Templates are generated: if/elif/else on texts, numbers and truth values that are
holes (comparisons, truthiness, ``is defined``, ``not``, ``and``), nested ifs and for loops
in their bodies, inline ifs, ``fixed``, macros and ``set`` (which keep the guard of
before), and attributes that are undefined where a branch is not taken.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.render import fill
from chainrule.render.environment import fixed, github_math, github_math_unsafe_at

HOLES = fill.Holes(keys={"a", "b", "flag", "t"}, under=set())
GITHUB = fill.Post(github_math, github_math_unsafe_at)
MACRO = "{% macro m(v) %}[{{ v }}]{% endmacro %}"


@pytest.fixture(autouse=True)
def fresh_traces():
    fill.forget()
    yield
    fill.forget()


def outcome(render, context):
    """The text rendered, or the error's type and message."""
    try:
        return render(context)
    except Exception as error:  # the same error both ways
        return (type(error).__name__, str(error))


def filled_and_expected(source, contexts, *, post=None, fmt="md"):
    """Each context through one Filler and through Jinja: (filled, expected, filler)."""
    template = fill.fill_environment(fmt).from_string(source)
    filler = fill.Filler()

    def plain(ctx):
        return template.render(**ctx)

    got = [outcome(lambda c: filler.render(plain, c, holes=HOLES, post=post), c)
           for c in contexts]
    rewrite = (lambda c: github_math(plain(c))) if post is not None else plain
    expected = [outcome(rewrite, c) for c in contexts]
    return got, expected, filler


# -- generated templates ------------------------------------------------------------------

TEXTS = ["A", " ", "\n", "$", "$x$", "|", "\\", "`", "$$\n", "B ", "-", "  ", "\n\n"]
TESTS = ["a != b", "a == '1'", "x > y", "x < 0.5", "flag", "not flag", "a is defined",
         "zz is defined", "a", "x", "n > 1", "flag and x > 0", "a ~ b == '12'",
         "(x if flag else y) > 0", "x | abs > 1", "d.present == a"]
OUTPUTS = ["{{ a }}", "{{ b }}", "{{ x }}", "{{ x | fixed }}", "{{ y | fixed(2) }}",
           "{{ '\\\\approx' if flag else '=' }}", "{{ a ~ b }}", "{{ n }}", "{{ x * 2 }}",
           "{{ d.present }}"]
LOOP_TESTS = ["it.v > 0", "it.t == a", "loop.first", "it.t"]
LOOP_OUTPUTS = ["{{ it.v }}", "{{ it.t }}", "{{ loop.index }}", "{{ it.v | fixed(1) }}"]


@st.composite
def statements(draw, depth=0, in_loop=False):
    """A list of template statements (as text)."""
    count = draw(st.integers(0, 3 if depth < 2 else 2))
    out = []
    for _ in range(count):
        kinds = ["text", "out", "if", "if", "for", "set", "block", "macro", "undefined"]
        if depth >= 3:
            kinds = ["text", "out"]
        kind = draw(st.sampled_from(kinds))
        if kind == "text":
            out.append(draw(st.sampled_from(TEXTS)))
        elif kind == "out":
            choices = OUTPUTS + (LOOP_OUTPUTS if in_loop else [])
            out.append(draw(st.sampled_from(choices)))
        elif kind == "if":
            tests = TESTS + (LOOP_TESTS if in_loop else [])
            text = "{% if " + draw(st.sampled_from(tests)) + " %}"
            text += "".join(draw(statements(depth + 1, in_loop)))
            for _ in range(draw(st.integers(0, 2))):
                text += "{% elif " + draw(st.sampled_from(tests)) + " %}"
                text += "".join(draw(statements(depth + 1, in_loop)))
            if draw(st.booleans()):
                text += "{% else %}" + "".join(draw(statements(depth + 1, in_loop)))
            out.append(text + "{% endif %}")
        elif kind == "for":
            text = "{% for it in items %}" + "".join(draw(statements(depth + 1, True)))
            if draw(st.booleans()):
                text += "{% else %}" + "".join(draw(statements(depth + 1, in_loop)))
            out.append(text + "{% endfor %}")
        elif kind == "set":  # an if whose body sets something: a guard, as before
            out.append("{% if x > 0 %}{% set z = a %}{{ z }}{% endif %}")
        elif kind == "block":  # a text captured, then written and measured
            inner = "".join(draw(statements(depth + 1, in_loop)))
            out.append("{% set blk %}" + inner + "{% endset %}{{ blk }}{{ blk | length }}")
        elif kind == "macro":  # a call in a body: chosen only where it is taken
            out.append("{% if a != b %}{{ m(a) }}{% else %}{{ m(b) }}{% endif %}")
        else:  # written only where the branch taken has it
            out.append(draw(st.sampled_from([
                "{% if flag %}{{ a }}{% else %}{{ d.absent }}{% endif %}",
                "{% if d.absent is defined %}{{ d.absent }}{% else %}{{ a }}{% endif %}",
                "{% if x > 100 %}{{ d.absent.deeper }}{% endif %}",
            ])))
    return out


FLOATS = st.sampled_from([-1.5, -0.0, 0.0, 0.25, 2.0, -1e-9, 0.4999999])
WORDS = st.sampled_from(["1", "2", "12", "-0", "x", "", " a", "$"])


@st.composite
def contexts(draw, items_count):
    return {
        "a": draw(WORDS), "b": draw(WORDS), "flag": draw(st.booleans()),
        "x": draw(FLOATS), "y": draw(FLOATS), "n": 2, "d": {"present": "P"},
        "items": [{"v": draw(FLOATS), "t": draw(WORDS)} for _ in range(items_count)],
    }


@st.composite
def cases(draw):
    body = MACRO + "".join(draw(statements()))
    items_count = draw(st.integers(0, 2))
    found = draw(st.lists(contexts(items_count), min_size=1, max_size=8))
    return body, found


@settings(max_examples=250, deadline=None)
@given(cases(), st.booleans(), st.sampled_from([1, 2, 3, 8]))
def test_generated_templates_fill_as_jinja_renders(case, rewritten, compile_after):
    body, found = case
    saved, fill.COMPILE_AFTER = fill.COMPILE_AFTER, compile_after  # texts formatted, code
    try:
        got, expected, filler = filled_and_expected(body, found,
                                                    post=GITHUB if rewritten else None)
    finally:
        fill.COMPILE_AFTER = saved
    assert got == expected
    rendered = sum(type(text) is str for text in got)  # each counted once
    assert filler.filled + filler.traced + filler.plain == rendered


@settings(max_examples=40, deadline=None)
@given(cases())
def test_generated_templates_in_latex_delimiters(case):
    body, found = case
    for a, b in (("{%", "<%"), ("%}", "%>"), ("{{", "<<"), ("}}", ">>")):
        body = body.replace(a, b)
    got, expected, _ = filled_and_expected(body, found, fmt="tex")
    assert got == expected


# -- how many traces ----------------------------------------------------------------------

def context(**changes):
    base = {"a": "1", "b": "2", "flag": True, "x": 0.5, "y": 1.0, "n": 2,
            "d": {"present": "P"}, "items": [{"v": 1.0, "t": "u"}, {"v": -2.0, "t": "w"}]}
    return {**base, **changes}


@pytest.mark.parametrize("post", [None, GITHUB], ids=["plain", "github"])
@pytest.mark.parametrize("source, variants", [
    ("A {% if a != b %}x $ {{ a }} ${% else %}y{% endif %} B", [{"a": "3"}, {"b": "1"}]),
    ("{% if x > 1 %}big {{ x }}{% elif x > 0 %}small{% elif flag %}flag{% else %}none"
     "{% endif %}", [{"x": 2.0}, {"x": -1.0}, {"x": -1.0, "flag": False}]),
    ("{% for it in items %}{% if it.v > 0 %}+{{ it.v }}{% if flag %}!{% endif %}{% else %}"
     "-{% for j in items %}{{ loop.index }}{% endfor %}{% endif %}\n{% endfor %}",
     [{"flag": False}, {"items": [{"v": -1.0, "t": "u"}, {"v": 3.0, "t": "w"}]},
      {"items": [{"v": -1.0, "t": "u"}, {"v": -3.0, "t": "w"}], "flag": False}]),
    ("{% if flag %}{{ a }}{% else %}{{ d.absent }}{% endif %}", [{"a": "7"}]),
    ("$$\n{{ a }}{% if a != b %} \\approx {{ b }}{% endif %}\n\n$$\n| {% if flag %}|{% endif %}",
     [{"b": "1"}, {"flag": False}, {"flag": False, "a": "2"}]),
])
def test_one_trace_for_every_outcome(source, variants, post):
    found = [context()] + [context(**v) for v in variants]
    got, expected, filler = filled_and_expected(source, found, post=post)
    assert got == expected
    assert len(set(expected)) == len(found)  # each context takes another way
    assert (filler.traced, filler.filled, filler.plain) == (1, len(variants), 0)


@pytest.mark.parametrize("source", [
    "{% if a != b %}{% set z = a %}{{ z }}{% endif %}",  # a body that sets
    "{% if a != b %}{{ m(a) }}{% endif %}",  # a body that calls
    "{% if a != b and flag %}{{ a }}{% endif %}",  # `and` tests each side (a guard)
])
def test_a_guard_where_a_body_does_more_than_write(source):
    found = [context(), context(a="2")]
    got, expected, filler = filled_and_expected(MACRO + source, found)
    assert got == expected and expected[0] != expected[1]
    assert filler.traced == 2


@pytest.mark.parametrize("post", [None, GITHUB], ids=["plain", "github"])
def test_a_guard_made_in_a_body_is_checked_where_the_body_is_taken(post):
    """``flag and ...`` in a body tests ``flag`` (a guard of that body)."""
    found = [context(), context(flag=False), context(a="2"), context(a="2", flag=False),
             context(x=-1.0)]
    got, expected, filler = filled_and_expected(
        "{% if a != b %}<{% if flag and x > 0 %}Y{% endif %}>{% else %}={% endif %}",
        found, post=post)
    assert got == expected == ["<Y>", "<>", "=", "=", "<>"]
    assert (filler.traced, filler.filled) == (2, 3)


def test_untaken_branch_is_not_run_outside_a_trace():
    """Rendering without stand-ins runs only the branch taken, as Jinja does."""
    template = fill.fill_environment("md").from_string(
        "{% if flag %}{{ a }}{% elif d.absent %}{{ d.absent }}{% else %}{{ zz }}{% endif %}")
    assert template.render(**context(a="ok")) == "ok"
    with pytest.raises(Exception, match="absent"):
        template.render(**context(flag=False))


def test_undefined_in_the_other_branch_keeps_the_guard():
    """The body not taken fails with the traced numbers: the test is a guard, and a
    context that takes that body gets Jinja's error."""
    found = [context(), context(a="5"), context(flag=False)]
    got, expected, filler = filled_and_expected(
        "{% if flag %}{{ a }}{% else %}{{ d.absent }}{% endif %}", found)
    assert got == expected
    assert got[:2] == ["1", "5"] and got[2][0] == "UndefinedError"
    assert filler.traced == 1 and filler.filled == 1


def test_only_the_side_taken_is_computed_in_a_fill():
    """A body that would fail for other numbers is not computed where it is not taken:
    every context with x == 0 is filled from the one trace."""
    found = [context(x=2.0)] + [context(x=0.0, a=str(i)) for i in range(5)]
    got, expected, filler = filled_and_expected(
        "{% if x != 0 %}{{ 1 / x }}{% else %}zero {{ a }}{% endif %}", found)
    assert got == expected
    assert (filler.traced, filler.filled, filler.plain) == (1, 5, 0)


def test_deep_nesting_compiles_and_fills():
    depth = 12
    source = "".join(f"{{% if x > {i / 10} %}}[{i}" for i in range(depth)) + \
        "".join(f"]{{% else %}}<{i}>{{% endif %}}" for i in reversed(range(depth)))
    found = [context(x=v / 10 + 0.05) for v in range(-1, depth)]
    got, expected, filler = filled_and_expected(source, found)
    assert got == expected
    assert filler.traced == 1


def test_past_the_plans_kept_a_fill_is_rewritten_whole(monkeypatch):
    monkeypatch.setattr(fill, "MAX_PLANS", 1)
    source = "$x$ {% if a != b %}| {{ a }}{% endif %}{% if flag %} $y${% endif %}\n"
    found = [context(a=a, flag=f) for a in ("1", "2", "3") for f in (True, False)]
    got, expected, filler = filled_and_expected(source, found, post=GITHUB)
    assert got == expected
    assert (filler.traced, filler.plain) == (1, 0)


def test_blocks_of_an_extended_template(tmp_path):
    """An if in a block is chosen; one at the top of a template that extends another
    (whose output Jinja drops) stays Jinja's own."""
    user = tmp_path / "templates" / "md"
    user.mkdir(parents=True)
    (user / "base.md.j2").write_text(
        "<{% block body %}{% endblock %}>{% if flag %}F{% endif %}\n", encoding="utf-8")
    (user / "child.md.j2").write_text(
        '{% extends "md/base.md.j2" %}{% if a != b %}dropped{% endif %}'
        "{% block body %}{% if a != b %}{{ a }}{% else %}={% endif %}{% endblock %}",
        encoding="utf-8")
    filler = fill.Filler()
    folder = str(tmp_path / "templates")
    for ctx in (context(), context(b="1"), context(flag=False), context(a="4")):
        got = fill.render_filled("md/child.md.j2", ctx, filler, folder, holes=HOLES)
        template = fill.fill_environment("md", str((tmp_path / "templates").resolve()))
        assert got == github_math(template.get_template("md/child.md.j2").render(**ctx))
    # the dropped if's test is a guard: b="1" is traced again; flag and a are filled
    assert filler.traced == 2 and filler.filled == 2


# -- fixed, written out in the fill -------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True) |
                st.sampled_from([-0.0, -1e-7, -4e-7, -5e-7, -5.1e-7, 1e300, -0.0000004]),
                min_size=2, max_size=6))
def test_fixed_in_a_fill_is_fixed(values):
    found = [context(x=v, y=-v) for v in values]
    got, expected, filler = filled_and_expected(
        "{{ x | fixed }} {{ y | fixed(3) }} {{ x | fixed(0) }}", found)
    assert got == expected
    assert filler.traced == 1
    for text, v in zip(got, values, strict=True):  # and what fixed says, restated
        first = text.split(" ")[0]
        assert first == fixed(v)
        if math.isfinite(v) and abs(v) < 5e-7:
            assert not first.startswith("-")


def test_a_stand_in_is_never_written_where_text_is_escaped():
    """With autoescape, the trace ends where a number is written (a fill does not
    escape): every context is rendered by Jinja."""
    template = fill.fill_environment("web").from_string(
        "<p>{{ a }}</p>{% if a != b %}<i>{{ b }}</i>{% endif %}")
    filler = fill.Filler()
    for a, b in (("x", "y"), ("<b>", "&"), ("q", "q")):
        text = filler.render(lambda c: template.render(**c), {"a": a, "b": b}, holes=HOLES)
        assert text == template.render(a=a, b=b)
    assert filler.plain == 3 and filler.traced == 0
