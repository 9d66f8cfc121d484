"""Every family at decimals 0, 1, 3, 5 and 8, through all four exports, read back and graded
by the format readers of ``lms_formats`` (written from the formats' documentation).

For every graded value of every problem: each intended answer (both key chains rounded to
the asked decimals, the exact value where the LMS compares numbers, and in Canvas's text
blanks every accepted spelling) is right; one unit off from every accepted value is wrong;
each named-mistake value is wrong and gets its mistake's message. The key values come from
key.json (Decimal arithmetic); mistake values are recomputed from the catalogue's formulas
with SymPy.
"""

from __future__ import annotations

import html
import io
import json
import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

import setfolders
from chainrule.export import canvas_package, gift_text, load_set, moodle_xml, qti21_package
from lms_formats import (
    Qti21Item,
    canvas_blanks,
    canvas_numerical,
    canvas_short,
    moodle_answers,
    moodle_blanks,
    moodle_numerical,
    moodle_plain,
    parse_gift,
    strip_ns,
)

DECIMALS = (0, 1, 3, 5, 8)
TARGETS = ("moodle", "gift", "canvas", "qti21")
MINUS = "\u2212"


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def shown_code(name: str) -> str:
    return re.search(r"\(([^()]+)\)$", name).group(1)


@dataclass
class Exported:
    folder: Path
    key: dict[str, Any]
    problem_set: Any
    moodle: dict[str, ET.Element]
    gift: dict[str, list]
    canvas: dict[str, ET.Element]
    qti21: dict[str, Qti21Item]
    cache: dict

    def once(self, key: tuple, make: Any) -> Any:
        """``make()`` computed once per key (parsed blanks, feedback texts)."""
        if key not in self.cache:
            self.cache[key] = make()
        return self.cache[key]


def export_all(folder: Path) -> Exported:
    problem_set = load_set(folder)
    key = json.loads((folder / "key.json").read_text(encoding="utf-8"))
    # Names show the short code (or the label), never the regenerating ID.
    ids = {e.shown_code: e.problem.id for e in problem_set.problems}

    def problem_id(name: str) -> str:
        return ids[shown_code(name)]

    root = ET.fromstring(moodle_xml(problem_set))
    moodle = {problem_id(moodle_plain(q.findtext("name/text"))): q
              for q in root.findall("question") if q.get("type") != "category"}
    gift: dict[str, list] = {}
    for question in parse_gift(gift_text(problem_set).decode("utf-8")):
        gift.setdefault(problem_id(question.name), []).append(question)
    files = unzip(canvas_package(problem_set))
    (assessment,) = [n for n in files if n.count("/") and not n.endswith("meta.xml")]
    canvas = {problem_id(i.get("title")): i
              for i in strip_ns(ET.fromstring(files[assessment])).iter("item")}
    files = unzip(qti21_package(problem_set))
    qti21 = {}
    for name, data in files.items():
        if name.startswith("items/"):
            item = Qti21Item(data)
            qti21[problem_id(item.root.get("title"))] = item
    return Exported(folder, key, problem_set, moodle, gift, canvas, qti21, {})


@pytest.fixture(scope="module", params=DECIMALS, ids=[f"d{d}" for d in DECIMALS])
def exported(request, tmp_path_factory) -> Exported:
    folder = tmp_path_factory.mktemp("roundtrip") / "set"
    setfolders.make_set(folder, setfolders.all_families(), seed=40,
                        versions=1, decimals=request.param)
    return export_all(folder)


# --- grading one typed answer in each target -------------------------------------------------


def metadata(item: ET.Element) -> dict[str, str]:
    return {f.findtext("fieldlabel"): f.findtext("fieldentry")
            for f in item.iter("qtimetadatafield")}


