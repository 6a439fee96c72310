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
empty cell. A text cell that starts with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return)
is prefixed with ``'`` so that a spreadsheet never runs it as a formula; numbers stay numbers.
"""

from __future__ import annotations

import csv
import io

from cosell.reports.jsonout import json_value
from cosell.reports.model import Figure, Report, Unit, Value

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
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


def safe_text(text: str) -> str:
    """Text a spreadsheet will not run as a formula (SPEC section 9)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell(value: Value, unit: Unit = "text", currency: str = "") -> str:
    """A CSV cell: exact numbers (money with the currency's minor-unit digits, as in json),
    escaped text, empty for no value."""
    if value is None:
        return ""
    if isinstance(value, str):
        return safe_text(value)
    return str(json_value(value, unit, currency))


def flat_figures(figures: tuple[Figure, ...], parent: str = "") -> list[tuple[Figure, str]]:
    """Each figure with the key of the figure it is shown beside ("" for a headline figure)."""
    out: list[tuple[Figure, str]] = []
    for f in figures:
        out.append((f, parent))
        out.extend(flat_figures(f.beside, f.key))
    return out


def render_csv(report: Report) -> bytes:
    """The report as CSV (UTF-8, ``\\n`` line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    blocks: list[list[list[str]]] = []
    head = [["section", "field", "value"]]
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
            rows = [["section", *FIGURE_COLUMNS]]
            for f, parent in flat_figures(section.figures):
                rows.append(
                    [
                        key,
                        cell(f.key),
                        cell(parent),
                        cell(f.label),
                        cell(f.value, f.unit, report.currency),
                        f.unit,
                        "" if f.deals is None else str(f.deals),
                        cell(f.deals_label),
                        "" if f.band is None else str(f.band.low),
                        "" if f.band is None else str(f.band.high),
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
    for i, block in enumerate(blocks):
        if i:
            writer.writerow([])
        writer.writerows(block)
    return buffer.getvalue().encode()
