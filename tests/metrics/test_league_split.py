"""Property: the league splits each won deal's converted revenue between its credit rows by the
largest-remainder method (cosell.money.largest_remainder, in plain Python here), so the parts add up
to the deal's revenue exactly, whatever the credited amounts, shares, roles and sign, up to the
largest amounts at the largest FX rate an import accepts."""

from __future__ import annotations

from decimal import Context, Decimal
from fractions import Fraction

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from cosell.metrics.league import PartnerLine, credited_total, split_revenue_sql
from cosell.money import largest_remainder
from cosell.policy import Policy

POLICY = Policy()
ROLES = ("sourcer", "co_seller", "reseller", "influencer", "servicer")
CON = duckdb.connect()


@st.composite
def deals(draw: st.DrawFn) -> tuple[Decimal, list[tuple[str, str, Decimal, Decimal]]]:
    # Credited amounts up to the largest an import accepts (DECIMAL(18,4): 14 digits before the point;
    # docs/data-guide.md); the revenue is converted to the workspace currency, at a rate of up to 8
    # integer digits: up to 22 digits before the point.
    revenue = Decimal(draw(st.integers(-(10**24) + 1, 10**24 - 1))).scaleb(-2)
    partners = draw(
        st.lists(st.sampled_from([f"P{i}" for i in range(8)]), min_size=1, max_size=6, unique=True)
    )
    zero_amounts = draw(st.integers(0, 9)) == 0  # a deal whose credited amounts are all 0: by shares
    credits = []
    for p in partners:
        amount = Decimal(0) if zero_amounts else Decimal(draw(st.integers(0, 10**18 - 1))).scaleb(-4)
        share = Decimal(draw(st.integers(1, 10**6))).scaleb(-6)
        credits.append((p, draw(st.sampled_from(ROLES)), share, amount))
    if not zero_amounts and all(c[3] == 0 for c in credits):
        p, role, share, _ = credits[0]
        credits[0] = (p, role, share, Decimal("0.01"))
    return revenue, credits


def expected(revenue: Decimal, credits: list[tuple[str, str, Decimal, Decimal]]) -> dict[str, Decimal]:
    by_amount = [Fraction(c[3]) for c in credits]
    weights = by_amount if sum(by_amount) else [Fraction(c[2]) for c in credits]
    total = sum(weights)
    minor = int(revenue.scaleb(2))
    parts = largest_remainder(
        minor,
        [w / total for w in weights],
        [(-POLICY.role_weights[c[1]], c[0]) for c in credits],
    )
    return {c[0]: Decimal(units).scaleb(-2) for c, units in zip(credits, parts, strict=True)}


@given(deals())
def test_split_matches_largest_remainder_and_adds_up(
    deal: tuple[Decimal, list[tuple[str, str, Decimal, Decimal]]],
) -> None:
    revenue, credits = deal
    values = ", ".join(
        f"('O1', '{p}', '{role}', CAST('{share}' AS DECIMAL(7,6)), CAST('{amount}' AS DECIMAL(18,4)), "
        f"CAST('{revenue}' AS DECIMAL(38,2)))"
        for p, role, share, amount in credits
    )
    source = (
        f"SELECT * FROM (VALUES {values}) AS t(opportunity_id, partner_id, role, share, amount, revenue_ws)"
    )
    got = dict(
        CON.execute(f"SELECT partner_id, credited_ws FROM ({split_revenue_sql(source, POLICY)})").fetchall()
    )
    assert got == expected(revenue, credits)
    assert sum(got.values()) == revenue


