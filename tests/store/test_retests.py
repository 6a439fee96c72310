"""Schema step 19 (cosell.store.retests): the history tables' rows move under ``<name>_rows``, and
the four history relations every reader knows read as they did."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from cosell.store import workspace as ws_module
from cosell.store.retests import RETESTS_TABLE, STORED
from cosell.store.workspace import open_workspace

T0 = datetime(2026, 9, 30, tzinfo=UTC)
ROWS = {
    "attribution_history": (
        "INSERT INTO attribution_history (run_id, opportunity_id, tier, as_of, policy_version, baseline_days, rules) "
        "VALUES (?, ?, ?, ?, 'p@x', ?, ?)",
        [(1, "O1", "accelerated", T0, "12.500000", "ACC S1"), (1, "O2", "none", T0, None, ""),
         (2, "O1", "influenced", T0, "30.000000", "INF NOT_FASTER S1")],
    ),
    "credit_history": (
        "INSERT INTO credit_history (run_id, opportunity_id, partner_id, role, share, amount, currency) "
        "VALUES (?, ?, 'P1', 'sourcer', ?, ?, 'EUR')",
        [(1, "O1", "1.000000", "1000.0000"), (2, "O1", "1.000000", "1000.0000")],
    ),
    "attribution_evidence": (
        "INSERT INTO attribution_evidence (run_id, opportunity_id, status, created_at, direct_only, computed_tier, "
        "baseline_us) VALUES (?, ?, 'won', ?, false, ?, ?)",
        [(1, "O1", T0, "accelerated", "1080000000000.5"), (2, "O1", T0, "influenced", "2592000000000.0")],
    ),
    "attribution_claims": (
        "INSERT INTO attribution_claims (run_id, opportunity_id, partner_id, rule, claimed_at, source) "
        "VALUES (?, ?, 'P1', 'S1', ?, 'L1')",
        [(1, "O1", T0), (2, "O1", T0)],
    ),
}  # fmt: skip


def test_step_19_keeps_every_history_row_readable_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "w.duckdb"
    monkeypatch.setattr(ws_module, "MIGRATIONS", tuple(m for m in ws_module.MIGRATIONS if m[0] < 19))
    monkeypatch.setattr(ws_module, "SCHEMA_VERSION", ws_module.MIGRATIONS[-1][0])
    ws = open_workspace(path)
    assert ws.schema_version == 18
    before = {}
    for table, (sql, rows) in ROWS.items():
        for row in rows:
            ws.con.execute(sql, list(row))
        before[table] = ws.con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
    ws.close()
    monkeypatch.undo()
    ws = open_workspace(path)
    try:
        assert ws.schema_version == 19
        for table, rows in before.items():
            assert ws.con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall() == rows
            assert ws.con.execute(f"SELECT * FROM {STORED[table]} ORDER BY ALL").fetchall() == rows
        kinds = dict(
            ws.con.execute(
                "SELECT table_name, table_type FROM information_schema.tables WHERE table_catalog = current_database()"
            ).fetchall()
        )
        assert {kinds[view] for view in STORED} == {"VIEW"}
        assert {kinds[table] for table in STORED.values()} == {"BASE TABLE"}
        assert ws.con.execute(f"SELECT count(*) FROM {RETESTS_TABLE}").fetchone() == (0,)
        # The views of step 3 over the history still bind (to the new views): no run recorded.
        assert ws.con.execute("SELECT count(*) FROM attribution_latest").fetchone() == (0,)
    finally:
        ws.close()


def test_a_re_test_reads_as_its_base_rows_with_its_own_columns(tmp_path: Path) -> None:
    """A re-test of O1 in run 3 over run 2's rows: every history relation reads O1 under run 3,
    the re-tested columns its own, every other column and its credits and claims run 2's."""
    ws = open_workspace(tmp_path / "w.duckdb")
    try:
        for table, (sql, rows) in ROWS.items():
            for row in rows:
                ws.con.execute(sql.replace(f"INTO {table} ", f"INTO {STORED[table]} "), list(row))
        ws.con.execute(
            f"INSERT INTO {RETESTS_TABLE} (run_id, opportunity_id, from_run, tier, baseline_days, rules, "
            "computed_tier, baseline_us) VALUES (3, 'O1', 2, 'accelerated', 40.25, 'ACC S1', 'accelerated', "
            "3477600000000.0)"
        )
        row = ws.con.execute(
            "SELECT tier, baseline_days, rules, as_of, policy_version FROM attribution_history WHERE run_id = 3"
        ).fetchall()
        assert [tuple(str(v) for v in r) for r in row] == [
            ("accelerated", "40.250000", "ACC S1", str(T0), "p@x")
        ]
        evidence = ws.con.execute(
            "SELECT computed_tier, baseline_us, status FROM attribution_evidence WHERE run_id = 3"
        ).fetchall()
        assert [tuple(str(v) for v in r) for r in evidence] == [("accelerated", "3477600000000.0", "won")]
        for table in ("credit_history", "attribution_claims"):
            again = f"SELECT * EXCLUDE (run_id) FROM {table} WHERE run_id = ? ORDER BY ALL"
            assert ws.con.execute(again, [3]).fetchall() == ws.con.execute(again, [2]).fetchall() != []
        # O2 was not re-tested: run 3 holds nothing of it.
        assert ws.con.execute(
            "SELECT count(*) FROM attribution_history WHERE opportunity_id = 'O2'"
        ).fetchone() == (1,)
    finally:
        ws.close()
