"""The concept family: one correct choice by an independent reading of the loss metadata.

The oracle below reads ``LOSSES`` directly (the notes' Quick Comparison table) and decides
for each choice whether the table makes it a right answer; it also restates when a wrong
choice would still be defensible (a use contained in another, a shared activation name, a
note that refers to the same losses, two distribution or two probability-output losses).
"""

import re
from collections import Counter

import numpy as np
import pytest

from chainrule.errors import ChainruleError
from chainrule.problems.base import get_family, make_problem, make_problems, problem_from_id
from chainrule.render.environment import tex_escape
from chainrule.render.problemset import render_set
from chainrule.symbolic.losses import LOSSES

N_VARIANTS = 1200
KINDS = ["use_loss", "loss_use", "loss_output", "output_loss", "note_loss"]
TABLE = [info for info in LOSSES.values() if info.in_notes_table]
BY_TITLE = {info.title: info for info in TABLE}


@pytest.fixture(scope="module")
def problems():
    family = get_family("concept")
    rng = np.random.default_rng(99)
    requests = []
    for k in range(N_VARIANTS):
        raw = {}
        if k % 5 == 0:
            raw["kinds"] = ",".join(rng.choice(KINDS, size=2, replace=False))
        requests.append((family, 500 + k, family.parse_options(raw), 3, None))
    return make_problems(requests)


# -- the independent oracle -------------------------------------------------------------------
def right(kind, subject, choice):
    """Whether the table makes ``choice`` an answer to the question on ``subject``."""
    if kind == "use_loss":
        return choice in BY_TITLE and BY_TITLE[choice].typical_use == subject
    if kind == "loss_use":
        return BY_TITLE[subject].typical_use == choice
    if kind == "loss_output":
        return BY_TITLE[subject].output_activation == choice
    if kind == "output_loss":
        return choice in BY_TITLE and BY_TITLE[choice].output_activation == subject
    return choice in BY_TITLE and BY_TITLE[choice].notes == subject


def words(text):
    return set(re.findall(r"[a-z]+", re.sub(r"\(.*?\)", "", text.lower())))


def activation_names(text):
    return {part.strip().lower() for part in text.split("/")}


def mentions(info):
    """Losses a note is about: its own, those named in it, those whose use it mentions."""
    found = {info.key}
    for other in TABLE:
        if re.search(rf"\b{other.key.upper()}\b", info.notes) or (
            words(other.typical_use) & words(info.notes)
        ):
            found.add(other.key)
    return found


def defensible(kind, correct_rows, wrong):
    """Whether a wrong choice could still be argued to be right."""
    if kind in ("use_loss", "output_loss", "note_loss"):
        others = [BY_TITLE[wrong]]
    elif kind == "loss_use":
        others = [r for r in TABLE if r.typical_use == wrong]
    else:
        return any(activation_names(wrong) & activation_names(r.output_activation)
                   for r in correct_rows)
    for a in correct_rows:
        for b in others:
            if kind in ("use_loss", "loss_use"):
                wa, wb = words(a.typical_use), words(b.typical_use)
                if wa <= wb or wb <= wa or (a.distribution and b.distribution):
                    return True
            elif kind == "output_loss":
                if activation_names(a.output_activation) & activation_names(b.output_activation):
                    return True
            else:
                probs = {"sigmoid", "softmax"}
                if mentions(a) & mentions(b) or {a.default_output, b.default_output} <= probs:
                    return True
    return False


def correct_rows(kind, subject):
    if kind in ("loss_use", "loss_output"):
        return [BY_TITLE[subject]]
    field = {"use_loss": "typical_use", "output_loss": "output_activation",
             "note_loss": "notes"}[kind]
    return [r for r in TABLE if getattr(r, field) == subject]


# -- the tests --------------------------------------------------------------------------------
def test_exactly_one_choice_is_right(problems):
    for p in problems:
        kind, subject = p.context["kind"], p.context["subject"]
        verdicts = [right(kind, subject, c) for c in p.choices]
        assert verdicts.count(True) == 1, (p.id, p.choices)
        assert verdicts.index(True) == p.answer
        assert p.choices[p.answer] == p.context["correct"]


