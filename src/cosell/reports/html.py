r"""A report as one self-contained HTML file: inline CSS, charts as inline SVG, no external address.

The page shows the title and facts, then each section: its headline figures as cards (value, deal
count, benchmark band and a coloured verdict, the figures beside it, the note), its table, its charts
and its notes. Text from data is shown, never obeyed (:func:`cosell.shown.visible`, as on the
terminal: a bidi override in a partner's name would make the amounts beside it read backwards, a
zero-width space would make "Ac\u200bme" pass for "Acme"), then escaped by markupsafe: Jinja2's
autoescape in the template, :func:`text_markup` for the markup built here. Only the SVG that
matplotlib wrote (which escapes its own text, mapped in :mod:`cosell.reports.charts`) is inserted as
markup. The same report gives byte-identical html.

Values are shown by :func:`cosell.report_model.display`, as in the table format; the figure text
here (:func:`format_figure`) is what the pdf prints too, so every format shows the same text:

>>> from decimal import Decimal
>>> format_value(Decimal("4812330.5"), "money", "USD"), format_value(Decimal("0.41666"), "percent", "USD")
('4,812,330.50 USD', '41.7%')
>>> format_value(Decimal("0.12345"), "ratio", "USD"), format_value(Decimal("18.25"), "days", "USD")
('0.1235', '18.3 days')
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from typing import Any

import jinja2
from markupsafe import Markup, escape

from cosell.report_model import Figure, Report, Section, Table, Unit, Value, display
from cosell.reports.cells import CellText, printed_cells
from cosell.reports.charts import chart_svg
from cosell.reports.text import benchmark_text
from cosell.shown import visible

VERDICT_COLOURS = {"below": "#b35c00", "within": "#1b7f3b", "above": "#1f5fa8"}


def format_value(value: Value, unit: Unit, currency: str, *, in_table: bool = False) -> str:
    """A value as a person reads it: :func:`cosell.report_model.display`, as in the table format.

    In a table (``in_table``) the column header names the currency and the days, so the cells
    carry only the number. ``None`` is ``n/a`` (a figure with no value shows its note instead).
    """
    return display(value, unit, currency, bare=in_table)


def format_band(figure: Figure) -> str:
    """A figure's benchmark range in plain words: "benchmark 15-25%" (empty without a band).

    >>> from decimal import Decimal
    >>> from cosell.report_model import Band
    >>> format_band(Figure("k", "l", None, "percent", band=Band(Decimal("0.15"), Decimal("0.25"))))
    'benchmark 15-25%'
    """
    text = benchmark_text(figure)
    return f"benchmark {text}" if text else ""


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
        deals=figure.deals_text(),
        band=format_band(figure),
        verdict=figure.verdict or "",
        note=note,
        beside=tuple(format_figure(b, currency) for b in figure.beside),
    )


NUMERIC_UNITS = frozenset({"money", "percent", "ratio", "days", "count"})


def column_header(label: str, unit: Unit, currency: str) -> str:
    """A table header that names what the cells leave out: "Sourced revenue (USD)", "Cycle (days)"."""
    if unit == "money" and f"({currency})" not in label:
        return f"{label} ({currency})"
    if unit == "days" and "day" not in label.lower():
        return f"{label} (days)"
    return label


def table_cells(table: Table, currency: str) -> tuple[list[str], list[list[CellText]], list[str]]:
    """Headers, each row's cells (the columns printed under another inside its cell, see
    :func:`cosell.reports.cells.printed_cells`) and each column's alignment: "num" (right), "date" or
    "id" (kept on one line, never broken), "" (text, wrapped at spaces)."""
    columns, rows = printed_cells(table, currency)
    headers = [c.label if c.currency_key else column_header(c.label, c.unit, currency) for c in columns]
    aligns = []
    for c in columns:
        is_date = any(isinstance(row.get(c.key), date) for row in table.rows)  # datetime is a date too
        aligns.append(
            "num" if c.unit in NUMERIC_UNITS else "date" if is_date else "id" if c.unit == "id" else ""
        )
    return headers, rows, aligns


def text_markup(text: str) -> Markup:
    r"""Text from data as HTML: shown, never obeyed (:func:`cosell.shown.visible`), then escaped.

    >>> text_markup("Ac\u200bme & Söhne \u202e<b>")
    Markup('Ac\ufffdme &amp; Söhne \ufffd&lt;b&gt;')
    """
    return escape(visible(text))


def _shown(value: Any) -> Any:
    # Jinja's finalize: every text a template prints is shown, never obeyed, then autoescaped, so
    # no {{ }} of the template can forget it. Markup built here (cells, matplotlib's SVG) passes as
    # it is: its text was mapped where it was made, before it was escaped.
    return visible(value) if isinstance(value, str) and not isinstance(value, Markup) else value


def _whole(text: str) -> Markup:
    return Markup('<span class="nw">') + text_markup(text) + Markup("</span>")


def _whole_words(text: str) -> Markup:
    """Text whose hyphenated words (an entry id, a rule name in a sentence) are kept on one line:
    browsers would break "LE-00000236" after its hyphen."""
    return Markup(" ").join(_whole(w) if "-" in w else text_markup(w) for w in text.split(" "))


def cell_markup(cell: CellText, keep_words: bool = False) -> Markup:
    """A cell as escaped HTML: its value, then each value printed under it on a line of its own
    ("Closed: 2026-09-15"); a value that is not free text is kept on one line. ``keep_words`` (a
    table of ids): no word of free text is broken at its hyphens either."""
    out = _whole_words(cell.text) if keep_words else text_markup(cell.text)
    for line in cell.lines:
        value = _whole(line.text) if line.whole else text_markup(line.text)
        out += Markup('<br><span class="sub">') + text_markup(line.label) + Markup(":</span> ") + value
    return out


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("cosell.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_shown,
    )


def _section_view(section: Section, currency: str, marked: frozenset[str]) -> dict[str, Any]:
    table = None
    if section.table is not None:
        headers, rows, aligns = table_cells(section.table, currency)
        keep = any(c.unit == "id" for c in section.table.columns)
        table = {
            "headers": headers,
            # A table of ids (a statement's lines) keeps the ids its free text names whole too.
            "rows": [[cell_markup(c, keep) for c in row] for row in rows],
            "aligns": aligns,
        }
    return {
        "key": section.key,
        "title": section.title,
        "figures": [format_figure(f, currency) for f in section.figures],
        "marked": sorted(marked),
        "table": table,
        # matplotlib's SVG: the one piece of markup not escaped here (it escapes its own text)
        "charts": [
            {"title": c.title, "key": c.key, "svg": Markup(chart_svg(c, currency))} for c in section.charts
        ],
        "notes": list(section.notes),
        "clauses": list(section.clauses),
    }


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page (UTF-8 text); byte-identical for the same report."""
    template = _environment().get_template("report.html.j2")
    return template.render(
        report=report,
        sections=[_section_view(s, report.currency, report.alert_figures) for s in report.sections],
        verdict_colours=VERDICT_COLOURS,
        # Styles for alerts, ids and lines printed under another column, where the page has any.
        ledger_styles=bool(report.alerts)
        or any(c.unit == "id" or c.under for s in report.sections if s.table for c in s.table.columns),
        clause_styles=any(s.clauses for s in report.sections),
    )