def test_a_credit_of_fourteen_digits_splits_without_overflow() -> None:
    # The credited amount is a DECIMAL(18,4): times 10,000 inside DECIMAL(18) it overflowed (a
    # traceback for any deal of ten billion or more); the largest amount an import accepts splits.
    source = (
        "SELECT * FROM (VALUES ('O1', 'P1', 'sourcer', CAST(0.5 AS DECIMAL(7,6)), "
        "CAST('49999999999999.99' AS DECIMAL(18,4)), CAST('99999999999999.99' AS DECIMAL(38,2))), "
        "('O1', 'P2', 'influencer', CAST(0.5 AS DECIMAL(7,6)), CAST('50000000000000.00' AS DECIMAL(18,4)), "
        "CAST('99999999999999.99' AS DECIMAL(38,2)))) "
        "AS t(opportunity_id, partner_id, role, share, amount, revenue_ws)"
    )
    got = dict(
        CON.execute(f"SELECT partner_id, credited_ws FROM ({split_revenue_sql(source, POLICY)})").fetchall()
    )
    assert got == {"P1": Decimal("49999999999999.99"), "P2": Decimal("50000000000000.00")}


def test_the_largest_revenue_at_the_largest_rate_splits_without_overflow() -> None:
    # 99,999,999,999,999.9999 CLF at 99,999,999.999999999999 USD per CLF is 10^22 USD of revenue,
    # 10^24 cents; times a credited amount's weight (10^18 ten-thousandths) it overflowed HUGEINT:
    # report partners exited 70 (found by fuzzing huge amounts and rates through the league).
    revenue = "9999999999999999999900.01"
    source = (
        "SELECT * FROM (VALUES "
        f"('O1', 'P1', 'sourcer', CAST(0.25 AS DECIMAL(7,6)), CAST('24999999999999.9999' AS DECIMAL(18,4)), "
        f"CAST('{revenue}' AS DECIMAL(38,2))), "
        f"('O1', 'P2', 'influencer', CAST(0.75 AS DECIMAL(7,6)), CAST('75000000000000.0000' AS DECIMAL(18,4)), "
        f"CAST('{revenue}' AS DECIMAL(38,2)))) "
        "AS t(opportunity_id, partner_id, role, share, amount, revenue_ws)"
    )
    got = dict(
        CON.execute(f"SELECT partner_id, credited_ws FROM ({split_revenue_sql(source, POLICY)})").fetchall()
    )
    credits = [("P1", "sourcer", Decimal("0.25"), Decimal("24999999999999.9999")),
               ("P2", "influencer", Decimal("0.75"), Decimal("75000000000000.0000"))]  # fmt: skip
    assert got == expected(Decimal(revenue), credits)
    assert sum(got.values()) == Decimal(revenue)


def test_ties_go_to_the_larger_role_weight_then_the_smaller_partner_id() -> None:
    # 1.00 of revenue over three equal credits: 0.34 to one, 0.33 to two; the extra cent goes to
    # the sourcer (weight 50) before the influencers, and between equals to the smaller id.
    source = (
        "SELECT * FROM (VALUES ('O1', 'P3', 'sourcer', 0.333333, 1.00, 1.00), "
        "('O1', 'P1', 'influencer', 0.333333, 1.00, 1.00), ('O1', 'P2', 'influencer', 0.333333, 1.00, 1.00)) "
        "AS t(opportunity_id, partner_id, role, share, amount, revenue_ws)"
    )
    got = dict(
        CON.execute(f"SELECT partner_id, credited_ws FROM ({split_revenue_sql(source, POLICY)})").fetchall()
    )
    assert got == {"P3": Decimal("0.34"), "P1": Decimal("0.33"), "P2": Decimal("0.33")}


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(*[st.integers(9 * 10**27, 10**28 - 1)] * 3), min_size=1, max_size=40))
def test_credited_revenue_adds_up_exactly_past_28_digits(tiers: list[tuple[int, int, int]]) -> None:
    """A partner's credited revenue (sourced + accelerated + influenced) and all partners' total,
    each tier up to 10^24 (a hundred deals of 10^22) in a four-decimal currency: Python's default
    context (28 digits) rounded them (found by fuzzing huge amounts and rates through report partners)."""
    lines = [
        PartnerLine(f"P{i}", "", "co_sell", "", *(Decimal(u).scaleb(-4) for u in units), 1, 0, None)
        for i, units in enumerate(tiers)
    ]
    wide = Context(prec=80)
    assert [line.credited for line in lines] == [Decimal(sum(u)).scaleb(-4, wide) for u in tiers]
    assert credited_total(lines) == Decimal(sum(sum(u) for u in tiers)).scaleb(-4, wide)
