"""The four LMS targets beyond grading: Canvas's settings link, hostile names, marks, formula
steps graded by hand, the number of mistake answers, GIFT's per-version categories, the QTI
2.1 package, and the commands."""

from __future__ import annotations

import html
import json
import re
import shutil
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import setfolders
from chainrule.commands.export import export
from chainrule.export import (
    canvas_package,
    export_notes,
    gift_text,
    load_set,
    moodle_xml,
    qti21_package,
)
from lms_formats import (
    Qti21Item,
    moodle_blanks,
    moodle_plain,
    parse_gift,
    split_category_path,
    strip_ns,
)
from test_export_roundtrip import export_all, metadata, unzip

HOSTILE = ("Exam & <b>Q</b> < > \" ' } # ~ $ \\ {1:NUMERICAL:=1} ]]> ]]]]> //x:: "
           "\u8003\u8bd5 \u554f\u984c")
CONTROL = "\x01\x08\x1f"
TARGETS = ("moodle", "gift", "canvas", "qti21")


def make_set(folder: Path, families: list[str], **options: Any) -> Path:
    return setfolders.make_set(folder, families, **{"seed": 17, **options})


def edit_key(folder: Path, change: Any) -> None:
    key = json.loads((folder / "key.json").read_text(encoding="utf-8"))
    change(key)
    (folder / "key.json").write_text(json.dumps(key), encoding="utf-8")


@pytest.fixture(scope="module")
def small_set(tmp_path_factory):
    return make_set(tmp_path_factory.mktemp("targets") / "set",
                    ["backprop", "loss_value", "concept"], versions=2)


# --- Canvas: the settings file belongs to the quiz -----------------------------------------


def test_canvas_uses_one_identifier_in_all_four_places(small_set):
    files = unzip(canvas_package(load_set(small_set)))
    manifest = strip_ns(ET.fromstring(files["imsmanifest.xml"]))
    (resource,) = manifest.findall("resources/resource[@type='imsqti_xmlv1p2']")
    ident = resource.get("identifier")
    assessment_file = resource.find("file").get("href")
    assert assessment_file == f"{ident}/{ident}.xml"  # the folder
    assessment = strip_ns(ET.fromstring(files[assessment_file])).find("assessment")
    assert assessment.get("ident") == ident  # Canvas matches the settings by this
    meta = strip_ns(ET.fromstring(files[f"{ident}/assessment_meta.xml"]))
    assert meta.get("identifier") == ident
    assert meta.findtext("assignment/quiz_identifierref") == ident
    (dependency,) = resource.findall("dependency")
    (meta_resource,) = [r for r in manifest.iter("resource")
                        if r.get("identifier") == dependency.get("identifierref")]
    assert meta_resource.get("href") == f"{ident}/assessment_meta.xml"


# --- hostile text -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = make_set(tmp_path_factory.mktemp("hostile") / "set",
                      ["forward", "loss_value", "concept"], versions=2)

    def change(key):
        key["title"] = HOSTILE + CONTROL
        for record in key["problems"]:
            record["title"] = HOSTILE

    edit_key(folder, change)
    return folder, export_all(folder)


def test_hostile_names_stay_well_formed_and_print_literally_in_moodle(hostile):
    folder, _ = hostile
    data = moodle_xml(load_set(folder))
    root = ET.fromstring(data)  # well-formed
    shown = HOSTILE + "\ufffd" * len(CONTROL)
    categories = [q.findtext("category/text") for q in root.findall("question[@type='category']")]
    assert split_category_path(categories[0]) == ["$course$", shown]
    assert split_category_path(categories[1]) == ["$course$", shown, "01 forward"]
    for question in root.findall("question"):
        if question.get("type") == "category":
            continue
        assert HOSTILE in moodle_plain(question.findtext("name/text"))
        text = question.findtext("questiontext/text")
        if question.get("type") == "cloze":
            assert len(moodle_blanks(text)) >= 2
    # Written in CDATA, as Moodle's exporter does: its reader keeps the spaces in
    # "Exam & <b>Q</b>".
    assert b"<text><![CDATA[$course$/Exam &amp; &lt;b&gt;Q&lt;//b&gt;" in data


