"""An import and what it sets off (auto-tags, influence prompts) land together or not at all.

``cosell import canonical`` writes the rows, then the auto-tags, then the prompts. A crash between
the rows and the intake must not leave deals imported without their tags and prompts: the intake
runs inside the import's transaction. Checked with a fault raised inside the intake (in process)
and with a real ``kill -9`` of a child ``cosell import`` paused at the boundary by the test hook of
:mod:`cosell.hygiene.intake` (``COSELL_INTAKE_PAUSE``, ``COSELL_INTAKE_TRACE``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cosell.cli.app import app
from cosell.hygiene.intake import import_with_intake
from cosell.instants import parse_instant
from cosell.policy import Policy
from cosell.store.workspace import open_workspace

COSELL = str(Path(sys.executable).with_name("cosell"))
NOW = "2026-05-01T00:00:00Z"
# The intake tables (tests/hygiene/conftest.py): O1 and O5 come from partner leads (2 auto-tags);
# O2 (P2, P3), O7 (P1, P2) and O10 (P1) have partners joining after creation (prompts).
TAGS = 2


def state(path: Path) -> dict[str, int]:
    """How many imports, current deals, auto-tags and prompts the workspace holds."""
    ws = open_workspace(path)
    try:
        out = {}
        for name, sql in (
            ("imports", "SELECT count(*) FROM imports"),
            ("opportunities", "SELECT count(*) FROM cur_opportunities"),
            ("auto_tags", "SELECT count(*) FROM declarations WHERE source = 'auto_tag'"),
            ("prompts", "SELECT count(*) FROM prompts"),
        ):
            row = ws.con.execute(sql).fetchone()
            out[name] = int(row[0]) if row else -1
        return out
    finally:
        ws.close()


EMPTY = {"imports": 0, "opportunities": 0, "auto_tags": 0, "prompts": 0}


def test_a_fault_in_the_intake_rolls_the_import_back(
    intake_tables: dict[str, list[dict[str, str]]],
    intake_write: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = intake_write(intake_tables)
    path = tmp_path / "ws.duckdb"

    def broken(*_args: object, **_kwargs: object) -> list[object]:
        raise RuntimeError("disk full while issuing prompts")

    monkeypatch.setattr("cosell.hygiene.intake.refresh_prompts", broken)
    result = CliRunner().invoke(
        app, ["import", "canonical", str(folder), "-w", str(path)], env={"COSELL_NOW": NOW}
    )
    assert isinstance(result.exception, RuntimeError)
    assert state(path) == EMPTY  # neither the rows nor the auto-tags written before the fault

    monkeypatch.undo()
    done = CliRunner().invoke(
        app, ["import", "canonical", str(folder), "-w", str(path)], env={"COSELL_NOW": NOW}
    )
    assert done.exit_code == 0, done.output
    after = state(path)
    assert after["imports"] == 1 and after["opportunities"] == 9 and after["auto_tags"] == TAGS
    assert after["prompts"] > 0


@pytest.mark.slow
def test_kill_9_between_the_rows_and_the_intake_leaves_nothing_half_applied(
    intake_tables: dict[str, list[dict[str, str]]], intake_write: Callable[..., Path], tmp_path: Path
) -> None:
    folder = intake_write(intake_tables)
    path = tmp_path / "ws.duckdb"
    trace = tmp_path / "trace"
    env = {**os.environ, "COSELL_NOW": NOW}
    child = subprocess.Popen(
        [COSELL, "import", "canonical", str(folder), "-w", str(path)],
        env={**env, "COSELL_INTAKE_PAUSE": "30", "COSELL_INTAKE_TRACE": str(trace)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    # The rows are written and the intake is about to start once the trace holds its line: the
    # file exists a moment before its line is flushed, and a kill in that moment left it empty.
    while not (trace.exists() and trace.read_text()):
        assert child.poll() is None, "the import ended before it could be killed"
        assert time.monotonic() < deadline, "the import never reached its intake"
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL
    assert trace.read_text() == "intake\n"
    assert state(path) == EMPTY

    done = subprocess.run(
        [COSELL, "import", "canonical", str(folder), "-w", str(path)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert f"auto-tagged {TAGS} deals" in done.stdout
    after = state(path)
    assert after["imports"] == 1 and after["opportunities"] == 9 and after["auto_tags"] == TAGS
    assert after["prompts"] > 0


def test_the_intake_asks_no_catalog_inside_the_import_transaction(
    intake_tables: dict[str, list[dict[str, str]]],
    intake_write: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The intake's tables are known to exist before the import's transaction starts (a query of
    none of their rows): its entry points inside it ask no catalog (8-12 ms each)."""
    folder = intake_write(intake_tables)
    ws = open_workspace(":memory:")
    try:
        asked: list[str] = []
        real = ws.con.execute

        def spy(sql: str, params: object = None) -> object:
            if "information_schema" in sql:
                asked.append(sql)
            return real(sql, params)  # type: ignore[arg-type]

        monkeypatch.setattr(ws.con, "execute", spy)
        _, intake = import_with_intake(ws, folder, Policy(), now=parse_instant(NOW))
        assert intake.tagged == TAGS and intake.prompted > 0
        assert asked == []
    finally:
        ws.close()
