"""Auto-tag: a deal created from a partner lead is declared sourced by that partner, by the system.

SPEC section 4: the tag is made without anyone typing it and recorded as made by the system; it
satisfies the stage gate but is not a rep's confirmation. SPEC section 2: it is not S4 evidence
(S1 already weighs the lead), so it lives in ``declarations`` and ``v_declared`` only, never in
``v_opportunities``.

A deal is tagged when all of these hold on the current rows:

- it has a partner lead created at or before the deal (a lead converted into an existing
  opportunity is not its origin, and sources nothing in the rules): its ``source_lead_id`` lead,
  else a lead whose ``converted_opportunity_id``
  is the deal (the earliest created, then the smaller lead_id), with a ``partner_id``: the same
  definition of a partner lead as the rules' (SPEC section 2), so that cosell never declares a
  partner lead the rules do not see. A ``partner_referral`` lead without partner_id (even with a
  partner contact) is skipped;
- its declared partner_source is empty (no CRM value, no answered prompt);
- it has never been auto-tagged (so re-importing, or running this again, adds nothing).

The tag: partner_source ``sourced``, partner_id the lead's partner, engagement_date the lead's
created_at, by ``system``, reason ``lead <lead_id>``. When the workspace already holds attribution,
the tagged deals get a new partial attribution version (kind ``auto_tag``), in the same transaction
(the import's: :mod:`cosell.hygiene.intake`; this module opens none).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cosell import clock
from cosell.hygiene.declared import declared_sql
from cosell.policy import Policy
from cosell.report_model import counted
from cosell.store.attribution_store import RunRecord
from cosell.store.intake import (
    SYSTEM_USER,
    ensure_intake_schema,
    format_id,
    next_number,
    version_filter,
)
from cosell.store.workspace import Workspace


@dataclass(frozen=True)
class AutoTag:
    """One auto-tag recorded: the declaration and the lead behind it."""

    declaration_id: str
    opportunity_id: str
    partner_id: str
    lead_id: str
    engagement_date: datetime


@dataclass(frozen=True)
class AutoTagResult:
    """What :func:`apply_auto_tags` did: the tags and the partial runs that versioned them (none on
    a workspace without attribution; one per credit model the tagged deals' versions use, usually
    one)."""

    tags: tuple[AutoTag, ...]
    run_ids: tuple[int, ...]

    @property
    def run_id(self) -> int | None:
        """The first partial run that versioned the tags (None: none did)."""
        return self.run_ids[0] if self.run_ids else None


_WORK = "_cosell_autotag"


def _candidates_sql() -> str:
    current = version_filter(None)
    return f"""
        WITH o AS (SELECT opportunity_id, source_lead_id, created_at FROM opportunities WHERE {current}),
        l AS (
            SELECT lead_id, created_at, converted_opportunity_id, nullif(trim(partner_id), '') AS partner
            FROM leads WHERE {current}),
        cand AS (
            SELECT o.opportunity_id, l.lead_id, l.partner, l.created_at, 0 AS pref,
                o.created_at AS deal_created_at
            FROM o JOIN l ON l.lead_id = o.source_lead_id
            UNION ALL
            SELECT o.opportunity_id, l.lead_id, l.partner, l.created_at, 1 AS pref,
                o.created_at AS deal_created_at
            FROM o JOIN l ON l.converted_opportunity_id = o.opportunity_id),
        pick AS (
            -- A lead created after the deal (converted into an existing opportunity) is not the
            -- deal's origin: it sources nothing in the rules (S1), so the system declares nothing.
            SELECT * FROM cand WHERE partner IS NOT NULL AND created_at <= deal_created_at
            QUALIFY row_number() OVER (
                PARTITION BY opportunity_id ORDER BY pref, created_at, lead_id) = 1)
        SELECT pick.opportunity_id, pick.lead_id, pick.partner, pick.created_at
        FROM pick JOIN ({declared_sql(None)}) d ON d.opportunity_id = pick.opportunity_id
        WHERE d.partner_source IS NULL
          AND pick.opportunity_id NOT IN (
              SELECT opportunity_id FROM declarations WHERE source = 'auto_tag')"""


def has_attribution(ws: Workspace) -> bool:
    """Whether any attribution run is stored (only then is there a version to supersede)."""
    row = ws.con.execute("SELECT count(*) FROM attribution_runs").fetchone()
    return bool(row and row[0])


def apply_auto_tags(ws: Workspace, policy: Policy, now: datetime | None = None) -> AutoTagResult:
    """Tag every untagged deal created from a partner lead (see the module docstring).

    Opens no transaction: the caller's use case wraps it (the import's intake), so the tags and the
    new attribution version commit with it or not at all.

    ``now`` (default :func:`cosell.clock.now`) is the recorded time of the tags and of the partial
    attribution run. Idempotent: a second call finds nothing to tag and changes nothing.
    """
    from cosell.attribution.reattribute import store_new_versions

    ensure_intake_schema(ws.con)
    at = clock.now(now)
    con = ws.con
    first = next_number(con, "declarations", "declaration_id", "DEC")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_WORK} AS SELECT *, "
        f"{first - 1} + row_number() OVER (ORDER BY opportunity_id) AS n FROM ({_candidates_sql()})"
    )
    try:
        con.execute(
            "INSERT INTO declarations (declaration_id, opportunity_id, partner_source, partner_id, "
            "engagement_date, activity_log, source, by_user, reason, recorded_at) "
            f"SELECT printf('DEC-%06d', n), opportunity_id, 'sourced', partner, created_at, NULL, "
            f"'auto_tag', '{SYSTEM_USER}', 'lead ' || lead_id, ? FROM {_WORK}",
            [at],
        )
        found = con.execute(
            f"SELECT n, opportunity_id, partner, lead_id, created_at FROM {_WORK} ORDER BY n"
        ).fetchall()
    finally:
        con.execute(f"DROP TABLE IF EXISTS {_WORK}")
    if not found:
        return AutoTagResult((), ())
    tags = tuple(AutoTag(format_id("DEC", int(r[0])), r[1], r[2], r[3], r[4].astimezone(UTC)) for r in found)
    runs: list[tuple[RunRecord, tuple[str, ...]]] = []
    if has_attribution(ws):
        runs = store_new_versions(
            con, policy, [t.opportunity_id for t in tags], at, kind="auto_tag", by_user=SYSTEM_USER,
            reason=f"auto-tag of {counted(len(tags), 'deal')} created from a partner lead",
        )  # fmt: skip
    return AutoTagResult(tags, tuple(record.run_id for record, _ in runs))
