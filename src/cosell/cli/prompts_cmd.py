"""``cosell prompts`` (list) and ``cosell prompts answer ID``: influence prompts of SPEC section 4.

Listing first issues the prompts the current data calls for (idempotent), unless ``--as-of`` or
``--known-at`` asks for a past view, which only reads.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from cosell.cli.common import (
    AsOfOption,
    Format,
    FormatOption,
    KnownAtOption,
    NowOption,
    PolicyOption,
    WorkspaceOption,
    a_value,
    by_option,
    console,
    emit_rows,
    id_argument,
    in_workspace,
    options_before_subcommand,
    print_instants,
    reader_option,
    reading,
    workspace,
)
from cosell.instants import format_instant, format_optional
from cosell.policy import load_policy
from cosell.report_model import counted

prompts_app = typer.Typer(
    help="Influence prompts: a partner joined a deal; its rep declares influenced or accelerated."
)

COLUMNS = (
    "prompt_id",
    "status",
    "opportunity_id",
    "partner_id",
    "rep_id",
    "trigger",
    "trigger_ref",
    "created_at",
    "expires_at",
    "answer_tier",
    "answered_by",
    "answered_at",
)


class StatusFilter(StrEnum):
    open = "open"
    answered = "answered"
    superseded = "superseded"
    expired = "expired"
    all = "all"


class Tier(StrEnum):
    influenced = "influenced"
    accelerated = "accelerated"


def register(app: typer.Typer) -> None:
    """Add ``cosell prompts`` and ``cosell prompts answer``."""
    app.add_typer(prompts_app, name="prompts")


def _row(p: Any) -> dict[str, Any]:
    return {
        "prompt_id": p.prompt_id,
        "status": p.status,
        "opportunity_id": p.opportunity_id,
        "partner_id": p.partner_id,
        "rep_id": p.rep_id,
        "trigger": p.trigger,
        "trigger_ref": p.trigger_ref,
        "created_at": format_instant(p.created_at),
        "expires_at": format_instant(p.expires_at),
        "answer_tier": p.answer_tier,
        "answered_by": p.answered_by,
        "answered_at": format_optional(p.answered_at),
    }


@prompts_app.callback(invoke_without_command=True)
def list_command(
    ctx: typer.Context,
    rep: Annotated[
        str | None,
        typer.Option("--rep", help="Only this rep's prompts.", show_default=False, callback=a_value),
    ] = None,
    status: Annotated[StatusFilter, typer.Option("--status", help="Which prompts.")] = StatusFilter.open,
    as_of: AsOfOption = None,
    known_at: KnownAtOption = None,
    now: NowOption = None,
    workspace_path: WorkspaceOption = None,
    policy_path: PolicyOption = None,
    fmt: FormatOption = Format.table,
    by: Annotated[
        str | None,
        reader_option("Who reads (a user id): a rep sees only its own prompts; a partner user is refused."),
    ] = None,
) -> None:
    """List influence prompts (default: the open ones), after issuing any the data calls for.

    With --as-of or --known-at it only reads: a prompt's status is taken at the earlier of the two
    instants (prompts, answers and expiries are events, recorded when they happen)."""
    options_before_subcommand(ctx)
    if ctx.invoked_subcommand is not None:
        return
    from cosell.service.prompts import prompts

    del now  # --now pinned the clock (cosell.cli.common.NowOption): it dates the prompts issued
    at = reading(as_of, known_at)
    policy = load_policy(policy_path)
    # Without --as-of or --known-at it issues the prompts the data calls for by now: a writer.
    present = as_of is None and known_at is None
    ws = workspace(workspace_path, create=False, read_only=not present)
    try:
        found = prompts(
            ws,
            policy,
            at,
            issue=present,
            rep=rep,
            status=None if status is StatusFilter.all else status.value,
            viewer=by,
        )
    finally:
        ws.close()
    rows = [_row(p) for p in found]
    emit_rows(
        rows, COLUMNS, fmt, title=f"Influence prompts ({status.value})",
        optional=("trigger_ref", "created_at", "answered_by", "answered_at"),
    )  # fmt: skip
    if fmt is Format.table:
        console.print(counted(len(rows), "prompt"), highlight=False)
    print_instants(at, fmt)


@prompts_app.command("answer")
def answer_command(
    prompt_id: Annotated[str, id_argument("The prompt to answer (PRM-...).")],
    tier: Annotated[Tier, typer.Option("--tier", help="How the partner helped.", show_default=False)],
    activity: Annotated[
        str,
        typer.Option("--activity", help="What the partner did (the logged activity).", show_default=False),
    ],
    by_user: Annotated[
        str | None,
        by_option("Who answers (default: the prompt's rep). Must be that rep, or partner ops / admin."),
    ] = None,
    workspace_path: WorkspaceOption = None,
    policy_path: PolicyOption = None,
    now: NowOption = None,
) -> None:
    """Answer an open prompt: records the rep's declaration and a new attribution version."""
    del now  # --now pinned the clock (cosell.cli.common.NowOption)
    from cosell.service.prompts import answer

    policy = load_policy(policy_path)
    result = in_workspace(
        workspace_path,
        lambda ws: answer(ws, policy, prompt_id, tier=tier.value, activity=activity, by_user=by_user),
    )
    p = result.prompt
    line = (
        f"{p.prompt_id} answered by {p.answered_by}: {p.opportunity_id} {p.answer_tier} with partner "
        f"{p.partner_id} (declaration {result.declaration_id}"
    )
    line += f", attribution version run {result.run_id})" if result.run_id is not None else ")"
    console.message(line, highlight=False)
