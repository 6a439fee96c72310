"""``--known-at T`` reproduces what was known at T (evaluated at T): byte-identical output after
later changes.

Later changes: a new import (changed and new deals), a new batch run, accepted fixes, a decided
dispute and a current reconciliation that records new findings.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cosell import clock
from cosell.attribution.engine import attribute
from cosell.cli.app import app
from cosell.data.load import import_canonical
from cosell.hygiene.decisions import accept_findings
from cosell.hygiene.disputes import decide_dispute, open_dispute
from cosell.instants import parse_instant
from cosell.service.reconcile import reconcile_known as reconcile  # with the account overlap matched
from cosell.store.attribution_store import save_run
from cosell.store.versions import latest_rows
from cosell.store.workspace import open_workspace

from .test_findings import AS_OF, POLICY, build_workspace, kinds_data

sys.path.insert(0, str(Path(__file__).parents[1] / "data"))
from import_fixtures import write_dataset

runner = CliRunner()
T = "2026-11-01T00:00:00Z"
LATER = parse_instant("2026-11-02T00:00:00Z")


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def commands(ws: str) -> dict[str, list[str]]:
    return {
        "reconcile json": ["reconcile", "-w", ws, "--known-at", T, "--period", "2026-10", "--format", "json"],
        "reconcile table": ["reconcile", "-w", ws, "--known-at", T, "--period", "2026-10"],
        "reconcile csv": ["reconcile", "-w", ws, "--known-at", T, "--period", "all", "--format", "csv"],
        "explain": ["explain", "O-OVC", "-w", ws, "--known-at", T, "--format", "json"],
        "explain text": ["explain", "O-DMM", "-w", ws, "--known-at", T],
    }


def later_changes(path: Path) -> None:
    """Import changed and new rows, run a batch, accept fixes, decide a dispute, reconcile now."""
    data = kinds_data()
    for row in data.t["opportunities"]:
        if row["opportunity_id"] in ("O-OVC", "O-NONE"):
            row.update(
                partner_source="influenced", partner_id="P2", partner_activity_log="call on 2026-09-02"
            )
    data.won("O-NEW", "A30")  # another unconfirmed October win
    folder = write_dataset(path.parent / "later-data", data.t)
    ws = open_workspace(path)
    import_canonical(ws, folder, policy=POLICY, now=LATER, by_user="test")
    save_run(ws.con, attribute(ws.con, POLICY, LATER, POLICY.credit_model), "test", "rerun", run_at=LATER)
    with clock.pinned(LATER):  # recorded before the decisions below (none may be dated before it)
        reconcile(ws, POLICY, period="2026-10", by_user="U-OPS")
    accept_findings(ws, POLICY, ["DBS-O-DBS"], "U-OPS", "R1 first", at=parse_instant("2026-11-03"))
    accept_findings(
        ws,
        POLICY,
        ["UPI-O-UPI"],
        "U-OPS",
        "P2 did it",
        tier="sourced",
        partner_id="P2",
        at=parse_instant("2026-11-03"),
    )
    d = open_dispute(ws, "O-DMM", "U-AE", "only a call", "influenced/P1", at=parse_instant("2026-11-03"))
    decide_dispute(
        ws, POLICY, d.dispute_id, accept=True, by_user="U-OPS", reason="ok", at=parse_instant("2026-11-04")
    )
    ws.close()


def test_the_same_as_of_gives_byte_identical_output_after_later_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ws.duckdb"
    monkeypatch.setenv("COSELL_NOW", "2026-11-01T06:00:00Z")
    build_workspace(path, kinds_data()).close()
    before = {name: run(*args) for name, args in commands(str(path)).items()}
    now_before = run("reconcile", "-w", str(path), "--period", "2026-10", "--format", "json")

    monkeypatch.setenv("COSELL_NOW", "2026-11-05T00:00:00Z")
    later_changes(path)
    after = {name: run(*args) for name, args in commands(str(path)).items()}
    for name in before:
        assert after[name] == before[name], name
    # The changes are real: reconciling now shows them.
    now_after = run("reconcile", "-w", str(path), "--period", "2026-10", "--format", "json")
    assert now_after != now_before
    assert (
        '"finding_id": "MAC-O-NEW"' in now_after
        and '"finding_id": "MAC-O-NEW"' not in before["reconcile json"]
    )
    assert '"status": "accepted"' in now_after and '"status": "accepted"' not in before["reconcile json"]
    assert run("explain", "O-OVC", "-w", str(path), "--format", "json") != before["explain"]


def test_attribute_as_of_stores_the_same_rows_after_later_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ws.duckdb"
    monkeypatch.setenv("COSELL_NOW", "2026-11-01T06:00:00Z")
    build_workspace(path, kinds_data()).close()
    first = run("attribute", "-w", str(path), "--known-at", T)
    monkeypatch.setenv("COSELL_NOW", "2026-11-05T00:00:00Z")
    later_changes(path)
    second = run("attribute", "-w", str(path), "--known-at", T)
    # The printed counts are the same; only the stored run's number differs.
    assert first.split("run ")[0] == second.split("run ")[0]
    ws = open_workspace(path)
    runs = [r[0] for r in ws.con.execute("SELECT run_id FROM attribution_runs WHERE kind = 'batch' AND as_of = ? "
                                         "AND by_user <> 'test' ORDER BY run_id", [AS_OF]).fetchall()]  # fmt: skip
    assert len(runs) == 2
    rows = [
        ws.con.execute(
            f"SELECT * EXCLUDE (run_id) FROM {table} WHERE run_id = ? ORDER BY ALL", [run_id]
        ).fetchall()
        for table in ("attribution_history", "credit_history")
        for run_id in runs
    ]
    assert rows[0] == rows[1] and rows[2] == rows[3]
    assert len(rows[0]) == 28  # every deal of the dataset, as known at T (not O-NEW)
    ws.close()


def attributed_then_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace attributed as known at T (at 06:00), then :func:`later_changes` (dated
    2026-11-05, the clock left there)."""
    path = tmp_path / "ws.duckdb"
    monkeypatch.setenv("COSELL_NOW", "2026-11-01T06:00:00Z")
    build_workspace(path, kinds_data()).close()
    run("attribute", "-w", str(path), "--known-at", T)
    monkeypatch.setenv("COSELL_NOW", "2026-11-05T00:00:00Z")
    later_changes(path)
    return path


