"""Multiple-choice concept questions from the notes' Quick Comparison table of losses.

Every question and every explanation is generated from the losses' metadata
(:data:`chainrule.symbolic.losses.LOSSES`, the rows in the notes' table) and, for wrong
output activations, from the activation registry. Kinds of question:

* ``use_loss``: which loss has this typical use?        (choices: losses)
* ``loss_use``: what is this loss's typical use?        (choices: typical uses)
* ``loss_output``: which output activation goes with this loss?  (choices: activations)
* ``output_loss``: which loss goes with this output activation?  (choices: losses)
* ``note_loss``: which loss does the table describe as "..."?    (choices: losses)

Four choices, exactly one correct. A wrong choice (distractor) must not be defensible either;
two losses *conflict* (neither may be a distractor for a question the other answers) when

* use questions: their uses overlap, the words of one (outside parentheses) being a subset
  of the other's ("Classification (SVM)" and "Binary classification": hinge is never a
  distractor for a binary-classification question), or both compare class distributions
  (``distribution``: CCE and KL, which is CCE up to a constant for one-hot targets);
* activation questions: their output activations share a name ("Softmax" and
  "Softmax/Prob dists");
* note questions: their notes refer to a common loss (a note refers to its own loss, to
  losses it names, "More robust than MSE", and to losses whose typical use shares a word with
  it, "Standard for classification"; so MAE and Huber, both more robust than MSE, never face
  each other), or both output probabilities (sigmoid or softmax: BCE, CCE and KL are all
  log losses, and what the notes say of one holds of the others).

A (kind, subject) pair with fewer than three fair distractors is never asked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from chainrule.problems.base import Draft, Family, Option, register
from chainrule.symbolic.activations import ACTIVATIONS
from chainrule.symbolic.losses import LOSSES, LossInfo

__all__ = ["CONCEPT_OPTIONS", "KINDS", "ConceptFamily", "Question", "questions", "table_losses"]

KINDS = ("use_loss", "loss_use", "loss_output", "output_loss", "note_loss")
N_CHOICES = 4

_TITLES = {
    "use_loss": "which loss for a task",
    "loss_use": "what a loss is for",
    "loss_output": "the output activation of a loss",
    "output_loss": "the loss for an output activation",
    "note_loss": "which loss the table describes",
}
_TABLE = "the notes' comparison table"
_LETTERS = "ABCD"
#: Output activations whose values are probabilities.
_PROBABILITY_OUTPUTS = frozenset({"sigmoid", "softmax"})


@dataclass(frozen=True)
class Question:
    """One askable question: its subject, every correct answer and every fair distractor."""

    kind: str
    subject: str
    correct: tuple[str, ...]
    distractors: tuple[str, ...]


def table_losses() -> list[LossInfo]:
    """The losses in the notes' Quick Comparison table, in table order."""
    return [info for info in LOSSES.values() if info.in_notes_table]


def _words(text: str) -> frozenset[str]:
    """The lower-case words of ``text`` outside parentheses."""
    return frozenset(re.findall(r"[a-z]+", re.sub(r"\(.*?\)", "", text.lower())))


def uses_overlap(a: str, b: str) -> bool:
    """Whether one typical use contains the other ("Classification (SVM)", "Binary ...")."""
    wa, wb = _words(a), _words(b)
    return wa <= wb or wb <= wa


def _names(activation: str) -> frozenset[str]:
    return frozenset(part.strip().lower() for part in activation.split("/"))


def activations_overlap(a: str, b: str) -> bool:
    """Whether two output activations share a name ("Softmax", "Softmax/Prob dists")."""
    return bool(_names(a) & _names(b))


def refers_to(info: LossInfo) -> frozenset[str]:
    """The losses a table row's note is about: its own, those it names or whose use it says."""
    note = info.notes
    keys = {info.key}
    for other in table_losses():
        named = re.search(rf"\b{re.escape(other.key.upper())}\b", note)
        said = _words(other.typical_use) & _words(note)
        if named or said:
            keys.add(other.key)
    return frozenset(keys)


def use_conflict(a: LossInfo, b: LossInfo) -> bool:
    """Whether a question on a's typical use could also be answered with b (or vice versa)."""
    return uses_overlap(a.typical_use, b.typical_use) or (a.distribution and b.distribution)


def activation_conflict(a: LossInfo, b: LossInfo) -> bool:
    """Whether a's and b's output activations could be taken for each other."""
    return activations_overlap(a.output_activation, b.output_activation)


def note_conflict(a: LossInfo, b: LossInfo) -> bool:
    """Whether a's note could also be said of b (or vice versa)."""
    both_probabilities = {a.default_output, b.default_output} <= _PROBABILITY_OUTPUTS
    return bool(refers_to(a) & refers_to(b)) or both_probabilities


def _activation_pool() -> list[str]:
    """The table's output activations, then registry activations the table never names."""
    pool = list(dict.fromkeys(info.output_activation for info in table_losses()))
    named = frozenset().union(*(_names(a) for a in pool))
    pool += [a.title for a in ACTIVATIONS.values() if a.title.lower() not in named]
    return pool


