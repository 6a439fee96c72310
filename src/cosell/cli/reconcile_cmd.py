"""``cosell reconcile``, ``cosell findings``, ``cosell dispute`` and ``cosell history``.

Thin: parse, call the use case (:mod:`cosell.service.reconcile`, :mod:`cosell.service.disputes`,
:mod:`cosell.service.attribution`), print.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import typer

from cosell.cells import write_csv
from cosell.cli.common import (
    AsOfOption,
    Format,
    FormatOption,
    KnownAtOption,
    NowOption,
    PolicyOption,
    RequiredReasonOption,
    RunByOption,
    ShowFormat,
    ShowFormatOption,
    ViewerOption,
    WorkspaceOption,
    a_period,
    a_value,
    by_option,
    console,
    emit_rows,
    id_argument,
    in_workspace,
    labelled,
    login_name,
    opportunity_argument,
    print_json,
    reading,
    reason_option,
    say,
)
from cosell.errors import UsageError
from cosell.instants import format_instant, format_optional
from cosell.money import format_money
from cosell.policy import load_policy
from cosell.report_model import counted
from cosell.terminal import print_table

ByOption = Annotated[
    str | None,
    by_option("Who decides or opens (a user id)."),
]
# A reconciliation is a batch command: it is its own why (cosell.reasons.given_or_ran).
RunReasonOption = Annotated[str, reason_option("Why (recorded; default: the command run).")]
# The findings a decision applies to (``findings accept`` and ``findings reject``): named, or by kind.
FindingIdsArgument = Annotated[list[str] | None, typer.Argument(help="Finding ids.", show_default=False)]
AllOfKindOption = Annotated[
    str | None, typer.Option("--all-of-kind", help="Every open finding of this kind.", show_default=False)
]
FINDING_COLUMNS = (
    "finding_id",
    "kind",
    "closed",
    "declared",
    "computed",
    "at_stake",
    "status",
    "suggested_fix",
)

# The table says who decided a dispute, when and why (a rejection makes no attribution version, so
# `cosell history` does not show it).
DISPUTE_COLUMNS = ("dispute_id", "opportunity_id", "opened_by", "opened_at", "reason", "claim_tier",
                   "claim_partner_id", "disputed_tier", "disputed_partner_id", "status", "decided_by",
                   "decided_at", "decision_reason")  # fmt: skip
DISPUTE_KEYS = (
    *DISPUTE_COLUMNS,
    "disputed_run_id",
    "override_id",
    "new_run_id",
)

findings_app = typer.Typer(help="Reconciliation findings: list, show, accept, reject.", no_args_is_help=True)
dispute_app = typer.Typer(help="Disputes of a deal's attribution: open, decide, list.", no_args_is_help=True)
overrides_app = typer.Typer(
    help="Overrides of accepted fixes and disputes: list them, withdraw one.", no_args_is_help=True
)
# Who recorded each override and why is in `cosell history` (its run); the table names who withdrew one.
OVERRIDE_COLUMNS = ("override_id", "opportunity_id", "tier", "partner_id", "status", "recorded_at",
                    "source", "withdrawn_at", "withdrawn_by", "withdrawn_reason")  # fmt: skip
OVERRIDE_KEYS = (*OVERRIDE_COLUMNS[:6], "by_user", "reason", *OVERRIDE_COLUMNS[6:])


def register(app: typer.Typer) -> None:
    """Add ``reconcile``, ``findings``, ``dispute``, ``overrides`` and ``history``."""
    app.command("reconcile")(reconcile_command)
    app.add_typer(findings_app, name="findings")
    app.add_typer(dispute_app, name="dispute")
    app.add_typer(overrides_app, name="overrides")
    app.command("history")(history_command)


def _finding_rows(findings: Any) -> list[dict[str, Any]]:
    return [
        {
            "finding_id": f.finding_id,
            "kind": f.kind,
            "opportunity_id": f.opportunity_id,
            "closed": format_optional(f.closed_at)[:10],
            "declared": f.declared,
            "computed": f.computed,
            "at_stake": "" if f.at_stake is None else f"{f.at_stake:,} {f.at_stake_currency}",
            "suggested_fix": f.suggested_fix,
            "status": f.status,
        }
        for f in findings
    ]


def _findings_csv(findings: Any) -> None:
    rows = []
    for f in findings:
        row = f.to_json()
        # Money as numbers, not the JSON's decimal strings: a CSV escapes text, never a number.
        row["amount"], row["at_stake"] = f.amount, f.at_stake
        rows.append(row)
    columns = list(rows[0]) if rows else ["finding_id"]
    lines = [[" ".join(r[c]) if isinstance(r[c], list) else r[c] for c in columns] for r in rows]
    typer.echo(write_csv([columns, *lines]), nl=False)


def reconcile_command(
    workspace_path: WorkspaceOption = None,
    period: Annotated[
        str | None,
        typer.Option(
            "--period",
            "-p",
            help="A month (2026-10), a fiscal quarter (2026-Q3) or 'all'. Default: the last complete month.",
            show_default=False,
            callback=a_period,
        ),
    ] = None,
    as_of: AsOfOption = None,
    known_at: KnownAtOption = None,
    now: NowOption = None,
    fmt: FormatOption = Format.table,
    policy_path: PolicyOption = None,
    by_user: RunByOption = None,
    reason: RunReasonOption = "",
) -> None:
    """Cross-check the period's closed-won deals against the computed attribution, partner activity,
    registrations and account overlap; list every finding with evidence, declared and computed
    values, the money at stake and a suggested fix. New findings are recorded (never twice).

    The reconciliation is recorded with who ran it (--by), when and why (--reason, else the command).

    --known-at K reads the rows, attribution versions, declarations and decisions recorded by K (the
    same output after any later change); --as-of T checks the deals closed by T against the
    attribution evaluated as of T (stored by `cosell attribute --as-of T`). See docs/as-of.md."""
    from cosell.hygiene.reconcile import print_summary
    from cosell.service.reconcile import reconcile_period
    from cosell.service.users import runner

    del now  # --now pinned the clock (cosell.cli.common.NowOption)
    policy = load_policy(policy_path)
    at = reading(as_of, known_at)
    result = in_workspace(
        workspace_path,
        lambda ws: reconcile_period(
            ws, policy, period, at, by_user=runner(ws, by_user, login_name()), reason=reason
        ),
    )
    if fmt is Format.json:
        print_json(result.to_json())
        return
    if fmt is Format.csv:
        _findings_csv(result.findings)
        return
    console.print(
        f"Reconciliation of {result.period} as of {format_instant(result.as_of)}: {result.deals_checked:,} "
        f"closed-won deals checked against attribution run {result.attribution_run_id}"
        + (f" ({result.unattributed:,} never attributed)" if result.unattributed else ""),
        highlight=False,
    )
    console.print(at.line(), highlight=False)
    if not result.findings:
        console.print("No findings.")
        return
    print_table(console, FINDING_COLUMNS, _finding_rows(result.findings))
    print_summary(console, result)


@findings_app.command("list")
def findings_list(
    workspace_path: WorkspaceOption = None,
    status: Annotated[
        str | None, typer.Option("--status", help="open, accepted or rejected.", show_default=False)
    ] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help="Only this kind.", show_default=False, callback=a_value)
    ] = None,
    fmt: FormatOption = Format.table,
    by: ViewerOption = None,
) -> None:
    """Every recorded finding with its status now."""
    from cosell.service.reconcile import check_status, findings

    check_status(status)
    found = in_workspace(
        workspace_path, lambda ws: findings(ws, status=status, kind=kind, viewer=by), read_only=True
    )
    if fmt is Format.json:
        print_json([f.to_json() for f in found])
    elif fmt is Format.csv:
        _findings_csv(found)
    else:
        print_table(console, FINDING_COLUMNS, _finding_rows(found))
        console.print(counted(len(found), "finding"), highlight=False)


@findings_app.command("show")
def findings_show(
    finding_id: Annotated[str, id_argument("The finding id.")],
    workspace_path: WorkspaceOption = None,
    fmt: ShowFormatOption = ShowFormat.table,
) -> None:
    """One finding: declared and computed values, evidence with dates, money at stake, fix, decision."""
    from cosell.service.reconcile import finding

    f = in_workspace(workspace_path, lambda ws: finding(ws, finding_id), read_only=True)
    if fmt is ShowFormat.json:
        print_json(f.to_json())
        return
    lines = [
        f"finding      {f.finding_id} ({f.kind})",
        f"opportunity  {f.opportunity_id}, closed {format_optional(f.closed_at)}",
        f"declared     {f.declared}",
        f"computed     {f.computed} (attribution run {f.run_id})",
        f"at stake     {f.at_stake} {f.at_stake_currency} (deal amount {f.amount} {f.currency})",
        # The fix and the reviewer's reason are free text: wrapped at 80 columns like every reason shown.
        *labelled("suggested", f.suggested_fix),
        f"detected     {format_optional(f.detected_at)}",
        *labelled(
            "status",
            f.status
            + (
                f" by {f.decided_by} at {format_optional(f.decided_at)}: {f.decision_reason}"
                if f.decided_by
                else ""
            ),
        ),
        "evidence",
        *(f"  {item}" for item in f.evidence),
    ]
    say("\n".join(lines))


@findings_app.command("accept")
def findings_accept(
    finding_ids: FindingIdsArgument = None,
    workspace_path: WorkspaceOption = None,
    all_of_kind: AllOfKindOption = None,
    by_user: ByOption = None,
    reason: RequiredReasonOption = "",
    tier: Annotated[
        str | None,
        typer.Option("--tier", help="Override tier instead of the suggested fix.", show_default=False),
    ] = None,
    partner: Annotated[
        str | None, typer.Option("--partner", help="Override partner.", show_default=False)
    ] = None,
    policy_path: PolicyOption = None,
    now: NowOption = None,
) -> None:
    """Accept findings (one transaction): record the override, a new attribution version, a pay change."""
    del now  # --now pinned the clock (cosell.cli.common.NowOption)
    from cosell.service.reconcile import accept, require_user

    if partner is not None and tier is None:
        raise UsageError("--partner goes with --tier")
    policy = load_policy(policy_path)
    result = in_workspace(
        workspace_path,
        lambda ws: accept(
            ws,
            policy,
            finding_ids,
            by_user=by_user,
            reason=reason,
            all_of_kind=all_of_kind,
            tier=tier,
            partner_id=partner,
        ),
    )
    for d in result.decisions:
        fix = (
            f"override {d.override_id} ({d.tier}{'/' + d.partner_id if d.partner_id else ''}), run {d.run_id}"
        )
        say(f"{d.finding_id} accepted: {fix if d.override_id else 'decision recorded (CRM fix)'}")
    say(f"{counted(len(result.decisions), 'finding')} accepted by {require_user(by_user)}")


@findings_app.command("reject")
def findings_reject(
    finding_ids: FindingIdsArgument = None,
    workspace_path: WorkspaceOption = None,
    all_of_kind: AllOfKindOption = None,
    by_user: ByOption = None,
    reason: RequiredReasonOption = "",
    now: NowOption = None,
) -> None:
    """Reject findings (the reviewer disagrees); the attribution does not change."""
    del now  # --now pinned the clock (cosell.cli.common.NowOption)
    from cosell.service.reconcile import reject, require_user

    decisions = in_workspace(
        workspace_path,
        lambda ws: reject(ws, finding_ids, by_user=by_user, reason=reason, all_of_kind=all_of_kind),
    )
    say(f"{counted(len(decisions), 'finding')} rejected by {require_user(by_user)}")


@dispute_app.command("open")
def dispute_open(
    opportunity_id: Annotated[str, opportunity_argument("The disputed opportunity.")],
    workspace_path: WorkspaceOption = None,
    by_user: ByOption = None,
    reason: RequiredReasonOption = "",
    claim: Annotated[
        str | None,
        typer.Option("--claim", help="The attribution claimed: TIER/PARTNER (or none).", show_default=False),
    ] = None,
    now: NowOption = None,
) -> None:
    """Open a dispute of a deal's attribution (a rep, or a partner user on its own deals)."""
    del now  # --now pinned the clock (cosell.cli.common.NowOption)
    from cosell.service.disputes import open_on

    d = in_workspace(
        workspace_path, lambda ws: open_on(ws, opportunity_id, by_user=by_user, reason=reason, claim=claim)
    )
    say(
        f"dispute {d.dispute_id} opened on {d.opportunity_id} (now {d.tier or 'not attributed'}"
        f"{'/' + d.partner_id if d.partner_id else ''}; claim {d.claim or 'none given'})"
    )


