"""Reading numbers people type, safely: no eval, no sympify, no parse_expr.

Accepted: ``0.748``, ``-.252``, ``−0.252`` (Unicode minus), ``7.48e-1``, ``1/2``, ``-3/4``,
surrounding spaces, and a thin or narrow no-break space as a thousands separator is not
accepted (it would be ambiguous). Anything else is a :class:`ValueError` with a short reason.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

__all__ = ["parse_number"]

_DECIMAL = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_NUMBER = re.compile(rf"^{_DECIMAL}$")
_FRACTION = re.compile(r"^([+-]?\d+)\s*/\s*(\d+)$")
_MINUS_SIGNS = str.maketrans({"\u2212": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
                              "\ufe63": "-", "\uff0d": "-"})


def parse_number(text: object) -> float:
    """A float from a number or from text such as ``-.252`` or ``1/2``; ValueError otherwise."""
    if isinstance(text, bool):
        raise ValueError("expected a number, got a true/false value")
    if isinstance(text, (int, float)):
        value = float(text)
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
            value = float(Fraction(numerator, denominator))
        elif _NUMBER.match(cleaned):
            value = float(cleaned)
        else:
            raise ValueError(f"'{text.strip()}' is not a number")
    else:
        raise ValueError(f"expected a number, got {type(text).__name__}")
    if not math.isfinite(value):
        raise ValueError("expected a finite number")
    return value
