"""What a workspace knew at an instant, and a clear refusal when it knew nothing.

A command that reads the data known at K (``--known-at``, :mod:`cosell.asof`) and finds no import
at or before K, or no deal that existed at the evaluation instant T, does not go on to print or
store an empty result: it says what was asked, what the workspace holds instead (the earliest
import, the earliest deal) and exits 1. Readers of stored attribution check the runs the same way
(:func:`cosell.store.versions.base_run`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from cosell.engine import Engine
from cosell.engine.sql import in_list, ts
from cosell.errors import NotFound, did_you_mean
from cosell.instants import format_instant
from cosell.store.intake import version_filter
from cosell.store.tables import tables_present


def earliest_import(con: Engine) -> datetime | None:
    """When the first import was recorded (None: nothing imported yet)."""
    row = con.execute("SELECT min(imported_at) FROM imports").fetchone()
    return None if row is None or row[0] is None else row[0].astimezone(UTC)


def require_import(con: Engine, known_at: datetime | None) -> None:
    """Raise :class:`NotFound` when every import was recorded after ``known_at``.

    A workspace without any import passes: what it lacks (deals, attribution runs) is said by the
    check that needs it (:func:`require_deals`, :func:`cosell.store.versions.require_attribution`).
    """
    first = earliest_import(con)
    if first is not None and known_at is not None and first > known_at:
        raise NotFound(
            f"nothing was known at {format_instant(known_at)}: the earliest import was recorded at "
            f"{format_instant(first)} (give --known-at {format_instant(first)} or later)"
        )


def require_deals(con: Engine, as_of: datetime, known_at: datetime | None) -> None:
    """Raise :class:`NotFound` when no opportunity known at ``known_at`` existed at ``as_of``.

    Reads ``v_opportunities`` (built by :func:`cosell.store.workspace.as_of_views` with
    ``existing_at=as_of``), so call it after the views.
    """
    row = con.execute("SELECT count(*) FROM v_opportunities").fetchone()
    if row is not None and int(row[0]) > 0:
        return
    known = version_filter(known_at)
    first = con.execute(f"SELECT min(created_at) FROM opportunities WHERE {known}").fetchone()
    when = "now" if known_at is None else f"at {format_instant(known_at)}"
    if first is None or first[0] is None:
        raise NotFound(f"no opportunity was known {when}: import opportunities first")
    created = format_instant(first[0])
    raise NotFound(
        f"no opportunity known {when} existed at {format_instant(as_of)} (the as-of instant): the "
        f"earliest was created at {created} (give --as-of {created} or later)"
    )


def why_unknown(
    con: Engine,
    opportunity_id: str,
    as_of: datetime,
    known_at: datetime | None,
    known_ids: list[str],
) -> str:
    """Why a deal is not among those known at ``known_at`` that existed at ``as_of``: created after
    T, first imported after K, or never in the workspace (with the closest of ``known_ids``)."""
    known = version_filter(known_at)
    row = con.execute(
        f"SELECT min(_valid_from), min(created_at) FILTER (WHERE {known}) FROM opportunities "
        "WHERE opportunity_id = ?",
        [opportunity_id],
    ).fetchone()
    first_import, created = (None, None) if row is None else row
    if created is not None:
        when = format_instant(created)
        return (
            f"opportunity {opportunity_id} was created at {when}, after the as-of instant "
            f"{format_instant(as_of)}: it did not exist yet (give --as-of {when} or later)"
        )
    if first_import is not None and known_at is not None:
        when = format_instant(first_import)
        return (
            f"opportunity {opportunity_id} was first imported at {when}, after the --known-at instant "
            f"{format_instant(known_at)} (give --known-at {when} or later)"
        )
    return f"no opportunity {opportunity_id}" + did_you_mean(opportunity_id, known_ids)


def require_opportunity(con: Engine, opportunity_id: str) -> None:
    """Refuse ``opportunity_id`` when the workspace holds no such deal now: NotFound "no
    opportunity X", with the closest id ("did you mean O-1?"), as every command says it of an id."""
    row = con.execute(
        "SELECT count(*) FROM cur_opportunities WHERE opportunity_id = ?", [opportunity_id]
    ).fetchone()
    if row and row[0]:
        return
    every = [r[0] for r in con.execute("SELECT opportunity_id FROM cur_opportunities").fetchall()]
    raise NotFound(f"no opportunity {opportunity_id}" + did_you_mean(opportunity_id, every))


def migration_known_at(con: Engine) -> None:
    """Schema step 8: attribution runs and reconciliations record the knowledge instant K
    (``known_at``) beside their evaluation instant T (``as_of``).

    Earlier releases read the rows known at the as-of instant when one was given, else the
    current rows at the time of the run: the earlier of ``as_of`` and the run's time is what they
    knew.
    """
    from cosell.store.review import migration_review

    migration_review(con)  # idempotent: the reconciliations table exists from step 5 on
    con.execute("ALTER TABLE attribution_runs ADD COLUMN IF NOT EXISTS known_at TIMESTAMPTZ")
    con.execute("UPDATE attribution_runs SET known_at = least(as_of, run_at) WHERE known_at IS NULL")
    con.execute("ALTER TABLE reconciliations ADD COLUMN IF NOT EXISTS known_at TIMESTAMPTZ")
    con.execute("UPDATE reconciliations SET known_at = least(as_of, run_at) WHERE known_at IS NULL")


__all__ = [
    "earliest_import",
    "migration_known_at",
    "require_deals",
    "require_import",
    "require_opportunity",
    "why_unknown",
]


def changed_between(
    con: Engine, first: datetime | None, second: datetime | None, *, except_deals: Sequence[str] = ()
) -> bool:
    """Whether the rows the rules read differ between what was known at ``first`` and at ``second``
    (None: everything recorded): an import, or an answered prompt (it overlays a deal's CRM
    fields), recorded after the earlier instant and at or before the later one. Answered prompts on
    ``except_deals`` are not counted (a caller that re-decides those deals reads them itself)."""
    if first == second:
        return False
    bounds = sorted(t for t in (first, second) if t is not None)
    lo = bounds[0]
    hi = None if first is None or second is None else bounds[-1]
    upper = "" if hi is None else f" AND {{col}} <= {ts(hi)}"
    imports = con.execute(
        f"SELECT count(*) FROM imports WHERE imported_at > {ts(lo)}{upper.format(col='imported_at')}"
    ).fetchone()
    if imports and imports[0]:
        return True
    if not tables_present(con, ("declarations",)):
        return False
    skip = f" AND opportunity_id NOT IN {in_list(except_deals)}" if except_deals else ""
    prompts = con.execute(
        f"SELECT count(*) FROM declarations WHERE source = 'prompt' AND recorded_at > {ts(lo)}"
        f"{upper.format(col='recorded_at')}{skip}"
    ).fetchone()
    return bool(prompts and prompts[0])
