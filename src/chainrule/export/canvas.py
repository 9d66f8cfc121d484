"""A problem set as a Canvas quiz: a QTI 1.2 zip as Canvas imports it.

The package follows Canvas's own QTI dialect (as text2qti writes it for "Import existing
content > QTI .zip file"): ``imsmanifest.xml`` naming one ``imsqti_xmlv1p2`` resource, the
assessment ``<id>/<id>.xml`` and its Canvas settings ``<id>/assessment_meta.xml``. Canvas
links the settings to the quiz by identifier, so one identifier names the folder, the
manifest resource, ``<assessment ident>`` and ``<quiz identifier>``.

* Every problem position is a question group (``section`` with ``selection_number`` 1)
  holding every version of that problem, so each student draws one variant; its points per
  item are the problem's marks.
* A problem of one value asked to at most 4 decimals is a ``numerical_question``: per key
  value an exact answer and a range ``value ± tol`` (``varequal`` or ``vargte``/``varlte``),
  tol as in :mod:`chainrule.export.common`. Canvas's quiz page rewrites a typed number with
  ``toFixed(4)`` before it is sent, so a value asked to 5 or more decimals is a
  ``short_answer_question`` graded by text, like the blanks below.
* A problem of several values is a ``fill_in_multiple_blanks_question``, one blank per step
  in one item, so the variant a student draws stays whole (one numerical question per step
  would let a group mix steps of different variants). Canvas grades these blanks as text
  (trimmed, lower case), so each blank lists the texts a student may type for its key values
  (:func:`text_forms`): with the problem's decimals or trailing zeros dropped or up to two
  more, without the leading zero, with a decimal comma, a leading ``+``, a Unicode minus.
  With a tolerance under one unit no other d-decimal answer is right, so this is the same
  rule as Moodle's for answers given to the asked decimals (the question says so).
* A problem with choices is a ``multiple_choice_question``, choices in order, labelled (A),
  (B), ... as the worked solution refers to them; a problem whose answer is a formula is an
  ``essay_question`` graded by hand, the key in the general feedback.
* The worked solution is the general feedback (``general_fb``), math in ``\\( \\)``/``\\[ \\]``.
  Canvas attaches no feedback to a wrong numerical or blank answer it imports (every
  imported answer counts as right), so the values named mistakes give are listed there too.

All XML is built with ElementTree; identifiers are hashes of the problem IDs, so the same
set always gives the same bytes (zip entries carry a fixed date).
"""

from __future__ import annotations

import html
import io
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from chainrule.export.common import (
    Answer,
    ProblemSet,
    decimal_text,
    shorten,
    stable_id,
    xml_safe,
)
from chainrule.export.html import ProblemHtml, mistakes_html, slot
from chainrule.export.mistakes import DEFAULT_MISTAKES
from chainrule.export.question import LmsQuestion, lms_question

__all__ = ["NUMERICAL_MAX_DECIMALS", "QUESTION_TYPES", "canvas_package", "canvas_type",
           "text_forms"]

QTI_NS = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
CP_NS = "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"
CANVAS_NS = "http://canvas.instructure.com/xsd/cccv1p0"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

#: chainrule's question kind -> Canvas's question_type.
QUESTION_TYPES = {
    "numerical": "numerical_question",
    "short": "short_answer_question",
    "cloze": "fill_in_multiple_blanks_question",
    "multichoice": "multiple_choice_question",
    "essay": "essay_question",
}
#: Canvas's quiz page sends a typed number as ``toFixed(4)``: more decimals are graded wrong.
NUMERICAL_MAX_DECIMALS = 4
#: Extra trailing zeros a typed answer may carry (0.7200 and 0.72000 for 0.720).
EXTRA_ZEROS = 2
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_MINUS = "\u2212"


def canvas_type(kind: str, decimals: int) -> str:
    """Canvas's question_type for a question of ``kind`` asked to ``decimals`` places."""
    if kind == "numerical" and decimals > NUMERICAL_MAX_DECIMALS:
        kind = "short"
    return QUESTION_TYPES[kind]


