"""``cosell payouts``: post a period to the ledger, propose and approve payout runs, ledger, statements."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated, Any

import typer

from cosell.cli.common import (
    Format,
    FormatOption,
    NowOption,
    PolicyOption,
    RequiredReasonOption,
    WorkspaceOption,
    a_period,
    a_value,
    by_option,
    console,
    emit_rows,
    id_argument,
    in_workspace,
    login_name,
    reader_option,
    workspace,
)
from cosell.cli.report_cmd import FormatOption as ReportFormatOption
from cosell.cli.report_cmd import OutOption, ReportFormat, emit
from cosell.errors import UsageError
from cosell.instants import format_instant, format_optional, json_instant
from cosell.money import round_money
from cosell.policy import load_policy
from cosell.report_model import counted
from cosell.terminal import TableColumn, print_table

payouts_app = typer.Typer(
    help="Partner payouts and rep commission: post a period, payout runs, the ledger, statements.",
    no_args_is_help=True,
)

ByOption = Annotated[
    str | None,
    by_option("Who does it (recorded)."),
]
# A read's reader: SPEC section 9 (cosell.service.pay.reader_party); without it, the local operator.
ReaderOption = Annotated[
    str | None,
    reader_option("Who reads (a user id): a partner user sees only its own partner's pay, a rep its own."),
]
PeriodOption = Annotated[
    str, typer.Option("--period", help="A month, e.g. 2026-10.", show_default=False, callback=a_period)
]


def register(app: typer.Typer) -> None:
    """Add ``cosell payouts ...`` to the app."""
    app.add_typer(payouts_app, name="payouts")


def _money(value: Any, currency: str) -> str:
    """Grouped digits, with the currency's minor unit (1,200.015 KWD, 1,200 JPY, 1,200.00 USD)."""
    return f"{round_money(Decimal(value), currency):,}"


def _amount(value: Any, currency: str, fmt: Format) -> Any:
    """Grouped digits for people (table); the exact number, in the currency's minor unit, for
    machines (json, csv): a number, so that a CSV writes a negative amount as a number, never as
    escaped text."""
    return _money(value, currency) if fmt is Format.table else round_money(Decimal(value), currency)


@payouts_app.command("post")
def post_command(
    period: PeriodOption,
    reason: RequiredReasonOption,
    workspace_path: WorkspaceOption = None,
    policy_path: PolicyOption = None,
    by: ByOption = None,
    reprice: Annotated[
        bool,
        typer.Option(
            "--reprice",
            help="Price closed deals with the plan version in force at their close now (adjustments), "
            "instead of the version they were first priced with.",
        ),
    ] = False,
    recheck: Annotated[
        bool,
        typer.Option("--recheck", help="Price every deal again, even those whose inputs did not change."),
    ] = False,
    now: NowOption = None,
) -> None:
    """Post into PERIOD the earnings, reversals and clawbacks that bring the ledger to what the current
    attribution and plans say for every won deal closed before the period ends. Running it again
    with nothing changed posts nothing."""
    from cosell.service.pay import post

    policy = load_policy(policy_path)
    result = in_workspace(
        workspace_path,
        lambda ws: post(
            ws, policy, period, by_user=by or login_name(), reason=reason, reprice=reprice, recheck=recheck
        ),
    )
    rows = [
        {"kind": k, "entries": n, "amount": _money(result.amounts[k], policy.workspace_currency)}
        for k, n in sorted(result.counts.items())
    ]
    if result.unchanged_since is not None:
        console.print(
            f"nothing changed since posting {result.unchanged_since}: 0 entries posted (nothing to post)",
            highlight=False,
        )
        return
    emit_rows(rows, ("kind", "entries", "amount"), Format.table, title=f"Posted into {period}")
    console.print(
        f"{counted(result.deals_eligible, 'won deal')} closed before the period ends; "
        f"{result.deals_priced:,} priced (inputs changed), {result.deals_reversed:,} no longer qualifying; "
        f"{counted(result.entries, 'entry')} posted"
        + (f" (posting {result.posting_id})" if result.posting_id is not None else " (nothing to post)"),
        highlight=False,
    )
    for count, words in (
        (result.unattributed, "without an attribution version"),
        (result.no_plan, "closed when no plan was in force"),
    ):
        if count:
            verb = "was" if count == 1 else "were"
            console.print(f"note: {counted(count, 'won deal')} {words} {verb} not priced", highlight=False)


