"""Every reading command opens the workspace read-only, so it runs while another process reads it.

A small demo company is built once (the session's ``small_demo``); a child process then holds its workspace read-only (as a
running report would), and each reader runs as a real ``cosell`` process beside it with
``COSELL_LOCK_TIMEOUT=0``: a command that opened the workspace read-write would find it busy.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cosell.store.workspace import open_workspace

COSELL = str(Path(sys.executable).with_name("cosell"))
HOLD = "import sys, duckdb; c = duckdb.connect(sys.argv[1], read_only=True); print('ready', flush=True); sys.stdin.read()"


def _first(path: Path, sql: str) -> str:
    ws = open_workspace(path, read_only=True)
    try:
        row = ws.con.execute(sql).fetchone()
    finally:
        ws.close()
    assert row is not None and row[0] is not None, sql
    return str(row[0])


def readers(path: Path, scratch: Path) -> Iterator[list[str]]:
    """Each reading command, with ids that exist in the demo workspace."""
    deal = _first(path, "SELECT min(opportunity_id) FROM attribution_history")
    partner, period = (
        _first(path, "SELECT min(party_id) FROM ledger_entries WHERE party_kind = 'partner'"),
        _first(path, "SELECT max(period) FROM ledger_entries"),
    )
    finding = _first(path, "SELECT min(finding_id) FROM findings")
    as_of = "2026-11-01T00:00:00Z"
    proposed = scratch / "proposed-policy.toml"  # beside, not in, the shared demo's folder
    proposed.write_text("[windows]\nsourcing_lookback_days = 90\n", encoding="utf-8")
    yield from (
        ["report", "cfo", "--period", "2026-Q3", "--as-of", as_of, "--format", "json"],
        ["report", "qbr", "--quarter", "2026-Q3", "--as-of", as_of, "--format", "json"],
        ["report", "partners", "--period", "2026-Q3", "--as-of", as_of, "--format", "json"],
        ["explain", deal, "--as-of", as_of],
        ["history", deal],
        ["gate", "audit", "--format", "json"],
        ["payouts", "list", "--format", "json"],
        ["payouts", "ledger", "--period", period, "--format", "json"],
        ["payouts", "statement", "--partner", partner, "--period", period, "--format", "json"],
        ["plans", "list", "--format", "json"],
        ["findings", "list", "--format", "json"],
        ["findings", "show", finding, "--format", "json"],
        ["dispute", "list", "--format", "json"],
        ["prompts", "--as-of", as_of, "--format", "json"],
        ["simulate", "--policy", str(proposed), "--as-of", as_of, "--format", "json"],
    )


@pytest.mark.slow
def test_every_reader_runs_beside_another_reader(small_demo: Path, tmp_path: Path) -> None:
    demo = small_demo
    commands = list(readers(demo, tmp_path))
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(demo)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    env = {**os.environ, "COSELL_LOCK_TIMEOUT": "0", "COLUMNS": "200"}
    failed = []
    try:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        for args in commands:
            done = subprocess.run([COSELL, *args, "-w", str(demo)], env=env, capture_output=True, text=True)
            if done.returncode != 0 or not done.stdout.strip():
                failed.append((args[:2], done.returncode, done.stderr[-300:]))
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=60)
    assert failed == []