def text_forms(value: str, extra_zeros: int = EXTRA_ZEROS) -> list[str]:
    """The texts a student may type for a value written ``value`` (see the module docstring):
    ``value`` first, then trailing zeros dropped or added, the leading zero dropped, a
    decimal comma, and a leading ``+`` (or a Unicode minus for a negative value)."""
    negative = value.startswith("-")
    digits = value.lstrip("+-")
    whole, _, fraction = digits.partition(".")
    shortest = len(fraction.rstrip("0"))
    fractions = [fraction[:k] for k in range(len(fraction), shortest - 1, -1)]
    fractions += [fraction + "0" * k for k in range(1, extra_zeros + 1)]
    magnitudes = []
    for part in fractions:
        if not part:
            magnitudes.append(whole)
            continue
        magnitudes.append(f"{whole}.{part}")
        if whole == "0":
            magnitudes.append(f".{part}")
    magnitudes += [m.replace(".", ",") for m in magnitudes if "." in m]
    signs = ("-", _MINUS) if negative else ("", "+")
    return list(dict.fromkeys(sign + m for sign in signs for m in magnitudes))


def canvas_package(
    problem_set: ProblemSet, templates_dir: str | Path | None = None,
    mistakes: int = DEFAULT_MISTAKES,
) -> bytes:
    """The set as a Canvas QTI .zip (bytes): manifest, assessment and its Canvas settings;
    up to ``mistakes`` named-mistake values per value, listed in the feedback."""
    aid = stable_id("assessment", problem_set.title, problem_set.seed,
                    *(e.problem.id for e in problem_set.problems))
    assessment, points = _assessment(problem_set, aid, templates_dir, mistakes)
    files = {
        "imsmanifest.xml": _manifest(aid),
        f"{aid}/{aid}.xml": assessment,
        f"{aid}/assessment_meta.xml": _meta(problem_set, aid, points),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: xml_safe(v) for k, v in attrib.items()})
    if text is not None:
        element.text = xml_safe(text)
    return element


def _serialize(root: ET.Element) -> bytes:
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'.encode()


def _root(tag: str, namespace: str, schema: str, **attrib: str) -> ET.Element:
    return ET.Element(tag, {**{k: xml_safe(v) for k, v in attrib.items()},
                            "xmlns": namespace, "xmlns:xsi": XSI_NS,
                            "xsi:schemaLocation": f"{namespace} {schema}"})


def _manifest(aid: str) -> bytes:
    manifest = _root("manifest", CP_NS, "http://www.imsglobal.org/xsd/imscp_v1p1.xsd",
                     identifier=stable_id("manifest", aid))
    metadata = _sub(manifest, "metadata")
    _sub(metadata, "schema", "IMS Content")
    _sub(metadata, "schemaversion", "1.1.3")
    _sub(manifest, "organizations")
    resources = _sub(manifest, "resources")
    meta_id = stable_id("dependency", aid)
    resource = _sub(resources, "resource", identifier=aid, type="imsqti_xmlv1p2")
    _sub(resource, "file", href=f"{aid}/{aid}.xml")
    _sub(resource, "dependency", identifierref=meta_id)
    meta = _sub(resources, "resource", identifier=meta_id,
                type="associatedcontent/imscc_xmlv1p1/learning-application-resource",
                href=f"{aid}/assessment_meta.xml")
    _sub(meta, "file", href=f"{aid}/assessment_meta.xml")
    return _serialize(manifest)


def _meta(problem_set: ProblemSet, aid: str, points: Decimal) -> bytes:
    quiz = _root("quiz", CANVAS_NS, "https://canvas.instructure.com/xsd/cccv1p0.xsd",
                 identifier=aid)
    title = problem_set.title
    versions = ", ".join(problem_set.versions) or "one version"
    _sub(quiz, "title", shorten(title))
    _sub(quiz, "description",
         f"<p>{html.escape(title)}: generated by chainrule (seed "
         f"{html.escape(str(problem_set.seed))}; versions: {html.escape(versions)}). Each "
         "question group draws one version of a problem.</p>")
    total = decimal_text(points)
    for tag, value in (("shuffle_answers", "false"), ("scoring_policy", "keep_highest"),
                       ("quiz_type", "assignment"), ("points_possible", total),
                       ("show_correct_answers", "true"), ("anonymous_submissions", "false"),
                       ("could_be_locked", "false"), ("allowed_attempts", "1"),
                       ("one_question_at_a_time", "false"), ("cant_go_back", "false"),
                       ("available", "false"), ("one_time_results", "false"),
                       ("only_visible_to_overrides", "false"), ("module_locked", "false")):
        _sub(quiz, tag, value)
    assignment = _sub(quiz, "assignment", identifier=stable_id("assignment", aid))
    _sub(assignment, "title", shorten(title))
    for tag, value in (("workflow_state", "unpublished"), ("quiz_identifierref", aid),
                       ("points_possible", total), ("grading_type", "points"),
                       ("submission_types", "online_quiz")):
        _sub(assignment, tag, value)
    _sub(quiz, "assignment_group_identifierref", stable_id("assignment-group", aid))
    return _serialize(quiz)


