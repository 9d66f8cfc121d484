"""A problem set as Moodle XML: cloze, numerical and multichoice questions in categories.

The file follows the shape of Moodle's own fixtures (``question/format/xml/tests``:
``test_export_multianswer``, ``test_export_numerical``, ``multichoice.xml``,
``nested_categories_with_questions.xml``):

* one ``category`` pseudo-question ``$course$/<set title>`` and, under it, one category per
  problem position and family (``03 backprop``) holding every version of that problem, so a
  quiz's "random question from category" gives each student one variant;
* a problem of several values is a ``cloze`` question: each value is a blank
  ``{1:NUMERICAL:=0.512:0.000501#feedback~=0.513:0.000501#feedback~*#feedback}`` (both key
  chains right, anything else wrong, the step worked out as feedback); a problem of one value
  is a ``numerical`` question with the same answers; a problem with choices is a
  ``multichoice`` question (one answer, choices in order, numbered A, B, ...);
* the worked solution is the general feedback; math is ``\\( \\)`` and ``\\[ \\]``;
* each value also lists the values named mistakes give there (from the checker's
  catalogue, computed from the correct earlier values) at 0% with the mistake's message as
  feedback, after the right answers (Moodle takes the first answer a response matches);
* a problem whose answer is a formula is an ``essay`` question graded by hand, the key in
  the grader information and the general feedback;
* marks: a numerical, multichoice or essay question's ``defaultgrade``; a cloze question's
  default mark is the sum of its blanks' weights (``{2:NUMERICAL:...}``), whole numbers, so
  the marks are spread over the blanks as evenly as whole numbers allow
  (:func:`blank_weights`);
* names carry the short code of key.json, never the ID that regenerates the key; fractions
  are 100 and 0 only (both on Moodle's list);
* every text is written in CDATA, as Moodle's own exporter does (its XML reader loses the
  spaces between escaped characters); a ``]]>`` inside is split across two sections. Names
  and category names are plain text that Moodle strips of tags and shows as HTML, so they
  are written HTML-escaped (``&lt;b&gt;``) and print literally.

Cloze's reserved characters
---------------------------
Moodle's cloze parser (``qtype_multianswer_extract_question``) ends an answer at an
unescaped ``~``, ``#`` or ``}`` and feedback at ``~`` or ``}``; it then ``html_entity_decode``s
the feedback and strips only ``\\}`` and ``\\#``. Moodle's documentation says to escape
``}``, ``#``, ``~``, ``/``, ``"`` and ``\\`` with a backslash, but a backslash before ``~``,
``/``, ``"`` or ``\\`` would then show, and break MathJax's ``\\(``. So inside a blank every
one of them (and ``{``) is written as an HTML character reference (``&#125;``), which the
parser never mistakes for syntax and decodes back exactly, and the feedback HTML is
HTML-escaped once more, as the decoding expects. Outside the blanks, any ``{`` that could
start a blank (``{1:``) or a placeholder (``{#1}``) is written ``&#123;``, so no text can
add a blank. The XML itself is built with ElementTree, never by concatenation.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

from chainrule.export.common import (
    Answer,
    ProblemSet,
    decimal_text,
    shorten,
    xml_safe,
)
from chainrule.export.html import slot
from chainrule.export.mistakes import DEFAULT_MISTAKES
from chainrule.export.question import LmsQuestion, lms_question

__all__ = ["FRACTIONS", "blank_weights", "category_path", "cdata", "cloze_blank",
           "cloze_escape", "moodle_xml", "plain_name"]

#: Grade fractions Moodle accepts in XML (percent); this export uses 100 and 0.
FRACTIONS = ("100", "90", "83.33333", "80", "75", "70", "66.66667", "60", "50", "40",
             "33.33333", "30", "25", "20", "16.66667", "14.28571", "12.5", "11.11111", "10",
             "5", "0")
PENALTY = "0.3333333"

_RESERVED = {c: f"&#{ord(c)};" for c in '{}#~/"\\'}
_LOOKS_LIKE_CLOZE = re.compile(r"\{(?=[0-9]*:|#)")
_CDATA_TOKEN = re.compile("\x01([0-9]+)\x01")


def cloze_escape(fragment: str) -> str:
    """HTML ``fragment`` as it must stand inside a cloze blank (see the module docstring)."""
    escaped = html.escape(fragment, quote=False)
    return "".join(_RESERVED.get(c, c) for c in escaped)


def cloze_blank(answer: Answer, feedback: str, weight: int = 1) -> str:
    """The ``{w:NUMERICAL:...}`` blank of one value: each key value right, each named
    mistake's value wrong with its message, anything else wrong with the worked step."""
    fb = cloze_escape(feedback)
    tol = decimal_text(answer.tolerance)
    alternatives = [f"={value}:{tol}#{fb}" for value in answer.accepted]
    alternatives += [f"%0%{m.value}:{tol}#{cloze_escape(mistake_feedback(m.message))}"
                     for m in answer.mistakes]
    alternatives.append(f"*#{fb}")
    return "{" + str(weight) + ":NUMERICAL:" + "~".join(alternatives) + "}"