def grade(ex: Exported, target: str, pid: str, index: int, typed: str) -> tuple[bool, str]:
    """(right, feedback shown) for ``typed`` as the answer to value ``index`` of ``pid``."""
    if target == "moodle":
        question = ex.moodle[pid]
        alternatives = moodle_alternatives(ex, pid)[index]
        chosen = moodle_numerical(alternatives, Decimal(typed.replace(MINUS, "-")))
        return (chosen is not None and chosen["fraction"] == 1,
                chosen["feedback"] if chosen else "")
    if target == "gift":
        question = ex.gift[pid][index]
        chosen = moodle_numerical(question.answers, Decimal(typed))
        return (chosen is not None and chosen["fraction"] == 1,
                chosen["feedback"] if chosen else "")
    if target == "canvas":
        item = ex.canvas[pid]
        kind = ex.once(("kind", pid), lambda: metadata(item)["question_type"])
        general = ex.once(("general", pid), lambda: "".join(
            item.find("itemfeedback[@ident='general_fb']").itertext()))
        if kind == "numerical_question":
            return canvas_numerical(item, typed), general
        if kind == "short_answer_question":
            return canvas_short(item, typed), general
        blanks = ex.once(("blanks", pid), lambda: list(canvas_blanks(item).values()))
        return typed.strip().lower() in blanks[index], general
    item = ex.qti21[pid]
    response = item.responses()[index]
    outcomes = item.run({response: typed})
    return outcomes["SCORE"] > 0, "\n".join(item.feedback(outcomes))


def moodle_alternatives(ex: Exported, pid: str) -> list[list[dict]]:
    """Per graded value of a Moodle question, its answers in order."""
    question = ex.moodle[pid]

    def read() -> list[list[dict]]:
        if question.get("type") == "cloze":
            return [b["alternatives"]
                    for b in moodle_blanks(question.findtext("questiontext/text"))]
        return [moodle_answers(question)]

    return ex.once(("moodle", pid), read)


def numeric_records(ex: Exported) -> list[dict]:
    """Records graded by number (not choices, not a derivation graded by hand)."""
    manual = {e.problem.id for e in ex.problem_set.problems if e.problem.derivation}
    return [r for r in ex.key["problems"] if "choices" not in r and r["id"] not in manual]


def centres(step: dict, d: int) -> list[Decimal]:
    unit = Decimal(1).scaleb(-d)
    return sorted({Decimal(repr(step[k])).quantize(unit, rounding=ROUND_HALF_UP) + 0
                   for k in ("rounded", "value")})


# --- the round trip --------------------------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS)
def test_intended_answers_are_right_and_one_unit_off_is_wrong(exported, target):
    assert check_intended(exported, target) >= 20


def check_intended(ex: Exported, target: str) -> int:
    """Every intended answer of every graded value right, one unit off wrong; the count."""
    checked = 0
    for record in numeric_records(ex):
        d = record["decimals"]
        unit = Decimal(1).scaleb(-d)
        for index, step in enumerate(record["steps"]):
            right = centres(step, d)
            typed = [f"{c:.{d}f}" for c in right]
            if not (target == "canvas" and metadata(ex.canvas[record["id"]])["question_type"]
                    != "numerical_question"):
                typed.append(repr(step["value"]))  # the exact value: a number comparison
            for text in typed:
                assert grade(ex, target, record["id"], index, text)[0], (target, step, text)
            for c in right:
                for wrong in (c - unit, c + unit):
                    if wrong not in right:
                        text = f"{wrong:.{d}f}"
                        assert not grade(ex, target, record["id"], index, text)[0], (
                            target, record["id"], step["name"], text)
            checked += 1
    return checked


@pytest.mark.parametrize("target", TARGETS)
def test_multiple_choice_grades_the_keyed_choice_only(exported, target):
    ex = exported
    records = [r for r in ex.key["problems"] if "choices" in r]
    assert records
    for record in records:
        pid, n = record["id"], len(record["choices"])
        for choice in range(n):
            if target == "moodle":
                answers = ex.moodle[pid].findall("answer")
                right = Decimal(answers[choice].get("fraction")) == 100
            elif target == "gift":
                right = ex.gift[pid][0].answers[choice]["fraction"] == 1
            elif target == "canvas":
                item = ex.canvas[pid]
                labels = [label.get("ident") for label in item.iter("response_label")]
                keyed = item.findtext("resprocessing/respcondition/conditionvar/varequal")
                right = labels[choice] == keyed
            else:
                item = ex.qti21[pid]
                labels = [c.get("identifier") for c in item.root.iter("simpleChoice")]
                right = item.run({"RESPONSE": labels[choice]})["SCORE"] > 0
            assert right == (choice == record["answer"]), (target, pid, choice)


