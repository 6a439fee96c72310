"""Pricing as posting sees it: which plan version is in force when, and what a version says a deal
earns. :class:`PlanSetPricer` prices with the workspace's plan versions
(:func:`cosell.pay.pricing.price_deal`); :class:`FunctionPricer` with a plain function, for tests
and examples. Pure: no I/O (:func:`cosell.pay.posting.post_period` reads and writes)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from cosell.pay.model import DealToPrice, Earning
from cosell.pay.plans import PlanSet
from cosell.pay.pricing import price_deal


@dataclass(frozen=True)
class PlanSpan:
    """One plan version in force over ``[starts, ends)`` (``ends`` None: until further notice)."""

    plan_version: str
    starts: datetime
    ends: datetime | None


class Pricer(Protocol):
    """Which plan version is in force when, and what a version says a deal earns (pure)."""

    def schedule(self) -> Sequence[PlanSpan]: ...

    def price(self, plan_version: str, deal: DealToPrice) -> Sequence[Earning]: ...

    def fingerprint(self) -> str:
        """Changes whenever a plan version is added or could price differently."""
        ...


@dataclass(frozen=True)
class PlanSetPricer:
    """The workspace's plan versions (:func:`cosell.pay.plan_versions.load_plan_set`) and price_deal."""

    plans: PlanSet
    _by_label: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def schedule(self) -> list[PlanSpan]:
        # PlanSet.find changes its answer only at an effective_from or effective_to, so one probe
        # per boundary gives the whole timeline.
        bounds = sorted(
            {p.effective_from for p in self.plans.versions}
            | {p.effective_to for p in self.plans.versions if p.effective_to is not None}
        )
        spans: list[PlanSpan] = []
        for i, start in enumerate(bounds):
            plan = self.plans.find(start)
            if plan is None:
                continue
            end = bounds[i + 1] if i + 1 < len(bounds) else None
            if spans and spans[-1].plan_version == plan.label and spans[-1].ends == start:
                spans[-1] = PlanSpan(plan.label, spans[-1].starts, end)
            else:
                spans.append(PlanSpan(plan.label, start, end))
        return spans

    def fingerprint(self) -> str:
        return ";".join(f"{p.label}={p.digest}" for p in self.plans.versions)

    def price(self, plan_version: str, deal: DealToPrice) -> list[Earning]:
        plan = self._by_label.get(plan_version)
        if plan is None:
            plan = self._by_label[plan_version] = self.plans.by_label(plan_version)
        return price_deal(plan, deal)


@dataclass(frozen=True)
class FunctionPricer:
    """One plan version (or several, by start) priced by a plain function: for tests and examples."""

    function: Callable[[str, DealToPrice], Sequence[Earning]]
    versions: tuple[tuple[str, datetime], ...] = (("plan@1", datetime(1970, 1, 1, tzinfo=UTC)),)

    def schedule(self) -> list[PlanSpan]:
        ordered = sorted(self.versions, key=lambda v: v[1])
        return [
            PlanSpan(label, start, ordered[i + 1][1] if i + 1 < len(ordered) else None)
            for i, (label, start) in enumerate(ordered)
        ]

    def fingerprint(self) -> str:
        # id(): another function (or another process) is never taken for this one.
        name = getattr(self.function, "__qualname__", "function")
        return f"{name}@{id(self.function)};" + ";".join(f"{v}@{t.isoformat()}" for v, t in self.versions)

    def price(self, plan_version: str, deal: DealToPrice) -> Sequence[Earning]:
        return self.function(plan_version, deal)
