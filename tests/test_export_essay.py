"""Derivation problems export as essay questions graded by hand, the key formulas in the
feedback (Moodle XML and Canvas QTI)."""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

from click.testing import CliRunner

from chainrule.cli import main


def make_set(tmp_path: Path) -> Path:
    spec = tmp_path / "s.yaml"
    spec.write_text("title: formulas\nseed: 4\nversions: 2\nproblems:\n"
                    "  - family: derivation\n  - family: loss_derivative\n"
                    "    options: {loss: bce}\n", encoding="utf-8")
    out = tmp_path / "set"
    result = CliRunner().invoke(main, ["generate", str(spec), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_moodle_essay_with_key_formulas(tmp_path: Path) -> None:
    folder = make_set(tmp_path)
    result = CliRunner().invoke(main, ["export", "moodle", str(folder)])
    assert result.exit_code == 0, result.output
    assert "2 of them ask for formulas: exported as essay questions, graded by hand" in (
        result.output)
    quiz = ET.parse(folder / "moodle.xml").getroot()
    kinds = [q.get("type") for q in quiz.iter("question") if q.get("type") != "category"]
    assert kinds == ["essay", "essay", "numerical", "numerical"]
    essay = next(q for q in quiz.iter("question") if q.get("type") == "essay")
    grader = essay.find("graderinfo/text").text
    feedback = essay.find("generalfeedback/text").text
    for text in (grader, feedback):
        assert r"\delta_{3} = \hat{y} - y" in html.unescape(text)
    assert "graded by hand" in essay.find("questiontext/text").text
    assert essay.find("responseformat").text == "editor"


def test_canvas_essay_with_key_formulas(tmp_path: Path) -> None:
    folder = make_set(tmp_path)
    result = CliRunner().invoke(main, ["export", "canvas", str(folder)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(folder / "canvas.zip") as package:
        name = next(n for n in package.namelist()
                    if n.endswith(".xml") and "meta" not in n and "manifest" not in n)
        root = ET.fromstring(package.read(name))
    ns = {"q": "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"}
    items = root.findall(".//q:item", ns)
    types = [next(f.find("q:fieldentry", ns).text for f in i.findall(".//q:qtimetadatafield", ns)
                  if f.find("q:fieldlabel", ns).text == "question_type") for i in items]
    assert types == ["essay_question", "essay_question", "numerical_question",
                     "numerical_question"]
    essay = items[0]
    assert essay.find(".//q:response_str/q:render_fib", ns) is not None
    feedback = essay.find(".//q:itemfeedback//q:mattext", ns).text
    assert r"\delta_{3} = \hat{y} - y" in feedback and "Key formulas" in feedback
