"""Storage of declarations (auto-tags, answered prompts) and influence prompts.

::

    declarations    append-only: a declared attribution of one deal, made by the system (an
                    auto-tag, source 'auto_tag') or by a rep answering a prompt (source 'prompt')
    prompts         append-only: an influence prompt issued to a deal's owning rep for one partner
    prompt_answers  append-only: the answer to a prompt (at most one per prompt)

Nothing is updated in place: a prompt's status (open, answered, superseded, expired) is derived
as of an instant from these rows (see :mod:`cosell.hygiene.prompts`).

This module also holds the one piece of SQL that overlays an answered prompt on the CRM fields of
``opportunities`` (:func:`overlaid_opportunities_sql`), used by
:func:`cosell.store.workspace.as_of_views` and by :mod:`cosell.hygiene.declared`, so that the
engine, the reference implementation and the declared view all read the same values.
"""

from __future__ import annotations

from datetime import datetime

from cosell.engine import Engine
from cosell.instants import format_instant
from cosell.store.tables import ensure_tables, tables_present

DECLARATION_SOURCES = ("auto_tag", "prompt")
SYSTEM_USER = "system"

# The CRM attribution fields an answered prompt overlays, and the declaration column each comes from.
_OVERLAY = (
    ("partner_source", "partner_source"),
    ("partner_id", "partner_id"),
    ("partner_activity_log", "activity_log"),
)


def migration_intake(con: Engine) -> None:
    """Schema step 4: declarations, prompts and prompt answers (idempotent: IF NOT EXISTS).

    Workspaces made by development builds recorded step 4 while it was still empty; the
    capability's entry points call :func:`ensure_intake_schema` so those workspaces work too.
    """
    con.execute(
        """CREATE TABLE IF NOT EXISTS declarations (
            declaration_id VARCHAR PRIMARY KEY,
            opportunity_id VARCHAR NOT NULL,
            partner_source VARCHAR NOT NULL,
            partner_id VARCHAR,
            engagement_date TIMESTAMPTZ,
            activity_log VARCHAR,
            source VARCHAR NOT NULL,
            by_user VARCHAR NOT NULL,
            reason VARCHAR NOT NULL,
            recorded_at TIMESTAMPTZ NOT NULL)"""
    )
    con.execute(
        """CREATE TABLE IF NOT EXISTS prompts (
            prompt_id VARCHAR PRIMARY KEY,
            opportunity_id VARCHAR NOT NULL,
            partner_id VARCHAR NOT NULL,
            rep_id VARCHAR,
            trigger VARCHAR NOT NULL,
            trigger_ref VARCHAR NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            expires_at TIMESTAMPTZ NOT NULL,
            recorded_at TIMESTAMPTZ NOT NULL,
            UNIQUE (opportunity_id, partner_id))"""
    )
    con.execute(
        """CREATE TABLE IF NOT EXISTS prompt_answers (
            prompt_id VARCHAR PRIMARY KEY,
            tier VARCHAR NOT NULL,
            activity_log VARCHAR NOT NULL,
            by_user VARCHAR NOT NULL,
            answered_at TIMESTAMPTZ NOT NULL,
            declaration_id VARCHAR NOT NULL,
            run_id BIGINT)"""
    )


def ensure_intake_schema(con: Engine) -> None:
    """Create the intake tables when a workspace lacks them (cheap and idempotent)."""
    ensure_tables(con, ("declarations", "prompts", "prompt_answers"), migration_intake)


def next_number(con: Engine, table: str, column: str, prefix: str) -> int:
    """The next sequence number of ids like ``DEC-000001`` in ``table.column``."""
    row = con.execute(
        f"SELECT coalesce(max(CAST(substr({column}, {len(prefix) + 2}) AS BIGINT)), 0) + 1 FROM {table}"
    ).fetchone()
    assert row is not None
    return int(row[0])


def format_id(prefix: str, number: int) -> str:
    """``DEC-000001``: at least six digits."""
    return f"{prefix}-{number:06d}"


def _known(as_of: datetime | None, column: str) -> str:
    return "TRUE" if as_of is None else f"{column} <= TIMESTAMPTZ '{format_instant(as_of)}'"


