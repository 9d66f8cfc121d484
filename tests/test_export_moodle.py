"""Moodle XML export: every blank's value and tolerance against key.json, the shape of
Moodle's own fixtures, cloze escaping, hostile text, and the command's bad input.

The blanks are read back with the cloze reader of ``lms_formats`` (Moodle's documented
cloze syntax; feedback HTML-decoded), not with chainrule's code, and graded as Moodle grades
numerical answers: right when ``|answer - value| <= tolerance`` for an alternative of
fraction 100 (named-mistake alternatives carry fraction 0).
"""

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
from chainrule.api import load_problem
from chainrule.commands.export import export
from chainrule.export import load_set, moodle_xml
from lms_formats import moodle_blanks, moodle_plain, split_category_path
from setfolders import all_families

ROOT = Path(__file__).resolve().parents[1]
NOTES = ROOT / "examples" / "notes-2-2-1.yaml"
HOSTILE = 'Quiz ]]> <script>alert("x")</script> & {1:NUMERICAL:=1} {#1} a/b/ ~#"\\ end'

# Moodle's question_bank::fraction_options(), as percentages in XML.
MOODLE_FRACTIONS = {Decimal(f) for f in (
    "100", "90", "83.33333", "80", "75", "70", "66.66667", "60", "50", "40", "33.33333",
    "30", "25", "20", "16.66667", "14.28571", "12.5", "11.11111", "10", "5", "0")}

# Child elements in the order Moodle's exporter writes them (question/format/xml/tests:
# test_export_multianswer, test_export_numerical, multichoice.xml; idnumber as in
# nested_categories_with_questions.xml).
SHAPES = {
    "cloze": ["name", "questiontext", "generalfeedback", "penalty", "hidden", "idnumber"],
    "numerical": ["name", "questiontext", "generalfeedback", "defaultgrade", "penalty",
                  "hidden", "idnumber", "answer+", "unitgradingtype", "unitpenalty",
                  "showunits", "unitsleft"],
    "multichoice": ["name", "questiontext", "generalfeedback", "defaultgrade", "penalty",
                    "hidden", "idnumber", "single", "shuffleanswers", "answernumbering",
                    "correctfeedback", "partiallycorrectfeedback", "incorrectfeedback",
                    "shownumcorrect", "answer+"],
    "essay": ["name", "questiontext", "generalfeedback", "defaultgrade", "penalty", "hidden",
              "idnumber", "responseformat", "responserequired", "responsefieldlines",
              "attachments", "attachmentsrequired", "graderinfo", "responsetemplate"],
    "category": ["category", "info"],
}

# --- sets ---------------------------------------------------------------------------------


def make_set(folder: Path, families: list[str], **options: Any) -> Path:
    """A problem-set folder for these tests (seed 11 unless given)."""
    return setfolders.make_set(folder, families, **{"seed": 11, **options})


def add_givens_file_problem(folder: Path) -> str:
    """Add the notes' 2-2-1 example (a givens-file problem, rebuilt from its structure)."""
    problem = load_problem(str(NOTES)).core
    key = json.loads((folder / "key.json").read_text(encoding="utf-8"))
    record = {**problem.key(), "version": key["versions"][0]}
    key["problems"].append(record)
    (folder / "key.json").write_text(json.dumps(key, indent=2), encoding="utf-8")
    questions = folder / f"questions-{key['versions'][0]}.md"
    questions.write_text(questions.read_text(encoding="utf-8")
                         + f"\n## Problem 99 · `{problem.id}`\n", encoding="utf-8")
    return problem.id


@pytest.fixture(scope="module")
def full_set(tmp_path_factory):
    """Every registered family, versions A and B, plus a givens-file backprop problem."""
    folder = make_set(tmp_path_factory.mktemp("sets") / "all", all_families())
    add_givens_file_problem(folder)
    return folder


@pytest.fixture(scope="module")
def exported(full_set):
    data = moodle_xml(load_set(full_set))
    return data, ET.fromstring(data)


def questions_by_id(root: ET.Element) -> dict[str, tuple[ET.Element, str]]:
    """Short code (from the question name) -> (question, the category path it stands in)."""
    found, category = {}, None
    for question in root.findall("question"):
        if question.get("type") == "category":
            category = question.findtext("category/text")
            continue
        name = question.findtext("name/text")
        found[re.search(r"\(([^()]+)\)$", name).group(1)] = (question, category)
    return found