def _assessment(
    problem_set: ProblemSet, aid: str, templates_dir: str | Path | None, mistakes: int
) -> tuple[bytes, Decimal]:
    root = _root("questestinterop", QTI_NS, "http://www.imsglobal.org/xsd/ims_qtiasiv1p2p1.xsd")
    assessment = _sub(root, "assessment", ident=aid, title=shorten(problem_set.title))
    metadata = _sub(assessment, "qtimetadata")
    field = _sub(metadata, "qtimetadatafield")
    _sub(field, "fieldlabel", "cc_maxattempts")
    _sub(field, "fieldentry", "1")
    section = _sub(assessment, "section", ident="root_section")
    total = Decimal(0)
    for position, family, entries in problem_set.groups():
        items = [_item(lms_question(entry, templates_dir, mistakes)) for entry in entries]
        per_item = max(points for _, points in items)
        group = _sub(section, "section", ident=stable_id("group", aid, position, family),
                     title=f"Problem {position}: {family}")
        selection = _sub(_sub(group, "selection_ordering"), "selection")
        _sub(selection, "selection_number", "1")
        _sub(_sub(selection, "selection_extension"), "points_per_item", decimal_text(per_item))
        for item, _ in items:
            group.append(item)
        total += per_item
    return _serialize(root), total


def _item(question: LmsQuestion) -> tuple[ET.Element, Decimal]:
    entry, kind, graded, parts = question.entry, question.kind, question.graded, question.html
    problem = entry.problem
    ident = stable_id("item", problem.id, entry.version, entry.position)
    item = ET.Element("item", {"ident": ident, "title": xml_safe(entry.name)})
    metadata = _sub(_sub(item, "itemmetadata"), "qtimetadata")
    points = entry.points
    qtype = canvas_type(kind, problem.decimals)
    solution = parts.solution
    if kind == "cloze":
        labels = _blanks(item, ident, parts, graded)
    elif qtype == "numerical_question":
        labels = [f"{ident}_numerical"]
        _numerical(item, parts, graded[0])
    elif qtype == "short_answer_question":
        labels = [f"{ident}_short"]
        _short(item, parts, graded[0])
    elif kind == "essay":
        labels = []
        _essay(item, parts)
        solution = question.key_html + solution
    else:
        labels = _choices(item, ident, parts, problem.answer or 0)
    solution += mistakes_html(graded)
    for label, value in (("question_type", qtype),
                         ("points_possible", decimal_text(points)),
                         ("original_answer_ids", ",".join(labels)),
                         ("assessment_question_identifierref", f"{ident}_ref")):
        field = _sub(metadata, "qtimetadatafield")
        _sub(field, "fieldlabel", label)
        _sub(field, "fieldentry", value)
    feedback = _sub(item, "itemfeedback", ident="general_fb")
    _sub(_sub(_sub(feedback, "flow_mat"), "material"), "mattext", solution,
         texttype="text/html")
    return item, points


def _presentation(item: ET.Element, question_html: str) -> ET.Element:
    presentation = _sub(item, "presentation")
    _sub(_sub(presentation, "material"), "mattext", question_html, texttype="text/html")
    return presentation


def _processing(item: ET.Element) -> ET.Element:
    processing = _sub(item, "resprocessing")
    _sub(_sub(processing, "outcomes"), "decvar", maxvalue="100", minvalue="0",
         varname="SCORE", vartype="Decimal")
    condition = _sub(processing, "respcondition", **{"continue": "Yes"})
    _sub(_sub(condition, "conditionvar"), "other")
    _sub(condition, "displayfeedback", feedbacktype="Response", linkrefid="general_fb")
    return processing


def _text_box(item: ET.Element, parts: ProblemHtml) -> None:
    presentation = _presentation(item, parts.question)
    response = _sub(presentation, "response_str", ident="response1", rcardinality="Single")
    _sub(_sub(response, "render_fib"), "response_label", ident="answer1", rshuffle="No")


