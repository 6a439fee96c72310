"""``overrides`` lists each override as a run would treat it (SPEC section 4: applied by every later
run "until it is withdrawn"; a run applies a deal's newest override not withdrawn): exactly that one
is in force, the deal's older ones not withdrawn are superseded by it, the rest withdrawn."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from cosell.attribution.facts import Override as RunOverride
from cosell.store.attribution_store import overrides, record_override, withdraw_override
from cosell.store.workspace import open_workspace

START = datetime(2026, 11, 1, tzinfo=UTC)

# Each step records an override on deal 0 or 1 (minutes after the previous step), or withdraws
# the override numbered so (counted among those recorded, when it is not withdrawn yet).
steps = st.lists(
    st.one_of(
        st.tuples(st.just("record"), st.integers(0, 1), st.integers(0, 2)),
        st.tuples(st.just("withdraw"), st.integers(0, 5), st.integers(0, 2)),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=40, deadline=None)
@given(steps)
def test_the_override_listed_in_force_is_the_one_runs_apply(plan: list[tuple[str, int, int]]) -> None:
    ws = open_workspace(":memory:")
    try:
        at = START
        recorded: list[str] = []
        for action, which, minutes in plan:
            at += timedelta(minutes=minutes)
            if action == "record":
                deal = f"O-{which}"
                recorded.append(record_override(ws.con, deal, "none", None, "U", "why", recorded_at=at))
            elif which < len(recorded) and which not in {i for i, o in enumerate(overrides(ws.con))
                                                         if o.withdrawn_at is not None}:  # fmt: skip
                withdraw_override(ws.con, recorded[which], at, by_user="U", reason="void")
        now = int(at.timestamp() * 1_000_000)
        listed = overrides(ws.con)
        assert [o.override_id for o in listed] == recorded
        for deal in ("O-0", "O-1"):
            # What a run known now applies to the deal: its newest override active then.
            active = [
                o for o in listed if o.opportunity_id == deal and RunOverride(
                    o.override_id, deal, o.tier, "", int(o.recorded_at.timestamp() * 1_000_000),
                    None if o.withdrawn_at is None else int(o.withdrawn_at.timestamp() * 1_000_000),
                ).active_at(now)
            ]  # fmt: skip
            applied = max(active, key=lambda o: (o.recorded_at, o.override_id)).override_id if active else ""
            for o in (o for o in listed if o.opportunity_id == deal):
                if o.withdrawn_at is not None:
                    assert (o.status, o.superseded_by) == ("withdrawn", "")
                elif o.override_id == applied:
                    assert (o.status, o.superseded_by) == ("in force", "")
                else:
                    assert (o.status, o.superseded_by) == ("superseded", applied)
    finally:
        ws.close()