@dispute_app.command("decide")
def dispute_decide(
    dispute_id: Annotated[str, id_argument("The dispute id.")],
    accept: Annotated[
        bool, typer.Option("--accept", help="Accept (an override).", show_default=False)
    ] = False,
    reject: Annotated[bool, typer.Option("--reject", help="Reject (no change).", show_default=False)] = False,
    workspace_path: WorkspaceOption = None,
    by_user: ByOption = None,
    reason: RequiredReasonOption = "",
    tier: Annotated[str | None, typer.Option("--tier", help="Override tier (default: the claim).")] = None,
    partner: Annotated[str | None, typer.Option("--partner", help="Override partner.")] = None,
    policy_path: PolicyOption = None,
    now: NowOption = None,
) -> None:
    """Decide a dispute (partner_ops or partner_manager): accept records an override."""
    del now  # --now pinned the clock (cosell.cli.common.NowOption)
    from cosell.service.disputes import decide

    if accept == reject:
        # Both given used to let the last flag win silently: a reviewer's decision is never guessed.
        raise UsageError("say --accept or --reject" + (", not both" if accept else ""))
    if reject and (tier is not None or partner is not None):
        raise UsageError(
            "--tier and --partner set the override of an accepted dispute: --reject takes neither"
        )
    policy = load_policy(policy_path)
    d = in_workspace(
        workspace_path,
        lambda ws: decide(
            ws,
            policy,
            dispute_id,
            accept=accept,
            by_user=by_user,
            reason=reason,
            tier=tier,
            partner_id=partner,
        ),
    )
    extra = f": override {d.override_id}, run {d.new_run_id}" if d.override_id else ""
    say(f"dispute {d.dispute_id} {d.status} by {d.decided_by}{extra}")


