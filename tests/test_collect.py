"""Batches pause the cycle collector and give it back as they found it."""

from __future__ import annotations

import gc

import pytest

from chainrule.collect import paused
from chainrule.problems.base import get_family, make_problems
from chainrule.render.walkthrough import render_walkthroughs


def test_paused_restores_the_collector_also_on_errors():
    assert gc.isenabled()
    with paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError), paused():
        1 / 0  # noqa: B018
    assert gc.isenabled()
    gc.disable()
    try:
        with paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # it was off: it stays off
    finally:
        gc.enable()


def test_draws_and_walkthrough_batches_run_paused_and_resume_collection(monkeypatch):
    from chainrule.problems import base
    from chainrule.render import fill

    family = get_family("backprop")
    options = family.parse_options({"net": "2-2-1"})
    states: list[tuple[str, bool]] = []
    draw_all, render_split = base._draw_all, fill.Filler.render_split

    def drawing(*args, **kwargs):
        states.append(("draw", gc.isenabled()))
        return draw_all(*args, **kwargs)

    def rendering(self, *args, **kwargs):
        states.append(("render", gc.isenabled()))
        return render_split(self, *args, **kwargs)

    monkeypatch.setattr(base, "_draw_all", drawing)
    monkeypatch.setattr(fill.Filler, "render_split", rendering)
    problems = make_problems([(family, s, options, 3, None) for s in range(30)])
    texts = render_walkthroughs(problems, "md")
    assert states[0] == ("draw", False) and len(states) == 31
    assert set(states[1:]) == {("render", False)}
    assert len(texts) == 30 and gc.isenabled()
