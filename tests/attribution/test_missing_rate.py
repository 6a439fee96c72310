"""A missing FX rate where an amount band is needed is bad input naming the file, the column and
the deal whose band needs it, in the same words from the batch engine and the reference."""

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
