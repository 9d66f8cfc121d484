"""Judging a formula answer: equivalent to the step's formula, a catalogued mistake, or wrong.

The catalogue of :mod:`chainrule.check.mistakes` is applied to the correct formula and each
wrong formula it makes is tested for equivalence with the student's, so a mistake is named
for a formula exactly as for a number. Feedback shows both formulas in the notes' notation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import mpmath

from chainrule.check.mistakes import alternatives
from chainrule.formulas import FormulaError, Reading, Vocabulary, read_formula
from chainrule.formulas.equivalence import _value, equivalent
from chainrule.problems.base import Problem
from chainrule.symbolic.trace import Trace

__all__ = ["FormulaVerdict", "expected_reading", "judge_formula"]


@dataclass(frozen=True)
class FormulaVerdict:
    """What a formula answer was read as and how it was judged."""

    reading: Reading
    correct: bool
    decided_by: str
    message: str
    expected_text: str
    expected_tex: str
    mistake: str | None = None
    with_numbers: bool = False
    own_value: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            **self.reading.as_json(),
            "correct": self.correct,
            "decided_by": self.decided_by,
            "with_numbers": self.with_numbers,
            "mistake": self.mistake,
            "message": self.message,
            "expected": self.expected_text,
            "expected_tex": self.expected_tex,
        }


def _vocabulary(trace: Trace) -> Vocabulary:
    names = [*trace.givens, *trace.names]
    return Vocabulary.of(names, trace.tex_names)


def expected_reading(trace: Trace, name: str) -> tuple[str, str]:
    """The step's formula in the notes' notation (text, LaTeX)."""
    key = f"formula-notes:{name}"
    found = trace.cache.get(key)
    if found is None:
        try:
            reading = read_formula(trace.formula_text(name), _vocabulary(trace))
            found = (reading.text, trace.formula_tex(name))
        except FormulaError:
            found = (trace.formula_text(name), trace.formula_tex(name))
        trace.cache[key] = found
    return found  # type: ignore[no-any-return]


def _own_value(reading: Reading, own: Mapping[str, float], right: Mapping[str, float]
               ) -> float | None:
    values = {n: mpmath.mpf(repr(float(own[n] if n in own else right[n])))
              for n in reading.names if n in own or n in right}
    if len(values) != len(reading.names):
        return None
    value = _value(reading.expr, values)
    return None if value is None else float(value)


def judge_formula(
    problem: Problem, name: str, reading: Reading, own: Mapping[str, float]
) -> FormulaVerdict:
    """Judge ``reading`` as the formula of step ``name`` of ``problem``.

    ``own`` holds the student's values so far; the verdict carries the formula's value at
    them (what the student's own formula gives).
    """
    trace = problem.trace
    assert trace is not None
    own_value = _own_value(reading, own, problem.rounded)
    # The verdict depends on the formula and the problem only: judged once per problem,
    # step and formula (a class writes the same formulas many times).
    verdicts: dict[tuple[Any, ...], FormulaVerdict] = trace.cache.setdefault(
        "formula-verdicts", {})
    key = (problem.id, tuple(sorted(problem.givens.items())), problem.derivation,
           tuple(sorted(problem.context.get("formula_names", {}).get(name) or ())), name,
           reading.text, reading.expr)
    found = verdicts.get(key)
    if found is None:
        found = verdicts[key] = _judge(problem, trace, name, reading)
    return replace(found, reading=reading, own_value=own_value)


def _judge(problem: Problem, trace: Trace, name: str, reading: Reading) -> FormulaVerdict:
    index = trace.names.index(name)
    known = {*trace.givens, *trace.names[:index]}
    derivation = problem.derivation
    expected_text, expected_tex = expected_reading(trace, name)
    own_value = None

    def verdict(correct: bool, decided_by: str, message: str, **extra: Any) -> FormulaVerdict:
        return FormulaVerdict(reading, correct, decided_by, message, expected_text,
                              expected_tex, own_value=own_value, **extra)

    later = sorted(reading.names - known)
    if later:
        return verdict(False, "names", f"{', '.join(later)} is not known before {name}: "
                       f"write {name} in terms of earlier steps and givens.")
    allowed = problem.context.get("formula_names", {}).get(name)
    if allowed is not None and not reading.names <= set(allowed):
        extra_names = ", ".join(sorted(reading.names - set(allowed)))
        return verdict(False, "names", f"Write it in terms of {', '.join(allowed)} alone "
                       f"(not {extra_names}).")
    target = trace[name].formula
    result = equivalent(reading.expr, target, trace, problem.givens, step=name,
                        allow_numbers=True)
    if result.equal and result.with_numbers and derivation:
        names = ", ".join(sorted({s.name for s in target.free_symbols}))
        return verdict(False, result.method, f"Right with this problem's numbers; write it "
                       f"in terms of {names}.", with_numbers=True)
    if result.equal:
        how = "simplify" if result.method == "simplify" else "8 random points, 50 digits"
        return verdict(True, result.method, f"correct formula (equal by {how})",
                       with_numbers=result.with_numbers)
    for mistake, alt in alternatives(trace, name):
        if {s.name for s in alt.free_symbols} - known:
            continue  # a wrong formula that needs later steps (updated weights)
        if equivalent(reading.expr, alt, trace, problem.givens, step=name,
                      allow_numbers=not derivation).equal:
            message, _ = mistake.describe(trace, name)
            return verdict(False, "points", f"{message} Expected: {expected_text}; "
                           f"yours reads {reading.text}.", mistake=mistake.id)
    return verdict(False, result.method, f"Not equal to {name} = {expected_text}; yours reads "
                   f"{reading.text}.")
