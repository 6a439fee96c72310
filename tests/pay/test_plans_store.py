"""Plan versions in a workspace: added once, never changed, in date order, no silent re-pricing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from cosell.errors import CosellError
from cosell.pay.plan_parse import parse_plan
from cosell.pay.plan_versions import add_plan_version, list_plan_versions, load_plan_set
from cosell.pay.plans import Plan, PlanInvalid
from cosell.store.ledger import LEDGER_POSTINGS, ensure_ledger_schema
from cosell.store.workspace import Workspace, open_workspace

NOW = datetime(2026, 5, 1, tzinfo=UTC)


def plan(
    version: int, start: str, end: str = "", plan_id: str = "p", percent: int = 10, currency: str = "USD"
) -> Plan:
    end_line = f"effective_to = {end}\n" if end else ""
    text = (
        f'plan_id = "{plan_id}"\nversion = {version}\neffective_from = {start}\n{end_line}'
        f'currency = "{currency}"\n[[rules]]\nid = "all"\npercent = {percent}\n'
    )
    return parse_plan(text, f"{plan_id}-v{version}.toml")


@pytest.fixture
def ws() -> Iterator[Workspace]:
    workspace = open_workspace(":memory:")
    yield workspace
    workspace.close()


def add(ws: Workspace, p: Plan, *, now: datetime = NOW, reprice: bool = False) -> str:
    with ws.transaction() as con:
        return add_plan_version(con, p, "alice", now=now, workspace_currency="USD", reprice=reprice).outcome


def messages(exc: pytest.ExceptionInfo[PlanInvalid]) -> list[str]:
    return [str(p) for p in exc.value.problems]


def test_a_version_is_stored_with_its_text_and_read_back() -> None:
    ws = open_workspace(":memory:")
    p = plan(1, "2026-01-01")
    assert add(ws, p) == "added"
    row = ws.con.execute(
        "SELECT plan_id, version, effective_from, effective_to, text, digest, by_user, loaded_at, repriced "
        "FROM plan_versions"
    ).fetchone()
    assert row is not None
    assert row[:2] == ("p", 1)
    assert row[2] == datetime(2026, 1, 1, tzinfo=UTC) and row[3] is None
    assert row[4] == p.text and row[5] == p.digest
    assert (row[6], row[7], row[8]) == ("alice", NOW, False)
    plans = load_plan_set(ws.con)
    assert [v.label for v in plans.versions] == ["p@1"]
    assert plans.in_force(datetime(2026, 3, 1, tzinfo=UTC)) == p


def test_the_same_text_again_changes_nothing(ws: Workspace) -> None:
    add(ws, plan(1, "2026-01-01"))
    assert add(ws, plan(1, "2026-01-01")) == "unchanged"
    assert ws.con.execute("SELECT count(*) FROM plan_versions").fetchone() == (1,)


def test_a_loaded_version_never_changes(ws: Workspace) -> None:
    add(ws, plan(1, "2026-01-01"))
    with pytest.raises(PlanInvalid) as exc:
        add(ws, plan(1, "2026-01-01", percent=12))
    assert messages(exc) == [
        "p-v1.toml: p@1 is already loaded with different content (a loaded version never changes: raise the version)"
    ]


def test_versions_must_increase_and_follow_in_date_order(ws: Workspace) -> None:
    add(ws, plan(2, "2026-06-01"))
    with pytest.raises(PlanInvalid) as exc:
        add(ws, plan(1, "2026-07-01"))
    assert messages(exc) == [
        "p-v1.toml: version 1 of p is not after version 2, already loaded (a loaded version never changes: "
        "add a new version)"
    ]
    with pytest.raises(PlanInvalid) as exc:
        add(ws, plan(3, "2026-05-01"), reprice=True)
    assert messages(exc) == [
        "p-v3.toml: p@3 takes effect 2026-05-01T00:00:00Z, before p@2 (2026-06-01T00:00:00Z): versions must "
        "be added in date order"
    ]


def test_a_future_version_supersedes_an_open_one_without_repricing(ws: Workspace) -> None:
    add(ws, plan(1, "2026-01-01"))
    assert add(ws, plan(2, "2026-07-01")) == "added"
    plans = load_plan_set(ws.con)
    assert plans.in_force(datetime(2026, 6, 30, 23, 59, 59, 999999, tzinfo=UTC)).label == "p@1"
    assert plans.in_force(datetime(2026, 7, 1, tzinfo=UTC)).label == "p@2"
    rows = list_plan_versions(ws.con)
    assert [(r.label, r.in_force_until) for r in rows] == [
        ("p@1", datetime(2026, 7, 1, tzinfo=UTC)),
        ("p@2", None),
    ]


def test_taking_over_time_already_past_needs_reprice(ws: Workspace) -> None:
    """Deals closed 2026-04-01..now (2026-05-01) were priced under p@1: p@2 from April re-prices them."""
    add(ws, plan(1, "2026-01-01"))
    with pytest.raises(PlanInvalid) as exc:
        add(ws, plan(2, "2026-04-01"))
    assert messages(exc) == [
        "p-v2.toml: p@2 takes effect 2026-04-01T00:00:00Z, before now (2026-05-01T00:00:00Z), over p@1: deals "
        "closed since then would be re-priced; pass --reprice to do that on purpose"
    ]
    assert ws.con.execute("SELECT count(*) FROM plan_versions").fetchone() == (1,)
    assert add(ws, plan(2, "2026-04-01"), reprice=True) == "added"
    assert [r.repriced for r in list_plan_versions(ws.con)] == [False, True]
    assert load_plan_set(ws.con).in_force(datetime(2026, 4, 15, tzinfo=UTC)).label == "p@2"


def test_a_load_dated_before_the_last_one_cannot_dodge_reprice(ws: Workspace) -> None:
    """Found by fuzzing `plans load --now`: dated back to before p@2's start, a version taking
    over time already past loaded as "future", with no --reprice and no repriced mark. A load
    may not be dated before the last plan load, nor before the ledger's last write."""
    add(ws, plan(1, "2026-01-01"))
    with pytest.raises(
        CosellError, match="before the last recorded change, a plan version load at 2026-05-01T00:00:00Z:"
    ) as exc:
        add(ws, plan(2, "2026-04-01"), now=datetime(2026, 3, 1, tzinfo=UTC))
    assert str(exc.value).endswith("give --now 2026-05-01T00:00:00Z or later")
    assert exc.value.exit_code == 1
    # A posting recorded after the loads: a load dated before it is refused too.
    ensure_ledger_schema(ws.con)
    ws.con.execute(
        "CREATE TEMP TABLE _p AS SELECT 1::BIGINT AS posting_id, TIMESTAMPTZ '2026-06-01 00:00:00+00' AS posted_at, "
        "'2026-05' AS period, 'post' AS action, 'ops' AS by_user, '' AS reason, '{}' AS summary"
    )
    LEDGER_POSTINGS.insert(ws.con, "_p")
    with pytest.raises(
        CosellError, match="before the last recorded change, a ledger posting at 2026-06-01T00:00:00Z:"
    ):
        add(ws, plan(2, "2026-08-01"), now=datetime(2026, 5, 15, tzinfo=UTC))
    assert ws.con.execute("SELECT count(*) FROM plan_versions").fetchone() == (1,)
    assert add(ws, plan(2, "2026-08-01"), now=datetime(2026, 6, 1, tzinfo=UTC)) == "added"