def test_no_wrong_choice_is_defensible(problems):
    for p in problems:
        kind, subject = p.context["kind"], p.context["subject"]
        rows = correct_rows(kind, subject)
        for i, choice in enumerate(p.choices):
            if i != p.answer:
                assert not defensible(kind, rows, choice), (p.id, choice)


def test_choices_are_four_distinct(problems):
    for p in problems:
        assert len(p.choices) == 4 and len(set(p.choices)) == 4
        assert p.trace is None and p.asked == () and p.exact == {}
        key = p.key()
        assert key["choices"] == p.choices and key["answer"] == p.answer


def test_answer_positions_are_spread(problems):
    positions = Counter(p.answer for p in problems)
    assert set(positions) == {0, 1, 2, 3}
    assert min(positions.values()) >= 0.18 * len(problems)


def test_kinds_and_subjects_are_covered(problems):
    kinds = Counter(p.context["kind"] for p in problems)
    assert set(kinds) == set(KINDS)
    notes = {p.context["subject"] for p in problems if p.context["kind"] == "note_loss"}
    assert notes == {info.notes for info in TABLE}
    used = {c for p in problems for c in p.choices}
    assert {info.title for info in TABLE} <= used
    assert not {info.title for info in LOSSES.values() if not info.in_notes_table} & used


def test_the_regression_question_offers_one_regression_loss(problems):
    regression = {info.title for info in TABLE if info.typical_use == "Regression"}
    asked = [p for p in problems if p.context["kind"] == "use_loss"
             and p.context["subject"] == "Regression"]
    assert asked
    for p in asked:
        assert len(regression & set(p.choices)) == 1


def test_kinds_option_limits_the_questions(problems):
    for p in problems:
        assert p.context["kind"] in p.options["kinds"]
    only = make_problems([(get_family("concept"), s, {"kinds": ["note_loss"]}, 3, None)
                          for s in range(30)])
    assert {p.context["kind"] for p in only} == {"note_loss"}
    assert all(p.id.endswith("~kinds:note_loss") for p in only)


def test_explanation_comes_from_the_metadata(problems):
    for p in problems[:200]:
        c = p.context
        rows = correct_rows(c["kind"], c["subject"])
        row = rows[0] if len(rows) == 1 else BY_TITLE[p.choices[p.answer]]
        for text in (row.title, row.typical_use, row.output_activation, row.notes):
            assert text in c["why"]
        assert len(c["others"]) == 3
        assert [o["choice"] for o in c["others"]] == [
            ch for i, ch in enumerate(p.choices) if i != p.answer
        ]


def test_same_seed_same_problem_and_id_regenerates(problems):
    for p in problems[:100]:
        again = problem_from_id(p.id)
        assert again.key() == p.key()
        assert again.context == p.context
    first = make_problem("concept", 12345)
    assert first.key() == make_problem("concept", 12345).key()


@pytest.mark.parametrize("fmt", ["md", "tex"])
def test_rendering(problems, fmt):
    chosen = problems[:25]
    questions = render_set(chosen, "questions", fmt, title="Concepts")
    solutions = render_set(chosen, "solutions", fmt, title="Concepts")
    esc = (lambda t: t) if fmt == "md" else tex_escape
    for p in chosen:
        assert esc(p.context["subject"]) in questions
        for choice in p.choices:
            assert esc(choice) in questions
        assert f"Answer: ({'ABCD'[p.answer]}) {esc(p.choices[p.answer])}." in solutions
        assert esc(p.context["why"]) in solutions


@pytest.mark.parametrize("options", [{"kinds": "bogus"}, {"kinds": ""}, {"kinds": 3},
                                     {"kind": "note_loss"}])
def test_bad_options_are_errors(options):
    with pytest.raises(ChainruleError):
        make_problem("concept", 1, options)
