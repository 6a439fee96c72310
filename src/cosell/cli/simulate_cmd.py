"""``cosell simulate``: a proposed policy run over the stored history; what would move, nothing stored."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from cosell.asof import AsOf
from cosell.cells import write_csv
from cosell.cli.common import (
    AsOfOption,
    KnownAtOption,
    ProgramReaderOption,
    TextConsole,
    WorkspaceOption,
    a_period,
    console,
    err_console,
    output_option,
    progress,
    reading,
)
from cosell.instants import format_instant, json_instant
from cosell.policy import load_policy
from cosell.report_model import counted
from cosell.results import TIERS, CreditRow
from cosell.terminal import TableColumn, print_table

if TYPE_CHECKING:
    from cosell.attribution.whatif import DealChange
    from cosell.service.simulate import Simulation

FILE_WIDTH = 80  # a text report written to a file has the width of any terminal (the same bytes everywhere)


class SimulateFormat(StrEnum):
    """Output formats of ``cosell simulate`` (``table`` is ``text``, as the other commands call it)."""

    text = "text"
    table = "table"
    json = "json"
    csv = "csv"


def register(app: typer.Typer) -> None:
    """Add ``cosell simulate``."""
    app.command("simulate")(simulate_command)


def simulate_command(
    proposed_path: Annotated[
        Path,
        typer.Option("--policy", help="The proposed policy file (TOML), as `cosell policy init` writes it."),
    ],
    current_path: Annotated[
        Path | None,
        typer.Option(
            "--current-policy",
            envvar="COSELL_POLICY",
            help="The policy in force (TOML). Default: $COSELL_POLICY, else the defaults.",
            show_default=False,
        ),
    ] = None,
    period: Annotated[
        str | None,
        typer.Option(
            "--period",
            "-p",
            help="Only the deals that close in this month (2026-10) or fiscal quarter (2026-Q3). "
            "Default: all, every deal.",
            show_default=False,
            callback=a_period,
        ),
    ] = None,
    as_of: AsOfOption = None,
    known_at: KnownAtOption = None,
    workspace_path: WorkspaceOption = None,
    fmt: Annotated[
        SimulateFormat, typer.Option("--format", "-f", help="Output format: text, json or csv.")
    ] = SimulateFormat.text,
    out: Annotated[
        Path | None,
        output_option("--out", "-o", help_text="Write the output to this file instead.", file=True),
    ] = None,
    by: ProgramReaderOption = None,
) -> None:
    """What a proposed policy would change, before anyone signs it: the workspace's history, as
    known at --known-at and evaluated as of --as-of, is attributed under the current policy and
    under the proposed one (both by the batch engine, at the same instants), and every deal whose
    tier, partners or credit would change is listed with the money it would move: pipeline and
    revenue by tier, and partner pay under the plan in force. Nothing is stored (docs/simulate.md)."""
    from cosell.cli.common import workspace
    from cosell.outfiles import not_an_input, writable_file, write_file
    from cosell.service.simulate import simulate

    proposed = load_policy(proposed_path)
    current = load_policy(current_path)
    at = reading(as_of, known_at)
    if out is not None:
        writable_file(out, "--out")  # before the work: a folder or a file in the way is said at once
    ws = workspace(workspace_path, create=False, read_only=True)
    try:
        if out is not None:  # the report written over its workspace or a policy would destroy it
            inputs: dict[str, str | Path | None] = {
                "the workspace": ws.path,
                "the --policy file": proposed_path,
                "the --current-policy file": current_path,
            }
            not_an_input(out, "--out", inputs)
        with progress("simulating", total=3) as advance:
            result = simulate(
                ws.con,
                proposed,
                current=current,
                period=period,
                as_of=at.as_of,
                known_at=at.known_at,
                progress=advance,
                viewer=by,
            )
    finally:
        ws.close()
    if fmt is SimulateFormat.json:
        text = json.dumps(result.to_json(), indent=2) + "\n"
    elif fmt is SimulateFormat.csv:
        text = write_csv(csv_rows(result))
    else:
        target = TextConsole(file=io.StringIO(), width=FILE_WIDTH) if out is not None else console
        print_text(result, at, target)
        text = target.file.getvalue() if out is not None else ""  # type: ignore[attr-defined]
    if out is None:
        if text:
            typer.echo(text, nl=False)
        if fmt in (SimulateFormat.json, SimulateFormat.csv):
            err_console.print(at.line(), highlight=False)
        return
    write_file(out, text.encode("utf-8"))
    console.message(f"wrote {out}", highlight=False)


# ---- text ---------------------------------------------------------------------------------------


def signed(amount: Decimal) -> str:
    """``+1,234.50``, ``-1,234.50``, or ``0.00`` for nothing moved."""
    return f"{amount:,}" if amount == 0 else f"{amount:+,}"


def money(amount: Decimal | None) -> str:
    return "" if amount is None else f"{amount:,}"


def print_text(result: Simulation, at: AsOf, out: Console) -> None:
    """The summary (header, counts by kind, money moved by tier, pay per party), then the table of
    changed deals, each readable at 80 columns."""
    w = result.whatif
    out.print(f"Policy what-if: {result.header()}", highlight=False)
    out.print(at.line(), highlight=False)
    scope = "all periods" if result.period is None else f"closing in {result.period.label}"
    kinds = ", ".join(f"{kind} {n:,}" for kind, n in w.by_kind.items() if n or kind != "outcome")
    out.print(
        f"{counted(result.deals_evaluated, 'deal')} evaluated ({scope}); {len(w.changes):,} would change"
        + (f": {kinds}." if w.changes else "."),
        highlight=False,
    )
    for note in result.notes():
        out.print(note, highlight=False)
    if not w.changes:
        return
    out.print()
    rows = [
        {"tier": t, "pipeline": signed(w.pipeline_moved[t]), "revenue": signed(w.revenue_moved[t])}
        for t in TIERS
    ]
    print_table(out, ["tier", "pipeline", "revenue"], rows, title=f"Money moved by tier ({result.currency})")
    _print_pay(result, out)
    out.print()
    print_table(
        out,
        [
            TableColumn("opportunity_id", "opportunity"),
            TableColumn("change"),
            TableColumn("tier"),
            TableColumn("money_moved", "money moved"),
            TableColumn("partner_pay", "partner pay", justify="right"),  # numbers, or "no plan"
            TableColumn("primary_partner", "primary partner", optional=True),
        ],
        [_deal_row(c) for c in w.changes],
        title=f"Deals that would change, largest money moved first ({result.currency})",
    )


def _print_pay(result: Simulation, out: Console) -> None:
    from cosell.attribution.whatif import zero

    w = result.whatif
    plans = ", ".join(result.plan_versions) or "no plan"
    if w.partner_pay:
        out.print()
        rows = [
            {"partner": p.party_id, "name": result.partner_names.get(p.party_id, ""), "current": money(p.current),
             "proposed": money(p.proposed), "change": signed(p.change)}
            for p in w.partner_pay
        ]  # fmt: skip
        # The total row totals every money column: a blank under current and proposed left the
        # reader to add them up before the change could be checked against them.
        rows.append(
            {"partner": "total", "current": money(sum((p.current for p in w.partner_pay), zero(result.currency))),
             "proposed": money(sum((p.proposed for p in w.partner_pay), zero(result.currency))),
             "change": signed(w.partner_pay_change)}
        )  # fmt: skip
        print_table(
            out,
            ["partner", TableColumn("name", optional=True), "current", "proposed", "change"],
            rows,
            title=f"Partner pay on the changed deals under {plans} ({result.currency})",
            row_styles=[""] * (len(rows) - 1) + ["bold"],
        )
    elif result.plans_known:
        out.print()
        out.print("No partner's pay would change.", highlight=False)
    if w.rep_pay:
        out.print(
            f"Rep commission on the changed deals: {signed(w.rep_pay_change)} {result.currency} over "
            f"{counted(len(w.rep_pay), 'rep')} (--format json lists them).",
            highlight=False,
        )


def priced(c: DealChange) -> bool:
    """Whether both decisions of the deal were priced (a plan in force at its close, or not won):
    the deals the summary counts as "no plan in force at their close" are the others."""
    return c.current_money.priced and c.proposed_money.priced


def _deal_row(c: DealChange) -> dict[str, str]:
    def arrow(was: str, now: str) -> str:
        return was if was == now else f"{was or '(none)'} → {now or '(none)'}"

    from cosell.attribution.whatif import zero

    return {
        "opportunity_id": c.opportunity_id,
        "change": " ".join(c.kinds),
        "tier": arrow(c.current.tier, c.proposed.tier),
        "money_moved": money(c.money_moved),
        # A deal no plan prices has no pay to change: "0.00" would read as "checked, unchanged".
        "partner_pay": signed(sum(c.partner_pay_change.values(), zero(c.currency)))
        if priced(c)
        else "no plan",
        "primary_partner": arrow(c.current.primary_partner_id, c.proposed.primary_partner_id),
    }


# ---- csv ----------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "opportunity_id", "kinds", "money_moved", "currency",
    "current_tier", "proposed_tier", "current_primary_partner_id", "proposed_primary_partner_id",
    "current_credits", "proposed_credits", "credit_moved", "deal_currency",
    "current_outcome", "proposed_outcome", "current_closed_at", "proposed_closed_at",
    *(f"pipeline_moved_{t}" for t in TIERS), *(f"revenue_moved_{t}" for t in TIERS),
    "partner_pay_change", "partner_pay_changes", "rep_pay_change", "rep_pay_changes",
    "current_policy", "proposed_policy", "as_of", "known_at", "period",
)  # fmt: skip


def _credits_text(credits: tuple[CreditRow, ...]) -> str:
    return " ".join(f"{c.partner_id}:{c.role}:{c.share}:{c.amount}" for c in credits)


def _changes_text(changes: dict[str, Decimal]) -> str:
    return " ".join(f"{party}:{amount:+}" for party, amount in changes.items())


def csv_rows(result: Simulation) -> list[list[object]]:
    """One row per changed deal, every field (money as numbers, so a spreadsheet sums them; text
    escaped against formulas by :func:`cosell.cells.write_csv`), in the table's order."""
    w = result.whatif
    from cosell.attribution.whatif import zero

    rows: list[list[object]] = [list(CSV_COLUMNS)]
    for c in w.changes:
        pay, rep = c.partner_pay_change, c.rep_pay_change
        nothing = zero(c.currency)
        rows.append(
            [
                c.opportunity_id, " ".join(c.kinds), c.money_moved, result.currency,
                c.current.tier, c.proposed.tier, c.current.primary_partner_id, c.proposed.primary_partner_id,
                _credits_text(c.current.credits), _credits_text(c.proposed.credits), c.credit_moved, c.deal_currency,
                c.current.outcome, c.proposed.outcome, c.current.closed_at, c.proposed.closed_at,
                *(c.pipeline_moved.get(t, nothing) for t in TIERS), *(c.revenue_moved.get(t, nothing) for t in TIERS),
                # Empty, not 0.00, when no plan priced the deal: a sum over the column stays true.
                *((sum(pay.values(), nothing), _changes_text(pay), sum(rep.values(), nothing), _changes_text(rep))
                  if priced(c) else (None, "", None, "")),
                result.current.version, result.proposed.version, format_instant(result.as_of),
                json_instant(result.known_at),
                None if result.period is None else result.period.label,
            ]
        )  # fmt: skip
    return rows
