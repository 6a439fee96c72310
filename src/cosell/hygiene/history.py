"""A deal's attribution history: every version, who made it, when, why, under which policy.

Every attribution change is a stored run (:mod:`cosell.store.versions`): a batch run, an accepted
fix, a decided dispute, an auto-tag, an answered prompt. :func:`deal_versions` lists them oldest
first with the tier, partner, rules and credits of each, and what caused a fix or a dispute
(``finding:<id>`` / ``dispute:<id>``, from the pay-change markers), and marks the current one: not
always the last recorded, since versions are ordered by what their runs knew (a full run stored
with an earlier ``--known-at`` knew less than a fix recorded before it). Nothing is ever
overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cosell.engine import Engine
from cosell.instants import format_instant, json_instant
from cosell.results import CreditRow
from cosell.store.known import require_opportunity
from cosell.store.review import ensure_review_schema
from cosell.store.versions import current_run_of, deal_history


@dataclass(frozen=True)
class HistoryEntry:
    """One version of a deal's attribution."""

    run_id: int
    kind: str
    scope: str
    run_at: datetime
    by_user: str
    reason: str
    policy_version: str
    as_of: datetime
    model: str
    tier: str
    primary_partner_id: str
    rules: str
    credits: tuple[CreditRow, ...]
    source: str  # finding:<id> or dispute:<id> for a fix or a dispute, else ""
    known_at: datetime | None = None  # the knowledge instant the version was decided on
    current: bool = False  # the version every reader reads now (docs/as-of.md)

    def to_json(self) -> dict[str, Any]:
        """Stable keys; instants ISO 8601 UTC; credits as their output columns."""
        return {
            "run_id": self.run_id,
            "kind": self.kind,
            "scope": self.scope,
            "run_at": format_instant(self.run_at),
            "by_user": self.by_user,
            "reason": self.reason,
            "source": self.source,
            "policy_version": self.policy_version,
            "as_of": format_instant(self.as_of),
            "known_at": json_instant(self.known_at),
            "current": self.current,
            "model": self.model,
            "tier": self.tier,
            "primary_partner_id": self.primary_partner_id,
            "rules": self.rules,
            "credits": [c.to_json() for c in self.credits],
        }


def deal_versions(con: Engine, opportunity_id: str) -> list[HistoryEntry]:
    """Every stored version of one deal, oldest first.

    Raises :class:`NotFound` (suggesting a close id) when the deal is neither in the workspace nor
    in the history; a known deal that was never attributed has an empty history.
    """
    ensure_review_schema(con)
    versions = deal_history(con, opportunity_id)
    if not versions:
        require_opportunity(con, opportunity_id)
        return []
    sources = {
        int(r[0]): str(r[1])
        for r in con.execute(
            "SELECT run_id, string_agg(source, ' ' ORDER BY source) FROM attribution_changes "
            "WHERE opportunity_id = ? GROUP BY run_id",
            [opportunity_id],
        ).fetchall()
    }
    current = current_run_of(con, opportunity_id)
    return [
        HistoryEntry(
            run_id=v.run.run_id,
            kind=v.kind,
            scope=v.scope,
            run_at=v.run.run_at,
            by_user=v.run.by_user,
            reason=v.run.reason,
            policy_version=v.run.policy_version,
            as_of=v.run.as_of,
            model=v.run.model,
            tier=v.row.tier,
            primary_partner_id=v.row.primary_partner_id,
            rules=v.row.rules,
            credits=v.credits,
            source=sources.get(v.run.run_id, ""),
            known_at=v.run.known_at,
            current=v.run.run_id == current,
        )
        for v in versions
    ]
