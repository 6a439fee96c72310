"""Reconciliation: cross-check a period's closed-won deals and record the findings (SPEC section 4).

::

    result = reconcile(ws, policy, overlap=pairs, period="2026-10")            # the month, as known now
    result = reconcile(ws, policy, overlap=pairs, period="2026-Q3", known_at=t) # as known at t
    result = reconcile(ws, policy, overlap=pairs, period="2026-Q3", as_of=t)    # evaluated at t
    result.by_kind                                               # count and money at stake per kind

``pairs`` is the account overlap as known at the knowledge instant: the partners' lists matched to
our accounts by the overlap matcher (:func:`cosell.accounts.overlap.overlap_pairs`), which hygiene,
an earlier layer, cannot call; the use case does (:func:`cosell.service.reconcile.reconcile_known`).

The checks run in the database (:mod:`cosell.hygiene.findings`). Each finding has a stable id (its
kind and deal), so running reconcile again never duplicates one: a finding is stored once, when it
is first detected, and its status (open, accepted, rejected) comes from the decisions recorded at
or before the knowledge instant (:mod:`cosell.asof`). A deal whose attribution carries an accepted override (OVR) was
decided by a reviewer: it raises no new finding, and the findings already recorded on it keep
showing with their decision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal, localcontext
from typing import Any

from rich.console import Console

from cosell import clock
from cosell.asof import evaluation, instants_line, knowledge
from cosell.errors import UsageError
from cosell.hygiene.decisions import AcceptResult, accept_suggested_fixes
from cosell.hygiene.finding_checks import Window
from cosell.hygiene.findings import detect, drop_work_tables
from cosell.hygiene.sql import lit as _lit
from cosell.hygiene.sql import ts as _ts
from cosell.instants import format_instant, format_optional, json_instant
from cosell.money import MONEY_CONTEXT, minor_unit
from cosell.periods import month, parse_period
from cosell.policy import Policy
from cosell.reasons import given_or_ran
from cosell.store.review import (
    KINDS,
    Finding,
    ensure_review_schema,
    next_number,
    read_findings,
)
from cosell.store.versions import latest_run_id, open_attribution_views
from cosell.store.workspace import Workspace
from cosell.terminal import print_table

ALL_PERIODS = "all"
# The finding each data-hygiene failure the demo plants (cosell.data.demo) produces on a won deal.
PLANTED_FINDINGS = {
    "untagged_partner_involvement": "untagged_partner_involvement",
    "over_credited": "over_credited",
    "double_sourced": "double_sourced",
    "missing_attribution_at_close": "missing_attribution_at_close",
    "influence_without_activity": "influence_without_activity",
    "acceleration_unproven": "acceleration_unproven",
    "wrong_account": "account_mismatch",  # its registration and touches sit on the deal's old account
    "confirmed_after_close": "missing_attribution_at_close",  # partner_source was empty at the close
}
__all__ = [
    "ALL_PERIODS",
    "PLANTED_FINDINGS",
    "AcceptResult",
    "KindSummary",
    "ReconcileResult",
    "accept_suggested_fixes",
    "demo_known_at",
    "demo_reconcile",
    "ran_reconcile",
    "reconcile",
    "resolve_window",
]


@dataclass(frozen=True)
class KindSummary:
    """Findings of one kind: how many, on how many deals, and the money at stake on those deals."""

    kind: str
    findings: int
    deals: int
    at_stake: Decimal


@dataclass(frozen=True)
class ReconcileResult:
    """One reconciliation: the window, what it was checked against, the findings and their totals.

    ``at_stake`` counts each deal once, however many kinds it carries. ``new_findings`` (how many
    were stored by this run) is bookkeeping and is not part of the printed output.
    """

    period: str
    start: datetime | None
    end: datetime | None
    as_of: datetime
    known_at: datetime | None  # the knowledge instant; None: everything recorded
    attribution_run_id: int | None
    deals_checked: int
    unattributed: int
    currency: str
    findings: tuple[Finding, ...]
    by_kind: tuple[KindSummary, ...]
    at_stake: Decimal
    new_findings: int = 0
    checked: tuple[str, ...] = ()  # the closed-won deals checked (not printed)

    @property
    def deals_with_findings(self) -> int:
        return len({f.opportunity_id for f in self.findings})

    def to_json(self) -> dict[str, Any]:
        """Stable keys (docs/hygiene-review.md); money as decimal strings, instants ISO 8601 UTC."""
        return {
            "period": self.period,
            "start": format_optional(self.start),
            "end": format_optional(self.end),
            "as_of": format_instant(self.as_of),
            "known_at": json_instant(self.known_at),
            "attribution_run_id": self.attribution_run_id,
            "deals_checked": self.deals_checked,
            "unattributed_deals": self.unattributed,
            "currency": self.currency,
            "deals_with_findings": self.deals_with_findings,
            "at_stake": str(self.at_stake),
            "by_kind": [
                {"kind": k.kind, "findings": k.findings, "deals": k.deals, "at_stake": str(k.at_stake)}
                for k in self.by_kind
            ],
            "findings": [f.to_json() for f in self.findings],
        }


def resolve_window(period: str | None, evaluated_at: datetime, policy: Policy) -> Window:
    """The deals a reconciliation checks: a month (``2026-10``), a fiscal quarter (``2026-Q3``),
    ``all``, or by default the last complete month before ``evaluated_at``."""
    if period is None:
        current = month(evaluated_at)
        last = month(current.start - timedelta(microseconds=1))
        return Window(last.label, last.start, last.end, evaluated_at)
    if period.strip().lower() == ALL_PERIODS:
        return Window(ALL_PERIODS, None, None, evaluated_at)
    try:
        chosen = parse_period(period.strip(), policy.fiscal_year_start_month)
    except ValueError as exc:
        raise UsageError(f"--period: {exc} (or 'all')") from None
    return Window(chosen.label, chosen.start, chosen.end, evaluated_at)


def ran_reconcile(window: Window, as_of: datetime | None, known_at: datetime | None) -> str:
    """What a reconciliation ran, as its why when given no reason: ``cosell reconcile --period P``
    (the window checked, a default one named), ``--as-of T`` when T was asked for (it decides which
    attribution is read) and ``--known-at K`` when K bounds what is read (the command line always
    gives one).

    >>> from cosell.instants import parse_instant
    >>> t = parse_instant("2026-10-01")
    >>> ran_reconcile(Window("2026-09", None, None, t), None, t)
    'cosell reconcile --period 2026-09 --known-at 2026-10-01T00:00:00Z'
    """
    ran = f"cosell reconcile --period {window.label}"
    if as_of is not None:
        ran += f" --as-of {format_instant(as_of)}"
    return ran if known_at is None else f"{ran} --known-at {format_instant(known_at)}"


def reconcile(
    ws: Workspace,
    policy: Policy,
    *,
    overlap: Sequence[tuple[str, str, str]],
    period: str | None = None,
    as_of: datetime | None = None,
    known_at: datetime | None = None,
    by_user: str = "unknown",
    reason: str = "",
) -> ReconcileResult:
    """Reconcile the period's closed-won deals evaluated as of ``as_of`` (T) with the data known at
    ``known_at`` (K), and store new findings (:mod:`cosell.asof`), recorded with ``by_user`` and
    ``reason``, else what was run (:func:`ran_reconcile`).

    K (default ``as_of``, else everything recorded) bounds the rows, attribution versions,
    declarations and decisions read, so the same call with the same K returns the same result after
    later imports, runs or decisions. T (default K, else now) decides the default window and which
    deals had closed. Given both, the attribution checked against is the one evaluated as of T
    (:func:`cosell.store.versions.require_attribution`). ``overlap`` is each ``(partner_id,
    account_id, status)`` where a partner's list holds one of our accounts as known at K, from the
    overlap matcher (:func:`cosell.accounts.overlap.overlap_pairs`): the ``overlap:P/STATUS``
    evidence and the ``overlap_unattributed`` findings read it. Raises :class:`NotFound` when nothing
    was imported by K or no such attribution is known. Opens no transaction: the use case runs it
    in one (:func:`cosell.service.reconcile.reconcile_period`), so the findings and the
    reconciliation's record are stored together or not at all.
    """
    con = ws.con
    ensure_review_schema(con)
    evaluated_at = clock.now(as_of if as_of is not None else known_at)
    window = resolve_window(period, evaluated_at, policy)
    why = given_or_ran(reason, ran_reconcile(window, as_of, known_at))
    evaluated = evaluation(as_of, known_at)
    known_at = knowledge(as_of, known_at)
    run_id = open_attribution_views(con, known_at, evaluated, existing_at=evaluated_at)
    deals = detect(con, policy, window, known_at, overlap)
    known = "TRUE" if known_at is None else f"k.detected_at <= {_ts(known_at)}"
    now = clock.now()
    reconciliation_id = next_number(con, "reconciliations", "reconciliation_id")
    new = con.execute(
        """INSERT INTO findings
        SELECT f.finding_id, f.kind, f.opportunity_id, ?, ?, f.run_id, f.closed_at, f.declared_source,
            f.declared_partner_id, f.computed_tier, f.computed_partner_id, f.amount, f.currency,
            f.at_stake, ?, f.suggested_tier, f.suggested_partner_id, f.suggested_fix, f.evidence
        FROM _rec_findings f
        WHERE NOT f.overridden AND f.finding_id NOT IN (SELECT finding_id FROM findings)""",
        [now, reconciliation_id, policy.workspace_currency],
    ).fetchone()
    shown = read_findings(
        con,
        "_rec_findings f JOIN findings k ON k.finding_id = f.finding_id",
        stake_currency=_lit(policy.workspace_currency),
        detected_at="k.detected_at",
        where=f"NOT f.overridden OR {known}",
        as_of=known_at,
    )
    con.execute(
        "INSERT INTO reconciliations (reconciliation_id, run_at, by_user, as_of, period, period_start, "
        "period_end, attribution_run_id, deals, findings, new_findings, known_at, reason) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            reconciliation_id,
            now,
            by_user,
            evaluated_at,
            window.label,
            window.start,
            window.end,
            run_id,
            deals,
            len(shown),
            int(new[0]) if new else 0,
            now if known_at is None else known_at,
            why,
        ],
    )
    row = con.execute("SELECT count(*) FILTER (WHERE run_id IS NULL) FROM _rec_deals").fetchone()
    unattributed = int(row[0]) if row else 0
    checked = tuple(r[0] for r in con.execute("SELECT opportunity_id FROM _rec_deals ORDER BY 1").fetchall())
    drop_work_tables(con)
    result = _result(window, run_id, deals, unattributed, policy, shown, int(new[0]) if new else 0)
    return replace(result, checked=checked, known_at=known_at)


def _result(
    window: Window,
    run_id: int,
    deals: int,
    unattributed: int,
    policy: Policy,
    findings: list[Finding],
    new: int,
) -> ReconcileResult:
    zero = Decimal(0).scaleb(-minor_unit(policy.workspace_currency))
    by_kind = []
    with localcontext(MONEY_CONTEXT):  # past 28 digits: 10^22 a deal, in four decimals, many deals
        for kind in KINDS:
            mine = [f for f in findings if f.kind == kind]
            if not mine:
                continue
            stakes = _stake_per_deal(mine, zero)
            by_kind.append(KindSummary(kind, len(mine), len(stakes), sum(stakes.values(), zero)))
        every = _stake_per_deal(findings, zero)
        at_stake = sum(every.values(), zero)
    return ReconcileResult(
        period=window.label,
        start=window.start,
        end=window.end,
        as_of=window.evaluated_at,
        known_at=None,
        attribution_run_id=run_id,
        deals_checked=deals,
        unattributed=unattributed,
        currency=policy.workspace_currency,
        findings=tuple(findings),
        by_kind=tuple(by_kind),
        at_stake=at_stake,
        new_findings=new,
    )


def _stake_per_deal(findings: list[Finding], zero: Decimal) -> dict[str, Decimal]:
    """Each deal's money at stake once: the largest stake among its findings by size (a finding
    whose fix would move nothing, at stake 0, does not hide another finding's stake on the same
    deal; a credit note's negative stake is kept, so a kind's total is the sum of its rows)."""
    stakes: dict[str, Decimal] = {}
    for f in findings:
        stakes[f.opportunity_id] = max(stakes.get(f.opportunity_id, zero), f.at_stake or zero, key=abs)
    return stakes


def print_summary(console: Console, result: ReconcileResult) -> None:
    """The count and money at stake by kind, then all kinds (each deal once) in bold."""
    rows = [
        {
            "kind": k.kind,
            "findings": f"{k.findings:,}",
            "deals": f"{k.deals:,}",
            "at_stake": f"{k.at_stake:,}",
        }
        for k in result.by_kind
    ]
    rows.append(
        {
            "kind": "all (each deal once)",
            "findings": f"{len(result.findings):,}",
            "deals": f"{result.deals_with_findings:,}",
            "at_stake": f"{result.at_stake:,}",
        }
    )
    print_table(
        console,
        ("kind", "findings", "deals", "at_stake"),
        rows,
        title=f"Reconciliation {result.period}: findings by kind ({result.currency} at stake)",
        row_styles=[""] * (len(rows) - 1) + ["bold"],
    )


def planted_found(
    result: ReconcileResult, planted: Mapping[str, Sequence[str]]
) -> dict[str, tuple[int, int]]:
    """Per planted failure kind: (how many of its closed-won deals carry the finding it produces
    (:data:`PLANTED_FINDINGS`), how many of its deals were checked as closed-won)."""
    won = set(result.checked)
    kinds = {(f.kind, f.opportunity_id) for f in result.findings}
    out = {}
    for plant, ids in planted.items():
        expected = PLANTED_FINDINGS.get(plant)
        in_scope = [i for i in ids if i in won]
        out[plant] = (sum((expected, i) in kinds for i in in_scope), len(in_scope))
    return out


def print_planted(console: Console, result: ReconcileResult, planted: Mapping[str, Sequence[str]]) -> None:
    """How many of the demo's planted failures on closed-won deals reconciliation found."""
    print_table(
        console,
        ("planted", "found_as", "found"),
        [
            {
                "planted": plant,
                "found_as": PLANTED_FINDINGS.get(plant, "-"),
                "found": f"{found:,} of {total:,}",
            }
            for plant, (found, total) in planted_found(result, planted).items()
        ],
        title="Planted data-hygiene failures found (closed-won deals)",
    )


