"""A missing FX rate where an amount band is needed is bad input naming the file, the column and
the deal whose band needs it, in the same words from the batch engine and the reference; a rate
at either end of what the import takes converts the largest amount into the same band as well."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from cosell.attribution.engine import attribute
from cosell.attribution.facts_read import load_facts
from cosell.attribution.reference import attribute_reference
from cosell.errors import InputError
from cosell.instants import parse_instant
from cosell.policy import Policy
from cosell.store.workspace import as_of_views

sys.path.insert(0, str(Path(__file__).parent))
from test_engine_parity import assert_same, run_engine
from test_per_deal import cohort_world

import golden

AS_OF = parse_instant("2026-12-01T00:00:00Z")


def _errors(tables: dict[str, list[dict[str, str]]]) -> tuple[str, str]:
    """The engine's and the reference's message for ``tables``."""
    policy = Policy()
    ws = golden.empty_workspace()
    golden.insert_tables(ws, tables)
    try:
        as_of_views(ws.con, None)
        with pytest.raises(InputError) as engine:
            attribute(ws.con, policy, AS_OF, "role_weighted", make_views=False)
        with pytest.raises(InputError) as reference:
            attribute_reference(load_facts(ws.con, policy, make_views=False), policy, AS_OF, "role_weighted")
    finally:
        ws.close()
    return str(engine.value), str(reference.value)


@pytest.mark.parametrize(
    ("in_euros", "named"),
    [
        (["O1"], "O1"),  # the candidate's own band
        (["B03", "B07"], "B03"),  # a baseline deal in its window: the earliest to close
    ],
)
def test_the_error_names_the_deal_whose_band_needs_the_rate(in_euros: list[str], named: str) -> None:
    tables = cohort_world()
    for opp in tables["opportunities"]:
        if opp["opportunity_id"] in in_euros:
            opp["currency"] = "EUR"
    engine, reference = _errors(tables)
    assert engine == reference
    assert engine.startswith("fx_rates, rate: no rate for EUR in ")
    assert engine.endswith(f": needed by deal {named}'s amount band")


@pytest.mark.parametrize("rate", ["99999999.999999999999", "0.000000000001"])
def test_amount_bands_of_the_largest_amount_at_the_largest_rate_as_the_reference(rate: str) -> None:
    """The cohort world with every deal at the largest CLF amount the import takes, at an FX rate
    of 8 integer digits (or the smallest): the engine's amount band converted a DECIMAL(38,12)
    amount times a DECIMAL(38,12) rate and overflowed DECIMAL(38) (exit 70, found by fuzzing huge
    amounts through attribute). Its bands, tiers and cohorts are now the reference's."""
    tables = cohort_world()
    for opp in tables["opportunities"]:
        opp.update(amount="99999999999999.9999", currency="CLF")
    tables["fx_rates"] = [{"currency": "CLF", "period": f"2026-{m:02d}", "rate": rate} for m in range(1, 13)]
    policy = Policy()
    ws = golden.empty_workspace()
    golden.insert_tables(ws, tables)
    try:
        as_of_views(ws.con, None)
        reference = attribute_reference(
            load_facts(ws.con, policy, make_views=False), policy, AS_OF, "role_weighted"
        )
        engine = run_engine(ws.con, policy, AS_OF, "role_weighted")
    finally:
        ws.close()
    assert_same(reference, engine)
    assert {r.opportunity_id: r.tier for r in engine[0]}["O1"] == "accelerated"