def mistake_feedback(message: str) -> str:
    """The feedback HTML of a named mistake's value."""
    return f"<p>{html.escape(message, quote=False)}</p>"


def blank_weights(marks: Decimal, blanks: int) -> list[int] | None:
    """Whole-number blank weights summing to ``marks`` (as even as can be, the larger ones
    last), or None when no such weights exist (marks not whole, or fewer than the blanks)."""
    if marks != marks.to_integral_value() or marks < blanks or blanks <= 0:
        return None
    share, extra = divmod(int(marks), blanks)
    return [share + (1 if i >= blanks - extra else 0) for i in range(blanks)]


def plain_name(name: str) -> str:
    """A name as Moodle stores plain text: it strips tags and shows the rest as HTML."""
    return html.escape(name, quote=False)


def category_path(*names: str) -> str:
    """A ``$course$/...`` category path; a ``/`` inside a name is doubled, as Moodle reads it
    (names longer than Moodle stores are shortened)."""
    escaped = []
    for name in names:
        name = plain_name(shorten(name)).replace("/", "//")
        if name.startswith("/"):
            name = " " + name
        if name.endswith("/"):
            name += " "
        escaped.append(name)
    return "/".join(["$course$", *escaped])


def cdata(text: str) -> str:
    """``text`` as CDATA sections (a ``]]>`` inside is split over two)."""
    return "<![CDATA[" + xml_safe(text).replace("]]>", "]]]]><![CDATA[>") + "]]>"


class _Writer:
    """Builds the XML tree; text marked for CDATA is put in on serialization."""

    def __init__(self) -> None:
        self.quiz = ET.Element("quiz")
        self.texts: list[str] = []

    def sub(self, parent: ET.Element, tag: str, text: str | None = None,
            **attrib: str) -> ET.Element:
        element = ET.SubElement(parent, tag, {k: xml_safe(v) for k, v in attrib.items()})
        if text is not None:
            element.text = xml_safe(text)
        return element

    def texted(self, parent: ET.Element, tag: str, text: str,
               fmt: str | None = "html") -> ET.Element:
        element = self.sub(parent, tag, **({"format": fmt} if fmt else {}))
        inner = self.sub(element, "text")
        if text:
            self.texts.append(text)
            inner.text = f"\x01{len(self.texts) - 1}\x01"
        return element

    def bytes(self) -> bytes:
        ET.indent(self.quiz)
        body = ET.tostring(self.quiz, encoding="unicode", short_empty_elements=False)
        body = _CDATA_TOKEN.sub(lambda m: cdata(self.texts[int(m.group(1))]), body)
        return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'.encode()


