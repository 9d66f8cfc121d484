"""Concept questions: a bank of at least 40 items from every section of the notes, four
distinct choices with one correct, and no question twice within a set."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chainrule.problems.base import get_family, make_problem
from chainrule.problems.families.concept_bank import BANK, TOPICS
from chainrule.problems.spec import build_set, load_spec
from chainrule.render.problemset import render_set

ROOT = Path(__file__).resolve().parents[1]
NOTES_SECTIONS = {  # the notes' sections and the bank topics that cover them
    "1-3 losses": "losses", "4 comparison": "comparison", "5 optimization": "optimization",
    "6-8 GD, SGD, mini-batch": "gd_variants", "9 momentum, NAG": "momentum",
    "9 adaptive": "adaptive", "9 schedules": "schedules", "10 backpropagation": "backprop",
}


def test_bank_has_40_distinct_items_from_every_section():
    assert len(BANK) >= 40
    assert len({i.key for i in BANK}) == len(BANK)
    assert len({i.stem for i in BANK}) == len(BANK)
    assert set(NOTES_SECTIONS.values()) == set(TOPICS) == {i.topic for i in BANK}
    for topic in TOPICS:
        assert sum(i.topic == topic for i in BANK) >= 3, topic


def test_items_are_well_formed_sentences():
    for item in BANK:
        options = [item.correct, *item.distractors]
        assert len(item.distractors) >= 3, item.key
        assert len(set(options)) == len(options), item.key
        assert item.correct not in item.distractors
        assert item.stem.endswith("?"), item.key
        assert item.why[0].isupper() or item.why[0] in "$", item.key
        assert item.why.rstrip().endswith((".", "$")), item.key
        # no template residue such as "is listed with typical use" or "Prob dists"
        for text in (item.stem, item.why, *options):
            assert "is listed with" not in text and "Prob dists" not in text
            assert text.count("$") % 2 == 0, (item.key, text)


def test_a_problem_has_four_choices_and_the_right_answer():
    for seed in range(200):
        p = make_problem("concept", seed)
        assert len(p.choices) == 4 and len(set(p.choices)) == 4
        item = next(i for i in BANK if i.key == p.context["item"])
        assert p.choices[p.answer] == item.correct
        assert all(c in item.distractors for c in p.choices if c != item.correct)


def test_no_question_repeats_within_a_set(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("title: T\nseed: 3\nversions: 3\nproblems:\n  - family: concept\n"
                    "    count: 12\n")
    sets = build_set(load_spec(str(spec)))
    keys = [p.context["item"] for problems in sets.values() for p in problems]
    assert len(keys) == 36 and len(set(keys)) == 36
    exam = build_set(load_spec(str(ROOT / "examples" / "exam.yaml")))
    for problems in exam.values():
        stems = [p.context["stem"] for p in problems if p.family == "concept"]
        assert len(stems) == len(set(stems)) >= 2


def test_an_id_regenerates_the_question():
    from chainrule.problems.base import problem_from_id

    p = make_problem("concept", 7, {"item": "nag-lookahead"})
    assert p.context["item"] == "nag-lookahead"
    again = problem_from_id(p.id)
    assert (again.choices, again.answer) == (p.choices, p.answer)


def test_topics_limit_the_draw():
    family = get_family("concept")
    for seed in range(40):
        p = make_problem(family, seed, {"topics": "adaptive,schedules"})
        assert p.context["topic"] in ("adaptive", "schedules")
    with pytest.raises(Exception, match="item"):
        family.parse_options({"item": "no-such-question"})


@pytest.mark.parametrize("fmt", ["md", "tex"])
def test_renders_question_and_solution(fmt):
    problems = [make_problem("concept", s) for s in range(30)]
    text = render_set(problems, "solutions", fmt, title="Concepts")
    for p in problems:
        assert p.context["why"].split()[0].strip("$") in text
    if fmt == "tex":
        # text outside math is escaped; math is kept
        assert r"\hat{y}" in text or "hat" not in text
        assert not re.search(r"[^\\]\^\S", re.sub(r"\$[^$]*\$", "", text.split(
            r"\begin{document}")[1]))