def version_filter(as_of: datetime | None, alias: str = "") -> str:
    """WHERE condition selecting the row versions of a versioned table known at ``as_of`` (None:
    the current ones). Every reader of versioned rows as known at an instant writes it so: the
    as-of views, the findings, the gate and the intake."""
    a = f"{alias}." if alias else ""
    if as_of is None:
        return f"{a}_valid_to IS NULL"
    t = format_instant(as_of)
    return (
        f"{a}_valid_from <= TIMESTAMPTZ '{t}' AND ({a}_valid_to IS NULL OR {a}_valid_to > TIMESTAMPTZ '{t}')"
    )


def newest_declarations_sql(source: str, as_of: datetime | None) -> str:
    """Each deal's newest declaration of ``source`` recorded at or before ``as_of`` (None: all)."""
    return f"""
        SELECT * FROM declarations
        WHERE source = '{source}' AND {_known(as_of, "recorded_at")}
        QUALIFY row_number() OVER (
            PARTITION BY opportunity_id
            ORDER BY recorded_at DESC, length(declaration_id) DESC, declaration_id DESC) = 1"""


def has_prompt_declarations(con: Engine, as_of: datetime | None) -> bool:
    """Whether any answered prompt is known at ``as_of`` (False when the table does not exist)."""
    # Look the table up rather than catch the error: a failed query would abort an open transaction.
    if not tables_present(con, ("declarations",)):
        return False
    row = con.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM declarations WHERE source = 'prompt' "
        f"AND {_known(as_of, 'recorded_at')} LIMIT 1)"
    ).fetchone()
    return bool(row and row[0])


def overlaid_opportunities_sql(columns: tuple[str, ...], as_of: datetime | None) -> str:
    """``opportunities`` known at ``as_of`` with each deal's newest answered prompt overlaid.

    An answered prompt is a rep's declaration, like editing the CRM fields: its partner_source,
    partner_id and activity log (and engagement date when given) replace the CRM's, as long as the
    CRM's own attribution fields have not changed since it was recorded. That is: the row version
    known at ``as_of`` has the same five CRM fields as the version that was current when the prompt
    was answered (a later change of another column, such as the stage, keeps the answer; a later
    change of the CRM attribution fields wins over it). The partner contact is kept only when the
    partner stays the same.

    Returns a SELECT of ``columns`` (in order), ``extra``, ``_valid_from`` and two bookkeeping
    columns: ``_prompt_by`` and ``_prompt_at`` (who answered and when; NULL without an overlay).
    """
    fields = ("partner_source", "partner_id", "partner_contact_id", "partner_engagement_date",
              "partner_activity_log")  # fmt: skip
    same = " AND ".join(f"o.{f} IS NOT DISTINCT FROM p.{f}" for f in fields)
    select: list[str] = []
    for name in columns:
        source = dict(_OVERLAY).get(name)
        if source is not None:
            select.append(f"CASE WHEN d.applies THEN d.{source} ELSE o.{name} END AS {name}")
        elif name == "partner_engagement_date":
            select.append(
                f"CASE WHEN d.applies THEN coalesce(d.engagement_date, o.{name}) ELSE o.{name} END AS {name}"
            )
        elif name == "partner_contact_id":
            select.append(
                f"CASE WHEN d.applies AND d.partner_id IS DISTINCT FROM o.partner_id THEN NULL "
                f"ELSE o.{name} END AS {name}"
            )
        else:
            select.append(f"o.{name}")
    return f"""
        WITH d0 AS ({newest_declarations_sql("prompt", as_of)}),
        cur AS (SELECT * FROM opportunities WHERE {version_filter(as_of)}),
        d AS (
            SELECT d0.*, TRUE AS applies
            FROM d0 JOIN cur o ON o.opportunity_id = d0.opportunity_id
            JOIN opportunities p ON p.opportunity_id = d0.opportunity_id
                AND p._valid_from <= d0.recorded_at AND (p._valid_to IS NULL OR p._valid_to > d0.recorded_at)
            WHERE {same})
        SELECT {", ".join(select)}, o.extra, o._valid_from,
            CASE WHEN d.applies THEN d.by_user END AS _prompt_by,
            CASE WHEN d.applies THEN d.recorded_at END AS _prompt_at
        FROM cur o LEFT JOIN d ON d.opportunity_id = o.opportunity_id"""