def demo_known_at(ws: Workspace, manifest: Any) -> datetime | None:
    """The knowledge instant the demo reconciles at: ``manifest.as_of`` when the demo's attribution
    run is known then (stored with ``run_at=manifest.as_of``); else None, what is known now, which in
    a fresh demo workspace is the same data."""
    known_at: datetime | None = manifest.as_of
    return known_at if latest_run_id(ws.con, known_at) is not None else None


def demo_reconcile(
    ws: Workspace,
    policy: Policy,
    manifest: Any,
    console: Console,
    *,
    overlap: Sequence[tuple[str, str, str]],
) -> ReconcileResult:
    """The demo's reconciliation step: every closed-won deal of the sample, as known at
    :func:`demo_known_at`, with ``overlap`` the account overlap as known then (:func:`reconcile`).

    Prints which instant is which, the count by kind and the money at stake.
    """
    known_at = demo_known_at(ws, manifest)
    result = reconcile(
        ws,
        policy,
        overlap=overlap,
        period=ALL_PERIODS,
        known_at=known_at,
        by_user="demo",
        reason="cosell demo",
    )
    console.print(instants_line(result.as_of, result.known_at), highlight=False)
    print_summary(console, result)
    print_planted(console, result, manifest.planted)
    console.print(
        f"{len(result.findings):,} findings on {result.deals_with_findings:,} of {result.deals_checked:,} "
        f"closed-won deals; {result.at_stake:,} {result.currency} of revenue at stake. "
        "Try: cosell findings list, cosell findings show ID, cosell findings accept ID --by USER --reason TEXT",
        highlight=False,
    )
    return result
