"""The walkthrough's fast number paths against their definitions: rounding half away from
zero of a value's shortest decimal text (Decimal arithmetic), and the texts of givens and
rounded steps (``repr`` with whole numbers bare; fixed decimals with no "-0.000")."""

from __future__ import annotations

import math
import random
from decimal import ROUND_HALF_UP, Decimal

import pytest

from chainrule.render.walkthrough import (
    _given_texts,
    _rounded_text,
    _rounded_texts,
    round_half_up_float,
)


def decimal_round(value: float, decimals: int) -> float:
    """The definition: the shortest text of ``value``, rounded half away from zero."""
    return float(Decimal(repr(value)).quantize(Decimal(10) ** -decimals, ROUND_HALF_UP))


def given_text(value: float) -> str:
    """A float as a student writes a given: shortest text, whole numbers without ".0"."""
    if value == int(value):
        return str(int(value))
    return repr(value)


def rounded_text(value: float, decimals: int) -> str:
    """A rounded float with ``decimals`` places, zero never signed."""
    text = f"{value:.{decimals}f}"
    return text[1:] if text.startswith("-") and set(text[1:]) <= {"0", "."} and \
        value == 0 else text


def _values(seed: int) -> list[float]:
    rng = random.Random(seed)
    found: list[float] = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, 1e-9, -1e-9, 123456.0]
    for _ in range(4000):
        d = rng.randrange(0, 9)
        n = rng.randrange(-10**6, 10**6)
        tie = (n + 0.5) / 10**d  # a half in the last place (as text, mostly)
        found += [tie, math.nextafter(tie, math.inf), math.nextafter(tie, -math.inf),
                  rng.uniform(-20, 20), rng.uniform(-1, 1) * 10.0 ** rng.randrange(-12, 14),
                  float(Decimal(n) / Decimal(10) ** rng.randrange(0, 12))]
    return found


@pytest.mark.parametrize("seed", range(3))
def test_round_half_up_float_is_decimal_rounding_of_the_shortest_text(seed):
    for value in _values(seed):
        for decimals in range(9):
            got = round_half_up_float(value, decimals)
            want = decimal_round(value, decimals)
            assert got == want and math.copysign(1, got) == math.copysign(1, want), \
                (value, decimals, got, want)


def test_round_half_up_float_ties_and_specials():
    assert round_half_up_float(0.1235, 3) == 0.124
    assert round_half_up_float(-0.1235, 3) == -0.124
    assert round_half_up_float(2.675, 2) == 2.68  # 2.67499999... in binary, 2.675 as text
    assert math.copysign(1, round_half_up_float(-0.0001, 3)) == -1
    assert math.isnan(round_half_up_float(math.nan, 3))
    with pytest.raises(ArithmeticError):
        round_half_up_float(math.inf, 3)


@pytest.mark.parametrize("seed", range(2))
def test_given_and_rounded_texts_are_the_written_numbers(seed):
    values = [*_values(seed), 1e16, 1e22, -3.0, 2.0**53 + 2, math.nan, math.inf]
    assert _given_texts(values) == [given_text(v) if math.isfinite(v) else repr(v)
                                    for v in values]
    for decimals in range(9):
        rounded = [decimal_round(v, decimals) for v in values
                   if math.isfinite(v) and abs(v) < 1e15]
        expected = [rounded_text(v, decimals) for v in rounded]
        assert _rounded_texts(rounded, decimals) == expected
        text = _rounded_text(decimals)
        assert [text(v) for v in rounded] == expected
        assert [text(v, False) for v in rounded] == expected
    # Zero is never signed, even when -0.0 is met before 0.0 (they share a remembered text).
    assert _rounded_texts([-0.0, 0.0, -1e-9], 3) == ["0.000", "0.000", "-0.000"]
    assert _given_texts([-0.0, 0.0]) == ["0", "0"]


def test_texts_of_other_number_types_are_written_as_before():
    assert _given_texts([1, 0.5, Decimal("0.250")]) == ["1", "0.5", "0.25"]
    assert _rounded_texts([1, 0.5], 2) == ["1.00", "0.50"]
