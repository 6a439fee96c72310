"""Deciding findings: accepted fixes become overrides, versions and pay changes; refusals change nothing."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cosell.attribution.engine import attribute
from cosell.errors import CosellError, NotAllowed, NotFound, UsageError
from cosell.hygiene.decisions import AlreadyDecided, accept_findings, reject_findings
from cosell.hygiene.reconcile import accept_suggested_fixes
from cosell.service.reconcile import reconcile_known as reconcile  # with the account overlap matched
from cosell.store.attribution_store import save_run
from cosell.store.versions import attribution_views
from cosell.store.workspace import Workspace, open_workspace

from .test_findings import AS_OF, POLICY, build_workspace, find, kinds_data

DECIDED = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
REVIEW_TABLES = (
    "findings", "finding_decisions", "attribution_overrides", "attribution_runs", "attribution_history",
    "credit_history", "attribution_changes",
)  # fmt: skip


@pytest.fixture(scope="module")
def reconciled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The kinds workspace with October reconciled (its findings recorded)."""
    path = tmp_path_factory.mktemp("decisions") / "ws.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COSELL_NOW", "2026-11-01T06:00:00Z")  # findings detected before the decisions below
        ws = build_workspace(path, kinds_data())
        reconcile(ws, POLICY, period="2026-10", as_of=AS_OF, by_user="U-OPS")
        ws.close()
    return path


