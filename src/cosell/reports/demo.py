"""The reports step of ``cosell demo``: the CFO dashboard and the latest complete QBR, as files.

:func:`demo_reports` writes ``cfo-<quarter>.{html,pdf,json}`` and ``qbr-<quarter>.{html,pdf,json}``
into a folder, prints the CFO's four numbers and where the files are, and returns the paths. The
reports are read as of the newest instant the demo recorded (the dataset's as-of instant, or a later
attribution version such as an accepted fix), so the files are the same on every run.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from cosell.asof import instants_line
from cosell.data.demo import DemoManifest
from cosell.outfiles import file_name, write_file
from cosell.policy import Policy
from cosell.report_model import Report
from cosell.reports.cfo import build_cfo
from cosell.reports.qbr import build_qbr
from cosell.reports.render import render
from cosell.reports.text import print_section
from cosell.store.workspace import Workspace

DEMO_FORMATS = ("html", "pdf", "json")


def demo_as_of(ws: Workspace, manifest: DemoManifest) -> datetime:
    """The dataset's as-of instant, or the newest attribution version recorded after it."""
    row = ws.con.execute("SELECT max(run_at) FROM attribution_runs").fetchone()
    newest = row[0].astimezone(UTC) if row and row[0] is not None else manifest.as_of
    return max(manifest.as_of, newest)


def demo_reports(
    ws: Workspace,
    policy: Policy,
    manifest: DemoManifest,
    out_dir: Path,
    console: Console,
    as_of: datetime | None = None,
) -> list[Path]:
    """Write the CFO dashboard and the QBR of the last complete fiscal quarter (html, pdf, json)."""
    when = as_of or demo_as_of(ws, manifest)
    # The numbers as they stood at that instant: the data and attribution versions known then.
    cfo = build_cfo(ws.con, policy, None, known_at=when)
    qbr = build_qbr(ws.con, policy, None, known_at=when)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [*_write(cfo, out_dir), *_write(qbr, out_dir)]
    console.rule(f"CFO dashboard, {cfo.period}")
    console.print(instants_line(when, when), highlight=False)
    print_section(cfo.sections[0], cfo.currency, console)
    for path in paths:
        console.print(f"report: {path}", highlight=False, soft_wrap=True)
    return paths


def _write(report: Report, out_dir: Path) -> list[Path]:
    paths = []
    for fmt in DEMO_FORMATS:
        path = out_dir / file_name(report.key, report.period, ext=fmt)
        write_file(path, render(report, fmt))
        paths.append(path)
    return paths
