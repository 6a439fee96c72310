"""Two processes on one workspace: readers side by side, a writer alone, and a clear word when busy.

A child process holds the workspace file (read-only like a running report, or read-write like a
running import) through DuckDB directly; the ``cosell`` commands under test run as real processes
beside it. A reader never waits for a reader; anyone who meets a conflicting holder waits up to
``$COSELL_LOCK_TIMEOUT`` seconds, then exits 1 naming the holder's PID, never with a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cosell.engine import ReadOnlyViolation
from cosell.engine.duckdb_engine import lock_timeout, parse_holder
from cosell.engine.duckdb_engine import open_duckdb as open_database
from cosell.errors import CosellError, UsageError, WorkspaceBusy
from cosell.store import workspace as ws_module
from cosell.store.workspace import SCHEMA_VERSION, open_workspace

COSELL = str(Path(sys.executable).with_name("cosell"))
HOLD = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "ro")
    print("ready", flush=True)
    time.sleep(float(sys.argv[3])) if len(sys.argv) > 3 else sys.stdin.read()
    con.close()
    """
)


@contextmanager
def held(path: Path, mode: str, seconds: float | None = None) -> Iterator[subprocess.Popen[str]]:
    """A child process holding ``path`` read-only (``ro``) or read-write (``rw``) until the block
    ends (or for ``seconds``)."""
    args = [sys.executable, "-c", HOLD, str(path), mode] + ([str(seconds)] if seconds is not None else [])
    child = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        yield child
    finally:
        if child.stdin is not None:
            child.stdin.close()
        child.wait(timeout=60)


def cosell(*args: str, timeout: str = "0") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "COSELL_LOCK_TIMEOUT": timeout,
        "COSELL_NOW": "2026-05-01T00:00:00Z",
        "COLUMNS": "120",
    }
    return subprocess.run([COSELL, *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    out = tmp_path / "ws.duckdb"
    open_workspace(out).close()
    return out


def test_a_reader_runs_while_another_process_reads(path: Path) -> None:
    with held(path, "ro"):
        done = cosell("plans", "list", "-w", str(path))
    assert done.returncode == 0, done.stderr
    assert "no plan versions loaded" in done.stdout


def test_a_writer_meeting_a_reader_waits_then_names_it(path: Path) -> None:
    with held(path, "ro") as child:
        done = cosell("init", "-w", str(path), timeout="0.5")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "IOException" not in done.stderr
    assert f"process {child.pid} (" in done.stderr
    assert "is reading it, so this command cannot write to it; waited 0.5 s" in done.stderr
    assert "waiting up to 0.5 s (COSELL_LOCK_TIMEOUT)" in done.stderr  # said before waiting


def test_a_reader_meeting_a_writer_waits_then_names_it(path: Path) -> None:
    with held(path, "rw") as child:
        done = cosell("payouts", "ledger", "-w", str(path), timeout="0.5")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert f"process {child.pid} (" in done.stderr
    assert "is writing to it, so this command cannot read it" in done.stderr


def test_a_writer_gets_the_workspace_once_the_holder_lets_go(path: Path) -> None:
    env = {**os.environ, "COSELL_LOCK_TIMEOUT": "60", "COLUMNS": "200"}
    with held(path, "rw") as child:
        writer = subprocess.Popen(
            [COSELL, "init", "-w", str(path)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert writer.stderr is not None
        first = writer.stderr.readline()  # it says it waits, then waits: the holder lets go now
        assert first.startswith(f"the workspace is busy: process {child.pid} (")
        assert "has it open for writing; waiting up to 60 s (COSELL_LOCK_TIMEOUT)" in first
    out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err
    assert "ready (schema version" in out


def test_a_bad_lock_timeout_is_bad_usage(path: Path) -> None:
    done = cosell("plans", "list", "-w", str(path), timeout="soon")
    assert done.returncode == 2
    assert "COSELL_LOCK_TIMEOUT: 'soon' is not a number of seconds from 0 to 86400" in done.stderr


@pytest.mark.parametrize("text", ["", "12.5", "0", "86400"])
def test_lock_timeout_reads_the_environment(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COSELL_LOCK_TIMEOUT", text)
    assert lock_timeout() == {"": 30.0, "12.5": 12.5, "0": 0.0, "86400": 86400.0}[text]


@pytest.mark.parametrize("text", ["-1", "nan", "inf", "86401", "1e9"])
def test_lock_timeout_out_of_range_is_refused(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COSELL_LOCK_TIMEOUT", text)
    with pytest.raises(UsageError, match="COSELL_LOCK_TIMEOUT"):
        lock_timeout()


def test_parse_holder_reads_duckdbs_message() -> None:
    writer = (
        'IO Error: Could not set lock on file "/w.duckdb": Conflicting lock is held in '
        "/usr/bin/python3.11 (PID 999999999). See also https://duckdb.org/docs/current/connect/concurrency"
    )
    reader = writer.replace(". See also", ". However, you would be able to open this database in read-only "
                            "mode, e.g. by using the -readonly parameter in the CLI. See also")  # fmt: skip
    held_rw = parse_holder(writer, read_only=False)
    assert held_rw is not None and (held_rw.pid, held_rw.program, held_rw.writing) == (
        999999999, "/usr/bin/python3.11", True)  # fmt: skip
    held_ro = parse_holder(reader, read_only=False)
    assert held_ro is not None and not held_ro.writing
    assert str(held_ro) == "process 999999999 (/usr/bin/python3.11)"
    assert parse_holder("IO Error: disk full", read_only=False) is None


def test_the_holders_command_line_is_shown_when_the_system_shows_it(path: Path) -> None:
    with held(path, "rw") as child, pytest.raises(WorkspaceBusy) as caught:
        open_database(str(path), timeout=0)
    assert f"process {child.pid} (python" in str(caught.value)
    assert " -c " in str(caught.value)  # the child's command line, not only its executable


def test_a_read_only_workspace_refuses_writes(path: Path) -> None:
    ws = open_workspace(path, read_only=True)
    try:
        assert ws.read_only
        with pytest.raises(ReadOnlyViolation, match="read-only"):
            ws.con.execute("INSERT INTO imports VALUES (1, now(), 'x', 'y', 'z', 'w')")
    finally:
        ws.close()


def test_a_reader_on_an_older_workspace_has_it_migrated_first(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    applied: list[str] = []
    newer = (*ws_module.MIGRATIONS, (SCHEMA_VERSION + 1, "a later step", lambda _con: applied.append("ran")))
    monkeypatch.setattr(ws_module, "MIGRATIONS", newer)
    monkeypatch.setattr(ws_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    ws = open_workspace(path, read_only=True)
    try:
        assert applied == ["ran"] and ws.read_only and ws.schema_version == SCHEMA_VERSION + 1
    finally:
        ws.close()


def test_a_reader_needs_an_existing_workspace(tmp_path: Path) -> None:
    with pytest.raises(CosellError, match="no workspace at"):
        open_workspace(tmp_path / "none.duckdb", read_only=True)
    assert not (tmp_path / "none.duckdb").exists()
