"""Properties of the reference attribution on generated datasets (see strategies.py).

Most properties load rows with the fast direct loader; the batch-splitting property goes through the
real canonical importer, since that is what it is about.
"""

from __future__ import annotations

import random
import sys
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from cosell.attribution.reference import Decision, build_baselines, decide
from cosell.instants import epoch_micros, parse_instant
from cosell.money import round_money
from cosell.results import TIERS, AttributionRow, CreditRow

sys.path.insert(0, str(Path(__file__).parent))
from strategies import Dataset, Rows, datasets

from golden import empty_workspace, facts_of, import_tables, run_reference, workspace_with

MODELS = ["role_weighted", "even", "first_touch", "last_touch", "position_based", "time_decay"]


def decisions(dataset: Dataset, model: str) -> list[Decision]:
    policy = dataset.policy()
    ws = workspace_with(dataset.tables, policy, direct=True)
    try:
        facts = facts_of(ws, policy)
    finally:
        ws.close()
    as_of = parse_instant(dataset.as_of)
    baselines = build_baselines(facts, policy, epoch_micros(as_of))
    return [decide(o, facts, policy, as_of, model, baselines=baselines) for o in sorted(facts.opportunities)]


def output(tables: Rows, dataset: Dataset) -> tuple[list[AttributionRow], list[CreditRow]]:
    policy = dataset.policy()
    ws = workspace_with(tables, policy, direct=True)
    try:
        return run_reference(ws.con, policy, parse_instant(dataset.as_of), "role_weighted")
    finally:
        ws.close()


@settings(max_examples=80)
@given(datasets(), st.sampled_from(MODELS))
def test_one_tier_one_sourcer_and_exact_credit(dataset: Dataset, model: str) -> None:
    found = decisions(dataset, model)
    assert [d.opportunity_id for d in found] == dataset.opportunity_ids()
    for d in found:
        assert d.tier in TIERS
        sourcers = [c.partner_id for c in d.credits if c.role == "sourcer"]
        assert sourcers == ([d.sourcer] if d.tier == "sourced" else [])
        if d.tier == "none":
            assert not d.credits
            assert d.primary_partner_id == ""
        else:
            assert d.credits
            assert sum(c.share for c in d.credits) == 1
            assert sum(c.amount for c in d.credits) == round_money(d.amount, d.currency)
            assert d.primary_partner_id in {c.partner_id for c in d.credits}
        if d.direct_only:
            assert d.tier == "none"
            assert not d.credits
        assert len({c.partner_id for c in d.credits}) == len(d.credits)
        for row in d.credit_rows():
            assert Decimal(row.amount).as_tuple().exponent == (0 if d.currency == "JPY" else -2)
            assert len(row.share.split(".")[1]) == 6


@settings(max_examples=25)
@given(datasets(), st.randoms(use_true_random=False))
def test_results_do_not_depend_on_row_order(dataset: Dataset, rnd: random.Random) -> None:
    shuffled = {name: rnd.sample(rows, len(rows)) for name, rows in dataset.tables.items()}
    assert output(shuffled, dataset) == output(dataset.tables, dataset)


@settings(max_examples=8)
@given(datasets(max_deals=4), st.integers(2, 3))
def test_results_do_not_depend_on_import_batches(dataset: Dataset, n: int) -> None:
    policy = dataset.policy()
    as_of = parse_instant(dataset.as_of)
    results = []
    for batches in ([dataset.tables], dataset.batches(n)):
        ws = empty_workspace()
        try:
            for batch in batches:
                import_tables(ws, batch, policy)
            results.append(run_reference(ws.con, policy, as_of, "role_weighted"))
        finally:
            ws.close()
    assert results[0] == results[1]
