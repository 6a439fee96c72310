"""A report as readable terminal tables (rich): the ``table`` format, and how values are shown.

:func:`display` is the one place that turns a typed value into text for a person (money with
thousands separators and the currency's minor unit, percents with one decimal, ratios with four,
days with one); the csv, json and xlsx formats keep the exact values instead. Charts are drawn by
the html and pdf formats only; here each is named with where to find it.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from cosell.instants import format_instant
from cosell.money import minor_unit
from cosell.reports.cells import header_text, printed_cells
from cosell.reports.model import Figure, Report, Section, Unit, Value

WIDTH = 180
NO_VALUE = "n/a"


def display(value: Value, unit: Unit, currency: str, *, bare: bool = False) -> str:
    """A value as a person reads it: ``1,234.50 USD``, ``15.4%``, ``0.2312``, ``49.2 days``
    (``bare``: without the currency code and the word days, for table cells under a header)."""
    if value is None:
        return NO_VALUE
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return value
    number = Decimal(value)
    if unit == "money":
        digits = minor_unit(currency)
        text = f"{_q(number, digits):,.{digits}f}"
        return text if bare else f"{text} {currency}"
    if unit == "percent":
        return f"{_q(number * 100, 1):.1f}%"
    if unit == "ratio":
        return f"{_q(number, 4):.4f}"
    if unit == "days":
        return f"{_q(number, 1):.1f}" + ("" if bare else " days")
    if unit == "count":
        return f"{int(number):,}"
    return str(value)


def _q(value: Decimal, digits: int) -> Decimal:
    """Half away from zero to ``digits`` places (display only: values are already rounded once)."""
    return value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def benchmark_text(figure: Figure) -> str:
    """``15-25%`` (``0.15-0.25`` for a non-percent unit), or empty without a band."""
    if figure.band is None:
        return ""
    if figure.unit == "percent":
        low, high = (f"{(v * 100).normalize():f}" for v in (figure.band.low, figure.band.high))
        return f"{low}-{high}%"
    return f"{figure.band.low}-{figure.band.high}"


def deals_text(figure: Figure) -> str:
    if figure.deals is None:
        return ""
    return f"{figure.deals:,} {figure.deals_label}".strip()


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
    return console.export_text(styles=color)


def print_report(report: Report, console: Console) -> None:
    """Print the report on a rich console."""
    console.print(Text(report.title, style="bold"))
    console.print(report.subtitle)
    facts = RichTable(show_header=False, box=None, padding=(0, 2, 0, 0))
    facts.add_column(style="dim")
    facts.add_column()
    for label, value in report.facts:
        facts.add_row(label, value)
    console.print(facts)
    for alert in report.raised:
        console.print(Text(f"{alert.label}: {alert.text}", style="bold red"))
    for section in report.sections:
        console.print()
        print_section(section, report.currency, console, marked=report.alert_figures)


def print_section(
    section: Section, currency: str, console: Console, marked: frozenset[str] = frozenset()
) -> None:
    """Print one section; the figures whose keys are ``marked`` (a raised alert is about them) in red."""
    console.print(Text(section.title, style="bold underline"))
    if section.figures:
        table = RichTable(header_style="bold", show_lines=False)
        for name, justify in (
            ("Figure", "left"),
            ("Value", "right"),
            ("Rests on", "right"),
            ("Benchmark", "right"),
            ("Verdict", "left"),
            ("Note", "left"),
        ):
            table.add_column(
                name,
                justify=justify,  # type: ignore[arg-type]
                overflow="fold",
                no_wrap=name in ("Value", "Benchmark", "Verdict"),
            )
        for figure, depth in figure_rows(section.figures):
            value = display(figure.value, figure.unit, currency)
            alert = figure.key in marked
            table.add_row(
                Text(
                    "  " * depth + figure.label,
                    style=("bold" if depth == 0 else "") + (" red" if alert else ""),
                ),
                Text(value, style="bold red") if alert else value,
                deals_text(figure),
                benchmark_text(figure),
                figure.verdict or "",
                figure.note,
            )
        console.print(table)
    if section.table is not None and section.table.rows:
        table = RichTable(header_style="bold")
        columns, rows = printed_cells(section.table, currency)
        for column in columns:
            justify = "left" if column.unit in ("text", "id") else "right"
            table.add_column(header_text(column, currency), justify=justify, overflow="fold")  # type: ignore[arg-type]
        for cells in rows:
            table.add_row(*("\n".join([c.text, *(f"{x.label}: {x.text}" for x in c.lines)]) for c in cells))
        console.print(table)
    elif section.table is not None:
        console.print("(no rows)")
    for chart in section.charts:
        console.print(Text(f"chart: {chart.title} (in the html and pdf formats)", style="dim"))
    for note in section.notes:
        console.print(Text(note, style="dim"))
