"""Safe number parsing: what people type is read without eval."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainrule.io.numbers import parse_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.748", 0.748),
        ("-.252", -0.252),
        ("\u22120.252", -0.252),
        ("7.48e-1", 0.748),
        ("1/2", 0.5),
        ("-3/4", -0.75),
        (" 0.3 ", 0.3),
        ("+2", 2.0),
        ("5.", 5.0),
        (3, 3.0),
        (0.25, 0.25),
    ],
)
def test_accepted(text, expected):
    assert parse_number(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "  ", "abc", "1/0", "__import__('os')", "2**10", "1e999", "nan", "inf", "0x10",
     "1,5", "1 2", "exp(1)", "--1", "1/2/3", True, None, [1]],
)
def test_rejected(text):
    with pytest.raises(ValueError):
        parse_number(text)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_round_trips_any_float(x):
    assert parse_number(repr(x)) == x


@given(st.integers(-10**6, 10**6), st.integers(1, 10**6))
def test_fractions(n, d):
    assert math.isclose(parse_number(f"{n}/{d}"), n / d, rel_tol=1e-15)