def test_hostile_names_print_literally_in_gift(hostile):
    _, ex = hostile
    shown = HOSTILE + "\ufffd" * len(CONTROL)
    questions = [q for group in ex.gift.values() for q in group]
    assert questions
    for question in questions:
        assert HOSTILE in question.name
        names = split_category_path(question.category)
        assert names[:2] == ["$course$", shown]
    kinds = {q.kind for q in questions}
    assert kinds == {"numerical", "multichoice"}


def test_hostile_names_print_literally_in_canvas_and_qti21(hostile):
    folder, ex = hostile
    shown = HOSTILE + "\ufffd" * len(CONTROL)
    files = unzip(canvas_package(load_set(folder)))
    for data in files.values():
        root = strip_ns(ET.fromstring(data))
        if root.tag == "questestinterop":
            assert root.find("assessment").get("title") == shown
        if root.tag == "quiz":
            assert root.findtext("title") == shown
            assert html.escape(HOSTILE) in root.findtext("description")
    assert all(HOSTILE in item.get("title") for item in ex.canvas.values())
    files = unzip(qti21_package(load_set(folder)))
    test = strip_ns(ET.fromstring(files["test.xml"]))
    assert test.get("title") == shown
    assert all(HOSTILE in item.root.get("title") for item in ex.qti21.values())


def test_hostile_question_text_is_inert_everywhere(hostile):
    folder, ex = hostile
    for question in ex.moodle.values():
        assert "<b>Q</b>" not in question.findtext("questiontext/text")
    for group in ex.gift.values():
        for question in group:
            assert "<b>" not in question.text
    data = b"".join(unzip(canvas_package(load_set(folder))).values())
    assert b"<b>Q" not in data.replace(b"&lt;b&gt;Q", b"")


# --- marks ------------------------------------------------------------------------------------


def test_marks_from_the_key_reach_every_export(tmp_path):
    folder = make_set(tmp_path / "set", ["forward", "loss_value", "concept"], versions=2)

    def change(key):
        for record in key["problems"]:
            record["marks"] = {"forward": 18, "loss_value": 10, "concept": 2.5}[record["family"]]

    edit_key(folder, change)
    key = json.loads((folder / "key.json").read_text(encoding="utf-8"))
    ex = export_all(folder)
    for record in key["problems"]:
        marks, pid = Decimal(str(record["marks"])), record["id"]
        question = ex.moodle[pid]
        if question.get("type") == "cloze":
            blanks = moodle_blanks(question.findtext("questiontext/text"))
            assert sum(b["weight"] for b in blanks) == marks  # Moodle's default mark
            assert max(b["weight"] for b in blanks) - min(b["weight"] for b in blanks) <= 1
        else:
            assert Decimal(question.findtext("defaultgrade")) == marks
        assert Decimal(metadata(ex.canvas[pid])["points_possible"]) == marks
        item = ex.qti21[pid]
        assert item.run({})["MAXSCORE"] == marks
    files = unzip(canvas_package(load_set(folder)))
    (assessment,) = [n for n in files if n.count("/") and not n.endswith("meta.xml")]
    root = strip_ns(ET.fromstring(files[assessment]))
    per_item = [Decimal(s.findtext("selection_ordering/selection/selection_extension/"
                                   "points_per_item")) for s in root.iter("section")
                if s.find("selection_ordering") is not None]
    assert per_item == [Decimal(18), Decimal(10), Decimal("2.5")]
    (meta,) = [n for n in files if n.endswith("meta.xml")]
    assert strip_ns(ET.fromstring(files[meta])).findtext("points_possible") == "30.5"


