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

from cosell.data.demo import DEMO_USER, DemoManifest
from cosell.pay.payouts import approve_run, propose_run
from cosell.pay.plan_parse import example_plan
from cosell.pay.plan_versions import add_plan_version, load_plan_set
from cosell.pay.posting import PostingResult, post_period
from cosell.pay.pricers import PlanSetPricer
from cosell.pay.statements import statement
from cosell.periods import month
from cosell.policy import Policy
from cosell.report_model import counted
from cosell.store.users import first_user
from cosell.store.workspace import Workspace
from cosell.terminal import TableColumn, print_table


@dataclass(frozen=True)
class DemoPay:
    """What the pay step did (for the demo's closing summary and for tests)."""

    paid_period: str
    next_period: str
    paid_run: str
    fixes: int
    disputes: int
    first: PostingResult
    adjustments: PostingResult
    partner_id: str | None  # whose statement was printed
    statement_text: str


def demo_instants(as_of: datetime) -> dict[str, datetime]:
    """The fixed instants of the pay step, from the dataset's as-of instant: the *next* period is
    the month that ends at as-of (2026-10 for 2026-11-01T00:00Z), the *paid* period the one before.
    Every write is dated after what the demo recorded before it (the import at as-of, the
    reconciliation 30 minutes later; nothing is recorded dated before something already recorded),
    and the paid period is paid before the fixes are accepted an hour after as-of."""
    next_month = month(as_of - timedelta(microseconds=1))
    paid_month = month(next_month.start - timedelta(microseconds=1))
    return {
        "plan_loaded": as_of + timedelta(minutes=40),
        "paid_posted": as_of + timedelta(minutes=45),
        "paid_proposed": as_of + timedelta(minutes=50),
        "paid_approved": as_of + timedelta(minutes=55),
        "next_posted": as_of + timedelta(hours=3, minutes=30),  # after the dispute, before the intake (4 h)
        "paid_period_start": paid_month.start,
        "next_period_start": next_month.start,
    }


def _finance_user(ws: Workspace) -> str:
    user = first_user(ws.con, "finance")
    if user is None:
        raise ValueError("the demo data has no finance user")
    return user


def _affected_partner(ws: Workspace, period: str) -> str | None:
    """The partner with the most adjustment entries in ``period`` (then the most money, then the
    smaller id); with no adjustment at all, the partner that earned the most in the period."""
    row = ws.con.execute(
        f"""SELECT party_id FROM ({_ADJUSTMENTS_SQL}) WHERE party_kind = 'partner'
            GROUP BY 1 ORDER BY count(*) DESC, sum(abs(amount)) DESC, 1 LIMIT 1""",
        [period],
    ).fetchone()
    if row is None:
        row = ws.con.execute(
            "SELECT party_id FROM ledger_entries WHERE period = ? AND party_kind = 'partner' "
            "GROUP BY 1 ORDER BY sum(amount) DESC, 1 LIMIT 1",
            [period],
        ).fetchone()
    return None if row is None else str(row[0])


