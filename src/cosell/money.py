"""Decimal money: ISO 4217 currencies, minor units, parsing, rounding and largest-remainder splits.

Money is never a binary float anywhere in cosell. Amounts are :class:`decimal.Decimal`; a split of a
deal between partners uses the largest-remainder method in the currency's minor unit so that the
parts always add up to the whole, to the cent (or to the yen, which has no minor unit).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation, localcontext
from fractions import Fraction

# ISO 4217 active codes by number of minor-unit digits (2 for every code not listed elsewhere).
_ZERO = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE = "BHD IQD JOD KWD LYD OMR TND"
_FOUR = "CLF UYW"
_TWO = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD "
    "CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL "
    "GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD "
    "LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN "
    "PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL "
    "THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG ZWL"
)

MINOR_UNITS: dict[str, int] = {
    **{c: 2 for c in _TWO.split()},
    **{c: 0 for c in _ZERO.split()},
    **{c: 3 for c in _THREE.split()},
    **{c: 4 for c in _FOUR.split()},
}

# A plain decimal number: optional sign, digits, optional fraction. No thousands separators, no
# exponent, no letters: "12,5OO", "1e5" and "12.5.0" are all refused.
DECIMAL_PATTERN = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$"
_DECIMAL_RE = re.compile(DECIMAL_PATTERN)

# Enough precision for any amount a CRM holds, with room for exact intermediate products.
MONEY_CONTEXT = Context(prec=38)

# Every stored amount (imported rows, credits, ledger entries) is a DECIMAL(18,4): at most 14
# digits before the point. An amount from outside (a file, a plan) must fit before it is accepted.
MONEY_INTEGER_DIGITS = 14


def is_currency(code: str) -> bool:
    """True for an active ISO 4217 alphabetic code (upper case)."""
    return code in MINOR_UNITS


def minor_unit(currency: str) -> int:
    """Number of decimal digits of the currency's minor unit (USD 2, JPY 0, KWD 3)."""
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise ValueError(f"{currency!r} is not an ISO 4217 currency code") from None


def parse_decimal(text: str) -> Decimal:
    """Parse a decimal string exactly; raise ValueError on anything that is not a plain number.

    >>> parse_decimal("1250.50")
    Decimal('1250.50')
    """
    s = text.strip()
    if not _DECIMAL_RE.match(s):
        raise ValueError(f"{text!r} is not a number")
    try:
        return Decimal(s)
    except InvalidOperation:  # pragma: no cover - the pattern already excludes this
        raise ValueError(f"{text!r} is not a number") from None


def significant_fraction_digits(amount: Decimal | str) -> int:
    """Digits after the decimal point once trailing zeros are dropped: 573600.00 -> 0, 1.250 -> 2.

    The one minor-unit rule of cosell (SPEC section 1) is that this count must not exceed the
    currency's minor unit: a warehouse or CRM export writes JPY 573600 as ``573600.00`` and that is
    fine, while ``573600.50`` JPY is refused. The import checks the same count in SQL
    (:mod:`cosell.data.validate`) on the text as written; a test keeps the two in agreement.

    >>> significant_fraction_digits("573600.00"), significant_fraction_digits(Decimal("1.250"))
    (0, 2)
    """
    if isinstance(amount, str):
        return len(amount.strip().partition(".")[2].rstrip("0"))
    # From the digits and exponent, never by formatting: 1E-999999999 would be a billion characters.
    _, digits, exponent = amount.as_tuple()
    if not isinstance(exponent, int):
        raise ValueError(f"{amount} is not a finite number")
    kept = len(digits)
    while kept > 1 and digits[kept - 1] == 0:
        kept -= 1
    if kept == 1 and digits[0] == 0:
        return 0
    return max(0, -(exponent + len(digits) - kept))


def fits_minor_unit(amount: Decimal | str, currency: str) -> bool:
    """True when ``amount`` has no non-zero digit below the currency's minor unit.

    >>> fits_minor_unit("573600.00", "JPY"), fits_minor_unit("573600.50", "JPY")
    (True, False)
    """
    return significant_fraction_digits(amount) <= minor_unit(currency)


def fits_storage(amount: Decimal) -> bool:
    """True when a finite amount has at most 14 digits before the point (what DECIMAL(18,4) holds).

    >>> fits_storage(Decimal("99999999999999.99")), fits_storage(Decimal("1E+20"))
    (True, False)
    """
    # By the exponent, not abs(): abs(Decimal("1E+999999999999")) overflows the default context.
    return amount.is_finite() and (amount.is_zero() or amount.adjusted() < MONEY_INTEGER_DIGITS)


def beyond_minor_unit_reason(currency: str, digits: int | str | None = None) -> str:
    """Why an amount that does not fit the currency's minor unit is refused (one wording everywhere).

    ``digits`` defaults to the currency's minor unit; the SQL check passes its own expression.
    """
    shown = minor_unit(currency) if digits is None else digits
    return f"has non-zero digits beyond the {shown} decimal places {currency} allows"


def quantum(currency: str) -> Decimal:
    """The currency's minor unit as a Decimal exponent: USD -> 0.01, JPY -> 1."""
    return Decimal(1).scaleb(-minor_unit(currency))


def format_money(amount: Decimal, currency: str) -> str:
    """``12,000.00 USD``: thousands separators, at least the currency's minor-unit digits (the
    way people read an amount: sentences, statements, a deal's history)."""
    if amount.as_tuple().exponent > -minor_unit(currency):  # type: ignore[operator]
        amount = amount.quantize(quantum(currency))
    return f"{amount:,f} {currency}"


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round once, half away from zero, to the currency's minor unit."""
    with localcontext(MONEY_CONTEXT):
        return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def to_minor(amount: Decimal, currency: str) -> int:
    """An amount already in the minor unit's precision as an integer count of minor units."""
    scaled = amount.scaleb(minor_unit(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more digits than {currency} allows")
    return int(scaled)


def from_minor(units: int, currency: str) -> Decimal:
    """An integer count of minor units as a Decimal amount with the currency's exponent."""
    return Decimal(units).scaleb(-minor_unit(currency))


def largest_remainder(
    total_minor: int, shares: Sequence[Fraction], tie_keys: Sequence[tuple[Hashable, ...]] | None = None
) -> list[int]:
    """Split ``total_minor`` minor units in proportion to ``shares`` (which sum to 1).

    Each part is first floored; the units left over go one each to the parts with the largest
    remainders. Ties between equal remainders go to the smallest ``tie_keys`` entry (callers pass
    ``(-role_weight, partner_id)`` so the larger role weight, then the smaller partner id, wins).
    The result always sums to ``total_minor`` exactly.

    >>> largest_remainder(100, [Fraction(1, 3)] * 3)
    [34, 33, 33]
    """
    if not shares:
        return []
    if sum(shares) != 1:
        raise ValueError("shares must sum to exactly 1")
    keys = list(tie_keys) if tie_keys is not None else [(i,) for i in range(len(shares))]
    sign = -1 if total_minor < 0 else 1
    magnitude = abs(total_minor)
    exact = [share * magnitude for share in shares]
    floors = [int(x.numerator // x.denominator) for x in exact]
    remainders = [x - f for x, f in zip(exact, floors, strict=True)]
    left = magnitude - sum(floors)
    order = sorted(range(len(shares)), key=lambda i: (-remainders[i], keys[i]))
    for i in order[:left]:
        floors[i] += 1
    return [sign * f for f in floors]
