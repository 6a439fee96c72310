"""``cosell registrations submit|approve|reject|extend|expire|list|show``: deal registrations
(docs/referrals.md). Thin: parse, call the use case (:mod:`cosell.service.registrations`), print."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cosell.cli.common import (
    ChangeReasonOption,
    Format,
    FormatOption,
    NowOption,
    PolicyOption,
    RequiredReasonOption,
    ShowFormat,
    ShowFormatOption,
    ViewerOption,
    WorkspaceOption,
    a_value,
    console,
    emit_rows,
    id_argument,
    in_workspace,
    labelled,
    login_name,
    parse_instant_option,
    print_json,
    say,
)
from cosell.cli.referral_common import ByOption, OverrideOption, conflict_lines
from cosell.instants import format_instant
from cosell.policy import load_policy
from cosell.report_model import counted

registrations_app = typer.Typer(
    help="Deal registrations: submit, approve or reject, extend once, expire, list.", no_args_is_help=True
)
IdArgument = Annotated[str, id_argument("The registration id.")]
LIST_COLUMNS = ("registration_id", "partner_id", "account_id", "status", "registered", "until", "conflicts")


def register(app: typer.Typer) -> None:
    """Add ``cosell registrations``."""
    app.add_typer(registrations_app, name="registrations")


def _row(r: Any) -> dict[str, Any]:
    return {
        "registration_id": r.row.registration_id,
        "partner_id": r.row.partner_id,
        "account_id": r.row.account_id,
        "status": r.row.status,
        "registered": format_instant(r.row.registered_at)[:10],
        "until": "" if r.row.status == "rejected" else format_instant(r.expiry)[:10],
        "conflicts": len(r.conflicts) if r.checked else None,  # blank: never checked (from the CRM)
    }


def _say(r: Any, what: str) -> None:
    row = r.row
    until = "" if row.status == "rejected" else f", protected until {format_instant(r.expiry)}"
    flagged = (
        f"; {counted(len(r.conflicts), 'channel conflict')}: see cosell registrations show {row.registration_id}"
        if r.conflicts
        else ""
    )
    console.message(
        f"{row.registration_id} {what}: {row.partner_id} on {row.account_id}, {row.status}{until}{flagged}",
        highlight=False,
    )


@registrations_app.command("submit")
def submit_command(
    account: Annotated[
        str, typer.Option("--account", help="The account registered.", show_default=False, callback=a_value)
    ],
    partner: Annotated[
        str | None,
        typer.Option(
            "--partner", help="The registering partner (a partner user: its own).", show_default=False
        ),
    ] = None,
    registered_at: Annotated[
        str | None,
        typer.Option(
            "--registered-at",
            help="When the partner registered (ISO 8601; default now, never later).",
            show_default=False,
        ),
    ] = None,
    opportunity: Annotated[
        str | None, typer.Option("--opportunity", help="The deal it registers, if known.", show_default=False)
    ] = None,
    workspace_path: WorkspaceOption = None,
    by: ByOption = None,
    reason: ChangeReasonOption = "",
    policy_path: PolicyOption = None,
    now: NowOption = None,
) -> None:
    """Register an account for a partner (pending). Channel conflicts at the registration instant
    are recorded with their evidence."""
    from cosell.service.registrations import submit

    del now  # --now pinned the clock
    policy = load_policy(policy_path)
    at = parse_instant_option(registered_at, "--registered-at")
    done = in_workspace(
        workspace_path,
        lambda ws: submit(
            ws,
            policy,
            partner_id=partner,
            account_id=account,
            by=by or login_name(),
            reason=reason,
            registered_at=at,
            opportunity_id=opportunity or "",
        ),
    )
    _say(done, "submitted")


@registrations_app.command("approve")
def approve_command(
    registration_id: IdArgument,
    override_conflict: OverrideOption = False,
    workspace_path: WorkspaceOption = None,
    by: ByOption = None,
    reason: ChangeReasonOption = "",
    policy_path: PolicyOption = None,
    now: NowOption = None,
) -> None:
    """Approve a pending registration (partner_ops): protected until registered_at + the protection window."""
    from cosell.service.registrations import approve

    del now  # --now pinned the clock
    policy = load_policy(policy_path)
    done = in_workspace(
        workspace_path,
        lambda ws: approve(
            ws,
            policy,
            registration_id,
            by=by or login_name(),
            reason=reason,
            override_conflict=override_conflict,
        ),
    )
    _say(done, "approved" + (" (conflict overridden)" if override_conflict else ""))


@registrations_app.command("reject")
def reject_command(
    registration_id: IdArgument,
    reason: RequiredReasonOption,
    workspace_path: WorkspaceOption = None,
    by: ByOption = None,
    policy_path: PolicyOption = None,
    now: NowOption = None,
) -> None:
    """Reject a pending registration (partner_ops), with the reason."""
    from cosell.service.registrations import reject

    del now  # --now pinned the clock
    done = in_workspace(
        workspace_path,
        lambda ws: reject(
            ws, load_policy(policy_path), registration_id, by=by or login_name(), reason=reason
        ),
    )
    _say(done, "rejected")


@registrations_app.command("extend")
def extend_command(
    registration_id: IdArgument,
    reason: RequiredReasonOption,
    workspace_path: WorkspaceOption = None,
    by: ByOption = None,
    policy_path: PolicyOption = None,
    now: NowOption = None,
) -> None:
    """Extend an approved registration once, by 30 days (partner_ops)."""
    from cosell.service.registrations import extend

    del now  # --now pinned the clock
    done = in_workspace(
        workspace_path,
        lambda ws: extend(
            ws, load_policy(policy_path), registration_id, by=by or login_name(), reason=reason
        ),
    )
    _say(done, "extended")


@registrations_app.command("expire")
def expire_command(
    reason: RequiredReasonOption,
    workspace_path: WorkspaceOption = None,
    by: ByOption = None,
    policy_path: PolicyOption = None,
    now: NowOption = None,
) -> None:
    """Expire every pending or approved registration whose protection has ended (as of now)."""
    from cosell.service.registrations import expire

    del now  # --now pinned the clock
    done = in_workspace(
        workspace_path, lambda ws: expire(ws, load_policy(policy_path), by=by or login_name(), reason=reason)
    )
    for r in done:
        _say(r, "expired")
    console.print(f"{counted(len(done), 'registration')} expired", highlight=False)


@registrations_app.command("list")
def list_command(
    workspace_path: WorkspaceOption = None,
    status: Annotated[
        str | None,
        typer.Option("--status", help="pending, approved, rejected or expired.", show_default=False),
    ] = None,
    partner: Annotated[
        str | None, typer.Option("--partner", help="One partner's.", show_default=False)
    ] = None,
    policy_path: PolicyOption = None,
    fmt: FormatOption = Format.table,
    by: ViewerOption = None,
) -> None:
    """Every registration as it stands: partner, account, status, registered, protected until, and
    the channel conflicts recorded at its last check (a partner user sees only its own partner's)."""
    from cosell.service.registrations import registrations

    found = in_workspace(
        workspace_path,
        lambda ws: registrations(ws, load_policy(policy_path), status=status, partner_id=partner, viewer=by),
        read_only=True,
    )
    if fmt is Format.json:
        print_json([r.to_json() for r in found])
        return
    emit_rows([_row(r) for r in found], LIST_COLUMNS, fmt, title=f"Registrations ({len(found):,})",
              optional=("until", "registered"))  # fmt: skip


@registrations_app.command("show")
def show_command(
    registration_id: IdArgument,
    workspace_path: WorkspaceOption = None,
    policy_path: PolicyOption = None,
    fmt: ShowFormatOption = ShowFormat.table,
    by: ViewerOption = None,
) -> None:
    """One registration: its dates, the conflicts with their evidence, every change with who, when, why."""
    from cosell.service.registrations import registration

    r = in_workspace(
        workspace_path,
        lambda ws: registration(ws, load_policy(policy_path), registration_id, viewer=by),
        read_only=True,
    )
    if fmt is ShowFormat.json:
        print_json(r.to_json())
        return
    row = r.row
    approved = f", approved {format_instant(row.approved_at)}" if row.approved_at else ""
    lines = [
        *labelled("registration", f"{row.registration_id}: {row.status}"),
        *labelled("partner", row.partner_id),
        *labelled("account", row.account_id + (f", deal {row.opportunity_id}" if row.opportunity_id else "")),
        *labelled("registered", format_instant(row.registered_at) + approved),
        *labelled(
            "protected",
            f"until {format_instant(r.expiry)}" + ("" if row.expires_at else " (registered + window)"),
        ),
        *labelled("changed", f"{format_instant(r.changed_at)} by {r.changed_by}: {r.change}"),
        f"conflicts    {len(r.conflicts) or 'none'}"
        if r.checked
        else "conflicts    not checked (from the CRM import)",
    ]
    lines += conflict_lines(r.conflicts)
    lines.append("history" if r.events else "history      (none recorded here: from the CRM import)")
    for e in r.events:
        extra = " (conflict overridden)" if e.overridden else ""
        lines += labelled(
            f"  {e.action}", f"by {e.by_user} at {format_instant(e.recorded_at)}{extra}: {e.reason}"
        )
    say("\n".join(lines))
