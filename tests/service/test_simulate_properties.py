"""Properties of the policy what-if on generated companies (tests/attribution/strategies.py).

- The current policy against itself lists no change and moves nothing.
- A against B is B against A turned around: the same deals with the same kinds of change, every
  amount moved with the opposite sign; pipeline and revenue only move between tiers (their sum is 0);
  each party's pay change is the sum of its changes deal by deal; the list is in its total order.

Each example runs the batch engine twice per what-if, so the example counts are small.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cosell.attribution.engine import attribute
from cosell.errors import CosellError
from cosell.instants import parse_instant
from cosell.pay.plan_parse import example_plan
from cosell.pay.plan_versions import add_plan_version
from cosell.policy import Policy
from cosell.service.simulate import Simulation, simulate
from cosell.store.workspace import Workspace, open_workspace

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "attribution"))
from strategies import Dataset, datasets

from golden import insert_tables


def company(data: Dataset) -> Workspace:
    ws = open_workspace(":memory:")
    insert_tables(ws, data.tables)
    plan = example_plan()
    add_plan_version(ws.con, plan, "tester", now=plan.effective_from, workspace_currency="USD")
    return ws


def what_if(ws: Workspace, data: Dataset, proposed: Policy, current: Policy) -> Simulation | str:
    """The what-if, or the error it stops with (then the engine alone stops with the same one)."""
    as_of = parse_instant(data.as_of)
    try:
        return simulate(ws.con, proposed, current=current, as_of=as_of)
    except CosellError as exc:
        with pytest.raises(type(exc)) as alone:
            attribute(ws.con, current, as_of)
            attribute(ws.con, proposed, as_of)
        assert str(alone.value) == str(exc)
        return str(exc)


@settings(max_examples=10, deadline=None)
@given(data=datasets())
def test_the_current_policy_against_itself_lists_no_change_and_moves_nothing(data: Dataset) -> None:
    policy = data.policy()
    ws = company(data)
    try:
        result = what_if(ws, data, policy, policy)
    finally:
        ws.close()
    if isinstance(result, str):
        return
    w = result.whatif
    assert w.changes == () and set(w.by_kind.values()) == {0}
    assert set(w.pipeline_moved.values()) == {0} and set(w.revenue_moved.values()) == {0}
    assert w.partner_pay == () and w.rep_pay == () and w.unpriced == ()
    assert result.deals_evaluated == len(data.tables["opportunities"])


proposals = st.builds(
    dict,
    windows__sourcing_lookback_days=st.sampled_from([30, 90, 365]),
    credit__role_weights__influencer=st.sampled_from([30, 50]),
    influence__requires_activity=st.booleans(),
    acceleration__min_cohort_size=st.integers(1, 3),
)


@settings(max_examples=6, deadline=None)
@given(data=datasets(), values=proposals)
def test_a_against_b_is_b_against_a_turned_around(data: Dataset, values: dict[str, object]) -> None:
    a, b = data.policy(), data.policy().with_values(**values)
    ws = company(data)
    try:
        forth, back = what_if(ws, data, b, a), what_if(ws, data, a, b)
    finally:
        ws.close()
    if isinstance(forth, str) or isinstance(back, str):
        assert forth == back  # the same refusal either way
        return
    f, r = forth.whatif, back.whatif
    assert [(c.opportunity_id, c.kinds) for c in sorted(f.changes, key=lambda c: c.opportunity_id)] == [
        (c.opportunity_id, c.kinds) for c in sorted(r.changes, key=lambda c: c.opportunity_id)
    ]
    for moved_f, moved_r in ((f.pipeline_moved, r.pipeline_moved), (f.revenue_moved, r.revenue_moved)):
        assert {t: -v for t, v in moved_f.items()} == moved_r
        assert sum(moved_f.values()) == 0  # the same deals, only between tiers
    assert {p.party_id: -p.change for p in f.partner_pay} == {p.party_id: p.change for p in r.partner_pay}
    per_deal: dict[str, Decimal] = {}
    for c in f.changes:
        for party, change in c.partner_pay_change.items():
            per_deal[party] = per_deal.get(party, Decimal(0)) + change
    assert {p.party_id: p.change for p in f.partner_pay} == {k: v for k, v in per_deal.items() if v}
    keys = [(-c.money_moved, c.opportunity_id) for c in f.changes]
    assert keys == sorted(keys) and all(c.kinds or c.money_moved for c in f.changes)
