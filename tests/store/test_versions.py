"""Attribution versions: partial runs, the as-of view of versions, deal history."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from cosell.errors import NotFound, UsageError
from cosell.results import AttributionRow, CreditRow
from cosell.store import workspace as ws_module
from cosell.store.chain import chain_of
from cosell.store.versions import (
    attribution_views,
    base_run,
    current_run_of,
    deal_history,
    latest_run_id,
    require_attribution,
    save_partial_run,
)
from cosell.store.workspace import open_workspace

T0 = datetime(2026, 10, 1, tzinfo=UTC)
T1 = datetime(2026, 10, 2, tzinfo=UTC)
T2 = datetime(2026, 10, 3, tzinfo=UTC)


def _row(opp: str, tier: str, partner: str = "") -> AttributionRow:
    return AttributionRow(opp, tier, partner, "", "10.000000", "", "", "", "", "2026-10-01T00:00:00Z", "p@x")


def _save(con, rows, credits, when, scope_kind="fix"):  # type: ignore[no-untyped-def]
    return save_partial_run(
        con, rows, credits, kind=scope_kind, by_user="u1", reason="why", policy_version="p@x",
        model="role_weighted", as_of=T0, run_at=when,
    )  # fmt: skip


def test_partial_versions_supersede_per_deal_and_as_of_reads_the_past() -> None:
    ws = open_workspace(":memory:")
    con = ws.con
    first = _save(con, [_row("O1", "none"), _row("O2", "sourced", "P1")],
                  [CreditRow("O2", "P1", "sourcer", "1.000000", "100.00", "USD")], T0)  # fmt: skip
    # Pretend the first was a full run: later partial runs change one deal each.
    con.execute(
        "UPDATE attribution_runs SET scope = 'full', chain_full = run_id WHERE run_id = ?", [first.run_id]
    )
    _save(
        con,
        [_row("O1", "influenced", "P2")],
        [CreditRow("O1", "P2", "influencer", "1.000000", "5.00", "USD")],
        T1,
    )
    attribution_views(con)
    now = dict(con.execute("SELECT opportunity_id, tier FROM v_attribution ORDER BY 1").fetchall())
    assert now == {"O1": "influenced", "O2": "sourced"}
    assert con.execute("SELECT count(*) FROM v_credits").fetchone() == (2,)
    attribution_views(con, T0)
    past = dict(con.execute("SELECT opportunity_id, tier FROM v_attribution ORDER BY 1").fetchall())
    assert past == {"O1": "none", "O2": "sourced"}
    assert latest_run_id(con, T0) == first.run_id
    assert [v.row.tier for v in deal_history(con, "O1")] == ["none", "influenced"]
    assert deal_history(con, "O1")[1].credits[0].amount == "5.00"


def test_a_later_full_run_supersedes_earlier_partial_versions() -> None:
    ws = open_workspace(":memory:")
    con = ws.con
    _save(con, [_row("O1", "none")], [], T0)
    _save(con, [_row("O1", "influenced", "P2")], [], T1)
    full = _save(con, [_row("O2", "none")], [], T2)
    con.execute(
        "UPDATE attribution_runs SET scope = 'full', chain_full = run_id WHERE run_id = ?", [full.run_id]
    )
    attribution_views(con)
    assert con.execute("SELECT opportunity_id FROM v_attribution").fetchall() == [("O2",)]


def test_a_partial_run_needs_a_reason_and_a_known_kind() -> None:
    ws = open_workspace(":memory:")
    with pytest.raises(UsageError, match="why"):
        save_partial_run(ws.con, [_row("O1", "none")], [], kind="fix", by_user="u", reason=" ",
                         policy_version="p", model="m", as_of=T0)  # fmt: skip
    with pytest.raises(UsageError, match="kind"):
        save_partial_run(ws.con, [_row("O1", "none")], [], kind="nope", by_user="u", reason="r",
                         policy_version="p", model="m", as_of=T0)  # fmt: skip


def _full(con, rows, when, as_of):  # type: ignore[no-untyped-def]
    """A full run evaluated as of ``as_of``, recorded at ``when``."""
    record = _save(con, rows, [], when)
    con.execute(
        "UPDATE attribution_runs SET scope = 'full', chain_full = run_id, as_of = ? WHERE run_id = ?",
        [as_of, record.run_id],
    )
    return record.run_id


def test_a_reading_as_of_t_takes_the_run_evaluated_then_and_the_partial_runs_after_it() -> None:
    ws = open_workspace(":memory:")
    con = ws.con
    past = datetime(2025, 12, 31, tzinfo=UTC)
    at_t = _full(con, [_row("O1", "none"), _row("O2", "none")], T0, past)  # evaluated as of 2025-12-31
    today = _full(con, [_row("O1", "sourced", "P1"), _row("O2", "sourced", "P1"), _row("O3", "none")], T1, T1)
    fix = _save(con, [_row("O2", "influenced", "P2")], [], T2).run_id  # a fix recorded after both
    attribution_views(con, T2, past)
    read = dict(con.execute("SELECT opportunity_id, run_id FROM v_attribution ORDER BY 1").fetchall())
    # Run 2 (evaluated today) is not read; the fix after run 1 is; O3 did not exist in run 1.
    assert read == {"O1": at_t, "O2": fix}
    assert latest_run_id(con, T2, past) == fix
    assert latest_run_id(con, T1, past) == at_t  # the later full run is never the one read
    assert base_run(con, T2, past).run_id == at_t  # type: ignore[union-attr]
    assert base_run(con, T2).run_id == today  # type: ignore[union-attr]
    attribution_views(con, T2)
    assert dict(con.execute("SELECT opportunity_id, run_id FROM v_attribution").fetchall()) == {
        "O1": today, "O2": fix, "O3": today,
    }  # fmt: skip
    with pytest.raises(
        NotFound,
        match=r"run 2, was evaluated as of 2026-10-02T00:00:00Z\): run `cosell attribute --as-of 2026-06-30",
    ):
        require_attribution(con, T2, datetime(2026, 6, 30, tzinfo=UTC))
    with pytest.raises(NotFound, match="the earliest was recorded at 2026-10-01T00:00:00Z"):
        require_attribution(con, datetime(2026, 9, 1, tzinfo=UTC), past)
    attribution_views(con, T2, datetime(2026, 6, 30, tzinfo=UTC))
    assert con.execute("SELECT count(*) FROM v_attribution").fetchone() == (0,)  # nothing, not everything


def test_step_15_names_each_chain_s_full_run_as_the_runs_were_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before step 15 an incremental run extended the newest complete run by id: its chain starts
    at the newest full run before it. The step records that, and readers keep reading it."""
    path = tmp_path / "w.duckdb"
    monkeypatch.setattr(ws_module, "MIGRATIONS", tuple(m for m in ws_module.MIGRATIONS if m[0] < 15))
    monkeypatch.setattr(ws_module, "SCHEMA_VERSION", ws_module.MIGRATIONS[-1][0])
    ws = open_workspace(path)
    assert ws.schema_version == 14
    scopes = ["full", "incremental", "partial", "full", "incremental", "incremental"]
    for run_id, scope in enumerate(scopes, start=1):
        at = datetime(2026, 10, run_id, tzinfo=UTC)
        ws.con.execute(
            "INSERT INTO attribution_runs (run_id, run_at, as_of, policy_version, model, by_user, reason, "
            "counts, kind, scope, known_at) VALUES (?, ?, ?, 'p@x', 'm', 'u', 'r', '{}', 'batch', ?, ?)",
            [run_id, at, T0, scope, at],
        )
        tier = "influenced" if run_id % 2 else "none"
        ws.con.execute(
            "INSERT INTO attribution_history (run_id, opportunity_id, tier, as_of, policy_version) "
            "VALUES (?, 'O1', ?, ?, 'p@x')",
            [run_id, tier, T0],
        )
    ws.close()
    monkeypatch.undo()
    ws = open_workspace(path)
    chains = dict(ws.con.execute("SELECT run_id, chain_full FROM attribution_runs ORDER BY 1").fetchall())
    assert chains == {1: 1, 2: 1, 3: None, 4: 4, 5: 4, 6: 4}
    assert chain_of(ws.con, 6).runs == (4, 5, 6) and chain_of(ws.con, 2).runs == (1, 2)
    assert latest_run_id(ws.con) == 6
    assert base_run(ws.con) is not None and base_run(ws.con).run_id == 4  # type: ignore[union-attr]
    assert latest_run_id(ws.con, datetime(2026, 10, 3, tzinfo=UTC)) == 3
    for known, run_id, tier in ((None, 6, "none"), (datetime(2026, 10, 3, tzinfo=UTC), 3, "influenced")):
        attribution_views(ws.con, known)
        assert ws.con.execute("SELECT run_id, tier FROM v_attribution").fetchall() == [(run_id, tier)]
    ws.close()


