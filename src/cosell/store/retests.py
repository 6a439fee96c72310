"""Re-tested deals stored as the change of their acceleration columns.

An incremental run (:mod:`cosell.store.chain`) re-tests the unchanged acceleration candidates whose
cohort baseline moved: only their tier, acceleration figures, cohort and rule ids can change (a
candidate is partner-engaged: accelerated or influenced, with the same credits and claims). At a
million deals a 1% change re-tests some 67,000 of them. Their new version is stored as one row of
``attribution_retests``: the run, the deal, ``from_run`` (the run that holds the deal's whole rows)
and the columns the re-test writes (:data:`ATTRIBUTION_RETESTED`, :data:`EVIDENCE_RETESTED`).

The four history relations every reader knows are views over the stored rows (``<name>_rows``)
and the re-tests, so that a re-tested deal reads, under the re-testing run, exactly as if its whole
rows had been written again (as an incremental run wrote them before schema step 19)::

    attribution_history    attribution_history_rows, and each re-test over its from_run's row
    credit_history         credit_history_rows, and each re-tested deal's credits of its from_run
    attribution_evidence   attribution_evidence_rows, and each re-test over its from_run's row
    attribution_claims     attribution_claims_rows, and each re-tested deal's claims of its from_run

Writers write the ``_rows`` tables (:data:`STORED`) and ``attribution_retests``; nothing updates or
deletes a row. A re-test never stacks on another: its ``from_run`` is the newest run of the chain
that holds the deal's whole rows, and it writes every column a re-test can change. The views list
their tables' columns: a later schema step that adds a column to a ``_rows`` table calls
:func:`history_views` again.
"""

from __future__ import annotations

from cosell.engine import Engine
from cosell.store.staging import typed_text

RETESTS_TABLE = "attribution_retests"
# Each history relation readers know, and the table its whole rows are stored in.
STORED = {
    "attribution_history": "attribution_history_rows",
    "credit_history": "credit_history_rows",
    "attribution_evidence": "attribution_evidence_rows",
    "attribution_claims": "attribution_claims_rows",
}
# The columns a re-test writes: of the attribution row, and of the evidence row (cohort and
# cohort_size are in both, with the same values).
ATTRIBUTION_RETESTED = (
    "tier",
    "baseline_days",
    "cycle_reduction_days",
    "rules",
    "remaining_days",
    "cohort",
    "cohort_size",
)
EVIDENCE_RETESTED = (
    "computed_tier",
    "stage_entered_at",
    "remaining_us",
    "cohort",
    "cohort_size",
    "baseline_us",
)
RETESTED = tuple(dict.fromkeys((*ATTRIBUTION_RETESTED, *EVIDENCE_RETESTED)))
_OVERLAID = {
    "attribution_history": ATTRIBUTION_RETESTED,
    "attribution_evidence": EVIDENCE_RETESTED,
    "credit_history": (),
    "attribution_claims": (),
}


def migration_retests(con: Engine) -> None:
    """Schema step: the history tables' rows stored under ``<name>_rows``, the re-tests in
    ``attribution_retests``, and the four history relations as views over both."""
    for view, table in STORED.items():
        con.execute(f"ALTER TABLE {view} RENAME TO {table}")
    types = _column_types(con)
    columns = ", ".join(f"{c} {types[c]}" for c in RETESTED)
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {RETESTS_TABLE} (run_id BIGINT NOT NULL, opportunity_id VARCHAR NOT NULL, "
        f"from_run BIGINT NOT NULL, {columns}, PRIMARY KEY (run_id, opportunity_id))"
    )
    history_views(con)


def history_views(con: Engine) -> None:
    """(Re)create the four history views from their tables' columns, in the tables' order."""
    for view, table in STORED.items():
        names = [column for _, column, _ in con.columns([table])]
        overlaid = set(_OVERLAID[view])
        over = ", ".join(
            "r.run_id" if c == "run_id" else f"r.{c}" if c in overlaid else f"s.{c}" for c in names
        )
        con.execute(
            f"CREATE OR REPLACE VIEW {view} AS SELECT {', '.join(names)} FROM {table} "
            f"UNION ALL SELECT {over} FROM {RETESTS_TABLE} r JOIN {table} s "
            "ON s.run_id = r.from_run AND s.opportunity_id = r.opportunity_id"
        )


def save_retests(con: Engine, run_id: int, retests_sql: str, types: dict[str, str]) -> None:
    """Store a run's re-tests from a relation of opportunity_id, from_run and :data:`RETESTED` as
    formatted text (``types``: the stored type of each column that is not text), inside the
    caller's transaction."""
    columns = ("opportunity_id", *RETESTED)
    con.execute(
        f"INSERT INTO {RETESTS_TABLE} (run_id, from_run, {', '.join(columns)}) "
        f"SELECT {run_id}, CAST(from_run AS BIGINT), {typed_text(columns, types)} FROM ({retests_sql})"
    )


def _column_types(con: Engine) -> dict[str, str]:
    """The stored type of each re-tested column, as its history table has it."""
    found = con.columns([STORED["attribution_history"], STORED["attribution_evidence"]])
    return {column: kind for _, column, kind in found if column in RETESTED}