def graded_alternatives(question: ET.Element, kind: str) -> list[list[dict]]:
    """Per graded value, its alternatives: [{fraction, answer, tolerance, feedback}]."""
    if kind == "cloze":
        return [b["alternatives"] for b in moodle_blanks(question.findtext("questiontext/text"))]
    return [[{"fraction": Decimal(a.get("fraction")) / 100, "answer": a.findtext("text"),
              "tolerance": Decimal(a.findtext("tolerance")),
              "feedback": a.findtext("feedback/text")} for a in question.findall("answer")]]


def accepts(alternatives: list[dict], value: Decimal) -> bool:
    """Moodle's numerical grading: an alternative of fraction 1 within its tolerance."""
    return any(a["fraction"] == 1 and abs(value - Decimal(a["answer"])) <= a["tolerance"]
               for a in alternatives)


def exact_decimal(value: float) -> Decimal:
    return Decimal(repr(value))


def check_step(alternatives: list[dict], step: dict, decimals: int) -> None:
    unit = Decimal(1).scaleb(-decimals)
    right = [a for a in alternatives if a["fraction"] == 1]
    assert right, step["name"]
    for alt in right:
        assert alt["tolerance"] == Decimal("0.501") * unit, step["name"]
        assert alt["answer"] == f"{Decimal(alt['answer']):.{decimals}f}"
    # Every correct key value is accepted: the student's rounded chain, the exact value and
    # the exact value rounded to the asked decimals.
    for value in (step["rounded"], step["value"]):
        assert accepts(alternatives, exact_decimal(value)), (step, value)
        rounded = exact_decimal(value).quantize(unit, rounding="ROUND_HALF_UP")
        assert accepts(alternatives, rounded), (step, rounded)
    # One unit in the last decimal plus the tolerance beyond the key values is rejected.
    centres = [Decimal(a["answer"]) for a in right]
    tol = right[0]["tolerance"]
    assert not accepts(alternatives, min(centres) - unit - tol), step
    assert not accepts(alternatives, max(centres) + unit + tol), step
    for centre in centres:
        for neighbour in (centre - unit, centre + unit):
            if neighbour not in centres:
                assert not accepts(alternatives, neighbour), (step, neighbour)
    assert {a["fraction"] for a in alternatives} <= {Decimal(0), Decimal(1)}


# --- the round trip -----------------------------------------------------------------------


def test_every_blank_of_every_problem_and_variant_grades_like_the_key(full_set, exported):
    _, root = exported
    key = json.loads((full_set / "key.json").read_text(encoding="utf-8"))
    found = questions_by_id(root)
    assert len(found) == len(key["problems"])
    shown = {(e.problem.id, e.version): e.shown_code for e in load_set(full_set).problems}
    kinds = set()
    for record in key["problems"]:
        question, _ = found[shown[record["id"], record.get("version")]]
        kind = ("multichoice" if "choices" in record
                else "essay" if record["family"] == "derivation"
                else "numerical" if len(record["steps"]) == 1 else "cloze")
        assert question.get("type") == kind, record["id"]
        kinds.add(kind)
        if kind == "essay":  # formulas, graded by hand: the key formulas guide the grader
            grader = html.unescape(question.findtext("graderinfo/text"))
            assert all(step["formula_tex"] in grader for step in record["steps"])
            continue
        if kind == "multichoice":
            answers = question.findall("answer")
            assert [a.findtext("text") for a in answers] == [html.escape(c, quote=False)
                                                           for c in record["choices"]]
            assert [a.get("fraction") for a in answers].index("100") == record["answer"]
            continue
        per_value = graded_alternatives(question, kind)
        assert len(per_value) == len(record["steps"]), record["id"]
        for alternatives, step in zip(per_value, record["steps"], strict=True):
            check_step(alternatives, step, record["decimals"])
    assert kinds == {"multichoice", "numerical", "cloze", "essay"}


def test_the_set_covers_every_family_and_a_givens_file_problem(full_set):
    key = json.loads((full_set / "key.json").read_text(encoding="utf-8"))
    families = {r["family"] for r in key["problems"]}
    assert families == set(all_families()) and {"backprop", "forward"} <= families
    assert any("-file-" in r["id"] for r in key["problems"])


def test_one_category_per_position_holding_every_version(full_set, exported):
    _, root = exported
    problem_set = load_set(full_set)
    found = questions_by_id(root)
    for position, family, entries in problem_set.groups():
        path = f"$course$/Practice/{position:02d} {family}"
        assert [found[e.shown_code][1] for e in entries] == [path] * len(entries)
        if position <= len(all_families()):
            assert sorted(e.version for e in entries) == ["A", "B"]
    for pid, (question, _) in found.items():
        assert pid in question.findtext("name/text")


