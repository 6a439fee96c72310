"""The demo's pay step on a small generated sample: a paid period, fixes, adjustments, a statement."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from cosell.attribution.engine import attribute
from cosell.data.demo import DemoManifest, generate_dataset
from cosell.data.load import import_canonical
from cosell.pay.demo import demo_dispute, demo_instants, demo_pay
from cosell.policy import Policy
from cosell.results import AttributionRow, CreditRow
from cosell.store.attribution_store import save_run
from cosell.store.ledger import read_entries
from cosell.store.versions import save_partial_run
from cosell.store.workspace import Workspace, open_workspace


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoManifest]:
    base = tmp_path_factory.mktemp("demo-pay")
    manifest = generate_dataset(base / "data", size=400, seed=7)
    ws = open_workspace(base / "ws.duckdb")
    policy = Policy()
    import_canonical(ws, manifest.out_dir, policy=policy, now=manifest.as_of, by_user="demo")
    run = attribute(ws.con, policy, manifest.as_of, policy.credit_model)
    save_run(ws.con, run, "demo", "cosell demo", run_at=manifest.as_of)
    ws.close()
    return base / "ws.duckdb", manifest


def fixes_for(ws: Workspace, manifest: DemoManifest) -> Callable[[], int]:
    """Stand-in for the reconciliation's accept step: the first two direct won deals closed in 2026
    (under the example plan) before the paid month ended are found partner-sourced (a partial
    version of kind fix each)."""

    def accept() -> int:
        plan_start = datetime(2026, 1, 1, tzinfo=UTC)
        next_start = demo_instants(manifest.as_of)["next_period_start"]
        rows = ws.con.execute(
            """SELECT a.opportunity_id, o.amount, coalesce(o.currency, 'USD'), a.policy_version, a.model
               FROM attribution_history a JOIN cur_opportunities o USING (opportunity_id)
               WHERE a.tier = 'none' AND o.stage = 'Closed Won' AND o.close_date >= ? AND o.close_date < ?
               ORDER BY 1 LIMIT 2""",
            [plan_start, next_start],
        ).fetchall()
        partner = ws.con.execute(
            "SELECT min(partner_id) FROM cur_partners WHERE partner_type = 'referral'"
        ).fetchone()
        assert partner is not None
        with ws.transaction():
            for opp, amount, currency, policy_version, model in rows:
                save_partial_run(
                    ws.con,
                    [AttributionRow(opp, "sourced", partner[0], "", "", "", "", "OVR", "",
                                    "2026-11-01T00:00:00Z", policy_version, model)],
                    [CreditRow(opp, partner[0], "sourcer", "1.000000", str(amount), currency)],
                    kind="fix", by_user="ops", reason="finding accepted: partner lead found", policy_version=policy_version,
                    model=model, as_of=manifest.as_of, run_at=manifest.as_of,
                )  # fmt: skip
        return len(rows)

    return accept


def run_once(source: Path, copy: Path, manifest: DemoManifest) -> tuple[str, object, list[object]]:
    shutil.copyfile(source, copy)
    ws = open_workspace(copy)
    console = Console(record=True, width=140, force_terminal=False, color_system=None)
    try:
        result = demo_pay(ws, Policy(), manifest, console, fixes_for(ws, manifest))
        entries = read_entries(ws.con)
    finally:
        ws.close()
    return console.export_text(), result, list(entries)


@pytest.mark.slow
def test_the_demo_pays_a_period_posts_the_fixes_adjustments_and_prints_a_statement(
    sample: tuple[Path, DemoManifest], tmp_path: Path
) -> None:
    source, manifest = sample
    text, result, entries = run_once(source, tmp_path / "a.duckdb", manifest)
    assert (result.paid_period, result.next_period, result.paid_run, result.fixes) == (  # type: ignore[attr-defined]
        "2026-09", "2026-10", "PR-000001", 2,
    )  # fmt: skip
    assert result.first.entries > 0  # type: ignore[attr-defined]
    october = [e for e in entries if e.period == "2026-10"]  # type: ignore[attr-defined]
    # The two fixed deals' reps were paid in September at the direct rate: clawed back in October.
    claws = [e for e in october if e.kind == "clawback"]  # type: ignore[attr-defined]
    assert len(claws) >= 2 and all(c.party_kind == "rep" for c in claws)  # type: ignore[attr-defined]
    partner = result.partner_id  # type: ignore[attr-defined]
    assert partner is not None
    assert f"cosell payouts statement --partner {partner} --period 2026-10" in text
    shown = [e for e in october if e.party_id == partner]  # type: ignore[attr-defined]
    assert shown and all(e.entry_id in result.statement_text for e in shown)  # type: ignore[attr-defined]
    assert any(
        e.reason.startswith("attribution changed") and "(fix: finding accepted" in e.reason for e in shown
    )  # type: ignore[attr-defined]
    assert "Payout run PR-000001 for 2026-09" in text
    # The same sample gives the same output, byte for byte.
    again, _, entries_again = run_once(source, tmp_path / "b.duckdb", manifest)
    assert again == text
    assert entries_again == entries


@pytest.mark.slow
def test_the_demo_dispute_claws_back_the_paid_rep_and_pays_the_partner(
    sample: tuple[Path, DemoManifest], tmp_path: Path
) -> None:
    source, manifest = sample
    shutil.copyfile(source, tmp_path / "c.duckdb")
    ws = open_workspace(tmp_path / "c.duckdb")
    console = Console(record=True, width=140, force_terminal=False, color_system=None)
    try:
        result = demo_pay(ws, Policy(), manifest, console, lambda: 0, demo_dispute(ws, Policy(), manifest))
        october = read_entries(ws.con, "period = '2026-10'")
    finally:
        ws.close()
    assert (result.fixes, result.disputes) == (0, 1)
    claw = [e for e in october if e.kind == "clawback"]
    assert len(claw) == 1 and claw[0].party_kind == "rep" and claw[0].rule_id == "rep:direct"
    deal = claw[0].opportunity_id
    assert "dispute:D-000001" in claw[0].reason
    assert any(e.opportunity_id == deal and e.party_id == result.partner_id for e in october)
    assert "Adjustments posted into 2026-10" in console.export_text()
