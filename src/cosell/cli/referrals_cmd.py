"""``cosell referrals submit|list|show|answer|accept|reject``: referral intake (docs/referrals.md).

Thin: parse, call the use case (:mod:`cosell.service.referrals`), print. ``referrals email`` and
``referrals slack`` (the channel parsers, :mod:`cosell.cli.referral_channels_cmd`) are attached to
the same group at the end of this module.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cosell.cli import referral_channels_cmd
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
    console,
    emit_rows,
    id_argument,
    in_workspace,
    login_name,
    print_json,
)
from cosell.cli.referral_common import (
    LIST_COLUMNS,
    LIST_OPTIONAL,
    ByOption,
    OverrideOption,
    list_row,
    print_referral,
)
from cosell.errors import UsageError
from cosell.instants import format_instant
from cosell.policy import load_policy

referrals_app = typer.Typer(
    help="Partner referrals from JSON, email and Slack: submit, list, show, answer what is missing, accept as a lead, reject.",
    no_args_is_help=True,
)


IdArgument = Annotated[str, id_argument("The referral id (REF-000001).")]
MAX_FILE = 1_000_000  # bytes: a referral is a few hundred


def register(app: typer.Typer) -> None:
    """Add ``cosell referrals``, with its channel commands (``email``, ``slack``)."""
    app.add_typer(referrals_app, name="referrals")


def _read_input(file: str) -> tuple[bytes, str]:
    if file == "-":
        return sys.stdin.buffer.read(MAX_FILE + 1)[: MAX_FILE + 1], "-"
    path = Path(file)
    if not path.is_file():
        raise UsageError(f"{file}: no such file")
    if path.stat().st_size > MAX_FILE:
        raise UsageError(f"{file}: larger than {MAX_FILE:,} bytes; a referral is one small JSON object")
    return path.read_bytes(), path.name


@referrals_app.command("submit")
def submit_command(
    file: Annotated[
        str, typer.Argument(help="A JSON referral (docs/referrals.md), or - for stdin.", show_default=False)
    ],
    workspace_path: WorkspaceOption = None,
    by: ByOption = None,
    reason: ChangeReasonOption = "",
    policy_path: PolicyOption = None,
    fmt: ShowFormatOption = ShowFormat.table,
    now: NowOption = None,
) -> None:
    """Submit a referral as JSON: the partner is identified, the prospect's account matched, channel
    conflicts checked; a referral missing fields gets needs_info and a follow-up message. The same
    source_ref again is the same referral (nothing new is recorded)."""
    from cosell.service.referrals import submit_json

    del now  # --now pinned the clock
    data, name = _read_input(file)
    if len(data) > MAX_FILE:
        raise UsageError(f"{name}: larger than {MAX_FILE:,} bytes; a referral is one small JSON object")
    policy = load_policy(policy_path)
    done = in_workspace(
        workspace_path, lambda ws: submit_json(ws, data, name, by or login_name(), reason, policy=policy)
    )
    if fmt is ShowFormat.json:
        print_json({"created": done.created, **done.referral.to_json()})
        return
    v = done.referral.current
    said = "submitted" if done.created else "already submitted (nothing new recorded)"
    console.message(f"{v.referral_id} {said}: {v.status}", highlight=False)
    print_referral(done.referral)


@referrals_app.command("list")
def list_command(
    workspace_path: WorkspaceOption = None,
    status: Annotated[
        str | None,
        typer.Option(
            "--status", help="needs_info, open, conflict, accepted or rejected.", show_default=False
        ),
    ] = None,
    fmt: FormatOption = Format.table,
    by: ViewerOption = None,
) -> None:
    """Every referral as it stands: status, partner, prospect company, account, conflicts, what is
    missing (a partner user sees only its own partner's)."""
    from cosell.service.referrals import referrals

    found = in_workspace(workspace_path, lambda ws: referrals(ws, status, viewer=by), read_only=True)
    if fmt is Format.json:
        print_json([r.to_json() for r in found])
        return
    emit_rows([list_row(r) for r in found], LIST_COLUMNS, fmt, title=f"Referrals ({len(found):,})",
              optional=LIST_OPTIONAL)  # fmt: skip


@referrals_app.command("show")
def show_command(
    referral_id: IdArgument,
    workspace_path: WorkspaceOption = None,
    fmt: ShowFormatOption = ShowFormat.table,
    by: ViewerOption = None,
) -> None:
    """One referral: who sent it and how the partner was identified, the prospect and its account,
    which line gave which field, conflicts with evidence, the follow-up message, every version."""
    from cosell.service.referrals import referral

    found = in_workspace(workspace_path, lambda ws: referral(ws, referral_id, viewer=by), read_only=True)
    if fmt is ShowFormat.json:
        print_json(found.to_json())
        return
    print_referral(found)


@referrals_app.command("answer")
def answer_command(
    referral_id: IdArgument,
    company: Annotated[
        str | None, typer.Option("--company", help="The prospect's company.", show_default=False)
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="The prospect's full name.", show_default=False)
    ] = None,
    email: Annotated[
        str | None, typer.Option("--email", help="The prospect's email.", show_default=False)
    ] = None,
    title: Annotated[
        str | None, typer.Option("--title", help="The prospect's title.", show_default=False)
    ] = None,
    partner: Annotated[
        str | None,
        typer.Option(
            "--partner", help="The referring partner, when no address identified it.", show_default=False
        ),
    ] = None,
    workspace_path: WorkspaceOption = None,
    by: ByOption = None,
    reason: ChangeReasonOption = "",
    policy_path: PolicyOption = None,
    now: NowOption = None,
) -> None:
    """Fill what a referral is missing (or correct it): a new version; complete, it is open (or a
    conflict)."""
    from cosell.service.referrals import answer

    del now  # --now pinned the clock
    policy = load_policy(policy_path)
    done = in_workspace(
        workspace_path,
        lambda ws: answer(
            ws,
            referral_id,
            by=by or login_name(),
            reason=reason,
            company=company,
            name=name,
            email=email,
            title=title,
            partner_id=partner,
            policy=policy,
        ),
    )
    v = done.current
    left = f"; still missing: {', '.join(v.missing)}" if v.missing else ""
    console.message(f"{v.referral_id} answered (version {v.version}): {v.status}{left}", highlight=False)


