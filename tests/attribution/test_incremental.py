"""The incremental re-run: after a few deals change, deciding only what changed (and every
candidate whose cohort baseline moved) stores exactly the rows a fresh full run stores."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cosell.asof import AsOf
from cosell.attribution.engine import MODELS, attribute
from cosell.attribution.explain import explain_opportunity
from cosell.attribution.incremental import attribute_incremental, drop_results
from cosell.attribution.per_deal import BaselineMoved, decide_deals
from cosell.attribution.reattribute import store_new_version
from cosell.policy import Policy
from cosell.service.attribution import StoredRun, attribute_and_store
from cosell.store.attribution_store import record_override, run_rows, save_run
from cosell.store.evidence_store import evidence_rows
from cosell.store.retests import RETESTS_TABLE, STORED
from cosell.store.schema import TABLES, TABLES_BY_NAME
from cosell.store.versions import attribution_views
from cosell.store.workspace import Workspace

sys.path.insert(0, str(Path(__file__).parent))
from test_engine_parity import ACCOUNTS, AS_OF, KINDS, PARTNERS, STAGES, datasets, instants, policies
from test_per_deal import POLICY, T0, _instant, _priced, cohort_world

import golden

Tables = dict[str, list[dict[str, str]]]
K1 = AS_OF + timedelta(days=1)
KEYS = {t.name: t.key for t in TABLES}


def based_world(tables: Tables, policy: Policy, model: str) -> Workspace:
    """A workspace of its own holding ``tables`` (imported at AS_OF) and a full run as of AS_OF
    known then. The tests by hand start from a few such worlds, each changing it its own way: each
    world is built once per test process and copied for each test (:func:`golden.built_workspace`)."""
    key = json.dumps(["based", tables, policy.version, model], sort_keys=True)
    return golden.built_workspace(key, lambda ws: _base(ws, tables, policy, model))


def _base(ws: Workspace, tables: Tables, policy: Policy, model: str) -> Workspace:
    """``ws`` (empty) given ``tables``, imported at AS_OF, and a full run as of AS_OF known then
    (a world no other test starts from: a generated one, or one of a single test's own)."""
    golden.insert_tables(ws, tables)
    _imported(ws, AS_OF)
    save_run(ws.con, attribute(ws.con, policy, AS_OF, model, known_at=AS_OF), "tester", run_at=AS_OF)
    return ws


def _imported(ws: Workspace, at: datetime) -> None:
    ws.con.execute(
        "INSERT INTO imports VALUES ((SELECT coalesce(max(import_id), 0) + 1 FROM imports), ?, 'test', 'test', '', "
        "'test')",
        [at],
    )


def change(ws: Workspace, tables: Tables, at: datetime = K1) -> None:
    """Record ``tables``' rows as new versions at ``at``, as an import does: the current version of
    each key is closed (and kept: the old version names the account or deal a row left), the new
    one is known from ``at`` on."""
    for name, rows in tables.items():
        table = TABLES_BY_NAME[name]
        columns = ", ".join(table.column_names)
        placeholders = ", ".join(
            "?" if c.kind == "bool" else f"CAST(? AS {c.sql_type})" for c in table.columns
        )
        key = " AND ".join(f"{k} = ?" for k in table.key)
        for row in rows:
            values = [golden._cell(c.kind, row.get(c.name, "") or "") for c in table.columns]
            keys = [values[table.column_names.index(k)] for k in table.key]
            ws.con.execute(f"UPDATE {name} SET _valid_to = ? WHERE {key} AND _valid_to IS NULL", [at, *keys])
            ws.con.execute(
                f"INSERT INTO {name} ({columns}, extra, _row_hash, _valid_from, _valid_to, _import_id) "
                f"VALUES ({placeholders}, NULL, 'test', ?, NULL, 2)",
                [*values, at],
            )
    _imported(ws, at)


def incremental_at(ws: Workspace, policy: Policy, model: str, known: datetime) -> StoredRun:
    """An incremental run as of AS_OF, with the data known at ``known`` and recorded then."""
    at = AsOf(AS_OF, known, True)
    return attribute_and_store(ws, policy, at, model, by_user="t", reason="", run_at=known, incremental=True)


def incremental_and_full(ws: Workspace, policy: Policy, model: str) -> tuple[StoredRun, StoredRun]:
    """An incremental run at K1, then a full one, both as of AS_OF."""
    inc = incremental_at(ws, policy, model, K1)
    full = attribute_and_store(ws, policy, AsOf(AS_OF, K1, True), model, by_user="t", reason="", run_at=K1)
    return inc, full


def assert_same_runs(ws: Workspace, one: int, other: int) -> None:
    assert run_rows(ws.con, one) == run_rows(ws.con, other)
    assert evidence_rows(ws.con, one) == evidence_rows(ws.con, other)


def stored_deals(ws: Workspace, run_id: int) -> list[str]:
    """The deals run ``run_id`` itself stored a row of (an incremental run: those decided again)."""
    rows = ws.con.execute(
        "SELECT opportunity_id FROM attribution_history WHERE run_id = ? ORDER BY 1", [run_id]
    ).fetchall()
    return [str(r[0]) for r in rows]


def read_as_of(ws: Workspace, evaluated_at: datetime) -> list[tuple[Any, ...]]:
    """Every deal's newest version evaluated as of ``evaluated_at``, as the readers see it (the
    views every report reads), the run that made it left out."""
    attribution_views(ws.con, None, evaluated_at)
    out = []
    for view in ("v_attribution", "v_credits", "v_evidence", "v_claims"):
        out += ws.con.execute(f"SELECT * EXCLUDE (run_id) FROM {view} ORDER BY ALL").fetchall()
    return out


# --- by hand ------------------------------------------------------------------------------------


def test_a_baseline_deal_that_leaves_the_cohort_moves_an_unchanged_candidate() -> None:
    """B01 gets a partner touch: it leaves the baseline of O1 (another account, unchanged), which
    is re-tested against eleven deals; only A1's deal is recomputed."""
    ws = based_world(cohort_world(), POLICY, "role_weighted")
    try:
        change(ws, {"touches": [
            {"touch_id": "T9", "occurred_at": _instant(T0 + 3 * timedelta(days=1)), "account_id": "A1",
             "actor": "partner", "kind": "joint_call", "opportunity_id": "B01", "partner_id": "P1"}]})  # fmt: skip
        inc, full = incremental_and_full(ws, POLICY, "role_weighted")
        assert inc.incremental and not inc.full_because
        assert (inc.recomputed, inc.retested) == (1, 1)
        assert_same_runs(ws, inc.record.run_id, full.record.run_id)
        assert stored_deals(ws, inc.record.run_id) == ["B01", "O1"]  # the rest stays in run 1
        rows, _ = run_rows(ws.con, inc.record.run_id)
        o1 = next(r for r in rows if r.opportunity_id == "O1")
        assert (o1.cohort, o1.cohort_size) == ("stage:1", "11")
    finally:
        ws.close()


def test_an_unchanged_baseline_deal_is_in_its_first_stage_from_its_creation() -> None:
    """B09's entry into Discovery is recorded five days after its creation: as its first stage,
    it counts from its creation (29 days to close, not 24). B01 leaves the baseline; O1 is
    re-tested against the other eleven, B09 among them as the base run stored it: a median of 27
    days (26 if B09 counted from the recorded entry)."""
    ws = based_world(_b09_entered_late(), POLICY, "role_weighted")
    try:
        _b01_leaves_the_baseline(ws)
        inc, full = incremental_and_full(ws, POLICY, "role_weighted")
        assert (inc.recomputed, inc.retested) == (1, 1)
        assert_same_runs(ws, inc.record.run_id, full.record.run_id)
        rows, _ = run_rows(ws.con, inc.record.run_id)
        o1 = next(r for r in rows if r.opportunity_id == "O1")
        assert (o1.cohort_size, o1.baseline_days) == ("11", "27.000000")
    finally:
        ws.close()


def _b09_entered_late() -> Tables:
    """The cohort world with B09's entry into Discovery, its first stage, recorded five days after
    its creation."""
    world = cohort_world()
    for entry in world["stage_history"]:
        if entry["opportunity_id"] == "B09" and entry["stage"] == "Discovery":
            entry["entered_at"] = _instant(T0 + 14 * timedelta(days=1))
    return world


def _kept_entries(ws: Workspace, run_id: int) -> dict[str, list[tuple[str, str]]]:
    """The first stage entries run ``run_id`` kept, by deal: (stage, entered_at) in order."""
    rows = ws.con.execute(
        "SELECT opportunity_id, stage, strftime(entered_at, '%Y-%m-%dT%H:%M:%SZ') "
        "FROM attribution_stage_entries WHERE run_id = ? ORDER BY ALL",
        [run_id],
    ).fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for opp, stage, at in rows:
        out.setdefault(str(opp), []).append((str(stage), str(at)))
    return out


def _b01_leaves_the_baseline(ws: Workspace) -> None:
    _b01_leaves_the_baseline_at(ws, K1)


def _b01_leaves_the_baseline_at(ws: Workspace, at: datetime) -> None:
    """B01 gets a partner touch logged on it: it is no longer direct-only."""
    change(ws, at=at, tables={"touches": [
        {"touch_id": "T9", "occurred_at": _instant(T0 + 3 * timedelta(days=1)), "account_id": "A1",
         "actor": "partner", "kind": "joint_call", "opportunity_id": "B01", "partner_id": "P1"}]})  # fmt: skip


def _b01_leaves_then_runs_again(ws: Workspace) -> StoredRun:
    """After a first incremental run at K1: B01 leaves the baseline an hour later, and a second
    incremental run an hour after that recomputes B01 and re-tests O1, reading as the full run
    stored after it. The second run."""
    later = K1 + timedelta(hours=2)
    _b01_leaves_the_baseline_at(ws, K1 + timedelta(hours=1))
    second = incremental_at(ws, POLICY, "role_weighted", later)
    assert second.incremental and (second.recomputed, second.retested) == (1, 1)
    full = attribute_and_store(
        ws, POLICY, AsOf(AS_OF, later, True), "role_weighted", by_user="t", reason="", run_at=later
    )
    assert_same_runs(ws, second.record.run_id, full.record.run_id)
    return second


def test_a_full_run_keeps_the_first_stage_entries_the_cohorts_read() -> None:
    """Every stage of each baseline deal (B09's first stage from its creation, though its entry is
    recorded later), the stage s of the candidate O1, and nothing of the lost deal L01."""
    day = timedelta(days=1)
    ws = based_world(_b09_entered_late(), POLICY, "role_weighted")
    try:
        kept = _kept_entries(ws, 1)
        assert sorted(kept) == [f"B{i:02d}" for i in range(1, 13)] + ["O1"]
        assert kept["B09"] == [("Closed Won", _instant(T0 + 38 * day)), ("Discovery", _instant(T0 + 9 * day))]
        assert kept["O1"] == [("Discovery", _instant(T0 + 100 * day))]
        assert ws.con.execute("SELECT stage_entries FROM attribution_runs WHERE run_id = 1").fetchone() == (
            True,
        )
    finally:
        ws.close()


def test_an_incremental_run_reads_the_unchanged_deals_entries_as_the_base_run_kept_them() -> None:
    """B10's kept entry into Discovery is moved twenty days later (10 days to close instead of
    30): O1, re-tested once B01 leaves, reads it so (a median of 26 days, not 27). A base run that
    kept no entries (as runs before they were kept) is read from the stage history instead: 27
    days, as the full run."""
    for kept in (True, False):
        ws = based_world(cohort_world(), POLICY, "role_weighted")
        try:
            if kept:
                ws.con.execute(
                    "UPDATE attribution_stage_entries SET entered_at = entered_at + INTERVAL 20 DAY "
                    "WHERE opportunity_id = 'B10' AND stage = 'Discovery'"
                )
            else:
                ws.con.execute("DELETE FROM attribution_stage_entries")
                ws.con.execute("UPDATE attribution_runs SET stage_entries = false")
            _b01_leaves_the_baseline(ws)
            inc, full = incremental_and_full(ws, POLICY, "role_weighted")
            assert (inc.recomputed, inc.retested) == (1, 1)
            rows, _ = run_rows(ws.con, inc.record.run_id)
            o1 = next(r for r in rows if r.opportunity_id == "O1")
            assert (o1.cohort_size, o1.baseline_days) == ("11", "26.000000" if kept else "27.000000")
            if not kept:
                assert_same_runs(ws, inc.record.run_id, full.record.run_id)
            # The incremental run keeps the entries of the deals it computed again (B01, now a
            # candidate itself: its stage s), not the re-tested O1's: it keeps the base run's.
            assert _kept_entries(ws, inc.record.run_id) == {
                "B01": [("Discovery", _instant(T0 + timedelta(days=1)))]
            }
        finally:
            ws.close()


def test_a_chain_reads_each_deal_s_entries_from_the_run_that_last_computed_it() -> None:
    """B03 is created twenty days earlier (its first stage from then on: 43 days to close, not 23):
    the first incremental run computes it again and keeps its new entries. B01 then leaves the
    baseline: the second incremental run re-tests O1 with B03's entries from the first (a median
    of 28 days; 27 with the full run's), as a full run does."""
    ws = based_world(cohort_world(), POLICY, "role_weighted")
    day = timedelta(days=1)
    try:
        change(ws, {"opportunities": [
            {"opportunity_id": "B03", "account_id": "A3", "created_at": _instant(T0 - 17 * day),
             "amount": "5000", "stage": "Closed Won"}]})  # fmt: skip
        first = incremental_at(ws, POLICY, "role_weighted", K1)
        assert first.incremental and first.recomputed == 1
        assert _kept_entries(ws, first.record.run_id)["B03"][1] == ("Discovery", _instant(T0 - 17 * day))
        second = _b01_leaves_then_runs_again(ws)
        rows, _ = run_rows(ws.con, second.record.run_id)
        assert next(r for r in rows if r.opportunity_id == "O1").baseline_days == "28.000000"
    finally:
        ws.close()


def test_a_re_tested_deal_keeps_the_entries_of_the_run_that_last_computed_it() -> None:
    """O1 is computed again by the first incremental run (its amount changes), which keeps its
    entry into its stage s; the second only re-tests it (B01 leaves the baseline) and keeps no
    entry of it, so the chain holds O1's in the first incremental run; the second reads as a full
    run. (A re-tested candidate's entry is read from the chain only when its evidence has none.)"""
    world = cohort_world()
    ws = based_world(world, POLICY, "role_weighted")
    try:
        o1 = next(o for o in world["opportunities"] if o["opportunity_id"] == "O1")
        change(ws, {"opportunities": [{**o1, "amount": "5001"}]})
        first = incremental_at(ws, POLICY, "role_weighted", K1)
        assert first.incremental and first.recomputed == 1
        assert _kept_entries(ws, first.record.run_id) == {"O1": [("Discovery", o1["created_at"])]}
        second = _b01_leaves_then_runs_again(ws)
        assert "O1" not in _kept_entries(ws, second.record.run_id)
    finally:
        ws.close()


def test_a_touch_moved_to_another_account_changes_the_deals_of_both() -> None:
    """T9, a partner touch on account A1 (no deal logged), keeps B01 out of the baseline; moved to
    A20 it leaves A1: B01 (found through the touch's old version) joins O1's cohort again."""
    world = cohort_world()
    world["touches"].append(
        {"touch_id": "T9", "occurred_at": _instant(T0 + 3 * timedelta(days=1)), "account_id": "A1",
         "actor": "partner", "kind": "joint_call", "partner_id": "P1"}
    )  # fmt: skip
    ws = _base(golden.empty_workspace(), world, POLICY, "role_weighted")
    try:
        moved = {**world["touches"][-1], "account_id": "A20"}
        change(ws, {"touches": [moved]})
        inc, full = incremental_and_full(ws, POLICY, "role_weighted")
        assert (inc.recomputed, inc.retested) == (2, 1)  # B01 and L01; O1 re-tested
        assert_same_runs(ws, inc.record.run_id, full.record.run_id)
        rows, _ = run_rows(ws.con, inc.record.run_id)
        assert next(r for r in rows if r.opportunity_id == "O1").cohort_size == "12"
    finally:
        ws.close()


def test_a_touch_on_an_account_changes_only_the_deals_whose_window_holds_it() -> None:
    """Two new partner touches with no deal logged: on A1 thirty days after B01 closed (outside its
    window [C - lookback, X]: B01 reads nothing new) and on A2 inside B02's window (B02 becomes
    partner-engaged and leaves O1's baseline). Only B02 is recomputed; O1 is re-tested."""
    ws = based_world(cohort_world(), POLICY, "role_weighted")
    day = timedelta(days=1)
    try:
        change(ws, {"touches": [
            {"touch_id": "T8", "occurred_at": _instant(T0 + 52 * day), "account_id": "A1",
             "actor": "partner", "kind": "joint_call", "partner_id": "P1"},
            {"touch_id": "T9", "occurred_at": _instant(T0 + 5 * day), "account_id": "A2",
             "actor": "partner", "kind": "joint_call", "partner_id": "P1"}]})  # fmt: skip
        inc, full = incremental_and_full(ws, POLICY, "role_weighted")
        assert (inc.recomputed, inc.retested) == (1, 1)
        assert_same_runs(ws, inc.record.run_id, full.record.run_id)
        assert stored_deals(ws, inc.record.run_id) == ["B02", "O1"]
        rows, _ = run_rows(ws.con, inc.record.run_id)
        assert next(r for r in rows if r.opportunity_id == "O1").cohort_size == "11"
    finally:
        ws.close()


def _registered_world() -> Tables:
    """The cohort world and account A40 with three open deals, R1, R2 and R3 (created 10, 20 and
    30 days after T0), and an approved registration by P1 logged on no deal, 15 days after T0:
    it goes to R2, the first deal on A40 created at or after it, which it sources."""
    world = cohort_world()
    world["accounts"].append({"account_id": "A40", "name": "Acct 40", "segment": "ENT"})
    for i in (1, 2, 3):
        world["opportunities"].append(
            {"opportunity_id": f"R{i}", "account_id": "A40", "created_at": _instant(T0 + 10 * i * timedelta(days=1)),
             "amount": "5000", "stage": "Discovery"}
        )  # fmt: skip
    at = _instant(T0 + 15 * timedelta(days=1))
    world["deal_registrations"] = [
        {"registration_id": "G1", "partner_id": "P1", "account_id": "A40", "registered_at": at,
         "status": "approved", "approved_at": at}
    ]  # fmt: skip
    return world


@pytest.mark.parametrize(
    ("opp", "column", "days", "recomputed", "sourced"),
    [
        ("R3", "amount", 0, ["R3"], "R2"),  # not where the registration goes: R3 alone
        ("R2", "amount", 0, ["R2"], "R2"),  # where it goes: R2 alone, and sourced still
        ("R1", "created_at", 16, ["R1", "R2", "R3"], "R1"),  # R1 is now the first after it
    ],
)
def test_a_deal_on_an_account_with_an_unlinked_registration_is_decided_alone(
    opp: str, column: str, days: int, recomputed: list[str], sourced: str
) -> None:
    """A changed deal does not bring the other deals of its account with it: the unlinked
    registration is given to the deal it goes to among all of them. Only a deal that moves its
    creation (or account) moves the registration: then the account's deals are decided again."""
    world = _registered_world()
    ws = based_world(world, POLICY, "role_weighted")
    try:
        row = next(dict(o) for o in world["opportunities"] if o["opportunity_id"] == opp)
        row[column] = "7500" if column == "amount" else _instant(T0 + days * timedelta(days=1))
        change(ws, {"opportunities": [row]})
        inc, full = incremental_and_full(ws, POLICY, "role_weighted")
        assert inc.incremental and inc.recomputed == len(recomputed)
        assert_same_runs(ws, inc.record.run_id, full.record.run_id)
        assert stored_deals(ws, inc.record.run_id) == recomputed
        rows, _ = run_rows(ws.con, full.record.run_id)
        assert [r.opportunity_id for r in rows if r.tier == "sourced"] == [sourced]
    finally:
        ws.close()


def _micros(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _won_deal(
    world: dict[str, list[dict[str, str]]],
    opp: str,
    account: str,
    created: str,
    entries: list[tuple[str, str]],
    touch: tuple[str, str],
) -> None:
    """A won deal of 5,000 on an ENT account of its own, its stage entries (stage, instant) and one
    partner joint call (touch id, instant) logged on it."""
    world["accounts"].append({"account_id": account, "name": f"Acct {account[1:]}", "segment": "ENT"})
    world["opportunities"].append(
        {"opportunity_id": opp, "account_id": account, "created_at": created, "amount": "5000",
         "stage": "Closed Won"}
    )  # fmt: skip
    world["stage_history"] += [{"opportunity_id": opp, "stage": s, "entered_at": at} for s, at in entries]
    world["touches"].append(
        {"touch_id": touch[0], "occurred_at": touch[1], "account_id": account, "actor": "partner",
         "kind": "joint_call", "opportunity_id": opp, "partner_id": "P1"}
    )  # fmt: skip


def test_a_re_test_writes_what_the_engine_writes_to_the_microsecond() -> None:
    """B06 is created 120,001 us earlier: every cohort holding it moves by half of that, so the
    re-tested medians are odd half-microseconds and their days round (half-even) off the whole
    day. O1 (stage:1, accelerated) and O2 are re-tested; O2 engaged in Qualification, which no
    baseline deal entered, so it falls back to the whole cycle (measured from its creation, at a
    fraction of a second) and is slower than the baseline: a negative reduction, NOT_FASTER. O3 is
    fast enough by the share but not by the days, and keeps the tier of its override."""
    world = cohort_world()
    o2 = T0 + 100 * timedelta(days=1) + timedelta(microseconds=1234)
    day = timedelta(days=1)
    _won_deal(
        world, "O2", "A30", _micros(o2),
        [("Discovery", _micros(o2)), ("Qualification", _instant(o2 + 5 * day)), ("Closed Won", _instant(o2 + 40 * day))],
        ("T2", _instant(o2 + 6 * day)),
    )  # fmt: skip
    # O3: 20 days in Discovery, 20% under the baseline but not 7 days under it, overridden to accelerated.
    o3 = T0 + 100 * day
    _won_deal(
        world, "O3", "A31", _instant(o3), [("Discovery", _instant(o3)), ("Closed Won", _instant(o3 + 20 * day))],
        ("T3", _instant(o3 + 2 * day)),
    )  # fmt: skip
    ws = golden.empty_workspace()
    golden.insert_tables(ws, world)
    _imported(ws, AS_OF)
    record_override(ws.con, "O3", "accelerated", "P1", "t", "exec sponsor on file", recorded_at=AS_OF)
    save_run(
        ws.con, attribute(ws.con, POLICY, AS_OF, "role_weighted", known_at=AS_OF), "tester", run_at=AS_OF
    )
    try:
        b06 = next(dict(o) for o in world["opportunities"] if o["opportunity_id"] == "B06")
        b06["created_at"] = _micros(T0 + 6 * timedelta(days=1) - timedelta(microseconds=120_001))
        change(ws, {"opportunities": [b06]})
        inc, full = incremental_and_full(ws, POLICY, "role_weighted")
        assert (inc.recomputed, inc.retested) == (1, 3)
        assert_same_runs(ws, inc.record.run_id, full.record.run_id)
        rows, _ = run_rows(ws.con, inc.record.run_id)
        by_id = {r.opportunity_id: r for r in rows}
        assert (by_id["O1"].tier, by_id["O1"].baseline_days) == ("accelerated", "26.500001")
        o2_row = by_id["O2"]
        assert (o2_row.tier, o2_row.cohort, o2_row.remaining_days) == ("influenced", "cycle:1", "40.000000")
        assert o2_row.cycle_reduction_days.startswith("-") and "WHOLE_CYCLE" in o2_row.rules.split()
        assert by_id["O3"].tier == "accelerated" and {"OVR", "NOT_FASTER"} <= set(by_id["O3"].rules.split())
        evidence = {e.opportunity_id: e for e in evidence_rows(ws.con, inc.record.run_id)[0]}
        assert evidence["O3"].computed_tier == "influenced"
        assert evidence["O2"].stage_entered_at.endswith(".001234Z")
        assert evidence["O1"].baseline_us.endswith(".5")
        # Stored: B06's whole rows, and each re-test as the change of its acceleration columns over
        # run 1's rows; the history relations read them as whole rows of run 2.
        run, base = inc.record.run_id, 1
        whole = ws.con.execute(
            f"SELECT DISTINCT opportunity_id FROM {STORED['attribution_evidence']} WHERE run_id = ?", [run]
        ).fetchall()
        assert whole == [("B06",)]
        retests = ws.con.execute(
            f"SELECT opportunity_id, from_run, tier FROM {RETESTS_TABLE} WHERE run_id = ? ORDER BY 1", [run]
        ).fetchall()
        assert retests == [
            ("O1", base, "accelerated"),
            ("O2", base, "influenced"),
            ("O3", base, "accelerated"),
        ]
        for table in ("credit_history", "attribution_claims"):  # O1 to O3 have credits, no claims
            again = f"SELECT * EXCLUDE (run_id) FROM {table} WHERE run_id = ? AND opportunity_id LIKE 'O%' ORDER BY ALL"
            assert ws.con.execute(again, [run]).fetchall() == ws.con.execute(again, [base]).fetchall()
            assert ws.con.execute(
                f"SELECT count(*) FROM {STORED[table]} WHERE run_id = ?", [run]
            ).fetchone() == (0,)
        credits = ws.con.execute("SELECT count(*) FROM credit_history WHERE run_id = ?", [run]).fetchone()
        assert credits is not None and credits[0] >= 3
    finally:
        ws.close()


def test_a_candidate_tested_on_the_whole_cycle_is_re_tested_from_its_entry_into_its_stage() -> None:
    """With cohorts of one deal, O2 (engaged in Qualification, which no baseline deal entered) was
    tested on the whole cycle, measured from its creation. B01 gains a Qualification entry: O2's
    cohort becomes stage:1, measured from its first entry into Qualification (five days after its
    creation, which its stored evidence does not hold)."""
    policy = POLICY.with_values(acceleration__min_cohort_size=1)
    world = cohort_world()
    day = timedelta(days=1)
    o2 = T0 + 100 * day
    _won_deal(
        world, "O2", "A30", _instant(o2),
        [("Discovery", _instant(o2)), ("Qualification", _instant(o2 + 5 * day)), ("Closed Won", _instant(o2 + 40 * day))],
        ("T2", _instant(o2 + 6 * day)),
    )  # fmt: skip
    entry = {"opportunity_id": "B01", "stage": "Qualification", "entered_at": _instant(T0 + 3 * day)}
    _assert_re_tested_into_a_stage_cohort(world, policy, "O2", entry, "35.000000")


def _assert_re_tested_into_a_stage_cohort(
    world: Tables, policy: Policy, deal: str, entry: dict[str, str], remaining: str
) -> None:
    """``deal``, tested on the whole cycle by the base run, is re-tested (and only it) once the
    stage ``entry`` is recorded: into the stage cohort of one deal, ``remaining`` days left; the
    incremental run's rows are the full run's."""
    ws = _base(golden.empty_workspace(), world, policy, "role_weighted")
    try:
        before, _ = run_rows(ws.con, 1)
        assert next(r for r in before if r.opportunity_id == deal).cohort == "cycle:1"
        change(ws, {"stage_history": [entry]})
        inc, full = incremental_and_full(ws, policy, "role_weighted")
        assert (inc.recomputed, inc.retested) == (1, 1)
        assert_same_runs(ws, inc.record.run_id, full.record.run_id)
        rows, _ = run_rows(ws.con, inc.record.run_id)
        row = next(r for r in rows if r.opportunity_id == deal)
        assert (row.cohort, row.remaining_days) == ("stage:1", remaining)
    finally:
        ws.close()


def test_a_candidate_without_stage_entries_is_re_tested_from_its_creation() -> None:
    """O3 was won without any recorded stage entry: it is in its current stage, Closed Won
    Special, from its creation. No baseline deal entered that stage, so it was tested on the whole
    cycle. B01 gains an entry into it: O3's cohort becomes stage:1, measured from its creation."""
    day = timedelta(days=1)
    policy = POLICY.with_values(
        acceleration__min_cohort_size=1, stages__won=["Closed Won", "Closed Won Special"]
    )
    world = cohort_world()
    o3 = T0 + 100 * day
    world["accounts"].append({"account_id": "A31", "name": "Acct 31", "segment": "ENT"})
    world["opportunities"].append(
        {"opportunity_id": "O3", "account_id": "A31", "created_at": _instant(o3), "amount": "5000",
         "stage": "Closed Won Special", "close_date": _instant(o3 + 30 * day)}
    )  # fmt: skip
    world["touches"].append(
        {"touch_id": "T3", "occurred_at": _instant(o3 + 2 * day), "account_id": "A31", "actor": "partner",
         "kind": "joint_call", "opportunity_id": "O3", "partner_id": "P1"}
    )  # fmt: skip
    entry = {"opportunity_id": "B01", "stage": "Closed Won Special", "entered_at": _instant(T0 + 11 * day)}
    _assert_re_tested_into_a_stage_cohort(world, policy, "O3", entry, "30.000000")


def test_closing_an_open_deal_moves_it_into_the_baseline() -> None:
    """The lost deal L01 is re-opened and won (a new stage entry): it joins O1's cohort."""
    ws = based_world(cohort_world(), POLICY, "role_weighted")
    day = timedelta(days=1)
    try:
        change(ws, {
            "opportunities": [{"opportunity_id": "L01", "account_id": "A20", "created_at": _instant(T0 + 50 * day),
                               "amount": "5000", "stage": "Closed Won"}],
            "stage_history": [
                {"opportunity_id": "L01", "stage": "Discovery", "entered_at": _instant(T0 + 50 * day)},
                {"opportunity_id": "L01", "stage": "Closed Won", "entered_at": _instant(T0 + 52 * day)}],
        })  # fmt: skip
        inc, full = incremental_and_full(ws, POLICY, "role_weighted")
        assert (inc.recomputed, inc.retested) == (1, 1)
        assert_same_runs(ws, inc.record.run_id, full.record.run_id)
        rows, _ = run_rows(ws.con, inc.record.run_id)
        assert next(r for r in rows if r.opportunity_id == "O1").cohort_size == "13"
    finally:
        ws.close()


def test_an_override_recorded_since_is_a_change_of_its_deal() -> None:
    """An accepted fix (an override recorded after the base run) re-decides its deal alone."""
    ws = based_world(cohort_world(), POLICY, "role_weighted")
    try:
        record_override(ws.con, "B05", "influenced", "P1", "t", "joint call on file", recorded_at=K1)
        inc, full = incremental_and_full(ws, POLICY, "role_weighted")
        assert (inc.recomputed, inc.retested) == (1, 0)
        assert_same_runs(ws, inc.record.run_id, full.record.run_id)
        rows, _ = run_rows(ws.con, inc.record.run_id)
        assert next(r for r in rows if r.opportunity_id == "B05").tier == "influenced"
    finally:
        ws.close()


def test_nothing_changed_recomputes_nothing_and_stores_the_same_run() -> None:
    ws = based_world(cohort_world(), POLICY, "role_weighted")
    try:
        inc, full = incremental_and_full(ws, POLICY, "role_weighted")
        assert (inc.incremental, inc.recomputed, inc.retested) == (True, 0, 0)
        assert inc.counts == full.counts
        assert_same_runs(ws, inc.record.run_id, full.record.run_id)
        assert_same_runs(ws, inc.record.run_id, 1)
    finally:
        ws.close()


def test_what_it_cannot_follow_is_a_full_run_that_says_why() -> None:
    ws = based_world(cohort_world(), POLICY, "role_weighted")
    try:
        change(ws, {"fx_rates": [{"currency": "EUR", "period": "2026-Q1", "rate": "1.1"}]})
        inc, full = incremental_and_full(ws, POLICY, "role_weighted")
        assert not inc.incremental and inc.full_because == "fx_rates changed"
        assert_same_runs(ws, inc.record.run_id, full.record.run_id)
        other = AsOf(AS_OF + timedelta(hours=1), K1, True)
        again = attribute_and_store(
            ws, POLICY, other, "role_weighted", by_user="t", reason="", incremental=True
        )
        assert "another as-of instant" in again.full_because
    finally:
        ws.close()


def test_a_full_run_because_of_an_incremental_base_names_it_as_incremental() -> None:
    """The base of a re-run may be an incremental run: the reason names it as `cosell history`
    lists it (incremental, on its full run), not as "the newest full run" (found by fuzzing
    as-of, branch asof37)."""
    ws = based_world(cohort_world(), POLICY, "role_weighted")
    try:
        inc = incremental_at(ws, POLICY, "role_weighted", K1)
        assert inc.incremental, inc.full_because
        later = K1 + timedelta(hours=1)
        other = AsOf(AS_OF + timedelta(hours=1), later, True)
        again = attribute_and_store(
            ws, POLICY, other, "role_weighted", by_user="t", reason="", run_at=later, incremental=True
        )
        run = inc.record.run_id
        assert again.full_because == (
            f"the newest complete run, run {run} (incremental, on full run 1), "
            "was evaluated at another as-of instant"
        )
    finally:
        ws.close()


def test_an_import_at_the_base_run_s_own_instant_after_it_is_a_full_run() -> None:
    """With a pinned clock an import can be recorded at the very instant the base run knew the data
    at, after the run: known at that instant, yet not read by the run. The changes found after the
    instant would leave it out (found by fuzzing: the credits stayed at the old amount)."""
    world = cohort_world()
    ws = based_world(world, POLICY, "role_weighted")
    try:
        deal = dict(world["opportunities"][0])
        deal["amount"] = str(Decimal(deal["amount"]) * 3)
        change(ws, {"opportunities": [deal]}, at=AS_OF)
        inc, full = incremental_and_full(ws, POLICY, "role_weighted")
        assert not inc.incremental
        assert (
            inc.full_because
            == "an import dated at or before run 1's knowledge instant was recorded after the run"
        )
        assert_same_runs(ws, inc.record.run_id, full.record.run_id)
        # The next run stands on the full one, which read it: incremental again.
        change(
            ws,
            {"opportunities": [{**deal, "amount": world["opportunities"][0]["amount"]}]},
            at=K1 + timedelta(hours=1),
        )
        later = incremental_at(ws, POLICY, "role_weighted", K1 + timedelta(hours=1))
        assert later.incremental, later.full_because
    finally:
        ws.close()


def test_an_import_dated_before_the_base_run_s_instant_after_it_is_a_full_run() -> None:
    """A pinned clock can date an import before the newest run's knowledge instant while recording
    it after the run (an import is only refused before the last import): the run did not read it,
    and no change is found after its instant. The incremental run is a full one, and a re-decision
    does not read the cohorts the run stored (found by fuzzing the re-decisions: both kept B01 in
    O1's baseline, the run saying 0 deals changed)."""
    ws = based_world(cohort_world(), POLICY, "role_weighted")
    try:
        incremental_at(ws, POLICY, "role_weighted", K1 + timedelta(hours=2))  # run 2, known then
        _b01_leaves_the_baseline_at(ws, K1 + timedelta(hours=1))  # recorded after run 2, dated before
        later = K1 + timedelta(hours=3)
        with pytest.raises(BaselineMoved):
            decide_deals(ws.con, POLICY, ["O1"], AS_OF, "role_weighted", known_at=later)
        inc = incremental_at(ws, POLICY, "role_weighted", later)
        assert not inc.incremental
        assert (
            inc.full_because
            == "an import dated at or before run 2's knowledge instant was recorded after the run"
        )
        rows, _ = run_rows(ws.con, inc.record.run_id)
        assert next(r for r in rows if r.opportunity_id == "O1").cohort_size == "11"
        explained = explain_opportunity(ws.con, "O1", POLICY, AS_OF, known_at=later).to_json()
        assert explained["acceleration"]["cohort_size"] == 11
    finally:
        ws.close()


def test_a_fix_stored_since_the_base_run_is_followed_not_refused() -> None:
    """An accepted fix stores a partial run after the base run: the incremental run, known at an
    instant after it, re-decides that deal and still reads as the full run."""
    ws = based_world(cohort_world(), POLICY, "role_weighted")
    try:
        record_override(ws.con, "B05", "influenced", "P1", "t", "joint call on file", recorded_at=K1)
        store_new_version(ws.con, POLICY, ["B05"], K1, kind="fix", by_user="t", reason="joint call")
        inc, full = incremental_and_full(ws, POLICY, "role_weighted")
        assert inc.incremental, inc.full_because
        assert (inc.recomputed, inc.retested) == (1, 0)
        assert_same_runs(ws, inc.record.run_id, full.record.run_id)
    finally:
        ws.close()


def test_a_fix_recorded_at_the_base_run_s_instant_after_it_needs_a_full_run() -> None:
    """A pinned clock records a fix at the base run's knowledge instant after the run: its
    override is no change after that instant, yet the run never read it. Extending the run would
    store the deal as it stood before the fix (as of the chain, unlike a full run), so it is a full
    run instead, saying why, and stores what a full run stores."""
    ws = based_world(cohort_world(), POLICY, "role_weighted")
    try:
        record_override(ws.con, "B05", "influenced", "P1", "t", "joint call on file", recorded_at=AS_OF)
        store_new_version(ws.con, POLICY, ["B05"], AS_OF, kind="fix", by_user="t", reason="joint call")
        inc, full = incremental_and_full(ws, POLICY, "role_weighted")
        assert not inc.incremental
        assert inc.full_because == "a change was recorded at run 1's knowledge instant after the run"
        assert_same_runs(ws, inc.record.run_id, full.record.run_id)
    finally:
        ws.close()


def test_only_the_newest_complete_run_is_extended() -> None:
    """An incremental run known at an instant before the newest run was recorded would sit on top
    of runs it does not know: it is a full run instead, saying why."""
    ws = based_world(cohort_world(), POLICY, "role_weighted")
    try:
        change(ws, {"accounts": [{"account_id": "A3", "name": "x", "segment": "SMB"}]}, at=K1)
        at = AsOf(AS_OF, K1, True)
        attribute_and_store(
            ws, POLICY, at, "role_weighted", by_user="t", reason="", run_at=K1 + timedelta(days=1)
        )
        early = AsOf(AS_OF, K1 + timedelta(hours=1), True)
        again = attribute_and_store(
            ws, POLICY, early, "role_weighted", by_user="t", reason="", run_at=K1 + timedelta(days=2),
            incremental=True,
        )  # fmt: skip
        assert not again.incremental
        assert (
            again.full_because == "a run was recorded after run 1, the newest known at the knowledge instant"
        )
    finally:
        ws.close()


def test_a_full_run_that_knew_less_is_not_extended_nor_read() -> None:
    """A full run stored later with an earlier knowledge instant (``--known-at``, reproducing
    what was known then) is neither the base an incremental run extends nor what readers read:
    the complete run that knew most is."""
    ws = based_world(cohort_world(), POLICY, "role_weighted")
    try:
        change(ws, {"accounts": [{"account_id": "A3", "name": "x", "segment": "SMB"}]}, at=K1)
        known = attribute_and_store(
            ws, POLICY, AsOf(AS_OF, K1, True), "role_weighted", by_user="t", reason="", run_at=K1
        )
        late = K1 + timedelta(hours=1)
        again = attribute_and_store(
            ws, POLICY, AsOf(AS_OF, AS_OF, True), "role_weighted", by_user="t", reason="", run_at=late
        )
        assert read_as_of(ws, AS_OF) == read_as_of_run(ws, known.record.run_id)
        change(
            ws,
            {"accounts": [{"account_id": "A3", "name": "y", "segment": "MM"}]},
            at=late + timedelta(hours=1),
        )
        inc = incremental_at(ws, POLICY, "role_weighted", late + timedelta(hours=1))
        assert inc.incremental, inc.full_because
        assert inc.base_run == known.record.run_id != again.record.run_id
        full = attribute_and_store(
            ws, POLICY, AsOf(AS_OF, late + timedelta(hours=1), True), "role_weighted", by_user="t", reason="",
            run_at=late + timedelta(hours=1),
        )  # fmt: skip
        assert_same_runs(ws, inc.record.run_id, full.record.run_id)
    finally:
        ws.close()


def read_as_of_run(ws: Workspace, run_id: int) -> list[tuple[Any, ...]]:
    """What :func:`read_as_of` reads, from one stored full run alone."""
    out = []
    for table in ("attribution_history", "credit_history", "attribution_evidence", "attribution_claims"):
        out += ws.con.execute(
            f"SELECT * EXCLUDE (run_id) FROM {table} WHERE run_id = ? ORDER BY ALL", [run_id]
        ).fetchall()
    return out


def test_the_views_are_whole_again_after_an_incremental_run() -> None:
    ws = based_world(cohort_world(), POLICY, "role_weighted")
    try:
        result = attribute_incremental(ws.con, POLICY, AS_OF, "role_weighted", known_at=K1)
        drop_results(ws.con)
        assert not result.full_because
        row = ws.con.execute("SELECT count(*) FROM v_opportunities").fetchone()
        assert row is not None and row[0] == 14
    finally:
        ws.close()


# --- generated ----------------------------------------------------------------------------------

AMOUNTS = ["1000.00", "24999.99", "25000", "99999.99", "150000", "7"]


@st.composite
def changes(draw: Any, tables: Tables) -> Tables:
    """A few changed or new rows: amounts, stages and closes (in and out of cohort windows),
    segments, touches (new, partner or direct, moved to another account), an account moved."""
    out: Tables = {}
    opps = tables["opportunities"]
    for _ in range(draw(st.integers(1, 3))):
        what = draw(st.sampled_from(["amount", "stage", "segment", "touch", "move", "account"]))
        if what in ("amount", "stage", "account") and opps:
            opp = dict(draw(st.sampled_from(opps)))
            if what == "amount":
                opp["amount"] = draw(st.sampled_from(AMOUNTS))
                opp["currency"] = ""
            elif what == "account":
                opp["account_id"] = draw(st.sampled_from(ACCOUNTS))
            else:
                opp["stage"] = draw(st.sampled_from(STAGES))
                opp["close_date"] = draw(instants(-100, 150))
                out.setdefault("stage_history", []).append(
                    {"opportunity_id": opp["opportunity_id"], "stage": opp["stage"],
                     "entered_at": draw(instants(-100, 150))}
                )  # fmt: skip
            out.setdefault("opportunities", []).append(opp)
        elif what == "segment":
            out.setdefault("accounts", []).append(
                {"account_id": draw(st.sampled_from(ACCOUNTS)), "name": "x",
                 "segment": draw(st.sampled_from(["", "ENT", "SMB"]))}
            )  # fmt: skip
        elif what == "move" and tables["touches"]:
            touch = dict(draw(st.sampled_from(tables["touches"])))
            touch["account_id"] = draw(st.sampled_from(ACCOUNTS))
            out.setdefault("touches", []).append(touch)
        else:
            actor = draw(st.sampled_from(["partner", "direct"]))
            out.setdefault("touches", []).append(
                {"touch_id": f"N{draw(st.integers(0, 99))}", "occurred_at": draw(instants()),
                 "account_id": draw(st.sampled_from(ACCOUNTS)), "actor": actor, "kind": draw(st.sampled_from(KINDS)),
                 "opportunity_id": draw(st.sampled_from(["", "", *(o["opportunity_id"] for o in opps)])),
                 "partner_id": draw(st.sampled_from(PARTNERS)) if actor == "partner" else ""}
            )  # fmt: skip
    # One version per key and change.
    return {
        name: list({tuple(r.get(k, "") for k in KEYS[name]): r for r in rows}.values())
        for name, rows in out.items()
    }


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables=datasets(), policy=policies(), model=st.sampled_from(MODELS), data=st.data())
def test_an_incremental_run_stores_what_a_full_run_stores(
    tables: Tables, policy: Policy, model: str, data: Any
) -> None:
    """A generated world, its stored full run, a drawn change and an incremental run: it stores
    what a full run then stores. Ten examples here, and ten more in the chain below, whose first
    incremental run is held to the same (:func:`assert_stores_what_a_full_run_stores`)."""
    ws = _base(golden.empty_workspace(), _priced(tables), policy, model)
    try:
        change(ws, data.draw(changes(tables)))
        inc = incremental_at(ws, policy, model, K1)
        assert inc.incremental, inc.full_because
        assert_stores_what_a_full_run_stores(ws, policy, model, inc, K1, copy=False)
    finally:
        ws.close()


def assert_stores_what_a_full_run_stores(
    ws: Workspace, policy: Policy, model: str, inc: StoredRun, known: datetime, *, copy: bool
) -> None:
    """A full run as of AS_OF known at ``known`` (recorded then) stores what the incremental run
    ``inc`` stored. ``copy``: the full run is made and stored in a copy of ``ws``, which stays as
    it was (``inc`` its newest run, for the next incremental run to extend)."""
    target = golden.workspace_copy(ws) if copy else ws
    try:
        at = AsOf(AS_OF, known, True)
        full = attribute_and_store(target, policy, at, model, by_user="t", reason="", run_at=known)
        assert inc.counts == full.counts
        assert_same_runs(target, inc.record.run_id, full.record.run_id)
    finally:
        if copy:
            target.close()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables=datasets(), policy=policies(), model=st.sampled_from(MODELS), data=st.data())
def test_a_chain_of_incremental_runs_reads_as_a_full_run(
    tables: Tables, policy: Policy, model: str, data: Any
) -> None:
    """Two changes, each followed by an incremental run on top of the last: the first stores what
    a full run then stores (the test above, on these ten examples too), and the stored chain, and
    what every reader sees as of T, are what a full run stores."""
    ws = _base(golden.empty_workspace(), _priced(tables), policy, model)
    try:
        change(ws, data.draw(changes(tables)), at=K1)
        first = incremental_at(ws, policy, model, K1)
        assert first.incremental, first.full_because
        assert_stores_what_a_full_run_stores(ws, policy, model, first, K1, copy=True)
        later = K1 + timedelta(hours=2)
        change(ws, data.draw(changes(tables)), at=K1 + timedelta(hours=1))
        second = incremental_at(ws, policy, model, later)
        assert second.incremental, second.full_because
        chained = read_as_of(ws, AS_OF)
        at = AsOf(AS_OF, later, True)
        full = attribute_and_store(ws, policy, at, model, by_user="t", reason="", run_at=later)
        assert_same_runs(ws, second.record.run_id, full.record.run_id)
        assert read_as_of(ws, AS_OF) == chained
    finally:
        ws.close()
