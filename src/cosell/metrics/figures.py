"""SPEC section 5's figures for one period: values, deal counts, notes, benchmark bands, verdicts.

Each builder takes the exact numbers of :mod:`cosell.metrics.numbers` (and costs) and returns a
:class:`~cosell.report_model.Figure`. Rules every figure follows:

- it states the deals it rests on (``deals`` and ``deals_label``), and a low-confidence note when
  they are fewer than the policy's ``metrics.min_deals_for_confidence``;
- a figure that rests on no deals (or on a zero denominator) has the value ``None`` and a note
  saying why, never 0 and never a division by zero;
- values are rounded once for display, half away from zero: money to the workspace currency's
  minor unit, percents (fractions) to 6 decimals (0.123457 is 12.3457%), ratios to 4 decimals,
  days to 6 decimals; the saving is computed from the unrounded ratios, and verdicts compare the
  value as printed (a percent to one decimal: :func:`cosell.report_model.as_printed`) with the band.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal, localcontext

from cosell.metrics.benchmarks import BANDS, verdict
from cosell.metrics.costs import PeriodCosts
from cosell.metrics.numbers import Bucket, Median, PeriodNumbers
from cosell.money import quantum
from cosell.report_model import Figure, Unit, as_printed, counted, half_away

PERCENT = Decimal("0.000001")
RATIO = Decimal("0.0001")
DAYS = Decimal("0.000001")
INFLUENCE_TIERS = ("accelerated", "influenced")
PARTNER_TIERS = ("sourced", "accelerated", "influenced")
TIER_LABELS = {
    "sourced": "Sourced",
    "accelerated": "Accelerated",
    "influenced": "Influenced",
    "none": "None",
}


def divide(numerator: Decimal, denominator: Decimal) -> Decimal:
    """An unrounded quotient with 28 significant digits (never called with a zero denominator)."""
    with localcontext() as ctx:
        ctx.prec = 28
        return numerator / denominator


def rounded(value: Decimal | None, unit: Unit, currency: str) -> Decimal | None:
    """``value`` rounded once for display, half away from zero, as the unit is shown."""
    if value is None:
        return None
    if unit == "money":
        return half_away(value, quantum(currency))
    step = {"percent": PERCENT, "ratio": RATIO, "days": DAYS}.get(unit)
    return half_away(value, step) if step is not None else value


class FigureMaker:
    """Builds figures with the confidence note and verdict rules above, for one workspace currency."""

    def __init__(self, currency: str, min_deals: int, period_label: str) -> None:
        self.currency = currency
        self.min_deals = min_deals
        self.period = period_label

    def make(
        self,
        key: str,
        label: str,
        value: Decimal | None,
        unit: Unit,
        deals: int | None,
        deals_label: str,
        note: str = "",
        beside: tuple[Figure, ...] = (),
        groups: tuple[int, ...] = (),
    ) -> Figure:
        """A figure; ``groups`` are the counts of each group for the low-confidence test (default
        ``deals``). ``note`` explains a missing value; a confidence note is added after it."""
        shown = rounded(value, unit, self.currency)
        notes = [note] if note else []
        counted = groups or ((deals,) if deals is not None else ())
        if shown is not None and counted and min(counted) < self.min_deals:
            notes.append(f"low confidence: only {self._counts(counted)} (fewer than {self.min_deals})")
        band = BANDS.get(key)
        return Figure(
            key=key,
            label=label,
            value=shown,
            unit=unit,
            deals=deals,
            deals_label=deals_label,
            note="; ".join(notes),
            band=band,
            # Judged as printed: 0.149999 shows "15.0%", so a "below 15%" beside it would be a
            # verdict the reader cannot reproduce from the page (docs/metrics.md).
            verdict=verdict(None if shown is None else as_printed(shown, unit, self.currency), band),
            beside=beside,
        )

    @staticmethod
    def _counts(counted: tuple[int, ...]) -> str:
        if len(counted) == 1:
            return f"{counted[0]} deal{'s' if counted[0] != 1 else ''}"
        return " and ".join(str(n) for n in counted) + " deals"

    def share(
        self, key: str, label: str, part: Decimal, whole: Bucket, deals_label: str, empty: str
    ) -> Figure:
        """``part / whole.amount`` as a percent resting on ``whole.deals``."""
        if whole.deals == 0:
            return self.make(key, label, None, "percent", 0, deals_label, f"{empty} in {self.period}")
        if whole.amount == 0:
            return self.make(
                key, label, None, "percent", whole.deals, deals_label, f"their total is 0 in {self.period}"
            )
        return self.make(key, label, divide(part, whole.amount), "percent", whole.deals, deals_label)

    def rate(self, key: str, label: str, won: int, lost: int, empty: str) -> Figure:
        """won / (won + lost) by count."""
        closed = won + lost
        if closed == 0:
            return self.make(key, label, None, "percent", 0, "won + lost", f"{empty} in {self.period}")
        return self.make(key, label, divide(Decimal(won), Decimal(closed)), "percent", closed, "won + lost")


# --- the four numbers ----------------------------------------------------------------------------


def sourced_pipeline(n: PeriodNumbers, fm: FigureMaker) -> Figure:
    """Partner-sourced pipeline created in the period, with its share of all pipeline and the total."""
    total = n.created_in()
    sourced = n.created.get("sourced", Bucket())
    share = fm.share(
        "sourced_pipeline_share",
        "Share of all pipeline created",
        sourced.amount,
        total,
        "deals created",
        "no deals created",
    )
    total_figure = fm.make(
        "total_pipeline",
        "All pipeline created",
        total.amount if total.deals else None,
        "money",
        total.deals,
        "deals created",
        "" if total.deals else f"no deals created in {fm.period}",
    )
    return fm.make(
        "sourced_pipeline",
        "Partner-sourced pipeline",
        sourced.amount if total.deals else None,
        "money",
        total.deals,
        "deals created",
        "" if total.deals else f"no deals created in {fm.period}",
        beside=(share, total_figure),
    )


def revenue_shares(n: PeriodNumbers, fm: FigureMaker) -> tuple[Figure, ...]:
    """The influenced share of closed-won revenue (influenced + accelerated) and each tier's share."""
    total = n.won_in()
    influenced = n.won_in(INFLUENCE_TIERS)
    out = [
        fm.share(
            "influenced_revenue_share",
            "Partner-influenced share of closed-won revenue (influenced + accelerated)",
            influenced.amount,
            total,
            "won deals",
            "no deals won",
        )
    ]
    for tier in ("sourced", "accelerated", "influenced", "none"):
        # "None share of closed-won revenue" read as a share of nothing: the tier is named instead.
        label = (
            "Share of closed-won revenue with no partner tier (none)"
            if tier == "none"
            else f"{TIER_LABELS[tier]} share of closed-won revenue"
        )
        out.append(
            fm.share(
                f"revenue_share_{tier}",
                label,
                n.won.get(tier, Bucket()).amount,
                total,
                "won deals",
                "no deals won",
            )
        )
    return tuple(out)


