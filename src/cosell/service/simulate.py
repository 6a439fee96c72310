"""Use case: a policy what-if (``cosell simulate``). Nothing is stored.

The workspace's history, as known at the knowledge instant K and evaluated as of T, is attributed
twice by the batch engine (:func:`cosell.attribution.engine.attribute`): once under the current
policy and once under the proposed one, at the same instants, so the difference is only the
policy (never a stale stored version). Every deal whose tier, partners or credit would change is
listed with the money it would move (:mod:`cosell.attribution.whatif`): pipeline and revenue by
tier (:mod:`cosell.metrics.deal_money`) and each party's pay under the plan in force at the deal's
close (:mod:`cosell.pay.hypothetical`, nothing posted). ``period`` keeps the deals that close in
that month or fiscal quarter (under either policy's stage mapping); without it, every deal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cosell import clock
from cosell.asof import knowledge
from cosell.attribution.engine import attribute
from cosell.attribution.whatif import DealChange, Decision, Money, WhatIf, change_kinds, compare
from cosell.attribution.whatif_runs import differing_deals, fetch_rows, keep_run
from cosell.engine import Engine
from cosell.errors import CosellError, UsageError
from cosell.instants import format_instant, json_instant
from cosell.metrics.deal_money import DealMoney, check_rates, closed_in, deal_money, outcome_changes
from cosell.pay.hypothetical import Priced, ToPrice, partner_names, price_decisions
from cosell.pay.plan_versions import load_plan_set
from cosell.periods import Period, parse_period
from cosell.policy import Policy
from cosell.report_model import counted
from cosell.results import AttributionRow, CreditRow
from cosell.store.known import require_deals, require_import
from cosell.store.versions import base_run
from cosell.store.workspace import as_of_views

ALL_PERIODS = "all"


@dataclass(frozen=True)
class PolicyRef:
    """A policy as the what-if names it: its version, and the file it was read from (None: the defaults)."""

    version: str
    file: str | None

    @classmethod
    def of(cls, policy: Policy) -> PolicyRef:
        return cls(policy.version, None if policy.source is None else str(policy.source))


@dataclass(frozen=True)
class Simulation:
    """A what-if's result: what was compared, at which instants, and what would change."""

    current: PolicyRef
    proposed: PolicyRef
    as_of: datetime
    known_at: datetime | None  # None: everything recorded
    period: Period | None  # None: every deal
    currency: str
    deals_evaluated: int  # deals decided (closed in the period, with one)
    whatif: WhatIf
    plan_versions: tuple[str, ...]  # the plan versions that priced the changed deals
    plans_known: bool  # any plan version was loaded by K
    partner_names: dict[str, str] = field(default_factory=dict)
    stored_run: tuple[int, str] | None = None  # the newest full run known, when another policy made it
    # Stages a policy maps that the workspace writes in another case or spacing (:func:`_stage_notes`).
    stage_notes: tuple[str, ...] = ()

    def header(self) -> str:
        """``current policy vN vs proposed policy vM, as of T``."""
        return (
            f"current policy {self.current.version} vs proposed policy {self.proposed.version}, "
            f"as of {format_instant(self.as_of)}"
        )

    def notes(self) -> list[str]:
        """What a reader must know to read the figures right."""
        notes = [
            "Both policies were run through the batch engine on the same data at the same instants; "
            "nothing was stored."
        ]
        if self.stored_run is not None:
            run_id, version = self.stored_run
            notes.append(
                f"The newest stored run (run {run_id}) was made with policy {version}, not with the "
                "current policy compared here: name the policy in force with --current-policy (or "
                "$COSELL_POLICY)."
            )
        notes += [f"{note}." for note in self.stage_notes]
        if not self.plans_known:
            notes.append("No compensation plan was loaded: pay is not computed (cosell plans load).")
        elif self.whatif.unpriced:
            n = len(self.whatif.unpriced)
            has, its = ("has", "its") if n == 1 else ("have", "their")
            notes.append(
                f"{counted(n, 'changed won deal')} {has} no plan in force at {its} close: "
                f"{its} pay is not counted."
            )
        return notes

    def to_json(self) -> dict[str, Any]:
        """Stable keys (docs/simulate.md); money as decimal strings, instants ISO 8601 UTC."""
        w = self.whatif
        return {
            "current_policy": {"version": self.current.version, "file": self.current.file},
            "proposed_policy": {"version": self.proposed.version, "file": self.proposed.file},
            "as_of": format_instant(self.as_of),
            "known_at": json_instant(self.known_at),
            "period": None if self.period is None else self.period.label,
            "currency": self.currency,
            "deals_evaluated": self.deals_evaluated,
            "deals_changed": len(w.changes),
            "changed_by_kind": dict(w.by_kind),
            "pipeline_moved": {t: str(a) for t, a in w.pipeline_moved.items()},
            "revenue_moved": {t: str(a) for t, a in w.revenue_moved.items()},
            "plan_versions": list(self.plan_versions),
            "partner_pay": [
                {
                    "partner_id": p.party_id,
                    "name": self.partner_names.get(p.party_id, ""),
                    "current": str(p.current),
                    "proposed": str(p.proposed),
                    "change": str(p.change),
                }
                for p in w.partner_pay
            ],
            "partner_pay_change": str(w.partner_pay_change),
            "rep_pay": [
                {
                    "rep_id": p.party_id,
                    "current": str(p.current),
                    "proposed": str(p.proposed),
                    "change": str(p.change),
                }
                for p in w.rep_pay
            ],
            "rep_pay_change": str(w.rep_pay_change),
            "unpriced_deals": list(w.unpriced),
            "notes": self.notes(),
            "deals": [_deal_json(c) for c in w.changes],
        }


