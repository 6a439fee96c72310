"""A deal's stage timeline, close time, touch sides and FX lookups (docs/rules.md: Times, Touches, FX).

Small pure helpers shared by the reference rules and the cohort baselines.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

from cosell.attribution.facts import Facts, Opportunity, StageEntry, Touch
from cosell.errors import InputError, Problem
from cosell.periods import rate_periods
from cosell.policy import Policy

MICROS_PER_SECOND = 1_000_000
# Why a closed deal cannot be decided, priced or counted: its close time X cannot be found. The
# engine, the metrics and pay refuse it in these words (the reference names the stage, below).
NO_CLOSE_TIME = "is closed but has no close time (no stage_history entry into its stage, no close_date)"


def stage_timeline(opp: Opportunity, history: tuple[StageEntry, ...]) -> tuple[StageEntry, ...]:
    """The deal's stage entries by (entered_at, stage), the first one starting no later than C.

    No recorded entry: one entry, the current stage at C. A first entry after C is taken to start at
    C (a deal is in some stage from the moment it exists).
    """
    if not history:
        return (StageEntry(opp.stage, opp.created_at),)
    first = history[0]
    if first.entered_at > opp.created_at:
        return (StageEntry(first.stage, opp.created_at), *history[1:])
    return history


def first_entry(timeline: tuple[StageEntry, ...], stage: str) -> int | None:
    """The first time the timeline enters ``stage``, or None."""
    times = [e.entered_at for e in timeline if e.stage == stage]
    return min(times) if times else None


def close_time(opp: Opportunity, history: tuple[StageEntry, ...], policy: Policy) -> int:
    """X of a closed deal, from the recorded stage_history rows, else its close_date.

    The first entry into the current stage at or after the last entry into an open stage (with no
    open-stage entry: the first entry into the current stage).
    """
    opens = [e.entered_at for e in history if policy.stage_class(e.stage) == "open"]
    last_open = max(opens) if opens else None
    entries = [
        e.entered_at
        for e in history
        if e.stage == opp.stage and (last_open is None or e.entered_at >= last_open)
    ]
    if entries:
        return min(entries)
    if opp.close_date is not None:
        return opp.close_date
    raise InputError(
        Problem(
            "opportunities.csv",
            None,
            "close_date",
            None,
            f"opportunity {opp.opportunity_id} is {opp.stage!r} (closed) but has no close_date "
            "and no stage_history entry into that stage",
        )
    )


def side(touch: Touch, policy: Policy) -> str | None:
    """``partner`` or ``direct`` for an engagement touch, None for a touch the rules ignore.

    The actor decides the side; the kind only decides whether it is engagement. A partner touch
    whose partner cannot be resolved (no partner_id, no known contact) is ignored.
    """
    if touch.kind not in policy.partner_kinds and touch.kind not in policy.direct_kinds:
        return None
    if touch.actor == "partner":
        return "partner" if touch.partner_id else None
    if touch.actor == "direct":
        return "direct"
    return None


def from_epoch_micros(instant: int) -> datetime:
    """The aware UTC datetime of an epoch-microsecond instant."""
    seconds, micros = divmod(instant, MICROS_PER_SECOND)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=micros)


def rate_at(facts: Facts, currency: str, instant: int, fiscal_start_month: int = 1) -> Decimal:
    """Units of workspace currency per unit of ``currency`` at ``instant``: the month's rate, else
    the fiscal quarter's (in the policy's fiscal calendar, as rate periods are labelled)."""
    if currency == facts.workspace_currency:
        return Decimal(1)
    month, quarter = rate_periods(from_epoch_micros(instant), fiscal_start_month)
    for period in (month, quarter):
        rate = facts.fx_rates.get((currency, period))
        if rate is not None:
            return rate
    raise InputError(
        Problem("fx_rates", None, "rate", None, f"no rate for {currency} in {month} or {quarter}")
    )


def amount_band(facts: Facts, policy: Policy, opp: Opportunity, closed_at: int) -> int:
    """Index of the amount band of a deal, its amount converted exactly at its close-period rate.
    A missing rate is an input error naming the deal that needs it."""
    try:
        rate = rate_at(facts, opp.currency, closed_at, policy.fiscal_year_start_month)
    except InputError as missing:
        problem = replace(
            missing.problem,
            reason=f"{missing.problem.reason}: needed by deal {opp.opportunity_id}'s amount band",
        )
        raise InputError(problem) from None
    converted = Fraction(opp.amount) * Fraction(rate)
    return sum(1 for edge in policy.band_edges if converted >= Fraction(edge))
