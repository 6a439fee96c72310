"""A report as one self-contained HTML file: inline CSS, charts as inline SVG, no external address.

The page shows the title and facts, then each section: its headline figures as cards (value, deal
count, benchmark band and a coloured verdict, the figures beside it, the note), its table, its charts
and its notes. Everything is escaped by Jinja2's autoescape; only the SVG that matplotlib wrote (which
escapes its own text) is inserted as markup. The same report gives byte-identical html.

The value formatting here (:func:`format_value`, :func:`format_band`, :func:`format_figure`) is the one
the pdf uses too, so both print the same text:

>>> from decimal import Decimal
>>> format_value(Decimal("4812330.5"), "money", "USD"), format_value(Decimal("0.41666"), "percent", "USD")
('USD 4,812,330.50', '41.7%')
>>> format_value(Decimal("0.12345"), "ratio", "USD"), format_value(Decimal("18.25"), "days", "USD")
('0.1235', '18.3 days')
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import jinja2
from markupsafe import Markup

from cosell.instants import format_instant
from cosell.money import MINOR_UNITS, round_money
from cosell.reports.charts import chart_svg
from cosell.reports.model import Band, Figure, Report, Section, Table, Unit, Value

NO_VALUE = "—"  # an empty table cell: nothing to show (the section's notes say why)
VERDICT_COLOURS = {"below": "#B35C00", "within": "#1B7F3B", "above": "#1F5FA8"}


def _fixed(value: Decimal, places: int) -> str:
    exponent = Decimal(1).scaleb(-places)
    return format(value.quantize(exponent, rounding=ROUND_HALF_UP), f",.{places}f")


def format_value(value: Value, unit: Unit, currency: str, *, in_table: bool = False) -> str:
    """A value as a person reads it, rounded half away from zero.

    money: thousands separators and the currency's minor unit ("USD 1,234.50"; in a table the
    column header names the currency, so the code is left out); percent: a ratio times 100 to one
    decimal; ratio: 4 decimals; days: one decimal ("days" left out in a table); count: thousands
    separators. Dates print as ISO dates, instants as ISO 8601 UTC. ``None`` is :data:`NO_VALUE`.
    """
    if value is None:
        return NO_VALUE
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) or unit == "text":
        return str(value)
    number = Decimal(value)
    if unit == "money":
        places = MINOR_UNITS.get(currency, 2)
        text = _fixed(round_money(number, currency) if currency in MINOR_UNITS else number, places)
        return text if in_table else f"{currency} {text}"
    if unit == "percent":
        return _fixed(number * 100, 1) + "%"
    if unit == "ratio":
        return _fixed(number, 4)
    if unit == "days":
        text = _fixed(number, 1)
        return text if in_table else f"{text} days"
    return _fixed(number, 0)  # count


def _bound(value: Decimal, unit: Unit, currency: str) -> str:
    if unit == "percent":  # "15", "22.5": a band is a round range, no trailing ".0"
        return _fixed(value * 100, 1).removesuffix(".0")
    if unit == "days":
        return _fixed(value, 1).removesuffix(".0")
    return format_value(value, unit, currency, in_table=True)


def format_band(band: Band, unit: Unit, currency: str) -> str:
    """A benchmark range in plain words: "benchmark 15-25%", "benchmark 10-20 days".

    >>> format_band(Band(Decimal("0.15"), Decimal("0.25")), "percent", "USD")
    'benchmark 15-25%'
    """
    low, high = _bound(band.low, unit, currency), _bound(band.high, unit, currency)
    suffix = {"percent": "%", "days": " days"}.get(unit, "")
    prefix = f"{currency} " if unit == "money" else ""
    return f"benchmark {prefix}{low}-{high}{suffix}"


def format_deals(figure: Figure) -> str:
    """What a figure rests on: "412 deals created"; empty when the figure does not say."""
    if figure.deals is None:
        return ""
    label = figure.deals_label or ("deal" if figure.deals == 1 else "deals")
    return f"{figure.deals:,} {label}"


@dataclass(frozen=True)
class FigureText:
    """A figure as the text html and pdf print (one shape for both)."""

    key: str
    label: str
    value: str  # the formatted value, or the note when there is no value
    has_value: bool
    deals: str
    band: str
    verdict: str  # "", "below", "within", "above"
    note: str  # the confidence note (empty when it is already shown as the value)
    beside: tuple[FigureText, ...]


def format_figure(figure: Figure, currency: str) -> FigureText:
    """The text of a figure: ``None`` shows its note ("no deals") in place of a number."""
    has_value = figure.value is not None
    if has_value:
        value, note = format_value(figure.value, figure.unit, currency), figure.note
    else:
        value, note = (figure.note or "no value"), ""
    return FigureText(
        key=figure.key,
        label=figure.label,
        value=value,
        has_value=has_value,
        deals=format_deals(figure),
        band=format_band(figure.band, figure.unit, currency) if figure.band else "",
        verdict=figure.verdict or "",
        note=note,
        beside=tuple(format_figure(b, currency) for b in figure.beside),
    )


NUMERIC_UNITS = frozenset({"money", "percent", "ratio", "days", "count"})


def column_header(label: str, unit: Unit, currency: str) -> str:
    """A table header that names what the cells leave out: "Sourced revenue (USD)", "Cycle (days)"."""
    if unit == "money":
        return f"{label} ({currency})"
    if unit == "days":
        return f"{label} (days)"
    return label


def table_cells(table: Table, currency: str) -> tuple[list[str], list[list[str]], list[str]]:
    """Headers, formatted rows and each column's alignment: "num" (right), "date" (kept on one line), ""."""
    headers = [column_header(c.label, c.unit, currency) for c in table.columns]
    aligns = []
    for c in table.columns:
        is_date = any(isinstance(row.get(c.key), date) for row in table.rows)  # datetime is a date too
        aligns.append("num" if c.unit in NUMERIC_UNITS else "date" if is_date else "")
    rows = [
        [format_value(row.get(c.key), c.unit, currency, in_table=True) for c in table.columns]
        for row in table.rows
    ]
    return headers, rows, aligns


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("cosell.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _section_view(section: Section, currency: str) -> dict[str, Any]:
    table = None
    if section.table is not None:
        headers, rows, aligns = table_cells(section.table, currency)
        table = {"headers": headers, "rows": rows, "aligns": aligns}
    return {
        "key": section.key,
        "title": section.title,
        "figures": [format_figure(f, currency) for f in section.figures],
        "table": table,
        # matplotlib's SVG: the one piece of markup not escaped here (it escapes its own text)
        "charts": [
            {"title": c.title, "key": c.key, "svg": Markup(chart_svg(c, currency))} for c in section.charts
        ],
        "notes": list(section.notes),
    }


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page (UTF-8 text); byte-identical for the same report."""
    template = _environment().get_template("report.html.j2")
    return template.render(
        report=report,
        sections=[_section_view(s, report.currency) for s in report.sections],
        verdict_colours=VERDICT_COLOURS,
    )