def test_structure_matches_moodles_fixtures(exported):
    data, root = exported
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<quiz>')
    assert root.tag == "quiz"
    for question in root.findall("question"):
        kind = question.get("type")
        tags = [child.tag for child in question]
        shape = SHAPES[kind]
        collapsed = [t for i, t in enumerate(tags) if not (i and t == tags[i - 1] == "answer")]
        assert collapsed == [t.rstrip("+") for t in shape], (kind, tags)
        for element in question.iter():
            if element.tag in ("questiontext", "generalfeedback", "feedback", "info",
                               "correctfeedback", "partiallycorrectfeedback",
                               "incorrectfeedback"):
                assert element.get("format") == "html" and element.find("text") is not None
        for answer in question.findall("answer"):
            assert Decimal(answer.get("fraction")) in MOODLE_FRACTIONS
            expected = ["text", "feedback", "tolerance"] if kind == "numerical" else [
                "text", "feedback"]
            assert [c.tag for c in answer] == expected
        if kind == "multichoice":
            assert question.findtext("single") == "true"
            assert question.findtext("shuffleanswers") == "false"


def test_solution_is_general_feedback_with_mathjax_delimiters(exported):
    _, root = exported
    for question in root.findall("question"):
        if question.get("type") == "category":
            continue
        feedback = question.findtext("generalfeedback/text")
        assert feedback.startswith("<")
        assert "$" not in feedback
        if question.get("type") != "multichoice":
            assert "\\[" in feedback and "\\]" in feedback
            assert "\\(" in feedback
        text = question.findtext("questiontext/text")
        assert "$" not in text and "\x02" not in text and "\x03" not in text


def test_cloze_feedback_has_no_reserved_character_and_decodes_exactly(exported):
    _, root = exported
    seen = 0
    for question in root.findall("question[@type='cloze']"):
        for blank in moodle_blanks(question.findtext("questiontext/text")):
            assert re.match(r"\{[0-9]+:NUMERICAL:=", blank["raw"])
            for alt in blank["alternatives"]:
                assert not set('}#~/"\\{') & set(alt["raw_feedback"].replace("&#", "")), alt
                if alt["fraction"] == 0 and alt["answer"] != "*":  # a named mistake
                    assert alt["feedback"].startswith("<p>"), alt
                    continue
                assert alt["feedback"].startswith("\\(") and alt["feedback"].endswith("\\)")
                assert "&#" not in alt["feedback"]
                seen += 1
    assert seen


def test_cloze_escaping_round_trips_through_moodles_parser():
    from chainrule.export.moodle import cloze_escape

    nasty = '<b>a</b> } # ~ / " \\ { &amp; \\( x_{1} \\) {1:SA:=x} ~= &#35;'
    raw = "{1:NUMERICAL:=1:0.5#" + cloze_escape(nasty) + "}"
    (blank,) = moodle_blanks("before " + raw + " after")
    (alt,) = blank["alternatives"]
    assert alt["feedback"] == nasty and alt["answer"] == "1"


def test_text_that_looks_like_a_blank_cannot_become_one(tmp_path):
    folder = make_set(tmp_path / "set", ["forward"], versions=1)
    key = json.loads((folder / "key.json").read_text(encoding="utf-8"))
    key["title"] = HOSTILE
    key["problems"][0]["title"] = HOSTILE
    (folder / "key.json").write_text(json.dumps(key), encoding="utf-8")
    data = moodle_xml(load_set(folder))
    root = ET.fromstring(data)
    (question,) = root.findall("question[@type='cloze']")
    assert len(moodle_blanks(question.findtext("questiontext/text"))) == len(
        key["problems"][0]["steps"])


def test_hostile_title_survives_intact_and_inert(tmp_path):
    folder = make_set(tmp_path / "set", ["backprop", "concept"], versions=2)
    key = json.loads((folder / "key.json").read_text(encoding="utf-8"))
    key["title"] = HOSTILE + "\x00\x1f"
    for record in key["problems"]:
        record["title"] = HOSTILE
    (folder / "key.json").write_text(json.dumps(key), encoding="utf-8")
    data = moodle_xml(load_set(folder))
    root = ET.fromstring(data)  # well-formed despite ]]>, <, & and control characters
    assert b"<script" not in data  # names are HTML-escaped, texts HTML; ]]> split in CDATA
    assert data.count(b"<![CDATA[") == data.count(b"]]>") - data.count(b"]]]]><![CDATA[>")
    categories = [q.findtext("category/text") for q in root.findall("question[@type='category']")]
    assert split_category_path(categories[0]) == ["$course$", HOSTILE + "\ufffd\ufffd"]
    assert split_category_path(categories[1])[1:] == [HOSTILE + "\ufffd\ufffd", "01 backprop"]
    info = root.find("question[@type='category']/info/text").text
    assert "<script" not in info and html.escape(HOSTILE) in info
    names = [moodle_plain(q.findtext("name/text")) for q in root.findall("question")
             if q.find("name")]
    assert names and all(HOSTILE in n for n in names)
    for question in root.findall("question[@type='cloze']"):
        assert len(moodle_blanks(question.findtext("questiontext/text"))) == len(
            key["problems"][0]["steps"])


