"""The warnings of an import: rows kept as they are, with a word (an unknown touch kind, CRM flags
that disagree with the stage mapping, a touch of one side with the other side's kind, a
registration that ends before it was made or names another account's deal, a rate for the
workspace currency). They never stop an import; they are counted per distinct value, each with its
first row, into the warnings table (:data:`cosell.data.validate.WARNINGS`)."""

from __future__ import annotations

from collections.abc import Sequence

from cosell.data.read import RowPlaces, Staged
from cosell.data.validate import WARNINGS, accepted_now, typed, typed_instant
from cosell.engine import Engine, count_of
from cosell.engine.sql import in_list, lit
from cosell.policy import Policy
from cosell.store.schema import Table

UNKNOWN_KIND = "is an unknown touch kind: the rules ignore it"
_WARNING_GROUPS = "_cosell_import_warning_groups"
_WARNED = "_cosell_import_warned"
_FIRSTS = "_cosell_import_warned_firsts"
# How many of a file's first records are read for its warnings' first places, at first (then
# sixteen times more, until every warned group has one): a warned value's first row is usually
# near the top of the file.
FIRST_RECORDS = 1 << 16


def checked_columns(table: Table) -> frozenset[str]:
    """The columns whose ``n_<column>`` :func:`cosell.data.validate.check_duplicates` and :func:`collect_warnings`
    read (with ``_row``): a view for them needs no other."""
    return frozenset(table.key) | frozenset(WARNING_COLUMNS.get(table.name, ()))


def has_warnings(table: str) -> bool:
    """Whether :func:`collect_warnings` may find anything in ``table`` (else it reads nothing)."""
    return table in WARNING_COLUMNS


def collect_warnings(
    con: Engine,
    staged: Staged,
    view: str,
    policy: Policy,
    *,
    places: RowPlaces | None = None,
    clean: bool = False,
    opportunity_accounts: str | None = None,
) -> None:
    """Warnings over the accepted rows, grouped by column, value and reason.

    The checks read only a few columns of few distinct values: one pass counts the rows of each
    combination (with the first row), and each check then reads those groups, all in one
    statement. ``places``: the table's rows went in in any order, so a warning's first row is not
    the least ``_row`` but the row of the least place among its rows (read for the warned rows
    only). ``clean``: no row of ``view`` has a problem (the problems table is not read).
    ``opportunity_accounts``: a query of each deal's account (columns ``o``, ``a``) as the workspace
    will hold them after this import, for a registration's deal of another account.
    """
    name = staged.table.name
    checks: list[tuple[str, str, str]] = []  # column, condition, reason
    if name == "touches":
        checks.append(("kind", f"n_kind NOT IN {in_list(sorted(policy.known_kinds))}", UNKNOWN_KIND))
        if policy.direct_kinds:
            checks.append(
                (
                    "kind",
                    f"n_actor = 'partner' AND n_kind IN {in_list(sorted(policy.direct_kinds))}",
                    "is a direct kind on a partner touch: counted as partner engagement",
                )
            )
        if policy.partner_kinds:
            checks.append(
                (
                    "kind",
                    f"n_actor = 'direct' AND n_kind IN {in_list(sorted(policy.partner_kinds))}",
                    "is a partner kind on a direct touch: counted as direct engagement",
                )
            )
    if name == "opportunities":
        won, lost = sorted(policy.won_stages), sorted(policy.lost_stages)
        is_won = f"n_stage IN {in_list(won)}" if won else "false"
        is_closed = f"n_stage IN {in_list(won + lost)}" if won + lost else "false"
        for flag, mapped in (("is_closed", is_closed), ("is_won", is_won)):
            if staged.column(flag) is None:
                continue
            value = typed(staged.table.column(flag), policy, name)
            checks.append(
                (
                    flag,
                    f"{value} IS NOT NULL AND {value} <> ({mapped})",
                    f"'disagrees with the stage mapping (stage \"' || n_stage || '\" is ' || "
                    f"CASE WHEN {is_won} THEN 'won' WHEN {is_closed} THEN 'lost' ELSE 'open' END || ')'",
                )
            )
    if name == "deal_registrations":
        # Kept as the rules read them (SPEC section 2), with a word: a CRM typo is no reason to
        # refuse the import, nor to be applied without one.
        registered, expires = typed_instant("n_registered_at"), typed_instant("n_expires_at")
        checks.append(
            (
                "expires_at",
                f"{expires} <= {registered}",
                "is not after the registration's registered_at: it ended no later than it was made, so "
                "the rules count it for no deal",
            )
        )
        if opportunity_accounts is not None:
            account = f"(SELECT min(a) FROM ({opportunity_accounts}) WHERE o = n_opportunity_id)"
            checks.append(
                (
                    "opportunity_id",
                    f"{account} <> n_account_id",
                    f"'is a deal of account ' || {account} || ', not of the registration''s account ' || "
                    "n_account_id || ': the rules read it as written (a registration of that deal)'",
                )
            )
    if name == "fx_rates":
        ws = policy.workspace_currency
        checks.append(
            (
                "currency",
                f"n_currency = {lit(ws)}",
                "is the workspace currency: its rate is always 1, so this row is not read",
            )
        )
    if not checks:
        return
    grouped = ", ".join(f"n_{c}" for c in WARNING_COLUMNS[name])
    accepted = view if clean else accepted_now(con, view, name)
    if places is None:
        # The groups are counted once (a materialized CTE), however many checks read them.
        groups = (
            f"WITH {_WARNING_GROUPS} AS MATERIALIZED (SELECT {grouped}, count(*) AS n, "
            f"min(_row) AS first_row FROM {accepted} GROUP BY {grouped}) "
        )
    else:
        groups = ""
        # The groups first; then the warned rows' keys: the rows of the warned groups (the checks
        # read the grouped columns only: they are tested on the few groups, and the rows found by
        # a semi-join on the warned ones, not tested one by one); then their places: the places
        # of the sources' first records are read, and kept only for a warned key (a filter by a
        # small hash table, not a join built on every row's place), more records each time until
        # every warned group has its least place (:func:`_first_places`).
        (key,) = staged.table.key
        warned = " OR ".join(f"({condition})" for _, condition, _ in checks)
        columns = WARNING_COLUMNS[name]
        same = " AND ".join(f"g.n_{c} IS NOT DISTINCT FROM f.n_{c}" for c in columns)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {_WARNING_GROUPS} AS SELECT {grouped}, count(*) AS n "
            f"FROM {accepted} GROUP BY {grouped}"
        )
        of_group = " AND ".join(f"a.n_{c} IS NOT DISTINCT FROM w.n_{c}" for c in columns)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {_WARNED} AS SELECT {', '.join(f'a.n_{c}' for c in columns)}, "
            f"a.n_{key} AS key FROM {accepted} a "
            f"SEMI JOIN (SELECT * FROM {_WARNING_GROUPS} WHERE {warned}) w ON {of_group}"
        )
        _first_places(con, places, columns)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {_WARNING_GROUPS} AS SELECT g.*, f.first_row "
            f"FROM {_WARNING_GROUPS} g LEFT JOIN {_FIRSTS} f ON {same}"
        )
        con.execute(f"DROP TABLE {_WARNED}")
        con.execute(f"DROP TABLE {_FIRSTS}")
    parts = []
    for column, condition, reason in checks:
        reason_sql = reason if reason.startswith("'") else lit(reason)
        parts.append(
            f"SELECT {lit(name)}, {lit(staged.file.name)}, {lit(column)}, n_{column}, {reason_sql} AS reason, "
            f"sum(n), min(first_row) FROM {_WARNING_GROUPS} WHERE {condition} GROUP BY n_{column}, reason"
        )
    con.execute(f"INSERT INTO {WARNINGS} {groups}{' UNION ALL '.join(parts)}")
    if places is not None:
        con.execute(f"DROP TABLE {_WARNING_GROUPS}")
        # The first places, as rows (one statement: a row may equal a place).
        found = con.execute(f"SELECT DISTINCT first_row FROM {WARNINGS} WHERE tbl = {lit(name)}").fetchall()
        if found:
            pairs = ", ".join(f"({int(p)}, {places.row(int(p))})" for (p,) in found)
            con.execute(
                f"UPDATE {WARNINGS} SET first_row = m.row FROM (VALUES {pairs}) m(place, row) "
                f"WHERE tbl = {lit(name)} AND first_row = m.place"
            )


