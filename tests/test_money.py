from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cosell.money import (
    fits_minor_unit,
    fits_storage,
    largest_remainder,
    minor_unit,
    parse_decimal,
    round_money,
    significant_fraction_digits,
)


def test_minor_units() -> None:
    assert minor_unit("USD") == 2
    assert minor_unit("JPY") == 0
    assert minor_unit("KWD") == 3
    with pytest.raises(ValueError):
        minor_unit("XYZ")


@pytest.mark.parametrize(
    ("amount", "currency", "fits"),
    [
        ("573600.00", "JPY", True),
        ("573600.", "JPY", True),
        ("573600.50", "JPY", False),
        ("573600.000001", "JPY", False),
        ("1200.5000", "USD", True),
        ("1200.501", "USD", False),
        ("1.2340", "KWD", True),
        ("1.2345", "KWD", False),
        ("-0.10", "USD", True),
    ],
)
def test_fits_minor_unit_accepts_extra_zeros_only(amount: str, currency: str, fits: bool) -> None:
    assert fits_minor_unit(amount, currency) is fits
    assert fits_minor_unit(Decimal(amount), currency) is fits


def test_significant_fraction_digits_of_huge_and_exponent_decimals() -> None:
    # format(..., "f") never rounds: 38 digits stay 38 digits, 1E+20 has no fraction.
    assert significant_fraction_digits(Decimal("1E+20")) == 0
    assert significant_fraction_digits(Decimal("0." + "0" * 37 + "1")) == 38
    assert significant_fraction_digits(Decimal("12345678901234567890123456789.50")) == 1


@pytest.mark.parametrize("text", ["12,5OO", "1e5", "12.5.0", "", "abc", "1 000", "NaN", "inf"])
def test_parse_decimal_refuses_non_numbers(text: str) -> None:
    with pytest.raises(ValueError, match="is not a number"):
        parse_decimal(text)


def test_parse_decimal_is_exact() -> None:
    assert parse_decimal("0.1") + parse_decimal("0.2") == Decimal("0.3")
    assert parse_decimal("-12.50") == Decimal("-12.50")


def test_round_half_away_from_zero() -> None:
    assert round_money(Decimal("2.345"), "USD") == Decimal("2.35")
    assert round_money(Decimal("-2.345"), "USD") == Decimal("-2.35")
    assert round_money(Decimal("2.5"), "JPY") == Decimal("3")


def test_largest_remainder_hand_computed() -> None:
    # 100.00 split 50/30/15 of 95 weight units: 52.6315..., 31.5789..., 15.7894... -> floors leave
    # 2 cents, which go to the two largest remainders (.947 and .894).
    shares = [Fraction(50, 95), Fraction(30, 95), Fraction(15, 95)]
    assert largest_remainder(10000, shares) == [5263, 3158, 1579]
    assert sum(largest_remainder(10000, shares)) == 10000
    # Equal remainders: the tie key decides (smallest key wins the extra unit).
    assert largest_remainder(1, [Fraction(1, 2)] * 2, [(1,), (0,)]) == [0, 1]


@given(
    total=st.integers(min_value=-(10**12), max_value=10**12),
    weights=st.lists(st.integers(min_value=1, max_value=1000), min_size=1, max_size=8),
)
def test_largest_remainder_always_sums_to_the_total(total: int, weights: list[int]) -> None:
    shares = [Fraction(w, sum(weights)) for w in weights]
    parts = largest_remainder(total, shares)
    assert sum(parts) == total
    for part, share in zip(parts, shares, strict=True):
        assert abs(part - share * total) < 1


def test_fits_storage_is_what_decimal_18_4_holds() -> None:
    assert fits_storage(Decimal("99999999999999.9999"))
    assert fits_storage(Decimal("-99999999999999.99"))
    assert fits_storage(Decimal(0))
    assert not fits_storage(Decimal("100000000000000"))
    assert not fits_storage(Decimal("1E+999999999999"))  # no overflow on the way
    assert not fits_storage(Decimal("Infinity"))


def test_significant_fraction_digits_never_expands_an_exponent() -> None:
    assert significant_fraction_digits(Decimal("1E-999999999")) == 999_999_999
    assert significant_fraction_digits(Decimal("1.0E-2")) == 2
    assert significant_fraction_digits(Decimal("0E-30")) == 0