def test_a_first_version_may_start_in_the_past(ws: Workspace) -> None:
    assert add(ws, plan(1, "2025-01-01")) == "added"
    assert [r.repriced for r in list_plan_versions(ws.con)] == [False]


def test_gap_and_overlap_when_loading_after_an_ended_version(ws: Workspace) -> None:
    add(ws, plan(1, "2026-01-01", end="2026-07-01"))
    with pytest.raises(PlanInvalid) as exc:
        add(ws, plan(2, "2026-08-01"))
    assert messages(exc) == [
        "p-v2.toml: a gap in effective dates: p@1 ends 2026-07-01T00:00:00Z but p@2 starts 2026-08-01T00:00:00Z"
    ]
    with pytest.raises(PlanInvalid) as exc:
        add(ws, plan(2, "2026-06-01"))
    assert messages(exc) == [
        "p-v2.toml: an overlap in effective dates: p@1 runs until 2026-07-01T00:00:00Z but p@2 starts "
        "2026-06-01T00:00:00Z"
    ]
    assert add(ws, plan(2, "2026-07-01")) == "added"


def test_another_plan_may_follow_after_a_gap(ws: Workspace) -> None:
    add(ws, plan(1, "2026-01-01", end="2026-07-01", plan_id="a"))
    assert add(ws, plan(1, "2026-09-01", plan_id="b")) == "added"
    plans = load_plan_set(ws.con)
    assert plans.find(datetime(2026, 8, 1, tzinfo=UTC)) is None
    assert plans.in_force(datetime(2026, 9, 1, tzinfo=UTC)).label == "b@1"


def test_the_plan_must_be_in_the_workspace_currency(ws: Workspace) -> None:
    with pytest.raises(PlanInvalid) as exc:
        add(ws, plan(1, "2026-01-01", currency="EUR"))
    assert messages(exc) == ["p-v1.toml: currency EUR is not the workspace currency USD"]


def test_a_refused_version_leaves_nothing_behind(ws: Workspace) -> None:
    add(ws, plan(1, "2026-01-01"))
    with pytest.raises(PlanInvalid), ws.transaction() as con:
        add_plan_version(con, plan(2, "2026-09-01"), "bob", now=NOW, workspace_currency="USD")
        add_plan_version(con, plan(3, "2026-02-01"), "bob", now=NOW, workspace_currency="USD")
    assert [r.label for r in list_plan_versions(ws.con)] == ["p@1"]


def test_a_workspace_whose_plan_table_is_missing_gets_it_on_first_use(ws: Workspace) -> None:
    # A development build recorded schema step 6 while it was still empty: the table is created
    # on first use instead of failing with "table plan_versions does not exist".
    ws.con.execute("DROP TABLE plan_versions")
    assert load_plan_set(ws.con).versions == ()
    assert list_plan_versions(ws.con) == []
    assert add(ws, plan(1, "2026-01-01")) == "added"
    assert [v.label for v in load_plan_set(ws.con).versions] == ["p@1"]