def _side_json(d: Decision, m: Money) -> dict[str, Any]:
    return {
        "tier": d.tier,
        "primary_partner_id": d.primary_partner_id,
        "rules": d.row.rules,
        "credits": [c.to_json() for c in d.credits],
        "outcome": d.outcome,
        "closed_at": json_instant(d.closed_at),
        "pipeline": str(m.pipeline),
        "revenue": None if m.revenue is None else str(m.revenue),
        "partner_pay": {p: str(a) for p, a in sorted(m.partner_pay.items())},
        "rep_pay": {p: str(a) for p, a in sorted(m.rep_pay.items())},
        "priced": m.priced,
    }


def _deal_json(c: DealChange) -> dict[str, Any]:
    return {
        "opportunity_id": c.opportunity_id,
        "kinds": list(c.kinds),
        "money_moved": str(c.money_moved),
        "pipeline_moved": {t: str(a) for t, a in c.pipeline_moved.items()},
        "revenue_moved": {t: str(a) for t, a in c.revenue_moved.items()},
        "credit_moved": str(c.credit_moved),
        "deal_currency": c.deal_currency,
        "partner_pay_change": {p: str(a) for p, a in c.partner_pay_change.items()},
        "rep_pay_change": {p: str(a) for p, a in c.rep_pay_change.items()},
        "current": _side_json(c.current, c.current_money),
        "proposed": _side_json(c.proposed, c.proposed_money),
    }


def resolve_period(period: str | None, policy: Policy) -> Period | None:
    """``--period``: a month (2026-10) or a fiscal quarter (2026-Q3) of the policy's fiscal
    calendar, or ``all`` (the default): every deal."""
    if period is None or period.strip().lower() == ALL_PERIODS:
        return None
    try:
        return parse_period(period.strip(), policy.fiscal_year_start_month)
    except ValueError as exc:
        raise UsageError(f"--period: {exc} (or 'all')") from None


def simulate(
    con: Engine,
    proposed: Policy,
    *,
    current: Policy | None = None,
    period: str | None = None,
    as_of: datetime | None = None,
    known_at: datetime | None = None,
    progress: Callable[[], None] | None = None,
    viewer: str | None = None,
) -> Simulation:
    """Run the history known at ``known_at`` (K; default ``as_of``, else everything recorded),
    evaluated as of ``as_of`` (T; default now), under ``current`` (default: the default policy) and
    under ``proposed``, and compare (module docstring). Reads only; nothing is written.

    The proposed policy must keep the workspace currency (money in two currencies does not
    compare); the period is read in the current policy's fiscal calendar. Raises
    :class:`~cosell.errors.NotFound` when nothing was known at K or no deal existed at T.

    It moves every partner's credit and pay: refused to a partner user and a rep (``viewer``,
    SPEC section 9), before any work.
    """
    from cosell.service.readers import reader, refuse_limited

    refuse_limited(reader(con, viewer), "a simulation")
    current = current or Policy()
    if proposed.workspace_currency != current.workspace_currency:
        raise UsageError(
            f"the proposed policy's workspace_currency {proposed.workspace_currency} is not the current "
            f"{current.workspace_currency}: money in two currencies does not compare (keep the currency)"
        )
    window = resolve_period(period, current)
    when = clock.now(as_of)
    known = knowledge(as_of, known_at)
    tick = progress or (lambda: None)
    require_import(con, known)
    first = attribute(con, current, when, known_at=known)
    tick()
    if not sum(first.counts.values()):
        require_deals(con, when, known)  # says why there is nothing to compare
    kept = keep_run(first)
    try:
        second = attribute(con, proposed, when, known_at=known)
        tick()
        ids = sorted(set(differing_deals(kept, second)) | set(outcome_changes(con, current, proposed, when)))
        was, now = fetch_rows(kept, ids), fetch_rows(second, ids)
    finally:
        kept.drop()
    # The engine built the views of (K, T); made again here so that what follows reads what it names.
    as_of_views(con, known, existing_at=when)
    # Money is counted one way on both sides (the current calendar and currency); only whether a
    # deal is won, lost or open, and when it closed, follows each side's stage mapping.
    staged = current.with_values(
        stages__won=proposed.values["stages.won"], stages__lost=proposed.values["stages.lost"]
    )
    money_was = deal_money(con, current, when, ids)
    money_now = money_was if staged.digest == current.digest else deal_money(con, staged, when, ids)
    if window is not None:
        ids = [i for i in ids if _closes_in(window, money_was[i], money_now[i])]
    check_rates([m for i in ids for m in (money_was[i], money_now[i])])
    plans = load_plan_set(con, known)
    sides = [(i, *side) for i in ids for side in ((was[i], money_was[i]), (now[i], money_now[i]))]
    priced = price_decisions(con, plans, current.workspace_currency, [_to_price(*s) for s in sides], known)
    changes = [
        _change(i, was[i], now[i], money_was[i], money_now[i], priced[2 * n], priced[2 * n + 1], current)
        for n, i in enumerate(ids)
    ]
    tick()
    whatif = compare(changes, current.workspace_currency)
    deals = (
        sum(first.counts.values()) if window is None else closed_in(con, [current, proposed], when, window)
    )
    stored = base_run(con, known)
    return Simulation(
        current=PolicyRef.of(current),
        proposed=PolicyRef.of(proposed),
        as_of=when,
        known_at=known,
        period=window,
        currency=current.workspace_currency,
        deals_evaluated=deals,
        whatif=whatif,
        plan_versions=tuple(sorted({p.plan_version for p in priced if p.plan_version})),
        plans_known=bool(plans.versions),
        partner_names=partner_names(con, [p.party_id for p in whatif.partner_pay]),
        stored_run=None
        if stored is None or stored.policy_version == current.version
        else (stored.run_id, stored.policy_version),
        stage_notes=_stage_notes(con, current, proposed),
    )