def win_rate(n: PeriodNumbers, fm: FigureMaker) -> Figure:
    """Partner-influenced win rate beside the direct-only rate and the influenced revenue share."""
    influenced_won = n.won_in(INFLUENCE_TIERS).deals
    influenced_lost = n.lost_in(INFLUENCE_TIERS)
    direct = fm.rate(
        "direct_win_rate",
        "Direct-only win rate",
        n.direct_won.deals,
        n.direct_lost,
        "no direct-only deals closed",
    )
    headline = fm.rate(
        "influenced_win_rate",
        "Partner-influenced win rate (influenced + accelerated)",
        influenced_won,
        influenced_lost,
        "no influenced or accelerated deals closed",
    )
    shares = revenue_shares(n, fm)
    return replace(headline, beside=(shares[0], direct, *shares[1:]))


def _two_groups(partner: int, direct: int) -> str:
    """What a figure over both groups rests on, after their sum: "7 won deals: partner-attributed 4
    + direct-only 3" (it read "7 partner-attributed won 4 + direct-only won 3", as if 7 were partner deals).

    >>> _two_groups(4, 3)
    'won deals: partner-attributed 4 + direct-only 3'
    """
    return f"won deals: partner-attributed {partner} + direct-only {direct}"


def cycle_reduction(n: PeriodNumbers, fm: FigureMaker) -> Figure:
    """Median created-to-close days, direct-only won minus partner-attributed won, and in percent."""
    partner, direct = n.partner_cycle, n.direct_cycle
    both = partner.deals + direct.deals
    label = _two_groups(partner.deals, direct.deals)
    groups = (partner.deals, direct.deals)
    partner_fig = _median_figure(
        "cycle_partner_days", "Median cycle, partner-attributed won deals", partner, fm
    )
    direct_fig = _median_figure("cycle_direct_days", "Median cycle, direct-only won deals", direct, fm)
    missing = _missing_groups(partner, direct, fm.period)
    p_days, d_days = partner.days, direct.days
    days: Decimal | None = None
    faster: Decimal | None = None
    faster_note = missing
    if p_days is not None and d_days is not None:
        days = d_days - p_days
        if d_days == 0:
            faster_note = "the direct-only median cycle is 0 days"
        else:
            faster, faster_note = divide(days, d_days), ""
    # groups only count when there is a value (FigureMaker.make): passing them always is the same.
    pct = fm.make(
        "cycle_reduction_pct",
        "Partner deals faster, % of the direct median",
        faster,
        "percent",
        both,
        label,
        faster_note,
        groups=groups,
    )
    return fm.make(
        "cycle_reduction_days",
        "Cycle reduction (direct median minus partner median)",
        days,
        "days",
        both,
        label,
        missing if days is None else "",
        beside=(pct, partner_fig, direct_fig),
        groups=groups,
    )


