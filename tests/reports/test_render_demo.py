"""The demo's reports step on a small generated sample: the files it writes and what it prints."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from cosell.attribution.engine import attribute
from cosell.data.demo import generate_dataset
from cosell.data.load import import_canonical
from cosell.policy import Policy
from cosell.reports.demo import demo_reports
from cosell.store.attribution_store import save_run
from cosell.store.workspace import open_workspace


def test_demo_writes_the_cfo_dashboard_and_the_latest_qbr(tmp_path: Path) -> None:
    manifest = generate_dataset(tmp_path / "data", size=300, seed=3)
    policy = Policy()
    ws = open_workspace(":memory:")
    import_canonical(ws, manifest.out_dir, policy=policy, now=manifest.as_of, by_user="test")
    save_run(ws.con, attribute(ws.con, policy, manifest.as_of), "test", run_at=manifest.as_of)
    out = io.StringIO()
    console = Console(file=out, width=200)
    paths = demo_reports(ws, policy, manifest, tmp_path / "reports", console)
    names = [p.name for p in paths]
    assert names == [
        "cfo-2026-Q3.html",
        "cfo-2026-Q3.pdf",
        "cfo-2026-Q3.json",
        "qbr-2026-Q3.html",
        "qbr-2026-Q3.pdf",
        "qbr-2026-Q3.json",
    ]
    cfo = json.loads(paths[2].read_text())
    assert cfo["report"] == "cfo" and next(iter(cfo["sections"])) == "headline"
    assert paths[1].read_bytes().startswith(b"%PDF") and paths[4].read_bytes().startswith(b"%PDF")
    assert "<svg" in paths[0].read_text()
    printed = out.getvalue()
    assert "Partner-sourced pipeline" in printed and f"report: {paths[0]}" in printed
    # The same workspace gives the same files.
    again = demo_reports(ws, policy, manifest, tmp_path / "again", Console(file=io.StringIO()))
    assert [p.read_bytes() for p in again if p.suffix != ".pdf"] == [
        p.read_bytes() for p in paths if p.suffix != ".pdf"
    ]
