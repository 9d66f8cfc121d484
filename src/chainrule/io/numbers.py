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
from collections.abc import Mapping
from fractions import Fraction

__all__ = [
    "MAX_DECIMALS",
    "MAX_GIVEN",
    "MAX_STEP",
    "check_decimals",
    "check_given",
    "check_rate",
    "check_steps",
    "parse_number",
]

#: The largest magnitude a given of a hand calculation may have.
MAX_GIVEN = 1e6
#: The largest magnitude a computed step may reach (beyond it, rounding to the decimals of a
#: hand calculation means nothing).
MAX_STEP = 1e15
#: Decimals a student may be asked to work to: 0 to 8, everywhere.
MAX_DECIMALS = 8

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
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, not {value:g}")
    if value > MAX_GIVEN:
        raise ValueError(f"{name} must be at most {MAX_GIVEN:g}, not {value:g}")
    return value


def check_decimals(value: object) -> int:
    """``value`` if it is a whole number of decimals from 0 to 8; ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DECIMALS:
        raise ValueError(f"expected a whole number from 0 to {MAX_DECIMALS}")
    return value


def check_steps(values: Mapping[str, float]) -> None:
    """Every computed value finite and within ``MAX_STEP``; ChainruleError naming the first
    step that is not (never an inf or nan in a key)."""
    from chainrule.errors import ChainruleError

    for name, value in values.items():
        if not math.isfinite(value) or abs(value) > MAX_STEP:
            raise ChainruleError(
                f"step {name} = {value:g} leaves the range of a hand calculation "
                f"(|value| <= {MAX_STEP:g}): choose smaller givens")


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def _kind(value: object) -> str:
    return {"list": "a list", "dict": "a mapping", "NoneType": "nothing",
            "date": "a date", "datetime": "a date"}.get(type(value).__name__,
                                                      type(value).__name__)