def _question(kind: str, subject: str, correct: list[str], wrong: list[str]) -> Question:
    return Question(kind, subject, tuple(correct), tuple(dict.fromkeys(wrong)))


@cache
def questions() -> tuple[Question, ...]:
    """Every question the table supports with at least three fair distractors."""
    rows = table_losses()
    found: list[Question] = []
    uses = list(dict.fromkeys(info.typical_use for info in rows))
    acts = list(dict.fromkeys(info.output_activation for info in rows))
    for use in uses:
        right = [r for r in rows if r.typical_use == use]
        found.append(_question(
            "use_loss", use, [r.title for r in right],
            [r.title for r in rows if not any(use_conflict(r, c) for c in right)],
        ))
    for info in rows:
        found.append(_question(
            "loss_use", info.title, [info.typical_use],
            [u for u in uses
             if not any(use_conflict(r, info) for r in rows if r.typical_use == u)],
        ))
    for info in rows:
        found.append(_question(
            "loss_output", info.title, [info.output_activation],
            [a for a in _activation_pool()
             if not activations_overlap(a, info.output_activation)],
        ))
    for act in acts:
        right = [r for r in rows if r.output_activation == act]
        found.append(_question(
            "output_loss", act, [r.title for r in right],
            [r.title for r in rows if not any(activation_conflict(r, c) for c in right)],
        ))
    for info in rows:
        found.append(_question(
            "note_loss", info.notes, [info.title],
            [r.title for r in rows if not note_conflict(r, info)],
        ))
    return tuple(q for q in found if len(q.distractors) >= N_CHOICES - 1)


def _row(title: str) -> LossInfo:
    return next(info for info in table_losses() if info.title == title)


def _sentence(text: str) -> str:
    return text if text.endswith(".") else text + "."


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _describe(info: LossInfo) -> str:
    return _sentence(f"{info.title} is listed with typical use {info.typical_use}, output "
                     f"activation {info.output_activation}, note: {info.notes}")


def _stem(kind: str, subject: str) -> dict[str, str]:
    """The question as text before the subject, the subject, text after; and its style."""
    parts = {
        "use_loss": (f"According to {_TABLE}, which loss function is typically used for ",
                     "quote", "?"),
        "loss_use": (f"According to {_TABLE}, what is the typical use of ", "name", "?"),
        "loss_output": (f"According to {_TABLE}, which activation goes at the output of a "
                        "network trained with ", "name", "?"),
        "output_loss": (f"According to {_TABLE}, which loss function goes with the output "
                        "activation ", "quote", "?"),
        "note_loss": (f"Which loss function does {_TABLE} describe as ", "quote", "?"),
    }
    before, style, after = parts[kind]
    quoted = f'"{subject}"' if style == "quote" else subject
    return {"before": before, "subject": subject, "after": after, "style": style,
            "stem": before + quoted + after}


def _reason(kind: str, choice: str) -> str:
    """Why a choice is (or is not) the answer, as a sentence from the metadata."""
    rows = table_losses()
    if kind in ("use_loss", "output_loss", "note_loss"):
        return _describe(_row(choice))
    if kind == "loss_use":
        owners = [r.title for r in rows if r.typical_use == choice]
        return f"{choice} is the typical use of {_and(owners)}."
    owners = [r.title for r in rows if r.output_activation == choice]
    if owners:
        return f"{choice} is the output activation of {_and(owners)}."
    return f"No loss in the table has a {choice} output."


CONCEPT_OPTIONS: dict[str, Option] = {
    "kinds": Option(list(KINDS), "list", "kinds of question to draw from", KINDS),
}


@register
class ConceptFamily(Family):
    """Multiple-choice questions on which loss, output activation and use go together."""

    name = "concept"
    code = "cq"
    title = "Concept question"
    options = CONCEPT_OPTIONS

    def draw(self, rng: np.random.Generator, options: Mapping[str, Any]) -> Draft:
        """Pick a kind, a subject, the correct answer and three distractors; shuffle them."""
        kinds = [k for k in KINDS if k in options["kinds"]]
        kind = kinds[int(rng.integers(len(kinds)))]
        pool = [q for q in questions() if q.kind == kind]
        question = pool[int(rng.integers(len(pool)))]
        correct = question.correct[int(rng.integers(len(question.correct)))]
        picked = rng.choice(len(question.distractors), N_CHOICES - 1, replace=False)
        choices = [correct, *(question.distractors[int(i)] for i in picked)]
        order = rng.permutation(N_CHOICES)
        choices = [choices[int(i)] for i in order]
        answer = choices.index(correct)
        subject_row = None
        if kind in ("loss_use", "loss_output"):
            subject_row = _describe(_row(question.subject))
        context = {
            "kind": kind,
            **_stem(kind, question.subject),
            "correct": correct,
            "why": "In the notes' comparison table, " + (subject_row or _reason(kind, correct)),
            "others": [{"letter": _LETTERS[i], "choice": c, "reason": _reason(kind, c)}
                       for i, c in enumerate(choices) if c != correct],
        }
        return Draft(None, {}, (), f"{self.title}: {_TITLES[kind]}", context, choices, answer)
