"""The database refuses UPDATE, DELETE and TRUNCATE of the ledger and the payout tables."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from cosell.engine import ConstraintViolation, Engine, EngineError
from cosell.pay.payouts import approve_run, propose_run
from cosell.pay.posting import post_period
from cosell.store.ledger import LEDGER_ENTRIES, SEALED_TABLES, LedgerDamaged, verify_ledger

sys.path.insert(0, str(Path(__file__).parent))
from ledger_support import PRICER, PayWorld, at


def _world() -> PayWorld:
    w = PayWorld()
    w.partner("P1")
    w.user("U1")
    w.user("F1", "finance")
    w.deal("O1", "10000.00")
    w.deal("O2", "2000.00")
    w.attribute({"O1": ("sourced", [("P1", "sourcer", "1.000000", "10000.00")]), "O2": ("none", [])})
    post_period(w.ws, w.policy, PRICER, "2026-09", "fin", at("2026-10-01T00:00:00Z"))
    run, _ = propose_run(w.ws, w.policy, "2026-09", "fin", at("2026-10-02T00:00:00Z"))
    approve_run(w.ws, w.policy, run.run_id, "F1", at("2026-10-03T00:00:00Z"))
    return w


def _snapshot(con: Engine, table: str) -> list[tuple[object, ...]]:
    return con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()


@pytest.mark.parametrize("table", [t.name for t in SEALED_TABLES])
def test_every_change_to_a_sealed_table_is_refused_and_changes_nothing(table: str) -> None:
    w = _world()
    con = w.ws.con
    before = _snapshot(con, table)
    assert before, f"{table} should hold rows in this example"
    sealed = next(t for t in SEALED_TABLES if t.name == table)
    text_column = next(c for c, t in sealed.columns if t.startswith("VARCHAR") and c not in sealed.key)
    attempts = [
        f"UPDATE {table} SET {text_column} = 'changed'",
        # Even with a digest recomputed to satisfy the CHECK, the seal's foreign key refuses it.
        f"UPDATE {table} SET {text_column} = 'changed', digest = "
        f"{sealed.digest_sql().replace(text_column, chr(39) + 'changed' + chr(39))}",
        f"DELETE FROM {table}",
        f"TRUNCATE {table}",
        f"DELETE FROM {table} WHERE rowid = (SELECT max(rowid) FROM {table})",
    ]
    for sql in attempts:
        with pytest.raises(ConstraintViolation):
            con.execute(sql)
        assert _snapshot(con, table) == before
    with pytest.raises(EngineError):
        con.execute(f"DROP TABLE {table}")
    assert _snapshot(con, table) == before


def test_a_ledger_row_without_its_seal_is_reported() -> None:
    w = _world()
    verify_ledger(w.ws.con)
    w.ws.con.execute("DELETE FROM ledger_entries_seal WHERE entry_id = 'LE-00000001'")
    with pytest.raises(LedgerDamaged, match=r"^1 row of ledger_entries has no seal"):
        verify_ledger(w.ws.con)
    with pytest.raises(LedgerDamaged):
        post_period(w.ws, w.policy, PRICER, "2026-10", "fin", at("2026-11-01T00:00:00Z"))


def test_an_entry_dated_outside_its_period_is_reported() -> None:
    w = _world()
    con = w.ws.con
    row = con.execute(
        "SELECT * EXCLUDE (digest) FROM ledger_entries WHERE entry_id = 'LE-00000001'"
    ).fetchone()
    assert row is not None
    columns = [c for c, _ in LEDGER_ENTRIES.columns]
    bad = dict(zip(columns, row, strict=True))
    count = con.execute("SELECT count(*) FROM ledger_entries").fetchone()
    assert count is not None
    bad.update(entry_id=f"LE-{count[0] + 1:08d}", idempotency_key="forged", period="2026-08")
    con.execute(
        "CREATE TEMP TABLE forged AS SELECT " + ", ".join(f"${i + 1} AS {c}" for i, c in enumerate(columns)),
        list(bad.values()),
    )
    con.execute("BEGIN")
    LEDGER_ENTRIES.insert(con, "forged")
    con.execute("COMMIT")
    with pytest.raises(LedgerDamaged, match="dated outside its period"):
        verify_ledger(con)