def moodle_xml(
    problem_set: ProblemSet, templates_dir: str | Path | None = None,
    mistakes: int = DEFAULT_MISTAKES,
) -> bytes:
    """The set as a Moodle XML question file (UTF-8 bytes), with up to ``mistakes``
    named-mistake answers per value."""
    out = _Writer()
    title = problem_set.title
    versions = ", ".join(problem_set.versions) or "one version"
    _category(out, category_path(title), (
        f"<p>{html.escape(title)}: generated by chainrule (seed "
        f"{html.escape(str(problem_set.seed))}; versions: {html.escape(versions)}). "
        "Each subcategory holds every version of one problem: add one random question "
        "from each to a quiz.</p>"))
    for position, family, entries in problem_set.groups():
        ids = ", ".join(e.shown_code for e in entries)
        _category(out, category_path(title, f"{position:02d} {family}"),
                  f"<p>Problem {position} ({html.escape(family)}), every version: "
                  f"{html.escape(ids)}.</p>")
        for entry in entries:
            _question(out, lms_question(entry, templates_dir, mistakes))
    return out.bytes()


def _category(out: _Writer, path: str, info_html: str) -> None:
    question = out.sub(out.quiz, "question", type="category")
    out.texted(question, "category", path, fmt=None)
    out.texted(question, "info", info_html)


def _question(out: _Writer, built: LmsQuestion) -> None:
    entry, kind, graded, parts = built.entry, built.kind, built.graded, built.html
    problem = entry.problem
    question = out.sub(out.quiz, "question", type=kind)
    out.texted(question, "name", plain_name(entry.name), fmt=None)
    text = parts.question
    if kind == "cloze":
        weights = blank_weights(entry.points, len(graded)) or [1] * len(graded)
        text = _LOOKS_LIKE_CLOZE.sub("&#123;", text)
        for i, (answer, feedback) in enumerate(zip(graded, parts.feedback, strict=True)):
            text = text.replace(slot(i), cloze_blank(answer, feedback, weights[i]))
    out.texted(question, "questiontext", text)
    solution = parts.solution
    if kind == "essay":
        solution = built.key_html + solution
    out.texted(question, "generalfeedback", solution)
    if kind != "cloze":
        out.sub(question, "defaultgrade", decimal_text(entry.points))
    out.sub(question, "penalty", "0" if kind == "essay" else PENALTY)
    out.sub(question, "hidden", "0")
    out.sub(question, "idnumber", "")
    if kind == "numerical":
        answer, feedback = graded[0], parts.feedback[0]
        tol = decimal_text(answer.tolerance)
        for value in answer.accepted:
            _answer(out, question, "100", value, feedback, tol)
        for mistake in answer.mistakes:
            _answer(out, question, "0", mistake.value, mistake_feedback(mistake.message), tol)
        _answer(out, question, "0", "*", feedback, "0")
        for tag, value in (("unitgradingtype", "0"), ("unitpenalty", "0.1000000"),
                           ("showunits", "3"), ("unitsleft", "0")):
            out.sub(question, tag, value)
    elif kind == "essay":
        for tag, value in (("responseformat", "editor"), ("responserequired", "1"),
                           ("responsefieldlines", "15"), ("attachments", "0"),
                           ("attachmentsrequired", "0")):
            out.sub(question, tag, value)
        out.texted(question, "graderinfo", built.key_html)
        out.texted(question, "responsetemplate", "")
    elif kind == "multichoice":
        for tag, value in (("single", "true"), ("shuffleanswers", "false"),
                           ("answernumbering", "ABCD")):
            out.sub(question, tag, value)
        for tag in ("correctfeedback", "partiallycorrectfeedback", "incorrectfeedback"):
            out.texted(question, tag, "")
        out.sub(question, "shownumcorrect")
        for i, choice in enumerate(parts.choices):
            answer_el = out.sub(question, "answer",
                                fraction="100" if i == problem.answer else "0", format="html")
            text_el = out.sub(answer_el, "text")
            out.texts.append(choice)
            text_el.text = f"\x01{len(out.texts) - 1}\x01"
            out.texted(answer_el, "feedback", "")


def _answer(out: _Writer, question: ET.Element, fraction: str, value: str, feedback: str,
            tolerance: str) -> None:
    element = out.sub(question, "answer", fraction=fraction, format="plain_text")
    out.sub(element, "text", value)
    out.texted(element, "feedback", feedback)
    out.sub(element, "tolerance", tolerance)
