"""Reading numbers people type, safely (no eval, no sympify, no parse_expr), and the one rule
for the range a number may have.

Accepted: ``0.748``, ``-.252``, ``−0.252`` (Unicode minus), ``7.48e-1``, ``1/2``, ``-3/4``,
surrounding spaces. A thin or narrow no-break space as a thousands separator is not accepted
(it would be ambiguous). Anything else is a :class:`ValueError` with a short reason.

The range rule, the same everywhere a number enters chainrule:

* every number is finite (no ``inf``, no ``nan``, no 400-digit integer);
* a given of a hand calculation (an input, a target, a weight, a bias, a point) has
  ``|value| <= MAX_GIVEN`` (1e6);
* a learning rate is finite and ``> 0`` (and a given, so at most 1e6).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

__all__ = ["MAX_GIVEN", "check_given", "check_rate", "parse_number"]

#: The largest magnitude a given of a hand calculation may have.
MAX_GIVEN = 1e6

_DECIMAL = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_NUMBER = re.compile(rf"^{_DECIMAL}$")
_FRACTION = re.compile(r"^([+-]?\d+)\s*/\s*(\d+)$")
_MINUS_SIGNS = str.maketrans({"\u2212": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
                              "\ufe63": "-", "\uff0d": "-"})
#: Beyond this many digits an integer is not a number anyone typed by hand.
_MAX_INT = 10**30


def parse_number(text: object) -> float:
    """A finite float from a number or from text such as ``-.252`` or ``1/2``; ValueError
    otherwise (also for infinities, NaN and integers too large for a float)."""
    if isinstance(text, bool):
        raise ValueError("expected a number, got a true/false value")
    if isinstance(text, int):
        if abs(text) > _MAX_INT:
            raise ValueError("the number is too large")
        value = float(text)
    elif isinstance(text, float):
        value = text
    elif isinstance(text, str):
        cleaned = text.strip().translate(_MINUS_SIGNS)
        if not cleaned:
            raise ValueError("expected a number, got nothing")
        if len(cleaned) > 64:
            raise ValueError("expected a number, got a long text")
        fraction = _FRACTION.match(cleaned)
        if fraction:
            numerator, denominator = int(fraction.group(1)), int(fraction.group(2))
            if denominator == 0:
                raise ValueError(f"'{text.strip()}' divides by zero")
            if abs(numerator) > _MAX_INT * denominator:
                raise ValueError("the number is too large")
            value = float(Fraction(numerator, denominator))
        elif _NUMBER.match(cleaned):
            value = float(cleaned)
        else:
            raise ValueError(f"'{_short(text.strip())}' is not a number")
    else:
        raise ValueError(f"expected a number, got {_kind(text)}")
    if not math.isfinite(value):
        raise ValueError("expected a finite number")
    return value


def check_given(value: float) -> float:
    """``value`` if a hand calculation can hold it (``|value| <= 1e6``); ValueError otherwise."""
    if not math.isfinite(value) or abs(value) > MAX_GIVEN:
        raise ValueError(f"{value:g} is out of range: a given must lie between "
                         f"-{MAX_GIVEN:g} and {MAX_GIVEN:g}")
    return value


def check_rate(value: float, name: str = "the learning rate") -> float:
    """``value`` if it is a learning rate: finite and > 0 (at most 1e6); ValueError otherwise."""
    if not math.isfinite(value) or value <= 0 or value > MAX_GIVEN:
        raise ValueError(f"{name} must be a finite number > 0 and at most {MAX_GIVEN:g}, "
                         f"not {value:g}")
    return value


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def _kind(value: object) -> str:
    return {"list": "a list", "dict": "a mapping", "NoneType": "nothing",
            "date": "a date", "datetime": "a date"}.get(type(value).__name__,
                                                      type(value).__name__)
