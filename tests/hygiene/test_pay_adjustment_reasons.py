"""An accepted fix or a decided dispute, then a batch run, then the posting: the adjustments name the
fix or the dispute and its id, not the batch run (issue 12, item 5).

The reconciled kinds workspace (test_findings_decisions): October is posted with the hand-checkable
plan of tests/pay/ledger_support.simple_price and paid. Both deals are 10,000.00 USD, owned by U-AE.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from cosell.attribution.engine import attribute
from cosell.hygiene.decisions import accept_findings
from cosell.hygiene.disputes import decide_dispute, open_dispute
from cosell.pay.payouts import approve_run, propose_run
from cosell.pay.posting import post_period
from cosell.store.attribution_store import save_run
from cosell.store.ledger import read_entries
from cosell.store.workspace import Workspace, open_workspace

from .test_findings import POLICY
from .test_findings_decisions import reconciled  # noqa: F401  (the module fixture)

sys.path.insert(0, str(Path(__file__).parents[1] / "pay"))
from ledger_support import PRICER

D = Decimal
DECIDED = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
BATCH = datetime(2026, 11, 4, 0, 0, tzinfo=UTC)
POSTED = datetime(2026, 11, 5, 6, 0, tzinfo=UTC)


@pytest.fixture()
def paid(reconciled: Path, tmp_path: Path) -> Iterator[Workspace]:  # noqa: F811
    """October posted (2026-11-01 07:00) and paid (approved by U-FIN at 09:00)."""
    copy = tmp_path / "ws.duckdb"
    shutil.copyfile(reconciled, copy)
    ws = open_workspace(copy)
    post_period(ws, POLICY, PRICER, "2026-10", "U-OPS", datetime(2026, 11, 1, 7, 0, tzinfo=UTC))
    run, _ = propose_run(ws, POLICY, "2026-10", "U-OPS", datetime(2026, 11, 1, 8, 0, tzinfo=UTC))
    approve_run(ws, POLICY, run.run_id, "U-FIN", datetime(2026, 11, 1, 9, 0, tzinfo=UTC))
    yield ws
    ws.close()


def batch_then_post(ws: Workspace, deal: str) -> list[tuple[str, str, Decimal, str]]:
    """A batch run (it keeps the override: it decides as the fix or dispute did), then November."""
    save_run(
        ws.con, attribute(ws.con, POLICY, BATCH, POLICY.credit_model), "U-OPS", "D5 closed", run_at=BATCH
    )
    post_period(ws, POLICY, PRICER, "2026-11", "U-OPS", POSTED)
    entries = read_entries(ws.con, "period = '2026-11' AND opportunity_id = ?", [deal])
    return [(e.party_id, e.kind, e.amount, e.reason) for e in entries]


def test_a_clawback_caused_by_an_accepted_fix_names_the_fix(paid: Workspace) -> None:
    # O-OVC: accelerated by P1 (its influencer: 100.00 flat), the rep 2% (200.00), both paid. The
    # fix says no partner helped: P1's 100.00 and the rep's 200.00 come back; the rep earns 5%.
    accept_findings(
        paid, POLICY, ["OVC-O-OVC"], "U-OPS", "the partner never engaged", tier="none", at=DECIDED
    )
    why = "attribution changed: version 2 (fix, finding:OVC-O-OVC: the partner never engaged)"
    assert batch_then_post(paid, "O-OVC") == [
        ("P1", "clawback", D("-100.00"), why),
        ("U-AE", "clawback", D("-200.00"), why),
        ("U-AE", "rep_commission", D("500.00"), why),
    ]


def test_a_clawback_caused_by_a_decided_dispute_names_the_dispute(paid: Workspace) -> None:
    # O-NONE: direct, the rep paid 5% (500.00). The dispute: P2 sourced it. P2 earns 10% (1,000.00);
    # the rep 2% less P2's 1,000.00, so nothing: its 500.00 is clawed back.
    dispute = open_dispute(paid, "O-NONE", "U-PM", "Beta introduced them", claim="sourced/P2", at=DECIDED)
    decide_dispute(paid, POLICY, dispute.dispute_id, accept=True, by_user="U-OPS", reason="intro email on file",
                   at=DECIDED)  # fmt: skip
    why = "attribution changed: version 2 (dispute, dispute:D-000001: intro email on file)"
    assert batch_then_post(paid, "O-NONE") == [
        ("U-AE", "clawback", D("-500.00"), why),
        ("P2", "partner_payout", D("1000.00"), why),
    ]
