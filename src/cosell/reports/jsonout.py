"""A report as JSON with stable keys (documented in docs/metrics.md).

Shape::

    {"report": "cfo", "title": ..., "subtitle": ..., "currency": "USD",
     "as_of": "2026-11-01T00:00:00Z",
     "coverage": {"period", "start", "end", "ended", "data_until", "complete", "note"} | null,
     "facts": [{"label": ..., "value": ...}, ...],
     "alerts": {"<alert key>": {"label", "raised", "text", "figure"}},   (reports with alerts only)
     "sections": {"<section key>": {
         "title": ..., "notes": [...],
         "figures": {"<figure key>": {"label", "value", "unit", "deals", "deals_label", "note",
                                      "band": {"low", "high", "source"} | null, "verdict",
                                      "beside": {"<figure key>": {...}}}},
         "table": {"columns": [{"key", "label", "unit"}], "rows": [{"<column key>": value}]} | null,
         "charts": {"<chart key>": {"title", "kind", "unit", "y_label", "categories": [...],
                                    "series": [{"name", "values": [...]}],
                                    "bands": [{"series", "low", "high", "source"}]}}}}}

Exact values: money, percents (as fractions: 0.25 is 25%), ratios and days are decimal strings,
money always with the currency's minor-unit digits (``"0.00"``, never ``"0"``); counts are integers; dates ``YYYY-MM-DD``; instants ISO 8601 UTC (a fraction of a second only when there is one); no value is ``null`` (and the
figure's note says why). Objects keep the report's order; the same report gives the same bytes.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from cosell.instants import format_instant, json_instant
from cosell.money import minor_unit
from cosell.report_model import (
    Band,
    Chart,
    Coverage,
    Figure,
    Report,
    Section,
    Table,
    Unit,
    Value,
    cell_currency,
)


def json_value(value: Value, unit: Unit = "text", currency: str = "") -> Any:
    """A typed value as JSON: decimals as exact strings, counts as integers, money in ``currency``
    with its minor-unit digits (a sum that started from ``Decimal(0)`` is ``"0.00"``, not ``"0"``).

    >>> json_value(Decimal(0), "money", "USD"), json_value(Decimal("12.5"), "money", "USD")
    ('0.00', '12.50')
    >>> json_value(Decimal("1500"), "money", "JPY"), json_value(Decimal(3), "count")
    ('1500', 3)
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        if unit == "count" and value == value.to_integral_value():
            return int(value)
        if unit == "money" and currency:
            return str(with_minor_digits(value, currency))
        return str(value)
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def with_minor_digits(amount: Decimal, currency: str) -> Decimal:
    """``amount`` written with at least the currency's minor-unit digits. Only zeros are added:
    amounts are already rounded once to the minor unit, and a writer never rounds again."""
    digits = minor_unit(currency)
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -digits:
        return amount.quantize(Decimal(1).scaleb(-digits))
    return amount


def _band(band: Band | None) -> dict[str, Any] | None:
    if band is None:
        return None
    return {"low": str(band.low), "high": str(band.high), "source": band.source}


def _figure(f: Figure, currency: str) -> dict[str, Any]:
    return {
        "label": f.label,
        "value": json_value(f.value, f.unit, currency),
        "unit": f.unit,
        "deals": f.deals,
        "deals_label": f.deals_label,
        "note": f.note,
        "band": _band(f.band),
        "verdict": f.verdict,
        "beside": {b.key: _figure(b, currency) for b in f.beside},
    }


def _table(t: Table | None, currency: str) -> dict[str, Any] | None:
    if t is None:
        return None
    return {
        "columns": [{"key": c.key, "label": c.label, "unit": c.unit} for c in t.columns],
        "rows": [
            {c.key: json_value(r.get(c.key), c.unit, cell_currency(c, r, currency)) for c in t.columns}
            for r in t.rows
        ],
    }


def _chart(c: Chart, currency: str) -> dict[str, Any]:
    return {
        "title": c.title,
        "kind": c.kind,
        "unit": c.unit,
        "y_label": c.y_label,
        "categories": list(c.categories),
        "series": [
            {"name": s.name, "values": [json_value(v, c.unit, currency) for v in s.values]} for s in c.series
        ],
        "bands": [{"series": name, **(_band(b) or {})} for name, b in c.bands],
    }


def _section(s: Section, currency: str) -> dict[str, Any]:
    return {
        "title": s.title,
        "notes": list(s.notes),
        "figures": {f.key: _figure(f, currency) for f in s.figures},
        "table": _table(s.table, currency),
        "charts": {c.key: _chart(c, currency) for c in s.charts},
    }


def _coverage(c: Coverage | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {
        "period": c.period,
        "start": format_instant(c.start),
        "end": format_instant(c.end),
        "ended": c.ended,
        "data_until": json_instant(c.data_until),
        "complete": c.complete,
        "note": c.note,
    }


def report_json(report: Report) -> dict[str, Any]:
    """The report as a JSON-ready dict (the documented stable keys). A report with alerts (a
    statement) lists every one of them, raised or not, under ``alerts``."""
    out: dict[str, Any] = {
        "report": report.key,
        "title": report.title,
        "subtitle": report.subtitle,
        "currency": report.currency,
        "as_of": json_instant(report.as_of),
        "coverage": _coverage(report.coverage),
        "facts": [{"label": label, "value": value} for label, value in report.facts],
    }
    if report.alerts:
        out["alerts"] = {
            a.key: {"label": a.label, "raised": a.raised, "text": a.text, "figure": a.figure or None}
            for a in report.alerts
        }
    out["sections"] = {s.key: _section(s, report.currency) for s in report.sections}
    return out


def render_json(report: Report) -> bytes:
    """UTF-8 JSON, indented, with a final newline."""
    return (json.dumps(report_json(report), indent=2, ensure_ascii=False) + "\n").encode()
