"""``cosell import canonical DIR``: load a folder of canonical CSV / Parquet files into the workspace."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from cosell.cli.common import (
    Format,
    FormatOption,
    NowOption,
    PolicyOption,
    TextConsole,
    WorkspaceOption,
    console,
    emit_rows,
    err_console,
    output_option,
    print_json,
    progress,
    reason_option,
)
from cosell.instants import format_instant
from cosell.policy import load_policy

if TYPE_CHECKING:
    from cosell.service.imports import ImportReport, Intake

import_app = typer.Typer(help="Import data into the workspace.", no_args_is_help=True)

COUNT_COLUMNS = ("table", "file", "read", "inserted", "updated", "unchanged", "rejected", "replaced")
# An import is a batch command: it is its own why (cosell.reasons.given_or_ran).
ImportReasonOption = Annotated[
    str, reason_option("Why (recorded with the import; default: the command run).")
]


def register(app: typer.Typer) -> None:
    """Add ``cosell import`` and its subcommands, with the CRM exports' (``salesforce``, ``hubspot``)."""
    # Imported for what importing it does: its commands join import_app.
    importlib.import_module("cosell.cli.crm_cmd")
    app.add_typer(import_app, name="import")


@import_app.command("canonical")
def canonical(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Folder of <table>.csv, <table>.csv.gz or <table>.parquet files.",
            exists=True,
            file_okay=False,
            dir_okay=True,
            show_default=False,
        ),
    ],
    rejects: Annotated[
        Path | None,
        output_option(
            "--rejects",
            help_text="Import the good rows and write each bad row, with its reasons, to this CSV file.",
            file=True,
        ),
    ] = None,
    workspace_path: WorkspaceOption = None,
    policy_path: PolicyOption = None,
    now: NowOption = None,
    fmt: FormatOption = Format.table,
    reason: ImportReasonOption = "",
) -> None:
    """Validate a folder of canonical tables and apply it in one transaction (all or nothing),
    with the auto-tags and influence prompts it calls for.

    Re-importing the same data changes nothing; a changed row becomes a new version and the old one
    is kept. Every row is dated by the import: it is known from the import's instant on (--now,
    $COSELL_NOW or the clock; never before the last import), whatever its own dates say. The import
    is recorded with who ran it ($COSELL_USER, else the login name) and why (--reason, else the
    command). Exit code 1 when the data has problems (listed on stderr; nothing is applied).
    """
    del now  # --now pinned the clock (cosell.cli.common.NowOption)
    from cosell.cli.common import workspace
    from cosell.service.imports import check_rejects_file, import_folder, table_count

    policy = load_policy(policy_path)
    if rejects is not None:
        check_rejects_file(rejects, directory, policy_path)  # said before the import's work, not after it
    files = table_count(directory)
    ws = workspace(workspace_path)
    try:
        with progress("importing", total=max(files, 1)) as advance:
            report, intake = import_folder(
                ws, directory, policy, rejects=rejects, reason=reason, on_file=lambda _name: advance(1)
            )
    finally:
        ws.close()
    render_report(report, fmt)
    if fmt is not Format.json:
        print_intake(report, intake, console if fmt is Format.table else err_console)


def print_intake(report: ImportReport, intake: Intake, out: TextConsole) -> None:
    """What the import's intake did and when its rows became known (after the counts table; on
    stderr when stdout carries csv). ``import salesforce|hubspot`` print the same."""
    for line in (
        f"auto-tagged {intake.tagged:,} deal(s) created from a partner lead; "
        f"issued {intake.prompted:,} influence prompt(s)",
        f"imported at {format_instant(report.imported_at)}: these rows are known from then on "
        "(any --known-at at or after it reads them)",
    ):
        out.message(line, highlight=False)


def _count_rows(report: ImportReport) -> list[dict[str, Any]]:
    return [{c: getattr(t, c) for c in COUNT_COLUMNS} for t in report.tables]


def report_json(report: ImportReport) -> dict[str, Any]:
    """The report as JSON-ready data with stable keys."""
    return {
        "import_id": report.import_id,
        "imported_at": format_instant(report.imported_at),
        "source": report.source,
        "reason": report.reason,
        "tables": _count_rows(report),
        "accepted": report.accepted,
        "rejected": report.rejected,
        "rejects_file": report.rejects_file,
        "warning_count": report.warning_count,
        "warnings": [
            {
                "file": w.file,
                "column": w.column,
                "value": w.value,
                "reason": w.reason,
                "count": w.count,
                "first_row": w.first_row,
            }
            for w in report.warnings
        ],
    }


def render_report(report: ImportReport, fmt: Format) -> None:
    """The import's counts and warnings as a table (or CSV, or JSON)."""
    if fmt is Format.json:
        print_json(report_json(report))
        return
    if fmt is Format.csv:
        emit_rows(_count_rows(report), COUNT_COLUMNS, fmt)
        for w in report.warnings:
            err_console.message(f"warning: {w}", highlight=False)
        return
    emit_rows(_count_rows(report), COUNT_COLUMNS, fmt, title=f"import {report.import_id}", optional=("file",))
    for w in report.warnings:
        console.message(f"[yellow]warning:[/] {escape(str(w))}", markup=True, highlight=False)
    shown = sum(w.count for w in report.warnings)
    if report.warning_count > shown:
        console.print(
            f"[yellow]... and {report.warning_count - shown:,} more warning row(s)[/]",
            markup=True,
            highlight=False,
        )
    line = f"accepted {report.accepted:,} row(s), rejected {report.rejected:,}"
    if report.rejects_file is not None:
        line += f"; rejected rows written to {report.rejects_file}"
    console.message(line, highlight=False)