def test_qti21_score_adds_up_to_the_marks_when_every_value_is_right(tmp_path):
    folder = make_set(tmp_path / "set", ["forward"], versions=1)
    edit_key(folder, lambda key: key["problems"][0].update(marks=7))
    ex = export_all(folder)
    record = json.loads((folder / "key.json").read_text(encoding="utf-8"))["problems"][0]
    item = ex.qti21[record["id"]]
    typed = {r: repr(s["rounded"]) for r, s in zip(item.responses(), record["steps"],
                                                    strict=True)}
    assert abs(item.run(typed)["SCORE"] - 7) < Decimal("1e-9")
    first = item.responses()[0]
    assert abs(item.run({**typed, first: "999"})["SCORE"] - 7 * (1 - Decimal(1) / len(typed))) \
        < Decimal("1e-9")


@pytest.mark.parametrize("marks, message", [
    (0, "more than 0"), (-1, "more than 0"), ("many", "expected a number"), (True, "number"),
    (1e9, "at most"), ("nan", "more than 0"),
])
def test_bad_marks_are_one_clear_error(tmp_path, marks, message):
    folder = make_set(tmp_path / "set", ["loss_value"], versions=1)
    edit_key(folder, lambda key: key["problems"][0].update(marks=marks))
    result = CliRunner().invoke(export, ["moodle", str(folder)])
    assert result.exit_code == 2 and message in result.output
    assert "problems[1].marks" in result.output  # counted from 1 and result.output.count("\n") == 1
    assert not (folder / "moodle.xml").exists()


def test_marks_moodle_cannot_spread_are_noted(tmp_path):
    folder = make_set(tmp_path / "set", ["forward"], versions=1)
    edit_key(folder, lambda key: key["problems"][0].update(marks=2.5))
    notes = export_notes(load_set(folder), "moodle")
    assert any("2.5 marks cannot be spread" in n for n in notes)
    result = CliRunner().invoke(export, ["moodle", str(folder)])
    assert result.exit_code == 0 and "note: " in result.output


# --- formula steps: graded by hand ------------------------------------------------------------


