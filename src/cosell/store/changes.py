"""What changed between two knowledge instants, deal by deal (for the incremental re-run).

Rows are versioned (:mod:`cosell.data.load`): a changed row closes its old version and adds a new
one at the import's instant, and nothing is deleted. So the rows the rules read at ``until`` differ
from those they read at ``since`` exactly by the versions recorded in ``(since, until]`` and the
versions they closed in it (the old one names the account or deal the row left). Overrides and answered
prompts are recorded with their own instants (an override also when withdrawn).

:func:`changed_deals` turns those rows into the deals whose inputs may differ (an over-approximation
is safe: a deal recomputed without need gives the same result):

- a deal whose own rows changed: its opportunity, stage history, partner rows, a lead converted to
  it or named as its source lead, a registration or touch logged on it, an override or an answered
  prompt on it;
- every deal on an account whose rows changed: the account (its segment), an unlinked registration
  (it goes to the first deal on the account), and an opportunity that moved in or out of it;
- for a touch on an account, the deals of the account whose window (or lookback) holds a version
  of it, when the caller gives the deals' windows; else every deal of the account;
- an opportunity that moved account or creation instant, or is new, counts as a change of its
  accounts: which deal an unlinked registration goes to (the first deal on the account created at
  or after it) moves only then, so a deal whose other rows changed does not bring the other deals
  of its account (the caller gives the rules each unlinked registration with the deal it goes to,
  found among all the deals: :mod:`cosell.attribution.incremental`).

Changes the incremental path does not follow deal by deal (FX rates, partner contacts) are named
in :attr:`ChangeSet.unsupported`: the caller runs everything again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cosell.engine import Engine
from cosell.engine.sql import ts
from cosell.store.tables import tables_present

# Changes that move deals the rules cannot find one by one (a rate re-bands every deal in its
# period and currency; a contact re-assigns every touch that names it).
UNSUPPORTED = ("fx_rates", "partner_contacts")
DIRTY_DEALS = "_cosell_changed_deals"
# The tables whose rows name the deals and accounts they bear on, each with the columns the deals
# are found from: a changed version's other columns are never read, so they are not copied.
TABLES = {
    "opportunities": ("opportunity_id", "account_id", "created_at", "_valid_from"),
    "stage_history": ("opportunity_id",),
    "touches": ("opportunity_id", "account_id", "occurred_at"),
    "leads": ("lead_id", "converted_opportunity_id"),
    "deal_registrations": ("opportunity_id", "account_id"),
    "opportunity_partners": ("opportunity_id",),
    "accounts": ("account_id",),
}
DIRTY_ACCOUNTS = "_cosell_changed_accounts"


@dataclass(frozen=True)
class ChangeSet:
    """The deals to decide again (temp table ``_cosell_changed_deals``, column ``opportunity_id``:
    every deal, known or gone, whose rows may differ) and the tables changed that need a full run."""

    deals: int
    unsupported: tuple[str, ...]


def _recorded(since: datetime, until: datetime | None, column: str = "_valid_from") -> str:
    upper = "" if until is None else f" AND {column} <= {ts(until)}"
    return f"{column} > {ts(since)}{upper}"


def _versions_of_changed(table: str, since: datetime, until: datetime | None) -> str:
    """The versions of ``table`` recorded in ``(since, until]`` and those they closed (the versions
    known at ``since`` of the same keys: a new version closes the current one at its own instant).
    Both are found by their instants alone, without reading the keys of the whole table."""
    return (
        f"SELECT {', '.join(TABLES[table])} FROM {table} "
        f"WHERE ({_recorded(since, until)}) OR ({_recorded(since, until, '_valid_to')})"
    )


def changed_deals(
    con: Engine,
    since: datetime,
    until: datetime | None,
    current_opportunities: str,
    windows: str = "",
) -> ChangeSet:
    """Find the deals whose inputs changed between what was known at ``since`` and at ``until``
    (None: everything recorded) into the temp table ``_cosell_changed_deals``.

    ``current_opportunities`` is the relation of the deals the new run decides (the opportunities
    known at ``until`` that existed at its as-of instant): the deals on a changed account are
    taken from it. ``windows`` is a relation
    of the deals' windows as the base run read them (opportunity_id, lo_us, hi_us: epoch
    microseconds of C - lookback and of the later of X and C); given, a touch on an account
    changes only the account's deals whose window holds a version of it (a deal without a window
    row, or with a NULL bound, is changed by any), not every deal of the account.
    """
    unsupported = []
    for table in UNSUPPORTED:
        row = con.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {_recorded(since, until)} LIMIT 1)"
        ).fetchone()
        if row and row[0]:
            unsupported.append(table)
    changed = {}
    for table in TABLES:
        # Each read once (the touches are the largest table), kept while the deals are found.
        changed[table] = f"_cosell_versions_{table}"  # not DIRTY_ACCOUNTS's name
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {changed[table]} AS {_versions_of_changed(table, since, until)}"
        )
    opps, history, touches = changed["opportunities"], changed["stage_history"], changed["touches"]
    leads, regs, partners = changed["leads"], changed["deal_registrations"], changed["opportunity_partners"]
    accounts = changed["accounts"]
    own = [
        f"SELECT opportunity_id FROM {opps}",
        f"SELECT opportunity_id FROM {history}",
        f"SELECT opportunity_id FROM {touches}",
        f"SELECT converted_opportunity_id FROM {leads}",
        f"SELECT o.opportunity_id FROM {current_opportunities} o WHERE o.source_lead_id IN "
        f"(SELECT lead_id FROM {leads})",
        f"SELECT opportunity_id FROM {regs}",
        f"SELECT opportunity_id FROM {partners}",
        "SELECT opportunity_id FROM attribution_overrides WHERE "
        f"({_recorded(since, until, 'recorded_at')}) OR ({_recorded(since, until, 'withdrawn_at')})",
    ]
    if tables_present(con, ("declarations",)):
        own.append(
            f"SELECT opportunity_id FROM declarations WHERE source = 'prompt' AND "
            f"{_recorded(since, until, 'recorded_at')}"
        )
    # An opportunity moves its account's other deals only when it enters or leaves the account, or
    # its creation moves (which deal an unlinked registration goes to); a new amount or stage is
    # its own.
    arrived = (
        f"SELECT opportunity_id FROM {opps} GROUP BY opportunity_id "
        f"HAVING min(_valid_from) > {ts(since)} OR count(DISTINCT (account_id, created_at)) > 1"
    )
    touched = f"UNION SELECT account_id FROM {touches} " if not windows else ""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {DIRTY_ACCOUNTS} AS "
        f"SELECT account_id FROM {opps} WHERE opportunity_id IN ({arrived}) "
        f"{touched}UNION SELECT account_id FROM {regs} UNION SELECT account_id FROM {accounts}"
    )
    if windows:
        # SPEC section 2: a touch with no deal logged is associated with the deals of its account
        # whose window [C - lookback, X] holds it, and a direct touch on the account (logged on any
        # deal) guards the deals whose lookback [C - lookback, C] holds it: no other deal reads it.
        t_us = con.dialect.epoch_us.format("t.occurred_at")
        own.append(
            f"SELECT o.opportunity_id FROM {current_opportunities} o JOIN {touches} t ON t.account_id = o.account_id "
            f"LEFT JOIN {windows} w ON w.opportunity_id = o.opportunity_id "
            f"WHERE w.lo_us IS NULL OR w.hi_us IS NULL OR t.occurred_at IS NULL "
            f"OR ({t_us} >= w.lo_us AND {t_us} <= w.hi_us)"
        )
    own_sql = " UNION ".join(own)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {DIRTY_DEALS} AS
        SELECT opportunity_id FROM ({own_sql}) WHERE opportunity_id IS NOT NULL
        UNION
        SELECT o.opportunity_id FROM {current_opportunities} o
        WHERE o.account_id IN (SELECT account_id FROM {DIRTY_ACCOUNTS})"""
    )
    for name in changed.values():
        con.execute(f"DROP TABLE IF EXISTS {name}")
    row = con.execute(f"SELECT count(*) FROM {DIRTY_DEALS}").fetchone()
    return ChangeSet(int(row[0]) if row else 0, tuple(unsupported))


__all__ = ["DIRTY_ACCOUNTS", "DIRTY_DEALS", "UNSUPPORTED", "ChangeSet", "changed_deals"]
