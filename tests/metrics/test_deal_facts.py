"""The deal table: close time X and direct-only, by hand and against the batch engine.

The reports compute X with two aggregates instead of the engine's timeline, and read direct-only
back from the stored decision (docs/metrics.md); both are held equal to the engine here, on hand
cases and on a generated demo dataset.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from metrics_support import AS_OF, Book, Deal, attribute, insert, t

from cosell.attribution import engine
from cosell.attribution.engine_execute import drop, execute
from cosell.attribution.engine_params import Params
from cosell.attribution.engine_plan import RunContext
from cosell.data.demo import generate_dataset
from cosell.data.load import import_canonical
from cosell.errors import InputError
from cosell.instants import epoch_micros
from cosell.metrics.context import open_metrics
from cosell.metrics.deals import DEALS_TABLE, build_deal_facts
from cosell.policy import Policy
from cosell.store.attribution_store import save_run
from cosell.store.workspace import Workspace, as_of_views, open_workspace


def facts_of(ws: Workspace) -> dict[str, tuple[datetime | None, bool]]:
    open_metrics(ws.con, Policy(), AS_OF)
    rows = ws.con.execute(f"SELECT opportunity_id, closed_at, direct_only FROM {DEALS_TABLE}").fetchall()
    return {r[0]: (r[1].astimezone(UTC) if r[1] else None, r[2]) for r in rows}


def test_close_time_is_the_first_entry_into_the_current_stage_after_the_last_open_one() -> None:
    ws = open_workspace(":memory:")
    deals = {
        # won, reopened, won again: X is the second entry into Closed Won
        "R1": ("Closed Won", None, [("Prospecting", "2026-01-01"), ("Closed Won", "2026-02-01"),
                                    ("Negotiation", "2026-03-01"), ("Closed Won", "2026-04-01")]),
        # two entries into Closed Lost after the last open stage: the first one
        "L1": ("Closed Lost", None, [("Prospecting", "2026-01-01"), ("Closed Lost", "2026-02-01"),
                                     ("Closed Lost", "2026-02-05")]),
        # no recorded entry into its stage: close_date
        "C1": ("Closed Won", "2026-05-05", [("Prospecting", "2026-01-01")]),
        # its only Closed Won entry is before the last open stage: close_date
        "C2": ("Closed Won", "2026-06-06", [("Closed Won", "2026-01-10"), ("Negotiation", "2026-01-20")]),
        # open: no close time
        "O1": ("Negotiation", None, [("Prospecting", "2026-01-01"), ("Closed Won", "2026-01-05"),
                                     ("Negotiation", "2026-01-09")]),
    }  # fmt: skip
    insert(
        ws,
        "opportunities",
        [
            {"opportunity_id": o, "account_id": "A1", "created_at": t("2026-01-01"), "amount": 1, "stage": s,
             "close_date": t(c) if c else None}
            for o, (s, c, _) in deals.items()
        ],
    )  # fmt: skip
    insert(
        ws,
        "stage_history",
        [
            {"opportunity_id": o, "stage": s, "entered_at": t(at)}
            for o, (_, _, h) in deals.items()
            for s, at in h
        ],
    )
    attribute(ws, [Deal(o, "2026-01-01", "1") for o in deals])
    got = {o: x for o, (x, _) in facts_of(ws).items()}
    assert got == {
        "R1": t("2026-04-01"),
        "L1": t("2026-02-01"),
        "C1": t("2026-05-05"),
        "C2": t("2026-06-06"),
        "O1": None,
    }


def test_a_closed_deal_without_a_close_time_is_an_input_error() -> None:
    ws = open_workspace(":memory:")
    insert(ws, "opportunities", [{"opportunity_id": "X1", "account_id": "A1", "created_at": t("2026-01-01"),
                                  "amount": 1, "stage": "Closed Won"}])  # fmt: skip
    attribute(ws, [Deal("X1", "2026-01-01", "1")])
    with pytest.raises(InputError, match=r"X1.*is closed but has no close time"):
        build_deal_facts(ws.con, Policy(), AS_OF)


def test_direct_only_is_read_from_the_decision_the_partner_rows_and_the_crm_fields() -> None:
    ws = (
        Book()
        .deal("D1", "2026-07-01", "1")  # nothing at all: direct-only
        .deal("D2", "2026-07-01", "1", partner_source="none")  # declared none: direct-only
        .deal("D3", "2026-07-01", "1", partner_id="P1", rules="NO_ACTIVITY")  # CRM names a partner
        .deal("D4", "2026-07-01", "1", partner_source="influenced")  # CRM declares a partner role
        .deal("D5", "2026-07-01", "1", rules="MARKETPLACE_NOT_SOURCE")  # reseller paper only: direct-only
        .deal("D6", "2026-07-01", "1", rules="NO_ACTIVITY")  # a declared influencer row without activity
        .deal("D7", "2026-07-01", "1", tier="influenced")  # partner-attributed
        .deal("D8", "2026-07-01", "1", tier="none", rules="INF OVR")  # partner evidence, overridden to none
        .deal(
            "D9", "2026-07-01", "1", tier="influenced", rules="OVR"
        )  # no evidence, overridden to influenced
        .rows(
            "opportunity_partners",
            {"opportunity_id": "D5", "partner_id": "P9", "role": "reseller"},
            {"opportunity_id": "D6", "partner_id": "P8", "role": "influencer"},
        )
        .save()
    )
    direct = {o: d for o, (_, d) in facts_of(ws).items()}
    assert direct == {
        "D1": True,
        "D2": True,
        "D3": False,
        "D4": False,
        "D5": True,
        "D6": False,
        "D7": False,
        "D8": False,
        "D9": False,
    }


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    folder: Path = tmp_path_factory.mktemp("demo")
    manifest = generate_dataset(folder, size=400, seed=5)
    ws = open_workspace(":memory:")
    import_canonical(ws, folder, now=manifest.as_of)
    save_run(ws.con, engine.attribute(ws.con, Policy(), manifest.as_of), "tester", run_at=manifest.as_of)
    return ws


def test_close_time_and_direct_only_match_the_engine_on_generated_data(demo: Workspace) -> None:
    con, policy = demo.con, Policy()
    as_of_views(con, AS_OF)
    # The engine's own per-deal facts: its plan run up to that step, the step's table read.
    plan = engine.compiled_plan(con, policy, policy.credit_model)
    context = RunContext(policy, policy.credit_model, Params.from_policy(policy, epoch_micros(AS_OF)))
    made = execute(con, plan, context, {}, stop_after="facts")
    try:
        rows = con.execute("SELECT opp_id, x_us, closed, direct_only FROM _cosell_eng_facts").fetchall()
    finally:
        drop(con, made)
    expected = {opp: (x if closed else None, direct) for opp, x, closed, direct in rows}
    got = {o: (epoch_micros(x) if x else None, d) for o, (x, d) in facts_of(demo).items()}
    assert got == expected
    assert sum(1 for _, d in got.values() if d) > 50  # the comparison covers many direct-only deals
    assert sum(1 for x, d in got.values() if not d and x is not None) > 50
