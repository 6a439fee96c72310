"""A small run's settings: a run over few deals (and the ``--data`` import of a small dataset) is
planned without DuckDB's optimizer, on one thread (issue 13 item 6: a hundred deals well under a
second). The settings change how the engine plans, never what it finds: the same dataset gives the
same rows, credits and evidence with and without them, and the connection's own settings are put
back after the run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import cosell.attribution.engine as engine_module
import cosell.data.load as load_module
from cosell.attribution.engine import attribute
from cosell.data.demo import generate_dataset
from cosell.data.load import load_dataset
from cosell.engine import memory_engine, settings
from cosell.store.workspace import as_of_views
from settings_spy import recorded_settings

SIZE = 150  # deals: some of every tier, and a run's Python steps below their Arrow threshold


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    folder = tmp_path_factory.mktemp("small") / "data"
    manifest = generate_dataset(folder, size=SIZE, seed=11)
    return folder, manifest.as_of


def _run(folder: Path, as_of: Any) -> tuple[tuple[list[Any], list[Any], Any], bool]:
    """The run's rows, credits and evidence; whether its workspace planned with the optimizer."""
    ws = load_dataset(folder)
    try:
        optimizer = ws.con.execute("SELECT current_setting('enable_optimizer')").fetchall()[0][0]
        as_of_views(ws.con, None, existing_at=as_of)
        run = attribute(ws.con, None, as_of, make_views=False)
        return (run.rows(), run.credit_rows(), run.evidence_rows()), bool(optimizer)
    finally:
        ws.close()


def test_a_small_run_finds_what_a_tuned_run_finds(
    dataset: tuple[Path, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, as_of = dataset
    asked = recorded_settings(monkeypatch, engine_module)
    small, optimizer = _run(folder, as_of)
    assert asked[-1]["enable_optimizer"] == "false" and asked[-1]["threads"] == "1"
    assert "memory_limit" not in asked[-1]  # far below it: not set (and back) for nothing
    assert not optimizer  # the small dataset's workspace plans without it

    # The same dataset read as large: the optimizer plans every statement, on every thread.
    monkeypatch.setattr(engine_module, "SMALL_RUN_DEALS", 0)
    monkeypatch.setattr(load_module, "SMALL_DATASET_BYTES", 0)
    tuned, optimizer = _run(folder, as_of)
    assert "enable_optimizer" not in asked[-1] and asked[-1]["threads"] is None  # DuckDB's default
    assert asked[-1]["memory_limit"] == engine_module.DEFAULT_MEMORY_LIMIT
    assert optimizer

    rows, credits, evidence = small
    assert len(rows) == SIZE and {r.tier for r in rows} >= {"sourced", "influenced", "none"}
    assert credits and evidence[0]
    assert small == tuned


def test_settings_put_back_what_the_connection_had() -> None:
    con = memory_engine()
    try:
        con.execute("SET threads = 2")
        read = "SELECT current_setting('threads'), current_setting('enable_optimizer')"
        with settings(con, {"threads": "1", "enable_optimizer": "false"}):
            assert con.execute(read).fetchall() == [(1, False)]
        assert con.execute(read).fetchall() == [(2, True)]
        with pytest.raises(RuntimeError), settings(con, {"threads": "1"}):
            raise RuntimeError("a failed block")
        assert con.execute(read).fetchall() == [(2, True)]
    finally:
        con.close()
