"""Readers and graders of the four LMS formats, written for the tests from the formats'
public documentation, not from chainrule's code:

* Moodle XML and cloze: Moodle's "Embedded Answers (Cloze)" syntax ({weight:NUMERICAL:
  =answer:tolerance#feedback~%fraction%answer:tolerance#feedback~*#feedback}), numerical
  grading (the first answer whose tolerance holds the response; ``*`` matches anything),
  plain-text names (tags stripped on import, shown as HTML);
* GIFT: Moodle's "GIFT format" page (``::name::``, ``[html]``, ``{#...}`` numerical answers
  with ``=%weight%value:tolerance#feedback``, ``~#`` for anything else, ``{=right ~wrong}``,
  ``{}`` essay, ``####`` general feedback, ``$CATEGORY:``, escapes ``\\~ \\= \\# \\{ \\} \\:``,
  ``\\\\`` and ``\\n``);
* Canvas QTI 1.2 as Canvas grades it: a numerical answer is right when it equals or lies in
  the range of a condition that sets the score (after the quiz page's ``toFixed(4)``); a
  short answer or blank is right when the typed text, trimmed and lower-cased, is one of
  its answers;
* QTI 2.1 response processing: an interpreter of the rules and expressions the spec defines
  (responseCondition, setOutcomeValue, equal with toleranceMode, match, sum, multiple ...).
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

# --- Moodle ------------------------------------------------------------------------------

_FRACTION = r"=|%(-?[0-9]+(?:[.,][0-9]*)?)%"
_ANSWER = r".+?(?<!\\)(?<!&)(?<!&amp;)(?=[~#}]|$)"
_FEEDBACK = r".*?(?<!\\)(?=[~}]|$)"
_ALTERNATIVE = f"({_FRACTION})?({_ANSWER})(#({_FEEDBACK}))?"
_TYPES = ("NUMERICAL|NM|MULTICHOICE|MC|MULTICHOICE_V|MCV|MULTICHOICE_H|MCH|SHORTANSWER|SA|MW|"
          "SHORTANSWER_C|SAC|MWC|MULTICHOICE_S|MCS|MULTICHOICE_VS|MCVS|MULTICHOICE_HS|MCHS|"
          "MULTIRESPONSE|MR|MULTIRESPONSE_H|MRH|MULTIRESPONSE_S|MRS|MULTIRESPONSE_HS|MRHS")
_BLANK = re.compile(r"\{([0-9]*):(" + _TYPES + "):(" + _ALTERNATIVE + "(~" + _ALTERNATIVE
                    + r")*)\}", re.S)
_ALT = re.compile("~?" + _ALTERNATIVE, re.S)
_NUMBER = r"-?(([0-9]+[.,]?[0-9]*|[.,][0-9]+)([eE][-+]?[0-9]+)?)"
_NUMERICAL = re.compile(f"^({_NUMBER})(:{_NUMBER})?$")
_TAG = re.compile(r"<[^>]*>")


def moodle_blanks(text: str) -> list[dict]:
    """Each cloze blank: weight, type, raw text and alternatives (fraction, answer,
    tolerance, feedback as Moodle shows it)."""
    blanks = []
    while match := _BLANK.search(text):
        alternatives, rest = [], match.group(3)
        while rest and (alt := _ALT.match(rest)):
            fraction = (Decimal(1) if alt.group(1) == "=" else
                        Decimal(alt.group(2).replace(",", ".")) / 100 if alt.group(2) else
                        Decimal(0))
            raw_feedback = alt.group(5) or ""
            feedback = html.unescape(raw_feedback).replace("\\}", "}").replace("\\#", "#")
            number = _NUMERICAL.match(alt.group(3))
            alternatives.append({
                "fraction": fraction,
                "answer": number.group(1) if number else alt.group(3),
                "tolerance": Decimal(number.group(6)) if number and number.group(6) else
                Decimal(0),
                "raw_feedback": raw_feedback, "feedback": feedback})
            rest = rest[len(alt.group(0)):]
        blanks.append({"weight": int(match.group(1) or 1), "type": match.group(2),
                       "raw": match.group(0), "alternatives": alternatives})
        text = text.replace(match.group(0), f"{{#{len(blanks)}}}", 1)
    return blanks


def split_category_path(path: str) -> list[str]:
    """A category path as Moodle splits it (``//`` is a slash), each name as shown."""
    return [moodle_plain(name.strip().replace("//", "/"))
            for name in re.split(r"(?<!/)/(?!/)", path)]


def moodle_plain(text: str) -> str:
    """A plain-text field (name, category) as Moodle shows it: tags stripped on import,
    the rest shown as HTML."""
    return html.unescape(_TAG.sub("", text))


def moodle_numerical(alternatives: list[dict], response: Decimal) -> dict | None:
    """Moodle's numerical grading: the first answer whose tolerance holds the response."""
    for alt in alternatives:
        if alt["answer"] == "*":
            return alt
        if abs(response - Decimal(alt["answer"].replace(",", "."))) <= alt["tolerance"]:
            return alt
    return None


def moodle_answers(question: ET.Element) -> list[dict]:
    """A numerical question's answers, in order."""
    return [{"fraction": Decimal(a.get("fraction")) / 100, "answer": a.findtext("text"),
             "tolerance": Decimal(a.findtext("tolerance") or "0"),
             "feedback": a.findtext("feedback/text") or ""} for a in question.findall("answer")]


# --- GIFT ---------------------------------------------------------------------------------

_GIFT_ESCAPES = {"\\\\": "\\", "\\:": "\x11", "\\#": "\x12", "\\=": "\x13", "\\{": "\x14",
                 "\\}": "\x15", "\\~": "\x16", "\\n": "\x17"}
_GIFT_CHARS = {"\x11": ":", "\x12": "#", "\x13": "=", "\x14": "{", "\x15": "}",
               "\x16": "~", "\x17": "\n"}


def _gift_pre(text: str) -> str:
    """Escapes resolved left to right: ``\\\\`` is a backslash at once, the others become
    placeholders that only text fields turn back (a category line keeps them)."""
    out, i = [], 0
    while i < len(text):
        pair = text[i:i + 2]
        if pair in _GIFT_ESCAPES:
            out.append(_GIFT_ESCAPES[pair])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _gift_post(text: str) -> str:
    return "".join(_GIFT_CHARS.get(c, c) for c in text)


@dataclass
class GiftQuestion:
    kind: str
    name: str
    category: str
    text: str
    general_feedback: str
    answers: list[dict] = field(default_factory=list)


def _gift_format(text: str) -> str:
    text = text.strip()
    if text.startswith("[html]"):
        text = text[len("[html]"):]
    return _gift_post(text).strip()


def parse_gift(data: str) -> list[GiftQuestion]:
    """Every question of a GIFT file, with its category and answers."""
    questions: list[GiftQuestion] = []
    category = ""
    for block in re.split(r"\n\s*\n", data):
        lines = [line for line in block.split("\n") if not line.strip().startswith("//")]
        text = _gift_pre("\n".join(lines).strip())
        if not text:
            continue
        if text.startswith("$CATEGORY:"):
            category = text[len("$CATEGORY:"):].strip()
            continue
        assert text.startswith("::"), text[:80]
        end = text.index("::", 2)
        name = moodle_plain(_gift_post(text[2:end]))
        text = text[end + 2:]
        start, finish = text.index("{"), text.index("}")
        assert finish == len(text) - 1, "text after the answers"
        body, answer = text[:start], text[start + 1:finish]
        general = ""
        if "####" in answer:
            answer, general = answer.rsplit("####", 1)
        answer = answer.strip()
        question = GiftQuestion("", name, category, _gift_format(body), _gift_format(general))
        if not answer:
            question.kind = "essay"
        elif answer.startswith("#"):
            question.kind = "numerical"
            answer = answer[1:]
            wrong = None
            if "~" in answer:
                answer, wrong = answer.split("~", 1)
            for part in [p.strip() for p in answer.split("=") if p.strip()]:
                weight = Decimal(1)
                if part.startswith("%"):
                    mark, part = part[1:].split("%", 1)
                    weight = Decimal(mark) / 100
                value, _, feedback = part.partition("#")
                number, _, tol = value.strip().partition(":")
                question.answers.append({"fraction": weight, "answer": number.strip(),
                                         "tolerance": Decimal(tol or "0"),
                                         "feedback": _gift_format(feedback)})
            if wrong is not None:
                question.answers.append({"fraction": Decimal(0), "answer": "*",
                                         "tolerance": Decimal(0),
                                         "feedback": _gift_format(wrong.partition("#")[2])})
        elif "~" in answer:
            question.kind = "multichoice"
            for part in re.findall(r"[=~][^=~]*", answer):
                question.answers.append({"fraction": Decimal(part[0] == "="),
                                         "text": _gift_format(part[1:].partition("#")[0])})
        else:
            raise AssertionError(f"unexpected GIFT answer {answer[:60]!r}")
        questions.append(question)
    return questions


# --- Canvas QTI 1.2 -------------------------------------------------------------------------


def strip_ns(root: ET.Element) -> ET.Element:
    for element in root.iter():
        element.tag = element.tag.rsplit("}", 1)[-1]
    return root


def canvas_submitted(typed: str) -> str:
    """What Canvas's quiz page sends for a typed numerical answer: the number as
    ``toFixed(4)`` with insignificant zeros dropped."""
    text = f"{float(typed.replace(',', '.')):.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def canvas_numerical(item: ET.Element, typed: str) -> bool:
    """Whether Canvas marks a typed numerical answer right."""
    value = Decimal(canvas_submitted(typed))
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


def canvas_short(item: ET.Element, typed: str) -> bool:
    """Whether Canvas marks a typed short answer right (text, trimmed, lower case)."""
    texts = {v.text.strip().lower() for c in item.findall("resprocessing/respcondition")
             if c.findtext("setvar") == "100" for v in c.iter("varequal")}
    return typed.strip().lower() in texts


def canvas_blanks(item: ET.Element) -> dict[str, set[str]]:
    """Blank name -> the texts Canvas marks right."""
    correct = {c.findtext("conditionvar/varequal") for c in item.iter("respcondition")
               if c.find("setvar") is not None and float(c.findtext("setvar")) > 0}
    found = {}
    for response in item.findall("presentation/response_lid"):
        name = response.findtext("material/mattext")
        found[name] = {label.findtext("material/mattext").strip().lower()
                       for label in response.iter("response_label")
                       if label.get("ident") in correct}
    return found


# --- QTI 2.1 --------------------------------------------------------------------------------


class Qti21Item:
    """An assessmentItem with an interpreter of its response processing."""

    def __init__(self, data: bytes) -> None:
        self.root = strip_ns(ET.fromstring(data))
        self.declarations = {d.get("identifier"): d for d in self.root
                             if d.tag in ("responseDeclaration", "outcomeDeclaration")}

    def responses(self) -> list[str]:
        return [d.get("identifier") for d in self.root.findall("responseDeclaration")]

    def run(self, responses: dict[str, str]) -> dict:
        """Outcomes after processing ``responses`` (typed text per response identifier)."""
        values: dict[str, object] = {}
        for ident, declaration in self.declarations.items():
            base = declaration.get("baseType")
            if declaration.tag == "responseDeclaration":
                values[ident] = self._read(responses.get(ident), base)
            elif declaration.get("cardinality") == "multiple":
                values[ident] = []
            else:
                default = declaration.findtext("defaultValue/value")
                values[ident] = self._read(default, base) if default is not None else (
                    Decimal(0) if base in ("float", "integer") else None)
        for rule in self.root.find("responseProcessing"):
            self._rule(rule, values)
        return values

    @staticmethod
    def _read(text: str | None, base: str | None) -> object:
        if text is None or not text.strip():
            return None
        if base in ("float", "integer"):
            try:
                return Decimal(text.strip())
            except InvalidOperation:
                return None
        return text.strip()

    def _rule(self, rule: ET.Element, values: dict) -> None:
        if rule.tag == "setOutcomeValue":
            values[rule.get("identifier")] = self._expr(rule[0], values)
        elif rule.tag == "responseCondition":
            for branch in rule:
                if branch.tag == "responseElse" or self._expr(branch[0], values) is True:
                    body = list(branch) if branch.tag == "responseElse" else list(branch)[1:]
                    for inner in body:
                        self._rule(inner, values)
                    break
        else:
            raise AssertionError(f"rule {rule.tag} not in the interpreter")

    def _expr(self, e: ET.Element, values: dict) -> object:
        tag = e.tag
        args = [self._expr(c, values) for c in e] if tag not in ("variable", "baseValue",
                                                                "correct") else []
        if tag == "variable":
            return values[e.get("identifier")]
        if tag == "baseValue":
            return self._read(e.text, e.get("baseType"))
        if tag == "correct":
            return self._read(self.declarations[e.get("identifier")].findtext(
                "correctResponse/value"), self.declarations[e.get("identifier")].get("baseType"))
        if tag == "isNull":
            return args[0] is None or args[0] == []
        if tag == "or":  # true if any is true; else NULL if any is NULL
            return True if True in args else None if None in args else False
        if tag == "and":  # false if any is false; else NULL if any is NULL
            return False if False in args else None if None in args else True
        if tag == "not":
            return None if args[0] is None else not args[0]
        if tag == "multiple":  # NULL sub-expressions are ignored
            out = []
            for a in args:
                out += a if isinstance(a, list) else [] if a is None else [a]
            return out
        if any(a is None for a in args):
            return None
        if tag == "sum":
            return sum(args, Decimal(0))
        if tag == "match":
            return args[0] == args[1]
        if tag == "equal":
            x, y = args
            mode = e.get("toleranceMode", "exact")
            if mode == "exact":
                return x == y
            t = [Decimal(v) for v in e.get("tolerance").split()]
            low_t, high_t = t[0], t[-1]
            if mode == "absolute":
                low, high = y - low_t, y + high_t
            else:
                low, high = y * (1 - low_t / 100), y * (1 + high_t / 100)
            return low <= x <= high
        if tag in ("gte", "lte", "gt", "lt"):
            x, y = args
            return {"gte": x >= y, "lte": x <= y, "gt": x > y, "lt": x < y}[tag]
        raise AssertionError(f"expression {tag} not in the interpreter")

    def feedback(self, outcomes: dict) -> list[str]:
        """The text of every modalFeedback the outcomes show."""
        shown = []
        for modal in self.root.findall("modalFeedback"):
            value = outcomes.get(modal.get("outcomeIdentifier"))
            chosen = modal.get("identifier") in (value if isinstance(value, list) else [value])
            if chosen == (modal.get("showHide") == "show"):
                shown.append("".join(modal.itertext()))
        return shown
