"""Reading the inputs of attribution from a workspace into :class:`~cosell.attribution.facts.Facts`.

:func:`load_facts` reads every row of the ``v_<table>`` views of an engine (the rows known at an
instant, see :func:`cosell.store.workspace.as_of_views`); :func:`load_deal_facts` reads only what
can bear on a few deals (their own rows, their accounts' touches, deals and registrations), which
is what a per-deal explain or re-decision needs. The values are built by the pure
:func:`~cosell.attribution.facts.build_facts`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cosell.attribution.facts import Facts, Row, build_facts
from cosell.engine import Engine
from cosell.engine.sql import in_list
from cosell.instants import MICROS_PER_DAY
from cosell.policy import Policy
from cosell.store.schema import TABLES
from cosell.store.tables import tables_present
from cosell.store.workspace import as_of_views


def select_list(table_name: str) -> str:
    """The columns of a canonical table as the facts read them (instants as epoch microseconds)."""
    return _select_list(table_name)


def _select_list(table_name: str) -> str:
    table = next(t for t in TABLES if t.name == table_name)
    parts = []
    for column in table.columns:
        if column.kind == "instant":
            parts.append(f"epoch_us({column.name}) AS {column.name}")
        else:
            parts.append(column.name)
    return ", ".join(parts)


_READ_TABLES = (
    "accounts",
    "partners",
    "partner_contacts",
    "leads",
    "opportunities",
    "stage_history",
    "opportunity_partners",
    "touches",
    "deal_registrations",
    "fx_rates",
)


def load_facts(
    con: Engine,
    policy: Policy,
    known_at: datetime | None = None,
    *,
    existing_at: datetime | None = None,
    make_views: bool = True,
) -> Facts:
    """Read every deal's inputs from a workspace connection.

    With ``make_views`` (the default) the ``v_<table>`` views of the rows known at ``known_at``
    (``None``: the current rows) are created first, leaving out the deals created after
    ``existing_at`` (the as-of instant, :mod:`cosell.asof`). Pass ``make_views=False`` to read
    views the caller already made, for instance the current rows evaluated at a past as-of time in
    a golden case.
    """
    if make_views:
        as_of_views(con, known_at, existing_at=existing_at)
    tables: dict[str, list[Row]] = {}
    for name in _READ_TABLES:
        cursor = con.execute(f"SELECT {_select_list(name)} FROM v_{name}")
        columns = [d[0] for d in cursor.description]
        tables[name] = [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]
    if tables_present(con, ("attribution_overrides",)):
        cursor = con.execute(
            "SELECT override_id, opportunity_id, tier, partner_id, epoch_us(recorded_at) AS recorded_at, "
            "epoch_us(withdrawn_at) AS withdrawn_at FROM attribution_overrides"
        )
        columns = [d[0] for d in cursor.description]
        tables["attribution_overrides"] = [dict(zip(columns, v, strict=True)) for v in cursor.fetchall()]
    return build_facts(tables, policy.workspace_currency)


def _rows(con: Engine, table: str, where: str) -> list[Row]:
    cursor = con.execute(f"SELECT {_select_list(table)} FROM v_{table} WHERE {where}")
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]


def load_deal_facts(
    con: Engine,
    policy: Policy,
    opportunity_ids: Sequence[str],
    known_at: datetime | None = None,
    *,
    existing_at: datetime | None = None,
) -> Facts:
    """The inputs of ``opportunity_ids`` only, as :func:`load_facts` would give them for those deals.

    Reads their opportunity, stage_history, opportunity_partners, leads (their source lead and the
    leads converted to them) and overrides, and on their accounts: the account, the touches (and
    those logged on the deals), the deals (an unlinked registration belongs to the first deal on
    its account created at or after it) and the unlinked registrations; plus the partners, their
    contacts named by those touches, and the FX rates (small tables). Never a row of another
    account, nor a touch on the account before the earliest lookback of its deals (no rule reads
    one). Builds the ``v_<table>`` views of the rows known at ``known_at`` first, like
    :func:`load_facts`. A deal that is not known (or did not exist at ``existing_at``) is simply
    absent from the result.
    """
    as_of_views(con, known_at, existing_at=existing_at)
    ids = in_list(opportunity_ids)
    wanted = _rows(con, "opportunities", f"opportunity_id IN {ids}")
    accounts = in_list({str(r["account_id"]) for r in wanted if r["account_id"] is not None})
    tables: dict[str, list[Row]] = {
        "opportunities": _rows(con, "opportunities", f"account_id IN {accounts}") + wanted,
        "accounts": _rows(con, "accounts", f"account_id IN {accounts}"),
        "stage_history": _rows(con, "stage_history", f"opportunity_id IN {ids}"),
        "opportunity_partners": _rows(con, "opportunity_partners", f"opportunity_id IN {ids}"),
        "partners": _rows(con, "partners", "TRUE"),
        "fx_rates": _rows(con, "fx_rates", "TRUE"),
        "deal_registrations": _rows(con, "deal_registrations", f"opportunity_id IN {ids}")
        + _rows(con, "deal_registrations", f"opportunity_id IS NULL AND account_id IN {accounts}"),
    }
    # Touches on the accounts, and those logged on the deals (whatever account they name). A touch
    # on the account only counts inside a deal's window or lookback, which start at C - lookback:
    # older ones are left out (a deal's own touches are read whenever they occurred).
    lookback = policy.lookback_days * MICROS_PER_DAY
    since: dict[str, int] = {}
    for r in wanted:
        start = int(r["created_at"]) - lookback
        since[str(r["account_id"])] = min(since.get(str(r["account_id"]), start), start)
    oldest = min(since.values(), default=0)
    on_accounts = _rows(con, "touches", f"account_id IN {accounts} AND epoch_us(occurred_at) >= {oldest}")
    touches = {
        str(r["touch_id"]): r
        for r in [t for t in on_accounts if int(t["occurred_at"]) >= since[str(t["account_id"])]]
        + _rows(con, "touches", f"opportunity_id IN {ids}")
    }
    tables["touches"] = list(touches.values())
    contacts = in_list({str(r["partner_contact_id"]) for r in touches.values() if r["partner_contact_id"]})
    tables["partner_contacts"] = _rows(con, "partner_contacts", f"contact_id IN {contacts}")
    sources = in_list({str(r["source_lead_id"]) for r in wanted if r["source_lead_id"]})
    leads = _rows(con, "leads", f"lead_id IN {sources}") + _rows(
        con, "leads", f"converted_opportunity_id IN {ids}"
    )
    tables["leads"] = list({str(r["lead_id"]): r for r in leads}.values())
    # build_facts keys deals by id: the wanted ones appear twice above, once is kept.
    tables["opportunities"] = list({str(r["opportunity_id"]): r for r in tables["opportunities"]}.values())
    tables["deal_registrations"] = list(
        {str(r["registration_id"]): r for r in tables["deal_registrations"]}.values()
    )
    if tables_present(con, ("attribution_overrides",)):
        cursor = con.execute(
            "SELECT override_id, opportunity_id, tier, partner_id, epoch_us(recorded_at) AS recorded_at, "
            f"epoch_us(withdrawn_at) AS withdrawn_at FROM attribution_overrides WHERE opportunity_id IN {ids}"
        )
        columns = [d[0] for d in cursor.description]
        tables["attribution_overrides"] = [dict(zip(columns, v, strict=True)) for v in cursor.fetchall()]
    return build_facts(tables, policy.workspace_currency)
