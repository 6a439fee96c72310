"""The pay step of ``cosell demo``: a paid period, the reconciliation fixes, the next period's
adjustments, and a partner statement that shows them.

Every instant is derived from the dataset's as-of instant, so the output is the same on every run.
With the sample's as-of 2026-11-01T00:00Z the *next* period is 2026-10 (the last month of data) and
the *paid* period 2026-09: September is posted, proposed and approved on 2026-10-01 at 06:00, 07:00
and 08:00 UTC; October is posted on 2026-11-01 at 06:00 UTC, after the fixes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from rich.console import Console
from rich.table import Table

from cosell.data.demo import DemoManifest
from cosell.pay.payouts import approve_run, propose_run
from cosell.pay.plan_store import add_plan_version, load_plan_set
from cosell.pay.plans import example_plan
from cosell.pay.posting import PlanSetPricer, PostingResult, post_period
from cosell.pay.statements import statement
from cosell.periods import month
from cosell.policy import Policy
from cosell.store.workspace import Workspace

DEMO_USER = "demo"


@dataclass(frozen=True)
class DemoPay:
    """What the pay step did (for the demo's closing summary and for tests)."""

    paid_period: str
    next_period: str
    paid_run: str
    fixes: int
    first: PostingResult
    adjustments: PostingResult
    partner_id: str | None  # whose statement was printed
    statement_text: str


def demo_instants(as_of: datetime) -> dict[str, datetime]:
    """The fixed instants of the pay step, from the dataset's as-of instant: the *next* period is
    the month that ends at as-of (2026-10 for 2026-11-01T00:00Z), the *paid* period the one before."""
    next_month = month(as_of - timedelta(microseconds=1))
    paid_month = month(next_month.start - timedelta(microseconds=1))
    start = next_month.start
    return {
        "plan_loaded": paid_month.start,
        "paid_posted": start + timedelta(hours=6),
        "paid_proposed": start + timedelta(hours=7),
        "paid_approved": start + timedelta(hours=8),
        "next_posted": as_of + timedelta(hours=6),
        "paid_period_start": paid_month.start,
        "next_period_start": next_month.start,
    }


def _finance_user(ws: Workspace) -> str:
    row = ws.con.execute("SELECT min(user_id) FROM cur_users WHERE role = 'finance'").fetchone()
    if row is None or row[0] is None:
        raise ValueError("the demo data has no finance user")
    return str(row[0])


def _affected_partner(ws: Workspace, period: str) -> str | None:
    """The partner with the most adjustment entries in ``period`` (reversals, clawbacks, or entries
    of a fix or dispute version), ties to the smaller id; else any partner with entries in it."""
    row = ws.con.execute(
        """SELECT e.party_id FROM ledger_entries e
           LEFT JOIN attribution_runs r ON r.run_id = e.attribution_run_id
           WHERE e.period = ? AND e.party_kind = 'partner'
           GROUP BY 1
           ORDER BY count(*) FILTER (WHERE e.kind IN ('reversal', 'clawback') OR r.kind IN ('fix', 'dispute')) DESC,
                    count(*) FILTER (WHERE e.kind = 'clawback') DESC, 1
           LIMIT 1""",
        [period],
    ).fetchone()
    return None if row is None else str(row[0])


def demo_pay(
    ws: Workspace,
    policy: Policy,
    manifest: DemoManifest,
    console: Console,
    accept_fixes: Callable[[], int],
) -> DemoPay:
    """Post and pay one period, accept the fixes, post the next period, print a partner statement.

    With the sample's as-of 2026-11-01: load the example plan; post 2026-09 (every won
    deal closed before October under the plan in force at its close), propose its payout run and
    approve it as the first finance user; call ``accept_fixes()`` (the reconciliation's suggested
    fixes, each a new attribution version); post 2026-10, which prices October's deals and posts
    the fixes' adjustments (reversals of unpaid earnings, clawbacks of paid ones, new earnings);
    print a statement of the partner most affected by the fixes.
    """
    t = demo_instants(manifest.as_of)
    paid = month(t["paid_period_start"]).label
    nxt = month(t["next_period_start"]).label
    with ws.transaction():
        add_plan_version(
            ws.con,
            example_plan(),
            DEMO_USER,
            now=t["plan_loaded"],
            workspace_currency=policy.workspace_currency,
        )
    pricer = PlanSetPricer(load_plan_set(ws.con))
    console.rule(f"Partner pay: post {paid}, pay it, accept the fixes, post {nxt}")
    first = post_period(ws, policy, pricer, paid, DEMO_USER, t["paid_posted"])
    _print_posting(console, first, policy.workspace_currency)
    run, _ = propose_run(ws, policy, paid, DEMO_USER, t["paid_proposed"], f"demo: pay {paid}")
    approver = _finance_user(ws)
    approve_run(ws, policy, run.run_id, approver, t["paid_approved"], f"demo: {paid} approved")
    console.print(
        f"Payout run {run.run_id} for {paid}: {run.parties_paid:,} parties paid {run.total:,.2f} "
        f"{run.currency}, {run.parties_blocked:,} blocked; approved by {approver} (finance). "
        f"{paid} is now closed.",
        highlight=False,
    )
    fixes = accept_fixes()
    console.print(
        f"Reconciliation fixes accepted: {fixes:,} (each a new attribution version).", highlight=False
    )
    adjustments = post_period(ws, policy, pricer, nxt, DEMO_USER, t["next_posted"])
    _print_posting(console, adjustments, policy.workspace_currency)
    partner = _affected_partner(ws, nxt)
    text = ""
    if partner is not None:
        from cosell.reports.render import render

        report = statement(ws.con, "partner", partner, nxt, policy.workspace_currency)
        text = render(report, "table").decode("utf-8")
        console.rule(
            f"Statement of partner {partner} for {nxt}: cosell payouts statement --partner {partner} --period {nxt}"
        )
        console.print(text, markup=False, highlight=False, soft_wrap=True, end="")
    return DemoPay(paid, nxt, run.run_id, fixes, first, adjustments, partner, text)


def _print_posting(console: Console, result: PostingResult, currency: str) -> None:
    table = Table(title=f"Ledger entries posted into {result.period}", header_style="bold")
    table.add_column("kind")
    table.add_column("entries", justify="right")
    table.add_column(f"amount ({currency})", justify="right")
    for kind in sorted(result.counts):
        table.add_row(kind, f"{result.counts[kind]:,}", f"{result.amounts[kind]:,.2f}")
    console.print(table)
    notes = [f"{result.deals_eligible:,} won deals closed before the period ends are priced by the plan"]
    if result.no_plan:
        notes.append(
            f"{result.no_plan:,} closed when no plan was in force (before its effective date): not priced"
        )
    if result.deals_reversed:
        notes.append(f"{result.deals_reversed:,} deals no longer qualify: their earnings reversed")
    console.print("; ".join(notes) + ".", highlight=False)
