"""``cosell gate check OPP --to STAGE`` and ``cosell gate audit``: the stage gate of SPEC section 4.

``gate check`` exits 0 when the move is allowed and 1 when it is refused (like a failed validation,
so ``cosell gate check O1 --to "Closed Won" && ...`` works in a script); the reason is printed
either way. A stage the workspace does not know (a misspelt "Closed Wn") is refused with the closest
name. An unknown opportunity is an error (exit 1, message on stderr).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from cosell.cli.common import (
    AsOfOption,
    Format,
    FormatOption,
    KnownAtOption,
    PolicyOption,
    ProgramReaderOption,
    ShowFormat,
    ShowFormatOption,
    WorkspaceOption,
    console,
    emit_rows,
    in_workspace,
    opportunity_argument,
    print_instants,
    print_json,
    reading,
)
from cosell.instants import format_instant, format_optional
from cosell.money import round_money
from cosell.policy import load_policy
from cosell.report_model import counted

gate_app = typer.Typer(
    help="The stage gate: a deal may not enter a won stage unless partner_source is confirmed.",
    no_args_is_help=True,
)

AUDIT_COLUMNS = (
    "opportunity_id",
    "owner_id",
    "stage",
    "entered_won_at",
    "partner_source_at_entry",
    "confirmed_at",
    "confirmed_by",
    "partner_source_now",
    "amount",
    "currency",
)


def register(app: typer.Typer) -> None:
    """Add ``cosell gate`` and its subcommands."""
    app.add_typer(gate_app, name="gate")


@gate_app.command("check")
def check(
    opportunity_id: Annotated[str, opportunity_argument("The opportunity to move.")],
    to_stage: Annotated[str, typer.Option("--to", help="The stage it would move to.", show_default=False)],
    workspace_path: WorkspaceOption = None,
    policy_path: PolicyOption = None,
    fmt: ShowFormatOption = ShowFormat.table,
) -> None:
    """May this opportunity move to this stage? Exit 0 allowed, 1 refused; the reason is printed."""
    from cosell.service.gate import check_gate

    policy = load_policy(policy_path)
    decision = in_workspace(
        workspace_path, lambda ws: check_gate(ws, opportunity_id, to_stage, policy), read_only=True
    )
    if fmt is ShowFormat.json:
        out = {
            "opportunity_id": decision.opportunity_id,
            "stage": decision.stage,
            "to_stage": decision.to_stage,
            "to_stage_class": decision.to_stage_class,
            "partner_source": decision.partner_source,
            "declared_by": decision.declared_by,
            "allowed": decision.allowed,
            "reason": decision.reason,
        }
        print_json(out)
    else:
        verdict = "[green]allowed[/]" if decision.allowed else "[bold red]refused[/]"
        console.message(f"{verdict}: {escape(decision.reason)}", markup=True, highlight=False)
    if not decision.allowed:
        raise typer.Exit(1)


def _audit_row(v: Any) -> dict[str, Any]:
    return {
        "opportunity_id": v.opportunity_id,
        "owner_id": v.owner_id,
        "stage": v.stage,
        "entered_won_at": format_instant(v.entered_won_at),
        "partner_source_at_entry": v.partner_source_at_entry,
        "confirmed_at": format_optional(v.confirmed_at),
        "confirmed_by": v.confirmed_by,
        "partner_source_now": v.partner_source_now,
        "amount": round_money(v.amount, v.currency),  # a number: grouped in a table, never escaped in CSV
        "currency": v.currency,
    }


@gate_app.command("audit")
def audit(
    workspace_path: WorkspaceOption = None,
    policy_path: PolicyOption = None,
    as_of: AsOfOption = None,
    known_at: KnownAtOption = None,
    fmt: FormatOption = Format.table,
    by: ProgramReaderOption = None,
) -> None:
    """Every won deal that entered its won stage while partner_source was not confirmed, with when.

    partner_source at the entry comes from field_history (without it, the current value decides);
    an auto-tag or an answered prompt recorded before the entry counts as confirmed. Reads the data
    known at --known-at; leaves out the deals that entered their won stage after --as-of.
    """
    from cosell.service.gate import audit_gate

    at = reading(as_of, known_at)
    policy = load_policy(policy_path)
    found = in_workspace(workspace_path, lambda ws: audit_gate(ws, policy, at, viewer=by), read_only=True)
    rows = [_audit_row(v) for v in found]
    emit_rows(
        rows, AUDIT_COLUMNS, fmt, title="Won deals that passed the stage gate unconfirmed",
        optional=("owner_id", "stage", "confirmed_by"),
    )  # fmt: skip
    if fmt is Format.table:
        console.print(counted(len(rows), "violation"), highlight=False)
    print_instants(at, fmt)
