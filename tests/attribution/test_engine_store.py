"""Attribution history is append-only, and overrides (rule OVR) apply as of when they were known."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import pytest

from cosell.attribution.engine import attribute, check_model
from cosell.errors import NotFound, UsageError
from cosell.instants import parse_instant
from cosell.store.attribution_store import (
    list_runs,
    record_override,
    run_rows,
    save_run,
    withdraw_override,
)
from cosell.store.workspace import Workspace

sys.path.insert(0, str(Path(__file__).parent))
from engine_support import workspace_with

AS_OF = parse_instant("2026-06-30")
TABLES = {
    "accounts": [{"account_id": "A1", "name": "a", "segment": "ENT"}],
    "partners": [
        {"partner_id": "P1", "name": "p1", "partner_type": "referral"},
        {"partner_id": "P2", "name": "p2", "partner_type": "co_sell"},
    ],
    "opportunities": [
        {
            "opportunity_id": "O1",
            "account_id": "A1",
            "created_at": "2026-01-10",
            "amount": "1000.00",
            "stage": "Closed Won",
            "close_date": "2026-03-01",
        },
        {
            "opportunity_id": "O2",
            "account_id": "A1",
            "created_at": "2026-02-10",
            "amount": "500.00",
            "stage": "Open",
        },
    ],
    "touches": [
        {
            "touch_id": "T1",
            "occurred_at": "2026-01-01",
            "account_id": "A1",
            "actor": "partner",
            "kind": "intro",
            "partner_id": "P1",
        },
    ],
}


@pytest.fixture
def ws() -> Workspace:
    workspace = workspace_with(TABLES)
    yield workspace  # type: ignore[misc]
    workspace.close()


def test_a_second_run_adds_a_version_and_leaves_the_first_intact(ws: Workspace) -> None:
    first = save_run(ws.con, attribute(ws.con, as_of=AS_OF), "ana", "month end")
    before = run_rows(ws.con, first.run_id)
    record_override(
        ws.con, "O1", "none", None, "finance", "dispute accepted", recorded_at=AS_OF - timedelta(days=1)
    )
    second = save_run(ws.con, attribute(ws.con, as_of=AS_OF, model="even"), "bo", "after dispute")
    assert (first.run_id, second.run_id) == (1, 2)
    assert run_rows(ws.con, first.run_id) == before
    rows, credits = run_rows(ws.con)  # the newest
    assert {r.opportunity_id: r.tier for r in rows} == {"O1": "none", "O2": "sourced"}
    assert "OVR" in next(r.rules for r in rows if r.opportunity_id == "O1")
    assert [c.opportunity_id for c in credits] == ["O2"]
    assert [(r.run_id, r.by_user, r.model) for r in list_runs(ws.con)] == [
        (1, "ana", "role_weighted"),
        (2, "bo", "even"),
    ]
    counts = ws.con.execute(
        "SELECT run_id, count(*) FROM attribution_history GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert counts == [(1, 2), (2, 2)]
    latest = ws.con.execute("SELECT DISTINCT run_id FROM attribution_latest").fetchall()
    assert latest == [(2,)]


def test_sourced_override_names_the_sourcer_and_demotes_the_computed_one(ws: Workspace) -> None:
    record_override(
        ws.con, "O1", "sourced", "P2", "ops", "registration found", recorded_at=AS_OF - timedelta(days=2)
    )
    run = attribute(ws.con, as_of=AS_OF)
    row = next(r for r in run.rows() if r.opportunity_id == "O1")
    assert (row.tier, row.primary_partner_id) == ("sourced", "P2")
    assert row.rules == "S3 OVR"
    roles = {c.partner_id: (c.role, c.amount) for c in run.credit_rows() if c.opportunity_id == "O1"}
    assert roles == {"P1": ("influencer", "230.77"), "P2": ("sourcer", "769.23")}


def test_overrides_apply_as_of_when_known_and_until_withdrawn(ws: Workspace) -> None:
    oid = record_override(
        ws.con, "O2", "none", None, "ops", "not a partner deal", recorded_at=AS_OF + timedelta(days=1)
    )
    assert (
        next(r for r in attribute(ws.con, as_of=AS_OF).rows() if r.opportunity_id == "O2").tier == "sourced"
    )
    later = AS_OF + timedelta(days=2)
    assert next(r for r in attribute(ws.con, as_of=later).rows() if r.opportunity_id == "O2").tier == "none"
    withdraw_override(ws.con, oid, at=AS_OF + timedelta(days=3), by_user="u-ops", reason="void")
    after = AS_OF + timedelta(days=4)
    assert (
        next(r for r in attribute(ws.con, as_of=after).rows() if r.opportunity_id == "O2").tier == "sourced"
    )
    with pytest.raises(UsageError):
        withdraw_override(ws.con, oid, by_user="u-ops", reason="again")
    with pytest.raises(NotFound):
        withdraw_override(ws.con, "OVR-999999", by_user="u-ops", reason="none")


def test_override_and_model_validation(ws: Workspace) -> None:
    with pytest.raises(UsageError, match="names the sourcing partner"):
        record_override(ws.con, "O1", "sourced", None, "ops", "why")
    with pytest.raises(UsageError, match="tier must be one of"):
        record_override(ws.con, "O1", "gold", "P1", "ops", "why")
    with pytest.raises(UsageError, match="did you mean time_decay"):
        check_model("time_decy")