@referrals_app.command("accept")
def accept_command(
    referral_id: IdArgument,
    override_conflict: OverrideOption = False,
    workspace_path: WorkspaceOption = None,
    by: ByOption = None,
    reason: ChangeReasonOption = "",
    policy_path: PolicyOption = None,
    now: NowOption = None,
) -> None:
    """Accept a complete referral (partner_ops): it becomes a partner lead (lead id = referral id,
    created at its received time), so S1 and the auto-tag apply once a deal names it."""
    from cosell.service.referrals import accept

    del now  # --now pinned the clock
    policy = load_policy(policy_path)
    done = in_workspace(
        workspace_path,
        lambda ws: accept(
            ws, policy, referral_id, by=by or login_name(), reason=reason, override_conflict=override_conflict
        ),
    )
    v = done.current
    console.message(
        f"{v.referral_id} accepted by {v.by_user}: partner lead {v.lead_id} of {v.partner_id}, created "
        f"{format_instant(v.received_at)}"
        + (f" (conflict overridden: {v.override_reason})" if v.override_reason else ""),
        highlight=False,
    )


@referrals_app.command("reject")
def reject_command(
    referral_id: IdArgument,
    reason: RequiredReasonOption,
    workspace_path: WorkspaceOption = None,
    by: ByOption = None,
    now: NowOption = None,
) -> None:
    """Reject a referral (partner_ops), with the reason; it never becomes a lead."""
    from cosell.service.referrals import reject

    del now  # --now pinned the clock
    done = in_workspace(
        workspace_path, lambda ws: reject(ws, referral_id, by=by or login_name(), reason=reason)
    )
    console.print(f"{done.current.referral_id} rejected by {done.current.by_user}", highlight=False)


# The channel parsers' commands, listed after the others on this group: the group has them
# whenever it is loaded, and referral_channels_cmd needs nothing of this module.
referrals_app.command("email")(referral_channels_cmd.email_command)
referrals_app.command("slack")(referral_channels_cmd.slack_command)
