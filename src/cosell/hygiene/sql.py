"""SQL text shared by the stage gate, reconciliation, pay and the metrics: literals, a closed
deal's close time, and reconciliation's evidence items (``kind:id[/partner][@instant]``).

The close time X of a closed deal (SPEC section 1) is its first entry into its current won or lost
stage after its last open stage in stage_history, else its close_date. The gate audit,
reconciliation, pay posting and the metrics must agree on that instant to the microsecond, so
all of them build it from :func:`close_time_ctes` (the batch engine and the reference have their
own, held equal by the parity tests).
"""

from __future__ import annotations

from cosell.engine import sql
from cosell.engine.sql import in_list, lit, ts

__all__ = ["close_time_ctes", "equal_filters", "evidence_item", "in_list", "instant_text", "lit", "ts"]


def close_time_ctes(won: frozenset[str], lost: frozenset[str], column: str) -> str:
    """CTEs ``lo``, ``x`` and ``w`` (to follow ``WITH o AS (...), sh AS (...),``): ``w`` is ``o``
    (closed deals with ``opportunity_id``, ``stage``, ``close_date``) plus ``column``, the instant
    each entered its won or lost stage (its X; NULL when it has neither an entry nor a close_date),
    from ``sh`` (``opportunity_id``, ``stage``, ``entered_at``)."""
    return f"""
        lo AS (
            SELECT opportunity_id, max(entered_at) AS t FROM sh
            WHERE stage NOT IN {in_list(won | lost)} GROUP BY opportunity_id),
        x AS (
            SELECT o.opportunity_id, min(sh.entered_at) AS t
            FROM o JOIN sh ON sh.opportunity_id = o.opportunity_id AND sh.stage = o.stage
            LEFT JOIN lo ON lo.opportunity_id = o.opportunity_id
            WHERE lo.t IS NULL OR sh.entered_at >= lo.t
            GROUP BY o.opportunity_id),
        w AS (
            SELECT o.*, coalesce(x.t, o.close_date) AS {column}
            FROM o LEFT JOIN x ON x.opportunity_id = o.opportunity_id)"""


def equal_filters(*filters: tuple[str, str | None]) -> tuple[str, list[str]]:
    """The WHERE condition of a listing's optional filters, and its parameters: ``expression = ?``
    for each (expression, value) given a value (None: that filter is off), ``TRUE`` with none.

    >>> equal_filters(("f.kind", "missing_partner"), ("status", None))
    ('TRUE AND f.kind = ?', ['missing_partner'])
    """
    given = [(expression, value) for expression, value in filters if value is not None]
    return " AND ".join(["TRUE", *(f"{e} = ?" for e, _ in given)]), [v for _, v in given]


def instant_text(expr: str) -> str:
    """SQL text of the TIMESTAMPTZ ``expr`` as :func:`cosell.instants.format_instant` writes it."""
    return sql.instant_text(expr, f"epoch_us({expr})")


def evidence_item(kind: str, ident: str, partner: str | None = None, at: str | None = None) -> str:
    """SQL for one evidence item ``kind:id[/partner][@instant]`` (NULL parts are left out)."""
    text = f"'{kind}:' || {ident}"
    if partner is not None:
        text += f" || coalesce('/' || {partner}, '')"
    if at is not None:
        text += f" || coalesce('@' || {instant_text(at)}, '')"
    return text
