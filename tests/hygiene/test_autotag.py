"""Auto-tag: deals created from a partner lead are declared sourced by the system."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cosell.attribution.engine import attribute
from cosell.cli.app import app
from cosell.hygiene.autotag import apply_auto_tags
from cosell.hygiene.declared import declared_of
from cosell.policy import Policy
from cosell.store.attribution_store import save_run
from cosell.store.versions import attribution_views, deal_history
from cosell.store.workspace import Workspace, as_of_views, open_workspace

POLICY = Policy()
MAY_1 = datetime(2026, 5, 1, tzinfo=UTC)
MAY_2 = datetime(2026, 5, 2, tzinfo=UTC)
MAY_3 = datetime(2026, 5, 3, tzinfo=UTC)
Tables = dict[str, list[dict[str, str]]]


@pytest.fixture
def ws(intake_ws: Workspace) -> Workspace:
    return intake_ws


def _declarations(ws: Workspace) -> list[tuple[object, ...]]:
    return ws.con.execute(
        "SELECT declaration_id, opportunity_id, partner_source, partner_id, engagement_date::VARCHAR, "
        "activity_log, source, by_user, reason, recorded_at::VARCHAR FROM declarations ORDER BY 1"
    ).fetchall()


def test_deals_from_partner_leads_are_tagged_by_the_system_with_the_lead_as_reason(ws: Workspace) -> None:
    result = apply_auto_tags(ws, POLICY, MAY_1)
    assert result.run_id is None  # no attribution stored yet: nothing to version
    assert [(t.opportunity_id, t.partner_id, t.lead_id) for t in result.tags] == [
        ("O1", "P1", "L1"),  # a lead converted to O1
        ("O5", "P2", "L5"),  # O5's source lead
    ]
    assert _declarations(ws) == [
        ("DEC-000001", "O1", "sourced", "P1", "2026-01-05 00:00:00+00", None, "auto_tag", "system",
         "lead L1", "2026-05-01 00:00:00+00"),
        ("DEC-000002", "O5", "sourced", "P2", "2026-01-25 00:00:00+00", None, "auto_tag", "system",
         "lead L5", "2026-05-01 00:00:00+00"),
    ]  # fmt: skip
    # Not tagged: O3 (inbound lead), O6 (its lead names a partner contact but no partner_id), O4.
    declared = declared_of(ws.con, "O5")
    assert (declared.partner_source, declared.partner_id, declared.declared_by) == ("sourced", "P2", "system")


def test_it_is_idempotent(ws: Workspace, intake_tables: Tables, intake_import: Callable[..., Path]) -> None:
    apply_auto_tags(ws, POLICY, MAY_1)
    before = _declarations(ws)
    again = apply_auto_tags(ws, POLICY, MAY_2)
    assert again.tags == () and again.run_id is None
    intake_import(ws, intake_tables, MAY_3)  # the same data again
    assert apply_auto_tags(ws, POLICY, MAY_3).tags == ()
    assert _declarations(ws) == before


def test_a_deal_the_crm_declared_is_not_tagged(
    intake_tables: Tables, intake_import: Callable[..., Path]
) -> None:
    for row in intake_tables["opportunities"]:
        if row["opportunity_id"] == "O1":
            row.update(partner_source="none")
    workspace = open_workspace(":memory:")
    intake_import(workspace, intake_tables, MAY_1)
    assert [t.opportunity_id for t in apply_auto_tags(workspace, POLICY, MAY_1).tags] == ["O5"]


def test_the_crm_wins_over_a_tag_made_earlier(
    ws: Workspace, intake_tables: Tables, intake_import: Callable[..., Path]
) -> None:
    apply_auto_tags(ws, POLICY, MAY_1)
    for row in intake_tables["opportunities"]:
        if row["opportunity_id"] == "O5":
            row.update(partner_source="influenced", partner_id="P1", partner_activity_log="call")
    intake_import(ws, intake_tables, MAY_3)
    now = declared_of(ws.con, "O5")
    assert (now.partner_source, now.partner_id, now.declared_by, now.declared_at) == (
        "influenced",
        "P1",
        "crm",
        MAY_3,
    )
    before = declared_of(ws.con, "O5", MAY_2)
    assert (before.partner_source, before.declared_by) == ("sourced", "system")


def _o1(con: object, table: str) -> tuple[object, ...]:
    row = con.execute(  # type: ignore[attr-defined]
        f"SELECT tier, primary_partner_id, rules, evidence FROM {table} WHERE opportunity_id = 'O1'"
    ).fetchone()
    assert row is not None
    return tuple(row)


def test_a_tag_is_a_new_version_but_not_s4_evidence(ws: Workspace) -> None:
    run = attribute(ws.con, POLICY, MAY_1)
    save_run(ws.con, run, "tester", "first", run_at=MAY_1)
    untagged = _o1(ws.con, "attribution_history")
    assert untagged == ("sourced", "P1", "S1", "partner:P1 lead:L1")

    result = apply_auto_tags(ws, POLICY, MAY_2)
    assert result.run_id == 2
    versions = deal_history(ws.con, "O1")
    assert [(v.run.run_id, v.kind, v.scope, v.run.by_user) for v in versions] == [
        (1, "batch", "full", "tester"), (2, "auto_tag", "partial", "system"),
    ]  # fmt: skip
    assert versions[1].run.reason == "auto-tag of 2 deals created from a partner lead"
    attribution_views(ws.con)
    tagged = _o1(ws.con, "v_attribution")
    assert tagged == untagged  # the tier comes from S1 with the lead, never S4
    # The tag is not in the rows the rules read, and a new engine run agrees.
    as_of_views(ws.con, None)
    assert ws.con.execute(
        "SELECT partner_source FROM v_opportunities WHERE opportunity_id = 'O1'"
    ).fetchone() == (None,)
    attribute(ws.con, POLICY, MAY_2)
    assert _o1(ws.con, "cosell_attribution")[:3] == ("sourced", "P1", "S1")


def test_a_tag_keeps_each_deal_s_credit_model(
    ws: Workspace, intake_tables: Tables, intake_import: Callable[..., Path]
) -> None:
    """Attributed with the even model, O1 and O5 are tagged in a partial run of that model; O11,
    imported since and never attributed, in one of the policy's (found by fuzzing the
    re-decisions: every tag took the policy's model, role_weighted, changing how the credit of a
    deal attributed evenly is split)."""
    save_run(ws.con, attribute(ws.con, POLICY, MAY_1, "even"), "tester", "first", run_at=MAY_1)
    intake_tables["leads"].append(
        {"lead_id": "L11", "created_at": "2026-04-20", "source": "partner_referral", "partner_id": "P2"}
    )
    intake_tables["opportunities"].append(
        {"opportunity_id": "O11", "account_id": "A1", "created_at": "2026-04-25", "amount": "500.00",
         "currency": "USD", "stage": "Discovery", "source_lead_id": "L11"}
    )  # fmt: skip
    intake_import(ws, intake_tables, MAY_2)
    result = apply_auto_tags(ws, POLICY, MAY_3)
    assert [t.opportunity_id for t in result.tags] == ["O1", "O11", "O5"]
    runs = {
        r[0]: (r[1], sorted(o for o in ("O1", "O5", "O11") if deal_history(ws.con, o)[-1].run.run_id == r[0]))
        for r in ws.con.execute(
            "SELECT run_id, model FROM attribution_runs WHERE kind = 'auto_tag'"
        ).fetchall()
    }
    assert sorted(runs.values()) == [("even", ["O1", "O5"]), ("role_weighted", ["O11"])]
    assert result.run_ids == tuple(sorted(runs))
    full = attribute(ws.con, POLICY, MAY_3, "even", known_at=MAY_3)
    for o in ("O1", "O5"):
        assert deal_history(ws.con, o)[-1].row == next(r for r in full.rows() if r.opportunity_id == o)


def test_import_command_tags_and_a_reimport_adds_nothing(
    tmp_path: Path, intake_tables: Tables, intake_write: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    folder = intake_write(intake_tables)
    path = str(tmp_path / "ws.duckdb")
    monkeypatch.setenv("COSELL_NOW", "2026-05-01T00:00:00Z")
    first = runner.invoke(app, ["import", "canonical", str(folder), "-w", path])
    assert first.exit_code == 0, first.output
    assert "auto-tagged 2 deals created from a partner lead; issued 3 influence prompts" in " ".join(
        first.output.split()
    )
    monkeypatch.setenv("COSELL_NOW", "2026-05-02T00:00:00Z")
    second = runner.invoke(app, ["import", "canonical", str(folder), "-w", path])
    assert "auto-tagged 0 deals created from a partner lead; issued 0 influence prompts" in " ".join(
        second.output.split()
    )


def test_many_tags_are_decided_by_one_engine_run_with_the_same_rows(
    intake_tables: Tables, intake_import: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import cosell.attribution.reattribute as reattribute

    versions = []
    for limit in (10**9, 0):  # the reference, then the batch engine
        monkeypatch.setattr(reattribute, "REFERENCE_MAX_WORKSPACE", limit)
        workspace = open_workspace(":memory:")
        intake_import(workspace, intake_tables, MAY_1)
        save_run(workspace.con, attribute(workspace.con, POLICY, MAY_1), "tester", "first", run_at=MAY_1)
        assert apply_auto_tags(workspace, POLICY, MAY_2).run_id == 2
        versions.append(
            [(v.row, v.credits) for o in ("O1", "O5") for v in deal_history(workspace.con, o)[1:]]
        )
    assert versions[0] == versions[1]
    assert [row.tier for row, _ in versions[0]] == ["sourced", "sourced"]


def test_a_lead_created_after_the_deal_is_not_its_origin(
    intake_tables: Tables, intake_import: Callable[..., Path]
) -> None:
    """Found by fuzzing lead dates: a partner lead converted into an existing opportunity (created
    after it) tagged the deal sourced by the system, though the rules give it no sourcing claim
    (S1 needs the lead inside the lookback before creation): the system declared what the rules
    contradict and let the deal through the stage gate unconfirmed. A lead at the very instant of
    creation is still the deal's origin."""
    for row in intake_tables["leads"]:
        if row["lead_id"] == "L1":
            row.update(created_at="2026-01-10T00:00:00.000001Z")  # O1 was created on 2026-01-10
        if row["lead_id"] == "L5":
            row.update(created_at="2026-02-01")  # O5 was created on 2026-02-01: the same instant
    workspace = open_workspace(":memory:")
    intake_import(workspace, intake_tables, MAY_1)
    assert [(t.opportunity_id, t.lead_id) for t in apply_auto_tags(workspace, POLICY, MAY_1).tags] == [
        ("O5", "L5")
    ]
    assert declared_of(workspace.con, "O1").partner_source == ""