def _numerical(item: ET.Element, parts: ProblemHtml, answer: Answer) -> None:
    presentation = _presentation(item, parts.question)
    response = _sub(presentation, "response_str", ident="response1", rcardinality="Single")
    _sub(_sub(response, "render_fib", fibtype="Decimal"), "response_label", ident="answer1")
    processing = _processing(item)
    for value in answer.accepted:
        centre = Decimal(value)
        condition = _sub(processing, "respcondition", **{"continue": "No"})
        either = _sub(_sub(condition, "conditionvar"), "or")
        _sub(either, "varequal", value, respident="response1")
        both = _sub(either, "and")
        _sub(both, "vargte", decimal_text(centre - answer.tolerance), respident="response1")
        _sub(both, "varlte", decimal_text(centre + answer.tolerance), respident="response1")
        _sub(condition, "setvar", "100", action="Set", varname="SCORE")


def _short(item: ET.Element, parts: ProblemHtml, answer: Answer) -> None:
    _text_box(item, parts)
    processing = _processing(item)
    condition = _sub(processing, "respcondition", **{"continue": "No"})
    conditions = _sub(condition, "conditionvar")
    for form in (f for value in answer.accepted for f in text_forms(value)):
        _sub(conditions, "varequal", form, respident="response1")
    _sub(condition, "setvar", "100", action="Set", varname="SCORE")


def _essay(item: ET.Element, parts: ProblemHtml) -> None:
    _text_box(item, parts)
    processing = _processing(item)
    condition = _sub(processing, "respcondition", **{"continue": "No"})
    _sub(_sub(condition, "conditionvar"), "other")


def _blank_ids(question_html: str, graded: Sequence[Answer]) -> list[str]:
    """A blank name per value (its step's name), never one the text already brackets."""
    names: list[str] = []
    for answer in graded:
        name = re.sub(r"[^A-Za-z0-9_]", "_", answer.name) or "value"
        while f"[{name}]" in question_html or name in names:
            name = f"v_{name}"
        names.append(name)
    return names


def _blanks(item: ET.Element, ident: str, parts: ProblemHtml,
            graded: Sequence[Answer]) -> list[str]:
    names = _blank_ids(parts.question, graded)
    text = parts.question
    for i, name in enumerate(names):
        text = text.replace(slot(i), f"[{name}]")
    presentation = _presentation(item, text)
    labels: dict[str, list[str]] = {}
    for name, answer in zip(names, graded, strict=True):
        response = _sub(presentation, "response_lid", ident=f"response_{name}")
        _sub(_sub(response, "material"), "mattext", name)
        choices = _sub(response, "render_choice")
        labels[name] = []
        for form in dict.fromkeys(f for value in answer.accepted for f in text_forms(value)):
            label = stable_id("blank", ident, name, form)
            labels[name].append(label)
            _sub(_sub(_sub(choices, "response_label", ident=label), "material"), "mattext",
                 form, texttype="text/plain")
    processing = _processing(item)
    score = f"{100 / len(names):.2f}"
    for name, idents in labels.items():
        for label in idents:
            condition = _sub(processing, "respcondition")
            _sub(_sub(condition, "conditionvar"), "varequal", label,
                 respident=f"response_{name}")
            _sub(condition, "setvar", score, varname="SCORE", action="Add")
    return [label for idents in labels.values() for label in idents]


def _choices(item: ET.Element, ident: str, parts: ProblemHtml, correct: int) -> list[str]:
    presentation = _presentation(item, parts.question)
    response = _sub(presentation, "response_lid", ident="response1", rcardinality="Single")
    render = _sub(response, "render_choice")
    labels = []
    for i, choice in enumerate(parts.choices):
        label = stable_id("choice", ident, i)
        labels.append(label)
        _sub(_sub(_sub(render, "response_label", ident=label), "material"), "mattext",
             f"({_LETTERS[i]}) {choice}", texttype="text/html")
    processing = _processing(item)
    condition = _sub(processing, "respcondition", **{"continue": "No"})
    _sub(_sub(condition, "conditionvar"), "varequal", labels[correct], respident="response1")
    _sub(condition, "setvar", "100", action="Set", varname="SCORE")
    return labels