def test_single_version_set_with_two_decimals(tmp_path):
    folder = make_set(tmp_path / "set", ["backprop", "forward"], versions=1, decimals=2,
                      seed=5)
    root = ET.fromstring(moodle_xml(load_set(folder)))
    key = json.loads((folder / "key.json").read_text(encoding="utf-8"))
    found = questions_by_id(root)
    for position, record in enumerate(key["problems"], start=1):
        question, category = found[record["code"]]
        assert category == f"$course$/Practice/{position:02d} {record['family']}"
        # Network problems raise two decimals to three (two significant digits per gradient).
        assert record["decimals"] == 3
        for alternatives, step in zip(graded_alternatives(question, "cloze"), record["steps"],
                                      strict=True):
            check_step(alternatives, step, record["decimals"])


def test_export_is_deterministic(full_set, exported):
    data, _ = exported
    assert moodle_xml(load_set(full_set)) == data


# --- the command --------------------------------------------------------------------------


def run(*args):
    return CliRunner().invoke(export, [str(a) for a in args])


def copy(full_set: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(full_set, tmp_path / "set"))


def test_command_writes_the_file_and_never_replaces_it_without_force(full_set, tmp_path,
                                                                      exported):
    folder = copy(full_set, tmp_path)
    result = run("moodle", folder)
    assert result.exit_code == 0, result.output
    target = folder / "moodle.xml"
    assert target.read_bytes() == exported[0]
    assert "moodle.xml" in result.output
    again = run("moodle", folder)
    assert again.exit_code == 2 and "--force" in again.output
    out = tmp_path / "deep" / "quiz.xml"
    assert run("moodle", folder, "--out", out).exit_code == 0 and out.exists()
    assert run("moodle", folder, "--force").exit_code == 0
    assert target.read_bytes() == exported[0]
    target.write_text("mine", encoding="utf-8")
    edited = run("moodle", folder, "--force")
    assert edited.exit_code == 2 and "changed since" in edited.output
    assert target.read_text(encoding="utf-8") == "mine"


def test_help_has_examples():
    for args in (["--help"], ["moodle", "--help"], ["canvas", "--help"]):
        result = run(*args)
        assert result.exit_code == 0 and "Example" in result.output
        assert "chainrule export" in result.output


def _tamper_step(folder: Path) -> None:
    key = json.loads((folder / "key.json").read_text(encoding="utf-8"))
    step = next(r for r in key["problems"] if r["steps"])["steps"][0]
    step["rounded"] += 0.001
    (folder / "key.json").write_text(json.dumps(key), encoding="utf-8")


def _tamper_givens(folder: Path) -> None:
    key = json.loads((folder / "key.json").read_text(encoding="utf-8"))
    record = next(r for r in key["problems"] if r["givens"] and "-file-" not in r["id"])
    name = next(iter(record["givens"]))
    record["givens"][name] += 1
    (folder / "key.json").write_text(json.dumps(key), encoding="utf-8")


def _bad_id(folder: Path) -> None:
    key = json.loads((folder / "key.json").read_text(encoding="utf-8"))
    key["problems"][0]["id"] = "zz-00000000"
    (folder / "key.json").write_text(json.dumps(key), encoding="utf-8")


def _drop_from_questions(folder: Path) -> None:
    key = json.loads((folder / "key.json").read_text(encoding="utf-8"))
    questions = folder / "questions-B.md"
    record = next(r for r in key["problems"] if r["version"] == "B")
    text = questions.read_text(encoding="utf-8")
    questions.write_text(text.replace(record["id"], "gone").replace(record["code"], "gone"),
                         encoding="utf-8")