def test_a_partial_run_recorded_after_the_full_run_with_an_earlier_instant_is_read() -> None:
    """An import dated back (a pinned clock) to before the newest full run's knowledge instant
    auto-tags deals that run never read: its partial run is the deals' current version until a
    complete run recorded after it re-decides them (ordered by what they knew alone, it was read by
    no reader: a new deal had no version, pay never saw it)."""
    ws = open_workspace(":memory:")
    con = ws.con
    full = _full(con, [_row("O1", "none"), _row("O2", "none")], T2, T2)
    tagged = _save(con, [_row("O2", "sourced", "P1"), _row("O3", "sourced", "P1")], [], T1, "auto_tag")
    attribution_views(con)
    read = con.execute("SELECT opportunity_id, run_id, tier FROM v_attribution ORDER BY 1").fetchall()
    assert read == [("O1", full, "none"), ("O2", tagged.run_id, "sourced"), ("O3", tagged.run_id, "sourced")]
    assert latest_run_id(con) == tagged.run_id and current_run_of(con, "O3") == tagged.run_id
    # A reading known before the full run was recorded reads the partial run alone.
    attribution_views(con, T1)
    assert con.execute("SELECT opportunity_id FROM v_attribution ORDER BY 1").fetchall() == [("O2",), ("O3",)]
    # A full run recorded after it that knew its instant read its inputs: it supersedes it.
    later = _full(
        con, [_row("O1", "none"), _row("O2", "influenced", "P1")], datetime(2026, 10, 4, tzinfo=UTC), T2
    )
    attribution_views(con)
    read = con.execute("SELECT opportunity_id, run_id, tier FROM v_attribution ORDER BY 1").fetchall()
    assert read == [("O1", later, "none"), ("O2", later, "influenced")]
