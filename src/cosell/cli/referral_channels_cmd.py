"""``cosell referrals email FILE.eml ...`` and ``cosell referrals slack EXPORT``: referrals from the
files a partner team already has (docs/referrals-email.md, docs/referrals-slack.md).

Thin: read the files, call the use case (:mod:`cosell.service.referral_channels`), print what was
stored: one referral in full (as ``referrals show``), several as a list.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cosell.cli.common import (
    ChangeReasonOption,
    Format,
    NowOption,
    PolicyOption,
    ShowFormat,
    ShowFormatOption,
    WorkspaceOption,
    console,
    emit_rows,
    in_workspace,
    login_name,
    print_json,
)
from cosell.cli.referral_common import LIST_COLUMNS, LIST_OPTIONAL, ByOption, list_row, print_referral
from cosell.errors import UsageError
from cosell.policy import load_policy
from cosell.referrals.email_parse import check_size
from cosell.report_model import counted


def _report(done: list[Any], source: str, fmt: ShowFormat) -> None:
    if fmt is ShowFormat.json:
        print_json([{"created": d.created, **d.referral.to_json()} for d in done])
        return
    new = sum(d.created for d in done)
    console.message(
        f"{counted(len(done), 'referral')} found in {source}: {new:,} new, {len(done) - new:,} already submitted",
        highlight=False,
    )
    if len(done) == 1:
        print_referral(done[0].referral)
    elif done:
        emit_rows([list_row(d.referral) for d in done], LIST_COLUMNS, Format.table, title="Referrals",
                  optional=LIST_OPTIONAL)  # fmt: skip


def _read_emails(files: list[Path]) -> list[tuple[bytes, str]]:
    read = []
    for path in files:
        if not path.is_file():
            raise UsageError(f"{path}: no such file")
        check_size(path.name, path.stat().st_size)  # before reading it: the parser's own limit
        read.append((path.read_bytes(), path.name))
    return read


def email_command(
    files: Annotated[list[Path], typer.Argument(help="One or more .eml files.", show_default=False)],
    workspace_path: WorkspaceOption = None,
    by: ByOption = None,
    reason: ChangeReasonOption = "",
    policy_path: PolicyOption = None,
    fmt: ShowFormatOption = ShowFormat.table,
    now: NowOption = None,
) -> None:
    """Submit the referral in each email (.eml: a forwarded introduction, inline or attached, HTML
    or text, with quoted replies): the partner is identified from the senders, the prospect read
    from the text, each field with the line that gave it. All the files or none are stored."""
    from cosell.service.referral_channels import submit_emails

    del now  # --now pinned the clock
    messages = _read_emails(files)
    policy = load_policy(policy_path)
    done = in_workspace(
        workspace_path, lambda ws: submit_emails(ws, messages, by or login_name(), reason, policy=policy)
    )
    _report(done, ", ".join(p.name for p in files), fmt)


def slack_command(
    export: Annotated[
        Path,
        typer.Argument(
            help="A Slack export (folder or .zip) or one Events API payload (.json).", show_default=False
        ),
    ],
    workspace_path: WorkspaceOption = None,
    by: ByOption = None,
    reason: ChangeReasonOption = "",
    policy_path: PolicyOption = None,
    fmt: ShowFormatOption = ShowFormat.table,
    now: NowOption = None,
) -> None:
    """Submit every referral in a Slack export of partner channels (threads, edits and form posts
    read; chatter and joins ignored) or in one event payload. All of them or none are stored; the
    same export again records nothing new."""
    from cosell.service.referral_channels import slack_referrals, submit_slack

    del now  # --now pinned the clock
    if not export.exists():
        raise UsageError(f"{export}: no such file or folder")
    parsed = slack_referrals(export)
    policy = load_policy(policy_path)
    done = in_workspace(
        workspace_path,
        lambda ws: submit_slack(ws, parsed, export.name, by or login_name(), reason, policy=policy),
    )
    _report(done, export.name, fmt)
