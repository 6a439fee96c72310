"""Reading the inputs of attribution from a workspace into :class:`~cosell.attribution.facts.Facts`.

:func:`load_facts` reads the ``v_<table>`` views of an engine (the rows known at an instant, see
:func:`cosell.store.workspace.as_of_views`); the values are built by the pure
:func:`~cosell.attribution.facts.build_facts`.
"""

from __future__ import annotations

from datetime import datetime

from cosell.attribution.facts import Facts, Row, build_facts
from cosell.engine import Engine
from cosell.policy import Policy
from cosell.store.schema import TABLES
from cosell.store.workspace import as_of_views


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
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'attribution_overrides'"
    ).fetchall()
    if exists[0][0]:
        cursor = con.execute(
            "SELECT override_id, opportunity_id, tier, partner_id, epoch_us(recorded_at) AS recorded_at, "
            "epoch_us(withdrawn_at) AS withdrawn_at FROM attribution_overrides"
        )
        columns = [d[0] for d in cursor.description]
        tables["attribution_overrides"] = [dict(zip(columns, v, strict=True)) for v in cursor.fetchall()]
    return build_facts(tables, policy.workspace_currency)
