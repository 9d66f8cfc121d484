"""Checking a student's hand calculation against a problem's trace, step by step.

``judge`` gives the verdicts; the mistake catalogue (``mistake_formulas``, ``mistake_values``)
is public so that other consumers (LMS feedback, formula answers) name slips the same way.
"""

from chainrule.check.judge import CARRIED_MEANING, Report, StepResult, judge
from chainrule.check.mistakes import (
    CATALOGUE,
    MISTAKES,
    Mistake,
    MistakeValue,
    mistake_formulas,
    mistake_values,
)
from chainrule.check.notation import tex_to_text

__all__ = [
    "CARRIED_MEANING",
    "CATALOGUE",
    "MISTAKES",
    "Mistake",
    "MistakeValue",
    "Report",
    "StepResult",
    "judge",
    "mistake_formulas",
    "mistake_values",
    "tex_to_text",
]
