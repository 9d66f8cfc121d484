"""What a teacher must know about a set's export to a target (printed by the command)."""

from __future__ import annotations

from chainrule.export.common import ProblemSet, formula_key

__all__ = ["export_notes"]


def export_notes(problem_set: ProblemSet, target: str) -> list[str]:
    """Notes on how ``problem_set`` lands in ``target`` (moodle, gift, canvas, qti21)."""
    from chainrule.export.canvas import NUMERICAL_MAX_DECIMALS
    from chainrule.export.gift import FIXED_NOTE
    from chainrule.export.moodle import blank_weights

    notes = []
    problems = [e.problem for e in problem_set.problems]
    manual = [p.id for p in problems
              if any(formula_key(p, name) is not None for name in p.asked)]
    if manual:
        notes.append(f"{len(manual)} of them ask for formulas: exported as essay questions, "
                     "graded by hand (the feedback holds the key formulas)")
    several = [e for e in problem_set.problems
               if e.problem.choices is None and len(e.problem.asked) > 1]
    if target == "gift" and several:
        notes.append(FIXED_NOTE)
    if target == "gift" and any(e.marks is not None for e in problem_set.problems):
        notes.append("GIFT has no marks: every question imports with a default mark of 1; "
                     "set the marks in the quiz")
    if target == "moodle":
        uneven = [e for e in several if e.marks is not None
                  and blank_weights(e.points, len(e.problem.asked)) is None]
        for entry in uneven[:5]:
            notes.append(f"problem {entry.problem.id}: {entry.points} marks cannot be spread "
                         f"over {len(entry.problem.asked)} blanks in whole numbers; its "
                         f"default mark is {len(entry.problem.asked)}: set its mark in the quiz")
    if target == "canvas":
        short = [p.id for p in problems if p.choices is None and len(p.asked) == 1
                 and p.decimals > NUMERICAL_MAX_DECIMALS]
        if short:
            notes.append(f"{len(short)} single-value problem(s) ask for more than "
                         f"{NUMERICAL_MAX_DECIMALS} decimals, which Canvas's numerical "
                         "questions cut off: they are short-answer questions graded by text")
    return notes
