"""Render a :class:`~cosell.report_model.Report` in any format, looked up by name.

>>> FORMATS
('table', 'json', 'csv', 'xlsx', 'html', 'pdf')

Every renderer takes the same report and computes nothing, so every format shows the same numbers.
``table`` is plain text (the terminal prints it with styles), ``json`` and ``csv`` are UTF-8 text,
``xlsx`` and ``pdf`` are binary, ``html`` is one self-contained UTF-8 page. An unknown format is a
UsageError that suggests the closest name.
"""

from __future__ import annotations

from collections.abc import Callable

from cosell.errors import UsageError, did_you_mean
from cosell.report_model import Report

FORMATS = ("table", "json", "csv", "xlsx", "html", "pdf")
BINARY_FORMATS = frozenset({"xlsx", "pdf"})
EXTENSIONS = {"table": "txt", "json": "json", "csv": "csv", "xlsx": "xlsx", "html": "html", "pdf": "pdf"}


def _table(report: Report) -> bytes:
    from cosell.reports.text import render_text

    return render_text(report).encode()


def _json(report: Report) -> bytes:
    from cosell.reports.jsonout import render_json

    return render_json(report)


def _csv(report: Report) -> bytes:
    from cosell.reports.csvout import render_csv

    return render_csv(report)


def _xlsx(report: Report) -> bytes:
    from cosell.reports.xlsx import render_xlsx

    return render_xlsx(report)


def _html(report: Report) -> bytes:
    from cosell.reports.html import render_html

    return render_html(report).encode()


def _pdf(report: Report) -> bytes:
    from cosell.reports.pdf import render_pdf

    return render_pdf(report)


# Imported on use: the html and pdf renderers load jinja2, matplotlib and reportlab.
_RENDERERS: dict[str, Callable[[Report], bytes]] = {
    "table": _table,
    "json": _json,
    "csv": _csv,
    "xlsx": _xlsx,
    "html": _html,
    "pdf": _pdf,
}


def check_format(fmt: str) -> str:
    """The format name if known; else a UsageError naming the closest one."""
    if fmt in _RENDERERS:
        return fmt
    hint = did_you_mean(fmt, FORMATS)
    raise UsageError(f"unknown report format {fmt!r}{hint}: one of {', '.join(FORMATS)}")


def render(report: Report, fmt: str) -> bytes:
    """The report in format ``fmt`` (one of :data:`FORMATS`) as bytes."""
    return _RENDERERS[check_format(fmt)](report)
