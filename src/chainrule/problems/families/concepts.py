"""Multiple-choice concept questions from a bank written from every section of the notes.

The bank (:mod:`chainrule.problems.families.concept_bank`) holds each question with its
correct answer, plausible wrong answers and why the answer is right. A problem shows the
question and four choices in a drawn order. The ``topics`` option limits the sections drawn
from; ``item`` names one question. In a problem set every position and version gets a
different question, so nothing repeats within a set (while the bank lasts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from chainrule.errors import ChainruleError
from chainrule.problems.base import Draft, Family, Option, register
from chainrule.problems.families.concept_bank import BANK, TOPICS, Item

__all__ = ["CONCEPT_OPTIONS", "N_CHOICES", "ConceptFamily", "item_by_key"]

N_CHOICES = 4
_LETTERS = "ABCD"
_BY_KEY = {item.key: item for item in BANK}
_TOPIC_TITLES = {
    "losses": "loss and cost functions",
    "comparison": "choosing a loss",
    "optimization": "optimization basics",
    "gd_variants": "batch, stochastic and mini-batch gradient descent",
    "momentum": "momentum and Nesterov",
    "adaptive": "adaptive optimizers",
    "schedules": "learning-rate schedules",
    "backprop": "backpropagation",
}

CONCEPT_OPTIONS: dict[str, Option] = {
    "topics": Option(list(TOPICS), "list", "sections of the notes to draw questions from",
                     TOPICS),
    "item": Option(None, "choice", "one question of the bank, by its key (default: drawn)",
                   tuple(_BY_KEY)),
}


def item_by_key(key: str) -> Item:
    """The bank's question ``key``."""
    try:
        return _BY_KEY[key]
    except KeyError:
        raise ChainruleError(f"no concept question '{key}'") from None


def _pool(options: Mapping[str, Any]) -> list[Item]:
    return [item for item in BANK if item.topic in options["topics"]]


@register
class ConceptFamily(Family):
    """Multiple-choice questions on every section of the notes."""

    name = "concept"
    code = "cq"
    title = "Concept question"
    options = CONCEPT_OPTIONS

    def parse_options(self, raw: Mapping[str, Any], where: str = "") -> dict[str, Any]:
        """Options with defaults; item keys are case-sensitive names with dashes."""
        raw = dict(raw)
        if raw.get("item") is not None:
            raw["item"] = str(raw["item"]).strip().lower()
        return super().parse_options(raw, where)

    def draw(self, rng: np.random.Generator, options: Mapping[str, Any]) -> Draft:
        """The question (given, or drawn from the topics), three of its wrong answers and the
        correct one, in a drawn order."""
        if options.get("item"):
            item = item_by_key(options["item"])
        else:
            pool = _pool(options)
            item = pool[int(rng.integers(len(pool)))]
        picked = rng.choice(len(item.distractors), N_CHOICES - 1, replace=False)
        choices = [item.correct, *(item.distractors[int(i)] for i in sorted(picked))]
        order = rng.permutation(N_CHOICES)
        choices = [choices[int(i)] for i in order]
        answer = choices.index(item.correct)
        context = {
            "item": item.key,
            "topic": item.topic,
            "topic_title": _TOPIC_TITLES[item.topic],
            "stem": item.stem,
            "correct": item.correct,
            "why": item.why,
        }
        title = f"{self.title}: {_TOPIC_TITLES[item.topic]}"
        return Draft(None, {}, (), title, context, choices, answer)

    def assign_items(self, rng: np.random.Generator, wanted: Sequence[Mapping[str, Any]],
                     versions: int) -> list[dict[str, Any]]:
        """Distinct questions for every position (and version) of a set: each position's
        options with ``_items``, one key per version. Positions that name an item keep it."""
        used = {o["item"] for o in wanted if o.get("item")}
        result = []
        for options in wanted:
            if options.get("item"):
                result.append({**options, "_items": [options["item"]] * versions})
                continue
            pool = [i.key for i in _pool(options) if i.key not in used]
            if len(pool) < versions:  # the bank is used up: repeats cannot be avoided
                pool = [i.key for i in _pool(options)]
            chosen = [pool[int(k)] for k in rng.choice(len(pool), versions, replace=False)]
            used.update(chosen)
            result.append({**options, "_items": chosen})
        return result

    def version_options(self, options: Mapping[str, Any], version: int) -> dict[str, Any]:
        """A set position's question for one version."""
        items = options.get("_items")
        own = {k: v for k, v in options.items() if k != "_items"}
        if items:
            own["item"] = items[version]
        return own