@pytest.fixture()
def ws(reconciled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    monkeypatch.setenv("COSELL_NOW", "2026-11-03T09:00:00Z")
    copy = tmp_path / "ws.duckdb"
    shutil.copyfile(reconciled, copy)
    workspace = open_workspace(copy)
    yield workspace
    workspace.close()


def snapshot(ws: Workspace) -> dict[str, list[tuple[object, ...]]]:
    return {t: sorted(ws.con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in REVIEW_TABLES}


def current(ws: Workspace, opp: str) -> tuple[int, str, str, str]:
    attribution_views(ws.con)
    row = ws.con.execute(
        "SELECT run_id, tier, primary_partner_id, rules FROM v_attribution WHERE opportunity_id = ?", [opp]
    ).fetchone()
    assert row is not None
    return int(row[0]), row[1], row[2] or "", row[3] or ""


def test_accepting_records_an_override_a_version_and_a_pay_change(ws: Workspace) -> None:
    result = accept_findings(ws, POLICY, ["OVC-O-OVC"], "U-OPS", "the SDR called first", at=DECIDED)
    (decision,) = result.decisions
    assert (decision.decision, decision.by_user, decision.reason, decision.decided_at) == (
        "accepted",
        "U-OPS",
        "the SDR called first",
        DECIDED,
    )
    assert (decision.tier, decision.partner_id, decision.override_id) == ("accelerated", "P1", "OVR-000001")
    override = ws.con.execute(
        "SELECT opportunity_id, tier, partner_id, by_user, source, recorded_at FROM attribution_overrides"
    ).fetchall()
    assert override == [("O-OVC", "accelerated", "P1", "U-OPS", "finding:OVC-O-OVC", DECIDED)]
    (run,) = result.runs
    assert decision.run_id == run.run_id == 2
    kind = ws.con.execute(
        "SELECT kind, scope, by_user, reason FROM attribution_runs WHERE run_id = 2"
    ).fetchone()
    assert kind == ("fix", "partial", "U-OPS", "the SDR called first")
    assert current(ws, "O-OVC") == (2, "accelerated", "P1", "ACC OVR DIRECT_FIRST")
    changes = ws.con.execute(
        "SELECT opportunity_id, run_id, previous_run_id, source, by_user, recorded_at FROM attribution_changes"
    ).fetchall()
    assert changes == [("O-OVC", 2, 1, "finding:OVC-O-OVC", "U-OPS", DECIDED)]
    # Every later batch run applies the override.
    run3 = save_run(ws.con, attribute(ws.con, POLICY, DECIDED, POLICY.credit_model), "test", "rerun")
    assert current(ws, "O-OVC") == (run3.run_id, "accelerated", "P1", "ACC OVR DIRECT_FIRST")
    # Reconciling again shows the finding as accepted, and raises no new finding on the deal.
    again = reconcile(ws, POLICY, period="2026-10", by_user="U-OPS")
    f = find(again, "over_credited", "O-OVC")
    assert f is not None and (f.status, f.decided_by, f.decided_at) == ("accepted", "U-OPS", DECIDED)
    assert {x.kind for x in again.findings if x.opportunity_id == "O-OVC"} == {"over_credited"}
    assert again.new_findings == 0


def test_accept_with_an_explicit_override(ws: Workspace) -> None:
    accept_findings(
        ws, POLICY, ["UPI-O-UPI"], "U-PM", "P2 brought it", tier="sourced", partner_id="P2", at=DECIDED
    )
    run_id, tier, partner, rules = current(ws, "O-UPI")
    assert (tier, partner) == ("sourced", "P2")
    assert "OVR" in rules.split()
    credits = ws.con.execute(
        "SELECT partner_id, role FROM credit_history WHERE run_id = ? ORDER BY partner_id", [run_id]
    ).fetchall()
    assert credits == [("P1", "influencer"), ("P2", "sourcer")]  # the computed sourcer steps down


def test_a_crm_only_fix_records_the_decision_alone(ws: Workspace) -> None:
    before = snapshot(ws)
    result = accept_suggested_fixes(ws, POLICY, ["MAC-O-MAC-EMPTY"], "U-PM", "rep confirmed none")
    assert result.runs == () and result.overrides == ()
    after = snapshot(ws)
    assert after["finding_decisions"] == [
        ("MAC-O-MAC-EMPTY", "accepted", "U-PM", "rep confirmed none", DECIDED, None, None, None, None)
    ]
    assert {t: rows for t, rows in after.items() if t != "finding_decisions"} == {
        t: rows for t, rows in before.items() if t != "finding_decisions"
    }


def test_a_batch_is_one_partial_run(ws: Workspace) -> None:
    ids = ["OVC-O-OVC", "DBS-O-DBS", "ACU-O-ACU", "IWA-O-IWA"]
    result = accept_suggested_fixes(ws, POLICY, ids, "U-OPS", "month-end review")
    assert len(result.runs) == 1 and result.runs[0].counts == {
        "accelerated": 1,
        "influenced": 1,
        "sourced": 1,
    }
    assert result.overrides == ("OVR-000001", "OVR-000002", "OVR-000003")  # IWA's fix is a CRM correction
    assert sorted(d.finding_id for d in result.decisions) == sorted(ids)
    changes = ws.con.execute("SELECT opportunity_id, source FROM attribution_changes ORDER BY 1").fetchall()
    assert changes == [
        ("O-ACU", "finding:ACU-O-ACU"), ("O-DBS", "finding:DBS-O-DBS"), ("O-OVC", "finding:OVC-O-OVC")
    ]  # fmt: skip


def test_reject_records_only_the_decision(ws: Workspace) -> None:
    before = snapshot(ws)
    (decision,) = reject_findings(ws, ["DBS-O-DBS-CLAIMS"], "U-OPS", "the opportunity_partners row is a typo")
    assert decision.decision == "rejected"
    after = snapshot(ws)
    assert len(after["finding_decisions"]) == 1
    assert {t: r for t, r in after.items() if t != "finding_decisions"} == {
        t: r for t, r in before.items() if t != "finding_decisions"
    }
    again = reconcile(ws, POLICY, period="2026-10")
    f = find(again, "double_sourced", "O-DBS-CLAIMS")
    assert (
        f is not None
        and f.status == "rejected"
        and f.decision_reason == "the opportunity_partners row is a typo"
    )


def _accept(
    ids: list[str], by: str = "U-OPS", reason: str = "ok", **kw: str
) -> Callable[[Workspace], object]:
    return lambda ws: accept_findings(ws, POLICY, ids, by, reason, **kw)  # type: ignore[arg-type]


REFUSALS = [
    ("unknown user", _accept(["OVC-O-OVC"], by="U-NOBODY"), NotFound, "no user U-NOBODY"),
    ("a rep", _accept(["OVC-O-OVC"], by="U-AE"), NotAllowed, "U-AE has the role ae"),
    (
        "finance",
        _accept(["OVC-O-OVC"], by="U-FIN"),
        NotAllowed,
        "only partner_ops, partner_manager users may",
    ),
    # SPEC section 9: only partner_ops decides reconciliation fixes; an admin manages users.
    ("an admin", _accept(["OVC-O-OVC"], by="U-ADMIN"), NotAllowed, "U-ADMIN has the role admin"),
    (
        "a partner user",
        lambda ws: reject_findings(ws, ["OVC-O-OVC"], "U-P1", "no"),
        NotAllowed,
        "role partner",
    ),
    ("empty reason", _accept(["OVC-O-OVC"], reason="   "), UsageError, "non-empty --reason"),
    (
        "empty reject reason",
        lambda ws: reject_findings(ws, ["OVC-O-OVC"], "U-OPS", ""),
        UsageError,
        "--reason",
    ),
    ("unknown id", _accept(["OVC-O-OVX"]), NotFound, "no finding OVC-O-OVX (did you mean OVC-O-OVC?)"),
    ("one unknown in a batch", _accept(["OVC-O-OVC", "NOPE-1"]), NotFound, "no finding NOPE-1"),
    ("no id", _accept([]), UsageError, "at least one finding"),
    (
        "override of a batch",
        _accept(["OVC-O-OVC", "DBS-O-DBS"], tier="none"),
        UsageError,
        "one finding at a time",
    ),
    ("unknown tier", _accept(["OVC-O-OVC"], tier="partnered"), UsageError, "^--tier: tier must be one of"),
    (
        "sourced without partner",
        _accept(["OVC-O-OVC"], tier="sourced"),
        UsageError,
        "names the sourcing partner",
    ),
    (
        "unknown partner",
        _accept(["OVC-O-OVC"], tier="influenced", partner_id="P9"),
        NotFound,
        "no partner P9",
    ),
]


@pytest.mark.parametrize(("case", "call", "error", "message"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusals_change_nothing(
    ws: Workspace, case: str, call: Callable[[Workspace], object], error: type[CosellError], message: str
) -> None:
    before = snapshot(ws)
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        call(ws)
    assert snapshot(ws) == before


def test_a_decided_finding_cannot_be_decided_again(ws: Workspace) -> None:
    accept_findings(ws, POLICY, ["OVC-O-OVC"], "U-OPS", "first", at=DECIDED)
    before = snapshot(ws)
    message = "finding OVC-O-OVC was already accepted by U-OPS at 2026-11-03T09:00:00Z"
    with pytest.raises(AlreadyDecided, match=message):
        accept_findings(ws, POLICY, ["OVC-O-OVC"], "U-PM", "second")
    with pytest.raises(AlreadyDecided, match=message):
        reject_findings(ws, ["DBS-O-DBS", "OVC-O-OVC"], "U-PM", "second")
    assert snapshot(ws) == before


def test_a_decision_dated_before_what_is_recorded_is_refused(ws: Workspace) -> None:
    """A decision dated before the last recorded instant (here the findings' detection) would
    change what a reading at an earlier --known-at printed: refused, nothing written."""
    accept_findings(ws, POLICY, ["OVC-O-OVC"], "U-OPS", "first", at=DECIDED)
    before = snapshot(ws)
    earlier = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # after the detection, before the decision
    message = (
        "2026-11-02T09:00:00Z is before the last recorded change, a finding decision at 2026-11-03T09:00:00Z:"
    )
    with pytest.raises(CosellError, match=message):
        accept_findings(ws, POLICY, ["DBS-O-DBS"], "U-OPS", "backdated", at=earlier)
    with pytest.raises(CosellError, match=message):
        reject_findings(ws, ["DBS-O-DBS"], "U-OPS", "backdated", at=earlier)
    assert snapshot(ws) == before
    # The same instant as the last decision is fine (a batch is decided at one instant).
    accept_findings(ws, POLICY, ["DBS-O-DBS"], "U-OPS", "same instant", at=DECIDED)


def test_several_findings_of_one_deal_are_decided_together(ws: Workspace) -> None:
    before = snapshot(ws)
    # O-DBS-CLAIMS is over_credited and double_sourced; computed none, both fixes are CRM corrections.
    accept_suggested_fixes(ws, POLICY, ["OVC-O-DBS-CLAIMS", "DBS-O-DBS-CLAIMS"], "U-OPS", "both")
    assert len(snapshot(ws)["finding_decisions"]) == 2
    assert snapshot(ws)["attribution_overrides"] == before["attribution_overrides"]


def test_without_a_users_directory_anyone_decides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COSELL_NOW", "2026-11-03T09:00:00Z")
    data = kinds_data()
    del data.t["users"]
    ws = build_workspace(tmp_path / "ws.duckdb", data)
    reconcile(ws, POLICY, period="2026-10", as_of=AS_OF)
    result = accept_findings(ws, POLICY, ["OVC-O-OVC"], "someone", "no directory to check against")
    assert result.decisions[0].by_user == "someone"
    ws.close()


def test_the_engine_and_the_reference_make_the_same_new_versions(
    reconciled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large workspaces re-decide accepted deals with the batch engine, small ones with the
    reference implementation: the stored versions are the same."""
    import cosell.attribution.reattribute as reattribute

    monkeypatch.setenv("COSELL_NOW", "2026-11-03T09:00:00Z")
    stored = []
    for name, limit in (("reference", 10**9), ("engine", 0)):
        monkeypatch.setattr(reattribute, "REFERENCE_MAX_WORKSPACE", limit)
        path = tmp_path / f"{name}.duckdb"
        shutil.copyfile(reconciled, path)
        ws = open_workspace(path)
        accept_findings(ws, POLICY, ["OVC-O-OVC", "DBS-O-DBS", "ACU-O-ACU"], "U-OPS", "review", at=DECIDED)
        accept_findings(ws, POLICY, ["UPI-O-UPI"], "U-OPS", "P2", tier="sourced", partner_id="P2", at=DECIDED)
        stored.append(
            [
                ws.con.execute(f"SELECT * FROM {t} WHERE run_id > 1 ORDER BY ALL").fetchall()
                for t in ("attribution_history", "credit_history")
            ]
        )
        ws.close()
    assert stored[0] == stored[1]
    assert len(stored[0][0]) == 4 and all("OVR" in row[8] for row in stored[0][0])


def test_accepting_applies_the_fix_the_current_version_suggests(ws: Workspace, tmp_path: Path) -> None:
    """Recorded with "override to sourced with partner P1"; a later import shows the direct team
    first, and the batch run after it computes influenced: accepting pins what reconcile says now."""
    import sys

    from cosell.data.load import import_canonical

    sys.path.insert(0, str(Path(__file__).parents[1] / "data"))
    from import_fixtures import write_dataset

    stored = ws.con.execute("SELECT suggested_tier FROM findings WHERE finding_id = 'UPI-O-UPI'").fetchone()
    assert stored == ("sourced",)
    data = kinds_data()
    data.touch("T-D1", "2026-08-01T12:00:00Z", "A01", "direct", "outbound_call")
    later = datetime(2026, 11, 2, tzinfo=UTC)
    folder = write_dataset(tmp_path / "later", {t: rows for t, rows in data.t.items() if rows})
    import_canonical(ws, folder, policy=POLICY, now=later, by_user="test")
    save_run(ws.con, attribute(ws.con, POLICY, later, POLICY.credit_model), "test", "rerun", run_at=later)
    now = reconcile(ws, POLICY, period="2026-10")
    shown = find(now, "untagged_partner_involvement", "O-UPI")
    assert shown is not None and shown.suggested_fix == "override to influenced with partner P1"
    (decision,) = accept_suggested_fixes(ws, POLICY, ["UPI-O-UPI"], "U-OPS", "as reconciled").decisions
    assert (decision.tier, decision.partner_id) == ("influenced", "P1")