def demo_pay(
    ws: Workspace,
    policy: Policy,
    manifest: DemoManifest,
    console: Console,
    accept_fixes: Callable[[], int],
    decide_disputes: Callable[[], int] | None = None,
) -> DemoPay:
    """Post and pay one period, accept the fixes, post the next period, print a partner statement.

    With the sample's as-of 2026-11-01: load the example plan; post 2026-09 (every won deal closed
    before October, under the plan in force at its close), propose its payout run and approve it
    as the first finance user; call ``accept_fixes()`` (the reconciliation's suggested fixes, each
    a new attribution version) and ``decide_disputes()`` when given (e.g. :func:`demo_dispute`);
    post 2026-10, which prices October's deals and posts the adjustments of every attribution that
    changed (reversals of unpaid earnings, clawbacks of paid ones, the new earnings); list the
    adjustments and print the statement of the partner most affected by them. Opens no
    transaction: the demo's use case runs the whole step in one (:func:`cosell.service.demo.pay`).
    """
    t = demo_instants(manifest.as_of)
    paid = month(t["paid_period_start"]).label
    nxt = month(t["next_period_start"]).label
    currency = policy.workspace_currency
    add_plan_version(
        ws.con,
        example_plan(),
        DEMO_USER,
        now=t["plan_loaded"],
        workspace_currency=currency,
        reason="cosell demo",
    )
    pricer = PlanSetPricer(load_plan_set(ws.con))
    console.rule(f"Partner pay: post {paid}, pay it, accept the fixes, post {nxt}")
    first = post_period(ws, policy, pricer, paid, DEMO_USER, t["paid_posted"])
    _print_posting(console, first, currency)
    run, _ = propose_run(ws, policy, paid, DEMO_USER, t["paid_proposed"], f"demo: pay {paid}")
    approver = _finance_user(ws)
    approve_run(ws, policy, run.run_id, approver, t["paid_approved"], f"demo: {paid} approved")
    console.print(
        f"Payout run {run.run_id} for {paid}: {run.parties_paid:,} parties paid {run.total:,.2f} {currency}, "
        f"{run.parties_blocked:,} blocked; approved by {approver} (finance). {paid} is now closed.",
        highlight=False,
    )
    fixes = accept_fixes()
    console.print(
        f"Reconciliation fixes accepted: {fixes:,} (each a new attribution version). A fix that pins the "
        "evidence-backed attribution the ledger already pays on moves no money; one that changes a deal's "
        "tier or credits does, in the next posting.",
        highlight=False,
    )
    disputes = decide_disputes() if decide_disputes is not None else 0
    if decide_disputes is not None:
        console.print(f"Disputes decided: {disputes:,}.", highlight=False)
    adjustments = post_period(ws, policy, pricer, nxt, DEMO_USER, t["next_posted"])
    _print_posting(console, adjustments, currency)
    _print_adjustments(console, ws, nxt, currency)
    partner = _affected_partner(ws, nxt)
    text = "" if partner is None else _print_statement(console, ws, "partner", partner, nxt, currency)
    # The rep whose paid commission was clawed back the most: the clawback line and its reason.
    row = ws.con.execute(
        "SELECT party_id FROM ledger_entries WHERE period = ? AND party_kind = 'rep' AND kind = 'clawback' "
        "GROUP BY 1 ORDER BY sum(amount), 1 LIMIT 1",
        [nxt],
    ).fetchone()
    if row is not None:
        _print_statement(console, ws, "rep", str(row[0]), nxt, currency)
    return DemoPay(paid, nxt, run.run_id, fixes, disputes, first, adjustments, partner, text)


def _print_statement(
    console: Console, ws: Workspace, kind: str, party: str, period: str, currency: str
) -> str:
    """Print the statement as ``cosell payouts statement`` does; return its text as printed."""
    from cosell.reports.text import print_report

    report = statement(ws.con, kind, party, period, currency)
    console.rule(f"cosell payouts statement --{kind} {party} --period {period}")
    with console.capture() as printed:
        print_report(report, console)
    text = printed.get()
    console.out(text, highlight=False, end="")
    return text


# Entries of a period that adjust earlier money: reversals, clawbacks, and what a change of
# attribution (a fix, a dispute: the cause the posting recorded) newly earns on a deal that had
# entries before.
_ADJUSTMENTS_SQL = """
    SELECT e.entry_id, e.opportunity_id, e.party_kind, e.party_id, e.kind, e.amount, e.reason
    FROM ledger_entries e LEFT JOIN ledger_posted_deals p
        ON p.posting_id = e.posting_id AND p.opportunity_id = e.opportunity_id
    WHERE e.period = ? AND (e.kind IN ('reversal', 'clawback')
        OR (p.cause_kind IN ('fix', 'dispute') AND EXISTS (
            SELECT 1 FROM ledger_entries b WHERE b.opportunity_id = e.opportunity_id AND b.period < e.period)))
"""


