"""Markdown with no fenced block of its own is rewritten for GitHub piece by piece between
its ``$$``, byte for byte as the whole-text rewrite (regular expressions over the whole
text, the fast path off) writes it."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.render import environment
from chainrule.render.environment import github_math

#: Pieces that meet each rule of the rewrite: displays (one character at least, so "$$$$"
#: is none), inline math, code spans, blank-line runs, table rows, escapes.
_PIECES = ["$", "$$", "`", "``", "\n", "\n\n\n", " ", "a", "|", "\\", "x_{1}", "| a |",
           "\\$", "$$\n", "\n$$", "$x$"]


def whole_text(markdown: str) -> str:
    """The rewrite of the whole text at once: the oracle."""
    environment.FAST_PATHS = False
    try:
        return github_math(markdown)
    finally:
        environment.FAST_PATHS = True


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30).map("".join))
def test_piece_by_piece_is_the_whole_text_rewrite(markdown):
    assert github_math(markdown) == whole_text(markdown)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="$`\n |\\ab{}_", max_size=60))
def test_any_text_of_the_rewrite_characters(markdown):
    assert github_math(markdown) == whole_text(markdown)


def test_every_short_text_of_dollars_backticks_and_line_breaks():
    for size in range(9):
        for letters in itertools.product("$`\na", repeat=size):
            markdown = "".join(letters)
            assert github_math(markdown) == whole_text(markdown), repr(markdown)


def test_a_derivation_as_derive_writes_it():
    steps = "".join(f"$$\nz_{{{j}}} = w_{{1{j}}} x_{{1}} + b_{{{j}}}\n\n$$\n\n"
                    for j in range(1, 6))
    markdown = f"# A net\n\n**Given:** $x_{{1}} = 1$, $y = 0$.\n\n## Forward pass\n\n{steps}"
    got = github_math(markdown)
    assert got == whole_text(markdown)
    assert got.count("```math\n") == 5 and "$`x_{1} = 1`$" in got
    assert "\n\n\n" not in got
