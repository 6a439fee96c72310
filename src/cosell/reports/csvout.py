"""A report as one CSV file: blocks of rows, each starting with a ``section`` column.

Layout (docs/metrics.md): blocks separated by an empty line, each with its own header row.

- ``report`` block: ``section,field,value``: title, subtitle, currency, then each fact; then, for
  a report with alerts (a statement), one ``alert`` row per alert: its key and its text when raised
  (empty when not);
- per section, a figures block (when it has figures): ``section,figure,part_of,label,value,unit,
  deals,deals_label,band_low,band_high,verdict,note``; a figure shown beside another names that
  one in ``part_of``;
- per section, a table block (when it has a table): ``section`` then the table's column keys.

Values are exact (decimal strings as in the JSON format: percents as fractions); no value is an
empty cell. Cells are written by :func:`cosell.cells.write_csv`: a text cell that starts with ``=``,
``+``, ``-``, ``@`` (or a tab or carriage return) is prefixed with ``'`` so that a spreadsheet never
runs it as a formula; numbers stay numbers.
"""

from __future__ import annotations

from decimal import Decimal

from cosell.cells import FORMULA_STARTS, safe_text, write_csv
from cosell.reports.jsonout import with_minor_digits
from cosell.reports.model import Figure, Report, Unit, Value

__all__ = ["FORMULA_STARTS", "cell", "flat_figures", "render_csv", "safe_text"]
FIGURE_COLUMNS = (
    "figure",
    "part_of",
    "label",
    "value",
    "unit",
    "deals",
    "deals_label",
    "band_low",
    "band_high",
    "verdict",
    "note",
)


def cell(value: Value, unit: Unit = "text", currency: str = "") -> Value:
    """A CSV cell's typed value (:func:`cosell.cells.write_csv` writes and escapes it): money with
    the currency's minor-unit digits, as in json (zero is ``0.00``); a count held as a whole
    Decimal is written as an integer."""
    if isinstance(value, Decimal) and unit == "money" and currency:
        return with_minor_digits(value, currency)
    if isinstance(value, Decimal) and unit == "count" and value == value.to_integral_value():
        return int(value)
    return value


def flat_figures(figures: tuple[Figure, ...], parent: str = "") -> list[tuple[Figure, str]]:
    """Each figure with the key of the figure it is shown beside ("" for a headline figure)."""
    out: list[tuple[Figure, str]] = []
    for f in figures:
        out.append((f, parent))
        out.extend(flat_figures(f.beside, f.key))
    return out


def render_csv(report: Report) -> bytes:
    """The report as CSV (UTF-8, ``\\n`` line ends)."""
    blocks: list[list[list[Value]]] = []
    head: list[list[Value]] = [["section", "field", "value"]]
    head += [
        ["report", key, cell(value)]
        for key, value in (
            ("title", report.title),
            ("subtitle", report.subtitle),
            ("currency", report.currency),
        )
    ]
    head += [["report", cell(label), cell(value)] for label, value in report.facts]
    if report.coverage is not None and report.coverage.note:
        head.append(["report", "coverage", cell(report.coverage.note)])
    # Alerts (a statement's): every one by key, its text when raised, empty when not.
    head += [["alert", cell(a.key), cell(a.text if a.raised else "")] for a in report.alerts]
    blocks.append(head)
    for section in report.sections:
        key = cell(section.key)
        if section.figures:
            rows: list[list[Value]] = [["section", *FIGURE_COLUMNS]]
            for f, parent in flat_figures(section.figures):
                rows.append(
                    [
                        key,
                        cell(f.key),
                        cell(parent),
                        cell(f.label),
                        cell(f.value, f.unit, report.currency),
                        f.unit,
                        f.deals,
                        cell(f.deals_label),
                        None if f.band is None else f.band.low,
                        None if f.band is None else f.band.high,
                        f.verdict or "",
                        cell(f.note),
                    ]
                )
            blocks.append(rows)
        if section.table is not None:
            columns = section.table.columns
            rows = [["section", *(cell(c.key) for c in columns)]]
            rows += [
                [key, *(cell(r.get(c.key), c.unit, report.currency) for c in columns)]
                for r in section.table.rows
            ]
            blocks.append(rows)
    lines: list[list[Value]] = []
    for i, block in enumerate(blocks):
        if i:
            lines.append([])
        lines.extend(block)
    return write_csv(lines).encode()
