"""The quarterly business review of the partner program (SPEC section 5) for one fiscal quarter.

Sections (stable keys, docs/metrics.md): ``headline`` (the CFO's four numbers for the quarter),
``pipeline`` (pipeline created by tier, beside the prior quarter), ``revenue`` (closed-won revenue
by tier against the prior quarter), ``economics`` (cost per partner dollar against direct, and the
costs by category), ``leading`` (new partner-sourced leads, AE adoption rate, partner engagement
frequency) and ``investment`` (what an added program spend would return at the measured cost per
partner dollar, with the assumption stated).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from cosell.engine import Engine
from cosell.metrics.context import Metrics, open_metrics, previous_quarter
from cosell.metrics.costs import PeriodCosts, period_costs
from cosell.metrics.deals import check_rates
from cosell.metrics.figures import (
    PARTNER_TIERS,
    TIER_LABELS,
    FigureMaker,
    costs,
    divide,
    headline,
    ledger_note,
    rounded,
)
from cosell.metrics.indicators import ae_adoption, new_partner_leads, partner_engagement
from cosell.metrics.numbers import Bucket, PeriodNumbers, period_numbers
from cosell.periods import Period
from cosell.policy import Policy
from cosell.report_model import Chart, Column, Figure, Report, Section, Series, Table, Value, display
from cosell.reports.cfo import conversion_note, headline_section, maker
from cosell.results import TIERS

# The investment ask's assumption: an added program spend of this share of the quarter's cost.
ADDED_SPEND_SHARE = Decimal("0.10")


def build_qbr(
    con: Engine,
    policy: Policy,
    quarter: str | None = None,
    as_of: datetime | None = None,
    added_spend_share: Decimal = ADDED_SPEND_SHARE,
    *,
    known_at: datetime | None = None,
) -> Report:
    """The QBR for a fiscal ``quarter`` (``2026-Q3``; default the last complete one before
    as-of instant), evaluated as of ``as_of`` with the data known at ``known_at``
    (:func:`cosell.metrics.context.open_metrics`)."""
    m = open_metrics(con, policy, as_of, known_at)
    q = m.period(quarter, quarter_only=True, option="--quarter")
    prior = previous_quarter(q, m.start_month)
    check_rates(m.facts, [q, prior])
    numbers = period_numbers(m.facts, [q, prior])
    n, n_prior = numbers[q.label], numbers[prior.label]
    c = period_costs(m.facts, q)
    fm = maker(m, q)
    return m.report(
        "qbr",
        f"Partner program quarterly business review, {q.label}",
        f"{q.label} against {prior.label}, as of {m.as_of_text}",
        q,
        (
            headline_section(headline(n, c, fm), c),
            _tiers("pipeline", q, prior, n, n_prior, m.currency),
            _tiers("revenue", q, prior, n, n_prior, m.currency),
            _economics(n, c, fm),
            _leading(m, q, prior, n, fm),
            _investment(n, c, fm, added_spend_share),
        ),
    )


def _tiers(
    kind: str, q: Period, prior: Period, n: PeriodNumbers, n_prior: PeriodNumbers, currency: str
) -> Section:
    created = kind == "pipeline"
    count = "Deals created" if created else "Deals won"
    money = "Pipeline" if created else "Revenue"

    def buckets(x: PeriodNumbers) -> dict[str, Bucket]:
        return x.created if created else x.won

    def total(x: PeriodNumbers) -> Bucket:
        return x.created_in() if created else x.won_in()

    columns = (
        Column("tier", "Tier"),
        Column("deals", f"{count} {q.label}", "count"),
        Column("amount", f"{money} {q.label}", "money"),
        Column("share", "Share", "percent"),
        Column("prior_deals", f"{count} {prior.label}", "count"),
        Column("prior_amount", f"{money} {prior.label}", "money"),
        Column("change", "Change", "money"),
        Column("change_pct", "Change %", "percent"),
    )
    rows: list[dict[str, Value]] = []
    whole, whole_prior = total(n), total(n_prior)
    for tier, this, before in [
        *((t, buckets(n).get(t, Bucket()), buckets(n_prior).get(t, Bucket())) for t in TIERS),
        ("total", whole, whole_prior),
    ]:
        rows.append(
            {
                "tier": TIER_LABELS.get(tier, "Total"),
                "deals": this.deals,
                "amount": this.amount,
                "share": rounded(divide(this.amount, whole.amount), "percent", "") if whole.amount else None,
                "prior_deals": before.deals,
                "prior_amount": before.amount,
                "change": this.amount - before.amount,
                "change_pct": (
                    rounded(divide(this.amount - before.amount, abs(before.amount)), "percent", "")
                    if before.amount
                    else None
                ),
            }
        )
    title = "Pipeline created by tier" if created else "Closed-won revenue by tier against the prior quarter"
    chart = Chart(
        key=f"{kind}_by_tier",
        title=title,
        kind="bar",
        categories=tuple(TIER_LABELS[t] for t in TIERS),
        series=(
            Series(q.label, tuple(buckets(n).get(t, Bucket()).amount for t in TIERS)),
            Series(prior.label, tuple(buckets(n_prior).get(t, Bucket()).amount for t in TIERS)),
        ),
        unit="money",
    )
    return Section(
        key=kind,
        title=title,
        table=Table(columns, tuple(rows)),
        charts=(chart,),
        notes=(conversion_note(created, currency),),
    )


def _economics(n: PeriodNumbers, c: PeriodCosts, fm: FigureMaker) -> Section:
    columns = (
        Column("category", "Cost"),
        Column("amount", "Amount", "money"),
        Column("source", "Source"),
    )
    rows: list[dict[str, Value]] = []
    for category, amount in c.by_category:
        from_ledger = category == "incentives" and c.incentives_from_ledger is not None
        rows.append(
            {
                "category": f"program: {category}",
                "amount": rounded(amount, "money", fm.currency),
                "source": "ledger_entries (partner payouts)" if from_ledger else "program_costs",
            }
        )
    if c.direct is not None:
        rows.append(
            {
                "category": "direct",
                "amount": rounded(c.direct, "money", fm.currency),
                "source": "direct_costs",
            }
        )
    notes = ["A quarter's costs are the cost rows of the quarter and of its three months."]
    if c.incentives_from_ledger is not None:
        note = ledger_note(c)
        notes.append(note[0].upper() + note[1:] + ".")
    return Section(
        key="economics",
        title="Program economics: cost per partner dollar against direct",
        figures=(costs(n, c, fm),),
        table=Table(columns, tuple(rows)),
        notes=tuple(notes),
    )


def _leading(m: Metrics, q: Period, prior: Period, n: PeriodNumbers, fm: FigureMaker) -> Section:
    leads, leads_prior = new_partner_leads(m.facts, q), new_partner_leads(m.facts, prior)
    leads_fig = Figure(
        key="new_partner_leads",
        label="New partner-sourced leads",
        value=Decimal(leads),
        unit="count",
        beside=(
            Figure(
                key="new_partner_leads_prior",
                label=f"New partner-sourced leads, {prior.label}",
                value=Decimal(leads_prior),
                unit="count",
            ),
        ),
    )
    adoption = ae_adoption(m.facts, q)
    label = "AE adoption rate: partner_source confirmed by a person before close"
    if not adoption.measurable:
        adoption_fig = fm.make(
            "ae_adoption_rate",
            label,
            None,
            "percent",
            adoption.closed,
            "won + lost",
            "not measurable: the workspace has no field_history",
        )
    elif adoption.closed == 0:
        adoption_fig = fm.make(
            "ae_adoption_rate", label, None, "percent", 0, "won + lost", f"no deals closed in {q.label}"
        )
    else:
        adoption_fig = fm.make(
            "ae_adoption_rate",
            label,
            divide(Decimal(adoption.confirmed), Decimal(adoption.closed)),
            "percent",
            adoption.closed,
            "won + lost",
        )
    engagement = partner_engagement(m.facts, q)
    frequency = engagement.per_partner_per_month
    engagement_fig = Figure(
        key="partner_engagement_frequency",
        label="Partner touches per active partner per month",
        value=rounded(frequency, "ratio", fm.currency),
        unit="ratio",
        note=(
            f"{engagement.touches:,} partner-engagement touch{'' if engagement.touches == 1 else 'es'} by "
            f"{engagement.partners:,} active partner{'' if engagement.partners == 1 else 's'} "
            f"over {engagement.months} month{'' if engagement.months == 1 else 's'}"
            if frequency is not None
            else f"no partner-engagement touches in {q.label}"
        ),
    )
    return Section(
        key="leading",
        title="Leading indicators",
        figures=(leads_fig, adoption_fig, engagement_fig),
        notes=(
            "Adoption counts a deal when the partner_source in force at close was set before close by a "
            "user who works deals (ae, sdr, partner_manager, partner_ops); system and integration "
            "changes and cosell's auto-tags do not count.",
        ),
    )


def _investment(n: PeriodNumbers, c: PeriodCosts, fm: FigureMaker, share: Decimal) -> Section:
    partner = n.won_in(PARTNER_TIERS)
    sourced = n.won.get("sourced", Bucket())
    pct = f"{(share * 100).normalize():f}%"
    if c.program is None or c.program == 0 or partner.deals == 0 or partner.amount == 0:
        why = (
            f"no program costs recorded for {fm.period}"
            if c.program is None
            else f"the program cost of {fm.period} is 0: {pct} of it adds nothing"
            if c.program == 0
            else f"no partner-attributed revenue won in {fm.period}"
        )
        figures: tuple[Figure, ...] = (
            fm.make("added_program_spend", f"Added program spend (+{pct})", None, "money", None, "", why),
            fm.make(
                "expected_partner_revenue",
                "Expected added partner-attributed revenue",
                None,
                "money",
                partner.deals,
                "won deals",
                why,
            ),
        )
        assumption = f"The ask needs the quarter's program cost and partner revenue: {why}."
    else:
        added = rounded(c.program * share, "money", fm.currency)
        assert added is not None
        per_dollar = divide(c.program, partner.amount)
        expected = divide(added, per_dollar)
        sourced_fig = (
            fm.make(
                "expected_sourced_revenue",
                "Of which partner-sourced, at the cost per partner-sourced dollar",
                divide(added * sourced.amount, c.program),
                "money",
                sourced.deals,
                "won deals",
            ),
        )
        figures = (
            Figure(
                key="added_program_spend",
                label=f"Added program spend (+{pct} of the quarter's program cost)",
                value=added,
                unit="money",
            ),
            fm.make(
                "expected_partner_revenue",
                "Expected added partner-attributed revenue",
                expected,
                "money",
                partner.deals,
                "won deals",
                beside=sourced_fig,
            ),
        )
        assumption = (
            f"Assumption: an added {pct} of {fm.period}'s program cost ({display(added, 'money', fm.currency)}) returns "
            f"partner-attributed closed-won revenue at {fm.period}'s measured cost per partner dollar "
            f"({rounded(per_dollar, 'ratio', fm.currency)}), that is, linearly; returns on added spend "
            "are usually lower than the average, so read it as an upper bound."
        )
    return Section(key="investment", title="Investment ask", figures=figures, notes=(assumption,))
