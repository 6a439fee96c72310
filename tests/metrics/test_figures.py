"""SPEC section 5's figures on a small book, every value computed by hand.

The book (fiscal year from January; 2026-Q3 is July to September):

====  ===========  ===========================  =====================  =======================
deal  tier         created, amount               closed                 note
====  ===========  ===========================  =====================  =======================
S1    sourced      07-05, 10,000.00 USD          won 08-04 (30 days)
S2    sourced      08-10, 5,000.00 EUR           open                   Aug: quarter rate 1.20
A1    accelerated  07-15, 3,000.00 EUR           won 09-14 (61 days)    created at July's 1.10,
                                                                        closed at Q3's 1.20
I1    influenced   07-20, 2,000.00 USD           lost 08-19
I2    influenced   08-01, 100,001 JPY            won 09-10 (40 days)    Aug rate 0.0067: 670.01
N1    none         07-01, 4,000.00 USD           won 09-09 (70 days)    direct-only
N2    none         07-02, 1,000.00 USD           lost 08-01             direct-only
N5    none         07-03, 100.00 USD             lost 09-01             direct-only
N3    none         07-10, 500.00 USD             won 09-30 23:59:59     CRM names P2: not direct
N4    none         09-15, 700.00 USD             won 10-01 00:00        closes in Q4
S0    sourced      2026-06-15, 8,000.00 EUR      won 07-15 (30 days)    Q2 rate 1.05, July 1.10
N0    none         2026-06-01, 2,000.00 USD      won 07-01 (30 days)    direct-only
====  ===========  ===========================  =====================  =======================

Q3 pipeline: sourced 16,000.00 (S1 + S2 at 1.20), accelerated 3,300.00 (A1 at 1.10), influenced
2,670.01, none 6,300.00; total 28,270.01 over 10 deals. Q3 revenue: sourced 18,800.00 (S1 + S0 at
1.10), accelerated 3,600.00 (A1 at 1.20), influenced 670.01, none 6,500.00; total 29,570.01 over
7 won deals. Costs: program 3,000 (Q3) + 500 (08) + 700 incentives (09) = 4,200; direct 5,000 (Q3)
+ 1,000 (07) = 6,000.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from metrics_support import AS_OF, Book, one_sourced_win, quarter_book

from cosell.errors import InputError
from cosell.metrics.benchmarks import BANDS
from cosell.metrics.context import open_metrics
from cosell.metrics.costs import period_costs
from cosell.metrics.deals import check_rates
from cosell.metrics.figures import FigureMaker, flatten, headline, rounded
from cosell.metrics.numbers import Bucket, period_numbers
from cosell.money import quantum, round_money
from cosell.policy import Policy
from cosell.report_model import Unit, display
from cosell.store.workspace import Workspace


@pytest.fixture(scope="module")
def ws() -> Workspace:
    return quarter_book().save()


def figures_for(ws: Workspace, label: str, policy: Policy | None = None) -> dict[str, object]:
    policy = policy or Policy()
    m = open_metrics(ws.con, policy, AS_OF)
    period = m.period(label)
    check_rates(m.facts, [period])
    n = period_numbers(m.facts, [period])[label]
    c = period_costs(m.facts, period)
    return dict(flatten(headline(n, c, FigureMaker("USD", policy.min_deals_for_confidence, label))))


def test_pipeline_by_tier_converts_at_the_creation_period_and_adds_up(ws: Workspace) -> None:
    m = open_metrics(ws.con, Policy(), AS_OF)
    q3 = m.period("2026-Q3")
    n = period_numbers(m.facts, [q3])["2026-Q3"]
    amounts = {tier: b.amount for tier, b in n.created.items()}
    assert amounts == {
        "sourced": Decimal("16000.00"),
        "accelerated": Decimal("3300.00"),
        "influenced": Decimal("2670.01"),
        "none": Decimal("6300.00"),
    }
    assert n.created_in().amount == Decimal("28270.01") and n.created_in().deals == 10
    # S0 was created in Q2 at Q2's rate 1.05 and closed in Q3 at July's 1.10.
    q2 = period_numbers(m.facts, [m.period("2026-Q2")])["2026-Q2"]
    assert q2.created["sourced"].amount == Decimal("8400.00")
    assert n.won["sourced"].amount == Decimal("18800.00")
    assert n.won["accelerated"].amount == Decimal("3600.00")  # created at 1.10, closed at 1.20


def test_the_four_numbers_by_hand(ws: Workspace) -> None:
    f = figures_for(ws, "2026-Q3")
    assert f["sourced_pipeline"].value == Decimal("16000.00")  # type: ignore[attr-defined]
    share = f["sourced_pipeline_share"]
    assert (share.value, share.deals, share.verdict) == (Decimal("0.565971"), 10, "above")  # type: ignore[attr-defined]
    assert f["total_pipeline"].value == Decimal("28270.01")  # type: ignore[attr-defined]
    rate = f["influenced_win_rate"]
    assert (rate.value, rate.deals, rate.deals_label) == (Decimal("0.666667"), 3, "won + lost")  # type: ignore[attr-defined]
    direct = f["direct_win_rate"]
    assert (direct.value, direct.deals) == (Decimal("0.500000"), 4)  # type: ignore[attr-defined]
    influenced = f["influenced_revenue_share"]
    assert (influenced.value, influenced.deals, influenced.verdict) == (Decimal("0.144403"), 7, "below")  # type: ignore[attr-defined]
    assert [f[f"revenue_share_{t}"].value for t in ("sourced", "accelerated", "influenced", "none")] == [  # type: ignore[attr-defined]
        Decimal("0.635779"),
        Decimal("0.121745"),
        Decimal("0.022658"),
        Decimal("0.219817"),
    ]
    assert [f[f"revenue_share_{t}"].label for t in ("sourced", "none")] == [  # type: ignore[attr-defined]
        "Sourced share of closed-won revenue",
        "Share of closed-won revenue with no partner tier (none)",  # not "None share of ..."
    ]
    # Partner won 30, 30, 40, 61 days: median 35; direct-only won 30 and 70: median 50 (N3 is not
    # direct-only: its CRM fields name a partner).
    assert f["cycle_partner_days"].value == Decimal("35.000000")  # type: ignore[attr-defined]
    assert f["cycle_direct_days"].value == Decimal("50.000000")  # type: ignore[attr-defined]
    cycle = f["cycle_reduction_days"]
    assert (cycle.value, cycle.deals) == (Decimal("15.000000"), 6)  # type: ignore[attr-defined]
    pct = f["cycle_reduction_pct"]
    assert (pct.value, pct.verdict) == (Decimal("0.300000"), "within")  # type: ignore[attr-defined]
    assert f["program_cost"].value == Decimal("4200.00")  # type: ignore[attr-defined]
    assert f["direct_cost"].value == Decimal("6000.00")  # type: ignore[attr-defined]
    per_sourced = f["cost_per_partner_sourced_dollar"]
    assert (per_sourced.value, per_sourced.deals) == (Decimal("0.2234"), 2)  # type: ignore[attr-defined]
    assert f["cost_per_partner_dollar"].value == Decimal("0.1821")  # type: ignore[attr-defined]
    assert f["direct_cost_per_dollar"].value == Decimal("1.0000")  # type: ignore[attr-defined]
    saving = f["cost_saving"]
    # 1 - (4200 / 23070.01) / (6000 / 6000), from the unrounded ratios.
    assert (saving.value, saving.verdict, saving.deals) == (Decimal("0.817945"), "above", 6)  # type: ignore[attr-defined]


def test_a_figure_over_both_groups_says_what_its_count_adds_up(ws: Workspace) -> None:
    # The cycle reduction and the saving rest on 4 partner-attributed and 2 direct-only won deals;
    # they read "6 partner-attributed won 4 + direct-only won 2", as if 6 were partner deals
    # (found by fuzzing reports).
    f = figures_for(ws, "2026-Q3")
    for key in ("cycle_reduction_days", "cycle_reduction_pct", "cost_saving"):
        figure = f[key]
        partner, direct = f["cycle_partner_days"].deals, f["cycle_direct_days"].deals  # type: ignore[attr-defined]
        assert figure.deals == partner + direct  # type: ignore[attr-defined]
        assert figure.deals_text() == (  # type: ignore[attr-defined]
            f"{partner + direct} won deals: partner-attributed {partner} + direct-only {direct}"
        )


def test_every_figure_with_few_deals_carries_a_confidence_note(ws: Workspace) -> None:
    f = figures_for(ws, "2026-Q3")
    for key in ("sourced_pipeline_share", "influenced_win_rate", "cycle_reduction_pct", "cost_saving"):
        assert "low confidence" in f[key].note, key  # type: ignore[attr-defined]
    loose = figures_for(ws, "2026-Q3", Policy().with_values(metrics__min_deals_for_confidence=3))
    assert loose["influenced_win_rate"].note == ""  # 3 deals  # type: ignore[attr-defined]
    assert loose["cost_per_partner_sourced_dollar"].note == "low confidence: only 2 deals (fewer than 3)"  # type: ignore[attr-defined]
    # A figure over two groups is as confident as its smaller group: partner 4, direct 2.
    assert loose["cycle_reduction_pct"].note == "low confidence: only 4 and 2 deals (fewer than 3)"  # type: ignore[attr-defined]


def test_a_month_uses_its_own_cost_rows_only(ws: Workspace) -> None:
    f = figures_for(ws, "2026-08")
    assert f["program_cost"].value == Decimal("500.00")  # type: ignore[attr-defined]
    assert f["direct_cost"].value is None  # type: ignore[attr-defined]
    assert f["direct_cost"].note == "no direct costs recorded for 2026-08"  # type: ignore[attr-defined]
    assert f["sourced_pipeline"].value == Decimal("6000.00")  # S2 only  # type: ignore[attr-defined]
    assert f["total_pipeline"].value == Decimal("6670.01")  # type: ignore[attr-defined]
    # S1 (sourced) is the only partner deal won in August; nothing direct-only was won.
    assert f["cost_per_partner_sourced_dollar"].value == Decimal("0.0500")  # type: ignore[attr-defined]
    assert f["direct_cost_per_dollar"].value is None  # type: ignore[attr-defined]
    assert f["cost_saving"].value is None  # type: ignore[attr-defined]


def test_a_period_without_deals_says_so_and_never_shows_zero(ws: Workspace) -> None:
    f = figures_for(ws, "2030-Q1")
    for key, figure in f.items():
        if key in ("program_cost", "direct_cost"):
            continue
        assert figure.value is None, key  # type: ignore[attr-defined]
        assert figure.note, key  # type: ignore[attr-defined]
    assert f["sourced_pipeline"].note == "no deals created in 2030-Q1"  # type: ignore[attr-defined]
    assert f["influenced_win_rate"].note == "no influenced or accelerated deals closed in 2030-Q1"  # type: ignore[attr-defined]
    assert f["influenced_win_rate"].deals == 0  # type: ignore[attr-defined]
    assert f["cycle_reduction_days"].note == "no partner-attributed or direct-only deals won in 2030-Q1"  # type: ignore[attr-defined]
    assert f["program_cost"].note == "no program costs recorded for 2030-Q1"  # type: ignore[attr-defined]


def test_one_deal() -> None:
    ws = (
        Book()
        .won("S1", "2026-07-05", "2026-08-04", "1234.56", "sourced")
        .program_cost("2026-Q3", "tech", "100")
        .save()
    )
    f = figures_for(ws, "2026-Q3")
    assert f["sourced_pipeline"].value == Decimal("1234.56")  # type: ignore[attr-defined]
    assert f["sourced_pipeline_share"].value == Decimal("1.000000")  # type: ignore[attr-defined]
    assert f["sourced_pipeline_share"].note == "low confidence: only 1 deal (fewer than 30)"  # type: ignore[attr-defined]
    assert f["influenced_win_rate"].value is None  # type: ignore[attr-defined]
    assert f["revenue_share_sourced"].value == Decimal("1.000000")  # type: ignore[attr-defined]
    assert f["cycle_partner_days"].value == Decimal("30.000000")  # type: ignore[attr-defined]
    assert f["cycle_reduction_days"].value is None  # type: ignore[attr-defined]
    assert f["cycle_reduction_days"].note == "no direct-only deals won in 2026-Q3"  # type: ignore[attr-defined]
    assert f["cost_per_partner_sourced_dollar"].value == Decimal("0.0810")  # 100 / 1234.56  # type: ignore[attr-defined]
    assert f["cost_saving"].value is None  # type: ignore[attr-defined]
    assert f["cost_saving"].note == "no direct-only deals won in 2026-Q3"  # type: ignore[attr-defined]


def test_a_missing_rate_is_an_input_error_naming_currency_and_period() -> None:
    ws = Book().deal("G1", "2026-08-05", "100.00", currency="GBP").deal("U1", "2026-08-05", "1.00").save()
    m = open_metrics(ws.con, Policy(), AS_OF)
    with pytest.raises(
        InputError,
        match=r"fx_rates, rate: no rate for GBP in 2026-08 or 2026-Q3: needed by 1 deal created then",
    ):
        check_rates(m.facts, [m.period("2026-Q3")])
    check_rates(m.facts, [m.period("2026-Q2")])  # a period that does not need the rate is fine


def test_a_fiscal_year_starting_in_february() -> None:
    # FY2027 runs from 2026-02-01 to 2027-01-31; FY2026-Q4 is November 2025 to January 2026.
    policy = Policy().with_values(fiscal_year_start_month=2)
    ws = (
        Book()
        .deal("D1", "2026-01-31T23:59:59Z", "100.00", tier="sourced")
        .deal("D2", "2026-02-01T00:00:00Z", "200.00")
        .deal("E1", "2026-03-10", "1000.00", currency="EUR")
        .fx("EUR", "2027-Q1", "1.50")  # the fiscal quarter Feb-Apr 2026
        .save()
    )
    m = open_metrics(ws.con, policy, AS_OF)
    q4, q1 = m.period("2026-Q4"), m.period("2027-Q1")
    check_rates(m.facts, [q4, q1])
    n = period_numbers(m.facts, [q4, q1])
    assert {t: b.amount for t, b in n["2026-Q4"].created.items()} == {"sourced": Decimal("100.00")}
    assert n["2027-Q1"].created["none"] == Bucket(2, Decimal("1700.00"))
    # Under a January calendar the same EUR rate label is another quarter: the rate is missing.
    jan = open_metrics(ws.con, Policy(), AS_OF)
    with pytest.raises(InputError, match="no rate for EUR in 2026-03 or 2026-Q1"):
        check_rates(jan.facts, [jan.period("2026-Q1")])
    # The default period is the last complete fiscal quarter before the as-of instant (2026-11-01).
    assert m.period(None).label == "2027-Q3"  # August to October 2026
    assert jan.period(None).label == "2026-Q3"


def test_large_amounts_at_large_rates_convert_exactly() -> None:
    # A 14-digit amount (the most the schema accepts) at a rate with 12 decimals: exact, no overflow.
    amount, rate = Decimal("99999999999999.99"), Decimal("1234567.123456789012")
    ws = (
        Book()
        .deal("B1", "2026-08-05", str(amount), tier="sourced", currency="EUR")
        .fx("EUR", "2026-08", str(rate))
        .save()
    )
    m = open_metrics(ws.con, Policy(), AS_OF)
    n = period_numbers(m.facts, [m.period("2026-08")])["2026-08"]
    assert n.created["sourced"].amount == round_money(amount * rate, "USD")


@given(
    st.decimals(min_value=-1000, max_value=1000, places=9, allow_nan=False, allow_infinity=False),
    st.sampled_from(["money", "percent", "ratio", "days"]),
    st.sampled_from(["USD", "JPY", "KWD"]),
)
def test_a_value_that_rounds_to_zero_is_shown_as_zero_never_as_a_signed_zero(
    value: Decimal, unit: Unit, currency: str
) -> None:
    # A direct cost of -1.00 over 1,999,968.00 of direct revenue printed its cost per dollar as
    # "-0.0000" (json and table), and a tiny negative share as "-0.0%": quantizing a small negative
    # value keeps its sign. Rounding is still half away from zero, once (found by fuzzing the CFO
    # dashboard with a negative cost).
    shown = rounded(value, unit, currency)
    assert shown is not None
    step = {"money": quantum(currency), "percent": Decimal("0.000001"), "ratio": Decimal("0.0001"),
            "days": Decimal("0.000001")}[unit]  # fmt: skip
    exact = abs(value) / step
    whole = int(exact) + (1 if exact - int(exact) >= Decimal("0.5") else 0)
    assert shown == (whole * step if value >= 0 else -whole * step)
    for text in (str(shown), display(shown, unit, currency)):  # the json value, the table's
        if not any(c in "123456789" for c in text):
            assert not text.startswith("-"), text


def test_a_verdict_agrees_with_the_value_printed_beside_it() -> None:
    # A sourced share of 0.149999 printed "15.0%" beside "below the 15-25% benchmark": the verdict
    # compared the 6-decimal value, the page shows one decimal. It now judges what is printed.
    fm = FigureMaker("USD", 1, "2026-Q3")
    share = fm.make("sourced_pipeline_share", "Share", Decimal("0.149999"), "percent", 10, "deals created")
    assert (display(share.value, "percent", "USD"), share.verdict) == ("15.0%", "within")
    assert share.value == Decimal("0.149999")  # json keeps the exact value
    low = fm.make("sourced_pipeline_share", "Share", Decimal("0.14949"), "percent", 10, "deals created")
    assert (display(low.value, "percent", "USD"), low.verdict) == ("14.9%", "below")
    high = fm.make("cost_saving", "Saving", Decimal("0.600499"), "percent", 10, "won deals")
    assert (display(high.value, "percent", "USD"), high.verdict) == ("60.0%", "within")


_EDGES = sorted({edge for band in BANDS.values() for edge in (band.low, band.high)})
_NEAR_EDGES = st.one_of(
    st.decimals(min_value=-1, max_value=2, places=6),
    st.tuples(st.sampled_from(_EDGES), st.integers(-1000, 1000)).map(lambda p: p[0] + Decimal(p[1]) / 10**6),
)


@given(st.sampled_from(sorted(BANDS)), _NEAR_EDGES)
def test_every_verdict_is_the_verdict_of_the_printed_value(key: str, value: Decimal) -> None:
    figure = FigureMaker("USD", 1, "2026-Q3").make(key, "Figure", value, "percent", 10, "deals")
    printed = Decimal(display(figure.value, "percent", "USD").removesuffix("%")) / 100
    band = BANDS[key]
    assert figure.verdict == ("below" if printed < band.low else "above" if printed > band.high else "within")


def test_no_percent_is_made_against_a_direct_median_of_zero_days() -> None:
    # Partner won in 30 days (median 30); the direct-only deal closed the instant it was created
    # (median 0): the reduction is 0 - 30 = -30 days, and a percent of 0 days is no number.
    ws = one_sourced_win().won("N1", "2026-08-01", "2026-08-01", "500.00").save()
    f = figures_for(ws, "2026-Q3")
    assert f["cycle_direct_days"].value == Decimal("0.000000")  # type: ignore[attr-defined]
    assert f["cycle_reduction_days"].value == Decimal("-30.000000")  # type: ignore[attr-defined]
    pct = f["cycle_reduction_pct"]
    assert (pct.value, pct.note) == (None, "the direct-only median cycle is 0 days")  # type: ignore[attr-defined]
