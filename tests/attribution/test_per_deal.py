"""Per-deal work stays per deal: explaining or re-deciding a deal reads its own rows and its cohort's
stored baseline, and gives exactly what a full run gives; when the stored baseline no longer
applies it falls back to the whole workspace, and still gives what a full run gives.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cosell.attribution.engine import MODELS, attribute
from cosell.attribution.explain import explain_opportunity
from cosell.attribution.facts_read import load_facts
from cosell.attribution.per_deal import BaselineMoved, decide_deals
from cosell.attribution.reattribute import redecide_with_evidence
from cosell.attribution.reference import decide_all
from cosell.policy import Policy
from cosell.store.attribution_store import record_override, run_rows, save_run
from cosell.store.evidence_store import evidence_rows
from cosell.store.workspace import Workspace, as_of_views

sys.path.insert(0, str(Path(__file__).parent))
from test_engine_parity import AS_OF, datasets, policies

import golden

Tables = dict[str, list[dict[str, str]]]


def _priced(tables: Tables) -> Tables:
    """Every currency with a rate in every quarter the generated deals close in (a missing rate is
    the same input error either way, tested in test_evidence_parity)."""
    for row in tables["opportunities"]:
        if row["currency"] == "JPY":
            row["currency"], row["amount"] = "EUR", "12345"
    return tables


def stored_world(tables: Tables, policy: Policy, model: str) -> tuple[Workspace, int]:
    """A workspace holding ``tables`` and one full run as of AS_OF (known and recorded then)."""
    ws = golden.empty_workspace()
    golden.insert_tables(ws, tables)
    record = save_run(ws.con, attribute(ws.con, policy, AS_OF, model), "tester", run_at=AS_OF)
    return ws, record.run_id


def stored_cohort_world() -> Workspace:
    """:func:`stored_world` of the cohort world (its run is run 1): built once per test process
    and copied for each test that starts from it (:func:`golden.built_workspace`)."""
    return golden.built_workspace(
        "per-deal cohort world", lambda ws: _stored(ws, cohort_world(), POLICY, "role_weighted")
    )


def _stored(ws: Workspace, tables: Tables, policy: Policy, model: str) -> None:
    golden.insert_tables(ws, tables)
    save_run(ws.con, attribute(ws.con, policy, AS_OF, model), "tester", run_at=AS_OF)


@settings(max_examples=25, deadline=None)
@given(tables=datasets(), policy=policies(), model=st.sampled_from(MODELS), data=st.data())
def test_each_deal_alone_gives_what_the_full_run_gave(
    tables: Tables, policy: Policy, model: str, data: Any
) -> None:
    ws, run_id = stored_world(_priced(tables), policy, model)
    try:
        rows, credits = run_rows(ws.con, run_id)
        evidence, claims = evidence_rows(ws.con, run_id)
        ids = [r.opportunity_id for r in rows]
        as_of_views(ws.con, AS_OF, existing_at=AS_OF)
        full = {
            d.opportunity_id: d
            for d in decide_all(load_facts(ws.con, policy, make_views=False), policy, AS_OF, model)
        }
        for o in ids:
            # No fallback: right after a full run every stored baseline applies.
            _, (alone,) = decide_deals(ws.con, policy, [o], AS_OF, model, known_at=AS_OF, with_members=True)
            assert alone.row() == next(r for r in rows if r.opportunity_id == o)
            assert alone.credit_rows() == [c for c in credits if c.opportunity_id == o]
            assert alone.evidence_row() == next(e for e in evidence if e.opportunity_id == o)
            assert alone.claim_rows() == [c for c in claims if c.opportunity_id == o]
            # explain lists the cohort's deals: the same ones the whole-workspace reference finds.
            assert alone.acceleration == full[o].acceleration
        some = data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=4, unique=True))
        again = redecide_with_evidence(ws.con, policy, some, AS_OF, model)
        assert again.rows == [r for r in rows if r.opportunity_id in some]
        assert again.evidence == [e for e in evidence if e.opportunity_id in some]
    finally:
        ws.close()


# --- a world with cohorts -----------------------------------------------------------------------

DAY = timedelta(days=1)
T0 = AS_OF - timedelta(days=200)


def _instant(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def cohort_world() -> Tables:
    """Twelve direct-only won deals B01..B12 on accounts A1..A12 (stage Discovery for 20 + i days,
    so a median of 26.5 days), one lost deal L01 on A20, and O1 on A0: won after a partner touch
    while in Discovery, 10 days from entering it to close (accelerated)."""
    t: Tables = {
        "accounts": [{"account_id": f"A{i}", "name": f"Acct {i}", "segment": "ENT"} for i in range(21)],
        "partners": [{"partner_id": "P1", "name": "Contoso", "partner_type": "co_sell"}],
        "opportunities": [],
        "stage_history": [],
        "touches": [],
    }
    for i in range(1, 13):
        created = T0 + i * DAY
        t["opportunities"].append(
            {"opportunity_id": f"B{i:02d}", "account_id": f"A{i}", "created_at": _instant(created),
             "amount": "5000", "stage": "Closed Won"}
        )  # fmt: skip
        t["stage_history"] += [
            {"opportunity_id": f"B{i:02d}", "stage": "Discovery", "entered_at": _instant(created)},
            {"opportunity_id": f"B{i:02d}", "stage": "Closed Won", "entered_at": _instant(created + (20 + i) * DAY)},
        ]  # fmt: skip
    t["opportunities"].append(
        {"opportunity_id": "L01", "account_id": "A20", "created_at": _instant(T0), "amount": "100",
         "stage": "Closed Lost", "close_date": _instant(T0 + 5 * DAY)}
    )  # fmt: skip
    o1 = T0 + 100 * DAY
    t["opportunities"].append(
        {"opportunity_id": "O1", "account_id": "A0", "created_at": _instant(o1), "amount": "5000",
         "stage": "Closed Won"}
    )  # fmt: skip
    t["stage_history"] += [
        {"opportunity_id": "O1", "stage": "Discovery", "entered_at": _instant(o1)},
        {"opportunity_id": "O1", "stage": "Closed Won", "entered_at": _instant(o1 + 10 * DAY)},
    ]
    t["touches"].append(
        {"touch_id": "T1", "occurred_at": _instant(o1 + 2 * DAY), "account_id": "A0", "actor": "partner",
         "kind": "joint_call", "opportunity_id": "O1", "partner_id": "P1"}
    )  # fmt: skip
    return t


POLICY = Policy()


def test_the_cohort_world_is_what_its_docstring_says() -> None:
    ws = stored_cohort_world()
    try:
        data = explain_opportunity(ws.con, "O1", POLICY, AS_OF).to_json()
    finally:
        ws.close()
    assert data["tier"] == "accelerated"
    acc = data["acceleration"]
    assert (acc["cohort"], acc["cohort_size"], acc["baseline_days"], acc["remaining_days"]) == (
        "stage:1", 12, "26.500000", "10.000000",
    )  # fmt: skip
    assert acc["cohort_deal_ids"] == [f"B{i:02d}" for i in range(1, 13)]


def test_explain_reads_no_other_deal() -> None:
    """Delete every row of every other deal (but the cohort's entries into O1's stage, which name
    its deals): explain is unchanged, while a whole-workspace explain changes (the rows mattered)."""
    ws = stored_cohort_world()
    try:
        before = explain_opportunity(ws.con, "O1", POLICY, AS_OF).to_json()
        ws.con.execute("DELETE FROM opportunities WHERE opportunity_id <> 'O1'")
        ws.con.execute("DELETE FROM accounts WHERE account_id <> 'A0'")
        # Of the cohort's deals only their entries into O1's stage are read (to list them).
        ws.con.execute("DELETE FROM stage_history WHERE opportunity_id <> 'O1' AND stage <> 'Discovery'")
        after = explain_opportunity(ws.con, "O1", POLICY, AS_OF).to_json()
        assert after == before
        as_of_views(ws.con, AS_OF, existing_at=AS_OF)
        facts = load_facts(ws.con, POLICY, make_views=False)
        whole = decide_all(facts, POLICY, AS_OF)
        assert next(d for d in whole if d.opportunity_id == "O1").tier != "accelerated"
    finally:
        ws.close()


def _import(ws: Workspace, at: datetime) -> None:
    """Record an import at ``at`` (what the real importer does beside the rows it writes)."""
    ws.con.execute(
        "INSERT INTO imports VALUES ((SELECT coalesce(max(import_id), 0) + 1 FROM imports), ?, 'test', 'test', '', "
        "'test')",
        [at],
    )


def test_after_an_import_that_moves_the_cohort_it_falls_back_and_matches_a_new_full_run() -> None:
    ws = stored_cohort_world()
    later = AS_OF + DAY
    try:
        # A partner touch on B01 makes it partner-influenced: it leaves the baseline.
        golden.insert_tables(ws, {"touches": [
            {"touch_id": "T9", "occurred_at": _instant(T0 + 3 * DAY), "account_id": "A1", "actor": "partner",
             "kind": "joint_call", "opportunity_id": "B01", "partner_id": "P1"}]})  # fmt: skip
        _import(ws, later)
        try:
            decide_deals(ws.con, POLICY, ["O1"], later, "role_weighted", known_at=later)
            raise AssertionError("the stored baseline was used after the cohort moved")
        except BaselineMoved:
            pass
        again = redecide_with_evidence(ws.con, POLICY, ["O1"], later)
        fresh = attribute(ws.con, POLICY, later, "role_weighted", known_at=later)
        assert again.rows == [r for r in fresh.rows() if r.opportunity_id == "O1"]
        assert again.evidence == [e for e in fresh.evidence_rows()[0] if e.opportunity_id == "O1"]
        assert again.evidence[0].cohort_size == "11"
    finally:
        ws.close()


def test_without_a_run_a_deal_not_tested_for_acceleration_needs_no_baseline() -> None:
    ws = golden.empty_workspace()
    golden.insert_tables(ws, cohort_world())
    try:
        _, (lost,) = decide_deals(ws.con, POLICY, ["L01"], AS_OF, "role_weighted", known_at=AS_OF)
        assert lost.tier == "none" and lost.status == "lost"
        try:
            decide_deals(ws.con, POLICY, ["O1"], AS_OF, "role_weighted", known_at=AS_OF)
            raise AssertionError("a candidate was decided without any stored baseline")
        except BaselineMoved:
            pass
        # explain falls back to the whole workspace and still explains it.
        assert explain_opportunity(ws.con, "O1", POLICY, AS_OF).to_json()["tier"] == "accelerated"
    finally:
        ws.close()


def test_the_three_ways_to_redecide_store_the_same_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Per deal from stored baselines, and the two whole-workspace fallbacks (the reference in a
    small workspace, one engine run in a large one) give the same rows, credits and evidence, with
    an accepted override applied."""
    import cosell.attribution.reattribute as reattribute

    found = []
    for way in ("per deal", "reference", "engine"):
        ws = stored_cohort_world()
        try:
            later = AS_OF + DAY
            record_override(
                ws.con, "B03", "influenced", "P1", "tester", "a partner helped", recorded_at=later
            )
            if way != "per deal":

                def moved(*args: Any, **kwargs: Any) -> Any:
                    raise BaselineMoved("forced")

                monkeypatch.setattr(reattribute, "decide_deals", moved)
                monkeypatch.setattr(
                    reattribute, "REFERENCE_MAX_WORKSPACE", 10**9 if way == "reference" else 0
                )
            found.append(redecide_with_evidence(ws.con, POLICY, ["B03", "O1", "L01"], later))
        finally:
            ws.close()
            monkeypatch.undo()
    assert found[0] == found[1] == found[2]
    assert [r.tier for r in found[0].rows] == ["influenced", "none", "accelerated"]
    assert "OVR" in found[0].rows[0].rules and found[0].evidence[0].direct_only == "true"