def test_a_formula_step_makes_a_manually_graded_essay_with_the_key_formula(tmp_path):
    from chainrule.export import lms_question

    folder = make_set(tmp_path / "set", ["loss_derivative", "backprop"], versions=1)
    problem_set = load_set(folder)
    entry = problem_set.problems[0]
    name = entry.problem.asked[0]
    formula_tex = entry.problem.trace.formula_tex(name)
    # A derivation problem: its steps' keys are formulas (as the derivation family makes).
    entry.problem.context = {**entry.problem.context, "formulas_only": True, "formula_key": {
        name: {"formula": entry.problem.trace.formula_text(name), "formula_tex": formula_tex}}}
    built = lms_question(entry)
    assert built.kind == "essay" and built.graded[0].manual
    key_html = html.escape(formula_tex, quote=False)
    pid = entry.shown_code
    root = ET.fromstring(moodle_xml(problem_set))
    (question,) = [q for q in root.findall("question[@type='essay']")
                   if pid in q.findtext("name/text")]
    assert key_html in question.findtext("graderinfo/text")
    assert key_html in question.findtext("generalfeedback/text")
    assert question.findtext("responseformat") == "editor"
    gift = [q for q in parse_gift(gift_text(problem_set).decode()) if pid in q.name]
    assert [q.kind for q in gift] == ["essay"] and formula_tex in html.unescape(
        gift[0].general_feedback)
    files = unzip(canvas_package(problem_set))
    (assessment,) = [n for n in files if n.count("/") and not n.endswith("meta.xml")]
    items = strip_ns(ET.fromstring(files[assessment])).iter("item")
    (item,) = [i for i in items if pid in i.get("title")]
    assert metadata(item)["question_type"] == "essay_question"
    assert formula_tex in item.findtext("itemfeedback/flow_mat/material/mattext").replace(
        "&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    files = unzip(qti21_package(problem_set))
    (item21,) = [Qti21Item(d) for n, d in files.items() if n.startswith("items/")
                 and pid in Qti21Item(d).root.get("title")]
    assert item21.root.find("itemBody/extendedTextInteraction") is not None
    outcomes = item21.run({"RESPONSE": "anything"})
    assert outcomes["SCORE"] == 0  # graded by hand
    assert any(formula_tex in text for text in item21.feedback(outcomes))
    # The other problem is untouched: still graded automatically.
    assert lms_question(problem_set.problems[1]).kind == "cloze"
    assert any("graded by hand" in n for n in export_notes(problem_set, "canvas"))


# --- how many mistake answers ---------------------------------------------------------------


def test_mistakes_option_sets_the_number_of_mistake_answers(small_set):
    problem_set = load_set(small_set)

    def counts(n: int) -> list[int]:
        root = ET.fromstring(moodle_xml(problem_set, mistakes=n))
        found = []
        for question in root.findall("question[@type='cloze']"):
            for blank in moodle_blanks(question.findtext("questiontext/text")):
                found.append(sum(a["fraction"] == 0 and a["answer"] != "*"
                                 for a in blank["alternatives"]))
        return found

    none, one, default = counts(0), counts(1), counts(3)
    assert set(none) == {0} and max(one) == 1 and max(default) <= 3
    assert sum(default) > sum(one) > 0
    assert all(a <= b for a, b in zip(one, default, strict=True))
    assert "%0%" not in gift_text(problem_set, mistakes=0).decode()


# --- GIFT -------------------------------------------------------------------------------------


def test_gift_puts_each_value_of_a_problem_in_its_own_category_per_version(small_set):
    key = json.loads((small_set / "key.json").read_text(encoding="utf-8"))
    text = gift_text(load_set(small_set)).decode()
    assert "fixed questions" in text.split("\n\n")[0]
    questions = parse_gift(text)
    for record in key["problems"]:
        mine = [q for q in questions if q.name.endswith(f"({record['code']})")]
        position = 1 + [r["family"] for r in key["problems"]
                        if r["version"] == record["version"]].index(record["family"])
        group = f"$course$/Practice/{position:02d} {record['family']}"
        several = any("choices" not in r and len(r["steps"]) > 1 for r in key["problems"]
                      if r["family"] == record["family"])
        if several:  # every version of that position gets one category per version
            assert {q.category for q in mine} == {f"{group}/{record['version']}"}
        if "choices" not in record and len(record["steps"]) > 1:
            assert len(mine) == len(record["steps"])
            assert {q.category for q in mine} == {f"{group}/{record['version']}"}
            for i, (question, step) in enumerate(zip(mine, record["steps"], strict=True)):
                assert question.kind == "numerical"
                assert f"value {i + 1} of {len(record['steps'])}" in question.text
                assert f" {step['name']} " in question.name
        else:
            (question,) = mine
            assert question.category == (f"{group}/{record['version']}" if several else group)


def test_gift_escapes_reserved_characters_and_keeps_mathjax(small_set):
    text = gift_text(load_set(small_set)).decode()
    for question in parse_gift(text):
        assert "\\(" in question.text or question.kind == "multichoice"
        assert "&#" not in question.text
    for line in text.split("\n"):
        if line.startswith("::"):
            body = re.sub(r"\\.", "", line)  # escaped characters
            assert body.count("{") == 1 and body.count("}") == 1 and body.endswith("}")


# --- QTI 2.1 ----------------------------------------------------------------------------------


def test_qti21_package_lists_every_file_and_draws_one_version_per_section(small_set):
    problem_set = load_set(small_set)
    files = unzip(qti21_package(problem_set))
    manifest = strip_ns(ET.fromstring(files["imsmanifest.xml"]))
    hrefs = {f.get("href") for f in manifest.iter("file")}
    assert hrefs | {"imsmanifest.xml"} == set(files)
    types = {r.get("type") for r in manifest.iter("resource")}
    assert types == {"imsqti_test_xmlv2p1", "imsqti_item_xmlv2p1"}
    test = strip_ns(ET.fromstring(files["test.xml"]))
    sections = test.findall("testPart/assessmentSection")
    assert len(sections) == len(problem_set.groups())
    for section, (_, _, entries) in zip(sections, problem_set.groups(), strict=True):
        assert section.find("selection").get("select") == "1"
        refs = [r.get("href") for r in section.findall("assessmentItemRef")]
        assert len(refs) == len(entries) and all(r in files for r in refs)
    for name, data in files.items():
        assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
        if name.startswith("items/"):
            root = ET.fromstring(data)
            assert root.tag == "{http://www.imsglobal.org/xsd/imsqti_v2p1}assessmentItem"
            order = [child.tag.rsplit("}", 1)[-1] for child in root]
            rank = {"responseDeclaration": 0, "outcomeDeclaration": 1, "itemBody": 2,
                    "responseProcessing": 3, "modalFeedback": 4}
            assert order == sorted(order, key=rank.__getitem__)


def test_every_target_is_deterministic(small_set):
    problem_set = load_set(small_set)
    for build in (moodle_xml, gift_text, canvas_package, qti21_package):
        assert build(problem_set) == build(load_set(small_set))


# --- the commands -----------------------------------------------------------------------------


def run(*args):
    return CliRunner().invoke(export, [str(a) for a in args])


@pytest.mark.parametrize("target, default", [("gift", "gift.txt"), ("qti21", "qti21.zip"),
                                             ("moodle", "moodle.xml"),
                                             ("canvas", "canvas.zip")])
def test_commands_write_once_and_never_replace_without_force(small_set, tmp_path, target,
                                                             default):
    folder = Path(shutil.copytree(small_set, tmp_path / "set"))
    result = run(target, folder, "--mistakes", "2")
    assert result.exit_code == 0, result.output
    written = (folder / default).read_bytes()
    build = {"gift": gift_text, "qti21": qti21_package, "moodle": moodle_xml,
             "canvas": canvas_package}[target]
    assert written == build(load_set(folder), mistakes=2)
    if target == "gift":
        assert "fixed questions" in result.output
    again = run(target, folder)
    assert again.exit_code == 2 and "--force" in again.output
    assert run(target, folder, "--mistakes", "21").exit_code == 2
    assert run(target, folder, "--force").exit_code == 0
    assert (folder / default).read_bytes() == build(load_set(folder))
    (folder / default).write_bytes(b"mine")  # edited since: never replaced
    assert run(target, folder, "--force").exit_code == 2
    assert (folder / default).read_bytes() == b"mine"


def test_help_of_every_target_has_an_example():
    for target in TARGETS:
        result = run(target, "--help")
        assert result.exit_code == 0 and "Example" in result.output
        assert f"chainrule export {target}" in result.output and "--mistakes" in result.output


# --- students never see an ID that regenerates the worked key ---------------------------------


def test_no_export_shows_a_regenerating_problem_id(tmp_path):
    folder = make_set(tmp_path / "set", setfolders.all_families(), versions=2)
    key = json.loads((folder / "key.json").read_text(encoding="utf-8"))
    problem_set = load_set(folder)
    # The ID's family and seed alone regenerate the problem: neither may appear anywhere.
    ids = {r["id"].split("~")[0] for r in key["problems"]}
    files = {"moodle.xml": moodle_xml(problem_set), "gift.txt": gift_text(problem_set),
             **{f"canvas:{n}": d for n, d in unzip(canvas_package(problem_set)).items()},
             **{f"qti21:{n}": d for n, d in unzip(qti21_package(problem_set)).items()}}
    for name, data in files.items():
        text = data.decode("utf-8")
        assert not [pid for pid in ids if pid in text], name
    # Each question's name or title carries the short code of key.json instead.
    root = ET.fromstring(files["moodle.xml"])
    names = [q.findtext("name/text") for q in root.findall("question[@type!='category']")]
    codes = [r["code"] for r in key["problems"]]
    assert sorted(re.search(r"\(([^()]+)\)$", n).group(1) for n in names) == sorted(codes)
    titles = [i.get("title") for n, d in files.items() if n.startswith("canvas:")
              and n.count("/") and not n.endswith("meta.xml")
              for i in strip_ns(ET.fromstring(d)).iter("item")]
    assert sorted(re.search(r"\(([^()]+)\)$", t).group(1) for t in titles) == sorted(codes)
    gift_names = {re.search(r"\(([^()]+)\)$", q.name).group(1)
                  for q in parse_gift(files["gift.txt"].decode("utf-8"))}
    assert gift_names == set(codes)
