"""A report as readable terminal tables (rich): the ``table`` format, and how values are shown.

:func:`cosell.report_model.display` is the one place that turns a typed value into text for a person (money with
thousands separators and the currency's minor unit, percents with one decimal, ratios with four,
days with one); the csv, json and xlsx formats keep the exact values instead. Charts are drawn by
the html and pdf formats only; here each is named with where to find it.
"""

from __future__ import annotations

import io

from rich.console import Console
from rich.text import Text

from cosell.report_model import Figure, Report, Section, display
from cosell.reports.cells import header_text, printed_cells
from cosell.terminal import Cell, TableColumn, print_blocks, print_table, without_trailing_spaces

WIDTH = 180


def benchmark_text(figure: Figure) -> str:
    """``15-25%`` (``0.15-0.25`` for a non-percent unit), or empty without a band."""
    if figure.band is None:
        return ""
    if figure.unit == "percent":
        low, high = (f"{(v * 100).normalize():f}" for v in (figure.band.low, figure.band.high))
        return f"{low}-{high}%"
    return f"{figure.band.low}-{figure.band.high}"


def figure_rows(figures: tuple[Figure, ...]) -> list[tuple[Figure, int]]:
    """Every figure with its depth: a headline figure (0), then the figures beside it (1), ..."""
    out: list[tuple[Figure, int]] = []
    for f in figures:
        out.append((f, 0))
        out.extend((b, depth + 1) for b, depth in figure_rows(f.beside))
    return out


def render_text(report: Report, width: int = WIDTH, color: bool = False) -> str:
    """The report as plain text tables (``color`` keeps terminal styles as ANSI codes)."""
    console = Console(
        width=width,
        record=True,
        file=io.StringIO(),
        color_system="standard" if color else None,
        force_terminal=color,
    )
    print_report(report, console)
    return without_trailing_spaces(console.export_text(styles=color))


def print_report(report: Report, console: Console) -> None:
    """Print the report on a rich console, its tables fitted to the console's width
    (:func:`cosell.terminal.print_table`)."""
    console.print(Text(report.title, style="bold"))
    console.print(report.subtitle, highlight=False)
    print_blocks(console, [TableColumn(label, label) for label, _ in report.facts], [dict(report.facts)])
    if report.coverage is not None and report.coverage.note:
        console.print(Text(f"Note: {report.coverage.note}", style="bold yellow"))
    for alert in report.raised:
        console.print(Text(f"{alert.label}: {alert.text}", style="bold red"))
    for section in report.sections:
        console.print()
        print_section(section, report.currency, console, marked=report.alert_figures)


FIGURE_COLUMNS = (
    TableColumn("figure", "Figure"),
    TableColumn("value", "Value", justify="right", wrap=False),
    TableColumn("deals", "Rests on", justify="right"),
    TableColumn("benchmark", "Benchmark", justify="right", wrap=False),
    TableColumn("verdict", "Verdict", wrap=False),
    TableColumn("note", "Note"),
)


def print_section(
    section: Section, currency: str, console: Console, marked: frozenset[str] = frozenset()
) -> None:
    """A section's title, its figures (columns that no figure fills are left out; the figures whose
    keys are ``marked``, which a raised alert is about, in red), its table, where its charts are,
    and its notes."""
    console.print(Text(section.title, style="bold underline"))
    if section.figures:
        rows: list[dict[str, Cell]] = []
        for figure, depth in figure_rows(section.figures):
            alert = figure.key in marked
            value = display(figure.value, figure.unit, currency)
            rows.append(
                {
                    "figure": Text(
                        "  " * depth + figure.label,
                        style=("bold" if depth == 0 else "") + (" red" if alert else ""),
                    ),
                    "value": Text(value, style="bold red") if alert else value,
                    "deals": figure.deals_text(),
                    "benchmark": benchmark_text(figure),
                    "verdict": figure.verdict or "",
                    "note": figure.note,
                }
            )
        print_table(console, FIGURE_COLUMNS, rows)
    if section.table is not None and section.table.rows:
        printed, cells = printed_cells(section.table, currency)
        columns = [
            TableColumn(
                c.key,
                header_text(c, currency),
                justify="left" if c.unit in ("text", "id") else "right",
                wrap=None if c.unit == "text" else False,
                optional=c.optional,
            )
            for c in printed
        ]
        # A cell's own value, then the values printed under it ("Closed: 2026-08-21"), one a line.
        table_rows: list[dict[str, Cell]] = [
            {
                c.key: "\n".join([cell.text, *(f"{x.label}: {x.text}" for x in cell.lines)])
                for c, cell in zip(printed, row, strict=True)
            }
            for row in cells
        ]
        print_table(console, columns, table_rows)
    elif section.table is not None:
        console.print("(no rows)")
    for chart in section.charts:
        console.print(Text(f"chart: {chart.title} (in the html and pdf formats)", style="dim"))
    for note in section.notes:
        console.print(Text(note, style="dim"))