@overrides_app.command("list")
def overrides_list(
    workspace_path: WorkspaceOption = None,
    opportunity_id: Annotated[
        str | None,
        typer.Option("--opportunity", help="One deal's overrides.", show_default=False, callback=a_value),
    ] = None,
    fmt: FormatOption = Format.table,
    by: ViewerOption = None,
) -> None:
    """Every override, in the order recorded: in force (every later run applies it), superseded (a
    newer override of its deal applies instead) or withdrawn (who, when, why)."""
    from cosell.service.reconcile import overrides

    found = in_workspace(workspace_path, lambda ws: overrides(ws, opportunity_id, viewer=by), read_only=True)
    rows = [o.to_json() for o in found]
    emit_rows(
        rows,
        OVERRIDE_COLUMNS if fmt is Format.table else OVERRIDE_KEYS,
        fmt,
        title=f"Overrides ({len(rows):,})",
        optional=("recorded_at", "source", "withdrawn_at", "withdrawn_reason"),
    )


@overrides_app.command("withdraw")
def overrides_withdraw(
    override_id: Annotated[str, id_argument("The override to withdraw (OVR-...).")],
    workspace_path: WorkspaceOption = None,
    by_user: ByOption = None,
    reason: RequiredReasonOption = "",
    policy_path: PolicyOption = None,
    now: NowOption = None,
) -> None:
    """Withdraw an override (partner_ops or partner_manager): its deal is decided again without it,
    a new attribution version, and payouts adjust at the next posting."""
    del now  # --now pinned the clock (cosell.cli.common.NowOption)
    from cosell.service.reconcile import withdraw

    policy = load_policy(policy_path)
    done = in_workspace(
        workspace_path, lambda ws: withdraw(ws, policy, override_id, by_user=by_user, reason=reason)
    )
    o = done.override
    say(
        f"override {o.override_id} withdrawn by {o.withdrawn_by}: {o.opportunity_id} decided again "
        f"without it, run {done.run_id}"
    )


