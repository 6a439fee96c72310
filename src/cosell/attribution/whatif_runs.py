"""Two batch runs at the same instants, compared where the data lives: the deals a second policy
decides differently, and their rows under each run.

The batch engine leaves a run's results on the connection until the next run replaces them
(:class:`cosell.attribution.engine.EngineRun`), so a what-if keeps the first run's rows
(:func:`keep_run`) before running the second policy. :func:`differing_deals` then finds, in one
query, every deal whose tier, primary partner or credit rows differ as text; the exact comparison
is :func:`cosell.attribution.whatif.change_kinds` on the rows :func:`fetch_rows` reads back for
those deals only, so a million-deal workspace never travels into Python whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from cosell.attribution.engine_plan import RunRelations
from cosell.engine import Engine
from cosell.results import AttributionRow, CreditRow

KEPT_ATTRIBUTION = "_cosell_whatif_attribution"
KEPT_CREDITS = "_cosell_whatif_credits"


class RunRows(Protocol):
    """A run's results as relations: an :class:`~cosell.attribution.engine.EngineRun` or a
    :class:`KeptRun`."""

    @property
    def con(self) -> Engine: ...

    @property
    def policy_version(self) -> str: ...

    @property
    def attribution_sql(self) -> str: ...

    @property
    def credits_sql(self) -> str: ...


@dataclass(frozen=True)
class KeptRun(RunRelations):
    """A run's results copied under names of their own, read as relations."""

    con: Engine
    policy_version: str
    attribution_table = KEPT_ATTRIBUTION
    credits_table = KEPT_CREDITS

    def drop(self) -> None:
        """Drop the copies (temporary tables; closing the connection drops them too)."""
        for table in (KEPT_ATTRIBUTION, KEPT_CREDITS):
            self.con.execute(f"DROP TABLE IF EXISTS {table}")


def keep_run(run: RunRows) -> KeptRun:
    """Copy ``run``'s attribution and credit rows into temporary tables of the what-if, so that
    the next engine run on the connection does not replace them."""
    run.con.execute(f"CREATE OR REPLACE TEMP TABLE {KEPT_ATTRIBUTION} AS {run.attribution_sql}")
    run.con.execute(f"CREATE OR REPLACE TEMP TABLE {KEPT_CREDITS} AS {run.credits_sql}")
    return KeptRun(run.con, run.policy_version)


def differing_deals(first: RunRows, second: RunRows) -> list[str]:
    """The opportunity ids, sorted, of every deal whose tier, primary partner or credit rows
    (partner, role, share, amount, currency) differ between the two runs, or that only one run holds.

    Compared as the formatted text both runs write, so this is a superset of the deals whose
    decisions differ by value (:func:`cosell.attribution.whatif.change_kinds`); it is never smaller.
    """
    a_attr, b_attr = first.attribution_sql, second.attribution_sql
    a_cred, b_cred = first.credits_sql, second.credits_sql
    credit_differs = " OR ".join(
        f"a.{c} IS DISTINCT FROM b.{c}" for c in ("role", "share", "amount", "currency")
    )
    rows = first.con.execute(
        f"""SELECT opportunity_id FROM (
            SELECT coalesce(a.opportunity_id, b.opportunity_id) AS opportunity_id
            FROM ({a_attr}) a FULL JOIN ({b_attr}) b ON a.opportunity_id = b.opportunity_id
            WHERE a.opportunity_id IS NULL OR b.opportunity_id IS NULL
                OR a.tier IS DISTINCT FROM b.tier
                OR a.primary_partner_id IS DISTINCT FROM b.primary_partner_id
            UNION
            SELECT coalesce(a.opportunity_id, b.opportunity_id) AS opportunity_id
            FROM ({a_cred}) a FULL JOIN ({b_cred}) b
                ON a.opportunity_id = b.opportunity_id AND a.partner_id = b.partner_id
            WHERE a.opportunity_id IS NULL OR b.opportunity_id IS NULL OR {credit_differs}
        ) d ORDER BY opportunity_id"""
    ).fetchall()
    return [str(r[0]) for r in rows]


def fetch_rows(
    run: RunRows, ids: Sequence[str]
) -> dict[str, tuple[AttributionRow | None, tuple[CreditRow, ...]]]:
    """The attribution row (None when the run has none) and the credit rows, by partner id, of
    each deal in ``ids``, read from ``run``."""
    wanted = "SELECT unnest(?::VARCHAR[])"
    ids_param = [sorted(set(ids))]
    rows = run.con.execute(
        f"SELECT * FROM ({run.attribution_sql}) r WHERE opportunity_id IN ({wanted}) ORDER BY opportunity_id",
        ids_param,
    ).fetchall()
    credits = run.con.execute(
        f"SELECT * FROM ({run.credits_sql}) c WHERE opportunity_id IN ({wanted}) "
        "ORDER BY opportunity_id, partner_id",
        ids_param,
    ).fetchall()
    found: dict[str, tuple[AttributionRow | None, tuple[CreditRow, ...]]] = {i: (None, ()) for i in ids}
    for r in rows:
        found[str(r[0])] = (AttributionRow(*r), ())
    for c in credits:
        row, held = found[str(c[0])]
        found[str(c[0])] = (row, (*held, CreditRow(*c)))
    return found
