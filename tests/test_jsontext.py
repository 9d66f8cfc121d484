"""The fast indented JSON writer gives the standard library's text byte for byte."""

from __future__ import annotations

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.render.jsontext import dumps


def stdlib(value):
    return json.dumps(value, indent=2, ensure_ascii=False)


plain = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
         | st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
         | st.sampled_from(["}, {", '"}', "\\", "\n", "\x00", ",\n    {", "σ'(z_{1})", "é"]))
keys = st.text(max_size=6) | st.sampled_from(["name", '"', "}, {", "\n"])
values = st.recursive(
    plain,
    lambda inner: (st.lists(inner, max_size=5) | st.dictionaries(keys, inner, max_size=5)
                   | st.lists(st.dictionaries(keys, plain, max_size=4), max_size=5)),
    max_leaves=40)


@settings(max_examples=400, deadline=None)
@given(values)
def test_any_json_value_is_written_as_the_standard_library_writes_it(value):
    assert dumps(value) == stdlib(value)


def test_records_with_braces_commas_and_newlines_in_their_texts():
    records = [{"tex": "\\frac{a}{b}}, {", "text": "},\n    {", "n": 1.5, "none": None},
               {"tex": "{", "flag": True}, {"x": -0.0, "big": 10**30, "inf": math.inf}]
    value = {"steps": records, "sections": [{"title": "T", "steps": records}],
             "empty": [], "nothing": {}, "keys": {1: "a", None: "b", 2.5: [1, {}]},
             "tuple": (1, "two", [3])}
    assert dumps(value) == stdlib(value)
    assert dumps(records) == stdlib(records)


def test_a_derivation_as_json_is_the_standard_librarys_text():
    import chainrule

    derivation = chainrule.derive("2-3-2", loss="cce", chain=["w11"])
    data = derivation.to_dict()
    assert derivation.render("json") == stdlib(data) + "\n"
    assert len(data["steps"]) > 20 and data["chain_rule"]


@st.composite
def shared_records(draw):
    """Lists holding the same record objects again, at the same level, deeper and
    shallower, whole or in part, repeated, mixed with records seen nowhere else: what a
    derivation's steps and sections are, and what they are not."""
    pool = draw(st.lists(st.dictionaries(keys, plain, min_size=1, max_size=4), min_size=1,
                         max_size=6))
    fresh = st.dictionaries(keys, plain, min_size=1, max_size=3)
    pick = st.lists(st.sampled_from(pool) | fresh, min_size=1, max_size=6)
    part = st.lists(st.sampled_from(pool), min_size=1, max_size=6)  # records seen only
    nested = st.recursive(
        pick | part,
        lambda inner: (st.lists(inner, max_size=3)
                       | st.dictionaries(keys, inner, max_size=3)
                       | st.builds(lambda t, s: {"title": t, "steps": s}, keys, inner)),
        max_leaves=6)
    return draw(st.lists(nested | st.just(pool), min_size=1, max_size=4))


@settings(max_examples=400, deadline=None)
@given(shared_records())
def test_records_written_again_elsewhere_are_the_standard_librarys_text(value):
    assert dumps(value) == stdlib(value)
    assert dumps({"steps": value, "more": [{"steps": value}]}) == stdlib(
        {"steps": value, "more": [{"steps": value}]})


def test_a_derivation_with_updates_and_sections_is_the_standard_librarys_text():
    import chainrule

    derivation = chainrule.derive("3-4-2", loss="mse", output="linear", eta=0.1)
    data = derivation.to_dict()
    assert len(data["sections"]) > 2
    assert derivation.render("json") == stdlib(data) + "\n"


@st.composite
def sections_of_steps(draw):
    """A derivation's shape: steps, and sections that hold runs of the same records (in
    order, or not), at the level of the steps or deeper."""
    steps = draw(st.lists(st.dictionaries(keys, plain, min_size=1, max_size=4), min_size=1,
                          max_size=8))
    cuts = sorted(draw(st.lists(st.integers(0, len(steps)), max_size=4)))
    runs = [steps[a:b] for a, b in zip([0, *cuts], [*cuts, len(steps)], strict=True) if b > a]
    if draw(st.booleans()):
        runs = [draw(st.permutations(run)) for run in runs]
    value = {"steps": steps, "sections": [{"title": "T", "steps": run} for run in runs]}
    return draw(st.sampled_from([value, [value], {"x": [steps, runs]}, [runs, steps]]))


@settings(max_examples=400, deadline=None)
@given(sections_of_steps())
def test_runs_of_records_written_before_are_the_standard_librarys_text(value):
    assert dumps(value) == stdlib(value)
