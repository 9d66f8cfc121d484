"""Markdown's math rewritten in a trace (once per structure) gives the same text as Jinja and
then ``github_math``, whatever the filled pieces hold: pieces that could rewrite otherwise than
their stand-ins (``$``, backticks, ``|`` in a table row, line breaks, outer spaces, a final
backslash, nothing) are filled into the text as written, which is then rewritten whole."""

from __future__ import annotations

import shutil
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.problems.base import get_family, make_problems
from chainrule.render.environment import (
    builtin_templates,
    github_math,
    github_math_unsafe_at,
    render,
)
from chainrule.render.fill import Filler, Post, fill_environment
from chainrule.render.walkthrough import fill_walkthroughs, walkthrough_contexts

_ORIGINAL = ("{% if ex.product != ex.key %} (the key's {{ ex.key }} comes from $\\delta$, "
             "which rounds once instead of once per factor){% endif %}.")
_INLINE = ("{{ \" (the key's \" ~ ex.key ~ \" comes from $\\\\delta$, which rounds once instead "
           "of once per factor)\" if ex.product != ex.key else \"\" }}.")


@pytest.fixture(scope="module")
def inline_if(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The shipped templates, the walkthrough's remark on the key written as an inline if
    (a text holding ``$`` written where the shipped template has a stand-in-free branch)."""
    folder = tmp_path_factory.mktemp("templates") / "t"
    shutil.copytree(builtin_templates(), folder)
    page = folder / "md" / "walkthrough.md.j2"
    text = page.read_text()
    assert text.count(_ORIGINAL) == 1
    page.write_text(text.replace(_ORIGINAL, _INLINE))
    return str(folder)


def _contexts(net: str, options: dict[str, Any], seeds: range) -> list[dict[str, Any]]:
    family = get_family("backprop")
    parsed = family.parse_options({"net": net, **options})
    return walkthrough_contexts(make_problems([(family, s, parsed, 3, None) for s in seeds]))


@pytest.mark.slow
def test_an_inline_if_writing_math_equals_jinja_for_300_walkthroughs(inline_if):
    contexts = _contexts("2-3-2", {}, range(320))
    expected = [render("md/walkthrough.md.j2", c, inline_if) for c in contexts]
    remarks = sum("comes from $`\\delta`$" in t for t in expected)
    assert 0 < remarks < len(expected)  # both sides of the inline if are written
    assert fill_walkthroughs(contexts, "md", inline_if) == expected


_LOSSES = [("mse", "linear", "2-2-1"), ("mae", "linear", "2-2-1"), ("mae", "sigmoid", "2-2-1"),
           ("huber", "linear", "2-2-1"), ("huber", "softmax", "2-2-2"),
           ("bce", "sigmoid", "2-2-1"), ("cce", "softmax", "2-2-2"), ("hinge", "linear", "2-2-1"),
           ("hinge", "softmax", "2-2-2"), ("kl", "softmax", "2-2-2"), ("lsce", "softmax", "2-2-2")]


@pytest.mark.parametrize("loss, output, net", _LOSSES)
def test_every_loss_with_shipped_and_inline_if_templates_equals_jinja(loss, output, net,
                                                                      inline_if):
    contexts = _contexts(net, {"loss": loss, "output": output}, range(40))
    for folder in (None, inline_if):
        expected = [render("md/walkthrough.md.j2", c, folder) for c in contexts]
        assert fill_walkthroughs(contexts, "md", folder) == expected


def test_numbers_join_the_rewritten_trace_without_rewriting_again():
    calls: list[str] = []

    def rewrite(text: str) -> str:
        calls.append(text)
        return github_math(text)

    template = fill_environment("md").from_string(
        "| a | b |\n| --- | --- |\n| ${{ x.value }}$ | {{ y.value }} |\n"
        "$$\n\\left|{{ x.value }}\\right| = {{ y.value }}\n$$\nso ${{ x.value }}${{ y.value }}.\n")
    filler, post = Filler(), Post(rewrite, github_math_unsafe_at)
    for i, (x, y) in enumerate([("1.5", "-2"), ("0.25", "3"), ("-7", "\\left|x\\right|")]):
        context = {"x": {"value": x}, "y": {"value": y}}
        before = len(calls)
        got = filler.render(lambda c: template.render(**c), context, key="t", post=post)
        assert got == github_math(template.render(**context))
        # the trace (first) rewrites; numbers then fill; |...| in a table row rewrites whole
        assert len(calls) - before == (0 if i == 1 else 2 if i == 0 else 1)


_SPECIALS = ["$", "$$", "`", "```", "|", "\n", " ", "\\", "x", "-0.5", "\\left|", "{", "}"]
_FRAGMENTS = [*_SPECIALS, "\n| ", " |", "\n$$\n", "{{ a.value }}", "{{ b.value }}",
              "{{ c.value }}", "{{ a.value }}", "{{ b.value }}", "\n| ${{ a.value }}$ |",
              "\n| x | $y {{ b.value }}$", "${{ c.value }}$", "\n{{ b.value }} $x$"]
_pieces = st.lists(st.sampled_from([*_SPECIALS, "1.25", "-3", "0"]), max_size=4).map("".join)


def _safe(text: str) -> str:
    """No Jinja delimiters made by meeting fragments."""
    return text.replace("{{{", "{ {{").replace("}}}", "}} }").replace("{%", "{ %") \
        .replace("{#", "{ #")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS), min_size=1, max_size=14).map("".join),
       st.lists(st.tuples(_pieces, _pieces, _pieces), min_size=1, max_size=5),
       st.booleans())
def test_random_pieces_beside_math_code_and_tables_equal_jinja_then_github_math(
        source: str, values: list[tuple[str, str, str]], numbers_first: bool):
    source = _safe(source)
    try:
        template = fill_environment("md").from_string(source)
    except Exception:  # not a template (fragments met badly): nothing to compare
        return
    filler, post = Filler(), Post(github_math, github_math_unsafe_at)
    if numbers_first:  # a trace first, then every fill from it
        values = [("1.5", "-2", "0.125"), *values]
    for a, b, c in values:
        context = {"a": {"value": a}, "b": {"value": b}, "c": {"value": c}}
        expected = github_math(template.render(**context))
        got = filler.render(lambda ctx: template.render(**ctx), context, key=source, post=post)
        assert got == expected, (source, a, b, c)


def _finds(checks: Any, *pieces: str) -> bool:
    joined = "\x00" + "\x00".join(pieces) + "\x00"
    return any(check in joined if isinstance(check, str) else check.search(joined)
               for check in checks)


def test_which_pieces_are_unsafe_where():
    text = "| a | $\ue000$ |\n$x$ y\ue000z\n  \ue000 y\n$$\n\ue000\n$$\nw \ue000\n"
    markdown = github_math(text)
    raw = [i for i, c in enumerate(text) if c == "\ue000"]
    rewritten = [i for i, c in enumerate(markdown) if c == "\ue000"]
    table, inline, line_start, display, spaced = (
        github_math_unsafe_at(text, r, r + 1, markdown, m)
        for r, m in zip(raw, rewritten, strict=True))
    for strict in (table, line_start, display):
        for bad in ("|", "a|b", " 1", "1 ", "1\\", "", "$", "a`", "1\n2", "\t1"):
            assert _finds(strict, "1.5", bad, "2"), (strict, bad)
        assert not _finds(strict, "1.5", "-2", "\\left(x\\right)", "a b", "\\\\x")
    # no table row, not at a line start, between plain characters: | and edges are inert
    assert not _finds(inline, "\\left|x\\right|", "", " 1 ", "1\\", "|")
    for bad in ("$", "a`", "1\n2"):
        assert _finds(inline, "1.5", bad, "2"), bad
    assert not _finds(spaced, "|") and _finds(spaced, " 1") and _finds(spaced, "")
