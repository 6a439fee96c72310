"""What every ``cosell import`` command shares (``canonical`` and ``salesforce|hubspot`` alike): its
``--reason``, and what it prints: its counts, its warnings and what its intake did."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from rich.markup import escape

from cosell.cli.common import (
    Format,
    TextConsole,
    console,
    emit_rows,
    err_console,
    print_json,
    reason_option,
)
from cosell.instants import format_instant
from cosell.report_model import counted

if TYPE_CHECKING:
    from cosell.service.imports import ImportReport, Intake

COUNT_COLUMNS = ("table", "file", "read", "inserted", "updated", "unchanged", "rejected", "replaced")
# An import is a batch command: it is its own why (cosell.reasons.given_or_ran).
ImportReasonOption = Annotated[
    str, reason_option("Why (recorded with the import; default: the command run).")
]


def print_intake(report: ImportReport, intake: Intake, out: TextConsole) -> None:
    """What the import's intake did and when its rows became known (after the counts table; on
    stderr when stdout carries csv). ``import salesforce|hubspot`` print the same."""
    for line in (
        f"auto-tagged {counted(intake.tagged, 'deal')} created from a partner lead; "
        f"issued {counted(intake.prompted, 'influence prompt')}",
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
            f"[yellow]... and {counted(report.warning_count - shown, 'more warning row')}[/]",
            markup=True,
            highlight=False,
        )
    line = f"accepted {counted(report.accepted, 'row')}, rejected {report.rejected:,}"
    if report.rejects_file is not None:
        line += f"; rejected rows written to {report.rejects_file}"
    console.message(line, highlight=False)
