"""The rule of SPEC section 7 for OpportunityHistory, as a property: a stage's entry is the earliest
row of each run of rows in one stage, whatever order the export lists the rows in."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from cosell.crm.canonical import Translation
from cosell.crm.mapping import default_mapping
from cosell.crm.objects import ObjectFile
from cosell.crm.salesforce_history import stage_history
from cosell.crm.sources import parse_table
from cosell.policy import Policy

STAGES = ("Prospecting", "Negotiation", "Closed Won")
START = datetime(2026, 1, 1, tzinfo=UTC)

# A deal's history: (minutes after the previous row, stage) per row, in time order.
histories = st.lists(st.tuples(st.integers(1, 5000), st.sampled_from(STAGES)), min_size=1, max_size=12)


def _entries(rows: list[tuple[str, str, str]], order: list[int]) -> list[tuple[str, ...]]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["Id", "OpportunityId", "StageName", "CreatedDate"])
    writer.writerows(rows[i] for i in order)
    out = Translation()
    f = ObjectFile(
        "OpportunityHistory",
        parse_table("OpportunityHistory.csv", buffer.getvalue()),
        default_mapping("salesforce"),
        {},
        out,
    )
    stage_history(f, default_mapping("salesforce"), Policy(), out)
    assert out.problems == []
    return list(out.rows("stage_history"))


@given(histories, st.randoms(use_true_random=False))
def test_each_run_of_a_stage_is_one_entry_at_its_earliest_row(
    history: list[tuple[int, str]], rnd: object
) -> None:
    at, rows, expected = START, [], []
    for i, (minutes, stage) in enumerate(history):
        at += timedelta(minutes=minutes)
        text = at.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        rows.append((f"008{i:012d}", "006A", stage, text))
        if not expected or expected[-1][1] != stage:
            expected.append(("006A", stage, text))
    order = list(range(len(rows)))
    rnd.shuffle(order)  # type: ignore[attr-defined]
    assert _entries(rows, order) == expected
