"""Reconciliation and the gate audit read a deal's close time X (and reconciliation the direct touch
behind a direct-first guard) from the evidence stored with its attribution version, not from the
data again: rows changed behind the run's back (no import) move nothing; a deal without stored
evidence is still read from the data.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from cosell.hygiene.gate import gate_audit
from cosell.hygiene.reconcile import ReconcileResult
from cosell.service.reconcile import reconcile_known as reconcile  # with the account overlap matched
from cosell.store.retests import STORED
from cosell.store.workspace import Workspace, open_workspace

from .test_findings import AS_OF, POLICY, build_workspace, find, kinds_data


@pytest.fixture(scope="module")
def kinds_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("kinds-evidence") / "ws.duckdb"
    build_workspace(path, kinds_data()).close()
    return path


@pytest.fixture()
def ws(kinds_file: Path, tmp_path: Path) -> Iterator[Workspace]:
    copy = tmp_path / "ws.duckdb"
    shutil.copyfile(kinds_file, copy)
    workspace = open_workspace(copy)
    yield workspace
    workspace.close()


@pytest.fixture()
def changed(ws: Workspace) -> Iterator[Workspace]:
    """The kinds workspace with O-OVC's direct touch and every stage entry rewritten in place."""
    ws.con.execute("UPDATE touches SET occurred_at = occurred_at + INTERVAL 1 HOUR WHERE touch_id = 'T-D6'")
    ws.con.execute("UPDATE stage_history SET entered_at = entered_at - INTERVAL 40 DAY")
    yield ws


def test_the_stored_x_and_guard_touch_decide_the_findings(changed: Workspace) -> None:
    result: ReconcileResult = reconcile(changed, POLICY, period="2026-10", as_of=AS_OF, by_user="U-OPS")
    f = find(result, "over_credited", "O-OVC")
    assert f is not None
    assert "direct_touch:T-D6@2026-08-10T12:00:00Z" in f.evidence  # as the run saw it
    assert f.closed_at is not None and f.closed_at.isoformat().startswith("2026-10-15T10:00")


def test_a_deal_without_stored_evidence_is_read_from_the_data(ws: Workspace) -> None:
    ws.con.execute(f"DELETE FROM {STORED['attribution_evidence']} WHERE opportunity_id = 'O-OVC'")
    ws.con.execute(f"DELETE FROM {STORED['attribution_claims']} WHERE opportunity_id = 'O-OVC'")
    ws.con.execute("UPDATE touches SET occurred_at = occurred_at + INTERVAL 1 HOUR WHERE touch_id = 'T-D6'")
    result = reconcile(ws, POLICY, period="2026-10", as_of=AS_OF, by_user="U-OPS")
    f = find(result, "over_credited", "O-OVC")
    assert f is not None
    assert "direct_touch:T-D6@2026-08-10T13:00:00Z" in f.evidence


def test_the_gate_audit_reads_the_stored_entry_into_the_won_stage(ws: Workspace) -> None:
    def entered() -> str:
        found = {v.opportunity_id: v for v in gate_audit(ws.con, POLICY)}
        return found["O-MAC-EMPTY"].entered_won_at.isoformat()

    assert entered() == "2026-10-15T10:00:00+00:00"
    ws.con.execute("UPDATE stage_history SET entered_at = entered_at - INTERVAL 40 DAY")
    assert entered() == "2026-10-15T10:00:00+00:00"  # X as the run decided it
    ws.con.execute(f"DELETE FROM {STORED['attribution_evidence']} WHERE opportunity_id = 'O-MAC-EMPTY'")
    assert entered() == "2026-09-05T10:00:00+00:00"  # no stored evidence: from the data
