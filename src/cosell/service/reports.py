"""Use cases of the reports: build the CFO dashboard, the QBR or the partner league table from a
workspace, and render a report into a format (``cosell report cfo|qbr|partners``; the statements of
:mod:`cosell.service.pay` render the same way). Both read; nothing is recorded.
"""

from __future__ import annotations

from collections.abc import Callable

from cosell.asof import AsOf
from cosell.errors import UsageError
from cosell.outfiles import file_name
from cosell.policy import Policy
from cosell.report_model import Report
from cosell.store.workspace import Workspace

__all__ = ["REPORTS", "Report", "build_report", "render_report", "report_file_name"]

REPORTS = ("cfo", "qbr", "partners")


def _builder(name: str) -> Callable[..., Report]:
    # Imported when asked for: each report pulls in its own metrics and charts.
    if name == "cfo":
        from cosell.reports.cfo import build_cfo

        return build_cfo
    if name == "qbr":
        from cosell.reports.qbr import build_qbr

        return build_qbr
    if name == "partners":
        from cosell.reports.partners import build_partners

        return build_partners
    raise UsageError(f"unknown report {name!r}: one of {', '.join(REPORTS)}")


def build_report(
    ws: Workspace,
    name: str,
    policy: Policy,
    period: str | None,
    at: AsOf | None,
    *,
    viewer: str | None = None,
) -> Report:
    """The report ``name`` (:data:`REPORTS`) for ``period`` (default: the last complete fiscal
    quarter before the as-of instant).

    With ``at``, the data and attribution versions known at K, evaluated as of T (the run
    evaluated then when T was asked for), so the same ``at`` gives the same report after later
    changes; without it, everything recorded so far, as of now (the report says "(now)").

    ``viewer`` is who reads (SPEC section 9, :mod:`cosell.service.readers`): the CFO dashboard and
    the QBR cover the whole program and are refused to a partner user and a rep; the league
    table shows a partner user its own partner's row only, and is refused to a rep.
    """
    from cosell.service.readers import reader, refuse_limited

    build = _builder(name)
    who = reader(ws.con, viewer)
    own = who.partner_id if name == "partners" else None
    if own is None:
        refuse_limited(who, REPORT_NAMES[name])
    scope = {} if own is None else {"partner_id": own}
    if at is None:
        return build(ws.con, policy, period, None, known_at=None, **scope)
    return build(ws.con, policy, period, at.evaluated_at, known_at=at.known_at, **scope)


# What a refusal calls each report.
REPORT_NAMES = {"cfo": "the CFO dashboard", "qbr": "the QBR", "partners": "the partner league table"}


def render_report(report: Report, fmt: str) -> bytes:
    """``report`` as ``fmt`` (table, json, csv, xlsx, html or pdf)."""
    from cosell.reports.render import render

    return render(report, fmt)


def report_file_name(report: Report, fmt: str, name: tuple[str, ...] | None = None) -> str:
    """The file a report is written to when none is given: ``cosell-<name>.<ext>`` (name default:
    ``<report>-<period>``; each part a safe slug, :func:`cosell.outfiles.file_name`, so an id from
    the data keeps the file in the current folder)."""
    from cosell.reports.render import EXTENSIONS

    parts = name or (report.key, report.period)
    return file_name("cosell", *parts, ext=EXTENSIONS[fmt])