def test_canvas_text_blanks_accept_every_spelling_of_a_right_answer(exported):
    ex, seen = exported, 0
    for record in numeric_records(ex):
        item = ex.canvas[record["id"]]
        if metadata(item)["question_type"] == "numerical_question":
            continue
        d = record["decimals"]
        for index, step in enumerate(record["steps"]):
            for c in centres(step, d):
                text = f"{c:.{d}f}"
                if d:  # extra trailing zeros, a decimal comma
                    forms = [text, text + "0", text + "00", text.replace(".", ",")]
                else:  # 2.0 for 2
                    forms = [text, text + ".0", text + ".00", text + ",0"]
                if c > 0:
                    forms.append("+" + text)
                if c < 0:
                    forms.append(text.replace("-", MINUS))
                if d and abs(c) < 1:
                    forms.append(text.replace("0.", ".", 1))
                for form in forms:
                    assert grade(ex, "canvas", record["id"], index, f" {form} ")[0], (
                        record["id"], step["name"], form)
                    seen += 1
    assert seen


def test_canvas_never_asks_a_numerical_question_beyond_four_decimals(exported):
    ex = exported
    for record in ex.key["problems"]:
        kind = metadata(ex.canvas[record["id"]])["question_type"]
        single = "choices" not in record and len(record["steps"]) == 1
        if single:
            assert kind == ("numerical_question" if record["decimals"] <= 4
                            else "short_answer_question"), record["id"]
        if kind == "numerical_question":
            assert record["decimals"] <= 4
            # What the quiz page submits for the key value typed in full is still right.
            for c in centres(record["steps"][0], record["decimals"]):
                assert canvas_numerical(ex.canvas[record["id"]], f"{c:.{record['decimals']}f}")


def mistake_values(ex: Exported, target: str, pid: str, index: int) -> dict[str, str]:
    """Mistake value -> feedback, as each target lists them."""
    if target == "moodle":
        alternatives = moodle_alternatives(ex, pid)[index]
    elif target == "gift":
        alternatives = ex.gift[pid][index].answers
    else:
        raise ValueError(target)
    return {a["answer"]: a["feedback"] for a in alternatives
            if a["fraction"] == 0 and a["answer"] != "*"}


def test_mistake_values_are_wrong_and_get_their_message_everywhere(exported):
    assert check_mistakes(exported) >= 5


def check_mistakes(ex: Exported) -> int:
    """Every listed mistake value wrong everywhere, with its message; the count."""
    from chainrule.check.mistakes import MISTAKES

    seen = 0
    by_id = {e.problem.id: e.problem for e in ex.problem_set.problems}
    for record in numeric_records(ex):
        pid, d = record["id"], record["decimals"]
        problem = by_id[pid]
        for index, step in enumerate(record["steps"]):
            listed = mistake_values(ex, "moodle", pid, index)
            assert mistake_values(ex, "gift", pid, index) == listed
            assert len(listed) <= 3
            right = centres(step, d)
            for value, feedback in listed.items():
                assert Decimal(value) not in right, (pid, step["name"], value)
                assert value == f"{Decimal(value):.{d}f}"
                ids = mistake_ids(problem, step["name"], Decimal(value))
                assert ids, (pid, step["name"], value)
                messages = [MISTAKES[i].describe(problem.trace, step["name"])[0] for i in ids]
                assert any(m in html.unescape(feedback) for m in messages), (feedback, ids)
                for target in TARGETS:
                    ok, shown = grade(ex, target, pid, index, value)
                    assert not ok, (target, pid, step["name"], value)
                    assert any(m in html.unescape(shown) for m in messages), (target, ids)
                    if target == "canvas":  # listed in the general feedback, with its value
                        assert f"= {value}: " in shown
                seen += 1
    return seen


