from __future__ import annotations

from decimal import Decimal

import pytest

from cosell.engine import Engine
from cosell.fx import MissingRate, check_rates, converted_amounts_sql, fiscal_quarter_sql
from cosell.policy import Policy
from cosell.store.workspace import connect


def _con(rates: list[tuple[str, str, str]], deals: list[tuple[str, str, str, str]]) -> Engine:
    con = connect(":memory:")
    con.execute("CREATE TABLE v_fx_rates (currency VARCHAR, period VARCHAR, rate DECIMAL(38,12))")
    con.executemany("INSERT INTO v_fx_rates VALUES (?, ?, ?)", rates)
    con.execute(
        "CREATE TABLE deals (opportunity_id VARCHAR, amount DECIMAL(18,4), currency VARCHAR, created_at TIMESTAMPTZ)"
    )
    con.executemany("INSERT INTO deals VALUES (?, ?, ?, ?)", deals)
    return con


def test_month_rate_then_quarter_rate_then_rounded_half_away() -> None:
    con = _con(
        [("EUR", "2026-08", "1.1"), ("EUR", "2026-Q3", "1.2"), ("JPY", "2026-09", "0.006667")],
        [
            ("a", "100.05", "EUR", "2026-08-31T23:59:59Z"),  # August rate: 110.055 -> 110.06
            ("b", "100.00", "EUR", "2026-09-01T00:00:00Z"),  # no September rate: Q3 rate 1.2 -> 120.00
            ("c", "1000", "JPY", "2026-09-15T00:00:00Z"),  # 6.667 -> 6.67
            ("d", "5.555", "USD", "2026-09-15T00:00:00Z"),  # workspace currency, rounded once -> 5.56
        ],
    )
    sql = converted_amounts_sql("SELECT * FROM deals", "created_at", Policy())
    check_rates(con, sql)
    got = dict(con.execute(f"SELECT opportunity_id, amount_ws FROM ({sql})").fetchall())
    assert got == {"a": Decimal("110.06"), "b": Decimal("120.00"), "c": Decimal("6.67"), "d": Decimal("5.56")}


def test_a_missing_rate_names_currency_and_period_never_one() -> None:
    con = _con([("EUR", "2026-08", "1.1")], [("a", "100", "GBP", "2026-08-02T00:00:00Z")])
    sql = converted_amounts_sql("SELECT * FROM deals", "created_at", Policy())
    with pytest.raises(MissingRate, match=r"no rate for GBP in 2026-Q3 \(nor its month\): needed by 1 deal$"):
        check_rates(con, sql)


@pytest.mark.parametrize(
    ("instant", "start", "label"),
    [
        ("2026-01-15", 1, "2026-Q1"),
        ("2026-01-15", 2, "2026-Q4"),
        ("2026-02-01", 2, "2027-Q1"),
        ("2026-12-31", 10, "2027-Q1"),
    ],
)
def test_fiscal_quarter_sql_matches_the_python_calendar(instant: str, start: int, label: str) -> None:
    from cosell.instants import parse_instant
    from cosell.periods import fiscal_quarter

    con = connect(":memory:")
    expression = fiscal_quarter_sql(f"TIMESTAMPTZ '{instant}'", start)
    assert con.execute(f"SELECT {expression}").fetchall()[0][0] == label
    assert fiscal_quarter(parse_instant(instant), start).label == label


def test_the_largest_amount_at_the_largest_rate_import_accepts_converts_exactly() -> None:
    # The import bounds a rate to 8 integer digits (cosell.data.validate.RATE_INTEGER_DIGITS) so
    # that the exact product of the largest amount (14 integer digits) fits; with 26 it overflowed.
    from cosell.data.validate import RATE_INTEGER_DIGITS
    from cosell.money import MONEY_INTEGER_DIGITS

    amount = "9" * MONEY_INTEGER_DIGITS + ".9999"
    rate = "9" * RATE_INTEGER_DIGITS + ".999999999999"
    con = _con([("KWD", "2026-08", rate)], [("big", amount, "KWD", "2026-08-15T00:00:00Z")])
    sql = converted_amounts_sql("SELECT * FROM deals", "created_at", Policy())
    got = con.execute(f"SELECT amount_ws FROM ({sql})").fetchone()
    exact = (Decimal(amount) * Decimal(rate)).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
    assert got == (exact,)
