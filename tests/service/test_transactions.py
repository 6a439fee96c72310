"""Each write use case is one transaction, owned by the service: a failure in the middle of it (after
some of its rows were written) leaves nothing of it applied.

The capabilities the services call open no transaction of their own any more, so each test here
fails when its service does not wrap the use case in one: the rows written before the fault stay.
A fault is a capability step replaced by one that raises, at the point named in each test.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cosell.asof import AsOf
from cosell.instants import parse_instant
from cosell.service import disputes, pay, reconcile
from cosell.service.workspace import Workspace, open_workspace

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pay"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ledger_support import PRICER, PayWorld, at

from hygiene.test_findings import POLICY, build_workspace, kinds_data

NOW = "2026-11-03T09:00:00Z"
REVIEW_TABLES = (
    "findings", "reconciliations", "finding_decisions", "attribution_overrides", "attribution_runs",
    "attribution_history", "credit_history", "attribution_changes", "disputes", "dispute_decisions",
)  # fmt: skip
PAY_TABLES = ("ledger_entries", "ledger_postings", "payout_runs", "payout_run_lines", "payout_approvals")


class Fault(Exception):
    """The failure planted in the middle of a use case."""


def fail(*_args: object, **_kwargs: object) -> object:
    raise Fault("the step after the first writes failed")


def rows(ws: Workspace, tables: tuple[str, ...]) -> dict[str, list[tuple[object, ...]]]:
    return {t: sorted(ws.con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reconciliation kinds workspace (tests/hygiene/test_findings.py), attributed once."""
    path = tmp_path_factory.mktemp("service") / "ws.duckdb"
    build_workspace(path, kinds_data()).close()
    return path


@pytest.fixture()
def ws(built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    monkeypatch.setenv("COSELL_NOW", NOW)
    copy = tmp_path / "ws.duckdb"
    shutil.copyfile(built, copy)
    workspace = open_workspace(str(copy))
    yield workspace
    workspace.close()


def october(ws: Workspace) -> None:
    at = AsOf.resolve(None, parse_instant(NOW))
    reconcile.reconcile_period(ws, POLICY, "2026-10", at, by_user="U-OPS")


def test_a_reconciliation_whose_findings_cannot_be_read_back_records_no_finding(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = rows(ws, REVIEW_TABLES)
    # After the new findings are inserted, before the reconciliation itself is recorded.
    monkeypatch.setattr("cosell.hygiene.reconcile.read_findings", fail)
    with pytest.raises(Fault):
        october(ws)
    assert rows(ws, REVIEW_TABLES) == before
    monkeypatch.undo()
    october(ws)  # the same use case without the fault records them
    assert len(rows(ws, ("findings",))["findings"]) > 0


def test_accepting_a_fix_whose_re_decision_fails_applies_nothing(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    october(ws)
    before = rows(ws, REVIEW_TABLES)
    # The override is recorded, then the deal's new attribution version fails.
    monkeypatch.setattr("cosell.hygiene.decisions.store_new_versions", fail)
    with pytest.raises(Fault):
        reconcile.accept(ws, POLICY, ["OVC-O-OVC"], by_user="U-OPS", reason="the SDR called first")
    assert rows(ws, REVIEW_TABLES) == before
    monkeypatch.undo()
    result = reconcile.accept(ws, POLICY, ["OVC-O-OVC"], by_user="U-OPS", reason="the SDR called first")
    assert [(d.finding_id, d.override_id) for d in result.decisions] == [("OVC-O-OVC", "OVR-000001")]


def test_accepting_a_batch_whose_decision_cannot_be_written_applies_none_of_it(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    october(ws)
    before = rows(ws, REVIEW_TABLES)
    # Overrides, the new version and the pay-change markers are written; the decisions fail.
    monkeypatch.setattr("cosell.hygiene.decisions._insert", fail)
    with pytest.raises(Fault):
        reconcile.accept(ws, POLICY, ["OVC-O-OVC", "UPI-O-UPI"], by_user="U-OPS", reason="month-end review")
    assert rows(ws, REVIEW_TABLES) == before


def test_deciding_a_dispute_whose_re_decision_fails_applies_nothing(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = disputes.open_on(
        ws, "O-DMM", by_user="U-AE", reason="the partner only joined a call", claim="none"
    )
    before = rows(ws, REVIEW_TABLES)
    monkeypatch.setattr("cosell.hygiene.decisions.store_new_versions", fail)
    with pytest.raises(Fault):
        disputes.decide(
            ws, POLICY, opened.dispute_id, accept=True, by_user="U-OPS", reason="no intro on file"
        )
    assert rows(ws, REVIEW_TABLES) == before
    assert disputes.disputes(ws)[0].status == "open"


def paid_world() -> PayWorld:
    """September posted and its payout run proposed: approving it pays P1 and U1 500.00 each."""
    w = PayWorld()
    w.partner("P1")
    w.user("U1")
    w.user("F1", "finance")
    w.user("ops", "partner_ops")  # proposes the run: who proposes it does not approve it
    w.deal("O1", "10000.00")
    w.deal("O2", "5000.00")
    w.attribute({"O1": ("none", []), "O2": ("sourced", [("P1", "sourcer", "1.000000", "5000.00")])})
    with w.ws.transaction():
        from cosell.pay.posting import post_period

        post_period(w.ws, w.policy, PRICER, "2026-09", "fin", at("2026-10-01T00:00:00Z"))
    return w


def test_approving_a_run_whose_approval_cannot_be_recorded_pays_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    w = paid_world()
    monkeypatch.setenv("COSELL_NOW", "2026-10-02T00:00:00Z")
    proposed = pay.propose(w.ws, w.policy, "2026-09", by_user="ops", reason="September")
    before = rows(w.ws, PAY_TABLES)

    class BrokenApprovals:
        def insert(self, *_args: object) -> None:
            raise Fault("the approval row could not be written")

    # The posting and its payment entries are written, then the approval fails.
    monkeypatch.setattr("cosell.pay.payouts.PAYOUT_APPROVALS", BrokenApprovals())
    with pytest.raises(Fault):
        pay.approve(w.ws, w.policy, proposed.run.run_id, by_user="F1", reason="ok")
    assert rows(w.ws, PAY_TABLES) == before
    assert pay.payout_run(w.ws, proposed.run.run_id).run.status == "proposed"
    monkeypatch.undo()
    monkeypatch.setenv("COSELL_NOW", "2026-10-03T00:00:00Z")
    run, payments = pay.approve(w.ws, w.policy, proposed.run.run_id, by_user="F1", reason="ok")
    assert (run.status, payments) == ("approved", 2)
