"""The canonical import's settings: a small dataset going into a small workspace is imported under
the engine's small-input settings (DuckDB: no optimizer, one thread), as a ``--data`` run of a
small dataset is (no memory limit: far below it); a large dataset, or any dataset going into a
large workspace, under the memory limit, on every thread. The connection's own settings are back
afterwards (or the workspace's, when the import made it large), and the outcome is the same."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from import_fixtures import content_checksum, dataset

import cosell.data.load as load_module
import cosell.store.size as size_module
from cosell.data.load import import_canonical
from cosell.errors import ImportFailed
from cosell.store.workspace import open_workspace
from settings_spy import default_threads, recorded_settings

FIRST, SECOND = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC)
READ = "SELECT current_setting('enable_optimizer'), current_setting('threads')"


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, str]]:
    """The settings the import asks for, as it asks (they are still applied)."""
    return recorded_settings(monkeypatch, load_module)


def _imported(folder: Path, *, twice: bool = False, after: tuple[str, str] | None = None) -> tuple[Any, Any]:
    """The dataset imported (twice) into a new workspace: its rows' checksum and its imports. The
    settings are put back after each import (``after``: the optimizer's and the threads' the
    workspace is left with, when the import made it large)."""
    ws = open_workspace(":memory:")
    before = ws.con.execute(READ).fetchall()
    import_canonical(ws, folder, by_user="t", now=FIRST)
    if twice:
        import_canonical(ws, folder, by_user="t", now=SECOND)
    read = [tuple(str(v) for v in row) for row in ws.con.execute(READ).fetchall()]
    assert read == ([after] if after else [tuple(str(v) for v in row) for row in before])  # put back
    return content_checksum(ws.con), ws.con.execute("SELECT count(*) FROM imports").fetchall()


def test_a_small_dataset_into_a_small_workspace(tmp_path: Path, asked: list[dict[str, str]]) -> None:
    _imported(dataset(tmp_path / "d"), twice=True)
    assert [a.get("enable_optimizer") for a in asked] == ["false", "false"]
    # Far below the memory limit: not set (and back) for nothing.
    assert all(a.get("threads") == "1" and "memory_limit" not in a for a in asked)


def test_a_large_dataset_has_the_memory_limit_and_every_thread(
    tmp_path: Path, asked: list[dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = dataset(tmp_path / "d")
    small = _imported(folder, twice=True)
    asked.clear()
    monkeypatch.setattr(load_module, "SMALL_DATASET_BYTES", 0)
    assert _imported(folder, twice=True) == small
    # The workspace is small (one thread): the large dataset's statements have DuckDB's default.
    assert [sorted(a.items()) for a in asked] == [[("memory_limit", "3GB"), ("threads", None)]] * 2


def test_a_large_workspace_has_the_memory_limit_and_every_thread(
    tmp_path: Path, asked: list[dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = dataset(tmp_path / "d")
    small = _imported(folder, twice=True)
    asked.clear()
    monkeypatch.setattr(size_module, "SMALL_WORKSPACE_ROWS", 3)  # the first import leaves 2 deals, 2 touches
    # The first import makes the workspace large: it is left on every thread, as it then reads.
    assert _imported(folder, twice=True, after=("True", str(default_threads()))) == small
    assert [(a.get("enable_optimizer"), a.get("threads", "")) for a in asked] == [
        ("false", "1"),
        (None, None),
    ]


def test_settings_are_put_back_when_the_import_fails(tmp_path: Path) -> None:
    folder = dataset(tmp_path / "d", accounts=[{"account_id": "", "name": "No id"}])
    ws = open_workspace(":memory:")
    before = ws.con.execute(READ).fetchall()
    with pytest.raises(ImportFailed):
        import_canonical(ws, folder)
    assert ws.con.execute(READ).fetchall() == before
