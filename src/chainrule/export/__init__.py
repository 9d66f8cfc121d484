"""LMS quiz export: a problem-set folder as Moodle XML or a Canvas QTI package.

Both read the same checked set (:func:`load_set`: every key record regenerated from its ID)
and the same graded answers and tolerance (:mod:`chainrule.export.common`); the question
text and worked solution come from the family templates through ``templates/html/``.

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
from chainrule.export.moodle import moodle_xml

__all__ = [
    "Answer",
    "ProblemSet",
    "SetProblem",
    "answers",
    "canvas_package",
    "load_set",
    "moodle_xml",
    "question_kind",
    "tolerance",
    "write_output",
]
