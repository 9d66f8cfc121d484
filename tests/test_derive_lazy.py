"""A derivation prints each step's formulas only in the forms its output reads, and its data
is the same complete report whatever was rendered first."""

from __future__ import annotations

import json

import pytest

import chainrule
from chainrule.api import network_setup
from chainrule.render.derive import network_report
from chainrule.symbolic.trace import Trace

NOTES = "examples/notes-2-2-1.yaml"


def eager(net, **options):
    """The report built whole, as before printing was put off."""
    setup = network_setup(net=net, givens=options.pop("at", None), eta=options.get("eta"))
    return network_report(setup.network, setup.givens, updates=setup.updates,
                          decimals=setup.decimals, chain=options.get("chain", ()))


@pytest.mark.parametrize(("net", "options"), [
    ("3-4-2", {"chain": ["w11"]}),
    ("2-2-1", {"at": NOTES, "eta": 0.5}),
])
@pytest.mark.parametrize("first", ["text", "md", "tex", "none"])
def test_the_data_is_the_whole_report_whatever_was_rendered_first(net, options, first):
    derivation = chainrule.derive(net, **options)
    if first != "none":
        derivation.render(first)
    expected = eager(net, **options)
    data = derivation.to_dict()
    assert data == expected
    assert [list(step) for step in data["steps"]] == [list(s) for s in expected["steps"]]
    assert json.dumps(data) == json.dumps(expected)
    assert all(type(step) is dict for section in data["sections"] for step in section["steps"])


def test_text_prints_no_latex_and_latex_no_plain_text(monkeypatch):
    derivation = chainrule.derive("2-3-2", loss="cce")
    text = chainrule.derive("2-3-2", loss="cce").render("text")
    tex = chainrule.derive("2-3-2", loss="cce").render("tex")

    def refuse(self, name, *args):
        raise AssertionError(f"printed {name} in a form the output does not read")

    with monkeypatch.context() as patch:
        for method in ("formula_tex", "formulas_tex", "substituted_tex"):
            patch.setattr(Trace, method, refuse)
        assert chainrule.derive("2-3-2", loss="cce").render("text") == text
    with monkeypatch.context() as patch:
        for method in ("formula_text", "formulas_text", "substituted_text"):
            patch.setattr(Trace, method, refuse)
        assert chainrule.derive("2-3-2", loss="cce").render("tex") == tex
    assert derivation.render("text") == text and derivation.render("tex") == tex


@pytest.mark.parametrize("at", [None, NOTES])
def test_reading_one_field_prints_it_for_every_step_and_nothing_else(at):
    derivation = chainrule.derive("2-2-1", at=at, eta=0.5)
    steps = derivation._data["steps"]
    expected = eager("2-2-1", at=at, eta=0.5)["steps"]
    assert steps[-1]["formula_text"] == expected[-1]["formula_text"]
    assert [dict.get(s, "formula_text") for s in steps] == [s["formula_text"] for s in expected]
    assert not any("formula_tex" in s or "lhs_tex" in s for s in steps)
    if at is not None:
        assert steps[2]["substituted_tex"] == expected[2]["substituted_tex"]
        assert [dict.get(s, "substituted_tex") for s in steps] == [
            s["substituted_tex"] for s in expected]
        assert not any("substituted_text" in s for s in steps)


def test_a_missing_field_is_still_missing():
    derivation = chainrule.derive("2-2-1")  # no givens: no values, no substitutions
    step = derivation._data["steps"][0]
    assert step["formula_text"] == "w11*x1 + w21*x2 + b1"
    with pytest.raises(KeyError):
        step["substituted_text"]
    assert "substituted_text" not in derivation.to_dict()["steps"][0]


def test_a_text_derivation_never_makes_the_latex_names(monkeypatch):
    from chainrule.symbolic.network import Network

    expected = chainrule.derive("3-4-2", eta=0.1).render("text")

    def refuse(self):
        raise AssertionError("LaTeX names made for a text derivation")

    monkeypatch.setattr(Network, "tex_names", property(refuse))
    assert chainrule.derive("3-4-2", eta=0.1).render("text") == expected


def test_a_lazy_table_reads_as_the_table_it_makes():
    from chainrule.symbolic.trace import LazyTable

    made = []
    table = LazyTable(lambda: made.append(1) or {"a": "A", "b": "B"})
    assert not made
    assert table.get("a") == "A" and table.get("c", "?") == "?" and "b" in table
    assert {**table} == dict(table) == {"a": "A", "b": "B"} and len(table) == 2
    assert table["b"] == "B" and list(table) == ["a", "b"] and made == [1]
    with pytest.raises(KeyError):
        table["c"]
