"""Named mistakes as LMS answers: the values catalogued mistakes give at a step.

The one adapter between the checker's mistake catalogue (:mod:`chainrule.check.mistakes`)
and the exports. The catalogue gives, for a step, each applicable mistake's value computed
from the *correct* earlier values (the student's rounded-as-you-go chain, as a student who
slips only here has them) rounded to the asked decimals, with its message and hint. Here a
value equal to an accepted answer is dropped (it would grade a right answer as a mistake);
mistakes giving the same value are listed once, with every name and message; at most
``limit`` values are kept, in catalogue order. The exports list them as 0%-credit answers
with the message as feedback.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from chainrule.problems.base import Problem

__all__ = ["DEFAULT_MISTAKES", "MistakeAnswer", "step_mistakes"]

#: Mistake answers per blank unless asked otherwise (``--mistakes N``).
DEFAULT_MISTAKES = 3


@dataclass(frozen=True)
class MistakeAnswer:
    """A value a named mistake gives at a step: the text a student types, ids and message."""

    value: str
    ids: tuple[str, ...]
    message: str


def step_mistakes(
    problem: Problem, name: str, accepted: Iterable[str], limit: int = DEFAULT_MISTAKES
) -> list[MistakeAnswer]:
    """Up to ``limit`` mistake values of step ``name``, none equal to an ``accepted`` text."""
    from chainrule.check.mistakes import mistake_values
    from chainrule.symbolic.printing import format_rounded

    trace = problem.trace
    if limit <= 0 or trace is None or name not in trace:
        return []
    d = problem.decimals
    right = [Decimal(text) for text in accepted]
    found: dict[str, list[tuple[str, str]]] = {}
    for wrong in mistake_values(trace, name, problem.rounded, d):
        text = format_rounded(wrong.value, d)
        if Decimal(text) in right or (text not in found and len(found) >= limit):
            continue
        entry = found.setdefault(text, [])
        if all(wrong.id != seen for seen, _ in entry):
            entry.append((wrong.id, " ".join(p for p in (wrong.message, wrong.hint) if p)))
    return [MistakeAnswer(text, tuple(i for i, _ in entry), " Or: ".join(m for _, m in entry))
            for text, entry in found.items()]
