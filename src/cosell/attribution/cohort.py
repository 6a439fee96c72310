"""Baseline cohorts for acceleration (SPEC section 2, docs/rules.md: Acceleration).

Baseline deals are direct-only won deals. For a deal O closed at X, the cohort is the baseline deals
closed in ``[X - baseline_window_days, X]`` at the narrowest level with at least ``min_cohort_size``
deals: level 1 same segment and amount band, level 2 same segment, level 3 all. The stage cohort
keeps the deals that passed through O's stage s (duration: close minus first entry of s); when no
level has enough, the whole-cycle fallback compares created-to-close times.

Medians are kept doubled (``median2``) so that an even count, whose median may end in half a
microsecond, stays an exact integer.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from cosell.attribution.facts import Facts, Opportunity, StageEntry
from cosell.attribution.timeline import amount_band, close_time, first_entry, stage_timeline
from cosell.instants import MICROS_PER_DAY
from cosell.policy import Policy


@dataclass(frozen=True)
class BaselineDeal:
    """A direct-only won deal, as the cohorts need it."""

    opportunity: Opportunity
    closed_at: int
    segment: str
    timeline: tuple[StageEntry, ...]

    @property
    def opportunity_id(self) -> str:
        return self.opportunity.opportunity_id


@dataclass(frozen=True)
class Baseline:
    """The cohort used for one deal: level (``stage:1`` .. ``cycle:3``), size, doubled median."""

    level: str
    size: int
    median2: int
    deal_ids: tuple[str, ...]

    @property
    def whole_cycle(self) -> bool:
        return self.level.startswith("cycle")


def median2(values: Sequence[int]) -> int:
    """Twice the median (mean of the two middle values for an even count), an exact integer.

    >>> median2([1, 2, 3, 10])
    5
    """
    ordered = sorted(values)
    n = len(ordered)
    if n % 2:
        return 2 * ordered[n // 2]
    return ordered[n // 2 - 1] + ordered[n // 2]


class CohortBaselines(Protocol):
    """Where a decision finds the cohort baseline of a deal tested for acceleration: computed from
    every direct-only won deal (:class:`Baselines`), or read from a stored run
    (:class:`cosell.attribution.per_deal.StoredBaselines`)."""

    def for_deal(self, opp: Opportunity, closed_at: int, stage: str) -> Baseline | None: ...


class Baselines:
    """The direct-only won deals of a dataset, ordered by close time, for cohort lookups."""

    def __init__(self, facts: Facts, policy: Policy, deals: Sequence[BaselineDeal]) -> None:
        self.facts = facts
        self.policy = policy
        self.deals = sorted(deals, key=lambda d: (d.closed_at, d.opportunity_id))
        self._closes = [d.closed_at for d in self.deals]
        self._bands: dict[str, int] = {}

    @classmethod
    def build(
        cls, facts: Facts, policy: Policy, is_direct_only: Callable[[Opportunity, int], bool]
    ) -> Baselines:
        """Collect the won deals that ``is_direct_only(opportunity, close_time)`` accepts."""
        deals = []
        for opp in facts.opportunities.values():
            if policy.stage_class(opp.stage) != "won":
                continue
            history = facts.stage_history.get(opp.opportunity_id, ())
            closed_at = close_time(opp, history, policy)
            if is_direct_only(opp, closed_at):
                deals.append(
                    BaselineDeal(
                        opp, closed_at, facts.segments.get(opp.account_id, ""), stage_timeline(opp, history)
                    )
                )
        return cls(facts, policy, deals)

    def band(self, deal: BaselineDeal) -> int:
        band = self._bands.get(deal.opportunity_id)
        if band is None:
            band = amount_band(self.facts, self.policy, deal.opportunity, deal.closed_at)
            self._bands[deal.opportunity_id] = band
        return band

    def in_window(self, closed_at: int) -> list[BaselineDeal]:
        """Baseline deals closed in ``[closed_at - baseline_window_days, closed_at]``."""
        start = closed_at - self.policy.baseline_window_days * MICROS_PER_DAY
        lo = bisect.bisect_left(self._closes, start)
        hi = bisect.bisect_right(self._closes, closed_at)
        return self.deals[lo:hi]

    def for_deal(self, opp: Opportunity, closed_at: int, stage: str) -> Baseline | None:
        """The narrowest cohort with enough deals for ``opp`` in stage ``stage``; None = no baseline."""
        window = [d for d in self.in_window(closed_at) if d.opportunity_id != opp.opportunity_id]
        segment = self.facts.segments.get(opp.account_id, "")
        band = amount_band(self.facts, self.policy, opp, closed_at)
        minimum = self.policy.min_cohort_size

        def level_members(level: int) -> list[BaselineDeal]:
            if level == 3:
                return window
            same_segment = [d for d in window if d.segment == segment]
            if level == 2:
                return same_segment
            return [d for d in same_segment if self.band(d) == band]

        for level in (1, 2, 3):
            through: list[tuple[BaselineDeal, int]] = []
            for d in level_members(level):
                entered = first_entry(d.timeline, stage)
                if entered is not None:
                    through.append((d, d.closed_at - entered))
            if len(through) >= minimum:
                return Baseline(
                    f"stage:{level}",
                    len(through),
                    median2([duration for _, duration in through]),
                    tuple(sorted(d.opportunity_id for d, _ in through)),
                )
        for level in (1, 2, 3):
            members = level_members(level)
            if len(members) >= minimum:
                return Baseline(
                    f"cycle:{level}",
                    len(members),
                    median2([d.closed_at - d.opportunity.created_at for d in members]),
                    tuple(sorted(d.opportunity_id for d in members)),
                )
        return None