def _print_adjustments(console: Console, ws: Workspace, period: str, currency: str, limit: int = 12) -> None:
    rows = ws.con.execute(f"{_ADJUSTMENTS_SQL} ORDER BY e.entry_id", [period]).fetchall()
    if not rows:
        console.print(
            "No adjustment: every changed attribution version decided the same tier and credits as the one "
            "already paid on (a fix that confirms the computed attribution changes no amount).",
            highlight=False,
        )
        return
    print_table(
        console,
        ("entry", "deal", "party", "kind", TableColumn("amount", f"amount ({currency})"), "reason"),
        [
            {"entry": entry, "deal": deal, "party": f"{party_kind} {party}", "kind": kind,
             "amount": f"{amount:,.2f}", "reason": reason}
            for entry, deal, party_kind, party, kind, amount, reason in rows[:limit]
        ],
        title=f"Adjustments posted into {period} ({counted(len(rows), 'entry')})",
    )  # fmt: skip
    if len(rows) > limit:
        console.print(
            f"... and {len(rows) - limit:,} more: cosell payouts ledger --period {period}", highlight=False
        )


def demo_dispute(ws: Workspace, policy: Policy, manifest: DemoManifest) -> Callable[[], int]:
    """A decided dispute for the demo (SPEC section 6's case): a partner manager shows that a partner
    sourced a direct deal won before the paid period ended, whose rep was paid at the direct rate;
    partner ops accepts. The next posting claws back the rep's paid commission and pays the partner."""

    def decide() -> int:
        from cosell.hygiene.disputes import decide_dispute, open_dispute

        t = demo_instants(manifest.as_of)
        deal = ws.con.execute(
            """SELECT e.opportunity_id FROM ledger_entries e JOIN v_attribution a USING (opportunity_id)
               WHERE e.kind = 'rep_commission' AND e.rule_id = 'rep:direct' AND e.period <= ? AND a.tier = 'none'
               ORDER BY e.amount DESC, 1 LIMIT 1""",
            [month(t["paid_period_start"]).label],
        ).fetchone()
        partner = ws.con.execute(
            "SELECT min(partner_id) FROM cur_partners WHERE partner_type = 'referral'"
        ).fetchone()
        manager, ops = first_user(ws.con, "partner_manager"), first_user(ws.con, "partner_ops")
        if deal is None or partner is None or partner[0] is None or manager is None or ops is None:
            return 0
        opened_at = manifest.as_of + timedelta(hours=2)  # the data is known from as-of on
        dispute = open_dispute(
            ws, str(deal[0]), by_user=manager,
            reason="the partner's introduction email predates our first contact", claim=f"sourced/{partner[0]}",
            at=opened_at,
        )  # fmt: skip
        decide_dispute(
            ws, policy, dispute.dispute_id, accept=True, by_user=ops,
            reason="introduction email on file", at=opened_at + timedelta(hours=1),
        )  # fmt: skip
        return 1

    return decide


def _print_posting(console: Console, result: PostingResult, currency: str) -> None:
    print_table(
        console,
        ("kind", "entries", TableColumn("amount", f"amount ({currency})")),
        [
            {"kind": kind, "entries": f"{result.counts[kind]:,}", "amount": f"{result.amounts[kind]:,.2f}"}
            for kind in sorted(result.counts)
        ],
        title=f"Ledger entries posted into {result.period}",
    )
    notes = [f"{result.deals_eligible:,} won deals closed before the period ends are priced by the plan"]
    if result.no_plan:
        notes.append(
            f"{result.no_plan:,} closed when no plan was in force (before its effective date): not priced"
        )
    if result.deals_reversed:
        notes.append(
            f"{counted(result.deals_reversed, 'deal')} no longer {'qualifies' if result.deals_reversed == 1 else 'qualify'}: {'its' if result.deals_reversed == 1 else 'their'} earnings reversed"
        )
    console.print("; ".join(notes) + ".", highlight=False)
