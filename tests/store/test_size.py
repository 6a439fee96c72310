"""A small workspace runs on one thread, a large one on every thread (cosell.store.size): as the
workspace is opened, and after an import that makes it large. What a large input asks for on a
small workspace is tests/data/test_import_settings.py's (a dataset) and tests/attribution/
test_small_input.py's (a run); that the results are the same either way is tests/
test_demo_command.py's (the demo built both ways gives the same bytes)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import cosell.data.load as load_module
import cosell.store.size as size_module
from cosell.data.load import import_canonical
from cosell.store.workspace import open_workspace

sys.path.insert(0, str(Path(__file__).parents[1] / "data"))
from import_fixtures import dataset

from settings_spy import default_threads, threads_of


def test_a_small_workspace_opens_on_one_thread_and_a_large_one_on_every_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ws.duckdb"
    ws = open_workspace(path)
    import_canonical(ws, dataset(tmp_path / "d"), by_user="t")
    ws.close()
    ws = open_workspace(path, read_only=True)
    try:
        assert size_module.small_workspace(ws.con)
        assert threads_of(ws.con) == 1
    finally:
        ws.close()
    monkeypatch.setattr(size_module, "SMALL_WORKSPACE_ROWS", 3)  # it holds 2 deals and 2 touches
    ws = open_workspace(path, read_only=True)
    try:
        assert not size_module.small_workspace(ws.con)
        assert threads_of(ws.con) == default_threads()
    finally:
        ws.close()


def test_an_import_that_makes_a_workspace_large_leaves_it_on_every_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(size_module, "SMALL_WORKSPACE_ROWS", 3)
    folder = dataset(tmp_path / "d")  # 2 deals and 2 touches
    ws = open_workspace(":memory:")
    try:
        assert threads_of(ws.con) == 1  # empty: small
        # A small dataset's import leaves the workspace as it was: the next opening fits it.
        import_canonical(ws, folder, by_user="t")
        assert threads_of(ws.con) == 1
        monkeypatch.setattr(load_module, "SMALL_DATASET_BYTES", 0)  # read as a large dataset
        import_canonical(ws, folder, by_user="t")
        assert threads_of(ws.con) == default_threads()
    finally:
        ws.close()


def test_a_failed_import_leaves_the_workspace_as_it_was(tmp_path: Path) -> None:
    ws = open_workspace(":memory:")
    try:
        before = threads_of(ws.con)
        with pytest.raises(Exception, match="account_id"):
            import_canonical(ws, dataset(tmp_path / "d", accounts=[{"account_id": "", "name": "No id"}]))
        assert threads_of(ws.con) == before == 1
    finally:
        ws.close()