def _median_figure(key: str, label: str, median: Median, fm: FigureMaker) -> Figure:
    note = "" if median.deals else f"no such deals won in {fm.period}"
    return fm.make(key, label, median.days, "days", median.deals, "won deals", note)


def _missing_groups(partner: Median, direct: Median, period: str) -> str:
    missing = [name for name, m in (("partner-attributed", partner), ("direct-only", direct)) if m.deals == 0]
    return f"no {' or '.join(missing)} deals won in {period}" if missing else ""


def costs(n: PeriodNumbers, c: PeriodCosts, fm: FigureMaker) -> Figure:
    """Cost per partner-sourced dollar beside cost per partner dollar, direct cost per dollar and
    the saving (1 - partner / direct, from the unrounded ratios)."""
    sourced = n.won.get("sourced", Bucket())
    partner = n.won_in(PARTNER_TIERS)
    direct = n.direct_won
    _, per_sourced_fig = _ratio(
        "cost_per_partner_sourced_dollar",
        "Fully-loaded program cost per partner-sourced dollar",
        c.program,
        "program costs",
        sourced,
        "partner-sourced deals won",
        fm,
    )
    per_partner, per_partner_fig = _ratio(
        "cost_per_partner_dollar",
        "Program cost per partner dollar (sourced + accelerated + influenced)",
        c.program,
        "program costs",
        partner,
        "partner-attributed deals won",
        fm,
    )
    per_direct, per_direct_fig = _ratio(
        "direct_cost_per_dollar",
        "Direct cost per direct-only dollar",
        c.direct,
        "direct costs",
        direct,
        "direct-only deals won",
        fm,
    )
    label = _two_groups(partner.deals, direct.deals)
    both = partner.deals + direct.deals
    if per_partner is None or per_direct is None:
        why = per_partner_fig.note if per_partner is None else per_direct_fig.note
        saving = fm.make(
            "cost_saving", "Saving per partner dollar vs direct", None, "percent", both, label, why
        )
    elif per_direct == 0:
        saving = fm.make(
            "cost_saving",
            "Saving per partner dollar vs direct",
            None,
            "percent",
            both,
            label,
            "direct cost per dollar is 0",
        )
    else:
        saving = fm.make(
            "cost_saving",
            "Saving per partner dollar vs direct",
            1 - divide(per_partner, per_direct),
            "percent",
            both,
            label,
            groups=(partner.deals, direct.deals),
        )
    program_note = ""
    if c.program is None:
        program_note = f"no program costs recorded for {fm.period}"
    elif c.incentives_from_ledger is not None:
        program_note = ledger_note(c)
    program_fig = Figure(
        key="program_cost",
        label="Fully-loaded program cost",
        value=rounded(c.program, "money", fm.currency),
        unit="money",
        note=program_note,
    )
    direct_cost_fig = Figure(
        key="direct_cost",
        label="Direct sales and marketing cost",
        value=rounded(c.direct, "money", fm.currency),
        unit="money",
        note="" if c.direct is not None else f"no direct costs recorded for {fm.period}",
    )
    return replace(
        per_sourced_fig, beside=(saving, per_partner_fig, per_direct_fig, program_fig, direct_cost_fig)
    )


def ledger_note(c: PeriodCosts) -> str:
    """What the report says when the ledger supplied the incentives."""
    return (
        f"incentives are the {counted(c.ledger_entries, 'partner payout ledger entry')} posted in "
        f"{c.period.label} (program_costs has no incentives row for it)"
    )


def _ratio(
    key: str,
    label: str,
    cost: Decimal | None,
    cost_name: str,
    revenue: Bucket,
    deals_name: str,
    fm: FigureMaker,
) -> tuple[Decimal | None, Figure]:
    """cost / revenue, unrounded and as a figure resting on the won deals."""
    if revenue.deals == 0:
        note = f"no {deals_name} in {fm.period}"
    elif cost is None:
        note = f"no {cost_name} recorded for {fm.period}"
    elif revenue.amount == 0:
        note = f"their closed-won revenue is 0 in {fm.period}"
    else:
        value = divide(cost, revenue.amount)
        return value, fm.make(key, label, value, "ratio", revenue.deals, "won deals")
    return None, fm.make(key, label, None, "ratio", revenue.deals, "won deals", note)


def headline(n: PeriodNumbers, c: PeriodCosts, fm: FigureMaker) -> tuple[Figure, ...]:
    """The CFO's four numbers, each with the figures shown beside it (the banded one first)."""
    return (sourced_pipeline(n, fm), win_rate(n, fm), cycle_reduction(n, fm), costs(n, c, fm))


def flatten(figures: tuple[Figure, ...]) -> dict[str, Figure]:
    """Every figure and the figures beside it, by key (first occurrence wins)."""
    out: dict[str, Figure] = {}
    for f in figures:
        out.setdefault(f.key, f)
        out.update({k: v for k, v in flatten(f.beside).items() if k not in out})
    return out
