"""The declared view and the overlay of answered prompts on ``v_opportunities``, as of an instant."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cosell.errors import NotFound
from cosell.hygiene.declared import declared_of, declared_views
from cosell.hygiene.prompts import answer_prompt
from cosell.policy import Policy
from cosell.store.workspace import Workspace, as_of_views, open_workspace

POLICY = Policy()
Tables = dict[str, list[dict[str, str]]]


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


@pytest.fixture
def ws(intake_prompted_ws: Workspace) -> Workspace:
    return intake_prompted_ws


def _o2(ws: Workspace, as_of: datetime | None) -> tuple[object, ...]:
    as_of_views(ws.con, as_of)
    row = ws.con.execute(
        "SELECT partner_source, partner_id, partner_engagement_date::VARCHAR, partner_activity_log, stage "
        "FROM v_opportunities WHERE opportunity_id = 'O2'"
    ).fetchone()
    assert row is not None
    return tuple(row)


def _view_sql(ws: Workspace) -> str:
    row = ws.con.execute(
        "SELECT sql FROM duckdb_views() WHERE view_name = 'v_opportunities' "
        "AND database_name IN (current_database(), 'temp')"
    ).fetchone()
    assert row is not None
    return str(row[0])


def test_without_answered_prompts_the_view_is_the_plain_rows(ws: Workspace) -> None:
    as_of_views(ws.con, None)
    assert "declarations" not in _view_sql(ws)  # the 1M-row path stays a plain scan
    answer_prompt(ws, POLICY, "PRM-000001", tier="influenced", activity="Intro call", now=at("2026-05-03"))
    as_of_views(ws.con, at("2026-05-02"))
    assert "declarations" not in _view_sql(ws)  # nothing answered yet at that instant
    as_of_views(ws.con, None)
    assert "declarations" in _view_sql(ws)


def test_an_answer_overlays_the_crm_fields_from_its_instant_on(ws: Workspace) -> None:
    answer_prompt(ws, POLICY, "PRM-000001", tier="accelerated", activity="Intro call", now=at("2026-05-03"))
    assert _o2(ws, at("2026-05-02")) == (None, None, None, None, "Proposal")
    after = ("accelerated", "P2", "2026-02-01 00:00:00+00", "Intro call", "Proposal")
    assert _o2(ws, at("2026-05-03")) == after
    assert _o2(ws, None) == after
    # Other deals keep their CRM values.
    as_of_views(ws.con, None)
    assert ws.con.execute("SELECT count(*) FROM v_opportunities").fetchone() == (9,)
    assert ws.con.execute(
        "SELECT partner_source, partner_id FROM v_opportunities WHERE opportunity_id = 'O8'"
    ).fetchone() == ("influenced", "P1")


def test_a_later_crm_change_of_other_columns_keeps_the_answer_and_of_the_partner_fields_wins(
    ws: Workspace, intake_tables: Tables, intake_import: Callable[..., Path]
) -> None:
    answer_prompt(ws, POLICY, "PRM-000001", tier="influenced", activity="Intro call", now=at("2026-05-03"))
    o2 = next(r for r in intake_tables["opportunities"] if r["opportunity_id"] == "O2")
    o2["stage"] = "Negotiation"
    intake_import(ws, intake_tables, at("2026-05-06"))
    assert _o2(ws, at("2026-05-06")) == (
        "influenced",
        "P2",
        "2026-02-01 00:00:00+00",
        "Intro call",
        "Negotiation",
    )
    o2.update(partner_source="none")
    intake_import(ws, intake_tables, at("2026-05-07"))
    assert _o2(ws, at("2026-05-07")) == ("none", None, None, None, "Negotiation")
    assert _o2(ws, at("2026-05-06"))[0] == "influenced"  # the past is unchanged
    declared = declared_of(ws.con, "O2")
    assert (declared.partner_source, declared.declared_by, declared.declared_at) == (
        "none",
        "crm",
        at("2026-05-07"),
    )


def test_declared_view_precedence_and_who(ws: Workspace) -> None:
    answer_prompt(ws, POLICY, "PRM-000001", tier="influenced", activity="Intro call", now=at("2026-05-03"))
    declared_views(ws.con)
    rows = ws.con.execute(
        "SELECT opportunity_id, partner_source, partner_id, engagement_date::VARCHAR, declared_by, "
        "declared_at::VARCHAR FROM v_declared ORDER BY opportunity_id"
    ).fetchall()
    assert rows == [
        ("O1", "sourced", "P1", "2026-01-05 00:00:00+00", "system", "2026-05-01 00:00:00+00"),  # auto-tag
        ("O10", None, None, None, None, None),
        ("O2", "influenced", "P2", "2026-02-01 00:00:00+00", "U1", "2026-05-03 00:00:00+00"),  # prompt
        ("O3", "none", None, None, "crm", "2026-05-01 00:00:00+00"),  # no field_history: the import
        ("O4", "sourced", "P2", None, "crm", "2026-04-01 00:00:00+00"),  # field_history
        ("O5", "sourced", "P2", "2026-01-25 00:00:00+00", "system", "2026-05-01 00:00:00+00"),
        ("O6", None, None, None, None, None),
        ("O7", None, None, None, None, None),
        ("O8", "influenced", "P1", None, "crm", "2026-03-01 00:00:00+00"),
    ]
    declared_views(ws.con, at("2026-04-30"))  # before the import: no deals known
    assert ws.con.execute("SELECT count(*) FROM v_declared").fetchone() == (0,)
    declared_views(ws.con, at("2026-05-02"))
    assert ws.con.execute(
        "SELECT partner_source, declared_by FROM v_declared WHERE opportunity_id = 'O2'"
    ).fetchone() == (None, None)
    with pytest.raises(NotFound):
        declared_of(ws.con, "O404")


def test_a_workspace_whose_step_4_was_empty_gets_the_tables(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    workspace = open_workspace(path)
    for table in ("prompt_answers", "prompts", "declarations"):
        workspace.con.execute(f"DROP TABLE {table}")
    as_of_views(workspace.con, None)  # no overlay, no error
    declared_views(workspace.con)
    assert workspace.con.execute("SELECT count(*) FROM declarations").fetchone() == (0,)
