"""``cosell report cfo|qbr|partners``: the CFO dashboard, the QBR and the partner league table.

Each prints a readable table by default. ``--format json`` and ``csv`` go to stdout (or ``--out``);
``xlsx``, ``html`` and ``pdf`` are files: ``--out FILE``, else ``./cosell-<report>-<period>.<ext>``,
and the command prints where it wrote. ``--known-at K`` reads the data and the attribution versions
recorded by K, so the same command with the same ``--known-at`` gives the same bytes after later
changes; ``--as-of T`` evaluates at T, reading the attribution run evaluated as of T
(docs/as-of.md).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cosell.cli.common import (
    AsOfOption,
    KnownAtOption,
    PolicyOption,
    ProgramReaderOption,
    WorkspaceOption,
    a_period,
    console,
    in_workspace,
    output_option,
    reader_option,
    reading,
)
from cosell.policy import load_policy

if TYPE_CHECKING:
    from cosell.report_model import Report


class ReportFormat(StrEnum):
    """Formats of ``cosell report``."""

    table = "table"
    json = "json"
    csv = "csv"
    xlsx = "xlsx"
    html = "html"
    pdf = "pdf"


# Formats written to a file even without --out: a person opens them, a terminal cannot show them.
FILE_FORMATS = frozenset({ReportFormat.xlsx, ReportFormat.html, ReportFormat.pdf})

FormatOption = Annotated[
    ReportFormat,
    typer.Option("--format", "-f", help="table (terminal), json, csv, xlsx, html or pdf."),
]
OutOption = Annotated[
    Path | None,
    output_option(
        "--out",
        "-o",
        help_text="Write to this file (default: stdout for json and csv; ./cosell-<report>-<period>.<ext> "
        "for xlsx, html and pdf).",
        file=True,
    ),
]
PeriodOption = Annotated[
    str | None,
    typer.Option(
        "--period",
        "-p",
        help="A fiscal quarter (2026-Q3) or a month (2026-08). Default: the last complete fiscal "
        "quarter before the as-of instant.",
        show_default=False,
        callback=a_period,
    ),
]
report_app = typer.Typer(
    name="report",
    help="Reports: the CFO dashboard, the quarterly business review, the partner league table.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add ``cosell report cfo|qbr|partners``."""
    app.add_typer(report_app, name="report")


def _run(
    name: str,
    period: str | None,
    as_of: str | None,
    known_at: str | None,
    fmt: ReportFormat,
    out: Path | None,
    workspace_path: str | None,
    policy_path: Path | None,
    by: str | None,
) -> None:
    from cosell.service.reports import build_report

    policy = load_policy(policy_path)
    at = reading(as_of, known_at)
    # Neither instant given: every row and version recorded so far, as of now (marked "(now)").
    given = as_of is not None or known_at is not None
    report = in_workspace(
        workspace_path,
        lambda ws: build_report(ws, name, policy, period, at if given else None, viewer=by),
        read_only=True,
    )
    emit(report, fmt, out)


def emit(report: Report, fmt: ReportFormat, out: Path | None, name: tuple[str, ...] | None = None) -> None:
    """Print or write a report as the format and ``--out`` ask: table and (without ``--out``) json
    and csv to the terminal; xlsx, html and pdf to ``--out``, else ``./cosell-<name>.<ext>`` (name
    default: ``<report>-<period>``; each part a safe slug, see :func:`cosell.outfiles.file_name`)."""
    from cosell.outfiles import write_file
    from cosell.service.reports import render_report, report_file_name

    if fmt is ReportFormat.table and out is None:
        from cosell.reports.text import print_report

        print_report(report, console)
        return
    data = render_report(report, fmt.value)
    if out is None and fmt not in FILE_FORMATS:
        typer.echo(data.decode(), nl=False)
        return
    path = out or Path(report_file_name(report, fmt.value, name))
    write_file(path, data)
    console.message(f"wrote {path}", highlight=False)


@report_app.command("cfo")
def cfo_command(
    period: PeriodOption = None,
    as_of: AsOfOption = None,
    known_at: KnownAtOption = None,
    fmt: FormatOption = ReportFormat.table,
    out: OutOption = None,
    workspace_path: WorkspaceOption = None,
    policy_path: PolicyOption = None,
    by: ProgramReaderOption = None,
) -> None:
    """The CFO dashboard: partner-sourced pipeline, partner-influenced win rate, cycle reduction
    and cost per partner dollar, each with its deal count and its benchmark verdict, and their
    trend over eight quarters."""
    _run("cfo", period, as_of, known_at, fmt, out, workspace_path, policy_path, by)


@report_app.command("qbr")
def qbr_command(
    quarter: Annotated[
        str | None,
        typer.Option(
            "--quarter",
            "-q",
            help="A fiscal quarter like 2026-Q3. Default: the last complete one before the as-of instant.",
            show_default=False,
            callback=a_period,
        ),
    ] = None,
    as_of: AsOfOption = None,
    known_at: KnownAtOption = None,
    fmt: FormatOption = ReportFormat.table,
    out: OutOption = None,
    workspace_path: WorkspaceOption = None,
    policy_path: PolicyOption = None,
    by: ProgramReaderOption = None,
) -> None:
    """The quarterly business review: pipeline and revenue by tier against the prior quarter,
    program economics, leading indicators and an investment ask with its assumption."""
    _run("qbr", quarter, as_of, known_at, fmt, out, workspace_path, policy_path, by)


@report_app.command("partners")
def partners_command(
    period: PeriodOption = None,
    as_of: AsOfOption = None,
    known_at: KnownAtOption = None,
    fmt: FormatOption = ReportFormat.table,
    out: OutOption = None,
    workspace_path: WorkspaceOption = None,
    policy_path: PolicyOption = None,
    by: Annotated[
        str | None,
        reader_option(
            "Who reads (a user id): a partner user sees only its own partner's row; a rep is refused."
        ),
    ] = None,
) -> None:
    """The partner league table: each partner's credited sourced, accelerated and influenced
    revenue, win rate, median cycle and credited deals in the period."""
    _run("partners", period, as_of, known_at, fmt, out, workspace_path, policy_path, by)