def _first_places(con: Engine, places: RowPlaces, columns: Sequence[str]) -> None:
    """Table ``_FIRSTS``: each group of the warned rows (``n_<column>`` of ``columns``) and its
    least place (``first_row``). The sources' first :data:`FIRST_RECORDS` records are read, then
    sixteen times more each time (all of them once that would read half), until every group has
    found a row there: the least place among the first records is the least of all, as every
    later record has a greater place."""
    grouped = ", ".join(f"n_{c}" for c in columns)
    same = " AND ".join(f"x.n_{c} IS NOT DISTINCT FROM f.n_{c}" for c in columns)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_FIRSTS} AS SELECT DISTINCT {grouped}, NULL::BIGINT AS first_row "
        f"FROM {_WARNED}"
    )
    first: int | None = FIRST_RECORDS
    while count_of(con, f"SELECT count(*) FROM {_FIRSTS} WHERE first_row IS NULL"):
        if first is not None and first * 2 > places.size:
            first = None
        found = (
            f"SELECT {', '.join(f'w.n_{c}' for c in columns)}, min(p.place) AS place FROM {_WARNED} w "
            f"JOIN (SELECT * FROM ({places.relation(first)}) WHERE key IN (SELECT key FROM {_WARNED})) p "
            f"ON p.key = w.key GROUP BY ALL"
        )
        con.execute(
            f"UPDATE {_FIRSTS} f SET first_row = x.place FROM ({found}) x WHERE f.first_row IS NULL AND {same}"
        )
        if first is None:
            break
        first *= 16


# The columns the warnings of each table read (and group by).
WARNING_COLUMNS = {
    "touches": ("actor", "kind"),
    "opportunities": ("stage", "is_closed", "is_won"),
    "fx_rates": ("currency",),
    "deal_registrations": ("registration_id", "account_id", "opportunity_id", "registered_at", "expires_at"),
}
