"""Canvas QTI export: the package's manifest and files, question groups that draw one
version, every graded value against key.json, hostile text, and the command.

Answers are graded here as Canvas grades them: a numerical answer is right when it equals
the exact value or lies in the range of a condition that sets the score; a blank of a
fill-in-multiple-blanks question is right when the typed text is one of its correct answers.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import xml.etree.ElementTree as ET
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import setfolders
from chainrule.commands.export import export
from chainrule.export import canvas_package, load_set
from setfolders import all_families

HOSTILE = 'Quiz ]]> <script>alert("x")</script> & {1:NUMERICAL:=1} [z1] a/b ~#"\\ end'
TYPES = {"cloze": "fill_in_multiple_blanks_question", "numerical": "numerical_question",
         "essay": "essay_question",
         "multichoice": "multiple_choice_question"}


def make_set(folder: Path, families: list[str], **options: Any) -> Path:
    """A problem-set folder for these tests (seed 23 unless given)."""
    return setfolders.make_set(folder, families, **{"seed": 23, **options})


def parse(data: bytes) -> ET.Element:
    root = ET.fromstring(data)
    for element in root.iter():
        element.tag = element.tag.rsplit("}", 1)[-1]
    return root


def unpack(package: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture(scope="module")
def full_set(tmp_path_factory):
    return make_set(tmp_path_factory.mktemp("sets") / "all", all_families())


@pytest.fixture(scope="module")
def package(full_set):
    data = canvas_package(load_set(full_set))
    files = unpack(data)
    manifest = parse(files["imsmanifest.xml"])
    href = manifest.find("resources/resource[@type='imsqti_xmlv1p2']/file").get("href")
    return data, files, parse(files[href])


def items_by_id(assessment: ET.Element) -> dict[str, ET.Element]:
    return {re.search(r"\(([^()]+)\)$", item.get("title")).group(1): item
            for item in assessment.iter("item")}


def metadata(item: ET.Element) -> dict[str, str]:
    return {f.findtext("fieldlabel"): f.findtext("fieldentry")
            for f in item.iter("qtimetadatafield")}


def numerical_accepts(item: ET.Element, value: Decimal) -> bool:
    for condition in item.findall("resprocessing/respcondition"):
        if condition.findtext("setvar") != "100":
            continue
        either = condition.find("conditionvar/or")
        exact = Decimal(either.findtext("varequal"))
        low = Decimal(either.findtext("and/vargte"))
        high = Decimal(either.findtext("and/varlte"))
        if value == exact or low <= value <= high:
            return True
    return False


def blank_answers(item: ET.Element) -> dict[str, set[str]]:
    """Blank name -> the texts Canvas marks right."""
    correct = {c.findtext("conditionvar/varequal") for c in item.iter("respcondition")
               if c.find("setvar") is not None and float(c.findtext("setvar")) > 0}
    answers = {}
    for response in item.findall("presentation/response_lid"):
        name = response.findtext("material/mattext")
        answers[name] = {label.findtext("material/mattext").strip().lower()
                         for label in response.iter("response_label")
                         if label.get("ident") in correct}
    return answers


def test_manifest_references_every_file_and_each_file_parses(package):
    _, files, _ = package
    manifest = parse(files["imsmanifest.xml"])
    hrefs = {f.get("href") for f in manifest.iter("file")}
    assert hrefs | {"imsmanifest.xml"} == set(files)
    identifiers = {r.get("identifier") for r in manifest.iter("resource")}
    assert {d.get("identifierref") for d in manifest.iter("dependency")} <= identifiers
    for name, data in files.items():
        assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>'), name
        ET.fromstring(data)
    (meta_name,) = [n for n in files if n.endswith("/assessment_meta.xml")]
    meta = parse(files[meta_name])
    assert meta.tag == "quiz" and meta.findtext("title") == "Practice"
    assert meta.findtext("shuffle_answers") == "false"
    assert ET.fromstring(files[meta_name]).tag == "{http://canvas.instructure.com/xsd/cccv1p0}quiz"


def test_a_group_per_position_draws_one_of_every_version(full_set, package):
    _, _, root = package
    problem_set = load_set(full_set)
    groups = root.findall("assessment/section/section")
    assert len(groups) == len(problem_set.groups()) == len(all_families())
    for group, (position, family, entries) in zip(groups, problem_set.groups(), strict=True):
        assert group.get("title") == f"Problem {position}: {family}"
        assert group.findtext("selection_ordering/selection/selection_number") == "1"
        items = group.findall("item")
        assert [i.get("title") for i in items] == [
            e.name for e in entries]
        per_item = int(group.findtext(
            "selection_ordering/selection/selection_extension/points_per_item"))
        assert per_item == max(int(metadata(i)["points_possible"]) for i in items)
    idents = [item.get("ident") for item in root.iter("item")]
    assert len(idents) == len(set(idents)) == len(problem_set.problems)


def test_every_value_of_every_problem_and_variant_grades_like_the_key(full_set, package):
    _, _, root = package
    key = json.loads((full_set / "key.json").read_text(encoding="utf-8"))
    items = items_by_id(root)
    assert len(items) == len(key["problems"])
    kinds = set()
    for record in key["problems"]:
        item = items[record["code"]]
        kind = ("multichoice" if "choices" in record
                else "essay" if record["family"] == "derivation"
                else "numerical" if len(record["steps"]) == 1 else "cloze")
        kinds.add(kind)
        assert metadata(item)["question_type"] == TYPES[kind], record["id"]
        if kind == "essay":  # formulas, graded by hand: the feedback holds the key formulas
            feedback = item.findtext("itemfeedback/flow_mat/material/mattext")
            assert all(step["formula_tex"] in feedback for step in record["steps"])
            continue
        d = record["decimals"]
        unit = Decimal(1).scaleb(-d)
        tol = Decimal("0.501") * unit
        if kind == "multichoice":
            labels = item.findall("presentation/response_lid/render_choice/response_label")
            correct = item.find("resprocessing/respcondition/conditionvar/varequal")
            assert [label.get("ident") for label in labels].index(correct.text) == record["answer"]
            # a choice's $math$ is sent in MathJax's \( \) delimiters
            assert [label.findtext("material/mattext") for label in labels] == [
                f"({'ABCDEFGH'[i]}) " + re.sub(r"\$(.+?)\$", r"\\(\1\\)", c)
                for i, c in enumerate(record["choices"])]
        elif kind == "numerical":
            (step,) = record["steps"]
            for condition in item.findall("resprocessing/respcondition"):
                either = condition.find("conditionvar/or")
                if either is not None:
                    centre = Decimal(either.findtext("varequal"))
                    assert Decimal(either.findtext("and/vargte")) == centre - tol
                    assert Decimal(either.findtext("and/varlte")) == centre + tol
            centres = []
            for value in (step["rounded"], step["value"]):
                exact = Decimal(repr(value))
                centres.append(exact.quantize(unit, rounding="ROUND_HALF_UP"))
                assert numerical_accepts(item, exact) and numerical_accepts(item, centres[-1])
            assert not numerical_accepts(item, min(centres) - unit - tol)
            assert not numerical_accepts(item, max(centres) + unit + tol)
        else:
            answers = blank_answers(item)
            text = item.findtext("presentation/material/mattext")
            assert len(answers) == len(record["steps"])
            for (name, accepted), step in zip(answers.items(), record["steps"], strict=True):
                assert text.count(f"[{name}]") == 1
                centres = [Decimal(repr(v)).quantize(unit, rounding="ROUND_HALF_UP")
                           for v in (step["rounded"], step["value"])]
                for centre in centres:
                    assert f"{centre:.{d}f}" in accepted, (step, accepted)
                    assert f"{centre.normalize():f}" in accepted or centre == 0
                for wrong in (min(centres) - unit - tol, max(centres) + unit + tol,
                              *(c + s * unit for c in centres for s in (-1, 1))):
                    if wrong.quantize(unit) not in centres:
                        assert f"{wrong.quantize(unit):.{d}f}" not in accepted
                for answer in accepted:  # nothing else is right
                    number = Decimal(answer.replace(",", ".").replace("\u2212", "-"))
                    assert any(abs(number - c) <= tol for c in centres), answer
    assert kinds == {"multichoice", "numerical", "cloze", "essay"}


def test_solution_is_general_feedback_with_mathjax_delimiters(package):
    _, _, root = package
    for item in root.iter("item"):
        feedback = item.find("itemfeedback[@ident='general_fb']")
        html_text = feedback.findtext("flow_mat/material/mattext")
        assert "$" not in html_text and html_text.startswith("<")
        if metadata(item)["question_type"] != "multiple_choice_question":
            assert "\\[" in html_text and "\\(" in html_text
        condition = item.find("resprocessing/respcondition")
        assert condition.find("displayfeedback").get("linkrefid") == "general_fb"


def test_text_forms():
    from chainrule.export.canvas import text_forms

    assert text_forms("0.500", extra_zeros=0) == [
        "0.500", ".500", "0.50", ".50", "0.5", ".5", "0,500", ",500", "0,50", ",50", "0,5", ",5",
        "+0.500", "+.500", "+0.50", "+.50", "+0.5", "+.5", "+0,500", "+,500", "+0,50", "+,50",
        "+0,5", "+,5"]
    assert text_forms("-0.512", extra_zeros=1) == [
        "-0.512", "-.512", "-0.5120", "-.5120", "-0,512", "-,512", "-0,5120", "-,5120",
        "\u22120.512", "\u2212.512", "\u22120.5120", "\u2212.5120", "\u22120,512", "\u2212,512",
        "\u22120,5120", "\u2212,5120"]
    assert text_forms("2.000", extra_zeros=0)[:4] == ["2.000", "2.00", "2.0", "2"]
    assert text_forms("7") == ["7", "7.0", "7.00", "7,0", "7,00", "+7", "+7.0", "+7.00",
                               "+7,0", "+7,00"]
    assert "10" in text_forms("10.0") and "1" not in text_forms("10.0")


def test_hostile_title_survives_intact_and_inert(tmp_path):
    folder = make_set(tmp_path / "set", ["forward", "concept"])
    key = json.loads((folder / "key.json").read_text(encoding="utf-8"))
    key["title"] = HOSTILE + "\x01"
    for record in key["problems"]:
        record["title"] = HOSTILE
    (folder / "key.json").write_text(json.dumps(key), encoding="utf-8")
    files = unpack(canvas_package(load_set(folder)))
    for data in files.values():
        assert b"<script" not in data and b"]]>" not in data
        parse(data)
    (assessment_name,) = [n for n in files if n.count("/") and "meta" not in n]
    root = parse(files[assessment_name])
    assert root.find("assessment").get("title") == HOSTILE + "\ufffd"
    (meta_name,) = [n for n in files if n.endswith("assessment_meta.xml")]
    meta = parse(files[meta_name])
    assert meta.findtext("title") == HOSTILE + "\ufffd"
    assert "<script" not in meta.findtext("description")
    for item in root.iter("item"):
        assert HOSTILE in item.get("title")
        if metadata(item)["question_type"] == TYPES["cloze"]:
            text = item.findtext("presentation/material/mattext")
            assert all(text.count(f"[{name}]") == 1 for name in blank_answers(item))


def test_package_is_deterministic(full_set, package):
    assert canvas_package(load_set(full_set)) == package[0]


def test_command_writes_the_zip_and_never_replaces_it_without_force(full_set, tmp_path,
                                                                     package):
    folder = Path(shutil.copytree(full_set, tmp_path / "set"))
    runner = CliRunner()
    result = runner.invoke(export, ["canvas", str(folder)])
    assert result.exit_code == 0, result.output
    target = folder / "canvas.zip"
    assert target.read_bytes() == package[0]
    again = runner.invoke(export, ["canvas", str(folder)])
    assert again.exit_code == 2 and "exists; use --force" in again.output
    assert runner.invoke(export, ["canvas", str(folder), "--force"]).exit_code == 0
    assert target.read_bytes() == package[0]
    target.write_bytes(b"mine")  # edited since: --force no longer replaces it
    edited = runner.invoke(export, ["canvas", str(folder), "--force"])
    assert edited.exit_code == 2 and "changed since chainrule wrote it" in edited.output
    assert target.read_bytes() == b"mine"
    bad = runner.invoke(export, ["canvas", str(tmp_path / "nothing")])
    assert bad.exit_code == 2 and bad.output.count("\n") == 1


def test_blank_names_never_clash_with_brackets_in_the_text():
    from chainrule.export.canvas import _blank_ids
    from chainrule.export.common import Answer

    def answer(name):
        return Answer(name, name, ("1.000",), 3, Decimal("0.000501"), {})

    text = "<p>\\(\\mathbb{E}[L]\\) and [z1]</p>"
    assert _blank_ids(text, [answer("z1"), answer("L"), answer("w1-2"), answer("w1_2")]) == [
        "v_z1", "v_L", "w1_2", "v_w1_2"]