@pytest.mark.parametrize("damage, message", [
    (lambda f: shutil.rmtree(f), "not a folder"),
    (lambda f: (f / "key.json").unlink(), "not a problem set"),
    (lambda f: (f / "key.json").write_text("{not json", encoding="utf-8"), "not valid JSON"),
    (lambda f: (f / "key.json").write_text('{"title": "x"}', encoding="utf-8"),
     "not a problem-set key"),
    (lambda f: (f / "questions-B.md").unlink(), "questions-B.md is missing"),
    (_drop_from_questions, "does not match questions-B.md"),
    (_tamper_step, "does not match the problem its ID regenerates"),
    (_tamper_givens, "givens do not match"),
    (_bad_id, "zz"),
])
def test_bad_input_is_one_clear_line_and_writes_nothing(full_set, tmp_path, damage, message):
    folder = copy(full_set, tmp_path)
    damage(folder)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    for kind in ("moodle", "canvas"):
        result = run(kind, folder, "--out", tmp_path / "out" / "quiz.file")
        assert result.exit_code == 2, result.output
        assert result.output.startswith("Error: ") and result.output.count("\n") == 1
        assert message in result.output
        assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_generate_then_export_keeps_a_hostile_spec_title(tmp_path):
    """The whole pipeline: chainrule generate on a spec with a hostile title, then export."""
    import yaml

    from chainrule.cli import main

    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({
        "title": HOSTILE, "seed": 3, "versions": 2, "instructions": HOSTILE,
        "problems": [{"family": "forward"}, {"family": "concept"}],
    }), encoding="utf-8")
    folder = tmp_path / "set"
    generated = CliRunner().invoke(main, ["generate", str(spec), "--out", str(folder)])
    assert generated.exit_code == 0, generated.output
    assert run("moodle", folder).exit_code == 0
    root = ET.fromstring((folder / "moodle.xml").read_bytes())
    first = root.find("question[@type='category']/category/text").text
    assert split_category_path(first) == ["$course$", HOSTILE]
    assert len(questions_by_id(root)) == 4
    assert run("canvas", folder).exit_code == 0


def test_long_titles_are_shortened_but_codes_kept(tmp_path):
    folder = make_set(tmp_path / "set", ["forward"], versions=1)
    key = json.loads((folder / "key.json").read_text(encoding="utf-8"))
    key["title"] = "T/" * 200
    key["problems"][0]["title"] = "x" * 400
    (folder / "key.json").write_text(json.dumps(key), encoding="utf-8")
    root = ET.fromstring(moodle_xml(load_set(folder)))
    name = root.find("question[@type='cloze']/name/text").text
    assert len(name) <= 255 and name.endswith(f"({key['problems'][0]['code']})")
    for category in root.iter("category"):
        assert all(len(n) <= 255 for n in split_category_path(category.findtext("text")))


def test_markdown_subset_becomes_escaped_html_with_mathjax_delimiters():
    from chainrule.export.html import markdown_html

    text = (
        "A **bold** `code` <script>x</script> & $a_{1} < b$ text.\n\n"
        "$$\nL = \\frac{1}{2}\n\n$$\n\n"
        "1. first $x$\n2. second\n\n"
        "- (A) *one*\n- (B) two\n\n"
        "| $i$ | $y$ |\n| --- | --- |\n| 1 | $|y|$ |\n"
    )
    assert markdown_html(text) == (
        "<p>A <strong>bold</strong> <code>code</code> &lt;script&gt;x&lt;/script&gt; &amp; "
        "\\(a_{1} &lt; b\\) text.</p>\n"
        "<p>\\[L = \\frac{1}{2}\\]</p>\n"
        "<ol><li>first \\(x\\)</li><li>second</li></ol>\n"
        "<ul><li>(A) <em>one</em></li><li>(B) two</li></ul>\n"
        "<table><thead><tr><th>\\(i\\)</th><th>\\(y\\)</th></tr></thead>"
        "<tbody><tr><td>1</td><td>\\(|y|\\)</td></tr></tbody></table>"
    )


def test_templates_folder_overrides_the_html_templates(tmp_path):
    folder = make_set(tmp_path / "set", ["forward"], versions=1)
    templates = tmp_path / "templates" / "html"
    templates.mkdir(parents=True)
    (templates / "solution.md.j2").write_text("Custom solution of `{{ p.id }}`.\n",
                                              encoding="utf-8")
    out = tmp_path / "quiz.xml"
    assert run("moodle", folder, "--out", out, "--templates", tmp_path / "templates").exit_code == 0
    feedback = ET.fromstring(out.read_bytes()).find(".//generalfeedback/text").text
    assert feedback.startswith("<p>Custom solution of <code>fw-")
    broken = tmp_path / "broken" / "html"
    broken.mkdir(parents=True)
    (broken / "question.md.j2").write_text("No blanks here.\n", encoding="utf-8")
    result = run("moodle", folder, "--out", tmp_path / "other.xml", "--templates",
                 broken.parent)
    assert result.exit_code == 2 and "exactly once" in result.output
    assert not (tmp_path / "other.xml").exists()
