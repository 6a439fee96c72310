"""The *declared* attribution of every deal: the CRM fields, overlaid by cosell's declarations.

What the business declared about a deal (as opposed to what the rules compute from evidence) comes
from three places, in this order of precedence:

1. an answered influence prompt (a rep's declaration, ``declared_by`` = the rep), as long as the
   CRM's own attribution fields have not changed since it was answered;
2. the CRM fields themselves (``declared_by`` = ``crm``) when partner_source is set;
3. an auto-tag (``declared_by`` = ``system``), only where the CRM partner_source is empty.

:func:`declared_views` exposes that as the temp view ``v_declared`` as known at an instant; the stage
gate, the prompts and reconciliation read it. Answered prompts are also part of ``v_opportunities``
(see :func:`cosell.store.workspace.as_of_views`); auto-tags are not, because SPEC section 2 says an
auto-tag is not S4 evidence (S1 already weighs its lead).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cosell.engine import Engine
from cosell.errors import NotFound
from cosell.store.intake import (
    SYSTEM_USER,
    ensure_intake_schema,
    newest_declarations_sql,
    overlaid_opportunities_sql,
    version_filter,
)
from cosell.store.schema import TABLES_BY_NAME

DECLARED_COLUMNS = (
    "opportunity_id",
    "partner_source",  # NULL when nothing is declared (not confirmed)
    "partner_id",
    "engagement_date",
    "activity_log",
    "declared_by",  # 'crm', 'system' (an auto-tag) or the user who answered a prompt; NULL if none
    "declared_at",
    "stage",
    "owner_id",
)


def declared_sql(as_of: datetime | None) -> str:
    """SELECT of :data:`DECLARED_COLUMNS`, one row per opportunity known at ``as_of`` (None: now)."""
    columns = TABLES_BY_NAME["opportunities"].column_names
    crm = "nullif(trim(o.partner_source), '') IS NOT NULL"
    auto = "a.opportunity_id IS NOT NULL"
    return f"""
        WITH o AS ({overlaid_opportunities_sql(columns, as_of)}),
        a AS ({newest_declarations_sql("auto_tag", as_of)}),
        fh AS (
            SELECT opportunity_id, max(changed_at) AS changed_at FROM field_history
            WHERE {version_filter(as_of)} AND field = 'partner_source' GROUP BY opportunity_id)
        SELECT
            o.opportunity_id,
            CASE WHEN {crm} THEN trim(o.partner_source) WHEN {auto} THEN a.partner_source END
                AS partner_source,
            CASE WHEN NOT ({crm}) AND {auto} THEN a.partner_id ELSE o.partner_id END AS partner_id,
            CASE WHEN NOT ({crm}) AND {auto} THEN a.engagement_date ELSE o.partner_engagement_date END
                AS engagement_date,
            CASE WHEN NOT ({crm}) AND {auto} THEN coalesce(a.activity_log, o.partner_activity_log)
                ELSE o.partner_activity_log END AS activity_log,
            CASE WHEN o._prompt_by IS NOT NULL THEN o._prompt_by WHEN {crm} THEN 'crm'
                WHEN {auto} THEN '{SYSTEM_USER}' END AS declared_by,
            CASE WHEN o._prompt_by IS NOT NULL THEN o._prompt_at
                WHEN {crm} THEN coalesce(fh.changed_at, o._valid_from)
                WHEN {auto} THEN a.recorded_at END AS declared_at,
            o.stage,
            o.owner_id
        FROM o
        LEFT JOIN a ON a.opportunity_id = o.opportunity_id
        LEFT JOIN fh ON fh.opportunity_id = o.opportunity_id"""


def declared_views(con: Engine, as_of: datetime | None = None) -> None:
    """Create the temp view ``v_declared``: each deal's declared attribution as known at ``as_of``.

    Columns: :data:`DECLARED_COLUMNS`. ``declared_at`` is when the declaration was made: the answer
    or the auto-tag's time, or for the CRM the newest partner_source change in field_history (else
    the import of the row version). Reads the stored tables directly, so it leaves the
    ``v_<table>`` views alone.
    """
    ensure_intake_schema(con)
    con.execute(f"CREATE OR REPLACE TEMP VIEW v_declared AS {declared_sql(as_of)}")


@dataclass(frozen=True)
class Declared:
    """One deal's declared attribution (see :func:`declared_views`); empty text is ``""``."""

    opportunity_id: str
    partner_source: str
    partner_id: str
    engagement_date: datetime | None
    activity_log: str
    declared_by: str
    declared_at: datetime | None
    stage: str
    owner_id: str

    @property
    def confirmed(self) -> bool:
        """Whether partner_source is declared at all (``none`` is a valid answer)."""
        return bool(self.partner_source)


def declared_of(con: Engine, opportunity_id: str, as_of: datetime | None = None) -> Declared:
    """The declared attribution of one deal (raises :class:`NotFound` for an unknown id)."""
    ensure_intake_schema(con)
    rows = con.execute(
        f"SELECT {', '.join(DECLARED_COLUMNS)} FROM ({declared_sql(as_of)}) WHERE opportunity_id = ?",
        [opportunity_id],
    ).fetchall()
    if not rows:
        raise NotFound(f"no opportunity {opportunity_id}")
    return to_declared(rows[0])


def to_declared(row: tuple[object, ...]) -> Declared:
    """A :class:`Declared` from a row of :data:`DECLARED_COLUMNS`."""
    values = dict(zip(DECLARED_COLUMNS, row, strict=True))

    def text(name: str) -> str:
        value = values[name]
        return "" if value is None else str(value)

    def instant(name: str) -> datetime | None:
        value = values[name]
        return value if isinstance(value, datetime) else None

    return Declared(
        opportunity_id=text("opportunity_id"),
        partner_source=text("partner_source"),
        partner_id=text("partner_id"),
        engagement_date=instant("engagement_date"),
        activity_log=text("activity_log"),
        declared_by=text("declared_by"),
        declared_at=instant("declared_at"),
        stage=text("stage"),
        owner_id=text("owner_id"),
    )
