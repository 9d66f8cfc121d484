"""LMS quiz export: a problem-set folder as Moodle XML, GIFT, a Canvas QTI 1.2 package or a
QTI 2.1 package.

All read the same checked set (:func:`load_set`: every key record regenerated from its ID)
and build each question once (:func:`lms_question`: graded values with their tolerance and
named-mistake values, question text and worked solution from the family templates through
``templates/html/``).

    problem_set = load_set("output/exam")
    write_output("exam-moodle.xml", moodle_xml(problem_set))
"""

from chainrule.export.canvas import canvas_package
from chainrule.export.common import (
    Answer,
    ProblemSet,
    SetProblem,
    answers,
    load_set,
    question_kind,
    tolerance,
    write_output,
)
from chainrule.export.gift import gift_text
from chainrule.export.mistakes import DEFAULT_MISTAKES, MistakeAnswer, step_mistakes
from chainrule.export.moodle import moodle_xml
from chainrule.export.notes import export_notes
from chainrule.export.qti21 import qti21_package
from chainrule.export.question import LmsQuestion, lms_question

__all__ = [
    "DEFAULT_MISTAKES",
    "Answer",
    "LmsQuestion",
    "MistakeAnswer",
    "ProblemSet",
    "SetProblem",
    "answers",
    "canvas_package",
    "export_notes",
    "gift_text",
    "lms_question",
    "load_set",
    "moodle_xml",
    "qti21_package",
    "question_kind",
    "step_mistakes",
    "tolerance",
    "write_output",
]