def test_a_run_known_at_an_earlier_instant_hides_no_later_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full run stored today with an earlier knowledge instant reproduces what was known then;
    it knew less than the fixes and the dispute decided since, so the newest versions keep them
    (it once became every reading's base, its run id being the newest)."""
    path = attributed_then_changed(tmp_path, monkeypatch)

    def newest() -> dict[str, tuple[str, str]]:
        ws = open_workspace(path)
        try:
            return {r.opportunity_id: (r.tier, r.primary_partner_id) for r in latest_rows(ws.con)[1]}
        finally:
            ws.close()

    current = newest()
    assert current["O-UPI"] == ("sourced", "P2")  # the accepted fix
    assert current["O-DMM"][0] == "influenced"  # the decided dispute
    assert "O-NEW" in current  # imported and attributed later
    monkeypatch.setenv("COSELL_NOW", "2026-11-05T01:00:00Z")
    told = run("attribute", "-w", str(path), "--known-at", T)  # stored, as known at T
    assert newest() == current
    # The full run of later_changes, known at 2026-11-02, knew more: the run says so.
    assert (
        " knew less than run " in told
        and "(data known at 2026-11-02T00:00:00Z): readers of the newest" in told
    )
    # History lists the run last recorded, and marks the fix as the current version.
    versions = json.loads(run("history", "O-UPI", "-w", str(path), "--format", "json"))
    assert [v["kind"] for v in versions if v["current"]] == ["fix"] and not versions[-1]["current"]
    fix = next(v["run_id"] for v in versions if v["current"])
    assert f"Run {fix} is the current version" in run("history", "O-UPI", "-w", str(path))
    # Reading as known at T takes the run made today as of T: the same deals as then.
    assert "O-NEW" not in run(
        "reconcile", "-w", str(path), "--known-at", T, "--period", "all", "--format", "csv"
    )


def test_reconcile_known_at_before_any_run_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ws.duckdb"
    build_workspace(path, kinds_data()).close()
    result = runner.invoke(app, ["reconcile", "-w", str(path), "--known-at", "2026-10-31T23:30:00Z"])
    assert result.exit_code == 1
    assert (
        "no attribution run was recorded at or before 2026-10-31T23:30:00Z (the --known-at instant): "
        "the earliest was recorded at 2026-11-01T00:00:00Z" in result.output
    )
    result = runner.invoke(app, ["reconcile", "-w", str(path), "--known-at", "2026-10-31T00:00:00Z"])
    assert result.exit_code == 1
    assert "the earliest import was recorded at 2026-10-31T23:00:00Z" in result.output


def test_reconcile_as_of_reads_the_run_evaluated_then_with_later_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--as-of T without --known-at: the run evaluated as of T, with the rows imported since."""
    path = tmp_path / "ws.duckdb"
    monkeypatch.setenv("COSELL_NOW", "2026-11-05T00:00:00Z")
    build_workspace(path, kinds_data()).close()
    later_changes(path)
    known = run("reconcile", "-w", str(path), "--known-at", T, "--period", "2026-10", "--format", "json")
    evaluated = run("reconcile", "-w", str(path), "--as-of", T, "--period", "2026-10", "--format", "json")
    assert json.loads(known)["attribution_run_id"] == 1  # the run known at T
    now = json.loads(evaluated)
    # The batch run made at LATER was evaluated as of LATER, not T: the run read is still run 1,
    # with the partial runs (fixes, dispute) recorded after it, and today's rows (O-NEW).
    assert now["attribution_run_id"] > 1 and now["known_at"] == "2026-11-05T00:00:00Z"
    assert '"finding_id": "MAC-O-NEW"' in evaluated and '"finding_id": "MAC-O-NEW"' not in known


def test_a_run_dated_before_the_last_recorded_change_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``attribute --now`` before a change already recorded would be read by every reading known
    at an instant between (a past report re-run would name it and read its versions): it is refused
    and stores nothing, as a decision dated back is; at the last change's instant it is stored."""
    path = attributed_then_changed(tmp_path, monkeypatch)
    past = [
        "reconcile",
        "-w",
        str(path),
        "--known-at",
        "2026-11-03T00:00:00Z",
        "--period",
        "all",
        "--format",
        "json",
    ]
    before, runs = run(*past), _runs(path)
    for extra in ([], ["--incremental", "--as-of", T]):
        result = runner.invoke(app, ["attribute", "-w", str(path), "--now", "2026-11-02T12:00:00Z", *extra])
        assert result.exit_code == 1, result.output
        assert (
            "the attribution run at 2026-11-02T12:00:00Z is before the last recorded change" in result.output
        )
    assert run(*past) == before and _runs(path) == runs
    run("attribute", "-w", str(path))  # at the last change's instant (COSELL_NOW): stored
    assert _runs(path) == runs + 1


def _runs(path: Path) -> int:
    ws = open_workspace(path)
    try:
        row = ws.con.execute("SELECT count(*) FROM attribution_runs").fetchone()
        return int(row[0]) if row else 0
    finally:
        ws.close()