def _stage_notes(con: Engine, current: Policy, proposed: Policy) -> tuple[str, ...]:
    """Each policy's won and lost stages that the workspace writes only in another case or with
    other spaces (:func:`cosell.hygiene.gate.stage_case_notes`), named by policy: a proposed
    ``won = ["closed won"]`` leaves the "Closed Won" deals open, which the comparison would show as
    a change of the policy, not of a spelling."""
    from cosell.hygiene.gate import stage_case_notes, workspace_stages

    stages = workspace_stages(con)  # read once for both policies
    return tuple(
        f"The {which} policy's {note}"
        for which, policy in (("current", current), ("proposed", proposed))
        for note in stage_case_notes(policy, stages)
    )


Rows = tuple[AttributionRow | None, tuple[CreditRow, ...]]


def _closes_in(window: Period, *money: DealMoney) -> bool:
    return any(m.closed_at is not None and window.contains(m.closed_at) for m in money)


def _decision(opportunity_id: str, rows: Rows, money: DealMoney) -> Decision:
    row, credits = rows
    if row is None:  # both runs decide the deals that existed at T: this would be an engine bug
        raise CosellError(f"{opportunity_id} was attributed by one policy's run only")
    return Decision(row, credits, money.outcome, money.closed_at)


def _to_price(opportunity_id: str, rows: Rows, money: DealMoney) -> ToPrice:
    row, credits = rows
    return ToPrice(
        opportunity_id=opportunity_id,
        won=money.outcome == "won",
        closed_at=money.closed_at,
        opportunity_type=money.opportunity_type,
        tier="none" if row is None else row.tier,
        amount=money.amount,
        currency=money.currency,
        close_rate=money.close_rate,
        owner_id=money.owner_id,
        credits=credits,
    )


def _money(m: DealMoney, priced: Priced) -> Money:
    assert m.pipeline is not None and m.pipeline_rate is not None  # check_rates said so
    return Money(
        pipeline=m.pipeline,
        pipeline_rate=m.pipeline_rate,
        revenue=m.revenue if m.outcome == "won" else None,
        partner_pay=priced.by_party("partner"),
        rep_pay=priced.by_party("rep"),
        priced=priced.priced,
    )


def _change(
    opportunity_id: str,
    was: Rows,
    now: Rows,
    money_was: DealMoney,
    money_now: DealMoney,
    priced_was: Priced,
    priced_now: Priced,
    policy: Policy,
) -> DealChange:
    current = _decision(opportunity_id, was, money_was)
    proposed = _decision(opportunity_id, now, money_now)
    return DealChange(
        opportunity_id=opportunity_id,
        kinds=change_kinds(current, proposed),
        current=current,
        proposed=proposed,
        current_money=_money(money_was, priced_was),
        proposed_money=_money(money_now, priced_now),
        currency=policy.workspace_currency,
        deal_currency=money_was.currency,
    )
