"""The deal table reads X, won/lost and direct-only from the evidence stored with each version; a
version stored without evidence (an older workspace) is read from the data, to the same table.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from metrics_support import AS_OF

from cosell.attribution import engine
from cosell.data.demo import generate_dataset
from cosell.data.load import import_canonical
from cosell.metrics.context import open_metrics
from cosell.metrics.deals import DEALS_TABLE
from cosell.policy import Policy
from cosell.store.attribution_store import save_run
from cosell.store.retests import STORED
from cosell.store.workspace import Workspace, open_workspace

COLUMNS = "opportunity_id, closed_at, won, lost, direct_only, cycle_us, closed_mi, revenue_ws"


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Workspace]:
    manifest = generate_dataset(tmp_path / "data", size=300, seed=11)
    ws = open_workspace(":memory:")
    import_canonical(ws, tmp_path / "data", now=manifest.as_of)
    save_run(ws.con, engine.attribute(ws.con, Policy(), manifest.as_of), "tester", run_at=manifest.as_of)
    yield ws
    ws.close()


def deal_table(ws: Workspace) -> list[tuple[object, ...]]:
    open_metrics(ws.con, Policy(), AS_OF)
    return ws.con.execute(f"SELECT {COLUMNS} FROM {DEALS_TABLE} ORDER BY opportunity_id").fetchall()


def test_x_is_the_stored_one_not_derived_again(demo: Workspace) -> None:
    before = deal_table(demo)
    won = [r for r in before if r[2]]
    assert len(won) > 20
    # Rewrite history behind the run's back (no import): the stored X still decides the table.
    demo.con.execute("DELETE FROM stage_history")
    assert deal_table(demo) == before


def test_versions_without_evidence_are_read_from_the_data_to_the_same_table(demo: Workspace) -> None:
    with_evidence = deal_table(demo)
    demo.con.execute(f"DELETE FROM {STORED['attribution_evidence']}")
    demo.con.execute(f"DELETE FROM {STORED['attribution_claims']}")
    assert deal_table(demo) == with_evidence
    assert sum(1 for r in with_evidence if r[4]) > 20  # many direct-only deals compared
