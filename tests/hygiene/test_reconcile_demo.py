"""On the demo data, reconciliation finds every planted failure on its planted (closed-won) deals."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from cosell.attribution.engine import attribute
from cosell.data.demo import generate_dataset
from cosell.data.load import import_canonical
from cosell.hygiene.reconcile import (
    PLANTED_FINDINGS,
    accept_suggested_fixes,
    demo_known_at,
    demo_reconcile,
    planted_found,
)
from cosell.policy import Policy
from cosell.service.accounts import overlap_known_at
from cosell.store.attribution_store import save_run
from cosell.store.workspace import open_workspace

# 1,200 deals with seed 7 include two won deals on the wrong account (most wrong-account deals are lost).
SIZE, SEED = 1200, 7


@pytest.mark.slow
def test_every_planted_failure_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = generate_dataset(tmp_path / "data", size=SIZE, seed=SEED)
    monkeypatch.setenv("COSELL_NOW", "2026-11-01T06:00:00Z")
    policy = Policy()
    ws = open_workspace(tmp_path / "ws.duckdb")
    import_canonical(ws, manifest.out_dir, policy=policy, now=manifest.as_of, by_user="demo")
    run = attribute(ws.con, policy, manifest.as_of, policy.credit_model)
    save_run(ws.con, run, "demo", "cosell demo", run_at=manifest.as_of)
    out = io.StringIO()
    overlap = overlap_known_at(ws, demo_known_at(ws, manifest))
    result = demo_reconcile(ws, policy, manifest, Console(file=out, width=120), overlap=overlap)

    assert set(manifest.planted) == set(PLANTED_FINDINGS)
    found = planted_found(result, manifest.planted)
    for plant, (hits, checked) in found.items():
        assert checked > 0, plant  # every kind has closed-won deals to find it on
        assert hits == checked, (plant, hits, checked)
    assert found["wrong_account"][1] == 2
    # Every planted deal that is not closed-won was not checked (reconciliation reads won deals).
    won = set(result.checked)
    assert all(i in won for plant, ids in manifest.planted.items() if plant != "wrong_account" for i in ids)

    printed = out.getvalue()
    for k in result.by_kind:
        assert k.kind in printed and f"{k.at_stake:,}" in printed
    assert f"{result.at_stake:,} {result.currency} of revenue at stake" in printed
    assert "2 of 2" in printed  # the wrong-account row of the planted table

    # The demo (and payouts) can then accept the suggested fixes in one go.
    over = [f.finding_id for f in result.findings if f.kind == "over_credited"]
    reviewer = ws.con.execute("SELECT min(user_id) FROM cur_users WHERE role = 'partner_ops'").fetchone()
    assert reviewer is not None
    accepted = accept_suggested_fixes(ws, policy, over, reviewer[0], "demo: accept the suggested fixes")
    assert len(accepted.decisions) == len(over) and len(accepted.runs) == 1
    ws.close()