def mistake_ids(problem, name: str, value: Decimal) -> list[str]:
    """The catalogued mistakes that give ``value`` at the problem's decimals: each wrong
    formula at the correct rounded earlier values, or the step's own formula from inputs
    rounded to fewer decimals (SymPy, 30 digits; log clipped at 1e-15 as the README
    documents; a later step a formula needs is computed from the rounded chain)."""
    import sympy as sp

    from chainrule.check.mistakes import mistake_formulas

    unit = Decimal(1).scaleb(-problem.decimals)
    trace = problem.trace

    def at(formula, values) -> Decimal | None:
        subs = {s: sp.Float(repr(values[s.name]), 30) for s in formula.free_symbols}
        clipped = formula.replace(sp.log, lambda x: sp.log(sp.Max(x, sp.Float("1e-15", 30))))
        number = sp.N(clipped.xreplace(subs), 30)
        if not number.is_real or not number.is_finite:
            return None
        return Decimal(str(number)).quantize(unit, rounding=ROUND_HALF_UP)

    found = []
    for mistake, formula in mistake_formulas(trace, name):
        if all(s.name in problem.rounded for s in formula.free_symbols) and at(
                formula, problem.rounded) == value:
            found.append(mistake.id)
    formula = trace[name].formula
    inputs = [s.name for s in formula.free_symbols if s.name not in trace.givens]
    for fewer in range(problem.decimals - 1, -1, -1):
        coarse = dict(problem.rounded)
        for n in inputs:
            coarse[n] = float(Decimal(repr(coarse[n])).quantize(
                Decimal(1).scaleb(-fewer), rounding=ROUND_HALF_UP))
        if inputs and at(formula, coarse) == value:
            found.append("rounded_too_early")
            break
    return found


def test_question_text_says_how_many_decimals_and_how_to_type(exported):
    ex = exported
    for record in numeric_records(ex):
        d = record["decimals"]
        for target, text in (
            ("moodle", ex.moodle[record["id"]].findtext("questiontext/text")),
            ("gift", ex.gift[record["id"]][0].text),
            ("canvas", ex.canvas[record["id"]].findtext("presentation/material/mattext")),
            ("qti21", "".join(ex.qti21[record["id"]].root.find("itemBody").itertext())),
        ):
            assert f"rounded to {d} decimals" in text, (target, record["id"])
            assert ("whole number" in text) if d == 0 else (f"with {d} decimal" in text)


@pytest.mark.parametrize("decimals", DECIMALS)
def test_single_values_grade_alike_in_every_target(tmp_path, decimals):
    """One-value problems: numerical questions (in Canvas a short answer beyond 4 decimals)."""
    folder = tmp_path / "set"
    setfolders.make_set(folder, ["loss_derivative"], seed=7, versions=2, decimals=decimals,
                        options={"loss": "bce"})
    ex = export_all(folder)
    assert [len(r["steps"]) for r in ex.key["problems"]] == [1, 1]
    for target in TARGETS:
        assert check_intended(ex, target) == 2
    kinds = {metadata(item)["question_type"] for item in ex.canvas.values()}
    assert kinds == {"numerical_question" if decimals <= 4 else "short_answer_question"}
    test_canvas_never_asks_a_numerical_question_beyond_four_decimals(ex)
    if decimals > 4:  # typed text, every spelling
        test_canvas_text_blanks_accept_every_spelling_of_a_right_answer(ex)
    check_mistakes(ex)
    test_question_text_says_how_many_decimals_and_how_to_type(ex)


# --- the exhaustive part: more seeds and versions --------------------------------------------

SLOW_CHECKS = (
    *[(lambda ex, t=t: check_intended(ex, t)) for t in TARGETS],
    *[(lambda ex, t=t: test_multiple_choice_grades_the_keyed_choice_only(ex, t))
      for t in TARGETS],
    test_canvas_text_blanks_accept_every_spelling_of_a_right_answer,
    test_canvas_never_asks_a_numerical_question_beyond_four_decimals,
    check_mistakes,
    test_question_text_says_how_many_decimals_and_how_to_type,
)


@pytest.mark.slow
@pytest.mark.parametrize("decimals", DECIMALS)
def test_round_trip_over_more_seeds_and_versions(tmp_path, decimals):
    """Another seed, two versions per problem (other draws, other structures)."""
    folder = tmp_path / "set"
    setfolders.make_set(folder, setfolders.all_families(), seed=101 + decimals, versions=2,
                        decimals=decimals)
    ex = export_all(folder)
    for check in SLOW_CHECKS:
        check(ex)