@dispute_app.command("list")
def dispute_list(
    workspace_path: WorkspaceOption = None,
    status: Annotated[str | None, typer.Option("--status", help="open, accepted or rejected.")] = None,
    opportunity_id: Annotated[str | None, typer.Option("--opportunity", help="One deal's disputes.")] = None,
    fmt: FormatOption = Format.table,
    by: ViewerOption = None,
) -> None:
    """Disputes with their status."""
    from cosell.service.disputes import disputes

    found = in_workspace(
        workspace_path,
        lambda ws: disputes(ws, status=status, opportunity_id=opportunity_id, viewer=by),
        read_only=True,
    )
    rows = [d.to_json() for d in found]
    columns = DISPUTE_COLUMNS if fmt is Format.table else DISPUTE_KEYS
    emit_rows(
        rows,
        columns,
        fmt,
        title=f"Disputes ({len(rows):,})",
        optional=("opened_by", "opened_at", "decided_by"),
    )


def history_command(
    opportunity_id: Annotated[str, opportunity_argument("The opportunity.")],
    workspace_path: WorkspaceOption = None,
    fmt: ShowFormatOption = ShowFormat.table,
    by: ViewerOption = None,
) -> None:
    """Every version of a deal's attribution: run, kind, who, when, why, policy, tier, partner, rules, credits."""
    from cosell.service.attribution import deal_history

    entries = in_workspace(
        workspace_path, lambda ws: deal_history(ws, opportunity_id, viewer=by), read_only=True
    )
    if fmt is ShowFormat.json:
        print_json([e.to_json() for e in entries])
        return
    if not entries:
        say(f"{opportunity_id} has no attribution version yet: run `cosell attribute`")
        return
    lines = [f"Attribution history of {opportunity_id}: {counted(len(entries), 'version')}, oldest first"]
    for e in entries:
        lines.append("")
        mark = ", current" if e.current else ""
        lines.append(
            f"run {e.run_id} ({e.kind}, {e.scope}{mark}) at {format_instant(e.run_at)} by {e.by_user}"
        )
        # A reviewer's reason is free text: wrapped at 80 columns like every other reason shown.
        why = f"{e.reason or '(no reason given)'}" + (f" ({e.source})" if e.source else "")
        lines += labelled("  why", why, margin=10)
        lines.append(f"  policy  {e.policy_version}, model {e.model}")
        known = "" if e.known_at is None else f", data known at {format_instant(e.known_at)}"
        lines.append(f"  as of   {format_instant(e.as_of)}{known}")
        partner = f" with {e.primary_partner_id}" if e.primary_partner_id else ""
        lines.append(f"  tier    {e.tier}{partner}; rules {e.rules or '(none)'}")
        for c in e.credits:
            amount = format_money(Decimal(c.amount), c.currency)
            lines.append(f"  credit  {c.partner_id} {c.role} {c.share} {amount}")
    read_now = [e.run_id for e in entries if e.current]
    if read_now and read_now[0] != entries[-1].run_id:
        lines += [
            "",
            f"Run {read_now[0]} is the current version: the runs after it knew less (docs/as-of.md).",
        ]
    say("\n".join(lines))