@payouts_app.command("run")
def run_command(
    period: PeriodOption,
    reason: RequiredReasonOption,
    workspace_path: WorkspaceOption = None,
    policy_path: PolicyOption = None,
    by: ByOption = None,
    now: NowOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Propose a payout run for PERIOD: each party's positive balance of the periods up to it is paid;
    a negative balance is blocked (carried until recovered). Approve it with `cosell payouts approve`."""
    from cosell.service.pay import propose

    policy = load_policy(policy_path)
    proposed = in_workspace(
        workspace_path, lambda ws: propose(ws, policy, period, by_user=by or login_name(), reason=reason)
    )
    run, parties = proposed.run, proposed.parties
    rows = _party_rows(parties, proposed.names, run.currency, fmt)
    if fmt is not Format.table:
        emit_rows(rows, _PARTY_COLUMNS, fmt)
        return
    _print_parties(rows, f"Payout run {run.run_id}")
    recovered = sum((p.recovered for p in parties), Decimal(0))
    console.print(
        f"run {run.run_id} proposed for {period}: pays {run.parties_paid:,} part(ies) {_money(run.total, run.currency)} "
        f"{run.currency}; {run.parties_blocked:,} blocked ({_money(run.blocked_total, run.currency)} carried)"
        + (f"; {_money(recovered, run.currency)} recovered from carried balances" if recovered else "")
        + f". Approve: cosell payouts approve {run.run_id} --by FINANCE_USER",
        highlight=False,
    )


def _why(reason: str | None) -> str:
    """A recorded reason as it follows who did what (none recorded before reasons were required)."""
    return f' ("{reason}")' if reason else ""


_PARTY_COLUMNS = ("party_kind", "party_id", "name", "balance", "recovered", "pay", "status")


def _party_rows(
    parties: list[Any], names: dict[tuple[str, str], str], currency: str, fmt: Format
) -> list[dict[str, Any]]:
    """One row per party of a run: its balance, what it recovered of a carried balance, what it is paid."""
    return [
        {"party_kind": p.party_kind, "party_id": p.party_id, "name": names.get((p.party_kind, p.party_id), ""),
         "balance": _amount(p.balance, currency, fmt), "recovered": _amount(p.recovered, currency, fmt),
         "pay": _amount(p.pay, currency, fmt), "status": p.status}
        for p in parties
    ]  # fmt: skip


def _print_parties(rows: list[dict[str, Any]], title: str) -> None:
    """The parties as a table fitted to the terminal (an id or an amount is never cut: the name
    wraps, else each party is a block of lines); a blocked party stands out (bold red, status
    BLOCKED)."""
    blocked = [r["status"] == "blocked" for r in rows]
    shown = [{**r, "status": "BLOCKED" if b else r["status"]} for r, b in zip(rows, blocked, strict=True)]
    columns = [
        TableColumn(c, justify="right" if c in ("balance", "recovered", "pay") else None)
        for c in _PARTY_COLUMNS
    ]
    print_table(console, columns, shown, title=title, row_styles=["bold red" if b else "" for b in blocked])


@payouts_app.command("show")
def show_command(
    run_id: Annotated[str, id_argument("The payout run, e.g. PR-000001.")],
    workspace_path: WorkspaceOption = None,
    fmt: FormatOption = Format.table,
    by: ReaderOption = None,
) -> None:
    """A payout run: its period and status, who proposed and approved it, each party with its balance,
    what its earnings recovered of a carried negative balance and what it is paid, and the blocked
    parties (a negative balance carried until recovered)."""
    from cosell.service.pay import payout_run

    found = in_workspace(workspace_path, lambda ws: payout_run(ws, run_id, viewer=by), read_only=True)
    run, parties = found.run, found.parties
    rows = _party_rows(parties, found.names, run.currency, fmt)
    blocked = [r for r in rows if r["status"] == "blocked"]
    recovered = sum((p.recovered for p in parties), Decimal(0))
    if fmt is Format.csv:
        emit_rows([{"run_id": run.run_id, **r} for r in rows], ("run_id", *_PARTY_COLUMNS), fmt)
        return
    if fmt is Format.json:
        data = {
            "run_id": run.run_id, "period": run.period, "status": run.status,
            "proposed_at": format_instant(run.proposed_at), "proposed_by": run.by_user,
            "approved_at": json_instant(run.approved_at),
            "approved_by": run.approved_by, "reason": run.reason, "approval_reason": run.approval_reason,
            "currency": run.currency,
            "parties_paid": run.parties_paid, "total": _amount(run.total, run.currency, fmt),
            "parties_blocked": run.parties_blocked,
            "blocked_total": _amount(run.blocked_total, run.currency, fmt),
            "recovered_total": _amount(recovered, run.currency, fmt), "parties": rows,
            "blocked": [{k: r[k] for k in ("party_kind", "party_id", "name", "balance")} for r in blocked],
        }  # fmt: skip
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
        return
    proposed = f"proposed {format_instant(run.proposed_at)} by {run.by_user}" + _why(run.reason)
    if run.approved_at is not None:
        state = (
            f"approved {format_instant(run.approved_at)} by {run.approved_by}{_why(run.approval_reason)} "
            f"({proposed})"
        )
    elif run.status == "superseded":
        state = f"superseded: its period was paid by another run ({proposed})"
    else:
        state = f"{proposed}, not approved yet"
    console.message(
        f"Payout run {run.run_id} for {run.period}: {state}. "
        f"Pays {run.parties_paid:,} part(ies) {_money(run.total, run.currency)} {run.currency}; "
        f"{run.parties_blocked:,} blocked, {_money(run.blocked_total, run.currency)} {run.currency} carried; "
        f"{_money(recovered, run.currency)} {run.currency} recovered from carried balances.",
        highlight=False,
    )
    _print_parties(rows, f"Payout run {run.run_id}")
    for r in blocked:
        who = f"{r['party_kind']} {r['party_id']}" + (f" ({r['name']})" if r["name"] else "")
        console.message(
            f"BLOCKED: {who}: balance {r['balance']} {run.currency} carried until later earnings recover it.",
            style="bold red",
            highlight=False,
        )


@payouts_app.command("approve")
def approve_command(
    run_id: Annotated[str, id_argument("The payout run, e.g. PR-000001.")],
    by: Annotated[
        str,
        by_option("The approving finance user."),
    ],
    reason: RequiredReasonOption,
    workspace_path: WorkspaceOption = None,
    policy_path: PolicyOption = None,
    now: NowOption = None,
) -> None:
    """Approve a proposed payout run (a user with role finance only): posts its payments and closes
    its period and every earlier one."""
    from cosell.service.pay import approve

    policy = load_policy(policy_path)
    ws = workspace(workspace_path, create=False)
    try:
        run, payments = approve(ws, policy, run_id, by_user=by, reason=reason)
    finally:
        ws.close()
    console.print(
        f"run {run.run_id} approved by {run.approved_by}: {counted(payments, 'payment')}, {_money(run.total, run.currency)} "
        f"{run.currency}; periods up to {run.period} are closed",
        highlight=False,
    )


@payouts_app.command("list")
def list_command(
    workspace_path: WorkspaceOption = None, fmt: FormatOption = Format.table, by: ReaderOption = None
) -> None:
    """Every payout run: period, status, what it pays and what is blocked."""
    from cosell.service.pay import payout_runs

    runs = in_workspace(workspace_path, lambda ws: payout_runs(ws, viewer=by), read_only=True)
    rows = [
        {
            "run_id": r.run_id, "period": r.period, "status": r.status,
            "proposed_at": format_instant(r.proposed_at), "proposed_by": r.by_user,
            "approved_at": format_optional(r.approved_at), "approved_by": r.approved_by or "",
            "reason": r.reason, "approval_reason": r.approval_reason or "",
            "parties_paid": r.parties_paid, "total": _amount(r.total, r.currency, fmt),
            "parties_blocked": r.parties_blocked, "blocked_total": _amount(r.blocked_total, r.currency, fmt),
            "currency": r.currency,
        }
        for r in runs
    ]  # fmt: skip
    columns = (
        "run_id", "period", "status", "proposed_at", "proposed_by", "approved_at", "approved_by",
        "parties_paid", "total", "parties_blocked", "blocked_total", "currency", "reason", "approval_reason",
    )  # fmt: skip
    emit_rows(
        rows,
        columns,
        fmt,
        title="Payout runs",
        optional=("proposed_at", "proposed_by", "approved_by", "reason", "approval_reason"),
    )


def _party(partner: str | None, rep: str | None, required: bool) -> tuple[str, str] | None:
    if partner and rep:
        raise UsageError("give --partner or --rep, not both")
    if partner:
        return ("partner", partner)
    if rep:
        return ("rep", rep)
    if required:
        raise UsageError("give --partner PARTNER_ID or --rep USER_ID")
    return None


PartnerOption = Annotated[
    str | None, typer.Option("--partner", help="A partner id.", show_default=False, callback=a_value)
]
RepOption = Annotated[
    str | None, typer.Option("--rep", help="A rep's user id.", show_default=False, callback=a_value)
]

_LEDGER_COLUMNS = (
    "entry_id", "posted_at", "recorded_at", "period", "party_kind", "party_id", "opportunity_id", "kind", "rule_id",
    "plan_version", "attribution_run_id", "amount", "currency", "reverses", "payout_run_id", "by_user",
    "basis", "reason",
)  # fmt: skip


# What a terminal too narrow for the whole ledger leaves out first (the last first): who posted it,
# the references behind the amount, its instants; entry, period, party, deal, kind, amount and why stay.
_LEDGER_DETAIL = (
    "posted_at", "recorded_at", "rule_id", "plan_version", "attribution_run_id", "reverses", "payout_run_id",
    "by_user", "basis",
)  # fmt: skip


@payouts_app.command("ledger")
def ledger_command(
    workspace_path: WorkspaceOption = None,
    partner: PartnerOption = None,
    rep: RepOption = None,
    deal: Annotated[
        str | None, typer.Option("--deal", help="An opportunity id.", show_default=False, callback=a_value)
    ] = None,
    period: Annotated[
        str | None, typer.Option("--period", help="Only this month.", show_default=False, callback=a_period)
    ] = None,
    fmt: FormatOption = Format.table,
    by: ReaderOption = None,
) -> None:
    """Ledger entries in order, filtered by party, deal or period. A partner user or a rep (--by)
    reads only its own party's entries."""
    from cosell.service.pay import ledger

    party = _party(partner, rep, required=False)
    entries = in_workspace(
        workspace_path,
        lambda ws: ledger(ws, party=party, opportunity_id=deal, period=period, viewer=by),
        read_only=True,
    )
    rows = []
    for e in entries:
        row = {c: getattr(e, c) for c in _LEDGER_COLUMNS}
        row["posted_at"] = format_instant(e.posted_at)
        row["recorded_at"] = format_instant(e.recorded_at)
        row["amount"] = _amount(e.amount, e.currency, fmt)
        rows.append(row)
    emit_rows(rows, _LEDGER_COLUMNS, fmt, title="Ledger", optional=_LEDGER_DETAIL)


@payouts_app.command("statement")
def statement_command(
    period: PeriodOption,
    workspace_path: WorkspaceOption = None,
    policy_path: PolicyOption = None,
    partner: PartnerOption = None,
    rep: RepOption = None,
    fmt: ReportFormatOption = ReportFormat.table,
    out: OutOption = None,
    by: ReaderOption = None,
) -> None:
    """A partner's or a rep's statement for PERIOD: opening balance, every entry (deal, rule, plan
    version, attribution version, reason), payments, closing balance. Written like a report: xlsx,
    html and pdf go to --out, else ./cosell-statement-<party>-<period>.<ext>. A partner user or a rep
    (--by) reads only its own."""
    from cosell.service.pay import party_statement

    party_kind, party_id = _party(partner, rep, required=True) or ("", "")
    policy = load_policy(policy_path)
    report = in_workspace(
        workspace_path,
        lambda ws: party_statement(ws, policy, party_kind, party_id, period, viewer=by),
        read_only=True,
    )
    emit(report, fmt, out, name=("statement", party_id, period))
