"""A problem set as an IMS QTI 2.1 package (Blackboard, D2L Brightspace, Canvas New Quizzes).

The zip is an IMS content package: ``imsmanifest.xml`` lists one ``imsqti_test_xmlv2p1``
resource (``test.xml``) that depends on one ``imsqti_item_xmlv2p1`` resource per problem
variant (``items/<id>.xml``).

* The test has one section per problem position with ``<selection select="1"/>`` over every
  version's item, so each candidate draws one variant.
* A numeric value is a ``textEntryInteraction`` with a float response; response processing
  (custom, written out in full, no template) adds the value's share of the marks to
  ``SCORE`` when the response is within the tolerance of a key value
  (``<equal toleranceMode="absolute">``), else adds the identifier of the first named mistake
  it matches to ``FEEDBACK``, whose ``modalFeedback`` gives the mistake's message.
* A problem with choices is a ``choiceInteraction`` (no shuffling, labelled (A), (B), ...).
* A step whose answer is a formula is an ``extendedTextInteraction`` with no response
  processing: a teacher grades it; the key formula is in the solution feedback.
* The worked solution is a ``modalFeedback`` shown after every attempt (``SOLUTION`` is
  always added to ``FEEDBACK``). ``MAXSCORE`` is the problem's marks.

The question HTML is parsed into the item body's XHTML elements (it is chainrule's own
well-formed subset); math stays as ``\\( \\)`` and ``\\[ \\]`` text for MathJax.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from decimal import Decimal
from pathlib import Path

from chainrule.errors import ChainruleError
from chainrule.export.common import Answer, ProblemSet, decimal_text, shorten, stable_id, xml_safe
from chainrule.export.html import mistakes_html
from chainrule.export.mistakes import DEFAULT_MISTAKES
from chainrule.export.moodle import mistake_feedback
from chainrule.export.question import LmsQuestion, lms_question

__all__ = ["QTI21_NS", "qti21_package"]

QTI21_NS = "http://www.imsglobal.org/xsd/imsqti_v2p1"
QTI21_XSD = "http://www.imsglobal.org/xsd/qti/qtiv2p1/imsqti_v2p1.xsd"
CP_NS = "http://www.imsglobal.org/xsd/imscp_v1p1"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_SLOT = re.compile("\x02([0-9]+)\x03")


def qti21_package(
    problem_set: ProblemSet, templates_dir: str | Path | None = None,
    mistakes: int = DEFAULT_MISTAKES,
) -> bytes:
    """The set as a QTI 2.1 content package (zip bytes), with up to ``mistakes``
    named-mistake feedbacks per value."""
    tid = stable_id("test", problem_set.title, problem_set.seed,
                    *(e.problem.id for e in problem_set.problems), prefix="T")
    files: dict[str, bytes] = {}
    sections: list[tuple[str, str, list[str]]] = []
    for position, family, entries in problem_set.groups():
        idents = []
        for entry in entries:
            built = lms_question(entry, templates_dir, mistakes)
            ident = stable_id("item", entry.problem.id, entry.version, entry.position,
                              prefix="I")
            files[f"items/{ident}.xml"] = _item(built, ident)
            idents.append(ident)
        sections.append((stable_id("section", tid, position, family, prefix="S"),
                         f"Problem {position}: {family}", idents))
    files = {"imsmanifest.xml": _manifest(tid, [n for n in files]),
             "test.xml": _test(problem_set, tid, sections), **files}
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
    return ET.Element(tag, {"xmlns": namespace, "xmlns:xsi": XSI_NS,
                            "xsi:schemaLocation": f"{namespace} {schema}",
                            **{k: xml_safe(v) for k, v in attrib.items()}})


def _manifest(tid: str, items: list[str]) -> bytes:
    manifest = _root("manifest", CP_NS, "http://www.imsglobal.org/xsd/imscp_v1p1.xsd",
                     identifier=stable_id("manifest", tid, prefix="M"))
    metadata = _sub(manifest, "metadata")
    _sub(metadata, "schema", "QTIv2.1 Package")
    _sub(metadata, "schemaversion", "1.0.0")
    _sub(manifest, "organizations")
    resources = _sub(manifest, "resources")
    test = _sub(resources, "resource", identifier=tid, type="imsqti_test_xmlv2p1",
                href="test.xml")
    _sub(test, "file", href="test.xml")
    for href in items:
        ident = href.rsplit("/", 1)[-1].removesuffix(".xml")
        _sub(test, "dependency", identifierref=ident)
    for href in items:
        ident = href.rsplit("/", 1)[-1].removesuffix(".xml")
        resource = _sub(resources, "resource", identifier=ident, type="imsqti_item_xmlv2p1",
                        href=href)
        _sub(resource, "file", href=href)
    return _serialize(manifest)


def _test(problem_set: ProblemSet, tid: str,
          sections: list[tuple[str, str, list[str]]]) -> bytes:
    test = _root("assessmentTest", QTI21_NS, QTI21_XSD, identifier=tid,
                 title=shorten(problem_set.title))
    part = _sub(test, "testPart", identifier=f"{tid}_part", navigationMode="nonlinear",
                submissionMode="simultaneous")
    for ident, title, items in sections:
        section = _sub(part, "assessmentSection", identifier=ident, title=title,
                       visible="true")
        _sub(section, "selection", select="1")
        for item in items:
            _sub(section, "assessmentItemRef", identifier=f"{item}_ref", href=f"items/{item}.xml")
    return _serialize(test)


def _xhtml(parent: ET.Element, fragment: str, slots: dict[int, ET.Element] | None = None) -> None:
    """Parse chainrule's HTML ``fragment`` into ``parent``'s children; each slot marker
    becomes the interaction element given for it."""
    text = xml_safe(_SLOT.sub(lambda m: f'<slot n="{m.group(1)}"/>', fragment))
    try:
        holder = ET.fromstring(f"<div>{text}</div>")
    except ET.ParseError as exc:
        raise ChainruleError(f"question HTML is not well-formed XHTML: {exc}") from None
    for element in list(holder.iter()):
        for i, child in enumerate(list(element)):
            if child.tag == "slot":
                replacement = (slots or {})[int(child.get("n", "-1"))]
                replacement.tail = child.tail
                element.remove(child)
                element.insert(i, replacement)
    if holder.text:
        paragraph = _sub(parent, "p", holder.text)
        paragraph.tail = None
    parent.extend(list(holder))


def _response(item: ET.Element, ident: str, base: str, correct: str | None) -> None:
    declaration = _sub(item, "responseDeclaration", identifier=ident, cardinality="single",
                       baseType=base)
    if correct is not None:
        _sub(_sub(declaration, "correctResponse"), "value", correct)


def _outcomes(item: ET.Element, marks: Decimal) -> None:
    for ident, base, default in (("SCORE", "float", "0"), ("MAXSCORE", "float",
                                                             decimal_text(marks))):
        declaration = _sub(item, "outcomeDeclaration", identifier=ident, cardinality="single",
                           baseType=base)
        _sub(_sub(declaration, "defaultValue"), "value", default)
    _sub(item, "outcomeDeclaration", identifier="FEEDBACK", cardinality="multiple",
         baseType="identifier")


def _add_feedback(parent: ET.Element, ident: str) -> None:
    setter = _sub(parent, "setOutcomeValue", identifier="FEEDBACK")
    multiple = _sub(setter, "multiple")
    _sub(multiple, "variable", identifier="FEEDBACK")
    _sub(multiple, "baseValue", ident, baseType="identifier")


def _within(parent: ET.Element, response: str, value: str, tolerance: Decimal) -> None:
    tol = decimal_text(tolerance)
    equal = _sub(parent, "equal", toleranceMode="absolute", tolerance=f"{tol} {tol}")
    _sub(equal, "variable", identifier=response)
    _sub(equal, "baseValue", value, baseType="float")


def _numeric_rules(processing: ET.Element, response: str, answer: Answer, share: Decimal,
                   feedback_ids: list[str]) -> None:
    condition = _sub(processing, "responseCondition")
    right = _sub(condition, "responseIf")
    either = _sub(right, "or")
    for value in answer.accepted:
        _within(either, response, value, answer.tolerance)
    setter = _sub(right, "setOutcomeValue", identifier="SCORE")
    total = _sub(setter, "sum")
    _sub(total, "variable", identifier="SCORE")
    _sub(total, "baseValue", decimal_text(share), baseType="float")
    for mistake, ident in zip(answer.mistakes, feedback_ids, strict=True):
        branch = _sub(condition, "responseElseIf")
        _within(branch, response, mistake.value, answer.tolerance)
        _add_feedback(branch, ident)


def _item(built: LmsQuestion, ident: str) -> bytes:
    entry, kind, graded, parts = built.entry, built.kind, built.graded, built.html
    item = _root("assessmentItem", QTI21_NS, QTI21_XSD, identifier=ident,
                 title=shorten(entry.name), adaptive="false", timeDependent="false")
    marks = entry.points
    responses = [f"R_{i + 1}" for i in range(len(graded))]
    if kind == "multichoice":
        labels = [f"C_{i + 1}" for i in range(len(parts.choices))]
        _response(item, "RESPONSE", "identifier", labels[entry.problem.answer or 0])
    elif kind == "essay":
        _response(item, "RESPONSE", "string", None)
    else:
        for response, answer in zip(responses, graded, strict=True):
            _response(item, response, "float", answer.accepted[0])
    _outcomes(item, marks)
    body = _sub(item, "itemBody")
    feedback: list[tuple[str, str]] = []
    processing = ET.Element("responseProcessing")
    if kind == "multichoice":
        _xhtml(body, parts.question)
        choice = _sub(body, "choiceInteraction", responseIdentifier="RESPONSE",
                      shuffle="false", maxChoices="1")
        for label, text in zip(labels, parts.choices, strict=True):
            simple = _sub(choice, "simpleChoice", identifier=label)
            _xhtml(simple, f"({_LETTERS[labels.index(label)]}) {text}")
        condition = _sub(processing, "responseCondition")
        right = _sub(condition, "responseIf")
        match = _sub(right, "match")
        _sub(match, "variable", identifier="RESPONSE")
        _sub(match, "correct", identifier="RESPONSE")
        _sub(_sub(right, "setOutcomeValue", identifier="SCORE"), "variable",
             identifier="MAXSCORE")
    elif kind == "essay":
        _xhtml(body, parts.question)
        _sub(body, "extendedTextInteraction", responseIdentifier="RESPONSE", expectedLines="8")
        feedback.append(("KEY", built.key_html))
    else:
        share = marks / len(graded)
        boxes = {i: ET.Element("textEntryInteraction", responseIdentifier=r,
                               expectedLength="12") for i, r in enumerate(responses)}
        if kind == "numerical":
            _xhtml(body, parts.question)
            holder = _sub(body, "p")
            holder.append(boxes[0])
        else:
            _xhtml(body, parts.question, boxes)
        for response, answer in zip(responses, graded, strict=True):
            ids = [f"{response}_M{k + 1}" for k in range(len(answer.mistakes))]
            _numeric_rules(processing, response, answer, share, ids)
            feedback += [(i, mistake_feedback(f"{m.value}: {m.message}"))
                         for i, m in zip(ids, answer.mistakes, strict=True)]
    _add_feedback(processing, "SOLUTION")
    item.append(processing)
    for ident_fb, fragment in feedback:
        modal = _sub(item, "modalFeedback", outcomeIdentifier="FEEDBACK", showHide="show",
                     identifier=ident_fb)
        _xhtml(modal, fragment)
    solution = _sub(item, "modalFeedback", outcomeIdentifier="FEEDBACK", showHide="show",
                    identifier="SOLUTION")
    _xhtml(solution, parts.solution + (mistakes_html(graded) if kind != "essay" else ""))
    return _serialize(item)
