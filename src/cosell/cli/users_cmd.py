"""``cosell users`` / ``cosell users list`` and ``cosell users set USER``: the user directory that ``--by`` is checked against."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cosell.cli.common import (
    ChangeReasonOption,
    Format,
    FormatOption,
    NowOption,
    ViewerOption,
    WorkspaceOption,
    by_option,
    console,
    emit_rows,
    in_workspace,
    login_name,
    options_before_subcommand,
    workspace,
)
from cosell.instants import format_instant

users_app = typer.Typer(help="The user directory: who may do what (--by is checked against it).")

COLUMNS = ("user_id", "name", "role", "partner_id", "email", "changed_at", "changed_by", "source", "reason")


def register(app: typer.Typer) -> None:
    """Add ``cosell users``, ``cosell users list`` and ``cosell users set``."""
    app.add_typer(users_app, name="users")


def _row(u: Any) -> dict[str, Any]:
    return {
        "user_id": u.user_id,
        "name": u.name,
        "role": u.role,
        "partner_id": u.partner_id,
        "email": u.email,
        "changed_at": format_instant(u.changed_at),
        "changed_by": u.changed_by,
        "source": u.source,
        "reason": u.reason,
    }


@users_app.callback(invoke_without_command=True)
def users_command(
    ctx: typer.Context, workspace_path: WorkspaceOption = None, fmt: FormatOption = Format.table
) -> None:
    """List the users (as `cosell users list` does)."""
    options_before_subcommand(ctx)
    if ctx.invoked_subcommand is None:
        list_command(workspace_path, fmt)


@users_app.command("list")
def list_command(
    workspace_path: WorkspaceOption = None, fmt: FormatOption = Format.table, by: ViewerOption = None
) -> None:
    """List the users: id, name, role, partner (for partner users), email, and who changed each last,
    when, how (an import or `cosell users set`) and why."""
    from cosell.service.users import users

    found = in_workspace(workspace_path, lambda ws: users(ws, viewer=by), read_only=True)
    if not found and fmt is Format.table:
        console.message(
            "no users: import users.csv with your data, or add one: cosell users set USER_ID --role admin "
            '--name "..." --reason "..."',
            highlight=False,
        )
        return
    emit_rows([_row(u) for u in found], COLUMNS, fmt, title=f"Users ({len(found):,})")


@users_app.command("set")
def set_command(
    user_id: Annotated[
        str, typer.Argument(help="The user's id (as --by will name them).", show_default=False)
    ],
    reason: ChangeReasonOption,
    role: Annotated[
        str | None,
        typer.Option(
            "--role",
            help="ae, sdr, partner_manager, partner_ops, finance, admin or partner.",
            show_default=False,
        ),
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Full name.", show_default=False)] = None,
    email: Annotated[str | None, typer.Option("--email", help="Email address.", show_default=False)] = None,
    partner: Annotated[
        str | None,
        typer.Option("--partner", help="For a partner user: the partner they work for.", show_default=False),
    ] = None,
    by: Annotated[
        str | None,
        by_option("Who makes the change (an admin; recorded)."),
    ] = None,
    workspace_path: WorkspaceOption = None,
    now: NowOption = None,
) -> None:
    """Add a user, or change some of a user's fields (the others are kept). The change is a new
    version of the user, recorded with who, when and why; only an admin may make it once the
    workspace has users."""
    from cosell.service.users import set_user

    who = by or login_name()
    ws = workspace(workspace_path)
    try:
        done = set_user(
            ws, user_id, by_user=who, reason=reason, name=name, email=email, role=role, partner_id=partner
        )
    finally:
        ws.close()
    user = done.user
    partner_text = f" of partner {user.partner_id}" if user.partner_id else ""
    recorded = "recorded" if done.changed else "unchanged, nothing recorded; last changed"
    console.message(
        f"user {user.user_id} ({user.name or 'no name'}): role {user.role}{partner_text}; "
        f"{recorded} by {user.changed_by} at {format_instant(user.changed_at)}",
        highlight=False,
    )
