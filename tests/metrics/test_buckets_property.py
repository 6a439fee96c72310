"""Property: per period, sourced + accelerated + influenced + none equals the total to the cent,
and the total is the sum of each deal converted once (month rate, else quarter rate) and rounded
once, half away from zero, as computed here in plain Python with cosell.money. A deal won after the
as-of instant was still open then: it has pipeline, no revenue (docs/rules.md, Times)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Context, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from metrics_support import AS_OF, Book, reset

from cosell.metrics.context import open_metrics
from cosell.metrics.deals import check_rates
from cosell.metrics.numbers import Bucket, PeriodNumbers, period_numbers
from cosell.money import minor_unit, round_money
from cosell.periods import fiscal_quarter, month, rate_periods
from cosell.policy import Policy
from cosell.results import TIERS
from cosell.store.workspace import open_workspace

CURRENCIES = ("USD", "EUR", "JPY", "KWD")
START = datetime(2026, 1, 1, tzinfo=UTC)
WORKSPACE = open_workspace(":memory:")  # one workspace, emptied for each example


@dataclass(frozen=True)
class Expected:
    created: datetime
    pipeline: Decimal  # converted at the creation month's rate (else its quarter's), rounded once
    won: datetime | None
    revenue: Decimal | None  # converted at the close month's rate, rounded once
    tier: str


@st.composite
def books(draw: st.DrawFn) -> tuple[Book, int, list[Expected]]:
    start_month = draw(st.sampled_from([1, 2, 4, 10]))
    deals = []
    for i in range(draw(st.integers(1, 25))):
        currency = draw(st.sampled_from(CURRENCIES))
        digits = minor_unit(currency)
        units = draw(st.integers(0, 10**9))
        amount = Decimal(units).scaleb(-digits)
        created = START + timedelta(seconds=draw(st.integers(0, 300 * 86400)))
        won = created + timedelta(seconds=draw(st.integers(1, 60 * 86400))) if draw(st.booleans()) else None
        deals.append((f"O{i:03d}", created, won, amount, currency, draw(st.sampled_from(TIERS))))
    book = Book()
    rates: dict[tuple[str, str], Decimal] = {}
    for currency in CURRENCIES[1:]:
        for m in range(1, 13):
            at = datetime(2026, m, 1, tzinfo=UTC)
            month_label, quarter_label = rate_periods(at, start_month)
            rate = Decimal(draw(st.integers(1, 10**7))).scaleb(-draw(st.integers(0, 9)))
            if draw(st.booleans()):
                rates.setdefault((currency, month_label), rate)
            else:
                rates.setdefault((currency, quarter_label), rate)
    for (currency, period), rate in sorted(rates.items()):
        book.fx(currency, period, str(rate))
    expected = []

    def converted(amount: Decimal, currency: str, at: datetime) -> Decimal:
        if currency == "USD":
            return round_money(amount, "USD")
        month_label, quarter_label = rate_periods(at, start_month)
        rate = (
            rates[(currency, month_label)]
            if (currency, month_label) in rates
            else rates[(currency, quarter_label)]
        )
        return round_money(amount * rate, "USD")

    for opp, created, won, amount, currency, tier in deals:
        if won is None:
            book.deal(opp, created.isoformat(), str(amount), tier=tier, currency=currency)
        else:
            book.won(opp, created.isoformat(), won.isoformat(), str(amount), tier, currency=currency)
        # A deal won after the as-of instant was still open then: no revenue as of AS_OF.
        closed = won if won is not None and won <= AS_OF else None
        revenue = None if closed is None else converted(amount, currency, closed)
        expected.append(Expected(created, converted(amount, currency, created), closed, revenue, tier))
    return book, start_month, expected


@given(books())
def test_tiers_add_up_to_the_total_to_the_cent(case: tuple[Book, int, list[Expected]]) -> None:
    book, start_month, expected = case
    ws = book.save(reset(WORKSPACE))
    policy = Policy().with_values(fiscal_year_start_month=start_month)
    m = open_metrics(ws.con, policy, AS_OF)
    instants = [e.created for e in expected] + [e.won for e in expected if e.won is not None]
    periods = sorted({fiscal_quarter(at, start_month) for at in instants} | {month(at) for at in instants})
    check_rates(m.facts, periods)
    numbers = period_numbers(m.facts, periods)
    for period in periods:
        n = numbers[period.label]
        created = [e for e in expected if period.contains(e.created)]
        won = [e for e in expected if e.won is not None and period.contains(e.won)]
        for got, deals, amount in (
            (n.created, created, lambda e: e.pipeline),
            (n.won, won, lambda e: e.revenue),
        ):
            by_tier = {t: sum((amount(e) for e in deals if e.tier == t), Decimal(0)) for t in TIERS}
            assert {t: got[t].amount if t in got else Decimal(0) for t in TIERS} == by_tier
            total = sum((b.amount for b in got.values()), Decimal(0))
            assert total == sum((amount(e) for e in deals), Decimal(0))
            assert sum(b.deals for b in got.values()) == len(deals)
        assert n.created_in().amount == sum((e.pipeline for e in created), Decimal(0))
        assert n.won_in().amount == sum((e.revenue or Decimal(0) for e in won), Decimal(0))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(9 * 10**27, 10**28 - 1), min_size=len(TIERS), max_size=len(TIERS)))
def test_the_total_of_huge_tiers_is_exact(units: list[int]) -> None:
    """Tiers of 10^24 (a hundred deals of a 14-digit amount at an 8-digit rate) in a four-decimal
    workspace currency: their total has 29 digits, and Python's default context (28) rounded the
    CFO report's all-pipeline and all-revenue numbers (found by fuzzing huge amounts through it)."""
    buckets = {tier: Bucket(1, Decimal(u).scaleb(-4)) for tier, u in zip(TIERS, units, strict=True)}
    numbers = PeriodNumbers(month(START), created=buckets, won=buckets)
    exact = Decimal(sum(units)).scaleb(-4, Context(prec=80))
    assert numbers.created_in() == Bucket(len(TIERS), exact)
    assert numbers.won_in() == Bucket(len(TIERS), exact)
